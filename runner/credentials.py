"""The credentials a run knows, by value, and how to scrub them from whatever the run writes.

A name is no guide (an enable secret arrives as ``MAINT_DEMO_DEVICE_ENABLE``, a vaulted host variable may be
called ``site_label``), so everything under ``var/runs/`` and every recorded row is scrubbed by *value*:

- every value of an ansible-vault file or of an inline ``!vault`` value of the client's inventory, decrypted
  with ``MAINT_VAULT_PASSWORD_FILE`` (the password the job gets), and the vault password itself;
- every literal value under a secret-looking key (:func:`runner.redact.is_secret_key`) in the inventory;
- the value of every environment variable such a secret reads (``lookup('env', 'NAME')``), of every variable
  whose name looks secret, and of :data:`CREDENTIAL_ENV`.

Values shorter than :data:`MIN_LENGTH` are not scrubbed (``yes``, ``22``): they would mangle everything.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from runner import safeyaml
from runner.inventory.loader import VARS_SUFFIXES, is_vault_file
from runner.redact import MASK, is_secret_key

log = logging.getLogger(__name__)

MIN_LENGTH = 4
#: values that are words of the formats themselves, never scrubbed (they would break JSON and YAML)
_PLAIN_WORDS = frozenset({"true", "false", "null", "none", "yes", "no", "on", "off"})
#: inventory files larger than this are not read for credentials (validation refuses them anyway)
MAX_FILE_BYTES = safeyaml.MAX_BYTES
#: environment variables that carry credentials whatever the inventory says (``maint demo``'s devices)
CREDENTIAL_ENV = ("MAINT_DEMO_DEVICE_PASSWORD", "MAINT_DEMO_DEVICE_ENABLE")
#: environment variable names that look like they hold a credential
SECRET_ENV = re.compile(r"(PASS|SECRET|TOKEN|KEY|CREDENTIAL|VAULT|ENABLE|AUTH)", re.IGNORECASE)
#: ... but hold a file name or a switch
NOT_SECRET_ENV = frozenset(
    {"MAINT_VAULT_PASSWORD_FILE", "ANSIBLE_VAULT_PASSWORD_FILE", "ANSIBLE_VAULT_IDENTITY_LIST"}
)
_ENV_LOOKUP = re.compile(
    r"""(?:lookup|query|q)\(\s*['"](?:ansible\.builtin\.)?env['"]\s*,\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]"""
)


def secret_env_name(name: str) -> bool:
    """An environment variable whose value is a credential, by its name alone."""
    return name in CREDENTIAL_ENV or (SECRET_ENV.search(name) is not None and name not in NOT_SECRET_ENV)


class _Vault:
    """Decrypts with the job's vault password (``MAINT_VAULT_PASSWORD_FILE``), through ansible-core."""

    def __init__(self, password_file: str | None) -> None:
        self.password: str | None = None
        self._lib: Any = None
        if not password_file:
            return
        try:
            from ansible.parsing.dataloader import DataLoader
            from ansible.parsing.vault import VaultLib, get_file_vault_secret

            secret = get_file_vault_secret(
                filename=str(Path(password_file).expanduser()), vault_id="default", loader=DataLoader()
            )
            secret.load()
            self._lib = VaultLib([("default", secret)])
            raw = secret.bytes
            self.password = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
        except Exception as exc:  # the job reports a bad vault password itself
            log.warning("cannot read the vault password file %s: %s", password_file, exc)

    def decrypt(self, text: str) -> str | None:
        if self._lib is None:
            return None
        try:
            return str(self._lib.decrypt(text.strip().encode()).decode(errors="replace"))
        except Exception as exc:
            log.warning("cannot decrypt a vault value of the inventory: %s", exc)
            return None


def _inventory_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in VARS_SUFFIXES and not any(p.startswith(".") for p in path.parts):
            yield path


def _leaves(obj: Any, seen: set[int] | None = None) -> Iterator[str]:
    seen = set() if seen is None else seen
    if isinstance(obj, Mapping | list | tuple):
        if id(obj) in seen:  # a YAML alias: its values were collected once already
            return
        seen.add(id(obj))
    if isinstance(obj, Mapping):
        for value in obj.values():
            yield from _leaves(value, seen)
    elif isinstance(obj, list | tuple):
        for item in obj:
            yield from _leaves(item, seen)
    elif isinstance(obj, str | int | float) and not isinstance(obj, bool):
        yield str(obj)


class _Collector:
    def __init__(self, vault: _Vault, env: Mapping[str, str]) -> None:
        self.vault = vault
        self.env = env
        self.values: set[str] = set()
        self._seen: set[tuple[int, bool]] = set()

    def text(self, text: str) -> None:
        """A whole file: a vault file's every value is a credential."""
        if is_vault_file(text):
            plain = self.vault.decrypt(text)
            if plain is None:
                return
            self.values.add(plain.strip())
            try:
                data = safeyaml.load(plain)
            except safeyaml.YAMLInputError:
                return
            for leaf in _leaves(data):
                self._secret(leaf)
            return
        try:
            data = safeyaml.load(text)  # bounded: size, depth, aliases (an inventory is input)
        except safeyaml.YAMLInputError:
            return
        # the alias guard holds ids, valid only while their document lives: a mapping of the next file
        # may be allocated where a freed one of this file was, and would be skipped as "walked already"
        self._seen = set()
        self.walk(data, secret=False)

    def walk(self, obj: Any, *, secret: bool) -> None:
        if isinstance(obj, Mapping | list | tuple):
            if (id(obj), secret) in self._seen:  # a YAML alias: walked once already
                return
            self._seen.add((id(obj), secret))
        if isinstance(obj, safeyaml.VaultValue):
            plain = self.vault.decrypt(str(obj))
            if plain is not None:
                self._secret(plain)
        elif isinstance(obj, Mapping):
            for key, value in obj.items():
                self.walk(value, secret=secret or (isinstance(key, str) and is_secret_key(key)))
        elif isinstance(obj, list | tuple):
            for item in obj:
                self.walk(item, secret=secret)
        elif secret and isinstance(obj, str | int | float) and not isinstance(obj, bool):
            self._secret(str(obj))

    def _secret(self, value: str) -> None:
        if "{{" in value or "{%" in value:  # a template: what it reads from the environment is secret
            for name in _ENV_LOOKUP.findall(value):
                if self.env.get(name):
                    self.values.add(self.env[name])
            return
        self.values.add(value)


def known_credentials(
    inventory: Path | None, env: Mapping[str, str] | None = None, vault_password_file: str | None = None
) -> set[str]:
    """Every credential value the run knows of (see the module's docstring)."""
    environ = dict(os.environ if env is None else env)
    vault = _Vault(
        vault_password_file if vault_password_file is not None else environ.get("MAINT_VAULT_PASSWORD_FILE")
    )
    collector = _Collector(vault, environ)
    if vault.password:
        collector.values.add(vault.password.strip())
    if inventory is not None and inventory.is_dir():
        for path in _inventory_files(inventory):
            try:
                if path.stat().st_size > MAX_FILE_BYTES:
                    continue
                collector.text(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, RecursionError):
                continue
    for name, value in environ.items():
        if secret_env_name(name):
            collector.values.add(value)
    return {v for v in collector.values if scrubbable(v)}


def scrubbable(value: str) -> bool:
    """Long enough, and not a word or number every file is full of."""
    text = value.strip()
    return (
        len(text) >= MIN_LENGTH
        and text != MASK
        and text.lower() not in _PLAIN_WORDS
        and not text.replace(".", "").isdigit()
    )


class Scrubber:
    """Replaces each known credential (as stored, JSON-escaped or ASCII-escaped) with :data:`MASK`."""

    def __init__(self, values: Iterable[str]) -> None:
        forms: set[str] = set()
        for value in values:
            if not scrubbable(value):
                continue
            forms.add(value)
            forms.add(json.dumps(value)[1:-1])
            forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
        ordered = sorted(forms, key=len, reverse=True)
        self.values = frozenset(forms)
        self._text = re.compile("|".join(re.escape(f) for f in ordered)) if ordered else None
        self._bytes = re.compile(b"|".join(re.escape(f.encode()) for f in ordered)) if ordered else None

    def __bool__(self) -> bool:
        return self._text is not None

    def text(self, value: str) -> str:
        return value if self._text is None else self._text.sub(MASK, value)

    def data(self, obj: Any) -> Any:
        """``obj`` with every string (keys included) scrubbed; mappings and lists are changed in place."""
        if self._text is None:
            return obj
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            for key in list(obj):
                value = self.data(obj[key])
                new_key = self.text(key) if isinstance(key, str) else key
                if new_key != key:
                    del obj[key]
                obj[new_key] = value
            return obj
        if isinstance(obj, list):
            obj[:] = [self.data(item) for item in obj]
            return obj
        if isinstance(obj, tuple):
            return tuple(self.data(item) for item in obj)
        return obj

    def file(self, path: Path) -> bool:
        """Scrub one file in place (atomically, mode 0600); True when it held a credential."""
        if self._bytes is None:
            return False
        try:
            data = path.read_bytes()
        except OSError:
            return False
        clean, found = self._bytes.subn(MASK.encode(), data)
        if not found:
            return False
        tmp = path.with_name(path.name + ".scrub")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(clean)
        tmp.replace(path)
        return True

    def tree(self, folder: Path) -> int:
        """Scrub every file under ``folder``; how many held a credential."""
        return sum(
            self.file(path) for path in sorted(folder.rglob("*")) if path.is_file() and not path.is_symlink()
        )
