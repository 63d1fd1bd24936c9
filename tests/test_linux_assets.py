"""Linux asset facts: the parser on recorded module outputs, its refusals, the evaluator, the action plugin.

The recordings (tests/data/linux_assets/README.md) are real outputs of ``maint.core.linux_asset_facts`` on a
Debian 12 machine and the Molecule container, and a Rocky Linux 9 VMware guest written from the documented
formats. Values are asserted one by one; an output not understood is an error row, never a pass.
"""

from __future__ import annotations

import ast
import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner.assets import facts as facts_mod
from runner.assets import linux, parsers
from runner.assets.facts import AssetFactsError
from runner.evaluators import evaluate
from runner.evaluators.assets import judge
from tests.conftest import PLUGINS, REPO, run_playbook

DATA = REPO / "tests" / "data" / "linux_assets"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return data


def cmd(command: str, stdout: str, rc: int | None = 0, stderr: str = "") -> dict[str, Any]:
    return {"command": command, "rc": rc, "stdout": stdout, "stderr": stderr, "truncated": False}


# ---------------------------------------------------------------- recordings


def test_real_debian12_host() -> None:
    raw = load("real_debian12_host")
    facts = parsers.parse("linux", raw)
    assert facts["hostname"] == "vm"
    assert "fqdn" not in facts and "domain" not in facts  # hostname -f says "vm", getfqdn "localhost"
    assert facts["os"] == {
        "name": "Debian GNU/Linux",
        "version": "12",
        "kernel": "6.18.44-fc-v1045",
        "arch": "x86_64",
    }
    hw = facts["hardware"]
    assert hw == {
        "virtualisation": "container:docker",  # systemd-detect-virt printed "docker"
        "cpu_model": "AMD EPYC",
        "cpu_count": 2,
        "ram_bytes": 24683584 * 1024,
    }  # no dmidecode and no /sys/class/dmi/id: no vendor, model or serial (left out, not guessed)
    assert [i["name"] for i in facts["interfaces"]] == ["eth0", "ifb0", "ifb1"]  # lo left out
    assert facts["interfaces"][0] == {
        "name": "eth0",
        "mac": "02:fc:00:00:00:01",
        "ips": ["192.0.2.2", "fd00::2", "fe80::fc:ff:fe00:1"],
    }
    assert facts["disks"] == [{"name": "vda", "size_bytes": 274877906944}]  # zram0 (size 0) left out
    # /proc, /sys, /dev, cgroups, /dev/shm, /run/netns: none is storage of the host
    assert facts["filesystems"] == [
        {"mount": "/", "fstype": "ext4", "device": "/dev/vda", "size_bytes": 270553174016}
    ]
    installed = [
        line for line in raw["commands"]["dpkg"]["stdout"].splitlines() if line.split("\t")[2][1] == "i"
    ]
    assert facts["software_count"] == len(installed) == 859
    assert {"name": "adduser", "version": "3.134"} in facts["software"]
    assert facts["services_listening"] == [
        {"proto": "tcp", "address": "0.0.0.0", "port": 2024},  # another user's socket: no process name
        {"proto": "tcp", "address": "127.0.0.1", "port": 5432, "process": "postgres"},
    ]
    assert facts["last_boot"] == "2026-12-01T09:46:41Z"  # btime 1796118401
    assert facts["last_upgrade"] == "2026-12-01T18:23:41Z"  # the last "upgrade" line of dpkg.log (UTC host)


def test_real_debian12_container() -> None:
    raw = load("real_debian12_container")
    facts = parsers.parse("linux", raw)
    assert facts["os"]["name"] == "Debian GNU/Linux"
    assert facts["os"]["version"] == "12"
    assert facts["hardware"]["virtualisation"] == "container:podman"
    assert raw["privileged"] is True
    assert facts["hostname"] == "maint-linux_assets"
    installed = [
        line for line in raw["commands"]["dpkg"]["stdout"].splitlines() if line.split("\t")[2][1] == "i"
    ]
    assert facts["software_count"] == len(facts["software"]) == len(installed) == 121
    assert facts["disks"] == []  # lsblk sees no block device inside the container
    assert "iproute2" in {s["name"] for s in facts["software"]}
    assert [f["mount"] for f in facts["filesystems"]] == ["/"]
    assert facts["filesystems"][0]["fstype"] == "overlay"
    assert [i["name"] for i in facts["interfaces"]] == ["eth0"]
    listening = [s for s in facts["services_listening"] if s["port"] == 8089]
    assert listening == [{"proto": "tcp", "address": "127.0.0.1", "port": 8089, "process": "python3"}]


