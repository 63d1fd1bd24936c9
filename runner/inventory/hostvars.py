"""A host's variables as Ansible resolves them from the inventory folder, without Ansible.

Only what the current state needs: a few plain variables (``network_config_platform``) read from the
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

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from runner.inventory.loader import HOSTS_FILES, VARS_SUFFIXES, Client, HostTree, load_yaml
from runner.inventory.patterns import expand_host_range


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


def resolve(client: Client, names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """host -> {name: value} for each of ``names`` a host has (hosts of ``client.tree``)."""
    wanted = set(names)
    tree = client.tree
    depth = _depths(tree)
    hosts_file = next((client.path / f for f in HOSTS_FILES if (client.path / f).is_file()), None)
    inline_groups, inline_hosts = _hosts_file_vars(hosts_file) if hosts_file else ({}, {})
    group_files: dict[str, dict[str, Any]] = {}
    for group in {*tree.groups, "all"}:
        merged: dict[str, Any] = {}
        for path in _files(client.path / "group_vars", group):
            merged.update({k: v for k, v in _file_vars(path).items() if k in wanted})
        group_files[group] = merged
    resolved: dict[str, dict[str, Any]] = {}
    for host, groups in tree.hosts.items():
        ordered = sorted(groups | {"all"}, key=lambda g: (depth.get(g, 1), g))
        values: dict[str, Any] = {}
        for group in ordered:
            values.update({k: v for k, v in inline_groups.get(group, {}).items() if k in wanted})
        for group in ordered:
            values.update(group_files.get(group, {}))
        values.update({k: v for k, v in inline_hosts.get(host, {}).items() if k in wanted})
        for path in _files(client.path / "host_vars", host):
            values.update({k: v for k, v in _file_vars(path).items() if k in wanted})
        resolved[host] = values
    return resolved


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
