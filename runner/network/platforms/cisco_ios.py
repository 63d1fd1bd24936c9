"""Cisco IOS / IOS-XE: the driver (netmiko ``cisco_ios``, ``show running-config`` in enable mode)."""

from __future__ import annotations

from runner.network.mask import CERT_PLACEHOLDER, NOT_TYPE, VALUE, Masker
from runner.network.normalise import Normaliser
from runner.network.platforms import Platform
from runner.network.platforms.base import Cli, PlatformDriver

#: (regex, weight): lines typical of Cisco IOS / IOS-XE
MARKERS: tuple[tuple[str, int], ...] = (
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
)

#: volatile lines, dropped by normalising
VOLATILE: tuple[str, ...] = (
    r"^! Last configuration change at ",
    r"^! NVRAM config last updated at ",
    r"^! No configuration change since last restart",
    r"^ntp clock-period \d+",
    r"^Current configuration ?: \d+ bytes",
    r"^Building configuration\.\.\.",
    r"^! ?(Uptime|System uptime|System restarted|System returned to ROM|Time since|Last reload)\b",
)

#: (regex with the group s, kind): where secrets sit
SECRETS: tuple[tuple[str, str], ...] = (
    # the rest of the line: an IOS password may contain spaces
    (
        r"\b(?:password|secret)(?: level \d+)?(?: [0-9])? (?!encryption\b)" + NOT_TYPE + r"(?P<s>\S.*)$",
        "secret",
    ),
    (r"^\s*(?:radius-server|tacacs-server)\b.*?\bkey(?: [0-9])? " + VALUE, "secret"),
    (r"^\s*server-private \S+.*?\bkey(?: [0-9])? " + VALUE, "secret"),
    (r"^\s+key [0-9] " + VALUE, "secret"),
    (r"^\s+key (?P<s>(?!\d+$)(?!<masked)\S+)$", "secret"),
    (r"^\s*crypto isakmp key(?: [0-9])? " + VALUE, "secret"),
    (r"^\s*tunnel key " + VALUE, "secret"),
    (r"\bkey-string(?: [0-9])? " + VALUE, "secret"),
    (r"\bserver-key(?: [0-9])? " + VALUE, "secret"),
    (
        r"\bauthentication-key(?: \d+ (?:md5|sha\d*|hmac-sha\S*|cmac-\S+)(?: [0-9](?= \S))?| [0-9])? "
        r"(?!\d+ (?:md5|sha\d*|hmac-sha\S*|cmac-\S+)$)" + VALUE,
        "secret",
    ),
    (r"\bmessage-digest-key \d+ md5(?: [0-9])? " + VALUE, "secret"),
    (
        r"\bpre-shared-key(?: (?:local|remote))?(?: address \S+(?: \S+)? key)?(?: [0-9])? " + VALUE,
        "secret",
    ),
    (r"\bwpa-psk (?:ascii|hex)(?: [0-9])? " + VALUE, "secret"),
    (r"\bauthentication text " + VALUE, "secret"),
    # NHRP, HSRP and VRRP plain-text authentication strings (md5 key-string: key-string above)
    (r"\bnhrp authentication " + VALUE, "secret"),
    (r"^\s*(?:standby|vrrp)(?: \d+)? authentication (?!md5\b|text\b)" + VALUE, "secret"),
    (r"^\s*snmp-server community " + VALUE, "community"),
    (
        r"^\s*snmp-server host \S+(?: vrf \S+)?(?: (?:informs?|traps?))?"
        r"(?: version (?:1|2c|3 (?:auth|noauth|priv)))? " + VALUE,
        "community",
    ),
    (
        r"^\s*snmp-server user .*?\b(?:auth (?:md5|sha(?:-2 \d+|\d*))"
        r"|priv (?:3des|des56|des|aes(?: \d{3})?)) " + VALUE,
        "secret",
    ),
    (r"\b(?:priv (?:3des|des56|des|aes(?: \d{3})?)) " + VALUE, "secret"),
)

#: lines that end where a secret value would begin (the value is on the next line)
SECRET_NEXT_LINE: tuple[str, ...] = (
    r"\bpassword(?: level \d+)? [0-9]$",
    r"\bsecret(?: level \d+)? [0-9]$",
    r"^\s*(?:radius-server|tacacs-server)\b.*\bkey(?: [0-9])?$",
    r"^\s*server-private \S+.*\bkey(?: [0-9])?$",
    r"^\s*crypto isakmp key(?: [0-9])?$",
    r"\bserver-key(?: [0-9])?$",
    r"\bkey-string(?: [0-9])?$",
    r"\bauthentication-key(?: \d+ (?:md5|sha\d*|hmac-sha\S*|cmac-\S+)| [0-9])?$",
    r"\bmessage-digest-key \d+ md5(?: [0-9])?$",
    r"\bpre-shared-key .*\bkey(?: [0-9])?$",
    r"\bnhrp authentication$",
    r"\bauthentication text$",
    r"^\s*snmp-server (?:community|host \S+(?: .*)? version (?:1|2c))$",
    r"^\s*snmp-server user .*\b(?:auth (?:md5|sha\S*)|priv (?:3des|des56|des|aes(?: \d{3})?))$",
)

#: a certificate's hex dump (``crypto pki certificate chain``): collapsed to one line
CERT_HEX = (
    r"^([ \t]+)[0-9A-Fa-f]{8}(?: [0-9A-Fa-f]{1,8})*[ \t]*\n"
    r"(?:[ \t]+[0-9A-Fa-f]{2,8}(?: [0-9A-Fa-f]{1,8})*[ \t]*\n)*"
)

DRIVER = PlatformDriver(
    platform=Platform.CISCO_IOS,
    title="Cisco IOS / IOS-XE",
    netmiko_device_type="cisco_ios",
    config_commands=("show running-config", "show run", "show startup-config"),
    enable=True,
    rule_pack="rules/cisco_ios.yml",
    control_prefix="NET-IOS-",
    structure="indented",
    markers=MARKERS,
    normaliser=Normaliser(drop=VOLATILE),
    masker=Masker(
        patterns=SECRETS,
        next_line=SECRET_NEXT_LINE,
        collapse=((CERT_HEX, rf"\g<1>{CERT_PLACEHOLDER}\n"),),
    ),
    facts_commands=("show version", "show inventory"),
    counters_command="show interfaces",
    cli=Cli(
        prompt="{h}#",
        user_prompt="{h}>",
        version_commands=("show version",),
        paging_off=("terminal length 0",),
        more=" --More-- ",
        accepted=("terminal width 511", "terminal width 0"),
    ),
)
