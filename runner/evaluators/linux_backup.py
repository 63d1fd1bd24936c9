"""Judge the raw output of ``linux_backup_facts``: BKP-RESTIC-01 to 06 (kind ``restic``), BKP-FILE-01/02
(kind ``backup_files``), or all eight (kind ``linux_backup``, what the role uses).

Ages are measured from the collector's clock (``collected_epoch``). A locked or missing repository, a wrong
password, no snapshot: failures with the reason, never errors. A backup never restored is not verified:
BKP-RESTIC-04 warns when no test-restore file is configured. Where the copies are (BKP-RESTIC-05) and the
retention against the inventory's forget policy (BKP-RESTIC-06) follow restic's own location parsing and
forget semantics (:mod:`runner.evaluators.restic_policy`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

from runner import catalogue
from runner.evaluators import EvaluatorError, evaluator
from runner.evaluators import restic_policy as rp
from runner.evaluators.common import check_known_controls, validate_raw, validate_thresholds
from runner.results import Control, Finding, Severity, Status

ROLE = "linux_backup"
SCHEMA = 1
_CATALOGUE = catalogue.load()  # titles, severities, remediations and defaults: runner/catalogue/data/
_HOUR = 3600

REACHABLE = _CATALOGUE.control("BKP-RESTIC-01").as_control()
FRESH = _CATALOGUE.control("BKP-RESTIC-02").as_control()
INTEGRITY = _CATALOGUE.control("BKP-RESTIC-03").as_control()
RESTORE = _CATALOGUE.control("BKP-RESTIC-04").as_control()
LOCATION = _CATALOGUE.control("BKP-RESTIC-05").as_control()
RETENTION = _CATALOGUE.control("BKP-RESTIC-06").as_control()
FILE_AGE = _CATALOGUE.control("BKP-FILE-01").as_control()
FILE_SIZE = _CATALOGUE.control("BKP-FILE-02").as_control()
RESTIC_CONTROLS: tuple[Control, ...] = (REACHABLE, FRESH, INTEGRITY, RESTORE, LOCATION, RETENTION)
FILE_CONTROLS: tuple[Control, ...] = (FILE_AGE, FILE_SIZE)
CONTROLS: tuple[Control, ...] = RESTIC_CONTROLS + FILE_CONTROLS
CONTROL_IDS: tuple[str, ...] = tuple(c.control for c in CONTROLS)

#: threshold names are the role variables without the ``linux_backup_`` prefix; values: the catalogue
RESTIC_DEFAULTS: Mapping[str, Any] = MappingProxyType(_CATALOGUE.roles[ROLE].defaults("restic"))
FILE_DEFAULTS: Mapping[str, Any] = MappingProxyType(_CATALOGUE.roles[ROLE].defaults("backup_files"))
DEFAULTS: Mapping[str, Any] = MappingProxyType(_CATALOGUE.roles[ROLE].defaults("linux_backup"))

REASONS = {
    "wrong_password": "wrong password (the vault's password does not open the repository)",
    "missing": "no repository at this location",
    "locked": "the repository is locked",
    "not_installed": "restic is not installed",
    "no_password": "no password in the vault for this repository",
    "timeout": "restic did not answer in time",
    "error": "restic failed",
}


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    restic_max_age_hours: StrictInt = Field(ge=1)
    restic_forget_excess_max: StrictInt = Field(ge=0)
    restic_retention_min_coverage_pct: StrictInt = Field(ge=0, le=100)
    files_max_age_hours: StrictInt = Field(ge=1)
    files_min_size_bytes: StrictInt = Field(ge=0)
    skip_controls: list[StrictStr]

    @model_validator(mode="after")
    def _known(self) -> Thresholds:
        check_known_controls(self.skip_controls, CONTROL_IDS)
        return self


class _Raw(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")


class _Reachable(_Raw):
    ok: bool
    error_kind: str = ""
    message: str = ""


class _Snapshot(_Raw):
    id: str = ""
    short_id: str
    time: str
    time_epoch: StrictInt
    hostname: str = ""
    paths: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class _Listed(_Raw):
    short_id: str
    time: str
    paths: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class _Mount(_Raw):
    path: str
    mount: str = ""
    fstype: str = ""
    source: str = ""
    reason: str = ""


class _Snapshots(_Raw):
    host: str
    tags: list[str] = Field(default_factory=list)
    path: str = ""
    count: StrictInt
    #: snapshots whose time the collector could read, and the JSON type restic printed (collectors since
    #: issue 10; absent in older saved outputs)
    parsed: StrictInt | None = None
    shape: str = "list"
    latest: _Snapshot | None = None
    #: the newest snapshots (at most 1000), for the retention judgement (collectors since issue 15)
    listed: StrictInt | None = None
    items: list[_Listed] | None = Field(default=None, alias="list")


class _Check(_Raw):
    ran: bool
    reason: str = ""
    ok: bool = False
    rc: StrictInt | None = None
    error_kind: str = ""
    errors: list[str] = Field(default_factory=list)
    read_data_subset: str = ""


class _Restore(_Raw):
    configured: bool
    reason: str = ""
    path: str = ""
    snapshot: str = ""
    ok: bool = False
    error: str = ""
    size: StrictInt | None = None
    sha256_restored: str = ""
    sha256_expected: str = ""
    expected_source: str = ""
    comparable: bool = False


class _Restic(_Raw):
    configured: bool
    reason: str = ""
    repository: str = ""
    #: where the location came from (option, env RESTIC_REPOSITORY, file PATH), the mount holding a local
    #: repository and the inventory's forget policy (collectors since issue 15)
    repository_source: str = ""
    mount: _Mount | None = None
    forget: dict[str, Any] | None = None
    version: str = ""
    reachable: _Reachable | None = None
    snapshots: _Snapshots | None = None
    check: _Check | None = None
    restore: _Restore | None = None


class _Newest(_Raw):
    path: str
    mtime: StrictInt
    size: StrictInt


class _FileSet(_Raw):
    name: str
    path: str
    pattern: str = "*"
    available: bool
    reason: str = ""
    count: StrictInt = 0
    newest: _Newest | None = None
    max_age_hours: StrictInt | None = None
    min_size_bytes: StrictInt | None = None


class _Files(_Raw):
    configured: bool
    sets: list[_FileSet] = Field(default_factory=list)


class _Backup(_Raw):
    schema_version: StrictInt = Field(alias="schema")
    collected_epoch: StrictInt
    hostname: str = ""
    restic: _Restic | None = None
    files: _Files | None = None


def parse_raw(raw: Any, kind: str, need: str) -> _Backup:
    data = validate_raw(
        _Backup, raw, kind=kind, key=ROLE, marker="collected_epoch", module="linux_backup_facts"
    )
    if data.schema_version != SCHEMA:
        raise EvaluatorError(
            f"{kind}: raw data schema {data.schema_version} is not supported (expected {SCHEMA})"
        )
    if need and getattr(data, need) is None:
        raise EvaluatorError(f"{kind}: raw data has no '{need}' section")
    return data


def parse_thresholds(thresholds: Mapping[str, Any], kind: str) -> Thresholds:
    return validate_thresholds(Thresholds, {**DEFAULTS, **thresholds}, kind=kind)


def _not_checked(control: Control, reason: str, evidence: Mapping[str, Any] | None = None) -> Finding:
    return control.finding(
        Status.NOT_CHECKED,
        {"reason": reason, **(evidence or {})},
        remediation=f"Could not check: {reason}. Fix the cause, or waive {control.control} for this host.",
    )


def _hours(seconds: int) -> float:
    return round(seconds / _HOUR, 1)


# ---------------------------------------------------------------- restic


def judge_restic(restic: _Restic, now: int, th: Thresholds, hostname: str = "") -> list[Finding]:
    if not restic.configured:
        reason = restic.reason or "no restic repository configured for this host"
        return [_not_checked(c, reason) for c in RESTIC_CONTROLS]
    base: dict[str, Any] = {"repository": restic.repository}
    reach = restic.reachable or _Reachable(ok=False, error_kind="error", message="no answer recorded")
    location = _judge_location(restic, hostname)
    if not reach.ok:
        why = REASONS.get(reach.error_kind, REASONS["error"])
        evidence = {**base, "reason": why, "error_kind": reach.error_kind, "message": reach.message}
        unreachable = f"repository not reachable: {why}"
        return [
            REACHABLE.finding(
                Status.FAIL, evidence, remediation=f"{why}: {reach.message}. {REACHABLE.remediation}"
            ),
            FRESH.finding(Status.FAIL, {**base, "reason": unreachable}),
            _not_checked(INTEGRITY, unreachable),
            RESTORE.finding(Status.FAIL, {**base, "reason": unreachable}),
            location,
            _not_checked(RETENTION, unreachable, base),
        ]
    findings = [REACHABLE.finding(Status.PASS, {**base, "version": restic.version}, remediation="")]
    snaps = restic.snapshots
    latest = snaps.latest if snaps else None
    selector: dict[str, Any] = {
        "host": snaps.host if snaps else "",
        "tags": snaps.tags if snaps else [],
        "path": snaps.path if snaps else "",
    }
    problem = _snapshot_disagreement(snaps)
    if problem:
        findings.append(
            FRESH.finding(
                Status.ERROR,
                {**base, **selector, "reason": problem},
                remediation=(
                    f"Not judged: {problem}. Run `restic -r REPO snapshots --json --host HOST` on the host "
                    "and compare; a restic whose JSON changed needs the collector and evaluator updated."
                ),
            )
        )
    elif latest is None:
        findings.append(
            FRESH.finding(
                Status.FAIL,
                {**base, **selector, "snapshots": 0, "reason": "no snapshot for this host (and tag / path)"},
            )
        )
    else:
        age = now - latest.time_epoch
        evidence = {
            **base,
            **selector,
            "snapshots": snaps.count if snaps else 0,
            "latest": latest.short_id,
            "latest_time": latest.time,
            "age_hours": _hours(age),
            "max_age_hours": th.restic_max_age_hours,
        }
        if age > th.restic_max_age_hours * _HOUR:
            note = (
                f"latest snapshot {latest.short_id} is {_hours(age)} hours old "
                f"(limit {th.restic_max_age_hours})"
            )
            findings.append(FRESH.finding(Status.FAIL, evidence, remediation=f"{note}. {FRESH.remediation}"))
        else:
            findings.append(FRESH.finding(Status.PASS, evidence, remediation=""))
    findings.append(_judge_check(restic.check, base))
    findings.append(_judge_restore(restic.restore, base))
    findings.append(location)
    findings.append(_judge_retention(restic, now, th, problem))
    return findings


# ---------------------------------------------------------------- where the copies are (BKP-RESTIC-05)

SAME_HOST = "copies on the backed-up host only"


def _judge_location(restic: _Restic, hostname: str) -> Finding:
    base: dict[str, Any] = {
        "repository": restic.repository,
        "repository_source": restic.repository_source or None,
    }
    if not restic.repository:
        message = restic.reachable.message if restic.reachable else ""
        return _not_checked(LOCATION, message or "the repository location was not recorded", base)
    try:
        location = rp.parse_location(restic.repository)
    except rp.LocationError as exc:
        return _not_checked(LOCATION, f"repository location not understood: {exc}", base)
    evidence: dict[str, Any] = {**base, "location": location}
    if location["backend"] == "local":
        mount = restic.mount
        if mount is None or not mount.fstype:
            why = (
                mount.reason
                if mount and mount.reason
                else "no mount recorded (collector older than issue 15)"
            )
            return _not_checked(
                LOCATION, f"cannot tell whether {location['path']} is on this host: {why}", evidence
            )
        source = rp.strip_credentials(mount.source)
        evidence["mount"] = {"mount": mount.mount, "fstype": mount.fstype, "source": source}
        if mount.fstype in rp.OFF_HOST_FSTYPES:
            location["host"] = rp.mount_host(mount.fstype, source)
            evidence["same_host"] = False
            return LOCATION.finding(Status.PASS, evidence, remediation="")
        location["host"] = hostname or None
        evidence.update(
            same_host=True, reason=f"{SAME_HOST}: {location['path']} is on {mount.fstype} {source}"
        )
    elif rp.is_local_host(location["host"], hostname):
        evidence.update(
            same_host=True, reason=f"{SAME_HOST}: {location['backend']} server {location['host']}"
        )
    else:
        evidence["same_host"] = False
        return LOCATION.finding(Status.PASS, evidence, remediation="")
    return LOCATION.finding(
        Status.WARN, evidence, remediation=f"{evidence['reason']}. {LOCATION.remediation}"
    )


# ---------------------------------------------------------------- retention (BKP-RESTIC-06)

GROUPS_SHOWN = 10
MISSING_SHOWN = 10


def _snap_evidence(snap: rp.Snap) -> dict[str, str]:
    return {"id": snap.short_id, "time": snap.text or snap.time.isoformat()}


def _judge_retention(restic: _Restic, now: int, th: Thresholds, problem: str) -> Finding:
    base: dict[str, Any] = {"repository": restic.repository}
    given = {k: v for k, v in (restic.forget or {}).items() if v is not None and v != "" and v != []}
    if not given:
        return _not_checked(RETENTION, "no forget policy in the inventory (linux_backup_restic_forget)", base)
    try:
        policy = rp.parse_policy(given)
    except rp.PolicyError as exc:
        reason = f"the forget policy in the inventory is not one restic accepts: {exc}"
        return RETENTION.finding(
            Status.ERROR,
            {**base, "policy": given, "reason": reason},
            remediation=f"Not judged: {reason}. Fix linux_backup_restic_forget (restic's keep options).",
        )
    if policy.empty():
        return _not_checked(
            RETENTION, "no forget policy in the inventory (linux_backup_restic_forget keeps nothing)", base
        )
    evidence: dict[str, Any] = {**base, "policy": dict(policy.given)}
    snaps = restic.snapshots
    listed = snaps.items if snaps else None
    if not problem and snaps is not None and listed is None and snaps.count:
        problem = "no snapshot list was recorded (collector older than issue 15)"
    if not problem and snaps is not None and listed is not None and snaps.listed not in (None, len(listed)):
        problem = f"the collector listed {snaps.listed} snapshots but recorded {len(listed)}"
    parsed: list[rp.Snap] = []
    for item in listed or []:
        when = rp.parse_time(item.time)
        if when is None:
            problem = problem or f"the time of snapshot {item.short_id} ({item.time!r}) could not be read"
            break
        parsed.append(rp.Snap(item.short_id, when, tuple(item.paths), tuple(item.tags), item.time))
    if problem:
        return RETENTION.finding(
            Status.ERROR,
            {**evidence, "reason": problem},
            remediation=f"Not judged: {problem}. Run `restic snapshots --json` on the host and compare.",
        )
    count = snaps.count if snaps else 0
    if not parsed:
        evidence.update(snapshots=0, reason="no snapshot for this host (and tag / path): nothing is retained")
        return RETENTION.finding(
            Status.FAIL, evidence, remediation=f"{evidence['reason']}. {FRESH.remediation}"
        )
    parsed.sort(key=lambda snap: snap.time, reverse=True)  # stable: restic's order among equal times
    complete = len(parsed) >= count
    oldest_rule = rp.oldest_rule_applies(restic.version)
    at = datetime.fromtimestamp(now, tz=UTC)
    groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[rp.Snap]] = {}
    for snap in parsed:
        groups.setdefault(rp.group_key(snap, policy.group_by), []).append(snap)
    kept_total = 0
    fails: list[str] = []
    warns: list[str] = []
    shown: list[dict[str, Any]] = []
    for (paths, tags), group in groups.items():
        kept = sum(rp.apply_policy(group, policy, at, oldest_rule, complete))
        kept_total += kept
        label = f"paths {', '.join(paths)}: " if len(groups) > 1 and paths else ""
        label += f"tags {', '.join(tags)}: " if len(groups) > 1 and tags else ""
        buckets = []
        for cov in rp.coverage(group, policy, at):
            buckets.append(
                {
                    "bucket": cov.bucket,
                    "keep": cov.keep,
                    "expected": cov.expected,
                    "present": cov.present,
                    "coverage_pct": cov.pct,
                    "missing": list(cov.missing[:MISSING_SHOWN]),
                    "missing_count": len(cov.missing),
                }
            )
            if not cov.missing:
                continue
            note = (
                f"{label}{cov.bucket}: {cov.present} of the last {cov.expected} periods have a snapshot "
                f"(missing {', '.join(cov.missing[:3])}{' ...' if len(cov.missing) > 3 else ''})"
            )
            (fails if cov.pct < th.restic_retention_min_coverage_pct else warns).append(note)
        entry: dict[str, Any] = {"paths": list(paths)}
        if "tags" in policy.group_by:
            entry["tags"] = list(tags)
        entry.update(
            snapshots=len(group),
            kept=kept,
            newest=_snap_evidence(group[0]),
            oldest=_snap_evidence(group[-1]),
            buckets=buckets,
        )
        shown.append(entry)
    excess = len(parsed) - kept_total  # a truncated list: at least this many (the older ones unread)
    if excess > th.restic_forget_excess_max:
        warns.append(
            f"{'at least ' if not complete else ''}{excess} snapshots more than the policy keeps "
            f"(limit {th.restic_forget_excess_max}): restic forget / prune is not running"
        )
    evidence.update(
        group_by=",".join(g for g in ("host", "paths", "tags") if g in policy.group_by),
        restic_version=restic.version or None,
        oldest_kept_rule=oldest_rule,
        snapshots=count,
        listed=len(parsed),
        kept=kept_total,
        would_remove=excess,
        forget_excess_max=th.restic_forget_excess_max,
        min_coverage_pct=th.restic_retention_min_coverage_pct,
        newest=_snap_evidence(parsed[0]),
        oldest=_snap_evidence(parsed[-1]),
        groups=shown[:GROUPS_SHOWN],
        groups_total=len(shown),
    )
    if fails or warns:
        evidence["reason"] = "; ".join(fails + warns)
        return RETENTION.finding(
            Status.FAIL if fails else Status.WARN,
            evidence,
            remediation=f"{evidence['reason']}. {RETENTION.remediation}",
        )
    return RETENTION.finding(Status.PASS, evidence, remediation="")


def _snapshot_disagreement(snaps: _Snapshots | None) -> str:
    """Where the collector's reading disagrees with what restic printed ('' when it agrees)."""
    if snaps is None:
        return "the repository opened but no snapshot list was recorded"
    if snaps.shape != "list":
        return f"restic snapshots --json printed a JSON {snaps.shape}, not the list of snapshots"
    if snaps.parsed is not None and snaps.parsed != snaps.count:
        return (
            f"restic listed {snaps.count} snapshots but the time of {snaps.count - snaps.parsed} could not "
            "be read, so the latest one is unknown"
        )
    if snaps.count and snaps.latest is None:
        return f"restic listed {snaps.count} snapshots but none was read as the latest"
    if not snaps.count and snaps.latest is not None:
        return "no snapshot counted, yet a latest snapshot was recorded"
    return ""


