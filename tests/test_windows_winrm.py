"""The Windows roles over WinRM (pywinrm, Ansible's winrm connection) against a fake endpoint, calls counted.

``tests/winrm_fake.py`` listens on 127.0.0.1 and speaks the WS-Management operations pywinrm sends (Create,
Command, Send, Receive, Signal, Delete); it decodes each module payload and answers with a recorded collector
output (tests/data/windows/*/). Each role runs through ``playbooks/site.yml`` with ``ansible-playbook``, as
``maint run`` runs it, and the test asserts (issue 16):

- one module execution per role and host (one WinRM Command, one shell created and deleted), and for
  windows_patching the win_updates search (its action plugin's start, poll and cancel executions) only when
  the collector says it is needed;
- at most 2 tasks per host in the play recap, nothing failed;
- the ``maint_results`` rows equal the evaluator's own rows on the same recording (nothing lost or changed on
  the way through WinRM and the one-task action).

The counts are printed (``pytest -s``) for the closing note.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner import evaluators
from runner.redact import redact
from tests import winrm_fake
from tests.conftest import REPO
from tests.test_task_counts import BIN, CALLBACKS, SITE, play_recap

pytestmark = pytest.mark.integration

DATA = REPO / "tests" / "data" / "windows"
HOST = "acme-win-fake01"
CANARY = "Canary-WinRM-Fake-5b1d"
MAX_PER_ROLE = 2
#: role -> (evaluator kind, recorded collector output)
ROLES: dict[str, tuple[str, str]] = {
    "windows_health": ("windows_health", "health/ps51_collector_iso_names.json"),
    "windows_antivirus": ("windows_antivirus", "antivirus/ps51_collector_iso_names.json"),
    "windows_backup": ("windows_backup", "backup/ps51_collector_iso_names.json"),
    "windows_access": ("windows_access", "access/ps51_collector_iso_names.json"),
    "windows_assets": ("windows_assets", "assets/ps7_domain_server_veeam.json"),
    "windows_patching": ("windows_updates", "patching/ps51_collector_search_skipped.json"),
}
NEEDED = "patching/ps51_collector_search_needed.json"
#: the win_updates search result the endpoint answers with: the same host's three pending updates
SEARCH = "patching/ps51_collector_iso_names.json"
ROLE_ADDED = {"mode": "audit", "reboot_policy": "if_required", "install": None}


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    return data


@dataclass(frozen=True)
class WinRun:
    recap: dict[str, dict[str, int]]
    rows: list[dict[str, Any]]
    counts: Counter[str]
    modules: list[str]
    unknown: list[str]
    output: str

    def tasks(self) -> int:
        row = self.recap[HOST]
        return row["ok"] + row["failed"] + row["unreachable"] + row["skipped"]


def run_windows(
    work: Path,
    roles: list[str],
    outputs: Mapping[str, Any],
    search_error: tuple[str, int] | None = None,
    mode: str = "audit",
) -> WinRun:
    """``site.yml`` for ``roles`` on one Windows host reached over WinRM at the fake endpoint."""
    work.mkdir(parents=True, exist_ok=True)
    search = load(SEARCH)["search"]
    with winrm_fake.running(outputs, search, search_error) as fake:
        inventory = work / "hosts.yml"
        inventory.write_text(
            yaml.safe_dump(
                {
                    "windows": {
                        "hosts": {HOST: None},
                        "vars": {
                            "ansible_host": "127.0.0.1",
                            "ansible_port": fake.port,
                            "ansible_connection": "winrm",
                            "ansible_winrm_scheme": "http",
                            "ansible_winrm_transport": "basic",
                            "ansible_winrm_connection_timeout": 20,
                            "ansible_user": "svc-maint",
                            "ansible_password": CANARY,
                            "maint_mode": mode,
                        },
                    }
                }
            )
        )
        extra = work / "vars.json"
        extra.write_text(json.dumps({"maint_targets": {role: [HOST] for role in roles}}))
        rows_log = work / "rows.json"
        env = {
            **os.environ,
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
            "ANSIBLE_CALLBACKS_ENABLED": "result_rows",
            "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "MAINT_RESULT_ROWS": str(rows_log),
            "MAINT_RESULT_KEYS": ",".join(roles),
            "MAINT_VAR": str(work / "var"),
            "MAINT_DB_URL": f"sqlite:///{work / 'var' / 'ledger.db'}",
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        proc = subprocess.run(
            [str(BIN / "ansible-playbook"), "-i", str(inventory), str(SITE), "-e", f"@{extra}"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        output = proc.stdout + proc.stderr
        assert rows_log.exists(), (
            f"site.yml ended before its stats (exit {proc.returncode}):\n{output[-4000:]}"
        )
        return WinRun(
            play_recap(proc.stdout),
            json.loads(rows_log.read_text()),
            Counter(fake.counts),
            [m.module + (f":{m.args['_operation']}" if "_operation" in m.args else "") for m in fake.modules],
            list(fake.unknown),
            output,
        )


def expected_rows(role: str, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The evaluator's own rows for ``data`` as the action hands them over (evidence redacted, host, role)."""
    kind = ROLES[role][0]
    out = []
    for finding in evaluators.get(kind)(dict(data), {}):
        row = finding.model_dump(mode="json")
        row["evidence"] = redact(row["evidence"])
        out.append({**row, "host": HOST, "role": role})
    return out