def test_rocky9_vmware_guest_written_from_the_documented_formats() -> None:
    facts = parsers.parse("linux", load("rocky9_vmware_root"))
    assert facts["hostname"] == "db01"  # the node name was the FQDN
    assert facts["fqdn"] == "db01.acme.internal"
    assert facts["domain"] == "acme.internal"
    assert facts["os"] == {
        "name": "Rocky Linux",
        "version": "9.4",
        "kernel": "5.14.0-427.22.1.el9_4.x86_64",
        "arch": "x86_64",
    }
    assert facts["hardware"] == {
        "vendor": "VMware, Inc.",
        "model": "VMware7,1",
        "serial": "VMware-42 0a 1b 2c 3d 4e 5f 60-71 82 93 a4 b5 c6 d7 e8",  # dmidecode as root
        "bios_version": "VMW71.00V.21805430.B64.2305221830",
        "virtualisation": "vmware",
        "cpu_model": "Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz",
        "cpu_count": 4,
        "ram_bytes": 8032812 * 1024,
    }
    assert facts["interfaces"] == [
        {
            "name": "ens192",
            "mac": "00:50:56:8a:1b:2c",
            "ips": ["10.20.0.9", "10.20.0.15", "fe80::250:56ff:fe8a:1b2c"],
        },
        {"name": "ens224", "mac": "00:50:56:8a:7e:01", "ips": []},
    ]
    assert facts["disks"] == [  # sr0 is a rom, not a disk; the model's padding stripped
        {
            "name": "nvme0n1",
            "size_bytes": 536870912000,
            "model": "VMware Virtual NVMe Disk",
            "serial": "VMware NVME_0000",
        },
        {
            "name": "sda",
            "size_bytes": 107374182400,
            "model": "Virtual disk",
            "serial": "6000c29a3b4f1e2d8c7b6a5f4e3d2c1b",
        },
    ]
    assert [(f["mount"], f["fstype"]) for f in facts["filesystems"]] == [
        ("/", "xfs"),
        ("/boot", "xfs"),
        ("/boot/efi", "vfat"),
        ("/home", "xfs"),
        ("/mnt/backup", "nfs4"),
        ("/var/lib/pgsql", "xfs"),
    ]  # /run, /dev/shm (tmpfs) and the bind mount /srv/pgdump (/dev/nvme0n1[/pgdump]) left out
    names = [(s["name"], s["version"]) for s in facts["software"]]
    assert ("gpg-pubkey", "350d275d-6279464b") not in names  # an imported key, not software
    assert ("glibc", "2.34-100.el9_4.2.i686") in names and ("glibc", "2.34-100.el9_4.2.x86_64") in names
    assert ("shadow-utils", "2:4.9-8.el9.x86_64") in names  # the epoch kept
    assert ("python3-setuptools-wheel", "53.0.0-12.el9") in names  # noarch: no arch suffix
    assert {
        "name": "zabbix-agent2",
        "version": "6.0.30-release1.el9.x86_64",
        "publisher": "Zabbix LLC",
    } in facts["software"]
    assert facts["software_count"] == 9
    assert facts["services_listening"][:3] == [
        {"proto": "tcp", "address": "0.0.0.0", "port": 22, "process": "sshd"},
        {"proto": "tcp", "address": "::", "port": 22, "process": "sshd"},
        {"proto": "tcp", "address": "127.0.0.1", "port": 5432, "process": "postmaster"},
    ]
    assert {"proto": "tcp", "address": "*", "port": 10050, "process": "zabbix_agent2"} in facts[
        "services_listening"
    ]
    assert [s["proto"] for s in facts["services_listening"]].count("udp") == 2
    assert facts["last_boot"] == "2025-11-16T02:00:00Z"  # btime 1763258400
    assert facts["last_upgrade"] == "2024-06-25T08:43:20Z"  # rpm: the newest install time (kernel)