def _judge_check(check: _Check | None, base: Mapping[str, Any]) -> Finding:
    if check is None or not check.ran:
        return _not_checked(INTEGRITY, check.reason if check else "restic check did not run")
    evidence = {**base, "read_data_subset": check.read_data_subset or None, "errors": check.errors}
    if check.ok:
        return INTEGRITY.finding(Status.PASS, evidence, remediation="")
    if check.error_kind == "locked":
        evidence["reason"] = REASONS["locked"]
        return INTEGRITY.finding(
            Status.FAIL,
            evidence,
            remediation=f"restic check could not lock the repository. {REACHABLE.remediation}",
        )
    evidence["reason"] = REASONS.get(check.error_kind, "restic check found errors")
    if check.error_kind == "error":
        evidence["reason"] = "restic check found errors"
    return INTEGRITY.finding(Status.FAIL, evidence)


def _judge_restore(restore: _Restore | None, base: Mapping[str, Any]) -> Finding:
    if restore is None or not restore.configured:
        return RESTORE.finding(
            Status.WARN,
            {**base, "reason": restore.reason if restore else "no test restore configured"},
            severity=Severity.MEDIUM,
            remediation=(
                "A backup that was never restored is not verified: choose a file that changes rarely "
                "(linux_backup_restic_restore_path, e.g. /etc/hostname) and, if it changes, record its "
                "checksum (linux_backup_restic_restore_sha256)."
            ),
        )
    evidence: dict[str, Any] = {**base, "path": restore.path, "snapshot": restore.snapshot or None}
    if not restore.ok:
        evidence["reason"] = f"test restore failed: {restore.error}"
        return RESTORE.finding(Status.FAIL, evidence)
    evidence.update(
        size=restore.size,
        sha256_restored=restore.sha256_restored,
        sha256_expected=restore.sha256_expected or None,
        expected_source=restore.expected_source,
    )
    if not restore.comparable:
        evidence["reason"] = f"restored, but not compared: {restore.reason}"
        return RESTORE.finding(
            Status.WARN,
            evidence,
            severity=Severity.MEDIUM,
            remediation=(
                f"{restore.reason}. Choose a file that does not change between backups, or record its "
                "checksum in linux_backup_restic_restore_sha256."
            ),
        )
    if restore.sha256_restored != restore.sha256_expected:
        evidence["reason"] = f"restored file differs from the {restore.expected_source} checksum"
        return RESTORE.finding(Status.FAIL, evidence)
    return RESTORE.finding(Status.PASS, evidence, remediation="")


