"""`hakobune import`: move an existing LAMP or WordPress site in, as it is, from a folder and a SQL dump on the
client or from its server over SSH.

The source is read (never changed), packed into a backup archive of the usual format, and restored into a new
site: the same staged, verified, all-or-nothing path as `restore --new`. A WordPress site keeps its table
prefix, salts, own settings, content, users and passwords; its database settings are rewritten for the new
stack and its URLs for --fqdn. A plain PHP application (--lamp) keeps its files and database as they are."""

from __future__ import annotations

import gzip
import io
import re
import shlex
import subprocess
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from hakobune import __version__
from hakobune.engine import Engine
from hakobune.errors import HakobuneError, InvalidInput
from hakobune.layout import ARCHIVE_DATABASE, ARCHIVE_FILES
from hakobune.ops import archive
from hakobune.ops.contract import TaskFailed
from hakobune.ops.deploy import pack
from hakobune.ops.provision import preflight
from hakobune.ops.restore import Restored, fill_new_site
from hakobune.ops.stack import Report, ask_ops_image
from hakobune.site import Site, SiteSecrets
from hakobune.site_format import settings_yaml

_SSH_SOURCE = re.compile(r"^(?P<user>[A-Za-z0-9._-]+)@(?P<host>[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(?P<path>/.*)$")
# How a dump starts: mysqldump's and mariadb-dump's headers, or SQL statements.
_SQL = re.compile(rb"^\s*(--|/\*!|CREATE\s|INSERT\s|DROP\s|SET\s|LOCK\s|USE\s|START\s|BEGIN)", re.IGNORECASE | re.M)
# Statements that would send the load into another database, or that only a server's administrator may run
# (a MySQL dump with GTIDs sets the binary log's state): left out, the dump goes into the site's database and is
# loaded by a user that may touch nothing else.
_OTHER_DATABASE = re.compile(rb"^(CREATE\s+DATABASE\b|USE\s|SET\s+@@(GLOBAL\.GTID_PURGED|SESSION\.SQL_LOG_BIN)\b)"
                             rb"[^\n]*;\s*$", re.IGNORECASE)
# Where an application keeps its database settings: named to the user after a --lamp import.
_DB_SETTINGS = re.compile(rb"DB_HOST|DB_PASSWORD|mysqli_connect|new\s+mysqli|new\s+PDO|mysql:host|mysql_connect",
                          re.IGNORECASE)
SSH_TIMEOUT = 3600


@dataclass(frozen=True)
class Imported:
    restored: Restored
    wordpress: bool
    table_prefix: str | None
    db_files: tuple[str, ...]  # --lamp: files that look like they hold database settings


def check_sql(dump: Path) -> None:
    """A dump must be SQL (plain or gzip-compressed): refuse anything else before anything is created."""
    if not dump.is_file():
        raise InvalidInput(f"--sql '{dump}' does not exist" if not dump.exists() else f"--sql '{dump}' is not a file")
    try:
        with _open_dump(dump) as stream:
            head = stream.read(65536)
    except (OSError, EOFError, zlib.error) as exc:
        raise InvalidInput(f"--sql '{dump}' cannot be read: {exc}") from None
    if b"\0" in head or not _SQL.search(head):
        raise InvalidInput(f"--sql '{dump}' is not a SQL dump", "give the output of mysqldump or mariadb-dump")


def _open_dump(dump: Path) -> io.BufferedIOBase:
    with dump.open("rb") as probe:
        magic = probe.read(2)
    return gzip.open(dump, "rb") if magic == b"\x1f\x8b" else dump.open("rb")


def _gzip_dump(dump: Path, out: Path) -> None:
    with _open_dump(dump) as source, gzip.open(out, "wb", compresslevel=6) as target:
        for line in source:
            if not _OTHER_DATABASE.match(line):
                target.write(line)


@dataclass(frozen=True)
class Ssh:
    """The source server, through the user's own ssh (its config, keys and known hosts); never prompts."""

    user: str
    host: str
    path: str
    port: int | None

    @classmethod
    def parse(cls, spec: str, port: int | None) -> Ssh:
        found = _SSH_SOURCE.match(spec)
        if not found:
            raise InvalidInput(f"--from-ssh '{spec}' is not USER@HOST:/PATH", "e.g. root@old.example.com:/var/www/html")
        return cls(found["user"], found["host"], found["path"].rstrip("/") or "/", port)

    @property
    def where(self) -> str:
        return f"{self.user}@{self.host}" + (f" (port {self.port})" if self.port else "")

    def run(self, script: str, *args: str, stdout: int | IO[bytes] = subprocess.PIPE, input: bytes | None = None,
            ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[bytes]:
        argv = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20", *(["-p", str(self.port)] if self.port else []),
                f"{self.user}@{self.host}", shlex.join(["sh", "-c", script, "sh", *args])]
        try:
            result = subprocess.run(argv, stdout=stdout, stderr=subprocess.PIPE, input=input, timeout=SSH_TIMEOUT,
                                    check=False)
        except FileNotFoundError:
            raise HakobuneError("ssh is not installed", "install an OpenSSH client (Debian: openssh-client)") from None
        if result.returncode == 255:
            lines = result.stderr.decode(errors="replace").strip().splitlines()
            why = lines[-1] if lines else "no answer"
            hint = ("Hakobune never types a password: use a key (or ssh-agent) that 'ssh' finds"
                    if "Permission denied" in why else "check the host, the port (--ssh-port) and that sshd runs")
            raise HakobuneError(f"ssh to {self.where} failed: {why}", hint)
        if result.returncode not in ok:
            lines = result.stderr.decode(errors="replace").strip().splitlines()
            raise HakobuneError(f"on {self.host}: {lines[-1] if lines else f'exit code {result.returncode}'}")
        return result


