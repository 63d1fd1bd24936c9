"""Judge the windows_backup collector's JSON: controls BKP-VEEAM-01..03, BKP-VAW-01..02, BKP-WSB-01..03.

Sources the collector reads (``roles/windows_backup/files/collect_backup.ps1``), whichever is present:

- ``veeam``: Veeam Backup & Replication through its PowerShell module (``Veeam.Backup.PowerShell``, or the
  ``VeeamPSSnapIn`` snap-in before v11): ``Get-VBRJob`` and each job's ``FindLastSession()`` (a
  ``CBackupSession``: ``Result`` None/Success/Warning/Failed, ``State`` Stopped/Working/...,
  ``CreationTime``, ``EndTime``). On Windows PowerShell 5.1 ``ConvertTo-Json`` writes ``Result`` and ``State``
  as numbers: the tables below are Veeam's (job result IDs 0 Success, 1 Warning, 2 Failed as documented for
  event 190, -1 None; session states as stored in the configuration database). A running session's
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
VAW_RESULT_OK = _CATALOGUE.control("BKP-VAW-01").as_control()
VAW_RECENT = _CATALOGUE.control("BKP-VAW-02").as_control()
WSB_RESULT_OK = _CATALOGUE.control("BKP-WSB-01").as_control()
WSB_RECENT = _CATALOGUE.control("BKP-WSB-02").as_control()
WSB_SCHEDULED = _CATALOGUE.control("BKP-WSB-03").as_control()
CONTROLS: tuple[Control, ...] = (
    VEEAM_RESULT_OK,
    VEEAM_RECENT,
    VEEAM_DISABLED,
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
    skip_controls: list[StrictStr]

    @model_validator(mode="after")
    def _known(self) -> Self:
        check_known_controls(self.skip_controls, CONTROL_IDS)
        return self


# ---------------------------------------------------------------- raw data shape


class _Session(WinRaw):
    Result: int | str
    State: int | str
    CreationTime: Any = None
    EndTime: Any = None


class _Job(WinRaw):
    Name: str
    JobType: int | str | None = None
    IsScheduleEnabled: bool = True
    last_session: _Session | None = None


class _Veeam(Probe):
    version: str = ""
    jobs: Any = None


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


@evaluator(KIND, role=ROLE, controls=CONTROLS, defaults=DEFAULTS)
def evaluate_windows_backup(raw: Any, thresholds: Mapping[str, Any]) -> list[Finding]:
    """Windows backup: Veeam B&R jobs, Veeam Agent sessions, Windows Server Backup, whichever is present."""
    th = parse_thresholds(thresholds)
    p = parse_raw(raw)
    findings = [*_judge_veeam(p, th), *_judge_agent(p, th), *_judge_wsb(p, th)]
    return [_skip(f, th.skip_controls) for f in findings]


def _skip(finding: Finding, skip: Sequence[str]) -> Finding:
    if finding.control not in skip:
        return finding
    return skipped(next(c for c in CONTROLS if c.control == finding.control), ROLE)
