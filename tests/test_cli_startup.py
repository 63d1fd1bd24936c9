"""``maint --version``, ``--help`` and ``inventory validate`` start without loading what they do not use.

Start-up time (issue 10, section 7) is measured by bench/cli_startup.py; here each command runs in a fresh
interpreter and the test checks which heavy libraries ended up in ``sys.modules`` (no timing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

#: libraries none of the three commands needs: the job runner, the ledger, device access, encryption
NEVER = (
    "ansible_runner",
    "ansible",
    "sqlalchemy",
    "alembic",
    "netmiko",
    "paramiko",
    "cryptography",
    "winrm",
    "maint_devtools",  # the demo's simulator: imported only on the demo path
)
#: ... and what only validation or a command's work needs (the schema and its calendars, the ledger)
NOT_FOR_HELP = (
    "holidays",
    "croniter",
    "email_validator",
    "runner.inventory",
    "runner.ledger",
    "runner.results",
)

PROBE = """
import json, sys
from runner.cli import main
try:
    main(sys.argv[2:])
    code = 0
except SystemExit as exc:
    code = exc.code
with open(sys.argv[1], "w") as fh:
    json.dump({"code": code, "modules": sorted(sys.modules)}, fh)
"""


def _loaded(tmp_path: Path, *args: str) -> tuple[int, set[str]]:
    report = tmp_path / "modules.json"
    env = {
        **os.environ,
        "MAINT_INVENTORIES": str(REPO / "inventories"),
        "MAINT_VAR": str(tmp_path / "var"),
        "PYTHONPATH": str(REPO),
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(report), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert report.is_file(), result.stderr
    data = json.loads(report.read_text())
    return data["code"], set(data["modules"])


def _heavy(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_version_and_help_load_no_heavy_library(tmp_path: Path, args: list[str]) -> None:
    code, modules = _loaded(tmp_path, *args)
    assert code == 0
    assert _heavy(modules, (*NEVER, *NOT_FOR_HELP, "pydantic")) == []


@pytest.mark.parametrize(
    "args",
    [["run", "--help"], ["evaluate", "--help"], ["simulators", "--help"], ["inventory", "review", "--help"]],
)
def test_command_help_loads_no_heavy_library(tmp_path: Path, args: list[str]) -> None:
    """A command's own --help (typer itself uses pydantic to check a command's parameters)."""
    code, modules = _loaded(tmp_path, *args)
    assert code == 0
    assert _heavy(modules, NEVER + NOT_FOR_HELP) == []


def test_help_constants_agree_with_the_modules_they_stand_for() -> None:
    """The CLI keeps a few lists as data so --help loads nothing; they must equal the real ones."""
    from maint_devtools import simulator
    from runner.cli import lint_config, network, review
    from runner.inventory.review import DEFAULT_MAX_WAIVER_DAYS
    from runner.network import Platform

    assert ", ".join([*(p.value for p in Platform), "auto"]) == lint_config._PLATFORM_CHOICES
    assert tuple(simulator.DRIVERS) == network.SIM_PLATFORMS
    assert tuple(f.value for f in simulator.Fault) == network.SIM_FAULTS
    assert review.DEFAULT_MAX_WAIVER_DAYS == DEFAULT_MAX_WAIVER_DAYS


def test_inventory_validate_loads_no_runner_ledger_or_device_library(tmp_path: Path) -> None:
    code, modules = _loaded(tmp_path, "inventory", "validate")
    assert code == 0
    assert "runner.inventory.schema" in modules  # it did validate
    assert _heavy(modules, NEVER) == []
    # the demo client's Spanish (Catalan) holidays: one country's calendar, not the 250 the package has
    countries = [m for m in modules if m.startswith("holidays.countries.")]
    assert countries == ["holidays.countries.spain"], countries
