"""Judge the raw output of the ``linux_health_facts`` module: controls HEALTH-LNX-01 to HEALTH-LNX-08.

HEALTH-LNX-03 (a pending reboot) is retired: ``linux_patching`` judges it once, as PATCH-LNX-04.
HEALTH-LNX-09 and HEALTH-LNX-10 (days to full, errors rising) are judged from the ledger's history by
:mod:`runner.trends`, from the ``volumes`` of HEALTH-LNX-01 and the ``error_counts`` of HEALTH-LNX-08.

The raw data is the module's ``linux_health`` key (a saved whole module result is unwrapped). Each probe in
it says ``available: false`` and why when it could not run; such a control is ``not_checked`` with that
reason, never ``pass``. Data of the wrong shape raises :class:`EvaluatorError` naming the field.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    StrictInt,
    StrictStr,
    model_validator,
)

from runner import catalogue
from runner.evaluators import EvaluatorError, evaluator
from runner.evaluators.common import check_known_controls, validate_raw, validate_thresholds
from runner.evaluators.smartctl import DEFAULTS as SMART_DEFAULTS
from runner.evaluators.smartctl import KIND as SMARTCTL_KIND
from runner.evaluators.smartctl import (
    SMART,
    error_log_count,
    evaluate_smartctl,
    judge_disks,
    parse_smart_thresholds,
)
from runner.evaluators.smartctl import not_checked as smart_not_checked
from runner.results import Control, Finding, Severity, Status

KIND = "linux_health"
SCHEMA = 1
_CATALOGUE = catalogue.load()  # titles, severities, remediations and defaults: runner/catalogue/data/
_SECONDS_PER_DAY = 86400

FS_SPACE = _CATALOGUE.control("HEALTH-LNX-01").as_control()
FS_INODES = _CATALOGUE.control("HEALTH-LNX-02").as_control()
FAILED_UNITS = _CATALOGUE.control("HEALTH-LNX-04").as_control()
TIME_SYNC = _CATALOGUE.control("HEALTH-LNX-05").as_control()
UPTIME = _CATALOGUE.control("HEALTH-LNX-06").as_control()
ERROR_EVENTS = _CATALOGUE.control("HEALTH-LNX-08").as_control()
# HEALTH-LNX-03 (a pending reboot) is retired: linux_patching judges it once, as PATCH-LNX-04
CONTROLS: tuple[Control, ...] = (FS_SPACE, FS_INODES, FAILED_UNITS, TIME_SYNC, UPTIME, SMART, ERROR_EVENTS)
CONTROL_IDS: tuple[str, ...] = tuple(c.control for c in CONTROLS)
#: skip_controls may name every control of the role (the trend controls too: runner.trends skips them)
ROLE_CONTROL_IDS: tuple[str, ...] = tuple(spec.id for spec in _CATALOGUE.for_role(KIND))
#: most volumes listed in HEALTH-LNX-01's ``volumes`` (the input of the days-to-full trend)
MAX_VOLUMES = 100

#: threshold names are the role variables without the ``linux_health_`` prefix; values: the catalogue
DEFAULTS: Mapping[str, Any] = MappingProxyType(_CATALOGUE.roles[KIND].defaults(KIND))
#: the role's thresholds only the trend step uses (runner.evaluators.trends): accepted and ignored here
TREND_THRESHOLDS = frozenset(set(_CATALOGUE.roles[KIND].thresholds) - set(DEFAULTS))


# ---------------------------------------------------------------- thresholds


class Thresholds(BaseModel):
    """The evaluator's settings, checked before anything is judged."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fs_warn_pct: StrictInt = Field(ge=0, le=100)
    fs_fail_pct: StrictInt = Field(ge=0, le=100)
    inode_warn_pct: StrictInt = Field(ge=0, le=100)
    inode_fail_pct: StrictInt = Field(ge=0, le=100)
    fs_exclude_mounts: list[StrictStr]
    fs_exclude_fstypes: list[StrictStr]
    failed_units_ignore: list[StrictStr]
    uptime_warn_days: StrictInt = Field(ge=0)
    smart_reallocated_warn: StrictInt = Field(ge=1)
    smart_reallocated_fail: StrictInt = Field(ge=1)
    smart_pending_fail: StrictInt = Field(ge=1)
    smart_media_errors_fail: StrictInt = Field(ge=1)
    journal_errors_warn: StrictInt = Field(ge=1)
    skip_controls: list[StrictStr]

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.fs_warn_pct > self.fs_fail_pct:
            raise ValueError(f"fs_warn_pct ({self.fs_warn_pct}) is above fs_fail_pct ({self.fs_fail_pct})")
        if self.smart_reallocated_warn > self.smart_reallocated_fail:
            raise ValueError(
                f"smart_reallocated_warn ({self.smart_reallocated_warn}) is above "
                f"smart_reallocated_fail ({self.smart_reallocated_fail})"
            )
        if self.inode_warn_pct > self.inode_fail_pct:
            raise ValueError(
                f"inode_warn_pct ({self.inode_warn_pct}) is above inode_fail_pct ({self.inode_fail_pct})"
            )
        check_known_controls(self.skip_controls, ROLE_CONTROL_IDS)
        return self


