<?php
// Restores a backup archive (already in the backups volume) into this site in steps the client runs one by
// one, so a failure at any point can be undone and the site is left as it was:
//   state   what an earlier restore left: its lock (with the step it reached) or, without one, its leftovers
//   stage   take the lock; unpack and verify the archive; unpack its files beside the site (in the site
//           volume) and load its database beside the site's: into a database of its own, as a throw-away user
//           that can touch nothing else (on an external server, where Hakobune may not create databases or
//           users, a dump of the current one is taken instead)
//   swap    put the staged database and files in place: one atomic RENAME TABLE, and renames of files
//   undo    put the site's own database and files back
//   finish  drop what is left over (the old or the staged copy), then release the lock
// One restore at a time: stage takes a lock (a folder in the backups volume) under the client's token, and swap,
// undo and finish act only for the token that holds it. A restore that was cut short (its client killed) keeps
// the lock and the step it reached; nothing is dropped until the user says how to end it (undo or finish with
// "interrupted").
// Each step is a function below; main, at the bottom, runs the one asked for.
// The site keeps its own secrets: wp-config.php is written for this site, keeping the archive's table prefix
// and its own defines.
const WORK = BACKUP_DIR . '/.restore';  // the archive, unpacked and verified
const STAGED_FILES = STAGING . '/new';  // the archive's files, then (after undo) what the swap had put in place
const OLD_FILES = STAGING . '/old';  // the site's own files, while the archive's are in place
const STAGED_DB = 'hbrestore_new';
const OLD_DB = 'hbrestore_old';
const LOADER_PREFIX = 'hbrestore_';  // the throw-away users that load a dump, one per restore
const LOCK = BACKUP_DIR . '/.restore-lock';

function site_entries(): array
{
    return array_values(array_diff(scandir(SITE_DIR), ['.', '..', basename(STAGING)]));
}

function lock(): ?array
{
    if (!is_dir(LOCK)) {
        return null;
    }
    $state = json_decode((string) @file_get_contents(LOCK . '/state.json'), true);
    return is_array($state) ? $state : ['step' => 'unknown', 'token' => ''];
}

/** Record the step the restore has reached, in its lock (written whole, then renamed into place). */
function mark(string $step, array $more = []): void
{
    $state = [...(lock() ?? []), ...$more, 'step' => $step, 'at' => gmdate('Y-m-d\TH:i:s\Z')];
    file_put_contents(LOCK . '/state.json.new', json_encode($state, JSON_UNESCAPED_SLASHES));
    rename(LOCK . '/state.json.new', LOCK . '/state.json');
}

/** Whether this request may act on what is staged: its token holds the lock, or (no lock at all: leftovers of
 *  a restore older than locks) the user asked to end an interrupted restore. */
function entitled(array $req, string $token): bool
{
    $lock = lock();
    return $lock === null ? !empty($req['interrupted']) : $token !== '' && ($lock['token'] ?? '') === $token;
}

/** What a restore left behind without a lock (an interrupted one from before locks, or by hand). */
function leftovers(array $db): array
{
    $found = [];
    if (file_exists(STAGING) || is_link(STAGING)) {
        $found[] = 'files in ' . STAGING;
    }
    if (file_exists(WORK)) {
        $found[] = 'an unpacked archive in ' . WORK;
    }
    if ($db['own']) {
        $link = connect($db, root_account());
        foreach ([STAGED_DB, OLD_DB] as $name) {
            if ($link->query("SHOW DATABASES LIKE '$name'")->num_rows) {
                $found[] = "database $name";
            }
        }
    }
    return $found;
}

