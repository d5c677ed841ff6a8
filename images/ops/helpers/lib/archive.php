<?php
// Backup archives: one plain tar holding
//   manifest.json    format, site, WordPress and image versions, and the size and SHA-256 of every part
//   manifest.sha256  the SHA-256 of manifest.json, so a changed manifest is found too
//   site.yaml        the site's settings (hakobune.yaml; no secrets)
//   database.sql.gz  a consistent dump of the site's database
//   files.tar.gz     everything in the site volume: docroot and wp-config.php
// (names and format number: lib/layout.php). Archives are written and staged in the backups volume, never in
// memory-backed /tmp.

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
    $members = [ARCHIVE_MANIFEST, ARCHIVE_CHECKSUM, ...ARCHIVE_PARTS];
    [$code, $stderr] = run(['tar', '-x', '-f', $archive, '-C', $work, '--no-same-owner', '--', ...$members]);
    if ($code !== 0) {
        fail('the archive is damaged or incomplete: ' . why($code, $stderr));
    }
    if (file_get_contents("$work/" . ARCHIVE_CHECKSUM) !== sha256_line("$work/" . ARCHIVE_MANIFEST)) {
        fail('the archive is damaged: its manifest does not match its checksum');
    }
    $manifest = json_decode((string) file_get_contents("$work/" . ARCHIVE_MANIFEST), true);
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
