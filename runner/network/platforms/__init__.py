"""The network platforms: the registry of their drivers, and detection of a configuration's platform.

Each platform is one member of :class:`Platform` (the registry) and one module
``runner/network/platforms/<value>.py`` defining ``DRIVER``, a
:class:`~runner.network.platforms.base.PlatformDriver` holding every fact about it (netmiko device type,
fetch commands, rule pack, normaliser, masker, block structure, detection markers, CLI dialect). Adding a
platform: that module, one member here, and its rule pack ``runner/network/rules/<value>.yml`` (plus
``maint_devtools/sim_data/<value>/`` for the demo's simulator). Driver modules are imported on first use.
"""

from __future__ import annotations

import functools
import importlib
import json
import re
from enum import StrEnum
from pathlib import Path

from runner.network.platforms.base import Cli, PlatformDriver

__all__ = [
    "CONFIG_COMMANDS",
    "MAX_CONFIG_BYTES",
    "Cli",
    "NetworkConfigError",
    "Platform",
    "PlatformDriver",
    "detect_platform",
    "driver",
    "drivers",
    "platform_scores",
    "read_config",
]


class NetworkConfigError(Exception):
    """A configuration cannot be handled (unknown platform, unreadable text, broken rule pack)."""


class Platform(StrEnum):
    """The registry: one member per platform, its value naming the driver module."""

    CISCO_IOS = "cisco_ios"
    ARUBA_AOSCX = "aruba_aoscx"
    ARUBA_AOSS = "aruba_aoss"
    FORTIOS = "fortios"

    @property
    def driver(self) -> PlatformDriver:
        return driver(self)


@functools.cache
def _load(platform: Platform) -> PlatformDriver:
    module = importlib.import_module(f"{__name__}.{platform.value}")
    found = getattr(module, "DRIVER", None)
    if not isinstance(found, PlatformDriver) or found.platform is not platform:
        raise NetworkConfigError(f"{module.__name__}: DRIVER must be the PlatformDriver of {platform.value}")
    return found


def driver(platform: Platform | str) -> PlatformDriver:
    """The driver of ``platform``; raises NetworkConfigError naming the known platforms."""
    try:
        member = Platform(platform)
    except ValueError:
        known = ", ".join(p.value for p in Platform)
        raise NetworkConfigError(f"unknown platform {platform!r} (known: {known})") from None
    return _load(member)


def drivers() -> tuple[PlatformDriver, ...]:
    """Every platform's driver, in :class:`Platform` order."""
    return tuple(_load(platform) for platform in Platform)


@functools.cache
def _compiled_markers() -> tuple[tuple[Platform, tuple[tuple[re.Pattern[str], int], ...]], ...]:
    return tuple(
        (d.platform, tuple((re.compile(pattern, re.M), weight) for pattern, weight in d.markers))
        for d in drivers()
    )


#: at most this many matches of one marker count, so a 39k-line file of VLANs cannot outvote a banner
_CAP = 20


def platform_scores(text: str) -> dict[Platform, int]:
    """How strongly ``text`` looks like each platform (the evidence behind :func:`detect_platform`)."""
    head = text[:200_000]
    scores: dict[Platform, int] = {}
    for platform, markers in _compiled_markers():
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
