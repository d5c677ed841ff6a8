<?php
// Backup archives and the commands that fill and read them: one plain tar holding
//   manifest.json    format, site, WordPress and image versions, and the size and SHA-256 of every part
//   manifest.sha256  the SHA-256 of manifest.json, so a changed manifest is found too
//   site.yaml        the site's settings (hakobune.yaml; no secrets)
//   database.sql.gz  a consistent dump of the site's database
//   files.tar.gz     everything in the site volume: docroot and wp-config.php
// Archives are written and staged in the backups volume, never in memory-backed /tmp.

const BACKUP_DIR = '/srv/backups';
const ARCHIVE_FORMAT = 1;
const ARCHIVE_PARTS = ['site.yaml', 'database.sql.gz', 'files.tar.gz'];
const STAGING = SITE_DIR . '/.hb-restore';  // in the site volume, so the swap is a rename

/** The environment of the tools run here: a PATH, a HOME in the writable /tmp, and ENV. */
function tool_env(array $env): array
{
    return ['PATH' => getenv('PATH'), 'HOME' => '/tmp'] + $env;
}

/** Run CMD (an argument list, no shell) with standard input and output from/to files or streams; returns
 *  [exit code, what it wrote on stderr]. */
function run(array $cmd, array $env = [], mixed $in = null, mixed $out = null): array
{
    $err = tempnam('/tmp', 'hb-err');
    $spec = [
        0 => $in === null ? ['file', '/dev/null', 'r'] : (is_string($in) ? ['file', $in, 'r'] : $in),
        1 => $out === null ? ['file', '/dev/null', 'w'] : (is_string($out) ? ['file', $out, 'w'] : $out),
        2 => ['file', $err, 'w'],
    ];
    $proc = proc_open($cmd, $spec, $pipes, null, tool_env($env));
    if ($proc === false) {
        fail('cannot start ' . $cmd[0]);
    }
    $code = proc_close($proc);
    $stderr = trim((string) file_get_contents($err));
    unlink($err);
    return [$code, $stderr];
}

/** A failed command's most telling words: the last line it wrote on stderr, or its exit code. */
function why(int $code, string $stderr): string
{
    $lines = array_values(array_filter(explode("\n", $stderr)));
    return $lines ? end($lines) : "exit code $code";
}

function must_run(array $cmd, string $what, array $env = [], mixed $in = null, mixed $out = null): void
{
    [$code, $stderr] = run($cmd, $env, $in, $out);
    if ($code !== 0) {
        fail("$what failed: " . why($code, $stderr));
    }
}

/** Arguments and environment for the MariaDB client tools: as the site's user, or as AS ([user, password]: root,
 *  or a restore's throw-away user), the password in the environment rather than on the command line. */
function db_client(array $db, ?array $as = null): array
{
    [$user, $password] = account($db, $as);
    $args = ['--host=' . need($db, 'host'), '--port=' . (int) ($db['port'] ?? 3306), '--user=' . $user,
             '--default-character-set=utf8mb4', '--skip-ssl-verify-server-cert'];
    if (!empty($db['tls'])) {
        $args[] = '--ssl';
    }
    return [$args, ['MYSQL_PWD' => $password]];
}

/** The root account of the stack's own server, as db_client() and connect() take it. */
function root_account(): array
{
    return ['root', secret('db_root_password')];
}

/** [user, password]: AS when given, else the site's own user. */
function account(array $db, ?array $as): array
{
    return $as ?? [need($db, 'user'), secret('db_password')];
}

/** A consistent dump of a database, taken in one transaction while the site runs, gzip-compressed to TO. */
function dump_database(array $db, string $name, string $to): void
{
    [$args, $env] = db_client($db);
    $gzip = fopen($to, 'wb');
    $dump = proc_open(['mariadb-dump', ...$args, '--single-transaction', '--quick', '--no-tablespaces',
                       '--hex-blob', '--triggers', '--skip-dump-date', $name],
                      [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['file', "$to.err", 'w']],
                      $pipes, null, tool_env($env));
    $zip = proc_open(['gzip', '-6'], [0 => $pipes[1], 1 => $gzip, 2 => ['file', '/dev/null', 'w']], $zpipes);
    fclose($pipes[1]);
    $code = proc_close($dump);
    $zcode = proc_close($zip);
    fclose($gzip);
    $stderr = trim((string) @file_get_contents("$to.err"));
    @unlink("$to.err");
    if ($code !== 0 || $zcode !== 0) {
        fail('dumping the database failed: ' . why($code, $stderr));
    }
}

/** Load a gzip-compressed dump from elsewhere into database NAME, as AS (see db_client). The dump is foreign
 *  SQL: the client runs it sandboxed (no shell escapes, no reading or writing the container's files) and
 *  never sends a local file to the server (LOAD DATA LOCAL); what it may do in the database is what AS may. */
