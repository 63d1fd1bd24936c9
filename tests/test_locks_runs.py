"""Per-host locks with real ``maint run`` processes, and one-off roles for a ticket.

A tiny client in tmp with two hosts of this machine (``ansible_connection: local``). Host ``hosta``'s
Python interpreter is a gate: while the test holds the gate's lock (and its flag file exists) every
module call on hosta waits, after touching a marker file. So "run A is inside its job on hosta, holding
hosta's lock" is a fact the test waits for and checks, and run A cannot end before the test opens the
gate: whatever ran in between overlapped with it. No assertion depends on timing.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from runner import state
from runner.cli import app
from runner.inventory import load_client
from runner.ledger import Ledger, RunStatus
from runner.locks import HostLocks
from runner.procs import job_processes
from tests.conftest import BASE_SETTINGS, MakeClient

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
#: generous bound for waiting on a fact (a run's job reaching hosta); never a measured duration
WAIT_S = 180
GATE_PY = """#!{python}
import fcntl, os, sys
if os.path.exists({flag!r}):
    open({marker!r}, "a").close()
    fd = os.open({gate!r}, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_SH)  # waits while the test holds the gate
    os.close(fd)
os.execv({python!r}, [{python!r}, *sys.argv[1:]])
"""


class Gate:
    """hosta's interpreter wrapper and the lock that holds it."""

    def __init__(self, tmp: Path) -> None:
        self.lock, self.flag, self.marker = tmp / "gate.lock", tmp / "gate.on", tmp / "hosta.entered"
        self.python = tmp / "gate-python"
        self.python.write_text(
            GATE_PY.format(
                python=sys.executable, flag=str(self.flag), marker=str(self.marker), gate=str(self.lock)
            )
        )
        self.python.chmod(0o755)
        self.lock.touch()
        self._fd: int | None = None

    def close(self) -> None:
        """Module calls on hosta wait (those already entered stay waiting until :meth:`open`)."""
        self._fd = os.open(self.lock, os.O_RDWR)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self.flag.touch()

    def pass_new_calls(self) -> None:
        """New module calls go through; the calls already waiting keep waiting."""
        self.flag.unlink(missing_ok=True)

    def open(self) -> None:
        self.flag.unlink(missing_ok=True)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def wait_entered(self, proc: subprocess.Popen[str]) -> None:
        deadline = time.monotonic() + WAIT_S
        while not self.marker.exists():
            assert proc.poll() is None, f"run ended before reaching hosta: {proc.communicate()}"
            assert time.monotonic() < deadline, "run A never reached hosta"
            time.sleep(0.05)


def _client(make_client: MakeClient, gate: Gate, roles: dict[str, list[str]] | None = None) -> Path:
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    hosts = {
        "all": {
            "children": {
                "linux": {
                    "hosts": {
                        "hosta": {**local, "ansible_python_interpreter": str(gate.python)},
                        "hostb": dict(local),
                    }
                }
            }
        }
    }
    settings: dict[str, Any] = copy.deepcopy(BASE_SETTINGS)
    if roles is not None:
        settings["roles"] = roles
    return make_client("acme", settings=settings, hosts=hosts)


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "maint"), *args],
        env=_env(),
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _maint(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "maint"), *args], env=_env(), capture_output=True, text=True, timeout=600, check=False
    )


@contextlib.contextmanager
def _cleanup(gate: Gate, *procs: subprocess.Popen[str]) -> Iterator[None]:
    try:
        yield
    finally:
        gate.open()
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                proc.communicate(timeout=60)


def _holder_of(host: str) -> str | None:
    return HostLocks("acme", [host]).holders().get(host)


def test_runs_of_two_hosts_overlap_and_a_run_of_a_busy_host_is_refused_naming_it(
    make_client: MakeClient, tmp_path: Path
) -> None:
    gate = Gate(tmp_path)
    _client(make_client, gate)
    gate.close()
    first = _start("run", "acme", "--limit", "hosta", "--json")
    with _cleanup(gate, first):
        gate.wait_entered(first)
        holder = _holder_of("hosta")  # run A is inside its job on hosta, holding hosta's lock
        assert holder is not None and holder.startswith(f"pid {first.pid} run ")
        run_a = holder.split(" run ", 1)[1]
        assert _holder_of("hostb") is None

        # another host of the same client: starts and ends while run A holds hosta
        second = _maint("run", "acme", "--limit", "hostb", "--json")
        assert second.returncode in (0, 1), second.stderr
        run_b = json.loads(second.stdout)["run_id"]
        assert json.loads(second.stdout)["status"] == "successful"
        assert first.poll() is None and _holder_of("hosta") == holder  # A was running all along

        # the same host, alone or within a larger plan: refused at start, one line naming hosta and A
        for limit in ("hosta", "hosta:hostb"):
            refused = _maint("run", "acme", "--limit", limit)
            assert refused.returncode == 2
            (line,) = refused.stderr.strip().splitlines()
            assert "hosta" in line and run_a in line and f"pid {first.pid}" in line
            assert "hostb" not in line  # free: only the busy host is named
        assert "Traceback" not in refused.stderr

        gate.open()
        out, err = first.communicate(timeout=600)
        assert first.returncode in (0, 1), err
        assert json.loads(out)["status"] == "successful"

    ledger = Ledger()
    a, b = ledger.run(run_a), ledger.run(run_b)
    assert a is not None and b is not None and a.finished_at is not None and b.finished_at is not None
    assert a.status is b.status is RunStatus.SUCCESSFUL
    assert a.started_at < b.started_at and b.finished_at < a.finished_at  # B lies inside A
    assert {r.host for r in ledger.results_for_run(run_a)} == {"hosta"}
    assert {r.host for r in ledger.results_for_run(run_b)} == {"hostb"}
    assert len(ledger.runs("acme")) == 2  # the refused attempts recorded nothing
    assert _holder_of("hosta") is None and _holder_of("hostb") is None


