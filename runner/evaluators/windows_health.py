"""Judge the windows_health PowerShell collector's JSON: controls HEALTH-WIN-01 to HEALTH-WIN-06.

The raw data is the object the role's collector (``roles/windows_health/files/collect_health.ps1``) prints
with ``ConvertTo-Json -Depth 5``: fixed volumes (``Win32_LogicalDisk`` with ``DriveType=3``), the operating
system (``Win32_OperatingSystem``), the pending-reboot registry keys, the automatic services
(``Get-Service``) and a count of critical/error events in the System log. Enums and dates may come in the
Windows PowerShell 5.1 or the PowerShell 7 encoding (see :mod:`runner.evaluators.windows_common`). A probe
that could not run is ``not_checked`` with its reason, never ``pass``. HEALTH-WIN-07 and HEALTH-WIN-08
(days to full, errors rising) are judged from the ledger's history by :mod:`runner.trends`, from the
``volumes`` of HEALTH-WIN-01 and the ``error_counts`` of HEALTH-WIN-06.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from runner import catalogue
from runner.evaluators import EvaluatorError, evaluator
from runner.evaluators.common import check_known_controls, describe, validate_thresholds
from runner.evaluators.windows_common import (
    SERVICE_START_TYPE,
    SERVICE_STATUS,
    Probe,
    RebootProbe,
    WinRaw,
    as_list,
    enum_name,
    not_checked,
    ps_datetime,
    reboot_indicators,
    skipped,
    unwrap_output,
)
from runner.results import Control, Finding, Status

KIND = "windows_health"
ROLE = "windows_health"
SCHEMA = 1
_CATALOGUE = catalogue.load()  # titles, severities, remediations and defaults: runner/catalogue/data/
_GIB = 1024**3

VOLUMES = _CATALOGUE.control("HEALTH-WIN-01").as_control()
REBOOT = _CATALOGUE.control("HEALTH-WIN-02").as_control()
UPTIME = _CATALOGUE.control("HEALTH-WIN-03").as_control()
SERVICES = _CATALOGUE.control("HEALTH-WIN-04").as_control()
EVENTS = _CATALOGUE.control("HEALTH-WIN-05").as_control()
ERROR_COUNT = _CATALOGUE.control("HEALTH-WIN-06").as_control()
CONTROLS: tuple[Control, ...] = (VOLUMES, REBOOT, UPTIME, SERVICES, EVENTS, ERROR_COUNT)
CONTROL_IDS: tuple[str, ...] = tuple(c.control for c in CONTROLS)
#: skip_controls may name every control of the role (the trend controls too: runner.trends skips them)
ROLE_CONTROL_IDS: tuple[str, ...] = tuple(spec.id for spec in _CATALOGUE.for_role(ROLE))
#: most volumes listed in HEALTH-WIN-01's ``volumes`` (the input of the days-to-full trend)
MAX_VOLUMES = 100

#: threshold names are the role variables without the role prefix; values, types and ranges: the catalogue
DEFAULTS: Mapping[str, Any] = MappingProxyType(_CATALOGUE.roles[ROLE].defaults(KIND))
#: the role's thresholds only the trend step uses (runner.evaluators.trends): accepted and ignored here
TREND_THRESHOLDS = frozenset(set(_CATALOGUE.roles[ROLE].thresholds) - set(DEFAULTS))


class Thresholds(BaseModel):
    """The evaluator's settings, checked before anything is judged."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    volume_warn_free_pct: StrictInt = Field(ge=0, le=100)
    volume_fail_free_pct: StrictInt = Field(ge=0, le=100)
    volume_exclude: list[StrictStr]
    uptime_warn_days: StrictInt = Field(ge=0)
    service_ignore: list[StrictStr]
    service_ignore_trigger_start: bool
    event_critical_fail_count: StrictInt = Field(ge=1)
    event_error_warn_count: StrictInt = Field(ge=1)
    skip_controls: list[StrictStr]

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.volume_warn_free_pct < self.volume_fail_free_pct:
            raise ValueError(
                f"volume_warn_free_pct ({self.volume_warn_free_pct}) is below volume_fail_free_pct "
                f"({self.volume_fail_free_pct}): warn must come first as space shrinks"
            )
        check_known_controls(self.skip_controls, ROLE_CONTROL_IDS)
        return self


