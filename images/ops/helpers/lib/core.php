<?php
// WordPress core's versions and checksums. The version a site runs is read from its files, never run. The
// checksums of a version come from the image that carries it; once a site has run it, they are kept in the
// site's backups volume (which neither PHP nor the web server mounts), so they outlive the image: a site whose
// images moved on, or one updated from wp-admin, is still checked against its own version.

const IMAGE_CHECKSUMS = '/opt/hakobune/wordpress-md5sums';
const IMAGE_VERSION = '/opt/hakobune/wordpress-version';
const KEPT_CHECKSUMS = BACKUP_DIR . '/.wordpress-checksums';
const WPORG_CHECKSUMS = 'https://api.wordpress.org/core/checksums/1.0/';

/** The WordPress version of the core in DOCROOT (default: the site's), if it has one. */
function wordpress_version(string $docroot = DOCROOT): ?string
{
    $file = "$docroot/wp-includes/version.php";
    if (is_file($file) && preg_match('/^\$wp_version\s*=\s*\'([0-9][0-9A-Za-z.+-]{0,30})\';/m',
                                     (string) file_get_contents($file), $m)) {
        return $m[1];
    }
    return null;
}

function image_wordpress_version(): string
{
    return trim((string) file_get_contents(IMAGE_VERSION));
}

/** Path under the docroot -> MD5, from a list written by md5sum ("./wp-admin/..." becomes "wp-admin/..."). */
function read_checksums(string $file): array
{
    $sums = [];
    foreach (file($file, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $line) {
        [$sum, $path] = preg_split('/\s+/', $line, 2);
        $sums[str_starts_with($path, './') ? substr($path, 2) : $path] = $sum;
    }
    return $sums;
}

function kept_file(string $version): string
{
    return KEPT_CHECKSUMS . "/$version.md5";
}

/** The checksums of core VERSION and where they came from ('image', 'kept'), or null when neither has them. */
function checksums_for(string $version): ?array
{
    if ($version === image_wordpress_version()) {
        return [read_checksums(IMAGE_CHECKSUMS), 'image'];
    }
    if (is_file(kept_file($version))) {
        return [read_checksums(kept_file($version)), 'kept'];
    }
    return null;
}

/** Keep the image's checksums for the site's version, when the site runs the image's version and the backups
 *  volume is here (the ops service). Returns the version kept, or null. Never fails the task it is part of (a
 *  backup): a full volume only means they are not kept. */
function keep_checksums(): ?string
{
    $version = wordpress_version();
    if ($version === null || $version !== image_wordpress_version() || !is_dir(BACKUP_DIR)) {
        return null;
    }
    return write_kept($version, (string) file_get_contents(IMAGE_CHECKSUMS)) ? $version : null;
}

/** Keep LIST (md5sum's lines) as VERSION's checksums, unless they are kept already; whether they are. */
function write_kept(string $version, string $list): bool
{
    if (is_file(kept_file($version))) {
        return true;
    }
    if (!is_dir(KEPT_CHECKSUMS) && !@mkdir(KEPT_CHECKSUMS, 0750)) {
        return false;
    }
    $part = kept_file($version) . '.part';
    if (@file_put_contents($part, $list) === false || !@rename($part, kept_file($version))) {
        @unlink($part);
        return false;
    }
    return true;
}

/** VERSION's checksums from wordpress.org (core files only: wp-content is the site's), kept for next time; the
 *  way to check a core that was updated from wp-admin, whose files are wordpress.org's own. */
function fetch_checksums(string $version): array
{
    $url = WPORG_CHECKSUMS . '?' . http_build_query(['version' => $version, 'locale' => 'en_US']);
    $curl = curl_init($url);
    curl_setopt_array($curl, [CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 20, CURLOPT_CONNECTTIMEOUT => 10,
                              CURLOPT_PROTOCOLS => CURLPROTO_HTTPS]);
    $body = curl_exec($curl);
    $error = curl_error($curl);
    $answer = is_string($body) ? json_decode($body, true) : null;
    $sums = $answer['checksums'] ?? null;
    if (!is_array($sums) || !$sums) {
        fail("wordpress.org gave no checksums for WordPress $version" . ($error ? " ($error)" : ''), 1,
             'the engine must reach api.wordpress.org; or update core to the images\' version: ' .
             'hakobune wp-core update');
    }
    $core = [];
    foreach ($sums as $path => $sum) {
        if (is_string($sum) && preg_match('/^[0-9a-f]{32}$/', $sum) && !str_starts_with((string) $path, 'wp-content/')
            && !str_contains((string) $path, '..')) {
            $core[(string) $path] = $sum;
        }
    }
    write_kept($version, implode('', array_map(fn ($path, $sum) => "$sum  ./$path\n", array_keys($core), $core)));
    return $core;
}
