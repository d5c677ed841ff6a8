<?php
// Trees from elsewhere (an archive's files, a deploy): what they may hold.

/** Whether the symbolic link LINK, inside the tree ROOT, leads to a place inside it: resolved the way the
 *  kernel would (each link met on the way is followed, '..' leaves the folder reached so far), but on paper,
 *  without following anything. Absolute targets, and any step above ROOT, lead out. */
function link_stays_inside(string $root, string $link): bool
{
    $parts = explode('/', trim(substr(dirname($link), strlen($root)), '/'));
    $parts = array_values(array_filter($parts, fn ($p) => $p !== ''));
    $target = (string) readlink($link);
    if ($target === '' || $target[0] === '/') {
        return false;
    }
    $todo = explode('/', $target);
    $followed = 0;
    while ($todo) {
        $step = array_shift($todo);
        if ($step === '' || $step === '.') {
            continue;
        }
        if ($step === '..') {
            if (!$parts) {
                return false;
            }
            array_pop($parts);
            continue;
        }
        $parts[] = $step;
        $path = $root . '/' . implode('/', $parts);
        if (is_link($path)) {
            $next = (string) readlink($path);
            if (++$followed > 40 || $next === '' || $next[0] === '/') {
                return false;
            }
            array_pop($parts);
            $todo = [...explode('/', $next), ...$todo];
        }
    }
    return true;
}

/** Refuse a tree (just unpacked, from elsewhere) that holds a symbolic link leading out of it: WHAT names the
 *  tree in the message. */
function refuse_links_out(string $root, string $what): void
{
    $items = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($root, FilesystemIterator::SKIP_DOTS),
                                           RecursiveIteratorIterator::SELF_FIRST);
    foreach ($items as $item) {
        $path = $item->getPathname();
        if (is_link($path) && !link_stays_inside($root, $path)) {
            fail("$what hold a link that leads out of the site: " . substr($path, strlen($root) + 1) . ' -> '
                 . readlink($path));
        }
    }
}

/** Copy the tree FROM into the folder TO, folders made as needed (see copy_file). */
function copy_tree(string $from, string $to): void
{
    $items = new RecursiveIteratorIterator(
        new RecursiveDirectoryIterator($from, FilesystemIterator::SKIP_DOTS),
        RecursiveIteratorIterator::SELF_FIRST
    );
    foreach ($items as $item) {
        if (!$item->isDir()) {
            copy_file($item->getPathname(), $to . substr($item->getPathname(), strlen($from)));
        }
    }
}

/** Copy the file FROM to TO, its folders made as needed: written beside its place and renamed into it, so PHP
 *  never reads half a file, and a link in its place is replaced, never written through; a link where a folder
 *  goes is refused. */
function copy_file(string $from, string $to): void
{
    $dir = dirname($to);
    for ($up = $dir; $up !== '/' && $up !== '.'; $up = dirname($up)) {
        if (is_link($up)) {
            fail("$up is a symbolic link where a folder belongs");
        }
    }
    if (!is_dir($dir) && !mkdir($dir, 0755, true)) {
        fail("cannot create $dir");
    }
    if (!copy($from, "$to.hb-new") || !rename("$to.hb-new", $to)) {
        @unlink("$to.hb-new");
        fail("cannot copy to $to");
    }
}
