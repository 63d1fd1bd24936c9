"""Judge the raw output of the ``linux_antivirus_facts`` module (kind ``clamav``): AV-LNX-01 to AV-LNX-06.

Ages are measured from the collector's own clock (``collected_epoch``), so a saved file judges the same
whenever it is read. The signature age is the database's build time from its header, not the file mtime.
Missing signatures is a failure (the host is not protected), never an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)

from runner import catalogue
from runner.evaluators import EvaluatorError, evaluator
from runner.evaluators.common import check_known_controls, validate_raw, validate_thresholds
from runner.results import Control, Finding, Severity, Status

KIND = "clamav"
ROLE = "linux_antivirus"
SCHEMA = 1
_CATALOGUE = catalogue.load()  # titles, severities, remediations and defaults: runner/catalogue/data/
_DAY = 86400
REQUIRED_DATABASES = ("main", "daily")

ENGINE = _CATALOGUE.control("AV-LNX-01").as_control()
SIGNATURES = _CATALOGUE.control("AV-LNX-02").as_control()
UPDATER = _CATALOGUE.control("AV-LNX-03").as_control()
DAEMON = _CATALOGUE.control("AV-LNX-04").as_control()
SCAN_AGE = _CATALOGUE.control("AV-LNX-05").as_control()
SCAN_CLEAN = _CATALOGUE.control("AV-LNX-06").as_control()
CONTROLS: tuple[Control, ...] = (ENGINE, SIGNATURES, UPDATER, DAEMON, SCAN_AGE, SCAN_CLEAN)
CONTROL_IDS: tuple[str, ...] = tuple(c.control for c in CONTROLS)

#: threshold names are the role variables without the ``linux_antivirus_`` prefix
DEFAULTS: Mapping[str, Any] = MappingProxyType(_CATALOGUE.roles[ROLE].defaults(KIND))


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    signatures_warn_days: StrictInt = Field(ge=0)
    signatures_fail_days: StrictInt = Field(ge=1)
    freshclam_expected: StrictBool
    clamd_expected: StrictBool
    scan_max_age_days: StrictInt = Field(ge=1)
    skip_controls: list[StrictStr]

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.signatures_warn_days > self.signatures_fail_days:
            raise ValueError(
                f"signatures_warn_days ({self.signatures_warn_days}) is above "
                f"signatures_fail_days ({self.signatures_fail_days})"
            )
        check_known_controls(self.skip_controls, CONTROL_IDS)
        return self


class _Raw(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")


class _Engine(_Raw):
    available: bool
    reason: str = ""
    version: str = ""
    #: the daily database version `clamscan --version` reports (``ClamAV 1.4.3/27800/...``; since issue 10)
    daily_version: StrictInt | None = None
    clamscan: str | None = None
    clamd: str | None = None
    freshclam: str | None = None


class _DbFile(_Raw):
    name: str
    file: str
    version: StrictInt
    signatures: StrictInt
    build_time: StrictInt
    build_time_text: str = ""
    functionality_level: StrictInt = 0


class _Database(_Raw):
    available: bool
    reason: str = ""
    directory: str = ""
    files: list[_DbFile] = Field(default_factory=list)
    invalid: list[dict[str, str]] = Field(default_factory=list)


class _Services(_Raw):
    available: bool = True
    reason: str = ""
    init: str = "none"
    units: dict[str, dict[str, str]] = Field(default_factory=dict)
    processes: dict[str, bool] = Field(default_factory=dict)


class _LastScan(_Raw):
    infected: StrictInt | None = None
    scanned_files: StrictInt | None = None
    #: "... FOUND" lines of the last scan's own block (collectors since issue 10)
    found: StrictInt | None = None
    end_epoch: StrictInt | None = None
    end_text: str = ""
    start_epoch: StrictInt | None = None
    start_text: str = ""


class _ScanLog(_Raw):
    configured: bool
    available: bool
    reason: str = ""
    path: str = ""
    missing: bool = False
    last_scan: _LastScan | None = None


class _ClamAV(_Raw):
    schema_version: StrictInt = Field(alias="schema")
    collected_epoch: StrictInt
    engine: _Engine
    database: _Database
    services: _Services
    scan_log: _ScanLog


def parse_raw(raw: Any) -> _ClamAV:
    data = validate_raw(_ClamAV, raw, kind=KIND, key=ROLE, marker="engine", module="linux_antivirus_facts")
    if data.schema_version != SCHEMA:
        raise EvaluatorError(
            f"{KIND}: raw data schema {data.schema_version} is not supported (expected {SCHEMA})"
        )
    return data


def _not_checked(control: Control, reason: str) -> Finding:
    return control.finding(
        Status.NOT_CHECKED,
        {"reason": reason},
        remediation=f"Could not check: {reason}. Fix the cause, or waive {control.control} for this host.",
    )


def _days(seconds: int) -> float:
    return round(seconds / _DAY, 1)


def _judge_engine(engine: _Engine) -> Finding:
    evidence: dict[str, Any] = {
        "clamscan": engine.clamscan,
        "clamd": engine.clamd,
        "freshclam": engine.freshclam,
    }
    if not engine.available:
        evidence["reason"] = engine.reason or "ClamAV is not installed"
        return ENGINE.finding(Status.FAIL, evidence)
    evidence["version"] = engine.version
    return ENGINE.finding(Status.PASS, evidence, remediation="")


_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1
    )
}
_SIGTOOL_TIME = re.compile(
    r"^\s*(\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2})[-:](\d{2}) ([+-])(\d{2})(\d{2})\s*$"
)


def _header_time(text: str) -> int | None:
    """sigtool's '16 Apr 2020 07-58 -0400' (the header's build time) as epoch seconds."""
    match = _SIGTOOL_TIME.match(text)
    if not match or match[2] not in _MONTHS:
        return None
    try:
        local = datetime(
            int(match[3]), _MONTHS[match[2]], int(match[1]), int(match[4]), int(match[5]), tzinfo=UTC
        )
    except ValueError:
        return None
    offset = (int(match[7]) * 60 + int(match[8])) * 60 * (1 if match[6] == "+" else -1)
    return int(local.timestamp()) - offset


def _database_disagreements(db: _Database) -> list[str]:
    """Where a database header disagrees with itself (then its age cannot be trusted)."""
    problems = []
    for f in db.files:
        if f.name in REQUIRED_DATABASES and (f.version <= 0 or f.signatures <= 0):
            problems.append(f"{f.file}: header gives version {f.version} and {f.signatures} signatures")
        text_time = _header_time(f.build_time_text) if f.build_time_text else None
        if text_time is not None and abs(text_time - f.build_time) > _DAY:
            problems.append(
                f"{f.file}: the header's build time {f.build_time_text!r} and its epoch {f.build_time} "
                "are more than a day apart"
            )
    return problems


def _judge_signatures(db: _Database, now: int, th: Thresholds, engine: _Engine | None = None) -> Finding:
    if not db.available:
        return SIGNATURES.finding(
            Status.FAIL,
            {"reason": f"no signature database: {db.reason}", "directory": db.directory},
        )
    by_name = {f.name: f for f in db.files}
    evidence: dict[str, Any] = {
        "directory": db.directory,
        "warn_days": th.signatures_warn_days,
        "fail_days": th.signatures_fail_days,
        "databases": [
            {
                "name": f.name,
                "file": f.file,
                "version": f.version,
                "signatures": f.signatures,
                "build_time": f.build_time_text,
                "age_days": _days(now - f.build_time),
            }
            for f in sorted(db.files, key=lambda f: f.name)
        ],
    }
    if db.invalid:
        evidence["invalid"] = db.invalid
    daily = by_name.get("daily")
    if engine is not None and engine.daily_version is not None and daily is not None:
        # clamscan --version reads the compiled-in directory, which may differ from the one judged here
        evidence["engine_daily_version"] = engine.daily_version
        if engine.daily_version != daily.version:
            evidence["engine_note"] = (
                f"clamscan --version reports daily {engine.daily_version}, {daily.file} in {db.directory} is "
                f"{daily.version}: the engine's default directory holds other signatures than the one judged"
            )
    problems = _database_disagreements(db)
    if problems:
        reason = "; ".join(problems)
        return SIGNATURES.finding(
            Status.ERROR,
            {**evidence, "reason": reason},
            remediation=f"Not judged: {reason}. Read the headers with `sigtool --info FILE` on the host.",
        )
    missing = [name for name in REQUIRED_DATABASES if name not in by_name]
    if missing:
        evidence["missing"] = missing
        what = " and ".join(f"{m}.cvd/.cld" for m in missing)
        evidence["reason"] = f"signature database missing in {db.directory}: {what}"
        if not db.files:
            evidence["reason"] = f"no signature database in {db.directory} (freshclam never succeeded)"
        return SIGNATURES.finding(
            Status.FAIL, evidence, remediation=f"{evidence['reason']}. {SIGNATURES.remediation}"
        )
    age = now - by_name["daily"].build_time
    evidence["age_days"] = _days(age)
    evidence["daily_version"] = by_name["daily"].version
    if age > th.signatures_fail_days * _DAY:
        note = f"daily signatures built {_days(age)} days ago (fail after {th.signatures_fail_days})"
        return SIGNATURES.finding(Status.FAIL, evidence, remediation=f"{note}. {SIGNATURES.remediation}")
    if age > th.signatures_warn_days * _DAY:
        note = f"daily signatures built {_days(age)} days ago (warn after {th.signatures_warn_days})"
        return SIGNATURES.finding(
            Status.WARN, evidence, severity=Severity.MEDIUM, remediation=f"{note}. {SIGNATURES.remediation}"
        )
    return SIGNATURES.finding(Status.PASS, evidence, remediation="")


def _judge_service(
    control: Control, unit: str, process: str, binary: str | None, expected: bool, services: _Services
) -> Finding:
    if not expected:
        return _not_checked(control, f"{process} is not expected on this host ({process}_expected is false)")
    if not services.available:
        return _not_checked(control, services.reason)
    if binary is None:
        return control.finding(Status.FAIL, {"reason": f"{process} is not installed", "unit": unit})
    running = services.processes.get(process, False)
    if services.init == "systemd":
        state = services.units.get(unit, {})
        evidence: dict[str, Any] = {
            "method": "systemd",
            "unit": unit,
            "active": state.get("active", ""),
            "enabled": state.get("enabled", ""),
            "process_running": running,
        }
        if state.get("active") == "active":
            return control.finding(Status.PASS, evidence, remediation="")
        return control.finding(Status.FAIL, evidence)
    evidence = {"method": "process", "process": process, "process_running": running}
    if running:
        return control.finding(Status.PASS, evidence, remediation="")
    return _not_checked(
        control,
        f"systemd is not the init system and no {process} process runs (a container?); "
        "the service state cannot be read",
    )


def _judge_scan(log: _ScanLog, now: int, th: Thresholds) -> tuple[Finding, Finding]:
    if not log.configured:
        reason = "no scan log configured (linux_antivirus_scan_log)"
        return _not_checked(SCAN_AGE, reason), _not_checked(SCAN_CLEAN, reason)
    base: dict[str, Any] = {"scan_log": log.path, "max_age_days": th.scan_max_age_days}
    no_scan = f"no scan result in {log.path}"
    if not log.available:
        reason = f"no scan has written {log.path}" if log.missing else log.reason
        return (
            SCAN_AGE.finding(Status.FAIL, {**base, "reason": reason}),
            _not_checked(SCAN_CLEAN, reason),
        )
    scan = log.last_scan
    if scan is None:
        reason = f"{log.path} has no SCAN SUMMARY (the scan never finished, or clamscan ran without --log)"
        return SCAN_AGE.finding(Status.FAIL, {**base, "reason": reason}), _not_checked(SCAN_CLEAN, no_scan)
    when = scan.end_epoch or scan.start_epoch
    if when is None:
        age_finding = SCAN_AGE.finding(
            Status.FAIL,
            {**base, "reason": "the last scan summary has no Start/End Date (ClamAV older than 0.103?)"},
        )
    else:
        age = now - when
        evidence = {**base, "last_scan": scan.end_text or scan.start_text, "age_days": _days(age)}
        status = Status.FAIL if age > th.scan_max_age_days * _DAY else Status.PASS
        age_finding = SCAN_AGE.finding(status, evidence, remediation=None if status is Status.FAIL else "")
    disagreement = ""
    if scan.infected is None:
        disagreement = "the last scan summary has no 'Infected files' line"
    elif scan.scanned_files is not None and scan.infected > scan.scanned_files:
        disagreement = f"the summary says {scan.infected} infected of {scan.scanned_files} scanned files"
    elif scan.found is not None and (scan.found < scan.infected or (scan.found and not scan.infected)):
        disagreement = (
            f"the summary says {scan.infected} infected files but the scan's log lists {scan.found} "
            "FOUND lines"
        )
    if disagreement:
        clean_finding = SCAN_CLEAN.finding(
            Status.ERROR,
            {"scan_log": log.path, "reason": disagreement, "infected": scan.infected, "found": scan.found},
            remediation=f"Not judged: {disagreement}. Read the end of {log.path} on the host.",
        )
    else:
        evidence = {
            "scan_log": log.path,
            "infected": scan.infected,
            "scanned_files": scan.scanned_files,
            "last_scan": scan.end_text or scan.start_text,
        }
        if scan.infected:
            clean_finding = SCAN_CLEAN.finding(
                Status.FAIL,
                evidence,
                remediation=f"{scan.infected} infected file(s) in the last scan. {SCAN_CLEAN.remediation}",
            )
        else:
            clean_finding = SCAN_CLEAN.finding(Status.PASS, evidence, remediation="")
    return age_finding, clean_finding


def parse_thresholds(thresholds: Mapping[str, Any]) -> Thresholds:
    return validate_thresholds(Thresholds, thresholds, kind=KIND)


@evaluator(KIND, role=ROLE, controls=CONTROLS, defaults=DEFAULTS)
def evaluate_clamav(raw: Any, thresholds: Mapping[str, Any]) -> list[Finding]:
    """ClamAV on Linux: engine, signature age, freshclam, clamd, last scan."""
    th = parse_thresholds(thresholds)
    data = parse_raw(raw)
    now = data.collected_epoch
    findings = [
        _judge_engine(data.engine),
        _judge_signatures(data.database, now, th, data.engine),
        _judge_service(
            UPDATER,
            "clamav-freshclam",
            "freshclam",
            data.engine.freshclam,
            th.freshclam_expected,
            data.services,
        ),
        _judge_service(DAEMON, "clamav-daemon", "clamd", data.engine.clamd, th.clamd_expected, data.services),
        *_judge_scan(data.scan_log, now, th),
    ]
    return [_skip(f, th.skip_controls) for f in findings]


def _skip(finding: Finding, skip: Sequence[str]) -> Finding:
    if finding.control not in skip:
        return finding
    return _not_checked(
        next(c for c in CONTROLS if c.control == finding.control),
        "disabled by configuration (linux_antivirus skip_controls)",
    )