# Run on the source server. Exit 3: PATH is missing. Prints what it found: "wordpress" or "php" or "none", then
# wp-config.php (beside or above the docroot, as WordPress looks for it).
_PROBE = """cd "$1" 2>/dev/null || exit 3
if [ -f wp-includes/version.php ]; then echo wordpress
elif find . -maxdepth 3 -name '*.php' | grep -q .; then echo php
else echo none; fi
if [ -f wp-config.php ]; then cat wp-config.php; elif [ -f ../wp-config.php ]; then cat ../wp-config.php; fi
"""
_DUMP = """MYSQL_PWD=$(cat); export MYSQL_PWD
tool=$(command -v mariadb-dump || command -v mysqldump) || {
    echo "neither mariadb-dump nor mysqldump is installed" >&2; exit 4; }
exec "$tool" --single-transaction --quick --no-tablespaces --hex-blob --default-character-set=utf8mb4 "$@"
"""


def _db_client_args(host: str | None, user: str, name: str) -> list[str]:
    """wp-config's DB_HOST (host, host:port or host:/socket) as client options."""
    host = host or "localhost"
    target, _, extra = host.partition(":")
    args = [f"--host={target}"]
    if extra.startswith("/"):
        args = [f"--socket={extra}"]
    elif extra.isdigit():
        args.append(f"--port={extra}")
    return [*args, f"--user={user}", name]


@dataclass
class Source:
    kind: str  # wordpress, php or none
    wp_config: str | None


def _read_dir(directory: Path) -> Source:
    if not directory.is_dir():
        raise InvalidInput(f"--from-dir '{directory}' is not a folder")
    config = next((p for p in (directory / "wp-config.php", directory.parent / "wp-config.php")
                   if p.is_file() or p.is_symlink()), None)
    if config is not None and config.is_symlink():  # it would be read wherever it points, on this machine
        raise InvalidInput(f"{config}: wp-config.php is a link, not a file", "give the folder a copy of the file")
    if (directory / "wp-includes" / "version.php").is_file():
        kind = "wordpress"
    elif any(True for _ in directory.rglob("*.php")):
        kind = "php"
    else:
        kind = "none"
    return Source(kind, config.read_text(errors="replace") if config else None)


def _check_kind(source: Source, where: str, lamp: bool) -> None:
    if source.kind == "none":
        raise InvalidInput(f"{where} is not a site: it holds no PHP files")
    if not lamp and (source.kind != "wordpress" or source.wp_config is None):
        raise InvalidInput(f"{where} holds no WordPress (wp-includes/version.php and wp-config.php)",
                           "import another PHP application with --lamp")


@dataclass(frozen=True)
class WpConfig:
    """What a site's wp-config.php gives (images/ops/helpers/tasks/wp-config-read.php)."""

    db: dict[str, str]  # name, user, password, host: those given as plain values
    table_prefix: str | None = None
    salts: tuple[str, ...] | None = None  # all eight, or none

    @classmethod
    def read(cls, engine: Engine, site: Site, text: str | None) -> WpConfig:
        """TEXT read by WordPress's own language, never run: in a throw-away ops container, no network."""
        if text is None:
            return cls({})
        try:
            found = ask_ops_image(engine, site, "wp-config-read", {"text": text})
        except TaskFailed as exc:
            raise TaskFailed(f"cannot read the site's wp-config.php: {exc.message}", exc.hint) from None
        salts = found.get("salts")
        return cls({key: str(value) for key, value in (found.get("db") or {}).items() if value is not None},
                   found.get("table_prefix"), tuple(salts) if isinstance(salts, list) else None)


