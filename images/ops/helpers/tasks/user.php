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

$action = action($req, ['list', 'create', 'delete', 'set-password']);
if ($action === 'list') {
    $users = array_map(fn (WP_User $u) => [
        'id' => $u->ID, 'login' => $u->user_login, 'email' => $u->user_email,
        'roles' => array_values($u->roles), 'registered' => $u->user_registered,
    ], get_users(['orderby' => 'ID']));
    reply(['users' => $users]);
} elseif ($action === 'create') {
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
    reply(['id' => $id, 'login' => $req['login'], 'role' => $role]);
} elseif ($action === 'delete') {
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
    reply(['deleted' => $user->user_login, 'reassigned_to' => $req['reassign'] ?? null]);
} else {
    $user = user_by_login(need($req, 'login'));
    wp_set_password(need($req, 'password'), $user->ID);
    reply(['login' => $user->user_login, 'password_set' => true]);
}