# ---------------------------------------------------------------- raw data shape


class _Raw(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")


class _Probe(_Raw):
    available: bool
    reason: str = ""


class _Uptime(_Probe):
    seconds: NonNegativeFloat | None = None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.available and self.seconds is None:
            raise ValueError("'seconds' is required when available is true")
        return self


class _Filesystem(_Raw):
    mount: str
    device: str = ""
    fstype: str
    readonly: bool = False
    network: bool = False
    size_bytes: NonNegativeInt | None = None
    used_bytes: NonNegativeInt | None = None
    avail_bytes: NonNegativeInt | None = None
    inodes_total: NonNegativeInt | None = None
    inodes_used: NonNegativeInt | None = None
    other_mounts: list[str] = Field(default_factory=list)
    error: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.error is None:
            missing = [
                name
                for name in ("size_bytes", "used_bytes", "avail_bytes", "inodes_total", "inodes_used")
                if getattr(self, name) is None
            ]
            if missing:
                raise ValueError(f"{self.mount}: {', '.join(missing)} required unless 'error' is set")
        return self


class _Filesystems(_Probe):
    items: list[_Filesystem] = Field(default_factory=list)


class _Unit(_Raw):
    unit: str
    load: str = ""
    active: str = ""
    sub: str = ""
    description: str = ""


class _Systemd(_Probe):
    system_state: str = ""
    failed_units: list[_Unit] = Field(default_factory=list)
    #: lines of `systemctl list-units --state=failed` the collector could not split (since issue 10)
    unparsed: list[str] = Field(default_factory=list)


class _TimeSync(_Probe):
    synchronized: bool | None = None
    source: str = ""
    ntp_service: str = ""
    chronyc: dict[str, Any] = Field(default_factory=dict)
    kernel: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.available and self.synchronized is None:
            raise ValueError("'synchronized' is required when available is true")
        return self


class _Smart(_Probe):
    """``smartctl -j -a`` output of each disk ``smartctl --scan`` found (judged by evaluators.smartctl)."""

    disks: list[dict[str, Any]] = Field(default_factory=list)
    #: devices `smartctl --scan` listed and those left out (smart_max_disks); absent in old saved outputs
    scanned: StrictInt | None = None
    skipped: StrictInt = 0


class _Journal(_Probe):
    """Entries of priority err or worse in the last ``hours`` hours (``journalctl -p err``)."""

    count: NonNegativeInt | None = None
    hours: StrictInt = 24
    #: the count stopped at the collector's limit (``max_entries``): a lower bound
    truncated: bool = False
    max_entries: StrictInt | None = None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.available and self.count is None:
            raise ValueError("'count' is required when available is true")
        return self


_NO_JOURNAL_PROBE = _Journal(
    available=False, reason="the collector sent no 'journal' probe (collector older than HEALTH-LNX-08)"
)

_NO_SMART_PROBE = _Smart(
    available=False, reason="the collector sent no 'smart' probe (collector older than HEALTH-LNX-07)"
)


class _Health(_Raw):
    schema_version: StrictInt = Field(alias="schema")
    hostname: str
    kernel: str
    uptime: _Uptime
    filesystems: _Filesystems
    # ``reboot`` (collectors before issue 11) is ignored: PATCH-LNX-04 judges a pending reboot
    systemd: _Systemd
    time_sync: _TimeSync
    smart: _Smart = _NO_SMART_PROBE
    journal: _Journal = _NO_JOURNAL_PROBE


def parse_raw(raw: Any) -> _Health:
    """Check the shape of the raw module output; unwrap a whole saved module result."""
    health = validate_raw(
        _Health, raw, kind=KIND, key=KIND, marker="filesystems", module="linux_health_facts"
    )
    if health.schema_version != SCHEMA:
        raise EvaluatorError(
            f"{KIND}: raw data schema {health.schema_version} is not supported (expected {SCHEMA}); "
            "update the collector and the runner together"
        )
    return health


def parse_thresholds(thresholds: Mapping[str, Any]) -> Thresholds:
    own = {k: v for k, v in thresholds.items() if k not in TREND_THRESHOLDS}
    return validate_thresholds(Thresholds, own, kind=KIND)


# ---------------------------------------------------------------- judgements


def _not_checked(control: Control, reason: str) -> Finding:
    return control.finding(
        Status.NOT_CHECKED,
        {"reason": reason},
        remediation=(
            f"Could not check: {reason}. Fix the cause if this host should support the check; if it never "
            f"can (a container without systemd, for instance), waive {control.control} for this host."
        ),
    )


def _pct(used: int, free: int) -> int:
    """Percent used rounded up, as ``df`` shows it (reserved blocks count as unavailable)."""
    total = used + free
    return 0 if total == 0 else -(-used * 100 // total)


def _excluded(fs: _Filesystem, th: Thresholds) -> str | None:
    if fs.readonly:
        return "read-only"
    if fs.fstype in th.fs_exclude_fstypes:
        return f"fstype {fs.fstype} excluded"
    for pattern in th.fs_exclude_mounts:
        if fnmatch.fnmatchcase(fs.mount, pattern):
            return f"mount matches {pattern!r}"
    return None


def _judge_usage(
    control: Control,
    probe: _Filesystems,
    th: Thresholds,
    *,
    inodes: bool,
) -> Finding:
    if not probe.available:
        return _not_checked(control, probe.reason)
    warn_pct, fail_pct = (
        (th.inode_warn_pct, th.inode_fail_pct) if inodes else (th.fs_warn_pct, th.fs_fail_pct)
    )
    measured: list[dict[str, Any]] = []
    volumes: list[dict[str, Any]] = []
    excluded: list[dict[str, str]] = []
    unreadable: list[dict[str, str]] = []
    for fs in probe.items:
        why = _excluded(fs, th)
        if why is not None:
            excluded.append({"mount": fs.mount, "reason": why})
            continue
        if fs.error is not None:
            unreadable.append({"mount": fs.mount, "fstype": fs.fstype, "error": fs.error})
            continue
        if inodes:
            total, used = fs.inodes_total or 0, fs.inodes_used or 0
            if total == 0:  # btrfs, vfat and others allocate inodes dynamically
                excluded.append({"mount": fs.mount, "reason": "no fixed inode table"})
                continue
            measured.append(
                {
                    "mount": fs.mount,
                    "fstype": fs.fstype,
                    "used_pct": _pct(used, max(total - used, 0)),
                    "free_inodes": max(total - used, 0),
                    "inodes_total": total,
                }
            )
        else:
            used, avail = fs.used_bytes or 0, fs.avail_bytes or 0
            if used + avail == 0:
                excluded.append({"mount": fs.mount, "reason": "size 0"})
                continue
            measured.append(
                {
                    "mount": fs.mount,
                    "fstype": fs.fstype,
                    "used_pct": _pct(used, avail),
                    "free_bytes": avail,
                    "size_bytes": fs.size_bytes or 0,
                }
            )
            # the trend's input: size is what df's Use% counts (used + available, reserved blocks left out)
            volumes.append(
                {"mount": fs.mount, "fstype": fs.fstype, "size_bytes": used + avail, "used_bytes": used}
            )
    if not measured and not unreadable:
        return _not_checked(control, "no filesystem left to check after exclusions")

    measured.sort(key=lambda m: (-m["used_pct"], m["mount"]))
    offending = [m for m in measured if m["used_pct"] >= warn_pct]
    failing = [m for m in offending if m["used_pct"] >= fail_pct]
    evidence: dict[str, Any] = {
        "warn_pct": warn_pct,
        "fail_pct": fail_pct,
        "checked": len(measured),
        "offending": offending,
    }
    if measured:
        evidence["fullest"] = {"mount": measured[0]["mount"], "used_pct": measured[0]["used_pct"]}
    if not inodes:
        volumes.sort(key=lambda v: v["mount"])
        evidence["volumes"] = volumes[:MAX_VOLUMES]
        if len(volumes) > MAX_VOLUMES:
            evidence["volumes_more"] = len(volumes) - MAX_VOLUMES
    if unreadable:
        evidence["unreadable"] = unreadable
    if excluded:
        evidence["excluded"] = excluded

    what = "inodes" if inodes else "space"
    if failing:
        mounts = ", ".join(f"{m['mount']} ({m['used_pct']}%)" for m in failing)
        note = f"{mounts} at or above {fail_pct}% {what} used"
        warning = [m for m in offending if m not in failing]
        if warning:
            note += "; " + ", ".join(f"{m['mount']} ({m['used_pct']}%)" for m in warning)
            note += f" at or above {warn_pct}%"
        if unreadable:
            note += "; could not measure " + ", ".join(u["mount"] for u in unreadable)
        return control.finding(Status.FAIL, evidence, remediation=f"{note}. {control.remediation}")
    if offending or unreadable:
        notes = []
        if offending:
            mounts = ", ".join(f"{m['mount']} ({m['used_pct']}%)" for m in offending)
            notes.append(f"{mounts} at or above {warn_pct}% {what} used.")
        if unreadable:
            mounts = ", ".join(u["mount"] for u in unreadable)
            notes.append(
                f"Could not measure {mounts}: check the mount (`stat -f MOUNT`); a hung network mount needs "
                "its server fixed or `umount -l`."
            )
        return control.finding(
            Status.WARN,
            evidence,
            severity=Severity.MEDIUM,
            remediation=" ".join([*notes, control.remediation]),
        )
    return control.finding(Status.PASS, evidence, remediation="")


def _judge_units(systemd: _Systemd, th: Thresholds) -> Finding:
    if not systemd.available:
        return _not_checked(FAILED_UNITS, systemd.reason)
    problem = ""
    if systemd.unparsed:
        problem = f"{len(systemd.unparsed)} line(s) of systemctl list-units could not be read"
    elif systemd.system_state == "degraded" and not systemd.failed_units:
        problem = "systemctl is-system-running says degraded (a unit failed) but no failed unit was listed"
    elif systemd.system_state == "running" and systemd.failed_units:
        problem = (
            f"systemctl is-system-running says running (no unit failed) but {len(systemd.failed_units)} "
            "failed unit(s) were listed"
        )
    if problem:
        return FAILED_UNITS.finding(
            Status.ERROR,
            {"reason": problem, "system_state": systemd.system_state, "unparsed": systemd.unparsed[:20]},
            remediation=f"Not judged: {problem}. Run `systemctl --failed` on the host and compare.",
        )
    names = [u.unit for u in systemd.failed_units]
    ignored = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in th.failed_units_ignore)]
    failed = [n for n in names if n not in ignored]
    evidence: dict[str, Any] = {"failed_units": failed, "count": len(failed)}
    if systemd.system_state:
        evidence["system_state"] = systemd.system_state
    if ignored:
        evidence["ignored"] = ignored
    if failed:
        return FAILED_UNITS.finding(
            Status.FAIL, evidence, remediation=f"Failed: {', '.join(failed)}. {FAILED_UNITS.remediation}"
        )
    return FAILED_UNITS.finding(Status.PASS, evidence, remediation="")


