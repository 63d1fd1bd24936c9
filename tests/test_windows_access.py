"""The windows_access evaluator and role, on collector outputs shaped as documented.

Cases are data: tests/data/windows/access/cases.yml; tests/data/windows/access/README.md names the documented
source of every object shape. The collector script itself is checked statically with the other collectors in
tests/test_powershell.py (grammar, output contract, ISO dates and enum names at the source).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner import catalogue, evaluators
from runner.evaluators import EvaluatorError
from runner.evaluators.windows_access import CONTROL_IDS, DEFAULTS, NO_LIST, is_approved, sid_text
from runner.results import Domain, Status
from tests.evaluator_cases import assert_cases_documented, case_ids, check_case, load_json
from tests.evaluator_cases import judge as judge_all
from tests.powershell_static import emitted_paths, syntax_problems

ROOT = Path(__file__).parents[1]
DATA = ROOT / "tests" / "data" / "windows" / "access"
CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "cases.yml").read_text())
SCRIPT = ROOT / "roles" / "windows_access" / "files" / "collect_access.ps1"
APPROVED = {
    "approved_admins": ["Administrator", "LAPSAdmin", "Domain Admins", "ACME\\SRV-Admins", "RDP-FILE01"]
}


def load(name: str) -> dict[str, Any]:
    return load_json(DATA, name)


def judge(raw: Any, thresholds: dict[str, Any] | None = None) -> dict[str, Any]:
    return judge_all("windows_access", CONTROL_IDS, raw, thresholds)


def test_every_file_is_used_and_documented() -> None:
    assert_cases_documented(DATA, CASES)


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_case(case: dict[str, Any]) -> None:
    check_case("windows_access", CONTROL_IDS, Domain.SECURITY, load(case["file"]), case)


def test_every_control_passes_and_fails_somewhere() -> None:
    seen: dict[str, set[str]] = {c: set() for c in CONTROL_IDS}
    for case in CASES:
        for control, expected in case["expect"].items():
            seen[control].add(expected if isinstance(expected, str) else expected["status"])
    assert all({"pass", "fail"} <= statuses for statuses in seen.values()), seen


@pytest.mark.parametrize(
    "files",
    [
        ("ps51_member_server.json", "ps7_member_server.json", "ps51_collector_iso_names.json"),
        ("ps51_workgroup_findings.json", "ps7_workgroup_findings.json"),
    ],
    ids=["member server", "workgroup PC"],
)
@pytest.mark.parametrize("thresholds", [APPROVED, {}], ids=["approved list", "no list"])
def test_all_encodings_judge_alike(files: tuple[str, ...], thresholds: dict[str, Any]) -> None:
    """PS 5.1 (/Date(ms)/, enum numbers, SID objects, flattened lists), PS 7, the collector's output."""
    judged = [
        {c: (f.status, f.evidence, f.remediation) for c, f in judge(load(name), thresholds).items()}
        for name in files
    ]
    assert all(j == judged[0] for j in judged[1:])


def test_no_approved_list_lists_members_and_never_passes() -> None:
    for name in ("ps51_member_server.json", "ps51_workgroup_findings.json"):
        got = judge(load(name))
        for control in ("ACCESS-WIN-01", "ACCESS-WIN-02"):
            assert got[control].status is Status.NOT_CHECKED
            assert got[control].evidence["reason"] == NO_LIST
            assert got[control].evidence["members"], "the members found are still shown"


def test_remediation_names_what_is_wrong() -> None:
    got = judge(load("ps51_workgroup_findings.json"), {"approved_admins": ["Administrator"]})
    assert got["ACCESS-WIN-01"].remediation.startswith(
        "Not on the approved list: PC-RECEPTION\\it-support, PC-RECEPTION\\jsmith, "
        "S-1-5-21-3623811015-3361044348-30300820-1107 (orphaned SID)."
    )
    assert got["ACCESS-WIN-03"].remediation.startswith(
        "The Guest account (Guest) is enabled; the built-in Administrator (Administrator) is enabled and not "
        "managed by LAPS."
    )
    assert got["ACCESS-WIN-04"].remediation.startswith(
        "Dormant: Guest (never logged on), oldvendor (120.0 days),"
    )
    assert got["ACCESS-WIN-06"].remediation.startswith("LocalAccountTokenFilterPolicy is 1.")
    assert got["ACCESS-WIN-07"].remediation.startswith("RDP is enabled: NLA is not required")


