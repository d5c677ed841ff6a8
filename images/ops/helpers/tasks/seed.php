<?php
// Copies WordPress core and the chosen language into the empty docroot and writes wp-config.php
// above the docroot (readable only by PHP), with the site's salts and URL.

/** WordPress's translation files for LANG (en_US needs none) into the docroot. */
function install_language(string $lang): void
{
    if ($lang === '' || $lang === 'en_US') {
        return;
    }
    if (!is_file(LANG_DIR . "/$lang.mo")) {
        fail("language $lang is not available in this image");
    }
    foreach (['', 'admin-', 'admin-network-', 'continents-cities-'] as $prefix) {
        $file = LANG_DIR . "/$prefix$lang.mo";
        if (is_file($file)) {
            copy($file, DOCROOT . "/wp-content/languages/$prefix$lang.mo");
        }
    }
}

// main
$url = need($req, 'url');
$db = database($req);
$salts = (array) ($req['salts'] ?? []);
if (count($salts) !== 8) {
    fail('the request lacks the eight salts');
}
if (count(array_diff(scandir(DOCROOT), ['.', '..'])) > 0) {
    fail('the docroot is not empty; refusing to overwrite a site');
}
copy_tree(CORE_DIR, DOCROOT);
foreach (['wp-content/uploads', 'wp-content/upgrade', 'wp-content/languages', 'wp-content/mu-plugins'] as $dir) {
    @mkdir(DOCROOT . "/$dir", 0755, true);
}
install_mu_plugins(DOCROOT);
install_language((string) ($req['lang'] ?? ''));
write_wp_config(SITE_DIR, $url, $db, $salts);
reply(['docroot' => DOCROOT, 'wordpress' => trim((string) file_get_contents('/opt/hakobune/wordpress-version'))]);
