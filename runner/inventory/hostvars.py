"""A host's variables as Ansible resolves them from the inventory folder, without Ansible.

Only what the current state and the asset register need: a few plain variables (``network_config_platform``;
``asset_owner``, ``asset_site``, ``asset_criticality``, checked by :func:`asset_vars`) read from the
inventory's own files, in Ansible's order of precedence (lowest first):

1. ``vars:`` of the groups in ``hosts.yml``,
2. ``group_vars/<group>`` files (``<group>.yml`` or a ``<group>/`` folder of files),
3. the host's own variables in ``hosts.yml``,
4. ``host_vars/<host>`` files.

Within 1 and 2 groups apply by depth (``all`` first, then its children, deeper groups later) and then by
name, as ansible-core's ``sort_groups`` orders them. Vault-encrypted files are opaque (skipped), a templated
value is kept as its text (nothing is templated here), and a file that cannot be read is skipped: validation
(:func:`runner.inventory.validate_client`) reports it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.inventory.loader import (
    HOSTS_FILES,
    VARS_SUFFIXES,
    Client,
    HostTree,
    InventoryError,
    Problem,
    load_yaml,
)
from runner.inventory.patterns import expand_host_range
from runner.inventory.templating import has_template


def _depths(tree: HostTree) -> dict[str, int]:
    """Each group's depth below ``all`` (the longest path, as Ansible counts it)."""
    depth: dict[str, int] = {"all": 0}
    parents: dict[str, set[str]] = {}
    for group, children in tree.groups.items():
        for child in children:
            parents.setdefault(child, set()).add(group)

    def of(group: str, seen: frozenset[str] = frozenset()) -> int:
        if group in depth:
            return depth[group]
        if group in seen:  # a cycle: validation reports it
            return 1
        found = 1 + max(of(p, seen | {group}) for p in parents.get(group) or {"all"})
        depth[group] = found
        return found

    for group in tree.groups:
        of(group)
    depth.setdefault("ungrouped", 1)
    return depth


def _files(folder: Path, name: str) -> Iterator[Path]:
    """``<name>``, ``<name>.yml`` ... files and the files of a ``<name>/`` folder, in Ansible's order."""
    for suffix in VARS_SUFFIXES:
        path = folder / f"{name}{suffix}"
        if path.is_file() and not path.is_symlink():
            yield path
    sub = folder / name
    if sub.is_dir():
        for path in sorted(sub.rglob("*")):
            inner = path.relative_to(sub).parts
            if any(part.startswith(".") for part in inner) or path.suffix not in VARS_SUFFIXES:
                continue
            if path.is_file() and not path.is_symlink():
                yield path


def _file_vars(path: Path) -> Mapping[str, Any]:
    data, _problems = load_yaml(path, str(path))
    return data if isinstance(data, Mapping) else {}


