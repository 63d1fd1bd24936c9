"""The backups section: per backup job, from the backup controls' rows (``BKP-*``) in the ledger
(conventions: :mod:`runner.report.sections._common`).

**Jobs.** A host's jobs are read from its results' evidence, one kind at a time:

========================= ============================================== =====================================
kind                      job (one per ...)                              checked by
========================= ============================================== =====================================
``restic``                restic repository (``evidence.repository``)    ``BKP-RESTIC-01..03``; restore tests:
                                                                         ``BKP-RESTIC-04``
``files``                 file set (``evidence.sets[].name``)            ``BKP-FILE-01`` (age), ``-02`` (size)
``veeam``                 Veeam B&R job (``evidence.jobs[].job``)        ``BKP-VEEAM-01`` (last session's
                                                                         result), ``-02`` (``stale`` jobs)
``veeam_agent``           Veeam Agent job (``evidence.jobs[].job``)      ``BKP-VAW-01``, ``-02``
``wsb``                   Windows Server Backup (one per host)           ``BKP-WSB-01``, ``-02``
========================= ============================================== =====================================

A **check** of a job is one run that judged it: the run's rows of those controls that name the job (a row
``not_checked`` judges nothing: a product not installed, a host not reached). Its outcome is the worst of what
those rows say about the job: a Veeam session ``Success`` passes, ``Warning`` warns, ``Failed`` fails, a job
listed as ``stale`` fails; a file set ``ok`` passes, not ``ok`` or unreadable fails; restic and Windows Server
Backup take the rows' statuses (``error``: the check broke, neither a pass nor a failure).

A job is shown when the latest check of its kind names it or when it was checked within the period.

Keys of ``build(ctx)``:

- ``jobs``: sorted by (host, kind, job, location):

  - ``host``; ``kind`` (table above); ``job``: the job's name (``restic`` for a restic repository, ``Windows
    Server Backup``), None for a host with backup controls but no job found in any result (then only
    ``status`` and ``reason`` say something);
  - ``last_success``: when the newest successful backup was made, as the newest run up to the period's end
    whose evidence names one says it (restic: the newest snapshot's ``latest_time``; Veeam: the ``end_time``
    / ``finished`` of a ``Success`` session; WSB: ``last_successful_backup``; a file set: the check's time
    minus the newest file's ``age_hours``), None when none is known; ``age_hours``: its age at ``ctx.as_of``;
  - ``failures_in_period``: checks within the period whose outcome is ``fail``; ``checks_in_period``: checks
    within the period (pass, warn, fail or error); ``success_pct``: passing checks / checks, None without
    a check;
  - ``restore_tests``: the ``BKP-RESTIC-04`` rows within the period that tried a restore (pass, fail, error; a
    warn says no file was chosen), each ``{"at", "result", "reason", "seq"}``, oldest first;
  - ``location``: where the copies are stored when the evidence says (the restic repository, a local one on
    a network mount as ``BKP-RESTIC-05`` found it: ``fstype:source (path)``; WSB's
    ``target``, a file set's ``path``, a Veeam job's repository from ``BKP-VEEAM-05`` / ``-06``), with any
    credential removed (:func:`_common.safe_location`); None when unknown;
  - ``restore_points`` (Veeam): the job's entry of ``BKP-VEEAM-04`` in the run the line is read from,
    ``{"kept", "configured", "unit" (points / days), "status", "reason"}``, None when not judged;
  - ``repository_free_pct`` (Veeam): the free space of the job's repository (``BKP-VEEAM-05``), None when
    not known;
  - ``copies`` (Veeam): where its copies are (``BKP-VEEAM-06`` ``copies``), each ``{"copy", "kind"
    (backup_copy / capacity_tier / archive_tier), "target_repository", "last_result", "last_run", "status",
    "reason"}``; [] when none or not judged;
  - ``verification`` (Veeam): the SureBackup jobs of ``BKP-VEEAM-07`` that verify this job (their
    ``verifies``), each ``{"job", "status", "last_result", "last_run", "reason"}``; [] when none;
  - ``status``: the job's outcome in the latest check of its kind, ``waived`` when every control it failed is
    waived; for restic and WSB also the worst with ``BKP-RESTIC-04`` / ``BKP-WSB-03``; when that latest check
    judged nothing (host not reached), the rows' status, and ``not_checked`` for a job the latest check no
    longer names; ``reason``: why the latest check judged nothing (the rows' reason), else None;
  - ``in_latest_check``: whether the latest check of the job's kind names the job;
  - ``seqs``: the ledger seqs of the rows the entry was computed from.
- ``jobs_total``: jobs (entries with a ``job``); ``jobs_ok``: those whose ``status`` is pass or waived;
- ``failures_total``: the sum of ``failures_in_period``; ``restore_tests_total``, ``restore_tests_failed``:
  restore tests within the period, and those not passed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from runner.report.context import ReportContext, Row
from runner.report.sections import _common as c
from runner.results import Status
from runner.state import StateRow
from runner.status import WAIVED

RESTORE = "BKP-RESTIC-04"
WSB_JOB = "Windows Server Backup"
RESTIC_JOB = "restic"
_JUDGING = frozenset({Status.PASS.value, Status.FAIL.value, Status.WARN.value, Status.ERROR.value})
_VEEAM_RESULT = {"success": Status.PASS.value, "warning": Status.WARN.value, "failed": Status.FAIL.value}


@dataclass
class Seen:
    """What one run's rows say about one job."""

    statuses: dict[str, str] = field(default_factory=dict)  # control -> the job's outcome by that control
    seqs: set[int] = field(default_factory=set)
    success: datetime | None = None
    location: str | None = None
    #: what else the run says about the job (Veeam: restore points, repository, copies, verification)
    details: dict[str, Any] = field(default_factory=dict)

    def judge(self, row: Row, status: str) -> None:
        previous = self.statuses.get(row.control)
        self.statuses[row.control] = c.worst([status, previous]) if previous else status
        self.seqs.add(row.seq)

    def succeeded(self, when: datetime | None) -> None:
        if when is not None and (self.success is None or when > self.success):
            self.success = when

    @property
    def status(self) -> str:
        return c.worst(self.statuses.values())


