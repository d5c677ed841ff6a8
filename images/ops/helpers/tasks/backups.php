<?php
// The archives kept on the engine, in the site's backups volume: list them (each from its manifest), remove
// some by name, or prune a site's to its newest N.
$action = action($req, ['list', 'remove', 'prune']);

function archives(): array
{
    $archives = [];
    foreach (glob(BACKUP_DIR . '/*.tar') as $file) {
        $out = tempnam('/tmp', 'hb-manifest');
        [$code] = run(['tar', '-x', '-O', '-f', $file, ARCHIVE_MANIFEST], [], null, $out);
        $manifest = $code === 0 ? json_decode((string) file_get_contents($out), true) : null;
        unlink($out);
        $archives[] = ['name' => basename($file), 'bytes' => filesize($file),
                       'site' => $manifest['site']['name'] ?? null, 'created' => $manifest['created'] ?? null,
                       'wordpress' => $manifest['wordpress'] ?? null];
    }
    usort($archives, fn ($a, $b) => [$a['created'], $a['name']] <=> [$b['created'], $b['name']]);
    return $archives;
}

function remove_archives(array $names): array
{
    foreach ($names as $name) {
        if (!preg_match('/^[A-Za-z0-9][A-Za-z0-9._-]*\.tar$/', (string) $name)) {
            fail("'$name' is not an archive name");
        }
        if (is_file(BACKUP_DIR . "/$name") && !unlink(BACKUP_DIR . "/$name")) {
            fail("cannot remove $name");
        }
    }
    return array_values($names);
}

if ($action === 'list') {
    reply(['archives' => archives()]);
} elseif ($action === 'remove') {
    reply(['removed' => remove_archives((array) ($req['names'] ?? []))]);
} else {
    $site = need($req, 'site');
    $keep = (int) ($req['keep'] ?? 0);
    if ($keep < 1) {
        fail('prune needs keep of 1 or more');
    }
    $own = array_column(array_filter(archives(), fn ($a) => $a['site'] === $site), 'name');
    reply(['removed' => remove_archives(array_slice($own, 0, max(0, count($own) - $keep)))]);
}
