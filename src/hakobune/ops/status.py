"""`hakobune status` (each service's state, health and image) and `hakobune info` (the site's settings)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from hakobune.ops.certs import certificates, own_ports_certificate, summary
from hakobune.ops.outdated import ServiceImage, service_images, site_line
from hakobune.ops.sitedir import SiteDir
from hakobune.ops.stack import Stack
from hakobune.site_format import FORMAT


@dataclass(frozen=True)
class ServiceStatus:
    service: str
    state: str
    health: str
    ports: str
    image: str


@dataclass(frozen=True)
class SiteStatus:
    site: str
    url: str
    admin_url: str
    services: list[ServiceStatus]
    certificate: str  # one line: where it comes from, issuer, days left
    warnings: list[str]  # what needs a look though every service is healthy (a certificate's problems)
    images: str  # current, or which services run older builds than the newest (ops/outdated.py)
    builds: list[ServiceImage]
    folder: str  # current, or the older format its settings are written in and what `upgrade` does about it

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "builds": [item.to_dict() for item in self.builds]}


def status(stack: Stack) -> SiteStatus:
    site = stack.site
    found = {c.service: c for c in stack.containers()}
    services = []
    for name in site.services:
        container = found.get(name)
        if container is None:
            image = site.acme_image if name == "acme" else site.images.get(site.image_name(name), "")
            services.append(ServiceStatus(name, "missing", "-", "", image))
            continue
        services.append(ServiceStatus(name, container.state, container.health or "-", ", ".join(container.ports),
                                      container.image))
    if site.edge:
        cert = certificates(stack.engine).get(site.name)
    else:
        web = found.get("web")
        cert = own_ports_certificate(stack) if web is not None and web.running else None
    line, warnings = summary(cert, site.edge, time.time())
    builds = service_images(stack.engine, stack.engine.site_containers(site.name))
    written = stack.sitedir.format()
    folder = "current" if written >= FORMAT else \
        f"format {written}, read as format {FORMAT}: 'hakobune upgrade' writes it in format {FORMAT}"
    images = site_line(builds)
    if images not in ("current", "-"):
        images += ": 'hakobune upgrade --dry-run' says what an upgrade does"
    return SiteStatus(site=site.name, url=site.url, admin_url=f"{site.url}/wp-admin/", services=services,
                      certificate=line, warnings=warnings, images=images, builds=builds, folder=folder)


def info(sitedir: SiteDir, show_secrets: bool) -> dict[str, object]:
    """The site's settings as recorded in its folder; its secrets only when asked for."""
    site = sitedir.load()
    found: dict[str, object] = {"folder": str(sitedir.path), "url": site.url, **site.to_dict()}
    if show_secrets:
        found["secrets"] = sitedir.secrets().to_env()
    return found
