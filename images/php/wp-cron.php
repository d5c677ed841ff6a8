<?php
// WordPress's due events, run by the site's cron service every minute (images/php/cron.php): wp-cron.php, loaded
// as for a request to the site's own URL (HB_SITE_URL), so plugins that read the host see the site's.
$url = (string) getenv('HB_SITE_URL');
$host = (string) parse_url($url, PHP_URL_HOST);
$port = parse_url($url, PHP_URL_PORT);
$_SERVER['HTTP_HOST'] = $port ? "$host:$port" : $host;
$_SERVER['HTTPS'] = 'on';
$_SERVER['REQUEST_URI'] = '/wp-cron.php';
$_SERVER['REQUEST_METHOD'] = 'GET';
if (!is_file('/srv/site/public/wp-cron.php')) {
    fwrite(STDERR, "this site has no WordPress: /srv/site/public/wp-cron.php is missing\n");
    exit(1);
}
require '/srv/site/public/wp-cron.php';