def _hosts_file_vars(path: Path) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(group -> its ``vars:``, host -> its variables) from ``hosts.yml``."""
    data, _problems = load_yaml(path, str(path))
    groups: dict[str, dict[str, Any]] = {}
    hosts: dict[str, dict[str, Any]] = {}
    if not isinstance(data, Mapping):
        return groups, hosts
    stack: list[tuple[str, Any, int]] = [(str(name), body, 0) for name, body in data.items()]
    while stack:
        name, body, depth = stack.pop(0)
        if not isinstance(body, Mapping) or depth > 20:
            continue
        if isinstance(body.get("vars"), Mapping):
            groups.setdefault(name, {}).update(body["vars"])
        if isinstance(body.get("hosts"), Mapping):
            for host, hvars in body["hosts"].items():
                for expanded in expand_host_range(str(host)):
                    entry = hosts.setdefault(expanded, {})
                    if isinstance(hvars, Mapping):
                        entry.update(hvars)
        if isinstance(body.get("children"), Mapping):
            stack.extend((str(child), sub, depth + 1) for child, sub in body["children"].items())
    return groups, hosts


def sourced(client: Client, names: Iterable[str]) -> dict[str, dict[str, tuple[Any, Path, str]]]:
    """host -> {name: (value, file it came from, where in it: ``group G`` / ``host H``)} for each of
    ``names`` a host has (hosts of ``client.tree``), the winning value by the precedence above."""
    wanted = set(names)
    tree = client.tree
    depth = _depths(tree)
    hosts_file = next((client.path / f for f in HOSTS_FILES if (client.path / f).is_file()), None)
    inline_groups, inline_hosts = _hosts_file_vars(hosts_file) if hosts_file else ({}, {})
    inline = hosts_file if hosts_file is not None else client.hosts_file
    group_files: dict[str, dict[str, tuple[Any, Path, str]]] = {}
    for group in {*tree.groups, "all"}:
        merged: dict[str, tuple[Any, Path, str]] = {}
        for path in _files(client.path / "group_vars", group):
            found = _file_vars(path)
            merged.update({k: (v, path, f"group {group}") for k, v in found.items() if k in wanted})
        group_files[group] = merged
    resolved: dict[str, dict[str, tuple[Any, Path, str]]] = {}
    for host, groups in tree.hosts.items():
        ordered = sorted(groups | {"all"}, key=lambda g: (depth.get(g, 1), g))
        values: dict[str, tuple[Any, Path, str]] = {}
        for group in ordered:
            own = inline_groups.get(group, {})
            values.update({k: (v, inline, f"group {group}") for k, v in own.items() if k in wanted})
        for group in ordered:
            values.update(group_files.get(group, {}))
        mine = inline_hosts.get(host, {})
        values.update({k: (v, inline, f"host {host}") for k, v in mine.items() if k in wanted})
        for path in _files(client.path / "host_vars", host):
            found = _file_vars(path)
            values.update({k: (v, path, f"host {host}") for k, v in found.items() if k in wanted})
        resolved[host] = values
    return resolved


def resolve(client: Client, names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """host -> {name: value} for each of ``names`` a host has (hosts of ``client.tree``)."""
    return {host: {k: v[0] for k, v in found.items()} for host, found in sourced(client, names).items()}


#: the host variable naming a network device's platform (roles/network_config)
PLATFORM_VAR = "network_config_platform"


def platforms(client: Client) -> dict[str, str | None]:
    """host -> its ``network_config_platform`` (None when unset or empty)."""
    found = resolve(client, [PLATFORM_VAR])
    out: dict[str, str | None] = {}
    for host, values in found.items():
        value = values.get(PLATFORM_VAR)
        out[host] = str(value) if isinstance(value, str) and value else None
    return out


def client_platforms(name: str) -> dict[str, str | None]:
    """:func:`platforms` of the client named ``name`` as its inventory is now; empty when it cannot be
    loaded (a run being re-ingested after its client's inventory broke or went away)."""
    from runner.inventory.loader import InventoryError, UnknownClientError, load_client

    try:
        return platforms(load_client(name))
    except (InventoryError, UnknownClientError, OSError):
        return {}


# --------------------------------------------------------------------------- asset register variables

#: optional host variables the asset register shows (``asset_criticality`` also weighs risks)
OWNER_VAR, SITE_VAR, CRITICALITY_VAR = "asset_owner", "asset_site", "asset_criticality"
ASSET_VARS = (OWNER_VAR, SITE_VAR, CRITICALITY_VAR)
#: an asset's criticality, most critical first; ``normal`` when the host does not say
CRITICALITIES = ("critical", "high", "normal", "low")
DEFAULT_CRITICALITY = "normal"
#: the longest ``asset_owner`` / ``asset_site`` text kept (a name, a team, an e-mail, a site)
MAX_TEXT = 200


@dataclass(frozen=True)
class AssetVars:
    """A host's ``asset_owner``, ``asset_site`` (None when unset) and ``asset_criticality``."""

    owner: str | None = None
    site: str | None = None
    criticality: str = DEFAULT_CRITICALITY


class AssetVarError(InventoryError):
    """``asset_*`` host variables that cannot be used; ``problems`` names each file, key and host."""

    def __str__(self) -> str:  # one line: every problem, each naming its file, key and host
        return f"inventory of client {self.client!r}: " + "; ".join(str(p) for p in self.problems)


def _rel(client: Client, path: Path) -> str:
    try:
        return str(path.relative_to(client.path.parent.parent))
    except ValueError:
        return str(path)


def _asset_value(name: str, value: Any) -> tuple[str | None, str | None]:
    """(the clean value, None) or (None, why it is refused)."""
    from runner.safeyaml import VaultValue

    if value is None:
        return (DEFAULT_CRITICALITY if name == CRITICALITY_VAR else None), None
    if isinstance(value, VaultValue):
        return None, "a vault-encrypted value cannot be read here: give it in clear"
    if not isinstance(value, str):
        return None, f"expected a text, got {type(value).__name__} {value!r}"
    if has_template(value):
        return None, f"{value!r}: templates are not resolved for asset variables, give the value itself"
    text = value.strip()
    if name == CRITICALITY_VAR:
        if text not in CRITICALITIES:
            return None, f"{value!r} is not one of {', '.join(CRITICALITIES)}"
        return text, None
    if len(text) > MAX_TEXT:
        return None, f"{len(text)} characters, more than the {MAX_TEXT} kept"
    if any(ord(c) < 32 for c in text):
        return None, "control characters (a newline, a tab...) are not allowed"
    return text or None, None


def asset_var_problems(client: Client) -> tuple[dict[str, AssetVars], list[Problem]]:
    """host -> its :class:`AssetVars`, and a problem per bad value (file, key, the hosts it applies to).

    A bad value set for a group is one problem naming the group and the first hosts it reaches; its hosts
    get the defaults in the mapping.
    """
    found = sourced(client, ASSET_VARS)
    out: dict[str, AssetVars] = {}
    bad: dict[tuple[str, str, str], tuple[str, list[str]]] = {}
    for host in sorted(found):
        clean: dict[str, str | None] = {}
        for name in ASSET_VARS:
            value, path, where = found[host].get(name, (None, client.hosts_file, ""))
            ok, why = _asset_value(name, value)
            if why is not None:
                bad.setdefault((_rel(client, path), name, where), (why, []))[1].append(host)
                ok, _ = _asset_value(name, None)
            clean[name] = ok
        out[host] = AssetVars(
            owner=clean[OWNER_VAR],
            site=clean[SITE_VAR],
            criticality=clean[CRITICALITY_VAR] or DEFAULT_CRITICALITY,
        )
    problems = []
    for (file, name, where), (why, hosts) in sorted(bad.items()):
        shown = ", ".join(hosts[:3]) + (f" and {len(hosts) - 3} more" if len(hosts) > 3 else "")
        origin = f" (set for {where})" if where.startswith("group ") else ""
        problems.append(Problem(file, name, f"host {shown}{origin}: {why}"))
    return out, problems


def asset_vars(client: Client) -> dict[str, AssetVars]:
    """host -> its :class:`AssetVars`; :class:`AssetVarError` (one line) when any value is bad."""
    out, problems = asset_var_problems(client)
    if problems:
        raise AssetVarError(client.name, problems)
    return out


# --------------------------------------------------------------------------- access review variables

#: the approved lists every access role reads (roles linux_access, windows_access; network rule params)
ADMINS_VAR, KEYS_VAR = "access_approved_admins", "access_approved_keys"
ACCESS_VARS = (ADMINS_VAR, KEYS_VAR)
#: an SSH key fingerprint as ``ssh-keygen -lf`` prints it: SHA256 and 43 base64 characters, no padding
FINGERPRINT = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}$")
#: the longest approved list kept (a group's administrators, a team's keys)
MAX_APPROVED = 1000


