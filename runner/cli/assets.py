"""``maint assets CLIENT``: the asset register as of now, or what changed in it (``--changes --since D``).

The register (:func:`runner.assets.register.register`): one line per host of the inventory and per host
with stored facts that has left it. ``--json`` prints ``{"schema": "maint.assets/1", "client", "as_of",
"assets": [AssetEntry.as_dict(), ...]}``; ``--changes --json`` prints ``{"schema": "maint.asset-changes/1",
"client", "since", "until", "changes": [AssetChange.as_dict(), ...]}``. ``--since`` / ``--until`` are days
(YYYY-MM-DD) in the client's time zone: changes collected after the start of ``--since`` and before the end
of ``--until`` (default: now).

``--csv``: one row per host, these columns in this order (:data:`CSV_COLUMNS`); lists are joined with
``"; "``, an unknown value is an empty cell, and a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return gets a leading ``'`` so a spreadsheet never reads it as a formula:

``host, in_inventory, platform, hostname, fqdn, domain, workgroup, os_name, os_version, os_edition,
os_build, kernel, firmware, vendor, model, serial, virtualisation, cpu_model, cpu_count, ram_bytes,
disk_count, disk_bytes, filesystem_count, macs, ips, software_count, antivirus, backup, last_boot,
last_upgrade, owner, site, criticality, roles, health, collected_at, seq, run_id``.
``--changes --csv``: one row per change, ``at, host, kind, item, before, after, seq, run_id`` (before and
after as JSON when not text).

CIS Controls v8 safeguard fields and the columns that answer them:

- 1.1 *Establish and maintain a detailed enterprise asset inventory*: network address: ``ips``; hardware
  address: ``macs``; machine name: ``hostname`` / ``fqdn`` (and ``host``, its inventory name); enterprise
  asset owner: ``owner`` (``asset_owner``); department / location: ``site`` (``asset_site``); approved to
  connect: ``in_inventory`` (the inventory is the list of approved assets: a host with facts that left it
  is ``false``); asset type and identity: ``platform``, ``vendor``, ``model``, ``serial``; when last seen:
  ``collected_at``;
- 2.1 *Establish and maintain a software inventory*: per host ``os_name`` / ``os_version`` / ``os_build`` /
  ``firmware`` and ``software_count`` here; title, publisher and version of every package or program:
  ``facts.software[]`` (``name``, ``publisher``, ``version``) of ``--json`` (and the onboarding pack's
  software sheet); changes (installs, removals, updates with their dates): ``--changes``.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer

from runner.cli.app import app, dump, fail, open_ledger, out, user_errors

if TYPE_CHECKING:  # each command imports what it uses: `maint --help` loads no ledger or pydantic
    from rich.console import Console
    from rich.table import Table

    from runner.assets.register import AssetChange, AssetEntry

SCHEMA = "maint.assets/1"
CHANGES_SCHEMA = "maint.asset-changes/1"
CSV_COLUMNS = (
    "host",
    "in_inventory",
    "platform",
    "hostname",
    "fqdn",
    "domain",
    "workgroup",
    "os_name",
    "os_version",
    "os_edition",
    "os_build",
    "kernel",
    "firmware",
    "vendor",
    "model",
    "serial",
    "virtualisation",
    "cpu_model",
    "cpu_count",
    "ram_bytes",
    "disk_count",
    "disk_bytes",
    "filesystem_count",
    "macs",
    "ips",
    "software_count",
    "antivirus",
    "backup",
    "last_boot",
    "last_upgrade",
    "owner",
    "site",
    "criticality",
    "roles",
    "health",
    "collected_at",
    "seq",
    "run_id",
)
CHANGES_COLUMNS = ("at", "host", "kind", "item", "before", "after", "seq", "run_id")
#: what a spreadsheet may read as the start of a formula (OWASP's CSV injection list)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _group(facts: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = facts.get(key)
    return value if isinstance(value, Mapping) else {}


def _items(facts: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = facts.get(key)
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _unique(values: Iterable[Any]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value is not None and str(value) != "":
            seen.setdefault(str(value), None)
    return list(seen)


def _software_count(facts: Mapping[str, Any]) -> int | None:
    count = facts.get("software_count")
    if isinstance(count, int):
        return count
    return len(facts["software"]) if isinstance(facts.get("software"), list) else None


def _disk_bytes(facts: Mapping[str, Any]) -> int | None:
    sizes = [d.get("size_bytes") for d in _items(facts, "disks")]
    known = [s for s in sizes if isinstance(s, int)]
    return sum(known) if known else None


def csv_row(entry: AssetEntry) -> dict[str, Any]:
    """The entry's :data:`CSV_COLUMNS` (values not yet made safe)."""
    facts = entry.facts
    os_, hw, products = _group(facts, "os"), _group(facts, "hardware"), _group(facts, "products")
    interfaces = _items(facts, "interfaces")
    ips = _unique(ip for i in interfaces if isinstance(i.get("ips"), list) for ip in i["ips"])
    return {
        "host": entry.host,
        "in_inventory": "true" if entry.in_inventory else "false",
        "platform": entry.platform,
        "hostname": facts.get("hostname"),
        "fqdn": facts.get("fqdn"),
        "domain": facts.get("domain"),
        "workgroup": facts.get("workgroup"),
        "os_name": os_.get("name"),
        "os_version": os_.get("version"),
        "os_edition": os_.get("edition"),
        "os_build": os_.get("build"),
        "kernel": os_.get("kernel"),
        "firmware": os_.get("firmware"),
        "vendor": hw.get("vendor"),
        "model": hw.get("model"),
        "serial": hw.get("serial"),
        "virtualisation": hw.get("virtualisation"),
        "cpu_model": hw.get("cpu_model"),
        "cpu_count": hw.get("cpu_count"),
        "ram_bytes": hw.get("ram_bytes"),
        "disk_count": len(facts["disks"]) if isinstance(facts.get("disks"), list) else None,
        "disk_bytes": _disk_bytes(facts),
        "filesystem_count": len(facts["filesystems"]) if isinstance(facts.get("filesystems"), list) else None,
        "macs": "; ".join(_unique(i.get("mac") for i in interfaces)),
        "ips": "; ".join(ips),
        "software_count": _software_count(facts),
        "antivirus": "; ".join(_unique(products.get("antivirus") or [])),
        "backup": "; ".join(_unique(products.get("backup") or [])),
        "last_boot": facts.get("last_boot"),
        "last_upgrade": facts.get("last_upgrade"),
        "owner": entry.owner,
        "site": entry.site,
        "criticality": entry.criticality,
        "roles": "; ".join(entry.roles),
        "health": entry.health,
        "collected_at": entry.collected_at.isoformat() if entry.collected_at else None,
        "seq": entry.seq,
        "run_id": entry.run_id,
    }


