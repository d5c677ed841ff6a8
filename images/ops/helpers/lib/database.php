<?php
// The site's database: the one description every request carries as 'db' (src/hakobune/render/requests.py:
// db_request), and the ways to reach it (the MariaDB client tools, mysqli).

// mysqli's codes for a server that does not answer: no socket, refused or timed out, unknown host.
const UNREACHABLE_CODES = [2002, 2003, 2005, 2006];

/** REQ's database: host, port, name, user, tls (encrypt the connection), own (the stack's own server, where
 *  Hakobune has the root account). */
function database(array $req): array
{
    $db = $req['db'] ?? null;
    if (!is_array($db)) {
        fail("the request lacks 'db'", 2);
    }
    return ['host' => need($db, 'host'), 'port' => (int) ($db['port'] ?? DEFAULT_DB_PORT),
            'name' => need($db, 'name'), 'user' => need($db, 'user'), 'tls' => !empty($db['tls']),
            'own' => !empty($db['own'])];
}

/** Where PHP reaches DB, as WordPress's DB_HOST takes it: the host, and the port unless it is the default. */
function db_address(array $db): string
{
    return $db['port'] === DEFAULT_DB_PORT ? $db['host'] : "{$db['host']}:{$db['port']}";
}

/** Arguments and environment for the MariaDB client tools: as the site's user, or as AS ([user, password]: root,
 *  or a restore's throw-away user), the password in the environment rather than on the command line. */
function db_client(array $db, ?array $as = null): array
{
    [$user, $password] = account($db, $as);
    $args = ['--host=' . $db['host'], '--port=' . $db['port'], '--user=' . $user,
             '--default-character-set=utf8mb4', '--skip-ssl-verify-server-cert'];
    if ($db['tls']) {
        $args[] = '--ssl';
    }
    return [$args, ['MYSQL_PWD' => $password]];
}

/** A database password from the container's secret files. */
function secret(string $name): string
{
    $value = @file_get_contents(SECRET_FILES[$name]);
    if ($value === false) {
        fail("secret $name is not available in this container");
    }
    return trim($value);
}

/** The root account of the stack's own server, as db_client() and connect() take it. */
function root_account(): array
{
    return ['root', secret('db_root_password')];
}

/** [user, password]: AS when given, else the site's own user. */
function account(array $db, ?array $as): array
{
    return $as ?? [$db['user'], secret('db_password')];
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
        fail('dumping the database failed: ' . why($code, $stderr), kind: answers($db) ? null : KIND_DB_UNREACHABLE);
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

/** A connection to DB's server as its user, or AS; DATABASE selected when given. */
function connect(array $db, ?array $as = null, string $database = ''): mysqli
{
    mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
    [$user, $password] = account($db, $as);
    $link = mysqli_init();
    $link->options(MYSQLI_OPT_CONNECT_TIMEOUT, 10);
    $flags = $db['tls'] ? MYSQLI_CLIENT_SSL | MYSQLI_CLIENT_SSL_DONT_VERIFY_SERVER_CERT : 0;
    @$link->real_connect($db['host'], $user, $password, $database, $db['port'], null, $flags);
    return $link;
}

/** Whether DB's server answers at all (a wrong password is an answer). */
function answers(array $db): bool
{
    try {
        connect($db)->close();
    } catch (mysqli_sql_exception $e) {
        return !in_array($e->getCode(), UNREACHABLE_CODES, true);
    }
    return true;
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
