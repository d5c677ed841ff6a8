#!/usr/bin/env python3
"""Write the shared part of every image's Dockerfile from images/common/Dockerfile.preamble (as docker-library's
apply-templates.sh does). Each Dockerfile marks where the part goes; the text between the marks is the
template's, never edited in place. With --check, change nothing and fail when a Dockerfile is not current
(`make lint` runs it)."""

from __future__ import annotations

import sys
from pathlib import Path

IMAGES = Path(__file__).resolve().parent.parent / "images"
TEMPLATE = IMAGES / "common" / "Dockerfile.preamble"
BEGIN = "# >>> images/common/Dockerfile.preamble (written by scripts/apply-templates.py; do not edit here)\n"
END = "# <<< images/common/Dockerfile.preamble\n"


def applied(text: str, part: str) -> str:
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError("needs one pair of preamble marks")
    head, rest = text.split(BEGIN)
    _, tail = rest.split(END)
    return head + BEGIN + part + END + tail


def main(check: bool) -> int:
    part = TEMPLATE.read_text()
    stale = []
    for dockerfile in sorted(IMAGES.glob("*/Dockerfile")):
        text = dockerfile.read_text()
        try:
            want = applied(text, part)
        except ValueError as exc:
            print(f"{dockerfile.relative_to(IMAGES.parent)}: {exc}", file=sys.stderr)
            return 1
        if want != text:
            stale.append(dockerfile)
            if not check:
                dockerfile.write_text(want)
    for dockerfile in stale:
        verb = "is not current: run scripts/apply-templates.py" if check else "written"
        print(f"{dockerfile.relative_to(IMAGES.parent)} {verb}", file=sys.stderr)
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))