# ---------------------------------------------------------------- raw data shape


class _Disk(WinRaw):
    """Win32_LogicalDisk (DriveType 3 = local disk); Size/FreeSpace are null on an unformatted volume."""

    DeviceID: str
    VolumeName: str | None = None
    FileSystem: str | None = None
    DriveType: StrictInt = 3
    Size: NonNegativeInt | None = None
    FreeSpace: NonNegativeInt | None = None


class _Volumes(Probe):
    items: Any = None


class _Os(Probe):
    Caption: str = ""
    Version: str = ""
    LastBootUpTime: Any = None


class _Service(WinRaw):
    Name: str
    DisplayName: str = ""
    Status: Any
    StartType: Any
    TriggerStart: bool = False


class _Services(Probe):
    items: Any = None


class _EventGroup(WinRaw):
    ProviderName: str
    Id: StrictInt
    Level: Any
    Count: NonNegativeInt
    Last: Any = None
    Message: str = ""


class _Events(Probe):
    hours: StrictInt = 24
    critical: NonNegativeInt = 0
    error: NonNegativeInt = 0
    top: Any = None
    #: critical + error events of the last 24 hours (HEALTH-WIN-06); absent from collectors before it
    errors_24h: NonNegativeInt | None = None
    max_events: NonNegativeInt | None = None
    truncated: bool = False


class _Health(WinRaw):
    schema_version: StrictInt = Field(alias="schema")
    collector: str
    hostname: str
    ps_version: str = ""
    collected_at: Any
    os: _Os
    volumes: _Volumes
    reboot: RebootProbe
    services: _Services
    events: _Events


_EVENT_LEVEL: Mapping[int, str] = {1: "Critical", 2: "Error", 3: "Warning", 4: "Information"}


def parse_raw(raw: Any) -> _Health:
    data = unwrap_output(raw, KIND)
    try:
        health = _Health.model_validate(data)
    except ValidationError as exc:
        raise EvaluatorError(f"{KIND}: raw data has the wrong shape: {describe(exc)}") from exc
    if health.collector != KIND:
        raise EvaluatorError(f"{KIND}: raw data comes from the {health.collector!r} collector, not {KIND!r}")
    if health.schema_version != SCHEMA:
        raise EvaluatorError(
            f"{KIND}: raw data schema {health.schema_version} is not supported (expected {SCHEMA})"
        )
    return health


def _items(value: Any, model: type[WinRaw], field: str) -> list[Any]:
    out = []
    for index, item in enumerate(as_list(value)):
        try:
            out.append(model.model_validate(item))
        except ValidationError as exc:
            raise EvaluatorError(f"{KIND}: {field}.{index}: {describe(exc)}") from exc
    return out


# ---------------------------------------------------------------- judgements


