#!/usr/bin/php
<?php
// The `cron` service of a site's stack: runs the site's jobs on their schedules (five-field cron expressions, in
// UTC), as the site's user, with its files, its PHP settings and its database password, like the php service.
//   hakobune-cron          the scheduler: HB_CRON_JOBS is a JSON list of {"id", "schedule", "command"}
//   hakobune-cron health   healthy while the scheduler's loop turns (it marks each turn, about every second)
// Each minute the jobs due then start, each command run as it is (no shell). A job still running from an
// earlier minute is not started again: one line says it was skipped. Each start and end is one line of the
// container's log (the end with the exit code and the time taken); what a job prints follows, after its id.
// SIGTERM: no new job starts; those running get until the container's stop timeout, as any process would.
declare(strict_types=1);

require 'Cron/autoload.php'; // php-dragonmantank-cron-expression, Debian's

use Cron\CronExpression;

const HEARTBEAT = '/run/hakobune/cron-alive';
const LINE_MAX = 16384; // bytes of a job's output logged as one line at most

function say(string $line): void
{
    fwrite(STDOUT, gmdate('Y-m-d\TH:i:s\Z') . " hakobune cron: $line\n");
}

/** The jobs, each checked: a bad one stops the service before anything runs. */
function jobs(): array
{
    $jobs = json_decode((string) getenv('HB_CRON_JOBS'), true);
    if (!is_array($jobs) || !array_is_list($jobs)) {
        say('HB_CRON_JOBS is not a JSON list of jobs');
        exit(1);
    }
    foreach ($jobs as $job) {
        $command = $job['command'] ?? null;
        if (!is_string($job['id'] ?? null) || !is_string($job['schedule'] ?? null)
            || !CronExpression::isValidExpression($job['schedule'])
            || !is_array($command) || $command === [] || count(array_filter($command, 'is_string')) !== count($command)) {
            say('invalid job: ' . json_encode($job));
            exit(1);
        }
    }
    return $jobs;
}

/** Starts JOB; its output comes back through one pipe, standard error with standard output. */
function start(array $job): ?array
{
    $proc = proc_open($job['command'], [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['redirect', 1]],
        $pipes, '/srv/site');
    if (!is_resource($proc)) {
        say("[{$job['id']}] FAILED to start: " . implode(' ', $job['command']));
        return null;
    }
    stream_set_blocking($pipes[1], false);
    say("[{$job['id']}] started");
    return ['proc' => $proc, 'out' => $pipes[1], 'since' => microtime(true), 'partial' => ''];
}

/** Relays what running jobs printed, a line at a time, and ends those that finished; waits up to $wait s. */
function pump(array &$running, float $wait): void
{
    // A job whose output is closed (it is ending, or went to the background) is not waited on: select would
    // answer at once. Its end is still looked for below.
    $streams = array_map(fn ($run) => $run['out'], array_filter($running, fn ($run) => !feof($run['out'])));
    if ($streams === []) {
        usleep((int) ($wait * 1e6));
    } else {
        $write = $except = null;
        @stream_select($streams, $write, $except, 0, (int) ($wait * 1e6)); // a signal interrupts it: fine
    }
    foreach ($running as $id => &$run) {
        $run['partial'] .= (string) stream_get_contents($run['out']);
        $lines = explode("\n", $run['partial']);
        $run['partial'] = array_pop($lines);
        if (strlen($run['partial']) > LINE_MAX) { // output with no end of line is not held without end
            $lines[] = $run['partial'];
            $run['partial'] = '';
        }
        foreach ($lines as $line) {
            say("[$id] " . rtrim($line, "\r"));
        }
        $status = proc_get_status($run['proc']);
        if ($status['running']) {
            continue;
        }
        if ($run['partial'] !== '') {
            say("[$id] {$run['partial']}");
        }
        fclose($run['out']);
        proc_close($run['proc']);
        $code = $status['signaled'] ? 128 + $status['termsig'] : $status['exitcode'];
        $took = sprintf('%.1f s', microtime(true) - $run['since']);
        say($code === 0 ? "[$id] done in $took" : "[$id] FAILED: exit code $code after $took");
        unset($running[$id]);
    }
}

function scheduler(): void
{
    $jobs = jobs();
    $schedules = array_map(fn ($job) => new CronExpression($job['schedule']), $jobs);
    $stopping = false;
    pcntl_async_signals(true);
    pcntl_signal(SIGTERM, function () use (&$stopping) { $stopping = true; });
    pcntl_signal(SIGINT, function () use (&$stopping) { $stopping = true; });
    say('running ' . implode(', ', array_map(fn ($job) => "{$job['id']} ({$job['schedule']})", $jobs)));
    $running = [];
    $minute = intdiv(time(), 60); // the first minute due is the next one, as cron's
    while (!$stopping) {
        touch(HEARTBEAT);
        $now = intdiv(time(), 60);
        if ($now !== $minute) {
            $minute = $now;
            $at = new DateTimeImmutable('@' . ($minute * 60));
            foreach ($jobs as $i => $job) {
                if (!$schedules[$i]->isDue($at, 'UTC')) {
                    continue;
                }
                if (isset($running[$job['id']])) {
                    say("[{$job['id']}] skipped: still running since " . gmdate('H:i:s', (int) $running[$job['id']]['since']));
                } elseif (($run = start($job)) !== null) {
                    $running[$job['id']] = $run;
                }
            }
        }
        pump($running, 1.0);
    }
    say('stopping' . ($running ? ': waiting for ' . implode(', ', array_keys($running)) : ''));
    while ($running) {
        pump($running, 1.0);
    }
}

if (($argv[1] ?? '') === 'health') {
    clearstatcache();
    exit(is_file(HEARTBEAT) && time() - filemtime(HEARTBEAT) < 30 ? 0 : 1);
}
scheduler();
