"""What a report is built from: the client's ledger rows up to one checkpoint, read once.

A report names the signed checkpoint it was built from and uses only the rows that checkpoint covers
(``seq <= size``), so every number in it can be proved against that checkpoint later. The checkpoint is the
first one that covers every check result observed before the period's end; when none does yet (rows recorded
after the latest checkpoint), the latest one, and the rows after it are left out and counted. A ledger with no
checkpoint at all gives a report built from its head, which says it is unsigned.

Reading never writes: no checkpoint is made here (``maint run`` and ``maint due`` make one at their end).

The check results are read with one query (:attr:`ReportContext.rows`); the state at any instant is then
computed in memory with the same rules as ``maint status`` (:func:`runner.state.compute`).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from runner import catalogue as catalogue_mod
from runner.catalogue import Catalogue, ControlSpec
from runner.ledger import schema as ls
from runner.ledger.store import CURRENT_COLUMNS, _iso, _run_infos
from runner.report.period import Period
from runner.results import Status
from runner.state import ClientState, Scope, compute

if TYPE_CHECKING:
    from runner.inventory import Client
    from runner.ledger import Ledger, RunInfo
    from runner.ledger.checkpoints import StoredCheckpoint
    from runner.report.i18n import Translator
    from runner.schedule_ledger import OccurrenceRow

_INCONCLUSIVE = frozenset({Status.NOT_CHECKED.value, Status.ERROR.value})


def _utc(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Row:
    """One check_results row of a report (``raw``: the :data:`CURRENT_COLUMNS` mapping)."""

    __slots__ = ("_evidence", "control", "domain", "host", "observed_at", "raw", "role", "status")

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.observed_at = _utc(raw["observed_at"])
        self._evidence: dict[str, Any] | None = None
        # what every section filters and groups on, read once (the others on demand)
        self.host = str(raw["host"])
        self.control = str(raw["control"])
        self.status = str(raw["status"])
        self.domain = str(raw["domain"])
        self.role = str(raw["role"])

    seq = property(lambda self: int(self.raw["seq"]))
    run_id = property(lambda self: str(self.raw["run_id"]))
    title = property(lambda self: str(self.raw["title"]))
    severity = property(lambda self: str(self.raw["severity"]))
    ticket = property(lambda self: self.raw["ticket"])
    remediation = property(lambda self: str(self.raw["remediation"]))

    @property
    def evidence(self) -> dict[str, Any]:
        if self._evidence is None:
            value = json.loads(self.raw["evidence"])
            self._evidence = value if isinstance(value, dict) else {}
        return self._evidence

    @property
    def conclusive(self) -> bool:
        return self.status not in _INCONCLUSIVE

    def __repr__(self) -> str:
        return f"Row(seq={self.seq}, {self.host} {self.control} {self.status} {self.raw['observed_at']})"


#: per chained table a report reads, the column placing its rows in time (a row placed before the period's end
#: belongs to the report however late it was recorded: a window of the period completed after it)
_TIMES = {
    "check_results": "observed_at",
    "runs": "started_at",
    "schedule_occurrences": "window_start",
    "config_snapshots": "taken_at",
    "interventions": "recorded_at",
    "asset_facts": "collected_at",
    "roadmap_events": "at",
}


def _period_times() -> list[tuple[sa.Table, str]]:
    ls.load_domain_tables()
    return [(t, _TIMES[t.name]) for t in ls.CHAINED if t.name in _TIMES and _TIMES[t.name] in t.c]


def choose_checkpoint(
    checkpoints: Sequence[StoredCheckpoint], needed: int, head: int
) -> tuple[StoredCheckpoint | None, int]:
    """The checkpoint a report needing rows up to seq ``needed`` is built from, and the size it uses."""
    for checkpoint in checkpoints:  # by size, smallest first
        if checkpoint.size >= needed:
            return checkpoint, checkpoint.size
    if checkpoints:
        return checkpoints[-1], checkpoints[-1].size
    return None, head


class ReportContext:
    """The ledger as one report sees it: see the module docstring and the shared schema."""

    def __init__(
        self,
        ledger: Ledger,
        client: Client,
        period: Period,
        *,
        lang: str = "en",
        cat: Catalogue | None = None,
        scope: Scope | None = None,
    ) -> None:
        self.ledger = ledger
        self.client = client
        self.period = period
        self.lang = lang
        self.cat = cat or catalogue_mod.load()
        self.scope = scope or Scope.of(client)
        #: what the sections derive once from the context and reuse (e.g. the score's weighed pairs)
        self.memo: dict[str, Any] = {}
        name = client.name
        cr = ls.check_results
        end = _iso(period.end)
        needed = 0
        with ledger.engine.connect() as conn:
            for table, column in _period_times():
                found = conn.execute(
                    sa.select(sa.func.max(table.c.seq)).where(table.c.client == name, table.c[column] < end)
                ).scalar()
                needed = max(needed, int(found or 0))
        head = ledger.chain_heads().get(name, (0, ""))[0]
        self.checkpoint, self.size = choose_checkpoint(ledger.checkpoints(name), needed, head)
        self.head = head
        self.rows_after = max(0, head - self.size)
        made = _utc(self.checkpoint.made_at) if self.checkpoint is not None else None
        self.as_of = min(period.end, made) if made is not None else period.end
        columns = [cr.c[name_] for name_ in CURRENT_COLUMNS]
        query = (
            sa.select(*columns)
            .where(cr.c.client == name, cr.c.seq <= self.size, cr.c.observed_at < end)
            .order_by(cr.c.observed_at, cr.c.seq)
        )
        with ledger.engine.connect() as conn:
            self.rows: list[Row] = [
                Row(dict(zip(CURRENT_COLUMNS, r, strict=True))) for r in conn.execute(query)
            ]
        self._times = [row.observed_at for row in self.rows]

    # ------------------------------------------------------------------ rows

    @cached_property
    def _by_pair(self) -> dict[tuple[str, str], list[Row]]:
        found: dict[tuple[str, str], list[Row]] = {}
        for row in self.rows:
            found.setdefault((row.host, row.control), []).append(row)
        return found

    def results(
        self,
        period: Period | None = None,
        *,
        domain: str | None = None,
        role: str | None = None,
        control: str | None = None,
        host: str | None = None,
        prefix: str | None = None,
    ) -> list[Row]:
        """Rows observed within ``period`` (default the report's), in (observed_at, seq) order."""
        period = period or self.period
        lo = bisect.bisect_left(self._times, period.start)
        hi = bisect.bisect_left(self._times, period.end)
        return [
            row
            for row in self.rows[lo:hi]
            if (domain is None or row.domain == domain)
            and (role is None or row.role == role)
            and (control is None or row.control == control)
            and (host is None or row.host == host)
            and (prefix is None or row.control.startswith(prefix))
        ]

    @property
    def pair_rows(self) -> Mapping[tuple[str, str], list[Row]]:
        """Per (host, control), its rows in (observed_at, seq) order (do not change them)."""
        return self._by_pair

    @property
    def pair_times(self) -> Mapping[tuple[str, str], list[datetime]]:
        """Per (host, control), its rows' observed_at, in the order of :attr:`pair_rows`."""
        return self._pair_times

    def history(self, host: str, control: str) -> list[Row]:
        return list(self._by_pair.get((host, control), ()))

    @cached_property
    def _pair_times(self) -> dict[tuple[str, str], list[datetime]]:
        return {pair: [row.observed_at for row in rows] for pair, rows in self._by_pair.items()}

    def latest_at(self, host: str, control: str, at: datetime) -> Row | None:
        """The pair's latest row observed before ``at``."""
        times = self._pair_times.get((host, control))
        if not times:
            return None
        n = bisect.bisect_left(times, at)
        return self._by_pair[(host, control)][n - 1] if n else None

    def _stored_at(
        self, at: datetime, pairs: Sequence[tuple[str, str]]
    ) -> Mapping[tuple[str, str], tuple[Mapping[str, Any], Mapping[str, Any] | None]]:
        """Per pair of ``pairs``, its latest row observed before ``at`` and the latest conclusive one when
        needed."""
        found: dict[tuple[str, str], tuple[Mapping[str, Any], Mapping[str, Any] | None]] = {}
        by_pair, pair_times = self._by_pair, self._pair_times
        for pair in pairs:
            rows = by_pair.get(pair)
            if rows is None:
                continue
            n = bisect.bisect_left(pair_times[pair], at)
            if n == 0:
                continue
            latest = rows[n - 1]
            conclusive = None
            if not latest.conclusive:
                conclusive = next((r.raw for r in reversed(rows[: n - 1]) if r.conclusive), None)
            found[pair] = (latest.raw, conclusive)
        return found

    def state(self, at: datetime | None = None) -> ClientState:
        """The current state as it was at ``at`` (default the period's end), with today's inventory scope."""
        at = at or self.period.end
        cached = self._states.get(at)
        if cached is not None:
            return cached
        waivers_at = min(at, self.as_of) - timedelta(microseconds=1)

        def rows_of(
            pairs: Sequence[tuple[str, str]],
        ) -> Mapping[tuple[str, str], tuple[Mapping[str, Any], Mapping[str, Any] | None]]:
            return self._stored_at(at, pairs)

        state = compute(
            self.ledger, self.client, cat=self.cat, scope=self.scope, now=waivers_at, stored_rows=rows_of
        )
        self._states[at] = state
        return state

    @cached_property
    def _states(self) -> dict[datetime, ClientState]:
        return {}

    # ------------------------------------------------------------------ other tables

    def runs(self, period: Period | None = None) -> list[RunInfo]:
        """Runs of the client started within the period (oldest first), rows up to the report's size."""
        period = period or self.period
        r = ls.runs
        where = sa.and_(
            r.c.client == self.client.name,
            r.c.seq <= self.size,
            r.c.started_at >= _iso(period.start),
            r.c.started_at < _iso(period.end),
        )
        with self.ledger.engine.connect() as conn:
            found = _run_infos(conn, where, limit=100_000)
        return sorted(found, key=lambda info: (info.started_at, info.run_id))

    def occurrences(self, period: Period | None = None) -> list[OccurrenceRow]:
        """The latest state of each schedule occurrence whose window starts within the period."""
        from runner import schedule_ledger

        period = period or self.period
        start, end = _iso(period.start), _iso(period.end)
        groups = schedule_ledger.read(self.ledger.engine, clients=[self.client.name])
        latest = []
        for rows in groups.values():
            kept = [row for row in rows if row.seq <= self.size]
            if kept and start <= kept[-1].window_start < end:
                latest.append(kept[-1])
        return sorted(latest, key=lambda row: (row.window_start, row.schedule))

    # ------------------------------------------------------------------ catalogue text

    def spec(self, control: str) -> ControlSpec | None:
        return self.cat.controls.get(control)

    @cached_property
    def tr(self) -> Translator:
        from runner.report.i18n import translator

        return translator(self.lang)

    def text(self, control: str) -> dict[str, str]:
        """The control's title, rationale (the risk) and remediation in the report's language."""
        spec = self.spec(control)
        defaults = {
            "title": spec.title if spec is not None else control,
            "rationale": (spec.rationale or "") if spec is not None else "",
            "remediation": (spec.remediation or "") if spec is not None else "",
        }
        return {key: self.tr.control(control, key, value) for key, value in defaults.items()}
