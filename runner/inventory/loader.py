"""Load and validate a client's inventory folder without running Ansible.

A client is ``inventories/<client>/``: an Ansible YAML inventory (``hosts.yml``) plus its
settings under ``group_vars/all/`` (the ``maintenance`` variable, see :mod:`.schema`).
Every problem names the file, the key path and what was expected.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from runner import paths
from runner.inventory.schema import ClientSettings, slug_ok

log = logging.getLogger(__name__)

HOSTS_FILES = ("hosts.yml", "hosts.yaml")
SETTINGS_KEY = "maintenance"


@dataclass(frozen=True)
class Problem:
    file: str
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: {self.message}"


class InventoryError(Exception):
    """A client's inventory cannot be used; ``problems`` says every reason."""

    def __init__(self, client: str, problems: list[Problem]) -> None:
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"inventory of client {client!r} is invalid:\n{lines}")
        self.client = client
        self.problems = problems


class UnknownClientError(Exception):
    def __init__(self, client: str, inventories: Path, known: list[str]) -> None:
        known_txt = ", ".join(known) or "none"
        super().__init__(f"no client {client!r} under {inventories} (clients: {known_txt})")
        self.client = client


class VaultValue(str):
    """An inline ``!vault`` value: kept opaque, never decrypted for validation."""

    __slots__ = ()


class _InventoryLoader(yaml.SafeLoader):
    """SafeLoader that understands Ansible's ``!vault`` and ``!unsafe`` tags."""


def _vault(loader: yaml.SafeLoader, node: yaml.Node) -> VaultValue:
    return VaultValue(loader.construct_scalar(node))  # type: ignore[arg-type]


