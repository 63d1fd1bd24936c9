"""The onboarding roadmap: one item per risk, stored as chained events (table ``roadmap_events``).

An item is named by its control (``HEALTH-LNX-01``): one per control of the risk register, over the hosts
it fails on. Every change is one row of ``roadmap_events`` (migration 0008; named in
:mod:`runner.domains`), never updated: ``action`` (``created``, ``updated``, ``closed``, ``reopened``),
the item's fields after the event (control, title, treatment_class, severity, hosts as canonical JSON,
owner, due as ``YYYY-MM-DD``, the client's time zone the due date is read in, status), who made it
(``made_by``), when (``at``, UTC) and the run that caused it (``run_id``, for events made by ``maint``).
:class:`RoadmapItem` is the fold of an item's events.

- :func:`plan` adds an ``open`` item for every risk without one, its owner and due date the defaults of
  its treatment class (``maintenance.onboarding.owners`` / ``due_days``: MSP, MSP, client; 7, 30, 90 days
  from the plan date in the client's time zone); it reopens a ``done`` item whose control failed again
  since it was closed, and updates an open item's hosts, severity and class when the risk's changed.
  ``wont_do`` items stay so.
- :func:`set_item` is the technician agreeing owner, due date or status with the client.
- :func:`sync` runs after every run and every ingest: it closes (``done``, by ``maint``, with the run) an
  ``open`` / ``in_progress`` item once its control passes (a result newer than the item's last opening) or
  is waived on every host it lists (a host that left the state, or whose role was unassigned, no longer
  holds it open), and reopens a ``done`` item when one of its hosts fails again (fail, error or warn after
  it was closed). A client without roadmap events costs one indexed lookup.

An item is **overdue** while open or in progress after its due date (in the client's time zone).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from runner.ledger import schema
from runner.ledger.chain import canonical_json

if TYPE_CHECKING:
    from runner.inventory import Client
    from runner.ledger import Ledger
    from runner.onboarding.risks import Risk
    from runner.state import ClientState, StateRow

log = logging.getLogger(__name__)

TABLE = "roadmap_events"
OPEN, IN_PROGRESS, DONE, WONT_DO = "open", "in_progress", "done", "wont_do"
STATUSES = (OPEN, IN_PROGRESS, DONE, WONT_DO)
ACTIVE = (OPEN, IN_PROGRESS)
CLOSED = (DONE, WONT_DO)
CREATED, UPDATED, CLOSED_EVENT, REOPENED = "created", "updated", "closed", "reopened"
ACTIONS = (CREATED, UPDATED, CLOSED_EVENT, REOPENED)
#: who the events made by a run (sync) are recorded as
SYSTEM = "maint"
#: the treatment classes in milestone order
CLASS_ORDER = ("fix_now", "preventive_cycle", "separate_project")
#: the item fields an event records
FIELDS = ("control", "title", "treatment_class", "severity", "hosts", "owner", "due", "status")

#: the domain's chained table (migration 0008; named in runner.domains)
roadmap_events = schema.chained_table(
    TABLE,
    sa.Column("item", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("control", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("treatment_class", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("hosts", sa.Text, nullable=False),
    sa.Column("owner", sa.Text),
    sa.Column("due", sa.Text),
    sa.Column("timezone", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("made_by", sa.Text, nullable=False),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("run_id", sa.Text),
    sa.Index("ix_roadmap_events_item", "client", "item", "seq"),
)


class RoadmapError(ValueError):
    """A roadmap change that cannot be made (the message names the item, option or value)."""


@dataclass(frozen=True)
class RoadmapItem:
    """One item of the roadmap: the fold of its events."""

    item: str
    control: str
    title: str
    treatment_class: str
    severity: str
    hosts: tuple[str, ...]
    owner: str | None
    due: date | None
    status: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    closed_by_run: str | None
    overdue: bool
    history: tuple[dict[str, Any], ...]
    #: when it was last (re)opened: a passing result must be newer to close it
    opened_at: datetime | None = None
    timezone: str = "UTC"

    def as_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "control": self.control,
            "title": self.title,
            "treatment_class": self.treatment_class,
            "severity": self.severity,
            "hosts": list(self.hosts),
            "owner": self.owner,
            "due": None if self.due is None else self.due.isoformat(),
            "status": self.status,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "closed_at": None if self.closed_at is None else _iso(self.closed_at),
            "closed_by_run": self.closed_by_run,
            "overdue": self.overdue,
            "history": [dict(h) for h in self.history],
        }


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _utc(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    return now.astimezone(UTC)


# --------------------------------------------------------------------------- reading


def has_events(ledger: Ledger, client: str) -> bool:
    """Whether the client has any roadmap event (one indexed lookup)."""
    t = roadmap_events
    with ledger.engine.connect() as conn:
        return conn.execute(sa.select(t.c.id).where(t.c.client == client).limit(1)).first() is not None


def _events(ledger: Ledger, client: str) -> list[Mapping[str, Any]]:
    t = roadmap_events
    with ledger.engine.connect() as conn:
        query = sa.select(t).where(t.c.client == client).order_by(t.c.seq)
        return [dict(row) for row in conn.execute(query).mappings()]


def _fields(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "control": row["control"],
        "title": row["title"],
        "treatment_class": row["treatment_class"],
        "severity": row["severity"],
        "hosts": json.loads(row["hosts"]),
        "owner": row["owner"],
        "due": row["due"],
        "status": row["status"],
    }


def is_overdue(status: str, due: date | None, zone: str, now: datetime) -> bool:
    """Open or in progress, and the client's date ``now`` is past ``due``."""
    if status not in ACTIVE or due is None:
        return False
    return now.astimezone(ZoneInfo(zone)).date() > due


