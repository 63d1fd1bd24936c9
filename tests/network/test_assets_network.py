"""Network asset facts: the facts commands in the configuration's SSH session, their parsing, the simulators.

The simulated devices serve real recorded outputs (``maint_devtools/sim_data/README.md``). Each platform gets
a real netmiko session against its simulator, in this process (``fetch_device``) and from the
``network_config`` action plugin in a real playbook: simulators started here (with canary secrets planted in
their configurations, one refusing ``show inventory``, one refusing ``show version``) and
``network_config_simulated`` hosts (one with ``network_config_simulated_config``).
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from maint_devtools import simulator as sim
from runner.assets import network
from runner.assets.facts import AssetFactsError
from runner.assets.parsers import parse
from runner.network import Platform, driver
from runner.network.fetch import fetch_config, fetch_device, refusal
from runner.network.review import rule_pack
from tests.conftest import CORPUS, run_playbook
from tests.network.conftest import canary_values, plant, target
from tests.network.test_access_rules import by_design

pytestmark = pytest.mark.integration

#: what each recorded device prints: hardware model (None: its facts commands do not print one), serial,
#: firmware
EXPECTED: dict[str, tuple[str | None, str, str]] = {
    "cisco_ios": ("ASR-920-24TZ-M", "CAT12345699", "16.8.1b"),
    "aruba_aoscx": ("JL762A 6300M 48G 4SFP56 BF Swch", "VN00000000", "FL.10.13.1101"),
    "aruba_aoss": (None, "CN93ABC3M1", "WC.16.09.0004"),
    "fortios": ("FortiGate-91G", "FGT91GTK00000000", "v7.4.7,build2731,250120 (GA.M)"),
}
REFUSING = {"refusing-ios": ("cisco_ios", "show inventory"), "refusing-aoss": ("aruba_aoss", "show version")}

PLAYBOOK = """\
- name: Network configuration and asset facts
  hosts: all
  gather_facts: false
  tasks:
    - name: Review
      maint.core.network_config:
        platform: "{{ network_config_platform }}"
        known_hosts: "{{ network_config_known_hosts | default(omit) }}"
        store_snapshot: false
        conn_timeout: 5
        read_timeout: 10
"""


def recorded(platform: str) -> dict[str, str]:
    """The recorded outputs of ``platform``'s facts commands, as its simulator serves them."""
    profile = sim.DeviceProfile.default(platform)
    out = {}
    for command in driver(platform).facts_commands:
        path = profile.outputs.get(command, profile.version_path)
        assert path is not None
        out[command] = path.read_text()
    return out


def assert_identity(facts: dict[str, Any], platform: str) -> None:
    model, serial, firmware = EXPECTED[platform]
    assert facts["hardware"].get("model") == model
    assert facts["hardware"]["serial"] == serial
    assert facts["os"]["firmware"] == firmware


# ---------------------------------------------------------------- one playbook over every kind of device


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, dict[str, Any]], str]]:
    """One playbook run; (host -> the network_config task's result, the whole stdout and stderr)."""
    work = tmp_path_factory.mktemp("netplay")
    configs = work / "configs"
    configs.mkdir()
    planted = {}
    for platform in sim.DRIVERS:
        planted[platform] = configs / f"{platform}.cfg"
        planted[platform].write_text(
            plant(platform, (sim.SIM_DATA / platform / "running-config.txt").read_text())
        )
    profiles = [(f"live-{p}", sim.DeviceProfile.default(p, planted[p]), 0) for p in sim.DRIVERS]
    for name, (platform, command) in REFUSING.items():
        profile = dataclasses.replace(
            sim.DeviceProfile.default(platform, planted[platform]), refused=frozenset({command})
        )
        profiles.append((name, profile, 0))
    edited = (sim.SIM_DATA / "cisco_ios" / "running-config.txt").read_text()
    assert "ip ssh version 2" not in edited
    (configs / "edited.cfg").write_text(edited.replace("\nhostname ", "\nip ssh version 2\nhostname ", 1))
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
        simulated: dict[str, dict[str, Any]] = {
            f"recorded-{p}": {"network_config_platform": p} for p in sim.DRIVERS
        }
        simulated["edited-ios"] = {
            "network_config_platform": "cisco_ios",
            "network_config_simulated_config": "configs/edited.cfg",  # relative to the inventory's folder
        }
        simulated["missing-ios"] = {
            "network_config_platform": "cisco_ios",
            "network_config_simulated_config": str(configs / "no-such.cfg"),
        }
        simulated["dir-ios"] = {
            "network_config_platform": "cisco_ios",
            "network_config_simulated_config": str(configs),
        }
        for values in simulated.values():
            values["network_config_simulated"] = True
        inventory = {"all": {"hosts": {**hosts, **simulated}, "vars": {"ansible_connection": "local"}}}
        (work / "inventory.json").write_text(json.dumps(inventory))
        (work / "play.yml").write_text(PLAYBOOK)
        proc = run_playbook(work, "-i", str(work / "inventory.json"), str(work / "play.yml"), timeout=300)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    report = json.loads(proc.stdout)
    (task,) = report["plays"][0]["tasks"]
    yield dict(task["hosts"]), proc.stdout + proc.stderr


