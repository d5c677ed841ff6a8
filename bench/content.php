<?php
// The benchmark's WordPress content, the same for every contender: posts with categories, tags and comments,
// pages, the default theme. Piped to PHP in the site's ops container; prints the URL path of one post.
$_SERVER['HTTP_HOST'] = getenv('BENCH_HOST') ?: 'localhost';
$_SERVER['HTTPS'] = 'on';
require '/srv/site/public/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/taxonomy.php';

mt_srand(2019);
$words = explode(' ', 'ark harbour container stack wordpress nginx cache speed volume secure fast site page post '
    . 'debian compose swarm backup restore image layer network request response server client memory process');
$sentence = static function (int $n) use ($words): string {
    $out = [];
    for ($i = 0; $i < $n; $i++) {
        $out[] = $words[mt_rand(0, count($words) - 1)];
    }
    return ucfirst(implode(' ', $out)) . '.';
};
$paragraphs = static function (int $n) use ($sentence): string {
    $out = '';
    for ($i = 0; $i < $n; $i++) {
        $text = '';
        for ($j = 0; $j < 5; $j++) {
            $text .= $sentence(mt_rand(8, 16)) . ' ';
        }
        $out .= "<!-- wp:paragraph -->\n<p>" . trim($text) . "</p>\n<!-- /wp:paragraph -->\n\n";
    }
    return $out;
};

$posts = (int) (getenv('BENCH_POSTS') ?: 100);
$categories = [];
foreach (['News', 'Guides', 'Releases', 'Events', 'Notes'] as $name) {
    $categories[] = wp_create_category($name);
}
$first = null;
for ($i = 1; $i <= $posts; $i++) {
    $id = wp_insert_post([
        'post_title' => "Bench post $i: " . $sentence(4),
        'post_name' => "bench-post-$i",
        'post_content' => "<!-- wp:heading -->\n<h2>" . $sentence(3) . "</h2>\n<!-- /wp:heading -->\n\n"
            . $paragraphs(6),
        'post_status' => 'publish',
        'post_date' => gmdate('Y-m-d H:i:s', 1764000000 - $i * 3600),
        'post_category' => [$categories[$i % count($categories)]],
        'tags_input' => ["tag-" . ($i % 10), "tag-" . ($i % 7)],
    ], true);
    if (is_wp_error($id)) {
        fwrite(STDERR, $id->get_error_message() . "\n");
        exit(1);
    }
    $first ??= $id;
    for ($c = 0; $c < ($i <= 20 ? 5 : 0); $c++) {
        wp_insert_comment(['comment_post_ID' => $id, 'comment_author' => "Reader $c",
            'comment_author_email' => "reader$c@example.com", 'comment_content' => $sentence(20),
            'comment_approved' => 1]);
    }
}
for ($i = 1; $i <= 10; $i++) {
    wp_insert_post(['post_title' => "Page $i", 'post_type' => 'page', 'post_status' => 'publish',
        'post_content' => $paragraphs(4)]);
}
echo json_encode(['post' => wp_parse_url(get_permalink($first), PHP_URL_PATH), 'title' => get_the_title($first),
    'site_title' => get_bloginfo('name')]), "\n";