def rows_of(run: WinRun, role: str) -> list[dict[str, Any]]:
    entries = [e for e in run.rows if e["role"] == role and e["host"] == HOST]
    assert len(entries) == 1, f"{role}: {len(entries)} tasks returned maint_results:\n{run.output[-3000:]}"
    rows: list[dict[str, Any]] = entries[0]["rows"]
    return rows


def assert_clean(run: WinRun, roles: list[str]) -> None:
    assert HOST in run.recap, run.output[-4000:]
    recap = run.recap[HOST]
    assert recap["failed"] == recap["unreachable"] == 0, f"{recap}:\n{run.output[-4000:]}"
    assert run.unknown == [], run.unknown
    assert CANARY not in json.dumps(run.rows)
    # one shell per task that reached the host; one Command, Receive and Signal per module execution
    assert run.counts["Command"] == run.counts["Receive"] == run.counts["Signal"] == len(run.modules)
    assert run.counts["Create"] == run.counts["Delete"] == len(roles)
    assert run.counts["Send"] >= len(run.modules)


def report(what: str, run: WinRun) -> None:
    ops = ", ".join(
        f"{k} {run.counts[k]}" for k in ("Create", "Command", "Send", "Receive", "Signal", "Delete")
    )
    print(f"\n{what}: tasks/host {run.tasks()}, module executions {len(run.modules)}, WS-Man: {ops}")


@pytest.mark.parametrize("role", sorted(ROLES))
def test_role_is_one_winrm_module_execution(role: str, tmp_path: Path) -> None:
    recording = ROLES[role][1]
    data = load(recording)
    run = run_windows(tmp_path, [role], {data["collector"]: data})
    report(role, run)
    assert_clean(run, [role])
    assert run.modules == ["ansible.windows.win_powershell"]
    assert run.tasks() <= MAX_PER_ROLE, f"{role}: {run.recap[HOST]}"
    expected = dict(data)
    if role == "windows_patching":  # the collector said no search is needed: none ran
        expected.update(ROLE_ADDED, search=None)
    assert rows_of(run, role) == expected_rows(role, expected)
    if role == "windows_assets":
        (entry,) = [e for e in run.rows if e["role"] == role]
        assert entry["assets"]["platform"] == "windows" and entry["assets"]["facts"]


def test_patching_searches_when_the_collector_says_updates_may_be_pending(tmp_path: Path) -> None:
    data = load(NEEDED)
    run = run_windows(tmp_path, ["windows_patching"], {"windows_patching": data})
    report("windows_patching, search needed", run)
    assert_clean(run, ["windows_patching"])
    # the collector, then win_updates' own action plugin in the same task: start, poll, cancel
    assert run.modules == [
        "ansible.windows.win_powershell",
        "ansible.windows.win_updates:start",
        "ansible.windows.win_updates:poll",
        "ansible.windows.win_updates:cancel",
    ]
    assert run.tasks() <= MAX_PER_ROLE
    rows = rows_of(run, "windows_patching")
    assert rows == expected_rows("windows_patching", {**data, **ROLE_ADDED, "search": load(SEARCH)["search"]})
    (pending,) = [r for r in rows if r["control"] == "PATCH-WIN-01"]
    assert pending["status"] == "fail" and pending["evidence"]["pending"] == 3
    assert pending["evidence"]["search"]["ran"] is True
    assert pending["evidence"]["search"]["reasons"] == data["search_decision"]["reasons"]


