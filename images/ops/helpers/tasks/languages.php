<?php
// The WordPress languages this image can install, from Debian's wordpress-l10n.
$langs = [];
foreach (glob(LANG_DIR . '/*.mo') as $file) {
    $name = basename($file, '.mo');
    if (!preg_match('/^(admin|admin-network|continents-cities)-/', $name)) {
        $langs[] = $name;
    }
}
sort($langs);
reply(['languages' => $langs, 'wordpress' => trim((string) file_get_contents('/opt/hakobune/wordpress-version'))]);
