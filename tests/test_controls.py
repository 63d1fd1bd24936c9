"""The control catalogue: the IDs a waiver may name are exactly the ones the code defines."""

from __future__ import annotations

import importlib.util

from runner import controls
from tests.conftest import PLUGINS, REPO


def test_catalogue_is_what_the_code_defines() -> None:
    defined = controls.defined_controls()
    missing, extra = sorted(defined - controls.CATALOGUE), sorted(controls.CATALOGUE - defined)
    assert not missing and not extra, f"update CATALOGUE in runner/controls.py: add {missing}, remove {extra}"


def test_runner_controls_are_where_they_say() -> None:
    from runner.due import SCHEDULE_CONTROL

    assert SCHEDULE_CONTROL.control in controls.RUNNER_CONTROLS
    assert '"MAINT-ROLE-01"' in (REPO / "runner" / "events.py").read_text()
    spec = importlib.util.spec_from_file_location("guard", PLUGINS / "action" / "maint_window_guard.py")
    assert spec is not None and spec.loader is not None
    guard = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(guard)
    assert guard.GUARD_CONTROL.control in controls.RUNNER_CONTROLS


def test_unknown_message_suggests_close_ids() -> None:
    assert "did you mean NET-IOS-04" in controls.unknown_message("NET-IOS-4")
    assert "known families:" in controls.unknown_message("ZZZ-QQQ-01")