def _judge_time(sync: _TimeSync) -> Finding:
    if not sync.available:
        return _not_checked(TIME_SYNC, sync.reason)
    evidence: dict[str, Any] = {
        "synchronized": sync.synchronized,
        "source": sync.source,
        "ntp_service": sync.ntp_service or None,
    }
    if sync.chronyc.get("available"):
        for key in ("leap_status", "reference", "stratum", "offset_seconds"):
            if key in sync.chronyc:
                evidence[key] = sync.chronyc[key]
    if sync.kernel.get("available") and "maxerror_us" in sync.kernel:
        evidence["kernel_maxerror_us"] = sync.kernel["maxerror_us"]
    if sync.synchronized:
        return TIME_SYNC.finding(Status.PASS, evidence, remediation="")
    prefix = (
        "No time service answered (chronyd, systemd-timedated); in a container the host's clock is the "
        "one to fix. "
        if not sync.ntp_service
        else ""
    )
    return TIME_SYNC.finding(Status.FAIL, evidence, remediation=prefix + TIME_SYNC.remediation)


def _judge_uptime(uptime: _Uptime, th: Thresholds, kernel: str) -> Finding:
    if not uptime.available or uptime.seconds is None:
        return _not_checked(UPTIME, uptime.reason or "uptime unknown")
    days = round(uptime.seconds / _SECONDS_PER_DAY, 1)
    evidence: dict[str, Any] = {
        "uptime_days": days,
        "warn_days": th.uptime_warn_days,
        "running_kernel": kernel,
    }
    if uptime.seconds > th.uptime_warn_days * _SECONDS_PER_DAY:
        return UPTIME.finding(Status.WARN, evidence)
    return UPTIME.finding(Status.PASS, evidence, remediation="")


