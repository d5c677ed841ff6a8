<?php
// Checks an external database before a site is created on it: the server answers, the user and password
// are accepted, the connection is encrypted when asked, the user may do everything WordPress does to its
// tables, and the database does not already hold a WordPress site. Changes nothing (its probe table is
// dropped again). Each failure is one line that says what to fix.

/** A connection to DB as the site will make it, or the failure that says why not. */
function connect_as_site(array $db, string $password): mysqli
{
    ['host' => $host, 'port' => $port, 'name' => $name, 'user' => $user] = $db;
    try {
        return connect($db, [$user, $password], $name);
    } catch (mysqli_sql_exception $e) {
        $message = $e->getMessage();
        match (true) {
            $e->getCode() === 1045 => fail("the database server at $host:$port refused user '$user': wrong "
                . "password, or the user may not connect from this host"),
            in_array($e->getCode(), [1044, 1049], true) => fail("user '$user' cannot use database '$name' on "
                . "$host:$port: it does not exist or is not granted to the user"),
            // mysqlnd gives an unknown name the code of a refused connection; only its words tell them apart
            str_contains($message, 'getaddrinfo') || str_contains($message, 'Name or service not known')
                => fail("database host '$host' is unknown (its name does not resolve)", kind: KIND_DB_UNREACHABLE),
            default => fail("cannot reach the database server at $host:$port: $message", kind: KIND_DB_UNREACHABLE),
        };
    }
}

/** The cipher of LINK's connection; a failure when --db-tls asked for one and there is none. */
function tls_cipher(mysqli $link, array $db): string
{
    $cipher = (string) ($link->query("SHOW SESSION STATUS LIKE 'Ssl_cipher'")->fetch_row()[1] ?? '');
    if ($db['tls'] && $cipher === '') {
        fail("the connection to {$db['host']}:{$db['port']} is not encrypted, though --db-tls was given (the "
             . 'server has no TLS)');
    }
    return $cipher;
}

/** Every statement WordPress needs, tried on a probe table that is dropped again. */
function check_privileges(mysqli $link, array $db): void
{
    $probe = 'hakobune_probe_' . bin2hex(random_bytes(4));
    $steps = [
        'CREATE' => "CREATE TABLE `$probe` (id INT NOT NULL PRIMARY KEY, v VARCHAR(10))",
        'ALTER' => "ALTER TABLE `$probe` ADD COLUMN w INT",
        'INDEX' => "CREATE INDEX v_index ON `$probe` (v)",
        'INSERT' => "INSERT INTO `$probe` (id, v) VALUES (1, 'a')",
        'SELECT' => "SELECT v FROM `$probe`",
        'UPDATE' => "UPDATE `$probe` SET v = 'b' WHERE id = 1",
        'DELETE' => "DELETE FROM `$probe` WHERE id = 1",
        'DROP' => "DROP TABLE `$probe`",
    ];
    foreach ($steps as $privilege => $statement) {
        try {
            $link->query($statement);
        } catch (mysqli_sql_exception $e) {
            if ($privilege !== 'CREATE') {
                try { $link->query("DROP TABLE IF EXISTS `$probe`"); } catch (mysqli_sql_exception) {}
            }
            fail("user '{$db['user']}' lacks the $privilege privilege on database '{$db['name']}', which WordPress "
                 . 'needs: ' . $e->getMessage());
        }
    }
}

// main
$db = database($req);
$link = connect_as_site($db, need($req, 'password'));
$cipher = $db['tls'] ? tls_cipher($link, $db) : '';
if (!empty($req['wordpress']) && $link->query("SHOW TABLES LIKE 'wp\\_options'")->num_rows > 0) {
    fail("database '{$db['name']}' on {$db['host']}:{$db['port']} already holds a WordPress site (wp_options); "
         . 'choose an empty one');
}
check_privileges($link, $db);
reply(['server' => $link->server_info, 'tls_cipher' => $cipher]);
