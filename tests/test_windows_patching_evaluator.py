"""The windows_updates evaluator (role windows_patching) on outputs shaped as documented.

Cases are data: tests/data/windows/patching/cases.yml; tests/data/windows/README.md names the documented
source of every object shape (win_updates RETURN, IUpdateHistoryEntry, Get-HotFix, pending-reboot keys).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner import evaluators
from runner.evaluators import EvaluatorError
from runner.evaluators.windows_patching import CONTROL_IDS, DEFAULTS
from runner.results import Domain, Status
from tests.evaluator_cases import assert_cases_documented, case_ids, check_case, load_json
from tests.evaluator_cases import judge as judge_all

ROOT = Path(__file__).parents[1]
DATA = ROOT / "tests" / "data" / "windows" / "patching"
CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "cases.yml").read_text())


def load(name: str) -> dict[str, Any]:
    return load_json(DATA, name)


def judge(raw: Any, thresholds: dict[str, Any] | None = None) -> dict[str, Any]:
    return judge_all("windows_updates", CONTROL_IDS, raw, thresholds)


def test_every_file_is_used_and_documented() -> None:
    assert_cases_documented(DATA, CASES, DATA.parent / "README.md", prefix="patching/")


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_case(case: dict[str, Any]) -> None:
    check_case("windows_updates", CONTROL_IDS, Domain.PATCHING, load(case["file"]), case)


def test_remediation_lists_pending_and_failure_codes() -> None:
    pending = judge(load("ps51_audit_pending_security.json"))["PATCH-WIN-01"]
    assert pending.remediation.startswith("Pending: 2 SecurityUpdates, 1 DefinitionUpdates.")
    failed = judge(load("remediate_partial_failure.json"))["PATCH-WIN-04"]
    assert failed.remediation.startswith("Failed: KB5046616 0x80240017.")


def test_definition_updates_do_not_count_as_recent_patching() -> None:
    """A daily Defender signature update must not hide months without a cumulative update."""
    raw = load("stale_reboot_pending.json")
    fresh_definitions = copy.deepcopy(load("ps51_audit_up_to_date.json")["history"]["entries"][0])
    raw["history"]["entries"].insert(0, fresh_definitions)
    assert judge(raw)["PATCH-WIN-02"].status is Status.FAIL
    assert judge(raw, {"last_install_ignore": []})["PATCH-WIN-02"].status is Status.PASS


def test_install_failure_without_update_list_fails() -> None:
    raw = load("remediate_success.json")
    raw["install"] = {
        "failed": True,
        "msg": "Failed to create scheduled task: Access is denied",
        "updates": {},
    }
    finding = judge(raw)["PATCH-WIN-04"]
    assert finding.status is Status.FAIL
    assert finding.evidence["error"] == "Failed to create scheduled task: Access is denied"


def test_remediate_mode_without_install_result_is_not_checked() -> None:
    raw = load("remediate_success.json")
    raw["install"] = None
    finding = judge(raw)["PATCH-WIN-04"]
    assert finding.status is Status.NOT_CHECKED
    assert finding.evidence == {"reason": "remediate mode, but the installation step did not run"}


def test_registry_entry_and_role_defaults() -> None:
    ev = evaluators.get("windows_updates")
    assert ev.role == "windows_patching"
    assert [c.control for c in evaluators.controls_for_role("windows_patching")] == list(CONTROL_IDS)
    role_defaults = yaml.safe_load((ROOT / "roles/windows_patching/defaults/main.yml").read_text())
    for name, value in DEFAULTS.items():
        assert role_defaults[f"windows_patching_{name}"] == (
            list(value) if isinstance(value, tuple) else value
        )


MALFORMED: list[tuple[str, Any, str]] = [
    ("list", [], "raw data must be the collector's JSON object"),
    ("health data", {**load("ps51_audit_up_to_date.json"), "collector": "windows_health"}, "collector"),
    (
        "kb as text",
        {
            **load("ps51_audit_up_to_date.json"),
            "search": {"updates": {"x": {"title": "t", "kb": "5046616", "categories": []}}},
        },
        "search: updates.x.kb",
    ),
    (
        "unknown result code",
        {
            **load("ps51_audit_up_to_date.json"),
            "history": {
                "available": True,
                "entries": [{"Date": "/Date(0)/", "Title": "t", "Operation": 1, "ResultCode": 9}],
            },
        },
        "history.entries.0.ResultCode: unknown enum value 9",
    ),
    ("schema 2", {**load("ps51_audit_up_to_date.json"), "schema": 2}, "schema 2 is not supported"),
]


@pytest.mark.parametrize(("raw", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_raw_is_an_evaluator_error(raw: Any, message: str) -> None:
    with pytest.raises(EvaluatorError, match="windows_updates") as exc:
        evaluators.evaluate("windows_updates", raw)
    assert message in str(exc.value)


def test_invalid_thresholds() -> None:
    with pytest.raises(EvaluatorError, match="last_install_warn_days"):
        judge(load("ps51_audit_up_to_date.json"), {"last_install_warn_days": 90})
    with pytest.raises(EvaluatorError, match="categories"):
        judge(load("ps51_audit_up_to_date.json"), {"categories": []})


# ---------------------------------------------------------------- the search only when needed (issue 16)


def test_a_search_that_ran_says_why() -> None:
    """The online search's result is judged as before; the evidence says it ran, and the collector's why."""
    raw = load("ps51_collector_search_needed.json")
    raw["search"] = load("ps51_collector_iso_names.json")["search"]
    finding = judge(raw)["PATCH-WIN-01"]
    assert finding.status is Status.FAIL
    assert finding.evidence["pending"] == 3
    assert finding.evidence["search"] == {
        "ran": True,
        "source": "win_updates online search",
        "reasons": ["the cached search lists 3 pending update(s) in the audited categories"],
    }


def test_a_cached_search_lists_pending_updates_like_the_online_one() -> None:
    """The same updates from the agent's cache are judged alike (should the collector skip the search)."""
    raw = load("ps51_collector_search_needed.json")
    raw["search_decision"] = {**raw["search_decision"], "needed": False, "reasons": []}
    cached = judge(raw)["PATCH-WIN-01"]
    raw["search"] = load("ps51_collector_iso_names.json")["search"]
    online = judge(raw)["PATCH-WIN-01"]
    assert cached.status is online.status is Status.FAIL
    for key in ("pending", "by_category", "updates"):
        assert cached.evidence[key] == online.evidence[key]
    assert cached.evidence["search"]["ran"] is False
    assert cached.evidence["search"]["age_hours"] == 6.2


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"wu_agent": {"available": True, "last_search_success": "2026-11-18T09:00:00.0000000Z"}},
            "the online search was skipped, but the cached results are 48.3 h old (trusted up to 24 h)",
        ),
        (
            {"wu_agent": {"available": True, "last_search_success": None}},
            "the online search was skipped, but the last successful search is not known",
        ),
        (
            {"wu_agent": {"available": False, "reason": "Microsoft.Update.AutoUpdate failed: denied"}},
            "the online search was skipped, but Microsoft.Update.AutoUpdate failed: denied",
        ),
        (
            {
                "cached_search": {
                    "available": False,
                    "reason": "offline Windows Update search failed: 0x80240438",
                }
            },
            "the online search was skipped, but offline Windows Update search failed: 0x80240438",
        ),
        (
            {"cached_search": None},
            "the online search was skipped, but no cached search results",
        ),
    ],
    ids=["cache too old", "last search unknown", "agent denied", "cache unreadable", "cache missing"],
)
def test_a_skipped_search_without_a_fresh_cache_is_not_a_pass(change: dict[str, Any], reason: str) -> None:
    raw = {**load("ps51_collector_search_skipped.json"), **change}
    finding = judge(raw)["PATCH-WIN-01"]
    assert finding.status is Status.ERROR
    assert finding.evidence["reason"] == reason


def test_a_needed_search_that_did_not_run_is_not_checked() -> None:
    raw = load("ps51_collector_search_skipped.json")
    raw["search_decision"] = {
        "needed": True,
        "reasons": ["Windows Update RebootRequired is set"],
        "max_age_hours": 24,
    }
    finding = judge(raw)["PATCH-WIN-01"]
    assert finding.status is Status.NOT_CHECKED
    assert "Windows Update RebootRequired is set" in finding.evidence["reason"]
