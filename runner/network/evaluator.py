"""The ``network_config`` evaluator: a saved or fetched configuration judged by its rule pack.

Raw data: ``{"platform": "<a Platform value, e.g. cisco_ios>" | "auto", "config": "<configuration
text>"}``. Thresholds are the review overrides
(``{"disabled": [...], "params": {...}}``), normally the client's
``maintenance.thresholds.network_config``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner import catalogue
from runner.evaluators import EvaluatorError, evaluator
from runner.network.platforms import NetworkConfigError, Platform, detect_platform
from runner.network.review import all_controls, review
from runner.results import Finding

#: the review overrides' defaults (nothing disabled, the rule packs' parameters): the catalogue's
_DEFAULTS = catalogue.load().roles["network_config"].defaults()


@evaluator("network_config", role="network_config", controls=all_controls(), defaults=_DEFAULTS)
def network_config(raw: Any, thresholds: Mapping[str, Any]) -> list[Finding]:
    """Network device configuration reviewed against the platform's security baseline."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("config"), str):
        raise EvaluatorError('network_config expects {"platform": "...", "config": "<text>"}')
    name = str(raw.get("platform") or "auto")
    try:
        platform = detect_platform(raw["config"]) if name == "auto" else Platform(name)
    except ValueError as exc:
        known = ", ".join(p.value for p in Platform)
        raise EvaluatorError(f"network_config: unknown platform {name!r} (known: {known}, auto)") from exc
    except NetworkConfigError as exc:
        raise EvaluatorError(f"network_config: {exc}") from exc
    try:
        return review(platform, raw["config"], overrides=thresholds)
    except NetworkConfigError as exc:
        raise EvaluatorError(f"network_config: {exc}") from exc
