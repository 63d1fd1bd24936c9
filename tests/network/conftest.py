"""Fixtures of the network tests: simulators serving canary-planted copies of the recorded configurations."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from maint_devtools import simulator as sim
from runner.network import Platform
from runner.network.fetch import FetchTarget

DATA = Path(__file__).resolve().parent.parent / "data" / "network" / "sim"
CANARIES: dict[str, list[dict[str, str]]] = yaml.safe_load((DATA / "canaries.yml").read_text())
CANARY = re.compile(r"Canary[A-Za-z]+\d\d")


def canary_values() -> set[str]:
    return {m.group() for edits in CANARIES.values() for e in edits for m in CANARY.finditer(e["replace"])}


def plant(platform: str, text: str) -> str:
    for edit in CANARIES[platform]:
        text, count = re.subn(edit["find"], edit["replace"], text, count=1)
        assert count == 1, f"canary edit {edit['find']!r} found nothing in the {platform} configuration"
    return text


@pytest.fixture
def sim_configs(tmp_path: Path) -> dict[str, Path]:
    """Per platform: a copy of the recorded configuration with canary secrets planted."""
    out = {}
    for platform in sim.DRIVERS:
        path = tmp_path / "sim" / f"{platform}.cfg"
        path.parent.mkdir(exist_ok=True)
        shutil.copy(sim.SIM_DATA / platform / "running-config.txt", path)
        path.write_text(plant(platform, path.read_text()))
        out[platform] = path
    return out


@pytest.fixture
def sims(sim_configs: dict[str, Path]) -> Iterator[dict[str, sim.Simulator]]:
    before = set(threading.enumerate())
    profiles = [(p, sim.DeviceProfile.default(p, sim_configs[p]), 0) for p in sim.DRIVERS]
    with sim.running(profiles) as running:
        yield running
    leaked = [
        t for t in threading.enumerate() if t not in before and t.name.startswith("sim-") and t.is_alive()
    ]
    assert not leaked, f"simulator threads still running: {leaked}"


@pytest.fixture
def known_hosts(tmp_path: Path, sims: dict[str, sim.Simulator]) -> Path:
    """A known_hosts file trusting exactly the simulators' fresh host keys (strict checking stays on)."""
    return sim.write_known_hosts(tmp_path / "known_hosts", list(sims.values()))


def target(s: sim.Simulator, known_hosts: Path, **kw: object) -> FetchTarget:
    args: dict[str, object] = {
        "name": s.name,
        "platform": Platform(s.profile.platform),
        "host": s.host,
        "port": s.port,
        "username": sim.DEMO_USER,
        "password": sim.DEMO_PASSWORD,
        "secret": sim.DEMO_ENABLE,
        "conn_timeout": 3.0,
        "read_timeout": 1.5,
        "known_hosts": known_hosts,
    }
    args.update(kw)
    return FetchTarget(**args)  # type: ignore[arg-type]
