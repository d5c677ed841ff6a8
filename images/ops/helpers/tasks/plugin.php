<?php
// Plugins: list, activate, deactivate, delete (install and update: package.php); a plugin is named by its folder (or file, for single-file plugins).
// Runs with WordPress loaded and the request in $req (see hakobune.php).
require_once ABSPATH . 'wp-admin/includes/plugin.php';

function plugin_name(string $file): string
{
    return dirname($file) === '.' ? basename($file, '.php') : dirname($file);
}

/** list: every installed plugin, and whether it is active. */
function plugin_list(): array
{
    $list = [];
    foreach (get_plugins() as $file => $data) {
        $list[] = ['name' => plugin_name($file), 'title' => $data['Name'], 'version' => $data['Version'],
            'active' => is_plugin_active($file)];
    }
    return ['plugins' => $list];
}

/** The plugin file of the plugin NAME (the last, should two share a name). */
function plugin_file(string $name): string
{
    $files = array_keys(get_plugins());
    $found = array_values(array_filter($files, fn ($file) => plugin_name($file) === $name));
    if (!$found) {
        fail("no plugin '$name'; plugins: " . (implode(', ', array_map('plugin_name', $files)) ?: 'none'));
    }
    return end($found);
}

/** activate or deactivate: the plugin NAME switched on or off. */
function plugin_switch(string $name, bool $on): array
{
    $file = plugin_file($name);
    if ($on) {
        $result = activate_plugin($file);
        if (is_wp_error($result)) {
            fail("cannot activate $name: " . $result->get_error_message());
        }
    } else {
        deactivate_plugins($file);
    }
    return ['name' => $name, 'active' => is_plugin_active($file)];
}

/** delete: the plugin NAME's files removed, as wp-admin removes them (its uninstall hook runs); never an active
 *  plugin's. */
function plugin_delete(string $name): array
{
    require_once ABSPATH . 'wp-admin/includes/file.php';
    $file = plugin_file($name);
    if (is_plugin_active($file)) {
        fail("plugin $name is active", 1, "deactivate it first: hakobune wp-plugin deactivate $name");
    }
    $result = delete_plugins([$file]);
    if ($result !== true) {
        fail("WordPress could not delete plugin $name: "
             . (is_wp_error($result) ? $result->get_error_message() : 'its files cannot be written'));
    }
    return ['name' => $name, 'deleted' => true];
}

// main
reply(match (action($req, ['list', 'activate', 'deactivate', 'delete'])) {
    'list' => plugin_list(),
    'activate' => plugin_switch(need($req, 'name'), true),
    'deactivate' => plugin_switch(need($req, 'name'), false),
    'delete' => plugin_delete(need($req, 'name')),
});
