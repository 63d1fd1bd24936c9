"""Judge the windows_antivirus collector's JSON: controls AV-WIN-01 to AV-WIN-07.

Sources the collector reads (``roles/windows_antivirus/files/collect_antivirus.ps1``):

- ``defender``: ``Get-MpComputerStatus`` (CIM class ``MSFT_MpComputerStatus``), the selected properties as
  PowerShell serialises them (dates ``/Date(ms)/`` on 5.1, ISO 8601 on 7). Ages are days; ``4294967295``
  (UInt32 max) means the scan never ran. ``available: false`` when the cmdlet is missing (Server Core or a
  server without the Windows-Defender feature) or fails.
- ``sophos``: the Windows services whose name or display name starts with "Sophos" (``Get-Service``; Status
  and StartType are enum numbers on 5.1, names on 7), the last update time from the AutoUpdate registry key
  (``LastUpdateTime``, Unix seconds; ``Details\\LastGoodInstallTime``, Unix milliseconds) and the tamper
  protection flag (``SEDEnabled``). ``available: false`` when no Sophos service exists.
- ``security_center``: ``root/SecurityCenter2`` ``AntiVirusProduct`` instances (client editions only). Their
  ``productState`` is an undocumented bitfield read the way Windows Security shows it: bits 12-15 the scanner
  state (1 on, 0 off, 2 snoozed, 3 expired), bits 8-11 the owner (1 Microsoft), bits 4-7 the signatures
  (0 up to date, 1 out of date). 266240 = 0x041000 third-party on and current; 397568 = 0x061100 Defender on
  and current; 393472 = 0x060100 Defender off.

When Sophos or another product is the active antivirus, Defender in Passive / EDR Block / SxS Passive mode
(or disabled, as Windows clients do automatically) is expected, not a failure.
"""

from __future__ import annotations

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
    SERVICE_START_TYPE,
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

KIND = "windows_antivirus"
ROLE = "windows_antivirus"
SCHEMA = 1
_CATALOGUE = catalogue.load()  # titles, severities, remediations and defaults: runner/catalogue/data/
NEVER = 4294967295  # UInt32 max: Defender's "no such scan / no such update"

ACTIVE = _CATALOGUE.control("AV-WIN-01").as_control()
REALTIME = _CATALOGUE.control("AV-WIN-02").as_control()
SIGNATURES = _CATALOGUE.control("AV-WIN-03").as_control()
SCAN = _CATALOGUE.control("AV-WIN-04").as_control()
TAMPER = _CATALOGUE.control("AV-WIN-05").as_control()
MODE = _CATALOGUE.control("AV-WIN-06").as_control()
SECURITY_CENTER = _CATALOGUE.control("AV-WIN-07").as_control()
CONTROLS: tuple[Control, ...] = (ACTIVE, REALTIME, SIGNATURES, SCAN, TAMPER, MODE, SECURITY_CENTER)
CONTROL_IDS: tuple[str, ...] = tuple(c.control for c in CONTROLS)

#: threshold names are the role variables without the role prefix; values, types and ranges: the catalogue
DEFAULTS: Mapping[str, Any] = MappingProxyType(_CATALOGUE.roles[ROLE].defaults(KIND))

#: AMRunningMode strings (Get-MpComputerStatus; "Passive Mode" and "Not running" seen on some platforms)
_ACTIVE_MODES = {"normal"}
_PASSIVE_MODES = {"passive", "passive mode", "edr block mode", "sxs passive mode"}

_SC_STATE = {0: "off", 1: "on", 2: "snoozed", 3: "expired"}