Extract = Callable[[Mapping[str, Row]], dict[str, Seen]]


def _judging(row: Row | None) -> bool:
    return row is not None and row.status in _JUDGING


def _restic(run: Mapping[str, Row]) -> dict[str, Seen]:
    repository = None
    for control in ("BKP-RESTIC-01", "BKP-RESTIC-02", "BKP-RESTIC-03", RESTORE):
        row = run.get(control)
        if row is not None and isinstance(row.evidence.get("repository"), str) and row.evidence["repository"]:
            repository = c.safe_location(row.evidence["repository"])
            break
    if repository is None:
        return {}
    where = run.get(RESTIC_WHERE)
    seen = Seen(location=_restic_where(where.evidence if where is not None else {}) or repository)
    for control in ("BKP-RESTIC-01", "BKP-RESTIC-02", "BKP-RESTIC-03"):
        row = run.get(control)
        if row is not None and _judging(row):
            seen.judge(row, row.status)
    snapshots = run.get("BKP-RESTIC-02")
    if snapshots is not None:
        seen.succeeded(c.parse_time(snapshots.evidence.get("latest_time")))
    return {repository: seen} if seen.statuses else {}


RESTIC_WHERE = "BKP-RESTIC-05"


def _restic_where(evidence: Mapping[str, Any]) -> str | None:
    """A local repository on a network mount as BKP-RESTIC-05 found it, ``nfs4:nas01:/export (/mnt/restic)``
    (credentials removed); None otherwise (the repository itself says where the copies are)."""
    loc = c.mapping(evidence.get("location"))
    mount = c.mapping(evidence.get("mount"))
    path, source = loc.get("path"), mount.get("source")
    if loc.get("backend") != "local" or evidence.get("same_host") is not False or not isinstance(source, str):
        return None
    return c.safe_location(f"{mount.get('fstype')}:{source} ({path})")


def _files(run: Mapping[str, Row]) -> dict[str, Seen]:
    found: dict[str, Seen] = {}
    for control in ("BKP-FILE-01", "BKP-FILE-02"):
        row = run.get(control)
        if row is None or row.status not in (Status.PASS.value, Status.FAIL.value, Status.WARN.value):
            continue
        for item in c.items(row.evidence.get("sets")):
            name = item.get("name")
            if not isinstance(name, str):
                continue
            seen = found.setdefault(name, Seen(location=c.safe_location(item.get("path"))))
            seen.judge(row, Status.PASS.value if item.get("ok") is True else Status.FAIL.value)
            age = c.number(item.get("age_hours"))
            if control == "BKP-FILE-01" and age is not None:
                seen.succeeded(row.observed_at - timedelta(hours=age))
    return found


