<?php
// wp-core update: the site's core becomes the image's WordPress, as WordPress's own updater does it. Visitors
// get WordPress's maintenance page while the files change; the files of older cores that WordPress lists as
// gone are removed; then the database is upgraded (wp_upgrade) when the new core expects a newer schema.
// wp-content is the site's and is left alone. Request: url; to - the version asked for (the image's, or none);
// check - only say what the update would do (from, to).

/** Remove the files WordPress's own updater removes (update-core.php's list): core files of older versions that
 *  the new one lacks. Only in core's places, never what the new core has; a link is removed, never followed. */
function remove_old_files(array $core): int
{
    global $_old_files;
    require_once ABSPATH . 'wp-admin/includes/update-core.php';
    $removed = 0;
    foreach ((array) $_old_files as $old) {
        $path = DOCROOT . '/' . $old;
        if (str_contains($old, '..') || !preg_match('#^(wp-admin/|wp-includes/|[^/]+$)#', $old)
            || isset($core[$old]) || (!file_exists($path) && !is_link($path))) {
            continue;
        }
        if (is_dir($path) && !is_link($path)) {
            remove_tree($path);
        } elseif (!unlink($path)) {
            fail("cannot remove $old, a file of an older WordPress");
        }
        $removed++;
    }
    return $removed;
}

/** The core files (of CORE: path -> MD5) that the site lacks or has with other contents. */
function changed_files(array $core): array
{
    $changed = [];
    foreach ($core as $path => $sum) {
        $file = DOCROOT . "/$path";
        if (is_link($file) || !is_file($file) || md5_file($file) !== $sum) {
            $changed[] = $path;
        }
    }
    return $changed;
}

// main
$from = wordpress_version();
$to = image_wordpress_version();
if ($from === null) {
    fail('this site has no WordPress core (no wp-includes/version.php with a version in it)');
}
$asked = (string) ($req['to'] ?? '');
if ($asked !== '' && $asked !== $to) {
    fail("WordPress $asked is not in this site's images: they carry $to", 1,
         "update to $to, or to another version from wp-admin (where the site reaches wordpress.org)");
}
if (version_compare($to, $from, '<')) {
    fail("the site runs WordPress $from, newer than the images' $to: there is nothing to update to", 1,
         'build newer images, then hakobune upgrade');
}
if ($req['check'] ?? false) {  // what an update would do, before its backup is made
    reply(['from' => $from, 'to' => $to]);
    exit(0);
}
$core = read_checksums(IMAGE_CHECKSUMS);
$changed = $from === $to ? [] : changed_files($core);
if ($changed) {
    // WordPress's own maintenance page while the files change (removed whatever happens); a point release
    // changes a few dozen files, so this is a second or less.
    $maintenance = DOCROOT . '/.maintenance';
    file_put_contents($maintenance, '<?php $upgrading = ' . time() . ';');
    register_shutdown_function(fn () => @unlink($maintenance));
    foreach ($changed as $path) {
        copy_file(CORE_DIR . "/$path", DOCROOT . "/$path");
    }
}
// The new core, loaded as its own upgrade page loads it: installing, so no plugin runs and no maintenance page.
define('WP_INSTALLING', true);
wordpress_request($req);
require DOCROOT . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
$removed = $from === $to ? 0 : remove_old_files($core);
$schema = (int) get_option('db_version');
if ($schema !== (int) $wp_db_version) {
    wp_upgrade();
}
reply(['from' => $from, 'to' => $to, 'files' => count($changed), 'removed' => $removed,
       'db_version' => [$schema, (int) get_option('db_version')]]);