# ---------------------------------------------------------------- thresholds


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    signature_warn_days: StrictInt = Field(ge=0)
    signature_fail_days: StrictInt = Field(ge=0)
    scan_warn_days: StrictInt = Field(ge=0)
    scan_fail_days: StrictInt = Field(ge=0)
    sophos_update_warn_hours: StrictInt = Field(ge=0)
    sophos_update_fail_hours: StrictInt = Field(ge=0)
    sophos_required_services: list[StrictStr]
    sophos_realtime_services: list[StrictStr]
    require_tamper_protection: bool
    skip_controls: list[StrictStr]

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        for warn, fail in (
            ("signature_warn_days", "signature_fail_days"),
            ("scan_warn_days", "scan_fail_days"),
            ("sophos_update_warn_hours", "sophos_update_fail_hours"),
        ):
            if getattr(self, warn) > getattr(self, fail):
                raise ValueError(f"{warn} ({getattr(self, warn)}) is above {fail} ({getattr(self, fail)})")
        check_known_controls(self.skip_controls, CONTROL_IDS)
        return self


# ---------------------------------------------------------------- raw data shape


class _Defender(Probe):
    status: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.available:
            missing = [
                k
                for k in (
                    "AMServiceEnabled",
                    "AntivirusEnabled",
                    "RealTimeProtectionEnabled",
                    "AMRunningMode",
                )
                if k not in self.status
            ]
            if missing:
                raise ValueError(f"status lacks {', '.join(missing)} (Get-MpComputerStatus properties)")
        return self


class _Service(WinRaw):
    Name: str
    DisplayName: str = ""
    Status: int | str
    StartType: int | str | None = None


class _Sophos(Probe):
    services: Any = None
    update: dict[str, Any] = Field(default_factory=dict)
    tamper_protection: dict[str, Any] = Field(default_factory=dict)
    version: str = ""


class _AvProduct(WinRaw):
    displayName: str
    productState: StrictInt
    pathToSignedProductExe: str = ""
    timestamp: str = ""


class _SecurityCenter(Probe):
    products: Any = None


class _Os(Probe):
    caption: str = ""
    product_type: int | None = None  # Win32_OperatingSystem.ProductType: 1 workstation, 2 DC, 3 server


class _Raw(WinRaw):
    schema_version: StrictInt = Field(alias="schema")
    collector: str
    hostname: str
    collected_at: Any
    os: _Os = _Os(available=False, reason="not collected")
    defender: _Defender
    sophos: _Sophos
    security_center: _SecurityCenter


@dataclass(frozen=True)
class Service:
    name: str
    display_name: str
    status: str
    start_type: str | None


@dataclass(frozen=True)
class ScProduct:
    name: str
    state: int
    scanner: str
    up_to_date: bool
    microsoft: bool

    def evidence(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "product_state": self.state,
            "product_state_hex": f"0x{self.state:06X}",
            "scanner": self.scanner,
            "signatures": "up_to_date" if self.up_to_date else "out_of_date",
        }


def decode_product_state(state: int) -> tuple[str, bool, bool]:
    """(scanner state, signatures up to date, owned by Microsoft) from a SecurityCenter2 productState."""
    scanner = _SC_STATE.get((state >> 12) & 0xF, f"unknown({(state >> 12) & 0xF})")
    return scanner, ((state >> 4) & 0xF) == 0, ((state >> 8) & 0xF) == 1


@dataclass
class Parsed:
    hostname: str
    collected_at: datetime
    workstation: bool | None
    defender: _Defender
    defender_mode: str  # absent | active | passive | disabled
    sophos: _Sophos
    sophos_services: list[Service] = field(default_factory=list)
    sc: _SecurityCenter | None = None
    sc_products: list[ScProduct] = field(default_factory=list)


def _bool(status: Mapping[str, Any], key: str) -> bool | None:
    value = status.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise EvaluatorError(f"{KIND}: defender.status.{key}: expected true/false, got {value!r}")
    return value


def _age(status: Mapping[str, Any], key: str) -> int | None:
    """A Defender age in days; None for never (4294967295) or absent."""
    value = status.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise EvaluatorError(f"{KIND}: defender.status.{key}: expected a day count, got {value!r}")
    return None if value >= NEVER else value


