"""Resolution records of ad hoc corrective runs: each control's status before and after.

After ``maint run CLIENT --role R --limit HOST --ticket ID --reason TEXT``, the record compares,
per host and control the run judged, the latest result recorded *before* the ticket's first run
started (chain order: lower ``seq`` than that run's row) with the latest result of the ticket's
runs. Everything is read from the ledger; nothing runs again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from runner.ledger import Ledger, RunInfo
from runner.ledger import schema as ls
from runner.ledger.store import _result
from runner.results import CheckResult, Status


class ResolutionError(Exception):
    """No run (or no run of the ticket) to build a resolution record from."""


@dataclass(frozen=True)
class ControlChange:
    host: str
    control: str
    title: str
    before: CheckResult | None
    after: CheckResult

    @property
    def change(self) -> str:
        before = self.before.status if self.before else None
        after = self.after.status
        if before is None:
            return "new"
        if before is after:
            return "unchanged"
        if after is Status.PASS:
            return "fixed"
        if before is Status.PASS:
            return "regressed"
        return "changed"

    def as_dict(self) -> dict[str, Any]:
        def side(r: CheckResult | None) -> dict[str, Any] | None:
            if r is None:
                return None
            return {
                "status": r.status.value,
                "run_id": r.run_id,
                "observed_at": r.observed_at.isoformat(),
                "evidence": r.evidence,
            }

        return {
            "host": self.host,
            "control": self.control,
            "title": self.title,
            "change": self.change,
            "before": side(self.before),
            "after": side(self.after),
        }


@dataclass
class Resolution:
    client: str
    ticket: str | None
    runs: list[RunInfo]
    changes: list[ControlChange] = field(default_factory=list)
    #: the client's latest ledger checkpoint as outputs carry it (:func:`runner.witness.carried`), or None
    checkpoint: dict[str, Any] | None = None

    @property
    def resolved(self) -> bool:
        return bool(self.changes) and all(c.after.status is Status.PASS for c in self.changes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "ticket": self.ticket,
            "resolved": self.resolved,
            "runs": [
                {
                    "run_id": r.run_id,
                    "started_at": r.started_at.isoformat(),
                    "requested_by": r.requested_by,
                    "roles": r.roles,
                    "limit": r.limit,
                    "mode": r.mode,
                    "status": r.status.value,
                    "reason": r.reason,
                }
                for r in self.runs
            ],
            "changes": [c.as_dict() for c in self.changes],
            "checkpoint": self.checkpoint,
        }

    def markdown(self) -> str:
        """Template ``runner/templates/resolution.md.j2``: the runs, the outcome, a row per control, the
        ledger checkpoint (``_checkpoint.md.j2``)."""
        from runner.render import render
        from runner.witness import section_facts

        ledger = section_facts(self.checkpoint, self.client)
        return render("resolution.md.j2", record=self, ledger=ledger)


def resolution(ledger: Ledger, *, run_id: str | None = None, ticket: str | None = None) -> Resolution:
    """The resolution record of one run, or of every run of a ticket (oldest first)."""
    if (run_id is None) == (ticket is None):
        raise ResolutionError("give a run ID or a ticket, not both")
    if run_id is not None:
        info = ledger.run(run_id)
        if info is None:
            raise ResolutionError(f"no run {run_id!r} in the ledger {ledger.display_url}")
        found = [info]
    else:
        found = sorted(ledger.runs(ticket=ticket, limit=1000), key=lambda r: r.started_at)
        if not found:
            raise ResolutionError(f"no run recorded for ticket {ticket!r} (see `maint runs --ticket`)")
    clients = {r.client for r in found}
    if len(clients) > 1:
        raise ResolutionError(f"ticket {ticket!r} has runs for several clients: {', '.join(sorted(clients))}")
    client = found[0].client
    run_ids = [r.run_id for r in found]
    cr, runs = ls.check_results, ls.runs
    with ledger.engine.connect() as conn:
        first_seq = conn.execute(
            sa.select(sa.func.min(runs.c.seq)).where(runs.c.run_id.in_(run_ids))
        ).scalar()
        after_rows = [
            _result(row)
            for row in conn.execute(
                sa.select(cr).where(cr.c.run_id.in_(run_ids)).order_by(cr.c.seq)
            ).mappings()
        ]
        after: dict[tuple[str, str], CheckResult] = {}
        for result in after_rows:
            after[(result.host, result.control)] = result  # the latest of the ticket's runs wins
        before: dict[tuple[str, str], CheckResult] = {}
        hosts = sorted({host for host, _control in after})
        if hosts and first_seq is not None:
            rank = (
                sa.func.row_number()
                .over(partition_by=(cr.c.host, cr.c.control), order_by=cr.c.seq.desc())
                .label("rank")
            )
            inner = (
                sa.select(cr, rank)
                .where(cr.c.client == client, cr.c.seq < first_seq, cr.c.host.in_(hosts))
                .subquery()
            )
            for row in conn.execute(sa.select(inner).where(inner.c.rank == 1)).mappings():
                result = _result(row)
                before[(result.host, result.control)] = result
    changes = [
        ControlChange(host=h, control=c, title=r.title, before=before.get((h, c)), after=r)
        for (h, c), r in sorted(after.items())
    ]
    return Resolution(client=client, ticket=ticket or found[0].ticket, runs=found, changes=changes)