@pytest.mark.parametrize("name", ["real_debian12_host", "real_debian12_container", "rocky9_vmware_root"])
def test_facts_are_the_same_whatever_order_the_tools_print(name: str) -> None:
    raw = load(name)
    shuffled = copy.deepcopy(raw)
    rng = random.Random(14)
    for key, top in (("ip_addr", None), ("lsblk", "blockdevices")):
        data = json.loads(shuffled["commands"][key]["stdout"])
        rng.shuffle(data if top is None else data[top])
        shuffled["commands"][key]["stdout"] = json.dumps(data)
    for key in ("dpkg", "rpm", "ss"):
        if key in shuffled["commands"]:
            lines = shuffled["commands"][key]["stdout"].splitlines()
            rng.shuffle(lines)
            shuffled["commands"][key]["stdout"] = "\n".join(lines) + "\n"
    a, b = parsers.parse("linux", raw), parsers.parse("linux", shuffled)
    assert a == b
    assert facts_mod.content_hash("linux", a) == facts_mod.content_hash("linux", b)
    for key in ("interfaces", "disks", "filesystems", "software"):
        assert a[key] == sorted(a[key], key=lambda e: tuple(str(v) for v in e.values())), key


def test_a_whole_module_result_is_unwrapped() -> None:
    raw = load("rocky9_vmware_root")
    assert parsers.parse("linux", {"changed": False, "linux_assets": raw}) == parsers.parse("linux", raw)


# ---------------------------------------------------------------- fallbacks: a missing tool, facts left out


def test_unprivileged_without_tools_uses_sysfs_and_markers() -> None:
    raw = load("rocky9_vmware_root")
    raw["privileged"] = False
    for name in [k for k in raw["commands"] if k.startswith("dmidecode_")]:
        del raw["commands"][name]
    raw["commands"]["ip_addr"] = {"missing": "ip"}
    raw["commands"]["ss"] = {"missing": "ss"}
    raw["commands"]["detect_virt"] = {"missing": "systemd-detect-virt"}
    raw["files"]["/run/.containerenv"] = ""
    raw["commands"]["findmnt"] = cmd("/usr/bin/findmnt -J -b -o TARGET,FSTYPE,SOURCE,SIZE", "", rc=None)
    raw["commands"]["findmnt"]["stderr"] = "timed out after 30s"
    with pytest.raises(AssetFactsError, match=r"findmnt.*did not run.*timed out"):
        parsers.parse("linux", raw)
    raw["commands"]["findmnt"] = {"missing": "findmnt"}
    raw["commands"]["df"] = cmd(
        "/usr/bin/df -P -T -B1",
        "Filesystem          Type     1-blocks        Used   Available Capacity Mounted on\n"
        "/dev/mapper/rl-root xfs   75125227520 12000000000 63125227520      17% /\n"
        "tmpfs               tmpfs  1645314048     1000000  1644314048       1% /run\n"
        "/dev/sda1           xfs    1006632960   300000000   706632960      30% /boot\n",
    )
    facts = parsers.parse("linux", raw)
    # /sys/class/dmi/id: vendor, model, BIOS; product_serial is root-only (null): no serial
    assert facts["hardware"]["vendor"] == "VMware, Inc."
    assert facts["hardware"]["model"] == "VMware7,1"
    assert "serial" not in facts["hardware"]
    assert facts["hardware"]["virtualisation"] == "container:podman"
    assert facts["interfaces"] == [  # /sys/class/net: names and MACs, no addresses
        {"name": "ens192", "mac": "00:50:56:8a:1b:2c"},
        {"name": "ens224", "mac": "00:50:56:8a:7e:01"},
    ]
    assert "services_listening" not in facts
    assert facts["filesystems"] == [
        {"mount": "/", "fstype": "xfs", "device": "/dev/mapper/rl-root", "size_bytes": 75125227520},
        {"mount": "/boot", "fstype": "xfs", "device": "/dev/sda1", "size_bytes": 1006632960},
    ]


def test_optional_sources_that_time_out_leave_their_facts_out() -> None:
    raw = load("rocky9_vmware_root")
    hung = {"rc": None, "stdout": "", "stderr": "timed out after 30s", "truncated": False}
    raw["commands"]["hostname_f"] = {"command": "/usr/bin/hostname -f", **hung}  # DNS that never answers
    raw["commands"]["detect_virt"] = {"command": "/usr/bin/systemd-detect-virt", **hung}
    raw["getfqdn"] = None
    facts = parsers.parse("linux", raw)
    assert "fqdn" not in facts and "virtualisation" not in facts["hardware"]
    raw["getfqdn"] = "db01.acme.internal"
    assert parsers.parse("linux", raw)["fqdn"] == "db01.acme.internal"