def _fold(rows: Sequence[Mapping[str, Any]], now: datetime) -> RoadmapItem:
    history: list[dict[str, Any]] = []
    before: dict[str, Any] = {}
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by_run: str | None = None
    for row in rows:
        after = _fields(row)
        at = _utc(row["at"])
        changed = {k: v for k, v in after.items() if row["action"] == CREATED or before.get(k) != v}
        history.append(
            {
                "seq": int(row["seq"]),
                "at": _iso(at),
                "by": row["made_by"],
                "action": row["action"],
                "run_id": row["run_id"],
                "fields": changed,
            }
        )
        if after["status"] in CLOSED and before.get("status") not in CLOSED:
            closed_at, closed_by_run = at, row["run_id"]
        elif after["status"] in ACTIVE and (not before or before.get("status") in CLOSED):
            opened_at, closed_at, closed_by_run = at, None, None
        before = after
    last = rows[-1]
    due = date.fromisoformat(before["due"]) if before["due"] else None
    zone = str(last["timezone"])
    return RoadmapItem(
        item=str(last["item"]),
        control=before["control"],
        title=before["title"],
        treatment_class=before["treatment_class"],
        severity=before["severity"],
        hosts=tuple(before["hosts"]),
        owner=before["owner"],
        due=due,
        status=before["status"],
        created_at=_utc(rows[0]["at"]),
        updated_at=_utc(last["at"]),
        closed_at=closed_at,
        closed_by_run=closed_by_run,
        overdue=is_overdue(before["status"], due, zone, now),
        history=tuple(history),
        opened_at=opened_at,
        timezone=zone,
    )


def _sort_key(item: RoadmapItem) -> tuple[int, int, str, str]:
    state = 0 if item.overdue else 1 + STATUSES.index(item.status)
    return (
        state,
        CLASS_ORDER.index(item.treatment_class) if item.treatment_class in CLASS_ORDER else 9,
        (item.due or date.max).isoformat(),
        item.item,
    )


