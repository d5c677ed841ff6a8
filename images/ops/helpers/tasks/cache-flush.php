<?php
// Empties WordPress's object cache and its expired transients.
$req = request();
wordpress_request($req);
require DOCROOT . '/wp-load.php';

$flushed = wp_cache_flush();
delete_expired_transients(true);
reply(['flushed' => (bool) $flushed]);