def statuses(result: dict[str, Any]) -> dict[str, str]:
    return {row["control"]: row["status"] for row in result["maint_results"]}


def test_simulated_config_file_is_served_instead_of_the_recorded_one(
    played: tuple[dict[str, dict[str, Any]], str],
) -> None:
    results, _ = played
    recorded_ios, edited = statuses(results["recorded-cisco_ios"]), statuses(results["edited-ios"])
    assert recorded_ios["NET-IOS-02"] == "fail"  # the recording has no "ip ssh version 2"
    assert edited["NET-IOS-02"] == "pass"  # the edited file has it: that file is what was reviewed
    assert {c: s for c, s in recorded_ios.items() if c != "NET-IOS-02"} == {
        c: s for c, s in edited.items() if c != "NET-IOS-02"
    }
    assert (
        results["edited-ios"]["maint_assets"]["facts"]
        == results["recorded-cisco_ios"]["maint_assets"]["facts"]
    )


@pytest.mark.parametrize(("host", "words"), [("missing-ios", "No such file"), ("dir-ios", "is a directory")])
def test_unreadable_simulated_config_is_a_fetch_error_naming_the_path(
    played: tuple[dict[str, dict[str, Any]], str], host: str, words: str
) -> None:
    result = played[0][host]
    rows = [row for row in result["maint_results"] if row["control"].startswith("NET-")]
    ios_rules = [rule.id for rule in rule_pack(Platform.CISCO_IOS).rules]
    assert [row["control"] for row in rows] == ios_rules
    assert {row["status"] for row in rows} == {"not_checked"}
    for row in rows:
        assert row["evidence"]["reason"] == "fetch failed: configuration file unreadable"
        detail = row["evidence"]["detail"]
        assert detail.startswith("network_config_simulated_config: ") and words in detail
    assert ("no-such.cfg" if host == "missing-ios" else "configs") in rows[0]["evidence"]["detail"]
    assert "maint_assets" not in result
    assert result["network_config_assets"] == {"recorded": False, "reason": "the configuration fetch failed"}
    (counters,) = [row for row in result["maint_results"] if row["control"] == "HEALTH-NET-01"]
    # the same words as the device's other rows: what the run's outcome and the trend step read as not reached
    assert (counters["status"], counters["evidence"]["reason"]) == (
        "not_checked",
        "fetch failed: configuration file unreadable",
    )


@pytest.mark.parametrize("platform", list(sim.DRIVERS))
def test_playbook_records_facts_from_the_same_session(
    played: tuple[dict[str, dict[str, Any]], str], platform: str
) -> None:
    for host in (f"live-{platform}", f"recorded-{platform}"):
        result = played[0][host]
        rows = [r for r in result["maint_results"] if r["control"] != "HEALTH-NET-01"]
        assert rows and all(r["control"].startswith(driver(platform).control_prefix) for r in rows)
        # the configuration was reviewed (besides the security rules with nothing to judge here)
        assert {r["status"] for r in rows if not by_design(r)} <= {"pass", "fail", "warn"}, host
        # and the interface counters, from the same session (tests/network/test_counters.py)
        assert [r["status"] for r in result["maint_results"] if r["control"] == "HEALTH-NET-01"] == ["pass"]
        assert result["network_config_assets"] == {"recorded": True}
        assets = result["maint_assets"]
        assert (assets["platform"], assets["host"]) == (platform, host)
        assert_identity(assets["facts"], platform)


