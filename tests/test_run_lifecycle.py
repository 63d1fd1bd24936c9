"""A run's life: credentials kept out of its artifacts, SIGTERM, SIGKILL, and a truthful outcome.

Real ansible-runner jobs against localhost (and a closed loopback port), real SQLite ledger.
"""

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
from runner.ingest import ingest_abandoned
from runner.ledger import Ledger, RunStatus
from runner.locks import HostLocks
from tests.conftest import BASE_HOSTS, BASE_SETTINGS, MakeClient

pytestmark = pytest.mark.integration

LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
BIN = Path(sys.executable).parent
#: a closed port on loopback: the connection is refused at once, nothing leaves the machine
DEAD = {
    "ansible_connection": "ssh",
    "ansible_host": "127.0.0.1",
    "ansible_port": 1,
    "ansible_ssh_common_args": "-o StrictHostKeyChecking=yes -o UserKnownHostsFile=/dev/null",
    "ansible_python_interpreter": "/usr/bin/python3",
}

ENABLE_CANARY = "CanaryEnable4242"
VAULT_CANARY = "CanaryHostVar1234"
VAULT_PASSWORD = "lifecycle-vault-pw"


def _vault_block(secret: str, password: str) -> str:
    from ansible.constants import DEFAULT_VAULT_ID_MATCH
    from ansible.parsing.vault import VaultLib, VaultSecret

    lib = VaultLib([(DEFAULT_VAULT_ID_MATCH, VaultSecret(password.encode()))])
    return lib.encrypt(secret).decode()


