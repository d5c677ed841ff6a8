<?php
// Replaces OLD with NEW in every text column of the site's tables (or every pair of "pairs" at once, in one
// pass: what one pair writes is never replaced by another). PHP-serialised values are unserialised,
// changed and serialised again, so their string lengths stay right; objects of classes that are not loaded
// are left alone and counted as skipped. Reports the rows changed per table; --dry-run changes nothing.
// Runs with WordPress loaded and the request in $req (see hakobune.php).

/** VALUE with MAP's replacements made, inside PHP-serialised values too; what cannot be changed safely (objects of
 *  classes that are not loaded) is left alone and counted in SKIPPED. */
function replace_in(mixed $value, array $map, int &$skipped): mixed
{
    if (is_string($value)) {
        if (is_serialized($value)) {
            $inner = @unserialize($value, ['allowed_classes' => ['stdClass']]);
            if ($inner !== false || $value === serialize(false)) {
                return serialize(replace_in($inner, $map, $skipped));
            }
        }
        return strtr($value, $map);
    }
    if (is_array($value)) {
        $changed = [];
        foreach ($value as $key => $item) {
            $changed[is_string($key) ? strtr($key, $map) : $key] = replace_in($item, $map, $skipped);
        }
        return $changed;
    }
    if ($value instanceof stdClass) {
        foreach (get_object_vars($value) as $key => $item) {
            $value->$key = replace_in($item, $map, $skipped);
        }
        return $value;
    }
    if (is_object($value)) {  // __PHP_Incomplete_Class: cannot be changed safely
        $skipped++;
    }
    return $value;
}

/** Replace in every text column of the site's tables; returns [rows changed per table, their total]. */
function replace_everywhere(array $map, bool $dryRun, int &$skipped): array
{
    global $wpdb;
    $tables = $wpdb->get_col($wpdb->prepare('SHOW TABLES LIKE %s', $wpdb->esc_like($wpdb->prefix) . '%'));
    $report = [];
    $total = 0;
    foreach ($tables as $table) {
        $columns = $wpdb->get_results("SHOW COLUMNS FROM `$table`");
        $keys = array_values(array_map(fn ($c) => $c->Field, array_filter($columns, fn ($c) => $c->Key === 'PRI')));
        $texts = array_map(fn ($c) => $c->Field, array_filter(
            $columns, fn ($c) => preg_match('/char|text|blob/i', $c->Type)));
        if (!$keys || !$texts) {
            continue;
        }
        $changedRows = [];
        foreach ($texts as $column) {
            $select = implode(', ', array_map(fn ($k) => "`$k`", $keys));
            $like = implode(' OR ', array_fill(0, count($map), "`$column` LIKE BINARY %s"));
            $rows = $wpdb->get_results($wpdb->prepare(
                "SELECT $select, `$column` AS hb_value FROM `$table` WHERE $like",
                array_map(fn ($from) => '%' . $wpdb->esc_like((string) $from) . '%', array_keys($map))), ARRAY_A);
            foreach ($rows as $row) {
                $value = replace_in($row['hb_value'], $map, $skipped);
                if ($value === $row['hb_value']) {
                    continue;
                }
                $where = array_intersect_key($row, array_flip($keys));
                $changedRows[implode("\0", $where)] = true;
                if (!$dryRun && $wpdb->update($table, [$column => $value], $where) === false) {
                    fail("cannot update $table.$column: " . $wpdb->last_error);
                }
            }
        }
        if ($changedRows) {
            $report[$table] = count($changedRows);
            $total += count($changedRows);
        }
    }
    return [$report, $total];
}

// main
$map = [];
foreach ((array) ($req['pairs'] ?? [[need($req, 'old'), (string) ($req['new'] ?? '')]]) as [$from, $to]) {
    if ((string) $from === '') {
        fail('search-replace needs a non-empty OLD');
    }
    $map[(string) $from] = (string) $to;
}
$dryRun = !empty($req['dry_run']);
$skipped = 0;

[$report, $total] = replace_everywhere($map, $dryRun, $skipped);
if (!$dryRun && $total > 0) {
    wp_cache_flush();
}
reply(['tables' => (object) $report, 'rows' => $total, 'dry_run' => $dryRun, 'skipped_objects' => $skipped]);