def _veeam_like(result_control: str, recent_control: str, end_key: str) -> Extract:
    def extract(run: Mapping[str, Row]) -> dict[str, Seen]:
        found: dict[str, Seen] = {}
        result = run.get(result_control)
        if result is not None and result.status in (Status.PASS.value, Status.FAIL.value, Status.WARN.value):
            for item in c.items(result.evidence.get("jobs")):
                name = item.get("job")
                if not isinstance(name, str):
                    continue
                seen = found.setdefault(name, Seen())
                outcome = _VEEAM_RESULT.get(str(item.get("result") or "").lower())
                if outcome is not None:
                    seen.judge(result, outcome)
                if outcome == Status.PASS.value:
                    seen.succeeded(c.parse_time(item.get(end_key)))
        recent = run.get(recent_control)
        if recent is not None and recent.status in (Status.PASS.value, Status.FAIL.value, Status.WARN.value):
            stale = set()
            listed = recent.evidence.get("stale")
            for item in listed if isinstance(listed, list) else []:
                name = item.get("job") if isinstance(item, Mapping) else item
                if isinstance(name, str):
                    stale.add(name)
            for name in sorted(stale | set(found)):
                found.setdefault(name, Seen()).judge(
                    recent, Status.FAIL.value if name in stale else Status.PASS.value
                )
        return {name: seen for name, seen in found.items() if seen.statuses}

    return extract


#: Veeam controls judging a job through their ``jobs[]`` entries (their status counts for the job)
VEEAM_JOB_CONTROLS = ("BKP-VEEAM-04", "BKP-VEEAM-06")
VEEAM_REPOSITORY = "BKP-VEEAM-05"
VEEAM_VERIFY = "BKP-VEEAM-07"


def _job_entries(row: Row | None) -> dict[str, Mapping[str, Any]]:
    if row is None or row.status not in _JUDGING:
        return {}
    return {
        item["job"]: item for item in c.items(row.evidence.get("jobs")) if isinstance(item.get("job"), str)
    }


def _veeam(run: Mapping[str, Row]) -> dict[str, Seen]:
    """Veeam B&R jobs: BKP-VEEAM-01/-02 as for the agent, plus the per-job entries of -04..-07."""
    found = _veeam_like("BKP-VEEAM-01", "BKP-VEEAM-02", "end_time")(run)
    for control in VEEAM_JOB_CONTROLS:
        row = run.get(control)
        for name, item in _job_entries(row).items():
            status = item.get("status")
            if row is not None and isinstance(status, str) and status in _JUDGING:
                found.setdefault(name, Seen()).judge(row, status)
    retention = _job_entries(run.get("BKP-VEEAM-04"))
    repository = _job_entries(run.get(VEEAM_REPOSITORY))
    copies_row = run.get("BKP-VEEAM-06")
    copies: dict[str, list[dict[str, Any]]] = {}
    if copies_row is not None and copies_row.status in _JUDGING:
        for item in c.items(copies_row.evidence.get("copies")):
            if isinstance(item.get("job"), str):
                copies.setdefault(item["job"], []).append(
                    {
                        key: item.get(key)
                        for key in (
                            "copy",
                            "kind",
                            "target_repository",
                            "last_result",
                            "last_run",
                            "status",
                            "reason",
                        )
                    }
                )
    own = _job_entries(copies_row)
    verify: dict[str, list[dict[str, Any]]] = {}
    for name, item in _job_entries(run.get(VEEAM_VERIFY)).items():
        for job in item.get("verifies") or []:
            if isinstance(job, str):
                verify.setdefault(job, []).append(
                    {
                        "job": name,
                        "status": item.get("status"),
                        "last_result": item.get("last_result"),
                        "last_run": item.get("last_run"),
                        "reason": item.get("reason"),
                    }
                )
    for name, seen in found.items():
        points = retention.get(name)
        if points is not None and points.get("status") in _JUDGING:
            seen.details["restore_points"] = {
                key: points.get(key) for key in ("kept", "configured", "unit", "status", "reason")
            }
        where = repository.get(name) or own.get(name) or {}
        if isinstance(where.get("repository"), str):
            seen.location = c.safe_location(where["repository"])
        if name in repository and repository[name].get("free_pct") is not None:
            seen.details["repository_free_pct"] = repository[name]["free_pct"]
        seen.details["copies"] = copies.get(name, [])
        seen.details["verification"] = verify.get(name, [])
        for control in (VEEAM_REPOSITORY, VEEAM_VERIFY):
            row = run.get(control)
            if row is not None and row.status in _JUDGING:
                seen.seqs.add(row.seq)
    return found


