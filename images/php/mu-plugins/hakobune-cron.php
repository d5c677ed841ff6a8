<?php
/**
 * Plugin Name: Hakobune scheduler
 * Description: WordPress's scheduled events run every minute from the site's cron service, not on page loads.
 *
 * Put here by Hakobune's php image at every start; changes are lost.
 */

// Set by the php and cron services of a site that has the cron service (see hakobune's render/compose.py).
if (getenv('HAKOBUNE_CRON') === 'service' && !defined('DISABLE_WP_CRON')) {
    define('DISABLE_WP_CRON', true);
}
