"""The onboarding pack: asset register, software, risk register, backup and security checks and roadmap of one
client, built from the ledger after its onboarding audit (``maint onboarding CLIENT``).

:func:`build_pack` returns the pack's JSON form (schema ``maint.onboarding/1``); :func:`write_pack` writes it
as ``pack.html`` and ``pack.pdf`` (``runner/report/templates/pack.html.j2``, through the report's renderer and
gettext catalogues), ``assets.csv``, ``assets.xlsx``, ``risks.xlsx``, ``roadmap.xlsx``
(:mod:`runner.onboarding.xlsx`) and ``pack.json``, each file 0600.

What it is read from, all through one :class:`runner.report.context.ReportContext` (so the pack names the
ledger checkpoint it was built from, as the report's cover does, and uses only the rows that checkpoint
covers): the current state at ``now`` (:meth:`ReportContext.state`), the asset register
(:func:`runner.assets.register.register`), the risks (:func:`runner.onboarding.risks.risks`), the backup jobs
of the report's backups section (:mod:`runner.report.sections.backups`) and the roadmap
(:func:`runner.onboarding.roadmap.items`). Same ledger, client inventory, run, language and ``now``: same JSON
(every list sorted; nothing read from the clock).

**The four questions per system** (``checks``), each answered ``yes``, ``no`` or ``unknown`` with the ledger
seqs of the rows the answer comes from:

- *Is backup running?* (``backup_running``) from the host's current ``BKP-*`` rows (the depth controls of
  :data:`BACKUP_DEPTH` left out: a copy kept on the same host is a risk, not a backup that stopped): ``no``
  when one of them is effectively ``fail`` or ``warn``; ``yes`` when none is and at least one is ``pass``;
  otherwise ``unknown`` (no backup control assigned, never checked, only ``not_checked`` / ``error`` or waived
  rows). A waiver is never a yes.
- *When did it last complete successfully?* (``last_success``): the newest ``last_success`` of the host's
  backup jobs (the report's backups section: restic's newest snapshot, a Veeam ``Success`` session's end,
  Windows Server Backup's ``last_successful_backup``, a file set's newest file); ``unknown`` when none is
  known.
- *Where are copies stored?* (``locations``): the jobs' locations (credentials removed); ``unknown`` when the
  evidence names none.
- *Do the antivirus and firewall configuration meet the minimum standards?* (``security``) from the host's
  ``AV-*`` rows (``antivirus``) and ``NET-*`` rows (``firewall``: a network device's configuration rule pack),
  each part answered like the first question; the whole is ``no`` when a part is ``no``, ``yes`` when the
  parts that apply are ``yes`` (a network device has no antivirus part; a server no firewall part unless it
  has ``NET-*`` rows: a part that does not apply is None), else ``unknown``.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.results import Status

if TYPE_CHECKING:
    from runner.inventory import Client
    from runner.ledger import Ledger, RunInfo
    from runner.ledger.note import Verifier
    from runner.onboarding.risks import Risk
    from runner.report.context import ReportContext
    from runner.state import StateRow

SCHEMA = "maint.onboarding/1"

#: backup controls that judge the depth of the copies (where they are, how many are kept, repository room,
#: restore verification), not whether backups run: they do not answer "is backup running?"
BACKUP_DEPTH = frozenset(
    {"BKP-RESTIC-05", "BKP-RESTIC-06", "BKP-VEEAM-04", "BKP-VEEAM-05", "BKP-VEEAM-06", "BKP-VEEAM-07"}
)
#: the files :func:`write_pack` writes, in this order
FILES = (
    "pack.json",
    "pack.html",
    "pack.pdf",
    "assets.csv",
    "assets.xlsx",
    "risks.xlsx",
    "roadmap.xlsx",
)
ANSWERS = ("yes", "no", "unknown")
#: network platforms (``network_config_platform``): no antivirus part, the NET-* rules are the firewall part
NETWORK_PLATFORMS = frozenset({"cisco_ios", "aruba_aoscx", "aruba_aoss", "fortios"})
#: the columns of assets.csv / assets.xlsx (keys of an asset row; headers in pack_labels.txt.j2): CIS
#: Controls v8 safeguard 1.1 (enterprise asset inventory: address, hardware address, machine name, owner,
#: site, approved)
ASSET_COLUMNS = (
    "host",
    "hostname",
    "fqdn",
    "platform",
    "asset_type",
    "os",
    "os_version",
    "firmware",
    "vendor",
    "model",
    "serial",
    "cpu",
    "ram_gib",
    "ips",
    "macs",
    "disks",
    "software_count",
    "owner",
    "site",
    "criticality",
    "roles",
    "health",
    "in_inventory",
    "last_boot",
    "collected_at",
    "seq",
)


class PackError(ValueError):
    """A pack that cannot be built or written (one line naming the run, file or key)."""


# ------------------------------------------------------------------------------------------- helpers


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _seq(row: StateRow) -> int | None:
    if row.latest is None:
        return None
    seq = row.latest.raw.get("seq")
    return int(seq) if seq is not None else None


def answer_of(rows: Sequence[StateRow]) -> dict[str, Any]:
    """The yes / no / unknown of a set of current rows (the rule of the module docstring)."""
    effective = [row.effective for row in rows]
    bad = [row for row in rows if row.effective in (Status.FAIL.value, Status.WARN.value)]
    passing = [row for row in rows if row.effective == Status.PASS.value]
    if bad:
        answer, why = "no", bad
    elif passing:
        answer, why = "yes", passing
    else:
        answer, why = "unknown", list(rows)
    seqs = sorted({s for s in (_seq(row) for row in why) if s is not None})
    return {
        "answer": answer,
        "controls": sorted({row.control for row in why}),
        "seqs": seqs,
        "statuses": dict(sorted(Counter(effective).items())),
    }


def _combine(parts: Iterable[dict[str, Any]]) -> str:
    answers = [part["answer"] for part in parts]
    if "no" in answers:
        return "no"
    if answers and all(a == "yes" for a in answers):
        return "yes"
    return "unknown"


# ------------------------------------------------------------------------------------------ sections


def run_facts(run: RunInfo) -> dict[str, Any]:
    return {
        "id": run.run_id,
        "started": _iso(run.started_at),
        "finished": _iso(run.finished_at),
        "status": run.status.value,
        "mode": run.mode,
        "roles": sorted(run.roles),
        "reason": run.reason,
        "requested_by": run.requested_by,
    }


def _gib(value: Any) -> float | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return round(value / 1024**3, 1)
    return None


def asset_row(entry: Mapping[str, Any]) -> dict[str, Any]:
    """One register entry (``AssetEntry.as_dict()``) as the flat row of assets.csv / .xlsx and the HTML table,
    with the stored facts (less ``software``, which is the pack's ``software`` section) under ``facts``."""
    facts = entry.get("facts") or {}
    os_ = facts.get("os") or {}
    hw = facts.get("hardware") or {}
    interfaces = [i for i in facts.get("interfaces") or [] if isinstance(i, Mapping)]
    ips = sorted({str(ip) for i in interfaces for ip in (i.get("ips") or [])})
    macs = sorted({str(i["mac"]) for i in interfaces if _text(i.get("mac"))})
    disks = [d for d in facts.get("disks") or [] if isinstance(d, Mapping)]
    platform = entry.get("platform")
    software = facts.get("software")
    count = facts.get("software_count")
    if count is None and isinstance(software, list):
        count = len(software)
    cpu = _text(hw.get("cpu_model"))
    if cpu and isinstance(hw.get("cpu_count"), int):
        cpu = f"{cpu} ({hw['cpu_count']})"
    elif cpu is None and isinstance(hw.get("cpu_count"), int):
        cpu = str(hw["cpu_count"])
    return {
        "host": entry["host"],
        "hostname": _text(facts.get("hostname")),
        "fqdn": _text(facts.get("fqdn")),
        "platform": platform,
        "asset_type": (
            "network device" if platform in NETWORK_PLATFORMS else ("server" if platform else None)
        ),
        "os": _text(os_.get("name")),
        "os_version": _text(os_.get("version")) or _text(os_.get("build")),
        "firmware": _text(os_.get("firmware")),
        "vendor": _text(hw.get("vendor")),
        "model": _text(hw.get("model")),
        "serial": _text(hw.get("serial")),
        "cpu": cpu,
        "ram_gib": _gib(hw.get("ram_bytes")),
        "ips": ips,
        "macs": macs,
        "disks": [
            {"name": d.get("name"), "size_gib": _gib(d.get("size_bytes")), "model": d.get("model")}
            for d in disks
        ],
        "software_count": count,
        "owner": entry.get("owner"),
        "site": entry.get("site"),
        "criticality": entry.get("criticality"),
        "roles": list(entry.get("roles") or ()),
        "health": entry.get("health"),
        "health_counts": dict(entry.get("health_counts") or {}),
        "in_inventory": bool(entry.get("in_inventory")),
        "last_boot": _text(facts.get("last_boot")),
        "collected_at": entry.get("collected_at"),
        "seq": entry.get("seq"),
        "run_id": entry.get("run_id"),
        # the facts as stored, but the software list: it is the pack's ``software`` section
        "facts": {k: v for k, v in facts.items() if k != "software"},
    }


def software_of(entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """CIS 2.1 (software inventory): per host its count and list (name, version, publisher), sorted."""
    out = []
    for entry in entries:
        facts = entry.get("facts") or {}
        items = [
            {
                "name": str(item.get("name")),
                "version": _text(item.get("version")),
                "publisher": _text(item.get("publisher")),
            }
            for item in facts.get("software") or []
            if isinstance(item, Mapping) and _text(item.get("name"))
        ]
        items.sort(
            key=lambda i: (str(i["name"]).lower(), str(i["name"]), i["version"] or "", i["publisher"] or "")
        )
        count = facts.get("software_count")
        out.append(
            {
                "host": entry["host"],
                "count": count if isinstance(count, int) else len(items),
                "listed": len(items),
                "items": items,
                "seq": entry.get("seq"),
            }
        )
    return out


def checks_of(ctx: ReportContext, rows: Sequence[StateRow], hosts: Sequence[str]) -> list[dict[str, Any]]:
    """The four questions per system (module docstring)."""
    from runner.report.sections import backups

    jobs = backups.build(ctx)["jobs"]
    platforms = ctx.scope.platforms
    by_host: dict[str, list[StateRow]] = {}
    for row in rows:
        by_host.setdefault(row.host, []).append(row)
    out = []
    for host in hosts:
        mine = by_host.get(host, [])
        bkp = [r for r in mine if r.control.startswith("BKP-") and r.control not in BACKUP_DEPTH]
        av = [r for r in mine if r.control.startswith("AV-")]
        net = [r for r in mine if r.control.startswith("NET-")]
        host_jobs = [j for j in jobs if j["host"] == host and j.get("job")]
        successes = sorted(
            ((j["last_success"], j) for j in host_jobs if j.get("last_success")), key=lambda p: p[0]
        )
        last = successes[-1][1] if successes else None
        located = sorted({j["location"] for j in host_jobs if j.get("location")})
        network = platforms.get(host) in NETWORK_PLATFORMS
        # a part that does not apply is None: a network device has no antivirus, a server no NET-* rules
        parts: dict[str, dict[str, Any] | None] = {
            "antivirus": None if network else answer_of(av),
            "firewall": answer_of(net) if network or net else None,
        }
        out.append(
            {
                "host": host,
                "platform": platforms.get(host) or None,
                "backup_running": answer_of(bkp),
                "last_success": {
                    "answer": last["last_success"] if last is not None else "unknown",
                    "at": last["last_success"] if last is not None else None,
                    "job": last["job"] if last is not None else None,
                    "seqs": sorted(last["seqs"]) if last is not None else [],
                },
                "locations": {
                    "answer": located or "unknown",
                    "items": located,
                    "seqs": sorted({s for j in host_jobs if j.get("location") for s in j["seqs"]}),
                },
                "security": {"answer": _combine(p for p in parts.values() if p is not None), **parts},
            }
        )
    return out


def summary_of(pack: Mapping[str, Any]) -> dict[str, Any]:
    assets = pack["assets"]
    risks = pack["risks"]
    items = pack["roadmap"]["items"]
    checks = pack["checks"]

    def tally(values: Iterable[Any]) -> dict[str, int]:
        return dict(sorted(Counter(str(v) for v in values).items()))

    return {
        "hosts": len(assets),
        "hosts_in_inventory": sum(1 for a in assets if a["in_inventory"]),
        "hosts_with_facts": sum(1 for a in assets if a["collected_at"]),
        "software_total": sum(s["count"] or 0 for s in pack["software"]),
        "health": tally(a["health"] for a in assets),
        "risks": len(risks),
        "risks_by_severity": tally(r["severity"] for r in risks),
        "risks_by_treatment": tally(r["treatment_class"] for r in risks),
        "backup_running": tally(c["backup_running"]["answer"] for c in checks),
        "security": tally(c["security"]["answer"] for c in checks),
        "roadmap_items": len(items),
        "roadmap_by_status": tally(i["status"] for i in items),
        "roadmap_overdue": sum(1 for i in items if i.get("overdue")),
    }


# --------------------------------------------------------------------------------------------- build


def find_run(ledger: Ledger, client: Client, run_id: str) -> RunInfo:
    """The run ``run_id`` of ``client``, checked to be an audit of all its roles (else :class:`PackError`)."""
    run = ledger.run(run_id)
    if run is None or run.client != client.name:
        raise PackError(f"--from-run {run_id}: no such run of client {client.name}")
    if run.status.value not in ("successful", "partial"):
        raise PackError(f"--from-run {run_id}: the run is {run.status.value}, not a completed audit")
    if run.mode != "audit":
        raise PackError(f"--from-run {run_id}: a {run.mode} run, not an audit")
    missing = sorted(set(client.settings.roles) - set(run.roles))
    if missing:
        raise PackError(f"--from-run {run_id}: not an audit of every role (left out: {', '.join(missing)})")
    if run.limit:
        raise PackError(f"--from-run {run_id}: limited to {run.limit!r}, not every host")
    if run.ticket:
        raise PackError(f"--from-run {run_id}: a ticket run ({run.ticket}), not the onboarding audit")
    return run


def build_pack(
    ledger: Ledger,
    client: Client,
    *,
    run_id: str,
    lang: str,
    now: datetime,
    msp: dict[str, Any] | None = None,
    verifier: Verifier | None = None,
    inventories: Path | None = None,
    risks: Sequence[Risk] | None = None,
) -> dict[str, Any]:
    """The onboarding pack of ``client`` after the audit ``run_id``, a JSON-able dict (module docstring).

    ``risks``: the client's ranked risks when the caller has them already (``maint onboarding`` plans the
    roadmap from them first), else computed here from the same state.
    """
    from runner import witness
    from runner.assets.register import register
    from runner.onboarding import risks as risks_mod
    from runner.onboarding import roadmap
    from runner.report.build import build_context, client_facts, ledger_facts
    from runner.report.period import span

    if now.tzinfo is None:
        raise PackError("now: an aware datetime is required")
    run = find_run(ledger, client, run_id)
    zone = client.settings.timezone
    from zoneinfo import ZoneInfo

    first = run.started_at.astimezone(ZoneInfo(zone)).date()
    last = max(first, now.astimezone(ZoneInfo(zone)).date())
    ctx = build_context(ledger, client, span(first, last, zone), lang=lang)
    state = ctx.state(min(now, ctx.period.end))
    if msp is None:
        from runner.report.branding import load_msp

        msp = load_msp(inventories).as_dict()
    if verifier is None:
        verifier = witness.configured_verifier()
    entries = [e.as_dict() for e in register(ledger, client, state=state)]
    entries.sort(key=lambda e: str(e["host"]))
    if risks is None:
        risks = risks_mod.risks(ledger, client, state=state, lang=lang, now=now)
    risk_rows = [r.as_dict() for r in risks]
    items = roadmap.items(ledger, client.name, now=now)
    hosts = sorted({*ctx.scope.hosts})
    pack: dict[str, Any] = {
        "schema": SCHEMA,
        "lang": ctx.lang,
        "built_at": _iso(now),
        "client": client_facts(client),
        "msp": msp,
        "run": run_facts(run),
        "as_of": ctx.as_of.isoformat(),
        "ledger": ledger_facts(ctx, verifier),
        "assets": [asset_row(e) for e in entries],
        "software": software_of(entries),
        "risks": risk_rows,
        "checks": checks_of(ctx, state.rows, hosts),
        "roadmap": {
            "items": [i.as_dict() for i in items],
            "milestones": roadmap.milestones(items),
        },
    }
    pack["summary"] = summary_of(pack)
    # what pack.json will hold, read back: the same dict whether built here or loaded from the file
    plain: dict[str, Any] = json.loads(json.dumps(pack, sort_keys=True, default=_json_default))
    return plain


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value)
    raise TypeError(f"pack: {type(value).__name__} is not JSON data")


# --------------------------------------------------------------------------------------------- write


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_cell(v) if not isinstance(v, Mapping) else _disk(v) for v in value)
    return str(value)


