"""FortiOS (FortiGate): the driver (netmiko ``fortinet``, ``show``).

FortiOS re-encrypts its ``ENC`` secrets on every ``show`` (the masker makes them one placeholder); an
SNMP community's secret is its ``set name`` inside ``config system snmp community``, known only from
the block.
"""

from __future__ import annotations

import re

from runner.network.mask import VALUE, Masker, mask_span
from runner.network.normalise import Normaliser
from runner.network.platforms import Platform
from runner.network.platforms.base import Cli, PlatformDriver

#: (regex, weight): lines typical of FortiOS (FortiGate)
MARKERS: tuple[tuple[str, int], ...] = (
    (r"^#config-version=Forti", 10),
    (r"^# ?Version: Forti", 10),
    (r"^config (system|firewall|router|vpn|log|user|vdom|global)\b", 3),
    (r"^\s+edit (\"[^\"]*\"|\S+)$", 1),
    (r"^\s+set [\w-]+ ", 1),
    (r"^\s*next$", 1),
)

#: volatile lines, dropped by normalising
VOLATILE: tuple[str, ...] = (
    r"^#conf_file_ver=",
    r"^#buildno=",
    r"^# ?(System time|Current Time|Uptime|Last reboot|Cluster uptime|Last reboot reason)\s*:",
)

#: (regex with the group s, kind): where secrets sit
SECRETS: tuple[tuple[str, str], ...] = (
    (r"\bENC " + VALUE, "secret"),
    (
        r"^\s*set (?:[\w-]*(?:password|passwd|psksecret|secret|passphrase|pwd)|key|[\w-]+-key) "
        r"(?!ENC )" + VALUE,
        "secret",
    ),
)

#: lines that end where a secret value would begin (the value is on the next line)
SECRET_NEXT_LINE: tuple[str, ...] = (
    r"\bENC$",
    r"^\s*set (?:[\w-]*(?:password|passwd|psksecret|secret|passphrase|pwd)|key|[\w-]+-key)$",
)

#: who fetched the configuration is not part of it
REWRITE = ((r"^(#config-version=.*?):user=[^:\s]*", r"\1"),)

# the SNMP community's name is its secret; it is only known from the enclosing block
_COMMUNITY_NAME = re.compile(r"^\s*set name " + VALUE)


def snmp_communities(text: str) -> str:
    """Mask ``set name`` inside ``config system snmp community`` (the name is the community)."""
    out: list[str] = []
    depth_in_snmp: int | None = None
    depth = 0
    for line in text.split("\n"):
        key = line.strip()
        if key.startswith("config "):
            depth += 1
            if key == "config system snmp community":
                depth_in_snmp = depth
        elif key == "end":
            if depth_in_snmp == depth:
                depth_in_snmp = None
            depth = max(depth - 1, 0)
        elif depth_in_snmp is not None and depth == depth_in_snmp:
            line = mask_span(line, _COMMUNITY_NAME.match(line), "community")
        out.append(line)
    return "\n".join(out)


DRIVER = PlatformDriver(
    platform=Platform.FORTIOS,
    title="FortiOS (FortiGate)",
    netmiko_device_type="fortinet",
    config_commands=("show", "show full-configuration"),
    enable=False,
    rule_pack="rules/fortios.yml",
    control_prefix="NET-FGT-",
    structure="config_edit",
    markers=MARKERS,
    normaliser=Normaliser(drop=VOLATILE, rewrite=REWRITE),
    masker=Masker(patterns=SECRETS, next_line=SECRET_NEXT_LINE, block_values=snmp_communities),
    facts_commands=("get system status",),
    counters_command="fnsysctl ifconfig",
    cli=Cli(
        prompt="{h} # ",
        version_commands=("get system status",),
        more="--More-- ",
        console_output_mode=True,
    ),
    reencrypted=r"\bENC (\S+)",
)
