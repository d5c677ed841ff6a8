<?php
// Checks an external database before a site is created on it: the server answers, the user and password
// are accepted, the connection is encrypted when asked, the user may do everything WordPress does to its
// tables, and the database does not already hold a WordPress site. Changes nothing (its probe table is
// dropped again). Each failure is one line that says what to fix.
$req = request();
$host = need($req, 'db_host');
$port = (int) ($req['db_port'] ?? 3306);
$name = need($req, 'db_name');
$user = need($req, 'db_user');
$password = need($req, 'db_password');
$tls = !empty($req['db_tls']);

mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
$db = mysqli_init();
$db->options(MYSQLI_OPT_CONNECT_TIMEOUT, 10);
$flags = $tls ? MYSQLI_CLIENT_SSL | MYSQLI_CLIENT_SSL_DONT_VERIFY_SERVER_CERT : 0;
try {
    @$db->real_connect($host, $user, $password, $name, $port, null, $flags);
} catch (mysqli_sql_exception $e) {
    $message = $e->getMessage();
    match (true) {
        $e->getCode() === 1045 => fail("the database server at $host:$port refused user '$user': wrong password, "
            . "or the user may not connect from this host"),
        in_array($e->getCode(), [1044, 1049], true) => fail("user '$user' cannot use database '$name' on "
            . "$host:$port: it does not exist or is not granted to the user"),
        str_contains($message, 'getaddrinfo') || str_contains($message, 'Name or service not known')
            => fail("database host '$host' is unknown (its name does not resolve)"),
        default => fail("cannot reach the database server at $host:$port: $message"),
    };
}
$cipher = '';
if ($tls) {
    $cipher = (string) ($db->query("SHOW SESSION STATUS LIKE 'Ssl_cipher'")->fetch_row()[1] ?? '');
    if ($cipher === '') {
        fail("the connection to $host:$port is not encrypted, though --db-tls was given (the server has no TLS)");
    }
}
if (!empty($req['wordpress'])) {
    $existing = $db->query("SHOW TABLES LIKE 'wp\\_options'")->num_rows;
    if ($existing > 0) {
        fail("database '$name' on $host:$port already holds a WordPress site (wp_options); choose an empty one");
    }
}
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
        $db->query($statement);
    } catch (mysqli_sql_exception $e) {
        if ($privilege !== 'CREATE') {
            try { $db->query("DROP TABLE IF EXISTS `$probe`"); } catch (mysqli_sql_exception) {}
        }
        fail("user '$user' lacks the $privilege privilege on database '$name', which WordPress needs: "
            . $e->getMessage());
    }
}
reply(['server' => $db->server_info, 'tls_cipher' => $cipher]);
