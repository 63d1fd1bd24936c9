"""The facts a client is notified of, decided from the ledger only.

Every fact has a key that names it once and for all, so a fact is sent once per channel however many
passes see it:

- ``new_failure`` ``[event, host, control, seq]``: the (host, control)'s latest judged row is a ``fail``
  of at least ``min_severity``; ``seq`` is its first ``fail`` row after the last ``pass`` (or
  ``not_applicable``). Still failing tomorrow: the same key, not sent again; passing, then failing again:
  a new first row, a new fact. ``not_checked`` / ``error`` rows judge nothing and are skipped; a ``warn``
  neither starts nor ends a streak. Waived pairs (a waiver in force today) and hosts no longer in the
  inventory are left out, and so is ``MAINT-SCHED-01`` when ``missed_window`` is notified
  (the same miss, told once).
- ``missed_window`` ``[event, occurrence_id]``: a ``missed`` row of ``schedule_occurrences``.
- ``drift`` ``[event, device, seq]``: a ``config_snapshots`` row of a device that had a snapshot before
  (its first snapshot is no change).
- ``backup_stale`` ``[event, host, seq]``: the host's backup checks have not succeeded for
  ``backup_stale_days``. Per run, a host's ``backup`` rows are *good* (a pass, no fail or error), *bad*
  (a fail or error) or neither; the host is stale when its latest good-or-bad run is bad and the last good
  one is that many days old (or there never was one and the first bad one is); ``seq`` is the first row
  of the first bad run after the last good one. It arises at the later of that run and the day the
  backup turned stale (monthly runs: the failed run, a month after the last success).
- ``report_ready`` ``[event, period]``: given by the report filing code.

A fact first seen more than ``lookback_days`` after it arose (notifications switched on later, a ledger
restored) is not sent: the monthly report tells it. Retries of recorded notifications are not limited.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from runner.ledger import schema
from runner.ledger.chain import canonical_json
from runner.notify.settings import Event, NotifySettings
from runner.status import Waivers, client_today

if TYPE_CHECKING:
    from runner.inventory import Client
    from runner.ledger import Ledger

SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
SCHEDULE_CONTROL = "MAINT-SCHED-01"
#: changed lines of a configuration change quoted in its message (the masked text), at most
DIFF_LINES = 20
#: the check_results columns a new failure's message is made from
_LATEST_COLUMNS = (
    "id",
    "seq",
    "run_id",
    "host",
    "control",
    "title",
    "status",
    "severity",
    "evidence",
    "remediation",
    "observed_at",
    "role",
)


@dataclass(frozen=True)
class Fact:
    key: tuple[str | int, ...]
    event: Event
    subject: str
    body: str
    born: datetime
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def fact(self) -> str:
        """The key as stored (canonical JSON of the list)."""
        return canonical_json(list(self.key))


def _dt(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class _Clock:
    """Times shown in UTC and in the client's zone."""

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)

    def __call__(self, value: datetime) -> str:
        local = value.astimezone(self.zone)
        return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({local:%Y-%m-%d %H:%M} {local.tzname()})"


# -- new failures -----------------------------------------------------------------------------------

_FAILURES = sa.text(
    """
WITH judged AS (
  SELECT id, host, control, seq, status, observed_at,
    SUM(CASE WHEN status IN ('pass', 'not_applicable') THEN 1 ELSE 0 END) OVER (
      PARTITION BY host, control ORDER BY observed_at DESC, seq DESC ROWS UNBOUNDED PRECEDING
    ) AS resolved_after,
    ROW_NUMBER() OVER (PARTITION BY host, control ORDER BY observed_at DESC, seq DESC) AS newest
  FROM check_results
  WHERE client = :client AND status IN ('pass', 'not_applicable', 'warn', 'fail')
), failing AS (
  SELECT host, control, id AS latest_id FROM judged WHERE newest = 1 AND status = 'fail'
), firsts AS (
  SELECT j.host, j.control, j.seq, j.observed_at, f.latest_id,
    ROW_NUMBER() OVER (PARTITION BY j.host, j.control ORDER BY j.observed_at, j.seq) AS k
  FROM judged j JOIN failing f ON f.host = j.host AND f.control = j.control
  WHERE j.resolved_after = 0 AND j.status = 'fail'
)
SELECT host, control, seq, observed_at, latest_id FROM firsts WHERE k = 1
"""
)