def _date(status: Mapping[str, Any], key: str) -> datetime | None:
    value = status.get(key)
    if value in (None, ""):
        return None
    parsed = ps_datetime(value, f"defender.status.{key}")
    return None if parsed.year < 1700 else parsed  # DateTime.MinValue / FILETIME 0: never


def _age_date_disagreement(status: Mapping[str, Any], pairs: Sequence[tuple[str, str]], now: datetime) -> str:
    """Get-MpComputerStatus reports each age twice (days, and the time it counts from): they must agree.

    Also: a judged property absent altogether (not null) means the output is not what the collector
    selects, so there is nothing to judge.
    """
    problems = []
    keys = [k for pair in pairs for k in pair]
    if not any(k in status for k in keys):
        return f"Get-MpComputerStatus output has none of {', '.join(keys)}"
    for age_key, date_key in pairs:
        raw_age = status.get(age_key)
        when = _date(status, date_key)
        if raw_age is None or when is None:
            continue
        age = _age(status, age_key)
        if age is None:
            problems.append(f"{age_key} says never but {date_key} is {_iso(when)}")
            continue
        days = (now - when).total_seconds() / 86400
        if abs(days - age) > 2:
            problems.append(f"{age_key} is {age} days but {date_key} ({_iso(when)}) is {days:.1f} days ago")
    return "; ".join(problems)


def _mode(defender: _Defender) -> str:
    if not defender.available:
        return "absent"
    status = defender.status
    mode = str(status.get("AMRunningMode") or "").strip().lower()
    if mode in _PASSIVE_MODES:
        return "passive"
    if mode in _ACTIVE_MODES and _bool(status, "AMServiceEnabled") and _bool(status, "AntivirusEnabled"):
        return "active"
    return "disabled"


def parse_raw(raw: Any) -> Parsed:
    """Check the collector JSON's shape; every error names the evaluator and the field."""
    return with_kind(KIND, _parse_raw, raw)


def _parse_raw(raw: Any) -> Parsed:
    data = unwrap_output(raw, KIND)
    if "collector" in data and data["collector"] != KIND:
        raise EvaluatorError(f"{KIND}: raw data comes from collector {data['collector']!r}, not {KIND!r}")
    try:
        parsed = _Raw.model_validate(data)
    except ValidationError as exc:
        raise EvaluatorError(f"{KIND}: raw data has the wrong shape: {describe(exc)}") from exc
    if parsed.schema_version != SCHEMA:
        raise EvaluatorError(
            f"{KIND}: raw data schema {parsed.schema_version} is not supported (expected {SCHEMA}); "
            "update the collector and the runner together"
        )
    if parsed.collector != KIND:
        raise EvaluatorError(f"{KIND}: raw data comes from collector {parsed.collector!r}, not {KIND!r}")
    services: list[Service] = []
    if parsed.sophos.available:
        for i, item in enumerate(as_list(parsed.sophos.services)):
            where = f"sophos.services.{i}"
            try:
                svc = _Service.model_validate(item)
            except ValidationError as exc:
                raise EvaluatorError(f"{KIND}: {where}: {describe(exc)}") from exc
            services.append(
                Service(
                    name=svc.Name,
                    display_name=svc.DisplayName or svc.Name,
                    status=enum_name(svc.Status, SERVICE_STATUS, f"{where}.Status"),
                    start_type=None
                    if svc.StartType is None
                    else enum_name(svc.StartType, SERVICE_START_TYPE, f"{where}.StartType"),
                )
            )
    products: list[ScProduct] = []
    if parsed.security_center.available:
        for i, item in enumerate(as_list(parsed.security_center.products)):
            try:
                prod = _AvProduct.model_validate(item)
            except ValidationError as exc:
                raise EvaluatorError(f"{KIND}: security_center.products.{i}: {describe(exc)}") from exc
            scanner, current, microsoft = decode_product_state(prod.productState)
            microsoft = microsoft or "defender" in prod.displayName.lower()
            products.append(ScProduct(prod.displayName, prod.productState, scanner, current, microsoft))
    workstation = None if parsed.os.product_type is None else parsed.os.product_type == 1
    return Parsed(
        hostname=parsed.hostname,
        collected_at=ps_datetime(parsed.collected_at, "collected_at"),
        workstation=workstation,
        defender=parsed.defender,
        defender_mode=_mode(parsed.defender),
        sophos=parsed.sophos,
        sophos_services=services,
        sc=parsed.security_center,
        sc_products=products,
    )


