"""Judge the windows_backup collector's JSON: controls BKP-VEEAM-01..07, BKP-VAW-01..02, BKP-WSB-01..03.

Sources the collector reads (``roles/windows_backup/files/collect_backup.ps1``), whichever is present:

- ``veeam``: Veeam Backup & Replication through its PowerShell module (``Veeam.Backup.PowerShell``, or the
  ``VeeamPSSnapIn`` snap-in before v11): ``Get-VBRJob`` and each job's ``FindLastSession()`` (a
  ``CBackupSession``: ``Result`` None/Success/Warning/Failed, ``State`` Stopped/Working/...,
  ``CreationTime``, ``EndTime``). Since issue 15 the same probe also reads, each part failing on its own
  (``available: false`` with the reason, judged ``not_checked``): each job's retention
  (``BackupStorageOptions``: ``RetentionType`` Cycles/Days, ``RetainCycles``, ``RetainDaysToKeep``), target
  repository and restore points per object (``Get-VBRBackup`` + ``Get-VBRRestorePoint``, grouped by
  ``VMName``); the repositories with ``GetContainer().CachedFreeSpace`` / ``CachedTotalSpace`` and the
  scale-out repositories with their extents and capacity / archive tiers; ``Get-VBRBackupCopyJob`` (source
  jobs, target repository, last session); event 40002 of the "Veeam Backup" event log (a scale-out storage
  management / offload session finished, with its result); ``Get-VBRSureBackupJob`` (v12) or ``Get-VSBJob``
  (v11). The data README names the cmdlet and property of every field. On Windows PowerShell 5.1
  ``ConvertTo-Json`` writes ``Result`` and ``State`` as numbers: the tables below are Veeam's (job result IDs
  0 Success, 1 Warning, 2 Failed as documented for event 190, -1 None; session states as stored in the
  configuration database). A running session's
  ``EndTime`` is 1900-01-01.
- ``veeam_agent``: Veeam Agent for Microsoft Windows has no PowerShell job API; its own event log
  ("Veeam Agent", source "Veeam Agent") records event 190 when a backup job session finishes, with the result
  in the message ("Veeam Agent 'JOB' finished with Success.") and the level (4 Information, 3 Warning,
  2 Error).
- ``wsb``: Windows Server Backup ``Get-WBSummary`` (``LastSuccessfulBackupTime``, ``LastBackupTime``,
  ``LastBackupResultHR``, ``NextBackupTime``) and whether ``Get-WBPolicy`` returns a policy. Dates that were
  never set are ``DateTime.MinValue`` (0001-01-01).

A product that is not installed gives ``not_checked`` for its controls, never ``error`` and never ``pass``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError, model_validator

from runner import catalogue
from runner.evaluators import EvaluatorError, evaluator
from runner.evaluators.common import check_known_controls, describe, validate_thresholds
from runner.evaluators.windows_common import (
    SERVICE_STATUS,
    Probe,
    WinRaw,
    as_list,
    enum_name,
    not_checked,
    ps_datetime,
    skipped,
    unwrap_output,
    with_kind,
)
from runner.results import Control, Finding, Severity, Status

KIND = "windows_backup"
ROLE = "windows_backup"
SCHEMA = 1
_CATALOGUE = catalogue.load()  # titles, severities, remediations and defaults: runner/catalogue/data/

#: Veeam.Backup.Model.CBaseSessionInfo+EResult (VBRSessionResult)
VEEAM_RESULT: Mapping[int, str] = {-1: "None", 0: "Success", 1: "Warning", 2: "Failed"}
#: Veeam.Backup.Model.CBaseSessionInfo+EState (VBRSessionState)
VEEAM_STATE: Mapping[int, str] = {
    -1: "Stopped",
    3: "Starting",
    4: "Stopping",
    5: "Working",
    6: "Pausing",
    7: "Resuming",
    8: "WaitingTape",
    9: "Idle",
    10: "Postprocessing",
    11: "WaitingRepository",
    12: "WaitingSlot",
}
#: Windows event levels (Get-WinEvent .Level)
EVENT_LEVEL_RESULT: Mapping[int, str] = {1: "Failed", 2: "Failed", 3: "Warning", 4: "Success", 0: "Success"}
VAW_FINISHED_EVENT = 190
_VAW_MESSAGE = re.compile(r"'(?P<job>[^']*)'\s+finished with (?P<result>\w+)", re.IGNORECASE)

VEEAM_RESULT_OK = _CATALOGUE.control("BKP-VEEAM-01").as_control()
VEEAM_RECENT = _CATALOGUE.control("BKP-VEEAM-02").as_control()
VEEAM_DISABLED = _CATALOGUE.control("BKP-VEEAM-03").as_control()
VEEAM_RETENTION = _CATALOGUE.control("BKP-VEEAM-04").as_control()
VEEAM_REPOSITORY = _CATALOGUE.control("BKP-VEEAM-05").as_control()
VEEAM_COPY = _CATALOGUE.control("BKP-VEEAM-06").as_control()
VEEAM_VERIFY = _CATALOGUE.control("BKP-VEEAM-07").as_control()
VEEAM_DEPTH = (VEEAM_RETENTION, VEEAM_REPOSITORY, VEEAM_COPY, VEEAM_VERIFY)
VAW_RESULT_OK = _CATALOGUE.control("BKP-VAW-01").as_control()
VAW_RECENT = _CATALOGUE.control("BKP-VAW-02").as_control()
WSB_RESULT_OK = _CATALOGUE.control("BKP-WSB-01").as_control()
WSB_RECENT = _CATALOGUE.control("BKP-WSB-02").as_control()
WSB_SCHEDULED = _CATALOGUE.control("BKP-WSB-03").as_control()
CONTROLS: tuple[Control, ...] = (
    VEEAM_RESULT_OK,
    VEEAM_RECENT,
    VEEAM_DISABLED,
    *VEEAM_DEPTH,
    VAW_RESULT_OK,
    VAW_RECENT,
    WSB_RESULT_OK,
    WSB_RECENT,
    WSB_SCHEDULED,
)
CONTROL_IDS: tuple[str, ...] = tuple(c.control for c in CONTROLS)

#: threshold names are the role variables without the role prefix; values, types and ranges: the catalogue
DEFAULTS: Mapping[str, Any] = MappingProxyType(_CATALOGUE.roles[ROLE].defaults(KIND))


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    veeam_max_age_hours: StrictInt = Field(ge=1)
    veeam_ignore_jobs: list[StrictStr]
    veeam_disabled_ok: list[StrictStr]
    vaw_max_age_hours: StrictInt = Field(ge=1)
    wsb_max_age_hours: StrictInt = Field(ge=1)
    retention_tolerance_pct: StrictInt = Field(ge=0, le=90)
    repository_free_warn_pct: StrictInt = Field(ge=1, le=99)
    repository_free_fail_pct: StrictInt = Field(ge=0, le=99)
    copy_max_age_hours: StrictInt = Field(ge=1)
    verification_max_age_days: StrictInt = Field(ge=1)
    skip_controls: list[StrictStr]

    @model_validator(mode="after")
    def _known(self) -> Self:
        check_known_controls(self.skip_controls, CONTROL_IDS)
        if self.repository_free_fail_pct > self.repository_free_warn_pct:
            raise ValueError(
                f"repository_free_fail_pct ({self.repository_free_fail_pct}) is above "
                f"repository_free_warn_pct ({self.repository_free_warn_pct})"
            )
        return self


# ---------------------------------------------------------------- raw data shape


class _Session(WinRaw):
    Result: int | str
    State: int | str
    CreationTime: Any = None
    EndTime: Any = None


#: a list of names as PowerShell 5.1 may have flattened it (one name: a string, none: null)
Names = list[StrictStr] | StrictStr | None


class _Retention(WinRaw):
    RetentionType: StrictStr | None = None
    RetainCycles: StrictInt | None = None
    RetainDaysToKeep: StrictInt | None = None


class _RepositoryRef(WinRaw):
    Id: str = ""
    Name: str = ""


class _PointObject(WinRaw):
    Name: str
    Count: StrictInt
    Oldest: Any = None
    Newest: Any = None


class _Points(Probe):
    objects: Any = None


class _Job(WinRaw):
    Id: str = ""
    Name: str
    JobType: int | str | None = None
    IsScheduleEnabled: bool = True
    last_session: _Session | None = None
    retention: _Retention | None = None
    retention_reason: str = ""
    repository: _RepositoryRef | None = None
    restore_points: _Points | None = None


class _Repository(WinRaw):
    Id: str = ""
    Name: str
    Type: str | None = None
    ScaleOut: str = ""
    FreeBytes: StrictInt | None = None
    TotalBytes: StrictInt | None = None


class _ScaleOut(WinRaw):
    Id: str = ""
    Name: str
    Extents: Names = None
    CapacityTier: str | None = None
    CapacityTierCopy: bool | None = None
    ArchiveTier: str | None = None


class _Repositories(Probe):
    items: Any = None
    scale_out: Any = None


class _CopyJob(WinRaw):
    Name: str
    SourceJobs: Names = None
    Target: str = ""
    Enabled: bool = True
    LastResult: int | str | None = None
    last_session: _Session | None = None


class _CopyJobs(Probe):
    items: Any = None


class _Offload(Probe):
    events: Any = None


class _SureJob(WinRaw):
    Name: str
    Enabled: bool = True
    LastResult: int | str | None = None
    LastRun: Any = None
    LinkedJobs: Names = None


class _Sure(Probe):
    cmdlet: str = ""
    items: Any = None


class _Veeam(Probe):
    version: str = ""
    jobs: Any = None
    jobs_total: StrictInt | None = None
    #: None: an output of a collector from before issue 15, which did not read them
    repositories: _Repositories | None = None
    copy_jobs: _CopyJobs | None = None
    offload: _Offload | None = None
    surebackup: _Sure | None = None


class _Event(WinRaw):
    Id: StrictInt
    TimeCreated: Any
    Level: int | None = None
    Message: str = ""


class _VeeamAgent(Probe):
    service: str | int | None = None
    events: Any = None


class _Wsb(Probe):
    policy_configured: bool = False
    summary: dict[str, Any] = Field(default_factory=dict)


class _Raw(WinRaw):
    schema_version: StrictInt = Field(alias="schema")
    collector: str
    hostname: str
    collected_at: Any
    veeam: _Veeam
    veeam_agent: _VeeamAgent
    wsb: _Wsb


@dataclass(frozen=True)
class Job:
    name: str
    job_type: str | None
    enabled: bool
    result: str | None  # None: never ran
    state: str | None
    created: datetime | None
    ended: datetime | None
    raw: _Job | None = None  # what the collector read beyond the last session (retention, repository, points)


@dataclass(frozen=True)
class AgentRun:
    job: str
    result: str
    finished: datetime
    message: str


@dataclass
class Parsed:
    collected_at: datetime
    veeam: _Veeam
    jobs: list[Job]
    agent: _VeeamAgent
    agent_runs: list[AgentRun]
    wsb: _Wsb
    #: per product, where what was read disagrees with itself: that product is not judged (``error``)
    problems: dict[str, list[str]] = field(default_factory=dict)


def _when(value: Any, field: str) -> datetime | None:
    """A date, or None when unset: null, DateTime.MinValue (0001) or Veeam's 1900-01-01 'not yet'."""
    if value in (None, ""):
        return None
    parsed = ps_datetime(value, field)
    return None if parsed.year <= 1900 else parsed


