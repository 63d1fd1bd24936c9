"""The asset register: per host what its latest asset facts say, what the inventory says about it, its health.

:func:`register` lists every host of the client's inventory (roles resolved as a run's plan is, so a host
no role runs on is still an asset) and every host with stored facts that has left the inventory
(``in_inventory`` False: kept visible, as an asset that may still exist). Per host:

- ``facts``: its latest ``asset_facts`` row (:mod:`runner.assets.store`), ``{}`` when never collected;
- ``owner``, ``site``, ``criticality``: the ``asset_owner``, ``asset_site`` and ``asset_criticality`` host
  variables (:func:`runner.inventory.hostvars.asset_vars`; criticality ``normal`` by default); a bad value is
  :class:`runner.inventory.hostvars.AssetVarError` (one line naming the file, key and host);
- ``platform``: the facts row's, else the host's ``network_config_platform``, else ``linux`` / ``windows``
  when the roles assigned to it are all of that family, else None;
- ``health``: the worst effective status of the host's rows in the current state (:func:`runner.state.compute`
  unless a state is given), in the order fail > error > warn > not_checked > waived > pass > not_applicable;
  ``unknown`` when the state has no row for the host. ``health_counts``: effective status -> rows.

``until`` limits the facts to rows collected by then; health is the state given (or the current one).

:func:`changes` compares each host's consecutive facts rows collected in ``(since, until]``; the host's first
row ever is ``new_host``. A fact a collector could not learn is left out of its row (the facts shape), so a
value or list present on one side only is not a change: only values known on both sides are compared.

A changed value's item is its dotted path in the facts (``os.version``), before/after the two values.

- ``os``: ``os.name``, ``os.version``, ``os.edition``, ``os.build``, ``os.kernel``;
- ``firmware``: ``os.firmware`` (a network device's software), ``os.image``, ``hardware.bios_version``;
- ``hardware``: ``hardware.vendor``, ``.model``, ``.serial``, ``.virtualisation``, and a network device's
  modules (``inventory``, by name: item ``inventory:<name>``, before/after ``{pid, serial}`` or None);
- ``ram``: ``hardware.ram_bytes``; ``cpu``: ``hardware.cpu_model``, ``hardware.cpu_count``;
- ``disk_added`` / ``disk_removed``: disks by (name, serial), item ``name`` or ``name (serial)``;
- ``filesystem_added`` / ``filesystem_removed`` / ``filesystem_resized``: filesystems by mount point;
- ``software_added`` / ``software_removed`` / ``software_updated``: software by name (before/after its
  version, or the sorted list of versions when several are installed under one name);
- ``interface_added`` / ``interface_removed``: interfaces by MAC address (by name when one has none).

Changes are ordered by (at, host, kind in :data:`CHANGE_KINDS` order, item); ``new_host`` has no item,
before None and after a summary (platform, hostname, os, version, model, serial when known).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from runner.assets import store
from runner.inventory.hostvars import CRITICALITIES, DEFAULT_CRITICALITY, asset_vars

if TYPE_CHECKING:
    from runner.inventory import Client
    from runner.ledger import Ledger
    from runner.state import ClientState

__all__ = [
    "CHANGE_KINDS",
    "CRITICALITIES",
    "HEALTH_ORDER",
    "AssetChange",
    "AssetEntry",
    "changes",
    "register",
]

#: worst first: a host's health is the first of these its rows show
HEALTH_ORDER = ("fail", "error", "warn", "not_checked", "waived", "pass", "not_applicable")
UNKNOWN = "unknown"
#: every kind :func:`changes` reports
CHANGE_KINDS = (
    "new_host",
    "os",
    "firmware",
    "hardware",
    "ram",
    "cpu",
    "disk_added",
    "disk_removed",
    "filesystem_added",
    "filesystem_removed",
    "filesystem_resized",
    "software_added",
    "software_removed",
    "software_updated",
    "interface_added",
    "interface_removed",
)
_FAMILIES = ("linux", "windows")


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


@dataclass(frozen=True)
class AssetEntry:
    """One host of the register."""

    host: str
    platform: str | None
    owner: str | None
    site: str | None
    criticality: str
    roles: tuple[str, ...]
    facts: dict[str, Any]
    collected_at: datetime | None
    seq: int | None
    run_id: str | None
    health: str
    health_counts: dict[str, int]
    in_inventory: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON-able; datetimes ISO-8601 UTC."""
        return {
            "host": self.host,
            "platform": self.platform,
            "owner": self.owner,
            "site": self.site,
            "criticality": self.criticality,
            "roles": list(self.roles),
            "in_inventory": self.in_inventory,
            "health": self.health,
            "health_counts": dict(self.health_counts),
            "collected_at": _iso(self.collected_at),
            "seq": self.seq,
            "run_id": self.run_id,
            "facts": self.facts,
        }


@dataclass(frozen=True)
class AssetChange:
    """One difference between two consecutive facts rows of a host (or its first row: ``new_host``)."""

    host: str
    at: datetime
    kind: str
    item: str | None
    before: Any
    after: Any
    seq: int
    run_id: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "at": _iso(self.at),
            "kind": self.kind,
            "item": self.item,
            "before": self.before,
            "after": self.after,
            "seq": self.seq,
            "run_id": self.run_id,
        }


