"""The one rule of what does not pass, as a run's table and exit code apply it (`maint run`, `maint demo`)."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

from rich.console import Console

from runner.cli.core import _run_exit
from runner.console import summary_table
from runner.execute import RunOutcome
from runner.inventory import ClientSettings
from runner.ledger import RunStatus
from runner.results import CheckResult, Control, Domain, Severity, Status
from runner.state import run_rows
from tests.conftest import BASE_SETTINGS

CONTROL = Control(
    control="HEALTH-LNX-06", title="Rebooted recently", domain=Domain.HEALTH, severity=Severity.LOW
)
OTHER = Control(control="HEALTH-LNX-01", title="Free space", domain=Domain.HEALTH, severity=Severity.HIGH)


def result(control: Control, status: Status, reason: str = "", host: str = "web01") -> CheckResult:
    finding = control.finding(status, evidence={"reason": reason} if reason else {})
    return CheckResult.from_finding(finding, host=host, client="acme", run_id="r1", role="linux_health")


def settings(expires: str | None = "2999-01-01") -> ClientSettings:
    data = copy.deepcopy(BASE_SETTINGS)
    data["waivers"] = [{"control": "HEALTH-LNX-06", "hosts": "web*", "owner": "ops", "reason": "rebuilt"}]
    if expires:
        data["waivers"][0]["expires"] = expires
    return ClientSettings.model_validate(data)


def outcome(results: list[CheckResult], status: RunStatus = RunStatus.SUCCESSFUL) -> RunOutcome:
    return RunOutcome("r1", "acme", status, Path("/nonexistent"), Path("/nonexistent"), results=results)


def table_text(run: RunOutcome, config: ClientSettings) -> str:
    console = Console(width=200, record=True, force_terminal=False)
    console.print(summary_table(run, run_rows(run.results, config)))
    return console.export_text()


def test_a_waived_failure_is_counted_waived_and_passes() -> None:
    run = outcome([result(CONTROL, Status.FAIL), result(OTHER, Status.PASS)])
    rows = run_rows(run.results, settings())
    assert [r.effective for r in rows] == ["waived", "pass"]
    assert _run_exit(run, rows) == 0
    text = table_text(run, settings())
    header, line = (ln for ln in text.splitlines() if "host" in ln or "web01" in ln)
    cells = dict(zip(header.split("┃")[1:-1], line.split("│")[1:-1], strict=True))
    assert {k.strip(): v.strip() for k, v in cells.items()} == {
        "host": "web01",
        "pass": "1",
        "fail": "0",
        "warn": "0",
        "not_checked": "0",
        "error": "0",
        "not_applicable": "0",
        "waived": "1",
    }


def test_an_expired_waiver_fails_again() -> None:
    run = outcome([result(CONTROL, Status.FAIL)])
    rows = run_rows(run.results, settings("2020-01-01"))
    assert rows[0].effective == "fail" and "waiver expired on 2020-01-01" in rows[0].note
    assert _run_exit(run, rows) == 1


def test_not_applicable_and_a_prerequisite_not_checked_pass_an_unreachable_host_does_not() -> None:
    fine = [
        result(OTHER, Status.PASS),
        result(OTHER, Status.NOT_APPLICABLE, "audit mode: nothing was installed", host="db01"),
        result(OTHER, Status.NOT_CHECKED, "smartctl is not installed", host="db02"),
    ]
    assert _run_exit(outcome(fine), run_rows(fine, settings())) == 0
    lost = [*fine, result(OTHER, Status.NOT_CHECKED, "host unreachable: timed out", host="db03")]
    rows = run_rows(lost, settings())
    assert _run_exit(outcome(lost), rows) == 1
    assert [r.host for r in rows if r.failing] == ["db03"] and rows[-1].unreachable
    for status in (Status.WARN, Status.ERROR):
        assert _run_exit(outcome([result(OTHER, status)]), run_rows([result(OTHER, status)], settings())) == 1


def test_an_interrupted_run_never_exits_0() -> None:
    run = outcome([result(OTHER, Status.PASS)], RunStatus.INTERRUPTED)
    assert _run_exit(run, run_rows(run.results, settings())) == 1


def test_waivers_run_to_the_end_of_their_day() -> None:
    from runner.status import Waivers

    waiver = settings("2026-12-05").waivers
    assert Waivers(waiver, date(2026, 12, 5)).lookup("HEALTH-LNX-06", "web01")[0] is not None
    live, expired = Waivers(waiver, date(2026, 12, 6)).lookup("HEALTH-LNX-06", "web01")
    assert live is None and expired is not None
