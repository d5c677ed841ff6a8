<?php
/*
 * Plugin Name: Hakobune page cache
 * Description: Keeps the web server's page cache right. When a post is published, updated, unpublished, trashed
 *              or deleted, or gets an approved comment, the pages that show it are purged: the post, the home
 *              page, its terms', author's, date and post type archives (with their later pages) and the feeds.
 *              When the theme, menus, widgets, terms, users, plugins or the site's options change, or anything the
 *              site editor saves (templates, template parts, global styles, navigation, synced patterns), every
 *              page is.
 *              Purges are collected during the request and sent once its changes are all written.
 */

namespace Hakobune\Cache;

// Where the web server takes purges: its control port, on the stack's own network. Unset: no page cache.
function endpoint(): string
{
    $url = getenv('HAKOBUNE_CACHE_PURGE');
    return is_string($url) ? rtrim($url, '/') : '';
}

final class Queue
{
    // More purges than this in one request: purging everything is quicker than one by one.
    private const MAX = 40;
    /** @var array<string, string> path => 'page' | 'prefix' */
    private static array $paths = [];
    private static bool $all = false;

    public static function url(string $url, bool $prefix): void
    {
        $home = wp_parse_url(home_url('/'));
        $parts = wp_parse_url($url);
        if (!is_array($parts) || ($parts['host'] ?? '') !== ($home['host'] ?? '')) {
            return;
        }
        $path = ($parts['path'] ?? '') === '' ? '/' : $parts['path'];
        // The cache keys a page by its path as visitors send it: WordPress writes non-ASCII slugs with lowercase
        // escapes, a browser given a typed address with uppercase ones.
        $spellings = [$path];
        if (str_contains($path, '%')) {
            $spellings[] = preg_replace_callback('/%[0-9a-fA-F]{2}/', static fn ($m) => strtolower($m[0]), $path);
            $spellings[] = preg_replace_callback('/%[0-9a-fA-F]{2}/', static fn ($m) => strtoupper($m[0]), $path);
        }
        foreach (array_unique($spellings) as $spelling) {
            // The home page as a prefix would be the whole site.
            $kind = $prefix && $spelling !== '/' ? 'prefix' : 'page';
            if ((self::$paths[$spelling] ?? '') !== 'prefix') {
                self::$paths[$spelling] = $kind;
            }
        }
    }

    public static function all(): void
    {
        self::$all = true;
    }

    public static function send(): void
    {
        $base = endpoint();
        if ($base === '' || (!self::$all && !self::$paths)) {
            return;
        }
        $purges = self::$all || count(self::$paths) > self::MAX
            ? ['/purge/all']
            : array_map(static fn ($path, $kind) => "/purge/$kind$path", array_keys(self::$paths), self::$paths);
        self::$paths = [];
        self::$all = false;
        $curl = curl_init();
        curl_setopt_array($curl, [CURLOPT_RETURNTRANSFER => true, CURLOPT_CONNECTTIMEOUT => 2, CURLOPT_TIMEOUT => 30]);
        foreach ($purges as $purge) {
            curl_setopt($curl, CURLOPT_URL, $base . $purge);
            $ok = curl_exec($curl) !== false;
            $status = curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
            // 404: nothing cached under that path.
            if (!$ok || ($status !== 200 && $status !== 404)) {
                error_log(sprintf('hakobune: purging %s from the page cache failed: %s', $purge,
                    $ok ? "HTTP $status" : curl_error($curl)));
            }
        }
        curl_close($curl);
    }
}

// What block themes show on every page, edited in the site editor: templates and their parts, global styles,
// navigation menus, synced patterns.
const SITE_WIDE_TYPES = ['wp_template', 'wp_template_part', 'wp_global_styles', 'wp_navigation', 'wp_block'];

