"""The site folder on the client: settings (hakobune.yaml), secrets (secrets.env, mode 0600), compose.yaml."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from hakobune.errors import HakobuneError, InvalidInput
from hakobune.render.compose import compose_yaml
from hakobune.site import Site, SiteSecrets
from hakobune.site_format import read_settings, settings_yaml, written_format

SETTINGS = "hakobune.yaml"
SECRETS = "secrets.env"
COMPOSE = "compose.yaml"


@dataclass(frozen=True)
class SiteDir:
    path: Path

    @classmethod
    def find(cls, directory: str | Path | None) -> SiteDir:
        """The site in DIRECTORY (-C), or in the current directory."""
        path = Path(directory) if directory else Path.cwd()
        if not path.is_dir():
            raise HakobuneError(f"site folder '{path}' does not exist")
        if not (path / SETTINGS).is_file():
            hint = None if directory else "run this inside a site folder, or give -C TARGET"
            raise HakobuneError(f"'{path}' is not a Hakobune site folder (no {SETTINGS})", hint)
        return cls(path.resolve())

    def create(self, site: Site, secrets: SiteSecrets) -> None:
        """Write a new site folder; refuses one that exists."""
        try:
            self.path.mkdir(mode=0o750)
        except FileExistsError:
            raise InvalidInput(f"TARGET '{self.path.name}' already exists", "choose another name") from None
        self.write_secrets(secrets)
        self.save(site)

    def save(self, site: Site) -> None:
        """Write the settings and the Compose file generated from them (never the secrets)."""
        (self.path / SETTINGS).write_text(settings_yaml(site))
        (self.path / COMPOSE).write_text(compose_yaml(site))

    def write_secrets(self, secrets: SiteSecrets) -> None:
        lines = [f"{key}={value}\n" for key, value in secrets.to_env().items()]
        self.write_text_private(SECRETS, "# Hakobune site secrets: keep private (mode 0600), never commit.\n"
                                + "".join(lines))

    def load(self) -> Site:
        try:
            text = (self.path / SETTINGS).read_text()
        except OSError as exc:
            raise HakobuneError(f"cannot read {self.path / SETTINGS}: {exc}") from None
        return read_settings(text, str(self.path / SETTINGS))

    def format(self) -> int:
        """The format number the settings are written in (0 when there is none: loading says why)."""
        try:
            return written_format((self.path / SETTINGS).read_text())
        except OSError:
            return 0

    def refresh(self) -> None:
        """compose.yaml is generated from the settings: when this Hakobune generates it otherwise (a newer one,
        with a service an older one did not write), write it anew. Running containers follow when they are
        next recreated."""
        compose = compose_yaml(self.load())
        path = self.path / COMPOSE
        if not path.exists() or path.read_text() != compose:
            path.write_text(compose)

    def snapshot(self) -> dict[str, str]:
        """The folder's files as they are now (settings, compose file, secrets), for put_back."""
        return {name: (self.path / name).read_text() for name in (SETTINGS, COMPOSE, SECRETS)
                if (self.path / name).exists()}

    def put_back(self, files: dict[str, str]) -> None:
        for name, text in files.items():
            if name == SECRETS:
                self.write_text_private(name, text)
            else:
                (self.path / name).write_text(text)

    def write_text_private(self, name: str, text: str) -> None:
        """NAME in the folder, readable by its owner only (0600) from the moment it exists."""
        path = self.path / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.chmod(path, 0o600)

    def secrets(self) -> SiteSecrets:
        env: dict[str, str] = {}
        try:
            text = (self.path / SECRETS).read_text()
        except OSError as exc:
            raise HakobuneError(f"cannot read the site's secrets: {exc}") from None
        for line in text.split("\n"):  # only \n ends a line here, as it does for the shell and Compose
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                env[key] = value
        return SiteSecrets.from_env(env)
