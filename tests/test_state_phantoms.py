"""Issue 11's phantom rows: the demo client after a network run that reaches no device, an interrupted run
and one role removed shows zero phantoms (no other platform's rules on a switch, no control of a role the
client no longer runs), through real `maint run`s recorded in a real SQLite ledger."""

from __future__ import annotations

import json
import shutil
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from runner import catalogue
from runner.cli import app
from runner.execute import RunOutcome, RunRequest, execute
from runner.inventory import load_client
from runner.ledger import Ledger, RunStatus
from runner.results import CheckResult, Status
from runner.state import compute
from tests.conftest import REPO

pytestmark = pytest.mark.integration

PLATFORM = {
    "demo-ios-sw01": "cisco_ios",
    "demo-cx-sw01": "aruba_aoscx",
    "demo-aoss-sw01": "aruba_aoss",
    "demo-fgt-fw01": "fortios",
}


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the demo client, so the test may change its inventory."""
    base = tmp_path / "inventories"
    shutil.copytree(REPO / "inventories" / "demo", base / "demo")
    monkeypatch.setenv("MAINT_INVENTORIES", str(base))
    return base / "demo"


def phantoms(rows: Sequence[dict[str, Any]], roles: dict[str, list[str]]) -> list[tuple[str, str]]:
    """Rows whose control does not apply to their host now: another platform's rule, a role not assigned."""
    cat = catalogue.load()
    assigned = {"localhost": set(), **{h: set() for h in PLATFORM}}
    for role, groups in roles.items():
        for group in groups:
            hosts = ["localhost"] if group == "linux" else list(PLATFORM) if group == "network" else [group]
            for host in hosts:
                assigned[host].add(role)
    bad = []
    for row in rows:
        spec = cat.control(row["control"])
        if spec.role is None:  # the runner's own checks
            if row.get("role") and row["role"] not in assigned[row["host"]]:
                bad.append((row["host"], row["control"]))
            continue
        unassigned = spec.retired or spec.role not in assigned[row["host"]]
        if unassigned or not spec.applies_to(PLATFORM.get(row["host"])):
            bad.append((row["host"], row["control"]))
    return bad


def status_rows(*args: str) -> tuple[int, list[dict[str, Any]]]:
    result = CliRunner().invoke(app, ["status", "demo", "--json", *args], catch_exceptions=False)
    rows: list[dict[str, Any]] = json.loads(result.stdout)["rows"]
    return result.exit_code, rows


def settings_roles(root: Path) -> dict[str, list[str]]:
    data = yaml.safe_load((root / "group_vars" / "all" / "maintenance.yml").read_text())
    roles: dict[str, list[str]] = data["maintenance"]["roles"]
    return roles


class _InterruptAfterFirst:
    """Observer that stops the run (SIGTERM to this process, as a technician's kill would) once the first
    host's results are recorded."""

    def __init__(self) -> None:
        self.sent = False

    def started(self, run_id: str, client: str, hosts: Sequence[str]) -> None:
        pass

    def recorded(self, host: str, results: Sequence[CheckResult], host_done: bool) -> None:
        if not self.sent:
            self.sent = True
            signal.raise_signal(signal.SIGTERM)

    def finished(self, outcome: RunOutcome) -> None:
        pass


