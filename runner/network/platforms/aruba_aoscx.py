"""Aruba AOS-CX: the driver (netmiko ``aruba_aoscx``, ``show running-config``)."""

from __future__ import annotations

from runner.network.mask import VALUE, Masker
from runner.network.normalise import Normaliser
from runner.network.platforms import Platform
from runner.network.platforms.base import Cli, PlatformDriver

#: (regex, weight): lines typical of Aruba AOS-CX
MARKERS: tuple[tuple[str, int], ...] = (
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
)

#: volatile lines, dropped by normalising
VOLATILE: tuple[str, ...] = (
    r"^Current configuration:\s*$",
    r"^! ?(Uptime|System uptime|Current time|Last reboot)\b",
    r"^!\s*(Up Time|Time Zone|Current Time)\s*:",
)

#: (regex with the group s, kind): where secrets sit
SECRETS: tuple[tuple[str, str], ...] = (
    (r"\b(?:ciphertext|plaintext) " + VALUE, "secret"),
    (r"^\s*snmp-server community " + VALUE, "community"),
    (r"^\s*snmp-server host .*?\bcommunity " + VALUE, "community"),
    (r"\b(?:auth-pass|priv-pass) (?!ciphertext\b|plaintext\b)" + VALUE, "secret"),
    (r"^\s*(?:radius-server|tacacs-server)\b.*?\bkey (?!ciphertext\b|plaintext\b)" + VALUE, "secret"),
)

#: lines that end where a secret value would begin (the value is on the next line)
SECRET_NEXT_LINE: tuple[str, ...] = (
    r"\b(?:ciphertext|plaintext)$",
    r"^\s*snmp-server (?:community|host .*\bcommunity)$",
)


DRIVER = PlatformDriver(
    platform=Platform.ARUBA_AOSCX,
    title="Aruba AOS-CX",
    netmiko_device_type="aruba_aoscx",
    config_commands=("show running-config",),
    enable=False,
    rule_pack="rules/aruba_aoscx.yml",
    control_prefix="NET-CX-",
    structure="indented",
    markers=MARKERS,
    normaliser=Normaliser(drop=VOLATILE),
    masker=Masker(patterns=SECRETS, next_line=SECRET_NEXT_LINE),
    facts_commands=("show system", "show version"),
    counters_command="show interface",
    cli=Cli(
        prompt="{h}# ",
        version_commands=("show version",),
        paging_off=("no page",),
        more="-- MORE --, next page: Space, next line: Enter, quit: Control-C",
    ),
)
