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
    (
        {"repository_free_warn_pct": 10, "repository_free_fail_pct": 15},
        "repository_free_fail_pct (15) is above repository_free_warn_pct (10)",
    ),
    ({"retention_tolerance_pct": 95}, "retention_tolerance_pct: Input should be less than or equal to 90"),
]


@pytest.mark.parametrize(
    ("thresholds", "message"), BAD_THRESHOLDS, ids=[next(iter(t)) for t, _ in BAD_THRESHOLDS]
)
def test_invalid_thresholds_raise(thresholds: dict[str, Any], message: str) -> None:
    with pytest.raises(EvaluatorError, match=r"^windows_backup: invalid thresholds: ") as exc:
        evaluators.evaluate(KIND, load("nothing_installed.json"), thresholds)
    assert message in str(exc.value)


# ---------------------------------------------------------------- Veeam depth (issue 15): BKP-VEEAM-04..07

DEPTH = ("04", "05", "06", "07")
SCENARIOS = sorted(
    p.name.removesuffix("_ps51.json")
    for p in DATA.glob("veeam_*_ps51.json")
    if (DATA / p.name.replace("_ps51", "_ps7")).exists()
)


def depth(raw: Any, thresholds: dict[str, Any] | None = None) -> dict[str, Any]:
    got = judge(raw, thresholds)
    return {c: got[f"BKP-VEEAM-{c}"] for c in DEPTH}


def test_depth_scenarios_exist_in_both_encodings() -> None:
    assert SCENARIOS == [
        "veeam_copy_failed",
        "veeam_depth_healthy",
        "veeam_mixed",  # BKP-VEEAM-01..03 only (a collector before issue 15)
        "veeam_no_copy",
        "veeam_repository_full",
        "veeam_retention_short",
        "veeam_surebackup_absent",
        "veeam_surebackup_failed",
        "veeam_v11_cmdlets_missing",
    ]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_depth_encodings_judge_the_same(scenario: str) -> None:
    """/Date(ms)/, numeric Result/State, one-name lists flattened (5.1) judge as ISO dates and names (7)."""
    assert judge(load(f"{scenario}_ps51.json")) == judge(load(f"{scenario}_ps7.json"))


def _healthy() -> dict[str, Any]:
    return load("veeam_depth_healthy_ps7.json")


def test_each_depth_control_passes_and_fails_on_its_own() -> None:
    """Each unhealthy scenario breaks exactly its own control(s): no depth control leaks into another."""
    broken = {
        "veeam_depth_healthy": set(),
        "veeam_retention_short": {"04"},
        "veeam_repository_full": {"05"},
        "veeam_no_copy": {"06"},
        "veeam_copy_failed": {"06"},
        "veeam_surebackup_failed": {"07"},
        "veeam_surebackup_absent": {"07"},
    }
    for scenario, bad in broken.items():
        got = depth(load(f"{scenario}_ps7.json"))
        assert {c for c, f in got.items() if f.status is not Status.PASS} == bad, scenario


def test_depth_remediation_names_the_jobs() -> None:
    got = depth(load("veeam_retention_short_ps7.json"))["04"]
    assert got.remediation.startswith(
        "Daily VMs - Production: DC01 keeps 9 of 14 points; Daily VMs - File servers: FS01 keeps 12.4 of 30 "
        "days. Compare the job's restore points"
    )
    got = depth(load("veeam_no_copy_ps7.json"))["06"]
    assert got.remediation.startswith("Daily VMs - Production: no copy in another repository; Daily VMs")


def test_ignored_jobs_leave_the_depth_controls() -> None:
    got = depth(
        load("veeam_retention_short_ps7.json"), {"veeam_ignore_jobs": ["daily vms - *", "Monthly restore*"]}
    )
    assert got["04"].status is Status.PASS
    assert [j["job"] for j in got["04"].evidence["jobs"]] == ["Offsite copy - Production"]
    # the copy job is not a primary backup job: nothing left for BKP-VEEAM-06
    assert got["06"].status is Status.NOT_CHECKED and got["06"].evidence["jobs"] == []
    assert got["07"].status is Status.WARN and got["07"].evidence["reason"] == "no SureBackup job"


def test_capacity_tier_in_move_mode_or_unknown_offload_warns() -> None:
    raw = _healthy()
    raw["veeam"]["repositories"]["scale_out"][0]["CapacityTierCopy"] = False
    entry = depth(raw)["06"].evidence["jobs"][1]
    assert (entry["job"], entry["status"]) == ("Daily VMs - File servers", "warn")
    assert "move mode only" in entry["reason"]
    raw = _healthy()
    raw["veeam"]["offload"] = {
        "available": False,
        "reason": "event log 'Veeam Backup' not found",
        "events": [],
    }
    got = depth(raw)["06"]
    assert got.status is Status.WARN and got.severity == "medium"
    assert got.evidence["jobs"][1]["reason"] == (
        "SOBR-Main capacity tier: last offload result not known: event log 'Veeam Backup' not found"
    )


