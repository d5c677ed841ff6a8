<?php
// Writes the site's secret files into its secret volumes (run as root in the one-shot `secrets` service):
// each file goes to the one user that reads it, with the given mode, written whole or not at all;
// a file marked "remove" is deleted.

/** One secret file of the request: written whole (then renamed into place) for its owner, or removed. */
function write_secret(array $file): string
{
    $path = (string) ($file['path'] ?? '');
    if (!preg_match('#^' . SECRET_VOLUMES_MOUNT . '/secrets-[a-z]+/[a-z_]+$#', $path)) {
        fail("refusing to write a secret to '$path'");
    }
    if (!empty($file['remove'])) {
        if (file_exists($path) && !unlink($path)) {
            fail("cannot remove $path");
        }
        return $path;
    }
    [$uid, $gid] = array_map('intval', explode(':', (string) ($file['owner'] ?? '')) + [1 => -1]);
    $mode = intval((string) ($file['mode'] ?? ''), 8);
    $tmp = "$path.new";
    if (file_put_contents($tmp, (string) ($file['content'] ?? '')) === false
        || !chmod($tmp, $mode) || !chown($tmp, $uid) || !chgrp($tmp, $gid) || !rename($tmp, $path)) {
        fail("cannot write $path");
    }
    return $path;
}

// main
$files = $req['files'] ?? null;
if (!is_array($files) || $files === []) {
    fail('the request lacks files');
}
reply(['written' => array_map('write_secret', $files)]);
