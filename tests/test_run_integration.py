"""Whole runs: real ansible-runner jobs against localhost, recorded in a real SQLite ledger."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from runner.cli import app
from runner.execute import RunRequest, execute
from runner.ledger import Ledger, RunStatus
from runner.results import Status
from tests.conftest import BASE_HOSTS, BASE_SETTINGS, MakeClient

pytestmark = pytest.mark.integration

# HEALTH-LNX-03 is retired: a pending reboot is judged once, by linux_patching (PATCH-LNX-04); HEALTH-LNX-09
# and HEALTH-LNX-10 are the trends the run records after the play (runner.trends)
CONTROLS = {f"HEALTH-LNX-{i:02}" for i in (1, 2, 4, 5, 6, 7, 8, 9, 10)}
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
BIN = Path(sys.executable).parent


def hosts_with(extra: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(BASE_HOSTS)
    data["all"]["children"]["linux"]["hosts"].update(extra)
    return data


def db_path(var: Path) -> Path:
    return var / "ledger.db"


def test_run_records_every_control_and_status_reads_it(make_client: MakeClient, private_state: Path) -> None:
    make_client("acme")
    ledger = Ledger()
    outcome = execute(RunRequest(client="acme", ticket="T-1"), ledger)
    assert outcome.status is RunStatus.SUCCESSFUL
    stored = ledger.results_for_run(outcome.run_id)
    assert {r.control for r in stored} == CONTROLS
    assert all(r.host == "localhost" and r.client == "acme" and r.ticket == "T-1" for r in stored)
    assert all(r.role == "linux_health" for r in stored)
    fs = next(r for r in stored if r.control == "HEALTH-LNX-01")
    assert fs.status in (Status.PASS, Status.WARN, Status.FAIL)
    assert "/" in json.dumps(fs.evidence)
    info = ledger.run(outcome.run_id)
    assert info is not None and info.status is RunStatus.SUCCESSFUL
    assert info.summary["hosts"] == 1
    assert (private_state / "runs" / outcome.run_id / "artifacts" / outcome.run_id / "job_events").is_dir()
    assert oct(db_path(private_state).stat().st_mode & 0o777) == "0o600"

    cli = CliRunner()
    result = cli.invoke(app, ["status", "acme", "--json"], catch_exceptions=False)
    shown = json.loads(result.output)
    rows = shown["rows"]
    assert shown["client"] == "acme"
    # the run's end-of-run checkpoint, unsigned here (no ledger key configured), nothing appended since
    assert shown["checkpoint"]["size"] == ledger.chain_heads()["acme"][0]
    assert shown["checkpoint"]["rows_after_checkpoint"] == 0 and shown["checkpoint"]["signed"] is False
    assert {r["control"] for r in rows} == CONTROLS
    assert result.exit_code == (1 if any(r["failing"] for r in rows) else 0)
    result = cli.invoke(app, ["runs", "--ticket", "T-1", "--json"], catch_exceptions=False)
    assert [r["run_id"] for r in json.loads(result.output)] == [outcome.run_id]
    result = cli.invoke(app, ["ledger", "verify", "acme"], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_unreachable_host_yields_not_checked_while_others_complete(make_client: MakeClient) -> None:
    # A closed port on loopback: the SSH connection is refused at once, no traffic leaves the machine.
    dead = {
        "ansible_connection": "ssh",
        "ansible_host": "127.0.0.1",
        "ansible_port": 1,
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=yes -o UserKnownHostsFile=/dev/null",
        "ansible_python_interpreter": "/usr/bin/python3",
    }
    make_client("acme", hosts=hosts_with({"dead-host": dead}))
    ledger = Ledger()
    outcome = execute(RunRequest(client="acme"), ledger)
    stored = ledger.results_for_run(outcome.run_id)
    dead_rows = [r for r in stored if r.host == "dead-host"]
    live_rows = [r for r in stored if r.host == "localhost"]
    assert {r.control for r in dead_rows} == CONTROLS
    assert all(r.status is Status.NOT_CHECKED for r in dead_rows)
    assert all("unreachable" in r.evidence["reason"] for r in dead_rows)
    assert {r.control for r in live_rows} == CONTROLS
    assert not any(r.status is Status.NOT_CHECKED and "unreachable" in str(r.evidence) for r in live_rows)
    assert outcome.status is RunStatus.PARTIAL  # one host reached, one not
    assert outcome.not_reached == ["dead-host"]
    result = CliRunner().invoke(app, ["status", "acme", "--host", "dead-host"], catch_exceptions=False)
    assert result.exit_code == 1


def test_waivers_apply_when_reading(make_client: MakeClient) -> None:
    settings = copy.deepcopy(BASE_SETTINGS)
    # uptime threshold 0 days: HEALTH-LNX-06 cannot pass, so the waivers decide what is shown
    settings["thresholds"] = {"linux_health": {"uptime_warn_days": 0}}
    settings["waivers"] = [
        {
            "control": "HEALTH-LNX-06",
            "hosts": "local*",
            "owner": "ops",
            "reason": "r",
            "expires": "2999-01-01",
        },
    ]
    make_client("acme", settings=settings)
    ledger = Ledger()
    execute(RunRequest(client="acme"), ledger)
    shown = CliRunner().invoke(app, ["status", "acme", "--json"], catch_exceptions=False).output
    rows = json.loads(shown)["rows"]
    up = next(r for r in rows if r["control"] == "HEALTH-LNX-06")
    assert up["status"] in ("warn", "fail")
    assert up["effective_status"] == "waived"
    settings["waivers"][0]["expires"] = "2020-01-01"
    make_client("acme", settings=settings)
    shown = CliRunner().invoke(app, ["status", "acme", "--json"], catch_exceptions=False).output
    rows = json.loads(shown)["rows"]
    up = next(r for r in rows if r["control"] == "HEALTH-LNX-06")
    assert up["effective_status"] == up["status"] != "waived"
    assert "waiver expired on 2020-01-01" in up["note"]


def _count_rows(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return int(con.execute("select count(*) from check_results").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def _kill_leftovers(marker: str) -> None:
    """ansible-playbook runs in its own session under ansible-runner's pty: a crash of the whole
    machine takes it too, so kill every process of this test's job and wait until they are gone."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pids = []
        for proc_dir in Path("/proc").iterdir():
            if not proc_dir.name.isdigit() or int(proc_dir.name) == os.getpid():
                continue
            try:
                cmdline = (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmdline:
                pids.append(int(proc_dir.name))
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)


