<?php
// The archives kept on the engine, in the site's backups volume: list them (each from its manifest) or remove
// some by name.
$req = request();
$action = action($req, ['list', 'remove']);
if ($action === 'list') {
    $archives = [];
    foreach (glob(BACKUP_DIR . '/*.tar') as $file) {
        $out = tempnam('/tmp', 'hb-manifest');
        [$code] = run(['tar', '-x', '-O', '-f', $file, 'manifest.json'], [], null, $out);
        $manifest = $code === 0 ? json_decode((string) file_get_contents($out), true) : null;
        unlink($out);
        $archives[] = ['name' => basename($file), 'bytes' => filesize($file),
                       'site' => $manifest['site']['name'] ?? null, 'created' => $manifest['created'] ?? null,
                       'wordpress' => $manifest['wordpress'] ?? null];
    }
    reply(['archives' => $archives]);
} else {
    $removed = [];
    foreach ((array) ($req['names'] ?? []) as $name) {
        if (!preg_match('/^[A-Za-z0-9][A-Za-z0-9._-]*\.tar$/', (string) $name)) {
            fail("'$name' is not an archive name");
        }
        if (is_file(BACKUP_DIR . "/$name") && !unlink(BACKUP_DIR . "/$name")) {
            fail("cannot remove $name");
        }
        $removed[] = $name;
    }
    reply(['removed' => $removed]);
}
