"""The windows_antivirus evaluator judged on recorded collector outputs (tests/data/windows/antivirus).

Cases are data: cases.yml (file, thresholds, expected status and evidence per control); README.md there names
the documented object shape each file follows.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner import evaluators
from runner.evaluators import EvaluatorError
from runner.evaluators.windows_antivirus import CONTROL_IDS, DEFAULTS, decode_product_state
from runner.results import Domain, Status
from tests.evaluator_cases import assert_cases_documented, case_ids, check_case, load_json
from tests.evaluator_cases import judge as judge_all

DATA = Path(__file__).parent / "data" / "windows" / "antivirus"
CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "cases.yml").read_text())
KIND = "windows_antivirus"


def load(name: str) -> dict[str, Any]:
    return load_json(DATA, name)


def judge(raw: Any, thresholds: dict[str, Any] | None = None) -> dict[str, Any]:
    return judge_all(KIND, CONTROL_IDS, raw, thresholds)


def test_every_case_file_is_used_and_documented() -> None:
    assert_cases_documented(DATA, CASES)


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_case(case: dict[str, Any]) -> None:
    check_case(KIND, CONTROL_IDS, Domain.ANTIVIRUS, load(case["file"]), case)


@pytest.mark.parametrize(
    ("state", "scanner", "current", "microsoft"),
    [
        (266240, "on", True, False),  # 0x041000 third-party on, up to date
        (397568, "on", True, True),  # 0x061100 Defender on, up to date
        (393472, "off", True, True),  # 0x060100 Defender off
        (397584, "on", False, True),  # 0x061110 Defender on, out of date
        (262144, "off", True, False),  # 0x040000 third-party off
        (270336, "snoozed", True, False),  # 0x042000
    ],
)
def test_security_center_product_state(state: int, scanner: str, current: bool, microsoft: bool) -> None:
    assert decode_product_state(state) == (scanner, current, microsoft)


def test_service_enums_as_numbers_or_names_judge_the_same() -> None:
    ps51 = load("sophos_passive_defender_ps51.json")
    names = copy.deepcopy(ps51)
    status = {1: "Stopped", 4: "Running"}
    start = {2: "Automatic", 3: "Manual"}
    for svc in names["sophos"]["services"]:
        svc["Status"], svc["StartType"] = status[svc["Status"]], start[svc["StartType"]]
    assert judge(ps51) == judge(names)
    names["sophos"]["services"][3]["Status"] = "Stopped"  # Sophos File Scanner Service
    assert judge(names)["AV-WIN-02"].status is Status.FAIL


def test_one_service_flattened_to_an_object_by_ps51() -> None:
    """PS 5.1 ConvertTo-Json writes a one-element array as the object itself."""
    raw = load("sophos_passive_defender_ps51.json")
    raw["sophos"]["services"] = raw["sophos"]["services"][2]  # only SEDService
    got = judge(raw, {"sophos_required_services": ["Sophos Endpoint Defense Service"]})
    assert got["AV-WIN-01"].status is Status.PASS
    assert got["AV-WIN-02"].evidence["realtime_services"] == {
        "Sophos Endpoint Defense Service": "Running",
        "Sophos File Scanner Service": "not installed",
    }
    assert got["AV-WIN-02"].status is Status.FAIL


def test_whole_win_powershell_result_is_unwrapped() -> None:
    raw = {"changed": False, "output": [json.dumps(load("defender_never_scanned.json"))], "error": []}
    assert judge(raw)["AV-WIN-04"].status is Status.FAIL


def test_registry_entry_and_role_defaults() -> None:
    ev = evaluators.get(KIND)
    assert ev.role == "windows_antivirus"
    assert [c.control for c in evaluators.controls_for_role("windows_antivirus")] == list(CONTROL_IDS)
    role_defaults = yaml.safe_load(
        (Path(__file__).parents[1] / "roles/windows_antivirus/defaults/main.yml").read_text()
    )
    for name, value in DEFAULTS.items():
        assert role_defaults[f"windows_antivirus_{name}"] == (
            list(value) if isinstance(value, tuple) else value
        )


MALFORMED: list[tuple[str, Any, str]] = [
    ("not an object", ["defender"], "raw data must be the collector's JSON object"),
    ("not json", "AMRunningMode : Normal", "the collector output is not JSON"),
    (
        "probe missing",
        {k: v for k, v in load("defender_healthy_ps51.json").items() if k != "sophos"},
        "sophos",
    ),
    (
        "status incomplete",
        {
            **load("defender_healthy_ps51.json"),
            "defender": {"available": True, "status": {"AMRunningMode": "Normal"}},
        },
        "status lacks AMServiceEnabled",
    ),
    (
        "other collector",
        {**load("defender_healthy_ps51.json"), "collector": "windows_health"},
        "not 'windows_antivirus'",
    ),
    ("future schema", {**load("defender_healthy_ps51.json"), "schema": 2}, "schema 2 is not supported"),
    (
        "naive date",
        {**load("defender_healthy_ps51.json"), "collected_at": "2025-11-26T09:00:00"},
        "no time zone",
    ),
    (
        "unknown service status",
        {
            **load("sophos_passive_defender_ps51.json"),
            "sophos": {
                **load("sophos_passive_defender_ps51.json")["sophos"],
                "services": [{"Name": "SEDService", "Status": 9}],
            },
        },
        "sophos.services.0.Status: unknown enum value 9",
    ),
    (
        "productState as text",
        {
            **load("eset_security_center.json"),
            "security_center": {
                "available": True,
                "products": [{"displayName": "X", "productState": "266240"}],
            },
        },
        "security_center.products.0",
    ),
]


@pytest.mark.parametrize(("raw", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_raw_data_raises(raw: Any, message: str) -> None:
    with pytest.raises(EvaluatorError, match=r"^windows_antivirus: ") as exc:
        evaluators.evaluate(KIND, raw)
    assert message in str(exc.value)


BAD_THRESHOLDS: list[tuple[dict[str, Any], str]] = [
    ({"signature_warn": 3}, "signature_warn: Extra inputs are not permitted"),
    ({"signature_warn_days": 9}, "signature_warn_days (9) is above signature_fail_days (7)"),
    ({"scan_fail_days": -1}, "scan_fail_days: Input should be greater than or equal to 0"),
    ({"skip_controls": ["AV-WIN-99"]}, "skip_controls names unknown controls ['AV-WIN-99']"),
]


@pytest.mark.parametrize(
    ("thresholds", "message"), BAD_THRESHOLDS, ids=[next(iter(t)) for t, _ in BAD_THRESHOLDS]
)
def test_invalid_thresholds_raise(thresholds: dict[str, Any], message: str) -> None:
    with pytest.raises(EvaluatorError, match=r"^windows_antivirus: invalid thresholds: ") as exc:
        evaluators.evaluate(KIND, load("defender_healthy_ps51.json"), thresholds)
    assert message in str(exc.value)


def test_skipped_control_is_not_checked() -> None:
    got = judge(load("defender_never_scanned.json"), {"skip_controls": ["AV-WIN-04"]})
    assert got["AV-WIN-04"].status is Status.NOT_CHECKED
    assert got["AV-WIN-04"].evidence == {
        "reason": "disabled by configuration (windows_antivirus skip_controls)"
    }