def _unsafe(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_InventoryLoader.add_constructor("!vault", _vault)
_InventoryLoader.add_constructor("!unsafe", _unsafe)


def is_vault_file(text: str) -> bool:
    return text.lstrip().startswith("$ANSIBLE_VAULT;")


def load_yaml(path: Path, rel: str) -> tuple[Any, list[Problem]]:
    """Parse one YAML file; a vault-encrypted file yields ``None`` (opaque, not an error)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(rel, "", f"cannot read file: {exc}")]
    if is_vault_file(text):
        return None, []
    try:
        return yaml.load(text, Loader=_InventoryLoader), []  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(rel, where, f"not valid YAML: {problem}")]


@dataclass
class HostTree:
    """Groups and hosts of an Ansible YAML inventory, resolved without Ansible."""

    hosts: dict[str, set[str]] = field(default_factory=dict)  # host -> every group it is in
    groups: dict[str, set[str]] = field(default_factory=dict)  # group -> direct children groups
    direct: dict[str, set[str]] = field(default_factory=dict)  # group -> direct hosts

    def members(self, group: str) -> set[str]:
        seen: set[str] = set()
        stack = [group]
        out: set[str] = set()
        while stack:
            g = stack.pop()
            if g in seen:
                continue
            seen.add(g)
            out |= self.direct.get(g, set())
            stack.extend(self.groups.get(g, set()))
        if group == "all":
            out |= set(self.hosts)
        return out

    def match(self, pattern: str) -> set[str]:
        """Hosts matched by an Ansible pattern: ``a,b``, ``a:b``, ``a:&b``, ``a:!b``, ``web*``, ``~re``."""
        parts = [p for p in re.split(r"[,:]", pattern) if p.strip()]
        selected: set[str] = set()
        for raw in parts:
            part = raw.strip()
            if part.startswith("!"):
                selected -= self._atom(part[1:])
            elif part.startswith("&"):
                selected &= self._atom(part[1:])
            else:
                selected |= self._atom(part)
        return selected

    def _atom(self, atom: str) -> set[str]:
        if atom in ("all", "*"):
            return set(self.hosts)
        if atom.startswith("~"):
            rx = re.compile(atom[1:])
            hosts = {h for h in self.hosts if rx.search(h)}
            for g in self.groups:
                if rx.search(g):
                    hosts |= self.members(g)
            return hosts
        if atom in self.groups:
            return self.members(atom)
        if atom in self.hosts:
            return {atom}
        hosts = {h for h in self.hosts if fnmatch.fnmatchcase(h, atom)}
        for g in self.groups:
            if fnmatch.fnmatchcase(g, atom):
                hosts |= self.members(g)
        return hosts


def _walk_group(
    tree: HostTree, name: str, body: Any, rel: str, key: str, problems: list[Problem], depth: int = 0
) -> None:
    tree.groups.setdefault(name, set())
    tree.direct.setdefault(name, set())
    if body is None:
        return
    if not isinstance(body, Mapping):
        problems.append(Problem(rel, key, f"expected a mapping with hosts/children/vars, got {_kind(body)}"))
        return
    for sub in body:
        if sub not in ("hosts", "children", "vars"):
            problems.append(
                Problem(rel, f"{key}.{sub}", "unknown key; expected one of hosts, children, vars")
            )
    hosts = body.get("hosts")
    if hosts is not None:
        if not isinstance(hosts, Mapping):
            problems.append(
                Problem(rel, f"{key}.hosts", f"expected a mapping of host names, got {_kind(hosts)}")
            )
        else:
            for host, hvars in hosts.items():
                if hvars is not None and not isinstance(hvars, Mapping):
                    problems.append(
                        Problem(
                            rel,
                            f"{key}.hosts.{host}",
                            f"expected host variables (a mapping), got {_kind(hvars)}",
                        )
                    )
                tree.hosts.setdefault(str(host), set()).add(name)
                tree.direct[name].add(str(host))
    vars_ = body.get("vars")
    if vars_ is not None and not isinstance(vars_, Mapping):
        problems.append(Problem(rel, f"{key}.vars", f"expected a mapping, got {_kind(vars_)}"))
    children = body.get("children")
    if children is not None:
        if not isinstance(children, Mapping):
            problems.append(
                Problem(rel, f"{key}.children", f"expected a mapping of groups, got {_kind(children)}")
            )
        elif depth > 20:
            problems.append(Problem(rel, key, "groups nested more than 20 deep (a cycle?)"))
        else:
            for child, child_body in children.items():
                tree.groups[name].add(str(child))
                _walk_group(tree, str(child), child_body, rel, f"{key}.children.{child}", problems, depth + 1)


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _fill_group_membership(tree: HostTree) -> None:
    for group in list(tree.groups):
        for host in tree.members(group):
            tree.hosts.setdefault(host, set()).add(group)
    for host in tree.hosts:
        tree.hosts[host].add("all")


@dataclass
class Client:
    name: str
    path: Path
    settings: ClientSettings
    settings_file: Path
    tree: HostTree

    def hosts_for_role(self, role: str, limit: str | None = None) -> list[str]:
        patterns = self.settings.roles.get(role, [])
        hosts: set[str] = set()
        for pattern in patterns:
            hosts |= self.tree.match(pattern)
        if limit:
            hosts &= self.tree.match(limit)
        return sorted(hosts)

    def plan(self, roles: Iterable[str] | None = None, limit: str | None = None) -> dict[str, list[str]]:
        """role -> hosts it runs on, for the requested roles (all of the client's when None)."""
        wanted = list(roles) if roles else list(self.settings.roles)
        return {role: self.hosts_for_role(role, limit) for role in wanted}


def known_roles(roles_dir: Path | None = None) -> set[str]:
    base = roles_dir or paths.roles_dir()
    if not base.is_dir():
        return set()
    return {p.name for p in base.iterdir() if (p / "tasks" / "main.yml").is_file()}


def list_clients(inventories: Path | None = None) -> list[str]:
    base = inventories or paths.inventories_dir()
    if not base.is_dir():
        return []
    return sorted(
        p.name for p in base.iterdir() if p.is_dir() and any((p / f).is_file() for f in HOSTS_FILES)
    )


def _settings_files(root: Path) -> Iterator[Path]:
    single = [root / "group_vars" / "all.yml", root / "group_vars" / "all.yaml"]
    yield from (p for p in single if p.is_file())
    folder = root / "group_vars" / "all"
    if folder.is_dir():
        yield from sorted(p for p in folder.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())


def _loc(loc: tuple[int | str, ...]) -> str:
    out = SETTINGS_KEY
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _expected(err: Mapping[str, Any]) -> str:
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err["type"] == "missing":
        return "required key is missing"
    if err["type"] == "extra_forbidden":
        return "unknown key (not part of the client settings schema)"
    given = err.get("input")
    if err["type"] not in ("value_error",) and not isinstance(given, Mapping | list) and given is not None:
        return f"{msg} (got {given!r})"
    return msg


def validate_client(
    name: str, inventories: Path | None = None, roles: set[str] | None = None
) -> tuple[Client | None, list[Problem]]:
    """Load ``inventories/<name>``; return the client (when valid) and every problem found."""
    base = inventories or paths.inventories_dir()
    root = base / name
    if not root.is_dir():
        raise UnknownClientError(name, base, list_clients(base))
    problems: list[Problem] = []
    if not slug_ok(name):
        problems.append(
            Problem(name, "", "client folder names use lower-case letters, digits, '-', '_' and '.'")
        )

    def rel(p: Path) -> str:
        try:
            return str(p.relative_to(base.parent))
        except ValueError:
            return str(p)

    tree = HostTree()
    hosts_file = next((root / f for f in HOSTS_FILES if (root / f).is_file()), None)
    if hosts_file is None:
        problems.append(
            Problem(rel(root / "hosts.yml"), "", "missing: every client needs a hosts.yml inventory")
        )
    else:
        data, errs = load_yaml(hosts_file, rel(hosts_file))
        problems += errs
        if data is None and not errs:
            problems.append(Problem(rel(hosts_file), "", "the inventory is empty"))
        elif data is not None and not isinstance(data, Mapping):
            problems.append(Problem(rel(hosts_file), "", f"expected a mapping of groups, got {_kind(data)}"))
        elif isinstance(data, Mapping):
            for group, body in data.items():
                _walk_group(tree, str(group), body, rel(hosts_file), str(group), problems)
            _fill_group_membership(tree)
            if not tree.hosts:
                problems.append(Problem(rel(hosts_file), "", "no hosts defined"))

    raw_settings: Any = None
    settings_file: Path | None = None
    for candidate in _settings_files(root):
        data, errs = load_yaml(candidate, rel(candidate))
        problems += errs
        if isinstance(data, Mapping) and SETTINGS_KEY in data:
            if settings_file is not None:
                problems.append(
                    Problem(rel(candidate), SETTINGS_KEY, f"defined again (already in {rel(settings_file)})")
                )
                continue
            raw_settings, settings_file = data[SETTINGS_KEY], candidate
    if settings_file is None:
        problems.append(
            Problem(
                rel(root / "group_vars" / "all" / "maintenance.yml"),
                SETTINGS_KEY,
                "missing: the client settings (display_name, timezone, contacts, roles…) are required",
            )
        )
        return None, problems

    known = roles if roles is not None else known_roles()
    try:
        settings = ClientSettings.model_validate(raw_settings, context={"known_roles": known})
    except ValidationError as exc:
        for err in exc.errors():
            problems.append(Problem(rel(settings_file), _loc(err["loc"]), _expected(err)))
        return None, problems

    for role, patterns in settings.roles.items():
        for i, pattern in enumerate(patterns):
            if tree.hosts and not tree.match(pattern):
                problems.append(
                    Problem(
                        rel(settings_file),
                        f"{SETTINGS_KEY}.roles.{role}[{i}]",
                        f"{pattern!r} matches no group or host of the inventory",
                    )
                )
    if problems:
        return None, problems
    return Client(name=name, path=root, settings=settings, settings_file=settings_file, tree=tree), []


def load_client(name: str, inventories: Path | None = None, roles: set[str] | None = None) -> Client:
    """Load a valid client or raise :class:`InventoryError` listing every problem."""
    client, problems = validate_client(name, inventories, roles)
    if client is None:
        raise InventoryError(name, problems)
    return client