def items(ledger: Ledger, client: str, *, now: datetime | None = None) -> list[RoadmapItem]:
    """Every item of the client's roadmap: overdue first, then open, in progress, done, won't do (each by
    class, due date, id). ``now``: the instant ``overdue`` is judged at (default: the clock)."""
    now = _aware(now or datetime.now(UTC))
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for row in _events(ledger, client):
        grouped.setdefault(str(row["item"]), []).append(row)
    return sorted((_fold(rows, now) for rows in grouped.values()), key=_sort_key)


def milestones(found: Sequence[RoadmapItem]) -> list[dict[str, Any]]:
    """The roadmap's milestones: its items grouped by treatment class and due date (won't do left out),
    earliest first, each with its items and how many are done, still open and overdue."""
    groups: dict[tuple[str, date | None], list[RoadmapItem]] = {}
    for item in found:
        if item.status == WONT_DO:
            continue
        groups.setdefault((item.treatment_class, item.due), []).append(item)

    def order(key: tuple[str, date | None]) -> tuple[str, int]:
        cls, due = key
        return ((due or date.max).isoformat(), CLASS_ORDER.index(cls) if cls in CLASS_ORDER else 9)

    out = []
    for key in sorted(groups, key=order):
        cls, due = key
        members = sorted(groups[key], key=lambda i: i.item)
        out.append(
            {
                "treatment_class": cls,
                "due": None if due is None else due.isoformat(),
                "items": [i.item for i in members],
                "total": len(members),
                "done": sum(i.status == DONE for i in members),
                "open": sum(i.status in ACTIVE for i in members),
                "overdue": sum(i.overdue for i in members),
            }
        )
    return out


# --------------------------------------------------------------------------- writing


def _row(
    client: str,
    item: str,
    action: str,
    fields: Mapping[str, Any],
    *,
    zone: str,
    by: str,
    at: datetime,
    run_id: str | None,
) -> dict[str, Any]:
    return {
        "client": client,
        "item": item,
        "action": action,
        "control": fields["control"],
        "title": fields["title"],
        "treatment_class": fields["treatment_class"],
        "severity": fields["severity"],
        "hosts": canonical_json(sorted(set(fields["hosts"]))),
        "owner": fields["owner"],
        "due": fields["due"],
        "timezone": zone,
        "status": fields["status"],
        "made_by": by,
        "at": _iso(at),
        "run_id": run_id,
    }


def _current(item: RoadmapItem) -> dict[str, Any]:
    return {
        "control": item.control,
        "title": item.title,
        "treatment_class": item.treatment_class,
        "severity": item.severity,
        "hosts": list(item.hosts),
        "owner": item.owner,
        "due": None if item.due is None else item.due.isoformat(),
        "status": item.status,
    }


def default_owner(client: Client, treatment_class: str) -> str:
    return str(getattr(client.settings.onboarding.owners, treatment_class))


def default_due(client: Client, treatment_class: str, now: datetime) -> date:
    """The plan date in the client's time zone plus the class's ``due_days``."""
    days = int(getattr(client.settings.onboarding.due_days, treatment_class))
    return now.astimezone(ZoneInfo(client.settings.timezone)).date() + timedelta(days=days)


def _title(control: str, fallback: str) -> str:
    from runner import catalogue

    try:
        spec = catalogue.load().controls.get(control)
    except catalogue.CatalogueError:
        spec = None
    return spec.title if spec is not None else fallback


def _by(by: str) -> str:
    name = by.strip()
    if not name:
        raise RoadmapError("--by: empty name")
    return name


