<?php
/*
 * Plugin Name: Hakobune mail
 * Description: When the site's mail relay names a sender (PHP_SMTP_FROM), WordPress sends its mail from it.
 *              WordPress's own default, wordpress@HOST, is refused by its mailer on a host name without a dot
 *              and by many relays.
 */

add_filter('wp_mail_from', static function (string $from): string {
    $configured = getenv('PHP_SMTP_FROM');
    return is_string($configured) && $configured !== '' ? $configured : $from;
});
