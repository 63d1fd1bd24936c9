"""Threshold overrides are checked against the control catalogue, by the runner and by Ansible alike.

``maintenance.thresholds.<role>`` in a client's settings: an unknown name (with the closest one), a value of
the wrong type (``true`` is not an integer, a list threshold needs a list), out of range, or above the
threshold it may not exceed is refused by ``maint inventory validate`` (exit 2, one line naming file and
key) and, in a plain ``ansible-playbook`` run, fails the evaluate task with the same words.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from runner import catalogue
from runner.catalogue.thresholds import check_thresholds
from runner.inventory import validate_client
from tests.conftest import BASE_SETTINGS, MakeClient, run_playbook

BIN = Path(sys.executable).parent
SETTINGS_FILE = "acme/group_vars/all/maintenance.yml"
KEY = "maintenance.thresholds.linux_health"


def problems(make_client: MakeClient, overrides: Any, role: str = "linux_health") -> list[tuple[str, str]]:
    """(key, message) of every problem of a client whose settings override ``role``'s thresholds."""
    root = make_client(
        settings={**BASE_SETTINGS, "roles": {role: ["linux"]}, "thresholds": {role: overrides}}
    )
    client, found = validate_client(root.name, root.parent, set(catalogue.load().roles))
    assert all(p.file.endswith(SETTINGS_FILE) for p in found), found
    if found:
        assert client is None
    return [(p.key, p.message) for p in found]


