"""Asset facts of a network device, from its facts commands' outputs (``raw``: ``{command: output}``).

The ``network_config`` action plugin sends the platform driver's ``facts_commands`` after the
configuration, in the same SSH session (``runner.network.fetch.fetch_device``), and hands the outputs here.
Each output is parsed with a TextFSM template: the ones ntc-templates ships where they understand real
devices' output (``cisco_ios_show_version``, ``cisco_ios_show_inventory``, ``aruba_aoscx_show_system``),
ours in ``runner/assets/templates/`` where ntc-templates has none (AOS-CX and AOS-S ``show version``) or
its template refuses real output (an AOS-S ``show system`` with an empty contact, FortiOS 7.4's
``get system status``).

What each platform gives (a key is left out when the device does not print it, never guessed):

- ``cisco_ios``: ``show version``, ``show inventory``: hostname; os name (IOS or IOS-XE), firmware and
  version, image (the file it booted); hardware vendor, model, serial; uptime; last_boot when the device
  prints its restart time in UTC; inventory (one entry per ``show inventory`` item).
- ``aruba_aoscx``: ``show system``, ``show version``: hostname; os (ArubaOS-CX), firmware
  (``FL.10.13.1101``), version, image (primary/secondary); hardware vendor, model (product name), serial,
  bios_version; uptime.
- ``aruba_aoss``: ``show system information``, ``show version``: hostname; os (ArubaOS-Switch), firmware
  (``WC.16.09.0004``), version, image (primary/secondary); hardware serial, bios_version (ROM version);
  uptime; inventory (one entry per stack/VSF member). These two commands do not print the model.
- ``fortios``: ``get system status``: hostname; os (FortiOS), firmware (``v7.4.7,build2731,250120
  (GA.M)``), version; hardware vendor, model, serial, bios_version.

Output not understood (a line a strict template does not know, no version or hostname line, a command
missing from ``raw``) raises :class:`~runner.assets.facts.AssetFactsError` naming the command.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ntc_templates  # type: ignore[import-untyped]
import textfsm  # type: ignore[import-untyped]

from runner.assets.facts import AssetFactsError

OWN_TEMPLATES = Path(__file__).parent / "templates"
NTC_TEMPLATES = Path(ntc_templates.__file__).parent / "templates"

Rows = list[dict[str, Any]]


@functools.cache
def _template(name: str) -> str:
    for folder in (OWN_TEMPLATES, NTC_TEMPLATES):
        path = folder / f"{name}.textfsm"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise AssetFactsError(f"TextFSM template {name} not found")  # an installation problem


def _rows(template: str, command: str, raw: Mapping[str, Any]) -> Rows:
    output = raw.get(command)
    if not isinstance(output, str):
        got = "missing" if output is None else f"a {type(output).__name__}"
        raise AssetFactsError(f"{command}: output {got}, not a text")
    if not output.strip():
        raise AssetFactsError(f"{command}: empty output")
    import io

    fsm = textfsm.TextFSM(io.StringIO(_template(template)))
    try:
        rows: Rows = fsm.ParseTextToDicts(output.replace("\r\n", "\n").replace("\r", "\n"))
    except textfsm.TextFSMError as exc:
        detail = " ".join(str(exc).split())[:200]
        raise AssetFactsError(f"{command}: output not understood ({detail})") from None
    return rows


def _one(rows: Rows, command: str, *required: str) -> dict[str, Any]:
    if not rows:
        raise AssetFactsError(f"{command}: output not understood (nothing recognised)")
    row = rows[0]
    missing = [key.lower() for key in required if not _text(row.get(key))]
    if missing:
        raise AssetFactsError(f"{command}: output not understood (no {', '.join(missing)})")
    return row


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return " ".join(str(value or "").split())


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    text = _text(value)
    if text:
        target[key] = text


_UNIT_S = {"year": 365 * 86400, "week": 7 * 86400, "day": 86400, "hour": 3600, "min": 60, "sec": 1}


def _uptime(text: str) -> int | None:
    """Seconds in ``"20 weeks, 1 day, 1 hour, 40 minutes"`` / ``"2 hours"`` / ``"39 mins"``."""
    total, seen = 0, False
    for count, unit in re.findall(r"(\d+)\s*(year|week|day|hour|min|sec)\w*", text):
        total += int(count) * _UNIT_S[unit]
        seen = True
    return total if seen else None


def _numeric_version(text: str) -> str:
    match = re.search(r"\d+(?:\.\d+)+[A-Za-z0-9]*", text)
    return match.group() if match else ""


def _utc_restart(text: str) -> str | None:
    """``12:47:37 UTC Mon Jun 17 2024`` as ISO-8601 UTC; None for any other time zone (not guessed)."""
    match = re.fullmatch(
        r"(\d\d:\d\d:\d\d)(?:\.\d+)? (?:UTC|GMT) \w{3} (\w{3}) +(\d{1,2}) (\d{4})", text.strip()
    )
    if not match:
        return None
    clock, month, day, year = match.groups()
    try:
        when = datetime.strptime(f"{year} {month} {day} {clock}", "%Y %b %d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    return when.isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------- platforms


def _cisco_ios(raw: Mapping[str, Any]) -> dict[str, Any]:
    version = _one(
        _rows("cisco_ios_show_version", "show version", raw), "show version", "VERSION", "HOSTNAME"
    )
    text = str(raw["show version"])
    inventory_rows = _rows("cisco_ios_show_inventory", "show inventory", raw)
    inventory_text = str(raw["show inventory"])
    names = len(re.findall(r"^\s*NAME:", inventory_text, re.MULTILINE))
    pids = len(re.findall(r"^\s*PID:", inventory_text, re.MULTILINE))
    if not inventory_rows or names != pids or len(inventory_rows) != names:
        raise AssetFactsError(
            f"show inventory: output not understood ({names} NAME lines, {pids} PID lines, "
            f"{len(inventory_rows)} items read)"
        )
    facts: dict[str, Any] = {"hostname": _text(version["HOSTNAME"])}
    os_facts: dict[str, Any] = {"name": "IOS-XE" if re.search(r"IOS[ -]XE", text) else "IOS"}
    _put(os_facts, "firmware", version["VERSION"])
    _put(os_facts, "version", _numeric_version(_text(version["VERSION"])))
    image = re.search(r'^[Ss]ystem image file is "([^"]+)"', text, re.MULTILINE)
    _put(os_facts, "image", image.group(1) if image else version.get("RUNNING_IMAGE"))
    facts["os"] = os_facts
    chassis = next((row for row in inventory_rows if _text(row.get("NAME")).lower() == "chassis"), None)
    hardware: dict[str, Any] = {"vendor": "Cisco"}
    _put(hardware, "model", version.get("HARDWARE") or (chassis or {}).get("PID"))
    _put(hardware, "serial", version.get("SERIAL") or (chassis or {}).get("SN"))
    facts["hardware"] = hardware
    uptime = _uptime(_text(version.get("UPTIME")))
    if uptime is not None:
        facts["uptime_seconds"] = uptime
    last_boot = _utc_restart(_text(version.get("RESTARTED")))
    if last_boot:
        facts["last_boot"] = last_boot
    items = []
    for row in inventory_rows:
        item: dict[str, Any] = {}
        for key, column in (("name", "NAME"), ("descr", "DESCR"), ("pid", "PID"), ("serial", "SN")):
            _put(item, key, row.get(column))
        if item:
            items.append(item)
    facts["inventory"] = items
    return facts


def _aruba_aoscx(raw: Mapping[str, Any]) -> dict[str, Any]:
    system = _one(_rows("aruba_aoscx_show_system", "show system", raw), "show system", "HOSTNAME", "VERSION")
    version = _one(_rows("aruba_aoscx_show_version", "show version", raw), "show version", "VERSION")
    if _text(version["VERSION"]) != _text(system["VERSION"]):
        raise AssetFactsError(
            f"show version: version {_text(version['VERSION'])} is not show system's "
            f"{_text(system['VERSION'])}"
        )
    facts: dict[str, Any] = {"hostname": _text(system["HOSTNAME"])}
    os_facts: dict[str, Any] = {"name": "ArubaOS-CX", "firmware": _text(system["VERSION"])}
    _put(os_facts, "version", _numeric_version(_text(system["VERSION"])))
    _put(os_facts, "image", version.get("ACTIVE_IMAGE"))
    facts["os"] = os_facts
    hardware: dict[str, Any] = {}
    for key, column in (("vendor", "VENDOR"), ("model", "PRODUCT"), ("serial", "SERIAL")):
        _put(hardware, key, system.get(column))
    _put(hardware, "bios_version", version.get("BIOS_VERSION"))
    facts["hardware"] = hardware
    parts = [
        (system.get(f"UPTIME_{unit}") or "", unit.lower()) for unit in ("WEEKS", "DAYS", "HOURS", "MINUTES")
    ]
    uptime = _uptime(", ".join(f"{count} {unit}" for count, unit in parts if count))
    if uptime is not None:
        facts["uptime_seconds"] = uptime
    return facts


def _aruba_aoss(raw: Mapping[str, Any]) -> dict[str, Any]:
    command = "show system information"
    rows = _rows("aruba_aoss_show_system", command, raw)
    system = _one(rows, command, "NAME", "SOFTWARE_VERSION")
    version = _one(_rows("aruba_aoss_show_version", "show version", raw), "show version", "VERSION")
    if _text(version["VERSION"]) != _text(system["SOFTWARE_VERSION"]):
        raise AssetFactsError(
            f"show version: version {_text(version['VERSION'])} is not {command}'s "
            f"{_text(system['SOFTWARE_VERSION'])}"
        )
    firmware = _text(system["SOFTWARE_VERSION"])
    facts: dict[str, Any] = {"hostname": _text(system["NAME"])}
    os_facts: dict[str, Any] = {"name": "ArubaOS-Switch", "firmware": firmware}
    _put(os_facts, "version", _numeric_version(firmware))
    _put(os_facts, "image", _text(version.get("BOOT_IMAGE")).lower())
    facts["os"] = os_facts
    hardware: dict[str, Any] = {}
    _put(hardware, "serial", system.get("SERIAL"))
    _put(hardware, "bios_version", system.get("ROM_VERSION"))
    facts["hardware"] = hardware
    uptime = _uptime(_text(system.get("UPTIME")))
    if uptime is not None:
        facts["uptime_seconds"] = uptime
    members = [row for row in rows if _text(row.get("MEMBER_ID"))]
    if members:
        items = []
        for row in members:
            item: dict[str, Any] = {"name": f"member {_text(row['MEMBER_ID'])}"}
            _put(item, "serial", row.get("SERIAL"))
            items.append(item)
        facts["inventory"] = items
    return facts


def _fortios(raw: Mapping[str, Any]) -> dict[str, Any]:
    command = "get system status"
    status = _one(_rows("fortios_get_system_status", command, raw), command, "HOSTNAME", "VERSION")
    match = re.fullmatch(r"(\S+) (v\d+\.\d+\.\d+\S*(?: \(.+\))?)", _text(status["VERSION"]))
    if not match:
        raise AssetFactsError(f"{command}: Version line not understood: {_text(status['VERSION'])[:80]}")
    model, firmware = match.groups()
    facts: dict[str, Any] = {"hostname": _text(status["HOSTNAME"])}
    facts["os"] = {"name": "FortiOS", "firmware": firmware, "version": _numeric_version(firmware)}
    hardware: dict[str, Any] = {"vendor": "Fortinet", "model": model}
    _put(hardware, "serial", status.get("SERIAL_NUMBER"))
    _put(hardware, "bios_version", status.get("BIOS_VERSION"))
    facts["hardware"] = hardware
    return facts


PARSERS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "cisco_ios": _cisco_ios,
    "aruba_aoscx": _aruba_aoscx,
    "aruba_aoss": _aruba_aoss,
    "fortios": _fortios,
}


def parse(platform: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The device's facts from ``{command: output}``; AssetFactsError when not understood."""
    if platform not in PARSERS:
        raise AssetFactsError(f"platform {platform!r}: not a network platform ({', '.join(PARSERS)})")
    if not isinstance(raw, Mapping):
        raise AssetFactsError(f"{platform}: raw outputs must be an object of command -> output")
    return PARSERS[platform](raw)