def safe_cell(value: Any) -> str:
    """A CSV cell: empty for None, JSON for lists and objects, a leading ``'`` before a formula start."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        text = str(value)
    else:
        text = json.dumps(value, sort_keys=True, default=str)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def write_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(row.get(column)) for column in columns])
    sys.stdout.flush()


# --------------------------------------------------------------------------- table


def _size(n: Any) -> str:
    if not isinstance(n, int):
        return ""
    value, unit = float(n), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            break
        value /= 1024
    return f"{value:.0f} {unit}" if unit == "B" or value >= 100 else f"{value:.1f} {unit}"


def _os_text(facts: Mapping[str, Any]) -> str:
    os_ = _group(facts, "os")
    name = str(os_.get("name") or "")
    version = str(os_.get("version") or os_.get("firmware") or "")
    if version and version in name:
        return name
    return " ".join(p for p in (name, version) if p)


def _cpu_text(hw: Mapping[str, Any]) -> str:
    model, count = hw.get("cpu_model"), hw.get("cpu_count")
    if model and count:
        return f"{count}x {model}"
    return str(model or count or "")


def _disks_text(facts: Mapping[str, Any]) -> str:
    disks = facts.get("disks")
    if not isinstance(disks, list):
        return ""
    total = _disk_bytes(facts)
    return f"{len(disks)} ({_size(total)})" if total else str(len(disks))


def register_table(display_name: str, entries: Sequence[AssetEntry]) -> Table:
    from rich.markup import escape
    from rich.table import Table

    from runner.console import styled

    table = Table(title=f"{escape(display_name)}: asset register")
    columns = ("host", "platform", "OS / firmware", "model", "serial", "CPU", "RAM", "disks", "software")
    for col in (*columns, "owner", "site", "criticality", "health", "collected (UTC)"):
        short = col in ("platform", "RAM", "disks", "software", "criticality", "health", "collected (UTC)")
        table.add_column(col, overflow="fold", no_wrap=short)
    for entry in entries:
        facts, hw = entry.facts, _group(entry.facts, "hardware")
        host = escape(entry.host) + ("" if entry.in_inventory else " [dim](gone)[/]")
        count = _software_count(facts)
        table.add_row(
            host,
            escape(entry.platform or ""),
            escape(_os_text(facts)),
            escape(str(hw.get("model") or "")),
            escape(str(hw.get("serial") or "")),
            escape(_cpu_text(hw)),
            _size(hw.get("ram_bytes")),
            _disks_text(facts),
            "" if count is None else str(count),
            escape(entry.owner or ""),
            escape(entry.site or ""),
            entry.criticality,
            styled(entry.health),
            entry.collected_at.strftime("%Y-%m-%d %H:%M") if entry.collected_at else "never",
        )
    return table


#: changes whose values are byte counts
_SIZES = ("ram", "filesystem_resized")
#: an added or removed item's fields, in this order first
_FIRST = ("name", "mount", "platform", "hostname", "os", "version", "fstype", "size_bytes", "model", "serial")


def _value_text(kind: str, value: Any) -> str:
    """A change's before/after for people: sizes in binary units, an added or removed item's fields."""
    if value is None:
        return ""
    if kind in _SIZES and isinstance(value, int):
        return _size(value)
    if isinstance(value, Mapping):
        keys = sorted(value, key=lambda k: (_FIRST.index(k) if k in _FIRST else len(_FIRST), k))
        parts = [_size(value[k]) if k == "size_bytes" else _value_text(kind, value[k]) for k in keys]
        return ", ".join(p for p in parts if p)
    if isinstance(value, list):
        return ", ".join(_value_text(kind, v) for v in value)
    return str(value)


def changes_table(display_name: str, found: Sequence[AssetChange], since: date, until: date | None) -> Table:
    from rich.markup import escape
    from rich.table import Table

    span = f"since {since.isoformat()}" + (f" until {until.isoformat()}" if until else "")
    table = Table(title=f"{escape(display_name)}: asset changes {span}")
    for col in ("at (UTC)", "host", "change", "item", "before", "after", "seq"):
        table.add_column(col, overflow="fold")
    for change in found:
        table.add_row(
            change.at.strftime("%Y-%m-%d %H:%M"),
            escape(change.host),
            change.kind,
            escape(change.item or ""),
            escape(_value_text(change.kind, change.before)),
            escape(_value_text(change.kind, change.after)),
            str(change.seq),
        )
    return table


# --------------------------------------------------------------------------- command


def _wide() -> Console:
    """The terminal's console; when piped, one wide enough for the register's 14 columns."""
    if out.is_terminal:
        return out
    from rich.console import Console

    return Console(highlight=False, width=max(out.width, 240))


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        fail(f"{option} {text!r}: expected a date as YYYY-MM-DD")


def _start_of(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)


@app.command("assets")
def assets_command(
    client: Annotated[str, typer.Argument(help="Client folder under inventories/.")],
    as_json: Annotated[bool, typer.Option("--json", help="The register (or the changes) as JSON.")] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="One row per host (or per change), fixed columns (see docs).")
    ] = False,
    show_changes: Annotated[
        bool, typer.Option("--changes", help="What changed (needs --since): hosts, OS, firmware, RAM...")
    ] = False,
    since: Annotated[
        str | None, typer.Option("--since", help="--changes from this day, YYYY-MM-DD (client time zone).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="--changes up to this day, inclusive (default: now).")
    ] = None,
    host: Annotated[list[str] | None, typer.Option("--host", help="Only this host (repeatable).")] = None,
) -> None:
    """The asset register as of now: per host its hardware, OS, software count, owner, site, criticality
    and health (the worst status of its controls now); hosts never collected are listed with the inventory's
    data, hosts that left the inventory with their last facts.

    --changes --since D: what changed since then (new hosts, OS and firmware versions, hardware, RAM, CPU,
    disks, filesystems, software added, removed or updated, interfaces). Exit 0, or 2 when it cannot be
    shown (unknown client or host, a bad date, a bad asset_* host variable, no ledger).
    """
    if as_json and as_csv:
        fail("--json and --csv: give one of them")
    if not show_changes and (since is not None or until is not None):
        fail("--since and --until go with --changes")
    if show_changes and since is None:
        fail("--changes needs --since YYYY-MM-DD (the day the changes are shown from)")
    since_day = _day(since, "--since") if since is not None else None
    until_day = _day(until, "--until") if until is not None else None
    if since_day is not None and until_day is not None and until_day < since_day:
        fail(f"--until {until_day.isoformat()} is before --since {since_day.isoformat()}")

    from runner.assets.register import changes, register
    from runner.assets.store import light_rows
    from runner.inventory import load_client
    from runner.inventory.hostvars import asset_vars

    with user_errors():
        found = load_client(client)
    ledger = open_ledger()
    with user_errors():
        if since_day is None:
            entries = register(ledger, found)
            known = [e.host for e in entries]
        else:  # the changes need no state: the assets are the inventory's hosts and those with facts
            asset_vars(found)  # a bad asset_* value is refused whatever is shown
            entries = []
            known = sorted(set(found.ansible_hosts().hosts) | {row[2] for row in light_rows(ledger, client)})
    for name in host or []:
        if name not in known:
            fail(f"--host {name!r}: no such asset of {client} (hosts: {', '.join(known) or 'none'})")
    wanted = set(host or known)
    display = found.settings.display_name
    if since_day is None:
        shown = [e for e in entries if e.host in wanted]
        if as_json:
            as_of = datetime.now(UTC).isoformat()
            dump({"schema": SCHEMA, "client": client, "as_of": as_of, "assets": [e.as_dict() for e in shown]})
        elif as_csv:
            write_csv(CSV_COLUMNS, (csv_row(e) for e in shown))
        else:
            _wide().print(register_table(display, shown))
            collected = sum(e.collected_at is not None for e in shown)
            out.print(f"{len(shown)} asset(s), {collected} with facts collected", highlight=False)
            gone = [e.host for e in shown if not e.in_inventory]
            if gone:
                text = f"not in the inventory any more (facts kept): {', '.join(gone)}"
                out.print(text, highlight=False, markup=False, soft_wrap=True)
        return
    zone = found.settings.timezone
    start = _start_of(since_day, zone)
    end = _start_of(until_day + timedelta(days=1), zone) if until_day is not None else None
    with user_errors():
        listed = [c for c in changes(ledger, client, since=start, until=end) if c.host in wanted]
    if as_json:
        dump(
            {
                "schema": CHANGES_SCHEMA,
                "client": client,
                "since": start.isoformat(),
                "until": end.isoformat() if end is not None else None,
                "changes": [c.as_dict() for c in listed],
            }
        )
    elif as_csv:
        write_csv(CHANGES_COLUMNS, (c.as_dict() for c in listed))
    elif not listed:
        out.print(f"no asset changes recorded for {client} in that period", highlight=False)
    else:
        out.print(changes_table(display, listed, since_day, until_day))
