"""Network device configurations: normalise, mask, parse and review (Cisco IOS, Aruba AOS-CX/AOS-S, FortiOS).

Every fact about a platform is in its driver (``runner/network/platforms/<platform>.py``, :func:`driver`);
the modules here are engines that read it.

The pipeline for a configuration taken from a device::

    platform = detect_platform(raw)          # or known from inventory
    text = mask(platform, normalise(platform, raw))   # safe to store, diff and show
    tree = parse(platform, text)             # hierarchy of blocks
    findings = review(platform, raw)         # security baseline from rules/<platform>.yml
"""

from __future__ import annotations

from runner.network.mask import mask, mask_with_lines
from runner.network.normalise import normalise, normalise_with_lines
from runner.network.parse import ConfigNode, ConfigTree, parse
from runner.network.platforms import (
    NetworkConfigError,
    Platform,
    PlatformDriver,
    detect_platform,
    driver,
    drivers,
    read_config,
)
from runner.network.review import (
    Rule,
    RulePack,
    all_controls,
    evidence_summary,
    review,
    review_tree,
    rule_pack,
)

__all__ = [
    "ConfigNode",
    "ConfigTree",
    "NetworkConfigError",
    "Platform",
    "PlatformDriver",
    "Rule",
    "RulePack",
    "all_controls",
    "detect_platform",
    "driver",
    "drivers",
    "evidence_summary",
    "mask",
    "mask_with_lines",
    "normalise",
    "normalise_with_lines",
    "parse",
    "read_config",
    "review",
    "review_tree",
    "rule_pack",
]