def new_failures(
    ledger: Ledger, client: Client, settings: NotifySettings, now: datetime, since: datetime
) -> list[Fact]:
    rule = settings.rule(Event.NEW_FAILURE)
    if rule is None:
        return []
    wanted = SEVERITY_RANK[rule.min_severity.value]
    skip_schedule = settings.rule(Event.MISSED_WINDOW) is not None  # told as a missed window already
    with ledger.engine.connect() as conn:
        firsts = [
            dict(r)
            for r in conn.execute(_FAILURES, {"client": client.name}).mappings()
            if _dt(r["observed_at"]) >= since
        ]
        ids = [int(r["latest_id"]) for r in firsts]
        latest: dict[int, Mapping[str, Any]] = {}
        cr = schema.check_results
        columns = [cr.c[name] for name in _LATEST_COLUMNS]
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            for stored in conn.execute(sa.select(*columns).where(cr.c.id.in_(chunk))).mappings():
                latest[int(stored["id"])] = dict(stored)
    waivers = Waivers(client.settings.waivers, client_today(client.settings, now))
    hosts = set(client.tree.hosts)
    clock = _Clock(client.settings.timezone)
    name = client.settings.display_name
    found = []
    for first in firsts:
        row = latest.get(int(first["latest_id"]))
        if row is None or SEVERITY_RANK.get(str(row["severity"]), 9) > wanted:
            continue
        host, control = str(first["host"]), str(first["control"])
        if host not in hosts or waivers.lookup(control, host)[0] is not None:
            continue
        if skip_schedule and control == SCHEDULE_CONTROL:
            continue
        try:
            evidence = json.loads(row["evidence"])
        except ValueError:
            evidence = {}
        reason = evidence.get("reason") if isinstance(evidence, dict) else None
        since_at, observed = _dt(first["observed_at"]), _dt(row["observed_at"])
        severity = str(row["severity"])
        seq, latest_seq = int(first["seq"]), int(row["seq"])
        lines = [
            f"New {severity} failure at {name}",
            "",
            f"Host:          {host}",
            f"Control:       {control} - {row['title']}",
            f"Status:        fail (severity {severity})",
            f"Failing since: {clock(since_at)} (ledger row {seq})",
            f"Last checked:  {clock(observed)} (run {row['run_id']}, ledger row {latest_seq})",
        ]
        if isinstance(reason, str) and reason:
            lines.append(f"Reason:        {reason}")
        lines += ["", "What to do:", str(row["remediation"]), "", _prove(client.name, latest_seq)]
        found.append(
            Fact(
                key=(Event.NEW_FAILURE.value, host, control, seq),
                event=Event.NEW_FAILURE,
                subject=f"[maint] {name}: new {severity} failure: {control} on {host}",
                body="\n".join(lines) + "\n",
                born=since_at,
                detail={
                    "host": host,
                    "control": control,
                    "title": str(row["title"]),
                    "severity": severity,
                    "status": "fail",
                    "reason": reason if isinstance(reason, str) else None,
                    "remediation": str(row["remediation"]),
                    "run_id": str(row["run_id"]),
                    "first_failed_at": since_at.isoformat(),
                    "observed_at": observed.isoformat(),
                    "seqs": sorted({seq, latest_seq}),
                },
            )
        )
    return found


def _prove(client: str, seq: int) -> str:
    return f"The evidence is in the ledger: maint ledger prove {client} --seq {seq}"


# -- missed windows ------------------------------------------------------------------------------


