"""What the upgrade tests share (test_upgrade.py, and test_edge.py for a site behind the edge): image builds
of another version, the site's running images and content, and a bounded load that counts failed requests."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import yaml

from hakobune.engine import Engine
from hakobune.ops.base_image import bootstrap_base
from hakobune.versions import image_refs
from tests.e2e.helpers import REPO, docker

SITE_IMAGES = ("nginx", "httpd", "php", "mariadb", "valkey", "metrics", "ops")


def image_set(version: str, tmp: Path, broken: str | None = None, same: tuple[str, ...] = (),
              extra: dict[str, str] | None = None, bases: dict[str, str] | None = None) -> Iterator[dict[str, str]]:
    """This Hakobune's images as builds of VERSION (each a new image: one label more; SAME: the very image),
    numbered -1, with image sources that name VERSION; BROKEN: that image's containers exit at once; EXTRA:
    more Dockerfile lines for an image; BASES: another image to start from than this Hakobune's. Yields the
    environment that points hakobune at those sources."""
    refs = []
    for name in SITE_IMAGES:
        ref = f"hakobune/{name}:{version}"
        if name in same:
            docker("tag", image_refs()[name], ref)
            docker("tag", image_refs()[name], f"{ref}-1")
            refs += [ref, f"{ref}-1"]
            continue
        dockerfile = f"FROM {(bases or {}).get(name, image_refs()[name])}\nLABEL io.hakobune.e2e-version={version}\n"
        if name == broken:
            dockerfile += 'ENTRYPOINT ["sh", "-c", "echo this build is broken >&2; exit 1"]\n'
        dockerfile += (extra or {}).get(name, "")
        subprocess.run(["docker", "build", "-q", "-t", ref, "-t", f"{ref}-1", "-"], input=dockerfile, text=True,
                       check=True, capture_output=True, timeout=300)
        refs += [ref, f"{ref}-1"]
    sources = tmp / f"images-{version}"
    shutil.copytree(REPO / "images", sources)
    versions = yaml.safe_load((sources / "versions.yaml").read_text())
    for entry in versions["images"].values():
        entry["version"] = version
    (sources / "versions.yaml").write_text(yaml.safe_dump(versions))
    yield {"HAKOBUNE_IMAGES_DIR": str(sources)}
    subprocess.run(["docker", "rmi", *refs], capture_output=True, check=False)


PREVIOUS_MARIADB = "hakobune-test/mariadb:10.11"


def previous_mariadb() -> str:
    """MariaDB 10.11, the major version before the images' (Debian bookworm's), built from images/mariadb on a
    bookworm base made the way `images build` makes trixie's when it cannot be pulled."""
    base = "debian:bookworm-slim"
    if subprocess.run(["docker", "image", "inspect", base], capture_output=True, check=False).returncode != 0:
        bootstrap_base(Engine(), base, None, REPO / "images" / "common" / "dpkg-slim.cfg", lambda line: None,
                       lambda line: None)
    subprocess.run(["docker", "build", "-q", "-t", PREVIOUS_MARIADB, "--build-arg", f"BASE_IMAGE={base}",
                    "--build-arg", "HAKOBUNE_EXPECT=mariadb-client-core=1:10.11. mariadb-server-core=1:10.11.",
                    "-f", "mariadb/Dockerfile", "."], cwd=REPO / "images", check=True, capture_output=True,
                   timeout=1200)
    return PREVIOUS_MARIADB


def server_version(site: str) -> str:
    return docker("exec", f"hb-{site}-db-1", "mariadb", "-N", "-e", "SELECT VERSION()").strip()


def running_images(site: str) -> dict[str, str]:
    """Service -> the image ID its running container runs."""
    ids = docker("ps", "-q", "--filter", f"label=io.hakobune.site={site}").split()
    found = json.loads(docker("inspect", *ids))
    return {c["Config"]["Labels"]["com.docker.compose.service"]: c["Image"] for c in found}


def content(site: str) -> str:
    """SITE's posts and pages, users and settings in the database: row counts and checksums. (WordPress adds rows
    of its own as it serves: the block theme's styles, transients.)"""
    return docker("exec", f"hb-{site}-db-1", "mariadb", "-N", "wordpress", "-e",
                  "SELECT COUNT(*), MD5(GROUP_CONCAT(ID, post_type, post_status, post_title, post_content "
                  "ORDER BY ID)) FROM wp_posts WHERE post_type IN ('post', 'page', 'attachment'); "
                  "SELECT COUNT(*), MD5(GROUP_CONCAT(ID, user_login, user_pass, user_email ORDER BY ID)) "
                  "FROM wp_users; "
                  "SELECT COUNT(*), MD5(GROUP_CONCAT(umeta_id, user_id, meta_key, meta_value ORDER BY umeta_id)) "
                  "FROM wp_usermeta; "
                  "SELECT option_name, option_value FROM wp_options WHERE option_name IN "
                  "('blogname', 'siteurl', 'home', 'admin_email', 'template') ORDER BY option_name")


class Load:
    """Requests from this machine, one after another over one HTTP/2 connection, for each of PATHS in turn,
    until stopped (at most 20,000): how many failed (a connection error, or a status other than 200) and the
    longest answer. HOST: the name to ask for (SNI and Host) when URL is the edge's address."""

    def __init__(self, url: str, paths: tuple[str, ...] = ("/",), host: str | None = None) -> None:
        self.url, self.paths, self.host = url.rstrip("/"), paths, host
        self.done, self.failed, self.longest = 0, [], 0.0
        self.started = time.monotonic()
        self.when: list[str] = []  # each failure: seconds after the start, path, what
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _get(self, http: httpx.Client, path: str) -> int | str:
        try:
            if self.host is None:
                return http.get(f"{self.url}{path}").status_code
            port = self.url.rsplit(":", 1)[1]
            return http.get(f"{self.url}{path}", extensions={"sni_hostname": self.host},
                            headers={"Host": f"{self.host}:{port}"}).status_code
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__} ({str(exc)[:80]})"

    def _run(self) -> None:
        with httpx.Client(verify=False, http2=True, timeout=30) as http:  # noqa: S501 - the site's own certificate
            while not self._stop.is_set() and self.done < 20_000:
                started = time.monotonic()
                status = self._get(http, self.paths[self.done % len(self.paths)])
                self.longest = max(self.longest, time.monotonic() - started)
                self.done += 1
                if status != 200:
                    self.failed.append(status)
                    self.when.append(f"{started - self.started:.1f}s {self.paths[(self.done - 1) % len(self.paths)]} "
                                     f"{status}")

    def summary(self) -> str:
        return (f"{self.done} requests ({', '.join(self.paths)}), {len(self.failed)} failed "
                f"{sorted(set(map(str, self.failed)))}, longest answer {self.longest:.2f} s"
                + (f"; failures: {', '.join(self.when[:10])}" if self.when else ""))

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(60)
