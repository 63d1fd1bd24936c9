"""``maint due --max-parallel N``: N clients' jobs at once, each on its own, on real local-connection runs.

Concurrency is shown by the runs' ``[started_at, finished_at]`` intervals in the ledger, never by timing:
with ``--max-parallel 3`` the three clients' runs overlap, with ``--max-parallel 1`` none does. A client
whose job fails, whose pass raises or whose host is locked by a technician's run leaves the others'
occurrences to land. SIGTERM (or SIGINT) interrupts the running jobs and starts no other.

The schedule runs daily at 22:00 Europe/Madrid for 120 minutes, so in June (CEST) a window is
20:00-22:00 UTC.
"""

from __future__ import annotations

import copy
import itertools
import json
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from runner import schedule_ledger as occ
from runner.cli import app
from runner.execute import RunOutcome
from runner.execute import execute as real_execute
from runner.ledger import Ledger, RunInfo
from runner.locks import HostLocks
from runner.procs import job_processes
from runner.results import Status
from tests.conftest import BASE_HOSTS, BASE_SETTINGS, MakeClient

pytestmark = pytest.mark.integration

DAILY = {
    "name": "nightly",
    "cron": "0 22 * * *",
    "roles": ["linux_health"],
    "window": {"duration_minutes": 120, "min_run_minutes": 30},
}
CLIENTS = ("alpha", "bravo", "charlie")
REPO = Path(__file__).resolve().parent.parent


def clients(
    make_client: MakeClient, names: Sequence[str], hosts: dict[str, dict[str, Any]] | None = None
) -> None:
    """One client per name, each with the nightly schedule on ``localhost`` (local connection)."""
    for name in names:
        settings = copy.deepcopy(BASE_SETTINGS)
        settings["schedules"] = [copy.deepcopy(DAILY)]
        inventory = copy.deepcopy(BASE_HOSTS)
        if hosts and name in hosts:
            inventory["all"]["children"]["linux"]["hosts"] = copy.deepcopy(hosts[name])
        make_client(name, settings=settings, hosts=inventory)


