"""`maint config show` header, `maint config list`, and one-line errors of the network commands."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from maint_devtools import simulator
from runner.cli import app
from runner.ledger import Ledger
from runner.network import Platform
from runner.network.snapshots import store
from tests.conftest import BASE_SETTINGS, MakeClient


def recorded(platform: str) -> str:
    return (simulator.SIM_DATA / platform / "running-config.txt").read_text()


@pytest.fixture
def acme(make_client: MakeClient) -> Ledger:
    """Client acme (in the inventories and the ledger) with two snapshots of sw1 and one of fw1."""
    make_client("acme", settings=BASE_SETTINGS, hosts={"all": {"hosts": {"sw1": {}, "fw1": {}}}})
    ledger = Ledger()
    ios = recorded("cisco_ios")
    store(ledger, client="acme", device="sw1", platform=Platform.CISCO_IOS, raw=ios, run_id="run-1")
    store(
        ledger,
        client="acme",
        device="sw1",
        platform=Platform.CISCO_IOS,
        raw=ios.replace("ntp server 111.111.111.111\n", "ntp server 192.0.2.9\n", 1),
        run_id="run-2",
    )
    store(
        ledger, client="acme", device="fw1", platform=Platform.FORTIOS, raw=recorded("fortios"), run_id=None
    )
    return ledger


def one_line_error(result: object, *words: str) -> None:
    stderr = getattr(result, "stderr", "")
    assert getattr(result, "exit_code", None) == 2, stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    for word in words:
        assert word in stderr, stderr


def test_config_show_prints_a_header_naming_device_snapshot_time_and_run(acme: Ledger) -> None:
    from runner.network.snapshots import history

    newest = history(acme, "acme", "sw1")[-1]
    result = CliRunner().invoke(app, ["config", "show", "acme", "sw1"], catch_exceptions=False)
    assert result.exit_code == 0
    header = result.stderr
    assert "device:   sw1 (cisco_ios)" in header
    assert f"snapshot: {newest.id}" in header and newest.content_hash[:12] in header
    assert f"taken:    {newest.taken_at[:19].replace('T', ' ')} UTC" in header
    assert "run:      run-2" in header
    assert "masked" in header
    # stdout is the configuration alone, so `> file` keeps a usable copy
    assert result.stdout.startswith(newest.masked_text[:40])
    older = history(acme, "acme", "sw1")[0]
    first = CliRunner().invoke(
        app, ["config", "show", "acme", "sw1", "--snapshot", str(older.id)], catch_exceptions=False
    )
    assert "run:      run-1" in first.stderr and f"snapshot: {older.id}" in first.stderr


def test_config_list_lists_snapshots_of_a_client_or_one_device(acme: Ledger) -> None:
    from runner.network.snapshots import history

    snaps = history(acme, "acme")
    everything = CliRunner().invoke(app, ["config", "list", "acme"], catch_exceptions=False)
    assert everything.exit_code == 0
    text = everything.stdout
    for col in ("id", "device", "taken (UTC)", "run", "hash"):
        assert col in text
    for snap in snaps:
        assert snap.content_hash[:12] in text
    assert "run-1" in text and "run-2" in text and "fw1" in text
    one = CliRunner().invoke(app, ["config", "list", "acme", "sw1", "--json"], catch_exceptions=False)
    assert one.exit_code == 0
    import json

    rows = json.loads(one.stdout)
    assert [(r["device"], r["run_id"]) for r in rows] == [("sw1", "run-2"), ("sw1", "run-1")]
    assert set(rows[0]) >= {"id", "device", "platform", "taken_at", "run_id", "hash", "lines", "raw_stored"}
    none = CliRunner().invoke(app, ["config", "list", "acme", "nosuch"], catch_exceptions=False)
    assert none.exit_code == 0 and "no snapshot" in none.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["config", "show", "nosuchclient", "X"],
        ["config", "list", "nosuchclient"],
        ["drift", "nosuchclient"],
    ],
    ids=["config-show", "config-list", "drift"],
)
def test_unknown_client_is_one_line_and_exit_2(args: list[str], acme: Ledger) -> None:
    one_line_error(CliRunner().invoke(app, args), "nosuchclient")


@pytest.mark.parametrize("number", [str(10**30), str(-(10**30)), "0", "-1", str(2**63)])
def test_out_of_range_snapshot_number_is_one_line_and_exit_2(number: str, acme: Ledger) -> None:
    result = CliRunner().invoke(app, ["config", "show", "acme", "sw1", "--snapshot", number])
    one_line_error(result, "--snapshot", number)


def test_removed_client_with_snapshots_is_still_shown(acme: Ledger, make_client: MakeClient) -> None:
    """A client whose inventory folder is gone is not unknown while the ledger holds its snapshots."""
    store(acme, client="gone", device="sw9", platform=Platform.CISCO_IOS, raw=recorded("cisco_ios"))
    result = CliRunner().invoke(app, ["config", "show", "gone", "sw9"], catch_exceptions=False)
    assert result.exit_code == 0 and "device:   sw9" in result.stderr


def test_snapshot_stored_by_an_older_masker_never_shows_its_secret(make_client: MakeClient) -> None:
    """A row written before a masking gap was closed keeps the secret in masked_text (the ledger is
    append-only); `config show` and `drift` mask it again when reading, and a difference that was only
    masking is no drift."""
    from runner.network.snapshots import config_snapshots, content_hash, masked_config

    make_client("acme", settings=BASE_SETTINGS, hosts={"all": {"hosts": {"sw2": {}}}})
    ledger = Ledger()
    canary = "ab12CanaryOldMasker9981ffee"
    raw = (
        "hostname sw2\n"
        f'aaa authentication local-user "ops" group "Level-15" password sha1 "{canary}"\n'
        "snmp-server contact ops\n"
    )
    leaked = raw  # what an older masker left as the "masked" text
    ledger.append(
        config_snapshots,
        [
            {
                "client": "acme",
                "run_id": "run-old",
                "device": "sw2",
                "platform": Platform.ARUBA_AOSS.value,
                "taken_at": "2026-10-01T00:00:00.000000+00:00",
                "content_hash": content_hash(leaked),
                "masked_text": leaked,
                "raw_encrypted": None,
                "encryption": "none",
                "line_count": 3,
            }
        ],
    )
    shown = CliRunner().invoke(app, ["config", "show", "acme", "sw2"], catch_exceptions=False)
    assert shown.exit_code == 0 and "snmp-server contact ops" in shown.stdout
    assert canary not in shown.stdout and canary[:12] not in shown.stdout
    # the next fetch stores the correctly masked text: a new hash, but no drift to show
    assert masked_config(Platform.ARUBA_AOSS, raw) != leaked
    store(ledger, client="acme", device="sw2", platform=Platform.ARUBA_AOSS, raw=raw, run_id="run-new")
    for fmt in ("md", "json"):
        drift = CliRunner().invoke(
            app, ["drift", "acme", "--since", "2026-09-01", "--format", fmt], catch_exceptions=False
        )
        assert canary not in drift.stdout, fmt
