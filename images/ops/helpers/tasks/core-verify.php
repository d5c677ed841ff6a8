<?php
// Core files checked against the checksums recorded when the image was built. WordPress is never loaded for it:
// a tampered site could otherwise run its own code first (and hide itself) before it is checked.

/** Path under the docroot -> MD5, as the image recorded them ("./wp-admin/..." becomes "wp-admin/..."). */
function recorded_sums(): array
{
    $recorded = [];
    foreach (file('/opt/hakobune/wordpress-md5sums', FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $line) {
        [$sum, $path] = preg_split('/\s+/', $line, 2);
        $recorded[substr($path, 2)] = $sum;
    }
    return $recorded;
}

/** Files in core's own places that core does not have (a dropped-in backdoor is the usual one). */
function added_files(array $recorded): array
{
    $added = [];
    foreach (['wp-admin', 'wp-includes'] as $dir) {
        $items = new RecursiveIteratorIterator(
            new RecursiveDirectoryIterator(DOCROOT . "/$dir", FilesystemIterator::SKIP_DOTS));
        foreach ($items as $item) {
            $path = substr($item->getPathname(), strlen(DOCROOT) + 1);
            if ($item->isFile() && !isset($recorded[$path])) {
                $added[] = $path;
            }
        }
    }
    foreach (glob(DOCROOT . '/*.php') as $file) {
        if (!isset($recorded[basename($file)])) {
            $added[] = basename($file);
        }
    }
    sort($added);
    return $added;
}

// main
$recorded = recorded_sums();
$modified = $missing = [];
foreach ($recorded as $path => $sum) {
    $file = DOCROOT . "/$path";
    if (!is_file($file)) {
        $missing[] = $path;
    } elseif (md5_file($file) !== $sum) {
        $modified[] = $path;
    }
}
$added = added_files($recorded);
reply(['ok' => !$modified && !$missing && !$added, 'checked' => count($recorded),
    'modified' => $modified, 'missing' => $missing, 'added' => $added]);
