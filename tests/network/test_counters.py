"""Interface error counters (HEALTH-NET-01): the parser on real recorded outputs of each platform's counters
command (``tests/data/corpus/interface_counters/``, ntc-templates' test recordings, listed in SOURCES.md),
garbled and refused outputs, the ``network_counters`` evaluator and its thresholds, ``maint evaluate``, and
real netmiko sessions against the simulators (the command sent after the configuration and the facts, in
the same session) up to HEALTH-NET-01 rows from the ``network_config`` action plugin in a real playbook.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from maint_devtools import simulator as sim
from runner import evaluators
from runner.cli import app
from runner.evaluators import EvaluatorError
from runner.network import driver
from runner.network.counters import CountersError, InterfaceCounters, parse_counters
from runner.network.evaluator import review_overrides
from runner.network.fetch import fetch_device
from runner.results import Status
from tests.conftest import CORPUS, run_playbook
from tests.network.conftest import target

DATA = CORPUS / "interface_counters"
KIND = "network_counters"


def read(name: str) -> str:
    return (DATA / name).read_text()


def counters(platform: str, name: str) -> dict[str, InterfaceCounters]:
    return parse_counters(platform, str(driver(platform).counters_command), read(name))


def judge(raw: dict[str, Any], thresholds: dict[str, Any] | None = None) -> Any:
    (finding,) = evaluators.evaluate(KIND, raw, thresholds)
    return finding


# ---------------------------------------------------------------- the parser on recorded outputs


def test_every_platform_has_a_counters_command_and_a_recording_its_simulator_serves() -> None:
    for platform in sim.DRIVERS:
        command = driver(platform).counters_command
        assert command, platform
        served = sim.DeviceProfile.default(platform).outputs[command]
        found = parse_counters(platform, command, served.read_text())
        assert found, platform


def test_ios_counts_crc_input_and_output_errors_per_interface() -> None:
    found = counters("cisco_ios", "ntc_cisco_ios_show_interfaces2.txt")
    assert len(found) == 56  # every interface of the Catalyst access switch
    assert found["FastEthernet1/0/29"].as_dict() == {"crc": 14167, "input_errors": 28898, "output_errors": 0}
    assert found["FastEthernet1/0/29"].total == 28898  # CRC errors are among the input errors
    assert found["FastEthernet1/0/28"].as_dict() == {"crc": 1, "input_errors": 2, "output_errors": 0}
    assert found["FastEthernet1/0/1"].total == 1
    assert sum(1 for c in found.values() if c.total) == 6


def test_ios_interface_without_counters_is_left_out() -> None:
    found = counters("cisco_ios", "ntc_cisco_ios_show_interfaces5.txt")
    # Port-channel1.13 (a sub-interface) prints no counters: not a zero, not there
    assert list(found) == ["Port-channel1"]
    assert found["Port-channel1"].as_dict() == {"crc": 21419, "input_errors": 179928, "output_errors": 0}


def test_ios_svi_output_errors_line_without_collisions_is_read() -> None:
    # "0 output errors, 0 interface resets" (an SVI) is not in the ntc template's pattern
    found = counters("cisco_ios", "ntc_cisco_ios_show_interfaces.txt")
    assert found["Vlan1"].as_dict() == {"crc": 0, "input_errors": 0, "output_errors": 0}
    assert "Loopback0" in found and len(found) == 8


def test_aoscx_statistics_table_and_the_older_rx_tx_format() -> None:
    new = counters("aruba_aoscx", "ntc_aruba_aoscx_show_interface3.txt")
    assert list(new) == ["1/1/1", "1/1/2", "1/1/5", "1/1/49", "1/1/50"]  # vlan1: no statistics
    assert new["1/1/2"].as_dict() == {"crc": 0, "input_errors": 0, "output_errors": 0}
    old = counters("aruba_aoscx", "ntc_aruba_aoscx_show_interface.txt")
    assert len(old) == 16 and all(c.input_errors == 0 and c.output_errors == 0 for c in old.values())


def test_aoss_port_counters_table_has_receive_errors_only() -> None:
    found = counters("aruba_aoss", "ntc_hp_procurve_show_interfaces_no_bcast_limit.txt")
    assert list(found)[:3] == ["1", "2", "3"] and len(found) == 52
    # the table prints no CRC and no transmit errors: unknown (None), never 0
    assert found["1"].as_dict() == {"crc": None, "input_errors": 0, "output_errors": None}


def test_fortios_ifconfig_every_interface() -> None:
    found = counters("fortios", "ntc_fortinet_fnsysctl_ifconfig.txt")
    assert len(found) == 11 and {"wan", "lan", "lan1", "ssl.root"} <= set(found)
    assert found["wan"].as_dict() == {"crc": None, "input_errors": 0, "output_errors": 0}
    assert len(counters("fortios", "ntc_fortinet_fnsysctl_ifconfig_v6.0.txt")) == 14


@pytest.mark.parametrize(
    ("platform", "output", "words"),
    [
        # a counter no switch prints (the recording's port 4 "67,00")
        ("aruba_aoss", read("ntc_hp_procurve_show_interfaces.txt"), "4: counter '67,00' is not a number"),
        # a line the strict template does not know, in the middle of an interface
        (
            "aruba_aoscx",
            read("ntc_aruba_aoscx_show_interface3.txt").replace(" MTU 1500", " ~~ garbled ~~", 1),
            "output not understood",
        ),
        (
            "fortios",
            read("ntc_fortinet_fnsysctl_ifconfig.txt").replace("collisions:0", "coll#sions:0", 1),
            "output not understood",
        ),
        # an IOS interface whose input errors line is cut off
        (
            "cisco_ios",
            read("ntc_cisco_ios_show_interfaces2.txt").replace("     1 input errors, 0 CRC", "     1 inp", 1),
            "input or output errors missing",
        ),
        ("cisco_ios", "noise\n" * 40, "no interface with error counters"),
        ("aruba_aoss", read("ntc_fortinet_fnsysctl_ifconfig.txt"), "no 'Port Counters' table"),
        ("fortios", "", "empty output"),
        ("cisco_ios", "show interfacez\n        ^\n% Invalid input detected at '^' marker.\n", "refused"),
        ("aruba_aoss", "Invalid input: interfaces\n", "refused by the device: Invalid input: interfaces"),
        ("fortios", "command parse error before 'ifconfig'\nCommand fail. Return code -61\n", "refused"),
    ],
)
def test_garbled_or_refused_output_is_not_understood(platform: str, output: str, words: str) -> None:
    command = str(driver(platform).counters_command)
    with pytest.raises(CountersError, match="^" + command) as caught:
        parse_counters(platform, command, output)
    assert words in str(caught.value)


# ---------------------------------------------------------------- the evaluator


def test_counted_device_passes_with_error_counts_for_the_trend() -> None:
    finding = judge({"platform": "cisco_ios", "output": read("ntc_cisco_ios_show_interfaces.txt")})
    assert finding.control == "HEALTH-NET-01" and finding.status is Status.PASS
    ev = finding.evidence
    assert ev["command"] == "show interfaces" and ev["interfaces_counted"] == 8 and ev["total_errors"] == 0
    assert set(ev["error_counts"]) == set(ev["interfaces"]) and ev["error_counts"]["Vlan1"] == 0
    assert ev["interfaces"]["Vlan1"] == {"crc": 0, "input_errors": 0, "output_errors": 0}
    assert finding.remediation == ""


def test_interface_over_the_threshold_warns_naming_it() -> None:
    raw = {"platform": "cisco_ios", "output": read("ntc_cisco_ios_show_interfaces2.txt")}
    finding = judge(raw)
    assert finding.status is Status.WARN
    ev = finding.evidence
    assert ev["interface_errors_warn"] == 1000 and ev["over_threshold"] == ["FastEthernet1/0/29"]
    # IOS counts CRC inside input errors: 28898 input (14167 of them CRC) + 0 output, CRC not added again
    assert list(ev["error_counts"].items())[:2] == [("FastEthernet1/0/29", 28898), ("FastEthernet1/0/28", 2)]
    assert ev["total_errors"] == 28898 + 2 + 4 * 1 and len(ev["error_counts"]) == 56
    assert len(ev["interfaces"]) == 50 and ev["interfaces_left_out"] == 6  # details capped, most errors first
    assert "clear counters" in finding.remediation
    assert judge(raw, {"interface_errors_warn": 50_000}).status is Status.PASS
    assert judge(raw, {"interface_errors_warn": 2}).evidence["over_threshold"] == [
        "FastEthernet1/0/29",
        "FastEthernet1/0/28",
    ]


def test_ports_in_natural_order() -> None:
    finding = judge(
        {"platform": "aruba_aoss", "output": read("ntc_hp_procurve_show_interfaces_no_bcast_limit.txt")}
    )
    assert list(finding.evidence["error_counts"])[:11] == [str(n) for n in range(1, 12)]


def test_no_output_or_garbled_output_is_not_checked_with_the_reason() -> None:
    refused = judge(
        {"platform": "aruba_aoss", "error": "'show interfaces' refused by the device: Invalid input"}
    )
    assert refused.status is Status.NOT_CHECKED
    assert refused.evidence == {
        "reason": "interface counters not collected: 'show interfaces' refused by the device: Invalid input",
        "command": "show interfaces",
    }
    garbled = judge({"platform": "aruba_aoss", "output": read("ntc_hp_procurve_show_interfaces.txt")})
    assert garbled.status is Status.NOT_CHECKED
    assert garbled.evidence["reason"].startswith("interface counters not understood: show interfaces: 4: ")


def test_disabled_control_gives_no_finding() -> None:
    raw = {"platform": "fortios", "output": read("ntc_fortinet_fnsysctl_ifconfig.txt")}
    assert evaluators.evaluate(KIND, raw, {"disabled": ["HEALTH-NET-01"]}) == []


@pytest.mark.parametrize(
    ("raw", "thresholds", "words"),
    [
        ({"output": "x"}, None, 'expects {"platform"'),
        ({"platform": "junos", "output": "x"}, None, "unknown platform 'junos'"),
        ({"platform": "fortios"}, None, 'neither "output" nor "error"'),
        ({"platform": "fortios", "output": "x"}, {"interface_errors_warn": 0}, "integer >= 1"),
        ({"platform": "fortios", "output": "x"}, {"interface_errors_warn": "many"}, "integer >= 1"),
    ],
)
def test_bad_raw_or_thresholds_are_refused(raw: Any, thresholds: Any, words: str) -> None:
    with pytest.raises(EvaluatorError, match=words):
        evaluators.evaluate(KIND, raw, thresholds)


def test_review_overrides_leave_the_counters_thresholds_out() -> None:
    given = {"disabled": ["HEALTH-NET-01", "NET-IOS-02"], "params": {}, "interface_errors_warn": 5}
    assert review_overrides(given) == {"disabled": ["NET-IOS-02"], "params": {}}
    assert review_overrides({"nonsense": 1}) == {"nonsense": 1}  # the review still refuses what nobody knows


def test_maint_evaluate_judges_a_saved_output(tmp_path: Path) -> None:
    file = tmp_path / "counters.json"
    file.write_text(
        json.dumps({"platform": "cisco_ios", "output": read("ntc_cisco_ios_show_interfaces2.txt")})
    )
    result = CliRunner().invoke(app, ["evaluate", KIND, str(file), "--json"], catch_exceptions=False)
    (finding,) = json.loads(result.output)
    assert (finding["control"], finding["status"], result.exit_code) == ("HEALTH-NET-01", "warn", 1)
    result = CliRunner().invoke(
        app,
        ["evaluate", KIND, str(file), "--json", "-t", "interface_errors_warn=100000"],
        catch_exceptions=False,
    )
    assert json.loads(result.output)[0]["status"] == "pass" and result.exit_code == 0


# ---------------------------------------------------------------- real sessions against the simulators


@pytest.mark.integration
@pytest.mark.parametrize("platform", list(sim.DRIVERS))
def test_counters_command_in_the_configuration_session(
    platform: str, sims: dict[str, sim.Simulator], known_hosts: Path
) -> None:
    fetched = fetch_device(target(sims[platform], known_hosts, read_timeout=5.0))
    assert fetched.facts_missing is None and fetched.counters_missing is None
    command = str(driver(platform).counters_command)
    served = sim.DeviceProfile.default(platform).outputs[command].read_text()
    assert fetched.counters is not None
    assert [ln.rstrip() for ln in fetched.counters.strip("\n").splitlines()] == [
        ln.rstrip() for ln in served.strip("\n").splitlines()
    ]
    assert judge({"platform": platform, "output": fetched.counters}).status is Status.PASS
    assert "counters=" not in repr(fetched)  # the output stays out of the repr, like the configuration


@pytest.mark.integration
def test_refused_counters_command_keeps_config_and_facts(tmp_path: Path) -> None:
    profile = dataclasses.replace(
        sim.DeviceProfile.default("aruba_aoss"), refused=frozenset({"show interfaces"})
    )
    with sim.running([("sw", profile, 0)]) as sims:
        known = sim.write_known_hosts(tmp_path / "known_hosts", list(sims.values()))
        fetched = fetch_device(target(sims["sw"], known, read_timeout=5.0))
    assert fetched.config.strip() and fetched.facts_missing is None
    assert list(fetched.facts) == list(driver("aruba_aoss").facts_commands)
    assert fetched.counters is None
    assert (
        fetched.counters_missing == "'show interfaces' refused by the device: Invalid input: show interfaces"
    )


@pytest.mark.integration
def test_counters_sent_after_a_refused_facts_command(tmp_path: Path) -> None:
    profile = dataclasses.replace(
        sim.DeviceProfile.default("aruba_aoscx"), refused=frozenset({"show system"})
    )
    with sim.running([("cx", profile, 0)]) as sims:
        known = sim.write_known_hosts(tmp_path / "known_hosts", list(sims.values()))
        fetched = fetch_device(target(sims["cx"], known, read_timeout=5.0))
    assert fetched.facts == {} and fetched.facts_missing is not None
    assert (
        fetched.counters_missing is None and fetched.counters and "Interface 1/1/2 is up" in fetched.counters
    )


PLAYBOOK = """\
- name: Network configuration and interface counters
  hosts: all
  gather_facts: false
  tasks:
    - name: Review
      maint.core.network_config:
        platform: "{{ network_config_platform }}"
        known_hosts: "{{ network_config_known_hosts | default(omit) }}"
        thresholds: "{{ counters_thresholds | default({}) }}"
        store_snapshot: false
        conn_timeout: 5
        read_timeout: 10
