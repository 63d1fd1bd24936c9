"""Hostile or broken input files give one line naming the file or argument and exit 2, never a traceback
(issue 10, 2b): sizes, nesting, alias bombs and integers Python refuses, in every reader of user files."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from runner import safeyaml
from runner.cli import app
from tests.conftest import REPO, MakeClient

HEALTHY = REPO / "tests" / "data" / "linux_health" / "healthy_vm.json"
BOMB = "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['lol'] * 9)}]\n"
    for p, n in zip(["", "a", "b", "c", "d", "e", "f", "g"], "abcdefgh", strict=True)
)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def one_line_error(output: str, *names: str) -> None:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    for name in names:
        assert name in lines[0], output


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"disks": ' + "1" * 5000 + "}", "integer string conversion"),
        ("[" * 50_000 + "]" * 50_000, "nested too deep"),
        ("[" * 100 + "]" * 100, "nested more than 64 levels deep"),
        (BOMB, "alias bomb"),
        ("a: " + "[" * 100 + "]" * 100, "nested more than 64 levels deep"),
    ],
    ids=["huge-int", "recursion", "deep-json", "alias-bomb", "deep-yaml"],
)
def test_evaluate_refuses_hostile_input(tmp_path: Path, content: str, expected: str) -> None:
    file = tmp_path / "raw.json"
    file.write_text(content)
    code, output = run("evaluate", "linux_health", str(file))
    assert code == 2
    one_line_error(output, str(file), expected)


def test_evaluate_reads_at_most_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("runner.cli.core.MAX_EVALUATE_INPUT", 1024 * 1024)
    code, output = run("evaluate", "linux_health", "/dev/zero")
    assert code == 2
    one_line_error(output, "/dev/zero", "larger than the 1 MiB limit")


def test_evaluate_huge_threshold_names_the_option() -> None:
    code, output = run("evaluate", "linux_health", str(HEALTHY), "-t", "fs_warn_pct=" + "9" * 5000)
    assert code == 2
    one_line_error(output, "--threshold fs_warn_pct", "5000 digits")


def test_evaluate_reads_utf16_from_windows_powershell(tmp_path: Path) -> None:
    file = tmp_path / "raw.json"
    file.write_bytes(HEALTHY.read_text(encoding="utf-8").encode("utf-16"))
    code, output = run("evaluate", "linux_health", str(file), "--json")
    assert code in (0, 1), output
    assert '"control": "HEALTH-LNX-01"' in output


def test_lint_config_reads_at_most_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("runner.network.platforms.MAX_CONFIG_BYTES", 1024 * 1024)
    code, output = run("lint-config", "/dev/zero")
    assert code == 2
    one_line_error(output, "/dev/zero", "larger than the 1 MiB limit")


@pytest.mark.parametrize(
    "content", ['{"show running-config": ' + "1" * 5000 + "}", "{" + '"a":[' * 5000], ids=["int", "deep"]
)
def test_lint_config_refuses_hostile_json(tmp_path: Path, content: str) -> None:
    file = tmp_path / "session.json"
    file.write_text(content)
    code, output = run("lint-config", str(file))
    assert code == 2
    one_line_error(output, str(file), "looks like JSON but is not")


def test_ledger_verify_unknown_client(make_client: MakeClient) -> None:
    make_client("acme")
    code, output = run("ledger", "verify", "nosuchclient")
    assert code == 2
    one_line_error(output, "no client 'nosuchclient'", "clients: acme")
    code, output = run("ledger", "verify", "acme")
    assert code == 0 and "no ledger rows for client acme yet" in output


def test_safe_loader_limits() -> None:
    with pytest.raises(safeyaml.DuplicateKeyError, match=r"duplicate key 'b' on line 3 \(first on line 2\)"):
        safeyaml.load("a:\n  b: 1\n  b: 2\n")
    with pytest.raises(safeyaml.YAMLLimitError, match="recursive"):
        safeyaml.load("a: &x {b: *x}\n")
    with pytest.raises(safeyaml.BadScalarError, match="an integer of more than 100 digits"):
        safeyaml.load("a: 0x" + "f" * 200 + "\n")
    with pytest.raises(safeyaml.TooLargeError):
        safeyaml.load("a: " + "x" * safeyaml.MAX_BYTES)
    assert safeyaml.load("a: &x {p: 1}\nb: *x\nc:\n  <<: *x\n  q: 2\n") == {
        "a": {"p": 1},
        "b": {"p": 1},
        "c": {"p": 1, "q": 2},
    }
    assert isinstance(safeyaml.load("a: !unsafe '{{ x }}'\n")["a"], safeyaml.UnsafeText)
    assert isinstance(safeyaml.load("a: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n")["a"], safeyaml.VaultValue)
