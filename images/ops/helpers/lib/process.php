<?php
// Running the container's tools (tar, gzip, the MariaDB clients): argument lists, never a shell.

/** The environment of the tools run here: a PATH, a HOME in the writable /tmp, and ENV. */
function tool_env(array $env): array
{
    return ['PATH' => getenv('PATH'), 'HOME' => '/tmp'] + $env;
}

/** Run CMD (an argument list, no shell) with standard input and output from/to files or streams; returns
 *  [exit code, what it wrote on stderr]. */
function run(array $cmd, array $env = [], mixed $in = null, mixed $out = null): array
{
    $err = tempnam('/tmp', 'hb-err');
    $spec = [
        0 => $in === null ? ['file', '/dev/null', 'r'] : (is_string($in) ? ['file', $in, 'r'] : $in),
        1 => $out === null ? ['file', '/dev/null', 'w'] : (is_string($out) ? ['file', $out, 'w'] : $out),
        2 => ['file', $err, 'w'],
    ];
    $proc = proc_open($cmd, $spec, $pipes, null, tool_env($env));
    if ($proc === false) {
        fail('cannot start ' . $cmd[0]);
    }
    $code = proc_close($proc);
    $stderr = trim((string) file_get_contents($err));
    unlink($err);
    return [$code, $stderr];
}

/** A failed command's most telling words: the last line it wrote on stderr, or its exit code. */
function why(int $code, string $stderr): string
{
    $lines = array_values(array_filter(explode("\n", $stderr)));
    return $lines ? end($lines) : "exit code $code";
}

function must_run(array $cmd, string $what, array $env = [], mixed $in = null, mixed $out = null): void
{
    [$code, $stderr] = run($cmd, $env, $in, $out);
    if ($code !== 0) {
        fail("$what failed: " . why($code, $stderr));
    }
}

function remove_tree(string $path): void
{
    if (file_exists($path) || is_link($path)) {
        must_run(['rm', '-rf', '--', $path], "removing $path");
    }
}
