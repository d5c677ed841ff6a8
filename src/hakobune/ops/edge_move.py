"""`hakobune edge attach|detach`: move a site behind the shared edge, or back to ports of its own, keeping its
database, files, secrets and settings. When its public URL changes with the move (another port), WordPress's
URLs are rewritten as `search-replace` does. A move that fails is undone, newest step first."""

from __future__ import annotations

from dataclasses import replace

from hakobune.errors import InvalidInput
from hakobune.ops.edge import Edge
from hakobune.ops.ports import check_ports_free
from hakobune.ops.rollback import Rollback, UndoIncomplete, failpoint
from hakobune.ops.site_url import rewrite_urls
from hakobune.ops.stack import Report, Stack
from hakobune.render.edge import EdgeSettings
from hakobune.site import Site, validate_port
from hakobune.versions import image_refs


def attach(stack: Stack, report: Report) -> Site:
    """Put the running site STACK behind the edge (started when the engine has none): it gives up its ports,
    which an edge on the same ports can then take; it is out of reach for the seconds between."""
    site = stack.site
    if site.edge:
        raise InvalidInput(f"site {site.name} is behind the edge already")
    stack.require_running()
    edge = Edge(stack.engine)
    settings = edge.settings() or EdgeSettings(image_refs()["edge"])
    outer = Rollback()
    try:
        report(f"Making the network between the edge and {site.name}")
        subnet = edge.make_network(site)
        outer.on_failure("remove the site's network to the edge", lambda: stack.engine.network_remove(
            site.edge_network))
        with stack.changing() as rollback:
            # Behind the edge, the edge's acme service gets the site's certificates: the site's own goes.
            moved = replace(site, edge=True, edge_subnet=subnet, http_port=settings.http_port,
                            tls_port=settings.tls_port, acme_image="")
            stack.save(moved)
            report("Recreating the web server without ports of its own")
            stack.up(orphans=True)
            failpoint("attach-recreated")
            report("Making sure the shared edge runs")
            edge.ensure()
            rollback.on_failure("take the site off the edge", lambda: edge.detach(moved))
            report(f"Routing {moved.fqdn} through the edge")
            edge.attach(moved)
            rewrite_urls(stack, site, moved, rollback, report)
            failpoint("attach-done")
    except BaseException:
        problems = outer.run()
        if problems:
            raise UndoIncomplete("the move failed and could not be undone fully: " + "; ".join(problems)) \
                from None
        raise
    return moved


def detach(stack: Stack, http_port: int, tls_port: int, report: Report) -> Site:
    """Give the running site STACK ports of its own again and take it off the edge."""
    site = stack.site
    validate_port("--http-port", http_port)
    validate_port("--tls-port", tls_port)
    if http_port == tls_port:
        raise InvalidInput(f"--http-port and --tls-port are both {tls_port}", "give two different ports")
    if not site.edge:
        raise InvalidInput(f"site {site.name} has ports of its own already ({site.http_port}, {site.tls_port})")
    stack.require_running()
    if stack.engine.is_local():
        check_ports_free(http_port, tls_port)
    edge = Edge(stack.engine)
    with stack.changing() as rollback:
        report(f"Taking {site.fqdn} off the edge")
        edge.detach(site)
        rollback.on_failure("route the site through the edge again", lambda: edge.attach(site))
        moved = replace(site, edge=False, edge_subnet="", http_port=http_port, tls_port=tls_port)
        stack.save(moved)
        report(f"Recreating the web server on ports {http_port} and {tls_port}")
        stack.up()
        failpoint("detach-recreated")
        rewrite_urls(stack, site, moved, rollback, report)
    stack.engine.network_remove(site.edge_network)  # nothing is on it any more
    return moved
