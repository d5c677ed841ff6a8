<?php
// The check after an upgrade (hakobune upgrade): the site's pages asked of its web container over the site's
// network, as a visitor asks them (TLS, the site's own name and port, so WordPress sees its own URL and does not
// redirect). Request: {"url": the site's URL, "wordpress": bool, "title": its title before the switch,
// "page_cache": bool}. For WordPress, it is loaded (to find one post and the login page) and its pages are
// checked; another site's front page must answer without a server error. Answers what passed, fails on the
// first page that did not.
if (!empty($req['wordpress'])) {  // at file scope, as WordPress's bootstrap needs
    wordpress_request($req);
    require DOCROOT . '/wp-load.php';
}

/** GET URL from the web container; [status, headers (lower-case names), body]. */
function smoke_get(string $url): array
{
    $parts = parse_url($url);
    $port = $parts['port'] ?? 443;
    $headers = [];
    $curl = curl_init($url);
    curl_setopt_array($curl, [
        // The name and port stay the site's own; the connection goes to the web container's TLS port.
        CURLOPT_CONNECT_TO => ["{$parts['host']}:$port:web:8443"],
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_FOLLOWLOCATION => false,
        CURLOPT_SSL_VERIFYPEER => false,  // the certificate may be self-signed, or from a CA this image lacks
        CURLOPT_SSL_VERIFYHOST => 0,
        CURLOPT_TIMEOUT => 30,
        CURLOPT_USERAGENT => 'Hakobune upgrade check',
        CURLOPT_HEADERFUNCTION => function ($curl, string $line) use (&$headers): int {
            if (str_contains($line, ':')) {
                [$name, $value] = explode(':', $line, 2);
                $headers[strtolower(trim($name))] = trim($value);
            }
            return strlen($line);
        },
    ]);
    $body = curl_exec($curl);
    if ($body === false) {
        fail("$url did not answer: " . curl_error($curl));
    }
    return [curl_getinfo($curl, CURLINFO_RESPONSE_CODE), $headers, $body];
}

/** URL must answer 200 (WHAT names it in the failure); its body. */
function smoke_page(string $what, string $url): string
{
    [$status, , $body] = smoke_get($url);
    if ($status !== 200) {
        fail("$what ($url) answered $status");
    }
    return $body;
}

// main
$url = rtrim(need($req, 'url'), '/') . '/';
$checked = [];
if (empty($req['wordpress'])) {
    [$status] = smoke_get($url);
    if ($status >= 500) {
        fail("the front page ($url) answered $status");
    }
    reply(['checked' => ['front page']]);
    exit(0);
}

// The title as WordPress writes it into the page (wp_get_document_title's filters).
$front = smoke_page('the front page', $url);
$title = (string) ($req['title'] ?? '');
if ($title !== '' && !str_contains($front, capital_P_dangit(esc_html(convert_chars(wptexturize($title)))))) {
    fail("the front page ($url) no longer shows the site's title '$title'");
}
$checked[] = 'front page';

$login = smoke_page('the login page', wp_login_url());
if (!str_contains($login, 'user_login')) {
    fail('the login page (' . wp_login_url() . ') shows no login form');
}
$checked[] = 'login page';

$posts = get_posts(['numberposts' => 1, 'post_status' => 'publish', 'post_type' => 'post']);
if ($posts) {
    smoke_page('a post', get_permalink($posts[0]));
    $checked[] = 'a post';
}

if (!empty($req['page_cache'])) {
    // Asked twice: the second answer comes from the page cache.
    smoke_get($url);
    [, $headers] = smoke_get($url);
    $said = $headers['x-hakobune-cache'] ?? 'nothing';
    if ($said !== 'HIT') {
        fail("the page cache did not answer the front page again (X-Hakobune-Cache: $said)");
    }
    $checked[] = 'page cache';
}

reply(['checked' => $checked]);