def test_skipped_search_says_why_not(tmp_path: Path) -> None:
    data = load(ROLES["windows_patching"][1])
    run = run_windows(tmp_path, ["windows_patching"], {"windows_patching": data})
    (pending,) = [r for r in rows_of(run, "windows_patching") if r["control"] == "PATCH-WIN-01"]
    assert pending["status"] == "pass"
    assert pending["evidence"]["search"] == {
        "ran": False,
        "source": "Windows Update agent cache (offline search)",
        "last_search_success": "2026-11-20T06:03:30+00:00",
        "age_hours": 3.2,
        "max_age_hours": 24,
    }
    (entry,) = run.rows
    assert entry["data"]["windows_patching"]["search"] is None
    assert entry["data"]["windows_patching"]["search_decision"]["needed"] is False


def test_a_failed_search_is_an_error_row_not_a_failed_task(tmp_path: Path) -> None:
    """win_updates failing inside maint_audit is judged (PATCH-WIN-01 error), as ignore_errors did before."""
    data = load(NEEDED)
    error = ("Exception from HRESULT: 0x8024402C", -2145107924)
    run = run_windows(tmp_path, ["windows_patching"], {"windows_patching": data}, search_error=error)
    assert_clean(run, ["windows_patching"])
    rows = {r["control"]: r for r in rows_of(run, "windows_patching")}
    assert rows["PATCH-WIN-01"]["status"] == "error"
    reason = rows["PATCH-WIN-01"]["evidence"]["reason"]
    assert reason.startswith("Windows Update search failed: Exception from HRESULT: 0x8024402C"), reason
    assert "WU_E_PT_WINHTTP_NAME_NOT_RESOLVED" in reason, reason
    assert rows["PATCH-WIN-02"]["status"] == "pass"  # the other controls are judged all the same


def test_remediate_always_searches_after_the_installation(tmp_path: Path) -> None:
    """Remediate: the same audit task searches whatever the decision says (the state after the install).

    No maintenance window is set, so the window guard refuses the installation (PATCH-WIN-04 not_checked);
    the recording's decision says no search is needed, and the search runs all the same.
    """
    data = load(ROLES["windows_patching"][1])
    assert data["search_decision"]["needed"] is False
    run = run_windows(tmp_path, ["windows_patching"], {"windows_patching": data}, mode="remediate")
    assert_clean(run, ["windows_patching"])
    assert run.modules[0] == "ansible.windows.win_powershell"
    assert run.modules[1:] == [f"ansible.windows.win_updates:{op}" for op in ("start", "poll", "cancel")]
    rows = {r["control"]: r for e in run.rows if e["role"] == "windows_patching" for r in e["rows"]}
    assert rows["PATCH-WIN-01"]["evidence"]["search"]["ran"] is True
    assert rows["PATCH-WIN-01"]["status"] == "fail"  # the search's three pending updates
    assert rows["PATCH-WIN-04"]["status"] == "not_checked"
    assert rows["MAINT-WINDOW-01"]["status"] == "warn"


def test_every_windows_role_in_one_run(tmp_path: Path) -> None:
    """The six roles on one host: six module executions, six shells, at most 2 tasks per role."""
    roles = sorted(ROLES)
    outputs = {}
    for role in roles:
        data = load(ROLES[role][1])
        outputs[data["collector"]] = data
    run = run_windows(tmp_path, roles, outputs)
    report("all six Windows roles", run)
    assert_clean(run, roles)
    assert sorted(run.modules) == ["ansible.windows.win_powershell"] * len(roles)
    assert run.tasks() <= MAX_PER_ROLE * len(roles)
    for role in roles:
        expected = dict(outputs[load(ROLES[role][1])["collector"]])
        if role == "windows_patching":
            expected.update(ROLE_ADDED, search=None)
        assert rows_of(run, role) == expected_rows(role, expected), role
