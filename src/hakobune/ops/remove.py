"""`hakobune remove`: delete a site's containers, volumes, network and folder — of the site the folder describes,
and only that one."""

from __future__ import annotations

import shutil

from hakobune.errors import HakobuneError
from hakobune.ops.edge import Edge
from hakobune.ops.lifecycle import WORKING_DIR_LABEL
from hakobune.ops.stack import Stack
from hakobune.site import SITE_ID_LABEL


def check_it_is_this_site(stack: Stack, moved: bool) -> None:
    """The site of this name on the engine must be this folder's: the same id (not another engine's site of the
    same name), started from this folder (not the original of which this is a copy), unless MOVED says this
    folder is now the site's own."""
    site, engine = stack.site, stack.engine
    if not site.site_id:
        return  # made before sites had ids: only the name tells
    labels = [found for kind in ("container", "volume", "network") for found in engine.labels_of(kind, site.name)]
    ids = {found.get(SITE_ID_LABEL, "") for found in labels}
    if labels and site.site_id not in ids:
        raise HakobuneError(f"the site named {site.name} on this engine is another site (id "
                            f"{', '.join(sorted(i or 'none' for i in ids))}, this folder's is {site.site_id}): "
                            "nothing was removed", "use that site's own folder, or the right engine (--context)")
    folders = {found[WORKING_DIR_LABEL] for found in labels
               if found.get(SITE_ID_LABEL) == site.site_id and WORKING_DIR_LABEL in found}
    if folders and str(stack.path) not in folders and not moved:
        raise HakobuneError(
            f"site {site.name} runs from {', '.join(sorted(folders))}, not from {stack.path} (a copy?): nothing "
            "was removed", "remove it from its own folder; if this folder is now the site's own (moved, or on "
            "another machine), add --moved")


def remove(stack: Stack, moved: bool = False) -> None:
    check_it_is_this_site(stack, moved)
    if stack.site.edge:
        Edge(stack.engine).detach(stack.site)
    stack.remove()
    shutil.rmtree(stack.path)
