"""The four supported network platforms and detection of a configuration's platform."""

from __future__ import annotations

import json
import re
from enum import StrEnum
from pathlib import Path


class NetworkConfigError(Exception):
    """A configuration cannot be handled (unknown platform, unreadable text, broken rule pack)."""


class Platform(StrEnum):
    CISCO_IOS = "cisco_ios"
    ARUBA_AOSCX = "aruba_aoscx"
    ARUBA_AOSS = "aruba_aoss"
    FORTIOS = "fortios"

    @property
    def netmiko_device_type(self) -> str:
        return _NETMIKO[self]


_NETMIKO: dict[Platform, str] = {
    Platform.CISCO_IOS: "cisco_ios",
    Platform.ARUBA_AOSCX: "aruba_aoscx",
    Platform.ARUBA_AOSS: "aruba_procurve",
    Platform.FORTIOS: "fortinet",
}


# (regex, weight): lines typical of one platform. Strong markers (banners the OS writes
# itself) weigh 10, syntax only that platform uses weighs 2-3, common hints 1.
_MARKERS: dict[Platform, tuple[tuple[str, int], ...]] = {
    Platform.FORTIOS: (
        (r"^#config-version=Forti", 10),
        (r"^# ?Version: Forti", 10),
        (r"^config (system|firewall|router|vpn|log|user|vdom|global)\b", 3),
        (r"^\s+edit (\"[^\"]*\"|\S+)$", 1),
        (r"^\s+set [\w-]+ ", 1),
        (r"^\s*next$", 1),
    ),
    Platform.ARUBA_AOSCX: (
        (r"^!Version (ArubaOS-CX|AOS-CX)", 10),
        (r"^! (ArubaOS-CX|AOS-CX)\b", 10),
        (r"^interface \d+/\d+/\d+", 3),
        (r"^(ssh|https)-server vrf ", 3),
        (r"^user \S+ group \S+ password ciphertext", 3),
        (r"^\s+vlan (access|trunk) ", 3),
        (r"^vsx$", 3),
        (r"^interface (vlan|lag) ?\d+", 2),
        (r"^ntp (enable|vrf)", 2),
        (r"^(access-list ip|no usb|led locator)\b", 2),
        (r"^vlan \d+$", 1),
        (r"^ {4}(?!set |unset |edit |next$|config |end$)\S", 1),
        (r"^banner (motd|exec) [!^]$", 3),
        (r"^access-list (ip|ipv6|mac) \S+$", 1),
    ),
    Platform.ARUBA_AOSS: (
        (r"^; .*Configuration Editor; Created on release", 10),
        (r"^hostname \"", 3),
        (r"^\s+(un)?tagged ", 3),
        (r"^\s+name \"", 2),
        (
            r"^(password (manager|operator)|encrypt-credentials|include-credentials|max-vlans|"
            r"no telnet-server|web-management|sntp|timesync|trunk \S+ Trk)",
            3,
        ),
        (r"^snmp-server community \"", 3),
        (r"^interface (\d+(/\d+)?|[A-Z]\d+|Trk\d+)\s*$", 2),
        (r"^\s*exit$", 1),
        (r"^ {3}\S", 1),
    ),
    Platform.CISCO_IOS: (
        (r"^! Cisco IOS", 10),
        (r"^version \d+\.\d+$", 3),
        (r"^(no )?service (timestamps|password-encryption|pad|config|tcp-keepalives)", 3),
        (
            r"^interface (GigabitEthernet|FastEthernet|TenGigabitEthernet|Ethernet|Serial|Loopback|Vlan|"
            r"Port-channel|Tunnel|BDI|Dialer|Virtual-Template)",
            3,
        ),
        (r"^line (vty|con|aux) ", 3),
        (r"^ip (access-list (standard|extended)|route |cef|domain[ -]name|http|ssh|prefix-list)", 2),
        (r"^(boot system|boot-start-marker|vrf definition|enable (secret|password)|aaa new-model)", 3),
        (r"^(router (bgp|ospf|eigrp|rip)|snmp-server|logging|ntp server)\b", 1),
        (r"^!$", 1),
        (r"^ \S", 1),
    ),
}

_COMPILED_MARKERS = {
    platform: tuple((re.compile(pattern, re.M), weight) for pattern, weight in markers)
    for platform, markers in _MARKERS.items()
}

#: at most this many matches of one marker count, so a 39k-line file of VLANs cannot outvote a banner
_CAP = 20


def platform_scores(text: str) -> dict[Platform, int]:
    """How strongly ``text`` looks like each platform (the evidence behind :func:`detect_platform`)."""
    head = text[:200_000]
    scores: dict[Platform, int] = {}
    for platform, markers in _COMPILED_MARKERS.items():
        total = 0
        for pattern, weight in markers:
            hits = 0
            for _ in pattern.finditer(head):
                hits += 1
                if hits >= _CAP:
                    break
            total += weight * hits
        scores[platform] = total
    return scores


def detect_platform(text: str) -> Platform:
    """The platform a configuration was taken from; raises NetworkConfigError when unsure.

    Unsure means: nothing scored at least 6, or the runner-up scored more than half the winner.
    """
    scores = platform_scores(text.replace("\r\n", "\n"))
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, best_score), (_, second_score) = ranked[0], ranked[1]
    if best_score < 6 or second_score * 2 > best_score:
        detail = ", ".join(f"{p.value}={s}" for p, s in ranked)
        raise NetworkConfigError(
            f"cannot tell the platform of this configuration ({detail}); name it explicitly"
        )
    return best


#: commands whose saved output is a configuration, in order of preference
CONFIG_COMMANDS = (
    "show running-config",
    "show full-configuration",
    "show configuration",
    "show config",
    "display saved-configuration",
    "show startup-config",
)


#: largest saved configuration read (a FortiOS ``show full-configuration`` is a few MB)
MAX_CONFIG_BYTES = 32 * 1024 * 1024


def read_config(path: Path) -> str:
    """The configuration text saved in ``path``.

    A plain text file is returned as read. A JSON object of ``{command: output}`` (how NAPALM
    and several collectors save a device session) yields the output of the first command in
    :data:`CONFIG_COMMANDS`. Raises NetworkConfigError naming the file when neither fits.
    """
    from runner.safeyaml import TooLargeError, read_limited

    try:
        text = read_limited(path, MAX_CONFIG_BYTES, "file").decode("utf-8", errors="replace")
    except OSError as exc:
        raise NetworkConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except TooLargeError as exc:
        raise NetworkConfigError(f"{path}: {exc} (a configuration this large is not one)") from None
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:  # bad JSON, a 5,000-digit number, nesting too deep
            raise NetworkConfigError(f"{path}: looks like JSON but is not: {exc}") from None
        if not isinstance(data, dict):
            raise NetworkConfigError(f"{path}: JSON must be an object of command -> output")
        for command in CONFIG_COMMANDS:
            value = data.get(command)
            if isinstance(value, str) and value.strip():
                return value
        raise NetworkConfigError(
            f"{path}: JSON holds no configuration (expected one of: {', '.join(CONFIG_COMMANDS)})"
        )
    return text
