"""The linux_health evaluator judged on recorded real output and edge cases derived from it.

Cases are data: tests/data/linux_health/cases.yml (file, thresholds, expected status and evidence per
control); tests/data/linux_health/README.md says where each file came from.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner import evaluators
from runner.evaluators import EvaluatorError
from runner.evaluators.linux_health import CONTROL_IDS, DEFAULTS
from runner.results import Domain, Status
from tests.evaluator_cases import assert_cases_documented, case_ids, check_case, load_json
from tests.evaluator_cases import judge as judge_all

DATA = Path(__file__).parent / "data" / "linux_health"
CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "cases.yml").read_text())
REAL = "real_debian12_container.json"


def load(name: str) -> dict[str, Any]:
    return load_json(DATA, name)


def judge(raw: Any, thresholds: dict[str, Any] | None = None) -> dict[str, Any]:
    return judge_all("linux_health", CONTROL_IDS, raw, thresholds)


def test_every_case_file_is_used_and_documented() -> None:
    assert_cases_documented(DATA, CASES)


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_case(case: dict[str, Any]) -> None:
    check_case("linux_health", CONTROL_IDS, Domain.HEALTH, load(case["file"]), case)


def test_remediation_names_the_offending_mounts() -> None:
    got = judge(load("disk_full.json"))
    assert got["HEALTH-LNX-01"].remediation.startswith(
        "/ (96%) at or above 90% space used; /dev/shm (83%) at or above 80%."
    )
    assert "du -xh" in got["HEALTH-LNX-01"].remediation
    units = judge(load("failed_units.json"))["HEALTH-LNX-04"]
    assert units.remediation.startswith("Failed: certbot-renew.service, nginx.service.")


def test_whole_saved_module_result_is_unwrapped() -> None:
    raw = {"changed": False, "linux_health": load(REAL)}
    assert judge(raw)["HEALTH-LNX-04"].status is Status.NOT_CHECKED


def test_unavailable_probe_never_passes() -> None:
    raw = load("healthy_vm.json")
    for probe in ("uptime", "filesystems", "systemd", "time_sync"):
        broken = copy.deepcopy(raw)
        broken[probe] = {"available": False, "reason": f"{probe} probe crashed: OSError: boom"}
        got = judge(broken)
        statuses = {c: f.status for c, f in got.items() if f.evidence.get("reason", "").startswith(probe)}
        assert statuses, probe
        assert set(statuses.values()) == {Status.NOT_CHECKED}


def test_reboot_probes_of_an_older_collector_are_ignored() -> None:
    """A file recorded with ``reboot`` probes (before issue 11) is judged the same, without HEALTH-LNX-03."""
    raw = load("healthy_vm.json")
    assert "reboot" in raw
    without = {k: v for k, v in raw.items() if k != "reboot"}
    assert judge(raw) == judge(without)
    assert "HEALTH-LNX-03" not in judge(raw)


def test_registry_entry() -> None:
    ev = evaluators.get("linux_health")
    assert ev.role == "linux_health"
    # HEALTH-LNX-03 is retired: a pending reboot is judged once, by linux_patching (PATCH-LNX-04)
    assert [c.control for c in ev.controls] == [f"HEALTH-LNX-0{i}" for i in (1, 2, 4, 5, 6, 7, 8)]
    assert dict(ev.defaults) == dict(DEFAULTS)
    # the role's controls also hold the trends judged from the ledger after the run (runner.trends)
    trends = ["HEALTH-LNX-09", "HEALTH-LNX-10"]
    assert [c.control for c in evaluators.controls_for_role("linux_health")] == [*CONTROL_IDS, *trends]


def test_role_defaults_match_evaluator_defaults() -> None:
    """The role's prefixed defaults are the evaluator's defaults: one source of truth per value."""
    role_defaults = yaml.safe_load(
        (Path(__file__).parents[1] / "roles/linux_health/defaults/main.yml").read_text()
    )
    for name, value in DEFAULTS.items():
        assert role_defaults[f"linux_health_{name}"] == (list(value) if isinstance(value, tuple) else value)


MALFORMED: list[tuple[str, Any, str]] = [
    ("not a mapping", ["filesystems"], "raw data must be a mapping"),
    ("probe missing", {k: v for k, v in load(REAL).items() if k != "systemd"}, "systemd: Field required"),
    (
        "size as text",
        {
            **load(REAL),
            "filesystems": {
                "available": True,
                "items": [{**load(REAL)["filesystems"]["items"][0], "size_bytes": "270553174016"}],
            },
        },
        "filesystems.items.0.size_bytes",
    ),
    (
        "negative count",
        {
            **load(REAL),
            "filesystems": {
                "available": True,
                "items": [{**load(REAL)["filesystems"]["items"][0], "used_bytes": -1}],
            },
        },
        "filesystems.items.0.used_bytes",
    ),
    (
        "counts missing without error",
        {**load(REAL), "filesystems": {"available": True, "items": [{"mount": "/", "fstype": "ext4"}]}},
        "size_bytes, used_bytes, avail_bytes, inodes_total, inodes_used required",
    ),
    ("available as text", {**load(REAL), "uptime": {"available": "yes", "seconds": 5.0}}, "uptime.available"),
    ("uptime seconds missing", {**load(REAL), "uptime": {"available": True}}, "'seconds' is required"),
    ("sync state missing", {**load(REAL), "time_sync": {"available": True}}, "'synchronized' is required"),
    (
        "units not a list",
        {**load(REAL), "systemd": {"available": True, "failed_units": "nginx"}},
        "systemd.failed_units",
    ),
    ("future schema", {**load(REAL), "schema": 2}, "schema 2 is not supported"),
]


@pytest.mark.parametrize(("raw", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_raw_data_raises(raw: Any, message: str) -> None:
    with pytest.raises(EvaluatorError, match=r"^linux_health: ") as exc:
        evaluators.evaluate("linux_health", raw)
    assert message in str(exc.value)


BAD_THRESHOLDS: list[tuple[dict[str, Any], str]] = [
    ({"fs_warn_percent": 85}, "fs_warn_percent: Extra inputs are not permitted"),
    ({"fs_warn_pct": 95}, "fs_warn_pct (95) is above fs_fail_pct (90)"),
    ({"inode_warn_pct": -1}, "inode_warn_pct: Input should be greater than or equal to 0"),
    ({"fs_fail_pct": 101}, "fs_fail_pct: Input should be less than or equal to 100"),
    ({"uptime_warn_days": True}, "uptime_warn_days: Input should be a valid integer"),
    ({"skip_controls": ["HEALTH-LNX-11"]}, "skip_controls names unknown controls ['HEALTH-LNX-11']"),
]


@pytest.mark.parametrize(
    ("thresholds", "message"), BAD_THRESHOLDS, ids=[next(iter(t)) for t, _ in BAD_THRESHOLDS]
)
def test_invalid_thresholds_raise(thresholds: dict[str, Any], message: str) -> None:
    with pytest.raises(EvaluatorError, match=r"^linux_health: invalid thresholds: ") as exc:
        evaluators.evaluate("linux_health", load(REAL), thresholds)
    assert message in str(exc.value)
