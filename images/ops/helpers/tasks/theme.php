<?php
// Themes: list, activate and delete, by folder name (install and update: package.php).
// Runs with WordPress loaded and the request in $req (see hakobune.php).

/** list: every installed theme, and which is active. */
function theme_list(): array
{
    $active = get_stylesheet();
    $list = [];
    foreach (wp_get_themes() as $slug => $theme) {
        $list[] = ['name' => $slug, 'title' => $theme->get('Name'), 'version' => $theme->get('Version'),
            'active' => $slug === $active];
    }
    return ['themes' => $list];
}

/** activate: the theme NAME becomes the site's. */
function theme_activate(string $name): array
{
    $theme = wp_get_theme($name);
    if (!$theme->exists()) {
        fail("no theme '$name'; themes: " . implode(', ', array_keys(wp_get_themes())));
    }
    if (!$theme->is_allowed() && $theme->errors()) {
        fail("theme '$name' is broken: " . $theme->errors()->get_error_message());
    }
    switch_theme($name);
    return ['name' => $name, 'active' => get_stylesheet() === $name];
}

/** delete: the theme NAME's files removed; never the active theme's, nor its parent's. */
function theme_delete(string $name): array
{
    require_once ABSPATH . 'wp-admin/includes/file.php';
    require_once ABSPATH . 'wp-admin/includes/theme.php';
    if (!wp_get_theme($name)->exists()) {
        fail("no theme '$name'; themes: " . implode(', ', array_keys(wp_get_themes())));
    }
    if (in_array($name, [get_stylesheet(), get_template()], true)) {
        fail("theme $name is the site's" . ($name === get_stylesheet() ? '' : ' (the parent of its theme)'), 1,
             'activate another theme first: hakobune wp-theme activate NAME');
    }
    $result = delete_theme($name);
    if ($result !== true) {
        fail("WordPress could not delete theme $name: "
             . (is_wp_error($result) ? $result->get_error_message() : 'its files cannot be written'));
    }
    return ['name' => $name, 'deleted' => true];
}

// main
reply(match (action($req, ['list', 'activate', 'delete'])) {
    'list' => theme_list(),
    'activate' => theme_activate(need($req, 'name')),
    'delete' => theme_delete(need($req, 'name')),
});
