"""The site's settings document (hakobune.yaml): written to the site folder, and carried in every backup."""

from __future__ import annotations

import yaml

from hakobune.site import Site

FORMAT = 1
HEADER = "# Hakobune site settings. Change them with hakobune commands, not by hand.\n"


def settings_yaml(site: Site) -> str:
    return HEADER + yaml.safe_dump({"format": FORMAT, "site": site.to_dict()}, sort_keys=False, allow_unicode=True)
