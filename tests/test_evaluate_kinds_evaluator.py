"""`maint evaluate`: its help lists the registered kinds, and an untrusted parse is never a pass."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from runner import evaluators
from runner.cli import app

DATA = Path(__file__).parent / "data"


def test_kinds_listed_without_import_are_the_registered_ones() -> None:
    assert tuple(sorted(evaluators.registry())) == evaluators.KINDS


def test_evaluate_help_lists_every_kind() -> None:
    result = CliRunner().invoke(app, ["evaluate", "--help"], env={"COLUMNS": "200", "TERM": "dumb"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for kind in evaluators.KINDS:
        assert kind in text, kind


def test_evaluate_apt_on_output_it_cannot_parse_exits_1_with_error_rows() -> None:
    """The issue's case: Inst lines without version brackets, summary "12 upgraded": never "no updates"."""
    result = CliRunner().invoke(
        app,
        ["evaluate", "--json", "apt", str(DATA / "linux_patching" / "apt_simulate_no_version_brackets.txt")],
    )
    assert result.exit_code == 1, result.output
    assert '"status": "error"' in result.output
    assert '"status": "pass"' not in result.output
    assert "apt's summary says 12" in result.output or "12 'Inst' line(s)" in result.output