def _judge_smart(smart: _Smart, th: Thresholds) -> Finding:
    if not smart.available:
        return smart_not_checked(smart.reason)
    if not smart.disks:
        return smart_not_checked(
            "smartctl --scan found no disk (a VM or container has no SMART-capable disk)"
        )
    if smart.scanned is not None and smart.scanned - smart.skipped != len(smart.disks):
        reason = (
            f"smartctl --scan listed {smart.scanned} devices ({smart.skipped} skipped) but "
            f"{len(smart.disks)} outputs were collected"
        )
        return SMART.finding(
            Status.ERROR,
            {
                "reason": reason,
                "scanned": smart.scanned,
                "skipped": smart.skipped,
                "collected": len(smart.disks),
            },
            remediation=f"Not judged: {reason}. Run the collector again; compare with `smartctl --scan`.",
        )
    finding = judge_disks(smart.disks, parse_smart_thresholds(th.model_dump(), KIND), KIND)
    if smart.skipped and finding.status is Status.PASS:
        evidence = {**finding.evidence, "skipped": smart.skipped}
        return SMART.finding(
            Status.WARN,
            evidence,
            severity=Severity.LOW,
            remediation=f"{smart.skipped} of {smart.scanned} disks were not read "
            "(linux_health_smart_max_disks): raise the limit so every disk is judged.",
        )
    return finding


