"""Drop volatile lines so two fetches of an unchanged configuration give the same text.

Each platform has a table of regexes (data, not branches): a line matching one is dropped,
a ``(pattern, replacement)`` rewrite removes a volatile part of a line that is otherwise kept.
Order, indentation and every other line are kept, so the result is still a valid configuration.
"""

from __future__ import annotations

import re

from runner.network.platforms import Platform

_COMMON_DROP = (
    # a CLI prompt echoing the command that produced the text
    r"^[\w.\-()/]+ ?[#$>] ?(show|display|get|more)\b.*$",
)

_DROP: dict[Platform, tuple[str, ...]] = {
    Platform.CISCO_IOS: (
        r"^! Last configuration change at ",
        r"^! NVRAM config last updated at ",
        r"^! No configuration change since last restart",
        r"^ntp clock-period \d+",
        r"^Current configuration ?: \d+ bytes",
        r"^Building configuration\.\.\.",
        r"^! ?(Uptime|System uptime|System restarted|System returned to ROM|Time since|Last reload)\b",
    ),
    Platform.FORTIOS: (
        r"^#conf_file_ver=",
        r"^#buildno=",
        r"^# ?(System time|Current Time|Uptime|Last reboot|Cluster uptime|Last reboot reason)\s*:",
    ),
    Platform.ARUBA_AOSCX: (
        r"^Current configuration:\s*$",
        r"^! ?(Uptime|System uptime|Current time|Last reboot)\b",
        r"^!\s*(Up Time|Time Zone|Current Time)\s*:",
    ),
    Platform.ARUBA_AOSS: (
        r"^Running configuration:\s*$",
        r"^Startup configuration:\s*$",
        r"^! ?(Up Time|Uptime|Current time|CPU Util|Memory)\b",
        r"^!\s*(Up Time|CPU Util|Memory\s+- Total|Free|Packet\s+- Total)\s*:",
    ),
}

_REWRITE: dict[Platform, tuple[tuple[str, str], ...]] = {
    # who fetched the configuration is not part of it
    Platform.FORTIOS: ((r"^(#config-version=.*?):user=[^:\s]*", r"\1"),),
}

_compiled_drop = {p: re.compile("|".join((*_COMMON_DROP, *_DROP[p]))) for p in Platform}
_compiled_rewrite = {p: tuple((re.compile(a), b) for a, b in _REWRITE.get(p, ())) for p in Platform}


def normalise_with_lines(platform: Platform, text: str) -> tuple[str, list[int]]:
    """:func:`normalise`, and for each line of the result its 1-based line number in ``text``.

    Lines are counted as an editor counts them (``\n``, ``\r\n``); a lone ``\r`` splits a line
    in the result, and both parts keep the number of the line they came from.
    """
    drop = _compiled_drop[platform]
    rewrites = _compiled_rewrite[platform]
    kept: list[str] = []
    numbers: list[int] = []
    for lineno, physical in enumerate(text.replace("\x00", "").replace("\r\n", "\n").split("\n"), start=1):
        for raw in physical.split("\r"):
            line = raw.rstrip()
            if drop.search(line):
                continue
            for pattern, replacement in rewrites:
                line = pattern.sub(replacement, line)
            kept.append(line)
            numbers.append(lineno)
    end = len(kept)
    while end and not kept[end - 1]:
        end -= 1
    start = 0
    while start < end and not kept[start]:
        start += 1
    kept, numbers = kept[start:end], numbers[start:end]
    return ("\n".join(kept) + "\n" if kept else ""), numbers


def normalise(platform: Platform, text: str) -> str:
    """``text`` without volatile lines, trailing blanks, NULs and CR line endings; order kept.

    The result ends with exactly one newline (or is empty) and normalising twice changes nothing.
    """
    return normalise_with_lines(platform, text)[0]