def test_saved_win_powershell_result_is_unwrapped() -> None:
    """The role hands maint_evaluate the whole win_powershell result (its output's last line is the JSON)."""
    text = json.dumps(load("ps51_collector_iso_names.json"))
    saved = {"changed": False, "output": [text], "error": [], "host_out": "", "result": {}}
    assert judge(saved, APPROVED)["ACCESS-WIN-01"].status is Status.PASS
    with pytest.raises(EvaluatorError, match="printed nothing"):
        evaluators.evaluate("windows_access", {"changed": False, "output": [], "error": []})


PROBES = [
    ("groups", "administrators", ["ACCESS-WIN-01"]),
    ("groups", "remote_desktop_users", ["ACCESS-WIN-02"]),
    ("users", None, ["ACCESS-WIN-03", "ACCESS-WIN-04", "ACCESS-WIN-05"]),
    ("laps", None, ["ACCESS-WIN-05"]),
    ("uac", None, ["ACCESS-WIN-06"]),
    ("rdp", None, ["ACCESS-WIN-07"]),
]


@pytest.mark.parametrize(
    ("probe", "sub", "controls"), PROBES, ids=[f"{p}.{s}" if s else p for p, s, _ in PROBES]
)
def test_one_unavailable_probe_leaves_the_others_judged(
    probe: str, sub: str | None, controls: list[str]
) -> None:
    raw = load("ps51_collector_iso_names.json")
    broken = copy.deepcopy(raw)
    failed = {"available": False, "reason": f"{probe} probe failed: boom"}
    if sub:
        broken[probe][sub] = failed
    else:
        broken[probe] = failed
    before, after = judge(raw, APPROVED), judge(broken, APPROVED)
    for control in CONTROL_IDS:
        if control in controls:
            assert after[control].status is Status.NOT_CHECKED, control
            assert f"{probe} probe failed: boom" in after[control].evidence["reason"]
        elif not (probe == "laps" and control == "ACCESS-WIN-03"):  # LAPS only softens 03 to warn
            assert (after[control].status, after[control].evidence) == (
                before[control].status,
                before[control].evidence,
            ), control


def test_a_computer_probe_that_failed_still_judges_local_accounts() -> None:
    raw = load("ps51_collector_iso_names.json")
    raw["computer"] = {"available": False, "reason": "Win32_ComputerSystem query failed: boom"}
    assert {f.status for f in judge(raw, APPROVED).values()} == {Status.PASS}


def test_guest_enabled_fails_and_laps_softens_only_the_administrator() -> None:
    raw = load("ps51_legacy_laps_stale.json")
    assert judge(raw)["ACCESS-WIN-03"].status is Status.WARN  # built-in Administrator, LAPS-managed
    raw["users"]["items"][1]["Enabled"] = True  # Guest
    assert judge(raw)["ACCESS-WIN-03"].status is Status.FAIL
    raw = load("ps51_legacy_laps_stale.json")
    raw["laps"]["legacy"]["cse_installed"] = False  # no CSE and no Windows LAPS: the policy is not in effect
    got = judge(raw)
    assert got["ACCESS-WIN-05"].status is Status.FAIL
    assert "not in effect" in got["ACCESS-WIN-05"].evidence["reason"]
    assert got["ACCESS-WIN-03"].status is Status.FAIL


def test_laps_managed_account_missing_fails() -> None:
    raw = load("ps51_collector_iso_names.json")
    raw["laps"]["windows"]["AdministratorAccountName"] = "NoSuchAdmin"
    got = judge(raw, APPROVED)["ACCESS-WIN-05"]
    assert got.status is Status.FAIL
    assert got.remediation.startswith("LAPS manages NoSuchAdmin, which does not exist on this host.")


def test_windows_laps_root_without_backup_directory_is_not_laps() -> None:
    raw = load("ps51_collector_iso_names.json")
    raw["laps"]["windows"]["BackupDirectory"] = None  # the root has values, BackupDirectory defaults to 0
    got = judge(raw, APPROVED)["ACCESS-WIN-05"]
    assert got.status is Status.FAIL
    assert got.evidence["backup_directory"] == "disabled"