@pytest.mark.parametrize("host", list(REFUSING))
def test_refused_facts_command_keeps_the_review_and_records_no_facts(
    played: tuple[dict[str, dict[str, Any]], str], host: str
) -> None:
    results, output = played
    platform, command = REFUSING[host]
    result = results[host]
    assert "maint_assets" not in result
    assert statuses(result) == statuses(results[f"live-{platform}"])  # reviewed exactly as the other one
    reason = result["network_config_assets"]["reason"]
    assert reason.startswith(f"facts command failed: '{command}' refused by the device: ")
    assert "Invalid input" in reason
    assert f"{host}: no asset facts recorded" in " ".join(output.split())  # the warning


def test_no_result_holds_a_canary_or_the_configuration(played: tuple[dict[str, dict[str, Any]], str]) -> None:
    results, output = played
    canaries = canary_values()
    assert canaries and not {c for c in canaries if c in output}
    for name in (f"live-{p}" for p in sim.DRIVERS):
        facts = json.dumps(results[name]["maint_assets"])
        config = (sim.SIM_DATA / results[name]["maint_assets"]["platform"] / "running-config.txt").read_text()
        long_lines = [ln.strip() for ln in config.splitlines() if len(ln.strip()) > 30]
        assert long_lines and not [ln for ln in long_lines if ln in facts], name


# ---------------------------------------------------------------- fetch_device in this process


@pytest.mark.parametrize("platform", list(sim.DRIVERS))
def test_fetch_device_reads_config_then_facts_in_one_session(
    platform: str, sims: dict[str, sim.Simulator], known_hosts: Path
) -> None:
    s = sims[platform]
    fetched = fetch_device(target(s, known_hosts, read_timeout=5.0))
    assert fetched.facts_missing is None
    assert list(fetched.facts) == list(driver(platform).facts_commands)
    for command, served in recorded(platform).items():  # whole, unpaged, as recorded
        assert [ln.rstrip() for ln in fetched.facts[command].strip("\n").splitlines()] == [
            ln.rstrip() for ln in served.strip("\n").splitlines()
        ], command
    assert_identity(parse(platform, fetched.facts), platform)
    assert fetched.config.strip() and not [c for c in canary_values() if c in repr(fetched)]
    assert (
        fetch_config(target(s, known_hosts, read_timeout=5.0)).strip().splitlines()[:3]
        == (fetched.config.strip().splitlines()[:3])
    )


def test_fetch_device_refused_command_gives_config_and_no_facts(tmp_path: Path) -> None:
    # (not FortiOS: netmiko's own session set-up needs "get system status")
    profile = dataclasses.replace(
        sim.DeviceProfile.default("aruba_aoscx"), refused=frozenset({"show system"})
    )
    with sim.running([("cx", profile, 0)]) as sims:
        known = sim.write_known_hosts(tmp_path / "known_hosts", list(sims.values()))
        fetched = fetch_device(target(sims["cx"], known, read_timeout=5.0))
    assert "hostname sw-leaf-001" in fetched.config
    assert fetched.facts == {}  # the first command was refused: nothing after it was sent
    assert fetched.facts_missing == "'show system' refused by the device: Invalid input: show system"


@pytest.mark.parametrize(
    ("platform", "output", "line"),
    [
        (
            "cisco_ios",
            "show vtp status\n       ^\n% Invalid input detected at '^' marker.\n",
            "% Invalid input",
        ),
        ("cisco_ios", "% Incomplete command.\n", "% Incomplete command."),
        ("aruba_aoss", "Invalid input: modules\n", "Invalid input: modules"),
        ("fortios", "command parse error before 'statuz'\nCommand fail. Return code -61\n", "command parse"),
        ("fortios", "Unknown action 0\n", "Unknown action 0"),
        ("cisco_ios", (sim.SIM_DATA / "cisco_ios" / "version.txt").read_text(), None),
        ("fortios", (sim.SIM_DATA / "fortios" / "version.txt").read_text(), None),
    ],
)
def test_refusal_lines(platform: str, output: str, line: str | None) -> None:
    found = refusal(Platform(platform), output)
    assert (found is None) if line is None else (found is not None and found.startswith(line))


# ---------------------------------------------------------------- the parser


@pytest.mark.parametrize("platform", list(sim.DRIVERS))
def test_parser_on_each_recorded_device(platform: str) -> None:
    facts = parse(platform, recorded(platform))
    assert_identity(facts, platform)
    assert facts["hostname"]


