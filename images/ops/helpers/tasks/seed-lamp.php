<?php
// A plain PHP site (--lamp): the empty docroot gets one small index page, which says the stack works and how
// the application reaches its database. `hakobune deploy-files` puts the application beside or over it.
$title = htmlspecialchars(need($req, 'title'), ENT_QUOTES);
$db = database($req);
$dbHost = htmlspecialchars(db_address($db), ENT_QUOTES);
$dbName = htmlspecialchars($db['name'], ENT_QUOTES);
$dbUser = htmlspecialchars($db['user'], ENT_QUOTES);

if (count(array_diff(scandir(DOCROOT), ['.', '..'])) > 0) {
    fail('the docroot is not empty; refusing to overwrite a site');
}
$page = <<<HTML
<?php header('Content-Type: text/html; charset=utf-8'); ?>
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>$title</title></head>
<body>
<h1>$title</h1>
<p>This site is ready for your PHP application: PHP <?= PHP_VERSION ?>.</p>
<p>Deploy it with <code>hakobune deploy-files DIR_OR_TARBALL</code>. Its database: host <code>$dbHost</code>,
name <code>$dbName</code>, user <code>$dbUser</code>; the password is in <code>/run/secrets/app/db_password</code>
inside the PHP container (and <code>hakobune info --show-secrets</code>).</p>
</body></html>

HTML;
if (file_put_contents(DOCROOT . '/index.php', $page) === false) {
    fail('cannot write the index page');
}
reply(['docroot' => DOCROOT, 'files' => ['index.php']]);
