<?php
/*
 * Plugin Name: Hakobune updates
 * Description: PHP_WP_UPDATES=off switches WordPress's own updater off: no core, plugin, theme or translation
 *              updates or installs from wp-admin, and no automatic background updates. Hakobune's commands
 *              (wp-core update, wp-plugin and wp-theme install|update) still work: they run in the site's wp
 *              container, which does not take the php service's settings. On (the default), the updater works
 *              where the site reaches wordpress.org: the site's files belong to PHP's own user.
 */

if (getenv('PHP_WP_UPDATES') === 'off') {
    defined('DISALLOW_FILE_MODS') || define('DISALLOW_FILE_MODS', true);
    defined('AUTOMATIC_UPDATER_DISABLED') || define('AUTOMATIC_UPDATER_DISABLED', true);
}
