"""The windows_backup evaluator judged on recorded collector outputs (tests/data/windows/backup).

Cases are data: cases.yml (file, thresholds, expected status and evidence per control); README.md there names
the documented object shape each file follows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner import evaluators
from runner.evaluators import EvaluatorError
from runner.evaluators.windows_backup import CONTROL_IDS, DEFAULTS
from runner.results import Domain, Status
from tests.evaluator_cases import assert_cases_documented, case_ids, check_case, load_json
from tests.evaluator_cases import judge as judge_all

DATA = Path(__file__).parent / "data" / "windows" / "backup"
CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "cases.yml").read_text())
KIND = "windows_backup"


def load(name: str) -> dict[str, Any]:
    return load_json(DATA, name)


def judge(raw: Any, thresholds: dict[str, Any] | None = None) -> dict[str, Any]:
    return judge_all(KIND, CONTROL_IDS, raw, thresholds)


def test_every_case_file_is_used_and_documented() -> None:
    assert_cases_documented(DATA, CASES)


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_case(case: dict[str, Any]) -> None:
    check_case(KIND, CONTROL_IDS, Domain.BACKUP, load(case["file"]), case)


def test_enum_numbers_and_names_judge_the_same() -> None:
    """PS 5.1 (Result 2, State -1, /Date(ms)/) and PS 7 (Failed, Stopped, ISO) give identical findings."""
    assert judge(load("veeam_mixed_ps51.json")) == judge(load("veeam_mixed_ps7.json"))


def test_remediation_names_the_jobs() -> None:
    got = judge(load("veeam_mixed_ps51.json"))
    assert got["BKP-VEEAM-01"].remediation.startswith("Failed: SQL - Nightly. Open the job's last session")
    assert got["BKP-VEEAM-03"].remediation.startswith("Disabled: Old ERP - Weekly.")
    warn = judge(load("veeam_mixed_ps51.json"), {"veeam_ignore_jobs": ["SQL*"]})["BKP-VEEAM-01"]
    assert warn.remediation.startswith(
        "Finished with warnings: Exchange - Nightly; still running, result not known yet: "
        "Fileserver - Hourly; never ran: New DC backup. Open the job's"
    )


def test_running_session_too_old_is_stale() -> None:
    raw = load("veeam_mixed_ps7.json")
    raw["veeam"]["jobs"] = [raw["veeam"]["jobs"][2]]  # Fileserver - Hourly, Working since 25 minutes
    assert judge(raw)["BKP-VEEAM-02"].status is Status.PASS
    raw["veeam"]["jobs"][0]["last_session"]["CreationTime"] = "2025-11-24T09:00:00.000+01:00"
    got = judge(raw)["BKP-VEEAM-02"]
    assert got.status is Status.FAIL
    assert got.evidence["stale"] == [{"job": "Fileserver - Hourly", "last": "started", "age_hours": 49.0}]


def test_agent_result_from_level_when_message_is_localised() -> None:
    raw = load("vaw_failed_stale.json")
    raw["veeam_agent"]["events"] = [
        {
            "Id": 190,
            "TimeCreated": "/Date(1764140400000)/",
            "Level": 3,
            "Message": "Sitzung beendet: 'Job A'.",
        }
    ]
    got = judge(raw)
    assert got["BKP-VAW-01"].status is Status.WARN
    assert got["BKP-VAW-01"].evidence["jobs"][0]["result"] == "Warning"


def test_whole_win_powershell_result_is_unwrapped() -> None:
    raw = {"changed": False, "output": [json.dumps(load("wsb_failed_ps7.json"))], "error": []}
    assert judge(raw)["BKP-WSB-01"].status is Status.FAIL


def test_registry_entry_and_role_defaults() -> None:
    ev = evaluators.get(KIND)
    assert ev.role == "windows_backup"
    assert [c.control for c in evaluators.controls_for_role("windows_backup")] == list(CONTROL_IDS)
    role_defaults = yaml.safe_load(
        (Path(__file__).parents[1] / "roles/windows_backup/defaults/main.yml").read_text()
    )
    for name, value in DEFAULTS.items():
        assert role_defaults[f"windows_backup_{name}"] == (list(value) if isinstance(value, tuple) else value)


def _mixed(**session: Any) -> dict[str, Any]:
    raw = load("veeam_mixed_ps51.json")
    raw["veeam"]["jobs"] = [
        {**raw["veeam"]["jobs"][0], "last_session": {**raw["veeam"]["jobs"][0]["last_session"], **session}}
    ]
    return raw


MALFORMED: list[tuple[str, Any, str]] = [
    ("not an object", [], "raw data must be the collector's JSON object"),
    (
        "probe missing",
        {k: v for k, v in load("nothing_installed.json").items() if k != "wsb"},
        "wsb: Field required",
    ),
    (
        "other collector",
        {**load("nothing_installed.json"), "collector": "windows_antivirus"},
        "not 'windows_backup'",
    ),
    ("unknown result number", _mixed(Result=7), "veeam.jobs.0.last_session.Result: unknown enum value 7"),
    (
        "unknown state name",
        _mixed(State="Sleeping"),
        "veeam.jobs.0.last_session.State: unknown enum name 'Sleeping'",
    ),
    ("bad date", _mixed(EndTime="yesterday"), "veeam.jobs.0.last_session.EndTime: 'yesterday' is not a date"),
    (
        "HRESULT as text",
        {
            **load("wsb_healthy_ps51.json"),
            "wsb": {
                **load("wsb_healthy_ps51.json")["wsb"],
                "summary": {"LastBackupResultHR": "0x0", "LastBackupTime": "/Date(1764100800000)/"},
            },
        },
        "LastBackupResultHR: expected an integer HRESULT",
    ),
    (
        "event 190 without a result",
        {
            **load("vaw_failed_stale.json"),
            "veeam_agent": {
                "available": True,
                "events": [{"Id": 190, "TimeCreated": "/Date(0)/", "Message": "?"}],
            },
        },
        "veeam_agent.events.0: event 190 without a result",
    ),
]


@pytest.mark.parametrize(("raw", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_raw_data_raises(raw: Any, message: str) -> None:
    with pytest.raises(EvaluatorError, match=r"^windows_backup: ") as exc:
        evaluators.evaluate(KIND, raw)
    assert message in str(exc.value)


BAD_THRESHOLDS: list[tuple[dict[str, Any], str]] = [
    ({"veeam_max_age": 24}, "veeam_max_age: Extra inputs are not permitted"),
    ({"wsb_max_age_hours": 0}, "wsb_max_age_hours: Input should be greater than or equal to 1"),
    ({"veeam_ignore_jobs": "SQL*"}, "veeam_ignore_jobs: Input should be a valid list"),
    ({"skip_controls": ["BKP-WSB-09"]}, "skip_controls names unknown controls ['BKP-WSB-09']"),
]


@pytest.mark.parametrize(
    ("thresholds", "message"), BAD_THRESHOLDS, ids=[next(iter(t)) for t, _ in BAD_THRESHOLDS]
)
def test_invalid_thresholds_raise(thresholds: dict[str, Any], message: str) -> None:
    with pytest.raises(EvaluatorError, match=r"^windows_backup: invalid thresholds: ") as exc:
        evaluators.evaluate(KIND, load("nothing_installed.json"), thresholds)
    assert message in str(exc.value)