def test_a_killed_holder_frees_its_hosts_and_the_next_run_stops_what_is_left_of_its_job(
    make_client: MakeClient, tmp_path: Path
) -> None:
    gate = Gate(tmp_path)
    _client(make_client, gate)
    gate.close()
    first = _start("run", "acme", "--limit", "hosta")
    with _cleanup(gate, first):
        gate.wait_entered(first)
        holder = _holder_of("hosta")
        assert holder is not None and holder.startswith(f"pid {first.pid} run ")
        run_a = holder.split(" run ", 1)[1]
        os.kill(first.pid, signal.SIGKILL)  # maint dies; its job (own sessions) waits at the gate
        first.wait(timeout=60)
        assert _holder_of("hosta") is None  # the kernel released the lock with the process
        assert job_processes(run_a), "the killed run's job is still there, waiting at the gate"
        runs = _maint("runs", "acme", "--json")
        assert runs.returncode == 0, runs.stderr
        assert [r["status"] for r in json.loads(runs.stdout) if r["run_id"] == run_a] == ["abandoned"]

        # the next run of hosta starts, and first stops what is left of run A's job on it
        gate.pass_new_calls()
        again = _maint("run", "acme", "--limit", "hosta", "--json")
        assert again.returncode in (0, 1), again.stderr
        assert json.loads(again.stdout)["status"] == "successful"
        assert not job_processes(run_a)
    info = Ledger().run(run_a)
    assert info is not None and info.status is RunStatus.RUNNING  # left for ingest, shown abandoned


def test_a_one_off_role_for_a_ticket_is_recorded_but_joins_the_state_only_once_assigned(
    make_client: MakeClient, tmp_path: Path
) -> None:
    gate = Gate(tmp_path)  # open: no call waits
    root = _client(make_client, gate)
    cli = CliRunner()

    refused = cli.invoke(app, ["run", "acme", "--role", "linux_backup", "--limit", "hosta"])
    assert refused.exit_code == 2
    assert "not assigned" in refused.output and "--ticket" in refused.output
    no_limit = cli.invoke(app, ["run", "acme", "--role", "linux_backup", "--ticket", "T-9"])
    assert no_limit.exit_code == 2
    (line,) = no_limit.output.strip().splitlines()
    assert "--limit" in line and "linux_backup" in line
    unknown = cli.invoke(
        app, ["run", "acme", "--role", "no_such_role", "--ticket", "T-9", "--limit", "hosta"]
    )
    assert unknown.exit_code == 2 and "no such role" in unknown.output
    assert Ledger().runs("acme") == []

    result = cli.invoke(
        app, ["run", "acme", "--role", "linux_backup", "--limit", "hosta", "--ticket", "T-9", "--json"]
    )
    assert result.exit_code in (0, 1), result.output
    run_id = json.loads(result.output[result.output.index("{") :])["run_id"]
    ledger = Ledger()
    rows = ledger.results_for_run(run_id)
    assert rows and {(r.host, r.role, r.ticket) for r in rows} == {("hosta", "linux_backup", "T-9")}
    info = ledger.run(run_id)
    assert info is not None and info.summary["one_off_roles"] == ["linux_backup"]
    backup_controls = {r.control for r in rows}

    client = load_client("acme")
    shown = {(row.host, row.control) for row in state.compute(ledger, client).rows}
    assert not {c for _h, c in shown} & backup_controls  # unassigned: its controls stay out of the state
    assert ("hosta", "HEALTH-LNX-01") in shown  # the assigned role's controls are there (never checked)

    # assigned later: the one-off results are the current state of those controls on hosta
    settings = copy.deepcopy(BASE_SETTINGS)
    settings["roles"] = {"linux_health": ["linux"], "linux_backup": ["linux"]}
    (root / "group_vars" / "all" / "maintenance.yml").write_text(yaml.safe_dump({"maintenance": settings}))
    now = state.compute(Ledger(), load_client("acme"))
    joined = {row.control: row for row in now.rows if row.host == "hosta" and row.control in backup_controls}
    assert set(joined) == backup_controls
    assert all(row.latest is not None and row.latest.result.run_id == run_id for row in joined.values())


def test_due_finds_a_busy_host_and_runs_the_occurrence_once_it_is_free(make_client: MakeClient) -> None:
    from datetime import UTC, datetime, timedelta

    from runner.due import due

    settings = copy.deepcopy(BASE_SETTINGS)
    settings["schedules"] = [
        {
            "name": "nightly",
            "cron": "0 22 * * *",
            "roles": ["linux_health"],
            "window": {"duration_minutes": 120, "min_run_minutes": 30},
        }
    ]
    make_client("acme", settings=settings)
    now = datetime(2026, 6, 10, 20, 5, tzinfo=UTC)  # 22:05 in Madrid: the window is open
    ledger = Ledger()
    with HostLocks("acme", ["localhost"]) as held:  # a technician's run on the host
        held.note("20260610T200000Z-000000")
        busy = due(now, ledger=ledger, lookback=timedelta(hours=1))
    assert [e.outcome for e in busy.entries] == ["busy"]
    assert "localhost (pid" in (busy.entries[0].reason or "")
    assert ledger.runs("acme") == []
    done = due(now + timedelta(minutes=5), ledger=ledger, lookback=timedelta(hours=1))
    assert [e.outcome for e in done.entries] == ["done"]
    assert len(ledger.runs("acme")) == 1
