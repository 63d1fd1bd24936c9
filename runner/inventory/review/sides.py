"""The two sides of a review: one version of the inventories each, read as the inventory loader reads them.

The working tree is read where it lies. A revision's files are read from Git in one batch; the files the
loader opens (hosts file, ``group_vars/``, ``host_vars/``) are written to a private temporary folder
(``0700``) so :func:`runner.inventory.validate_client` and :func:`runner.inventory.loader.load_yaml` (the
same size, depth and alias limits, the same messages) judge both sides alike. Only the clients that
changed are written in full; the others only for their host names.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from runner.inventory.loader import (
    HOSTS_FILES,
    SETTINGS_KEY,
    VARS_SUFFIXES,
    Client,
    Problem,
    is_vault_file,
    load_yaml,
    validate_client,
)
from runner.inventory.patterns import expand_host_range
from runner.inventory.review.gitio import Listing, cat_blobs, list_revision, list_worktree, roles_at
from runner.inventory.review.secrets import scan, scan_templates, shape

#: settings sections compared on their own (the rest of ``maintenance`` is compared as variables)
SETTINGS_SECTIONS = ("thresholds", "waivers", "schedules", "blackout")


@dataclass
class Side:
    """One version of the inventories: a folder on disk holding the clients that were needed."""

    label: str
    commit: str | None
    inventories: Path
    listing: Listing
    roles: set[str]
    blobs: dict[str, bytes] = field(default_factory=dict)  # blob id -> content (revisions)

    def read(self, client: str, inner: str) -> bytes:
        if self.commit is None:
            return (self.inventories / client / PurePosixPath(inner)).read_bytes()
        return self.blobs[self.listing[client][inner]]

    def path(self, client: str, inner: str) -> Path:
        """Where the loader reads the file (the working tree, or the materialised copy of a revision)."""
        return self.inventories / client / PurePosixPath(inner)


@contextmanager
def private_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="maint-review-") as tmp:
        Path(tmp).chmod(0o700)
        yield Path(tmp)


def make_side(repo: Path, commit: str | None, label: str, prefix: str, tmp: Path, slot: str) -> Side:
    """The working tree (``commit`` None) or a revision, its files listed (not read yet); a revision's
    files go under ``tmp/<slot>/`` (both sides may be the same commit)."""
    if commit is None:
        inventories = repo / prefix if prefix else repo
        return Side(label, None, inventories, list_worktree(repo, prefix), roles_at(repo, None))
    inventories = tmp / slot / commit[:12] / (PurePosixPath(prefix).name or "inventories")
    inventories.mkdir(parents=True, mode=0o700)
    return Side(label, commit, inventories, list_revision(repo, commit, prefix), roles_at(repo, commit))


def loader_reads(inner: str) -> bool:
    """Files :func:`validate_client` opens (the rest is read from memory): the hosts file, the settings
    and every variable file (checked for size, aliases and a ``maintenance`` set outside group_vars/all)."""
    return inner in HOSTS_FILES or inner.startswith(("group_vars/", "host_vars/"))


def materialise(repo: Path, side: Side, files: Mapping[str, Iterable[str]]) -> None:
    """Read ``client -> paths`` of a revision into ``side.blobs``; write what the loader opens under
    ``side.inventories`` (a private temporary folder)."""
    wanted = {
        (c, p): side.listing[c][p] for c, ps in files.items() for p in ps if p in side.listing.get(c, {})
    }
    side.blobs.update(cat_blobs(repo, wanted.values()))
    made: set[Path] = set()
    for (client, inner), sha in wanted.items():
        if not loader_reads(inner):
            continue
        target = side.path(client, inner)
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            made.add(target.parent)
        target.write_bytes(side.blobs[sha])


@dataclass
class ClientState:
    """One client on one side: the validated client (or the problems) and its variables."""

    name: str
    client: Client | None
    problems: list[Problem]
    variables: dict[tuple[str, str], tuple[Any, str]]  # (scope, key) -> (value, file)
    vault_files: dict[str, str]  # file -> blob id
    secrets: list[tuple[str, str, str, str]]  # (file, key path, rule, value)
    bad_files: list[Problem]
    templates: list[tuple[str, str, str, str]] = field(default_factory=list)  # (file, key, risks, text)


def _flatten(value: Any, prefix: str, out: dict[str, Any], depth: int = 0) -> None:
    if isinstance(value, Mapping) and value and depth < 6:
        for key, sub in value.items():
            _flatten(sub, f"{prefix}.{key}" if prefix else str(key), out, depth + 1)
    else:
        out[prefix] = value


def var_scope(inner: str) -> tuple[str, str] | None:
    """``group_vars/linux/ntp.yml`` -> ("group", "linux"); ``host_vars/web01.yml`` -> ("host", "web01").

    The files Ansible (and so the loader) reads as variables: the suffixes of
    :data:`runner.inventory.loader.VARS_SUFFIXES`, hidden files left out."""
    parts = inner.split("/")
    if len(parts) < 2 or parts[0] not in ("group_vars", "host_vars"):
        return None
    if any(p.startswith(".") for p in parts[1:]) or PurePosixPath(inner).suffix not in VARS_SUFFIXES:
        return None
    kind = "group" if parts[0] == "group_vars" else "host"
    name = parts[1] if len(parts) > 2 else PurePosixPath(parts[1]).stem
    return kind, name


def _walk_inline(body: Any, group: str, add: Callable[[str, Mapping[str, Any]], None]) -> None:
    if not isinstance(body, Mapping):
        return
    if isinstance(body.get("vars"), Mapping):
        add(f"group {group}", body["vars"])
    if isinstance(body.get("hosts"), Mapping):
        for host, hvars in body["hosts"].items():
            if isinstance(hvars, Mapping):
                add(f"host {host}", hvars)
    if isinstance(body.get("children"), Mapping):
        for child, sub in body["children"].items():
            _walk_inline(sub, str(child), add)


def host_names(data: Any) -> set[str]:
    """Every host named in a parsed Ansible YAML inventory, ranges (``web[01:03]``) expanded as the loader
    expands them (no validation)."""
    names: set[str] = set()
    stack = list(data.values()) if isinstance(data, Mapping) else []
    while stack:
        body = stack.pop()
        if not isinstance(body, Mapping):
            continue
        if isinstance(body.get("hosts"), Mapping):
            for host in body["hosts"]:
                names.update(expand_host_range(str(host)))
        if isinstance(body.get("children"), Mapping):
            stack.extend(body["children"].values())
    return names


@dataclass(frozen=True)
class Parsed:
    data: Any
    vault_file: bool = False
    error: tuple[str, str] | None = None  # (key or line, what) when the file is refused


#: blob id -> parsed file: a file identical on both sides (or in many clients) is parsed once
ParseCache = dict[str, Parsed]


def parse(side: Side, client: str, inner: str, cache: ParseCache) -> Parsed:
    """One YAML file of a client, read by :func:`runner.inventory.loader.load_yaml` (cached by blob id)."""
    blob = side.listing[client][inner]
    found = cache.get(blob)
    if found is not None:
        return found
    data, problems = load_yaml(side.path(client, inner), inner)
    if problems:
        found = Parsed(None, error=(problems[0].key, problems[0].message))
    elif data is None:
        try:
            vault = is_vault_file(side.read(client, inner).decode("utf-8", errors="replace"))
        except OSError:
            vault = False
        found = Parsed(None, vault_file=vault)
    else:
        found = Parsed(data)
    cache[blob] = found
    return found


def load_state(side: Side, name: str, cache: ParseCache | None = None) -> ClientState:
    """Validate one client of a side and collect its variables, vault files, secrets and templates."""
    client, problems = validate_client(name, side.inventories, side.roles)
    state = ClientState(name, client, problems, {}, {}, [], [])
    files = side.listing.get(name, {})
    cache = cache if cache is not None else {}
    for inner in sorted(files):
        rel = f"{side.inventories.name}/{name}/{inner}"
        scope = var_scope(inner)
        is_hosts = inner in HOSTS_FILES
        if scope is None and not is_hosts:
            try:
                text = side.read(name, inner).decode("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if not is_vault_file(text) and (found := shape(text)):
                state.secrets.append((rel, "", found[0], found[1]))
            continue
        parsed = parse(side, name, inner, cache)
        if parsed.error is not None:
            if not any(p.file == rel for p in problems):
                state.bad_files.append(Problem(rel, *parsed.error))
            continue
        if parsed.vault_file:
            state.vault_files[rel] = files[inner]
            continue
        data = parsed.data
        if data is None:
            continue
        scan(data, "", rel, state.secrets)
        scan_templates(data, rel, state.templates)
        if not isinstance(data, Mapping):
            continue

        def add(scope_name: str, values: Mapping[str, Any], file: str = rel) -> None:
            flat: dict[str, Any] = {}
            for key, value in values.items():
                if scope_name == "group all" and key == SETTINGS_KEY:
                    if isinstance(value, Mapping):
                        rest = {k: v for k, v in value.items() if k not in SETTINGS_SECTIONS}
                        _flatten(rest, SETTINGS_KEY, flat)
                    continue
                _flatten(value, str(key), flat)
            for key, value in flat.items():
                state.variables[(scope_name, key)] = (value, file)

        if is_hosts:
            for group, body in data.items():
                _walk_inline(body, str(group), add)
        elif scope is not None:
            add(f"{scope[0]} {scope[1]}", data)
    return state


def lines(side: Side, client: str) -> dict[str, list[str]]:
    """Every file of a client as lines (for rename detection)."""
    out: dict[str, list[str]] = {}
    for inner in side.listing[client]:
        try:
            out[inner] = side.read(client, inner).decode("utf-8", errors="replace").splitlines()
        except OSError:
            out[inner] = []
    return out