def test_sigkill_mid_run_keeps_rows_and_ingest_completes(
    make_client: MakeClient, private_state: Path
) -> None:
    hosts = {f"node{i:02d}": dict(LOCAL) for i in range(24)}
    hosts["localhost"] = dict(LOCAL)
    make_client("acme", hosts={"all": {"children": {"linux": {"hosts": hosts}}}})
    env = {**os.environ, "ANSIBLE_FORKS": "2", "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.Popen(
        [str(BIN / "maint"), "run", "acme"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = db_path(private_state)
    deadline = time.monotonic() + 120
    while _count_rows(db) == 0 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    _kill_leftovers(str(private_state.parent))
    kept = _count_rows(db)
    assert 0 < kept < 25 * len(CONTROLS), "the kill should land mid-run"

    ledger = Ledger()
    (run,) = ledger.runs("acme")
    assert run.status is RunStatus.RUNNING
    run_dir = private_state / "runs" / run.run_id
    result = CliRunner().invoke(app, ["ledger", "ingest", str(run_dir)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    stored = ledger.results_for_run(run.run_id)
    assert len(stored) == 25 * len(CONTROLS)
    assert len({(r.host, r.control) for r in stored}) == len(stored), "no duplicates"
    assert ledger.run(run.run_id).status is RunStatus.INTERRUPTED  # type: ignore[union-attr]
    again = CliRunner().invoke(app, ["ledger", "ingest", str(run_dir / "artifacts" / run.run_id)])
    assert "0 rows added" in again.output
    assert CliRunner().invoke(app, ["ledger", "verify"]).exit_code == 0

    # and editing one row in the SQLite file is caught, naming the row
    with sqlite3.connect(db) as con:
        con.execute(
            "update check_results set status = 'pass' where status != 'pass' "
            "and id = (select min(id) from check_results where status != 'pass')"
        )
        if con.total_changes == 0:
            con.execute(
                "update check_results set evidence = '{}' where id = (select max(id) from check_results)"
            )
    result = CliRunner().invoke(app, ["ledger", "verify", "acme"])
    assert result.exit_code == 1
    assert "first bad row: check_results" in result.output


def test_no_secret_reaches_ledger_or_artifacts(
    make_client: MakeClient, private_state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    canary_var = "CANARY-hostvar-7f3a9c"
    canary_env = "CANARY-env-51d2e8"
    make_client(
        "acme",
        hosts=hosts_with(
            {"localhost": {**LOCAL, "ansible_become_password": canary_var, "acme_api_token": canary_var}}
        ),
    )
    monkeypatch.setenv("MAINT_TEST_API_TOKEN", canary_env)
    execute(RunRequest(client="acme"), Ledger())
    for path in private_state.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert canary_var.encode() not in data, path
            assert canary_env.encode() not in data, path


def test_executable_in_client_folder_is_never_run_as_inventory(
    make_client: MakeClient, tmp_path: Path
) -> None:
    """Only hosts.yml is the job's inventory: a script dropped into the client folder (a merged pull
    request could add one) would be run by Ansible's script inventory plugin on the controller."""
    root = make_client("acme")
    marker = tmp_path / "script-ran"
    script = root / "extra_inventory.sh"
    script.write_text(f'#!/bin/sh\ntouch "{marker}"\necho "{{}}"\n')
    script.chmod(0o755)
    outcome = execute(RunRequest(client="acme"), Ledger())
    assert outcome.status is RunStatus.SUCCESSFUL
    assert not marker.exists()
    assert {r.control for r in Ledger().results_for_run(outcome.run_id)} == CONTROLS
