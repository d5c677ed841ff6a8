<?php
/*
 * Hakobune object cache: WordPress's object cache kept in the site's valkey service, so that what one request
 * learns (options, posts, terms, users, query results, theme files' patterns) the next one need not ask the
 * database or the disk for again.
 *
 * HAKOBUNE_OBJECT_CACHE names the server (host:port). Without it (or without PHP's redis extension) this file
 * defines nothing and WordPress uses its own per-request cache, as if the file were absent.
 *
 * When the server cannot be reached the site keeps working on the database alone. Writes made meanwhile did not
 * reach the cache, so whoever saw it fail leaves a mark, and the first to reach the server again empties it:
 * nothing stale is served afterwards.
 */

if (!getenv('HAKOBUNE_OBJECT_CACHE') || !class_exists('Redis')) {
    return;
}

final class Hakobune_Object_Cache
{
    // A down server must cost a request little, and not every request: after a failure this container works
    // without it for RETRY seconds.
    private const TIMEOUT = 0.5;
    private const RETRY = 5;
    private const DOWN = 'hakobune-object-cache-down';
    // In the site volume, seen by every container that writes to the site (PHP-FPM, its replicas, ops jobs).
    private const MISSED = '/srv/site/.hakobune-object-cache-missed-writes';

    public int $cache_hits = 0;
    public int $cache_misses = 0;
    /** @var array<string, array<string, mixed>> group => key => value: this request's copy */
    public array $cache = [];
    private ?Redis $server = null;
    /** @var array<string, true> */
    private array $global_groups = [];
    /** @var array<string, true> */
    private array $local_groups = [];
    private string $prefix;
    private string $blog_prefix = '';

    public function __construct()
    {
        global $table_prefix;
        // One server may hold several sites' caches (or a copy's): keys carry the database and table prefix.
        $database = defined('DB_NAME') ? DB_NAME : '';
        $this->prefix = $database . ':' . ($table_prefix ?? 'wp_') . ':';
        $this->blog_prefix = is_multisite() ? get_current_blog_id() . ':' : '';
        $this->connect();
    }

    private function connect(): void
    {
        $down = sys_get_temp_dir() . '/' . self::DOWN;
        $since = @filemtime($down);
        if ($since !== false && time() - $since < self::RETRY) {
            return;
        }
        [$host, $port] = array_pad(explode(':', (string) getenv('HAKOBUNE_OBJECT_CACHE'), 2), 2, '6379');
        try {
            $server = new Redis();
            $server->connect($host, (int) $port, self::TIMEOUT, null, 0, self::TIMEOUT);
            if (file_exists(self::MISSED)) {
                $server->flushDB();
                @unlink(self::MISSED);
            }
            $this->server = $server;
        } catch (Throwable $e) {
            $this->failed($e);
        }
    }

    private function failed(Throwable $e): void
    {
        $this->server = null;
        @touch(sys_get_temp_dir() . '/' . self::DOWN);
        error_log('Hakobune object cache: ' . $e->getMessage() . '; working without it for ' . self::RETRY . ' s');
    }

    // A call to the server; without one, `$otherwise`. A write that cannot reach it leaves the mark that has
    // the cache emptied when it is back.
    private function call(callable $call, mixed $otherwise, bool $write): mixed
    {
        if ($this->server !== null) {
            try {
                return $call($this->server);
            } catch (Throwable $e) {
                $this->failed($e);
            }
        }
        if ($write && !file_exists(self::MISSED)) {
            @touch(self::MISSED);
        }
        return $otherwise;
    }

    private function key(string $key, string $group): string
    {
        return $this->prefix . (isset($this->global_groups[$group]) ? '' : $this->blog_prefix) . $group . ':' . $key;
    }

    private function persistent(string $group): bool
    {
        return !isset($this->local_groups[$group]);
    }

    private static function copy(mixed $value): mixed
    {
        return is_object($value) ? clone $value : $value;
    }

    private static function group(string $group): string
    {
        return $group === '' ? 'default' : $group;
    }

    public function add_global_groups(array|string $groups): void
    {
        foreach ((array) $groups as $group) {
            $this->global_groups[$group] = true;
        }
    }

    public function add_non_persistent_groups(array|string $groups): void
    {
        foreach ((array) $groups as $group) {
            $this->local_groups[$group] = true;
        }
    }