def test_rdp_absent_values_are_never_lenient() -> None:
    raw = load("ps51_collector_iso_names.json")
    raw["rdp"]["policy"] = {"fDenyTSConnections": None, "UserAuthentication": None, "SecurityLayer": None}
    raw["rdp"]["server"] = {"fDenyTSConnections": None}  # unknown: read as enabled
    raw["rdp"]["listener"].update(UserAuthentication=None, SecurityLayer=None)
    got = judge(raw, APPROVED)["ACCESS-WIN-07"]
    assert got.status is Status.FAIL
    assert got.evidence["rdp_enabled"] is True
    raw["rdp"]["listener"] = {"present": False}
    assert judge(raw, APPROVED)["ACCESS-WIN-07"].evidence["rdp_enabled"] is False


@pytest.mark.parametrize(
    ("name", "sid", "approved", "expected"),
    [
        ("ACME\\Domain Admins", "S-1-5-21-1-2-3-512", ["domain admins"], True),  # bare name: any domain
        ("ACME\\Domain Admins", "S-1-5-21-1-2-3-512", ["acme\\DOMAIN ADMINS"], True),
        ("ACME\\Domain Admins", "S-1-5-21-1-2-3-512", ["OTHER\\Domain Admins"], False),
        ("SRV01\\Administrator", "S-1-5-21-9-9-9-500", ["SRV01\\administrator"], True),
        ("S-1-5-21-1-2-3-1107", "S-1-5-21-1-2-3-1107", ["s-1-5-21-1-2-3-1107"], True),  # an orphan, by SID
        ("ACME\\Domain Admins", "S-1-5-21-1-2-3-512", ["Domain"], False),
        ("ACME\\Domain Admins", "S-1-5-21-1-2-3-512", ["", "  "], False),
    ],
)
def test_approved_matching(name: str, sid: str, approved: list[str], expected: bool) -> None:
    assert is_approved(name, sid, approved) is expected


@pytest.mark.parametrize(
    "value",
    ["S-1-5-32-544", "s-1-5-32-544", {"BinaryLength": 16, "AccountDomainSid": None, "Value": "S-1-5-32-544"}],
)
def test_sid_forms(value: Any) -> None:
    assert sid_text(value, "f") == "S-1-5-32-544"


@pytest.mark.parametrize("value", [None, 544, "Administrators", {"Value": None}])
def test_sid_rejects(value: Any) -> None:
    with pytest.raises(EvaluatorError, match="f: "):
        sid_text(value, "f")


MALFORMED: list[tuple[str, Any, str]] = [
    ("not JSON text", "WARNING: something printed first", "not JSON"),
    ("wrong collector", {**load("ps51_member_server.json"), "collector": "windows_health"}, "collector"),
    ("schema 2", {**load("ps51_member_server.json"), "schema": 2}, "schema 2"),
    ("probe missing", {k: v for k, v in load("ps51_member_server.json").items() if k != "rdp"}, "rdp"),
    (
        "collected_at without zone",
        {**load("ps51_member_server.json"), "collected_at": "2026-11-20 09:15"},
        "collected_at",
    ),
]


