"""``maint due``: run every schedule occurrence that is due, once, inside its window.

Safe to call every few minutes (cron, systemd timer). For each client and each occurrence whose
start has come (looking back ``lookback``), the ledger's ``schedule_occurrences`` rows decide:

- a final row (``completed`` / ``missed`` / ``skipped``) exists: nothing to do, ever again;
- no run yet and at least ``min_run_minutes`` left: run the schedule's roles
  (``trigger="schedule"``, the window passed to the job as ``maint_window_start`` /
  ``maint_window_end`` so remediation tasks can guard themselves, see ``maint_window_guard``);
- runs happened but some planned hosts were not reached (every result ``not_checked``, or a role's
  task failed on the host: :func:`checked_hosts`): a follow-up run limited to those hosts, while the
  window still leaves ``min_run_minutes``;
- every planned host checked: ``completed``, and ``MAINT-SCHED-01`` passes for each host;
- too little window left (or closed, e.g. the scheduler was down): ``missed``, plus a
  ``MAINT-SCHED-01`` fail per host not maintained, in a run of trigger ``schedule``, so the
  monthly report shows it;
- a holiday / blackout skip is recorded once as ``skipped``.

A lock per client (``var/locks/<client>/.due.lock``) is held while deciding and running, and the
decision is made again under it, so two ``maint due`` processes never run the same occurrence;
``execute()`` takes the usual host locks too, so no run touches a host a technician's ``maint run`` is on
(the occurrence's run is then ``busy`` and tried again by the next pass).
Clients run in parallel threads (each job is an ansible-runner subprocess), up to ``max_parallel``;
one client's failure (its job failed, its pass raised) leaves the others to run. SIGINT / SIGTERM stop
the pass: every running job is interrupted (``interrupted``, what it recorded stays, the next pass
retries), the clients not started yet are not started (outcome ``stopped``).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from runner import locks
from runner import schedule_ledger as occ
from runner.events import lost
from runner.execute import RunError, RunOutcome, RunRequest, execute, new_run_id
from runner.inventory import Client, InventoryError, list_clients, validate_client
from runner.inventory.loader import Problem, UnknownClientError
from runner.inventory.patterns import PatternError
from runner.ledger import Ledger, LedgerError, RunRecord, RunStatus
from runner.locks import ClientBusyError, ClientLock
from runner.results import CheckResult, Control, Domain, Severity, Status
from runner.schedule import Occurrence, occurrences
from runner.schedule_ledger import OccurrenceRow, OccurrenceState

if TYPE_CHECKING:
    from runner.report.period import Period

log = logging.getLogger(__name__)

DEFAULT_LOOKBACK = timedelta(days=7)
REQUESTED_BY = "maint due"

SCHEDULE_CONTROL = Control(
    control="MAINT-SCHED-01",
    title="Scheduled maintenance ran inside its window",
    domain=Domain.INVENTORY,
    severity=Severity.HIGH,
    remediation=(
        "Find why the occurrence did not run (scheduler down, host unreachable, window too short), "
        "then run the schedule's roles ad hoc with a ticket: maint run CLIENT --role R --ticket ID."
    ),
)


class Action(StrEnum):
    RUN = "run"  # first attempt of an occurrence
    RETRY = "retry"  # follow-up limited to hosts left not_checked
    COMPLETE = "complete"  # every planned host was checked already (e.g. after a crash)
    MISSED = "missed"  # the window closed (or too little is left) without every host checked
    SKIP = "skip"  # holiday / blackout


@dataclass(frozen=True)
class Decision:
    occurrence: Occurrence
    action: Action
    hosts: tuple[str, ...] = ()
    reason: str = ""


@dataclass
class DueEntry:
    """What one ``maint due`` did (or would do) about one occurrence."""

    client: str
    occurrence_id: str
    schedule: str
    action: str
    hosts: list[str] = field(default_factory=list)
    reason: str = ""
    run_id: str | None = None
    run_status: str | None = None
    recorded: str | None = None  # the occurrence state appended
    outcome: str = "planned"  # planned (dry run) | done | busy | error | stopped (SIGINT/SIGTERM first)
    report: str | None = None  # the report filed (or why not) when the occurrence ended it

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class DueReport:
    now: datetime
    dry_run: bool
    entries: list[DueEntry] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)  # client -> why it was not looked at
    abandoned: list[str] = field(default_factory=list)  # runs found abandoned, ingested and closed first
    stopped_by: str | None = None  # the signal that stopped the pass (SIGINT, SIGTERM), if one did

    @property
    def missed(self) -> int:
        return sum(1 for e in self.entries if e.action == Action.MISSED and e.outcome in ("done", "planned"))

    @property
    def errors(self) -> int:
        return sum(1 for e in self.entries if e.outcome in ("error", "stopped"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "dry_run": self.dry_run,
            "entries": [e.as_dict() for e in self.entries],
            "problems": self.problems,
            "abandoned_ingested": self.abandoned,
            "stopped_by": self.stopped_by,
        }


# -- deciding -----------------------------------------------------------------------------------------


def checked_hosts(ledger: Ledger, run_ids: Sequence[str]) -> set[str]:
    """Hosts that one of ``run_ids`` checked: in that run, at least one result that is not
    ``not_checked`` and none saying the host was lost (:func:`runner.events.lost`).

    A host whose every result is ``not_checked`` (unreachable, its play ended early) is retried, and so
    is a host where a role's task failed (its controls ``error`` "task failed: ...": the job did not
    check it, whatever the other roles did); a single control ``not_checked`` for a missing
    prerequisite on a reached host is not.
    """
    checked: set[str] = set()
    for run_id in run_ids:
        reached: set[str] = set()
        lost_hosts: set[str] = set()
        for result in ledger.results_for_run(run_id):
            if result.control == SCHEDULE_CONTROL.control:
                continue
            if lost(result):
                lost_hosts.add(result.host)
            elif result.status is not Status.NOT_CHECKED:
                reached.add(result.host)
        checked |= reached - lost_hosts
    return checked


def decide(
    occurrence: Occurrence,
    rows: Sequence[OccurrenceRow],
    now: datetime,
    ledger: Ledger,
) -> Decision | None:
    """What to do about one occurrence whose start has come; None when it is settled."""
    if any(r.state.final for r in rows):
        return None
    if not occurrence.runs:
        return Decision(occurrence, Action.SKIP, reason="; ".join(occurrence.notes))
    starts = [r for r in rows if r.state is OccurrenceState.STARTED]
    can_start = now < occurrence.last_start
    left = max(0, int((occurrence.end - now).total_seconds() // 60))
    if not starts:
        if can_start:
            return Decision(occurrence, Action.RUN)
        why = (
            "the window closed before any run started"
            if now >= occurrence.end
            else f"only {left} min of the window left (min_run_minutes: {occurrence.min_run_minutes})"
        )
        return Decision(occurrence, Action.MISSED, reason=why)
    planned = sorted({h for r in starts if r.detail.get("attempt") == 1 for h in r.detail.get("hosts", [])})
    run_ids = [r.run_id for r in starts if r.run_id]
    pending = tuple(h for h in planned if h not in checked_hosts(ledger, run_ids))
    if not pending:
        return Decision(occurrence, Action.COMPLETE, reason="every planned host was checked")
    if can_start:
        return Decision(occurrence, Action.RETRY, hosts=pending, reason="hosts left not_checked")
    why = "the window closed" if now >= occurrence.end else f"only {left} min of the window left"
    return Decision(occurrence, Action.MISSED, hosts=pending, reason=f"{why} with hosts still not checked")


# -- applying -----------------------------------------------------------------------------------------


class _StartRecorder:
    """Appends the ``started`` row as soon as the job has its run ID (crash-safe)."""

    def __init__(self, ledger: Ledger, occurrence: Occurrence, attempt: int, limit: str | None) -> None:
        self.ledger, self.occurrence, self.attempt, self.limit = ledger, occurrence, attempt, limit
        self.run_id: str | None = None

    def started(self, run_id: str, client: str, hosts: Sequence[str]) -> None:
        self.run_id = run_id
        self.ledger.append(
            occ.schedule_occurrences,
            [
                _row(
                    self.occurrence,
                    OccurrenceState.STARTED,
                    datetime.now(UTC),
                    run_id=run_id,
                    detail={"attempt": self.attempt, "hosts": list(hosts), "limit": self.limit},
                )
            ],
        )

    def recorded(self, host: str, results: Sequence[CheckResult], host_done: bool) -> None:
        pass

    def finished(self, outcome: RunOutcome) -> None:
        pass


def _row(
    o: Occurrence,
    state: OccurrenceState,
    at: datetime,
    *,
    run_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return occ.row(
        client=o.client,
        occurrence_id=o.id,
        schedule_name=o.schedule,
        window_start=o.start,
        window_end=o.end,
        state=state,
        recorded_at=at,
        run_id=run_id,
        detail=detail,
    )


def _evidence(o: Occurrence, reason: str, **extra: Any) -> dict[str, Any]:
    return {
        "occurrence": o.id,
        "schedule": o.schedule,
        "window_start": o.local_start.isoformat(),
        "window_end": o.local_end.isoformat(),
        "reason": reason,
        **extra,
    }


def _record_missed(ledger: Ledger, client: Client, d: Decision, now: datetime) -> DueEntry:
    o = d.occurrence
    try:
        planned = sorted({h for hs in client.plan(o.roles).values() for h in hs})
    except PatternError as exc:  # validated before; still, a missed window is recorded regardless
        log.warning("%s: %s", o.client, exc)
        planned = []
    hosts = list(d.hosts) or planned or ["all"]
    run_id = new_run_id(now)
    ledger.start_run(
        RunRecord(
            run_id=run_id,
            client=o.client,
            mode=o.mode.value,
            roles=list(o.roles),
            reason=f"missed occurrence {o.id}: {d.reason}",
            trigger="schedule",
            requested_by=REQUESTED_BY,
            started_at=now,
        )
    )
    finding = SCHEDULE_CONTROL.finding(Status.FAIL, evidence=_evidence(o, d.reason))
    results = [
        (
            f"missed:{o.id}:{host}",
            CheckResult.from_finding(finding, host=host, client=o.client, run_id=run_id, observed_at=now),
        )
        for host in hosts
    ]
    ledger.record(results)
    ledger.finish_run(run_id, RunStatus.FAILED, {"fail": len(hosts), "hosts": len(hosts), "occurrence": o.id})
    ledger.append(
        occ.schedule_occurrences,
        [_row(o, OccurrenceState.MISSED, now, run_id=run_id, detail={"reason": d.reason, "hosts": hosts})],
    )
    return _entry(d, run_id=run_id, run_status=RunStatus.FAILED.value, recorded="missed", outcome="done")


def _run(
    ledger: Ledger,
    d: Decision,
    rows: Sequence[OccurrenceRow],
    inventories: Path | None,
    stop: threading.Event | None = None,
) -> DueEntry:
    o = d.occurrence
    attempt = 1 + sum(1 for r in rows if r.state is OccurrenceState.STARTED)
    limit = ",".join(d.hosts) if d.action is Action.RETRY else None
    request = RunRequest(
        client=o.client,
        roles=o.roles,
        limit=limit,
        mode=o.mode,
        trigger="schedule",
        requested_by=REQUESTED_BY,
        reason=f"schedule {o.schedule}, occurrence {o.id}"
        + (f", attempt {attempt} for hosts left not checked" if attempt > 1 else ""),
        extra_vars={
            "maint_window_start": o.start.isoformat(),
            "maint_window_end": o.end.isoformat(),
            "maint_occurrence_id": o.id,
            "maint_schedule": o.schedule,
        },
    )
    recorder = _StartRecorder(ledger, o, attempt, limit)
    try:
        outcome = execute(request, ledger, recorder, inventories=inventories, stop=stop)
    except ClientBusyError as exc:
        return _entry(d, outcome="busy", reason=str(exc))
    except (RunError, InventoryError, LedgerError, PatternError) as exc:
        log.error("%s: cannot run occurrence %s: %s", o.client, o.id, exc)
        return _entry(d, outcome="error", reason=str(exc), run_id=recorder.run_id)
    done_at = datetime.now(UTC)
    checked = checked_hosts(ledger, [outcome.run_id])
    finding = SCHEDULE_CONTROL.finding(Status.PASS, evidence=_evidence(o, "maintained inside its window"))
    ledger.record(
        [
            (
                f"schedule:{o.id}:{host}",
                CheckResult.from_finding(
                    finding, host=host, client=o.client, run_id=outcome.run_id, observed_at=done_at
                ),
            )
            for host in sorted(checked)
        ]
    )
    entry = _entry(d, run_id=outcome.run_id, run_status=outcome.status.value, outcome="done")
    if outcome.status in (RunStatus.INTERRUPTED,):
        return entry
    started = [r for r in rows if r.state is OccurrenceState.STARTED]
    planned = sorted(
        {h for r in started if r.detail.get("attempt") == 1 for h in r.detail.get("hosts", [])}
        | (set(outcome.hosts) if attempt == 1 else set())
    )
    all_checked = checked_hosts(ledger, [r.run_id for r in started if r.run_id]) | checked
    pending = [h for h in planned if h not in all_checked]
    entry.hosts = list(outcome.hosts)
    if not pending:
        ledger.append(
            occ.schedule_occurrences,
            [
                _row(
                    o,
                    OccurrenceState.COMPLETED,
                    done_at,
                    run_id=outcome.run_id,
                    detail={"hosts": planned, "attempts": attempt},
                )
            ],
        )
        entry.recorded = "completed"
    else:
        entry.reason = f"not checked yet (retried while the window is open): {', '.join(pending)}"
    return entry


def _entry(d: Decision, **kwargs: Any) -> DueEntry:
    o = d.occurrence
    values: dict[str, Any] = {"hosts": list(d.hosts), "reason": d.reason, **kwargs}
    return DueEntry(client=o.client, occurrence_id=o.id, schedule=o.schedule, action=d.action.value, **values)


def _apply(
    ledger: Ledger,
    client: Client,
    d: Decision,
    rows: Sequence[OccurrenceRow],
    now: datetime,
    inventories: Path | None,
    stop: threading.Event | None = None,
) -> DueEntry:
    o = d.occurrence
    if d.action is Action.SKIP:
        ledger.append(
            occ.schedule_occurrences, [_row(o, OccurrenceState.SKIPPED, now, detail={"notes": list(o.notes)})]
        )
        return _entry(d, recorded="skipped", outcome="done")
    if d.action is Action.MISSED:
        return _record_missed(ledger, client, d, now)
    if d.action is Action.COMPLETE:
        last = next((r.run_id for r in reversed(rows) if r.state is OccurrenceState.STARTED), None)
        ledger.append(
            occ.schedule_occurrences, [_row(o, OccurrenceState.COMPLETED, now, run_id=last, detail={})]
        )
        return _entry(d, recorded="completed", outcome="done")
    return _run(ledger, d, rows, inventories, stop)


def latest_recorded(ledger: Ledger, clients: Sequence[str]) -> dict[tuple[str, str], datetime]:
    """(client, schedule) -> the window start of its last recorded occurrence, whatever its age."""
    t = occ.schedule_occurrences
    found: dict[tuple[str, str], datetime] = {}
    if not clients:
        return found
    query = (
        sa.select(t.c.client, t.c.schedule, sa.func.max(t.c.window_start))
        .where(t.c.client.in_(list(clients)))
        .group_by(t.c.client, t.c.schedule)
    )
    with ledger.engine.connect() as conn:
        for client, schedule, start in conn.execute(query):
            found[(client, schedule)] = datetime.fromisoformat(start)
    return found


def _unsettled(
    found: Sequence[Occurrence],
    rows: Mapping[str, Sequence[OccurrenceRow]],
    now: datetime,
    latest: Mapping[tuple[str, str], datetime],
    since: datetime,
) -> list[Occurrence]:
    """The occurrences this pass must settle.

    Every pass settles all occurrences up to its ``now``, so an occurrence with no row that is
    older than the latest one recorded for its schedule (``latest``: whatever its age) predates
    that schedule's history. After that one, every occurrence is settled, but a ``missed`` one
    is only written when its window closed after ``since`` (``--lookback-days``). A schedule with
    no history yet (a client just added, a schedule just enabled) starts with the occurrences
    whose window is still open: nothing before it is reported ``missed``.
    """
    keep = []
    for o in found:
        first = latest.get((o.client, o.schedule))
        if o.id in rows:
            keep.append(o)
        elif first is None:
            if o.end > now:
                keep.append(o)
        elif o.start > first and o.end > since:
            keep.append(o)
    return keep


def _floor(client: Client, latest: Mapping[tuple[str, str], datetime], since: datetime) -> datetime:
    """Where to start computing the client's occurrences: ``since`` (nothing older is written),
    or later when every enabled schedule has a recorded occurrence after it."""
    names = [s.name for s in client.settings.schedules if s.enabled]
    if not names or any((client.name, n) not in latest for n in names):
        return since
    return max(since, min(latest[(client.name, n)] for n in names))


def file_reports(
    ledger: Ledger, client: Client, entries: Sequence[DueEntry], starts: Mapping[str, datetime]
) -> None:
    """File the period's report of each schedule with ``report: monthly`` whose occurrence just ended.

    One filing per period (the month containing the window start, client zone), after a checkpoint
    covering the pass's rows, so the report includes them; the outcome is the last such entry's
    ``report``. A failure is one line there (and in the log), never a failure of the pass.
    """
    monthly = {s.name for s in client.settings.schedules if s.report == "monthly"}
    ended = [
        e
        for e in entries
        if e.schedule in monthly
        and e.recorded in ("completed", "missed")
        and e.outcome == "done"
        and e.occurrence_id in starts
    ]
    if not ended:
        return
    from runner.ledger import keys
    from runner.report import filed
    from runner.report.period import containing

    try:
        ledger.checkpoint(client.name, keys.load_signer())
    except Exception as exc:  # the report is then built from the latest checkpoint (it says so)
        log.warning("%s: no checkpoint made before filing its report: %s", client.name, exc)
    by_period: dict[str, tuple[Period, DueEntry]] = {}
    for entry in ended:
        period = containing(starts[entry.occurrence_id], client.settings.timezone)
        by_period[period.label] = (period, entry)
    for period, entry in by_period.values():
        try:
            done = filed.file_report(ledger, client, period)
        except Exception as exc:
            entry.report = str(exc) if isinstance(exc, filed.FilingError) else f"report not filed: {exc}"
            log.info("%s", entry.report)
            continue
        entry.report = done.summary()
        filed.notify_ready(ledger, done)


def due_lock(client: str) -> ClientLock:
    """The lock ``maint due`` holds on a client while deciding and running its occurrences
    (``var/locks/<client>/.due.lock``, beside the client's host locks)."""
    return locks.due_lock(client)


def _client_pass(
    ledger: Ledger,
    client: Client,
    found: Sequence[Occurrence],
    since: datetime,
    now: datetime,
    inventories: Path | None,
    stop: threading.Event | None = None,
) -> list[DueEntry]:
    if stop is not None and stop.is_set():
        return [
            DueEntry(client.name, o.id, o.schedule, "wait", reason=STOPPED, outcome="stopped") for o in found
        ]
    lock = due_lock(client.name)
    try:
        lock.acquire()
    except ClientBusyError as exc:
        return [
            DueEntry(client.name, o.id, o.schedule, "wait", reason=str(exc), outcome="busy") for o in found
        ]
    try:
        rows = occ.read(ledger.engine, clients=[client.name], window_end_after=since)  # again, under the lock
        latest = latest_recorded(ledger, [client.name])
        entries = []
        for o in _unsettled(found, rows, now, latest, since):
            mine = rows.get(o.id, [])
            d = decide(o, mine, now, ledger)
            if d is not None and stop is not None and stop.is_set():
                entries.append(_entry(d, outcome="stopped", reason=STOPPED))
            elif d is not None:
                entries.append(_apply(ledger, client, d, mine, now, inventories, stop))
        file_reports(ledger, client, entries, {o.id: o.start for o in found})
        return entries
    finally:
        lock.release()


STOPPED = "not started: maint due was stopped (SIGINT/SIGTERM); the next pass runs it"


@contextlib.contextmanager
def _stopped_by_signals(stop: threading.Event, caught: list[int]) -> Iterator[None]:
    """While the clients' jobs run in threads, SIGINT and SIGTERM set ``stop`` (the first one is kept in
    ``caught``): each running job is interrupted as ``maint run`` is on Ctrl-C, no other is started.
    Only the main thread can take signals; called elsewhere, nothing is installed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def due(
    now: datetime | None = None,
    *,
    ledger: Ledger,
    dry_run: bool = False,
    max_parallel: int = 4,
    clients: Sequence[str] | None = None,
    lookback: timedelta = DEFAULT_LOOKBACK,
    inventories: Path | None = None,
) -> DueReport:
    """Decide (and unless ``dry_run`` act on) every due occurrence of every client."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    report = DueReport(now=now, dry_run=dry_run)
    since = now - lookback
    if not dry_run:  # a run killed with SIGKILL: its artifacts count before anything is decided
        from runner.ingest import ingest_abandoned

        try:
            report.abandoned = ingest_abandoned(ledger)
        except Exception as exc:  # planning goes on; the next pass tries again
            log.error("could not ingest abandoned runs: %s", exc, exc_info=log.isEnabledFor(logging.DEBUG))
    names = list(clients) if clients else list_clients(inventories)
    loaded: list[Client] = []
    for name in names:  # each client on its own: one bad inventory does not stop the others
        try:
            client, problems = validate_client(name, inventories)
        except UnknownClientError as exc:
            report.problems[name] = [str(exc)]
            continue
        except Exception as exc:  # a defect reading one inventory must not stop the others
            log.debug("inventory of client %s", name, exc_info=True)
            report.problems[name] = [f"cannot read the inventory: {type(exc).__name__}: {exc}"]
            continue
        if client is None:
            report.problems[name] = [str(p) for p in problems or [Problem(name, "", "invalid")]]
            continue
        if client.settings.schedules:
            loaded.append(client)
    by_client: dict[str, dict[str, list[OccurrenceRow]]] = {}
    for occurrence_id, group in occ.read(
        ledger.engine, clients=[c.name for c in loaded], window_end_after=since
    ).items():
        by_client.setdefault(group[0].client, {})[occurrence_id] = group
    latest = latest_recorded(ledger, [c.name for c in loaded])
    work: list[tuple[Client, list[Occurrence]]] = []
    for client in loaded:
        try:
            pending = _pending(client, by_client.get(client.name, {}), latest, since, now, ledger)
        except Exception as exc:  # one client's defect must not stop the others
            log.debug("schedule of client %s", client.name, exc_info=True)
            report.problems[client.name] = [f"cannot compute its schedule: {type(exc).__name__}: {exc}"]
            continue
        if not pending:
            continue
        if dry_run:
            report.entries += [_entry(d) for _o, d in pending]
        else:
            work.append((client, [o for o, _d in pending]))
    stop = threading.Event()
    caught: list[int] = []
    if work:
        with (
            _stopped_by_signals(stop, caught),
            ThreadPoolExecutor(max_workers=max(1, max_parallel), thread_name_prefix="maint-due") as pool,
        ):
            futures = {
                client.name: pool.submit(_client_pass, ledger, client, found, since, now, inventories, stop)
                for client, found in work
            }
            for name, future in futures.items():
                try:
                    report.entries += future.result()
                except Exception as exc:
                    log.error("%s: due pass failed: %s", name, exc, exc_info=log.isEnabledFor(logging.DEBUG))
                    report.problems[name] = [f"due pass failed: {type(exc).__name__}: {exc}"]
        if caught:
            report.stopped_by = signal.Signals(caught[0]).name
    if not dry_run:  # missed windows, and retries of what a channel refused before (never raises)
        from runner import notify

        for client in loaded:
            notify.after_due(ledger, client, now)
    return report


def _pending(
    client: Client,
    stored: Mapping[str, Sequence[OccurrenceRow]],
    latest: Mapping[tuple[str, str], datetime],
    since: datetime,
    now: datetime,
    ledger: Ledger,
) -> list[tuple[Occurrence, Decision]]:
    found = _unsettled(
        [
            o
            for o in occurrences(
                client.name,
                client.settings,
                _floor(client, latest, since),
                now + timedelta(microseconds=1),
            )
            if o.start <= now
        ],
        stored,
        now,
        latest,
        since,
    )
    decisions = [(o, decide(o, stored.get(o.id, []), now, ledger)) for o in found]
    return [(o, d) for o, d in decisions if d is not None]


__all__ = [
    "SCHEDULE_CONTROL",
    "Action",
    "Decision",
    "DueEntry",
    "DueReport",
    "checked_hosts",
    "decide",
    "due",
    "due_lock",
    "file_reports",
]
