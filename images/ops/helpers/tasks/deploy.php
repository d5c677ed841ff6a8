<?php
// deploy-files: copies an application into the docroot. It arrives as a tar stream on standard input, packed
// and checked by the client (ops/deploy.py); here it is unpacked into a folder of its own, its links are checked
// again, and it is moved into the docroot entry by entry without ever following a link already there: a link
// planted in the docroot (by a plugin, say) is replaced, never written through. Runs in the `wp` container,
// which has no more than the site's PHP has.
/** Move every entry of FROM into the real folder TO; returns how many files moved. */
function merge_into(string $from, string $to): int
{
    $moved = 0;
    foreach (array_diff(scandir($from), ['.', '..']) as $entry) {
        $source = "$from/$entry";
        $target = "$to/$entry";
        if (is_dir($source) && !is_link($source)) {
            if (is_link($target) || (file_exists($target) && !is_dir($target))) {
                if (!unlink($target)) {
                    fail("cannot replace $target");
                }
            }
            if (!is_dir($target) && !mkdir($target, 0755)) {
                fail("cannot create $target");
            }
            $moved += merge_into($source, $target);
        } elseif (is_dir($target) && !is_link($target)) {
            fail(substr($target, strlen(DOCROOT) + 1) . ' is a folder in the docroot; the files have a file there');
        } elseif (!rename($source, $target)) {  // replaces the entry there, a link included, never follows it
            fail("cannot move $entry into $to");
        } else {
            $moved += is_link($target) ? 0 : 1;
        }
    }
    return $moved;
}

// main
$staging = SITE_DIR . '/.hb-deploy-' . bin2hex(random_bytes(6));
if (!mkdir($staging, 0750)) {
    fail("cannot create $staging");
}
register_shutdown_function(fn () => run(['rm', '-rf', '--', $staging]));
must_run(['tar', '-x', '-f', '-', '-C', $staging, '--no-same-owner', '--no-same-permissions'],
         'unpacking the files', [], STDIN);
refuse_links_out($staging, 'the files');

reply(['files' => merge_into($staging, DOCROOT)]);
