"""A site in another language with a generated admin password: the password provision prints logs in."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.helpers import NOTHING, free_port, hb, leftovers, site_name

pytestmark = pytest.mark.e2e


def test_japanese_site_with_generated_password(images, sites_dir):
    name = site_name("ja")
    tls_port = free_port()
    result = hb("provision", "--fqdn", "localhost", "--http-port", str(free_port()), "--tls-port", str(tls_port),
                "--wplang", "ja", name, cwd=sites_dir)
    try:
        assert result.returncode == 0, result.stderr
        match = re.search(r"^  password: (\S+)$", result.stdout, re.MULTILINE)
        assert match, result.stdout
        password = match.group(1)
        assert len(password) >= 20
        assert password not in (sites_dir / name / "compose.yaml").read_text()

        url = f"https://localhost:{tls_port}"
        with httpx.Client(http2=True, verify=False, timeout=30) as http:  # noqa: S501 - self-signed by design
            home = http.get(f"{url}/")
            assert home.status_code == 200
            assert '<html lang="ja"' in home.text
            http.cookies.set("wordpress_test_cookie", "WP Cookie check")
            login = http.post(f"{url}/wp-login.php", data={"log": "admin", "pwd": password, "testcookie": "1",
                                                           "redirect_to": f"{url}/wp-admin/"})
            assert login.status_code == 302, login.text[:300]
            dashboard = http.get(f"{url}/wp-admin/")
            assert dashboard.status_code == 200
            assert "ダッシュボード" in dashboard.text
    finally:
        removed = hb("remove", "-y", name, cwd=sites_dir)
    assert removed.returncode == 0, removed.stderr
    assert leftovers(name) == NOTHING
