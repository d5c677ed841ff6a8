<?php
// Writes one backup archive of the site into the backups volume while the site runs: the database dumped in a
// single transaction, the site volume's files, the settings, and a manifest with the checksum of every part.
// The archive appears under its final name only when it is whole.

/** The archive's name: the client's, or (scheduled runs) the site's and the time it starts. */
function archive_name(array $req, array $site): string
{
    $name = (string) ($req['name'] ?? '') ?: need($site, 'name') . '_' . gmdate('Ymd\THis\Z');
    if (!preg_match('/^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$/', $name)) {
        fail("'$name' is not a valid archive name");
    }
    return $name;
}

/** The settings, the dump and the files into WORK; returns warnings. GNU tar exits 1 when a file changed while
 *  it was read (a live site writing an upload): the archive holds the file as it was at one moment; say so
 *  rather than fail. */
function write_parts(array $req, array $db, string $work): array
{
    file_put_contents("$work/" . ARCHIVE_SETTINGS, need($req, 'settings'));
    dump_database($db, $db['name'], "$work/" . ARCHIVE_DATABASE);
    [$code, $stderr] = run(['tar', '-c', '-z', '-f', "$work/" . ARCHIVE_FILES, '-C', SITE_DIR,
                            '--exclude=./' . basename(STAGING), '.']);
    if ($code > 1) {
        fail('archiving the site files failed: ' . $stderr);
    }
    return $code === 1 ? ["some files changed while they were archived: $stderr"] : [];
}

/** The manifest of the parts in WORK. */
function manifest(array $req, array $db, array $site, string $work): array
{
    $parts = [];
    foreach (ARCHIVE_PARTS as $part) {
        $parts[$part] = ['bytes' => filesize("$work/$part"), 'sha256' => hash_file('sha256', "$work/$part")];
    }
    return [
        'kind' => 'hakobune-backup',
        'format' => ARCHIVE_FORMAT,
        'created' => gmdate('Y-m-d\TH:i:s\Z'),
        'hakobune' => (string) ($req['hakobune'] ?? ''),
        'site' => $site,
        'wordpress' => wordpress_version(),
        'table_prefix' => is_file(SITE_DIR . '/wp-config.php')
            ? read_wp_config(SITE_DIR . '/wp-config.php')['table_prefix'] : null,
        'database' => ['name' => $db['name'], 'dump' => 'mariadb-dump --single-transaction'],
        'images' => (object) ($req['images'] ?? []),
        'secrets' => 'not included: restore keeps the target site\'s own',
        'parts' => $parts,
    ];
}

// main
$db = database($req);
$site = (array) ($req['site'] ?? []);
$name = archive_name($req, $site);
$archive = BACKUP_DIR . "/$name.tar";
if (file_exists($archive)) {
    fail("an archive named $name.tar already exists");
}
$work = BACKUP_DIR . "/.partial-$name";
remove_tree($work);
mkdir($work, 0700, true);
// Whatever happens, no half-written archive or work folder stays behind.
register_shutdown_function(fn () => run(['rm', '-rf', '--', $work, "$archive.part"]));
$warnings = write_parts($req, $db, $work);
$manifest = manifest($req, $db, $site, $work);
file_put_contents("$work/" . ARCHIVE_MANIFEST, json_encode($manifest, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES) . "\n");
file_put_contents("$work/" . ARCHIVE_CHECKSUM, sha256_line("$work/" . ARCHIVE_MANIFEST));
must_run(['tar', '-c', '-f', "$archive.part", '-C', $work, '--owner=0', '--group=0', '--numeric-owner',
          ARCHIVE_MANIFEST, ARCHIVE_CHECKSUM, ...ARCHIVE_PARTS], 'writing the archive');
rename("$archive.part", $archive);
keep_checksums();  // the checksums of the site's core outlive the image that carries them
reply(['archive' => $archive, 'bytes' => filesize($archive), 'wordpress' => $manifest['wordpress'],
       'warnings' => $warnings, 'manifest' => $manifest]);