def _validate(model: type[WinRaw], item: Any, where: str) -> Any:
    try:
        return model.model_validate(item)
    except ValidationError as exc:
        raise EvaluatorError(f"{KIND}: {where}: {describe(exc)}") from exc


def parse_raw(raw: Any) -> Parsed:
    """Check the collector JSON's shape; every error names the evaluator and the field."""
    return with_kind(KIND, _parse_raw, raw)


def _parse_raw(raw: Any) -> Parsed:
    data = unwrap_output(raw, KIND)
    if "collector" in data and data["collector"] != KIND:
        raise EvaluatorError(f"{KIND}: raw data comes from collector {data['collector']!r}, not {KIND!r}")
    parsed = _validate(_Raw, data, "raw data has the wrong shape")
    assert isinstance(parsed, _Raw)
    if parsed.schema_version != SCHEMA:
        raise EvaluatorError(
            f"{KIND}: raw data schema {parsed.schema_version} is not supported (expected {SCHEMA}); "
            "update the collector and the runner together"
        )
    if parsed.collector != KIND:
        raise EvaluatorError(f"{KIND}: raw data comes from collector {parsed.collector!r}, not {KIND!r}")
    jobs: list[Job] = []
    if parsed.veeam.available:
        for i, item in enumerate(as_list(parsed.veeam.jobs)):
            where = f"veeam.jobs.{i}"
            job = _validate(_Job, item, where)
            s = job.last_session
            jobs.append(
                Job(
                    name=job.Name,
                    job_type=None if job.JobType is None else str(job.JobType),
                    enabled=job.IsScheduleEnabled,
                    result=None
                    if s is None
                    else enum_name(s.Result, VEEAM_RESULT, f"{where}.last_session.Result"),
                    state=None
                    if s is None
                    else enum_name(s.State, VEEAM_STATE, f"{where}.last_session.State"),
                    created=None
                    if s is None
                    else _when(s.CreationTime, f"{where}.last_session.CreationTime"),
                    ended=None if s is None else _when(s.EndTime, f"{where}.last_session.EndTime"),
                    raw=job,
                )
            )
    problems: dict[str, list[str]] = {"veeam": [], "veeam_agent": [], "wsb": []}
    if parsed.veeam.available:
        for j in jobs:
            if j.state == "Stopped" and j.result in ("Success", "Warning", "Failed") and j.ended is None:
                problems["veeam"].append(f"{j.name}: a stopped session with result {j.result} has no EndTime")
            if j.created is not None and j.ended is not None and j.ended < j.created:
                problems["veeam"].append(
                    f"{j.name}: the last session ended ({j.ended.isoformat()}) before it was created "
                    f"({j.created.isoformat()})"
                )
    runs: list[AgentRun] = []
    if parsed.veeam_agent.available:
        for i, item in enumerate(as_list(parsed.veeam_agent.events)):
            where = f"veeam_agent.events.{i}"
            event = _validate(_Event, item, where)
            if event.Id != VAW_FINISHED_EVENT:
                continue
            match = _VAW_MESSAGE.search(event.Message)
            if match and match.group("result").capitalize() in ("Success", "Warning", "Failed"):
                job, result = match.group("job"), match.group("result").capitalize()
                # level 0 (LogAlways) says nothing about the result
                by_level = EVENT_LEVEL_RESULT.get(event.Level) if event.Level else None
                if by_level is not None and by_level != result:
                    problems["veeam_agent"].append(
                        f"{where}: the message says {result} but the event level {event.Level} means "
                        f"{by_level}"
                    )
            elif event.Level is not None and event.Level in EVENT_LEVEL_RESULT:
                job, result = (match.group("job") if match else "(unnamed)"), EVENT_LEVEL_RESULT[event.Level]
            else:
                raise EvaluatorError(
                    f"{KIND}: {where}: event 190 without a result in its message or a known level: "
                    f"{event.Message[:120]!r}"
                )
            finished = ps_datetime(event.TimeCreated, f"{where}.TimeCreated")
            runs.append(
                AgentRun(
                    job, result, finished, event.Message.strip().splitlines()[0] if event.Message else ""
                )
            )
    if parsed.wsb.available:
        summary = parsed.wsb.summary
        last = _when(summary.get("LastBackupTime"), "wsb.summary.LastBackupTime")
        last_ok = _when(summary.get("LastSuccessfulBackupTime"), "wsb.summary.LastSuccessfulBackupTime")
        if last is not None and last_ok is not None and (last_ok - last).total_seconds() > 60:
            problems["wsb"].append("LastSuccessfulBackupTime is after LastBackupTime")
        succeeded = summary.get("LastBackupResultHR") == 0
        if succeeded and last is not None and (last_ok is None or abs((last - last_ok).total_seconds()) > 60):
            problems["wsb"].append(
                "LastBackupResultHR is 0 (the last backup succeeded) but LastSuccessfulBackupTime "
                f"({_iso(last_ok)}) is not LastBackupTime ({_iso(last)})"
            )
    return Parsed(
        collected_at=ps_datetime(parsed.collected_at, "collected_at"),
        veeam=parsed.veeam,
        jobs=jobs,
        agent=parsed.veeam_agent,
        agent_runs=runs,
        wsb=parsed.wsb,
        problems={k: v for k, v in problems.items() if v},
    )