def test_a_copy_into_the_jobs_own_repository_is_no_copy() -> None:
    raw = _healthy()
    raw["veeam"]["copy_jobs"]["items"][0]["Target"] = "repo-local-01"
    got = depth(raw)["06"]
    assert got.status is Status.FAIL
    assert got.evidence["copies"][0]["reason"] == "copies into the job's own repository Repo-Local-01"


def test_a_running_copy_is_judged_by_its_start() -> None:
    raw = _healthy()
    session = raw["veeam"]["copy_jobs"]["items"][0]["last_session"]
    session.update(Result="None", State="Working", EndTime="1900-01-01T00:00:00.000+01:00")
    assert depth(raw)["06"].status is Status.PASS
    session["CreationTime"] = "2025-11-23T10:00:00.000+01:00"
    got = depth(raw)["06"].evidence["copies"][0]
    assert (got["status"], got["reason"]) == ("fail", "last session started 72.0 h ago (over 50 h)")


def test_depth_data_that_disagrees_with_itself_is_error_not_pass() -> None:
    raw = _healthy()
    raw["veeam"]["jobs"][0]["restore_points"]["objects"][0]["Count"] = 0
    got = depth(raw)["04"]
    assert got.status is Status.ERROR
    assert got.evidence["jobs"][0]["reason"].startswith("DC01: 0 restore points from 2025-11-12T22:30:00Z")
    raw = _healthy()
    raw["veeam"]["jobs"][0]["retention"]["RetentionType"] = "Forever"
    assert depth(raw)["04"].evidence["jobs"][0] == {
        "job": "Daily VMs - Production",
        "status": "error",
        "reason": "retention type 'Forever' is neither Cycles nor Days",
        "retention_type": "Forever",
        "objects": 2,
    }
    raw = _healthy()
    raw["veeam"]["repositories"]["items"][0]["FreeBytes"] = 11 * 1024**4
    got = depth(raw)["05"]
    assert got.status is Status.ERROR and "is not within its size" in got.evidence["reason"]


def test_a_repository_without_a_size_is_listed_not_judged() -> None:
    raw = _healthy()
    for item in raw["veeam"]["repositories"]["items"]:
        item["TotalBytes"] = 0
    got = depth(raw)["05"]
    assert got.status is Status.NOT_CHECKED
    assert got.evidence["reason"] == "no Veeam repository reports its size: Veeam reports no size for it"


def test_disabled_surebackup_is_listed_not_judged() -> None:
    raw = _healthy()
    raw["veeam"]["surebackup"]["items"][0]["Enabled"] = False
    got = depth(raw)["07"]
    assert got.status is Status.WARN and got.evidence["reason"] == "no enabled SureBackup job"
    assert got.evidence["jobs"][0]["reason"] == "disabled"


def test_jobs_left_out_by_the_cap_are_said() -> None:
    raw = _healthy()
    raw["veeam"]["jobs_total"] = 250
    for control, finding in depth(raw).items():
        assert finding.evidence["jobs_left_out"] == "247 of 250 jobs not read (veeam_max_jobs)", control


DEPTH_MALFORMED: list[tuple[str, str, Any, str]] = [
    ("retention type as a number", "retention", {"RetentionType": 0}, "RetentionType: Input should be"),
    ("free bytes as text", "repository", {"FreeBytes": "4 TB"}, "FreeBytes: Input should be a valid integer"),
    ("offload event without a repository", "offload", {"Message": "offload done"}, "event 40002 without"),
    ("SureBackup result unknown", "surebackup", {"LastResult": "Maybe"}, "unknown enum name 'Maybe'"),
]


@pytest.mark.parametrize(
    ("where", "change", "message"), [m[1:] for m in DEPTH_MALFORMED], ids=[m[0] for m in DEPTH_MALFORMED]
)
def test_malformed_depth_data_raises(where: str, change: dict[str, Any], message: str) -> None:
    raw = _healthy()
    veeam = raw["veeam"]
    target = {
        "retention": veeam["jobs"][0]["retention"],
        "repository": veeam["repositories"]["items"][0],
        "offload": veeam["offload"]["events"][0],
        "surebackup": veeam["surebackup"]["items"][0],
    }[where]
    target.update(change)
    with pytest.raises(EvaluatorError, match=r"^windows_backup: ") as exc:
        evaluators.evaluate(KIND, raw)
    assert message in str(exc.value)