def _disk(disk: Mapping[str, Any]) -> str:
    size = disk.get("size_gib")
    return f"{disk.get('name')}{f' {size} GiB' if size is not None else ''}"


def csv_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP: a leading = + - @ tab or CR gets a quote)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def assets_csv(pack: Mapping[str, Any]) -> bytes:
    """``assets.csv``: the columns of :data:`ASSET_COLUMNS`, headers in the pack's language, UTF-8 with a BOM
    (what spreadsheets need to read it as UTF-8), every cell :func:`csv_safe`."""
    from runner.onboarding.xlsx import labels

    names = labels(pack).ASSET
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([names.get(key, key) for key in ASSET_COLUMNS])
    for row in pack["assets"]:
        writer.writerow([csv_safe(_cell(row.get(key))) for key in ASSET_COLUMNS])
    return buf.getvalue().encode("utf-8-sig")


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    tmp.chmod(0o600)
    tmp.replace(path)


def write_pack(data: Mapping[str, Any], out_dir: Path) -> list[Path]:
    """Every file of the pack (:data:`FILES`) into ``out_dir`` (created 0700 when missing), each 0600."""
    from runner.onboarding import xlsx
    from runner.report.render import render

    if data.get("schema") != SCHEMA:
        raise PackError(f"schema: expected {SCHEMA}, got {data.get('schema')!r}")
    try:
        out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise PackError(f"{out_dir}: cannot be created: {exc.strerror or exc}") from None
    if not out_dir.is_dir():
        raise PackError(f"{out_dir}: not a directory")
    html = render(data, "html", template="pack")
    from runner.report.render import pdf

    contents = {
        "pack.json": render(data, "json"),
        "pack.html": html,
        "pack.pdf": pdf(html.decode()),
        "assets.csv": assets_csv(data),
        "assets.xlsx": xlsx.assets(data),
        "risks.xlsx": xlsx.risks(data),
        "roadmap.xlsx": xlsx.roadmap(data),
    }
    written = []
    for name in FILES:
        path = out_dir / name
        try:
            _write(path, contents[name])
        except OSError as exc:
            raise PackError(f"{path}: cannot be written: {exc.strerror or exc}") from None
        written.append(path)
    return written


__all__ = [
    "ANSWERS",
    "ASSET_COLUMNS",
    "FILES",
    "SCHEMA",
    "PackError",
    "answer_of",
    "asset_row",
    "assets_csv",
    "build_pack",
    "checks_of",
    "find_run",
    "software_of",
    "write_pack",
]
