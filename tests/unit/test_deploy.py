"""deploy-files packing: what goes into the docroot and what is refused, without Docker."""

import io
import tarfile

import pytest

from hakobune.errors import InvalidInput
from hakobune.ops.deploy import pack
from tests.helpers import tar_file


def packed(source) -> tuple[object, dict[str, tarfile.TarInfo]]:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as out:
        done = pack(source, out)
    buffer.seek(0)
    with tarfile.open(fileobj=buffer) as result:
        return done, {m.name: m for m in result.getmembers()}


def test_a_folder_is_packed_with_its_links_and_no_owners(tmp_path):
    app = tmp_path / "app"
    (app / "vendor" / "bin").mkdir(parents=True)
    (app / "index.php").write_text("<?php echo 1;")
    (app / "vendor" / "tool.php").write_text("<?php")
    (app / "vendor" / "bin" / "tool").symlink_to("../tool.php")
    done, members = packed(app)
    assert (done.files, done.bytes) == (2, 18)
    assert set(members) == {"index.php", "vendor", "vendor/bin", "vendor/bin/tool", "vendor/tool.php"}
    assert members["vendor/bin/tool"].linkname == "../tool.php"
    assert {m.uid for m in members.values()} == {0}


def test_a_compressed_archive_is_repacked(tmp_path):
    archive = tmp_path / "app.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"<?php echo 2;"
        info = tarfile.TarInfo("public/index.php")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    done, members = packed(archive)
    assert done.files == 1 and "public/index.php" in members


@pytest.mark.parametrize(
    ("name", "link", "message"),
    [
        ("../escape.php", None, "holds '../escape.php', which would land outside the docroot"),
        ("/etc/passwd", None, "holds '/etc/passwd', which would land outside the docroot"),
        ("a/link", "../../etc", "holds a link 'a/link' to '../../etc', outside the docroot"),
        ("abs", "/etc/passwd", "holds a link 'abs' to '/etc/passwd', outside the docroot"),
    ],
)
def test_archives_that_would_escape_the_docroot_are_refused(tmp_path, name, link, message):
    archive = tmp_path / "bad.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo(name)
        if link:
            info.type, info.linkname = tarfile.SYMTYPE, link
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(InvalidInput, match=message):
        packed(archive)


def test_a_folder_link_out_is_refused(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "secret").symlink_to("/etc/shadow")
    with pytest.raises(InvalidInput, match="holds a link 'secret' to '/etc/shadow', outside the docroot"):
        packed(tmp_path / "app")


def test_not_an_archive_and_a_damaged_one_are_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InvalidInput, match="is neither a folder nor a tar archive"):
        packed(tmp_path / "notes.txt")
    good = tmp_path / "good.tar.gz"
    with tarfile.open(good, "w:gz") as tar:
        data = b"x" * 100000
        info = tarfile.TarInfo("big.bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(good.read_bytes()[:-200])
    with pytest.raises(InvalidInput, match="is a damaged archive"):
        packed(damaged)


@pytest.mark.parametrize(
    ("members", "message"),
    [
        # Each link alone stays inside; through the first, the second leads out.
        ([("d/top", "..", None), ("d/out", "top/..", None)],
         "holds a link 'd/out' to 'top/..', outside the docroot"),
        # ... and the same when the link that opens the way comes last.
        ([("out", "top/..", None), ("top", ".", None)], "holds a link 'out' to 'top/..' that leads outside"),
        ([("deep/er/x", "../../../..", None)], "holds a link 'deep/er/x' to '../../../..', outside"),
        ([("here", ".", None), ("here/x.php", None, None)], "holds 'here/x.php', which lies beyond the link 'here'"),
        ([("a", "b", None), ("b", "a", None)], "holds a link 'a' to 'b' that leads outside the docroot"),
        ([("x", None, None), ("x", "/etc", None)], "holds 'x' twice"),
        ([("h", None, "../../etc/passwd")], "holds a hard link 'h' to '../../etc/passwd'"),
        ([("h", None, "later.txt"), ("later.txt", None, None)], "holds a hard link 'h' to 'later.txt'"),
        ([("a/../../x", None, None)], "holds 'a/../../x', which would land outside the docroot"),
        ([("a/../x", None, None)], "holds 'a/../x', which would land outside the docroot"),
    ],
)
def test_links_are_resolved_through_each_other_before_anything_is_unpacked(tmp_path, members, message):
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        packed(tar_file(tmp_path / "evil.tar", members))


def test_links_inside_the_tree_and_hard_links_to_earlier_files_are_kept(tmp_path):
    _, members = packed(tar_file(tmp_path / "fine.tar", [
        ("lib/v1/a.php", None, None), ("lib/current", "v1", None), ("web/a.php", "../lib/current/a.php", None),
        ("copy.php", None, "lib/v1/a.php")]))
    assert members["web/a.php"].linkname == "../lib/current/a.php"
    assert members["copy.php"].islnk() and members["copy.php"].linkname == "lib/v1/a.php"
