<?php
// Options: get, set (a string, or JSON for arrays and numbers) and delete, through WordPress's option API.
// Runs with WordPress loaded and the request in $req (see hakobune.php).

$action = action($req, ['get', 'set', 'delete']);
$name = need($req, 'name');
$missing = new stdClass();
$current = get_option($name, $missing);
if ($action === 'get') {
    if ($current === $missing) {
        fail("no option '$name'");
    }
    reply(['name' => $name, 'value' => $current]);
} elseif ($action === 'set') {
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
    reply(['name' => $name, 'value' => get_option($name), 'changed' => $current !== $value]);
} else {
    if ($current === $missing) {
        fail("no option '$name'");
    }
    delete_option($name);
    reply(['name' => $name, 'deleted' => true]);
}
