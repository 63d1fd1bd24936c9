"""One PlatformDriver per network platform: the registry is complete, the engines read only the drivers,
and the simulator (maint_devtools, outside the runtime package) is loaded only on the demo path."""

from __future__ import annotations

import dataclasses
import pkgutil
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from netmiko.ssh_dispatcher import CLASS_MAPPER

from maint_devtools import simulator
from runner.network import (
    NetworkConfigError,
    Platform,
    PlatformDriver,
    detect_platform,
    driver,
    drivers,
    mask,
    normalise,
    parse,
    rule_pack,
)
from runner.network import platforms as platforms_pkg
from runner.network.mask import Masker
from runner.network.normalise import Normaliser
from tests.conftest import REPO

NETWORK = REPO / "runner" / "network"
COLLECTION = REPO / "collections" / "ansible_collections" / "maint" / "core"
#: the modules that do the work; none of them may name a platform (that is the drivers' job)
ENGINES = (
    *(NETWORK / name for name in ("fetch.py", "mask.py", "normalise.py", "parse.py", "review.py")),
    *(NETWORK / name for name in ("evaluator.py", "snapshots.py", "drift.py", "__init__.py")),
    NETWORK / "platforms" / "__init__.py",
    NETWORK / "platforms" / "base.py",
    REPO / "maint_devtools" / "simulator.py",
    COLLECTION / "plugins" / "action" / "network_config.py",
)


def test_registry_has_one_driver_module_per_platform_and_nothing_else() -> None:
    modules = {m.name for m in pkgutil.iter_modules(platforms_pkg.__path__)} - {"base"}
    assert modules == {p.value for p in Platform}
    assert [d.platform for d in drivers()] == list(Platform)
    for platform in Platform:
        assert isinstance(driver(platform), PlatformDriver)
        assert driver(platform.value) is driver(platform) is platform.driver


def test_unknown_platform_is_one_clear_error_naming_the_known_ones() -> None:
    with pytest.raises(NetworkConfigError, match=r"unknown platform 'junos' \(known: cisco_ios, aruba_aoscx"):
        driver("junos")


@pytest.mark.parametrize("platform", list(Platform))
def test_each_driver_is_consistent_with_netmiko_its_rule_pack_and_its_recorded_device(
    platform: Platform,
) -> None:
    facts = driver(platform)
    assert facts.netmiko_device_type in CLASS_MAPPER
    assert facts.rule_pack == f"rules/{platform.value}.yml"
    pack = rule_pack(platform)
    assert pack.platform is platform
    assert all(rule.id.startswith(facts.control_prefix) for rule in pack.rules)
    assert facts.fetch_command == facts.config_commands[0]
    assert facts.cli.version_commands and "{h}" in facts.cli.prompt
    # the demo's recorded device of this platform exists and is recognised as this platform
    folder = simulator.SIM_DATA / platform.value
    for name in ("banner.txt", "version.txt", "running-config.txt"):
        assert (folder / name).is_file(), folder / name
    assert detect_platform((folder / "running-config.txt").read_text()) is platform
    if facts.reencrypted:
        assert re.compile(facts.reencrypted).groups >= 1


def test_control_prefixes_are_distinct() -> None:
    prefixes = [d.control_prefix for d in drivers()]
    assert len(set(prefixes)) == len(prefixes)
    assert not any(a != b and a.startswith(b) for a in prefixes for b in prefixes)


@pytest.mark.parametrize("path", ENGINES, ids=lambda p: str(p.relative_to(REPO)))
def test_engines_and_the_simulator_name_no_platform(path: Path) -> None:
    """Adding a platform is its driver module, a Platform member and a rule pack: no engine changes."""
    text = path.read_text()
    members = "|".join(p.name for p in Platform)
    assert not re.findall(rf"\bPlatform\.(?:{members})\b", text)
    if path.name != "__init__.py" or path.parent.name != "platforms":  # the registry itself names them
        values = "|".join(p.value for p in Platform)
        assert not re.findall(rf"[\"'](?:{values})[\"']", text)


def test_the_engines_read_the_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    """Swap the Cisco driver's normaliser, masker and structure: normalise, mask and parse follow it."""
    real = driver(Platform.CISCO_IOS)
    fake = dataclasses.replace(
        real,
        normaliser=Normaliser(drop=(r"^volatile ",)),
        masker=Masker(patterns=((r"^\s*set token (?P<s>\S+)", "secret"),)),
        structure="config_edit",
    )
    load = platforms_pkg._load
    monkeypatch.setattr(platforms_pkg, "_load", lambda p: fake if p is Platform.CISCO_IOS else load(p))
    text = "config system\n    set token s3cret\nvolatile 12:00\nend\n"
    assert normalise(Platform.CISCO_IOS, text) == "config system\n    set token s3cret\nend\n"
    assert mask(Platform.CISCO_IOS, text).splitlines()[1] == "    set token <masked>"
    (block,) = parse(Platform.CISCO_IOS, "config system\nset a 1\nend\n").children
    assert block.end_line == "end" and [c.key for c in block.children] == ["set a 1"]
    # the real driver is untouched and back once the patch is gone
    monkeypatch.undo()
    assert driver(Platform.CISCO_IOS) is real
    assert mask(Platform.CISCO_IOS, "enable secret 5 $1$abc\n") == "enable secret 5 <masked>\n"


def test_runtime_modules_do_not_import_the_simulator() -> None:
    probe = (
        "import sys, runner.cli, runner.cli.network, runner.network, runner.network.fetch, "
        "runner.network.evaluator, runner.network.snapshots; from runner.network import drivers; drivers(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'maint_devtools'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_distribution_ships_the_simulator_and_every_recording() -> None:
    """pyproject's package list and package-data carry maint_devtools and all of sim_data/."""
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "maint_devtools*" in setuptools["packages"]["find"]["include"]
    root = REPO / "maint_devtools"
    shipped = {p for pattern in setuptools["package-data"]["maint_devtools"] for p in root.glob(pattern)}
    recorded = {p for p in (root / "sim_data").rglob("*") if p.is_file()}
    assert recorded and recorded == shipped