def import_site(engine: Engine, site: Site, parent: Path, report: Report, *, from_dir: Path | None,
                sql: Path | None, ssh: Ssh | None) -> Imported:
    lamp = not site.wordpress
    if (from_dir is None) == (ssh is None):
        raise InvalidInput("give one source: --from-dir DIR (with --sql DUMP) or --from-ssh USER@HOST:PATH")
    if from_dir is not None and sql is None:
        raise InvalidInput("--from-dir needs --sql DUMP", "the site's database, as mysqldump or mariadb-dump wrote it")
    if ssh is not None and sql is not None and not lamp:
        raise InvalidInput("--sql is for --from-dir or --lamp", "--from-ssh dumps a WordPress database there itself")
    if ssh is not None and lamp and sql is None:
        raise InvalidInput("--from-ssh --lamp needs --sql DUMP",
                           "Hakobune cannot tell which database the application uses")
    if sql is not None:
        check_sql(sql)
    if from_dir is not None:
        source = _read_dir(from_dir)
        _check_kind(source, f"--from-dir '{from_dir}'", lamp)
    # Before the source is read (a large site over SSH takes a while); provision checks again when it starts.
    preflight(engine, site, parent / site.name)

    with tempfile.TemporaryDirectory(prefix="hakobune-import-") as scratch:
        work = Path(scratch)
        files_tar = work / "source.tar"
        if ssh is not None:
            report(f"Looking at {ssh.path} on {ssh.where}")
            probe = ssh.run(_PROBE, ssh.path, ok=(0, 3))
            if probe.returncode == 3:
                raise InvalidInput(f"--from-ssh: {ssh.path} does not exist on {ssh.host}")
            kind, _, text = probe.stdout.decode(errors="replace").partition("\n")
            source = Source(kind.strip(), text or None)
            _check_kind(source, f"{ssh.path} on {ssh.host}", lamp)
            report(f"Copying the files of {ssh.path}")
            with files_tar.open("wb") as out:
                # GNU tar's exit code 1: a file changed while it was read (a live site); the archive is whole.
                ssh.run('cd "$1" && exec tar -cf - .', ssh.path, stdout=out, ok=(0, 1))
        config = WpConfig.read(engine, site, None if lamp else source.wp_config)
        dump = work / "database.sql"
        if ssh is not None and not lamp:
            db = config.db
            if not db.get("name") or not db.get("user"):
                raise HakobuneError("the site's wp-config.php does not give DB_NAME and DB_USER as plain values")
            report(f"Dumping database {db['name']} on {ssh.host}")
            with dump.open("wb") as out:
                ssh.run(_DUMP, *_db_client_args(db.get("host"), str(db["user"]), str(db["name"])), stdout=out,
                        input=str(db.get("password") or "").encode())
            check_sql(dump)
        else:
            assert sql is not None  # noqa: S101 - checked above
            dump = sql
        report("Packing the site as a Hakobune archive")
        _gzip_dump(dump, work / ARCHIVE_DATABASE)
        with tarfile.open(work / ARCHIVE_FILES, "w:gz") as out:
            source_files = files_tar if ssh is not None else from_dir
            assert source_files is not None  # noqa: S101 - one source is given
            packed = pack(source_files, out, prefix="public/", skip=() if lamp else ("wp-config.php",))
            if not lamp and source.wp_config is not None:
                data = source.wp_config.encode()
                info = tarfile.TarInfo("wp-config.php")
                info.size, info.mode = len(data), 0o640
                out.addfile(info, io.BytesIO(data))
        if packed.files == 0:
            raise InvalidInput("the source holds no files")
        path = work / "import.tar"
        archive.write(path, settings_yaml(site), work / ARCHIVE_DATABASE, work / ARCHIVE_FILES, {
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "hakobune": __version__,
            "site": {"name": site.name, "url": "", "profile": site.profile, "web": site.web},
            "wordpress": None, "table_prefix": config.table_prefix, "imported": True})
        secrets = SiteSecrets(salts=config.salts) if config.salts else SiteSecrets()
        db_files = _db_settings_files(source_files) if lamp else ()
        restored = fill_new_site(engine, path, site, secrets, parent, report)
    return Imported(restored, not lamp, config.table_prefix, db_files)


_CONFIG_SUFFIXES = (".php", ".inc", ".ini", ".env", ".json", ".yml", ".yaml")


def _db_settings_files(source: Path) -> tuple[str, ...]:
    """Files of an application (a folder, or the tar read over SSH) that look like they hold its database
    settings: what the user must change after a --lamp import."""
    found = []
    if source.is_dir():
        for path in sorted(source.rglob("*")):
            if path.is_file() and path.name.endswith(_CONFIG_SUFFIXES) and path.stat().st_size < 1_000_000 \
                    and _DB_SETTINGS.search(path.read_bytes()):
                found.append(path.relative_to(source).as_posix())
    else:
        with tarfile.open(source) as tar:
            for info in tar:
                stream = tar.extractfile(info) if info.isfile() and info.size < 1_000_000 else None
                if stream and info.name.endswith(_CONFIG_SUFFIXES) and _DB_SETTINGS.search(stream.read()):
                    found.append(info.name.removeprefix("./"))
    return tuple(sorted(found)[:20])
