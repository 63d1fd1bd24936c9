"""A whole `maint run` of a client with four simulated devices: ledger rows, snapshots, drift, canaries."""

from __future__ import annotations

import json
import logging
import socket
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from maint_devtools import simulator
from runner.cli import app
from runner.execute import RunRequest, execute
from runner.ledger import Ledger
from runner.network import Platform
from runner.network import snapshots as snaps
from runner.network.review import rule_pack
from runner.results import Status
from tests.conftest import BASE_SETTINGS, MakeClient
from tests.network.conftest import canary_values
from tests.network.test_access_rules import by_design

pytestmark = pytest.mark.integration

PREFIX = {"cisco_ios": "NET-IOS-", "aruba_aoscx": "NET-CX-", "aruba_aoss": "NET-AOSS-", "fortios": "NET-FGT-"}


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def network_client(make_client: MakeClient, sims: dict[str, simulator.Simulator], known_hosts: Path) -> None:
    hosts: dict[str, Any] = {
        name: {"ansible_port": s.port, "network_config_platform": name} for name, s in sims.items()
    }
    hosts["gone-sw01"] = {"ansible_port": closed_port(), "network_config_platform": "cisco_ios"}
    settings = {**BASE_SETTINGS, "roles": {"network_config": ["network"]}}
    make_client(
        "acme",
        settings=settings,
        hosts={
            "all": {
                "children": {
                    "network": {
                        "hosts": hosts,
                        "vars": {
                            "ansible_host": "127.0.0.1",
                            "ansible_connection": "local",
                            "ansible_user": simulator.DEMO_USER,
                            "ansible_password": simulator.DEMO_PASSWORD,
                            "ansible_become_password": simulator.DEMO_ENABLE,
                            "network_config_known_hosts": str(known_hosts),
                            "network_config_conn_timeout": 3,
                            "network_config_read_timeout": 10,
                        },
                    }
                }
            }
        },
    )


def test_maint_run_reviews_stores_and_drifts_without_leaking(
    make_client: MakeClient,
    sims: dict[str, simulator.Simulator],
    known_hosts: Path,
    sim_configs: dict[str, Path],
    private_state: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("MAINT_SNAPSHOT_KEY", Fernet.generate_key().decode())
    network_client(make_client, sims, known_hosts)
    ledger = Ledger()

    first = execute(RunRequest(client="acme", roles=("network_config",)), ledger)
    rows = ledger.results_for_run(first.run_id)
    by_host: dict[str, list[Any]] = {}
    for row in rows:
        by_host.setdefault(row.host, []).append(row)
    assert sorted(by_host) == sorted([*sims, "gone-sw01"])
    for name in sims:
        own = [r for r in by_host[name] if r.control.startswith(PREFIX[name])]
        # besides pass / fail / warn: the security rules with nothing to judge here (no approved list...)
        judged = (Status.PASS, Status.FAIL, Status.WARN)
        assert own and all(r.status in judged or by_design(r) for r in own), name
        assert all(r.evidence["snapshot"]["hash"] for r in own)
        # another platform's rules do not apply to this device: no rows for them at all; the interface
        # counters (HEALTH-NET-01, and HEALTH-NET-02 their trend) are every device's
        every_device = (PREFIX[name], "HEALTH-NET-")
        assert [r.control for r in by_host[name] if not r.control.startswith(every_device)] == []
        assert [r.status for r in by_host[name] if r.control == "HEALTH-NET-01"] == [Status.PASS], name
    gone = [r for r in by_host["gone-sw01"] if r.control.startswith("NET-")]
    assert [r.control for r in gone] == [rule.id for rule in rule_pack(Platform.CISCO_IOS).rules]
    assert {(r.status, r.evidence["reason"]) for r in gone} == {
        (Status.NOT_CHECKED, "fetch failed: connection refused")
    }
    assert len(snaps.history(ledger, "acme")) == 4

    # a known edit on the CX switch; FortiOS answers with fresh ENC ciphertext but is unchanged
    cx = sim_configs["aruba_aoscx"]
    cx.write_text(
        cx.read_text().replace("hostname sw-leaf-001\n", "hostname sw-leaf-001\nlogging 192.0.2.50\n")
    )
    second = execute(RunRequest(client="acme", roles=("network_config",)), ledger)
    history = snaps.history(ledger, "acme")
    assert [s.device for s in history[4:]] == ["aruba_aoscx"] and history[4].run_id == second.run_id

    runner = CliRunner()
    drift_out = runner.invoke(app, ["drift", "acme", "--format", "json"], catch_exceptions=False)
    assert drift_out.exit_code == 0
    report = json.loads(drift_out.stdout)
    assert report["since"] == first.run_id
    assert report["counts"] == {"changed": 1, "added": 0, "removed": 0, "unchanged": 3}
    changed = report["devices"][0]
    assert (changed["device"], changed["lines_added"], changed["lines_removed"]) == ("aruba_aoscx", 1, 0)
    assert [ln for ln in changed["diff"].splitlines()[2:] if ln[:1] in "+-"] == ["+logging 192.0.2.50"]
    drift_md = runner.invoke(app, ["drift", "acme", "--since", first.run_id], catch_exceptions=False).stdout

    # the raw text is restorable (the canaries did reach the device's output) ...
    raw = runner.invoke(app, ["config", "show", "acme", "aruba_aoss", "--raw"], catch_exceptions=False).stdout
    assert "CanaryAossPsk06" in raw
    # ... and appears nowhere else: ledger file, snapshots, drift, logs, ansible-runner artifacts
    canaries = canary_values()
    assert len(canaries) == 10
    ledger.close()
    haystacks: dict[str, str] = {"drift json": drift_out.stdout, "drift md": drift_md, "logs": caplog.text}
    for snap in history:
        haystacks[f"snapshot {snap.id}"] = snap.masked_text
    for path in private_state.rglob("*"):
        if path.is_file():
            haystacks[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
    with sqlite3.connect(private_state / "ledger.db") as con:
        haystacks["ledger dump"] = "\n".join(con.iterdump())
    assert any("artifacts" in name for name in haystacks)
    leaks = {(name, c) for name, text in haystacks.items() for c in canaries if c in text}
    assert leaks == set()
