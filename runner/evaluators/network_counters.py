"""The ``network_counters`` evaluator: a network device's interface error counters (HEALTH-NET-01).

Raw data: ``{"platform": "<cisco_ios | aruba_aoscx | aruba_aoss | fortios>", "command": "<optional: the
counters command>", "output": "<its output>"}``, or ``{"platform": ..., "error": "<why the command gave
no output>"}`` (refused, timed out, the fetch failed). The ``network_config`` action plugin judges the
output of the platform's counters command, sent in the configuration's SSH session, with this evaluator;
``maint evaluate network_counters FILE`` judges a saved one.

Evidence of a counted device: ``error_counts`` ``{interface: input errors + output errors}`` (CRC errors are
part of the input errors; counted alone only where the platform prints no input error count) (the input of the
error trend HEALTH-NET-02, in the shared shape of ``error_counts``), ``interfaces`` ``{interface: {crc,
input_errors, output_errors}}`` (a counter the platform does not print is null), the interfaces over
``interface_errors_warn``; both lists capped, most errors first. Output not understood or no output is
``not_checked`` with the reason, never a pass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from runner import catalogue
from runner.evaluators import EvaluatorError, evaluator
from runner.network.counters import CountersError, InterfaceCounters, parse_counters
from runner.network.platforms import Platform, driver
from runner.results import Finding, Status

KIND = "network_counters"
_CATALOGUE = catalogue.load()
INTERFACE_ERRORS = _CATALOGUE.control("HEALTH-NET-01").as_control()
DEFAULTS: Mapping[str, Any] = MappingProxyType(_CATALOGUE.roles["network_config"].defaults(KIND))

#: at most this many interfaces in ``error_counts`` (the trend's input) and in ``interfaces`` (details)
MAX_COUNTED = 500
MAX_DETAILED = 50


def _warn_at(thresholds: Mapping[str, Any]) -> int:
    value = thresholds.get("interface_errors_warn")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise EvaluatorError(f"{KIND}: threshold interface_errors_warn must be an integer >= 1: {value!r}")
    return value


def _platform(raw: Mapping[str, Any]) -> Platform:
    name = raw.get("platform")
    try:
        return Platform(str(name))
    except ValueError:
        known = ", ".join(p.value for p in Platform)
        raise EvaluatorError(f"{KIND}: platform: unknown platform {name!r} (known: {known})") from None


def _natural(name: str) -> tuple[tuple[int, str], ...]:
    """``1/1/2`` before ``1/1/10``, ``port2`` before ``port10``."""
    return tuple((int(part), "") if part.isdigit() else (-1, part) for part in re.split(r"(\d+)", name))


def judge_counters(counted: Mapping[str, InterfaceCounters], command: str, warn_at: int) -> Finding:
    """HEALTH-NET-01 from the counters read: pass, or warn naming the interfaces at ``warn_at`` or more."""
    ranked = sorted(counted.items(), key=lambda item: (-item[1].total, _natural(item[0])))
    over = [name for name, c in ranked if c.total >= warn_at]
    evidence: dict[str, Any] = {
        "command": command,
        "interfaces_counted": len(ranked),
        "total_errors": sum(c.total for _, c in ranked),
        "interface_errors_warn": warn_at,
        "over_threshold": over[:MAX_DETAILED],
        "error_counts": {name: c.total for name, c in ranked[:MAX_COUNTED]},
        "interfaces": {name: c.as_dict() for name, c in ranked[:MAX_DETAILED]},
    }
    left_out = len(ranked) - MAX_DETAILED
    if left_out > 0:
        evidence["interfaces_left_out"] = left_out
    if over:
        return INTERFACE_ERRORS.finding(Status.WARN, evidence)
    return INTERFACE_ERRORS.finding(Status.PASS, evidence, remediation="")


def not_checked(reason: str, command: str | None) -> Finding:
    evidence: dict[str, Any] = {"reason": reason}
    if command:
        evidence["command"] = command
    return INTERFACE_ERRORS.finding(Status.NOT_CHECKED, evidence)


@evaluator(KIND, role="network_config", controls=[INTERFACE_ERRORS], defaults=DEFAULTS)
def network_counters(raw: Any, thresholds: Mapping[str, Any]) -> list[Finding]:
    """Network device interface error counters (CRC, input and output errors) per interface."""
    if not isinstance(raw, Mapping) or "platform" not in raw:
        raise EvaluatorError(
            f'{KIND} expects {{"platform": "...", "output": "<counters command output>"}} '
            '(or {"platform": "...", "error": "<why there is none>"})'
        )
    platform = _platform(raw)
    warn_at = _warn_at(thresholds)
    disabled = thresholds.get("disabled") or []
    if INTERFACE_ERRORS.control in disabled:
        return []
    command = str(raw.get("command") or driver(platform).counters_command or "")
    error = raw.get("error")
    if error is not None:
        return [not_checked(f"interface counters not collected: {error}", command)]
    if "output" not in raw:
        raise EvaluatorError(f'{KIND}: raw data has neither "output" nor "error"')
    try:
        counted = parse_counters(platform.value, command, raw["output"])
    except CountersError as exc:
        return [not_checked(f"interface counters not understood: {exc}", command)]
    return [judge_counters(counted, command, warn_at)]