@pytest.mark.parametrize(("raw", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_raw_is_an_evaluator_error(raw: Any, message: str) -> None:
    with pytest.raises(EvaluatorError, match="windows_access") as exc:
        evaluators.evaluate("windows_access", raw)
    assert message in str(exc.value)


def test_a_bad_value_in_one_probe_is_that_controls_error() -> None:
    raw = load("ps51_collector_iso_names.json")
    raw["rdp"]["policy"]["SecurityLayer"] = 7  # the policy value wins over the listener's
    got = judge(raw, APPROVED)
    assert got["ACCESS-WIN-07"].status is Status.ERROR
    assert "SecurityLayer: unknown value 7" in got["ACCESS-WIN-07"].evidence["reason"]
    assert {got[c].status for c in CONTROL_IDS if c != "ACCESS-WIN-07"} == {Status.PASS}


def test_invalid_thresholds() -> None:
    with pytest.raises(EvaluatorError, match="inactive_days"):
        judge(load("ps51_member_server.json"), {"inactive_days": 0})
    with pytest.raises(EvaluatorError, match="ACCESS-WIN-09"):
        judge(load("ps51_member_server.json"), {"skip_controls": ["ACCESS-WIN-09"]})
    with pytest.raises(EvaluatorError, match="approved_admins"):
        judge(load("ps51_member_server.json"), {"approved_admins": "Administrator"})


# ---------------------------------------------------------------- role, catalogue, registration


def test_registry_entry_catalogue_and_role_defaults() -> None:
    ev = evaluators.get("windows_access")
    assert ev.role == "windows_access"
    assert [c.control for c in evaluators.controls_for_role("windows_access")] == list(CONTROL_IDS)
    cat = catalogue.load()
    role = cat.roles["windows_access"]
    assert (role.domain, role.os_family) == (Domain.SECURITY, "windows")
    for control in ev.controls:
        spec = cat.control(control.control)
        assert control == spec.as_control()
        assert spec.judges and spec.not_checked_when
    role_defaults = yaml.safe_load((ROOT / "roles/windows_access/defaults/main.yml").read_text())
    assert role_defaults["windows_access_approved_admins"] == "{{ access_approved_admins | default([]) }}"
    for name, value in DEFAULTS.items():
        if name != "approved_admins":
            assert role_defaults[f"windows_access_{name}"] == value


def test_rdp_exposure_is_left_to_the_fortigate_review() -> None:
    rationale = catalogue.load().control("ACCESS-WIN-07").rationale
    assert "FortiGate review" in rationale and "NET-FGT" in rationale


def test_role_is_one_task_collecting_and_judging() -> None:
    """One maint_audit task: the script over WinRM, the evaluator on the controller (issue 16)."""
    tasks = yaml.safe_load((ROOT / "roles/windows_access/tasks/main.yml").read_text())
    assert [next(k for k in t if "." in k) for t in tasks] == ["maint.core.maint_audit"]
    audit = tasks[0]["maint.core.maint_audit"]
    assert (audit["collector"], audit["script"]) == ("ansible.windows.win_powershell", "collect_access.ps1")
    assert (audit["kind"], audit["platform"]) == ("windows_access", "windows")
    assert (tasks[0]["changed_when"], tasks[0]["check_mode"]) == (False, False)
    for play in ("site.yml", "windows.yml"):
        assert "role: windows_access" in (ROOT / "playbooks" / play).read_text(), play


def test_collector_reads_groups_by_sid_and_reports_the_method() -> None:
    source = SCRIPT.read_text()
    assert not syntax_problems(SCRIPT.read_bytes())
    assert "Get-LocalGroupMember -SID" in source and "WinNT://" in source
    assert "Get-LocalGroupMember -Group" not in source and "-Name 'Administrators'" not in source
    for sid in ("S-1-5-32-544", "S-1-5-32-555"):
        assert sid in source
    emitted = emitted_paths(SCRIPT)
    for key in ("groups.administrators.method", "groups.administrators.fallback_reason", "users.method"):
        assert key in emitted
    # read-only: the collector never changes the host
    for verb in (
        "Set-ItemProperty",
        "Set-LocalUser",
        "New-Item",
        "Remove-",
        "Add-LocalGroupMember",
        "Reset-Laps",
    ):
        assert verb not in source, verb


def test_windows_laps_automatic_account_management() -> None:
    """Target 1 with RandomizeName finds the account by its prefix; Target 0 is the built-in Administrator."""
    raw = load("ps51_entra_laps_adsi_users.json")
    thresholds = {"approved_admins": ["Administrator", "WLapsAdmin"], "laps_max_age_days": 60}
    raw["laps"]["windows"]["AutomaticAccountManagementRandomizeName"] = 1
    raw["users"]["items"][2]["Name"] = "WLapsAdmin7f3k2"
    got = judge(raw, thresholds)["ACCESS-WIN-05"]
    assert (got.status, got.evidence["account"], got.evidence["randomized_name"]) == (
        Status.PASS,
        "WLapsAdmin7f3k2",
        True,
    )
    raw["laps"]["windows"]["AutomaticAccountManagementTarget"] = 0
    got = judge(raw, thresholds)["ACCESS-WIN-05"]
    assert got.evidence["account"] == "Administrator"  # RID 500, password 500 days old
    assert got.status is Status.FAIL