def missed_windows(ledger: Ledger, client: Client, since: datetime) -> list[Fact]:
    query = sa.text(
        "SELECT seq, occurrence_id, schedule, window_start, window_end, run_id, detail, recorded_at "
        "FROM schedule_occurrences WHERE client = :client AND state = 'missed' ORDER BY seq"
    )
    with ledger.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query, {"client": client.name}).mappings()]
    clock = _Clock(client.settings.timezone)
    name = client.settings.display_name
    found = []
    for r in rows:
        recorded = _dt(r["recorded_at"])
        if recorded < since:
            continue
        detail = json.loads(r["detail"]) if r["detail"] else {}
        reason = str(detail.get("reason") or "")
        hosts = [str(h) for h in detail.get("hosts", [])]
        start, end = _dt(r["window_start"]), _dt(r["window_end"])
        body = [
            f"Maintenance window missed at {name}",
            "",
            f"Schedule:     {r['schedule']}",
            f"Window:       {clock(start)} to {clock(end)}",
            f"Reason:       {reason or 'not recorded'}",
            f"Hosts:        {', '.join(hosts) or 'none recorded'}",
            "",
            "Run the schedule's roles ad hoc with a ticket (maint run CLIENT --role R --ticket ID).",
            "",
            _prove(client.name, int(r["seq"])),
        ]
        found.append(
            Fact(
                key=(Event.MISSED_WINDOW.value, str(r["occurrence_id"])),
                event=Event.MISSED_WINDOW,
                subject=f"[maint] {name}: maintenance window missed: {r['schedule']} {start:%Y-%m-%d}",
                body="\n".join(body) + "\n",
                born=recorded,
                detail={
                    "occurrence_id": str(r["occurrence_id"]),
                    "schedule": str(r["schedule"]),
                    "window_start": start.isoformat(),
                    "window_end": end.isoformat(),
                    "reason": reason,
                    "hosts": hosts,
                    "run_id": r["run_id"],
                    "seqs": [int(r["seq"])],
                },
            )
        )
    return found


# -- configuration drift -------------------------------------------------------------------------


def drift(ledger: Ledger, client: Client, since: datetime) -> list[Fact]:
    query = sa.text(
        "SELECT seq, device, platform, run_id, taken_at, masked_text FROM config_snapshots "
        "WHERE client = :client ORDER BY device, seq"
    )
    with ledger.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query, {"client": client.name}).mappings()]
    clock = _Clock(client.settings.timezone)
    name = client.settings.display_name
    found = []
    previous: Mapping[str, Any] | None = None
    for r in rows:
        before, previous = previous, r
        if before is None or before["device"] != r["device"]:
            continue
        taken = _dt(r["taken_at"])
        if taken < since:
            continue
        added, removed = _diff(str(r["platform"]), str(before["masked_text"]), str(r["masked_text"]))
        device = str(r["device"])
        body = [
            f"Configuration changed on {device} at {name}",
            "",
            f"Device:       {device} ({r['platform']})",
            f"Seen at:      {clock(taken)} (run {r['run_id'] or '-'})",
            f"Since:        {clock(_dt(before['taken_at']))}",
            f"Lines:        {len(added)} added, {len(removed)} removed (secrets masked)",
            "",
            *[f"+ {line}" for line in added[:DIFF_LINES]],
            *[f"- {line}" for line in removed[: max(0, DIFF_LINES - len(added))]],
            "",
            f"Review it: maint drift {client.name} --device {device}",
            _prove(client.name, int(r["seq"])),
        ]
        found.append(
            Fact(
                key=(Event.DRIFT.value, device, int(r["seq"])),
                event=Event.DRIFT,
                subject=f"[maint] {name}: configuration changed on {device}",
                body="\n".join(body) + "\n",
                born=taken,
                detail={
                    "device": device,
                    "platform": str(r["platform"]),
                    "run_id": r["run_id"],
                    "taken_at": taken.isoformat(),
                    "previous_taken_at": _dt(before["taken_at"]).isoformat(),
                    "added": len(added),
                    "removed": len(removed),
                    "seqs": [int(before["seq"]), int(r["seq"])],
                },
            )
        )
    return found


def _diff(platform: str, old: str, new: str) -> tuple[list[str], list[str]]:
    """Lines added and removed between two masked snapshots (masked again with today's masker)."""
    from runner.network.mask import mask
    from runner.network.platforms import Platform

    try:
        kind: Platform | None = Platform(platform)
    except ValueError:
        kind = None
    if kind is not None:
        old, new = mask(kind, old), mask(kind, new)
    added: list[str] = []
    removed: list[str] = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0):
        if line.startswith(("+++", "---", "@@")):
            continue
        (added if line.startswith("+") else removed).append(line[1:])
    return added, removed


# -- stale backups -------------------------------------------------------------------------------


