"""The asset roles' one control: the host's asset facts were collected and understood.

:func:`judge` parses a collector's raw output with :func:`runner.assets.parsers.parse` and returns the facts
(None when not understood) with the finding of the platform's control: ``pass`` with a summary of what was
found, ``error`` with the parser's message. The ``maint.core.maint_assets`` action plugin calls it (and hands
the facts to the ledger as ``maint_assets``); the evaluator kinds registered here make the same judgement
from the CLI on a saved output (``maint evaluate linux_assets saved.json``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner import catalogue
from runner.assets.facts import AssetFactsError
from runner.assets.parsers import parse
from runner.evaluators import evaluator
from runner.results import Control, Finding, Status

#: platform -> (role, control) of the platforms whose asset role records through maint_assets
PLATFORM_CONTROLS: Mapping[str, tuple[str, str]] = {
    "linux": ("linux_assets", "ASSET-LNX-01"),
    "windows": ("windows_assets", "ASSET-WIN-01"),
}
#: list facts counted in a passing finding's evidence
COUNTED = ("disks", "filesystems", "software", "interfaces", "services_listening")


class UnknownPlatformError(ValueError):
    """``platform`` is not one whose asset role records through maint_assets."""


def control(platform: str) -> Control:
    """The platform's control, as the catalogue says it (UnknownPlatformError for another platform)."""
    if platform not in PLATFORM_CONTROLS:
        raise UnknownPlatformError(f"platform {platform!r}: one of {', '.join(PLATFORM_CONTROLS)}")
    return catalogue.load().control(PLATFORM_CONTROLS[platform][1]).as_control()


def summary(facts: Mapping[str, Any]) -> dict[str, Any]:
    """The evidence of a pass: who the host is, how much was found, which fact keys were collected."""
    os_facts = facts.get("os") or {}
    evidence: dict[str, Any] = {"hostname": facts["hostname"]}
    os_text = " ".join(str(os_facts[k]) for k in ("name", "version") if os_facts.get(k))
    if os_text:
        evidence["os"] = os_text
    counts = {key: len(facts[key]) for key in COUNTED if isinstance(facts.get(key), list)}
    if "software_count" in facts:
        counts["software"] = facts["software_count"]
    evidence["counts"] = counts
    evidence["collected"] = sorted(facts)
    return evidence


def judge(platform: str, raw: Any) -> tuple[dict[str, Any] | None, Finding]:
    """(facts, finding): the facts and a pass, or None and an error naming what was not understood."""
    ctl = control(platform)
    try:
        facts = parse(platform, raw)
    except AssetFactsError as exc:
        return None, ctl.finding(Status.ERROR, {"error": str(exc), "platform": platform})
    return facts, ctl.finding(Status.PASS, summary(facts), remediation="")


@evaluator("linux_assets", role="linux_assets", controls=[control("linux")])
def evaluate_linux_assets(raw: Any, thresholds: Mapping[str, Any]) -> list[Finding]:
    """Linux asset facts: collected and understood."""
    return [judge("linux", raw)[1]]


@evaluator("windows_assets", role="windows_assets", controls=[control("windows")])
def evaluate_windows_assets(raw: Any, thresholds: Mapping[str, Any]) -> list[Finding]:
    """Windows asset facts: collected and understood."""
    return [judge("windows", raw)[1]]
