<?php
// Writes the site's secret files into its secret volumes (run as root in the one-shot `secrets` service):
// each file goes to the one user that reads it, with the given mode, written whole or not at all;
// a file marked "remove" is deleted.
$files = $req['files'] ?? null;
if (!is_array($files) || $files === []) {
    fail('the request lacks files');
}
$written = [];
foreach ($files as $file) {
    $path = (string) ($file['path'] ?? '');
    if (!preg_match('#^/srv/secrets-[a-z]+/[a-z_]+$#', $path)) {
        fail("refusing to write a secret to '$path'");
    }
    if (!empty($file['remove'])) {
        if (file_exists($path) && !unlink($path)) {
            fail("cannot remove $path");
        }
        $written[] = $path;
        continue;
    }
    [$uid, $gid] = array_map('intval', explode(':', (string) ($file['owner'] ?? '')) + [1 => -1]);
    $mode = intval((string) ($file['mode'] ?? ''), 8);
    $tmp = "$path.new";
    if (file_put_contents($tmp, (string) ($file['content'] ?? '')) === false
        || !chmod($tmp, $mode) || !chown($tmp, $uid) || !chgrp($tmp, $gid) || !rename($tmp, $path)) {
        fail("cannot write $path");
    }
    $written[] = $path;
}
reply(['written' => $written]);