def _untrusted(p: Parsed, product: str, controls: Sequence[Control]) -> list[Finding] | None:
    """``error`` for every control of a product whose reading disagrees with itself (None when it agrees)."""
    problems = p.problems.get(product)
    if not problems:
        return None
    reason = "; ".join(problems)
    return [
        c.finding(
            Status.ERROR,
            {"reason": reason},
            remediation=f"Not judged: {reason}. Compare with the product's own console or log on the host.",
        )
        for c in controls
    ]


def parse_thresholds(thresholds: Mapping[str, Any]) -> Thresholds:
    return validate_thresholds(Thresholds, thresholds, kind=KIND)


# ---------------------------------------------------------------- judgements


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hours(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else round((now - then).total_seconds() / 3600, 1)


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name.lower(), p.lower()) for p in patterns)


def _job_row(job: Job, now: datetime) -> dict[str, Any]:
    return {
        "job": job.name,
        "result": job.result,
        "state": job.state,
        "end_time": _iso(job.ended),
        "age_hours": _hours(now, job.ended),
    }


def _veeam_unavailable(p: Parsed) -> list[Finding] | None:
    if p.veeam.available:
        return None
    return [
        not_checked(c, p.veeam.reason or "Veeam not found")
        for c in (VEEAM_RESULT_OK, VEEAM_RECENT, VEEAM_DISABLED)
    ]


