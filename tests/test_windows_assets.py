"""Windows asset facts: the windows_assets collector's recorded outputs parsed into facts, values asserted.

No Windows host can be reached here: the outputs in tests/data/windows/assets/ are written from the documented
object shapes (its README.md gives the sources) in two encodings, the one the collector prints on every
shell (ISO 8601 UTC dates, enum names) and the Windows PowerShell 5.1 one (``\\/Date(ms)\\/``, enum
numbers, one-element collections flattened), which must give the same facts. Output not understood is an
AssetFactsError naming the probe and field, and so an ASSET-WIN-01 ``error`` row without facts, never a
pass. maint_assets runs in a real playbook on the controller with win_powershell-shaped results (the role's
own maint_audit task runs over WinRM in tests/test_windows_winrm.py).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner import catalogue, evaluators
from runner.assets import parsers, windows
from runner.assets.facts import AssetFactsError, content_hash, validate
from runner.assets.store import latest, record_observations
from runner.evaluators.assets import judge
from runner.events import RunContext, from_event
from runner.ledger import Ledger, RunRecord
from tests.conftest import REPO, run_playbook
from tests.powershell_static import syntax_problems

DATA = REPO / "tests" / "data" / "windows" / "assets"
ROLE = REPO / "roles" / "windows_assets"
SCRIPT = ROLE / "files" / "collect_assets.ps1"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return data


def facts_of(raw: Any) -> dict[str, Any]:
    return parsers.parse("windows", raw)


def error_of(raw: Any) -> str:
    with pytest.raises(AssetFactsError) as info:
        facts_of(raw)
    return str(info.value)


# ---------------------------------------------------------------- recorded outputs, values asserted


def test_domain_server_with_veeam() -> None:
    facts = facts_of(load("ps7_domain_server_veeam"))
    assert facts["hostname"] == "SRV-BK01"
    assert (facts["domain"], facts["fqdn"]) == ("corp.acme.example", "SRV-BK01.corp.acme.example")
    assert "workgroup" not in facts
    assert facts["os"] == {
        "name": "Microsoft Windows Server 2022 Standard",
        "version": "10.0.20348",
        "edition": "ServerStandard",
        "release": "21H2",
        "build": "20348.2849",  # BuildNumber.UBR: the patch level
        "arch": "x86_64",  # OSArchitecture "64-bit", named as Linux names it
        "install_date": "2023-03-14T10:22:05Z",
    }
    assert facts["hardware"] == {
        "vendor": "Dell Inc.",
        "model": "PowerEdge R740",
        "virtualisation": "none",
        "serial": "7XK2M93",
        "bios_version": "2.19.1",
        "cpu_model": "Intel(R) Xeon(R) Silver 4210R CPU @ 2.40GHz",  # two sockets, one model
        "cpu_count": 40,
        "ram_bytes": 137089556480,
    }
    # sorted by disk number whatever order CIM gave them, the \\.\ prefix dropped
    assert facts["disks"] == [
        {
            "name": "PHYSICALDRIVE0",
            "size_bytes": 479559942144,
            "model": "DELL PERC H740P Mini SCSI Disk Device",
            "serial": "0012a4f3c5b6d7e82a00ef6b3f60d04e",
        },
        {
            "name": "PHYSICALDRIVE1",
            "size_bytes": 15997734789120,
            "model": "DELL PERC H740P Mini SCSI Disk Device",
            "serial": "00e91c2d4e5f6a7b2b00ef6b3f60d04e",
        },
    ]
    assert facts["filesystems"] == [
        {"mount": "C:", "fstype": "NTFS", "size_bytes": 478948061184},
        {"mount": "E:", "fstype": "ReFS", "size_bytes": 15997196386304},
    ]
    assert facts["interfaces"] == [
        {
            "name": "Broadcom NetXtreme Gigabit Ethernet",
            "mac": "b0:7b:25:1a:2c:3d",
            "ips": ["10.20.0.15", "fe80::4d1c:2a3b:9e0f:1a2b"],
        }
    ]
    # 10 uninstall entries, one registered twice: 9 programs, sorted by name, the trailing blank trimmed
    assert facts["software_count"] == len(facts["software"]) == 9
    names = [p["name"] for p in facts["software"]]
    assert names == sorted(names, key=str.casefold)
    assert {
        "name": "PostgreSQL 15",
        "version": "15.6-1",
        "publisher": "PostgreSQL Global Development Group",
    } in (facts["software"])
    # the console and transport are Veeam programs but not a backup server: one product
    assert facts["products"] == {
        "antivirus": ["Microsoft Defender Antivirus"],
        "backup": ["Veeam Backup & Replication"],
    }
    listening = facts["services_listening"]
    assert listening[:2] == [
        {"proto": "tcp", "address": "0.0.0.0", "port": 135, "process": "svchost"},
        {"proto": "tcp", "address": "::", "port": 135, "process": "svchost"},
    ]
    assert {
        "proto": "tcp",
        "address": "0.0.0.0",
        "port": 9392,
        "process": "Veeam.Backup.Service",
    } in listening
    assert {"proto": "tcp", "address": "0.0.0.0", "port": 49665} in listening  # process gone: no name guessed
    assert [r["port"] for r in listening] == sorted(r["port"] for r in listening)
    assert facts["last_boot"] == "2026-11-12T03:05:41Z"
    assert facts["last_upgrade"] == "2026-11-13T00:00:00Z"  # InstalledOn is a date: midnight UTC
    assert validate("windows", facts) == facts


def test_ps51_encoding_gives_the_same_facts_as_the_collectors_output() -> None:
    """\\/Date(ms)\\/ dates, Status as ServiceControllerStatus numbers, a one-element list flattened."""
    old, new = load("ps51_domain_server_veeam"), load("ps7_domain_server_veeam")
    assert old["os"]["LastBootUpTime"].startswith("/Date(")
    assert isinstance(old["adapters"]["items"], dict)
    assert old["backup"]["services"][0]["Status"] == 4
    assert facts_of(old) == facts_of(new)
    assert content_hash("windows", facts_of(old)) == content_hash("windows", facts_of(new))


def test_workgroup_desktop_with_defender_and_security_center() -> None:
    facts = facts_of(load("ps7_workgroup_desktop_defender"))
    assert facts["hostname"] == "DESKTOP-7QH2KLM"
    assert facts["workgroup"] == "WORKGROUP"
    assert "domain" not in facts and "fqdn" not in facts
    assert facts["os"]["name"] == "Microsoft Windows 11 Pro"
    assert (facts["os"]["edition"], facts["os"]["release"], facts["os"]["build"]) == (
        "Professional",
        "23H2",
        "22631.4460",
    )
    assert facts["hardware"]["serial"] == "CZC1234XYZ"
    assert (facts["hardware"]["vendor"], facts["hardware"]["model"]) == (
        "HP",
        "HP EliteDesk 800 G6 Desktop Mini PC",
    )
    assert (facts["hardware"]["cpu_count"], facts["hardware"]["ram_bytes"]) == (12, 17008398336)
    # the NVMe serial as WMI gives it (trailing dot and all): not cleaned into something it is not
    assert facts["disks"] == [
        {
            "name": "PHYSICALDRIVE0",
            "size_bytes": 512105932800,
            "model": "SAMSUNG MZVLB512HBJQ-000H1",
            "serial": "0025_3881_91B2_4C35.",
        }
    ]
    assert [i["name"] for i in facts["interfaces"]] == [
        "Intel(R) Ethernet Connection (11) I219-LM",
        "Intel(R) Wi-Fi 6 AX201 160MHz",
    ]
    assert facts["interfaces"][1]["ips"] == []  # IP-enabled adapter, not connected
    # Security Center's "Windows Defender" and Get-MpComputerStatus are one product; no backup at all
    assert facts["products"] == {"antivirus": ["Microsoft Defender Antivirus"], "backup": []}
    assert facts["software_count"] == 6
    assert {"proto": "tcp", "address": "::", "port": 7680, "process": "svchost"} in facts[
        "services_listening"
    ]
    assert facts["last_upgrade"] == "2026-11-12T00:00:00Z"


def test_failed_cim_classes_leave_only_their_facts_out_and_are_named() -> None:
    raw = load("ps51_laptop_failed_cim")
    facts = facts_of(raw)
    # Win32_BIOS denied: no serial nor BIOS version (the rest of the hardware is there); disks and
    # listening ports missing; nothing guessed in their place
    assert facts["hardware"] == {
        "vendor": "LENOVO",
        "model": "21AH00BUGE",
        "virtualisation": "none",
        "cpu_model": "12th Gen Intel(R) Core(TM) i7-1260P",
        "cpu_count": 16,
        "ram_bytes": 34071076864,
    }
    assert "disks" not in facts and "services_listening" not in facts
    assert windows.unavailable(raw) == {
        "bios": "Win32_BIOS query failed: Access denied ",
        "disks": "Win32_DiskDrive query failed: Provider load failure ",
        "listening": "Get-NetTCPConnection failed: Access denied ",
    }
    # the DNS host name as the computer has it, lower case here
    assert (facts["hostname"], facts["fqdn"]) == ("laptop-acc03", "laptop-acc03.corp.acme.example")
    # an unformatted volume: its mount only
    assert facts["filesystems"] == [
        {"mount": "C:", "fstype": "NTFS", "size_bytes": 1022870835200},
        {"mount": "D:"},
    ]
    assert facts["products"] == {
        "antivirus": ["Microsoft Defender Antivirus", "Sophos"],
        "backup": ["Veeam Agent for Microsoft Windows"],
    }
    # ASSET-WIN-01 still passes: what could be read was understood; the evidence says what was collected
    [finding] = evaluators.evaluate("windows_assets", raw)
    assert (finding.control, finding.status.value) == ("ASSET-WIN-01", "pass")
    assert "disks" not in finding.evidence["collected"] and "software" in finding.evidence["collected"]
    assert finding.evidence["counts"] == {"filesystems": 2, "software": 4, "interfaces": 1}


@pytest.mark.parametrize("name", sorted(p.stem for p in DATA.glob("*.json")))
def test_every_recording_is_valid_facts_and_the_evaluator_passes(name: str) -> None:
    raw = load(name)
    facts = facts_of(raw)
    assert validate("windows", facts) == facts
    json.dumps(facts, allow_nan=False)
    [finding] = evaluators.evaluate("windows_assets", raw)
    assert finding.status.value == "pass" and finding.evidence["hostname"] == facts["hostname"]


def test_a_whole_win_powershell_result_and_its_json_text_are_unwrapped() -> None:
    raw = load("ps7_workgroup_desktop_defender")
    text = json.dumps(raw, separators=(",", ":"))
    result = {"changed": False, "output": [text], "host_out": "", "host_err": "", "error": [], "result": {}}
    assert facts_of(result) == facts_of(text) == facts_of(raw)


# ---------------------------------------------------------------- derived values


@pytest.mark.parametrize(
    ("vendor", "model", "expected"),
    [
        ("Microsoft Corporation", "Virtual Machine", "hyperv"),  # Hyper-V and Azure
        ("Microsoft Corporation", "Surface Pro 7", "none"),
        ("VMware, Inc.", "VMware7,1", "vmware"),
        ("QEMU", "Standard PC (Q35 + ICH9, 2009)", "kvm"),
        ("Red Hat", "KVM", "kvm"),
        ("Nutanix", "AHV", "kvm"),
        ("Amazon EC2", "m5.large", "amazon"),
        ("Xen", "HVM domU", "xen"),
        ("Google", "Google Compute Engine", "google"),
        ("innotek GmbH", "VirtualBox", "virtualbox"),
        ("Dell Inc.", "PowerEdge R740", "none"),
    ],
)
def test_virtualisation_from_vendor_and_model(vendor: str, model: str, expected: str) -> None:
    raw = load("ps7_workgroup_desktop_defender")
    raw["computer_system"].update(Manufacturer=vendor, Model=model)
    assert facts_of(raw)["hardware"]["virtualisation"] == expected


@pytest.mark.parametrize(
    ("given", "arch"),
    [
        ("64-bit", "x86_64"),
        ("32-bit", "x86"),
        ("ARM 64-bit Processor", "aarch64"),
        ("64 bits", "x86_64"),
        ("64-Bit", "x86_64"),
        ("Itanium-based", "Itanium-based"),
    ],
)
def test_os_architecture_named_as_on_linux(given: str, arch: str) -> None:
    raw = load("ps7_workgroup_desktop_defender")
    raw["os"]["OSArchitecture"] = given
    assert facts_of(raw)["os"]["arch"] == arch


def test_no_vendor_and_no_model_is_no_virtualisation_guess() -> None:
    raw = load("ps7_workgroup_desktop_defender")
    raw["computer_system"].update(Manufacturer=None, Model=None)
    assert "virtualisation" not in facts_of(raw)["hardware"]


@pytest.mark.parametrize(
    "placeholder", ["To be filled by O.E.M.", "Default string", "System Serial Number", "0", " "]
)
def test_oem_placeholder_serials_are_left_out(placeholder: str) -> None:
    raw = load("ps7_workgroup_desktop_defender")
    raw["bios"]["SerialNumber"] = placeholder
    raw["disks"]["items"][0]["SerialNumber"] = placeholder
    facts = facts_of(raw)
    assert "serial" not in facts["hardware"] and "serial" not in facts["disks"][0]


def test_products_from_programs_the_feature_and_unknown_security_center_names() -> None:
    raw = load("ps7_domain_server_veeam")
    raw["programs"]["items"] += [
        {"DisplayName": "Sophos Server Protection", "DisplayVersion": "10.8", "Publisher": "Sophos Limited"},
        {"DisplayName": "Acronis Cyber Protect Agent", "DisplayVersion": "24.10", "Publisher": "Acronis"},
    ]
    raw["antivirus"]["defender"].update(AMServiceEnabled=False)  # Defender switched off by Sophos
    raw["backup"]["wsb_feature"] = True
    assert facts_of(raw)["products"] == {
        "antivirus": ["Sophos"],
        "backup": ["Acronis", "Veeam Backup & Replication", "Windows Server Backup"],
    }
    desk = load("ps7_workgroup_desktop_defender")
    desk["antivirus"]["security_center"]["products"].append(
        {"displayName": "Contoso Shield", "productState": 266240}
    )
    assert facts_of(desk)["products"]["antivirus"] == ["Contoso Shield", "Microsoft Defender Antivirus"]


def test_products_are_left_out_only_when_no_source_could_be_read() -> None:
    raw = load("ps7_workgroup_desktop_defender")
    denied = {"available": False, "reason": "Access denied"}
    raw["antivirus"] = {"security_center": dict(denied), "defender": dict(denied)}
    raw["programs"] = dict(denied)
    raw["backup"] = dict(denied)
    facts = facts_of(raw)
    assert "products" not in facts and "software" not in facts and "software_count" not in facts
    assert set(windows.unavailable(raw)) == {
        "antivirus.security_center",
        "antivirus.defender",
        "programs",
        "backup",
    }


def test_hotfix_dates_in_either_form_and_none() -> None:
    raw = load("ps7_workgroup_desktop_defender")
    raw["hotfixes"]["last_installed"] = "/Date(1794787200000)/"  # a DateTime left to ConvertTo-Json 5.1
    assert facts_of(raw)["last_upgrade"] == "2026-11-16T00:00:00Z"
    raw["hotfixes"].update(count=0, last_installed=None)
    assert "last_upgrade" not in facts_of(raw)


# ---------------------------------------------------------------- output not understood


def _edit(name: str, change: Any) -> dict[str, Any]:
    raw = copy.deepcopy(load(name))
    change(raw)
    return raw


BROKEN: dict[str, tuple[Any, str]] = {
    "ram as text": (
        lambda r: r["computer_system"].update(TotalPhysicalMemory="17008398336"),
        "computer_system.TotalPhysicalMemory",
    ),
    "another collector": (
        lambda r: r.update(collector="windows_health"),
        "'windows_health' is not the windows_assets",
    ),
    "newer schema": (lambda r: r.update(schema=2), "schema 2 is not supported"),
    "probe missing": (lambda r: r.pop("hotfixes"), "hotfixes"),
    "program without name": (
        lambda r: r["programs"]["items"].append({"DisplayVersion": "1.0"}),
        "programs.items.6: DisplayName",
    ),
    "garbled date": (lambda r: r["os"].update(InstallDate="last Tuesday"), "os.InstallDate"),
    "date without zone": (
        lambda r: r["os"].update(LastBootUpTime="2026-11-19T07:58:12"),
        "os.LastBootUpTime",
    ),
    "not a MAC": (
        lambda r: r["adapters"]["items"][0].update(MACAddress="3C:52:82"),
        "adapters.items.0.MACAddress: '3C:52:82' is not a MAC address",
    ),
    "addresses not text": (
        lambda r: r["adapters"]["items"][0].update(IPAddress=[{"a": 1}]),
        "adapters.items.0.IPAddress",
    ),
    "port out of range": (
        lambda r: r["listening"]["items"][0].update(LocalPort=70000),
        "listening.items.0.LocalPort",
    ),
    "unknown service status": (
        lambda r: r["backup"].update(services=[{"Name": "VeeamBackupSvc", "Status": 9}]),
        "backup.services.0.Status",
    ),
    "items not objects": (lambda r: r["volumes"].update(items=["C:"]), "volumes.items.0"),
    "domain member without domain": (
        lambda r: r["computer_system"].update(Domain=None, PartOfDomain=True),
        "Domain",
    ),
    "nothing identifies the host": (
        lambda r: r.update(
            computer_system={"available": False, "reason": "Access denied "},
            os={"available": False, "reason": "Invalid namespace "},
        ),
        "neither Win32_ComputerSystem nor Win32_OperatingSystem could be read "
        "(Access denied ; Invalid namespace )",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_output_not_understood_is_an_error_naming_the_part(case: str) -> None:
    change, needle = BROKEN[case]
    raw = _edit("ps7_workgroup_desktop_defender", change)
    message = error_of(raw)
    assert needle in message, message
    facts, finding = judge("windows", raw)
    assert facts is None
    assert (finding.control, finding.status.value) == ("ASSET-WIN-01", "error")
    assert needle in finding.evidence["error"]


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ("not json", "not JSON"),
        ([1, 2], "got list"),
        ({"changed": False, "output": []}, "has no output"),
    ],
)
def test_not_the_collectors_object(raw: Any, needle: str) -> None:
    assert needle in error_of(raw)


def test_windows_parser_reads_windows_only() -> None:
    with pytest.raises(AssetFactsError, match="Windows hosts only"):
        windows.parse("linux", load("ps7_workgroup_desktop_defender"))


def test_maint_evaluate_cli_on_a_saved_win_powershell_result(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from runner.cli import app

    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps({"changed": False, "output": [json.dumps(load("ps51_laptop_failed_cim"))]}))
    result = CliRunner().invoke(app, ["evaluate", "windows_assets", str(saved), "--json"])
    assert result.exit_code == 0, result.output
    assert '"ASSET-WIN-01"' in result.output and '"pass"' in result.output


# ---------------------------------------------------------------- the collector, the role, the catalogue


def test_collector_parses_and_is_read_only() -> None:
    source = SCRIPT.read_bytes()
    assert not syntax_problems(source)
    text = source.decode()
    # every CIM query handles its own failure: one failing class is a reason string, not a script failure
    queries = [line for line in text.splitlines() if "Get-CimInstance -ClassName Win32_" in line]
    assert len(queries) == 8 and all("-ErrorAction Stop" in line for line in queries)
    assert text.count("try {") == text.count("} catch {") >= 12
    for verb in ("Set-", "New-", "Remove-", "Start-", "Stop-", "Restart-", "Invoke-", "Install-", "Enable-"):
        assert f"{verb}" not in text.replace("Set-StrictMode", ""), verb
    assert "ConvertTo-Json -Depth 6 -Compress" in text


def test_role_collects_and_records_in_one_task_and_passes_the_option() -> None:
    """One maint_audit task (kind assets:windows): the script over WinRM, facts parsed on the controller."""
    tasks = yaml.safe_load((ROLE / "tasks" / "main.yml").read_text())
    assert len(tasks) == 1
    [task] = tasks
    audit = task["maint.core.maint_audit"]
    assert (audit["collector"], audit["script"]) == ("ansible.windows.win_powershell", "collect_assets.ps1")
    assert (audit["kind"], audit["platform"]) == ("assets:windows", "windows")
    assert audit["collector_args"] == {
        "parameters": {"BackupServicePatterns": "{{ windows_assets_backup_service_patterns }}"}
    }
    assert "[string[]]$BackupServicePatterns" in SCRIPT.read_text()
    assert (task["changed_when"], task["check_mode"]) == (False, False)
    assert task["tags"] == ["assets", "audit"]
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    option = catalogue.load().roles["windows_assets"].options["backup_service_patterns"]
    assert defaults["windows_assets_backup_service_patterns"] == list(option.default)
    # the script's own default is the catalogue's (the script also runs by hand)
    for pattern in option.default:
        assert f"'{pattern}'" in SCRIPT.read_text()


def test_catalogue_control() -> None:
    spec = catalogue.load().control("ASSET-WIN-01")
    assert (spec.role, spec.domain.value, spec.severity.value, spec.os_family) == (
        "windows_assets",
        "inventory",
        "low",
        "windows",
    )
    assert spec.kinds == ("windows_assets",)
    assert "1.1" in spec.rationale and "2.1" in spec.rationale and "CIS Controls v8" in spec.rationale
    assert evaluators.get("windows_assets").controls == (spec.as_control(),)
    for lang in ("es", "ca"):
        texts = yaml.safe_load((REPO / f"runner/catalogue/data/i18n/{lang}.yml").read_text())["controls"]
        entry = texts["ASSET-WIN-01"]
        assert set(entry) == {"title", "rationale", "remediation"}
        assert "1.1" in entry["rationale"] and "2.1" in entry["rationale"]


def test_site_and_windows_playbooks_run_the_role() -> None:
    site = yaml.safe_load((REPO / "playbooks" / "site.yml").read_text())
    [play] = [p for p in site if p["roles"] == [{"role": "windows_assets"}]]
    assert play["hosts"] == "{{ maint_targets['windows_assets'] | default([]) }}"
    assert play["gather_facts"] is False
    domain = yaml.safe_load((REPO / "playbooks" / "windows.yml").read_text())
    assert any(p["roles"] == [{"role": "windows_assets"}] for p in domain)


# ---------------------------------------------------------------- maint_assets in a real playbook

OUTPUTS = ("ps51_laptop_failed_cim", "ps7_domain_server_veeam")


@pytest.fixture(scope="module")
def play(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """maint_assets fed win_powershell-shaped results (the collector's JSON as its output), as the role's
    record task did before maint_audit (which records with the same code, plugin_utils.assets: the role
    itself runs over WinRM in tests/test_windows_winrm.py)."""
    work = tmp_path_factory.mktemp("windows-assets-play")
    record = {
        "maint.core.maint_assets": {"platform": "windows", "data": "{{ windows_assets_raw }}"},
        "register": "windows_assets_results",
        "tags": ["assets", "audit"],
    }
    tasks: list[dict[str, Any]] = []
    results = {name: {"changed": False, "output": [json.dumps(load(name))], "error": []} for name in OUTPUTS}
    results["empty"] = {"changed": False, "output": [], "error": []}
    for name, result in results.items():
        tasks.append({"name": f"Result {name}", "ansible.builtin.set_fact": {"windows_assets_raw": result}})
        tasks.append({**record, "name": f"Record {name}"})
    playbook = [{"name": "Assets", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]
    (work / "play.yml").write_text(yaml.safe_dump(playbook, sort_keys=False))
    proc = run_playbook(work, "-i", "localhost,", "-c", "local", str(work / "play.yml"), timeout=180)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    out: dict[str, dict[str, Any]] = {}
    for task in json.loads(proc.stdout)["plays"][0]["tasks"]:
        out[task["task"]["name"]] = task["hosts"]["localhost"]
    return out


@pytest.mark.parametrize("name", OUTPUTS)
def test_record_task_hands_the_facts_to_the_ledger_and_passes(
    play: dict[str, dict[str, Any]], name: str
) -> None:
    res = play[f"Record {name}"]
    assert res["changed"] is False and not res.get("failed")
    assert res["maint_assets"] == {"platform": "windows", "host": "localhost", "facts": facts_of(load(name))}
    [row] = res["maint_results"]
    assert (row["control"], row["status"], row["role"]) == ("ASSET-WIN-01", "pass", "windows_assets")
    assert row["evidence"]["hostname"] == facts_of(load(name))["hostname"]
    assert res["msg"] == "windows assets: 1 pass"


def test_record_task_on_an_empty_output_is_an_error_row_and_no_facts(play: dict[str, dict[str, Any]]) -> None:
    res = play["Record empty"]
    assert not res.get("failed") and "maint_assets" not in res
    [row] = res["maint_results"]
    assert (row["control"], row["status"]) == ("ASSET-WIN-01", "error")
    assert "the win_powershell result has no output" in row["evidence"]["error"]


def test_record_task_result_reaches_the_ledger_once_whatever_the_encoding(
    play: dict[str, dict[str, Any]], private_state: Path
) -> None:
    """The task result as the event stream carries it: one asset_facts row; the same host again (PS 5.1
    encoding, another run) stores nothing, its facts being the same."""
    ledger = Ledger()
    plan = {"windows_assets": ["localhost"]}
    results = {
        "r1": play["Record ps7_domain_server_veeam"],
        "r2": {
            **play["Record ps7_domain_server_veeam"],
            "maint_assets": judge_result("ps51_domain_server_veeam"),
        },
    }
    for day, (run_id, res) in enumerate(results.items(), start=20):
        when = datetime(2026, 11, day, 9, 15, tzinfo=UTC)
        ledger.start_run(
            RunRecord(run_id=run_id, client="acme", mode="audit", roles=["windows_assets"], started_at=when)
        )
        event = {
            "event": "runner_on_ok",
            "uuid": f"u-{run_id}",
            "created": when.isoformat(),
            "event_data": {"host": "localhost", "role": "windows_assets", "res": res},
        }
        outcome = from_event(RunContext(run_id=run_id, client="acme", ticket=None, plan=plan), event)
        assert [(o.host, o.platform) for o in outcome.assets] == [("localhost", "windows")]
        stored = record_observations(ledger, "acme", run_id, outcome.assets)
        assert stored == (1 if run_id == "r1" else 0)
    row = latest(ledger, "acme")["localhost"]
    assert (row.run_id, row.platform, row.role) == ("r1", "windows", "windows_assets")
    assert row.facts == facts_of(load("ps51_domain_server_veeam"))


def judge_result(name: str) -> dict[str, Any]:
    """What the action plugin returns as maint_assets for a recorded output (run on the controller)."""
    facts, finding = judge("windows", load(name))
    assert facts is not None and finding.status.value == "pass"
    return {"platform": "windows", "host": "localhost", "facts": facts}