def _access_value(name: str, value: Any) -> str | None:
    """Why ``value`` is refused for ``name``, or None when it is usable."""
    from runner.safeyaml import VaultValue

    if value is None:
        return None
    if isinstance(value, VaultValue):
        return "a vault-encrypted value cannot be read here: give the list in clear"
    if isinstance(value, str) and has_template(value):
        return f"{value!r}: templates are not resolved for the approved lists, give the list itself"
    if not isinstance(value, list):
        return f"expected a list of texts, got {type(value).__name__} {value!r}"[:300]
    if len(value) > MAX_APPROVED:
        return f"{len(value)} entries, more than the {MAX_APPROVED} allowed"
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            return f"entry {index}: expected a non-empty text, got {type(item).__name__} {item!r}"[:300]
        if has_template(item):
            return f"entry {index}: {item!r}: templates are not resolved here, give the value itself"
        if any(ord(c) < 32 for c in item):
            return f"entry {index}: control characters (a newline, a tab...) are not allowed"
        if name == KEYS_VAR and not FINGERPRINT.match(item.strip()):
            return (
                f"entry {index}: {item[:80]!r} is not an SSH key fingerprint (SHA256:<43 base64 characters>, "
                "as `ssh-keygen -lf KEY.pub` prints it; never the key itself)"
            )
    return None


def access_var_problems(client: Client) -> list[Problem]:
    """A problem per bad ``access_approved_admins`` / ``access_approved_keys`` value (file, key, hosts)."""
    found = sourced(client, ACCESS_VARS)
    bad: dict[tuple[str, str, str], tuple[str, list[str]]] = {}
    for host in sorted(found):
        for name in ACCESS_VARS:
            if name not in found[host]:
                continue
            value, path, where = found[host][name]
            why = _access_value(name, value)
            if why is not None:
                bad.setdefault((_rel(client, path), name, where), (why, []))[1].append(host)
    problems = []
    for (file, name, where), (why, hosts) in sorted(bad.items()):
        shown = ", ".join(hosts[:3]) + (f" and {len(hosts) - 3} more" if len(hosts) > 3 else "")
        origin = f" (set for {where})" if where.startswith("group ") else ""
        problems.append(Problem(file, name, f"host {shown}{origin}: {why}"))
    return problems
