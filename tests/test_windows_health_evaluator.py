"""The windows_health evaluator and the shared Windows decoding helpers, on outputs shaped as documented.

Cases are data: tests/data/windows/health/cases.yml; tests/data/windows/README.md names the documented source
of every object shape.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner import evaluators
from runner.evaluators import EvaluatorError
from runner.evaluators.windows_common import SERVICE_STATUS, enum_name, ps_datetime, unwrap_output
from runner.evaluators.windows_health import CONTROL_IDS, DEFAULTS
from runner.results import Domain, Status
from tests.evaluator_cases import assert_cases_documented, case_ids, check_case, load_json
from tests.evaluator_cases import judge as judge_all

ROOT = Path(__file__).parents[1]
DATA = ROOT / "tests" / "data" / "windows" / "health"
CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "cases.yml").read_text())


def load(name: str) -> dict[str, Any]:
    return load_json(DATA, name)


def judge(raw: Any, thresholds: dict[str, Any] | None = None) -> dict[str, Any]:
    return judge_all("windows_health", CONTROL_IDS, raw, thresholds)


def test_every_file_is_used_and_documented() -> None:
    assert_cases_documented(DATA, CASES, DATA.parent / "README.md", prefix="health/")


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_case(case: dict[str, Any]) -> None:
    check_case("windows_health", CONTROL_IDS, Domain.HEALTH, load(case["file"]), case)


def test_both_encodings_judge_alike() -> None:
    ps51, ps7 = judge(load("ps51_healthy_server2019.json")), judge(load("ps7_healthy_enum_names.json"))
    assert {c: (f.status, f.evidence) for c, f in ps51.items()} == {
        c: (f.status, f.evidence) for c, f in ps7.items()
    }


def test_remediation_names_what_is_wrong() -> None:
    assert judge(load("volumes_low.json"))["HEALTH-WIN-01"].remediation.startswith(
        "Low on space: C: (7.0% / 5.6 GiB free), E: (13.0% / 6.5 GiB free)."
    )
    services = judge(load("services_stopped_events.json"))["HEALTH-WIN-04"]
    assert services.remediation.startswith("Not running: MSSQLSERVER, SQLSERVERAGENT, VeeamBackupSvc.")


def test_saved_win_powershell_result_is_unwrapped() -> None:
    text = (DATA / "ps51_healthy_server2019.json").read_text()
    saved = {"changed": False, "output": [text], "error": [], "host_out": "", "result": {}}
    assert judge(saved)["HEALTH-WIN-04"].evidence["automatic"] == 18


def test_unavailable_probe_never_passes() -> None:
    raw = load("ps51_healthy_server2019.json")
    for probe, control in [
        ("os", "HEALTH-WIN-03"),
        ("volumes", "HEALTH-WIN-01"),
        ("events", "HEALTH-WIN-05"),
    ]:
        broken = copy.deepcopy(raw)
        broken[probe] = {"available": False, "reason": f"{probe} probe failed: boom"}
        finding = judge(broken)[control]
        assert finding.status is Status.NOT_CHECKED
        assert finding.evidence == {"reason": f"{probe} probe failed: boom"}


def test_registry_entry_and_role_defaults() -> None:
    ev = evaluators.get("windows_health")
    assert ev.role == "windows_health"
    # the role's controls also hold the trends judged from the ledger after the run (runner.trends)
    trends = ["HEALTH-WIN-07", "HEALTH-WIN-08"]
    assert [c.control for c in evaluators.controls_for_role("windows_health")] == [*CONTROL_IDS, *trends]
    role_defaults = yaml.safe_load((ROOT / "roles/windows_health/defaults/main.yml").read_text())
    for name, value in DEFAULTS.items():
        assert role_defaults[f"windows_health_{name}"] == (list(value) if isinstance(value, tuple) else value)


MALFORMED: list[tuple[str, Any, str]] = [
    ("not JSON text", "WARNING: something printed first", "not JSON"),
    (
        "wrong collector",
        {**load("ps51_healthy_server2019.json"), "collector": "windows_patching"},
        "collector",
    ),
    (
        "unknown service status",
        {
            **load("ps51_healthy_server2019.json"),
            "services": {"available": True, "items": [{"Name": "X", "Status": 9, "StartType": 2}]},
        },
        "services.items.0.Status: unknown enum value 9",
    ),
    (
        "boot time without zone",
        {
            **load("ps51_healthy_server2019.json"),
            "os": {"available": True, "LastBootUpTime": "2026-11-08 05:55"},
        },
        "os.LastBootUpTime",
    ),
    (
        "probe missing",
        {k: v for k, v in load("ps51_healthy_server2019.json").items() if k != "events"},
        "events",
    ),
]


@pytest.mark.parametrize(("raw", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_raw_is_an_evaluator_error(raw: Any, message: str) -> None:
    with pytest.raises(EvaluatorError, match="windows_health") as exc:
        evaluators.evaluate("windows_health", raw)
    assert message in str(exc.value)


def test_invalid_thresholds() -> None:
    with pytest.raises(EvaluatorError, match="volume_warn_free_pct"):
        judge(load("volumes_low.json"), {"volume_warn_free_pct": 5})
    with pytest.raises(EvaluatorError, match="HEALTH-WIN-09"):
        judge(load("volumes_low.json"), {"skip_controls": ["HEALTH-WIN-09"]})


DATES: list[tuple[Any, datetime]] = [
    ("/Date(1795166142000)/", datetime(2026, 11, 20, 9, 15, 42, tzinfo=UTC)),
    ("\\/Date(1795166142000)\\/", datetime(2026, 11, 20, 9, 15, 42, tzinfo=UTC)),
    ("/Date(1795166142000+0100)/", datetime(2026, 11, 20, 9, 15, 42, tzinfo=UTC)),
    ({"value": "/Date(1795166142000)/", "DisplayHint": 2}, datetime(2026, 11, 20, 9, 15, 42, tzinfo=UTC)),
    ("2026-11-20T10:15:42.1234567+01:00", datetime(2026, 11, 20, 9, 15, 42, 123456, tzinfo=UTC)),
    ("2026-11-20T09:15:42Z", datetime(2026, 11, 20, 9, 15, 42, tzinfo=UTC)),
    ("20261120101542.000000+060", datetime(2026, 11, 20, 9, 15, 42, tzinfo=UTC)),
]


@pytest.mark.parametrize(("value", "expected"), DATES, ids=[str(d[0]) for d in DATES])
def test_ps_datetime_forms(value: Any, expected: datetime) -> None:
    assert ps_datetime(value, "f") == expected


@pytest.mark.parametrize("value", [4, "4", "Running", "running"])
def test_enum_number_or_name(value: Any) -> None:
    assert enum_name(value, SERVICE_STATUS, "Status") == "Running"


@pytest.mark.parametrize("value", [True, 0, "Runnin", 4.0, None])
def test_enum_rejects(value: Any) -> None:
    with pytest.raises(EvaluatorError, match="Status"):
        enum_name(value, SERVICE_STATUS, "Status")


def test_unwrap_empty_output() -> None:
    with pytest.raises(EvaluatorError, match="printed nothing"):
        unwrap_output({"output": []}, "windows_health")
