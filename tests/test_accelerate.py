"""``maint run --accelerate`` / ``maintenance.accelerate``: the job under mitogen's strategy, same results.

Real ansible-runner jobs of the demo client (this machine over the local connection, the simulated
network devices), each into a MAINT_VAR of its own; real ``ansible-playbook`` runs of the maint.core
action plugins under mitogen; the fallback is shown with a real ``ansible_mitogen`` whose own release
check refuses the installed ansible-core (a copy of the installed package with its lower version bound
raised, first on PYTHONPATH), not with a mock of maint's code.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from runner.accelerate import STRATEGY, accelerate_env
from runner.cli import app
from runner.ledger import Ledger
from tests.conftest import BASE_HOSTS, BASE_SETTINGS, REPO, MakeClient, run_playbook

pytestmark = pytest.mark.integration

NETWORK_HOSTS = {"demo-ios-sw01", "demo-cx-sw01", "demo-aoss-sw01", "demo-fgt-fw01"}
#: row fields that differ between two plain runs of the demo
VOLATILE_ROW = {"run_id", "observed_at"}
#: evidence keys that differ between two plain runs of the demo (found by diffing two plain runs' rows):
#: ledger sequence numbers of history points (HEALTH-NET-02, HEALTH-LNX-09: the order hosts finished in),
#: bytes used on a filesystem (other jobs write meanwhile), the time of the latest disk observation, the
#: listening sockets of other processes (ASSET-LNX-01's count), and the uptime (0.1-day steps)
VOLATILE_EVIDENCE = {"seqs", "used_bytes", "latest", "services_listening", "uptime_days"}
#: ``snapshot.id`` of the NET-* rows: the snapshot row's number, in the order the network hosts finished


def _normalised(value: Any, parent: str = "") -> Any:
    if isinstance(value, dict):
        return {
            k: _normalised(v, k)
            for k, v in value.items()
            if k not in VOLATILE_EVIDENCE and not (parent == "snapshot" and k == "id")
        }
    if isinstance(value, list):
        return [_normalised(v, parent) for v in value]
    return value


def _rows(run_id: str) -> dict[tuple[str, str, str, str], Any]:
    """The run's ledger rows: (host, role, control, status) -> the rest of the row, volatile parts out."""
    out: dict[tuple[str, str, str, str], Any] = {}
    for row in Ledger().results_for_run(run_id):
        data = row.model_dump(mode="json")
        key = (data["host"], data["role"], data["control"], data["status"])
        assert key not in out, f"two rows for {key}"
        out[key] = _normalised({k: v for k, v in data.items() if k not in VOLATILE_ROW})
    return out


