"""The IDs a waiver may name: the control catalogue's controls in use (tests/test_catalogue.py checks the
catalogue against what the code emits)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from runner import catalogue, controls
from tests.conftest import REPO


def test_known_controls_are_the_catalogues_in_use() -> None:
    cat = catalogue.load()
    in_use = {cid for cid, spec in cat.controls.items() if spec.retired is None}
    assert controls.known_controls() == in_use
    assert all(controls.is_known(cid) for cid in in_use)
    assert not controls.is_known("HEALTH-LNX-99")


def test_runner_controls_are_where_they_say() -> None:
    for control, path in catalogue.RUNNER_SOURCES.items():
        assert f'"{control}"' in (REPO / path).read_text(), (control, path)
        assert catalogue.load().control(control).role is None


def test_unknown_message_suggests_close_ids() -> None:
    assert "did you mean NET-IOS-04" in controls.unknown_message("NET-IOS-4")
    assert "known families:" in controls.unknown_message("ZZZ-QQQ-01")


def test_a_retired_control_is_not_known_and_says_what_replaced_it() -> None:
    assert not controls.is_known("HEALTH-LNX-03")
    message = controls.unknown_message("HEALTH-LNX-03")
    assert message.startswith("control 'HEALTH-LNX-03' was retired: merged into PATCH-LNX-04"), message


def test_is_known_reads_the_catalogue_without_importing_any_evaluator() -> None:
    """`maint inventory validate` checks every waiver: it must not pay for importing the evaluators."""
    probe = (
        "import json, sys\n"
        "from runner import controls\n"
        "assert controls.is_known('NET-IOS-04') and not controls.is_known('NOPE-01')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('runner.'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(result.stdout)
    assert "runner.catalogue" in loaded
    assert [m for m in loaded if m.startswith(("runner.evaluators", "runner.network"))] == []
