"""Schedule occurrences in the ledger: one chained row per state change, never updated.

The schedule domain's ledger table (see :mod:`runner.domains`), read and written by :mod:`runner.due`.

An occurrence (``client/schedule/UTC start``, see :mod:`runner.schedule`) gets a ``started``
row per run attempt (the first run, then follow-ups limited to hosts left ``not_checked``), then
one final row: ``completed`` (every planned host checked) or ``missed`` (the window closed first).
``skipped`` rows keep holiday / blackout skips on record. The latest state wins when reading.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from runner.ledger import schema
from runner.ledger.chain import canonical_json

TABLE = "schedule_occurrences"


class OccurrenceState(StrEnum):
    STARTED = "started"
    COMPLETED = "completed"
    MISSED = "missed"
    SKIPPED = "skipped"

    @property
    def final(self) -> bool:
        return self is not OccurrenceState.STARTED


#: the domain's chained table (migration 0003; named in runner.domains)
schedule_occurrences = schema.chained_table(
    TABLE,
    sa.Column("occurrence_id", sa.Text, nullable=False),
    sa.Column("schedule", sa.Text, nullable=False),
    sa.Column("window_start", sa.Text, nullable=False),
    sa.Column("window_end", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("run_id", sa.Text),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.Text, nullable=False),
    sa.Index("ix_schedule_occurrences_occurrence", "occurrence_id", "seq"),
    sa.Index("ix_schedule_occurrences_window", "window_end"),
)


@dataclass(frozen=True)
class OccurrenceRow:
    occurrence_id: str
    client: str
    schedule: str
    window_start: str
    window_end: str
    state: OccurrenceState
    run_id: str | None
    detail: dict[str, Any]
    recorded_at: str
    seq: int


def row(
    *,
    client: str,
    occurrence_id: str,
    schedule_name: str,
    window_start: datetime,
    window_end: datetime,
    state: OccurrenceState,
    recorded_at: datetime,
    run_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A row for :meth:`runner.ledger.Ledger.append` (times as fixed-width ISO-8601 UTC text)."""
    return {
        "client": client,
        "occurrence_id": occurrence_id,
        "schedule": schedule_name,
        "window_start": _iso(window_start),
        "window_end": _iso(window_end),
        "state": OccurrenceState(state).value,
        "run_id": run_id,
        "detail": canonical_json(dict(detail or {})),
        "recorded_at": _iso(recorded_at),
    }


def _iso(value: datetime) -> str:
    """The ledger's fixed-width ISO-8601 UTC text (sorts in time order)."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def read(
    engine: sa.Engine, *, clients: Iterable[str] | None = None, window_end_after: datetime | None = None
) -> dict[str, list[OccurrenceRow]]:
    """Rows per occurrence ID, in seq order (one query)."""
    t = schedule_occurrences
    query = sa.select(t).order_by(t.c.client, t.c.seq)
    if clients is not None:
        query = query.where(t.c.client.in_(list(clients)))
    if window_end_after is not None:
        query = query.where(t.c.window_end > _iso(window_end_after))
    found: dict[str, list[OccurrenceRow]] = {}
    with engine.connect() as conn:
        for r in conn.execute(query).mappings():
            found.setdefault(r["occurrence_id"], []).append(
                OccurrenceRow(
                    occurrence_id=r["occurrence_id"],
                    client=r["client"],
                    schedule=r["schedule"],
                    window_start=r["window_start"],
                    window_end=r["window_end"],
                    state=OccurrenceState(r["state"]),
                    run_id=r["run_id"],
                    detail=json.loads(r["detail"]),
                    recorded_at=r["recorded_at"],
                    seq=int(r["seq"]),
                )
            )
    return found
