"""Aruba AOS-S (ProCurve): the driver (netmiko ``aruba_procurve``, ``show running-config``).

The CLI wraps long lines at the terminal width, so the masker follows values split across lines.
"""

from __future__ import annotations

from runner.network.mask import NAME, VALUE, Masker
from runner.network.normalise import Normaliser
from runner.network.platforms import Platform
from runner.network.platforms.base import Cli, PlatformDriver

#: (regex, weight): lines typical of Aruba AOS-S (ProCurve)
MARKERS: tuple[tuple[str, int], ...] = (
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
)

#: volatile lines, dropped by normalising
VOLATILE: tuple[str, ...] = (
    r"^Running configuration:\s*$",
    r"^Startup configuration:\s*$",
    r"^! ?(Up Time|Uptime|Current time|CPU Util|Memory)\b",
    r"^!\s*(Up Time|CPU Util|Memory\s+- Total|Free|Packet\s+- Total)\s*:",
)

#: (regex with the group s, kind): where secrets sit
SECRETS: tuple[tuple[str, str], ...] = (
    (
        r"^\s*(?:encrypted-)?password (?:manager|operator|port-access) (?:user-name " + NAME + " )?"
        r"(?:(?:sha1|sha256|plaintext|md5) )?" + VALUE + "$",
        "secret",
    ),
    # local users: aaa authentication local-user "NAME" group "G" password sha1 "HASH"
    (
        r"^\s*aaa authentication local-user " + NAME + "(?: group " + NAME + ")?"
        r" (?:encrypted-)?password(?: (?:sha1|sha256|plaintext|md5))? " + VALUE,
        "secret",
    ),
    # a value after a hash-type word, wherever it is (not "-sha1" inside an algorithm name)
    (
        r"(?<![\w-])(?<!web-management )(?:sha1|sha256|sha512|plaintext) (?!(?:plaintext|ciphertext)\b)"
        + VALUE,
        "secret",
    ),
    (r"^\s*(?:radius-server|tacacs-server)\b.*?\b(?:encrypted-)?key " + VALUE, "secret"),
    (
        r"\b(?:encrypted-key|key-value|key-string|encrypted-secret|secret|encrypted-cak|cak"
        r"|authentication-key|md5-auth-key) " + VALUE,
        "secret",
    ),
    (r"^\s*snmp-server (?:host \S+ )?community " + VALUE, "community"),
    (r"\b(?:auth (?:md5|sha)|priv (?:des|aes)) " + VALUE, "secret"),
)

#: lines that end where a secret value would begin (the value is on the next line)
SECRET_NEXT_LINE: tuple[str, ...] = (
    r"^\s*(?:encrypted-)?password (?:manager|operator|port-access)(?: user-name " + NAME + ")?"
    r"(?: (?:sha1|sha256|plaintext|md5))?$",
    r"^\s*aaa authentication local-user " + NAME + "(?: group " + NAME + ")?"
    r" (?:encrypted-)?password(?: (?:sha1|sha256|plaintext|md5))?$",
    r"^\s*encrypt-credentials pre-shared-key(?: plaintext)?$",
    r"^\s*(?:radius-server|tacacs-server)\b.*\b(?:encrypted-)?key$",
    r"\b(?:encrypted-key|key-value|key-string|encrypted-secret|secret|encrypted-cak|cak"
    r"|authentication-key|md5-auth-key)$",
    r"^\s*snmp-server (?:host \S+ )?community$",
    r"\b(?:auth (?:md5|sha)|priv (?:des|aes))$",
)


DRIVER = PlatformDriver(
    platform=Platform.ARUBA_AOSS,
    title="Aruba AOS-S (ProCurve)",
    netmiko_device_type="aruba_procurve",
    config_commands=("show running-config",),
    enable=False,
    rule_pack="rules/aruba_aoss.yml",
    control_prefix="NET-AOSS-",
    structure="indented",
    markers=MARKERS,
    normaliser=Normaliser(drop=VOLATILE),
    masker=Masker(patterns=SECRETS, next_line=SECRET_NEXT_LINE, wraps_lines=True),
    facts_commands=("show system information", "show version"),
    counters_command="show interfaces",
    cli=Cli(
        prompt="{h}# \x1b[K",
        version_commands=("show system information", "show system-information", "show version"),
        paging_off=("no page",),
        more="-- MORE --, next page: Space, next line: Enter, quit: Control-C",
        accepted=("terminal width 511",),
        press_any_key=True,
        logout_confirm="Do you want to log out (y/n)? ",
    ),
)
