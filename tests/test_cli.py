"""CLI exit codes and messages through typer's CliRunner (no traceback for user mistakes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runner.cli import app
from tests.conftest import BASE_SETTINGS, MakeClient

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_validate_ok_and_errors(make_client: MakeClient) -> None:
    make_client("good")
    make_client("bad", settings={**BASE_SETTINGS, "timezone": "Nowhere/City", "contacts": []})
    code, output = invoke("inventory", "validate")
    assert code == 2
    assert "✓ good: 1 host(s)" in output
    assert "bad/group_vars/all/maintenance.yml: maintenance.timezone: unknown IANA time zone" in output
    assert "maintenance.contacts: List should have at least 1 item" in output
    code, output = invoke("inventory", "validate", "good")
    assert code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "nope"], "no client 'nope'"),
        (["run", "acme", "--role", "windows_patching"], "not assigned to any group of client 'acme'"),
        (["run", "acme", "--limit", "zzz*"], "--limit 'zzz*' selects no host"),
        (["run", "acme", "--mode", "remediate"], "mode 'remediate' is not allowed"),
        (["status", "nope"], "no client 'nope'"),
        (["evaluate", "nosuchkind", "pyproject.toml"], "unknown evaluator kind 'nosuchkind'"),
        (["evaluate", "linux_health", "/nonexistent.json"], "cannot read /nonexistent.json"),
        (["ledger", "ingest", "/tmp"], "is not a maint run's artifact folder"),
    ],
)
def test_cannot_run_exits_2_with_one_message(make_client: MakeClient, args: list[str], message: str) -> None:
    make_client("acme")
    code, output = invoke(*args)
    assert code == 2, output
    assert message in output
    assert "Traceback" not in output


def test_run_with_invalid_inventory_exits_2(make_client: MakeClient) -> None:
    make_client("acme", raw_settings="maintenance:\n  display_name: x\n")
    code, output = invoke("run", "acme")
    assert code == 2
    assert "maintenance.timezone: required key is missing" in output


def test_evaluate_exit_codes(tmp_path: Path) -> None:
    data_dir = Path(__file__).parent / "data" / "linux_health"
    files = sorted(data_dir.glob("*.json"))
    assert files, "recorded linux_health outputs are missing"
    codes = {}
    for file in files:
        code, output = invoke("evaluate", "linux_health", str(file), "--json")
        findings = json.loads(output)
        assert {f["control"] for f in findings} >= {f"HEALTH-LNX-0{i}" for i in (1, 2, 4, 5, 6)}
        expected = 0 if all(f["status"] == "pass" for f in findings) else 1
        assert code == expected
        codes[file.name] = code
    assert 1 in codes.values()


def test_evaluate_threshold_override(tmp_path: Path) -> None:
    file = Path(__file__).parent / "data" / "linux_health" / "real_debian12_container.json"
    code, output = invoke(
        "evaluate", "linux_health", str(file), "--json", "-t", "fs_warn_pct=0", "-t", "fs_fail_pct=0"
    )
    fs = next(f for f in json.loads(output) if f["control"] == "HEALTH-LNX-01")
    assert fs["status"] == "fail"
    assert code == 1


def test_ledger_verify_empty() -> None:
    code, output = invoke("ledger", "verify")
    assert code == 0
    assert "empty" in output
