<?php
// Core's version, with WordPress loaded and the request in $req (see hakobune.php). Its check is core-verify.
global $wp_version, $wp_db_version;
reply(['wordpress' => $wp_version, 'db_version' => (int) get_option('db_version'),
    'db_version_expected' => $wp_db_version, 'php' => PHP_VERSION,
    'image_wordpress' => trim((string) file_get_contents('/opt/hakobune/wordpress-version'))]);
