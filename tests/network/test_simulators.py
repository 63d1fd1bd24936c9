"""Real netmiko sessions to the device simulators, including every fault mode."""

from __future__ import annotations

import re
import socket
import threading
from pathlib import Path

import pytest
import yaml
from netmiko import ConnectHandler

from maint_devtools import simulator
from runner.network import driver
from runner.network.fetch import FetchError, FetchFailure, fetch_config
from tests.network.conftest import DATA, target

pytestmark = pytest.mark.integration

CASES = yaml.safe_load((DATA / "cases.yml").read_text())
ENC = re.compile(r"ENC \S+")


@pytest.mark.parametrize("platform", list(simulator.DRIVERS))
def test_netmiko_session_sets_up_and_reads_config_and_version(
    platform: str, sims: dict[str, simulator.Simulator], known_hosts: Path
) -> None:
    s = sims[platform]
    facts = driver(platform)
    conn = ConnectHandler(
        device_type=s.device_type,
        host=s.host,
        port=s.port,
        username=simulator.DEMO_USER,
        password=simulator.DEMO_PASSWORD,
        secret=simulator.DEMO_ENABLE,
        ssh_strict=True,
        system_host_keys=False,
        alt_host_keys=True,
        alt_key_file=str(known_hosts),
        read_timeout_override=5,
    )
    try:
        if not conn.check_enable_mode():
            conn.enable()
        assert conn.base_prompt.startswith(s.hostname()[:16])
        config = conn.send_command(facts.fetch_command)
        version = conn.send_command(facts.cli.version_commands[0])
    finally:
        conn.disconnect()
    served = s.config_text()
    assert isinstance(config, str) and isinstance(version, str)
    # paging was switched off by netmiko's set-up: the whole configuration, no --More-- marker
    assert "MORE" not in config.upper()
    assert ENC.sub("ENC x", config).strip().splitlines() == ENC.sub("ENC x", served).strip().splitlines()
    first_version_line = (simulator.SIM_DATA / platform / "version.txt").read_text().strip().splitlines()[0]
    assert first_version_line.strip() in version


def test_fortios_reencrypts_enc_values_on_every_show(
    sims: dict[str, simulator.Simulator], known_hosts: Path
) -> None:
    s = sims["fortios"]
    first, second = (fetch_config(target(s, known_hosts, read_timeout=5.0)) for _ in range(2))
    assert ENC.findall(first) and ENC.findall(first) != ENC.findall(second)
    assert ENC.sub("ENC x", first) == ENC.sub("ENC x", second)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['fault']}-{c['platform']}")
def test_fault_mode_gives_its_reason(
    case: dict[str, str], sims: dict[str, simulator.Simulator], known_hosts: Path
) -> None:
    s = sims[case["platform"]]
    s.fault = simulator.Fault(case["fault"])
    with pytest.raises(FetchError) as caught:
        fetch_config(target(s, known_hosts))
    assert caught.value.reason is FetchFailure(case["reason"])
    assert simulator.DEMO_PASSWORD not in str(caught.value)
    # the other devices carry on
    other = sims["cisco_ios" if case["platform"] != "cisco_ios" else "aruba_aoscx"]
    assert fetch_config(target(other, known_hosts, read_timeout=5.0))


def test_wrong_password_refused_port_and_unknown_host_key(
    sims: dict[str, simulator.Simulator], known_hosts: Path, tmp_path: Path
) -> None:
    s = sims["cisco_ios"]
    with pytest.raises(FetchError) as wrong:
        fetch_config(target(s, known_hosts, password="not-the-password"))
    assert wrong.value.reason is FetchFailure.AUTH_FAILED
    assert "not-the-password" not in str(wrong.value)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    closed_port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(FetchError) as refused:
        fetch_config(target(s, known_hosts, port=closed_port))
    assert refused.value.reason is FetchFailure.REFUSED

    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    with pytest.raises(FetchError) as untrusted:
        fetch_config(target(s, empty))
    assert untrusted.value.reason is FetchFailure.HOST_KEY


def test_simulator_stops_cleanly() -> None:
    before = set(threading.enumerate())
    with simulator.running() as sims:
        ports = [s.port for s in sims.values()]
        with socket.create_connection(("127.0.0.1", ports[0]), timeout=2) as conn:
            assert conn.recv(64).startswith(b"SSH-2.0-")
    for port in ports:
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert [t for t in threading.enumerate() if t not in before and t.is_alive()] == []