# ---------------------------------------------------------------- files


def judge_files(files: _Files | None, now: int, th: Thresholds) -> list[Finding]:
    if files is None or not files.configured or not files.sets:
        reason = "no file-based backup configured for this host (linux_backup_file_sets)"
        return [_not_checked(c, reason) for c in FILE_CONTROLS]
    age_rows: list[dict[str, Any]] = []
    size_rows: list[dict[str, Any]] = []
    age_bad: list[str] = []
    size_bad: list[str] = []
    for fs in files.sets:
        max_age = fs.max_age_hours or th.files_max_age_hours
        min_size = fs.min_size_bytes if fs.min_size_bytes is not None else th.files_min_size_bytes
        row: dict[str, Any] = {"name": fs.name, "path": fs.path, "pattern": fs.pattern}
        if not fs.available or fs.newest is None:
            why = fs.reason if not fs.available else f"no file matching {fs.pattern!r} in {fs.path}"
            age_rows.append({**row, "reason": why})
            size_rows.append({**row, "reason": why})
            age_bad.append(f"{fs.name}: {why}")
            size_bad.append(f"{fs.name}: {why}")
            continue
        age = now - fs.newest.mtime
        age_ok = age <= max_age * _HOUR
        size_ok = fs.newest.size >= min_size
        age_rows.append(
            {
                **row,
                "newest": fs.newest.path,
                "age_hours": _hours(age),
                "max_age_hours": max_age,
                "ok": age_ok,
            }
        )
        size_rows.append(
            {
                **row,
                "newest": fs.newest.path,
                "size": fs.newest.size,
                "min_size_bytes": min_size,
                "ok": size_ok,
            }
        )
        if not age_ok:
            age_bad.append(f"{fs.name}: newest file {_hours(age)} hours old (limit {max_age})")
        if not size_ok:
            size_bad.append(f"{fs.name}: newest file {fs.newest.size} bytes (minimum {min_size})")
    out = []
    for control, rows, bad in ((FILE_AGE, age_rows, age_bad), (FILE_SIZE, size_rows, size_bad)):
        evidence = {"sets": rows}
        if bad:
            out.append(
                control.finding(Status.FAIL, evidence, remediation=f"{'; '.join(bad)}. {control.remediation}")
            )
        else:
            out.append(control.finding(Status.PASS, evidence, remediation=""))
    return out


