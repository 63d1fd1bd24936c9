"""Judge ``smartctl -j`` output: control HEALTH-LNX-07 (disk health by SMART).

Kind ``smartctl`` judges one saved ``smartctl -j -a DEVICE`` (or ``-x``, ``-H``, ``-A``) output, as
``maint evaluate smartctl FILE``. The ``linux_health`` evaluator calls :func:`judge_disks` on every disk
the collector read, so one host gets one HEALTH-LNX-07 result naming each disk's problems.

What fails: SMART overall status FAILED, the exit-status bits for "disk failing", "pre-fail attribute at
or below threshold now" and "self-test log has errors", ATA pending or offline-uncorrectable sectors,
reallocated sectors above ``smart_reallocated_fail``, an NVMe critical warning, NVMe media errors at or
above ``smart_media_errors_fail``. What warns: reallocated sectors (or a SCSI grown defect list) at or above
``smart_reallocated_warn``, an attribute that was at threshold in the past, errors in the device error log.
A disk smartctl could not open, or one with no health data in the output, is ``not_checked`` with
smartctl's own message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from runner import catalogue
from runner.evaluators import EvaluatorError
from runner.evaluators.common import validate_thresholds
from runner.results import Finding, Severity, Status

KIND = "smartctl"
_CATALOGUE = catalogue.load()  # titles, severities, remediations and defaults: runner/catalogue/data/

SMART = _CATALOGUE.control("HEALTH-LNX-07").as_control()

#: threshold names shared with the linux_health evaluator (role variables ``linux_health_smart_*``, and
#: ``skip_controls``); values, types and ranges: the catalogue
DEFAULTS: Mapping[str, Any] = MappingProxyType(_CATALOGUE.roles["linux_health"].defaults(KIND))

#: smartctl(8) "RETURN VALUES": bit -> (name, effect on the disk's status)
EXIT_BITS: dict[int, tuple[str, Status]] = {
    0: ("command line did not parse", Status.ERROR),
    1: ("device open failed or device did not identify", Status.NOT_CHECKED),
    2: ("a SMART or ATA command failed, or SMART data checksum error", Status.PASS),
    3: ("SMART status check returned DISK FAILING", Status.FAIL),
    4: ("pre-fail attribute at or below its threshold", Status.FAIL),
    5: ("an attribute was at or below its threshold in the past", Status.WARN),
    6: ("device error log contains errors", Status.WARN),
    7: ("self-test log contains errors", Status.FAIL),
}
NVME_CRITICAL_BITS: dict[int, str] = {
    0: "available spare below threshold",
    1: "temperature outside its threshold",
    2: "reliability degraded by media or internal errors",
    3: "media placed in read-only mode",
    4: "volatile memory backup failed",
    5: "persistent memory region read-only",
}
ATA_REALLOCATED = 5
ATA_PENDING = 197
ATA_UNCORRECTABLE = 198
_RANK = {Status.PASS: 0, Status.NOT_CHECKED: 1, Status.WARN: 2, Status.FAIL: 3, Status.ERROR: 4}


class SmartThresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    smart_reallocated_warn: StrictInt = Field(ge=1)
    smart_reallocated_fail: StrictInt = Field(ge=1)
    smart_pending_fail: StrictInt = Field(ge=1)
    smart_media_errors_fail: StrictInt = Field(ge=1)


def parse_smart_thresholds(thresholds: Mapping[str, Any], kind: str = KIND) -> SmartThresholds:
    th = validate_thresholds(SmartThresholds, thresholds, kind=kind)
    if th.smart_reallocated_warn > th.smart_reallocated_fail:
        raise EvaluatorError(
            f"{kind}: invalid thresholds: smart_reallocated_warn ({th.smart_reallocated_warn}) is above "
            f"smart_reallocated_fail ({th.smart_reallocated_fail})"
        )
    return th


@dataclass
class DiskVerdict:
    """One disk's judgement: its status, what was wrong, and the numbers behind it."""

    device: str
    status: Status
    problems: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _messages(data: Mapping[str, Any]) -> list[str]:
    smartctl = data.get("smartctl")
    msgs = smartctl.get("messages", []) if isinstance(smartctl, Mapping) else []
    return [str(m.get("string", "")) for m in msgs if isinstance(m, Mapping) and m.get("string")]


