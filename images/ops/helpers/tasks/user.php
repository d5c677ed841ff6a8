<?php
// Users: list, create, delete (their content reassigned or deleted), set-password; through WordPress's user API.
// Runs with WordPress loaded and the request in $req (see hakobune.php).
require_once ABSPATH . 'wp-admin/includes/user.php';

function user_by_login(string $login): WP_User
{
    $user = get_user_by('login', $login);
    if (!$user) {
        fail("no user '$login'");
    }
    return $user;
}

/** list: every user, with their roles. */
function user_list(): array
{
    return ['users' => array_map(fn (WP_User $u) => [
        'id' => $u->ID, 'login' => $u->user_login, 'email' => $u->user_email,
        'roles' => array_values($u->roles), 'registered' => $u->user_registered,
    ], get_users(['orderby' => 'ID']))];
}

/** create: a user with the login, e-mail, password and role REQ gives. */
function user_create(array $req): array
{
    $role = (string) ($req['role'] ?? 'subscriber');
    if (!wp_roles()->is_role($role)) {
        fail("no role '$role'; roles: " . implode(', ', array_keys(wp_roles()->get_names())));
    }
    $id = wp_insert_user([
        'user_login' => need($req, 'login'), 'user_email' => need($req, 'email'),
        'user_pass' => need($req, 'password'), 'role' => $role,
    ]);
    if (is_wp_error($id)) {
        fail('cannot create the user: ' . html_entity_decode(wp_strip_all_tags($id->get_error_message())));
    }
    return ['id' => $id, 'login' => $req['login'], 'role' => $role];
}

/** delete: the user REQ names; their content goes to the user named to reassign it to, or with them. */
function user_delete(array $req): array
{
    $user = user_by_login(need($req, 'login'));
    $reassign = null;
    if (!empty($req['reassign'])) {
        $reassign = user_by_login((string) $req['reassign'])->ID;
        if ($reassign === $user->ID) {
            fail('cannot reassign content to the user being deleted');
        }
    }
    if (!wp_delete_user($user->ID, $reassign)) {
        fail("cannot delete user '{$user->user_login}'");
    }
    return ['deleted' => $user->user_login, 'reassigned_to' => $req['reassign'] ?? null];
}

/** set-password: the user's new password. */
function user_set_password(array $req): array
{
    $user = user_by_login(need($req, 'login'));
    wp_set_password(need($req, 'password'), $user->ID);
    return ['login' => $user->user_login, 'password_set' => true];
}

// main
reply(match (action($req, ['list', 'create', 'delete', 'set-password'])) {
    'list' => user_list(),
    'create' => user_create($req),
    'delete' => user_delete($req),
    'set-password' => user_set_password($req),
});