def _judge_errors(journal: _Journal, smart: _Smart, th: Thresholds) -> Finding:
    counts: dict[str, int] = {}
    evidence: dict[str, Any] = {"hours": journal.hours, "journal_errors_warn": th.journal_errors_warn}
    if journal.available and journal.count is not None:
        counts["journal"] = journal.count
        if journal.truncated:
            evidence["journal_truncated"] = True
    else:
        evidence["journal_reason"] = journal.reason
    if smart.available:
        for disk in smart.disks:
            found = error_log_count(disk)
            if found is not None:
                counts[f"smart:{found[0]}"] = found[1]
    if not counts:
        smart_why = smart.reason if not smart.available else "no disk reported an error log"
        return _not_checked(ERROR_EVENTS, f"journal: {journal.reason}; SMART: {smart_why}")
    evidence["error_counts"] = counts
    if "journal" in counts and counts["journal"] >= th.journal_errors_warn:
        return ERROR_EVENTS.finding(
            Status.WARN,
            evidence,
            severity=Severity.MEDIUM,
            remediation=(
                f"{counts['journal']} journal entries of priority err or worse in the last {journal.hours} "
                f"hours (warns from {th.journal_errors_warn}). {ERROR_EVENTS.remediation}"
            ),
        )
    return ERROR_EVENTS.finding(Status.PASS, evidence, remediation="")


@evaluator(KIND, role="linux_health", controls=CONTROLS, defaults=DEFAULTS)
def evaluate_linux_health(raw: Any, thresholds: Mapping[str, Any]) -> list[Finding]:
    """Linux host health: disk space, inodes, failed units, time sync, uptime, SMART, error events."""
    th = parse_thresholds(thresholds)
    health = parse_raw(raw)
    findings = [
        _judge_usage(FS_SPACE, health.filesystems, th, inodes=False),
        _judge_usage(FS_INODES, health.filesystems, th, inodes=True),
        _judge_units(health.systemd, th),
        _judge_time(health.time_sync),
        _judge_uptime(health.uptime, th, health.kernel),
        _judge_smart(health.smart, th),
        _judge_errors(health.journal, health.smart, th),
    ]
    return [_skip(f, th.skip_controls) for f in findings]


evaluator(SMARTCTL_KIND, role="linux_health", controls=[SMART], defaults=SMART_DEFAULTS)(evaluate_smartctl)


def _skip(finding: Finding, skip: Sequence[str]) -> Finding:
    if finding.control not in skip:
        return finding
    control = next(c for c in CONTROLS if c.control == finding.control)
    return control.finding(
        Status.NOT_CHECKED,
        {"reason": "disabled by configuration (linux_health skip_controls)"},
        remediation=(
            f"To check it again, remove {control.control} from skip_controls "
            "(maintenance.thresholds.linux_health or linux_health_skip_controls)."
        ),
    )