/** Every page that shows POST, while it has the fields it has in that object (a trashed post has a new slug). */
function purge_post(\WP_Post $post): void
{
    if (in_array($post->post_type, SITE_WIDE_TYPES, true)) {
        Queue::all();
        return;
    }
    if ($post->post_status !== 'publish' || !is_post_type_viewable($post->post_type)) {
        return;
    }
    $prefixes = [get_permalink($post), home_url('/page/'), get_feed_link(), get_feed_link('comments_rss2'),
        get_author_posts_url((int) $post->post_author)];
    $pages = [home_url('/')];
    // Date archives: the day, month and year of the post, and their later pages.
    [$year, $month, $day] = array_map('intval', explode('-', get_the_date('Y-m-d', $post)));
    foreach ([get_year_link($year), get_month_link($year, $month), get_day_link($year, $month, $day)] as $link) {
        $pages[] = $link;
        $prefixes[] = trailingslashit($link) . 'page/';
    }
    $for_posts = (int) get_option('page_for_posts');
    if ($for_posts) {
        $prefixes[] = get_permalink($for_posts);
    }
    $archive = get_post_type_archive_link($post->post_type);
    if ($archive) {
        $prefixes[] = $archive;
    }
    foreach (get_object_taxonomies($post->post_type, 'objects') as $taxonomy) {
        if (!$taxonomy->public) {
            continue;
        }
        $terms = get_the_terms($post, $taxonomy->name);
        foreach (is_array($terms) ? $terms : [] as $term) {
            // A post shows in its term's archive and in those of the term's parents.
            foreach ([$term->term_id, ...get_ancestors($term->term_id, $taxonomy->name, 'taxonomy')] as $id) {
                $link = get_term_link((int) $id, $taxonomy->name);
                if (is_string($link)) {
                    $prefixes[] = $link;
                }
            }
        }
    }
    foreach (array_filter($prefixes, 'is_string') as $url) {
        Queue::url($url, true);
    }
    foreach ($pages as $url) {
        Queue::url($url, false);
    }
}

// A post becomes visible, or stops being: the post as it is now, and as it was.
add_action('transition_post_status', static function (string $new, string $old, \WP_Post $post): void {
    if ($new === 'publish' || $old === 'publish') {
        purge_post($post);
    }
}, 10, 3);
add_action('post_updated', static function (int $id, \WP_Post $after, \WP_Post $before): void {
    purge_post($before);
    purge_post($after);
}, 10, 3);
add_action('before_delete_post', static function (int $id, \WP_Post $post): void {
    purge_post($post);
}, 10, 2);

// Approved comments show on their post (and in counts on the archives).
function purge_comment($comment): void
{
    $comment = get_comment($comment);
    $post = $comment ? get_post((int) $comment->comment_post_ID) : null;
    if ($post) {
        purge_post($post);
    }
}
add_action('wp_insert_comment', static function (int $id, \WP_Comment $comment): void {
    if ($comment->comment_approved === '1') {
        purge_comment($comment);
    }
}, 10, 2);
add_action('transition_comment_status', static function (string $new, string $old, \WP_Comment $comment): void {
    if ($new === 'approved' || $old === 'approved') {
        purge_comment($comment);
    }
}, 10, 3);
add_action('edit_comment', static function (int $id): void {
    if (wp_get_comment_status($id) === 'approved') {
        purge_comment($id);
    }
});

// Changes that show on every page.
foreach (['switch_theme', 'customize_save_after', 'wp_update_nav_menu', 'wp_delete_nav_menu', 'created_term',
    'edited_term', 'delete_term', 'profile_update', 'deleted_user', 'activated_plugin', 'deactivated_plugin',
    'upgrader_process_complete'] as $hook) {
    add_action($hook, [Queue::class, 'all']);
}

// Options WordPress and plugins keep for themselves (caches, locks, schedules): they change all the time and
// show on no page.
const INTERNAL_OPTION = '/^(_site_transient_|_transient_|cron$|doing_cron$|.*_lock$|auto_updater\.lock$|'
    . 'recently_edited$|recovery_|rewrite_rules$|db_upgraded$|action_scheduler_|can_compress_scripts$|'
    . 'auto_core_update_|dismissed_|finished_|wp_force_deactivated_plugins$|active_plugins$|uninstall_plugins$)/';

function option_changed(string $name): void
{
    if (preg_match(INTERNAL_OPTION, $name)) {
        return;
    }
    // Site options change by the owner: in the admin, the REST API or Hakobune's own tools. A plugin writing an
    // option during a visitor's page view (a counter, say) is not a reason to empty the cache.
    $owner = PHP_SAPI === 'cli'
        || (did_action('init') && function_exists('is_user_logged_in') && is_user_logged_in());
    if ($owner) {
        Queue::all();
    }
}
add_action('updated_option', static fn (string $name) => option_changed($name));
add_action('added_option', static fn (string $name) => option_changed($name));
add_action('deleted_option', static fn (string $name) => option_changed($name));

// Sent before WordPress flushes its output (priority 1): by the time the owner sees "saved", the pages are gone.
add_action('shutdown', [Queue::class, 'send'], 0);
