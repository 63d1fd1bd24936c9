"""Real netmiko sessions against faulty simulated devices: the right reason, and giving up in time.

Each fault runs on all four platforms at once (one simulator each, one thread each) and measures every
fetch from its start. The bounds are about correctness of giving up, not speed: a stalled device must
not be waited for twice (no logout on a dead channel), a dropped connection must be noticed when the
socket closes (well before the read timeout), and a device that talks without ever giving a prompt is
``unexpected output``, not ``timeout``. Margins are seconds wide so a loaded machine does not flake.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from maint_devtools import simulator
from runner.network.fetch import FetchError, FetchFailure, fetch_config
from tests.network.conftest import target

pytestmark = pytest.mark.integration

READ_TIMEOUT = 5.0
#: connecting and logging in on loopback takes about a second; four seconds of slack on top
GIVE_UP_WITHIN = READ_TIMEOUT + 4.0


def fetch_all(
    sims: dict[str, simulator.Simulator], known_hosts: Path, fault: simulator.Fault
) -> dict[str, tuple[FetchFailure | None, float]]:
    """Per platform: the failure reason (None: fetched) and the seconds the fetch took."""
    for s in sims.values():
        s.fault = fault

    def one(s: simulator.Simulator) -> tuple[FetchFailure | None, float]:
        start = time.monotonic()
        try:
            fetch_config(target(s, known_hosts, read_timeout=READ_TIMEOUT))
        except FetchError as exc:
            return exc.reason, time.monotonic() - start
        return None, time.monotonic() - start

    with ThreadPoolExecutor(max_workers=len(sims)) as pool:
        futures = {name: pool.submit(one, s) for name, s in sims.items()}
        return {name: f.result() for name, f in futures.items()}


def test_stalled_device_gives_up_once_within_the_read_timeout(
    sims: dict[str, simulator.Simulator], known_hosts: Path
) -> None:
    outcome = fetch_all(sims, known_hosts, simulator.Fault.STALL)
    assert {name: reason for name, (reason, _) in outcome.items()} == dict.fromkeys(
        sims, FetchFailure.TIMEOUT
    )
    # before: 2x the read timeout (3x on AOS-S) because the logout waited again on the dead channel
    slow = {name: round(took, 1) for name, (_, took) in outcome.items() if took >= GIVE_UP_WITHIN}
    assert slow == {}, f"gave up later than read timeout {READ_TIMEOUT}s + 4s"


def test_dropped_connection_is_noticed_when_the_socket_closes(
    sims: dict[str, simulator.Simulator], known_hosts: Path
) -> None:
    outcome = fetch_all(sims, known_hosts, simulator.Fault.DROP)
    assert {name: reason for name, (reason, _) in outcome.items()} == dict.fromkeys(
        sims, FetchFailure.DROPPED
    )
    # before: the closed channel read as "no data yet" until the whole read timeout had passed
    late = {name: round(took, 1) for name, (_, took) in outcome.items() if took >= READ_TIMEOUT}
    assert late == {}, f"the drop was noticed only after the read timeout ({READ_TIMEOUT}s)"


@pytest.mark.parametrize(
    "fault",
    [simulator.Fault.GARBAGE, simulator.Fault.NOISE],
    ids=["noise-instead-of-login", "noise-instead-of-config"],
)
def test_noise_without_a_prompt_is_unexpected_output(
    fault: simulator.Fault, sims: dict[str, simulator.Simulator], known_hosts: Path
) -> None:
    outcome = fetch_all(sims, known_hosts, fault)
    assert {name: reason for name, (reason, _) in outcome.items()} == dict.fromkeys(
        sims, FetchFailure.UNEXPECTED_OUTPUT
    )
    slow = {name: round(took, 1) for name, (_, took) in outcome.items() if took >= GIVE_UP_WITHIN}
    assert slow == {}, f"gave up later than read timeout {READ_TIMEOUT}s + 4s"


def test_silent_device_after_login_banner_is_a_timeout(
    sims: dict[str, simulator.Simulator], known_hosts: Path
) -> None:
    """A device that accepts the session and then says nothing more is a timeout, not unexpected output."""
    outcome = fetch_all(sims, known_hosts, simulator.Fault.SILENT)
    assert {name: reason for name, (reason, _) in outcome.items()} == dict.fromkeys(
        sims, FetchFailure.TIMEOUT
    )
    slow = {name: round(took, 1) for name, (_, took) in outcome.items() if took >= GIVE_UP_WITHIN}
    assert slow == {}, f"gave up later than read timeout {READ_TIMEOUT}s + 4s"


def test_a_healthy_fetch_after_faults_still_works(
    sims: dict[str, simulator.Simulator], known_hosts: Path
) -> None:
    fetch_all(sims, known_hosts, simulator.Fault.DROP)
    outcome = fetch_all(sims, known_hosts, simulator.Fault.NONE)
    assert {name: reason for name, (reason, _) in outcome.items()} == dict.fromkeys(sims)


def test_refused_enable_is_an_unexpected_prompt_not_a_timeout(
    sims: dict[str, simulator.Simulator], known_hosts: Path
) -> None:
    """The device answered at once with its user-mode prompt: nothing timed out."""
    with pytest.raises(FetchError) as caught:
        fetch_config(target(sims["cisco_ios"], known_hosts, secret="not-the-enable-secret"))
    assert caught.value.reason is FetchFailure.UNEXPECTED_PROMPT
    assert "not-the-enable-secret" not in str(caught.value)