def parse_thresholds(thresholds: Mapping[str, Any]) -> Thresholds:
    return validate_thresholds(Thresholds, thresholds, kind=KIND)


# ---------------------------------------------------------------- the set-up: who is the primary antivirus


@dataclass
class ThirdParty:
    name: str
    source: str
    running: bool
    problems: list[str]
    evidence: dict[str, Any]


@dataclass
class Setup:
    defender_mode: str
    third_parties: list[ThirdParty]

    @property
    def active_third_party(self) -> ThirdParty | None:
        return next((t for t in self.third_parties if t.running), None)

    @property
    def in_charge(self) -> ThirdParty | None:
        """The third-party product to judge: the active one, else a stopped one if Defender is not active."""
        active = self.active_third_party
        if active is not None:
            return active
        if self.defender_mode != "active" and self.third_parties:
            return self.third_parties[0]
        return None

    @property
    def primary(self) -> str | None:
        tp = self.active_third_party
        if tp is not None:
            return tp.name
        return "Microsoft Defender Antivirus" if self.defender_mode == "active" else None


def _svc_match(svc: Service, wanted: str) -> bool:
    return wanted.lower() in (svc.name.lower(), svc.display_name.lower())


def _sophos(p: Parsed, th: Thresholds) -> ThirdParty | None:
    if not p.sophos.available:
        return None
    problems: list[str] = []
    for wanted in th.sophos_required_services:
        found = [s for s in p.sophos_services if _svc_match(s, wanted)]
        if not found:
            problems.append(f"{wanted}: not installed")
        elif found[0].status != "Running":
            problems.append(f"{wanted}: {found[0].status}")
    for svc in p.sophos_services:
        required = any(_svc_match(svc, w) for w in th.sophos_required_services)
        if svc.start_type == "Automatic" and svc.status != "Running" and not required:
            problems.append(f"{svc.display_name}: {svc.status} (start type Automatic)")
    evidence: dict[str, Any] = {
        "services": {s.display_name: s.status for s in p.sophos_services},
    }
    if p.sophos.version:
        evidence["version"] = p.sophos.version
    return ThirdParty("Sophos Endpoint", "services", not problems, problems, evidence)


def setup_of(p: Parsed, th: Thresholds) -> Setup:
    parties: list[ThirdParty] = []
    sophos = _sophos(p, th)
    if sophos is not None:
        parties.append(sophos)
    for prod in p.sc_products:
        if prod.microsoft:
            continue
        if sophos is not None and "sophos" in prod.name.lower():
            sophos.evidence["security_center"] = prod.evidence()
            continue
        running = prod.scanner == "on"
        parties.append(
            ThirdParty(
                prod.name,
                "security_center",
                running,
                [] if running else [f"scanner {prod.scanner}"],
                {"security_center": prod.evidence()},
            )
        )
    return Setup(p.defender_mode, parties)


def _defender_evidence(p: Parsed) -> dict[str, Any]:
    if not p.defender.available:
        return {"defender": "unavailable", "defender_reason": p.defender.reason}
    s = p.defender.status
    return {
        "defender_mode": s.get("AMRunningMode"),
        "am_service_enabled": s.get("AMServiceEnabled"),
        "antivirus_enabled": s.get("AntivirusEnabled"),
    }


# ---------------------------------------------------------------- judgements