def _check_shape(data: Any, kind: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise EvaluatorError(f"{kind}: smartctl -j output must be a JSON object, got {type(data).__name__}")
    if "devices" in data and "device" not in data:
        raise EvaluatorError(
            f"{kind}: this is `smartctl --scan -j` output (a device list, no health data); "
            "judge each device's `smartctl -j -a DEVICE` output instead"
        )
    if not any(k in data for k in ("smartctl", "device", "smart_status", "json_format_version")):
        raise EvaluatorError(
            f"{kind}: not smartctl -j output (none of 'smartctl', 'device', 'smart_status' at the top level)"
        )
    for key in (
        "smartctl",
        "device",
        "smart_status",
        "ata_smart_attributes",
        "nvme_smart_health_information_log",
    ):
        if key in data and not isinstance(data[key], Mapping):
            raise EvaluatorError(f"{kind}: '{key}' must be an object, got {type(data[key]).__name__}")
    return data


def judge_disk(raw: Any, th: SmartThresholds, kind: str = KIND) -> DiskVerdict:
    """Judge one ``smartctl -j`` document."""
    data = _check_shape(raw, kind)
    device: Mapping[str, Any] = data["device"] if isinstance(data.get("device"), Mapping) else {}
    smartctl: Mapping[str, Any] = data["smartctl"] if isinstance(data.get("smartctl"), Mapping) else {}
    argv: list[Any] = smartctl["argv"] if isinstance(smartctl.get("argv"), list) else []
    from_argv = next((str(a) for a in reversed(argv) if str(a).startswith("/dev/")), "")
    name = str(device.get("name", "")) or from_argv or "(unknown device)"
    exit_status = _int(smartctl.get("exit_status"))
    evidence: dict[str, Any] = {"device": name}
    for key, src in (("type", device.get("type")), ("protocol", device.get("protocol"))):
        if src:
            evidence[key] = src
    if data.get("model_name"):
        evidence["model"] = data["model_name"]
    if data.get("serial_number"):
        evidence["serial"] = data["serial_number"]
    if exit_status is not None:
        evidence["exit_status"] = exit_status
    status = Status.PASS
    problems: list[str] = []
    notes: list[str] = []

    def worse(new: Status, why: str) -> None:
        nonlocal status
        if _RANK[new] > _RANK[status]:
            status = new
        if new in (Status.FAIL, Status.WARN, Status.ERROR):
            problems.append(why)
        else:
            notes.append(why)

    if exit_status:
        evidence["exit_bits"] = [EXIT_BITS[b][0] for b in range(8) if exit_status & (1 << b)]
        if exit_status & 0b11:
            msgs = _messages(data)
            reason = "; ".join(msgs) or EXIT_BITS[0 if exit_status & 1 else 1][0]
            verdict_status = Status.ERROR if exit_status & 1 else Status.NOT_CHECKED
            evidence["reason"] = f"smartctl could not read {name}: {reason}"
            return DiskVerdict(name, verdict_status, [evidence["reason"]], evidence)
        for bit in range(2, 8):
            if exit_status & (1 << bit):
                worse(EXIT_BITS[bit][1], f"smartctl exit bit {bit}: {EXIT_BITS[bit][0]}")

    judged = False
    smart_status = data.get("smart_status")
    if isinstance(smart_status, Mapping) and isinstance(smart_status.get("passed"), bool):
        judged = True
        evidence["passed"] = smart_status["passed"]
        if not smart_status["passed"]:
            worse(Status.FAIL, "SMART overall-health self-assessment: FAILED")

    attributes = data.get("ata_smart_attributes")
    table = attributes.get("table", []) if isinstance(attributes, Mapping) else []
    if isinstance(table, list) and table:
        judged = True
        by_id = {a.get("id"): a for a in table if isinstance(a, Mapping)}

        def raw_value(attr_id: int) -> int | None:
            attr = by_id.get(attr_id)
            raw_field = attr.get("raw") if isinstance(attr, Mapping) else None
            return _int(raw_field.get("value")) if isinstance(raw_field, Mapping) else None

        realloc, pending, uncorrectable = (
            raw_value(ATA_REALLOCATED),
            raw_value(ATA_PENDING),
            raw_value(ATA_UNCORRECTABLE),
        )
        for key, value in (
            ("reallocated_sectors", realloc),
            ("pending_sectors", pending),
            ("offline_uncorrectable", uncorrectable),
        ):
            if value is not None:
                evidence[key] = value
        if realloc is not None:
            if realloc >= th.smart_reallocated_fail:
                worse(Status.FAIL, f"{realloc} reallocated sectors (fail at {th.smart_reallocated_fail})")
            elif realloc >= th.smart_reallocated_warn:
                worse(Status.WARN, f"{realloc} reallocated sectors (warn at {th.smart_reallocated_warn})")
        if pending is not None and pending >= th.smart_pending_fail:
            worse(Status.FAIL, f"{pending} pending sectors")
        if uncorrectable is not None and uncorrectable >= th.smart_pending_fail:
            worse(Status.FAIL, f"{uncorrectable} offline uncorrectable sectors")
        failing_now = sorted(
            str(a.get("name", a.get("id"))) for a in by_id.values() if a.get("when_failed") == "now"
        )
        if failing_now:
            evidence["attributes_failing_now"] = failing_now
            worse(Status.FAIL, f"attributes at or below threshold now: {', '.join(failing_now)}")

    if exit_status is not None:
        # smartctl's exit bits and the data it printed are two reports of the same reading: they must agree
        passed = smart_status.get("passed") if isinstance(smart_status, Mapping) else None
        if passed is True and exit_status & 0b1000:
            worse(Status.ERROR, "exit bit 3 says DISK FAILING but smart_status.passed is true")
        if passed is False and not exit_status & 0b1000:
            worse(Status.ERROR, f"smart_status.passed is false but exit status {exit_status} has no bit 3")
        if isinstance(table, list) and table:
            now = any(isinstance(a, Mapping) and a.get("when_failed") == "now" for a in table)
            if exit_status & 0b10000 and not now:
                worse(Status.ERROR, "exit bit 4 says an attribute is failing now, but none in the table is")
            if now and not exit_status & 0b10000:
                worse(Status.ERROR, f"an attribute is failing now but exit status {exit_status} has no bit 4")

    nvme = data.get("nvme_smart_health_information_log")
    if isinstance(nvme, Mapping):
        judged = True
        critical = _int(nvme.get("critical_warning"))
        media = _int(nvme.get("media_errors"))
        if critical is not None:
            evidence["nvme_critical_warning"] = critical
            if critical:
                names = [text for bit, text in NVME_CRITICAL_BITS.items() if critical & (1 << bit)]
                worse(
                    Status.FAIL,
                    f"NVMe critical warning 0x{critical:02x}: {', '.join(names) or 'unknown bit'}",
                )
        if media is not None:
            evidence["nvme_media_errors"] = media
            if media >= th.smart_media_errors_fail:
                worse(Status.FAIL, f"{media} NVMe media and data integrity errors")
        if _int(nvme.get("percentage_used")) is not None:
            evidence["nvme_percentage_used"] = nvme["percentage_used"]

    grown = _int(data.get("scsi_grown_defect_list"))
    if grown is not None:
        judged = True
        evidence["scsi_grown_defects"] = grown
        if grown >= th.smart_reallocated_fail:
            worse(Status.FAIL, f"{grown} SCSI grown defects (fail at {th.smart_reallocated_fail})")
        elif grown >= th.smart_reallocated_warn:
            worse(Status.WARN, f"{grown} SCSI grown defects (warn at {th.smart_reallocated_warn})")

    if notes:
        evidence["notes"] = notes
    if not judged and status is Status.PASS:
        msgs = _messages(data)
        support = data.get("smart_support")
        why = "no SMART health data in this output"
        if isinstance(support, Mapping) and support.get("available") is False:
            why = "the device does not support SMART (a virtual or RAID volume?)"
        elif exit_status is not None and exit_status & 0b100:
            why = "SMART commands failed (a RAID volume hides its member disks; use -d megaraid,N / cciss,N)"
        evidence["reason"] = f"{name}: {why}" + (f" ({'; '.join(msgs)})" if msgs else "")
        return DiskVerdict(name, Status.NOT_CHECKED, [], evidence)
    if problems:
        evidence["problems"] = problems
    return DiskVerdict(name, status, problems, evidence)


def judge_disks(disks: Sequence[Any], th: SmartThresholds, kind: str = KIND) -> Finding:
    """One HEALTH-LNX-07 finding for every disk's smartctl output."""
    verdicts = [judge_disk(d, th, kind) for d in disks]
    if not verdicts:
        return not_checked("no disk to judge")
    judged = [v for v in verdicts if v.status is not Status.NOT_CHECKED]
    unread = [v for v in verdicts if v.status is Status.NOT_CHECKED]
    evidence: dict[str, Any] = {
        "checked": len(judged),
        "disks": [v.evidence for v in verdicts],
    }
    if not judged:
        reasons = "; ".join(str(v.evidence.get("reason", v.device)) for v in unread)
        return not_checked(reasons, evidence)
    worst = max((v.status for v in judged), key=_RANK.__getitem__)
    bad = [v for v in judged if v.status in (Status.FAIL, Status.WARN, Status.ERROR)]
    evidence["failing"] = [v.device for v in judged if v.status is Status.FAIL]
    evidence["warning"] = [v.device for v in judged if v.status is Status.WARN]
    if unread:
        evidence["unreadable"] = [v.device for v in unread]
    summary = "; ".join(f"{v.device}: {', '.join(v.problems)}" for v in bad)
    if worst is Status.PASS:
        return SMART.finding(Status.PASS, evidence, remediation="")
    if worst is Status.ERROR:
        evidence["reason"] = summary
        return SMART.finding(
            Status.ERROR,
            evidence,
            remediation=f"{summary}. Not judged: either the smartctl call was wrong (check the collector's "
            "arguments) or its exit status and printed data disagree (read `smartctl -x DEVICE` by hand).",
        )
    if worst is Status.WARN:
        return SMART.finding(
            Status.WARN,
            evidence,
            severity=Severity.MEDIUM,
            remediation=(
                f"{summary}. The disk is still working but wearing: plan its replacement, run a long "
                "self-test (`smartctl -t long DEVICE`) and compare the counts next month."
            ),
        )
    return SMART.finding(Status.FAIL, evidence, remediation=f"{summary}. {SMART.remediation}")


def not_checked(reason: str, evidence: Mapping[str, Any] | None = None) -> Finding:
    return SMART.finding(
        Status.NOT_CHECKED,
        {"reason": reason, **(evidence or {})},
        remediation=(
            f"Could not check: {reason}. On a physical server install smartmontools and run the audit as "
            "root; a VM or container has no SMART disks (monitor the hypervisor's disks instead) - waive "
            "HEALTH-LNX-07 for it."
        ),
    )


# registered as kind ``smartctl`` by runner.evaluators.linux_health, after the linux_health kind, so the
# role's controls keep their order (HEALTH-LNX-01 ... HEALTH-LNX-07)
def evaluate_smartctl(raw: Any, thresholds: Mapping[str, Any]) -> list[Finding]:
    """One disk's SMART health from a saved `smartctl -j -a DEVICE` output."""
    th = parse_smart_thresholds(thresholds)
    if SMART.control in (thresholds.get("skip_controls") or ()):
        return [
            SMART.finding(
                Status.NOT_CHECKED,
                {"reason": "disabled by configuration (linux_health skip_controls)"},
                remediation=f"To check it again, remove {SMART.control} from skip_controls.",
            )
        ]
    if isinstance(raw, list):
        return [judge_disks(raw, th)]
    return [judge_disks([raw], th)]


def error_log_count(raw: Any) -> tuple[str, int] | None:
    """(device, entries of its error log) of one disk's ``smartctl -j -a`` output; None when it has none.

    ATA: ``ata_smart_error_log`` ``extended`` or ``summary`` ``count`` (the larger, as smartctl ``-l error``
    and ``-l xerror`` report them); SCSI: the ``total_uncorrected_errors`` of ``scsi_error_counter_log``
    summed over read, write and verify; NVMe: ``nvme_smart_health_information_log.num_err_log_entries``.
    The input of HEALTH-LNX-08 (and of its trend, HEALTH-LNX-10).
    """
    if not isinstance(raw, Mapping):
        return None
    device = raw.get("device")
    name = device.get("name") if isinstance(device, Mapping) else None
    if not isinstance(name, str) or not name:
        return None
    counts: list[int] = []
    ata = raw.get("ata_smart_error_log")
    if isinstance(ata, Mapping):
        for part in ("extended", "summary"):
            log = ata.get(part)
            count = _int(log.get("count")) if isinstance(log, Mapping) else None
            if count is not None and count >= 0:
                counts.append(count)
        if counts:
            return name, max(counts)
    scsi = raw.get("scsi_error_counter_log")
    if isinstance(scsi, Mapping):
        for part in ("read", "write", "verify"):
            log = scsi.get(part)
            count = _int(log.get("total_uncorrected_errors")) if isinstance(log, Mapping) else None
            if count is not None and count >= 0:
                counts.append(count)
        if counts:
            return name, sum(counts)
    nvme = raw.get("nvme_smart_health_information_log")
    if isinstance(nvme, Mapping):
        count = _int(nvme.get("num_err_log_entries"))
        if count is not None and count >= 0:
            return name, count
    return None