/** STAGING must be the folder this restore made, never a link site code put in its place. */
function staging(): string
{
    if (is_link(STAGING) || !is_dir(STAGING)) {
        fail('nothing is staged (' . STAGING . ' is missing, or is not a folder)');
    }
    return STAGING;
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

/** An external server, where no second database may be made: drop every table of NAME and load DUMP, as the
 *  site's own user (the only one Hakobune has there). */
function replace_database(mysqli $link, array $db, string $name, string $dump): void
{
    $link->select_db($name);
    $link->query('SET FOREIGN_KEY_CHECKS = 0');
    foreach (base_tables($link, $name) as $table) {
        $link->query('DROP TABLE ' . quote_name($table));
    }
    load_database($db, $name, $dump);
}

/** Load the archive's dump into STAGED_DB as a user made for it, with rights on that database alone: whatever
 *  the dump says (DROP DATABASE of the site's, GRANT, another USE), it cannot reach anything else. */
function load_staged(mysqli $root, array $db, string $dump): void
{
    $loader = LOADER_PREFIX . bin2hex(random_bytes(6));
    $password = bin2hex(random_bytes(24));
    $account = "'$loader'@'%'";
    $root->query("CREATE USER $account IDENTIFIED BY '$password'");
    $root->query('GRANT ALL PRIVILEGES ON ' . STAGED_DB . ".* TO $account");
    // A failed load ends the helper (fail() exits): stage's clean-up drops the user then.
    load_database($db, STAGED_DB, $dump, [$loader, $password]);
    $root->query("DROP USER $account");
    $objects = $root->query(
        "SELECT CONCAT('view ', TABLE_NAME) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = '" . STAGED_DB . "'"
        . " UNION ALL SELECT CONCAT('trigger ', TRIGGER_NAME) FROM information_schema.TRIGGERS"
        . " WHERE TRIGGER_SCHEMA = '" . STAGED_DB . "'"
        . " UNION ALL SELECT CONCAT(LOWER(ROUTINE_TYPE), ' ', ROUTINE_NAME) FROM information_schema.ROUTINES"
        . " WHERE ROUTINE_SCHEMA = '" . STAGED_DB . "'"
        . " UNION ALL SELECT CONCAT('event ', EVENT_NAME) FROM information_schema.EVENTS"
        . " WHERE EVENT_SCHEMA = '" . STAGED_DB . "'")->fetch_all();
    if ($objects) {
        fail("the archive's database holds " . implode(', ', array_column($objects, 0))
             . ', which a restore cannot carry (it moves base tables only); nothing was changed');
    }
}

function drop_leftover_users(mysqli $root): void
{
    $users = $root->query("SELECT User, Host FROM mysql.global_priv WHERE User LIKE '"
                          . LOADER_PREFIX . "%'")->fetch_all();
    foreach ($users as [$user, $host]) {
        $root->query("DROP USER IF EXISTS '" . $root->real_escape_string($user) . "'@'"
                     . $root->real_escape_string($host) . "'");
    }
}

function move(string $from, string $to): void
{
    if (!rename($from, $to)) {
        fail("cannot move $from to $to");
    }
}

/** Every entry of the folder FROM into TO. */
function move_entries(string $from, string $to): void
{
    foreach (array_diff(scandir($from), ['.', '..']) as $entry) {
        move("$from/$entry", "$to/$entry");
    }
}

/** Record STEP in the lock, where there is one (leftovers of a restore from before locks have none). */
function mark_if_locked(string $step): void
{
    if (lock()) {
        mark($step);
    }
}

/** Stage's own clean-up when it fails: what it made goes, the lock too (nothing of it is in place yet). */
function abandon_stage(array $db): void
{
    if ($db['own']) {
        try {
            $link = connect($db, root_account());
            $link->query('DROP DATABASE IF EXISTS ' . STAGED_DB);
            drop_leftover_users($link);
        } catch (mysqli_sql_exception) {
            // the client's rollback runs finish, which tries again
        }
    }
    run(['rm', '-rf', '--', STAGING, WORK, LOCK]);
}

/** state: what an earlier restore left. */
function state(array $db): array
{
    $lock = lock();
    return ['lock' => $lock, 'leftovers' => $lock ? [] : leftovers($db)];
}

/** stage: everything of the archive made ready beside the site, which is not touched. */
function stage(array $req, array $db, string $token): array
{
    if ($token === '' || !@mkdir(LOCK, 0700)) {
        fail('another restore of this site is in progress, or one was interrupted');
    }
    mark('staging', ['token' => $token, 'started' => gmdate('Y-m-d\TH:i:s\Z'),
                     'archive' => basename(need($req, 'archive'))]);
    $found = leftovers($db);
    if ($found) {
        run(['rm', '-rf', '--', LOCK]);
        fail('an earlier restore left ' . implode(', ', $found) . ' behind');
    }
    $staged = false;
    register_shutdown_function(function () use (&$staged, $db): void {
        if (!$staged) {
            abandon_stage($db);
        }
    });
    $manifest = unpack_verified(need($req, 'archive'), WORK);
    $profile = need($req, 'profile');
    if (($manifest['site']['profile'] ?? 'wp') !== $profile) {
        fail('the archive is of a ' . ($manifest['site']['profile'] ?? '?') . " site; this site is $profile");
    }
    if (!mkdir(STAGING, 0750) || !mkdir(STAGED_FILES, 0750)) {
        fail('cannot create ' . STAGING);
    }
    // Unpacked into a folder of its own that nothing else has touched, so no link can be in the way;
    // GNU tar makes links that lead up or away only after every file is written.
    must_run(['tar', '-x', '-z', '-f', WORK . '/' . ARCHIVE_FILES, '-C', STAGED_FILES, '--no-same-owner'],
             'unpacking the files');
    refuse_links_out(STAGED_FILES, "the archive's files");
    if (is_link(STAGED_FILES . '/wp-config.php')) {
        fail("the archive's wp-config.php is a link, not a file");
    }
    // Files from elsewhere may be private to their old owner: PHP (this user) owns them now, and the
    // web server (another user) must be able to read them.
    must_run(['chmod', '-R', 'u+rwX,go+rX,go-w', STAGED_FILES], 'setting permissions');
    $prefix = null;
    if ($profile === 'wp') {
        $config = is_file(STAGED_FILES . '/wp-config.php') ? read_wp_config(STAGED_FILES . '/wp-config.php')
                                                  : ['defines' => [], 'table_prefix' => null];
        $prefix = $config['table_prefix'] ?? $manifest['table_prefix'] ?? 'wp_';
        write_wp_config(STAGED_FILES, need($req, 'url'), $db, (array) ($req['salts'] ?? []), $prefix, own_defines($config));
        if (is_dir(STAGED_FILES . '/public/wp-content')) {
            install_mu_plugins(STAGED_FILES . '/public');
        }
    }
    if ($db['own']) {
        $link = connect($db, root_account());
        $link->query('CREATE DATABASE ' . STAGED_DB . ' CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
        load_staged($link, $db, WORK . '/' . ARCHIVE_DATABASE);
    } else {
        dump_database($db, $db['name'], WORK . '/before.sql.gz');
    }
    $url = $manifest['site']['url'] ?? '';
    if ($url === '' && $prefix !== null && isset($link)) {  // an import: the URL the site had is in its DB
        $row = $link->query('SELECT option_value FROM ' . STAGED_DB . '.' . quote_name($prefix . 'options')
                            . " WHERE option_name = 'home'")->fetch_row();
        $url = rtrim((string) ($row[0] ?? ''), '/');
    }
    mark('staged', ['url' => $url]);
    $staged = true;
    return ['url' => $url, 'wordpress' => $manifest['wordpress'] ?? null, 'created' => $manifest['created'] ?? null];
}

/** swap: the staged database and files put in place of the site's, which are kept beside. */
function swap(array $req, array $db, string $token): array
{
    if (!entitled($req, $token)) {
        fail('this restore does not hold the lock');
    }
    if (!is_dir(staging() . '/new')) {
        fail('nothing is staged');
    }
    mark('swapping');
    if ($db['own']) {
        exchange_tables(connect($db, root_account()), $db['name'], OLD_DB, STAGED_DB);
    } else {
        replace_database(connect($db), $db, $db['name'], WORK . '/' . ARCHIVE_DATABASE);
    }
    @mkdir(OLD_FILES, 0750);
    file_put_contents(STAGING . '/originals.json', json_encode(site_entries()));
    foreach (site_entries() as $entry) {
        move(SITE_DIR . "/$entry", OLD_FILES . "/$entry");
    }
    move_entries(STAGED_FILES, SITE_DIR);
    mark('swapped');
    return ['swapped' => true];
}

/** undo: the site's own database and files back in place. */
function undo(array $req, array $db, string $token): array
{
    if (!entitled($req, $token)) {
        return ['undone' => false];
    }
    mark_if_locked('undoing');
    if (is_dir(STAGING) && !is_link(STAGING) && is_file(STAGING . '/originals.json')) {
        $originals = (array) json_decode((string) file_get_contents(STAGING . '/originals.json'), true);
        @mkdir(STAGED_FILES, 0750);
        foreach (site_entries() as $entry) {
            if (!in_array($entry, $originals, true) || file_exists(OLD_FILES . "/$entry")) {
                move(SITE_DIR . "/$entry", STAGED_FILES . "/$entry");
            }
        }
        move_entries(OLD_FILES, SITE_DIR);
    }
    if ($db['own']) {
        $link = connect($db, root_account());
        $saved = $link->query("SHOW DATABASES LIKE '" . OLD_DB . "'")->num_rows ? base_tables($link, OLD_DB) : [];
        if ($saved) {
            exchange_tables($link, $db['name'], STAGED_DB, OLD_DB);
        }
    } elseif (is_file(WORK . '/before.sql.gz')) {
        replace_database(connect($db), $db, $db['name'], WORK . '/before.sql.gz');
    }
    mark_if_locked('undone');
    return ['undone' => true];
}

/** finish: what is left over (the old or the staged copy) dropped, then the lock released. */
function finish(array $req, array $db, string $token): array
{
    if (!entitled($req, $token)) {
        return ['finished' => false];
    }
    mark_if_locked('finishing');
    if ($db['own']) {
        $link = connect($db, root_account());
        $link->query('DROP DATABASE IF EXISTS ' . STAGED_DB);
        $link->query('DROP DATABASE IF EXISTS ' . OLD_DB);
        drop_leftover_users($link);
    }
    remove_tree(STAGING);
    remove_tree(WORK);
    remove_tree(LOCK);
    return ['finished' => true];
}

// main
$action = action($req, ['state', 'stage', 'swap', 'undo', 'finish']);
$db = database($req);
$token = (string) ($req['token'] ?? '');
try {
    reply(match ($action) {
        'state' => state($db),
        'stage' => stage($req, $db, $token),
        'swap' => swap($req, $db, $token),
        'undo' => undo($req, $db, $token),
        'finish' => finish($req, $db, $token),
    });
} catch (mysqli_sql_exception $e) {
    fail("restore $action failed: " . $e->getMessage());
}
