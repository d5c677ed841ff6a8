"""`hakobune remove`: delete a site's containers, volumes, network and folder."""

from __future__ import annotations

import shutil

from hakobune.engine import Engine
from hakobune.ops.provision import teardown
from hakobune.ops.sitedir import SiteDir


def remove(engine: Engine, sitedir: SiteDir) -> None:
    site = sitedir.load()
    engine.ping()
    teardown(engine, sitedir, site)
    shutil.rmtree(sitedir.path)
