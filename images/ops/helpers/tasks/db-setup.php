<?php
// Creates the site's database and its user with the root account; safe to run again.
$db = database($req);
$name = $db['name'];
$user = $db['user'];

try {
    $link = connect($db, root_account());
    $quotedName = '`' . str_replace('`', '``', $name) . '`';
    $userAt = "'" . $link->real_escape_string($user) . "'@'%'";
    $password = "'" . $link->real_escape_string(secret('db_password')) . "'";
    $link->query("CREATE DATABASE IF NOT EXISTS $quotedName CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
    $link->query("CREATE USER IF NOT EXISTS $userAt IDENTIFIED BY $password");
    $link->query("ALTER USER $userAt IDENTIFIED BY $password");
    $link->query("GRANT ALL PRIVILEGES ON $quotedName.* TO $userAt");
} catch (mysqli_sql_exception $e) {
    fail('database setup failed: ' . $e->getMessage());
}
reply(['database' => $name, 'user' => $user]);
