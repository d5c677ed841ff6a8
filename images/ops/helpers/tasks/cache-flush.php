<?php
// Empties WordPress's object cache and its expired transients.
// Runs with WordPress loaded and the request in $req (see hakobune.php).

$flushed = wp_cache_flush();
delete_expired_transients(true);
reply(['flushed' => (bool) $flushed]);