def _judge_veeam(p: Parsed, th: Thresholds) -> list[Finding]:
    missing = _veeam_unavailable(p)
    if missing is not None:
        return missing
    untrusted = _untrusted(p, "veeam", (VEEAM_RESULT_OK, VEEAM_RECENT, VEEAM_DISABLED))
    if untrusted is not None:
        return untrusted
    now = p.collected_at
    ignored = [j.name for j in p.jobs if _matches(j.name, th.veeam_ignore_jobs)]
    jobs = [j for j in p.jobs if j.name not in ignored]
    enabled = [j for j in jobs if j.enabled]
    disabled = [j for j in jobs if not j.enabled]
    base: dict[str, Any] = {"veeam_version": p.veeam.version or None, "jobs_checked": len(enabled)}
    if ignored:
        base["ignored_jobs"] = ignored
    if disabled:
        base["disabled_jobs"] = [j.name for j in disabled]

    # BKP-VEEAM-01: last result per enabled job
    if not enabled:
        result_finding = not_checked(
            VEEAM_RESULT_OK,
            "Veeam Backup & Replication has no enabled job" + (" (all ignored or disabled)" if jobs else ""),
        )
    else:
        failed = [j for j in enabled if j.result == "Failed"]
        warning = [j for j in enabled if j.result == "Warning"]
        working = [j for j in enabled if j.state not in (None, "Stopped")]
        never = [j for j in enabled if j.result is None]
        evidence = {
            **base,
            "jobs": [_job_row(j, now) for j in enabled],
            "failed": [j.name for j in failed],
            "warning": [j.name for j in warning],
            "running": [j.name for j in working],
            "never_ran": [j.name for j in never],
        }
        if failed:
            result_finding = VEEAM_RESULT_OK.finding(
                Status.FAIL,
                evidence,
                remediation=f"Failed: {', '.join(j.name for j in failed)}. {VEEAM_RESULT_OK.remediation}",
            )
        elif warning or working or never:
            notes = []
            if warning:
                notes.append(f"finished with warnings: {', '.join(j.name for j in warning)}")
            if working:
                notes.append(f"still running, result not known yet: {', '.join(j.name for j in working)}")
            if never:
                notes.append(f"never ran: {', '.join(j.name for j in never)}")
            result_finding = VEEAM_RESULT_OK.finding(
                Status.WARN,
                evidence,
                severity=Severity.MEDIUM,
                remediation="; ".join(notes)[:1].upper()
                + "; ".join(notes)[1:]
                + ". "
                + VEEAM_RESULT_OK.remediation,
            )
        else:
            result_finding = VEEAM_RESULT_OK.finding(Status.PASS, evidence, remediation="")

    # BKP-VEEAM-02: each enabled job ended a session (or started the running one) within the window
    if not enabled:
        recent_finding = not_checked(VEEAM_RECENT, "Veeam Backup & Replication has no enabled job")
    else:
        stale: list[dict[str, Any]] = []
        for j in enabled:
            running = j.state not in (None, "Stopped")
            when = j.created if running else j.ended
            age = _hours(now, when)
            if age is None or age > th.veeam_max_age_hours:
                last = "never" if j.result is None else "started" if running else "ended"
                stale.append({"job": j.name, "last": last, "age_hours": age})
        evidence = {**base, "max_age_hours": th.veeam_max_age_hours, "stale": stale}
        if stale:
            names = ", ".join(f"{s['job']} ({s['age_hours']} h)" for s in stale)
            recent_finding = VEEAM_RECENT.finding(
                Status.FAIL,
                evidence,
                remediation=f"No session within {th.veeam_max_age_hours} h: {names}. "
                + VEEAM_RECENT.remediation,
            )
        else:
            recent_finding = VEEAM_RECENT.finding(Status.PASS, evidence, remediation="")

    # BKP-VEEAM-03: disabled jobs are reported
    unexpected = [j.name for j in disabled if not _matches(j.name, th.veeam_disabled_ok)]
    evidence = {"disabled_jobs": [j.name for j in disabled], "unexpected": unexpected}
    if unexpected:
        disabled_finding = VEEAM_DISABLED.finding(
            Status.WARN,
            evidence,
            remediation=f"Disabled: {', '.join(unexpected)}. {VEEAM_DISABLED.remediation}",
        )
    else:
        disabled_finding = VEEAM_DISABLED.finding(Status.PASS, evidence, remediation="")
    return [result_finding, recent_finding, disabled_finding]


def _judge_agent(p: Parsed, th: Thresholds) -> list[Finding]:
    if not p.agent.available:
        reason = p.agent.reason or "Veeam Agent for Windows not found"
        return [not_checked(VAW_RESULT_OK, reason), not_checked(VAW_RECENT, reason)]
    untrusted = _untrusted(p, "veeam_agent", (VAW_RESULT_OK, VAW_RECENT))
    if untrusted is not None:
        return untrusted
    now = p.collected_at
    latest: dict[str, AgentRun] = {}
    for run in sorted(p.agent_runs, key=lambda r: r.finished):
        latest[run.job] = run
    rows = [
        {"job": r.job, "result": r.result, "finished": _iso(r.finished), "age_hours": _hours(now, r.finished)}
        for r in sorted(latest.values(), key=lambda r: r.job)
    ]
    base: dict[str, Any] = {
        "source": "event log 'Veeam Agent', event 190",
        "service": None
        if p.agent.service is None
        else enum_name(p.agent.service, SERVICE_STATUS, "veeam_agent.service"),
        "jobs": rows,
    }
    if not latest:
        reason = f"no event {VAW_FINISHED_EVENT} (job finished) in the 'Veeam Agent' log within the window"
        return [
            VAW_RESULT_OK.finding(Status.FAIL, base, remediation=f"{reason}. {VAW_RESULT_OK.remediation}"),
            VAW_RECENT.finding(
                Status.FAIL,
                {**base, "max_age_hours": th.vaw_max_age_hours},
                remediation=f"{reason}. {VAW_RECENT.remediation}",
            ),
        ]
    failed = [r.job for r in latest.values() if r.result == "Failed"]
    warning = [r.job for r in latest.values() if r.result == "Warning"]
    if failed:
        result = VAW_RESULT_OK.finding(
            Status.FAIL, base, remediation=f"Failed: {', '.join(sorted(failed))}. {VAW_RESULT_OK.remediation}"
        )
    elif warning:
        result = VAW_RESULT_OK.finding(
            Status.WARN,
            base,
            severity=Severity.MEDIUM,
            remediation=f"Finished with warnings: {', '.join(sorted(warning))}. {VAW_RESULT_OK.remediation}",
        )
    else:
        result = VAW_RESULT_OK.finding(Status.PASS, base, remediation="")
    stale = [
        r.job
        for r in sorted(latest.values(), key=lambda r: r.job)
        if (p.collected_at - r.finished).total_seconds() > th.vaw_max_age_hours * 3600
    ]
    evidence = {**base, "max_age_hours": th.vaw_max_age_hours, "stale": stale}
    if stale:
        recent = VAW_RECENT.finding(
            Status.FAIL,
            evidence,
            remediation=f"Nothing finished within {th.vaw_max_age_hours} h: {', '.join(stale)}. "
            + VAW_RECENT.remediation,
        )
    else:
        recent = VAW_RECENT.finding(Status.PASS, evidence, remediation="")
    return [result, recent]


