"""`hakobune images scan`: Trivy against the built images, offline, failing on HIGH or CRITICAL findings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hakobune.engine import Engine
from hakobune.errors import HakobuneError
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
    trivy = shutil.which("trivy") or str(Path(sys.executable).parent / "trivy")
    if not Path(trivy).is_file():
        raise NoScanner("no scanner available: trivy is not installed, so the images were NOT scanned",
                        "install trivy and its vulnerability database, then run this again")
    cache = Path(os.environ.get("TRIVY_CACHE_DIR") or Path.home() / ".cache" / "trivy")
    if not (cache / "db" / "trivy.db").is_file():
        raise NoScanner(f"no scanner available: trivy has no vulnerability database in {cache}, so the images "
                        "were NOT scanned", "run 'trivy image --download-db-only' where the database can be reached")
    return trivy, cache


def scan(engine: Engine, names: list[str] | None, report: Callable[[str], None]) -> list[Finding]:
    trivy, cache = find_trivy()
    engine.ping()
    refs = [ref for name, ref in image_refs().items() if not names or name in names]
    findings: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="hakobune-scan-") as work:
        for ref in refs:
            report(f"Scanning {ref}")
            tarball = Path(work) / "image.tar"
            engine.save_image(ref, tarball)
            result = subprocess.run(
                [trivy, "image", "--cache-dir", str(cache), "--skip-db-update", "--offline-scan", "--quiet",
                 "--severity", SEVERITIES, "--format", "json", "--input", str(tarball)],
                capture_output=True, text=True, check=False, timeout=1800,
            )
            if result.returncode != 0:
                raise HakobuneError(f"trivy failed on {ref}: {result.stderr.strip().splitlines()[-1:]}")
            for target in json.loads(result.stdout).get("Results") or []:
                for vuln in target.get("Vulnerabilities") or []:
                    findings.append(Finding(ref, vuln.get("PkgName", "?"), vuln.get("VulnerabilityID", "?"),
                                            vuln.get("Severity", "?")))
            tarball.unlink()
    return findings