def test_parser_facts_of_the_recorded_ios_device_in_full() -> None:
    facts = parse("cisco_ios", recorded("cisco_ios"))
    assert facts["os"] == {
        "name": "IOS-XE",
        "firmware": "16.8.1b",
        "version": "16.8.1b",
        "image": "bootflash:/asr920-universalk9_npe.16.08.01b.SPA.bin",
    }
    # 20 weeks, 1 day, 1 hour, 40 minutes; "System restarted at 12:47:37 UTC Mon Jun 17 2024"
    assert facts["uptime_seconds"] == ((20 * 7 + 1) * 24 + 1) * 3600 + 40 * 60
    assert facts["last_boot"] == "2024-06-17T12:47:37Z"
    assert [i["pid"] for i in facts["inventory"]] == [
        "ASR-920-24TZ-M",
        "ASR-920-PWR-D",
        "ASR-920-PWR-D",
        "ASR-920-FAN-F",
    ]
    assert facts["inventory"][0] == {
        "name": "Chassis",
        "descr": "Cisco ASR920 Series - 24GE Copper and 4-10GE - Modular PSU",
        "pid": "ASR-920-24TZ-M",
        "serial": "abcdefgh",
    }


def test_parser_reads_bios_image_and_uptime_of_the_arubas() -> None:
    cx = parse("aruba_aoscx", recorded("aruba_aoscx"))
    assert (cx["os"]["image"], cx["hardware"]["bios_version"], cx["hardware"]["vendor"]) == (
        "primary",
        "FL.01.0007",
        "Aruba",
    )
    assert cx["uptime_seconds"] == ((40 * 7 + 4) * 24 + 22) * 3600 + 32 * 60
    aoss = parse("aruba_aoss", recorded("aruba_aoss"))
    assert (aoss["hostname"], aoss["os"]["version"], aoss["uptime_seconds"]) == (
        "2930f-to-be-rolledback2",
        "16.09.0004",
        7200,
    )
    assert "model" not in aoss["hardware"] and "last_boot" not in aoss  # not printed: not guessed


INVENTORY = (sim.SIM_DATA / "cisco_ios" / "commands" / "show_inventory.txt").read_text()


@pytest.mark.parametrize(
    ("name", "model", "serial", "firmware", "uptime"),
    [
        ("ntc_cisco_ios_show_version.txt", "WS-C4948E", "CAT1451S15C", "12.2(54)SG1", None),
        ("ntc_cisco_ios_show_version1.txt", "WS-C3850-48U", "FOC11111111", "03.06.05E", None),
        ("ntc_cisco_ios_show_version3.txt", "IOSv", "991UCMIHG4UAJ1J010CQG", "15.8(3)M2", None),
        ("ntc_cisco_ios_show_version4.txt", "C9500-40X", "FCW2233FFG3", "16.9.3", None),
        ("napalm_ios_show_version.txt", "CSR1000V", "9F61EQ6Z828", "15.4(3)S4", 44 * 60),
        ("napalm_ios_show_version_c2950.txt", "WS-C2950T-48-SI", "FHK0922W0JC", "12.1(22)EA13", None),
    ],
)
def test_parser_on_recorded_ios_show_versions(
    name: str, model: str, serial: str, firmware: str, uptime: int | None
) -> None:
    facts = parse(
        "cisco_ios",
        {"show version": (CORPUS / "show_version" / name).read_text(), "show inventory": INVENTORY},
    )
    assert (facts["hardware"]["model"], facts["hardware"]["serial"], facts["os"]["firmware"]) == (
        model,
        serial,
        firmware,
    )
    assert "last_boot" not in facts or facts["last_boot"].endswith("Z")
    if uptime is not None:
        assert facts["uptime_seconds"] == uptime


