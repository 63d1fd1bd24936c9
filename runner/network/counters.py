"""Interface error counters of a network device, from its counters command's output (HEALTH-NET-01).

The ``network_config`` action plugin sends the platform driver's ``counters_command`` after the
configuration and the facts commands, in the same SSH session (``runner.network.fetch.fetch_device``),
and hands the output here. Each platform's output is read with the ntc-templates TextFSM template that
reads real devices' output (their ``tests/`` recordings, Apache-2.0, are what the tests parse):

- ``cisco_ios``: ``show interfaces`` (``cisco_ios_show_interfaces``): per interface ``CRC``,
  ``input errors`` (IOS counts CRC, frame, overrun, ignored and abort in it) and ``output errors``.
- ``aruba_aoscx``: ``show interface`` (``aruba_aoscx_show_interface``): the statistics table's RX
  ``CRC/FCS``, RX ``Errors`` and TX ``Errors``.
- ``aruba_aoss``: ``show interfaces`` (``hp_procurve_show_interfaces``), the port counters table of every
  port: ``Errors Rx`` only (the table prints no CRC and no transmit errors; its ``Drops Tx`` are drops).
- ``fortios``: ``fnsysctl ifconfig`` (``fortinet_fnsysctl_ifconfig``), every interface of the FortiGate:
  ``RX errors`` and ``TX errors`` (no separate CRC counter).

A counter the platform does not print is None, never 0. An interface without counters (an IOS
sub-interface, an AOS-CX interface printed without its statistics) is left out. Output not understood (a
line a strict template does not know, fewer interfaces read than the output names, no interface with
counters at all, a refusal line) raises :class:`CountersError` naming the command: never a guess.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ntc_templates  # type: ignore[import-untyped]
import textfsm  # type: ignore[import-untyped]

from runner.network.platforms import driver

NTC_TEMPLATES = Path(ntc_templates.__file__).parent / "templates"


class CountersError(Exception):
    """The counters command's output is not understood (the message names the command)."""


@dataclass(frozen=True)
class InterfaceCounters:
    """One interface's error counters since they were last cleared; None: the platform does not print it."""

    crc: int | None
    input_errors: int | None
    output_errors: int | None

    @property
    def total(self) -> int:
        """Input errors + output errors; CRC errors only where no input error count is printed.

        IOS counts CRC errors inside "input errors" (with runts, giants, frame, overrun and ignored), and so
        does AOS-CX's "Rx errors": adding CRC again would count each CRC error twice.
        """
        received = self.input_errors if self.input_errors is not None else self.crc
        return sum(v for v in (received, self.output_errors) if v is not None)

    def as_dict(self) -> dict[str, int | None]:
        return {"crc": self.crc, "input_errors": self.input_errors, "output_errors": self.output_errors}


Rows = list[dict[str, Any]]


@functools.cache
def _template(name: str) -> str:
    path = NTC_TEMPLATES / f"{name}.textfsm"
    if not path.is_file():  # an installation problem
        raise CountersError(f"TextFSM template {name} not found in ntc-templates")
    return path.read_text(encoding="utf-8")


def _rows(template: str, command: str, output: str) -> Rows:
    fsm = textfsm.TextFSM(io.StringIO(_template(template)))
    try:
        rows: Rows = fsm.ParseTextToDicts(output)
    except textfsm.TextFSMError as exc:
        detail = " ".join(str(exc).split())[:200]
        raise CountersError(f"{command}: output not understood ({detail})") from None
    return rows


_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")


def _count(value: Any, command: str, name: str) -> int | None:
    """``"1,234"`` / ``"17"`` as an int; empty or ``n/a`` as None; anything else is not understood."""
    text = str(value or "").strip()
    if text in ("", "n/a"):
        return None
    if not _NUMBER.fullmatch(text):
        raise CountersError(f"{command}: {name}: counter {text[:40]!r} is not a number")
    return int(text.replace(",", ""))


def _named(pattern: str, output: str) -> int:
    return len(re.findall(pattern, output, re.MULTILINE))


def _check_all_read(command: str, named: int, rows: Rows) -> None:
    if named != len(rows):
        raise CountersError(
            f"{command}: output not understood ({named} interfaces in the output, {len(rows)} read)"
        )


_IOS_HEADER = re.compile(r"^(\S+) is .+, line protocol is ", re.MULTILINE)


def _ios_blocks(output: str) -> dict[str, str]:
    """Each interface's lines, by name (from its header line to the next one)."""
    heads = list(_IOS_HEADER.finditer(output))
    ends = [m.start() for m in heads[1:]] + [len(output)] * bool(heads)
    return {m.group(1): output[m.start() : end] for m, end in zip(heads, ends, strict=True)}


