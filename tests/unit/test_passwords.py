"""Passwords from a file or standard input, never needing the command line."""

import io

import pytest

from hakobune.cli.passwords import chosen, from_file, only_one_stdin
from hakobune.errors import InvalidInput


def test_the_first_line_of_a_file_or_of_standard_input(tmp_path, monkeypatch):
    (tmp_path / "pw").write_text("s3cret pass word\n")
    assert from_file("--admin-pass-file", str(tmp_path / "pw")) == "s3cret pass word"
    (tmp_path / "crlf").write_text("from windows\r\n")
    assert from_file("--admin-pass-file", str(tmp_path / "crlf")) == "from windows"
    monkeypatch.setattr("sys.stdin", io.StringIO("typed-in-a-pipe"))
    assert from_file("--dbpass-file", "-") == "typed-in-a-pipe"


@pytest.mark.parametrize(("text", "message"), [("", "holds no password on its first line"),
                                               ("\nsecond", "holds no password on its first line"),
                                               ("one\ntwo\n", "holds more than one line")])
def test_a_file_that_is_not_one_password_is_refused(tmp_path, text, message):
    (tmp_path / "pw").write_text(text)
    with pytest.raises(InvalidInput, match=message):
        from_file("--admin-pass-file", str(tmp_path / "pw"))


def test_one_way_of_giving_it_and_one_reader_of_standard_input(tmp_path):
    with pytest.raises(InvalidInput, match="--admin-pass and --admin-pass-file cannot be used together"):
        chosen("--admin-pass", "x" * 10, "--admin-pass-file", "-")
    with pytest.raises(InvalidInput, match="cannot be read"):
        chosen("--admin-pass", None, "--admin-pass-file", str(tmp_path / "missing"))
    assert chosen("--admin-pass", None, "--admin-pass-file", None) is None
    with pytest.raises(InvalidInput, match="only one of --admin-pass-file, --dbpass-file can read standard input"):
        only_one_stdin(**{"--admin-pass-file": "-", "--dbpass-file": "-"})
