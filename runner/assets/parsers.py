"""From a collector's raw output to validated facts: one parser module per platform family.

Each module named in :data:`PARSERS` has ``parse(platform: str, raw: Mapping[str, Any]) -> dict[str, Any]``
returning facts in the shape of :mod:`runner.assets.facts`, and raising
:class:`runner.assets.facts.AssetFactsError` (naming the key or command) on output it does not understand:
facts are never guessed. Modules are imported on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from runner.assets.facts import PLATFORMS, AssetFactsError, validate

PARSERS: dict[str, str] = {
    "linux": "runner.assets.linux",
    "windows": "runner.assets.windows",
    "cisco_ios": "runner.assets.network",
    "aruba_aoscx": "runner.assets.network",
    "aruba_aoss": "runner.assets.network",
    "fortios": "runner.assets.network",
}


def parse(platform: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The platform's facts from its collector's raw output, validated (AssetFactsError: not understood)."""
    if platform not in PLATFORMS:
        raise AssetFactsError(f"platform {platform!r}: one of {', '.join(PLATFORMS)}")
    module = importlib.import_module(PARSERS[platform])
    facts = module.parse(platform, raw)
    return validate(platform, facts)