def _hresult(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise EvaluatorError(
            f"{KIND}: wsb.summary.LastBackupResultHR: expected an integer HRESULT, got {value!r}"
        )
    return f"0x{value & 0xFFFFFFFF:08X}"


def _judge_wsb(p: Parsed, th: Thresholds) -> list[Finding]:
    wsb = p.wsb
    if not wsb.available:
        reason = wsb.reason or "Windows Server Backup not installed"
        return [not_checked(c, reason) for c in (WSB_RESULT_OK, WSB_RECENT, WSB_SCHEDULED)]
    untrusted = _untrusted(p, "wsb", (WSB_RESULT_OK, WSB_RECENT, WSB_SCHEDULED))
    if untrusted is not None:
        return untrusted
    s = wsb.summary
    now = p.collected_at
    last = _when(s.get("LastBackupTime"), "wsb.summary.LastBackupTime")
    last_ok = _when(s.get("LastSuccessfulBackupTime"), "wsb.summary.LastSuccessfulBackupTime")
    nxt = _when(s.get("NextBackupTime"), "wsb.summary.NextBackupTime")
    hr = _hresult(s.get("LastBackupResultHR"))
    detailed = _hresult(s.get("LastBackupResultDetailedHR"))
    if not wsb.policy_configured and last is None:
        reason = "Windows Server Backup is installed but has no backup policy and has never run a backup"
        return [not_checked(c, reason) for c in (WSB_RESULT_OK, WSB_RECENT, WSB_SCHEDULED)]
    evidence: dict[str, Any] = {
        "last_backup": _iso(last),
        "last_result_hr": hr,
        "last_result_detailed_hr": detailed,
        "last_successful_backup": _iso(last_ok),
        "versions": s.get("NumberOfVersions"),
        "target": s.get("LastBackupTarget"),
    }
    message = str(s.get("DetailedMessage") or "").strip()
    if message:
        evidence["detailed_message"] = message
    if last is None:
        result = WSB_RESULT_OK.finding(
            Status.FAIL,
            evidence,
            remediation=f"A policy exists but no backup ever ran. {WSB_RESULT_OK.remediation}",
        )
    elif hr != "0x00000000":
        result = WSB_RESULT_OK.finding(
            Status.FAIL,
            evidence,
            remediation=f"Last backup ended with HRESULT {hr}. {WSB_RESULT_OK.remediation}",
        )
    else:
        result = WSB_RESULT_OK.finding(Status.PASS, evidence, remediation="")
    age = _hours(now, last_ok)
    recent_evidence = {
        "last_successful_backup": _iso(last_ok),
        "age_hours": age,
        "max_age_hours": th.wsb_max_age_hours,
    }
    if age is None or age > th.wsb_max_age_hours:
        what = "never" if age is None else f"{age} h ago"
        recent = WSB_RECENT.finding(
            Status.FAIL,
            recent_evidence,
            remediation=f"Last successful backup: {what}. {WSB_RECENT.remediation}",
        )
    else:
        recent = WSB_RECENT.finding(Status.PASS, recent_evidence, remediation="")
    sched_evidence = {"next_backup": _iso(nxt), "policy_configured": wsb.policy_configured}
    if nxt is None or nxt < now:
        scheduled = WSB_SCHEDULED.finding(Status.WARN, sched_evidence)
    else:
        scheduled = WSB_SCHEDULED.finding(Status.PASS, sched_evidence, remediation="")
    return [result, recent, scheduled]


# ---------------------------------------------------------------- Veeam depth (issue 15): BKP-VEEAM-04..07

#: job types of backup copy jobs (Get-VBRJob JobType: BackupSync = 51 before v12, the v12 copy policies)
COPY_JOB_TYPES = frozenset({"backupsync", "51", "simplebackupcopypolicy", "simplebackupcopyworker"})
#: a row's status from its jobs' statuses: the worst judged one (the report's order)
_WORST_FIRST = (Status.FAIL, Status.ERROR, Status.WARN, Status.PASS)
_OFFLOAD_EVENT = 40002
_OFFLOAD_MESSAGE = re.compile(r"for repository (?P<repo>.+?) has finished:\s*(?P<result>\w+)", re.IGNORECASE)


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _entry(job: str, status: Status, reason: str | None = None, /, **more: Any) -> dict[str, Any]:
    return {"job": job, "status": status.value, "reason": reason, **more}


def _worst(entries: Sequence[Mapping[str, Any]], key: str = "status") -> Status | None:
    """The worst judged status of ``entries`` (not_checked ones judge nothing), None when none was judged."""
    found = {Status(e[key]) for e in entries}
    return next((status for status in _WORST_FIRST if status in found), None)


def _row(
    control: Control,
    entries: list[dict[str, Any]],
    evidence: dict[str, Any],
    nothing: str,
    extra: Sequence[Mapping[str, Any]] = (),
) -> Finding:
    """A row from its per-job entries (and ``extra`` entries, e.g. repositories): the worst judged status;
    ``not_checked`` with ``nothing`` (or the entries' own reasons) when no entry was judged."""
    status = _worst([*entries, *extra])
    evidence = {**evidence, "jobs": entries}
    if status is None:
        reasons = sorted({str(e["reason"]) for e in [*entries, *extra] if e.get("reason")})
        reason = nothing if not reasons else f"{nothing}: {'; '.join(reasons)}"
        return control.finding(
            Status.NOT_CHECKED,
            {**evidence, "reason": reason},
            remediation=f"Could not check: {reason}. Fix the cause if this host should support the check; if "
            f"it never can, waive {control.control} for this host.",
        )
    if status is Status.PASS:
        return control.finding(Status.PASS, evidence, remediation="")
    bad = [e for e in [*entries, *extra] if e["status"] == status.value]
    named = "; ".join(
        f"{e.get('job') or e.get('repository')}: {e['reason']}" if e.get("reason") else str(e.get("job"))
        for e in bad
    )
    if status is Status.ERROR:
        return control.finding(
            Status.ERROR,
            {**evidence, "reason": named},
            remediation=f"Not judged: {named}. Compare with the Veeam console on the host.",
        )
    severity = Severity.MEDIUM if status is Status.WARN and control.severity is Severity.HIGH else None
    return control.finding(
        status,
        evidence,
        **({"severity": severity} if severity is not None else {}),
        remediation=f"{named}. {control.remediation}",
    )


def _missing(p: Parsed, part: str, probe: Probe | None) -> str | None:
    """Why a Veeam sub-probe cannot be judged (None when it can)."""
    if probe is None:
        return f"{part} not collected (an output of a collector older than this runner)"
    if not probe.available:
        return probe.reason or f"{part} not available"
    return None


def _is_copy_job(job: Job, copy_names: set[str]) -> bool:
    return (job.job_type or "").lower() in COPY_JOB_TYPES or job.name.lower() in copy_names


def _items(model: type[WinRaw], value: Any, where: str) -> list[Any]:
    return [_validate(model, item, f"{where}.{i}") for i, item in enumerate(as_list(value))]


def _retention_entry(job: Job, now: datetime, th: Thresholds) -> dict[str, Any]:
    raw = job.raw
    where = f"veeam.jobs[{job.name}]"
    if raw is None or raw.retention is None:
        reason = (raw.retention_reason if raw is not None else "") or "retention not collected"
        return _entry(job.name, Status.NOT_CHECKED, reason)
    points = raw.restore_points
    if points is None or not points.available:
        reason = (points.reason if points is not None else "") or "restore points not collected"
        return _entry(job.name, Status.NOT_CHECKED, reason)
    kind = (raw.retention.RetentionType or "").lower()
    tolerance = th.retention_tolerance_pct
    objects = _items(_PointObject, points.objects, f"{where}.restore_points.objects")
    base: dict[str, Any] = {"retention_type": raw.retention.RetentionType, "objects": len(objects)}
    if kind == "cycles":
        configured, unit = raw.retention.RetainCycles, "points"
    elif kind == "days":
        configured, unit = raw.retention.RetainDaysToKeep, "days"
    else:
        return _entry(
            job.name,
            Status.ERROR,
            f"retention type {raw.retention.RetentionType!r} is neither Cycles nor Days",
            **base,
        )
    if configured is None or configured < 1:
        return _entry(job.name, Status.ERROR, f"retention of {configured!r} {unit} is not a depth", **base)
    base.update({"configured": configured, "unit": unit})
    if not objects:
        why = points.reason or "no restore point"
        return _entry(job.name, Status.FAIL, f"{why}: 0 of {configured} {unit} kept", kept=0, **base)
    depths: list[tuple[float, str]] = []
    for obj in objects:
        oldest = _when(obj.Oldest, f"{where}.restore_points.objects[{obj.Name}].Oldest")
        newest = _when(obj.Newest, f"{where}.restore_points.objects[{obj.Name}].Newest")
        if obj.Count < 1 or oldest is None or newest is None or newest < oldest:
            return _entry(
                job.name,
                Status.ERROR,
                f"{obj.Name}: {obj.Count} restore points from {_iso(oldest)} to {_iso(newest)} do not agree",
                **base,
            )
        depth = float(obj.Count) if unit == "points" else round((now - oldest).total_seconds() / 86400, 1)
        depths.append((depth, obj.Name))
    kept, shortest = min(depths)
    need = configured * (100 - tolerance) / 100
    more = {**base, "kept": int(kept) if unit == "points" else kept, "shortest_object": shortest}
    if kept + 1e-9 < need:
        return _entry(
            job.name, Status.FAIL, f"{shortest} keeps {more['kept']} of {configured} {unit}", **more
        )
    return _entry(job.name, Status.PASS, **more)


def _judge_retention(p: Parsed, jobs: list[Job], th: Thresholds) -> Finding:
    entries = [_retention_entry(j, p.collected_at, th) for j in jobs]
    return _row(
        VEEAM_RETENTION,
        entries,
        {"tolerance_pct": th.retention_tolerance_pct},
        "no enabled Veeam job with a readable retention and restore points",
    )


@dataclass(frozen=True)
class _Repo:
    name: str
    ids: frozenset[str]
    kind: str  # simple | scale_out
    free: int | None
    total: int | None
    extents: tuple[str, ...] = ()


def _repositories(probe: _Repositories) -> tuple[list[_Repo], list[_ScaleOut]]:
    items = _items(_Repository, probe.items, "veeam.repositories.items")
    sobrs = _items(_ScaleOut, probe.scale_out, "veeam.repositories.scale_out")
    repos = [
        _Repo(r.Name, frozenset({r.Id} - {""}), "simple", r.FreeBytes, r.TotalBytes)
        for r in items
        if not r.ScaleOut
    ]
    for s in sobrs:
        extents = [r for r in items if r.ScaleOut == s.Name]
        known = [r for r in extents if r.TotalBytes and r.FreeBytes is not None]
        free = sum(r.FreeBytes or 0 for r in known) if known else None
        total = sum(r.TotalBytes or 0 for r in known) if known else None
        repos.append(
            _Repo(s.Name, frozenset({s.Id} - {""}), "scale_out", free, total, tuple(_names(s.Extents)))
        )
    return repos, sobrs


def _find_repo(repos: Sequence[_Repo], ref: _RepositoryRef | None) -> _Repo | None:
    if ref is None:
        return None
    by_id = [r for r in repos if ref.Id and ref.Id in r.ids]
    by_name = [r for r in repos if ref.Name and r.name.lower() == ref.Name.lower()]
    found = by_id or by_name
    return found[0] if found else None


def _repository_entry(repo: _Repo, th: Thresholds) -> dict[str, Any]:
    base: dict[str, Any] = {
        "repository": repo.name,
        "kind": repo.kind,
        "free_bytes": repo.free,
        "total_bytes": repo.total,
        "free_pct": None,
    }
    if repo.extents:
        base["extents"] = list(repo.extents)
    if not repo.total or repo.free is None:
        return {**base, "status": Status.NOT_CHECKED.value, "reason": "Veeam reports no size for it"}
    if repo.free > repo.total or repo.free < 0:
        return {
            **base,
            "status": Status.ERROR.value,
            "reason": f"free space {repo.free} B is not within its size {repo.total} B",
        }
    pct = round(repo.free * 100 / repo.total, 1)
    base["free_pct"] = pct
    if pct < th.repository_free_fail_pct:
        return {**base, "status": Status.FAIL.value, "reason": f"{pct} % free"}
    if pct < th.repository_free_warn_pct:
        return {**base, "status": Status.WARN.value, "reason": f"{pct} % free"}
    return {**base, "status": Status.PASS.value, "reason": None}


def _judge_repositories(p: Parsed, jobs: list[Job], th: Thresholds) -> Finding:
    why = _missing(p, "Veeam repositories", p.veeam.repositories)
    if why is not None:
        return not_checked(VEEAM_REPOSITORY, why)
    assert p.veeam.repositories is not None
    repos, _ = _repositories(p.veeam.repositories)
    rows = [_repository_entry(r, th) for r in repos]
    by_name = {row["repository"]: row for row in rows}
    entries = []
    for j in jobs:
        repo = _find_repo(repos, j.raw.repository if j.raw is not None else None)
        if repo is None:
            # the job's entry says where it writes; the repositories themselves are judged in `repositories`
            entries.append(_entry(j.name, Status.NOT_CHECKED, "target repository not known", repository=None))
            continue
        row = by_name[repo.name]
        entries.append(
            _entry(
                j.name, Status(row["status"]), row["reason"], repository=repo.name, free_pct=row["free_pct"]
            )
        )
    finding = _row(
        VEEAM_REPOSITORY,
        entries,
        {
            "repositories": rows,
            "free_warn_pct": th.repository_free_warn_pct,
            "free_fail_pct": th.repository_free_fail_pct,
        },
        "no Veeam repository reports its size",
        extra=rows,
    )
    return finding


def _session_outcome(
    result: str | None,
    started: datetime | None,
    ended: datetime | None,
    running: bool,
    now: datetime,
    max_h: int,
) -> tuple[Status, str | None, datetime | None]:
    """(status, reason, last run) of a copy's last session."""
    when = started if running else ended
    age = _hours(now, when)
    if result in (None, "None") and not running:
        return Status.FAIL, "never ran", when
    if age is None or age > max_h:
        return (
            Status.FAIL,
            f"last session {'started' if running else 'ended'} {age} h ago (over {max_h} h)",
            when,
        )
    if running:
        return Status.PASS, None, when
    if result == "Failed":
        return Status.FAIL, "last session Failed", when
    if result == "Warning":
        return Status.WARN, "last session finished with Warning", when
    return Status.PASS, None, when


def _offload_results(probe: _Offload | None) -> dict[str, tuple[str, datetime]] | None:
    """The newest offload result per scale-out repository (lowercased name), None when not readable."""
    if probe is None or not probe.available:
        return None
    newest: dict[str, tuple[str, datetime]] = {}
    for i, event in enumerate(_items(_Event, probe.events, "veeam.offload.events")):
        if event.Id != _OFFLOAD_EVENT:
            continue
        match = _OFFLOAD_MESSAGE.search(event.Message)
        if match is None:
            raise EvaluatorError(
                f"{KIND}: veeam.offload.events.{i}: event {_OFFLOAD_EVENT} without a repository and result: "
                f"{event.Message[:120]!r}"
            )
        when = ps_datetime(event.TimeCreated, f"veeam.offload.events.{i}.TimeCreated")
        repo, result = match.group("repo").strip().lower(), match.group("result").capitalize()
        if repo not in newest or newest[repo][1] < when:
            newest[repo] = (result, when)
    return newest


def _judge_copies(p: Parsed, jobs: list[Job], copy_names: set[str], th: Thresholds) -> Finding:
    now = p.collected_at
    copies_why = _missing(p, "Veeam backup copy jobs", p.veeam.copy_jobs)
    repos_why = _missing(p, "Veeam repositories", p.veeam.repositories)
    if copies_why is not None and repos_why is not None:
        return not_checked(
            VEEAM_COPY, copies_why if copies_why == repos_why else f"{copies_why}; {repos_why}"
        )
    copy_jobs: list[_CopyJob] = []
    if copies_why is None:
        assert p.veeam.copy_jobs is not None
        copy_jobs = _items(_CopyJob, p.veeam.copy_jobs.items, "veeam.copy_jobs.items")
    repos: list[_Repo] = []
    sobrs: dict[str, _ScaleOut] = {}
    if repos_why is None:
        assert p.veeam.repositories is not None
        repos, sobr_list = _repositories(p.veeam.repositories)
        sobrs = {s.Name: s for s in sobr_list}
    offload = _offload_results(p.veeam.offload)
    primary = [j for j in jobs if not _is_copy_job(j, copy_names)]
    entries: list[dict[str, Any]] = []
    copies: list[dict[str, Any]] = []
    reason: str | None
    for j in primary:
        repo = _find_repo(repos, j.raw.repository if j.raw is not None else None)
        own = (
            repo.name if repo is not None else (j.raw.repository.Name if j.raw and j.raw.repository else None)
        )
        found: list[dict[str, Any]] = []
        for c in copy_jobs:
            if not c.Enabled or j.name.lower() not in {n.lower() for n in _names(c.SourceJobs)}:
                continue
            s = c.last_session
            result = (
                enum_name(s.Result, VEEAM_RESULT, f"veeam.copy_jobs[{c.Name}].last_session.Result")
                if s is not None
                else None
                if c.LastResult in (None, "")
                else enum_name(c.LastResult, VEEAM_RESULT, f"veeam.copy_jobs[{c.Name}].LastResult")
            )
            state = (
                enum_name(s.State, VEEAM_STATE, f"veeam.copy_jobs[{c.Name}].last_session.State")
                if s
                else None
            )
            started = _when(s.CreationTime, f"veeam.copy_jobs[{c.Name}].CreationTime") if s else None
            ended = _when(s.EndTime, f"veeam.copy_jobs[{c.Name}].EndTime") if s else None
            if own is not None and c.Target.lower() == own.lower():
                status, reason, last = Status.FAIL, f"copies into the job's own repository {own}", ended
            elif s is None:
                status, reason, last = Status.WARN, "last session not known", None
                if result in (None, "None"):
                    status, reason = Status.FAIL, "never ran"
            else:
                status, reason, last = _session_outcome(
                    result, started, ended, state not in (None, "Stopped"), now, th.copy_max_age_hours
                )
            found.append(
                {
                    "job": j.name,
                    "copy": c.Name,
                    "target_repository": c.Target or None,
                    "kind": "backup_copy",
                    "last_result": result,
                    "last_run": _iso(last),
                    "status": status.value,
                    "reason": reason,
                }
            )
        sobr = sobrs.get(repo.name) if repo is not None and repo.kind == "scale_out" else None
        if sobr is not None and sobr.CapacityTier:
            event = None if offload is None else offload.get(sobr.Name.lower())
            if sobr.CapacityTierCopy is False:
                status, reason = Status.WARN, "capacity tier in move mode only: recent points stay on site"
            elif offload is None:
                status = Status.WARN
                reason = "last offload result not known: " + (
                    (p.veeam.offload.reason if p.veeam.offload else "") or "offload events not collected"
                )
            elif event is None:
                status, reason = Status.WARN, f"no offload event {_OFFLOAD_EVENT} for {sobr.Name}"
            else:
                status, reason, _ = _session_outcome(
                    event[0], None, event[1], False, now, th.copy_max_age_hours
                )
                if sobr.CapacityTierCopy is None and status is Status.PASS:
                    status, reason = Status.WARN, "offload succeeded, copy mode not known"
            found.append(
                {
                    "job": j.name,
                    "copy": f"{sobr.Name} capacity tier",
                    "target_repository": sobr.CapacityTier,
                    "kind": "capacity_tier",
                    "last_result": event[0] if event else None,
                    "last_run": _iso(event[1]) if event else None,
                    "status": status.value,
                    "reason": reason,
                }
            )
        if sobr is not None and sobr.ArchiveTier:
            found.append(
                {
                    "job": j.name,
                    "copy": f"{sobr.Name} archive tier",
                    "target_repository": sobr.ArchiveTier,
                    "kind": "archive_tier",
                    "last_result": None,
                    "last_run": None,
                    "status": Status.WARN.value,
                    "reason": "archive tier: only GFS fulls older than the archive period",
                }
            )
        copies.extend(found)
        names = [c["copy"] for c in found]
        if not found:
            if copies_why is not None:
                entries.append(_entry(j.name, Status.NOT_CHECKED, copies_why, repository=own, copies=names))
            else:
                entries.append(
                    _entry(j.name, Status.FAIL, "no copy in another repository", repository=own, copies=names)
                )
            continue
        # the job is as well protected as its best copy
        best = next(
            s
            for s in (Status.PASS, Status.WARN, Status.ERROR, Status.FAIL)
            if s.value in {c["status"] for c in found}
        )
        reason = None if best is Status.PASS else "; ".join(f"{c['copy']}: {c['reason']}" for c in found)
        entries.append(_entry(j.name, best, reason, repository=own, copies=names))
    return _row(
        VEEAM_COPY,
        entries,
        {"copies": copies, "max_age_hours": th.copy_max_age_hours},
        "no enabled Veeam backup job",
    )


def _judge_verification(p: Parsed, th: Thresholds) -> Finding:
    why = _missing(p, "SureBackup jobs", p.veeam.surebackup)
    if why is not None:
        return not_checked(VEEAM_VERIFY, why)
    assert p.veeam.surebackup is not None
    now = p.collected_at
    items = [
        sb
        for sb in _items(_SureJob, p.veeam.surebackup.items, "veeam.surebackup.items")
        if not _matches(sb.Name, th.veeam_ignore_jobs)
    ]
    entries = []
    for sb in items:
        where = f"veeam.surebackup.items[{sb.Name}]"
        result = (
            None
            if sb.LastResult in (None, "")
            else enum_name(sb.LastResult, VEEAM_RESULT, f"{where}.LastResult")
        )
        last = _when(sb.LastRun, f"{where}.LastRun")
        age = None if last is None else round((now - last).total_seconds() / 86400, 1)
        more = {
            "last_result": result,
            "last_run": _iso(last),
            "age_days": age,
            "verifies": _names(sb.LinkedJobs),
        }
        if not sb.Enabled:
            entries.append(_entry(sb.Name, Status.NOT_CHECKED, "disabled", **more))
        elif last is None or result in (None, "None"):
            entries.append(_entry(sb.Name, Status.FAIL, "never ran", **more))
        elif age is not None and age > th.verification_max_age_days:
            entries.append(
                _entry(
                    sb.Name,
                    Status.FAIL,
                    f"last run {age} days ago (over {th.verification_max_age_days})",
                    **more,
                )
            )
        elif result == "Failed":
            entries.append(_entry(sb.Name, Status.FAIL, "last run Failed", **more))
        elif result == "Warning":
            entries.append(_entry(sb.Name, Status.WARN, "last run finished with Warning", **more))
        else:
            entries.append(_entry(sb.Name, Status.PASS, **more))
    evidence = {"max_age_days": th.verification_max_age_days, "cmdlet": p.veeam.surebackup.cmdlet or None}
    if not any(e["reason"] != "disabled" for e in entries):
        reason = "no SureBackup job" if not entries else "no enabled SureBackup job"
        return VEEAM_VERIFY.finding(
            Status.WARN,
            {**evidence, "jobs": entries, "reason": reason},
            remediation=f"{reason}: restores are never verified. {VEEAM_VERIFY.remediation}",
        )
    return _row(VEEAM_VERIFY, entries, evidence, "no enabled SureBackup job")


def _judge_veeam_depth(p: Parsed, th: Thresholds) -> list[Finding]:
    """BKP-VEEAM-04..07; the sub-probes' items are validated here, every error naming the evaluator."""
    return with_kind(KIND, lambda parsed: _judge_depth(parsed, th), p)


def _judge_depth(p: Parsed, th: Thresholds) -> list[Finding]:
    if not p.veeam.available:
        return [not_checked(c, p.veeam.reason or "Veeam not found") for c in VEEAM_DEPTH]
    untrusted = _untrusted(p, "veeam", VEEAM_DEPTH)
    if untrusted is not None:
        return untrusted
    copy_names = set()
    if p.veeam.copy_jobs is not None and p.veeam.copy_jobs.available:
        copy_names = {
            c.Name.lower() for c in _items(_CopyJob, p.veeam.copy_jobs.items, "veeam.copy_jobs.items")
        }
    jobs = [j for j in p.jobs if j.enabled and not _matches(j.name, th.veeam_ignore_jobs)]
    findings = [
        _judge_retention(p, jobs, th),
        _judge_repositories(p, jobs, th),
        _judge_copies(p, jobs, copy_names, th),
        _judge_verification(p, th),
    ]
    total = p.veeam.jobs_total
    if total is not None and total > len(p.jobs):
        note = f"{total - len(p.jobs)} of {total} jobs not read (veeam_max_jobs)"
        findings = [
            f.model_copy(update={"evidence": {**f.evidence, "jobs_left_out": note}})
            if hasattr(f, "model_copy")
            else f
            for f in findings
        ]
    return findings


@evaluator(KIND, role=ROLE, controls=CONTROLS, defaults=DEFAULTS)
def evaluate_windows_backup(raw: Any, thresholds: Mapping[str, Any]) -> list[Finding]:
    """Windows backup: Veeam B&R jobs, Veeam Agent sessions, Windows Server Backup, whichever is present."""
    th = parse_thresholds(thresholds)
    p = parse_raw(raw)
    findings = [*_judge_veeam(p, th), *_judge_veeam_depth(p, th), *_judge_agent(p, th), *_judge_wsb(p, th)]
    return [_skip(f, th.skip_controls) for f in findings]


def _skip(finding: Finding, skip: Sequence[str]) -> Finding:
    if finding.control not in skip:
        return finding
    return skipped(next(c for c in CONTROLS if c.control == finding.control), ROLE)
