<?php
// Restores a backup archive (already in the backups volume) into this site in steps the client runs one by
// one, so a failure at any point can be undone and the site is left as it was:
//   stage   unpack and verify the archive; unpack its files beside the site (in the site volume) and load its
//           database beside the site's (a database of its own on the stack's server; on an external server,
//           where Hakobune may not create databases, a dump of the current one is taken instead)
//   swap    put the staged database and files in place: one atomic RENAME TABLE, and renames of files
//   undo    put the site's own database and files back
//   finish  drop what is left over (the old or the staged copy)
// The site keeps its own secrets: wp-config.php is written for this site, keeping the archive's table prefix
// and its own defines.
$req = request();
$action = action($req, ['stage', 'swap', 'undo', 'finish']);
$db = (array) ($req['db'] ?? []);
$ownServer = !empty($req['own_db']);
$work = BACKUP_DIR . '/.restore';
$new = STAGING . '/new';
$old = STAGING . '/old';
const STAGED_DB = 'hbrestore_new';
const OLD_DB = 'hbrestore_old';

function site_entries(): array
{
    return array_values(array_diff(scandir(SITE_DIR), ['.', '..', basename(STAGING)]));
}

/** In one atomic RENAME TABLE: the tables of database NAME go to OUT, and those of IN take their place. */
function exchange_tables(mysqli $link, string $name, string $out, string $in): void
{
    $link->query('CREATE DATABASE IF NOT EXISTS ' . $out);
    $renames = [];
    foreach (base_tables($link, $name) as $table) {
        $renames[] = quote_name($name) . '.' . quote_name($table) . " TO $out." . quote_name($table);
    }
    foreach (base_tables($link, $in) as $table) {
        $renames[] = "$in." . quote_name($table) . ' TO ' . quote_name($name) . '.' . quote_name($table);
    }
    if ($renames) {
        $link->query('RENAME TABLE ' . implode(', ', $renames));  // all or nothing
    }
}

/** An external server, where no second database may be made: drop every table of NAME and load DUMP. */
function replace_database(mysqli $link, array $db, string $name, string $dump): void
{
    $link->select_db($name);
    $link->query('SET FOREIGN_KEY_CHECKS = 0');
    foreach (base_tables($link, $name) as $table) {
        $link->query('DROP TABLE ' . quote_name($table));
    }
    load_database($db, $name, $dump);
}

function move(string $from, string $to): void
{
    if (!rename($from, $to)) {
        fail("cannot move $from to $to");
    }
}

try {
    switch ($action) {
        case 'stage':
            $manifest = unpack_verified(need($req, 'archive'), $work);
            if (($manifest['site']['profile'] ?? 'wp') !== need($req, 'profile')) {
                fail('the archive is of a ' . ($manifest['site']['profile'] ?? '?') . ' site; this site is '
                     . $req['profile']);
            }
            remove_tree(STAGING);
            mkdir($new, 0750, true);
            must_run(['tar', '-x', '-z', '-f', "$work/files.tar.gz", '-C', $new, '--no-same-owner'],
                     'unpacking the files');
            // Files from elsewhere may be private to their old owner: PHP (this user) owns them now, and the
            // web server (another user) must be able to read them.
            must_run(['chmod', '-R', 'u+rwX,go+rX,go-w', $new], 'setting permissions');
            $prefix = null;
            if ($req['profile'] === 'wp') {
                $config = is_file("$new/wp-config.php") ? read_wp_config("$new/wp-config.php")
                                                        : ['defines' => [], 'table_prefix' => null];
                $prefix = $config['table_prefix'] ?? $manifest['table_prefix'] ?? 'wp_';
                write_wp_config(['site_dir' => $new] + (array) ($req['config'] ?? []), (array) ($req['salts'] ?? []),
                                $prefix, own_defines($config));
                if (is_dir("$new/public/wp-content")) {
                    install_mu_plugins("$new/public");
                }
            }
            if ($ownServer) {
                $link = connect($db, true);
                $link->query('DROP DATABASE IF EXISTS ' . STAGED_DB);
                $link->query('DROP DATABASE IF EXISTS ' . OLD_DB);
                $link->query('CREATE DATABASE ' . STAGED_DB . ' CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
                load_database($db, STAGED_DB, "$work/database.sql.gz", true);
            } else {
                dump_database($db, need($db, 'name'), "$work/before.sql.gz");
            }
            $url = $manifest['site']['url'] ?? '';
            if ($url === '' && $prefix !== null && $ownServer) {  // an import: the URL the site had is in its DB
                $row = $link->query('SELECT option_value FROM ' . STAGED_DB . '.' . quote_name($prefix . 'options')
                                    . " WHERE option_name = 'home'")->fetch_row();
                $url = rtrim((string) ($row[0] ?? ''), '/');
            }
            reply(['url' => $url, 'wordpress' => $manifest['wordpress'] ?? null,
                   'created' => $manifest['created'] ?? null]);
            break;

        case 'swap':
            if (!is_dir($new)) {
                fail('nothing is staged');
            }
            $link = connect($db, $ownServer);
            $name = need($db, 'name');
            if ($ownServer) {
                exchange_tables($link, $name, OLD_DB, STAGED_DB);
            } else {
                replace_database($link, $db, $name, "$work/database.sql.gz");
            }
            @mkdir($old, 0750, true);
            file_put_contents(STAGING . '/originals.json', json_encode(site_entries()));
            foreach (site_entries() as $entry) {
                move(SITE_DIR . "/$entry", "$old/$entry");
            }
            foreach (array_diff(scandir($new), ['.', '..']) as $entry) {
                move("$new/$entry", SITE_DIR . "/$entry");
            }
            reply(['swapped' => true]);
            break;

        case 'undo':
            if (is_file(STAGING . '/originals.json')) {
                $originals = (array) json_decode((string) file_get_contents(STAGING . '/originals.json'), true);
                @mkdir($new, 0750, true);
                foreach (site_entries() as $entry) {
                    if (!in_array($entry, $originals, true) || file_exists("$old/$entry")) {
                        move(SITE_DIR . "/$entry", "$new/$entry");
                    }
                }
                foreach (array_diff(scandir($old), ['.', '..']) as $entry) {
                    move("$old/$entry", SITE_DIR . "/$entry");
                }
            }
            $name = need($db, 'name');
            if ($ownServer) {
                $link = connect($db, true);
                $saved = $link->query("SHOW DATABASES LIKE '" . OLD_DB . "'")->num_rows
                    ? base_tables($link, OLD_DB) : [];
                if ($saved) {
                    exchange_tables($link, $name, STAGED_DB, OLD_DB);
                }
            } elseif (is_file("$work/before.sql.gz")) {
                replace_database(connect($db), $db, $name, "$work/before.sql.gz");
            }
            reply(['undone' => true]);
            break;

        case 'finish':
            if ($ownServer) {
                $link = connect($db, true);
                $link->query('DROP DATABASE IF EXISTS ' . STAGED_DB);
                $link->query('DROP DATABASE IF EXISTS ' . OLD_DB);
            }
            remove_tree(STAGING);
            remove_tree($work);
            reply(['finished' => true]);
            break;
    }
} catch (mysqli_sql_exception $e) {
    fail("restore $action failed: " . $e->getMessage());
}
