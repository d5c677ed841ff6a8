"""`hakobune import`: move an existing site in."""

from __future__ import annotations

from pathlib import Path

import typer

from hakobune.cli.context import HTTP_PORT, TLS_PORT, state
from hakobune.errors import InvalidInput
from hakobune.ops.import_site import Ssh, import_site
from hakobune.ops.sitedir import SiteDir
from hakobune.site import Site, validate_port
from hakobune.versions import images_for


def import_(
    ctx: typer.Context,
    target: str = typer.Argument(..., help="Name of the new site: its folder is created in the current directory."),
    fqdn: str = typer.Option(..., "--fqdn", help="The site's host name here; its URLs are rewritten to it."),
    from_dir: Path | None = typer.Option(None, "--from-dir", help="The site's docroot on this machine "
                                         "(wp-config.php in it or in the folder above)."),
    sql: Path | None = typer.Option(None, "--sql", help="The site's database dump (mysqldump or mariadb-dump; "
                                                        ".gz too)."),
    from_ssh: str | None = typer.Option(None, "--from-ssh", help="USER@HOST:/PATH of the docroot on the old "
                                        "server: read with your ssh (keys, config); the database is dumped there "
                                        "with the credentials in wp-config.php."),
    ssh_port: int | None = typer.Option(None, "--ssh-port", help="The old server's SSH port."),
    lamp: bool = typer.Option(False, "--lamp", help="A PHP application that is not WordPress: files and "
                                                    "database as they are."),
    httpd: bool = typer.Option(False, "--httpd", help="Apache httpd as the web server instead of nginx."),
    http_port: int | None = HTTP_PORT,
    tls_port: int | None = TLS_PORT,
) -> None:
    """Move an existing WordPress or PHP site into a new Hakobune site, losing nothing: files (uploads,
    plugins, themes), database (users and their passwords), table prefix and salts. The old site is only read."""
    st = state(ctx)
    web = "httpd" if httpd else "nginx"
    site = Site(name=target, fqdn=fqdn, http_port=http_port or 80, tls_port=tls_port or 443, web=web,
                edge=http_port is None and tls_port is None,
                profile="lamp" if lamp else "wp", db_name="app" if lamp else "wordpress",
                db_user="app" if lamp else "wordpress", images=images_for(web))
    ssh = Ssh.parse(from_ssh, ssh_port) if from_ssh is not None else None
    if ssh_port is not None:
        validate_port("--ssh-port", ssh_port)
    if ssh_port is not None and ssh is None:
        raise InvalidInput("--ssh-port is for --from-ssh")
    with st.output.working(f"Importing into {site.name}"):
        done = import_site(st.engine, site, Path.cwd(), st.output.step, from_dir=from_dir, sql=sql, ssh=ssh)
    out = st.output.out
    restored = done.restored
    source = from_ssh or str(from_dir)
    out.print(f"Site {site.name} imported from {source}: {restored.url}/", markup=False)
    if done.wordpress:
        out.print(f"  admin:    {restored.url}/wp-admin/ (the site's own users and passwords)", markup=False)
        out.print(f"  tables:   prefix {done.table_prefix or 'wp_'}; URLs rewritten from "
                  f"{restored.from_url or '?'}", markup=False)
    else:
        secrets = SiteDir(restored.path).secrets()
        out.print("  Point the application at its new database:", markup=False)
        out.print(f"    host:     {site.db_address}", markup=False)
        out.print(f"    name:     {site.db_name}", markup=False)
        out.print(f"    user:     {site.db_user}", markup=False)
        out.print(f"    password: {secrets.db_password}", markup=False)
        if done.db_files:
            out.print(f"  Files that look like they hold the old settings: {', '.join(done.db_files)}", markup=False)
        out.print("  Then copy the changed files in with 'hakobune deploy-files'.", markup=False)
    out.print(f"  folder:   {restored.path}", markup=False)
