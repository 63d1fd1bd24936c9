"""Review of inventory changes in Git: what a change really does, per client.

``review(base, head)`` reads two versions of the inventories straight from Git (``git ls-tree`` and
``git cat-file --batch``; the working tree is read where it lies, nothing is checked out), validates
both with :func:`runner.inventory.validate_client`, and reports per client: hosts added, removed or
moved between groups; roles gained or lost per host; variables changed (``key: old → new``, secrets
masked); schedules and windows changed with their next occurrences; thresholds loosened or tightened;
waivers added, extended or removed; and clients added, removed or renamed. Findings carry a severity:
``error`` (a plaintext secret, a schema error) makes ``maint inventory review`` exit 1.

How the two sides are read:

- BASE (default: the merge base of HEAD with ``origin/main``, else with ``main``, else ``HEAD~``) is a
  commit; HEAD is a commit or, by default, the working tree (tracked and untracked files that are not
  ignored, uncommitted changes included).
- Every file is identified by its Git blob id (computed for working-tree files), so the clients whose
  files are identical on both sides are known without parsing anything; only the changed clients are
  written to a private temporary folder (``0700``) and validated, on both sides. Unchanged clients are
  read only for their host names (a host present in two clients).
- Schedule occurrences come from :func:`runner.schedule.next_occurrences` (DST, blackout days and
  holidays applied, skipped occurrences listed and marked).
- Secret values are never written to the report: a value under a secret-looking key
  (:func:`runner.redact.is_secret_key`) or of a secret shape (:data:`SECRET_SHAPES`) is shown as
  :data:`runner.redact.MASK`; ``!vault`` values and vault-encrypted files are shown as opaque; and
  every plaintext secret found is scrubbed from the rendered text as a last step.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url

from runner import paths, safeyaml
from runner.inventory.loader import (
    HOSTS_FILES,
    SETTINGS_KEY,
    Client,
    Problem,
    is_vault_file,
    known_roles,
    validate_client,
)
from runner.inventory.schema import ClientSettings, Schedule, Waiver
from runner.inventory.templating import controller_risks, has_template
from runner.inventory.templating import shown as shown_template
from runner.redact import MASK, is_secret_key
from runner.safeyaml import UnsafeText, VaultValue
from runner.schedule import Plan, next_occurrences

log = logging.getLogger(__name__)

DEFAULT_MAX_WAIVER_DAYS = 180
#: a removed client folder and an added one are a rename when this share of their lines is the same
RENAME_SIMILARITY = 0.5
OCCURRENCES = 3
VAULT_SHOWN = "<vault-encrypted>"
YAML_SUFFIXES = (".yml", ".yaml", ".json")
#: settings sections compared on their own (the rest of ``maintenance`` is compared as variables)
SETTINGS_SECTIONS = ("thresholds", "waivers", "schedules", "blackout")


class ReviewError(Exception):
    """The review cannot run (not a Git repository, unknown revision, unreadable object)."""


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"


# --------------------------------------------------------------------------- rules as data

#: value shapes that are secrets whatever the key; (name, pattern)
SECRET_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("PEM private key", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")),
    ("AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("JSON web token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    ("credentials in a URL", re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@{}]+:[^/\s@{}]+@")),
    ("Cisco password/secret line", re.compile(r"\b(?:password|secret)\s+[07]\s+\S+", re.IGNORECASE)),
    ("SNMP community line", re.compile(r"\bsnmp-server\s+community\s+\S+", re.IGNORECASE)),
)
_JINJA_ONLY = re.compile(r"^\s*\{\{.*\}\}\s*$", re.DOTALL)


class Direction(StrEnum):
    """Which way a threshold loosens."""

    HIGHER_LOOSER = "higher_looser"  # a higher value lets more through (warn at 90 % instead of 80 %)
    LOWER_LOOSER = "lower_looser"  # a lower value lets more through (minimum free space)
    MORE_LOOSER = "more_looser"  # a longer list lets more through (ignored units, skipped controls)


@dataclass(frozen=True)
class ThresholdRule:
    """How to judge a change of one threshold; ``limit`` is the loosest value accepted without a warning
    (for a list: how many items)."""

    direction: Direction
    limit: float | None = None


#: per threshold name (exact name first, then the first matching pattern); unknown names are "changed"
THRESHOLD_RULES: tuple[tuple[str, ThresholdRule], ...] = (
    ("fs_warn_pct", ThresholdRule(Direction.HIGHER_LOOSER, 90)),
    ("fs_fail_pct", ThresholdRule(Direction.HIGHER_LOOSER, 95)),
    ("inode_warn_pct", ThresholdRule(Direction.HIGHER_LOOSER, 90)),
    ("inode_fail_pct", ThresholdRule(Direction.HIGHER_LOOSER, 95)),
    ("uptime_warn_days", ThresholdRule(Direction.HIGHER_LOOSER, 180)),
    ("skip_controls", ThresholdRule(Direction.MORE_LOOSER, 0)),
    ("failed_units_ignore", ThresholdRule(Direction.MORE_LOOSER)),
    ("fs_exclude_mounts", ThresholdRule(Direction.MORE_LOOSER)),
    ("fs_exclude_fstypes", ThresholdRule(Direction.MORE_LOOSER)),
    ("*_warn_pct", ThresholdRule(Direction.HIGHER_LOOSER)),
    ("*_fail_pct", ThresholdRule(Direction.HIGHER_LOOSER)),
    ("*_age_days", ThresholdRule(Direction.HIGHER_LOOSER)),
    ("*_age_hours", ThresholdRule(Direction.HIGHER_LOOSER)),
    ("*_warn_days", ThresholdRule(Direction.HIGHER_LOOSER)),
    ("*_fail_days", ThresholdRule(Direction.HIGHER_LOOSER)),
    ("min_*", ThresholdRule(Direction.LOWER_LOOSER)),
    ("*_ignore", ThresholdRule(Direction.MORE_LOOSER)),
    ("*_exclude_*", ThresholdRule(Direction.MORE_LOOSER)),
)


def threshold_rule(name: str) -> ThresholdRule | None:
    for pattern, rule in THRESHOLD_RULES:
        if pattern == name:
            return rule
    for pattern, rule in THRESHOLD_RULES:
        if "*" in pattern and fnmatch.fnmatchcase(name, pattern):
            return rule
    return None


# --------------------------------------------------------------------------- report model


@dataclass(frozen=True)
class ReviewFinding:
    level: Level
    code: str
    client: str
    where: str
    message: str


@dataclass
class HostChange:
    host: str
    change: str  # added / removed / moved
    groups_before: list[str] = field(default_factory=list)
    groups_after: list[str] = field(default_factory=list)


@dataclass
class RoleChange:
    host: str
    gained: list[str]
    lost: list[str]


@dataclass
class VarChange:
    scope: str  # "group linux", "host web01", "settings"
    key: str
    change: str  # added / removed / changed / moved
    old: str | None = None
    new: str | None = None
    moved_from: str | None = None


@dataclass
class ScheduleChange:
    name: str
    change: str  # added / removed / changed
    before: str | None
    after: str | None
    next_before: list[str]
    next_after: list[str]


@dataclass
class ThresholdChange:
    role: str
    name: str
    old: str
    new: str
    change: str  # loosened / tightened / changed


@dataclass
class WaiverChange:
    control: str
    hosts: str
    change: str  # added / removed / extended / shortened / changed
    owner: str
    expires_before: str | None
    expires_after: str | None


@dataclass
class ClientReview:
    name: str
    change: str  # added / removed / modified / renamed
    renamed_from: str | None = None
    similarity: float | None = None
    hosts: list[HostChange] = field(default_factory=list)
    roles: list[RoleChange] = field(default_factory=list)
    variables: list[VarChange] = field(default_factory=list)
    schedules: list[ScheduleChange] = field(default_factory=list)
    windows: list[VarChange] = field(default_factory=list)
    thresholds: list[ThresholdChange] = field(default_factory=list)
    waivers: list[WaiverChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Review:
    repository: str
    path: str
    base: str
    base_label: str
    head: str | None
    head_label: str
    clients_total: int
    clients: list[ClientReview]
    findings: list[ReviewFinding]
    notes: list[str] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set, repr=False)  # plaintext secrets: scrubbed, never output

    @property
    def errors(self) -> list[ReviewFinding]:
        return [f for f in self.findings if f.level is Level.ERROR]

    @property
    def warnings(self) -> list[ReviewFinding]:
        return [f for f in self.findings if f.level is Level.WARNING]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("secrets")
        data["summary"] = {
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "clients_changed": len(self.clients),
        }
        return data

    def scrub(self, text: str) -> str:
        """Replace every plaintext secret found by :data:`MASK` (the last line of defence)."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text