# --------------------------------------------------------------------------- register


def _platform(record: store.AssetRecord | None, network: str | None, roles: Iterable[str]) -> str | None:
    if record is not None:
        return record.platform
    if network:
        return network
    families = {role.split("_", 1)[0] for role in roles}
    if len(families) == 1 and (family := next(iter(families))) in _FAMILIES:
        return family
    return None


def health_of(counts: Mapping[str, int]) -> str:
    """The worst status with a row, ``unknown`` with none."""
    return next((status for status in HEALTH_ORDER if counts.get(status)), UNKNOWN)


def register(
    ledger: Ledger,
    client: Client,
    *,
    state: ClientState | None = None,
    until: datetime | None = None,
) -> list[AssetEntry]:
    """Every asset of ``client``: hosts of its inventory and hosts with stored facts, sorted by host."""
    from runner.state import compute

    owned = asset_vars(client)  # bad asset_* values: refused before anything is read
    if state is None:
        state = compute(ledger, client)
    scope = state.scope
    counts: dict[str, Counter[str]] = {}
    for row in state.rows:
        counts.setdefault(row.host, Counter())[row.effective] += 1
    stored = store.latest(ledger, client.name, until=until)
    inventory = set(scope.hosts)
    entries = []
    for host in sorted(inventory | set(stored)):
        record = stored.get(host)
        roles = tuple(sorted(scope.roles.get(host, ())))
        mine = owned.get(host)
        found = counts.get(host, Counter())
        ordered = {s: found[s] for s in HEALTH_ORDER if found.get(s)}
        entries.append(
            AssetEntry(
                host=host,
                platform=_platform(record, scope.platforms.get(host), roles),
                owner=mine.owner if mine else None,
                site=mine.site if mine else None,
                criticality=mine.criticality if mine else DEFAULT_CRITICALITY,
                roles=roles,
                facts=record.facts if record is not None else {},
                collected_at=record.collected_at if record is not None else None,
                seq=record.seq if record is not None else None,
                run_id=record.run_id if record is not None else None,
                health=health_of(ordered),
                health_counts=ordered,
                in_inventory=host in inventory,
            )
        )
    return entries


# --------------------------------------------------------------------------- changes

_OS_FIELDS = ("name", "version", "edition", "build", "kernel")
_HARDWARE_FIELDS = ("vendor", "model", "serial", "virtualisation")
_CPU_FIELDS = ("cpu_model", "cpu_count")


def _group(facts: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = facts.get(key)
    return value if isinstance(value, Mapping) else {}


def _fields(
    kind: str, prefix: str, before: Mapping[str, Any], after: Mapping[str, Any], names: Sequence[str]
) -> list[tuple[str, str | None, Any, Any]]:
    found: list[tuple[str, str | None, Any, Any]] = []
    for name in names:
        old, new = before.get(name), after.get(name)
        if old is not None and new is not None and old != new:
            found.append((kind, f"{prefix}{name}", old, new))
    return found


def _listed(facts: Mapping[str, Any], key: str) -> list[Mapping[str, Any]] | None:
    """The list under ``key``, or None when the row does not have it (not learned); a stored list holds
    objects only (:func:`runner.assets.facts.validate`)."""
    value = facts.get(key)
    return value if isinstance(value, list) else None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _disk_key(disk: Mapping[str, Any]) -> str:
    name, serial = _text(disk.get("name")), _text(disk.get("serial"))
    return f"{name} ({serial})" if serial else name


def _interface_key(interface: Mapping[str, Any]) -> str:
    mac = _text(interface.get("mac")).strip().lower()
    return mac or f"name:{_text(interface.get('name'))}"


def _keyed(items: Sequence[Mapping[str, Any]], key: Any) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for item in items:
        out.setdefault(key(item), item)
    return out


def _added_removed(
    kind: str, before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]
) -> list[tuple[str, str | None, Any, Any]]:
    found: list[tuple[str, str | None, Any, Any]] = []
    found += [(f"{kind}_added", k, None, dict(after[k])) for k in sorted(after.keys() - before.keys())]
    found += [(f"{kind}_removed", k, dict(before[k]), None) for k in sorted(before.keys() - after.keys())]
    return found


