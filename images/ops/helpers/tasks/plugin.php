<?php
// Plugins: list, activate, deactivate; a plugin is named by its folder (or file, for single-file plugins).
// Runs with WordPress loaded and the request in $req (see hakobune.php).
require_once ABSPATH . 'wp-admin/includes/plugin.php';

function plugin_name(string $file): string
{
    return dirname($file) === '.' ? basename($file, '.php') : dirname($file);
}

$plugins = get_plugins();
$action = action($req, ['list', 'activate', 'deactivate']);
if ($action === 'list') {
    $list = [];
    foreach ($plugins as $file => $data) {
        $list[] = ['name' => plugin_name($file), 'title' => $data['Name'], 'version' => $data['Version'],
            'active' => is_plugin_active($file)];
    }
    reply(['plugins' => $list]);
    exit(0);
}
$name = need($req, 'name');
$file = null;
foreach (array_keys($plugins) as $candidate) {
    if (plugin_name($candidate) === $name) {
        $file = $candidate;
    }
}
if ($file === null) {
    $known = implode(', ', array_map('plugin_name', array_keys($plugins))) ?: 'none';
    fail("no plugin '$name'; plugins: $known");
}
if ($action === 'activate') {
    $result = activate_plugin($file);
    if (is_wp_error($result)) {
        fail("cannot activate $name: " . $result->get_error_message());
    }
} else {
    deactivate_plugins($file);
}
reply(['name' => $name, 'active' => is_plugin_active($file)]);
