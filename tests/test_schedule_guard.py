"""The ``maint_window_guard`` action plugin in a real ``ansible-playbook`` run.

The guarded task is a real ``ansible.builtin.reboot`` of localhost; ansible refuses to reboot
the control node over a local connection, and the playbook runs with ``--check`` besides, so even
a guard that wrongly allows it cannot reboot the machine. Each play is
one case; the test asserts what the guard returned and whether the reboot task started.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import run_playbook

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent


def play(name: str, guard: dict[str, Any], play_vars: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "hosts": "localhost",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}", **(play_vars or {})},
        "tasks": [
            {
                "name": "Guard",
                "maint.core.maint_window_guard": {"action": "reboot", **guard},
                "register": "guard",
                "ignore_errors": True,
            },
            {
                "name": "Reboot",
                "ansible.builtin.reboot": {"reboot_timeout": 600},
                "when": "guard.maint_window_allowed | default(false)",
                "ignore_errors": True,
            },
        ],
    }


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict[str, Any]]]:
    """Run the playbook once (check mode): play name -> task name -> localhost's result."""
    now = datetime.now(UTC)
    plays = [
        play(
            "closed",
            {"minutes_needed": 15, "control": "PATCH-LNX-03"},
            {"maint_window_end": "2026-01-01T00:00:00Z"},
        ),
        play(
            "closing",
            {"minutes_needed": 120},
            {"maint_window_end": (now + timedelta(minutes=60)).isoformat()},
        ),
        play("open", {"minutes_needed": 20}, {"maint_window_end": (now + timedelta(hours=6)).isoformat()}),
        play("no window", {"minutes_needed": 20}),
        play("ad hoc ticket", {"minutes_needed": 20}, {"maint_ticket": "T-42"}),
        play(
            "closed, fail",
            {"minutes_needed": 15, "window_end": "2026-01-01T00:00:00+01:00", "on_closed": "fail"},
        ),
        play("bad argument", {"minutes_needed": "soon", "window_end": "2026-01-01T00:00:00Z"}),
    ]
    work = tmp_path_factory.mktemp("guard")
    (work / "play.yml").write_text(yaml.safe_dump(plays, sort_keys=False))
    proc = run_playbook(
        work, "--check", "-i", "localhost,", "-c", "local", str(work / "play.yml"), timeout=120
    )
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    report = json.loads(proc.stdout)
    return {
        p["play"]["name"]: {t["task"]["name"]: t["hosts"]["localhost"] for t in p["tasks"]}
        for p in report["plays"]
    }


REFUSED = [
    ("closed", "window closed at 2026-01-01 00:00 UTC: reboot not started"),
    ("no window", "no maintenance window (maint_window_end) and no ticket: reboot not started"),
]


@pytest.mark.parametrize(("case", "reason"), REFUSED)
def test_guard_refuses_and_records_why(
    results: dict[str, dict[str, dict[str, Any]]], case: str, reason: str
) -> None:
    guard, reboot = results[case]["Guard"], results[case]["Reboot"]
    assert guard["maint_window_allowed"] is False and guard.get("failed", False) is False
    assert guard["msg"] == reason
    [row] = guard["maint_results"]
    assert (row["control"], row["status"], row["host"]) == ("MAINT-WINDOW-01", "warn", "localhost")
    assert row["evidence"]["reason"] == reason and row["evidence"]["action"] == "reboot"
    assert reboot.get("skipped") is True  # the reboot never started


def test_closed_window_evidence(results: dict[str, dict[str, dict[str, Any]]]) -> None:
    evidence = results["closed"]["Guard"]["maint_results"][0]["evidence"]
    assert evidence["window_end"] == "2026-01-01T00:00:00+00:00"
    assert evidence["minutes_left"] == 0 and evidence["for_control"] == "PATCH-LNX-03"


def test_too_little_time_left_refuses(results: dict[str, dict[str, dict[str, Any]]]) -> None:
    guard = results["closing"]["Guard"]
    assert guard["maint_window_allowed"] is False
    assert 55 <= guard["maint_window_minutes_left"] <= 60
    assert guard["msg"].endswith("min of the window left, reboot needs 120: not started")
    assert results["closing"]["Reboot"].get("skipped") is True


@pytest.mark.parametrize("case", ["open", "ad hoc ticket"])
def test_guard_allows_and_the_reboot_starts(results: dict[str, dict[str, dict[str, Any]]], case: str) -> None:
    guard, reboot = results[case]["Guard"], results[case]["Reboot"]
    assert guard["maint_window_allowed"] is True
    assert guard["maint_results"][0]["status"] == "pass"
    # the reboot task started (and ansible itself refuses to reboot the control node it runs on)
    assert reboot.get("skipped", False) is False
    assert (
        reboot["msg"] == "Running ansible.builtin.reboot with local connection would reboot the control node."
    )


def test_on_closed_fail_and_bad_arguments_fail_the_task(
    results: dict[str, dict[str, dict[str, Any]]],
) -> None:
    failed = results["closed, fail"]["Guard"]
    assert failed["failed"] is True
    assert failed["msg"] == "maint_window_guard: window closed at 2025-12-31 23:00 UTC: reboot not started"
    bad = results["bad argument"]["Guard"]
    assert (
        bad["failed"] is True
        and "'minutes_needed' must be a whole number of minutes, got 'soon'" in bad["msg"]
    )
    assert results["closed, fail"]["Reboot"].get("skipped") is True
