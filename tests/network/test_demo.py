"""The demo's simulated network devices: `maint run demo` and `maint demo` both reach them, on free ports."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from maint_devtools import simulator
from runner.cli import app
from runner.ledger import Ledger
from runner.network import Platform
from runner.network import snapshots as snaps
from runner.network.fetch import FetchTarget, fetch_config
from runner.results import Status
from tests.conftest import REPO
from tests.network.test_access_rules import by_design

pytestmark = pytest.mark.integration

DEMO = REPO / "inventories" / "demo"
NETWORK_HOSTS = {"demo-ios-sw01", "demo-cx-sw01", "demo-aoss-sw01", "demo-fgt-fw01"}
#: the ports the demo used to take for itself, whoever else was using them
OLD_FIXED_PORTS = (42201, 42202, 42203, 42204)


@contextlib.contextmanager
def ports_taken(ports: tuple[int, ...]) -> Iterator[list[int]]:
    """Hold these loopback ports as another user's demo would (those already in use are held anyway)."""
    held: list[socket.socket] = []
    try:
        for port in ports:
            sock = socket.socket()
            try:
                sock.bind(("127.0.0.1", port))
                sock.listen(1)
            except OSError:
                sock.close()  # somebody else holds it already: just as good
                continue
            held.append(sock)
        yield [s.getsockname()[1] for s in held]
    finally:
        for sock in held:
            sock.close()


def network_rows(results: list[dict[str, Any]]) -> dict[str, set[str]]:
    by_host: dict[str, set[str]] = {}
    for row in results:
        # the security rules with nothing to judge (the demo sets no access_approved_admins) aside
        if row["host"] in NETWORK_HOSTS and not by_design(row):
            by_host.setdefault(row["host"], set()).add(row["status"])
    return by_host


def test_maint_run_demo_reaches_every_simulated_device_with_no_error_rows() -> None:
    """The README's second example: nothing started beforehand, no environment set."""
    with ports_taken(OLD_FIXED_PORTS):
        result = CliRunner().invoke(
            app, ["run", "demo", "--role", "network_config", "--json"], catch_exceptions=False
        )
    assert result.exit_code in (0, 1), result.stderr
    outcome = json.loads(result.stdout)
    statuses = network_rows(outcome["results"])
    assert set(statuses) == NETWORK_HOSTS
    judged = {Status.PASS.value, Status.FAIL.value, Status.WARN.value}
    assert {host: s - judged for host, s in statuses.items()} == {host: set() for host in NETWORK_HOSTS}
    ledger = Ledger()
    assert {s.device for s in snaps.history(ledger, "demo")} == NETWORK_HOSTS
    shown = CliRunner().invoke(app, ["config", "show", "demo", "demo-ios-sw01"], catch_exceptions=False)
    assert shown.exit_code == 0 and "version 16.8" in shown.stdout


def test_maint_demo_does_not_collide_with_another_user_on_the_old_fixed_ports() -> None:
    with ports_taken(OLD_FIXED_PORTS):
        result = CliRunner().invoke(app, ["demo"], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.stderr
    assert "cannot start" not in result.stdout + result.stderr
    ledger = Ledger()
    rows = ledger.latest_results("demo")
    statuses: dict[str, set[str]] = {}
    for row in rows:
        if row.host in NETWORK_HOSTS and not by_design(row):
            statuses.setdefault(row.host, set()).add(row.status.value)
    assert set(statuses) == NETWORK_HOSTS
    assert not any({Status.ERROR.value, Status.NOT_CHECKED.value} & s for s in statuses.values()), statuses


def test_demo_inventory_names_no_port_address_credential_or_lookup() -> None:
    texts = {p.relative_to(DEMO).as_posix(): p.read_text() for p in DEMO.rglob("*.yml")}
    for name, text in texts.items():
        assert "lookup(" not in text, name
        data = yaml.safe_load(text)
        flat = json.dumps(data, default=str)
        for key in ("ansible_port", "ansible_password", "ansible_become_password", "known_hosts"):
            assert f'"{key}"' not in flat, (name, key)
    network = yaml.safe_load(texts["group_vars/network/vars.yml"])
    assert network["network_config_simulated"] is True


def test_served_devices_take_distinct_free_ports_and_fresh_credentials() -> None:
    platform = "aruba_aoscx"
    with simulator.serve("a", platform) as one, simulator.serve("b", platform) as two:
        assert one.sim.port != two.sim.port and 0 not in (one.sim.port, two.sim.port)
        assert one.password != two.password and one.password != simulator.DEMO_PASSWORD
        for served in (one, two):
            raw = fetch_config(
                FetchTarget(
                    name=served.sim.name,
                    platform=Platform(platform),
                    host=served.sim.host,
                    port=served.sim.port,
                    username=served.username,
                    password=served.password,
                    secret=served.enable_secret,
                    conn_timeout=5,
                    read_timeout=10,
                    known_hosts=served.known_hosts,
                )
            )
            assert "hostname sw-leaf-001" in raw
        known_hosts = one.known_hosts
    assert not known_hosts.exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", one.sim.port), timeout=1).close()