# --------------------------------------------------------------------------- Git access


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        proc = subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True, check=False)
    except OSError as exc:
        raise ReviewError(f"cannot run git: {exc}") from exc
    if proc.returncode != 0:
        raise ReviewError(f"git {' '.join(args[:2])} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def find_repository(cwd: Path | None = None) -> Path:
    where = (cwd or Path.cwd()).resolve()
    try:
        top = _git(where, "rev-parse", "--show-toplevel")
    except ReviewError:
        raise ReviewError(f"not a Git repository: {where}") from None
    return Path(top.decode().strip())


def resolve(repo: Path, rev: str) -> str:
    try:
        return (
            _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
            .decode()
            .strip()
        )
    except ReviewError:
        raise ReviewError(f"unknown revision {rev!r} in {repo}") from None


def default_base(repo: Path) -> tuple[str, str]:
    """(commit, label): the merge base of HEAD with origin/main, else with main, else HEAD~."""
    for branch in ("origin/main", "main"):
        try:
            resolve(repo, branch)
        except ReviewError:
            continue
        sha = _git(repo, "merge-base", "HEAD", branch).decode().strip()
        return sha, f"merge-base(HEAD, {branch})"
    try:
        return resolve(repo, "HEAD~"), "HEAD~"
    except ReviewError:
        raise ReviewError(
            f"no base to compare with in {repo}: no origin/main, no main and no HEAD~; give BASE"
        ) from None


def _blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


Listing = dict[str, dict[str, str]]  # client -> path inside the client folder -> blob id


def _client_path(path: str, prefix: str) -> tuple[str, str] | None:
    rel = path[len(prefix) + 1 :] if prefix else path
    client, sep, inner = rel.partition("/")
    if not sep or client.startswith((".", "_")):
        return None
    return client, inner


def list_revision(repo: Path, commit: str, prefix: str) -> Listing:
    raw = _git(repo, "ls-tree", "-r", "-z", "--full-tree", commit, "--", f"{prefix}/" if prefix else ".")
    out: Listing = {}
    for entry in raw.split(b"\0"):
        if not entry:
            continue
        meta, _, path_b = entry.partition(b"\t")
        mode, kind, sha = meta.decode().split()
        if kind != "blob" or mode == "120000":
            continue
        found = _client_path(path_b.decode(), prefix)
        if found:
            out.setdefault(found[0], {})[found[1]] = sha
    return out


def list_worktree(repo: Path, prefix: str) -> Listing:
    raw = _git(
        repo,
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
        "--",
        f"{prefix}/" if prefix else ".",
    )
    out: Listing = {}
    for path_b in sorted(set(raw.split(b"\0"))):
        if not path_b:
            continue
        path = path_b.decode()
        found = _client_path(path, prefix)
        full = repo / path
        if not found or full.is_symlink() or not full.is_file():
            continue
        out.setdefault(found[0], {})[found[1]] = _blob_id(full.read_bytes())
    return out


def _cat_blobs(repo: Path, shas: Iterable[str]) -> dict[str, bytes]:
    wanted = sorted(set(shas))
    if not wanted:
        return {}
    raw = _git(repo, "cat-file", "--batch", stdin="".join(f"{s}\n" for s in wanted).encode())
    blobs: dict[str, bytes] = {}
    pos = 0
    for sha in wanted:
        end = raw.index(b"\n", pos)
        header = raw[pos:end].split()
        if len(header) != 3 or header[1] != b"blob":
            raise ReviewError(f"git object {sha} is missing or not a file")
        size = int(header[2])
        blobs[sha] = raw[end + 1 : end + 1 + size]
        pos = end + 1 + size + 1
    return blobs


def _roles_at(repo: Path, commit: str | None) -> set[str]:
    """Roles of the reviewed repository at that version (``roles/*/tasks/main.yml``), else installed ones."""
    if commit is None:
        found = known_roles(repo / "roles") if (repo / "roles").is_dir() else set()
    else:
        raw = _git(repo, "ls-tree", "-r", "-z", "--name-only", "--full-tree", commit, "--", "roles/")
        found = {
            parts[1]
            for p in raw.decode().split("\0")
            if len(parts := p.split("/")) == 4 and parts[2:] == ["tasks", "main.yml"]
        }
    return found or known_roles()


# --------------------------------------------------------------------------- one side, read


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


def _loader_reads(inner: str) -> bool:
    """Files :func:`validate_client` opens (the rest is read from memory): the hosts file, the settings
    and every variable file (checked for size, aliases and a ``maintenance`` set outside group_vars/all)."""
    return inner in HOSTS_FILES or inner.startswith(("group_vars/", "host_vars/"))


def _materialise(repo: Path, side: Side, files: Mapping[str, Iterable[str]]) -> None:
    """Read ``client -> paths`` of a revision into ``side.blobs``; write what the loader opens under
    ``side.inventories`` (a private temporary folder)."""
    wanted = {
        (c, p): side.listing[c][p] for c, ps in files.items() for p in ps if p in side.listing.get(c, {})
    }
    side.blobs.update(_cat_blobs(repo, wanted.values()))
    blobs = side.blobs
    made: set[Path] = set()
    for (client, inner), sha in wanted.items():
        if not _loader_reads(inner):
            continue
        target = side.inventories / client / PurePosixPath(inner)
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            made.add(target.parent)
        target.write_bytes(blobs[sha])


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


def _shape(value: str) -> str | None:
    for name, pattern in SECRET_SHAPES:
        if pattern.search(value):
            return name
    return None


def _secret_rule(key_path: str, value: Any) -> str | None:
    """Why a plaintext ``value`` at ``key_path`` is a secret (None when it is not one)."""
    if isinstance(value, VaultValue) or value is None or isinstance(value, bool) or value == "":
        return None
    if isinstance(value, str) and _JINJA_ONLY.match(value):
        return None
    if isinstance(value, str | int | float) and any(is_secret_key(k) for k in key_path.split(".")):
        return "secret key name"
    if isinstance(value, str):
        return _shape(value)
    return None


def _scan(value: Any, key_path: str, file: str, found: list[tuple[str, str, str, str]]) -> None:
    if isinstance(value, Mapping):
        for key, sub in value.items():
            _scan(sub, f"{key_path}.{key}" if key_path else str(key), file, found)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _scan(item, f"{key_path}[{i}]", file, found)
    else:
        rule = _secret_rule(key_path.replace("[", ".").replace("]", ""), value)
        if rule:
            found.append((file, key_path, rule, str(value)))


def _scan_templates(value: Any, file: str, found: list[tuple[str, str, str, str]]) -> None:
    """Templated keys and values that reach outside the inventory (:func:`controller_risks`)."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, key_path = stack.pop()
        if isinstance(item, Mapping):
            for key, sub in item.items():
                sub_path = f"{key_path}.{key}" if key_path else str(key)
                if isinstance(key, str):
                    stack.append((key, sub_path))  # Ansible may template keys too
                stack.append((sub, sub_path))
        elif isinstance(item, list):
            stack.extend((sub, f"{key_path}[{i}]") for i, sub in enumerate(item))
        elif isinstance(item, str) and not isinstance(item, UnsafeText | VaultValue) and has_template(item):
            risks = controller_risks(item)
            if risks:
                found.append((file, key_path, ", ".join(risks), shown_template(item)))
    found.sort()


def _var_scope(inner: str) -> tuple[str, str] | None:
    """``group_vars/linux/ntp.yml`` -> ("group", "linux"); ``host_vars/web01.yml`` -> ("host", "web01")."""
    parts = inner.split("/")
    if len(parts) < 2 or parts[0] not in ("group_vars", "host_vars") or not inner.endswith(YAML_SUFFIXES):
        return None
    kind = "group" if parts[0] == "group_vars" else "host"
    name = parts[1] if len(parts) > 2 else parts[1].rsplit(".", 1)[0]
    return kind, name


def _walk_inline(body: Any, group: str, add: Any) -> None:
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
    """Every host named in a parsed Ansible YAML inventory (no validation)."""
    names: set[str] = set()
    stack = list(data.values()) if isinstance(data, Mapping) else []
    while stack:
        body = stack.pop()
        if not isinstance(body, Mapping):
            continue
        if isinstance(body.get("hosts"), Mapping):
            names |= {str(h) for h in body["hosts"]}
        if isinstance(body.get("children"), Mapping):
            stack.extend(body["children"].values())
    return names


@dataclass(frozen=True)
class Parsed:
    data: Any
    vault_file: bool = False
    error: str | None = None  # "where: what" when the file is not valid YAML


#: blob id -> parsed file: a file identical on both sides (or in many clients) is parsed once
ParseCache = dict[str, Parsed]


def parse(side: Side, client: str, inner: str, cache: ParseCache) -> Parsed:
    blob = side.listing[client][inner]
    found = cache.get(blob)
    if found is not None:
        return found
    try:
        text = side.read(client, inner).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        found = Parsed(None, error=f"cannot read file: {exc}")
    else:
        if is_vault_file(text):
            found = Parsed(None, vault_file=True)
        else:
            try:
                found = Parsed(safeyaml.load(text))  # size, depth, aliases and duplicate keys bounded
            except safeyaml.YAMLInputError as exc:
                found = Parsed(None, error=str(exc))
    cache[blob] = found
    return found


def load_state(side: Side, name: str, cache: ParseCache | None = None) -> ClientState:
    client, problems = validate_client(name, side.inventories, side.roles)
    state = ClientState(name, client, problems, {}, {}, [], [])
    files = side.listing.get(name, {})
    for inner in sorted(files):
        rel = f"{side.inventories.name}/{name}/{inner}"
        scope = _var_scope(inner)
        is_hosts = inner in HOSTS_FILES
        if scope is None and not is_hosts:
            try:
                text = side.read(name, inner).decode("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if not is_vault_file(text) and (rule := _shape(text)):
                match = next(p for n, p in SECRET_SHAPES if n == rule).search(text)
                state.secrets.append((rel, "", rule, match.group(0) if match else ""))
            continue
        parsed = parse(side, name, inner, cache if cache is not None else {})
        if parsed.error is not None:
            if not any(p.file == rel for p in problems):
                state.bad_files.append(Problem(rel, "", parsed.error))
            continue
        if parsed.vault_file:
            state.vault_files[rel] = files[inner]
            continue
        data = parsed.data
        if data is None:
            continue
        _scan(data, "", rel, state.secrets)
        _scan_templates(data, rel, state.templates)
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


# --------------------------------------------------------------------------- showing values


def show(key_path: str, value: Any) -> str:
    """A value as the report shows it: secrets masked, vault values opaque, long values cut."""
    if isinstance(value, VaultValue):
        return VAULT_SHOWN
    if _secret_rule(key_path, value) is not None:
        return MASK
    if isinstance(value, str):
        text = value
    else:
        masked = _mask_deep(value)
        text = json.dumps(masked, default=str, ensure_ascii=False)
    text = _printable(" ".join(text.split()))
    return text if len(text) <= 100 else text[:97] + "…"


def _printable(text: str) -> str:
    """Control characters (an ESC that would recolour a terminal) shown as escapes, not sent raw."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text) if not text.isprintable() else text


def _mask_deep(value: Any, key_path: str = "") -> Any:
    if isinstance(value, VaultValue):
        return VAULT_SHOWN
    if isinstance(value, Mapping):
        return {k: _mask_deep(v, f"{key_path}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_deep(v, key_path) for v in value]
    if _secret_rule(key_path, value) is not None:
        return MASK
    return value


# --------------------------------------------------------------------------- comparisons


def diff_variables(before: ClientState | None, after: ClientState | None) -> list[VarChange]:
    old = before.variables if before else {}
    new = after.variables if after else {}
    changes: list[VarChange] = []
    removed = {k: old[k][0] for k in old.keys() - new.keys()}
    added = {k: new[k][0] for k in new.keys() - old.keys()}
    for (scope, key), value in sorted(added.items()):
        source = next(
            (s for (s, k), v in removed.items() if k == key and v == value and type(v) is type(value)), None
        )
        if source is not None:
            del removed[(source, key)]
            changes.append(
                VarChange(scope, key, "moved", show(key, value), show(key, value), moved_from=source)
            )
        else:
            changes.append(VarChange(scope, key, "added", None, show(key, value)))
    for (scope, key), value in sorted(removed.items()):
        changes.append(VarChange(scope, key, "removed", show(key, value), None))
    for scope, key in sorted(old.keys() & new.keys()):
        a, b = old[(scope, key)][0], new[(scope, key)][0]
        if a == b and type(a) is type(b):
            continue
        shown_a, shown_b = show(key, a), show(key, b)
        if shown_a == shown_b == VAULT_SHOWN:
            shown_b = f"{VAULT_SHOWN} (ciphertext changed)"
        elif shown_a == shown_b:
            shown_b = f"{shown_b} (changed)"
        changes.append(VarChange(scope, key, "changed", shown_a, shown_b))
    for file in sorted(
        (before.vault_files if before else {}).keys() | (after.vault_files if after else {}).keys()
    ):
        a_id = before.vault_files.get(file) if before else None
        b_id = after.vault_files.get(file) if after else None
        if a_id != b_id:
            kind = "added" if a_id is None else "removed" if b_id is None else "changed"
            changes.append(VarChange(f"file {file}", "(vault-encrypted file)", kind, None, None))
    changes.sort(key=lambda c: (c.scope, c.key))
    return changes


def _direct_groups(client: Client | None) -> dict[str, set[str]]:
    if client is None:
        return {}
    out: dict[str, set[str]] = {h: set() for h in client.tree.hosts}
    for group, hosts in client.tree.direct.items():
        for host in hosts:
            out.setdefault(host, set()).add(group)
    return out


def _roles_by_host(client: Client | None) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    if client is None:
        return out
    for role, hosts in client.plan().items():
        for host in hosts:
            out.setdefault(host, set()).add(role)
    return out


def diff_hosts(before: Client | None, after: Client | None) -> tuple[list[HostChange], list[RoleChange]]:
    a, b = _direct_groups(before), _direct_groups(after)
    hosts: list[HostChange] = []
    for host in sorted(a.keys() | b.keys()):
        ga, gb = sorted(a.get(host, ())), sorted(b.get(host, ()))
        if host not in a:
            hosts.append(HostChange(host, "added", [], gb))
        elif host not in b:
            hosts.append(HostChange(host, "removed", ga, []))
        elif ga != gb:
            hosts.append(HostChange(host, "moved", ga, gb))
    ra, rb = _roles_by_host(before), _roles_by_host(after)
    roles = [
        RoleChange(
            host,
            sorted(rb.get(host, set()) - ra.get(host, set())),
            sorted(ra.get(host, set()) - rb.get(host, set())),
        )
        for host in sorted(ra.keys() | rb.keys())
        if ra.get(host, set()) != rb.get(host, set())
    ]
    return hosts, roles


def _window_text(schedule: Schedule) -> str:
    w = schedule.window
    length = f"{w.duration_minutes} min" if w.duration_minutes is not None else f"until {w.end:%H:%M}"
    return f"{length}, runs need {w.min_run_minutes} min"


def describe_schedule(schedule: Schedule, tz: str) -> str:
    state = "" if schedule.enabled else " (disabled)"
    return (
        f"`{schedule.cron}` {tz}, {schedule.mode.value}, roles {', '.join(schedule.roles)}; "
        f"window {_window_text(schedule)}{state}"
    )


def schedule_occurrences(
    client: str, settings: ClientSettings, schedule: str, now: datetime, count: int = OCCURRENCES
) -> list[str]:
    """The next ``count`` windows of one schedule after ``now`` in the client's time zone, blackout days
    and holidays applied (:func:`runner.schedule.next_occurrences`); skipped ones are listed and marked."""
    shown = []
    for occ in next_occurrences(client, settings, now, count, schedules=[schedule]):
        start, end = occ.local_start, occ.local_end
        days = (end.date() - start.date()).days
        text = f"{start:%a %Y-%m-%d %H:%M}-{end:%H:%M}{f' (+{days}d)' if days else ''} {start:%Z}"
        if occ.plan is Plan.SKIPPED:
            text += " [skipped]"
        elif occ.plan is Plan.MOVED and occ.moved_from is not None:
            text += f" [moved from {occ.moved_from}]"
        shown.append(text)
    return shown


def diff_schedules(
    client: str, before: ClientSettings | None, after: ClientSettings | None, now: datetime
) -> tuple[list[ScheduleChange], list[VarChange]]:
    sa = {s.name: s for s in before.schedules} if before else {}
    sb = {s.name: s for s in after.schedules} if after else {}
    changes: list[ScheduleChange] = []
    for name in sorted(sa.keys() | sb.keys()):
        a, b = sa.get(name), sb.get(name)
        if a is not None and b is not None and a == b and before == after:
            continue
        next_a = schedule_occurrences(client, before, name, now) if a and before else []
        next_b = schedule_occurrences(client, after, name, now) if b and after else []
        if a is not None and a == b and next_a == next_b:
            continue  # same schedule, other settings changed without moving it
        kind = "added" if a is None else "removed" if b is None else "changed"
        changes.append(
            ScheduleChange(
                name,
                kind,
                describe_schedule(a, before.timezone) if a and before else None,
                describe_schedule(b, after.timezone) if b and after else None,
                next_a,
                next_b,
            )
        )
    windows: list[VarChange] = []
    ba = before.blackout.model_dump(mode="json") if before else {}
    bb = after.blackout.model_dump(mode="json") if after else {}
    for key in ("dates", "holidays", "on_holiday"):
        if key == "dates":
            for d in sorted(set(ba.get("dates", [])) - set(bb.get("dates", []))):
                windows.append(VarChange("blackout", "dates", "removed", d, None))
            for d in sorted(set(bb.get("dates", [])) - set(ba.get("dates", []))):
                windows.append(VarChange("blackout", "dates", "added", None, d))
        elif ba.get(key) != bb.get(key):
            windows.append(
                VarChange("blackout", key, "changed", show(key, ba.get(key)), show(key, bb.get(key)))
            )
    return changes, windows


def _role_defaults() -> dict[str, dict[str, Any]]:
    from runner import evaluators

    out: dict[str, dict[str, Any]] = {}
    for ev in evaluators.registry().values():
        out.setdefault(ev.role, {}).update(ev.defaults)
    return out


def _judge(rule: ThresholdRule | None, old: Any, new: Any) -> tuple[str, bool]:
    """("loosened"/"tightened"/"changed", past the rule's limit)."""
    if rule is None:
        return "changed", False
    if rule.direction is Direction.MORE_LOOSER:
        if not isinstance(old, list | tuple) or not isinstance(new, list | tuple):
            return "changed", False
        grew, shrank = set(map(str, new)) - set(map(str, old)), set(map(str, old)) - set(map(str, new))
        kind = "loosened" if grew and not shrank else "tightened" if shrank and not grew else "changed"
        past = kind == "loosened" and rule.limit is not None and len(new) > rule.limit
        return kind, past
    numbers = (int, float)
    if (
        not isinstance(old, numbers)
        or not isinstance(new, numbers)
        or isinstance(old, bool)
        or isinstance(new, bool)
    ):
        return "changed", False
    looser = new > old if rule.direction is Direction.HIGHER_LOOSER else new < old
    if new == old:
        return "changed", False
    past = False
    if looser and rule.limit is not None:
        past = new > rule.limit if rule.direction is Direction.HIGHER_LOOSER else new < rule.limit
    return ("loosened" if looser else "tightened"), past


def diff_thresholds(
    before: ClientSettings | None, after: ClientSettings | None, defaults: Mapping[str, Mapping[str, Any]]
) -> tuple[list[ThresholdChange], list[tuple[ThresholdChange, ThresholdRule]]]:
    ta = before.thresholds if before else {}
    tb = after.thresholds if after else {}
    changes: list[ThresholdChange] = []
    past: list[tuple[ThresholdChange, ThresholdRule]] = []
    for role in sorted(ta.keys() | tb.keys()):
        role_defaults = defaults.get(role, {})
        a, b = ta.get(role, {}), tb.get(role, {})
        for name in sorted(a.keys() | b.keys()):
            old = a.get(name, role_defaults.get(name))
            new = b.get(name, role_defaults.get(name))
            if old == new:
                continue
            rule = threshold_rule(name)
            kind, beyond = _judge(rule, old, new)
            shown_old = show(name, old) + (" (default)" if name not in a and old is not None else "")
            shown_new = show(name, new) + (" (default)" if name not in b and new is not None else "")
            change = ThresholdChange(role, name, shown_old, shown_new, kind)
            changes.append(change)
            if beyond and rule is not None:
                past.append((change, rule))
    return changes, past


def _expiry(waiver: Waiver | None) -> str | None:
    return None if waiver is None or waiver.expires is None else waiver.expires.isoformat()


def diff_waivers(
    before: ClientSettings | None, after: ClientSettings | None
) -> list[tuple[WaiverChange, Waiver | None]]:
    wa = {(w.control, w.hosts): w for w in (before.waivers if before else [])}
    wb = {(w.control, w.hosts): w for w in (after.waivers if after else [])}
    out: list[tuple[WaiverChange, Waiver | None]] = []
    for key in sorted(wa.keys() | wb.keys()):
        a, b = wa.get(key), wb.get(key)
        if a == b:
            continue
        if a is None:
            kind = "added"
        elif b is None:
            kind = "removed"
        elif a.expires != b.expires:
            later = b.expires is None or (a.expires is not None and b.expires > a.expires)
            kind = "extended" if later else "shortened"
        else:
            kind = "changed"
        shown = b or a
        assert shown is not None
        out.append((WaiverChange(key[0], key[1], kind, shown.owner, _expiry(a), _expiry(b)), b))
    return out


# --------------------------------------------------------------------------- renames


def _lines(side: Side, client: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for inner in side.listing[client]:
        try:
            out[inner] = side.read(client, inner).decode("utf-8", errors="replace").splitlines()
        except OSError:
            out[inner] = []
    return out


def similarity(a: Mapping[str, list[str]], b: Mapping[str, list[str]]) -> float:
    """Share of lines two client folders have in common (same file path, same line), 0..1."""
    total = sum(len(v) for v in a.values()) + sum(len(v) for v in b.values())
    if not total:
        return 0.0
    common = 0
    for path in a.keys() & b.keys():
        counts: dict[str, int] = {}
        for line in a[path]:
            counts[line] = counts.get(line, 0) + 1
        for line in b[path]:
            if counts.get(line, 0) > 0:
                counts[line] -= 1
                common += 1
    return 2 * common / total


# --------------------------------------------------------------------------- the review


@dataclass(frozen=True)
class ReviewRequest:
    base: str | None = None
    head: str | None = None  # None: the working tree
    path: str | None = None  # folder of the client folders; relative to cwd; default: <repo>/inventories
    cwd: Path | None = None
    max_waiver_days: int = DEFAULT_MAX_WAIVER_DAYS
    now: datetime | None = None
    ledger_url: str | None = None


@contextmanager
def _private_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="maint-review-") as tmp:
        Path(tmp).chmod(0o700)
        yield Path(tmp)


def _side(repo: Path, commit: str | None, label: str, prefix: str, tmp: Path) -> Side:
    if commit is None:
        inventories = repo / prefix if prefix else repo
        return Side(label, None, inventories, list_worktree(repo, prefix), _roles_at(repo, None))
    inventories = tmp / commit[:12] / (PurePosixPath(prefix).name or "inventories")
    inventories.mkdir(parents=True, mode=0o700)
    return Side(label, commit, inventories, list_revision(repo, commit, prefix), _roles_at(repo, commit))


def _prefix(repo: Path, path: str | None, cwd: Path) -> str:
    if path is None:
        return "inventories"
    target = Path(path)
    target = (cwd / target).resolve() if not target.is_absolute() else target.resolve()
    try:
        rel = target.relative_to(repo.resolve())
    except ValueError:
        raise ReviewError(f"{path} is not inside the repository {repo}") from None
    return rel.as_posix() if str(rel) != "." else ""


def review(request: ReviewRequest) -> Review:
    """Compare the inventories of ``request.base`` and ``request.head`` (see the module docstring)."""
    cwd = (request.cwd or Path.cwd()).resolve()
    repo = find_repository(cwd)
    if request.base is None:
        base_sha, base_label = default_base(repo)
    else:
        base_sha, base_label = resolve(repo, request.base), request.base
    head_sha = resolve(repo, request.head) if request.head is not None else None
    head_label = request.head if request.head is not None else "working tree"
    prefix = _prefix(repo, request.path, cwd)
    now = request.now or datetime.now(UTC)
    with _private_dir() as tmp:
        base = _side(repo, base_sha, base_label, prefix, tmp)
        head = _side(repo, head_sha, head_label, prefix, tmp)
        if not base.listing and not head.listing:
            where = prefix or "the top of the repository"
            raise ReviewError(f"no client folders under {where} in {base_label} or {head_label}")
        return _review(repo, prefix, base, head, request, now)


def _review(repo: Path, prefix: str, base: Side, head: Side, request: ReviewRequest, now: datetime) -> Review:
    removed = sorted(base.listing.keys() - head.listing.keys())
    added = sorted(head.listing.keys() - base.listing.keys())
    modified = sorted(
        c
        for c in base.listing.keys() & head.listing.keys()
        if base.listing[c] != head.listing[c] or base.roles != head.roles
    )
    # write what is needed: changed clients in full, every head client's hosts file (duplicate hosts)
    for side, names in ((base, [*removed, *modified]), (head, [*added, *modified])):
        if side.commit is not None:
            files: dict[str, Iterable[str]] = {c: side.listing[c] for c in names}
            for c in side.listing.keys() - set(names):
                if side is head:
                    files[c] = [f for f in HOSTS_FILES if f in side.listing[c]]
            _materialise(repo, side, files)
    renames: list[tuple[str, str, float]] = []
    if removed and added:
        lines_a = {c: _lines(base, c) for c in removed}
        lines_b = {c: _lines(head, c) for c in added}
        scores = sorted(
            ((similarity(lines_a[a], lines_b[b]), a, b) for a in removed for b in added), reverse=True
        )
        for score, a, b in scores:
            if score < RENAME_SIMILARITY or a not in removed or b not in added:
                continue
            removed.remove(a)
            added.remove(b)
            renames.append((a, b, round(score, 3)))

    findings: list[ReviewFinding] = []
    secrets: set[str] = set()
    cache: ParseCache = {}
    defaults = _role_defaults()
    reviews: list[ClientReview] = []
    removed_hosts: list[tuple[str, str]] = []
    changed_names: set[str] = set()
    pairs: list[tuple[str, str | None, str | None, float | None]] = [
        *((n, n, None, None) for n in modified),
        *((n, None, n, None) for n in added),
        *((n, n, None, None) for n in removed),
        *((b, a, b, s) for a, b, s in renames),
    ]
    for name, old_name, new_name, sim in pairs:
        is_removed = name in removed
        before = load_state(base, old_name, cache) if old_name is not None else None
        after = None if is_removed else load_state(head, new_name or name, cache)
        change = (
            "removed"
            if is_removed
            else "added"
            if old_name is None
            else "renamed"
            if new_name
            else "modified"
        )
        cr = ClientReview(
            name, change, renamed_from=old_name if change == "renamed" else None, similarity=sim
        )
        _compare(cr, before, after, now, defaults, request.max_waiver_days, findings)
        if after is not None:
            changed_names.add(name)
            for file, key, rule, value in after.secrets:
                secrets.add(value)
                where = f"{file}: {key}" if key else file
                findings.append(
                    ReviewFinding(
                        Level.ERROR,
                        "plaintext-secret",
                        name,
                        where,
                        f"plaintext secret ({rule}); encrypt it with ansible-vault (value not shown)",
                    )
                )
            for file, key, risks, text in after.templates:
                findings.append(
                    ReviewFinding(
                        Level.ERROR,
                        "controller-template",
                        name,
                        f"{file}: {key}" if key else file,
                        f"template runs on the controller as the user of maint ({risks}): {text}",
                    )
                )
            for problem in [*after.problems, *after.bad_files]:
                findings.append(
                    ReviewFinding(Level.ERROR, "schema-error", name, problem.file, _problem_text(problem))
                )
        if before is not None:
            secrets.update(value for _, _, _, value in before.secrets)
        removed_hosts += [(old_name or name, h.host) for h in cr.hosts if h.change == "removed"]
        reviews.append(cr)

    findings += _duplicate_hosts(head, changed_names, cache)
    notes: list[str] = []
    findings += _failing_removed_hosts(removed_hosts, request.ledger_url, notes)
    order = {Level.ERROR: 0, Level.WARNING: 1}
    findings.sort(key=lambda f: (order[f.level], f.client, f.code, f.where))
    reviews.sort(key=lambda r: r.name)
    return Review(
        repository=str(repo),
        path=prefix or ".",
        base=base.commit or "",
        base_label=base.label,
        head=head.commit,
        head_label=head.label,
        clients_total=len(head.listing),
        clients=reviews,
        findings=findings,
        notes=notes,
        secrets={s for s in secrets if len(s) >= 4},
    )


def _problem_text(problem: Problem) -> str:
    return f"{problem.key}: {problem.message}" if problem.key else problem.message


def _compare(
    cr: ClientReview,
    before: ClientState | None,
    after: ClientState | None,
    now: datetime,
    defaults: Mapping[str, Mapping[str, Any]],
    max_waiver_days: int,
    findings: list[ReviewFinding],
) -> None:
    cr.variables = diff_variables(before, after)
    for label, state in (("BASE", before), ("HEAD", after)):
        if state is not None and state.client is None:
            cr.notes.append(
                f"{label} does not validate: hosts, roles and settings are compared as far as possible"
            )
    a = before.client if before else None
    b = after.client if after else None
    if (before is not None and a is None) or (after is not None and b is None):
        return
    cr.hosts, cr.roles = diff_hosts(a, b)
    sa, sb = (a.settings if a else None), (b.settings if b else None)
    cr.schedules, cr.windows = diff_schedules(cr.name, sa, sb, now)
    cr.thresholds, past = diff_thresholds(sa, sb, defaults)
    for change, rule in past:
        findings.append(
            ReviewFinding(
                Level.WARNING,
                "threshold-loosened",
                cr.name,
                f"maintenance.thresholds.{change.role}.{change.name}",
                f"loosened from {change.old} to {change.new}, past the limit {rule.limit:g}",
            )
        )
    if sb is None:
        cr.waivers = [c for c, _ in diff_waivers(sa, sb)]
        return
    today = now.astimezone(ZoneInfo(sb.timezone)).date()
    for wchange, waiver in diff_waivers(sa, sb):
        cr.waivers.append(wchange)
        if waiver is None or wchange.change in ("removed", "shortened"):
            continue
        where = f"maintenance.waivers[{wchange.control} on {wchange.hosts}]"
        if waiver.expires is None:
            findings.append(
                ReviewFinding(
                    Level.WARNING,
                    "waiver-no-expiry",
                    cr.name,
                    where,
                    f"waiver by {waiver.owner} never expires",
                )
            )
        elif (waiver.expires - today).days > max_waiver_days:
            findings.append(
                ReviewFinding(
                    Level.WARNING,
                    "waiver-too-long",
                    cr.name,
                    where,
                    f"waiver by {waiver.owner} runs until {waiver.expires} "
                    f"({(waiver.expires - today).days} days, limit {max_waiver_days})",
                )
            )


def _duplicate_hosts(head: Side, changed: set[str], cache: ParseCache) -> list[ReviewFinding]:
    owners: dict[str, list[str]] = {}
    for client, files in head.listing.items():
        hosts_file = next((f for f in HOSTS_FILES if f in files), None)
        if hosts_file is None:
            continue
        parsed = parse(head, client, hosts_file, cache)
        for host in host_names(parsed.data):
            owners.setdefault(host, []).append(client)
    out = []
    for host, clients in sorted(owners.items()):
        if len(clients) > 1 and changed & set(clients):
            for client in sorted(changed & set(clients)):
                others = ", ".join(c for c in sorted(clients) if c != client)
                out.append(
                    ReviewFinding(
                        Level.WARNING,
                        "host-in-two-clients",
                        client,
                        host,
                        f"host {host} is also in client {others}",
                    )
                )
    return out


def _ledger_url() -> str:
    """The ledger's URL as :func:`runner.ledger.default_url` finds it, without creating var/."""
    env = os.environ.get("MAINT_DB_URL")
    if env:
        return env
    var = os.environ.get("MAINT_VAR")
    base = Path(var).expanduser().resolve() if var else paths.project_root() / "var"
    return f"sqlite:///{base / 'ledger.db'}"


def _ledger_present(url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return True
    database = parsed.database or ""
    return database not in ("", ":memory:") and Path(database).expanduser().is_file()


def _failing_removed_hosts(
    removed: Sequence[tuple[str, str]], url: str | None, notes: list[str]
) -> list[ReviewFinding]:
    """A removed host whose latest recorded checks still fail; skipped when there is no ledger."""
    if not removed:
        return []
    from runner.ledger import Ledger, LedgerError
    from runner.results import Status

    url = url or _ledger_url()
    if not _ledger_present(url):
        return []
    out = []
    try:
        with Ledger(url) as ledger:
            for client, host in removed:
                failing = sorted(
                    {r.control for r in ledger.latest_results(client, host) if r.status is Status.FAIL}
                )
                if failing:
                    out.append(
                        ReviewFinding(
                            Level.WARNING,
                            "removed-host-failing",
                            client,
                            host,
                            f"removed while its latest checks still fail: {', '.join(failing)}",
                        )
                    )
    except LedgerError as exc:
        log.warning("ledger not read: %s", exc)
        notes.append(f"the ledger could not be read, removed hosts were not checked: {exc}")
    return out


# --------------------------------------------------------------------------- rendering


MARKER = "<!-- maint-inventory-review -->"
_ICON = {Level.ERROR: "❌ error", Level.WARNING: "⚠️ warning"}


def _cell(text: Any) -> str:
    return _printable(str(text).replace("|", "\\|").replace("\n", " "))


def _code(text: str) -> str:
    return f"`{text}`" if "`" not in text else text


def render_markdown(report: Review) -> str:
    """The review as Markdown for a pull-request comment: findings first, then a table, then per client."""
    out: list[str] = [MARKER]
    head = report.head[:10] if report.head else "working tree"
    label = "" if report.base.startswith(report.base_label) else f" ({_cell(report.base_label)})"
    out.append(f"## Inventory review: `{report.base[:10]}`{label} → {_code(head) if report.head else head}")
    out.append("")
    e, w = len(report.errors), len(report.warnings)
    verdict = "❌" if e else "⚠️" if w else "✅"
    out.append(
        f"{verdict} **{e} error(s), {w} warning(s)** · {len(report.clients)} client(s) changed "
        f"of {report.clients_total} under `{report.path}`"
    )
    out.append("")
    if report.findings:
        out += ["### Findings", "", "| severity | client | where | finding |", "|---|---|---|---|"]
        for f in report.findings:
            out.append(f"| {_ICON[f.level]} | {_cell(f.client)} | `{_cell(f.where)}` | {_cell(f.message)} |")
        out.append("")
    if report.clients:
        out += [
            "### Summary",
            "",
            "| client | change | hosts +/-/moved | roles changed on | variables | schedules "
            "| thresholds | waivers |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for c in report.clients:
            plus = sum(1 for h in c.hosts if h.change == "added")
            minus = sum(1 for h in c.hosts if h.change == "removed")
            moved = sum(1 for h in c.hosts if h.change == "moved")
            change = f"renamed from {c.renamed_from}" if c.renamed_from else c.change
            out.append(
                f"| {_cell(c.name)} | {_cell(change)} | +{plus} / -{minus} / {moved} | "
                f"{len(c.roles)} host(s) | {len(c.variables)} | {len(c.schedules) + len(c.windows)} | "
                f"{len(c.thresholds)} | {len(c.waivers)} |"
            )
        out.append("")
    else:
        out += ["No client inventory changed.", ""]
    for c in report.clients:
        out += _client_markdown(c)
    for note in report.notes:
        out.append(f"> {note}")
    return report.scrub("\n".join(out).rstrip() + "\n")


def _client_markdown(c: ClientReview) -> list[str]:
    title = f"### {c.name}"
    if c.renamed_from:
        title += f" (renamed from {c.renamed_from}, {c.similarity:.0%} the same)"
    elif c.change in ("added", "removed"):
        title += f" ({c.change})"
    out = [title, ""]
    out += [f"> {n}" for n in c.notes]
    if c.notes:
        out.append("")
    if c.hosts:
        out += ["**Hosts**", ""]
        for h in c.hosts:
            if h.change == "added":
                out.append(f"- added `{h.host}` in {', '.join(h.groups_after) or 'no group'}")
            elif h.change == "removed":
                out.append(f"- removed `{h.host}` (was in {', '.join(h.groups_before) or 'no group'})")
            else:
                out.append(f"- moved `{h.host}`: {', '.join(h.groups_before)} → {', '.join(h.groups_after)}")
        out.append("")
    if c.roles:
        out += ["**Roles per host** (lost roles stop being checked)", ""]
        for r in c.roles:
            parts = [f"+{x}" for x in r.gained] + [f"-{x} (stops being checked)" for x in r.lost]
            out.append(f"- `{r.host}`: {', '.join(parts)}")
        out.append("")
    if c.variables:
        out += ["**Variables**", ""]
        for v in c.variables:
            out.append(f"- {_var_line(v)}")
        out.append("")
    if c.schedules or c.windows:
        out += ["**Schedules and windows**", ""]
        for s in c.schedules:
            out.append(f"- `{s.name}` {s.change}")
            if s.before:
                out.append(f"  - before: {s.before}")
            if s.after:
                out.append(f"  - after: {s.after}")
            if s.change != "added":
                out.append(f"  - next before: {'; '.join(s.next_before) or 'none'}")
            if s.change != "removed":
                out.append(f"  - next after: {'; '.join(s.next_after) or 'none'}")
        for v in c.windows:
            out.append(f"- {_var_line(v)}")
        out.append("")
    if c.thresholds:
        out += [
            "**Thresholds**",
            "",
            "| role | threshold | before | after | change |",
            "|---|---|---|---|---|",
        ]
        for t in c.thresholds:
            out.append(f"| {t.role} | `{t.name}` | {_cell(t.old)} | {_cell(t.new)} | {t.change} |")
        out.append("")
    if c.waivers:
        out += ["**Waivers**", "", "| control | hosts | change | owner | expires before | expires after |"]
        out.append("|---|---|---|---|---|---|")
        for wv in c.waivers:
            before = wv.expires_before or ("—" if wv.change == "added" else "never")
            after = wv.expires_after or ("—" if wv.change == "removed" else "never")
            out.append(
                f"| {wv.control} | `{_cell(wv.hosts)}` | {wv.change} | {_cell(wv.owner)} "
                f"| {before} | {after} |"
            )
        out.append("")
    return out


def _var_line(v: VarChange) -> str:
    where = f"{v.scope}: " if v.scope else ""
    if v.change == "added":
        return f"{where}`{v.key}`: (added) → {_cell(v.new)}"
    if v.change == "removed":
        return f"{where}`{v.key}`: {_cell(v.old)} → (removed)"
    if v.change == "moved":
        return f"{where}`{v.key}`: moved from {v.moved_from} (value {_cell(v.new)})"
    if v.old is None and v.new is None:
        return f"{where}{v.key} {v.change}"
    return f"{where}`{v.key}`: {_cell(v.old)} → {_cell(v.new)}"


def render_json(report: Review) -> str:
    return report.scrub(json.dumps(report.as_dict(), indent=2, default=str, ensure_ascii=False)) + "\n"
