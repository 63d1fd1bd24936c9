"""The linux_access evaluator on real linux_access_facts output recorded in the Molecule container and here.

Cases are data: tests/data/linux_access/cases.yml; origins in tests/data/linux_access/README.md.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner import evaluators
from runner.evaluators import EvaluatorError
from runner.evaluators.linux_access import CONTROL_IDS, NO_ADMIN_LIST
from runner.redact import redact
from runner.results import Domain, Status
from tests.evaluator_cases import assert_cases_documented, case_ids, check_case, judge, load_json

DATA = Path(__file__).parent / "data" / "linux_access"
CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "cases.yml").read_text())
ALICE = "SHA256:hK94C0RFS6hJv8rMVIPYp8xSSEcXoQJvk/KrtxPGNRM"
#: the base64 bodies of the keys in the Molecule container's authorized_keys (public keys, but never shown)
KEY_BODIES = (
    "AAAAC3NzaC1lZDI1NTE5AAAAIDmvsaGqBc8az+lDnCHn+O717nVHnl99kqTmMLrNqdQ0",
    "AAAAB3NzaC1yc2EAAAADAQABAAABgQC5d9D6+WepQ+GjYZ4lY9AjD+KabHZTL3trP2B9YxBIrOBYo6TbuJFMCUmcp1m20E80MCPTXW",
)
APPROVED = {"approved_admins": ["alice"], "approved_keys": [ALICE]}


def load(name: str) -> dict[str, Any]:
    return load_json(DATA, name)


def test_every_case_file_is_used_documented_and_free_of_key_material() -> None:
    assert_cases_documented(DATA, CASES)
    for path in DATA.glob("*.json"):
        text = path.read_text()
        assert not any(body[:40] in text for body in KEY_BODIES), path.name
        assert "$6$" not in text, path.name  # shadow's hashes are never collected


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_case(case: dict[str, Any]) -> None:
    got = check_case("linux_access", CONTROL_IDS, Domain.SECURITY, load(case["file"]), case)
    for finding in got.values():
        assert redact(finding.evidence) == finding.evidence, f"{finding.control}: evidence would be masked"


def test_a_saved_whole_module_result_is_unwrapped() -> None:
    raw = load("real_debian12_passwords_on.json")
    assert evaluators.evaluate("linux_access", {"changed": False, "linux_access": raw}, APPROVED) == (
        evaluators.evaluate("linux_access", raw, APPROVED)
    )


def _judged(raw: dict[str, Any], thresholds: dict[str, Any] | None = None) -> dict[str, Any]:
    return judge("linux_access", CONTROL_IDS, raw, {**APPROVED, **(thresholds or {})})


def test_a_sudo_rule_for_all_users_and_an_unknown_group_fail_the_admin_review() -> None:
    raw = copy.deepcopy(load("derived_hardened.json"))
    raw["sudoers"]["rules"].append(
        {"file": "/etc/sudoers.d/50-x", "line": 1, "users": ["ALL"], "principals": ["ALL"], "nopasswd": False}
    )
    raw["sudoers"]["rules"].append(
        {"file": "/etc/sudoers.d/50-x", "line": 2, "users": ["%ghosts"], "principals": ["%ghosts"]}
    )
    got = _judged(raw, {"approved_admins": ["alice", "deploy"]})["ACCESS-LNX-02"]
    assert got.status is Status.FAIL
    assert [b["account"] for b in got.evidence["not_approved"]] == ["%ghosts", "ALL"]


def test_noauth_defaults_fail_and_a_line_not_understood_is_never_a_pass() -> None:
    raw = copy.deepcopy(load("derived_hardened.json"))
    raw["sudoers"]["unparsed"] = [{"file": "/etc/sudoers.d/60-odd", "line": 3, "text": "weird"}]
    got = _judged(raw)["ACCESS-LNX-03"]
    assert got.status is Status.NOT_CHECKED and "not understood" in got.evidence["reason"]
    raw["sudoers"]["noauth"] = [{"file": "/etc/sudoers", "line": 9, "scope": ""}]
    got = _judged(raw)["ACCESS-LNX-03"]
    assert got.status is Status.FAIL
    assert got.evidence["noauth"] == [{"file": "/etc/sudoers", "line": 9, "scope": "global"}]


def test_a_recent_login_is_not_dormant_and_an_old_one_is() -> None:
    raw = copy.deepcopy(load("derived_hardened.json"))
    now = datetime.fromisoformat(
        raw["collected_at"].replace("Z", "+00:00")
    ).timestamp()  # the collector's clock
    raw["logins"]["last"]["bob"] = int(now - 46 * 86400)
    got = _judged(raw)["ACCESS-LNX-04"]
    assert got.status is Status.FAIL
    assert got.evidence["dormant"][0]["account"] == "bob" and got.evidence["dormant"][0]["days"] == 46
    raw["logins"]["last"]["bob"] = int(now - 44 * 86400)
    assert _judged(raw)["ACCESS-LNX-04"].status is Status.PASS


def test_prohibit_password_warns_and_keyboard_interactive_with_pam_warns() -> None:
    raw = copy.deepcopy(load("derived_hardened.json"))
    raw["sshd"]["settings"]["permitrootlogin"] = "prohibit-password"
    raw["sshd"]["settings"]["kbdinteractiveauthentication"] = "yes"
    got = _judged(raw)
    assert got["ACCESS-LNX-06"].status is Status.WARN
    assert got["ACCESS-LNX-07"].status is Status.WARN
    raw["sshd"]["settings"]["permitemptypasswords"] = "yes"
    raw["sshd"]["settings"]["permitrootlogin"] = "maybe"
    got = _judged(raw)
    assert got["ACCESS-LNX-08"].status is Status.FAIL
    assert got["ACCESS-LNX-06"].status is Status.ERROR  # a value not understood is never a pass


def test_lists_cut_by_the_collector_are_not_a_pass() -> None:
    raw = copy.deepcopy(load("derived_hardened.json"))
    raw["sudoers"]["more_rules"] = 3
    raw["authorized_keys"]["more_files"] = 2
    got = _judged(raw, {"approved_admins": ["alice", "deploy"]})
    assert got["ACCESS-LNX-03"].status is Status.NOT_CHECKED
    assert got["ACCESS-LNX-02"].status is Status.NOT_CHECKED
    assert got["ACCESS-LNX-10"].status is Status.NOT_CHECKED


def test_evidence_is_bounded() -> None:
    raw = copy.deepcopy(load("derived_hardened.json"))
    (keyfile,) = raw["authorized_keys"]["files"]
    keyfile["keys"] = [dict(keyfile["keys"][0], line=i, fingerprint=f"SHA256:{i:043d}") for i in range(30)]
    got = _judged(raw)["ACCESS-LNX-10"]
    assert got.status is Status.FAIL
    assert len(got.evidence["found"]) == 20 and got.evidence["found_more"] == 10
    assert len(got.evidence["not_approved"]) == 20 and got.evidence["not_approved_more"] == 10


def test_skip_controls_and_bad_thresholds() -> None:
    raw = load("real_debian12_passwords_on.json")
    got = _judged(raw, {"skip_controls": ["ACCESS-LNX-07"]})
    assert got["ACCESS-LNX-07"].status is Status.NOT_CHECKED
    assert "disabled by configuration" in got["ACCESS-LNX-07"].evidence["reason"]
    with pytest.raises(EvaluatorError, match=r"approved_keys.*not SHA256 fingerprints"):
        evaluators.evaluate("linux_access", raw, {"approved_keys": ["ssh-ed25519 AAAAC3Nza..."]})
    with pytest.raises(EvaluatorError, match="inactive_days"):
        evaluators.evaluate("linux_access", raw, {"inactive_days": 0})


def test_wrong_shapes_are_errors_naming_the_field() -> None:
    raw = copy.deepcopy(load("real_debian12_passwords_on.json"))
    raw["schema"] = 99
    with pytest.raises(EvaluatorError, match="schema 99"):
        evaluators.evaluate("linux_access", raw)
    raw = copy.deepcopy(load("real_debian12_passwords_on.json"))
    del raw["sshd"]
    with pytest.raises(EvaluatorError, match="sshd"):
        evaluators.evaluate("linux_access", raw)
    with pytest.raises(EvaluatorError, match="must be a mapping"):
        evaluators.evaluate("linux_access", [1, 2])


def test_no_list_reason_is_the_shared_wording() -> None:
    assert NO_ADMIN_LIST == "no approved list: set access_approved_admins for this host or its group"
    got = judge("linux_access", CONTROL_IDS, load("real_debian12_passwords_on.json"))
    assert got["ACCESS-LNX-02"].evidence["reason"] == NO_ADMIN_LIST
    assert json.dumps(got["ACCESS-LNX-02"].evidence).count("deploy") >= 1  # who is there is still shown


def test_the_role_and_catalogue_agree() -> None:
    assert [c.control for c in evaluators.controls_for_role("linux_access")] == list(CONTROL_IDS)
    assert all(c.domain is Domain.SECURITY for c in evaluators.get("linux_access").controls)
