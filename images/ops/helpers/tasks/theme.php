<?php
// Themes: list and activate (by folder name).
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

// main
reply(match (action($req, ['list', 'activate'])) {
    'list' => theme_list(),
    'activate' => theme_activate(need($req, 'name')),
});
