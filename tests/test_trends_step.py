"""The trend step (runner/trends.py) on a ledger with backdated history, and through a real run of the demo.

The history is written through the real Ledger API with back-dated ``observed_at`` (as
maint_devtools/history.py does): runs started in the past, their HEALTH-LNX-01 / HEALTH-LNX-08 rows judged
then. The step reads those rows back, so the seqs in a trend row's evidence are the ledger rows it used.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from runner import catalogue, evaluators, trends
from runner.cli import app
from runner.events import RunContext, control_rows
from runner.execute import RunRequest, execute
from runner.ingest import ingest
from runner.ledger import Ledger, RunRecord, RunStatus
from runner.results import CheckResult, Status
from tests.conftest import REPO

G = 1024**3
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
PLAN = {"linux_health": ["web1"]}
CAT = catalogue.load()


def start(
    ledger: Ledger, run_id: str, at: datetime, plan: dict[str, list[str]], client: str = "acme"
) -> None:
    ledger.start_run(
        RunRecord(run_id=run_id, client=client, mode="audit", roles=list(plan), started_at=at), plan=plan
    )


def row(
    control: str,
    status: Status,
    evidence: dict[str, Any],
    at: datetime,
    run_id: str,
    host: str = "web1",
    role: str = "linux_health",
    client: str = "acme",
) -> tuple[str, CheckResult]:
    finding = CAT.control(control).as_control().finding(status, evidence)
    result = CheckResult.from_finding(
        finding, host=host, client=client, run_id=run_id, role=role, ticket=None, observed_at=at
    )
    return f"test:{run_id}:{host}:{control}", result


def linux_run(
    ledger: Ledger, run_id: str, at: datetime, used_gib: int, journal: int | None, host: str = "web1"
) -> None:
    """A run of linux_health on ``host``: / on 100 GiB with ``used_gib`` used; the journal's error count."""
    start(ledger, run_id, at, {"linux_health": [host]})
    volumes = [{"mount": "/", "fstype": "ext4", "size_bytes": 100 * G, "used_bytes": used_gib * G}]
    rows = [row("HEALTH-LNX-01", Status.PASS, {"volumes": volumes}, at, run_id, host)]
    if journal is None:
        rows.append(
            row("HEALTH-LNX-08", Status.NOT_CHECKED, {"reason": "journal unreadable"}, at, run_id, host)
        )
    else:
        rows.append(
            row("HEALTH-LNX-08", Status.PASS, {"error_counts": {"journal": journal}}, at, run_id, host)
        )
    ledger.record(rows)


def history(ledger: Ledger) -> list[str]:
    """Three weekly runs, then the current one: / 40, 54, 68 GiB (2 GiB a day), journal 3, 5, 9, 14."""
    ids = []
    for i, (days_ago, used, journal) in enumerate([(21, 26, 3), (14, 40, 5), (7, 54, 9), (0, 68, 14)]):
        run_id = f"2026113{i}T030000Z-00000{i}"
        linux_run(ledger, run_id, NOW - timedelta(days=days_ago), used, journal)
        ids.append(run_id)
    return ids


def seqs_of(ledger: Ledger, control: str, host: str = "web1") -> list[int]:
    with ledger.engine.connect() as conn:
        return [
            int(s)
            for (s,) in conn.exec_driver_sql(
                "SELECT seq FROM check_results WHERE host = ? AND control = ? ORDER BY seq", (host, control)
            )
        ]


def by_control(rows: Sequence[tuple[str, CheckResult]]) -> dict[str, CheckResult]:
    return {r.control: r for _key, r in rows}


def test_days_to_full_and_errors_rising_from_the_ledger_history(private_state: Path) -> None:
    ledger = Ledger()
    ids = history(ledger)
    rows = trends.trend_rows(ledger, "acme", ids[-1], PLAN)
    got = by_control(rows)
    assert set(got) == {"HEALTH-LNX-09", "HEALTH-LNX-10"}
    full = got["HEALTH-LNX-09"]
    # 26, 40, 54, 68 GiB over days -21..0: 2 GiB a day, 100 GiB reached 16 days after the last run
    assert full.status is Status.WARN and full.role == "linux_health" and full.run_id == ids[-1]
    (entry,) = full.evidence["volumes"]
    assert entry["days_to_full"] == 16.0 and entry["slope_bytes_per_day"] == 2 * G
    assert entry["seqs"] == seqs_of(ledger, "HEALTH-LNX-01")  # traceable to the ledger rows used
    assert full.observed_at == NOW  # the input row's time: the same rows on every replay
    rising = got["HEALTH-LNX-10"]
    assert rising.status is Status.WARN and rising.evidence["series"] == {"journal": [3, 5, 9, 14]}
    assert rising.evidence["seqs"] == seqs_of(ledger, "HEALTH-LNX-08")
    # a later run does not change what this run's trend says (the history read stops at its rows)
    linux_run(ledger, "20261201T030000Z-000009", NOW + timedelta(days=1), 99, 1)
    again = trends.trend_rows(ledger, "acme", ids[-1], PLAN)
    assert [(k, r.evidence, r.status) for k, r in again] == [(k, r.evidence, r.status) for k, r in rows]
    # recorded once: the same keys on a second pass add nothing (and once recorded, nothing is redone)
    assert ledger.record(rows) == 2
    assert ledger.record(again) == 0
    assert trends.trend_rows(ledger, "acme", ids[-1], PLAN) == []


