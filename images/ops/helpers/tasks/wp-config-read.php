<?php
// Reads a wp-config.php given on standard input ({"text": "..."}) without running it: its database settings,
// table prefix, salts and the site's own defines. Used to import a site from elsewhere; runs in a throw-away
// container with no network.
$file = tempnam('/tmp', 'hb-wp-config');
file_put_contents($file, (string) ($req['text'] ?? ''));
$config = read_wp_config($file);
unlink($file);
$defines = $config['defines'];
$salts = array_map(fn ($name) => $defines[$name] ?? null, SALT_NAMES);
$complete = count(array_filter($salts, fn ($salt) => is_string($salt) && $salt !== '')) === count(SALT_NAMES);
reply([
    'table_prefix' => $config['table_prefix'],
    'db' => ['name' => $defines['DB_NAME'] ?? null, 'user' => $defines['DB_USER'] ?? null,
             'password' => $defines['DB_PASSWORD'] ?? null, 'host' => $defines['DB_HOST'] ?? null],
    'salts' => $complete ? $salts : null,
    'own_defines' => (object) own_defines($config),
]);
