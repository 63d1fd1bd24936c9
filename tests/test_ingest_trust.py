"""`maint ledger ingest` trusts only what the ledger knows: the run, its client, its plan, its span."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from runner.cli import app
from runner.execute import RunRequest, execute
from runner.ledger import Ledger
from tests.conftest import MakeClient

RUN_ID = "20260101T000000Z-abcdef"
FORGED_TIME = "2099-01-01T00:00:00+00:00"


def _pass_row(control: str = "HEALTH-LNX-01") -> dict[str, Any]:
    return {
        "control": control,
        "title": "forged",
        "domain": "health",
        "status": "pass",
        "severity": "high",
        "evidence": {},
        "remediation": "none",
        "host": "localhost",
        "role": "linux_health",
    }


def _event(counter: int, host: str, created: str, role: str = "linux_health") -> dict[str, Any]:
    return {
        "event": "runner_on_ok",
        "uuid": f"00000000-0000-0000-0000-{counter:012d}",
        "counter": counter,
        "created": created,
        "event_data": {
            "host": host,
            "role": role,
            "res": {"maint_results": [{**_pass_row(), "host": host, "role": role}]},
        },
    }


def _forge(folder: Path, run: dict[str, Any], events: list[dict[str, Any]], plan: Any = None) -> Path:
    events_dir = folder / "artifacts" / str(run.get("run_id", "x")) / "job_events"
    events_dir.mkdir(parents=True)
    (folder / "maint-run.json").write_text(
        json.dumps({"run": run, "plan": plan or {"linux_health": ["localhost"]}, "inventory": "x"})
    )
    for event in events:
        (events_dir / f"{event['counter']}-{event['uuid']}.json").write_text(json.dumps(event))
    return folder


def _run_record(run_id: str = RUN_ID, client: str = "acme") -> dict[str, Any]:
    return {
        "run_id": run_id,
        "client": client,
        "mode": "audit",
        "roles": ["linux_health"],
        "started_at": "2026-01-01T00:00:00+00:00",
    }


def _one_line_error(result: Any) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def test_a_hand_made_folder_for_a_run_maint_never_started_adds_nothing(
    make_client: MakeClient, tmp_path: Path
) -> None:
    make_client("acme")
    folder = _forge(tmp_path / "forged", _run_record(), [_event(1, "localhost", FORGED_TIME)])
    result = CliRunner().invoke(app, ["ledger", "ingest", str(folder)])
    line = _one_line_error(result)
    assert RUN_ID in line and "not started by maint" in line
    ledger = Ledger()
    assert ledger.run(RUN_ID) is None
    assert ledger.latest_results("acme") == []


def test_a_client_name_that_climbs_out_of_var_is_refused_before_any_file_is_touched(
    make_client: MakeClient, tmp_path: Path, private_state: Path
) -> None:
    make_client("acme")
    victim = tmp_path / "victim.lock"
    victim.write_text("precious")
    climb = os.path.relpath(tmp_path / "victim", private_state / "locks")
    assert climb.startswith("..")
    folder = _forge(tmp_path / "forged", _run_record(client=climb), [_event(1, "localhost", FORGED_TIME)])
    line = _one_line_error(CliRunner().invoke(app, ["ledger", "ingest", str(folder)]))
    assert "client" in line and climb in line
    assert victim.read_text() == "precious"


def test_a_host_name_that_climbs_is_refused(make_client: MakeClient, tmp_path: Path) -> None:
    make_client("acme")
    folder = _forge(
        tmp_path / "forged",
        _run_record(),
        [_event(1, "../../etc", FORGED_TIME)],
        plan={"linux_health": ["../../etc"]},
    )
    line = _one_line_error(CliRunner().invoke(app, ["ledger", "ingest", str(folder)]))
    assert "host" in line and "../../etc" in line


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "a JSON object"),
        ('{"plan": {}}', "run"),
        ('{"run": {"client": "acme"}}', "run_id"),
        ('{"run": "x"}', "run"),
        (json.dumps({"run": _run_record(), "plan": ["linux_health"]}), "plan"),
        (json.dumps({"run": {**_run_record(), "started_at": "soon"}}), "started_at"),
    ],
)
def test_a_malformed_run_file_is_one_line_and_exit_2(
    make_client: MakeClient, tmp_path: Path, content: str, says: str
) -> None:
    make_client("acme")
    folder = tmp_path / "bad"
    (folder / "job_events").mkdir(parents=True)
    (folder / "maint-run.json").write_text(content)
    line = _one_line_error(CliRunner().invoke(app, ["ledger", "ingest", str(folder)]))
    assert "maint-run.json" in line and says in line


def test_forged_rows_in_a_real_runs_artifacts_are_refused(
    make_client: MakeClient, private_state: Path
) -> None:
    make_client("acme")
    ledger = Ledger()
    outcome = execute(RunRequest(client="acme"), ledger)
    before = {(r.host, r.control): r for r in ledger.latest_results("acme")}
    events = private_state / "runs" / outcome.run_id / "artifacts" / outcome.run_id / "job_events"
    real = min(events.glob("*.json"), key=lambda p: int(p.name.split("-")[0]))
    created = json.loads(real.read_text())["created"]
    forged = [
        _event(90001, "localhost", FORGED_TIME),  # after the run ended: would hide every later result
        _event(90002, "intruder", created),  # a host the run never planned
        _event(90003, "localhost", created, role="windows_health"),  # a role the run never planned
        _event(90004, "localhost", "2000-01-01T00:00:00+00:00"),  # before the run started
    ]
    for event in forged:
        (events / f"{event['counter']}-{event['uuid']}.json").write_text(json.dumps(event))
    result = CliRunner().invoke(app, ["ledger", "ingest", outcome.run_id])
    assert result.exit_code == 1, result.output
    assert "0 rows added" in result.output
    assert "4 rows refused" in result.output
    after = {(r.host, r.control): r for r in ledger.latest_results("acme")}
    assert after == before
    assert CliRunner().invoke(app, ["ledger", "verify", "acme"]).exit_code == 0


def test_ingest_takes_a_run_id_or_the_readme_path_when_maint_var_is_elsewhere(
    make_client: MakeClient, private_state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_client("acme")
    outcome = execute(RunRequest(client="acme"), Ledger())
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # no var/ here: MAINT_VAR points at private_state
    cli = CliRunner()
    for arg in (outcome.run_id, f"var/runs/{outcome.run_id}"):
        result = cli.invoke(app, ["ledger", "ingest", arg])
        assert result.exit_code == 0, result.output
        assert f"run {outcome.run_id} (acme)" in result.output and "0 rows added" in result.output
    line = _one_line_error(cli.invoke(app, ["ledger", "ingest", "20990101T000000Z-000000"]))
    assert "20990101T000000Z-000000" in line


@pytest.mark.parametrize("name", ["../x", "a/b", "/abs", ".hidden", "", "a..b", "x" * 300])
def test_a_lock_refuses_a_client_name_that_is_not_a_plain_folder_name(name: str) -> None:
    from runner.locks import ClientLock
    from runner.names import UnsafeNameError

    with pytest.raises(UnsafeNameError, match="client name"):
        ClientLock(name)


def test_a_running_run_is_abandoned_only_when_no_live_lock_holds_it(
    make_client: MakeClient, private_state: Path
) -> None:
    from runner.execute import RUN_FILE
    from runner.ingest import effective_status
    from runner.ledger import RunRecord, RunStatus
    from runner.locks import ClientLock

    make_client("acme")
    ledger = Ledger()
    record = RunRecord.model_validate(_run_record())
    ledger.start_run(record, plan={"linux_health": ["localhost"]})
    info = ledger.run(RUN_ID)
    assert info is not None
    assert effective_status(info) is RunStatus.RUNNING  # no folder here: it may run on another machine
    folder = private_state / "runs" / RUN_ID
    folder.mkdir(parents=True)
    (folder / RUN_FILE).write_text("{}")
    assert effective_status(info) is RunStatus.ABANDONED
    with ClientLock("acme") as lock:  # the lock is held for this very run: it is running
        lock.note(RUN_ID)
        assert effective_status(info) is RunStatus.RUNNING
        lock.note("20260101T000001Z-000000")  # held, but for a later run: this one was abandoned
        assert effective_status(info) is RunStatus.ABANDONED
    assert effective_status(info) is RunStatus.ABANDONED
