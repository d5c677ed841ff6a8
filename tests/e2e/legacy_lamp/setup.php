<?php
// Installs the legacy WordPress the way its owner did long ago: wp-config.php in the docroot with a table
// prefix of its own, an administrator, posts and an uploaded image. The request on stdin (JSON): url,
// admin_password, image (base64), posts (titles). Prints the salts, post links and the image's URL.
$req = json_decode(stream_get_contents(STDIN), true);
$salts = [];
$defines = '';
foreach (['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT',
          'LOGGED_IN_SALT', 'NONCE_SALT'] as $name) {
    $salts[$name] = bin2hex(random_bytes(24));
    $defines .= "define('$name', '{$salts[$name]}');\n";
}
file_put_contents('/var/www/html/wp-config.php', <<<PHP
<?php
define('DB_NAME', 'legacywp');
define('DB_USER', 'legacy');
define('DB_PASSWORD', 'Legacy-db-pass-1');
define('DB_HOST', 'localhost');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
$defines
define('WP_POST_REVISIONS', 3);
\$table_prefix = 'legacy_';
define('WP_DEBUG', false);
if (!defined('ABSPATH')) {
    define('ABSPATH', __DIR__ . '/');
}
require_once ABSPATH . 'wp-settings.php';

PHP);
chown('/var/www/html/wp-config.php', 'www-data');
define('WP_INSTALLING', true);
$_SERVER['HTTP_HOST'] = parse_url($req['url'], PHP_URL_HOST);
require '/var/www/html/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/image.php';
$installed = wp_install('The old harbour', 'admin', 'owner@example.com', true, '', wp_slash($req['admin_password']));
update_option('home', $req['url']);
update_option('siteurl', $req['url']);
global $wp_rewrite;
$wp_rewrite->set_permalink_structure('/%postname%/');
$upload = wp_upload_bits('lighthouse.png', null, base64_decode($req['image']));
// Uploaded before the site had its URL, WordPress gave a relative one; posts hold absolute links, as usual.
$imageUrl = rtrim($req['url'], '/') . parse_url($upload['url'], PHP_URL_PATH);
$attachment = wp_insert_attachment(['post_mime_type' => 'image/png', 'post_title' => 'lighthouse',
                                    'post_status' => 'inherit'], $upload['file']);
wp_update_attachment_metadata($attachment, wp_generate_attachment_metadata($attachment, $upload['file']));
$links = [];
foreach ($req['posts'] as $title) {
    $id = wp_insert_post(['post_title' => $title, 'post_status' => 'publish', 'post_author' => $installed['user_id'],
                          'post_content' => '<img src="' . $imageUrl . '">']);
    $links[$title] = get_permalink($id);
}
// Everything the web server writes is its own, as on the old server.
exec('chown -R www-data:www-data /var/www/html/wp-content');
echo json_encode(['salts' => $salts, 'posts' => $links, 'image' => $imageUrl], JSON_UNESCAPED_SLASHES), "\n";
