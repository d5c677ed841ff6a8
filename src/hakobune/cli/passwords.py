"""Passwords that never need the command line (where `ps` and the shell's history would keep them): read
from a file, or from standard input with '-'."""

from __future__ import annotations

import sys
from pathlib import Path

from hakobune.errors import InvalidInput


def from_file(option: str, value: str) -> str:
    """The password in the file VALUE ('-': standard input): its first line, without the line break."""
    try:
        text = sys.stdin.read() if value == "-" else Path(value).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{option} '{value}' cannot be read: {exc}") from None
    first, _, rest = text.partition("\n")
    password = first.removesuffix("\r")
    if not password:
        raise InvalidInput(f"{option} '{value}' holds no password on its first line")
    if rest.strip():
        raise InvalidInput(f"{option} '{value}' holds more than one line", "put the password alone in it")
    return password


def chosen(option: str, given: str | None, file_option: str, file: str | None) -> str | None:
    """The password given directly or through a file, or None when neither was."""
    if given is not None and file is not None:
        raise InvalidInput(f"{option} and {file_option} cannot be used together")
    return from_file(file_option, file) if file is not None else given


def only_one_stdin(**files: str | None) -> None:
    readers = [option for option, file in files.items() if file == "-"]
    if len(readers) > 1:
        raise InvalidInput(f"only one of {', '.join(readers)} can read standard input ('-')")
