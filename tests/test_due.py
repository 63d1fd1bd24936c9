"""``maint due`` on real jobs: local-connection clients, a real SQLite ledger, time frozen by ``now``.

The schedule runs daily at 22:00 Europe/Madrid for 120 minutes (min_run_minutes 30), so in June
(CEST) a window is 20:00-22:00 UTC and the last start is 21:30 UTC.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from runner import evaluators
from runner import schedule_ledger as occ
from runner.cli import app
from runner.due import Action, due
from runner.ledger import Ledger
from runner.results import Status
from runner.schedule_ledger import OccurrenceState
from tests.conftest import BASE_HOSTS, BASE_SETTINGS, MakeClient

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
DAILY = {
    "name": "nightly",
    "cron": "0 22 * * *",
    "roles": ["linux_health"],
    "window": {"duration_minutes": 120, "min_run_minutes": 30},
}
DEAD = {  # a closed port on loopback: refused at once, nothing leaves the machine
    "ansible_connection": "ssh",
    "ansible_host": "127.0.0.1",
    "ansible_port": 1,
    "ansible_ssh_common_args": "-o StrictHostKeyChecking=yes -o UserKnownHostsFile=/dev/null",
    "ansible_python_interpreter": "/usr/bin/python3",
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def client_with_schedule(make_client: MakeClient, extra_hosts: dict[str, Any] | None = None) -> None:
    data = copy.deepcopy(BASE_SETTINGS)
    data["schedules"] = [copy.deepcopy(DAILY)]
    hosts = copy.deepcopy(BASE_HOSTS)
    hosts["all"]["children"]["linux"]["hosts"].update(extra_hosts or {})
    make_client("acme", settings=data, hosts=hosts)


def states(ledger: Ledger) -> list[tuple[str, str, str | None]]:
    t = occ.schedule_occurrences
    with ledger.engine.connect() as conn:
        rows = conn.execute(sa.select(t.c.occurrence_id, t.c.state, t.c.run_id).order_by(t.c.seq)).all()
    return [(r.occurrence_id, r.state, r.run_id) for r in rows]


def test_catch_up_after_two_days_down_runs_once_and_resolution_compares(
    make_client: MakeClient, private_state: Path
) -> None:
    client_with_schedule(make_client)
    ledger = Ledger()
    # the scheduler last completed the 7 June occurrence, then was down on 8 and 9 June
    last = "acme/nightly/2026-06-07T20:00Z"
    ledger.append(
        occ.schedule_occurrences,
        [
            occ.row(
                client="acme",
                occurrence_id=last,
                schedule_name="nightly",
                window_start=at("2026-06-07T20:00:00+00:00"),
                window_end=at("2026-06-07T22:00:00+00:00"),
                state=OccurrenceState.COMPLETED,
                recorded_at=at("2026-06-07T20:05:00+00:00"),
            )
        ],
    )
    now = at("2026-06-10T22:10:00+02:00")
    dry = due(now, ledger=ledger, dry_run=True)
    assert [(e.occurrence_id, e.action) for e in dry.entries] == [
        ("acme/nightly/2026-06-08T20:00Z", "missed"),
        ("acme/nightly/2026-06-09T20:00Z", "missed"),
        ("acme/nightly/2026-06-10T20:00Z", "run"),
    ]
    assert len(states(ledger)) == 1  # a dry run records nothing

    report = due(now, ledger=ledger)
    assert [(e.occurrence_id, e.action, e.recorded) for e in report.entries] == [
        ("acme/nightly/2026-06-08T20:00Z", "missed", "missed"),
        ("acme/nightly/2026-06-09T20:00Z", "missed", "missed"),
        ("acme/nightly/2026-06-10T20:00Z", "run", "completed"),
    ]
    run_id = report.entries[2].run_id
    assert run_id is not None
    assert [s[:2] for s in states(ledger)[1:]] == [
        ("acme/nightly/2026-06-08T20:00Z", "missed"),
        ("acme/nightly/2026-06-09T20:00Z", "missed"),
        ("acme/nightly/2026-06-10T20:00Z", "started"),
        ("acme/nightly/2026-06-10T20:00Z", "completed"),
    ]
    info = ledger.run(run_id)
    assert info is not None and info.trigger == "schedule" and info.requested_by == "maint due"
    command = json.loads((private_state / "runs" / run_id / "artifacts" / run_id / "command").read_text())
    extravars = next(json.loads(a) for a in command["command"] if a.startswith('{"maint_window_start"'))
    assert extravars["maint_window_end"] == "2026-06-10T22:00:00+00:00"
    assert extravars["maint_occurrence_id"] == "acme/nightly/2026-06-10T20:00Z"
    sched = [r for r in ledger.results_for_run(run_id) if r.control == "MAINT-SCHED-01"]
    assert [(r.host, r.status) for r in sched] == [("localhost", Status.PASS)]
    missed_runs = [r for r in ledger.runs("acme") if r.run_id != run_id]
    assert len(missed_runs) == 2 and all(r.trigger == "schedule" for r in missed_runs)
    missed = ledger.results_for_run(missed_runs[-1].run_id)
    assert [(r.control, r.host, r.status) for r in missed] == [("MAINT-SCHED-01", "localhost", Status.FAIL)]
    assert missed[0].evidence["occurrence"] == "acme/nightly/2026-06-08T20:00Z"
    assert missed[0].evidence["reason"] == "the window closed before any run started"

    again = due(now + timedelta(minutes=5), ledger=ledger)
    assert again.entries == []  # never twice
    assert all(r.ok for r in ledger.verify("acme"))

    # an ad hoc corrective run with a ticket: the resolution compares with the scheduled run
    cli = CliRunner()
    result = cli.invoke(
        app,
        [
            "run",
            "acme",
            "--role",
            "linux_health",
            "--limit",
            "localhost",
            "--ticket",
            "T-77",
            "--reason",
            "disk",
        ],
        catch_exceptions=False,
    )
    assert "Resolution record: Ticket T-77 (acme)" in result.output
    size = ledger.chain_heads()["acme"][0]  # the run's checkpoint, named in its summary and its record
    assert f"checkpoint: {size} rows, unsigned -> " in result.output
    assert f"checkpoints/acme/{size}.txt" in result.output and "### Ledger checkpoint" in result.output
    result = cli.invoke(app, ["resolution", "--ticket", "T-77", "--format", "json"], catch_exceptions=False)
    record = json.loads(result.output)
    assert record["ticket"] == "T-77" and record["runs"][0]["reason"] == "disk"
    assert record["checkpoint"]["size"] == size and record["checkpoint"]["rows_after_checkpoint"] == 0
    changes = {c["control"]: c for c in record["changes"]}
    assert set(changes) == {c.control for c in evaluators.controls_for_role("linux_health")}
    scheduled = {r.control: r for r in ledger.results_for_run(run_id)}
    for control, change in changes.items():
        assert change["before"]["run_id"] == run_id
        assert change["before"]["status"] == scheduled[control].status.value
        assert change["after"]["run_id"] == record["runs"][0]["run_id"]
        expected = (
            "unchanged" if change["before"]["status"] == change["after"]["status"] else change["change"]
        )
        assert change["change"] == expected
    md = cli.invoke(app, ["resolution", record["runs"][0]["run_id"]], catch_exceptions=False)
    assert "| localhost | HEALTH-LNX-01 |" in md.output
    missing = cli.invoke(app, ["resolution", "--ticket", "NOPE"], catch_exceptions=False)
    assert missing.exit_code == 2 and "no run recorded for ticket 'NOPE'" in missing.output


def test_missed_window_records_fail_the_report_reads(make_client: MakeClient) -> None:
    client_with_schedule(make_client)
    ledger = Ledger()
    # 23:45 local: 15 min left of the 22:00-00:00 window, less than min_run_minutes (30)
    result = CliRunner().invoke(
        app,
        ["due", "--now", "2026-06-10T23:45:00+02:00", "--lookback-days", "1", "--json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 1, result.output
    entries = json.loads(result.output)["entries"]
    # no history yet: earlier windows predate the schedule and are not reported
    assert [(e["occurrence_id"], e["action"], e["recorded"]) for e in entries] == [
        ("acme/nightly/2026-06-10T20:00Z", "missed", "missed"),
    ]
    assert entries[0]["reason"] == "only 15 min of the window left (min_run_minutes: 30)"
    latest = ledger.latest_results("acme")
    assert [(r.control, r.status) for r in latest] == [("MAINT-SCHED-01", Status.FAIL)]
    assert latest[0].evidence["occurrence"] == "acme/nightly/2026-06-10T20:00Z"
    assert latest[0].evidence["window_end"] == "2026-06-11T00:00:00+02:00"
    status = CliRunner().invoke(app, ["status", "acme", "--json"], catch_exceptions=False)
    shown = json.loads(status.output)["rows"]  # fails first; the role's controls were never checked
    assert [(r["control"], r["effective_status"]) for r in shown][:1] == [("MAINT-SCHED-01", "fail")]
    assert all(r["note"] == "never checked" for r in shown[1:])
    assert status.exit_code == 1


def test_not_checked_hosts_are_retried_within_the_window_then_missed(make_client: MakeClient) -> None:
    client_with_schedule(make_client, {"dead-host": DEAD})
    ledger = Ledger()
    first = due(at("2026-06-10T22:05:00+02:00"), ledger=ledger, lookback=timedelta(hours=1))
    assert [(e.action, e.recorded) for e in first.entries] == [("run", None)]
    assert first.entries[0].hosts == ["dead-host", "localhost"]
    assert "dead-host" in first.entries[0].reason

    retry = due(at("2026-06-10T22:20:00+02:00"), ledger=ledger, lookback=timedelta(hours=1))
    assert [(e.action, e.hosts, e.recorded) for e in retry.entries] == [("retry", ["dead-host"], None)]
    retry_run = ledger.run(retry.entries[0].run_id or "")
    assert retry_run is not None and retry_run.limit == "dead-host"
    assert {r.host for r in ledger.results_for_run(retry_run.run_id)} == {"dead-host"}

    late = due(at("2026-06-10T23:40:00+02:00"), ledger=ledger, lookback=timedelta(hours=2))
    assert [(e.action, e.hosts, e.recorded) for e in late.entries] == [("missed", ["dead-host"], "missed")]
    assert late.entries[0].reason == "only 20 min of the window left with hosts still not checked"
    fails = {r.host: r.status for r in ledger.latest_results("acme") if r.control == "MAINT-SCHED-01"}
    assert fails == {"localhost": Status.PASS, "dead-host": Status.FAIL}
    assert [s[1] for s in states(ledger)] == ["started", "started", "missed"]


def test_two_concurrent_due_processes_run_the_client_once(make_client: MakeClient) -> None:
    client_with_schedule(make_client)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [str(Path(sys.executable).parent / "maint"), "due", "--now", "2026-06-10T22:05:00+02:00", "--json"]
    procs = [
        subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in "ab"
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1].decode() for o in outputs]
    ledger = Ledger()
    runs = ledger.runs("acme")
    assert len(runs) == 1 and runs[0].trigger == "schedule"
    assert [s[1] for s in states(ledger)] == ["started", "completed"]
    actions = sorted(e["outcome"] for o in outputs for e in json.loads(o[0])["entries"])
    # the second process either waited on the lock or found the occurrence settled (no entry)
    assert actions in (["busy", "done"], ["done"])


def test_due_reports_an_invalid_client_and_still_handles_the_others(make_client: MakeClient) -> None:
    client_with_schedule(make_client)
    make_client("broken", raw_settings="maintenance: {display_name: x}\n")
    result = CliRunner().invoke(
        app, ["due", "--now", "2026-06-09T22:30:00+02:00", "--dry-run"], catch_exceptions=False
    )
    assert result.exit_code == 2
    assert "broken: not looked at" in result.output and "timezone: required key is missing" in result.output
    assert Action.RUN.value in result.output and "acme/nightly/2026-06-09T20:00Z" in result.output


# -- history older than --lookback-days (monthly and quarterly schedules) --------------------------

MONTHLY = {**DAILY, "name": "monthly", "cron": "0 22 1 * *"}
QUARTERLY = {**DAILY, "name": "quarterly", "cron": "0 22 1 1,4,7,10 *"}


def seeded(make_client: MakeClient, schedule: dict[str, Any], last_start: str) -> Ledger:
    """A client with one schedule whose last recorded occurrence (completed) started at ``last_start``."""
    data = copy.deepcopy(BASE_SETTINGS)
    data["schedules"] = [copy.deepcopy(schedule)]
    make_client("acme", settings=data)
    ledger = Ledger()
    start = at(last_start)
    ledger.append(
        occ.schedule_occurrences,
        [
            occ.row(
                client="acme",
                occurrence_id=f"acme/{schedule['name']}/{start:%Y-%m-%dT%H:%MZ}",
                schedule_name=schedule["name"],
                window_start=start,
                window_end=start + timedelta(minutes=120),
                state=OccurrenceState.COMPLETED,
                recorded_at=start + timedelta(minutes=10),
            )
        ],
    )
    return ledger


@pytest.mark.parametrize(
    ("schedule", "last", "now", "lookback_days", "missed"),
    [
        # 40 days down after the December window: the January one is recorded missed
        (MONTHLY, "2025-12-01T21:00:00+00:00", "2026-01-10T21:00:00+00:00", 10, ["2026-01-01T21:00Z"]),
        # 40 days down after January: February is 9 days old, inside --lookback-days 10 ...
        (MONTHLY, "2026-01-01T21:00:00+00:00", "2026-02-10T21:00:00+00:00", 10, ["2026-02-01T21:00Z"]),
        # ... and outside the default 7: not written (the bound), yet the history is still seen
        (MONTHLY, "2026-01-01T21:00:00+00:00", "2026-02-10T21:00:00+00:00", 7, []),
        # 40 days down, the missed window 4 days ago (well inside the default lookback)
        (MONTHLY, "2026-01-01T21:00:00+00:00", "2026-02-05T12:00:00+00:00", 7, ["2026-02-01T21:00Z"]),
        # quarterly, 100 days down: April (CEST) missed; 100 days down from October: January
        (QUARTERLY, "2026-01-01T21:00:00+00:00", "2026-04-11T21:00:00+00:00", 14, ["2026-04-01T20:00Z"]),
        (QUARTERLY, "2025-10-01T20:00:00+00:00", "2026-01-09T20:00:00+00:00", 10, ["2026-01-01T21:00Z"]),
        (QUARTERLY, "2025-10-01T20:00:00+00:00", "2026-01-09T20:00:00+00:00", 7, []),
    ],
)
def test_history_older_than_lookback_is_seen_and_missed_windows_are_recorded(
    make_client: MakeClient,
    schedule: dict[str, Any],
    last: str,
    now: str,
    lookback_days: int,
    missed: list[str],
) -> None:
    ledger = seeded(make_client, schedule, last)
    name = schedule["name"]
    report = due(at(now), ledger=ledger, lookback=timedelta(days=lookback_days))
    assert [(e.occurrence_id, e.action, e.recorded) for e in report.entries] == [
        (f"acme/{name}/{m}", "missed", "missed") for m in missed
    ]
    assert [s[1] for s in states(ledger)] == ["completed"] + ["missed"] * len(missed)
    fails = [r for r in ledger.latest_results("acme") if r.control == "MAINT-SCHED-01"]
    assert [(r.host, r.status) for r in fails] == ([("localhost", Status.FAIL)] if missed else [])
    assert due(at(now) + timedelta(minutes=5), ledger=ledger).entries == []  # never twice


def test_old_history_still_runs_the_next_open_window_and_misses_a_closed_one(make_client: MakeClient) -> None:
    ledger = seeded(make_client, MONTHLY, "2026-01-01T21:00:00+00:00")
    # Feb 1 was 5 weeks before: nothing written for it (older than 7 days); March 1 22:05 runs
    opened = due(at("2026-03-01T22:05:00+01:00"), ledger=ledger, dry_run=True)
    assert [(e.occurrence_id, e.action) for e in opened.entries] == [
        ("acme/monthly/2026-03-01T21:00Z", "run")
    ]
    # the March window closed unseen: with a month-old history it is missed, not "no history yet"
    closed = due(at("2026-03-03T09:00:00+01:00"), ledger=ledger, dry_run=True)
    assert [(e.occurrence_id, e.action) for e in closed.entries] == [
        ("acme/monthly/2026-03-01T21:00Z", "missed")
    ]


def test_due_ingests_abandoned_runs_before_planning_but_not_on_a_dry_run(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import runner.ingest

    client_with_schedule(make_client)
    calls: list[Ledger] = []

    def fake(ledger: Ledger) -> list[str]:
        calls.append(ledger)
        return ["20260610T200000Z-abcdef"]

    monkeypatch.setattr(runner.ingest, "ingest_abandoned", fake)
    cli = CliRunner()
    dry = cli.invoke(app, ["due", "--dry-run", "--now", "2026-06-10T12:00:00+02:00"], catch_exceptions=False)
    assert dry.exit_code == 0 and calls == [] and "abandoned" not in dry.output
    done = cli.invoke(app, ["due", "--now", "2026-06-10T12:00:00+02:00"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert len(calls) == 1
    assert [line for line in done.output.splitlines() if "abandoned" in line] == [
        "abandoned run 20260610T200000Z-abcdef: artifacts ingested, run closed"
    ]
    as_json = cli.invoke(app, ["due", "--json", "--now", "2026-06-10T12:00:00+02:00"], catch_exceptions=False)
    assert json.loads(as_json.output)["abandoned_ingested"] == ["20260610T200000Z-abcdef"]