def test_too_little_history_and_an_input_not_measured_are_not_checked(private_state: Path) -> None:
    ledger = Ledger()
    linux_run(ledger, "20261130T030000Z-000001", NOW, 50, None)
    got = by_control(trends.trend_rows(ledger, "acme", "20261130T030000Z-000001", PLAN))
    assert got["HEALTH-LNX-09"].status is Status.NOT_CHECKED
    assert got["HEALTH-LNX-09"].evidence["reason"].startswith("too little history: / has 1 observation(s)")
    assert got["HEALTH-LNX-10"].status is Status.NOT_CHECKED
    assert (
        got["HEALTH-LNX-10"].evidence["reason"]
        == "HEALTH-LNX-08 was not_checked in this run: journal unreadable"
    )


def test_client_thresholds_apply(private_state: Path) -> None:
    ledger = Ledger()
    ids = history(ledger)
    loose = {"linux_health": {"days_to_full_warn": 10, "days_to_full_fail": 5, "fs_warn_pct": 85}}
    got = by_control(trends.trend_rows(ledger, "acme", ids[-1], PLAN, loose))
    assert got["HEALTH-LNX-09"].status is Status.PASS  # 16 days is beyond the client's 10
    bad = {"linux_health": {"days_to_full_warn": 3, "days_to_full_fail": 5}}
    broken = by_control(trends.trend_rows(ledger, "acme", ids[-1], PLAN, bad))
    assert {r.status for r in broken.values()} == {Status.ERROR}
    assert (
        "days_to_full_fail (5) is above days_to_full_warn (3)" in broken["HEALTH-LNX-09"].evidence["reason"]
    )


