"""`hakobune provision`: a new site, from one command."""

from __future__ import annotations

from pathlib import Path

import typer

from hakobune.cli import cert, passwords
from hakobune.cli.context import state
from hakobune.errors import InvalidInput
from hakobune.ops.certs import acme_account
from hakobune.ops.provision import provision as provision_op
from hakobune.site import Site, SiteSecrets, generate_password
from hakobune.versions import images_for


def provision(
    ctx: typer.Context,
    target: str = typer.Argument(..., help="Name of the site: its folder is created in the current directory."),
    fqdn: str = typer.Option(..., "--fqdn", help="The site's host name; the site URL is https://FQDN."),
    wp: bool = typer.Option(False, "--wp", help="A WordPress site (the default)."),
    lamp: bool = typer.Option(False, "--lamp", help="A plain PHP application site with a database: an empty "
                                                    "docroot with an index page; see deploy-files."),
    nginx: bool = typer.Option(False, "--nginx", help="nginx as the web server (the default)."),
    httpd: bool = typer.Option(False, "--httpd", help="Apache httpd as the web server instead of nginx."),
    http_port: int | None = typer.Option(None, "--http-port", help="Publish the site on its own HTTP port (it "
                                         "redirects to HTTPS). Without port options the site is behind the "
                                         "engine's shared edge, on 80 and 443."),
    tls_port: int | None = typer.Option(None, "--tls-port", help="Publish the site on its own HTTPS port "
                                                                 "(HTTP/2, TLS 1.2/1.3)."),
    wp_title: str | None = typer.Option(None, "--wp-title", help="Site title (default: the FQDN)."),
    admin_user: str = typer.Option("admin", "--admin-user", help="WordPress administrator's login."),
    admin_pass: str | None = typer.Option(
        None, "--admin-pass", help="Administrator's password, 8+ characters (default: generated and printed). "
                                   "--admin-pass-file keeps it off the command line."),
    admin_pass_file: str | None = typer.Option(
        None, "--admin-pass-file", metavar="FILE", help="Read the administrator's password from FILE's first "
                                                        "line ('-': standard input)."),
    admin_email: str | None = typer.Option(
        None, "--admin-email", help="Administrator's e-mail (default: admin@FQDN)."),
    wplang: str = typer.Option("en_US", "--wplang", help="WordPress language, e.g. ja or de_DE."),
    dbname: str | None = typer.Option(None, "--dbname", help="Database name (default: wordpress, or app with --lamp)."),
    dbuser: str | None = typer.Option(None, "--dbuser", help="Database user (default: wordpress, or app with --lamp)."),
    dbpass: str | None = typer.Option(None, "--dbpass", help="Database user's password (default: generated); "
                                                             "--dbpass-file keeps it off the command line."),
    dbpass_file: str | None = typer.Option(None, "--dbpass-file", metavar="FILE",
                                           help="Read the database user's password from FILE ('-': standard "
                                                "input)."),
    dbhost: str | None = typer.Option(None, "--dbhost", help="An existing MySQL/MariaDB server to use instead of "
                                      "the stack's own (then --dbname, --dbuser and --dbpass are required). "
                                      "host.docker.internal is the Docker host."),
    dbport: int = typer.Option(3306, "--dbport", help="The external server's port."),
    db_tls: bool = typer.Option(False, "--db-tls", help="Encrypt the connection to the external server."),
    tls: str = typer.Option("self-signed", "--tls", help="The site's certificate: self-signed (until you get "
                            "another), or acme: from an ACME CA, renewed automatically (behind the edge, or with "
                            "--http-port/--tls-port through the site's own ports)."),
    email: str | None = cert.EMAIL,
    acme_directory: str | None = cert.DIRECTORY,
    acme_ca_cert: str | None = cert.CA_CERT,
) -> None:
    """Create a site: folder, containers, database and a WordPress install (or, with --lamp, an empty PHP
    docroot), served over HTTPS."""
    st = state(ctx)
    if nginx and httpd:
        raise InvalidInput("--nginx and --httpd cannot be used together", "choose one web server")
    web = "httpd" if httpd else "nginx"
    if wp and lamp:
        raise InvalidInput("--wp and --lamp cannot be used together", "choose one profile")
    if tls not in ("self-signed", "acme"):
        raise InvalidInput(f"--tls '{tls}' is not one of: self-signed, acme")
    if tls == "self-signed" and (email or acme_directory or acme_ca_cert):
        raise InvalidInput("--email, --acme-directory and --acme-ca-cert are for --tls acme")
    acme = acme_account(email, acme_directory, acme_ca_cert) if tls == "acme" else None
    passwords.only_one_stdin(**{"--admin-pass-file": admin_pass_file, "--dbpass-file": dbpass_file})
    admin_pass = passwords.chosen("--admin-pass", admin_pass, "--admin-pass-file", admin_pass_file)
    dbpass = passwords.chosen("--dbpass", dbpass, "--dbpass-file", dbpass_file)
    if dbhost is not None:
        missing = [name for name, value in (("--dbname", dbname), ("--dbuser", dbuser), ("--dbpass", dbpass))
                   if not value]
        if missing:
            raise InvalidInput(f"an external database (--dbhost) needs {', '.join(missing)}",
                               "give the database, user and password the server already has")
    site = Site(web=web, profile="lamp" if lamp else "wp",
        name=target, fqdn=fqdn, http_port=http_port or 80, tls_port=tls_port or 443, title=wp_title or "",
        edge=http_port is None and tls_port is None,
        admin_user=admin_user, admin_email=admin_email or "", wplang=wplang,
        db_name=dbname or ("app" if lamp else "wordpress"), db_user=dbuser or ("app" if lamp else "wordpress"),
        db_host=dbhost or "", db_port=dbport, db_tls=db_tls,
        images=images_for(web),
    )
    secrets = SiteSecrets(
        admin_password=admin_pass or generate_password(),
        db_password=dbpass or generate_password(),
    )
    with st.output.working(f"Provisioning {site.name}"):
        done = provision_op(st.engine, site, secrets, Path.cwd(), st.output.step,
                            password_generated=admin_pass is None, acme=acme)
    out = st.output.out
    out.print(f"Site {site.name} is ready: {done.url}/", markup=False)
    if site.wordpress:
        out.print(f"  admin:    {done.url}/wp-admin/", markup=False)
        out.print(f"  user:     {done.admin_user}", markup=False)
        if done.admin_password:
            out.print(f"  password: {done.admin_password}", markup=False)
    else:
        out.print(f"  database: {site.db_name} on host {site.db_address}, user {site.db_user} (password: "
                  "hakobune info --show-secrets)", markup=False)
    out.print(f"  folder:   {done.path}", markup=False)
    if done.certificate_error:
        st.output.err.print(f"warning: no certificate from the CA yet, the site serves a self-signed one: "
                            f"{done.certificate_error} (it is asked again by itself, backing off; see: "
                            "hakobune cert status)",
                            markup=False)