def _judge_active(p: Parsed, setup: Setup) -> Finding:
    evidence: dict[str, Any] = {"primary": setup.primary, **_defender_evidence(p)}
    if setup.third_parties:
        evidence["third_party"] = [
            {"name": t.name, "running": t.running, "problems": t.problems, **t.evidence}
            for t in setup.third_parties
        ]
    if setup.primary is not None:
        return ACTIVE.finding(Status.PASS, evidence, remediation="")
    stopped = [t for t in setup.third_parties if not t.running]
    if stopped:
        what = "; ".join(f"{t.name} ({', '.join(t.problems)})" for t in stopped)
        return ACTIVE.finding(
            Status.FAIL, evidence, remediation=f"Installed but not running: {what}. {ACTIVE.remediation}"
        )
    if setup.defender_mode == "absent":
        return not_checked(
            ACTIVE,
            f"Defender status unavailable ({p.defender.reason}) and no Sophos service or Security Center "
            "product found",
            remediation=(
                "No antivirus this role recognises was found. If the server runs another product, check it "
                "in that product's console and waive AV-WIN-01 for this host with that product named; "
                "otherwise install one (`Install-WindowsFeature Windows-Defender` or the Sophos Central "
                "installer)."
            ),
        )
    mode = p.defender.status.get("AMRunningMode")
    return ACTIVE.finding(
        Status.FAIL,
        evidence,
        remediation=f"Defender is {setup.defender_mode} (AMRunningMode {mode!r}) and no other antivirus is "
        f"active. {ACTIVE.remediation}",
    )


def _judge_realtime(p: Parsed, setup: Setup, th: Thresholds) -> Finding:
    tp = setup.in_charge
    if tp is not None:
        evidence: dict[str, Any] = {"primary": tp.name}
        if tp.name == "Sophos Endpoint":
            states = {
                w: next((s.status for s in p.sophos_services if _svc_match(s, w)), "not installed")
                for w in th.sophos_realtime_services
            }
            evidence["realtime_services"] = states
            bad = [f"{w}: {st}" for w, st in states.items() if st != "Running"]
            sc = tp.evidence.get("security_center")
            if sc is not None:
                evidence["security_center_scanner"] = sc["scanner"]
                if sc["scanner"] != "on":
                    bad.append(f"Security Center reports the scanner {sc['scanner']}")
            if bad:
                return REALTIME.finding(
                    Status.FAIL, evidence, remediation=f"{'; '.join(bad)}. {REALTIME.remediation}"
                )
            return REALTIME.finding(Status.PASS, evidence, remediation="")
        scanner = tp.evidence["security_center"]["scanner"]
        evidence["security_center_scanner"] = scanner
        if scanner != "on":
            return REALTIME.finding(
                Status.FAIL,
                evidence,
                remediation=f"Security Center reports {tp.name} {scanner}. {REALTIME.remediation}",
            )
        return REALTIME.finding(Status.PASS, evidence, remediation="")
    if setup.defender_mode == "absent":
        return not_checked(REALTIME, f"no active antivirus to ask: {p.defender.reason}")
    s = p.defender.status
    evidence = {
        "primary": setup.primary,
        "defender_mode": s.get("AMRunningMode"),
        "realtime_protection_enabled": s.get("RealTimeProtectionEnabled"),
        "on_access_protection_enabled": s.get("OnAccessProtectionEnabled"),
        "behavior_monitor_enabled": s.get("BehaviorMonitorEnabled"),
    }
    if setup.defender_mode == "active" and _bool(s, "RealTimeProtectionEnabled"):
        if _bool(s, "OnAccessProtectionEnabled") is False:
            return REALTIME.finding(
                Status.WARN,
                evidence,
                severity=Severity.HIGH,
                remediation="Real-time protection is on but on-access scanning is off. "
                + REALTIME.remediation,
            )
        return REALTIME.finding(Status.PASS, evidence, remediation="")
    return REALTIME.finding(Status.FAIL, evidence)


