"""`maint status` with no client: the fleet view across the demo and example-acme clients (the repository's
inventories), a client left only in the ledger, and the numbers each line is made of."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from runner import catalogue
from runner import schedule_ledger as occ
from runner.cli import app
from runner.ledger import Ledger, RunRecord
from runner.results import CheckResult, Status
from runner.schedule_ledger import OccurrenceState
from runner.state import FleetCache, fleet
from tests.conftest import REPO

DEVICES = {
    "demo-ios-sw01": "cisco_ios",
    "demo-cx-sw01": "aruba_aoscx",
    "demo-aoss-sw01": "aruba_aoss",
    "demo-fgt-fw01": "fortios",
}


def _results(
    client: str, run_id: str, host: str, role: str, when: datetime, fail: str = ""
) -> list[tuple[str, CheckResult]]:
    cat = catalogue.load()
    rows = []
    for spec in cat.for_role(role):
        if not spec.applies_to(DEVICES.get(host)):
            continue
        status = Status.FAIL if spec.id == fail else Status.PASS
        finding = spec.as_control().finding(status, evidence={"reason": "recorded by the test"})
        result = CheckResult.from_finding(
            finding, host=host, client=client, run_id=run_id, role=role, observed_at=when
        )
        rows.append((f"{host}:{spec.id}", result))
    return rows


def test_fleet_view_across_demo_example_acme_and_a_client_left_in_the_ledger() -> None:
    cat = catalogue.load()
    ledger = Ledger()
    now = datetime.now(UTC)
    when = now - timedelta(hours=2)
    ledger.start_run(
        RunRecord(
            run_id="demo-1",
            client="demo",
            mode="audit",
            roles=["linux_health"],
            trigger="manual",
            started_at=when,
        )
    )
    linux = [c.id for c in cat.for_role("linux_health")]
    rows = _results("demo", "demo-1", "localhost", "linux_health", when, fail="HEALTH-LNX-01")
    rows += _results("demo", "demo-1", "demo-ios-sw01", "network_config", when)
    # a row that does not apply (another platform's rule on the Cisco switch) never counts
    phantom = cat.control("NET-FGT-01").as_control().finding(Status.FAIL)
    rows.append(
        (
            "phantom",
            CheckResult.from_finding(
                phantom, host="demo-ios-sw01", client="demo", run_id="demo-1", observed_at=when
            ),
        )
    )
    ledger.record(rows)
    # one window of the demo missed this month
    ledger.append(
        occ.schedule_occurrences,
        [
            occ.row(
                client="demo",
                occurrence_id=f"demo/monthly-audit/{now:%Y-%m-%dT%H:%MZ}",
                schedule_name="monthly-audit",
                window_start=now,
                window_end=now + timedelta(hours=4),
                state=OccurrenceState.MISSED,
                recorded_at=now,
            )
        ],
    )
    ledger.start_run(
        RunRecord(
            run_id="gone-1",
            client="gone",
            mode="audit",
            roles=["linux_health"],
            trigger="manual",
            started_at=when,
        )
    )

    result = CliRunner().invoke(app, ["status", "--json"], catch_exceptions=False)
    lines = {line["client"]: line for line in json.loads(result.stdout)}
    assert {"demo", "example-acme", "gone"} <= set(lines)
    assert result.exit_code == 1, "the demo has a failing control"

    demo = lines["demo"]
    # linux_assets is assigned too: ASSET-LNX-01 applies to localhost and was never checked here
    applicable = (
        len(linux)
        + len(cat.for_role("linux_assets"))
        + sum(1 for c in cat.for_role("network_config") for p in DEVICES.values() if c.applies_to(p))
    )
    passed = len(linux) - 1 + sum(1 for c in cat.for_role("network_config") if c.applies_to("cisco_ios"))
    assert demo["problem"] is None and demo["hosts"] == 5
    assert demo["applicable"] == applicable
    assert demo["passing"] == passed
    assert demo["compliance_pct"] == round(100 * passed / applicable, 1)
    assert demo["fails"] == {"critical": 0, "high": 1, "medium": 0, "low": 0, "info": 0}
    assert demo["not_checked"] == applicable - passed - 1  # the three other devices: never checked
    assert demo["last_run"].startswith(when.isoformat()[:16]) and demo["last_run_status"] == "running"
    assert demo["next_window"] is not None and demo["missed_this_month"] == 1

    acme = lines["example-acme"]
    assert acme["problem"] is None, acme["problem"]
    # nothing recorded: every applicable control never checked, except what its waivers accept
    assert acme["hosts"] == 6 and acme["last_run"] is None
    assert acme["passing"] == acme["waived"] >= 1
    assert acme["not_checked"] == acme["applicable"] - acme["waived"] > 0
    assert acme["compliance_pct"] == round(100 * acme["waived"] / acme["applicable"], 1)
    assert acme["next_window"] is not None and acme["missed_this_month"] == 0

    gone = lines["gone"]
    assert gone["problem"] == "no inventory folder (in the ledger only)" and gone["last_run"] is not None

    table = CliRunner().invoke(app, ["status"], catch_exceptions=False, terminal_width=250).stdout
    assert f"{demo['compliance_pct']:.1f}%" in table and "example-acme" in table and "0/1/0/0" in table


def test_fleet_options_that_need_a_client_are_refused() -> None:
    result = CliRunner().invoke(app, ["status", "--severity", "high"])
    assert result.exit_code == 2 and "need a CLIENT" in result.stderr
    result = CliRunner().invoke(app, ["status", "demo", "--status", "bogus"])
    assert result.exit_code == 2 and "--status 'bogus'" in result.stderr
    result = CliRunner().invoke(app, ["status", "demo", "--host", "nope"])
    assert result.exit_code == 2 and "--host 'nope'" in result.stderr


def test_fleet_lines_are_reused_only_while_nothing_they_depend_on_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path / "inventories"
    shutil.copytree(REPO / "inventories" / "demo", base / "demo")
    monkeypatch.setenv("MAINT_INVENTORIES", str(base))
    ledger = Ledger()
    cache = FleetCache(tmp_path / "cache")
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # before the demo's first window (Sat 5 Dec 22:00)

    def line(at: datetime = now) -> dict[str, object]:
        (found,) = [x.as_dict() for x in fleet(ledger, now=at, cache=cache) if x.client == "demo"]
        return found

    first = line()
    assert first["passing"] == first["waived"] == 1 and list((tmp_path / "cache").glob("*.json"))
    assert line() == first  # reused
    # a new result: the client's chain head moved
    when = now - timedelta(hours=1)
    ledger.start_run(
        RunRecord(
            run_id="r1",
            client="demo",
            mode="audit",
            roles=["linux_health"],
            trigger="manual",
            started_at=when,
        )
    )
    ledger.record(_results("demo", "r1", "localhost", "linux_health", when))
    second = line()
    assert second["passing"] == len(catalogue.load().for_role("linux_health"))
    # the inventory changed: the role is gone
    settings = base / "demo" / "group_vars" / "all" / "maintenance.yml"
    data = yaml.safe_load(settings.read_text())
    del data["maintenance"]["roles"]["linux_health"]
    data["maintenance"]["schedules"][0]["roles"] = ["network_config"]
    settings.write_text(yaml.safe_dump(data, sort_keys=False))
    third = line()
    assert third["passing"] == 0 and third["hosts"] == 5
    # the next window came and went: the line says the one after it
    later = line(datetime(2026, 12, 6, 2, 0, tzinfo=UTC))  # after it closed (01:00 UTC)
    assert later["next_window"] != third["next_window"]