@pytest.mark.parametrize(
    ("name", "model", "serial", "version"),
    [
        ("ntc_fortinet_get_system_status.txt", "FortiGate-1500D", "FG1K501234567890", "6.0.7"),
        ("ntc_fortinet_get_system_status_6.2.txt", "FortiGate-600E", "FG6H0Exxxxxxxxx", "6.2.6"),
        ("ntc_fortinet_get_system_status_7.0_eval.txt", "FortiGate-VM64-KVM", "FGVMEVOPFL1ZDRD7", "7.0.3"),
        ("ntc_fortinet_get_system_status_7.4.8.txt", "FortiGate-60F", "FGT60ABC3303F26X", "7.4.8"),
        ("ntc_fortinet_get_system_status_7.4.txt", "FortiGate-60E-POE", "FG60EPTK19010019", "7.4.1"),
    ],
)
def test_parser_on_recorded_fortios_statuses(name: str, model: str, serial: str, version: str) -> None:
    facts = parse("fortios", {"get system status": (CORPUS / "show_version" / name).read_text()})
    assert (facts["hardware"]["model"], facts["hardware"]["serial"], facts["os"]["version"]) == (
        model,
        serial,
        version,
    )


@pytest.mark.parametrize(
    ("name", "serials"),
    [
        ("ntc_hp_procurve_show_system.txt", ["AB12CDE3FG"]),
        ("ntc_hp_procurve_show_system2.txt", ["AB12CDE3FH", "AB34CDE5GJ"]),
        ("ntc_hp_procurve_show_system3.txt", ["SN0000003A", "SN0000004A", "SN0000005A"]),
    ],
)
def test_aoss_show_system_template_on_recorded_outputs(name: str, serials: list[str]) -> None:
    command = "show system information"
    rows = network._rows(
        "aruba_aoss_show_system", command, {command: (CORPUS / "show_version" / name).read_text()}
    )
    assert [r["SERIAL"] for r in rows] == serials


def test_aoss_stack_members_are_its_inventory() -> None:
    command = "show system information"
    system = (CORPUS / "show_version" / "ntc_hp_procurve_show_system2.txt").read_text()
    version = recorded("aruba_aoss")["show version"].replace("WC.16.09.0004", "WC.16.11.0027")
    facts = parse("aruba_aoss", {command: system, "show version": version})
    assert facts["inventory"] == [
        {"name": "member 1", "serial": "AB12CDE3FH"},
        {"name": "member 2", "serial": "AB34CDE5GJ"},
    ]
    assert facts["hardware"]["serial"] == "AB12CDE3FH"


def _noise() -> str:
    rng = random.Random(14)
    return (
        "\n".join("".join(rng.choice("abcdefghij klmnop:=-%#") for _ in range(60)) for _ in range(30)) + "\n"
    )


def _garbled(platform: str) -> list[tuple[str, dict[str, Any], str]]:
    """(case, raw, the command the error must name) for each way one output can be wrong."""
    good = recorded(platform)
    config = (sim.SIM_DATA / platform / "running-config.txt").read_text()
    cases: list[tuple[str, dict[str, Any], str]] = []
    for command, text in good.items():
        lines = text.splitlines(keepends=True)
        variants: dict[str, Any] = {
            "noise": _noise(),
            "configuration": config,
            "truncated": "".join(lines[:1]),
            "empty": "",
            "refusal": "Invalid input: " + command + "\n",
            "not text": ["show", "version"],
        }
        for case, bad in variants.items():
            cases.append((f"{command}: {case}", {**good, command: bad}, command))
        cases.append((f"{command}: missing", {k: v for k, v in good.items() if k != command}, command))
    return cases


@pytest.mark.parametrize(
    ("platform", "case", "raw", "command"),
    [(p, case, raw, command) for p in sim.DRIVERS for case, raw, command in _garbled(p)],
    ids=lambda v: v if isinstance(v, str) and len(v) < 60 else "",
)
def test_garbled_output_is_an_error_never_facts(
    platform: str, case: str, raw: dict[str, Any], command: str
) -> None:
    with pytest.raises(AssetFactsError) as caught:
        parse(platform, raw)
    assert str(caught.value).startswith(f"{command}: ") or command in str(caught.value), case


def test_mismatched_outputs_of_two_devices_are_refused() -> None:
    cx = recorded("aruba_aoscx")
    cx["show system"] = (CORPUS / "show_version" / "ntc_aruba_aoscx_show_system5.txt").read_text()
    with pytest.raises(
        AssetFactsError, match=r"show version: version FL\.10\.13\.1101 is not show system's PL\.10\.15\.1030"
    ):
        parse("aruba_aoscx", cx)


def test_unknown_platform_is_refused() -> None:
    with pytest.raises(AssetFactsError, match="not a network platform"):
        network.parse("linux", {})