def test_old_util_linux_prints_sizes_as_strings_and_dmi_placeholders_are_dropped() -> None:
    raw = load("rocky9_vmware_root")
    lsblk = json.loads(raw["commands"]["lsblk"]["stdout"])
    for dev in lsblk["blockdevices"]:
        dev["size"] = str(dev["size"])
    raw["commands"]["lsblk"]["stdout"] = json.dumps(lsblk)
    raw["commands"]["dmidecode_system-serial-number"]["stdout"] = "To Be Filled By O.E.M.\n"
    facts = parsers.parse("linux", raw)
    assert facts["disks"][1]["size_bytes"] == 107374182400
    assert "serial" not in facts["hardware"]


def test_apt_history_when_dpkg_log_has_no_upgrade_in_local_time() -> None:
    raw = load("real_debian12_host")
    raw["files"]["/var/log/dpkg.log:upgrade"] = ""
    raw["files"]["/var/log/apt/history.log"] = (
        "Start-Date: 2026-11-03  10:15:02\nCommandline: apt-get -y upgrade\n"
        "Upgrade: tzdata:all (2024a-0+deb12u1, 2025b-0+deb12u1)\nEnd-Date: 2026-11-03  10:15:09\n\n"
        "Start-Date: 2026-11-20  09:00:00\nCommandline: apt-get install -y jq\nInstall: jq:amd64 (1.6-2.1)\n"
        "End-Date: 2026-11-20  09:00:03\n"
    )
    raw["utc_offset_seconds"] = 3600
    facts = parsers.parse("linux", raw)
    assert facts["last_upgrade"] == "2026-11-03T09:15:02Z"  # the entry with Upgrade:, not the later install
    raw["files"]["/var/log/apt/history.log"] = None
    assert "last_upgrade" not in parsers.parse("linux", raw)


# ---------------------------------------------------------------- not understood: an error naming the part


def _broken(change: Any) -> dict[str, Any]:
    raw = load("rocky9_vmware_root")
    change(raw)
    return raw


