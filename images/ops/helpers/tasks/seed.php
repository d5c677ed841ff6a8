<?php
// Copies WordPress core and the chosen language into the empty docroot and writes wp-config.php
// above the docroot (readable only by PHP), with the site's salts and URL.
$req = request();
$url = need($req, 'url');
$lang = (string) ($req['lang'] ?? '');
$salts = $req['salts'] ?? null;
if (!is_array($salts) || count($salts) !== 8) {
    fail("the request lacks the eight salts");
}

if (count(array_diff(scandir(DOCROOT), ['.', '..'])) > 0) {
    fail('the docroot is not empty; refusing to overwrite a site');
}

function copy_tree(string $from, string $to): void
{
    $items = new RecursiveIteratorIterator(
        new RecursiveDirectoryIterator($from, FilesystemIterator::SKIP_DOTS),
        RecursiveIteratorIterator::SELF_FIRST
    );
    foreach ($items as $item) {
        $target = $to . substr($item->getPathname(), strlen($from));
        if ($item->isDir()) {
            if (!is_dir($target) && !mkdir($target, 0755)) {
                fail("cannot create $target");
            }
        } elseif (!copy($item->getPathname(), $target)) {
            fail("cannot copy to $target");
        }
    }
}

copy_tree(CORE_DIR, DOCROOT);
foreach (['wp-content/uploads', 'wp-content/upgrade', 'wp-content/languages', 'wp-content/mu-plugins'] as $dir) {
    @mkdir(DOCROOT . "/$dir", 0755, true);
}
// Hakobune's must-use plugins (the image's side of its settings, such as the mail sender).
foreach (glob('/opt/hakobune/mu-plugins/*.php') as $plugin) {
    copy($plugin, DOCROOT . '/wp-content/mu-plugins/' . basename($plugin));
}
if ($lang !== '' && $lang !== 'en_US') {
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

$names = ['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY',
          'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'];
$defines = '';
foreach ($names as $i => $name) {
    $defines .= sprintf("define('%s', %s);\n", $name, var_export((string) $salts[$i], true));
}
$e = fn (string $key) => var_export(need($req, $key), true);
// An external server over TLS: encrypted; its certificate is not checked (DBaaS certificates rarely match
// the name the site uses, and there is no CA to give yet).
$clientFlags = empty($req['db_tls']) ? '' : "define('MYSQL_CLIENT_FLAGS', MYSQLI_CLIENT_SSL | MYSQLI_CLIENT_SSL_DONT_VERIFY_SERVER_CERT);";
$passwordFile = var_export(SECRET_FILES['db_password'], true);
$config = <<<PHP
<?php
// Written by Hakobune at provision time. The database password is read from the container's secret,
// so it never lives in the site's files or its backups.
define('DB_NAME', {$e('db_name')});
define('DB_USER', {$e('db_user')});
define('DB_PASSWORD', trim((string) file_get_contents({$passwordFile})));
define('DB_HOST', {$e('db_host')});
$clientFlags
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
\$table_prefix = 'wp_';

$defines
define('WP_HOME', {$e('url')});
define('WP_SITEURL', {$e('url')});
define('DISALLOW_FILE_EDIT', true);
define('FORCE_SSL_ADMIN', true);
define('WP_DEBUG', false);
if (isset(\$_SERVER['HTTP_X_FORWARDED_PROTO']) && \$_SERVER['HTTP_X_FORWARDED_PROTO'] === 'https') {
    \$_SERVER['HTTPS'] = 'on';
}

if (!defined('ABSPATH')) {
    define('ABSPATH', __DIR__ . '/public/');
}
require_once ABSPATH . 'wp-settings.php';

PHP;
$path = SITE_DIR . '/wp-config.php';
if (file_put_contents($path, $config) === false || !chmod($path, 0440)) {
    fail("cannot write $path");
}
reply(['docroot' => DOCROOT, 'wordpress' => trim((string) file_get_contents('/opt/hakobune/wordpress-version'))]);