def _grade(value: float, warn: float, fail: float) -> Status:
    if value > fail:
        return Status.FAIL
    if value > warn:
        return Status.WARN
    return Status.PASS


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sophos_last_update(p: Parsed) -> tuple[datetime | None, str]:
    upd = p.sophos.update
    candidates: list[tuple[datetime, str]] = []
    seconds = upd.get("LastUpdateTime")
    if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds > 0:
        candidates.append((datetime.fromtimestamp(seconds, UTC), "AutoUpdate\\UpdateStatus LastUpdateTime"))
    millis = upd.get("LastGoodInstallTime")
    if isinstance(millis, int) and not isinstance(millis, bool) and millis > 0:
        candidates.append(
            (
                datetime.fromtimestamp(millis / 1000, UTC),
                "AutoUpdate\\UpdateStatus\\Details LastGoodInstallTime",
            )
        )
    if not candidates:
        return None, ""
    return max(candidates)


def _untrusted(control: Control, reason: str) -> Finding:
    return control.finding(
        Status.ERROR,
        {"reason": reason},
        remediation=f"Not judged: {reason}. Run `Get-MpComputerStatus | Format-List *` on the host and "
        "compare; a collector that lost these properties needs fixing.",
    )


def _judge_signatures(p: Parsed, setup: Setup, th: Thresholds) -> Finding:
    tp = setup.in_charge
    if tp is not None:
        evidence: dict[str, Any] = {"primary": tp.name}
        if tp.name == "Sophos Endpoint":
            last, source = _sophos_last_update(p)
            if last is not None:
                hours = round((p.collected_at - last).total_seconds() / 3600, 1)
                evidence.update(
                    last_update=_iso(last),
                    source=source,
                    age_hours=hours,
                    warn_hours=th.sophos_update_warn_hours,
                    fail_hours=th.sophos_update_fail_hours,
                )
                result = p.sophos.update.get("Result")
                if result is not None:
                    evidence["last_update_result"] = result
                status = _grade(hours, th.sophos_update_warn_hours, th.sophos_update_fail_hours)
                if status is Status.PASS and result not in (None, 0):
                    status = Status.WARN
                if status is Status.PASS:
                    return SIGNATURES.finding(status, evidence, remediation="")
                return SIGNATURES.finding(
                    status,
                    evidence,
                    severity=Severity.MEDIUM if status is Status.WARN else None,
                    remediation=f"Sophos last updated {hours} h ago (result {result}). "
                    + SIGNATURES.remediation,
                )
            sc = tp.evidence.get("security_center")
            if sc is None:
                return not_checked(
                    SIGNATURES, "Sophos update time not found in the registry and no Security Center entry"
                )
            tp_sc: dict[str, Any] = sc
        else:
            tp_sc = tp.evidence["security_center"]
        evidence["security_center_signatures"] = tp_sc["signatures"]
        if tp_sc["signatures"] == "up_to_date":
            return SIGNATURES.finding(Status.PASS, evidence, remediation="")
        return SIGNATURES.finding(Status.FAIL, evidence)
    if setup.defender_mode != "active":
        return not_checked(
            SIGNATURES,
            f"no active antivirus whose signatures count (Defender {setup.defender_mode})"
            + (f": {p.defender.reason}" if p.defender.reason else ""),
        )
    s = p.defender.status
    problem = _age_date_disagreement(
        s, [("AntivirusSignatureAge", "AntivirusSignatureLastUpdated")], p.collected_at
    )
    if problem:
        return _untrusted(SIGNATURES, problem)
    age = _age(s, "AntivirusSignatureAge")
    last = _date(s, "AntivirusSignatureLastUpdated")
    days: float | None = None
    if last is not None:
        days = round((p.collected_at - last).total_seconds() / 86400, 1)
    elif age is not None:
        days = float(age)
    evidence = {
        "primary": setup.primary,
        "signature_version": s.get("AntivirusSignatureVersion"),
        "signature_age_days": age,
        "last_updated": _iso(last),
        "age_days": days,
        "warn_days": th.signature_warn_days,
        "fail_days": th.signature_fail_days,
    }
    if days is None:
        return SIGNATURES.finding(
            Status.FAIL,
            evidence,
            remediation=f"Defender has never updated its signatures. {SIGNATURES.remediation}",
        )
    status = _grade(days, th.signature_warn_days, th.signature_fail_days)
    if status is Status.PASS and _bool(s, "DefenderSignaturesOutOfDate"):
        status = Status.WARN
        evidence["defender_signatures_out_of_date"] = True
    if status is Status.PASS:
        return SIGNATURES.finding(status, evidence, remediation="")
    return SIGNATURES.finding(
        status,
        evidence,
        severity=Severity.MEDIUM if status is Status.WARN else None,
        remediation=f"Signatures are {days} days old. {SIGNATURES.remediation}",
    )


