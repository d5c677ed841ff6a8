<?php
// Hakobune's helpers, run in the site's one-shot `ops` and `wp` containers: `php hakobune.php TASK`, with the
// task's request on standard input. How a task answers: lib/contract.php. Each task is a file in tasks/.

declare(strict_types=1);

require __DIR__ . '/lib/layout.php';
require __DIR__ . '/lib/contract.php';
require __DIR__ . '/lib/process.php';
require __DIR__ . '/lib/database.php';
require __DIR__ . '/lib/archive.php';
require __DIR__ . '/lib/tree.php';
require __DIR__ . '/lib/wp-config.php';
require __DIR__ . '/lib/wordpress.php';
require __DIR__ . '/lib/core.php';

const TASKS = [
    'help', 'languages', 'write-secrets', 'db-setup', 'db-check', 'seed', 'seed-lamp', 'install', 'option', 'user',
    'plugin', 'theme', 'search-replace', 'cache-flush', 'core', 'backup', 'restore', 'backups', 'wp-config-read',
    'deploy', 'core-verify', 'core-update', 'core-keep', 'package', 'site-url', 'smoke',
];
// Tasks that work on the site's WordPress: it is loaded for them before they run.
const WORDPRESS_TASKS = ['option', 'user', 'plugin', 'theme', 'search-replace', 'cache-flush', 'core', 'package'];
// Tasks whose standard input is data (a tar stream, a zip), not a request: theirs is the next argument, if any.
const STREAM_TASKS = ['deploy', 'package'];

// main. Every task finds its request in $req. WordPress is loaded here, at file scope, as its bootstrap needs
// (it makes globals), and so is the task; the names here are ones WordPress's globals do not use.
$hakobuneTask = $argv[1] ?? 'help';
if (!in_array($hakobuneTask, TASKS, true)) {
    fail("unknown task '$hakobuneTask'; tasks: " . implode(', ', TASKS), 2);
}
$req = in_array($hakobuneTask, STREAM_TASKS, true) ? request($argv[2] ?? '') : request();
if (in_array($hakobuneTask, WORDPRESS_TASKS, true)) {
    wordpress_request($req);
    require DOCROOT . '/wp-load.php';
}
require __DIR__ . "/tasks/$hakobuneTask.php";