    public function switch_to_blog(int $blog_id): void
    {
        $this->blog_prefix = is_multisite() ? $blog_id . ':' : '';
    }

    public function get(int|string $key, string $group = 'default', bool $force = false, ?bool &$found = null): mixed
    {
        $group = self::group($group);
        $key = (string) $key;
        if (!$force && array_key_exists($key, $this->cache[$group] ?? [])) {
            $found = true;
            $this->cache_hits++;
            return self::copy($this->cache[$group][$key]);
        }
        $found = false;
        if ($this->persistent($group)) {
            $raw = $this->call(fn (Redis $r) => $r->get($this->key($key, $group)), false, false);
            if (is_string($raw)) {
                $found = true;
                $this->cache[$group][$key] = unserialize($raw);
                $this->cache_hits++;
                return self::copy($this->cache[$group][$key]);
            }
        }
        $this->cache_misses++;
        return false;
    }

    public function get_multiple(array $keys, string $group = 'default', bool $force = false): array
    {
        $group = self::group($group);
        $values = [];
        $wanted = [];
        foreach ($keys as $key) {
            $key = (string) $key;
            if (!$force && array_key_exists($key, $this->cache[$group] ?? [])) {
                $values[$key] = self::copy($this->cache[$group][$key]);
                $this->cache_hits++;
            } else {
                $values[$key] = false;
                $wanted[] = $key;
            }
        }
        if ($wanted && $this->persistent($group)) {
            $raws = $this->call(fn (Redis $r) => $r->mGet(array_map(fn ($k) => $this->key($k, $group), $wanted)),
                false, false);
            foreach ($wanted as $i => $key) {
                if (is_array($raws) && is_string($raws[$i] ?? null)) {
                    $this->cache[$group][$key] = unserialize($raws[$i]);
                    $values[$key] = self::copy($this->cache[$group][$key]);
                    $this->cache_hits++;
                } else {
                    $this->cache_misses++;
                }
            }
        } else {
            $this->cache_misses += count($wanted);
        }
        return $values;
    }

    /** @param 'set'|'add'|'replace' $mode */
    private function store(string $mode, int|string $key, mixed $value, string $group, int $expire): bool
    {
        $group = self::group($group);
        $key = (string) $key;
        if (function_exists('wp_suspend_cache_addition') && $mode === 'add' && wp_suspend_cache_addition()) {
            return false;
        }
        $known = array_key_exists($key, $this->cache[$group] ?? []);
        if (($mode === 'add' && $known) || ($mode === 'replace' && !$known && !$this->persistent($group))) {
            return false;
        }
        if ($this->persistent($group)) {
            $options = $expire > 0 ? ['EX' => $expire] : [];
            if ($mode !== 'set') {
                $options[] = $mode === 'add' ? 'NX' : 'XX';
            }
            $stored = $this->call(
                fn (Redis $r) => $r->set($this->key($key, $group), serialize($value), $options), null, true);
            // Server down: this request's copy is all there is, as with WordPress's own cache.
            if ($stored === false) {
                return false;
            }
        }
        $this->cache[$group][$key] = self::copy($value);
        return true;
    }

    public function set(int|string $key, mixed $value, string $group = 'default', int $expire = 0): bool
    {
        return $this->store('set', $key, $value, $group, $expire);
    }

    public function add(int|string $key, mixed $value, string $group = 'default', int $expire = 0): bool
    {
        return $this->store('add', $key, $value, $group, $expire);
    }

    public function replace(int|string $key, mixed $value, string $group = 'default', int $expire = 0): bool
    {
        return $this->store('replace', $key, $value, $group, $expire);
    }

    public function delete(int|string $key, string $group = 'default'): bool
    {
        $group = self::group($group);
        $key = (string) $key;
        $known = array_key_exists($key, $this->cache[$group] ?? []);
        unset($this->cache[$group][$key]);
        if (!$this->persistent($group)) {
            return $known;
        }
        $deleted = $this->call(fn (Redis $r) => $r->unlink($this->key($key, $group)), 0, true);
        return $known || $deleted > 0;
    }

    // Not atomic across requests (a read, then a write), as WordPress's own counters need not be.
    public function incr(int|string $key, int $offset = 1, string $group = 'default'): int|false
    {
        $value = $this->get($key, $group, false, $found);
        if (!$found) {
            return false;
        }
        $value = max(0, (is_numeric($value) ? (int) $value : 0) + $offset);
        $this->set($key, $value, $group);
        return $value;
    }

