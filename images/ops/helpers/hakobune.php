<?php
// Hakobune's WordPress helpers, run in the ops container: `php hakobune.php TASK`, with a JSON request on
// standard input. Each task prints one JSON object on success; on failure one line on stderr and exit 1.

declare(strict_types=1);

const SITE_DIR = '/srv/site';
const DOCROOT = SITE_DIR . '/public';
const CORE_DIR = '/opt/hakobune/wordpress';
const LANG_DIR = '/opt/hakobune/wordpress-languages';

function fail(string $message, int $code = 1): never
{
    fwrite(STDERR, $message . "\n");
    exit($code);
}

function request(): array
{
    $raw = stream_get_contents(STDIN);
    if ($raw === false || trim($raw) === '') {
        return [];
    }
    $data = json_decode($raw, true);
    if (!is_array($data)) {
        fail('the request on standard input is not a JSON object');
    }
    return $data;
}

function need(array $req, string $key): string
{
    if (!isset($req[$key]) || !is_string($req[$key]) || $req[$key] === '') {
        fail("the request lacks '$key'");
    }
    return $req[$key];
}

const SECRET_FILES = [
    'db_password' => '/run/secrets/app/db_password',
    'db_root_password' => '/run/secrets/db/db_root_password',
];

function secret(string $name): string
{
    $path = SECRET_FILES[$name];
    $value = @file_get_contents($path);
    if ($value === false) {
        fail("secret $name is not available in the ops container");
    }
    return trim($value);
}

require __DIR__ . '/lib/wp-config.php';
require __DIR__ . '/lib/archive.php';

function wordpress_request(array $req): void
{
    $url = need($req, 'url');
    $host = parse_url($url, PHP_URL_HOST);
    $port = parse_url($url, PHP_URL_PORT);
    $_SERVER['HTTP_HOST'] = $port ? "$host:$port" : $host;
    $_SERVER['HTTPS'] = 'on';
    $_SERVER['REQUEST_URI'] = '/';
    if (!is_file(DOCROOT . '/wp-load.php') || !is_file(SITE_DIR . '/wp-config.php')) {
        fail('this site has no WordPress');
    }
}

function action(array $req, array $allowed): string
{
    $action = need($req, 'action');
    if (!in_array($action, $allowed, true)) {
        fail("unknown action '$action'; actions: " . implode(', ', $allowed), 2);
    }
    return $action;
}

// Hakobune's must-use plugins (the image's side of its settings: the mail sender, the page cache's purges),
// into the WordPress at DOCROOT: new sites get them, and restored or imported ones get the image's current ones.
function install_mu_plugins(string $docroot): void
{
    $dir = "$docroot/wp-content/mu-plugins";
    if (!is_dir($dir) && !mkdir($dir, 0755, true)) {
        fail("cannot create $dir");
    }
    foreach (glob('/opt/hakobune/mu-plugins/*.php') as $plugin) {
        if (!copy($plugin, "$dir/" . basename($plugin))) {
            fail("cannot copy $plugin into $dir");
        }
    }
    // The object cache drop-in: put where there is none, renewed where it is ours. A site's own (an imported
    // site's Redis or Memcached plugin) is left alone; it defines nothing without its own server.
    $dropin = "$docroot/wp-content/object-cache.php";
    $head = is_file($dropin) ? (string) file_get_contents($dropin, false, null, 0, 512) : '';
    if (($head === '' || str_contains($head, 'Hakobune object cache'))
        && !copy('/opt/hakobune/drop-ins/object-cache.php', $dropin)) {
        fail("cannot copy the object cache drop-in into $docroot/wp-content");
    }
}

function reply(array $data): void
{
    echo json_encode($data, JSON_UNESCAPED_SLASHES), "\n";
}

$tasks = [
    'help' => __DIR__ . '/tasks/help.php',
    'languages' => __DIR__ . '/tasks/languages.php',
    'write-secrets' => __DIR__ . '/tasks/write-secrets.php',
    'db-setup' => __DIR__ . '/tasks/db-setup.php',
    'db-check' => __DIR__ . '/tasks/db-check.php',
    'seed' => __DIR__ . '/tasks/seed.php',
    'seed-lamp' => __DIR__ . '/tasks/seed-lamp.php',
    'install' => __DIR__ . '/tasks/install.php',
    'option' => __DIR__ . '/tasks/option.php',
    'user' => __DIR__ . '/tasks/user.php',
    'plugin' => __DIR__ . '/tasks/plugin.php',
    'theme' => __DIR__ . '/tasks/theme.php',
    'search-replace' => __DIR__ . '/tasks/search-replace.php',
    'cache-flush' => __DIR__ . '/tasks/cache-flush.php',
    'core' => __DIR__ . '/tasks/core.php',
    'backup' => __DIR__ . '/tasks/backup.php',
    'restore' => __DIR__ . '/tasks/restore.php',
    'backups' => __DIR__ . '/tasks/backups.php',
    'wp-config-read' => __DIR__ . '/tasks/wp-config-read.php',
    'deploy' => __DIR__ . '/tasks/deploy.php',
    'core-verify' => __DIR__ . '/tasks/core-verify.php',
];
// Tasks that work on the site's WordPress get it loaded here, at file scope as its bootstrap needs (it makes
// globals), with their request in $req.
const WORDPRESS_TASKS = ['option', 'user', 'plugin', 'theme', 'search-replace', 'cache-flush', 'core'];
$task = $argv[1] ?? 'help';
if (!isset($tasks[$task])) {
    fail("unknown task '$task'; tasks: " . implode(', ', array_keys($tasks)), 2);
}
$hakobuneTaskFile = $tasks[$task];
if (in_array($task, WORDPRESS_TASKS, true)) {
    $req = request();
    wordpress_request($req);
    require DOCROOT . '/wp-load.php';
}
require $hakobuneTaskFile;