def _volumes(probe: _Volumes, th: Thresholds) -> Finding:
    if not probe.available:
        return not_checked(VOLUMES, probe.reason)
    measured: list[dict[str, Any]] = []
    volumes: list[dict[str, Any]] = []
    excluded: list[dict[str, str]] = []
    for disk in _items(probe.items, _Disk, "volumes.items"):
        if disk.DriveType != 3:
            excluded.append(
                {"volume": disk.DeviceID, "reason": f"DriveType {disk.DriveType} is not a fixed disk"}
            )
            continue
        if any(fnmatch.fnmatchcase(disk.DeviceID.upper(), p.upper()) for p in th.volume_exclude):
            excluded.append({"volume": disk.DeviceID, "reason": "excluded by configuration"})
            continue
        if not disk.Size or disk.FreeSpace is None:
            excluded.append({"volume": disk.DeviceID, "reason": "no size (unformatted or offline)"})
            continue
        if disk.FreeSpace > disk.Size:
            reason = f"{disk.DeviceID}: FreeSpace {disk.FreeSpace} is larger than Size {disk.Size}"
            return VOLUMES.finding(
                Status.ERROR,
                {"reason": reason},
                remediation=f"Not judged: {reason}. Compare with `Get-Volume` on the host.",
            )
        free_pct = round(disk.FreeSpace * 100 / disk.Size, 1)
        measured.append(
            {
                "volume": disk.DeviceID,
                "label": disk.VolumeName or "",
                "free_pct": free_pct,
                "free_gib": round(disk.FreeSpace / _GIB, 1),
                "size_gib": round(disk.Size / _GIB, 1),
            }
        )
        # the trend's input (runner.trends): exact bytes, not the rounded GiB
        volumes.append(
            {"volume": disk.DeviceID, "size_bytes": disk.Size, "used_bytes": disk.Size - disk.FreeSpace}
        )
    if not measured:
        return not_checked(VOLUMES, "no fixed volume with a size to check")
    measured.sort(key=lambda m: (m["free_pct"], m["volume"]))
    offending = [m for m in measured if m["free_pct"] < th.volume_warn_free_pct]
    failing = [m for m in offending if m["free_pct"] < th.volume_fail_free_pct]
    evidence: dict[str, Any] = {
        "warn_free_pct": th.volume_warn_free_pct,
        "fail_free_pct": th.volume_fail_free_pct,
        "checked": len(measured),
        "offending": offending,
        "fullest": {"volume": measured[0]["volume"], "free_pct": measured[0]["free_pct"]},
        "volumes": sorted(volumes, key=lambda v: v["volume"])[:MAX_VOLUMES],
    }
    if len(volumes) > MAX_VOLUMES:
        evidence["volumes_more"] = len(volumes) - MAX_VOLUMES
    if excluded:
        evidence["excluded"] = excluded
    if not offending:
        return VOLUMES.finding(Status.PASS, evidence)
    names = ", ".join(f"{m['volume']} ({m['free_pct']}% / {m['free_gib']} GiB free)" for m in offending)
    return VOLUMES.finding(
        Status.FAIL if failing else Status.WARN,
        evidence,
        remediation=f"Low on space: {names}. {VOLUMES.remediation}",
    )


def _reboot(probe: RebootProbe) -> Finding:
    if not probe.available:
        return not_checked(REBOOT, probe.reason)
    indicators = reboot_indicators(probe)
    evidence: dict[str, Any] = {"indicators": indicators}
    if probe.pending_file_rename:
        evidence["pending_file_rename_count"] = probe.pending_file_rename_count
    return REBOOT.finding(Status.WARN if indicators else Status.PASS, evidence)


def _uptime(os_probe: _Os, now: datetime, th: Thresholds) -> Finding:
    if not os_probe.available:
        return not_checked(UPTIME, os_probe.reason)
    booted = ps_datetime(os_probe.LastBootUpTime, "os.LastBootUpTime")
    days = round((now - booted).total_seconds() / 86400, 1)
    if days < 0:
        raise EvaluatorError(
            f"{KIND}: os.LastBootUpTime {booted.isoformat()} is after collected_at {now.isoformat()}"
        )
    evidence = {
        "uptime_days": days,
        "warn_days": th.uptime_warn_days,
        "last_boot": booted.isoformat(),
        "os": os_probe.Caption,
        "os_version": os_probe.Version,
    }
    return UPTIME.finding(Status.WARN if days >= th.uptime_warn_days else Status.PASS, evidence)


def _services(probe: _Services, th: Thresholds) -> Finding:
    if not probe.available:
        return not_checked(SERVICES, probe.reason)
    stopped: list[dict[str, Any]] = []
    ignored: list[str] = []
    automatic = 0
    for index, svc in enumerate(_items(probe.items, _Service, "services.items")):
        start = enum_name(svc.StartType, SERVICE_START_TYPE, f"services.items.{index}.StartType")
        if start != "Automatic":
            continue
        automatic += 1
        status = enum_name(svc.Status, SERVICE_STATUS, f"services.items.{index}.Status")
        if status == "Running":
            continue
        if any(fnmatch.fnmatch(svc.Name.lower(), p.lower()) for p in th.service_ignore):
            ignored.append(svc.Name)
            continue
        if svc.TriggerStart and th.service_ignore_trigger_start:
            ignored.append(svc.Name)
            continue
        stopped.append({"name": svc.Name, "display_name": svc.DisplayName, "status": status})
    if automatic == 0:
        # every Windows installation has automatic services: an empty list is a collector that read nothing
        reason = "the collector returned no automatic service (Windows always has some)"
        return SERVICES.finding(
            Status.ERROR,
            {"reason": reason},
            remediation=f"Not judged: {reason}. Run `Get-Service` on the host and check the collector.",
        )
    stopped.sort(key=lambda s: s["name"].lower())
    evidence: dict[str, Any] = {
        "automatic": automatic,
        "stopped": stopped,
        "ignored": sorted(ignored, key=str.lower),
    }
    if not stopped:
        return SERVICES.finding(Status.PASS, evidence)
    names = ", ".join(s["name"] for s in stopped)
    return SERVICES.finding(
        Status.FAIL, evidence, remediation=f"Not running: {names}. {SERVICES.remediation}"
    )