def _wsb(run: Mapping[str, Row]) -> dict[str, Seen]:
    seen = Seen()
    for control in ("BKP-WSB-01", "BKP-WSB-02"):
        row = run.get(control)
        if row is None or not _judging(row):
            continue
        seen.judge(row, row.status)
        seen.succeeded(c.parse_time(row.evidence.get("last_successful_backup")))
        target = c.safe_location(row.evidence.get("target"))
        if target is not None:
            seen.location = target
    return {WSB_JOB: seen} if seen.statuses else {}


@dataclass(frozen=True)
class Kind:
    name: str
    controls: tuple[str, ...]  # the rows a check is made of
    extract: Extract
    extra: tuple[str, ...] = ()  # more controls of the job's status (one job per host kinds)
    label: str | None = None  # the job's name when it is not its key (restic: the key is the repository)

    def job_name(self, key: str) -> str:
        return self.label or key


KINDS: tuple[Kind, ...] = (
    Kind("files", ("BKP-FILE-01", "BKP-FILE-02"), _files),
    Kind(
        "restic",
        ("BKP-RESTIC-01", "BKP-RESTIC-02", "BKP-RESTIC-03", RESTORE, RESTIC_WHERE),
        _restic,
        extra=(RESTORE,),
        label=RESTIC_JOB,
    ),
    Kind(
        "veeam",
        ("BKP-VEEAM-01", "BKP-VEEAM-02", *VEEAM_JOB_CONTROLS, VEEAM_REPOSITORY, VEEAM_VERIFY),
        _veeam,
    ),
    Kind("veeam_agent", ("BKP-VAW-01", "BKP-VAW-02"), _veeam_like("BKP-VAW-01", "BKP-VAW-02", "finished")),
    Kind("wsb", ("BKP-WSB-01", "BKP-WSB-02"), _wsb, extra=("BKP-WSB-03",)),
)
PREFIXES = ("BKP-",)


def _runs(ctx: ReportContext, host: str, controls: Sequence[str]) -> list[tuple[datetime, dict[str, Row]]]:
    """The host's rows of ``controls`` up to the period's end grouped by run: (the run's time, control ->
    row), oldest first (a run's time: its newest row's ``observed_at``)."""
    groups: dict[str, dict[str, Row]] = {}
    for control in controls:
        for row in ctx.history(host, control):
            run = groups.setdefault(row.run_id, {})
            kept = run.get(control)
            if kept is None or (kept.observed_at, kept.seq) < (row.observed_at, row.seq):
                run[control] = row
    timed = [(max(r.observed_at for r in run.values()), run) for run in groups.values()]
    timed.sort(key=lambda item: (item[0], max(r.seq for r in item[1].values())))
    return timed


def _restore_tests(ctx: ReportContext, host: str, location: str | None) -> list[dict[str, Any]]:
    tests = []
    for row in ctx.history(host, RESTORE):
        if not ctx.period.contains(row.observed_at) or row.status not in (
            Status.PASS.value,
            Status.FAIL.value,
            Status.ERROR.value,
        ):
            continue
        repository = c.safe_location(row.evidence.get("repository"))
        if repository is not None and repository != location:
            continue
        reason = row.evidence.get("reason")
        tests.append(
            {
                "at": c.iso(row.observed_at),
                "result": row.status,
                "reason": reason if isinstance(reason, str) else None,
                "seq": row.seq,
            }
        )
    return tests


