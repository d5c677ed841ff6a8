<?php
// wp-config.php: read what a site's file defines (without running it), and write Hakobune's. Used when a site is
// seeded, restored from a backup and imported from elsewhere.

// Constants Hakobune writes itself; any other define() of a site's old file is carried over.
const WP_CONFIG_MANAGED = [
    'DB_NAME', 'DB_USER', 'DB_PASSWORD', 'DB_HOST', 'DB_CHARSET', 'DB_COLLATE', 'MYSQL_CLIENT_FLAGS',
    'WP_HOME', 'WP_SITEURL', 'ABSPATH', 'FORCE_SSL_ADMIN', 'DISALLOW_FILE_EDIT',
    'AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY',
    'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT',
];
const SALT_NAMES = ['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY',
                    'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'];

/** The literal define()s and $table_prefix of a wp-config.php, read with PHP's tokenizer: never executed, so a
 *  foreign file cannot run code here. Values that are not literals (expressions, function calls) are skipped. */
function read_wp_config(string $path): array
{
    $code = @file_get_contents($path);
    if ($code === false) {
        fail("cannot read $path");
    }
    $tokens = array_values(array_filter(token_get_all($code), fn ($t) => !is_array($t)
        || !in_array($t[0], [T_WHITESPACE, T_COMMENT, T_DOC_COMMENT], true)));
    $defines = [];
    $prefix = null;
    $literal = function (int $i) use ($tokens): array {
        $t = $tokens[$i] ?? null;
        if (is_array($t) && $t[0] === T_CONSTANT_ENCAPSED_STRING) {
            return [true, stripcslashes(substr($t[1], 1, -1))];
        }
        if (is_array($t) && in_array($t[0], [T_LNUMBER, T_DNUMBER], true)) {
            return [true, $t[1] + 0];
        }
        if (is_array($t) && $t[0] === T_STRING && in_array(strtolower($t[1]), ['true', 'false', 'null'], true)) {
            return [true, ['true' => true, 'false' => false, 'null' => null][strtolower($t[1])]];
        }
        return [false, null];
    };
    foreach ($tokens as $i => $t) {
        if (is_array($t) && $t[0] === T_STRING && strtolower($t[1]) === 'define' && ($tokens[$i + 1] ?? '') === '(') {
            [$isName, $name] = $literal($i + 2);
            [$isValue, $value] = $literal($i + 4);
            if ($isName && is_string($name) && ($tokens[$i + 3] ?? '') === ',' && $isValue
                && ($tokens[$i + 5] ?? '') === ')') {
                $defines[$name] = $value;
            }
        } elseif (is_array($t) && $t[0] === T_VARIABLE && $t[1] === '$table_prefix' && ($tokens[$i + 1] ?? '') === '=') {
            [$isValue, $value] = $literal($i + 2);
            if ($isValue && is_string($value)) {
                $prefix = $value;
            }
        }
    }
    if ($prefix !== null && !preg_match('/^[A-Za-z0-9_]{1,20}$/', $prefix)) {
        fail("the table prefix '$prefix' in $path is not one WordPress accepts");
    }
    return ['defines' => $defines, 'table_prefix' => $prefix];
}

/** The defines of an old file that Hakobune does not manage: the site's own settings, kept. */
function own_defines(array $config): array
{
    return array_diff_key($config['defines'], array_flip(WP_CONFIG_MANAGED));
}

/** Write DIR/wp-config.php (DIR: the site volume, or a restore's staged copy of it; above the docroot, readable
 *  only by PHP) for the site at URL on database DB (see database()), with its SALTS, the table PREFIX and EXTRA
 *  defines carried over from an earlier file. */
function write_wp_config(string $dir, string $url, array $db, array $salts, string $prefix = 'wp_',
                         array $extra = []): string
{
    if (count($salts) !== 8) {
        fail('the request lacks the eight salts');
    }
    $defines = '';
    foreach (SALT_NAMES as $i => $name) {
        $defines .= sprintf("define('%s', %s);\n", $name, var_export((string) $salts[$i], true));
    }
    $own = '';
    foreach ($extra as $name => $value) {
        $own .= sprintf("define(%s, %s);\n", var_export((string) $name, true), var_export($value, true));
    }
    if ($own !== '') {
        $own = "// The site's own settings, carried over from its earlier wp-config.php.\n$own";
    }
    $e = fn (string $value) => var_export($value, true);
    // An external server over TLS: encrypted; its certificate is not checked (DBaaS certificates rarely match
    // the name the site uses, and there is no CA to give yet).
    $clientFlags = !$db['tls'] ? '' : "define('MYSQL_CLIENT_FLAGS', MYSQLI_CLIENT_SSL | MYSQLI_CLIENT_SSL_DONT_VERIFY_SERVER_CERT);";
    $passwordFile = var_export(SECRET_FILES['db_password'], true);
    $prefixCode = var_export($prefix, true);
    $config = <<<PHP
<?php
// Written by Hakobune. The database password is read from the container's secret, so it never lives in the
// site's files or its backups.
define('DB_NAME', {$e($db['name'])});
define('DB_USER', {$e($db['user'])});
define('DB_PASSWORD', trim((string) file_get_contents({$passwordFile})));
define('DB_HOST', {$e(db_address($db))});
$clientFlags
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
\$table_prefix = $prefixCode;

$defines
define('WP_HOME', {$e($url)});
define('WP_SITEURL', {$e($url)});
define('DISALLOW_FILE_EDIT', true);
define('FORCE_SSL_ADMIN', true);
$own
if (!defined('WP_DEBUG')) {
    define('WP_DEBUG', false);
}

if (!defined('ABSPATH')) {
    define('ABSPATH', __DIR__ . '/public/');
}
require_once ABSPATH . 'wp-settings.php';

PHP;
    $path = "$dir/wp-config.php";
    if (file_exists($path)) {
        @chmod($path, 0640);
    }
    if (file_put_contents($path, $config) === false || !chmod($path, 0440)) {
        fail("cannot write $path");
    }
    return $path;
}
