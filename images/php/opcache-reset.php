<?php
// Run by hakobune-opcache-reset through PHP-FPM; outside the docroot, so no visitor can reach it.
if (!function_exists('opcache_get_status') || opcache_get_status(false) === false) {
    echo 'opcache:off';
} else {
    echo opcache_reset() ? 'opcache:reset' : 'opcache:failed';
}