"""


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    """One playbook over simulated devices: each platform's recorded one, an IOS switch serving the
    recording with errors (default and raised threshold), one refusing the counters command, one down."""
    work = tmp_path_factory.mktemp("counters")
    ios = sim.DeviceProfile.default("cisco_ios")
    errors = dataclasses.replace(
        ios, outputs={**ios.outputs, "show interfaces": DATA / "ntc_cisco_ios_show_interfaces2.txt"}
    )
    refusing = dataclasses.replace(
        sim.DeviceProfile.default("fortios"), refused=frozenset({"fnsysctl ifconfig"})
    )
    profiles = [(f"live-{p}", sim.DeviceProfile.default(p), 0) for p in sim.DRIVERS]
    profiles += [("errors-ios", errors, 0), ("errors-ios-raised", errors, 0), ("refusing-fgt", refusing, 0)]
    with sim.running(profiles) as sims:
        known_hosts = sim.write_known_hosts(work / "known_hosts", list(sims.values()))
        hosts: dict[str, dict[str, Any]] = {}
        for name, s in sims.items():
            hosts[name] = {
                "network_config_platform": s.profile.platform,
                "ansible_host": s.host,
                "ansible_port": s.port,
                "ansible_user": sim.DEMO_USER,
                "ansible_password": sim.DEMO_PASSWORD,
                "ansible_become_password": sim.DEMO_ENABLE,
                "network_config_known_hosts": str(known_hosts),
            }
        hosts["errors-ios-raised"]["counters_thresholds"] = {"interface_errors_warn": 50000, "disabled": []}
        down = sims["live-cisco_ios"]
        hosts["down-ios"] = {**hosts["live-cisco_ios"], "ansible_port": _closed_port(down.host)}
        inventory = {"all": {"hosts": hosts, "vars": {"ansible_connection": "local"}}}
        (work / "inventory.json").write_text(json.dumps(inventory))
        (work / "play.yml").write_text(PLAYBOOK)
        proc = run_playbook(work, "-i", str(work / "inventory.json"), str(work / "play.yml"), timeout=300)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    (task,) = json.loads(proc.stdout)["plays"][0]["tasks"]
    yield dict(task["hosts"])


def _closed_port(host: str) -> int:
    import socket

    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])  # closed again when the block ends: connection refused


def _row(result: dict[str, Any]) -> dict[str, Any]:
    (row,) = [r for r in result["maint_results"] if r["control"] == "HEALTH-NET-01"]
    return row


@pytest.mark.integration
@pytest.mark.parametrize("platform", list(sim.DRIVERS))
def test_playbook_counts_every_recorded_device(played: dict[str, dict[str, Any]], platform: str) -> None:
    result = played[f"live-{platform}"]
    row = _row(result)
    assert row["status"] == "pass" and row["role"] == "network_config" and row["host"] == f"live-{platform}"
    served = sim.DeviceProfile.default(platform).outputs[str(driver(platform).counters_command)]
    expected = parse_counters(platform, str(driver(platform).counters_command), served.read_text())
    assert row["evidence"]["error_counts"] == {name: c.total for name, c in expected.items()}
    assert row["evidence"]["interfaces_counted"] == len(expected)
    others = [r for r in result["maint_results"] if r["control"] != "HEALTH-NET-01"]
    assert others and all(r["control"].startswith(driver(platform).control_prefix) for r in others)
    assert result["network_config_assets"] == {"recorded": True}


@pytest.mark.integration
def test_playbook_warns_on_the_interface_with_errors_and_honours_the_threshold(
    played: dict[str, dict[str, Any]],
) -> None:
    row = _row(played["errors-ios"])
    assert row["status"] == "warn" and row["evidence"]["over_threshold"] == ["FastEthernet1/0/29"]
    assert row["evidence"]["error_counts"]["FastEthernet1/0/29"] == 28898
    assert row["evidence"]["interfaces"]["FastEthernet1/0/29"] == {
        "crc": 14167,
        "input_errors": 28898,
        "output_errors": 0,
    }
    raised = _row(played["errors-ios-raised"])
    assert raised["status"] == "pass" and raised["evidence"]["interface_errors_warn"] == 50000
    # the same review either way: the counters threshold is not the rule pack's
    assert {r["control"]: r["status"] for r in played["errors-ios"]["maint_results"] if r is not row} == {
        r["control"]: r["status"] for r in played["errors-ios-raised"]["maint_results"] if r is not raised
    }


@pytest.mark.integration
def test_playbook_refused_or_failed_fetch_is_not_checked_with_the_reason(
    played: dict[str, dict[str, Any]],
) -> None:
    refused = _row(played["refusing-fgt"])
    assert refused["status"] == "not_checked"
    assert refused["evidence"]["reason"] == (
        "interface counters not collected: 'fnsysctl ifconfig' refused by the device: "
        "Invalid input: fnsysctl ifconfig"
    )

    def review(host: str) -> dict[str, str]:
        return {
            r["control"]: r["status"]
            for r in played[host]["maint_results"]
            if r["control"] != "HEALTH-NET-01"
        }

    assert review("refusing-fgt") == review("live-fortios")  # reviewed all the same
    down = _row(played["down-ios"])
    assert down["status"] == "not_checked"
    assert (
        down["evidence"]["reason"]
        == "fetch failed: connection refused"  # the same words as every other row of the device
    )