def test_no_phantom_rows_after_unreached_devices_an_interrupted_run_and_a_removed_role(demo: Path) -> None:
    cli = CliRunner()
    # 1. a full run: every device reached (simulated), localhost audited
    first = cli.invoke(app, ["run", "demo", "--json"], catch_exceptions=False)
    assert first.exit_code in (0, 1), first.stderr
    code, rows = status_rows()
    assert rows and phantoms(rows, settings_roles(demo)) == []
    switch = {r["control"] for r in rows if r["host"] == "demo-ios-sw01"}
    # what the first run could judge (a rule with nothing to judge, e.g. no approved list, is not_checked)
    known = {(r["host"], r["control"]) for r in rows if r["status"] in ("pass", "fail", "warn")}
    assert switch == {c.id for c in catalogue.load().for_role("network_config") if c.applies_to("cisco_ios")}

    # 2. a network run without credentials (simulation off): the preflight stops each device's play
    network_vars = demo / "group_vars" / "network" / "vars.yml"
    data = yaml.safe_load(network_vars.read_text())
    data.update(network_config_simulated=False, ansible_host="127.0.0.1", ansible_port=1)
    data["network_config_conn_timeout"] = 2
    network_vars.write_text(yaml.safe_dump(data))
    second = cli.invoke(app, ["run", "demo", "--role", "network_config", "--json"], catch_exceptions=False)
    assert second.exit_code == 1, second.stderr
    run2 = json.loads(second.stdout)
    assert set(run2["not_reached"]) == set(PLATFORM)
    for host, platform in PLATFORM.items():  # each device: its own platform's rules, never another's
        recorded = {r["control"] for r in run2["results"] if r["host"] == host}
        assert recorded and all(catalogue.load().control(c).applies_to(platform) for c in recorded), host
    code, rows = status_rows()
    assert code == 1 and phantoms(rows, settings_roles(demo)) == []
    devices = [r for r in rows if r["host"] in PLATFORM]
    assert devices and all(r["status"] == "error" and r["failing"] for r in devices)
    # what was known before is kept beside the new row
    kept = [r for r in devices if (r["host"], r["control"]) in known]
    assert kept and all(r["last_conclusive"] is not None and "last known" in r["note"] for r in kept)

    # 2b. credentials now, but the devices cannot be reached (a closed loopback port)
    data.update(network_config_username="maint", network_config_password="not-a-real-one")
    network_vars.write_text(yaml.safe_dump(data))
    third = cli.invoke(app, ["run", "demo", "--role", "network_config", "--json"], catch_exceptions=False)
    assert third.exit_code == 1, third.stderr
    code, rows = status_rows()
    assert code == 1 and phantoms(rows, settings_roles(demo)) == []
    devices = [r for r in rows if r["host"] in PLATFORM]
    assert devices and all(r["status"] == "not_checked" and r["unreachable"] for r in devices), devices[0]
    assert all(r["failing"] and "host not reached" in r["note"] for r in devices)
    table = cli.invoke(app, ["status", "demo"], catch_exceptions=False, terminal_width=250).stdout
    assert "not reached: demo-aoss-sw01, demo-cx-sw01, demo-fgt-fw01, demo-ios-sw01" in table

    # 3. an interrupted run: the hosts and devices it did not get to are padded only with what applies
    ledger = Ledger()
    outcome = execute(RunRequest(client="demo"), ledger, _InterruptAfterFirst())  # type: ignore[arg-type]
    assert outcome.status is RunStatus.INTERRUPTED
    padded = [r for r in ledger.results_for_run(outcome.run_id) if r.host in PLATFORM]
    assert padded, "the devices the run never reached are still visible"
    for row in padded:
        assert catalogue.load().control(row.control).applies_to(PLATFORM[row.host]), (row.host, row.control)
    code, rows = status_rows()
    assert phantoms(rows, settings_roles(demo)) == []

    # 4. localhost's roles removed from the client: their controls leave the state, nothing is deleted
    settings_file = demo / "group_vars" / "all" / "maintenance.yml"
    data = yaml.safe_load(settings_file.read_text())
    for role in ("linux_health", "linux_assets"):
        del data["maintenance"]["roles"][role]
    data["maintenance"]["schedules"][0]["roles"] = ["network_config"]
    settings_file.write_text(yaml.safe_dump(data, sort_keys=False))
    code, rows = status_rows()
    assert phantoms(rows, settings_roles(demo)) == []
    assert not [r for r in rows if r["host"] == "localhost"], "localhost runs no role now"
    assert {r["host"] for r in rows} == set(PLATFORM)
    assert any(r.host == "localhost" for r in ledger.latest_results("demo")), "the ledger keeps every row"

    # the same through the state API, for each device: exactly its platform's controls
    state = compute(ledger, load_client("demo"))
    for host, platform in PLATFORM.items():
        shown = {r.control for r in state.rows if r.host == host}
        wanted = {c.id for c in catalogue.load().for_role("network_config") if c.applies_to(platform)}
        assert shown == wanted, host
    assert all(r.status is not Status.PASS or not r.failing for r in state.rows)