def test_a_bug_becomes_error_rows_and_never_raises(
    private_state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger()
    ids = history(ledger)

    def boom(*_args: Any, **_kwargs: Any) -> Any:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(evaluators, "evaluate", boom)
    got = by_control(trends.trend_rows(ledger, "acme", ids[-1], PLAN))
    assert {c: r.status for c, r in got.items()} == {
        "HEALTH-LNX-09": Status.ERROR,
        "HEALTH-LNX-10": Status.ERROR,
    }
    assert "ZeroDivisionError: a bug" in got["HEALTH-LNX-09"].evidence["reason"]


def test_hosts_without_rows_are_left_to_the_padding_and_nothing_is_recorded_twice(
    private_state: Path,
) -> None:
    ledger = Ledger()
    ids = history(ledger)
    plan = {"linux_health": ["web1", "lost"]}
    # "lost" was unreachable: its rows, made by runner.events, already name every control of the role
    ctx = RunContext(run_id=ids[-1], client="acme", ticket=None, plan=plan)
    ledger.record(
        control_rows(ctx, "lost", "linux_health", Status.NOT_CHECKED, "host unreachable: x", "u", NOW)
    )
    rows = trends.trend_rows(ledger, "acme", ids[-1], plan)
    assert {(r.host, r.control) for _k, r in rows} == {("web1", "HEALTH-LNX-09"), ("web1", "HEALTH-LNX-10")}
    assert trends.trend_rows(ledger, "acme", ids[-1], {"linux_health": ["nobody"]}) == []


def test_windows_and_network_hosts_get_their_trends(private_state: Path) -> None:
    ledger = Ledger()
    plan = {"windows_health": ["fs01"], "network_config": ["sw01"]}
    for i, days_ago in enumerate((21, 14, 7, 0)):
        run_id = f"2026113{i}T030000Z-00000{i}"
        at = NOW - timedelta(days=days_ago)
        start(ledger, run_id, at, plan)
        volume = {"volume": "C:", "size_bytes": 100 * G, "used_bytes": (61 + 2 * (21 - days_ago)) * G}
        ledger.record(
            [
                row(
                    "HEALTH-WIN-01", Status.PASS, {"volumes": [volume]}, at, run_id, "fs01", "windows_health"
                ),
                row(
                    "HEALTH-WIN-06",
                    Status.PASS,
                    {"error_counts": {"system_log": 2}},
                    at,
                    run_id,
                    "fs01",
                    "windows_health",
                ),
                row("NET-IOS-01", Status.PASS, {}, at, run_id, "sw01", "network_config"),
            ]
        )
    got = {(r.host, r.control): r for _k, r in trends.trend_rows(ledger, "acme", run_id, plan)}
    # 61..103 GiB would pass 100 on day 19.5 of 21: already full on the line -> 0 days, fail
    assert got[("fs01", "HEALTH-WIN-07")].status is Status.FAIL
    assert got[("fs01", "HEALTH-WIN-07")].evidence["volumes"][0]["days_to_full"] == 0.0
    assert got[("fs01", "HEALTH-WIN-08")].status is Status.PASS  # 2, 2, 2, 2
    # the device reported its rules but no HEALTH-NET-01 (counters not collected): said so, not padded
    net = got[("sw01", "HEALTH-NET-02")]
    assert net.status is Status.NOT_CHECKED and net.evidence["reason"] == "no HEALTH-NET-01 row in this run"


# ---------------------------------------------------------------- through real runs of the demo client


def _machine_volumes() -> list[dict[str, Any]]:
    """HEALTH-LNX-01's volumes on this machine now, as the demo's run will measure them."""
    sys.path.insert(0, str(REPO / "collections"))
    try:
        from ansible_collections.maint.core.plugins.modules import linux_health_facts
    finally:
        sys.path.pop(0)
    raw = linux_health_facts.collect(5.0, 30.0, smart=False)
    findings = evaluators.evaluate("linux_health", raw)
    volumes: list[dict[str, Any]] = next(f for f in findings if f.control == "HEALTH-LNX-01").evidence[
        "volumes"
    ]
    return volumes


@pytest.mark.integration
def test_demo_run_shows_days_to_full_from_backdated_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, private_state: Path
) -> None:
    inventories = tmp_path / "inventories"
    shutil.copytree(REPO / "inventories" / "demo", inventories / "demo")
    monkeypatch.setenv("MAINT_INVENTORIES", str(inventories))
    ledger = Ledger()
    volumes = _machine_volumes()
    assert volumes, "this machine has a filesystem HEALTH-LNX-01 judges"
    # two backdated runs of the demo's linux_health, 20 and 10 days ago, a little less used each time back
    for i, days_ago in enumerate((20, 10)):
        run_id = f"20261101T03000{i}Z-00000{i}"
        at = datetime.now(UTC) - timedelta(days=days_ago)
        start(ledger, run_id, at, {"linux_health": ["localhost"]}, client="demo")
        older = [{**v, "used_bytes": max(v["used_bytes"] - days_ago * 1024**2, 0)} for v in volumes]
        ledger.record(
            [row("HEALTH-LNX-01", Status.PASS, {"volumes": older}, at, run_id, "localhost", client="demo")]
        )
    outcome = execute(RunRequest(client="demo", roles=("linux_health",)), ledger)
    assert outcome.status is RunStatus.SUCCESSFUL, outcome.counts
    stored = {r.control: r for r in ledger.results_for_run(outcome.run_id)}
    assert {"HEALTH-LNX-08", "HEALTH-LNX-09", "HEALTH-LNX-10"} <= set(stored)
    full = stored["HEALTH-LNX-09"]
    assert full.status in (Status.PASS, Status.WARN, Status.FAIL), (
        full.evidence
    )  # judged: 3 runs over 20 days
    backdated = seqs_of(ledger, "HEALTH-LNX-01", "localhost")
    assert all(v["seqs"] == backdated for v in full.evidence["volumes"] if v["points"] == 3)
    assert stored["HEALTH-LNX-10"].status is Status.NOT_CHECKED  # the backdated runs counted no errors

    result = CliRunner().invoke(app, ["status", "demo", "--json"], catch_exceptions=False)
    shown = {r["control"]: r for r in json.loads(result.output)["rows"] if r["host"] == "localhost"}
    assert shown["HEALTH-LNX-09"]["status"] == full.status.value
    # ingesting the run's artifacts again adds nothing: the trend rows have fixed keys and times
    assert ingest(outcome.private_data_dir, ledger).added == 0
    assert ingest(outcome.private_data_dir, ledger).added == 0


def test_a_device_not_reached_gets_its_trend_rows_with_the_same_reason(private_state: Path) -> None:
    ledger = Ledger()
    plan = {"network_config": ["sw01"]}
    start(ledger, "20261130T030000Z-000001", NOW, plan)
    lost = "fetch failed: connection refused"
    ledger.record(
        [
            row(
                "NET-IOS-01",
                Status.NOT_CHECKED,
                {"reason": lost},
                NOW,
                "20261130T030000Z-000001",
                "sw01",
                "network_config",
            )
        ]
    )
    (only,) = trends.trend_rows(ledger, "acme", "20261130T030000Z-000001", plan)
    assert (only[1].control, only[1].status, only[1].evidence) == (
        "HEALTH-NET-02",
        Status.NOT_CHECKED,
        {"reason": lost},
    )