def _versions(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """software name -> its version, or the sorted versions when several share the name (a host lists
    thousands: one pass, sets only for the names seen twice)."""
    single: dict[str, Any] = {}
    several: dict[str, set[str]] = {}
    for item in items:
        name = item.get("name")
        if not name or not isinstance(name, str):
            continue
        version = item.get("version")
        text = None if version is None else str(version)
        if name not in single:
            single[name] = text
            continue
        bag = several.get(name)
        if bag is None:
            first = single[name]
            bag = several[name] = set() if first is None else {first}
        if text is not None:
            bag.add(text)
    for name, bag in several.items():
        single[name] = next(iter(bag)) if len(bag) == 1 else sorted(bag) if bag else None
    return single


def _modules(items: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        name = _text(item.get("name")).strip()
        if name:
            out.setdefault(name, {"pid": item.get("pid"), "serial": item.get("serial")})
    return out


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[tuple[str, str | None, Any, Any]]:
    """(kind, item, before, after) for each change from one facts document to the next."""
    found: list[tuple[str, str | None, Any, Any]] = []
    os_b, os_a = _group(before, "os"), _group(after, "os")
    hw_b, hw_a = _group(before, "hardware"), _group(after, "hardware")
    found += _fields("os", "os.", os_b, os_a, _OS_FIELDS)
    found += _fields("firmware", "os.", os_b, os_a, ("firmware", "image"))
    found += _fields("firmware", "hardware.", hw_b, hw_a, ("bios_version",))
    found += _fields("hardware", "hardware.", hw_b, hw_a, _HARDWARE_FIELDS)
    found += _fields("ram", "hardware.", hw_b, hw_a, ("ram_bytes",))
    found += _fields("cpu", "hardware.", hw_b, hw_a, _CPU_FIELDS)
    mods_b, mods_a = _listed(before, "inventory"), _listed(after, "inventory")
    if mods_b is not None and mods_a is not None and mods_b != mods_a:
        old_m, new_m = _modules(mods_b), _modules(mods_a)
        for name in sorted(old_m.keys() | new_m.keys()):
            if old_m.get(name) != new_m.get(name):
                found.append(("hardware", f"inventory:{name}", old_m.get(name), new_m.get(name)))
    disks_b, disks_a = _listed(before, "disks"), _listed(after, "disks")
    if disks_b is not None and disks_a is not None and disks_b != disks_a:
        found += _added_removed("disk", _keyed(disks_b, _disk_key), _keyed(disks_a, _disk_key))
    fs_b, fs_a = _listed(before, "filesystems"), _listed(after, "filesystems")
    if fs_b is not None and fs_a is not None and fs_b != fs_a:
        old_fs = _keyed(fs_b, lambda f: _text(f.get("mount")))
        new_fs = _keyed(fs_a, lambda f: _text(f.get("mount")))
        found += _added_removed("filesystem", old_fs, new_fs)
        for mount in sorted(old_fs.keys() & new_fs.keys()):
            old_size, new_size = old_fs[mount].get("size_bytes"), new_fs[mount].get("size_bytes")
            if old_size is not None and new_size is not None and old_size != new_size:
                found.append(("filesystem_resized", mount, old_size, new_size))
    sw_b, sw_a = _listed(before, "software"), _listed(after, "software")
    if sw_b is not None and sw_a is not None and sw_b != sw_a:
        old_v, new_v = _versions(sw_b), _versions(sw_a)
        found += [("software_added", n, None, new_v[n]) for n in sorted(new_v.keys() - old_v.keys())]
        found += [("software_removed", n, old_v[n], None) for n in sorted(old_v.keys() - new_v.keys())]
        for name in sorted(old_v.keys() & new_v.keys()):
            if old_v[name] is not None and new_v[name] is not None and old_v[name] != new_v[name]:
                found.append(("software_updated", name, old_v[name], new_v[name]))
    if_b, if_a = _listed(before, "interfaces"), _listed(after, "interfaces")
    if if_b is not None and if_a is not None and if_b != if_a:
        found += _added_removed("interface", _keyed(if_b, _interface_key), _keyed(if_a, _interface_key))
    return found


def _summary(record: store.AssetRecord) -> dict[str, Any]:
    """What a ``new_host`` change shows of the host's first facts."""
    facts = record.facts
    os_, hw = _group(facts, "os"), _group(facts, "hardware")
    wanted = {
        "platform": record.platform,
        "hostname": facts.get("hostname"),
        "os": os_.get("name"),
        "version": os_.get("version") or os_.get("firmware"),
        "model": hw.get("model"),
        "serial": hw.get("serial"),
    }
    return {k: v for k, v in wanted.items() if v is not None}


def changes(
    ledger: Ledger, client: str, *, since: datetime, until: datetime | None = None
) -> list[AssetChange]:
    """What changed in the client's assets between ``since`` (excluded) and ``until`` (included)."""
    previous: dict[str, int] = {}
    pairs: list[tuple[int | None, int]] = []  # (the host's previous row, a row collected in the window)
    for row_id, _seq, host, at in store.light_rows(ledger, client, until):
        if at > since:
            pairs.append((previous.get(host), row_id))
        previous[host] = row_id
    records = store.by_ids(ledger, [i for pair in pairs for i in pair if i is not None])
    found: list[AssetChange] = []
    for before_id, row_id in pairs:
        record = records[row_id]
        before = records[before_id] if before_id is not None else None
        if before is None:
            diffs: list[tuple[str, str | None, Any, Any]] = [("new_host", None, None, _summary(record))]
        else:
            diffs = diff(before.facts, record.facts)
        found += [
            AssetChange(record.host, record.collected_at, kind, item, old, new, record.seq, record.run_id)
            for kind, item, old, new in diffs
        ]
    found.sort(key=lambda c: (c.at, c.host, CHANGE_KINDS.index(c.kind), c.item or "", c.seq))
    return found