def _kind_jobs(
    ctx: ReportContext, host: str, kind: Kind, state_rows: Mapping[str, StateRow]
) -> list[dict[str, Any]]:
    runs = _runs(ctx, host, kind.controls)
    extracted: dict[int, dict[str, Seen]] = {}

    def seen_in(n: int) -> dict[str, Seen]:  # each run's rows read once, and only when needed
        if n not in extracted:
            extracted[n] = kind.extract(runs[n][1])
        return extracted[n]

    period = ctx.period
    latest_seen = seen_in(len(runs) - 1) if runs else {}
    latest_keys = set(latest_seen)
    in_period: dict[str, list[Seen]] = {}
    for n, (at, _) in enumerate(runs):
        if period.contains(at):
            for key, seen in seen_in(n).items():
                in_period.setdefault(key, []).append(seen)
    # the newest run naming a job gives its location; the newest run naming a success of it, its last success
    newest: dict[str, Seen] = {}
    success: dict[str, Seen] = {}
    wanted = latest_keys | set(in_period)
    for n in range(len(runs) - 1, -1, -1):
        if wanted <= set(success):
            break
        for key, seen in seen_in(n).items():
            if key in wanted:
                newest.setdefault(key, seen)
                if seen.success is not None:
                    success.setdefault(key, seen)
    kind_rows = [state_rows[control] for control in kind.controls if control in state_rows]
    latest_judged = any(c.judged(row) or row.status.value == Status.ERROR.value for row in kind_rows)
    jobs = []
    for key in sorted(wanted):
        checked = in_period.get(key, [])
        found = success.get(key)
        last_success = found.success if found is not None else None
        location = newest[key].location
        details = (latest_seen[key] if key in latest_keys else newest[key]).details
        checks = len(checked)
        passes = sum(1 for seen in checked if seen.status == Status.PASS.value)
        failures = sum(1 for seen in checked if seen.status == Status.FAIL.value)
        seqs: set[int] = set(found.seqs) if found is not None else set()
        for seen in checked:
            seqs |= seen.seqs
        reason = None
        in_latest = key in latest_keys
        if in_latest:
            latest = latest_seen[key]
            seqs |= latest.seqs
            bad = [control for control, status in latest.statuses.items() if status != Status.PASS.value]
            status = latest.status
            if bad and all(
                control in state_rows and state_rows[control].effective == WAIVED for control in bad
            ):
                status = WAIVED
            extra = [state_rows[control] for control in kind.extra if control in state_rows]
            status = c.worst([status, *(row.effective for row in extra)])
            seqs |= set(c.seqs_of(extra))
        elif not latest_judged:
            status = c.worst(row.effective for row in kind_rows)
            reason = c.not_judged_reason(kind_rows)
            seqs |= set(c.seqs_of(kind_rows))
        else:  # the latest check no longer names the job (removed, renamed): see in_latest_check
            status = Status.NOT_CHECKED.value
        restore = _restore_tests(ctx, host, key) if kind.name == "restic" else []  # restic: key = repository
        seqs |= {test["seq"] for test in restore}
        jobs.append(
            {
                "host": host,
                "kind": kind.name,
                "job": kind.job_name(key),
                "last_success": c.iso(last_success),
                "age_hours": c.r1(max(0.0, c.hours_between(last_success, ctx.as_of)))
                if last_success is not None
                else None,
                "failures_in_period": failures,
                "checks_in_period": checks,
                "success_pct": c.pct(passes, checks),
                "restore_tests": restore,
                "location": location,
                "restore_points": details.get("restore_points"),
                "repository_free_pct": details.get("repository_free_pct"),
                "copies": details.get("copies", []),
                "verification": details.get("verification", []),
                "status": status,
                "reason": reason,
                "in_latest_check": in_latest,
                "seqs": sorted(seqs),
            }
        )
    return jobs


def _placeholder(host: str, rows: Sequence[StateRow]) -> dict[str, Any]:
    return {
        "host": host,
        "kind": None,
        "job": None,
        "last_success": None,
        "age_hours": None,
        "failures_in_period": 0,
        "checks_in_period": 0,
        "success_pct": None,
        "restore_tests": [],
        "location": None,
        "restore_points": None,
        "repository_free_pct": None,
        "copies": [],
        "verification": [],
        "status": c.entry_status(rows),
        "reason": c.not_judged_reason(rows),
        "in_latest_check": False,
        "seqs": c.seqs_of(rows),
    }


def _sort_key(job: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (job["host"], job["kind"] or "", job["job"] or "", job["location"] or "")


def build(ctx: ReportContext) -> dict[str, Any]:
    state = ctx.state()
    jobs: list[dict[str, Any]] = []
    for host, rows in c.by_host(state, PREFIXES).items():
        by_control = {row.control: row for row in rows}
        found = [job for kind in KINDS for job in _kind_jobs(ctx, host, kind, by_control)]
        jobs.extend(found or [_placeholder(host, rows)])
    jobs.sort(key=_sort_key)
    named = [job for job in jobs if job["job"] is not None]
    tests = [test for job in jobs for test in job["restore_tests"]]
    return {
        "jobs": jobs,
        "jobs_total": len(named),
        "jobs_ok": sum(1 for job in named if job["status"] in (Status.PASS.value, WAIVED)),
        "failures_total": sum(job["failures_in_period"] for job in jobs),
        "restore_tests_total": len(tests),
        "restore_tests_failed": sum(1 for test in tests if test["result"] != Status.PASS.value),
    }