def plan(
    ledger: Ledger, client: Client, risks: Sequence[Risk], *, by: str, now: datetime
) -> list[RoadmapItem]:
    """Put every risk on the roadmap (see the module's docstring); returns the whole roadmap."""
    now = _aware(now)
    who = _by(by)
    zone = client.settings.timezone
    known = {item.item: item for item in items(ledger, client.name, now=now)}
    rows: list[dict[str, Any]] = []
    for risk in risks:
        current = known.get(risk.control)
        wanted = {
            "control": risk.control,
            "title": _title(risk.control, risk.title),
            "treatment_class": risk.treatment_class,
            "severity": risk.severity,
            "hosts": sorted(risk.assets),
        }
        if current is None:
            fields = {
                **wanted,
                "owner": default_owner(client, risk.treatment_class),
                "due": default_due(client, risk.treatment_class, now).isoformat(),
                "status": OPEN,
            }
            rows.append(
                _row(client.name, risk.control, CREATED, fields, zone=zone, by=who, at=now, run_id=None)
            )
            continue
        if current.status == WONT_DO:
            continue
        fields = {**_current(current), **wanted}
        if current.status == DONE:
            if not _seen_after(risk, current.closed_at):
                continue  # what the risk shows predates the closing: nothing new fails
            fields["status"] = OPEN
            fields["due"] = default_due(client, risk.treatment_class, now).isoformat()
            rows.append(
                _row(client.name, current.item, REOPENED, fields, zone=zone, by=who, at=now, run_id=None)
            )
        elif fields != _current(current):
            rows.append(
                _row(client.name, current.item, UPDATED, fields, zone=zone, by=who, at=now, run_id=None)
            )
    if rows:
        ledger.append(roadmap_events, rows)
    return items(ledger, client.name, now=now)


def _seen_after(risk: Risk, since: datetime | None) -> bool:
    """Whether a result of the risk's evidence was observed after ``since`` (never checked: no)."""
    if since is None:
        return True
    return any(e.get("observed_at") and _utc(str(e["observed_at"])) > since for e in risk.evidence)


