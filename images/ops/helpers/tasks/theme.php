<?php
// Themes: list and activate (by folder name).
// Runs with WordPress loaded and the request in $req (see hakobune.php).

$active = get_stylesheet();
$action = action($req, ['list', 'activate']);
if ($action === 'list') {
    $list = [];
    foreach (wp_get_themes() as $slug => $theme) {
        $list[] = ['name' => $slug, 'title' => $theme->get('Name'), 'version' => $theme->get('Version'),
            'active' => $slug === $active];
    }
    reply(['themes' => $list]);
    exit(0);
}
$name = need($req, 'name');
$theme = wp_get_theme($name);
if (!$theme->exists()) {
    fail("no theme '$name'; themes: " . implode(', ', array_keys(wp_get_themes())));
}
if (!$theme->is_allowed() && $theme->errors()) {
    fail("theme '$name' is broken: " . $theme->errors()->get_error_message());
}
switch_theme($name);
reply(['name' => $name, 'active' => get_stylesheet() === $name]);