def test_a_word_for_a_percentage_exits_2_with_one_line_naming_file_and_key(make_client: MakeClient) -> None:
    root = make_client(settings={**BASE_SETTINGS, "thresholds": {"linux_health": {"fs_warn_pct": "ninety"}}})
    proc = subprocess.run(
        [str(BIN / "maint"), "inventory", "validate", "acme"],
        env={**os.environ, "MAINT_INVENTORIES": str(root.parent)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = [line.strip() for line in proc.stdout.splitlines() if "maintenance.thresholds" in line]
    assert lines == [
        f"inventories/{SETTINGS_FILE}: {KEY}.fs_warn_pct: an integer from 0 to 100, got 'ninety'"
    ], proc.stdout


def test_unknown_threshold_names_the_closest_one(make_client: MakeClient) -> None:
    ((key, message),) = problems(make_client, {"fs_warn_percent": 85})
    assert key == f"{KEY}.fs_warn_percent"
    assert message.startswith("unknown threshold (did you mean fs_warn_pct?); known: fs_warn_pct, ")


def test_a_collector_option_is_not_a_threshold(make_client: MakeClient) -> None:
    ((key, message),) = problems(make_client, {"statvfs_timeout": 10})
    assert key == f"{KEY}.statvfs_timeout"
    assert "not a threshold: linux_health_statvfs_timeout is a role variable" in message


@pytest.mark.parametrize(
    ("overrides", "key", "message"),
    [
        ({"fs_warn_pct": 101}, "fs_warn_pct", "an integer from 0 to 100, got 101"),
        ({"fs_fail_pct": -1}, "fs_fail_pct", "an integer from 0 to 100, got -1"),
        ({"uptime_warn_days": -5}, "uptime_warn_days", "an integer of 0 or more, got -5"),
        ({"smart_pending_fail": 0}, "smart_pending_fail", "an integer of 1 or more, got 0"),
        ({"fs_warn_pct": True}, "fs_warn_pct", "an integer from 0 to 100, got true"),
        ({"fs_warn_pct": 85.5}, "fs_warn_pct", "an integer from 0 to 100, got 85.5"),
        ({"fs_warn_pct": None}, "fs_warn_pct", "an integer from 0 to 100, got null (nothing)"),
    ],
    ids=["above-max", "below-min", "negative-days", "zero-count", "bool-is-not-int", "float", "null"],
)
def test_out_of_range_and_wrong_type(
    make_client: MakeClient, overrides: dict[str, Any], key: str, message: str
) -> None:
    assert problems(make_client, overrides) == [(f"{KEY}.{key}", message)]


def test_warn_above_fail_is_refused_after_merging_the_defaults(make_client: MakeClient) -> None:
    # the client's warn above the role's default fail (90)
    assert problems(make_client, {"fs_warn_pct": 95}) == [
        (f"{KEY}.fs_warn_pct", "at most fs_fail_pct (90, its default), got 95")
    ]
    # the client's fail below the role's default warn (80): named where the client wrote it
    assert problems(make_client, {"fs_fail_pct": 70}) == [
        (f"{KEY}.fs_fail_pct", "at least fs_warn_pct (80, its default), got 70")
    ]
    # both set by the client
    assert problems(make_client, {"inode_warn_pct": 90, "inode_fail_pct": 85}) == [
        (f"{KEY}.inode_warn_pct", "at most inode_fail_pct (85), got 90")
    ]


def test_a_list_threshold_given_a_string(make_client: MakeClient) -> None:
    assert problems(make_client, {"fs_exclude_mounts": "/srv/backup"}) == [
        (f"{KEY}.fs_exclude_mounts", "a list of strings, got the string '/srv/backup' (write [/srv/backup])")
    ]


def test_list_elements_must_be_strings_among_the_choices(make_client: MakeClient) -> None:
    found = problems(
        make_client, {"skip_controls": ["HEALTH-LNX-6", 7, "HEALTH-LNX-03"], "fs_exclude_fstypes": [1]}
    )
    by_key = dict(found)
    assert set(by_key) == {
        f"{KEY}.skip_controls[0]",
        f"{KEY}.skip_controls[1]",
        f"{KEY}.skip_controls[2]",
        f"{KEY}.fs_exclude_fstypes[0]",
    }
    assert by_key[f"{KEY}.skip_controls[0]"].startswith("one of HEALTH-LNX-01, HEALTH-LNX-02")
    assert "got 'HEALTH-LNX-6' (did you mean HEALTH-LNX-06" in by_key[f"{KEY}.skip_controls[0]"]
    assert by_key[f"{KEY}.skip_controls[1]"] == "a string, got 7"
    assert "(retired: merged into PATCH-LNX-04" in by_key[f"{KEY}.skip_controls[2]"]
    assert by_key[f"{KEY}.fs_exclude_fstypes[0]"] == "a string, got 1"


def test_thresholds_of_a_role_must_be_a_mapping(make_client: MakeClient) -> None:
    found = problems(make_client, ["fs_warn_pct", 80])
    assert found[0][0] == KEY and "valid dictionary" in found[0][1]


def test_valid_overrides_pass(make_client: MakeClient) -> None:
    valid = {
        "fs_warn_pct": 85,
        "fs_fail_pct": 95,
        "uptime_warn_days": 0,
        "fs_exclude_mounts": ["/srv/backup*"],
        "skip_controls": ["HEALTH-LNX-06"],
    }
    assert problems(make_client, valid) == []
    assert problems(make_client, {}) == []
    assert (
        problems(make_client, {"restic_max_age_hours": 170, "skip_controls": []}, role="linux_backup") == []
    )


@pytest.mark.parametrize("role", sorted(catalogue.load().roles))
def test_every_role_accepts_its_own_defaults(role: str) -> None:
    spec = catalogue.load().roles[role]
    assert check_thresholds(role, spec.defaults()) == []
    # and refuses a typo of each of its thresholds with that threshold as the suggestion
    for name in spec.thresholds:
        ((key, message),) = check_thresholds(role, {name + "x": spec.thresholds[name].default})
        assert key == f"{role}.{name}x"
        assert f"did you mean {name}" in message, message


def test_check_thresholds_returns_key_paths_below_maintenance_thresholds() -> None:
    assert check_thresholds("linux_health", {"fs_warn_pct": "ninety"}) == [
        ("linux_health.fs_warn_pct", "an integer from 0 to 100, got 'ninety'")
    ]
    ((key, message),) = check_thresholds("linux_helth", {})
    assert key == "linux_helth" and "did you mean linux_health" in message


# ---------------------------------------------------------------- the same words in an ansible-playbook run

PLAYBOOK = """\
- name: Thresholds set three ways
  hosts: all
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  roles:
    - role: linux_health
"""

#: one local host per case, so a failing host does not stop the others
INVENTORY = """\
all:
  vars:
    ansible_connection: local
  hosts:
    client_override:
      maintenance: {thresholds: {linux_health: {fs_warn_pct: ninety, fs_exclude_mounts: /srv}}}
    role_variable:
      linux_health_fs_fail_pct: 70
    valid:
      maintenance: {thresholds: {linux_health: {fs_warn_pct: 85, skip_controls: [HEALTH-LNX-06]}}}
"""

EVALUATE = "linux_health : HEALTH-LNX-01..08 | AUDIT | Collect and judge host health"


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Run the playbook once; "host / task" -> that host's result."""
    work = tmp_path_factory.mktemp("thresholds-play")
    (work / "play.yml").write_text(PLAYBOOK)
    (work / "hosts.yml").write_text(INVENTORY)
    proc = run_playbook(work, "-i", str(work / "hosts.yml"), str(work / "play.yml"), timeout=300)
    assert proc.returncode == 2, f"two hosts fail:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    report = json.loads(proc.stdout)
    out: dict[str, dict[str, Any]] = {}
    for play in report["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                out[f"{host} / {task['task']['name']}"] = result
    return out


def test_evaluate_task_fails_with_the_validate_message(played: dict[str, dict[str, Any]]) -> None:
    res = played[f"client_override / {EVALUATE}"]
    assert res["failed"] is True
    assert "maint_results" not in res, "nothing is judged on bad settings"
    assert "linux_health" not in res, "nor is the host asked"
    assert res["msg"] == (
        "maint_audit: "
        f"{KEY}.fs_warn_pct: an integer from 0 to 100, got 'ninety'; "
        f"{KEY}.fs_exclude_mounts: a list of strings, got the string '/srv' (write [/srv])"
    )


def test_a_role_variable_is_named_as_the_variable(played: dict[str, dict[str, Any]]) -> None:
    res = played[f"role_variable / {EVALUATE}"]
    assert res["failed"] is True
    assert res["msg"] == "maint_audit: linux_health_fs_warn_pct: at most fs_fail_pct (70), got 80"


def test_valid_overrides_are_judged(played: dict[str, dict[str, Any]]) -> None:
    res = played[f"valid / {EVALUATE}"]
    assert res.get("failed", False) is False
    by = {r["control"]: r for r in res["maint_results"]}
    assert by["HEALTH-LNX-01"]["evidence"]["warn_pct"] == 85
    assert by["HEALTH-LNX-06"]["status"] == "not_checked"
