<?php
// Working on the site's WordPress: the request it is loaded for, and what Hakobune puts into it.

/** Make the request WordPress is loaded for: the site's own URL, over HTTPS. */
function wordpress_request(array $req): void
{
    $url = need($req, 'url');
    $host = parse_url($url, PHP_URL_HOST);
    $port = parse_url($url, PHP_URL_PORT);
    $_SERVER['HTTP_HOST'] = $port ? "$host:$port" : $host;
    $_SERVER['HTTPS'] = 'on';
    $_SERVER['REQUEST_URI'] = '/';
    if (!is_file(DOCROOT . '/wp-load.php') || !is_file(SITE_DIR . '/wp-config.php')) {
        fail('this site has no WordPress');
    }
}

// Hakobune's must-use plugins (the image's side of its settings: the mail sender, the page cache's purges),
// into the WordPress at DOCROOT: new sites get them, and restored or imported ones get the image's current ones.
function install_mu_plugins(string $docroot): void
{
    $dir = "$docroot/wp-content/mu-plugins";
    if (!is_dir($dir) && !mkdir($dir, 0755, true)) {
        fail("cannot create $dir");
    }
    foreach (glob('/opt/hakobune/mu-plugins/*.php') as $plugin) {
        if (!copy($plugin, "$dir/" . basename($plugin))) {
            fail("cannot copy $plugin into $dir");
        }
    }
    // The object cache drop-in: put where there is none, renewed where it is ours. A site's own (an imported
    // site's Redis or Memcached plugin) is left alone; it defines nothing without its own server.
    $dropin = "$docroot/wp-content/object-cache.php";
    $head = is_file($dropin) ? (string) file_get_contents($dropin, false, null, 0, 512) : '';
    if (($head === '' || str_contains($head, 'Hakobune object cache'))
        && !copy('/opt/hakobune/drop-ins/object-cache.php', $dropin)) {
        fail("cannot copy the object cache drop-in into $docroot/wp-content");
    }
}
