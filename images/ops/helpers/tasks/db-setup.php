<?php
// Creates the site's database and its user with the root account; safe to run again.
$req = request();
$host = need($req, 'db_host');
$name = need($req, 'db_name');
$user = need($req, 'db_user');
$port = (int) ($req['db_port'] ?? 3306);

mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
try {
    $db = new mysqli($host, 'root', secret('db_root_password'), '', $port);
    $quotedName = '`' . str_replace('`', '``', $name) . '`';
    $userAt = "'" . $db->real_escape_string($user) . "'@'%'";
    $password = "'" . $db->real_escape_string(secret('db_password')) . "'";
    $db->query("CREATE DATABASE IF NOT EXISTS $quotedName CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
    $db->query("CREATE USER IF NOT EXISTS $userAt IDENTIFIED BY $password");
    $db->query("ALTER USER $userAt IDENTIFIED BY $password");
    $db->query("GRANT ALL PRIVILEGES ON $quotedName.* TO $userAt");
} catch (mysqli_sql_exception $e) {
    fail('database setup failed: ' . $e->getMessage());
}
reply(['database' => $name, 'user' => $user]);