def _ios_line(block: str, which: str) -> str:
    match = re.search(rf"^\s+(\d+) {which} errors\b", block, re.MULTILINE)
    return match.group(1) if match else ""


def _cisco_ios(command: str, output: str) -> dict[str, InterfaceCounters]:
    rows = _rows("cisco_ios_show_interfaces", command, output)
    _check_all_read(command, _named(_IOS_HEADER.pattern, output), rows)
    blocks = _ios_blocks(output)
    out = {}
    for row in rows:
        name = str(row["INTERFACE"])
        block = blocks.get(name, "")
        # the template knows "N output errors, N collisions, N interface resets"; an SVI prints
        # "N output errors, N interface resets": the counter is read from the interface's own lines then
        counters = InterfaceCounters(
            crc=_count(row.get("CRC"), command, name),
            input_errors=_count(row.get("INPUT_ERRORS") or _ios_line(block, "input"), command, name),
            output_errors=_count(row.get("OUTPUT_ERRORS") or _ios_line(block, "output"), command, name),
        )
        if (counters.input_errors is None) != (counters.output_errors is None):
            # IOS prints both lines for an interface with counters: one without the other is garbled
            raise CountersError(f"{command}: {name}: output not understood (input or output errors missing)")
        if counters.input_errors is not None:
            out[name] = counters
    return out


def _aruba_aoscx(command: str, output: str) -> dict[str, InterfaceCounters]:
    rows = _rows("aruba_aoscx_show_interface", command, output)
    _check_all_read(command, _named(r"^\s*(?:Interface|Aggregate) \S+ is ", output), rows)
    out = {}
    for row in rows:
        name = str(row["INTERFACE"])
        counters = InterfaceCounters(
            crc=_count(row.get("RX_CRC_FCS"), command, name),
            input_errors=_count(row.get("RX_ERRORS"), command, name),
            output_errors=_count(row.get("TX_ERRORS"), command, name),
        )
        if counters.input_errors is not None or counters.output_errors is not None:
            out[name] = counters
    return out


def _aruba_aoss(command: str, output: str) -> dict[str, InterfaceCounters]:
    if not re.search(r"^\s*Status and Counters - Port Counters", output, re.MULTILINE):
        raise CountersError(f"{command}: output not understood (no 'Port Counters' table)")
    rows = _rows("hp_procurve_show_interfaces", command, output)
    out = {}
    for row in rows:
        name = str(row["PORT"])
        out[name] = InterfaceCounters(
            crc=None, input_errors=_count(row.get("ERRORS_RX"), command, name), output_errors=None
        )
    return out


def _fortios(command: str, output: str) -> dict[str, InterfaceCounters]:
    rows = _rows("fortinet_fnsysctl_ifconfig", command, output)
    rows = [row for row in rows if str(row.get("NIC") or "").strip()]
    _check_all_read(command, _named(r"^\S+\s+Link encap:", output), rows)
    out = {}
    for row in rows:
        name = str(row["NIC"]).strip()
        counters = InterfaceCounters(
            crc=None,
            input_errors=_count(row.get("RX_ERRORS"), command, name),
            output_errors=_count(row.get("TX_ERRORS"), command, name),
        )
        if counters.input_errors is not None or counters.output_errors is not None:
            out[name] = counters
    return out


PARSERS: dict[str, Callable[[str, str], dict[str, InterfaceCounters]]] = {
    "cisco_ios": _cisco_ios,
    "aruba_aoscx": _aruba_aoscx,
    "aruba_aoss": _aruba_aoss,
    "fortios": _fortios,
}


def parse_counters(platform: str, command: str, output: Any) -> dict[str, InterfaceCounters]:
    """``{interface: counters}`` from ``command``'s output on ``platform``; CountersError: not understood."""
    if platform not in PARSERS:
        raise CountersError(f"platform {platform!r}: no interface counters parser ({', '.join(PARSERS)})")
    if not isinstance(output, str):
        raise CountersError(f"{command}: output is a {type(output).__name__}, not a text")
    text = output.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise CountersError(f"{command}: empty output")
    for pattern in driver(platform).cli.error_lines:  # the CLI refusing the command (fetch.refusal)
        match = re.search(pattern, text, re.MULTILINE)
        if match:
            line = " ".join(text[match.start() :].splitlines()[0].split())[:200]
            raise CountersError(f"{command}: refused by the device: {line}")
    found = PARSERS[platform](command, text)
    if not found:
        raise CountersError(f"{command}: output not understood (no interface with error counters)")
    return found
