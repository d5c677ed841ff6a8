<?php
// Gives the site a new public URL in wp-config.php (WP_HOME, WP_SITEURL), keeping everything else the file
// says: the database settings, the salts, the table prefix, the site's own defines. Run when a site moves
// behind the shared edge or back (hakobune edge attach|detach); its URLs in the database follow by
// search-replace.

function site_url(array $req): array
{
    $file = SITE_DIR . '/wp-config.php';
    $config = read_wp_config($file);
    $salts = [];
    foreach (SALT_NAMES as $name) {
        $salt = $config['defines'][$name] ?? null;
        if (!is_string($salt)) {
            fail("$file does not define $name as a literal: it cannot be rewritten keeping its salts");
        }
        $salts[] = $salt;
    }
    write_wp_config(SITE_DIR, need($req, 'url'), database($req), $salts, $config['table_prefix'] ?? 'wp_',
                    own_defines($config));
    return ['url' => $req['url']];
}

// main
reply(site_url($req));
