"""`hakobune provision`: create the site folder, start the stack, install WordPress; undo it all on failure."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from hakobune.engine import Engine
from hakobune.errors import HakobuneError, InvalidInput
from hakobune.ops.certs import AcmeAccount, Certs
from hakobune.ops.edge import Edge
from hakobune.ops.limits import with_host_memory
from hakobune.ops.outdated import Builds
from hakobune.ops.ports import check_ports_free
from hakobune.ops.rollback import Rollback, UndoIncomplete, failpoint
from hakobune.ops.sitedir import SiteDir
from hakobune.ops.stack import Report, Stack, ask_ops_image
from hakobune.render.compose import EXTRA_HOSTS
from hakobune.render.requests import (
    db_check_request,
    db_setup_request,
    install_request,
    secrets_request,
    seed_lamp_request,
    seed_request,
)
from hakobune.site import Site, SiteSecrets, new_site_id
from hakobune.versions import image_refs


@dataclass(frozen=True)
class Provisioned:
    path: Path
    url: str
    admin_user: str
    admin_password: str | None  # only when Hakobune generated it
    certificate_error: str | None = None  # the CA did not issue one yet: the edge keeps trying


def preflight(engine: Engine, site: Site, target: Path) -> None:
    """Everything that can be checked before anything is created."""
    if target.exists():
        raise InvalidInput(f"TARGET '{site.name}' already exists in {target.parent}", "choose another name")
    engine.ping()
    engine.compose_command()
    missing = [ref for ref in (*site.images.values(), *filter(None, [site.acme_image]))
               if not engine.image_exists(ref)]
    if missing:
        raise HakobuneError(f"images not built: {', '.join(missing)}", "run 'hakobune images build'")
    if site.name in engine.sites():
        raise HakobuneError(
            f"a site named '{site.name}' already exists on this Docker engine",
            "remove it first, or choose another TARGET name",
        )
    if engine.is_local() and not site.edge:
        check_ports_free(site.http_port, site.tls_port)
    if site.wordpress and site.wplang != "en_US" \
            and site.wplang not in ask_ops_image(engine, site, "languages")["languages"]:
        raise InvalidInput(f"--wplang '{site.wplang}' is not available in the images",
                           "WordPress locales from Debian's wordpress-l10n, such as ja or de_DE")


def pinned(engine: Engine, site: Site) -> Site:
    """SITE naming each image by the numbered build its version's tag names now: a later `images build` moves
    the tag, and the site then moves only through `hakobune upgrade` (a backup first, a check after), never by a
    recreate (restart, config set)."""
    builds = Builds(engine)
    return replace(site, images={name: builds.pinned(ref) for name, ref in site.images.items()},
                   acme_image=builds.pinned(site.acme_image) if site.acme_image else "")


def check_external_db(engine: Engine, site: Site, secrets: SiteSecrets) -> None:
    """Connect to the external database as the site will, from a throw-away container on the engine (where the
    site will run), and try everything WordPress does; nothing is created if this fails."""
    ask_ops_image(engine, site, "db-check", db_check_request(site, secrets), network="bridge", add_hosts=EXTRA_HOSTS)


def provision(engine: Engine, site: Site, secrets: SiteSecrets, parent: Path, report: Report,
              password_generated: bool, content: Callable[[Stack], None] | None = None,
              acme: AcmeAccount | None = None) -> Provisioned:
    """Create the site. CONTENT, when given, fills the new site instead of a fresh WordPress or docroot (a
    restore does). ACME: then ask that CA for its certificate; the site stays when the CA says no (its
    certificate is self-signed meanwhile, and the edge, or the site's own acme service, asks again, backing off:
    `hakobune cert status`)."""
    if acme is not None and not site.edge:  # its own acme service, with the edge's image
        site = replace(site, acme_image=image_refs()["edge"])
    if not site.site_id:
        site = replace(site, site_id=new_site_id())
    target = parent / site.name
    preflight(engine, site, target)
    site = pinned(engine, with_host_memory(site, engine.memory_total()))
    if site.external_db:
        report(f"Checking the database on {site.db_host}:{site.db_port}")
        check_external_db(engine, site, secrets)

    edge = Edge(engine)
    if site.edge:
        report("Making sure the shared edge runs")
        settings, _ = edge.ensure()  # shared by every site: it stays, whatever happens to this one
        site = replace(site, http_port=settings.http_port, tls_port=settings.tls_port)

    stack = Stack.open(engine, SiteDir(target), site)
    rollback = Rollback()
    try:
        report(f"Writing site folder {target}")
        stack.sitedir.create(site, secrets)
        rollback.on_failure("remove the site folder", lambda: shutil.rmtree(target))
        rollback.on_failure("remove the site's containers, volumes and network", stack.remove)
        if site.edge:
            site = replace(site, edge_subnet=edge.make_network(site))
            stack.save(site)
            rollback.on_failure("take the site off the edge", lambda: edge.detach(site))
        failpoint("folder")

        report("Storing the site's secrets in its secret volumes")
        stack.task("write-secrets", secrets_request(secrets), service="secrets")

        # The scheduler is held until the site's content is in place: a run before would find no WordPress.
        scheduled = "cron" in site.services
        if scheduled:
            stack.save(replace(site, cron_held=True))
        report(f"Starting {', '.join(stack.site.services)} and waiting until they are healthy")
        stack.up()
        if site.edge:
            report(f"Routing {site.fqdn} through the edge")
            edge.attach(site)
        failpoint("started")

        if not site.external_db:
            report("Creating the database and its user")
            stack.task("db-setup", db_setup_request(site))
        if content:
            content(stack)
        elif site.wordpress:
            report("Seeding WordPress core into the site volume")
            stack.task("seed", seed_request(site, secrets))
            report("Installing WordPress")
            stack.task("install", install_request(site, secrets))
        else:
            report("Writing the docroot's index page")
            stack.task("seed-lamp", seed_lamp_request(site))
        failpoint("installed")
        if scheduled:
            report("Starting the scheduler")
            stack.save(replace(stack.site, cron_held=False))
            stack.up()
        if acme is not None:
            Certs(engine).configure(stack, acme)
    except BaseException:
        report("Provisioning failed: removing everything it created")
        problems = rollback.run()
        if problems:
            raise UndoIncomplete("provisioning failed and rollback was incomplete: " + "; ".join(problems)) \
                from None
        raise
    certificate_error = None
    if acme is not None:
        report(f"Asking {acme.directory} for a certificate for {site.fqdn}")
        try:
            Certs(engine).issue(stack, None)
        except HakobuneError as exc:
            certificate_error = exc.message
    return Provisioned(
        path=target,
        url=site.url,
        admin_user=site.admin_user,
        admin_password=secrets.admin_password if password_generated else None,
        certificate_error=certificate_error,
    )