    public function flush(): bool
    {
        $this->cache = [];
        return (bool) $this->call(fn (Redis $r) => $r->flushDB(), false, true);
    }

    public function flush_runtime(): bool
    {
        $this->cache = [];
        return true;
    }

    public function close(): bool
    {
        $this->call(fn (Redis $r) => $r->close(), false, false);
        return true;
    }

    public function connected(): bool
    {
        return $this->server !== null;
    }

    public function stats(): void
    {
        echo '<p><strong>Cache hits:</strong> ' . $this->cache_hits . '<br /><strong>Cache misses:</strong> '
            . $this->cache_misses . '<br /><strong>Server:</strong> '
            . ($this->server ? 'connected' : 'not reachable') . '</p>';
    }
}

// The *_multiple functions: one call per key, each key's result under that key.
function hakobune_cache_each(array $items, callable $call): array
{
    $done = [];
    foreach ($items as $key => $value) {
        $done[$key] = $call($key, $value);
    }
    return $done;
}

function wp_cache_init(): void
{
    $GLOBALS['wp_object_cache'] = new Hakobune_Object_Cache();
}

function wp_cache_add($key, $data, $group = '', $expire = 0): bool
{
    return $GLOBALS['wp_object_cache']->add($key, $data, (string) $group, (int) $expire);
}

function wp_cache_add_multiple(array $data, $group = '', $expire = 0): array
{
    return hakobune_cache_each($data, fn ($key, $value) => wp_cache_add($key, $value, $group, $expire));
}

function wp_cache_replace($key, $data, $group = '', $expire = 0): bool
{
    return $GLOBALS['wp_object_cache']->replace($key, $data, (string) $group, (int) $expire);
}

function wp_cache_set($key, $data, $group = '', $expire = 0): bool
{
    return $GLOBALS['wp_object_cache']->set($key, $data, (string) $group, (int) $expire);
}

function wp_cache_set_multiple(array $data, $group = '', $expire = 0): array
{
    return hakobune_cache_each($data, fn ($key, $value) => wp_cache_set($key, $value, $group, $expire));
}

function wp_cache_get($key, $group = '', $force = false, &$found = null)
{
    return $GLOBALS['wp_object_cache']->get($key, (string) $group, (bool) $force, $found);
}

function wp_cache_get_multiple($keys, $group = '', $force = false): array
{
    return $GLOBALS['wp_object_cache']->get_multiple((array) $keys, (string) $group, (bool) $force);
}

function wp_cache_delete($key, $group = ''): bool
{
    return $GLOBALS['wp_object_cache']->delete($key, (string) $group);
}

function wp_cache_delete_multiple(array $keys, $group = ''): array
{
    return hakobune_cache_each(array_fill_keys($keys, null), fn ($key) => wp_cache_delete($key, $group));
}

function wp_cache_incr($key, $offset = 1, $group = '')
{
    return $GLOBALS['wp_object_cache']->incr($key, (int) $offset, (string) $group);
}

function wp_cache_decr($key, $offset = 1, $group = '')
{
    return $GLOBALS['wp_object_cache']->incr($key, -(int) $offset, (string) $group);
}

function wp_cache_flush(): bool
{
    return $GLOBALS['wp_object_cache']->flush();
}

function wp_cache_flush_runtime(): bool
{
    return $GLOBALS['wp_object_cache']->flush_runtime();
}

function wp_cache_supports($feature): bool
{
    return in_array($feature, ['add_multiple', 'set_multiple', 'get_multiple', 'delete_multiple', 'flush_runtime'],
        true);
}

function wp_cache_close(): bool
{
    return $GLOBALS['wp_object_cache']->close();
}

function wp_cache_add_global_groups($groups): void
{
    $GLOBALS['wp_object_cache']->add_global_groups($groups);
}

function wp_cache_add_non_persistent_groups($groups): void
{
    $GLOBALS['wp_object_cache']->add_non_persistent_groups($groups);
}

function wp_cache_switch_to_blog($blog_id): void
{
    $GLOBALS['wp_object_cache']->switch_to_blog((int) $blog_id);
}

function wp_cache_reset(): void
{
    _deprecated_function(__FUNCTION__, '3.5.0', 'wp_cache_switch_to_blog()');
}
