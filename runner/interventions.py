"""Corrective interventions: what a ticket run records besides its results (chained table ``interventions``).

``maint run CLIENT ... --ticket ID`` is a corrective intervention. When its run starts, one row is appended
to the client's chain (migration 0005; named in :mod:`runner.domains`):

- ``run_id``, ``ticket``; ``technician`` (``--technician``, default the OS user) and ``opened_at`` (when the
  ticket was opened, ``--opened-at``; None when not given) as UTC text;
- ``controls``: the controls the ticket is about (``--control``, default every control of the roles run):
  only they decide whether the ticket is resolved (:mod:`runner.resolution`);
- ``review``: 1 when ``--review`` asked for a fresh audit of the host(s)' other assigned roles right after
  the corrective run (the proactive review), run as ``review_run_id`` (made in advance, so the row names it
  before it exists); without it, the review is the latest results of those roles (``review_roles``);
- ``one_off_roles``: roles the run planned on hosts they are not assigned to (a one-off corrective check);
- ``recorded_at``.

The review run is an ordinary audit run (no ticket: its results never decide the ticket) whose reason names
the ticket. Rows are never updated; every value is text or an integer, JSON as canonical text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from runner.ledger import schema
from runner.ledger.chain import canonical_json

if TYPE_CHECKING:
    from runner.inventory import Client
    from runner.ledger import Ledger

TABLE = "interventions"

#: the domain's chained table (migration 0005; named in runner.domains)
interventions = schema.chained_table(
    TABLE,
    sa.Column("run_id", sa.Text, nullable=False),
    sa.Column("ticket", sa.Text, nullable=False),
    sa.Column("technician", sa.Text, nullable=False),
    sa.Column("opened_at", sa.Text),
    sa.Column("controls", sa.Text, nullable=False),
    sa.Column("review", sa.Integer, nullable=False),
    sa.Column("review_run_id", sa.Text),
    sa.Column("review_roles", sa.Text, nullable=False),
    sa.Column("one_off_roles", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.Text, nullable=False),
    sa.Index("ix_interventions_ticket", "ticket", "seq"),
    sa.Index("ix_interventions_run", "run_id"),
)


class InterventionError(ValueError):
    """A ticket option that cannot be used (the message names the option)."""


@dataclass(frozen=True)
class Intervention:
    """One row of ``interventions`` as read back."""

    client: str
    seq: int
    run_id: str
    ticket: str
    technician: str
    opened_at: datetime | None
    controls: tuple[str, ...]
    review: bool
    review_run_id: str | None
    review_roles: tuple[str, ...]
    one_off_roles: tuple[str, ...]
    recorded_at: datetime


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def row(
    *,
    client: str,
    run_id: str,
    ticket: str,
    technician: str,
    opened_at: datetime | None,
    controls: Sequence[str],
    review: bool,
    review_run_id: str | None,
    review_roles: Sequence[str],
    one_off_roles: Sequence[str],
    recorded_at: datetime,
) -> dict[str, Any]:
    """A row for :meth:`runner.ledger.Ledger.append`."""
    return {
        "client": client,
        "run_id": run_id,
        "ticket": ticket,
        "technician": technician,
        "opened_at": None if opened_at is None else _iso(opened_at),
        "controls": canonical_json(sorted(set(controls))),
        "review": int(review),
        "review_run_id": review_run_id,
        "review_roles": canonical_json(sorted(set(review_roles))),
        "one_off_roles": canonical_json(sorted(set(one_off_roles))),
        "recorded_at": _iso(recorded_at),
    }


def _read(engine: sa.Engine, where: sa.ColumnElement[bool]) -> list[Intervention]:
    t = interventions
    found = []
    with engine.connect() as conn:
        for r in conn.execute(sa.select(t).where(where).order_by(t.c.client, t.c.seq)).mappings():
            found.append(
                Intervention(
                    client=r["client"],
                    seq=int(r["seq"]),
                    run_id=r["run_id"],
                    ticket=r["ticket"],
                    technician=r["technician"],
                    opened_at=None if r["opened_at"] is None else datetime.fromisoformat(r["opened_at"]),
                    controls=tuple(json.loads(r["controls"])),
                    review=bool(r["review"]),
                    review_run_id=r["review_run_id"],
                    review_roles=tuple(json.loads(r["review_roles"])),
                    one_off_roles=tuple(json.loads(r["one_off_roles"])),
                    recorded_at=datetime.fromisoformat(r["recorded_at"]),
                )
            )
    return found


def for_runs(engine: sa.Engine, run_ids: Iterable[str]) -> dict[str, Intervention]:
    """The intervention row of each of these runs (runs recorded without one are absent)."""
    ids = sorted(set(run_ids))
    if not ids:
        return {}
    return {i.run_id: i for i in _read(engine, interventions.c.run_id.in_(ids))}


def for_ticket(engine: sa.Engine, ticket: str) -> list[Intervention]:
    """Every intervention row of a ticket, in chain order."""
    return _read(engine, interventions.c.ticket == ticket)


def of_client(engine: sa.Engine, client: str, *, max_seq: int | None = None) -> list[Intervention]:
    """Every intervention row of a client (``max_seq``: only rows up to that seq), in chain order."""
    where = interventions.c.client == client
    if max_seq is not None:
        where = sa.and_(where, interventions.c.seq <= max_seq)
    return _read(engine, where)


# -- planning a ticket run ---------------------------------------------------------------------------


def parse_iso(text: str) -> datetime:
    """``--opened-at``: ISO-8601 with an offset (or Z), or without one (then read in the client's time
    zone by :func:`prepare`)."""
    value = text.strip()
    if re.search(r"\d[zZ]$", value):
        value = value[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InterventionError(
            f"--opened-at {text!r}: expected an ISO-8601 date and time such as 2026-11-06T17:00 "
            "(client time) or 2026-11-06T16:00Z"
        ) from None


def ticket_controls(given: Sequence[str], roles: Iterable[str]) -> list[str]:
    """The ticket's controls: ``--control`` values checked against the catalogue and the roles run, or
    every control of those roles. :class:`InterventionError` names a bad one (with the closest IDs)."""
    from runner import catalogue, controls

    cat = catalogue.load()
    run_roles = sorted(set(roles))
    own = {spec.id: role for role in run_roles for spec in cat.for_role(role)}
    if not given:
        return sorted(own)
    found = []
    for control in dict.fromkeys(c.strip() for item in given for c in item.split(",") if c.strip()):
        if not controls.is_known(control):
            raise InterventionError(f"--control {controls.unknown_message(control)}")
        if control not in own:
            spec = cat.controls[control]
            raise InterventionError(
                f"--control {control!r} is judged by role {spec.role or 'maint'}, not by the role(s) run "
                f"({', '.join(run_roles)}): add --role {spec.role or '?'} or name a control of those roles"
            )
        found.append(control)
    return sorted(found)


def one_off_roles(client: Client, plan: Mapping[str, Sequence[str]], limit: str | None) -> list[str]:
    """Roles the plan runs on a host they are not assigned to (a one-off corrective check)."""
    assigned = client.plan(None, limit)
    return sorted(role for role, hosts in plan.items() if not set(hosts) <= set(assigned.get(role, ())))


def review_plan(client: Client, plan: Mapping[str, Sequence[str]], limit: str | None) -> dict[str, list[str]]:
    """The proactive review: every other role assigned to the hosts the corrective run touches."""
    touched = {host for hosts in plan.values() for host in hosts}
    assigned = client.plan(None, limit)
    review: dict[str, list[str]] = {}
    for role, hosts in assigned.items():
        if role in plan:
            continue
        mine = sorted(set(hosts) & touched)
        if mine:
            review[role] = mine
    return review


@dataclass
class TicketRun:
    """What a ticket run records when it starts, and the review that follows it (made by :func:`prepare`)."""

    client: str
    ticket: str
    technician: str
    opened_at: datetime | None
    controls: list[str]
    review: bool
    review_roles: list[str]
    one_off_roles: list[str]
    review_plan: dict[str, list[str]] = field(default_factory=dict)
    review_run_id: str | None = None

    def record(self, ledger: Ledger, run_id: str, started_at: datetime) -> None:
        ledger.append(
            interventions,
            [
                row(
                    client=self.client,
                    run_id=run_id,
                    ticket=self.ticket,
                    technician=self.technician,
                    opened_at=self.opened_at,
                    controls=self.controls,
                    review=self.review,
                    review_run_id=self.review_run_id,
                    review_roles=self.review_roles,
                    one_off_roles=self.one_off_roles,
                    recorded_at=started_at,
                )
            ],
        )


def prepare(
    client: Client,
    plan: Mapping[str, Sequence[str]],
    *,
    ticket: str,
    technician: str,
    opened_at: datetime | None,
    controls: Sequence[str],
    review: bool,
    limit: str | None,
    now: datetime,
    review_run_id: str | None,
) -> TicketRun:
    """Check the ticket's options against the plan; :class:`InterventionError` names what is wrong."""
    if opened_at is not None:
        if opened_at.tzinfo is None:
            opened_at = opened_at.replace(tzinfo=ZoneInfo(client.settings.timezone))
        opened_at = opened_at.astimezone(UTC)
        if opened_at > now:
            raise InterventionError(f"--opened-at {opened_at.isoformat()}: is in the future")
    if not technician.strip():
        raise InterventionError("--technician: empty name")
    chosen = ticket_controls(controls, plan)
    others = review_plan(client, plan, limit)
    from runner.modes import Mode

    if review and others and Mode.AUDIT not in client.settings.modes_allowed:
        raise InterventionError(
            f"--review runs an audit, and mode audit is not allowed for client {client.name!r}"
        )
    return TicketRun(
        client=client.name,
        ticket=ticket,
        technician=technician.strip(),
        opened_at=opened_at,
        controls=chosen,
        review=review,
        review_roles=sorted(others),
        one_off_roles=one_off_roles(client, plan, limit),
        review_plan=others if review else {},
        review_run_id=review_run_id if review and others else None,
    )