def run_due(now: str, *args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, ["due", "--now", now, "--json", *args], catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def the_run(ledger: Ledger, client: str, day: str) -> RunInfo:
    """The client's (only) run of the day's occurrence, finished."""
    found = [r for r in ledger.runs(client) if r.reason and f"occurrence {client}/nightly/{day}" in r.reason]
    assert len(found) == 1, [r.reason for r in ledger.runs(client)]
    assert found[0].finished_at is not None
    return found[0]


def overlap(a: RunInfo, b: RunInfo) -> bool:
    assert a.finished_at is not None and b.finished_at is not None
    return a.started_at < b.finished_at and b.started_at < a.finished_at


def started(ledger: Ledger) -> list[str]:
    t = occ.schedule_occurrences
    with ledger.engine.connect() as conn:
        return [r.client for r in conn.execute(sa.select(t.c.client).where(t.c.state == "started")).all()]


def completed(ledger: Ledger) -> set[str]:
    t = occ.schedule_occurrences
    with ledger.engine.connect() as conn:
        rows = conn.execute(sa.select(t.c.client).where(t.c.state == "completed")).all()
    return {r.client for r in rows}


def test_max_parallel_runs_clients_at_once_and_one_at_a_time(make_client: MakeClient) -> None:
    clients(make_client, CLIENTS)
    code, report = run_due("2026-06-10T22:05:00+02:00", "--max-parallel", "3")
    assert code == 0, report
    assert sorted((e["client"], e["outcome"], e["recorded"]) for e in report["entries"]) == [
        (name, "done", "completed") for name in CLIENTS
    ]
    ledger = Ledger()
    together = [the_run(ledger, name, "2026-06-10T20:00Z") for name in CLIENTS]
    # every job was running while every other one was: all three at once
    assert all(overlap(a, b) for a, b in itertools.combinations(together, 2)), [
        (r.client, r.started_at, r.finished_at) for r in together
    ]

    # the next night, one client at a time: no two runs share a moment
    code, report = run_due("2026-06-11T22:05:00+02:00", "--max-parallel", "1")
    assert code == 0, report
    assert [e["recorded"] for e in report["entries"]] == ["completed"] * 3
    alone = [the_run(ledger, name, "2026-06-11T20:00Z") for name in CLIENTS]
    assert not any(overlap(a, b) for a, b in itertools.combinations(alone, 2)), [
        (r.client, r.started_at, r.finished_at) for r in alone
    ]
    assert all(r.ok for name in CLIENTS for r in ledger.verify(name))


def test_a_failing_client_lets_the_others_land(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken_python = {  # the job starts and fails on the host: no interpreter there
        "localhost": {"ansible_connection": "local", "ansible_python_interpreter": "/nonexistent/python3"}
    }
    clients(make_client, ("alpha", "failing", "raising", "bravo", "locked"), {"failing": broken_python})

    def execute(request: Any, *args: Any, **kwargs: Any) -> RunOutcome:
        if request.client == "raising":  # a defect in one client's pass (not a RunError)
            raise RuntimeError("disk full while preparing the run")
        return real_execute(request, *args, **kwargs)

    monkeypatch.setattr("runner.due.execute", execute)
    with HostLocks("locked", ["localhost"]) as held:  # a technician's run holds the client's only host
        held.note("20260610T200000Z-000000")
        code, report = run_due("2026-06-10T22:05:00+02:00", "--max-parallel", "3")
    assert code == 2, report  # a client's pass failed: named among the problems, the others still ran
    assert list(report["problems"]) == ["raising"]
    assert report["problems"]["raising"] == [
        "due pass failed: RuntimeError: disk full while preparing the run"
    ]
    entries = {e["client"]: e for e in report["entries"]}
    assert sorted(entries) == ["alpha", "bravo", "failing", "locked"]
    assert entries["locked"]["outcome"] == "busy" and "localhost (pid" in entries["locked"]["reason"]
    assert entries["failing"]["outcome"] == "done" and entries["failing"]["recorded"] is None
    assert "not checked yet" in entries["failing"]["reason"]
    ledger = Ledger()
    assert completed(ledger) == {"alpha", "bravo"}
    for name in ("alpha", "bravo"):
        run = the_run(ledger, name, "2026-06-10T20:00Z")
        sched = [r for r in ledger.results_for_run(run.run_id) if r.control == "MAINT-SCHED-01"]
        assert [(r.host, r.status) for r in sched] == [("localhost", Status.PASS)]
    failed = the_run(ledger, "failing", "2026-06-10T20:00Z")
    assert entries["failing"]["run_status"] == "failed"
    # its collector failed on the host: every control an error "task failed", no MAINT-SCHED-01 pass (it was
    # not maintained), the occurrence left open for the next pass to retry
    results = ledger.results_for_run(failed.run_id)
    assert results and {r.status for r in results} == {Status.ERROR}
    assert all(r.evidence["reason"].startswith("task failed") for r in results)
    assert ledger.runs("locked") == [] and ledger.runs("raising") == []
    # the next pass retries the failed host, and runs what the lock and the defect kept from running
    code, later = run_due("2026-06-10T22:20:00+02:00", "--dry-run")
    assert code == 0, later
    assert sorted((e["client"], e["action"], e["hosts"]) for e in later["entries"]) == [
        ("failing", "retry", ["localhost"]),
        ("locked", "run", []),
        ("raising", "run", []),
    ]


def test_sigterm_interrupts_the_running_jobs_and_starts_no_other(make_client: MakeClient) -> None:
    clients(make_client, CLIENTS)
    maint = str(Path(sys.executable).parent / "maint")
    cmd = [maint, "due", "--now", "2026-06-10T22:05:00+02:00", "--max-parallel", "2", "--json"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ledger = Ledger()
    try:
        deadline = time.monotonic() + 120
        while len(started(ledger)) < 2:  # both threads' jobs are on their way
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err.decode()
    report = json.loads(out)
    assert report["stopped_by"] == "SIGTERM"
    outcomes = sorted((e["outcome"], e["run_status"]) for e in report["entries"])
    assert outcomes == [("done", "interrupted"), ("done", "interrupted"), ("stopped", None)], outcomes
    runs = {name: ledger.runs(name) for name in CLIENTS}
    interrupted = [r for found in runs.values() for r in found]
    assert len(interrupted) == 2 and all(r.status == "interrupted" for r in interrupted)
    assert all(job_processes(r.run_id) == set() for r in interrupted)  # nothing of the jobs left running
    (idle,) = [name for name, found in runs.items() if not found]  # the third client never started
    assert completed(ledger) == set()
    # the next pass takes over: the client not started is run; an interrupted one is retried, or completed
    # when its job had recorded every host's results before the signal reached it (a race on a busy machine)
    code, later = run_due("2026-06-10T22:20:00+02:00", "--dry-run")
    assert code == 0, later
    actions = {e["client"]: e["action"] for e in later["entries"]}
    assert set(actions) == set(CLIENTS) and actions[idle] == "run"
    assert all(actions[name] in ("retry", "complete") for name in CLIENTS if name != idle), actions


def test_max_parallel_must_be_positive() -> None:
    result = CliRunner().invoke(
        app, ["due", "--max-parallel", "0", "--dry-run"], env={"COLUMNS": "200"}, catch_exceptions=False
    )
    assert result.exit_code == 2
    assert "Invalid value for '--max-parallel': Input should be greater than or equal to 1" in result.output