def _use_var(var: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAINT_VAR", str(var))
    monkeypatch.setenv("MAINT_DB_URL", f"sqlite:///{var / 'ledger.db'}")


def _job_env(var: Path, run_id: str) -> dict[str, str]:
    command = json.loads((var / "runs" / run_id / "artifacts" / run_id / "command").read_text())
    env: dict[str, str] = command["env"]
    return env


def _demo(var: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[dict[str, Any], float]:
    _use_var(var, monkeypatch)
    started = time.monotonic()
    result = CliRunner().invoke(app, ["run", "demo", *args, "--json"], catch_exceptions=False)
    took = time.monotonic() - started
    assert result.exit_code in (0, 1), result.stderr
    outcome: dict[str, Any] = json.loads(result.stdout)
    assert outcome["status"] == "successful", outcome["status"]
    return outcome, took


def test_plain_and_accelerated_demo_runs_record_the_same_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, reason = accelerate_env()
    assert reason is None and env["ANSIBLE_STRATEGY"] == STRATEGY  # mitogen 0.3.54 supports ansible-core 2.19
    plain, plain_s = _demo(tmp_path / "plain", monkeypatch)
    plain_rows = _rows(plain["run_id"])
    fast, fast_s = _demo(tmp_path / "fast", monkeypatch, "--accelerate")
    fast_rows = _rows(fast["run_id"])
    print(f"demo run wall time: plain {plain_s:.1f}s, accelerated {fast_s:.1f}s ({fast_s / plain_s:.2f}x)")

    assert (plain["accelerated"], fast["accelerated"]) == (False, True)
    assert fast["accelerate_fallback"] is None
    job = _job_env(tmp_path / "fast", fast["run_id"])
    assert (job["ANSIBLE_STRATEGY"], job["ANSIBLE_STRATEGY_PLUGINS"]) == (
        STRATEGY,
        env["ANSIBLE_STRATEGY_PLUGINS"],
    )
    assert "ANSIBLE_STRATEGY" not in _job_env(tmp_path / "plain", plain["run_id"])
    summary = Ledger().run(fast["run_id"])
    assert summary is not None and summary.summary["accelerated"] is True

    assert set(fast_rows) == set(plain_rows)
    assert {host for host, *_ in plain_rows} == {"localhost", *NETWORK_HOSTS}
    assert not [k for k in plain_rows if k[3] == "error"]
    assert fast_rows == plain_rows  # the same evidence, notes and everything else once volatile parts are out


def test_network_cli_devices_are_left_to_ansible_and_give_the_same_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's devices reached as a real client's are (``ansible.netcommon.network_cli``): mitogen
    does not take that connection over; the network_config action fetches with netmiko either way."""
    inventories = tmp_path / "inventories"
    shutil.copytree(REPO / "inventories" / "demo", inventories / "demo")
    network_vars = inventories / "demo" / "group_vars" / "network" / "vars.yml"
    text = network_vars.read_text()
    assert "\nansible_connection: local\n" in text
    network_vars.write_text(
        text.replace(
            "\nansible_connection: local\n",
            "\nansible_connection: ansible.netcommon.network_cli\nansible_network_os: cisco.ios.ios\n",
        )
    )
    monkeypatch.setenv("MAINT_INVENTORIES", str(inventories))
    plain, _ = _demo(tmp_path / "plain", monkeypatch, "--role", "network_config")
    plain_rows = _rows(plain["run_id"])
    fast, _ = _demo(tmp_path / "fast", monkeypatch, "--role", "network_config", "--accelerate")
    assert (plain["accelerated"], fast["accelerated"]) == (False, True)
    assert {host for host, *_ in plain_rows} == NETWORK_HOSTS
    assert not [k for k in plain_rows if k[3] == "error"]
    assert _rows(fast["run_id"]) == plain_rows


def _unsupported_mitogen(tmp_path: Path) -> Path:
    """The installed ansible_mitogen, copied whole, with its lower bound above the installed ansible-core:
    what a mitogen release that does not support this ansible-core looks like to its own release check."""
    shadow = tmp_path / "shadow"
    package = shadow / "ansible_mitogen"
    spec = importlib.util.find_spec("ansible_mitogen")
    assert spec is not None and spec.origin is not None, "mitogen is a dependency (pyproject.toml)"
    shutil.copytree(Path(spec.origin).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    loaders = package / "loaders.py"
    text = loaders.read_text()
    assert "ANSIBLE_VERSION_MIN = (2, 10)" in text
    loaders.write_text(text.replace("ANSIBLE_VERSION_MIN = (2, 10)", "ANSIBLE_VERSION_MIN = (99, 0)"))
    return shadow


def test_client_setting_accelerates_and_an_unsupported_mitogen_falls_back_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_client: MakeClient
) -> None:
    make_client("acme", settings={**BASE_SETTINGS, "accelerate": True}, hosts=BASE_HOSTS)

    # the setting alone: an accelerated run
    _use_var(tmp_path / "on", monkeypatch)
    shown = CliRunner().invoke(app, ["run", "acme", "--json"], catch_exceptions=False)
    assert shown.exit_code in (0, 1), shown.stderr
    outcome = json.loads(shown.stdout)
    assert (outcome["accelerated"], outcome["accelerate_fallback"]) == (True, None)
    assert _job_env(tmp_path / "on", outcome["run_id"])["ANSIBLE_STRATEGY"] == STRATEGY

    # mitogen refusing this ansible-core: one line saying why, then the run goes on plain
    shadow = _unsupported_mitogen(tmp_path)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(p for p in (str(shadow), os.environ.get("PYTHONPATH")) if p)
    )
    _use_var(tmp_path / "off", monkeypatch)
    shown = CliRunner().invoke(app, ["run", "acme"], catch_exceptions=False)
    assert shown.exit_code in (0, 1), shown.stdout
    lines = [line for line in shown.stdout.splitlines() if "mitogen" in line.lower()]
    assert len(lines) == 1, shown.stdout
    assert lines[0].startswith("accelerate: not available, running without mitogen: ")
    assert "Your version of Ansible" in lines[0] and "(99, 0)" in lines[0]
    assert "Traceback" not in shown.stdout + shown.stderr
    (run,) = Ledger().runs("acme")
    assert run.summary["accelerated"] is False
    assert "(99, 0)" in run.summary["accelerate_fallback"]
    assert run.summary["fail"] + run.summary["pass"] + run.summary["not_checked"] > 0  # it did run, plain
    assert "ANSIBLE_STRATEGY" not in _job_env(tmp_path / "off", run.run_id)

    # --no-accelerate wins over the setting: no check of mitogen, no line
    _use_var(tmp_path / "no", monkeypatch)
    shown = CliRunner().invoke(app, ["run", "acme", "--no-accelerate"], catch_exceptions=False)
    assert shown.exit_code in (0, 1), shown.stdout
    assert "mitogen" not in shown.stdout.lower()
    (run,) = Ledger().runs("acme")
    assert run.summary["accelerated"] is False and "accelerate_fallback" not in run.summary


def test_a_bad_accelerate_setting_is_one_line_naming_the_key(make_client: MakeClient) -> None:
    make_client("acme", settings={**BASE_SETTINGS, "accelerate": "sometimes"})
    shown = CliRunner().invoke(app, ["run", "acme", "--accelerate"], catch_exceptions=False)
    assert shown.exit_code == 2
    assert "accelerate" in shown.stderr and "maintenance.yml" in shown.stderr
    assert "Traceback" not in shown.stderr


# ---------------------------------------------------------------- the action plugins under mitogen

PLAYBOOK = """\
- name: Plugins
  hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    maint_window_end: "2026-01-01T00:00:00Z"
  roles:
    - role: linux_health
    - role: linux_assets
  tasks:
    - name: Guard
      maint.core.maint_window_guard: {action: reboot, minutes_needed: 15, control: PATCH-LNX-03}
    - name: Guard open
      maint.core.maint_window_guard:
        action: reboot
        minutes_needed: 15
        window_end: "2999-01-01T00:00:00Z"
    - name: Patching collector
      maint.core.linux_patching_facts: {refresh_cache: false}
      check_mode: true
      register: patching_raw
    - name: Evaluate
      maint.core.maint_evaluate:
        kind: linux_patching
        data: "{{ patching_raw.linux_patching }}"
    - name: Assets
      maint.core.maint_assets:
        platform: linux
        data: {schema: 1, system: Linux, nodename: web01, commands: {}, files: {"/etc/os-release": "<html>"}}
    - name: Who runs the modules
      ansible.builtin.shell: tr '\\0' ' ' < /proc/$PPID/cmdline
      changed_when: false
"""


def _play(work: Path) -> dict[str, Any]:
    proc = run_playbook(work, "-i", "localhost,", "-c", "local", str(work.parent / "play.yml"), timeout=240)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    tasks = json.loads(proc.stdout)["plays"][0]["tasks"]
    return {t["task"]["name"]: t["hosts"]["localhost"] for t in tasks}


def _results(name: str, res: dict[str, Any]) -> Any:
    rows = _normalised(res.get("maint_results"))
    if name.startswith("Guard"):  # the guard's evidence is about the time it ran: its keys only
        return [(r["control"], r["status"], sorted(r["evidence"])) for r in rows]
    return rows


def test_action_plugins_return_the_same_under_mitogen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    plain = _play(tmp_path / "plain")
    env, reason = accelerate_env()
    assert reason is None
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    fast = _play(tmp_path / "fast")

    # the modules really ran inside mitogen's context (a persistent interpreter), not a fresh AnsiballZ one
    assert "(mitogen:" in fast["Who runs the modules"]["stdout"]
    assert "(mitogen:" not in plain["Who runs the modules"]["stdout"]

    assert set(fast) == set(plain)
    judged = {name for name, res in plain.items() if "maint_results" in res}
    assert judged >= {"Guard", "Guard open", "Evaluate", "Assets"}
    controls = {r["control"] for name in judged for r in plain[name]["maint_results"]}
    assert {"HEALTH-LNX-01", "ASSET-LNX-01", "PATCH-LNX-04", "MAINT-WINDOW-01"} <= controls  # maint_audit too
    for name in judged:
        assert _results(name, fast[name]) == _results(name, plain[name]), name
        assert fast[name].get("failed", False) is plain[name].get("failed", False) is False, name
    assert (fast["Guard"]["maint_window_allowed"], fast["Guard open"]["maint_window_allowed"]) == (
        False,
        True,
    )