def _judge_scan(p: Parsed, setup: Setup, th: Thresholds) -> Finding:
    tp = setup.in_charge
    if tp is not None:
        return not_checked(
            SCAN,
            f"{tp.name} is the third-party antivirus: its own console schedules and reports its scans",
            remediation="Check scheduled scans in the third-party console (Sophos Central: Threat Protection "
            "policy > Scheduled scan).",
        )
    if setup.defender_mode != "active":
        return not_checked(SCAN, f"Defender is not the active antivirus ({setup.defender_mode})")
    s = p.defender.status
    problem = _age_date_disagreement(
        s, [("QuickScanAge", "QuickScanEndTime"), ("FullScanAge", "FullScanEndTime")], p.collected_at
    )
    if problem:
        return _untrusted(SCAN, problem)
    quick, full = _age(s, "QuickScanAge"), _age(s, "FullScanAge")
    quick_end, full_end = _date(s, "QuickScanEndTime"), _date(s, "FullScanEndTime")
    ends = [d for d in (quick_end, full_end) if d is not None]
    ages = [a for a in (quick, full) if a is not None]
    days: float | None
    if ends:
        days = round(min((p.collected_at - d).total_seconds() / 86400 for d in ends), 1)
    elif ages:
        days = float(min(ages))
    else:
        days = None
    evidence: dict[str, Any] = {
        "quick_scan_age_days": quick,
        "full_scan_age_days": full,
        "quick_scan_end": _iso(quick_end),
        "full_scan_end": _iso(full_end),
        "last_scan_days": days,
        "warn_days": th.scan_warn_days,
        "fail_days": th.scan_fail_days,
    }
    if days is None:
        return SCAN.finding(
            Status.FAIL,
            evidence,
            remediation="Defender has never completed a quick or full scan (age 4294967295). "
            + SCAN.remediation,
        )
    status = _grade(days, th.scan_warn_days, th.scan_fail_days)
    if status is Status.PASS:
        return SCAN.finding(status, evidence, remediation="")
    return SCAN.finding(
        status,
        evidence,
        severity=Severity.LOW if status is Status.WARN else None,
        remediation=f"Last scan {days} days ago. {SCAN.remediation}",
    )


def _judge_tamper(p: Parsed, setup: Setup, th: Thresholds) -> Finding:
    tp = setup.in_charge
    if tp is not None:
        if tp.name != "Sophos Endpoint":
            return not_checked(TAMPER, f"tamper protection of {tp.name} is not readable from Windows")
        value = p.sophos.tamper_protection.get("SEDEnabled")
        evidence: dict[str, Any] = {"primary": tp.name, "sophos_sed_enabled": value}
        if value is None:
            return not_checked(TAMPER, "Sophos tamper protection flag (SEDEnabled) not found in the registry")
        ok = value not in (0, False, "0")
    elif setup.defender_mode == "active":
        value = _bool(p.defender.status, "IsTamperProtected")
        evidence = {"primary": setup.primary, "is_tamper_protected": value}
        if value is None:
            return not_checked(
                TAMPER,
                "Get-MpComputerStatus has no IsTamperProtected (Defender platform older than 4.18.1906)",
            )
        ok = value
    else:
        return not_checked(TAMPER, f"no active antivirus (Defender {setup.defender_mode})")
    if ok:
        return TAMPER.finding(Status.PASS, evidence, remediation="")
    if not th.require_tamper_protection:
        return TAMPER.finding(Status.WARN, evidence, severity=Severity.LOW)
    return TAMPER.finding(Status.FAIL, evidence)


