"""Load and validate a client's inventory folder without running Ansible.

A client is ``inventories/<client>/``: an Ansible YAML inventory (``hosts.yml``) plus its
settings under ``group_vars/all/`` (the ``maintenance`` variable, see :mod:`.schema`).
Every problem names the file, the key path and what was expected.
"""

from __future__ import annotations

import fnmatch
import logging
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from runner import controls, paths, safeyaml
from runner.inventory.patterns import (
    SUBSCRIPT,
    AnsibleHosts,
    expand_host_range,
    pattern_problem,
    split_pattern,
)
from runner.inventory.schema import ClientSettings, slug_ok
from runner.inventory.templating import has_template

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


def is_vault_file(text: str) -> bool:
    return text.lstrip().startswith("$ANSIBLE_VAULT;")


def load_yaml(path: Path, rel: str) -> tuple[Any, list[Problem]]:
    """Parse one YAML file within :mod:`runner.safeyaml`'s limits; a vault-encrypted file yields ``None``
    (opaque, not an error). Every refusal is a problem naming the file and the key path or line."""
    try:
        raw = safeyaml.read_limited(path, safeyaml.MAX_BYTES, "document")
        text = raw.decode("utf-8")
    except OSError as exc:
        return None, [Problem(rel, "", f"cannot read file: {exc.strerror or exc}")]
    except UnicodeDecodeError as exc:
        return None, [Problem(rel, "", f"not UTF-8 text (byte {exc.start})")]
    except safeyaml.YAMLInputError as exc:
        return None, [Problem(rel, exc.where, exc.message)]
    if is_vault_file(text):
        return None, []
    try:
        return safeyaml.load(text), []
    except safeyaml.YAMLInputError as exc:
        return None, [Problem(rel, exc.where, exc.message)]


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
        """Hosts an Ansible pattern selects, without Ansible: for validation only.

        Follows ansible-core's rules (``a,b`` / ``a:b``; plain parts first, then ``&``, then
        ``!``; ``~regex`` and globs matched from the start of group and host names; ``all`` and
        ``ungrouped``; ``group[0]``, ``group[-1]``, ``group[0:2]``). Host order is not kept, so a
        subscript here only tells whether it selects something; the plan of a run is resolved
        by Ansible itself (:class:`runner.inventory.patterns.AnsibleHosts`). An invalid pattern
        selects nothing (see :func:`runner.inventory.patterns.pattern_problem`).
        """
        if pattern_problem(pattern) is not None:
            return set()
        parts = split_pattern(pattern)
        regular = [p for p in parts if p[0] not in "!&"] or ["all"]
        selected: set[str] = set()
        for part in regular:
            selected |= self._atom(part)
        for part in parts:
            if part[0] == "&":
                selected &= self._atom(part[1:])
        for part in parts:
            if part[0] == "!":
                selected -= self._atom(part[1:])
        return selected

    def _groups_with_builtin(self) -> dict[str, set[str]]:
        groups = {g: self.members(g) for g in self.groups}
        groups["all"] = set(self.hosts)
        groups["ungrouped"] = {h for h, gs in self.hosts.items() if not (gs - {"all", "ungrouped"})}
        return groups

    def _atom(self, atom: str) -> set[str]:
        if atom in self.hosts:
            return {atom}
        expr, subscript = atom, None
        found = SUBSCRIPT.match(atom) if not atom.startswith("~") else None
        if found:
            expr, idx, begin, _sep, end = found.groups()
            subscript = (int(idx), None) if idx else (int(begin), int(end) if end else -1)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # re's FutureWarning on odd regexes
                rx = re.compile(expr[1:] if expr.startswith("~") else fnmatch.translate(expr))
        except re.error:
            return set()
        groups = self._groups_with_builtin()
        named = [g for g in groups if rx.match(g)]
        hosts: set[str] = set()
        for g in named:
            hosts |= groups[g]
        if not named or expr.startswith("~") or any(c in expr for c in ".?*["):
            hosts |= {h for h in self.hosts if rx.match(h)}
        if subscript is None or not hosts:
            return hosts
        ordered = sorted(hosts)  # Ansible keeps inventory order; only emptiness matters here
        start, stop = subscript
        if stop is None:
            return {ordered[start]} if -len(ordered) <= start < len(ordered) else set()
        if stop == -1:
            stop = len(ordered) - 1
        return set(ordered[start : stop + 1])


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
                for expanded in expand_host_range(str(host)):  # web[01:03] is three hosts
                    tree.hosts.setdefault(expanded, set()).add(name)
                    tree.direct[name].add(expanded)
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

    _ansible: AnsibleHosts | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def hosts_file(self) -> Path:
        return next(
            (self.path / f for f in HOSTS_FILES if (self.path / f).is_file()), self.path / HOSTS_FILES[0]
        )

    def ansible_hosts(self) -> AnsibleHosts:
        """The client's ``hosts.yml`` as Ansible reads it (read once; nothing decrypted or templated)."""
        if self._ansible is None:
            self._ansible = AnsibleHosts(self.hosts_file)
        return self._ansible

    def _role_key(self, role: str) -> str:
        return f"{self.settings_file}: {SETTINGS_KEY}.roles.{role}"

    def hosts_for_role(self, role: str, limit: str | None = None) -> list[str]:
        """The hosts Ansible runs ``role`` on: its patterns as a play's ``hosts:`` list, within
        ``--limit``. Raises :class:`~runner.inventory.patterns.PatternError` naming the pattern."""
        patterns = self.settings.roles.get(role, [])
        if not patterns:
            return []
        found = self.ansible_hosts().select(patterns, what=self._role_key(role), limit=limit or None)
        return sorted(set(found))

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


