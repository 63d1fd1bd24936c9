"""Fetch -> snapshot -> drift round trips on the simulators, and `maint config show` / `maint drift`."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from maint_devtools import simulator
from runner.cli import app
from runner.ledger import Ledger
from runner.network import Platform
from runner.network import snapshots as snaps
from runner.network.drift import Change, compare, drift
from runner.network.fetch import fetch_config
from runner.network.snapshots import store
from tests.network.conftest import canary_values, target

pytestmark = pytest.mark.integration


def fetch_and_store(
    ledger: Ledger, s: simulator.Simulator, known_hosts: Path, run_id: str
) -> snaps.StoreOutcome:
    raw = fetch_config(target(s, known_hosts, read_timeout=5.0))
    return store(
        ledger, client="acme", device=s.name, platform=Platform(s.profile.platform), raw=raw, run_id=run_id
    )


def test_known_edit_yields_exactly_that_diff(
    sims: dict[str, simulator.Simulator],
    known_hosts: Path,
    sim_configs: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAINT_SNAPSHOT_KEY", Fernet.generate_key().decode())
    ledger = Ledger()
    s = sims["cisco_ios"]
    first = fetch_and_store(ledger, s, known_hosts, "run-1")
    path = sim_configs["cisco_ios"]
    path.write_text(path.read_text().replace("ntp server 111.111.111.111\n", "ntp server 192.0.2.123\n", 1))
    second = fetch_and_store(ledger, s, known_hosts, "run-2")
    assert first.stored and second.stored and first.snapshot_id != second.snapshot_id

    report = drift(ledger, "acme", since="2000-01-01")  # everything since before the first snapshot
    assert [d.change for d in report.devices] == [Change.ADDED]
    latest_two = drift(ledger, "acme", device="cisco_ios", since=None)
    (dev,) = latest_two.devices
    # no runs rows exist for run-1/run-2 here, so compare the two snapshots directly
    old, new = snaps.history(ledger, "acme", "cisco_ios")
    dev = compare("cisco_ios", old, new)
    assert dev.change is Change.CHANGED
    assert (dev.added, dev.removed) == (1, 1)
    changed = [ln for ln in dev.diff[2:] if ln[:1] in "+-"]
    assert changed == ["-ntp server 111.111.111.111", "+ntp server 192.0.2.123"]
    assert latest_two.devices[0].device == "cisco_ios"


def test_unchanged_fortios_with_fresh_enc_values_stores_nothing_and_shows_no_drift(
    sims: dict[str, simulator.Simulator], known_hosts: Path
) -> None:
    ledger = Ledger()
    s = sims["fortios"]
    first = fetch_and_store(ledger, s, known_hosts, "run-1")
    second = fetch_and_store(ledger, s, known_hosts, "run-2")
    assert first.stored and not second.stored
    assert second.snapshot_id == first.snapshot_id and second.content_hash == first.content_hash
    assert len(snaps.history(ledger, "acme", "fortios")) == 1
    (only,) = snaps.history(ledger, "acme", "fortios")
    dev = compare("fortios", only, snaps.latest(ledger, "acme", "fortios"))
    assert dev.change is Change.UNCHANGED and dev.diff == ()
    assert "ENC" in first.masked_text and not any(v in first.masked_text for v in canary_values())


def test_config_show_raw_needs_the_key(
    sims: dict[str, simulator.Simulator], known_hosts: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key_file = tmp_path / "snapshot.key"
    key_file.write_text(Fernet.generate_key().decode())
    monkeypatch.setenv("MAINT_SNAPSHOT_KEY_FILE", str(key_file))
    ledger = Ledger()
    fetch_and_store(ledger, sims["aruba_aoss"], known_hosts, "run-1")
    runner = CliRunner()

    masked = runner.invoke(app, ["config", "show", "acme", "aruba_aoss"], catch_exceptions=False)
    assert masked.exit_code == 0
    assert 'hostname "secrets-sw"' in masked.stdout and "CanaryAossPsk06" not in masked.stdout

    raw = runner.invoke(app, ["config", "show", "acme", "aruba_aoss", "--raw"], catch_exceptions=False)
    assert raw.exit_code == 0 and "CanaryAossPsk06" in raw.stdout

    monkeypatch.delenv("MAINT_SNAPSHOT_KEY_FILE")
    refused = runner.invoke(app, ["config", "show", "acme", "aruba_aoss", "--raw"], catch_exceptions=False)
    assert refused.exit_code == 2
    assert "is encrypted: set MAINT_SNAPSHOT_KEY or MAINT_SNAPSHOT_KEY_FILE" in refused.stderr
    assert "CanaryAossPsk06" not in refused.stdout + refused.stderr

    monkeypatch.setenv("MAINT_SNAPSHOT_KEY", Fernet.generate_key().decode())
    wrong = runner.invoke(app, ["config", "show", "acme", "aruba_aoss", "--raw"], catch_exceptions=False)
    assert wrong.exit_code == 2 and "does not decrypt it" in wrong.stderr

    unknown = runner.invoke(app, ["config", "show", "acme", "nosuch"], catch_exceptions=False)
    assert unknown.exit_code == 2 and "client 'acme' has no snapshot for device 'nosuch'" in unknown.stderr


def test_without_key_masked_only_and_one_warning(
    sims: dict[str, simulator.Simulator],
    known_hosts: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("MAINT_SNAPSHOT_KEY", raising=False)
    monkeypatch.delenv("MAINT_SNAPSHOT_KEY_FILE", raising=False)
    monkeypatch.setattr(snaps, "_warned_no_key", False)
    ledger = Ledger()
    with caplog.at_level(logging.WARNING, logger="runner.network.snapshots"):
        for name in ("cisco_ios", "aruba_aoscx"):
            outcome = fetch_and_store(ledger, sims[name], known_hosts, "run-1")
            assert outcome.stored and not outcome.encrypted
    mine = [
        r.getMessage()[:14]
        for r in caplog.records
        if r.name == "runner.network.snapshots" and r.levelno >= 30
    ]
    assert mine == ["no snapshot ke"]
    result = CliRunner().invoke(app, ["config", "show", "acme", "cisco_ios", "--raw"], catch_exceptions=False)
    assert result.exit_code == 2 and "stored without a key" in result.stderr


def test_drift_cli_formats(
    sims: dict[str, simulator.Simulator], known_hosts: Path, sim_configs: dict[str, Path]
) -> None:
    ledger = Ledger()
    for s in sims.values():
        fetch_and_store(ledger, s, known_hosts, "run-1")
    path = sim_configs["aruba_aoscx"]
    path.write_text(
        path.read_text().replace("hostname sw-leaf-001\n", "hostname sw-leaf-001\nlogging 192.0.2.50\n")
    )
    fetch_and_store(ledger, sims["aruba_aoscx"], known_hosts, "run-2")
    first_of_all = snaps.history(ledger, "acme")[0].taken_at[:10]
    outputs = {}
    for fmt in ("md", "html", "json"):
        result = CliRunner().invoke(
            app, ["drift", "acme", "--since", first_of_all, "--format", fmt], catch_exceptions=False
        )
        assert result.exit_code == 0
        outputs[fmt] = result.stdout
    data = json.loads(outputs["json"])
    assert data["counts"] == {"changed": 0, "added": 4, "removed": 0, "unchanged": 0}
    assert "+logging 192.0.2.50" in data["devices"][0]["diff"] or any(
        "+logging 192.0.2.50" in d["diff"] for d in data["devices"]
    )
    assert "+logging 192.0.2.50" in outputs["md"]
    assert '<span class="add">+logging 192.0.2.50</span>' in outputs["html"]
    assert outputs["md"].startswith("# Configuration drift: acme")
    assert not any(v in text for text in outputs.values() for v in canary_values())
    bad = CliRunner().invoke(app, ["drift", "acme", "--format", "pdf"], catch_exceptions=False)
    assert bad.exit_code == 2 and "choose one of md, html, json" in bad.stderr