def stale_backups(
    ledger: Ledger, client: Client, settings: NotifySettings, now: datetime, since: datetime
) -> list[Fact]:
    rule = settings.rule(Event.BACKUP_STALE)
    if rule is None:
        return []
    days = rule.backup_stale_days
    query = sa.text(
        "SELECT host, run_id, control, status, seq, observed_at FROM check_results "
        "WHERE client = :client AND domain = 'backup' AND status IN ('pass', 'fail', 'error') "
        "ORDER BY host, observed_at, seq"
    )
    with ledger.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query, {"client": client.name}).mappings()]
    by_host: dict[str, dict[str, list[Mapping[str, Any]]]] = {}
    for r in rows:
        by_host.setdefault(str(r["host"]), {}).setdefault(str(r["run_id"]), []).append(r)
    hosts = set(client.tree.hosts)
    clock = _Clock(client.settings.timezone)
    name = client.settings.display_name
    found = []
    for host, runs in sorted(by_host.items()):
        if host not in hosts:
            continue
        judged = sorted(runs.values(), key=lambda rs: (_dt(rs[-1]["observed_at"]), rs[-1]["seq"]))
        last_good: Sequence[Mapping[str, Any]] | None = None
        first_bad: Sequence[Mapping[str, Any]] | None = None
        for group in judged:
            bad = any(r["status"] in ("fail", "error") for r in group)
            if bad:
                first_bad = first_bad or group
            else:
                last_good, first_bad = group, None
        if first_bad is None:
            continue  # the latest judged run succeeded
        start = (
            _dt(last_good[-1]["observed_at"]) if last_good is not None else _dt(first_bad[0]["observed_at"])
        )
        stale_at = start + timedelta(days=days)
        # the ledger shows the fact from its first bad run on: with monthly runs the last success is a
        # month old by then, and the lookback counts from that run, not from the day the backup turned stale
        born = max(stale_at, _dt(first_bad[0]["observed_at"]))
        if stale_at > now or born < since:
            continue
        seq = int(first_bad[0]["seq"])
        latest = judged[-1]
        failing = sorted({str(r["control"]) for r in latest if r["status"] in ("fail", "error")})
        last_text = clock(start) if last_good is not None else f"never (failing since {clock(start)})"
        body = [
            f"No successful backup on {host} for {days} days or more at {name}",
            "",
            f"Host:            {host}",
            f"Last success:    {last_text}",
            f"Failing since:   {clock(_dt(first_bad[0]['observed_at']))} (ledger row {seq})",
            f"Failing checks:  {', '.join(failing)}",
            "",
            "Check the backup job and its target, then run it by hand and watch it finish.",
            "",
            _prove(client.name, int(latest[-1]["seq"])),
        ]
        found.append(
            Fact(
                key=(Event.BACKUP_STALE.value, host, seq),
                event=Event.BACKUP_STALE,
                subject=f"[maint] {name}: no successful backup on {host} for {days} days",
                body="\n".join(body) + "\n",
                born=born,
                detail={
                    "host": host,
                    "days": days,
                    "last_success": last_good[-1]["observed_at"] if last_good is not None else None,
                    "failing_since": _dt(first_bad[0]["observed_at"]).isoformat(),
                    "controls": failing,
                    "seqs": sorted({seq, int(latest[-1]["seq"])}),
                },
            )
        )
    return found


# -- report ready ----------------------------------------------------------------------------------


def report_ready(client: Client, period: str, files: Sequence[Path], now: datetime) -> Fact:
    name = client.settings.display_name
    listed = [f"  {p.name} ({_size(p)}): {p}" for p in files]
    body = [
        f"The maintenance report of {name} for {period} is ready.",
        "",
        *listed,
        "",
        f"List the filed reports: maint reports {client.name}",
    ]
    return Fact(
        key=(Event.REPORT_READY.value, period),
        event=Event.REPORT_READY,
        subject=f"[maint] {name}: maintenance report {period} is ready",
        body="\n".join(body) + "\n",
        born=now,
        detail={"period": period, "files": [str(p) for p in files], "seqs": []},
    )


def _size(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError:
        return "missing"
    return f"{size / 1024:.0f} KiB" if size >= 1024 else f"{size} B"


# -- all of them -------------------------------------------------------------------------------------


def detect(ledger: Ledger, client: Client, settings: NotifySettings, now: datetime) -> list[Fact]:
    """Every fact the configured events ask for, as the ledger shows it at ``now``."""
    since = now - timedelta(days=settings.lookback_days)
    found: list[Fact] = []
    found += new_failures(ledger, client, settings, now, since)
    if settings.rule(Event.MISSED_WINDOW) is not None:
        found += missed_windows(ledger, client, since)
    if settings.rule(Event.DRIFT) is not None:
        found += drift(ledger, client, since)
    found += stale_backups(ledger, client, settings, now, since)
    return sorted(found, key=lambda f: (f.born, f.fact))