def _judge_mode(p: Parsed, setup: Setup) -> Finding:
    tp = setup.active_third_party
    mode = setup.defender_mode
    evidence: dict[str, Any] = {
        "defender": mode,
        "am_running_mode": p.defender.status.get("AMRunningMode") if p.defender.available else None,
        "third_party": tp.name if tp else None,
    }
    if tp is not None:
        if mode == "active":
            return MODE.finding(
                Status.WARN,
                evidence,
                remediation=f"Defender runs in Normal mode next to {tp.name}: two real-time engines slow the "
                f"host and can block each other. {MODE.remediation}",
            )
        note = {
            "passive": "Defender in passive mode next to a third-party antivirus is expected",
            "disabled": "Defender disabled next to a third-party antivirus is expected",
            "absent": "Defender not installed; the third-party antivirus is primary",
        }[mode]
        evidence["note"] = note
        return MODE.finding(Status.PASS, evidence, remediation="")
    if mode == "active":
        return MODE.finding(Status.PASS, evidence, remediation="")
    if mode == "absent":
        stopped = ", ".join(f"{t.name} (not running)" for t in setup.third_parties)
        return not_checked(
            MODE,
            f"Defender status unavailable ({p.defender.reason}); third-party: {stopped or 'none found'}",
        )
    return MODE.finding(
        Status.FAIL,
        evidence,
        remediation=f"Defender is {mode} but no other antivirus is active. {MODE.remediation}",
    )


def _judge_security_center(p: Parsed) -> Finding:
    sc = p.sc
    if sc is None or not sc.available:
        reason = sc.reason if sc is not None else "not collected"
        return not_checked(
            SECURITY_CENTER,
            reason,
            remediation="root/SecurityCenter2 exists on Windows client editions only; nothing to do on a "
            "server (AV-WIN-01 to AV-WIN-06 judge it).",
        )
    products = [prod.evidence() for prod in p.sc_products]
    evidence: dict[str, Any] = {"products": products}
    if not p.sc_products:
        return SECURITY_CENTER.finding(
            Status.FAIL, evidence, remediation=f"No antivirus is registered. {SECURITY_CENTER.remediation}"
        )
    enabled = [prod for prod in p.sc_products if prod.scanner == "on"]
    if not enabled:
        return SECURITY_CENTER.finding(
            Status.FAIL,
            evidence,
            remediation=f"No registered antivirus is on. {SECURITY_CENTER.remediation}",
        )
    if not any(prod.up_to_date for prod in enabled):
        names = ", ".join(prod.name for prod in enabled)
        return SECURITY_CENTER.finding(
            Status.FAIL,
            evidence,
            remediation=f"{names}: signatures out of date. {SECURITY_CENTER.remediation}",
        )
    return SECURITY_CENTER.finding(Status.PASS, evidence, remediation="")


@evaluator(KIND, role=ROLE, controls=CONTROLS, defaults=DEFAULTS)
def evaluate_windows_antivirus(raw: Any, thresholds: Mapping[str, Any]) -> list[Finding]:
    """Windows antivirus: Defender, Sophos and Security Center state, signatures, scans, tamper protection."""
    th = parse_thresholds(thresholds)
    p = parse_raw(raw)
    setup = setup_of(p, th)
    findings = [
        _judge_active(p, setup),
        _judge_realtime(p, setup, th),
        _judge_signatures(p, setup, th),
        _judge_scan(p, setup, th),
        _judge_tamper(p, setup, th),
        _judge_mode(p, setup),
        _judge_security_center(p),
    ]
    return [_skip(f, th.skip_controls) for f in findings]


def _skip(finding: Finding, skip: Sequence[str]) -> Finding:
    if finding.control not in skip:
        return finding
    return skipped(next(c for c in CONTROLS if c.control == finding.control), ROLE)
