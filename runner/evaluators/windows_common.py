"""What every Windows evaluator needs to read a PowerShell collector's JSON.

Windows PowerShell 5.1 (Windows Server 2016-2025, Windows 10/11) and PowerShell 7 serialise the same object
differently with ``ConvertTo-Json``: 5.1 writes .NET enums as their numbers and ``DateTime`` as
``"\\/Date(1732650000000)\\/"`` (UTC milliseconds since the epoch), sometimes wrapped in ``{"value": ...,
"DisplayHint": 2, "DateTime": "..."}`` when the object came from ``Get-Date``; PowerShell 7 writes ISO 8601
dates and, with ``-EnumsAsStrings``, enum names; ``Get-WmiObject`` gives DMTF datetime strings
(``20241126083015.500000+060``). The helpers here accept every one of these, so an evaluator judges the same
host the same way whatever shell collected it. Anything else raises :class:`EvaluatorError` naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from runner.evaluators import EvaluatorError
from runner.results import Control, Finding, Status

T = TypeVar("T")

#: System.ServiceProcess.ServiceControllerStatus (Get-Service .Status)
SERVICE_STATUS: Mapping[int, str] = {
    1: "Stopped",
    2: "StartPending",
    3: "StopPending",
    4: "Running",
    5: "ContinuePending",
    6: "PausePending",
    7: "Paused",
}

#: System.ServiceProcess.ServiceStartMode (Get-Service .StartType, PowerShell 5.0 and later)
SERVICE_START_TYPE: Mapping[int, str] = {
    0: "Boot",
    1: "System",
    2: "Automatic",
    3: "Manual",
    4: "Disabled",
}

_MS_DATE = re.compile(r"^\\?/Date\((-?\d+)([+-]\d{4})?\)\\?/$")
_DMTF = re.compile(r"^(\d{14})\.(\d{6})([+-]\d{3})$")


class WinRaw(BaseModel):
    """Base of the raw-shape models: strict types, unknown keys ignored (collectors may add fields)."""

    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")


class Probe(WinRaw):
    """One probe of a collector: ``available: false`` says why it could not look."""

    available: bool
    reason: str = ""


def enum_name(value: Any, table: Mapping[int, str], field: str) -> str:
    """The canonical name of an enum value serialised as its number (PS 5.1) or its name (PS 7)."""
    if isinstance(value, bool):
        raise EvaluatorError(f"{field}: expected an enum number or name, got {value!r}")
    if isinstance(value, int):
        if value in table:
            return table[value]
        raise EvaluatorError(f"{field}: unknown enum value {value} (known: {_known(table)})")
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return enum_name(int(text), table, field)
        for name in table.values():
            if name.lower() == text.lower():
                return name
        raise EvaluatorError(f"{field}: unknown enum name {value!r} (known: {_known(table)})")
    raise EvaluatorError(f"{field}: expected an enum number or name, got {type(value).__name__}")


def _known(table: Mapping[int, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in table.items())


def ps_datetime(value: Any, field: str) -> datetime:
    """An aware UTC datetime from any of the JSON forms PowerShell gives a ``DateTime``."""
    if isinstance(value, Mapping) and "value" in value:
        return ps_datetime(value["value"], field)
    if not isinstance(value, str):
        raise EvaluatorError(f"{field}: expected a date, got {type(value).__name__} {value!r}")
    text = value.strip()
    match = _MS_DATE.match(text)
    if match:
        # the number is UTC whatever the optional offset says (the offset only records the source zone)
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(match.group(1)))
    match = _DMTF.match(text)
    if match:
        local = datetime.strptime(match.group(1) + match.group(2), "%Y%m%d%H%M%S%f")
        return (local - timedelta(minutes=int(match.group(3)))).replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(_trim_fraction(text))
    except ValueError:
        raise EvaluatorError(
            f"{field}: {value!r} is not a date PowerShell writes (/Date(ms)/, ISO 8601 or DMTF)"
        ) from None
    if parsed.tzinfo is None:
        raise EvaluatorError(f"{field}: {value!r} has no time zone; collect it with .ToUniversalTime()")
    return parsed.astimezone(UTC)


def _trim_fraction(text: str) -> str:
    """.NET writes up to 7 fractional digits (``2024-11-26T08:30:15.1234567Z``); Python reads 6."""
    text = text[:-1] + "+00:00" if text.endswith("Z") else text
    return re.sub(r"(\.\d{6})\d+", r"\1", text)


def as_list(value: Any) -> list[Any]:
    """A collection as PS 5.1 may have flattened it: null for none, the object itself for one."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def unwrap_output(raw: Any, kind: str) -> dict[str, Any]:
    """The collector's object from its parsed JSON, its JSON text, or a whole saved win_powershell result."""
    if isinstance(raw, Mapping) and "output" in raw and "collector" not in raw:
        output = as_list(raw["output"])
        if not output:
            raise EvaluatorError(
                f"{kind}: the win_powershell result has no output (the collector printed nothing)"
            )
        raw = output[-1]
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise EvaluatorError(f"{kind}: the collector output is not JSON: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise EvaluatorError(
            f"{kind}: raw data must be the collector's JSON object, got {type(raw).__name__}"
        )
    return dict(raw)


def not_checked(control: Control, reason: str, remediation: str | None = None) -> Finding:
    """A control that could not be looked at, with why: never a pass."""
    return control.finding(
        Status.NOT_CHECKED,
        {"reason": reason},
        remediation=remediation
        or (
            f"Could not check: {reason}. Fix the cause if this host should support the check; if it never "
            f"can, waive {control.control} for this host."
        ),
    )


def skipped(control: Control, role: str) -> Finding:
    """A control switched off with ``<role>_skip_controls``."""
    return not_checked(
        control,
        f"disabled by configuration ({role} skip_controls)",
        remediation=f"Remove {control.control} from {role}_skip_controls to judge it again.",
    )


class RebootProbe(Probe):
    """The registry keys Windows sets while a reboot is pending (both Windows collectors read them).

    ``cbs_reboot_pending``: HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\
    RebootPending exists; ``wu_reboot_required``: ...\\WindowsUpdate\\Auto Update\\RebootRequired exists;
    ``pending_file_rename``: HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager
    PendingFileRenameOperations holds entries (``pending_file_rename_count`` of them).
    """

    cbs_reboot_pending: bool = False
    wu_reboot_required: bool = False
    pending_file_rename: bool = False
    pending_file_rename_count: int = 0


def reboot_indicators(probe: RebootProbe) -> list[str]:
    """Names of the reboot indicators that are set, in a fixed order."""
    names = []
    if probe.cbs_reboot_pending:
        names.append("cbs_reboot_pending")
    if probe.wu_reboot_required:
        names.append("wu_reboot_required")
    if probe.pending_file_rename:
        names.append("pending_file_rename")
    return names


def with_kind(kind: str, parse: Callable[[Any], T], raw: Any) -> T:
    """``parse(raw)``, every EvaluatorError's message starting with the evaluator kind."""
    try:
        return parse(raw)
    except EvaluatorError as exc:
        if str(exc).startswith(f"{kind}: "):
            raise
        raise EvaluatorError(f"{kind}: {exc}") from exc
