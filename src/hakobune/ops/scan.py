"""`hakobune images scan`: Trivy against the built images, offline, failing on HIGH or CRITICAL findings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hakobune.engine import Engine
from hakobune.errors import HakobuneError
from hakobune.ops.images import SBOM_PATH, check_names
from hakobune.versions import image_refs

SEVERITIES = "HIGH,CRITICAL"


class NoScanner(HakobuneError):
    """No scanner, or no vulnerability database: nothing was checked (its own exit code, never 'clean')."""

    exit_code = 3


@dataclass(frozen=True)
class Finding:
    image: str
    package: str
    vulnerability: str
    severity: str


def find_trivy() -> tuple[str, Path]:
    """The trivy binary and its vulnerability database, or NoScanner saying which is missing."""
    trivy = shutil.which("trivy")
    if not trivy:
        raise NoScanner("no scanner available: trivy is not installed, so the images were NOT scanned",
                        "install trivy and its vulnerability database, then run this again")
    cache = Path(os.environ.get("TRIVY_CACHE_DIR") or Path.home() / ".cache" / "trivy")
    if not (cache / "db" / "trivy.db").is_file():
        raise NoScanner(f"no scanner available: trivy has no vulnerability database in {cache}, so the images "
                        "were NOT scanned", "run 'trivy image --download-db-only' where the database can be reached")
    return trivy, cache


def trivy_command(trivy: str, cache: Path, tarball: Path) -> list[str]:
    """Offline, vulnerabilities only. Trivy reads the dpkg database itself rather than our SBOM (it distrusts
    third-party SBOMs), and looks at language packages only when its Java DB is there too: its jar analyser
    would otherwise try to download that database and fail the whole scan."""
    pkg_types = "os,library" if (cache / "java-db" / "trivy-java.db").is_file() else "os"
    return [trivy, "image", "--cache-dir", str(cache), "--skip-db-update", "--skip-java-db-update",
            "--offline-scan", "--quiet", "--scanners", "vuln", "--pkg-types", pkg_types,
            "--skip-files", SBOM_PATH.lstrip("/"), "--severity", SEVERITIES, "--format", "json",
            "--input", str(tarball)]


def scan(engine: Engine, names: list[str] | None, report: Callable[[str], None]) -> list[Finding]:
    check_names(names)
    trivy, cache = find_trivy()
    engine.ping()
    refs = [ref for name, ref in image_refs().items() if not names or name in names]
    findings: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="hakobune-scan-") as work:
        for ref in refs:
            report(f"Scanning {ref}")
            tarball = Path(work) / "image.tar"
            engine.save_image(ref, tarball)
            result = subprocess.run(trivy_command(trivy, cache, tarball), capture_output=True, text=True,
                                    check=False, timeout=1800)
            if result.returncode != 0:
                last = (result.stderr.strip().splitlines() or ["no message"])[-1]
                raise HakobuneError(f"trivy failed on {ref}: {last}")
            for target in json.loads(result.stdout).get("Results") or []:
                for vuln in target.get("Vulnerabilities") or []:
                    findings.append(Finding(ref, vuln.get("PkgName", "?"), vuln.get("VulnerabilityID", "?"),
                                            vuln.get("Severity", "?")))
            tarball.unlink()
    return findings