def _events(probe: _Events, th: Thresholds) -> Finding:
    if not probe.available:
        return not_checked(EVENTS, probe.reason)
    top = []
    for index, group in enumerate(_items(probe.top, _EventGroup, "events.top")):
        entry: dict[str, Any] = {
            "provider": group.ProviderName,
            "id": group.Id,
            "level": enum_name(group.Level, _EVENT_LEVEL, f"events.top.{index}.Level"),
            "count": group.Count,
        }
        if group.Last is not None:
            entry["last"] = ps_datetime(group.Last, f"events.top.{index}.Last").isoformat()
        if group.Message:
            entry["message"] = group.Message[:200]
        top.append(entry)
    listed = sum(e["count"] for e in top)
    total = probe.critical + probe.error
    if listed > total or (total > 0) != (listed > 0):
        reason = (
            f"the System log counts {probe.critical} critical and {probe.error} error events, "
            f"but the grouped list holds {listed}"
        )
        return EVENTS.finding(
            Status.ERROR,
            {"reason": reason, "critical": probe.critical, "error": probe.error, "listed": listed},
            remediation=f"Not judged: {reason}. Read the System log on the host (Get-WinEvent).",
        )
    evidence: dict[str, Any] = {
        "hours": probe.hours,
        "critical": probe.critical,
        "error": probe.error,
        "critical_fail_count": th.event_critical_fail_count,
        "error_warn_count": th.event_error_warn_count,
        "top": top,
    }
    if probe.critical >= th.event_critical_fail_count:
        status = Status.FAIL
    elif probe.error >= th.event_error_warn_count:
        status = Status.WARN
    else:
        status = Status.PASS
    return EVENTS.finding(status, evidence)


def _error_count(probe: _Events) -> Finding:
    if not probe.available:
        return not_checked(ERROR_COUNT, probe.reason)
    if probe.errors_24h is None:
        return not_checked(
            ERROR_COUNT,
            "the collector gives no 24-hour count (collector older than HEALTH-WIN-06)",
            remediation="Update the windows_health role (collect_health.ps1) so the count is collected.",
        )
    evidence: dict[str, Any] = {"error_counts": {"system_log": probe.errors_24h}, "hours": 24}
    if probe.max_events is not None:
        evidence["max_events"] = probe.max_events
    if probe.truncated:  # a lower bound: the count stopped at the collector's limit
        evidence["truncated"] = True
    return ERROR_COUNT.finding(Status.PASS, evidence, remediation="")


@evaluator(KIND, role=ROLE, controls=CONTROLS, defaults=DEFAULTS)
def evaluate_windows_health(raw: Any, thresholds: Mapping[str, Any]) -> list[Finding]:
    """Windows server health: free space, pending reboot, uptime, stopped services, System-log errors."""
    own = {k: v for k, v in thresholds.items() if k not in TREND_THRESHOLDS}
    th = validate_thresholds(Thresholds, own, kind=KIND)
    health = parse_raw(raw)
    now = ps_datetime(health.collected_at, f"{KIND}: collected_at")
    judged = {
        VOLUMES.control: lambda: _volumes(health.volumes, th),
        REBOOT.control: lambda: _reboot(health.reboot),
        UPTIME.control: lambda: _uptime(health.os, now, th),
        SERVICES.control: lambda: _services(health.services, th),
        EVENTS.control: lambda: _events(health.events, th),
        ERROR_COUNT.control: lambda: _error_count(health.events),
    }
    try:
        return [
            skipped(control, ROLE) if control.control in th.skip_controls else judged[control.control]()
            for control in CONTROLS
        ]
    except EvaluatorError as exc:
        if str(exc).startswith(f"{KIND}:"):
            raise
        raise EvaluatorError(f"{KIND}: {exc}") from exc
