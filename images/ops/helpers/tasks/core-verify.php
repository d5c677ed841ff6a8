<?php
// Core files checked against the checksums recorded when the image was built. WordPress is never loaded for it:
// a tampered site could otherwise run its own code first (and hide itself) before it is checked.
$recorded = [];
foreach (file('/opt/hakobune/wordpress-md5sums', FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $line) {
    [$sum, $path] = preg_split('/\s+/', $line, 2);
    $recorded[substr($path, 2)] = $sum;  // "./wp-admin/..." -> "wp-admin/..."
}
$modified = $missing = $added = [];
foreach ($recorded as $path => $sum) {
    $file = DOCROOT . "/$path";
    if (!is_file($file)) {
        $missing[] = $path;
    } elseif (md5_file($file) !== $sum) {
        $modified[] = $path;
    }
}
// Files in core's own folders that core does not have (a dropped-in backdoor is the usual one).
foreach (['wp-admin', 'wp-includes'] as $dir) {
    $items = new RecursiveIteratorIterator(new RecursiveDirectoryIterator(DOCROOT . "/$dir", FilesystemIterator::SKIP_DOTS));
    foreach ($items as $item) {
        $path = substr($item->getPathname(), strlen(DOCROOT) + 1);
        if ($item->isFile() && !isset($recorded[$path])) {
            $added[] = $path;
        }
    }
}
foreach (glob(DOCROOT . '/*.php') as $file) {
    $path = basename($file);
    if (!isset($recorded[$path])) {
        $added[] = $path;
    }
}
sort($added);
reply(['ok' => !$modified && !$missing && !$added, 'checked' => count($recorded),
    'modified' => $modified, 'missing' => $missing, 'added' => $added]);
