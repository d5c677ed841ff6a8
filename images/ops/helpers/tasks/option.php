<?php
// Options: get, set (a string, or JSON for arrays and numbers) and delete, through WordPress's option API.
// Runs with WordPress loaded and the request in $req (see hakobune.php).

/** get: the option NAME's value. */
function option_get(string $name): array
{
    $missing = new stdClass();
    $value = get_option($name, $missing);
    if ($value === $missing) {
        fail("no option '$name'");
    }
    return ['name' => $name, 'value' => $value];
}

/** set: the option NAME to REQ's value (decoded from JSON when REQ says so). */
function option_set(string $name, array $req): array
{
    $current = get_option($name, new stdClass());
    $value = $req['value'] ?? null;
    if (!is_string($value)) {
        fail("the request lacks 'value'");
    }
    if (!empty($req['json'])) {
        $value = json_decode($value, true);
        if (json_last_error() !== JSON_ERROR_NONE) {
            fail("the value is not JSON: " . json_last_error_msg());
        }
    }
    update_option($name, $value);
    return ['name' => $name, 'value' => get_option($name), 'changed' => $current !== $value];
}

/** delete: the option NAME. */
function option_delete(string $name): array
{
    option_get($name);  // refuses an option that does not exist
    delete_option($name);
    return ['name' => $name, 'deleted' => true];
}

// main
$action = action($req, ['get', 'set', 'delete']);
$name = need($req, 'name');
reply(match ($action) {
    'get' => option_get($name),
    'set' => option_set($name, $req),
    'delete' => option_delete($name),
});