function load_database(array $db, string $name, string $dump, ?array $as = null): void
{
    [$args, $env] = db_client($db, $as);
    $gunzip = proc_open(['gzip', '-dc', $dump], [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'],
                        2 => ['file', '/dev/null', 'w']], $pipes);
    [$code, $stderr] = run(['mariadb', ...$args, '--binary-mode', '--sandbox', '--local-infile=0', $name], $env,
                           $pipes[1]);
    fclose($pipes[1]);
    proc_close($gunzip);
    if ($code !== 0) {
        fail('loading the database failed: ' . why($code, $stderr));
    }
}

function connect(array $db, ?array $as = null): mysqli
{
    mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
    [$user, $password] = account($db, $as);
    $link = mysqli_init();
    $flags = empty($db['tls']) ? 0 : MYSQLI_CLIENT_SSL | MYSQLI_CLIENT_SSL_DONT_VERIFY_SERVER_CERT;
    $link->real_connect(need($db, 'host'), $user, $password, '', (int) ($db['port'] ?? 3306), null, $flags);
    return $link;
}

function quote_name(string $name): string
{
    return '`' . str_replace('`', '``', $name) . '`';
}

function base_tables(mysqli $link, string $database): array
{
    $rows = $link->query('SHOW FULL TABLES FROM ' . quote_name($database) . " WHERE Table_type = 'BASE TABLE'");
    return array_map(fn ($row) => $row[0], $rows->fetch_all());
}

function remove_tree(string $path): void
{
    if (file_exists($path) || is_link($path)) {
        must_run(['rm', '-rf', '--', $path], "removing $path");
    }
}

function sha256_line(string $file): string
{
    return hash_file('sha256', $file) . '  ' . basename($file) . "\n";
}

/** Unpack archive ARCHIVE into WORK and check it whole: the manifest's own checksum, then every part's size
 *  and SHA-256. Returns the manifest. Nothing outside WORK is touched. */
function unpack_verified(string $archive, string $work): array
{
    if (!is_file($archive)) {
        fail("no archive at $archive");
    }
    remove_tree($work);
    mkdir($work, 0700, true);
    $members = ['manifest.json', 'manifest.sha256', ...ARCHIVE_PARTS];
    [$code, $stderr] = run(['tar', '-x', '-f', $archive, '-C', $work, '--no-same-owner', '--', ...$members]);
    if ($code !== 0) {
        fail('the archive is damaged or incomplete: ' . why($code, $stderr));
    }
    if (file_get_contents("$work/manifest.sha256") !== sha256_line("$work/manifest.json")) {
        fail('the archive is damaged: its manifest does not match its checksum');
    }
    $manifest = json_decode((string) file_get_contents("$work/manifest.json"), true);
    if (!is_array($manifest) || ($manifest['kind'] ?? '') !== 'hakobune-backup') {
        fail('the archive is not a Hakobune backup');
    }
    if ((int) ($manifest['format'] ?? 0) > ARCHIVE_FORMAT) {
        fail("the archive has format {$manifest['format']}, newer than this Hakobune reads (" . ARCHIVE_FORMAT . ')');
    }
    foreach (ARCHIVE_PARTS as $part) {
        $want = $manifest['parts'][$part] ?? null;
        if (!is_array($want) || filesize("$work/$part") !== ($want['bytes'] ?? -1)
            || hash_file('sha256', "$work/$part") !== ($want['sha256'] ?? '')) {
            fail("the archive is damaged: $part does not match its checksum");
        }
    }
    return $manifest;
}

/** Whether the symbolic link LINK, inside the tree ROOT, leads to a place inside it: resolved the way the
 *  kernel would (each link met on the way is followed, '..' leaves the folder reached so far), but on paper,
 *  without following anything. Absolute targets, and any step above ROOT, lead out. */
function link_stays_inside(string $root, string $link): bool
{
    $parts = explode('/', trim(substr(dirname($link), strlen($root)), '/'));
    $parts = array_values(array_filter($parts, fn ($p) => $p !== ''));
    $target = (string) readlink($link);
    if ($target === '' || $target[0] === '/') {
        return false;
    }
    $todo = explode('/', $target);
    $followed = 0;
    while ($todo) {
        $step = array_shift($todo);
        if ($step === '' || $step === '.') {
            continue;
        }
        if ($step === '..') {
            if (!$parts) {
                return false;
            }
            array_pop($parts);
            continue;
        }
        $parts[] = $step;
        $path = $root . '/' . implode('/', $parts);
        if (is_link($path)) {
            $next = (string) readlink($path);
            if (++$followed > 40 || $next === '' || $next[0] === '/') {
                return false;
            }
            array_pop($parts);
            $todo = [...explode('/', $next), ...$todo];
        }
    }
    return true;
}

/** Refuse a tree (just unpacked, from elsewhere) that holds a symbolic link leading out of it: WHAT names the
 *  tree in the message. */
function refuse_links_out(string $root, string $what): void
{
    $items = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($root, FilesystemIterator::SKIP_DOTS),
                                           RecursiveIteratorIterator::SELF_FIRST);
    foreach ($items as $item) {
        $path = $item->getPathname();
        if (is_link($path) && !link_stays_inside($root, $path)) {
            fail("$what hold a link that leads out of the site: " . substr($path, strlen($root) + 1) . ' -> '
                 . readlink($path));
        }
    }
}