def _job_processes(marker: str) -> list[int]:
    """Live processes (not zombies) whose environment holds ``marker`` (this test's MAINT_VAR)."""
    found = []
    needle = marker.encode()
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit() or int(proc_dir.name) == os.getpid():
            continue
        try:
            stat = (proc_dir / "stat").read_text()
            environ = (proc_dir / "environ").read_bytes()
        except OSError:
            continue
        if stat.rsplit(")", 1)[-1].split()[0] == "Z":
            continue
        if needle in environ.split(b"\0"):
            found.append(int(proc_dir.name))
    return found


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _count_rows(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return int(con.execute("select count(*) from check_results").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_credentials_are_scrubbed_by_value_from_every_run_file_and_the_ledger(
    make_client: MakeClient, private_state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # names that do not look secret: an enable secret handed over in the environment (as `maint demo`
    # does) and a vaulted host variable the role's thresholds read (its value lands in error evidence)
    root = make_client("acme", hosts=copy.deepcopy(BASE_HOSTS))
    (root / "host_vars").mkdir()
    vaulted = _vault_block(VAULT_CANARY, VAULT_PASSWORD).replace("\n", "\n  ")
    (root / "host_vars" / "localhost.yml").write_text(
        "ansible_become_password: \"{{ lookup('ansible.builtin.env', 'MAINT_DEMO_DEVICE_ENABLE') }}\"\n"
        f"site_label: !vault |\n  {vaulted}\n"
        'linux_health_uptime_warn_days: "{{ site_label }}"\n'
        'linux_health_failed_units_ignore: ["{{ site_label }}"]\n'
    )
    password_file = tmp_path / "vault-pass"
    password_file.write_text(VAULT_PASSWORD + "\n")
    monkeypatch.setenv("MAINT_VAULT_PASSWORD_FILE", str(password_file))
    monkeypatch.setenv("MAINT_DEMO_DEVICE_ENABLE", ENABLE_CANARY)

    outcome = execute(RunRequest(client="acme"), Ledger())
    assert outcome.results, "the run recorded rows"
    files = [p for p in (private_state / "runs").rglob("*") if p.is_file()]
    assert any(p.name == "command" for p in files)
    assert any(p.parent.name == "job_events" for p in files)
    leaks = [
        (str(path.relative_to(private_state)), canary)
        for path in [*files, *private_state.glob("ledger.db*")]
        for canary in (ENABLE_CANARY, VAULT_CANARY)
        if canary.encode() in path.read_bytes()
    ]
    assert leaks == []
    # the secret was really used by the job: the threshold it fed could not be read
    assert any(r.status.value == "error" for r in outcome.results)


def test_sigterm_stops_every_process_of_the_job_before_the_lock_is_released(
    make_client: MakeClient, private_state: Path, tmp_path: Path
) -> None:
    # the module's interpreter sleeps: the job's fork (its own session, like every Ansible worker)
    # is busy in a child process when maint is told to stop
    slow = tmp_path / "slowpython"
    slow.write_text(f'#!/bin/sh\nsleep 120\nexec {sys.executable} "$@"\n')
    slow.chmod(0o755)
    hosts = copy.deepcopy(BASE_HOSTS)
    hosts["all"]["children"]["linux"]["hosts"]["localhost"] = {
        "ansible_connection": "local",
        "ansible_python_interpreter": str(slow),
    }
    make_client("acme", hosts=hosts)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    marker = f"MAINT_VAR={private_state}"
    proc = subprocess.Popen(
        [str(BIN / "maint"), "run", "acme"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if any(b"sleep" in Path(f"/proc/{pid}/cmdline").read_bytes() for pid in _live(marker)):
                break
            time.sleep(0.1)
        assert proc.poll() is None, "maint should still be running the slow module"
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=120) == 1
        left = [pid for pid in _job_processes(marker)]
        assert left == [], "no process of the job outlives maint"
        assert HostLocks("acme", ["localhost"]).holders() == {}  # every host lock released
        (run,) = Ledger().runs("acme")
        assert run.status is RunStatus.INTERRUPTED
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        _kill(_job_processes(marker))


def _live(marker: str) -> list[int]:
    pids = []
    for pid in _job_processes(marker):
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/cmdline").read_bytes()
            pids.append(pid)
    return pids


def test_sigkilled_run_shows_abandoned_and_ingest_abandoned_closes_it(
    make_client: MakeClient, private_state: Path
) -> None:
    hosts = {f"node{i:02d}": dict(LOCAL) for i in range(12)}
    make_client("acme", hosts={"all": {"children": {"linux": {"hosts": hosts}}}})
    env = {**os.environ, "ANSIBLE_FORKS": "2", "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    marker = f"MAINT_VAR={private_state}"
    proc = subprocess.Popen(
        [str(BIN / "maint"), "run", "acme"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = private_state / "ledger.db"
    try:
        deadline = time.monotonic() + 120
        while _count_rows(db) == 0 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)  # maint only: its job goes on for a while, orphaned
        proc.wait()
        cli = CliRunner()
        (shown,) = json.loads(cli.invoke(app, ["runs", "acme", "--json"], catch_exceptions=False).output)
        assert shown["status"] == "abandoned"
        table = cli.invoke(app, ["runs", "acme"], catch_exceptions=False).output
        assert "abandoned" in table

        ledger = Ledger()
        assert ingest_abandoned(ledger) == [shown["run_id"]]
        assert _job_processes(marker) == [], "the abandoned job's leftovers are stopped first"
        info = ledger.run(shown["run_id"])
        assert info is not None and info.status is RunStatus.INTERRUPTED
        # 12 hosts x linux_health's 7 controls and its 2 trends
        assert len(ledger.results_for_run(shown["run_id"])) == 12 * 9
        assert ingest_abandoned(ledger) == []
        (shown,) = json.loads(cli.invoke(app, ["runs", "acme", "--json"], catch_exceptions=False).output)
        assert shown["status"] == "interrupted"
        assert cli.invoke(app, ["ledger", "verify"]).exit_code == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        _kill(_job_processes(marker))


def test_running_run_whose_lock_is_held_is_not_abandoned(
    make_client: MakeClient, private_state: Path
) -> None:
    from runner.ingest import effective_status

    make_client("acme")
    ledger = Ledger()
    outcome = execute(RunRequest(client="acme"), ledger)
    info = ledger.run(outcome.run_id)
    assert info is not None
    assert effective_status(info) is RunStatus.SUCCESSFUL


def _hosts(spec: dict[str, Any]) -> dict[str, Any]:
    return {"all": {"children": {"linux": {"hosts": spec}}}}


@pytest.mark.parametrize(
    ("spec", "expected", "not_reached"),
    [
        ({"localhost": LOCAL}, "successful", []),
        ({"localhost": LOCAL, "dead-host": DEAD}, "partial", ["dead-host"]),
        ({"dead-host": DEAD, "dead-too": DEAD}, "failed", ["dead-host", "dead-too"]),
    ],
)
def test_run_outcome_is_truthful_in_run_runs_and_the_ledger(
    make_client: MakeClient, spec: dict[str, Any], expected: str, not_reached: list[str]
) -> None:
    make_client("acme", hosts=_hosts(spec))
    cli = CliRunner()
    result = cli.invoke(app, ["run", "acme", "--json"], catch_exceptions=False)
    shown = json.loads(result.output)
    assert shown["status"] == expected
    assert shown["not_reached"] == not_reached
    (listed,) = json.loads(cli.invoke(app, ["runs", "acme", "--json"], catch_exceptions=False).output)
    assert listed["status"] == expected
    assert listed["summary"]["not_reached"] == not_reached
    info = Ledger().run(shown["run_id"])
    assert info is not None and info.status.value == expected
    # the checkpoint made when the run ended covers every row it wrote
    assert shown["checkpoint"]["size"] == Ledger().chain_heads()["acme"][0]
    assert shown["checkpoint"]["rows_after_checkpoint"] == 0 and shown["checkpoint"]["signed"] is False
    assert cli.invoke(app, ["ledger", "verify", "acme"]).exit_code == 0


def test_a_run_whose_every_device_could_not_be_fetched_is_failed(make_client: MakeClient) -> None:
    # network devices are fetched from the controller: the play succeeds, every fetch fails
    device = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "ansible_host": "127.0.0.1",
        "ansible_port": 1,
        "ansible_user": "nobody",
        "ansible_password": "not-a-real-password",
        "network_config_platform": "cisco_ios",
        "network_config_conn_timeout": 2,
        "network_config_store_snapshot": False,
    }
    settings = copy.deepcopy(BASE_SETTINGS)
    settings["roles"] = {"network_config": ["network"]}
    make_client(
        "acme",
        settings=settings,
        hosts={"all": {"children": {"network": {"hosts": {"sw01": device, "sw02": device}}}}},
    )
    ledger = Ledger()
    outcome = execute(RunRequest(client="acme"), ledger)
    stored = ledger.results_for_run(outcome.run_id)
    seen = {(r.status.value, str(r.evidence.get("reason", ""))[:40]) for r in stored}
    assert stored and all(r.status.value == "not_checked" for r in stored), seen
    assert all(str(r.evidence.get("reason", "")).startswith("fetch failed") for r in stored), seen
    assert outcome.status is RunStatus.FAILED
    assert outcome.not_reached == ["sw01", "sw02"]
    info = ledger.run(outcome.run_id)
    assert info is not None and info.status is RunStatus.FAILED
