<?php
// Installs WordPress through its own API (wp_install), as the web installer does.
$title = need($req, 'title');
$adminUser = need($req, 'admin_user');
$adminEmail = need($req, 'admin_email');
$adminPassword = need($req, 'admin_password');
$lang = (string) ($req['lang'] ?? '');

define('WP_INSTALLING', true);
$_SERVER['HTTP_HOST'] = parse_url(need($req, 'url'), PHP_URL_HOST);
$_SERVER['HTTPS'] = 'on';
require DOCROOT . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

if (is_blog_installed()) {
    fail('WordPress is already installed in this site');
}
$result = wp_install($title, $adminUser, $adminEmail, true, '', wp_slash($adminPassword), $lang === 'en_US' ? '' : $lang);
if (is_wp_error($result)) {
    fail('WordPress install failed: ' . $result->get_error_message());
}
global $wp_rewrite;
$wp_rewrite->set_permalink_structure('/%postname%/');
// Categories and tags were registered before the site had pretty permalinks, so without their rewrite rules;
// registered again now, their archives (/category/NAME/) get rules too.
create_initial_taxonomies();
$wp_rewrite->flush_rules(false);
reply(['url' => home_url('/'), 'admin_user' => $adminUser, 'user_id' => $result['user_id']]);