def _skip(findings: list[Finding], skip: Sequence[str]) -> list[Finding]:
    by_id = {c.control: c for c in CONTROLS}
    return [
        _not_checked(by_id[f.control], "disabled by configuration (linux_backup skip_controls)")
        if any(fnmatch.fnmatchcase(f.control, s) for s in skip)
        else f
        for f in findings
    ]


@evaluator("restic", role=ROLE, controls=RESTIC_CONTROLS, defaults=RESTIC_DEFAULTS)
def evaluate_restic(raw: Any, thresholds: Mapping[str, Any]) -> list[Finding]:
    """restic repository: reachable, recent snapshot, check clean, test restore."""
    th = parse_thresholds(thresholds, "restic")
    data = parse_raw(raw, "restic", "restic")
    assert data.restic is not None
    return _skip(judge_restic(data.restic, data.collected_epoch, th, data.hostname), th.skip_controls)


@evaluator("backup_files", role=ROLE, controls=FILE_CONTROLS, defaults=FILE_DEFAULTS)
def evaluate_backup_files(raw: Any, thresholds: Mapping[str, Any]) -> list[Finding]:
    """File-based backups: newest file recent and not truncated."""
    th = parse_thresholds(thresholds, "backup_files")
    data = parse_raw(raw, "backup_files", "files")
    return _skip(judge_files(data.files, data.collected_epoch, th), th.skip_controls)


@evaluator("linux_backup", role=ROLE, controls=CONTROLS, defaults=DEFAULTS)
def evaluate_linux_backup(raw: Any, thresholds: Mapping[str, Any]) -> list[Finding]:
    """Linux backups: restic repository and file-based backups."""
    th = parse_thresholds(thresholds, "linux_backup")
    data = parse_raw(raw, "linux_backup", "")
    restic = data.restic or _Restic(configured=False)
    findings = judge_restic(restic, data.collected_epoch, th, data.hostname) + judge_files(
        data.files, data.collected_epoch, th
    )
    return _skip(findings, th.skip_controls)
