"""The ``network_config`` evaluator: a saved or fetched configuration judged by its rule pack.

Raw data: ``{"platform": "<a Platform value, e.g. cisco_ios>" | "auto", "config": "<configuration
text>"}``, optionally with ``"access_approved_admins": [...]`` (the host variable the network_config action
passes on: approved administrators of the rules declaring ``approved_admins``). Thresholds are the review
overrides (``{"disabled": [...], "params": {...}}``), normally the client's
``maintenance.thresholds.network_config``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner import catalogue
from runner.evaluators import EvaluatorError, evaluator
from runner.network.checks.access import APPROVED_VAR, with_approved_admins
from runner.network.platforms import NetworkConfigError, Platform, detect_platform
from runner.network.review import all_controls, review
from runner.results import Finding

#: the review overrides' defaults (nothing disabled, the rule packs' parameters): the catalogue's
_ROLE = catalogue.load().roles["network_config"]
_DEFAULTS = _ROLE.defaults("network_config")
#: the role's thresholds tuning its other kinds (HEALTH-NET-01's ``interface_errors_warn``) and its
#: controls that are not rule-pack rules (HEALTH-NET-01...): not the review's business
_OTHER_THRESHOLDS = frozenset(_ROLE.thresholds) - frozenset(_DEFAULTS)
_NOT_RULES = frozenset(c for c in _ROLE.controls if "network_config" not in _ROLE.kinds_of.get(c, ()))


def review_overrides(thresholds: Mapping[str, Any]) -> dict[str, Any]:
    """The part of the role's thresholds the rule-pack review takes (``disabled`` rules, ``params``);
    any other key stays, so the review still refuses a key nobody knows."""
    out = {k: v for k, v in thresholds.items() if k not in _OTHER_THRESHOLDS}
    disabled = out.get("disabled")
    if isinstance(disabled, list):
        out["disabled"] = [d for d in disabled if d not in _NOT_RULES]
    return out


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
        overrides = with_approved_admins(review_overrides(thresholds), raw.get(APPROVED_VAR))
        return review(platform, raw["config"], overrides=overrides)
    except NetworkConfigError as exc:
        raise EvaluatorError(f"network_config: {exc}") from exc
