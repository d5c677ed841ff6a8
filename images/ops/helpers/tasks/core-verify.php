<?php
// Core files checked against the checksums of the version the site runs (lib/core.php). WordPress is never
// loaded for it: a tampered site could otherwise run its own code first (and hide itself) before it is checked.
// Runs in the ops service, where the kept checksums are. Request: fetch (bool) - ask wordpress.org for the
// checksums of a version neither the image nor the site has.

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
$version = wordpress_version();
if ($version === null) {
    fail('this site has no WordPress core (no wp-includes/version.php with a version in it)');
}
keep_checksums();
[$recorded, $source] = checksums_for($version) ?? (($req['fetch'] ?? false)
    ? [fetch_checksums($version), 'wordpress.org']
    : fail("no checksums for WordPress $version here: the images carry " . image_wordpress_version()
           . " and none were kept for $version", 1,
           'for a core updated from wp-admin, add --fetch (from wordpress.org); or move the site to the images\' '
           . 'core: hakobune wp-core update'));
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
reply(['ok' => !$modified && !$missing && !$added, 'version' => $version, 'checksums' => $source,
    'checked' => count($recorded), 'modified' => $modified, 'missing' => $missing, 'added' => $added]);
