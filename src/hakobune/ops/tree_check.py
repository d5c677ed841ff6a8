"""What a tree of files from elsewhere may hold (deploy-files' folder or archive, an imported site, a backup's
files), checked member by member in the order tar would unpack them, before anything is unpacked.

Unpacking must never follow a link. So: every name stays inside the tree; no member lies beyond a symbolic link
that came before it; every symbolic link leads to a place inside the tree, however the links before and after it
resolve (a link to `.` turns a later `x/..` into a step out); a hard link names a regular file the tree already
holds. The ops container checks an archive's links again after unpacking it (lib/archive.php)."""

from __future__ import annotations

import tarfile

from hakobune.errors import InvalidInput

MAX_LINKS = 40  # links followed while resolving one, as the kernel allows


class TreeCheck:
    def __init__(self, where: str, inside: str = "the docroot") -> None:
        self.where = where
        self.inside = inside
        self._links: dict[str, str] = {}  # name -> target, of every symbolic link so far
        self._files: set[str] = set()
        self._dirs: set[str] = set()

    def _refuse(self, what: str) -> InvalidInput:
        return InvalidInput(f"{self.where} holds {what}")

    def name(self, raw: str) -> str:
        """RAW as a plain relative name ('' for the tree itself); refused when it could land outside."""
        parts = [p for p in raw.split("/") if p not in ("", ".")]
        if raw.startswith("/") or ".." in parts:
            raise self._refuse(f"'{raw}', which would land outside {self.inside}")
        return "/".join(parts)

    def add(self, info: tarfile.TarInfo) -> str:
        """Check one member; returns its plain name."""
        name = self.name(info.name)
        if not (info.isfile() or info.isdir() or info.issym() or info.islnk()):
            raise self._refuse(f"'{info.name}', which is not a regular file, folder or link")
        folder = name
        while "/" in folder:
            folder = folder.rpartition("/")[0]
            if folder in self._links:
                raise self._refuse(f"'{info.name}', which lies beyond the link '{folder}'")
        if name in self._links or name in self._files or (name in self._dirs and not info.isdir()):
            raise self._refuse(f"'{info.name}' twice")
        if info.issym():
            if not self._leads_inside(name, info.linkname):
                raise self._refuse(f"a link '{info.name}' to '{info.linkname}', outside {self.inside}")
            self._links[name] = info.linkname
        elif info.islnk():
            parts = [p for p in info.linkname.split("/") if p not in ("", ".")]
            if info.linkname.startswith("/") or ".." in parts or "/".join(parts) not in self._files:
                raise self._refuse(f"a hard link '{info.name}' to '{info.linkname}', which is not a file "
                                   "before it in the tree")
            self._files.add(name)
        elif info.isdir():
            self._dirs.add(name)
        else:
            self._files.add(name)
        return name

    def finish(self) -> None:
        """Every link once more, now that all are known: a later link can change where an earlier one leads."""
        for name, target in self._links.items():
            if not self._leads_inside(name, target):
                raise self._refuse(f"a link '{name}' to '{target}' that leads outside {self.inside} "
                                   "through the links of the tree")

    def _leads_inside(self, name: str, target: str) -> bool:
        """Resolve TARGET from NAME's folder as the kernel would, following the tree's links, on paper."""
        if target.startswith("/"):
            return False
        parts = name.split("/")[:-1]
        todo = target.split("/")
        followed = 0
        while todo:
            step = todo.pop(0)
            if step in ("", "."):
                continue
            if step == "..":
                if not parts:
                    return False
                parts.pop()
                continue
            parts.append(step)
            link = self._links.get("/".join(parts))
            if link is not None:
                followed += 1
                if followed > MAX_LINKS or link.startswith("/"):
                    return False
                parts.pop()
                todo = link.split("/") + todo
        return True