def parse_due(text: str) -> date:
    """``--due``: a calendar date ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise RoadmapError(f"--due {text!r}: expected a date such as 2027-01-31 (YYYY-MM-DD)") from None


def set_item(
    ledger: Ledger,
    client: Client,
    item: str,
    *,
    by: str,
    now: datetime,
    owner: str | None = None,
    due: date | None = None,
    status: str | None = None,
) -> RoadmapItem:
    """Change an item's owner, due date and/or status, recorded as one event by ``by`` at ``now``.

    :class:`RoadmapError` for an unknown item, an unknown status, an empty owner or nothing to set. A change
    to the values the item already has records nothing."""
    now = _aware(now)
    who = _by(by)
    if owner is None and due is None and status is None:
        raise RoadmapError(f"roadmap item {item}: nothing to set (give --owner, --due and/or --status)")
    if status is not None and status not in STATUSES:
        raise RoadmapError(f"--status {status!r}: expected one of {', '.join(STATUSES)}")
    if owner is not None and not owner.strip():
        raise RoadmapError("--owner: empty name")
    known = {i.item: i for i in items(ledger, client.name, now=now)}
    current = known.get(item)
    if current is None:
        ids = ", ".join(sorted(known)) or "none: run maint onboarding first"
        raise RoadmapError(f"roadmap item {item!r} of client {client.name!r} does not exist (items: {ids})")
    fields = _current(current)
    if owner is not None:
        fields["owner"] = owner.strip()
    if due is not None:
        fields["due"] = due.isoformat()
    if status is not None:
        fields["status"] = status
    if fields == _current(current):
        return current
    old, new = current.status, fields["status"]
    if new in CLOSED and old not in CLOSED:
        action = CLOSED_EVENT
    elif new in ACTIVE and old in CLOSED:
        action = REOPENED
    else:
        action = UPDATED
    ledger.append(
        roadmap_events,
        [_row(client.name, item, action, fields, zone=current.timezone, by=who, at=now, run_id=None)],
    )
    return {i.item: i for i in items(ledger, client.name, now=now)}[item]


# --------------------------------------------------------------------------- sync


def _resolved(row: StateRow | None, since: datetime | None) -> bool:
    """The host's row no longer needs the item: it passes (a result newer than ``since``), is waived,
    does not apply, or left the state (host or role gone)."""
    from runner.status import WAIVED

    if row is None:
        return True
    if row.effective == WAIVED:
        return True
    if row.effective not in ("pass", "not_applicable") or row.latest is None:
        return False
    return since is None or row.latest.observed_at > since


def _failing_again(row: StateRow, since: datetime | None) -> bool:
    from runner.results import Status

    if row.latest is None or row.effective not in (Status.FAIL.value, Status.ERROR.value, Status.WARN.value):
        return False
    return since is None or row.latest.observed_at > since


def sync(
    ledger: Ledger,
    client: Client,
    *,
    now: datetime,
    run_id: str | None = None,
    state: ClientState | None = None,
) -> list[RoadmapItem]:
    """Close the items whose control passes now, reopen the done ones failing again (see the module's
    docstring); returns the items changed. Nothing at all (one lookup) when the client has no roadmap."""
    now = _aware(now)
    if not has_events(ledger, client.name):
        return []
    from runner import state as state_mod

    found = items(ledger, client.name, now=now)
    watched = [i for i in found if i.status in ACTIVE or i.status == DONE]
    if not watched:
        return []
    state = state or state_mod.compute(ledger, client, now=now)
    rows: dict[tuple[str, str], StateRow] = {(r.host, r.control): r for r in state.rows}
    by_control: dict[str, list[StateRow]] = {}
    for r in state.rows:
        by_control.setdefault(r.control, []).append(r)
    new_rows: list[dict[str, Any]] = []
    for item in watched:
        fields = _current(item)
        if item.status in ACTIVE:
            if all(_resolved(rows.get((host, item.control)), item.opened_at) for host in item.hosts):
                fields["status"] = DONE
                new_rows.append(
                    _row(
                        client.name,
                        item.item,
                        CLOSED_EVENT,
                        fields,
                        zone=item.timezone,
                        by=SYSTEM,
                        at=now,
                        run_id=run_id,
                    )
                )
            continue
        failing = sorted(
            r.host for r in by_control.get(item.control, ()) if _failing_again(r, item.closed_at)
        )
        if failing:
            fields["status"] = OPEN
            fields["hosts"] = failing
            fields["due"] = default_due(client, item.treatment_class, now).isoformat()
            new_rows.append(
                _row(
                    client.name,
                    item.item,
                    REOPENED,
                    fields,
                    zone=item.timezone,
                    by=SYSTEM,
                    at=now,
                    run_id=run_id,
                )
            )
    if not new_rows:
        return []
    ledger.append(roadmap_events, new_rows)
    changed = {r["item"] for r in new_rows}
    return [i for i in items(ledger, client.name, now=now) if i.item in changed]


def after_run(ledger: Ledger, client: Client, run_id: str | None, *, now: datetime | None = None) -> None:
    """:func:`sync` at the end of a run or an ingest: never raises (a failure is logged, the run stands)."""
    try:
        changed = sync(ledger, client, now=now or datetime.now(UTC), run_id=run_id)
    except Exception:  # the roadmap must never lose a run
        log.exception("run %s: the roadmap of %s could not be synced", run_id, client.name)
        return
    for item in changed:
        log.info("run %s: roadmap item %s of %s is now %s", run_id, item.item, client.name, item.status)


def after_ingest(ledger: Ledger, client_name: str, run_id: str | None) -> None:
    """:func:`after_run` for ``maint ledger ingest``, which knows the client by name only: nothing when it
    has no roadmap; its inventory is loaded only then (an inventory that no longer loads is logged)."""
    try:
        if not has_events(ledger, client_name):
            return
        from runner.inventory import load_client

        client = load_client(client_name)
    except Exception as exc:
        log.warning("run %s: the roadmap of %s was not synced: %s", run_id, client_name, exc)
        return
    after_run(ledger, client, run_id)


def hosts_of(found: Iterable[RoadmapItem]) -> list[str]:
    """Every host the items name, sorted."""
    return sorted({host for item in found for host in item.hosts})