BROKEN = {
    "os-release missing": (
        lambda r: r["files"].update({"/etc/os-release": None}),
        r"/etc/os-release: missing",
    ),
    "os-release garbled": (
        lambda r: r["files"].update({"/etc/os-release": "NAME=Rocky\n<html>502 Bad Gateway</html>\n"}),
        r"/etc/os-release: line 2 is not KEY=value",
    ),
    "os-release unbalanced quotes": (
        lambda r: r["files"].update({"/etc/os-release": 'NAME="Rocky\n'}),
        r"/etc/os-release: line 1 has unbalanced quotes",
    ),
    "os-release without a name": (
        lambda r: r["files"].update({"/etc/os-release": "VERSION_ID=9\n"}),
        r"/etc/os-release: neither NAME nor ID",
    ),
    "lsblk not JSON": (
        lambda r: r["commands"]["lsblk"].update({"stdout": "NAME SIZE TYPE\nsda 100G disk\n"}),
        r"lsblk .*: output is not JSON",
    ),
    "findmnt other JSON": (
        lambda r: r["commands"]["findmnt"].update({"stdout": '{"mounts": []}'}),
        r"findmnt .*: JSON without a 'filesystems' list",
    ),
    "a size that is no number": (
        lambda r: r["commands"]["lsblk"].update(
            {"stdout": '{"blockdevices": [{"name": "sda", "type": "disk", "size": "100G"}]}'}
        ),
        r"lsblk -J -b: sda: size '100G'",
    ),
    "package list truncated": (
        lambda r: r["commands"]["rpm"].update({"truncated": True}),
        r"^rpm -qa: output truncated",
    ),
    "package manager failed": (
        lambda r: r["commands"]["rpm"].update(
            {"rc": 1, "stderr": "error: rpmdb: BDB0113 Thread/process failed\n"}
        ),
        r"^rpm -qa: exit 1 \(error: rpmdb",
    ),
    "rpm line of another query format": (
        lambda r: r["commands"]["rpm"].update({"stdout": "bash-5.1.8-9.el9.x86_64\n"}),
        r"rpm -qa: line 1 not understood",
    ),
    "ss garbled": (
        lambda r: r["commands"]["ss"].update({"stdout": "State Recv-Q Send-Q Local Address:Port\n"}),
        r"ss -H -tulnp: line 1 not understood",
    ),
    "cpuinfo without processors": (
        lambda r: r["files"].update({"/proc/cpuinfo": "garbage\n"}),
        r"/proc/cpuinfo: no 'processor' line",
    ),
    "meminfo without MemTotal": (
        lambda r: r["files"].update({"/proc/meminfo": "MemFree: 1 kB\n"}),
        r"/proc/meminfo: no 'MemTotal",
    ),
    "virt answer not understood": (
        lambda r: r["commands"]["detect_virt"].update({"stdout": "", "rc": 2}),
        r"systemd-detect-virt: not understood",
    ),
    "an address that is none": (
        lambda r: r["commands"]["ip_addr"].update(
            {"stdout": '[{"ifname": "eth0", "link_type": "ether", "addr_info": [{"local": "10.0.0.300"}]}]'}
        ),
        r"ip -j addr: eth0: '10.0.0.300' is not an IP address",
    ),
    "not Linux": (lambda r: r.update({"system": "SunOS"}), r"linux_assets.system: 'SunOS' is not Linux"),
    "another schema": (lambda r: r.update({"schema": 2}), r"linux_assets.schema: 2, this parser reads 1"),
    "no commands": (lambda r: r.pop("commands"), r"linux_assets.commands: missing"),
    "no node name": (lambda r: r.update({"nodename": ""}), r"linux_assets.nodename: missing or empty"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_output_not_understood_is_an_error_naming_the_part(case: str) -> None:
    change, message = BROKEN[case]
    raw = _broken(change)
    with pytest.raises(AssetFactsError, match=message):
        parsers.parse("linux", raw)
    facts, finding = judge("linux", raw)
    assert facts is None
    assert finding.control == "ASSET-LNX-01"
    assert finding.status == "error"
    assert finding.evidence["platform"] == "linux"
    assert finding.evidence["error"] == str(_error_of(raw))
    assert finding.remediation  # the catalogue's: read the error, fix the host, run again


def _error_of(raw: dict[str, Any]) -> AssetFactsError:
    try:
        parsers.parse("linux", raw)
    except AssetFactsError as exc:
        return exc
    raise AssertionError("parsed")


def test_not_a_mapping_and_not_linux_platform() -> None:
    with pytest.raises(AssetFactsError, match="linux_assets: an object, not list"):
        parsers.parse("linux", [])  # type: ignore[arg-type]
    with pytest.raises(AssetFactsError, match="reads linux only"):
        linux.parse("windows", load("rocky9_vmware_root"))


# ---------------------------------------------------------------- the evaluator (maint evaluate)


def test_evaluator_passes_with_a_summary_and_errors_on_garbage() -> None:
    [finding] = evaluate("linux_assets", load("rocky9_vmware_root"))
    assert finding.control == "ASSET-LNX-01"
    assert finding.status == "pass"
    assert finding.severity == "low" and finding.domain == "inventory"
    assert finding.title == "Hardware and software inventory recorded"
    assert finding.remediation == ""
    assert finding.evidence == {
        "hostname": "db01",
        "os": "Rocky Linux 9.4",
        "counts": {"disks": 2, "filesystems": 6, "software": 9, "interfaces": 2, "services_listening": 7},
        "collected": [
            "disks", "domain", "filesystems", "fqdn", "hardware", "hostname", "interfaces", "last_boot",
            "last_upgrade", "os", "services_listening", "software", "software_count",
        ],
    }  # fmt: skip
    [bad] = evaluate("linux_assets", {"schema": 1})
    assert bad.status == "error"
    assert bad.evidence["error"] == "linux_assets.system: None is not Linux"


def test_maint_evaluate_cli_on_a_saved_output(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from runner.cli import app

    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps({"changed": False, "linux_assets": load("real_debian12_host")}))
    result = CliRunner().invoke(app, ["evaluate", "linux_assets", str(saved), "--json"])
    assert result.exit_code == 0, result.output
    assert '"ASSET-LNX-01"' in result.output and '"pass"' in result.output


# ---------------------------------------------------------------- the role and the plugin in a playbook

PLAYBOOK = """
- name: Assets
  hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  roles:
    - role: linux_assets
  tasks:
    - name: Output not understood
      maint.core.maint_assets:
        platform: linux
        data: {schema: 1, system: Linux, nodename: web01, commands: {}, files: {"/etc/os-release": "<html>"}}
    - name: A platform maint_assets does not record
      maint.core.maint_assets:
        platform: cisco_ios
        data: {}
      ignore_errors: true
"""


ROLE_TASK = "linux_assets : ASSET-LNX-01 | AUDIT | Collect and record asset facts"


@pytest.fixture(scope="module")
def play(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    work = tmp_path_factory.mktemp("assets-play")
    (work / "play.yml").write_text(PLAYBOOK)
    proc = run_playbook(work, "-i", "localhost,", "-c", "local", str(work / "play.yml"), timeout=180)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    out: dict[str, dict[str, Any]] = {}
    for task in json.loads(proc.stdout)["plays"][0]["tasks"]:
        out[task["task"]["name"]] = task["hosts"]["localhost"]
    return out


def test_role_records_this_machines_facts_and_one_pass(play: dict[str, dict[str, Any]]) -> None:
    """One task collects on the host and records on the controller (maint_audit, kind assets:linux)."""
    assert [name for name in play if name.startswith("linux_assets : ")] == [ROLE_TASK]
    res = play[ROLE_TASK]
    assert res["changed"] is False and not res.get("failed")
    raw = res["linux_assets"]
    assert res["maint_assets"]["platform"] == "linux"
    assert res["maint_assets"]["host"] == "localhost"
    assert res["maint_assets"]["facts"] == parsers.parse("linux", raw)  # what the CLI would parse
    fields = linux.os_release_fields(raw["files"]["/etc/os-release"], "/etc/os-release")
    assert res["maint_assets"]["facts"]["os"]["version"] == fields["VERSION_ID"]
    [row] = res["maint_results"]
    assert (row["control"], row["status"], row["host"], row["role"]) == (
        "ASSET-LNX-01",
        "pass",
        "localhost",
        "linux_assets",
    )
    assert row["evidence"]["counts"]["software"] == res["maint_assets"]["facts"]["software_count"] > 0
    assert res["maint_summary"]["pass"] == 1
    assert res["msg"] == "linux assets: 1 pass"


def test_plugin_output_not_understood_is_an_error_row_and_no_facts(play: dict[str, dict[str, Any]]) -> None:
    res = play["Output not understood"]
    assert not res.get("failed")
    assert "maint_assets" not in res
    [row] = res["maint_results"]
    assert row["control"] == "ASSET-LNX-01" and row["status"] == "error"
    assert row["evidence"]["error"] == "/etc/os-release: line 1 is not KEY=value: '<html>'"
    assert row["role"] == "linux_assets"  # outside the role: the platform's role


def test_plugin_refuses_a_platform_it_does_not_record(play: dict[str, dict[str, Any]]) -> None:
    res = play["A platform maint_assets does not record"]
    assert res["failed"] is True
    assert "cisco_ios" in res["msg"] and "linux" in res["msg"]


@pytest.mark.parametrize("name", ["linux_asset_facts", "maint_assets"])
def test_module_documentation_is_yaml_and_names_every_option(name: str) -> None:
    """ansible-doc reads DOCUMENTATION, EXAMPLES and RETURN as YAML; the options are the argument spec's."""
    tree = ast.parse((PLUGINS / "modules" / f"{name}.py").read_text())
    docs = {
        node.targets[0].id: yaml.safe_load(node.value.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id in ("DOCUMENTATION", "EXAMPLES", "RETURN")
        and isinstance(node.value, ast.Constant)
    }
    assert set(docs) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}
    assert docs["DOCUMENTATION"]["module"] == name
    options = set(docs["DOCUMENTATION"]["options"])
    if name == "maint_assets":
        from ansible_collections.maint.core.plugins.action.maint_assets import ARGUMENT_SPEC

        assert options == set(ARGUMENT_SPEC) == {"platform", "data"}
        assert docs["DOCUMENTATION"]["options"]["platform"]["choices"] == ARGUMENT_SPEC["platform"]["choices"]
    else:
        assert options == {"command_timeout"}
