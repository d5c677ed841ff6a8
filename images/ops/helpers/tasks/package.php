<?php
// wp-plugin and wp-theme install|update: a package put in place by WordPress's own upgrader, the code that
// wp-admin's upload and update pages run (so what works here works there, file permissions included). The
// package is a zip on standard input (packed by the client from a zip file or a folder; checked again here), or
// a slug that wordpress.org is asked for. Request (on the command line, standard input being the zip): url,
// kind (plugin, theme), action (install: refused when the folder is there; update: refused when it is not), slug
// (or none: the zip), activate (bool).

require_once ABSPATH . 'wp-admin/includes/file.php';
require_once ABSPATH . 'wp-admin/includes/misc.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
require_once ABSPATH . 'wp-admin/includes/plugin-install.php';
require_once ABSPATH . 'wp-admin/includes/theme.php';
require_once ABSPATH . 'wp-admin/includes/class-wp-upgrader.php';

/** The zip on standard input, saved above the docroot (not in wp-content/upgrade, which the upgrader empties
 *  before it unpacks); removed whatever happens. */
function package_from_stdin(): string
{
    $zip = SITE_DIR . '/.hb-package-' . bin2hex(random_bytes(6)) . '.zip';
    register_shutdown_function(fn () => @unlink($zip));
    $out = fopen($zip, 'xb');
    if ($out === false || stream_copy_to_stream(STDIN, $out) === false || !fclose($out)) {
        fail('cannot save the package');
    }
    return $zip;
}

/** The one folder at the top of the zip ZIP: the plugin's or theme's folder name. */
function package_folder(string $zip): string
{
    $archive = new ZipArchive();
    if ($archive->open($zip, ZipArchive::RDONLY) !== true) {
        fail('the package is not a zip archive');
    }
    $tops = [];
    for ($i = 0; $i < $archive->numFiles; $i++) {
        $name = (string) $archive->getNameIndex($i);
        $tops[str_contains($name, '/') ? explode('/', $name)[0] : ''] = true;  // '': a file beside the folder
    }
    $archive->close();
    $folder = (string) array_key_first($tops);
    if (count($tops) !== 1 || !preg_match('/^[A-Za-z0-9._-]{1,100}$/', $folder) || in_array($folder, ['.', '..'])) {
        fail('the package must hold one folder, the ' . KIND . '\'s, and nothing beside it');
    }
    return $folder;
}

/** The download link of SLUG on wordpress.org. */
function wporg_package(string $slug): string
{
    $api = KIND === 'plugin'
        ? plugins_api('plugin_information', ['slug' => $slug, 'fields' => ['sections' => false]])
        : themes_api('theme_information', ['slug' => $slug, 'fields' => ['sections' => false]]);
    if (is_wp_error($api) || empty($api->download_link)) {
        fail("wordpress.org has no " . KIND . " '$slug' for this site"
             . (is_wp_error($api) ? ': ' . $api->get_error_message() : ''), 1,
             'the engine must reach wordpress.org; offline, give a zip file or a folder');
    }
    return $api->download_link;
}

/** FOLDER's installed plugin or theme: [its file or stylesheet, its version], or null. */
function installed(string $folder): ?array
{
    if (KIND === 'theme') {
        $theme = wp_get_theme($folder);
        return $theme->exists() ? [$folder, (string) $theme->get('Version')] : null;
    }
    wp_clean_plugins_cache(false);
    foreach (get_plugins() as $file => $data) {
        if (explode('/', $file)[0] === $folder) {
            return [$file, (string) $data['Version']];
        }
    }
    return null;
}

// main
define('KIND', action($req, ['plugin', 'theme'], 'kind'));
$action = action($req, ['install', 'update']);
$slug = (string) ($req['slug'] ?? '');
$package = $slug === '' ? package_from_stdin() : wporg_package($slug);
$folder = $slug === '' ? package_folder($package) : $slug;
$before = installed($folder);
if ($action === 'install' && $before !== null) {
    fail(ucfirst(KIND) . " $folder is installed already (version {$before[1]})", 1,
         "to replace it: hakobune wp-" . KIND . ' update');
}
if ($action === 'update' && $before === null) {
    fail("there is no " . KIND . " $folder to update", 1, 'to add it: hakobune wp-' . KIND . ' install');
}
$skin = new WP_Ajax_Upgrader_Skin();
$upgrader = KIND === 'plugin' ? new Plugin_Upgrader($skin) : new Theme_Upgrader($skin);
$result = $upgrader->install($package, ['overwrite_package' => $action === 'update']);
if ($result !== true) {
    $errors = is_wp_error($result) ? $result->get_error_messages() : $skin->get_error_messages();
    fail("WordPress could not " . "$action the " . KIND . " $folder: " . (implode('; ', (array) $errors)
         ?: 'its upgrader gave no reason'));
}
$after = installed($folder) ?? fail("the package did not leave a " . KIND . " in $folder");
if ($req['activate'] ?? false) {
    if (KIND === 'plugin') {
        $activated = activate_plugin($after[0]);
        if (is_wp_error($activated)) {
            fail("$folder is installed, but cannot be activated: " . $activated->get_error_message());
        }
    } else {
        switch_theme($folder);
    }
}
reply(['kind' => KIND, 'name' => $folder, 'version' => $after[1], 'previous' => $before[1] ?? null,
       'active' => KIND === 'plugin' ? is_plugin_active($after[0]) : get_stylesheet() === $folder]);
