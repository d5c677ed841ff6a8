<?php
// The contract with the client (src/hakobune/ops/contract.py). A task takes one JSON object on standard input
// (deploy and package take data instead, and package its request as its argument) and answers with one JSON line on standard output:
//   success  the task's answer, an object (exit 0)
//   failure  {"error": MESSAGE, "hint": HINT or null, "kind": KIND or null} (exit 1, or 2 for a bad request);
//            MESSAGE goes to standard error too, for logs and --debug
// KIND names a failure the client acts on; the client keeps the same list.
const KIND_DB_UNREACHABLE = 'db-unreachable';  // the database server does not answer (stopped, or unknown)

/** Stop the task with its failure answer. */
function fail(string $message, int $code = 1, ?string $hint = null, ?string $kind = null): never
{
    fwrite(STDERR, $message . "\n");
    echo json_encode(['error' => $message, 'hint' => $hint, 'kind' => $kind],
                     JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE), "\n";
    exit($code);
}

/** The task's answer. */
function reply(array $data): void
{
    echo json_encode($data, JSON_UNESCAPED_SLASHES), "\n";
}

/** The request on standard input (or RAW, for a task whose standard input is data): a JSON object, or none. */
function request(?string $raw = null): array
{
    $raw ??= stream_get_contents(STDIN);
    if ($raw === false || trim($raw) === '') {
        return [];
    }
    $data = json_decode($raw, true);
    if (!is_array($data)) {
        fail('the request on standard input is not a JSON object', 2);
    }
    return $data;
}

/** REQ's KEY, a non-empty string. */
function need(array $req, string $key): string
{
    if (!isset($req[$key]) || !is_string($req[$key]) || $req[$key] === '') {
        fail("the request lacks '$key'", 2);
    }
    return $req[$key];
}

/** REQ's action (or another KEY), one of ALLOWED. */
function action(array $req, array $allowed, string $key = 'action'): string
{
    $action = need($req, $key);
    if (!in_array($action, $allowed, true)) {
        fail("unknown $key '$action'; {$key}s: " . implode(', ', $allowed), 2);
    }
    return $action;
}
