"""Re-read a job's artifacts into the ledger, adding only what is missing (idempotent).

Used after a crash (the runner was killed mid-run) or to load a job that ran elsewhere
(ansible-runner ``process`` of a remote worker's stream).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.events import RunContext, from_event, missing_rows, status_counts
from runner.execute import RUN_FILE
from runner.ledger import Ledger, RunRecord, RunStatus
from runner.locks import ClientLock

log = logging.getLogger(__name__)


class IngestError(Exception):
    """The folder is not a maint job's artifacts."""


@dataclass(frozen=True)
class IngestReport:
    run_id: str
    client: str
    events: int
    added: int
    finished_as: RunStatus | None


def _find_run_file(start: Path) -> Path:
    for folder in (start, *list(start.parents)[:3]):
        candidate = folder / RUN_FILE
        if candidate.is_file():
            return candidate
    raise IngestError(f"{start} is not a maint run's artifact folder (no {RUN_FILE} in it or above it)")


def _events_dir(start: Path, run_id: str) -> Path:
    for candidate in (start / "job_events", start / "artifacts" / run_id / "job_events"):
        if candidate.is_dir():
            return candidate
    found = sorted(start.glob("**/job_events"))
    if found:
        return found[0]
    raise IngestError(f"no job_events folder under {start}")


def _load_events(folder: Path) -> list[dict[str, Any]]:
    events = []
    for path in folder.glob("*.json"):
        try:
            events.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:  # a half-written last event of a killed run
            log.warning("skipping unreadable event file %s: %s", path, exc)
    events.sort(key=lambda e: int(e.get("counter") or 0))
    return events


def ingest(artifact_dir: Path, ledger: Ledger) -> IngestReport:
    start = artifact_dir.expanduser().resolve()
    if not start.is_dir():
        raise IngestError(f"{artifact_dir} is not a folder")
    run_file = _find_run_file(start)
    meta = json.loads(run_file.read_text(encoding="utf-8"))
    record = RunRecord.model_validate(meta["run"])
    plan: dict[str, list[str]] = meta.get("plan") or {}
    ctx = RunContext(run_id=record.run_id, client=record.client, ticket=record.ticket, plan=plan)
    ledger.start_run(record)

    events = _load_events(_events_dir(run_file.parent, record.run_id))
    rows = []
    lost: dict[str, str] = {}
    for event in events:
        outcome = from_event(ctx, event)
        rows += outcome.results
        if outcome.lost_host and outcome.lost_reason:
            lost.setdefault(outcome.lost_host, outcome.lost_reason)
    # a killed run can leave both an event's "-partial.json" and its final file: same key, once
    added = ledger.record(list(dict(rows).items()))

    finished_as: RunStatus | None = None
    info = ledger.run(record.run_id)
    if (
        info is not None
        and info.status is RunStatus.RUNNING
        and not ClientLock(record.client).held_elsewhere()
    ):
        status_file = run_file.parent / "artifacts" / record.run_id / "status"
        status_text = status_file.read_text().strip() if status_file.is_file() else ""
        finished_as = {
            "successful": RunStatus.SUCCESSFUL,
            "failed": RunStatus.FAILED,
        }.get(status_text, RunStatus.INTERRUPTED)
        # what the ledger holds, not only what reached the disk: the live handler may have
        # recorded an event whose file was never finished before the runner died
        stored = ledger.results_for_run(record.run_id)
        seen: dict[tuple[str, str], set[str]] = {}
        for stored_row in stored:
            seen.setdefault((stored_row.host, stored_row.role), set()).add(stored_row.control)
        reason = "the runner stopped before this check ran (recovered by maint ledger ingest)"
        missing = missing_rows(ctx, seen, lost, reason)
        added += ledger.record(missing)
        counts = status_counts([*stored, *(row for _key, row in missing)])
        ledger.finish_run(
            record.run_id,
            finished_as,
            {**counts, "hosts": len({h for hs in plan.values() for h in hs}), "ingested": True},
        )
    return IngestReport(
        run_id=record.run_id, client=record.client, events=len(events), added=added, finished_as=finished_as
    )