#: the suffixes Ansible reads as variable files in group_vars/ and host_vars/ (none: a YAML file too)
VARS_SUFFIXES = ("", ".yml", ".yaml", ".json")


def _vars_files(root: Path) -> Iterator[Path]:
    """Every variable file Ansible reads for this inventory besides the client settings: group_vars/ and
    host_vars/ (a ``<name>.yml`` file or a ``<name>/`` folder of them), hidden files left out."""
    settings = set(_settings_files(root))  # read by validate_client itself
    for kind in ("group_vars", "host_vars"):
        folder = root / kind
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            inner = path.relative_to(folder).parts
            if path in settings:
                continue
            if any(part.startswith(".") for part in inner) or path.suffix not in VARS_SUFFIXES:
                continue
            if path.is_file() and not path.is_symlink():
                yield path


def _path_join(prefix: str, part: int | str) -> str:
    if isinstance(part, int):
        return f"{prefix}[{part}]"
    return f"{prefix}.{part}" if prefix else str(part)


def _templates(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """(key path, text) of every templated key or string under ``value``; iterative (any depth)."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if has_template(item):
                yield path, item
        elif isinstance(item, Mapping):
            for key, sub in item.items():
                sub_path = _path_join(path, str(key))
                if isinstance(key, str) and has_template(key):
                    yield sub_path, key
                stack.append((sub, sub_path))
        elif isinstance(item, list):
            stack.extend((sub, _path_join(path, i)) for i, sub in enumerate(item))


def _template_problems(raw: Any, file: str) -> list[Problem]:
    found = sorted(_templates(raw, SETTINGS_KEY))
    return [
        Problem(
            file,
            key,
            f"a template ({_cut(text)!r}) is not allowed in the client settings: give a literal value "
            "(Ansible would run it on the controller)",
        )
        for key, text in found
    ]


def _cut(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _inline_settings(data: Mapping[Any, Any], file: str) -> list[Problem]:
    """``maintenance`` set as a group's or host's variable in hosts.yml (it would override the settings)."""
    out: list[Problem] = []
    stack: list[tuple[Any, str, int]] = [(body, str(group), 0) for group, body in data.items()]
    while stack:
        body, key, depth = stack.pop()
        if not isinstance(body, Mapping) or depth > 20:
            continue
        if isinstance(body.get("vars"), Mapping) and SETTINGS_KEY in body["vars"]:
            out.append(Problem(file, f"{key}.vars.{SETTINGS_KEY}", _ELSEWHERE))
        if isinstance(body.get("hosts"), Mapping):
            for host, hvars in body["hosts"].items():
                if isinstance(hvars, Mapping) and SETTINGS_KEY in hvars:
                    out.append(Problem(file, f"{key}.hosts.{host}.{SETTINGS_KEY}", _ELSEWHERE))
        if isinstance(body.get("children"), Mapping):
            stack.extend(
                (sub, f"{key}.children.{child}", depth + 1) for child, sub in body["children"].items()
            )
    return sorted(out, key=lambda p: p.key)


_ELSEWHERE = (
    "the client settings belong in group_vars/all/ only: set here, they would override the validated "
    "settings for some hosts"
)


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
    # a client is one folder right under inventories/: "", ".", ".." or "a/b" never name one
    if name in ("", ".", "..") or any(c in name for c in "/\\\0") or not root.is_dir():
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
            problems += _inline_settings(data, rel(hosts_file))

    for vars_file in _vars_files(root):
        data, errs = load_yaml(vars_file, rel(vars_file))
        problems += errs
        if isinstance(data, Mapping) and SETTINGS_KEY in data:
            problems.append(Problem(rel(vars_file), SETTINGS_KEY, _ELSEWHERE))

    raw_settings: Any = None
    settings_file: Path | None = None
    candidates = list(_settings_files(root))
    for candidate in candidates:
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
        unreadable = {rel(c) for c in candidates} & {p.file for p in problems}
        if not unreadable:  # a settings file that does not parse already says why
            problems.append(
                Problem(
                    rel(root / "group_vars" / "all" / "maintenance.yml"),
                    SETTINGS_KEY,
                    "missing: the client settings (display_name, timezone, contacts, roles…) are required",
                )
            )
        return None, problems

    templated = _template_problems(raw_settings, rel(settings_file))
    problems += templated
    known = roles if roles is not None else known_roles()
    try:
        settings = ClientSettings.model_validate(raw_settings, context={"known_roles": known})
    except ValidationError as exc:
        seen = {p.key for p in templated}
        for err in exc.errors():
            problem = Problem(rel(settings_file), _loc(err["loc"]), _expected(err))
            if problem.key not in seen:
                problems.append(problem)
        return None, problems

    for i, waiver in enumerate(settings.waivers):
        if not controls.is_known(waiver.control):
            problems.append(
                Problem(
                    rel(settings_file),
                    f"{SETTINGS_KEY}.waivers[{i}].control",
                    controls.unknown_message(waiver.control),
                )
            )
    for role, patterns in settings.roles.items():
        for i, pattern in enumerate(patterns):
            bad = pattern_problem(pattern)  # what Ansible would refuse or silently misread
            if bad is not None:
                problems.append(
                    Problem(rel(settings_file), f"{SETTINGS_KEY}.roles.{role}[{i}]", f"{pattern!r} {bad}")
                )
            elif tree.hosts and not tree.match(pattern):
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
