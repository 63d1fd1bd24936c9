"""The ``asset_facts`` chained table: one row per host per run when its facts changed (migration 0007).

A row holds the host, its platform, the run and role that collected it, when, the facts as canonical JSON
and their :func:`runner.assets.facts.content_hash`. Facts whose hash equals the host's latest row store
nothing, and a second row for the same (run, host) is never made, so ``maint ledger ingest`` of a run
already recorded adds nothing. Rows are never updated.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from runner.assets.facts import AssetFactsError, content_hash, validate
from runner.ledger import schema
from runner.ledger.chain import canonical_json

if TYPE_CHECKING:
    from runner.events import AssetObservation
    from runner.ledger import Ledger

log = logging.getLogger(__name__)

TABLE = "asset_facts"

#: the domain's chained table (migration 0007; named in runner.domains)
asset_facts = schema.chained_table(
    TABLE,
    sa.Column("run_id", sa.Text),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("platform", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("collected_at", sa.Text, nullable=False),
    sa.Column("content_hash", sa.Text, nullable=False),
    sa.Column("facts", sa.Text, nullable=False),
    sa.UniqueConstraint("run_id", "host", name="uq_asset_facts_run_host"),
    sa.Index("ix_asset_facts_host", "client", "host", "seq"),
)


@dataclass(frozen=True)
class AssetRecord:
    """One stored row of ``asset_facts``."""

    id: int
    client: str
    seq: int
    run_id: str | None
    host: str
    platform: str
    role: str
    collected_at: datetime
    content_hash: str
    facts: dict[str, Any]


def _utc(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _from_row(row: Any) -> AssetRecord:
    return AssetRecord(
        id=int(row.id),
        client=row.client,
        seq=int(row.seq),
        run_id=row.run_id,
        host=row.host,
        platform=row.platform,
        role=row.role,
        collected_at=_utc(row.collected_at),
        content_hash=row.content_hash,
        facts=json.loads(row.facts),
    )


def record(
    ledger: Ledger,
    *,
    client: str,
    host: str,
    platform: str,
    facts: Mapping[str, Any],
    run_id: str | None,
    role: str,
    collected_at: datetime,
) -> AssetRecord | None:
    """Append the host's facts unless they equal its latest row's, or this run already stored them.

    Returns the new row, or None when nothing was stored. :class:`runner.assets.facts.AssetFactsError`
    when the facts do not have the documented shape.
    """
    clean = validate(platform, facts)
    digest = content_hash(platform, clean)
    t = asset_facts
    with ledger.engine.connect() as conn:
        if run_id is not None:
            same_run = conn.execute(
                sa.select(t.c.id).where(t.c.client == client, t.c.run_id == run_id, t.c.host == host)
            ).first()
            if same_run is not None:
                return None
        previous = conn.execute(
            sa.select(t.c.content_hash)
            .where(t.c.client == client, t.c.host == host)
            .order_by(t.c.seq.desc())
            .limit(1)
        ).first()
    if previous is not None and previous.content_hash == digest:
        return None
    row = {
        "client": client,
        "run_id": run_id,
        "host": host,
        "platform": platform,
        "role": role,
        "collected_at": collected_at.astimezone(UTC).isoformat(),
        "content_hash": digest,
        "facts": canonical_json(clean),
    }
    ledger.append(t, [row])
    with ledger.engine.connect() as conn:
        stored = conn.execute(
            sa.select(t).where(t.c.client == client, t.c.host == host).order_by(t.c.seq.desc()).limit(1)
        ).first()
    assert stored is not None
    log.info("%s/%s: asset facts stored (%s)", client, host, digest[:12])
    return _from_row(stored)


def history(
    ledger: Ledger, client: str, host: str | None = None, *, until: datetime | None = None
) -> list[AssetRecord]:
    """Every stored row of the client (of one host), oldest first; those collected by ``until`` when given."""
    t = asset_facts
    query = sa.select(t).where(t.c.client == client)
    if host is not None:
        query = query.where(t.c.host == host)
    with ledger.engine.connect() as conn:
        rows = [_from_row(r) for r in conn.execute(query.order_by(t.c.seq))]
    if until is not None:
        rows = [r for r in rows if r.collected_at <= until]
    return rows


def light_rows(
    ledger: Ledger, client: str, until: datetime | None = None
) -> list[tuple[int, int, str, datetime]]:
    """(id, seq, host, collected_at) of the client's rows collected by ``until``, by seq: the facts
    themselves are read only for the rows wanted (a host's software list is large)."""
    t = asset_facts
    query = sa.select(t.c.id, t.c.seq, t.c.host, t.c.collected_at).where(t.c.client == client)
    with ledger.engine.connect() as conn:
        found = [
            (int(r.id), int(r.seq), str(r.host), _utc(r.collected_at))
            for r in conn.execute(query.order_by(t.c.seq))
        ]
    return [row for row in found if until is None or row[3] <= until]


def by_ids(ledger: Ledger, ids: Iterable[int]) -> dict[int, AssetRecord]:
    """id -> the stored row, read in batches."""
    t = asset_facts
    wanted = sorted(set(ids))
    out: dict[int, AssetRecord] = {}
    with ledger.engine.connect() as conn:
        for start in range(0, len(wanted), 500):
            for row in conn.execute(sa.select(t).where(t.c.id.in_(wanted[start : start + 500]))):
                found = _from_row(row)
                out[found.id] = found
    return out


def latest(ledger: Ledger, client: str, *, until: datetime | None = None) -> dict[str, AssetRecord]:
    """host -> its latest row (collected by ``until`` when given), by host; only those rows' facts read."""
    last = {host: row_id for row_id, _seq, host, _at in light_rows(ledger, client, until)}
    records = by_ids(ledger, last.values())
    return {host: records[row_id] for host, row_id in sorted(last.items())}


def record_observations(
    ledger: Ledger, client: str, run_id: str | None, observations: Sequence[AssetObservation]
) -> int:
    """Store what tasks reported (:func:`record` each); facts of the wrong shape are logged and skipped.

    How many rows were stored. Used by a run's recorder and by ``maint ledger ingest`` alike.
    """
    stored = 0
    for obs in observations:
        try:
            row = record(
                ledger,
                client=client,
                host=obs.host,
                platform=obs.platform,
                facts=obs.facts,
                run_id=run_id,
                role=obs.role,
                collected_at=obs.observed_at,
            )
        except AssetFactsError as exc:
            log.warning("run %s: ignoring asset facts of %s: %s", run_id, obs.host, exc)
            continue
        stored += row is not None
    return stored
