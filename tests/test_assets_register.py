"""The asset register and ``maint assets``: inventory data, stored facts and health joined per host, and
the changes between a host's consecutive facts rows, from a ledger filled by hand."""

from __future__ import annotations

import copy
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from runner import catalogue
from runner.assets.register import CHANGE_KINDS, AssetChange, changes, diff, register
from runner.assets.store import history, latest, record
from runner.cli import app
from runner.cli.assets import CSV_COLUMNS, safe_cell
from runner.inventory import load_client
from runner.inventory.hostvars import AssetVarError, asset_var_problems
from runner.ledger import Ledger, RunRecord
from runner.results import CheckResult, Control, Status
from tests.conftest import BASE_SETTINGS, MakeClient

runner = CliRunner()
T0 = datetime(2026, 11, 2, 21, 0, tzinfo=UTC)
GiB = 2**30

HOSTS: dict[str, Any] = {
    "all": {
        "children": {
            "linux": {
                "hosts": {"web1": {}, "web2": {}, "web3": {}},
                "vars": {"asset_site": "Barcelona HQ"},
            },
            "network": {
                "hosts": {
                    "sw1": {"network_config_platform": "cisco_ios", "asset_criticality": "high"},
                    "spare": {"network_config_platform": "cisco_ios"},
                }
            },
            "other": {"hosts": {"printer1": {}}},
        }
    }
}
SETTINGS: dict[str, Any] = {
    **BASE_SETTINGS,
    "roles": {"linux_health": ["linux"], "network_config": ["sw1"]},
    "waivers": [
        {
            "control": "HEALTH-LNX-01",
            "hosts": "web3",
            "owner": "tech@example.com",
            "reason": "Data disk replaced next week.",
            "expires": "2099-12-31",
        }
    ],
}

WEB1 = {
    "hostname": "web1",
    "fqdn": "web1.acme.example",
    "os": {"name": "Debian GNU/Linux", "version": "12", "kernel": "6.1.0-25-amd64"},
    "hardware": {
        "vendor": "Dell Inc.",
        "model": "PowerEdge R650",
        "serial": "7XK2LM3",
        "virtualisation": "none",
        "cpu_model": "Intel Xeon Silver 4314",
        "cpu_count": 32,
        "ram_bytes": 64 * GiB,
        "bios_version": "1.9.2",
    },
    "interfaces": [
        {"name": "eno1", "mac": "B0:7B:25:00:00:01", "ips": ["10.0.0.11"]},
        {"name": "eno2", "mac": "b0:7b:25:00:00:02", "ips": []},
    ],
    "disks": [
        {"name": "sda", "size_bytes": 480 * 10**9, "model": "SSDSC2KB480G8R", "serial": "PHYF001"},
        {"name": "sdb", "size_bytes": 4 * 10**12, "model": "ST4000NM", "serial": "ZC1A"},
    ],
    "filesystems": [
        {"mount": "/", "fstype": "ext4", "device": "/dev/sda2", "size_bytes": 400 * 10**9},
        {"mount": "/srv", "fstype": "xfs", "device": "/dev/sdb1", "size_bytes": 4 * 10**12},
    ],
    "software": [
        {"name": "openssh-server", "version": "1:9.2p1-2+deb12u2"},
        {"name": "nginx", "version": "1.22.1-9"},
        {"name": "telnetd", "version": "0.17-44"},
    ],
    "software_count": 3,
    "products": {"antivirus": ["ClamAV"], "backup": ["restic"]},
    "last_boot": "2026-10-30T06:00:00+00:00",
}
SW1 = {
    "hostname": "sw1",
    "os": {"name": "IOS", "firmware": "15.2(4)E10", "image": "c2960x-universalk9-mz.152-4.E10.bin"},
    "hardware": {"vendor": "Cisco", "model": "WS-C2960X-48FPD-L", "serial": "FOC1932X0K1"},
    "inventory": [
        {"name": "1", "descr": "WS-C2960X-48FPD-L", "pid": "WS-C2960X-48FPD-L", "serial": "FOC1932X0K1"}
    ],
    "uptime_seconds": 86400,
}
OLD = {"hostname": "old-db", "os": {"name": "Debian GNU/Linux", "version": "10"}}


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _start(ledger: Ledger, run_id: str, at: datetime) -> None:
    ledger.start_run(
        RunRecord(run_id=run_id, client="acme", mode="audit", roles=["linux_health"], started_at=at)
    )


def _facts(
    ledger: Ledger, run_id: str, host: str, facts: dict[str, Any], at: datetime, platform: str = "linux"
) -> None:
    stored = record(
        ledger,
        client="acme",
        host=host,
        platform=platform,
        facts=facts,
        run_id=run_id,
        role="assets",
        collected_at=at,
    )
    assert stored is not None


def _results(ledger: Ledger, run_id: str, at: datetime, statuses: dict[tuple[str, str], Status]) -> None:
    cat = catalogue.load()
    rows = []
    for (host, control), status in statuses.items():
        spec = cat.controls[control]
        finding = Control(
            control=control, title=spec.title, domain=spec.domain, severity=spec.severity
        ).finding(status, evidence={"reason": f"recorded {status.value}"})
        result = CheckResult.from_finding(
            finding, host=host, client="acme", run_id=run_id, role=spec.role or "", observed_at=at
        )
        rows.append((f"{host}:{control}", result))
    ledger.record(rows)


def _linux_controls() -> list[str]:
    return [spec.id for spec in catalogue.load().for_role("linux_health")]


@pytest.fixture
def acme(make_client: MakeClient) -> Path:
    root = make_client("acme", settings=copy.deepcopy(SETTINGS), hosts=copy.deepcopy(HOSTS))
    (root / "host_vars").mkdir()
    (root / "host_vars" / "web1.yml").write_text(
        yaml.safe_dump({"asset_owner": '=HYPERLINK("http://evil")', "asset_criticality": "critical"})
    )
    (root / "group_vars" / "network.yml").write_text(
        yaml.safe_dump({"asset_site": "Girona DC", "asset_owner": "NetOps"})
    )
    with Ledger() as ledger:
        _start(ledger, "r1", T0)
        _facts(ledger, "r1", "web1", WEB1, T0)
        _facts(ledger, "r1", "sw1", SW1, T0, platform="cisco_ios")
        _facts(ledger, "r1", "old-db", OLD, T0)
        statuses = {("web1", c): Status.PASS for c in _linux_controls()}
        statuses[("web1", "HEALTH-LNX-01")] = Status.FAIL
        statuses[("web1", "HEALTH-LNX-02")] = Status.WARN
        statuses.update({("web3", c): Status.PASS for c in _linux_controls()})
        statuses[("web3", "HEALTH-LNX-01")] = Status.FAIL  # waived
        _results(ledger, "r1", T0, statuses)
    return root


# --------------------------------------------------------------------------- register


def test_register_joins_inventory_facts_and_health(acme: Path) -> None:
    client = load_client("acme")
    with Ledger() as ledger:
        entries = {e.host: e for e in register(ledger, client)}
    assert list(entries) == sorted(entries) == ["old-db", "printer1", "spare", "sw1", "web1", "web2", "web3"]

    web1 = entries["web1"]
    assert (web1.owner, web1.site, web1.criticality) == (
        '=HYPERLINK("http://evil")',
        "Barcelona HQ",
        "critical",
    )
    assert web1.platform == "linux" and web1.roles == ("linux_health",) and web1.in_inventory
    assert web1.facts["hardware"]["serial"] == "7XK2LM3" and web1.collected_at == T0 and web1.run_id == "r1"
    assert web1.health == "fail"
    assert web1.health_counts == {"fail": 1, "warn": 1, "pass": len(_linux_controls()) - 2}

    web3 = entries["web3"]  # its one failing control is waived: the worst left is "waived"
    assert web3.health == "waived" and web3.health_counts["waived"] == 1

    web2 = entries["web2"]  # in the inventory, role assigned, never collected nor checked
    assert web2.facts == {} and web2.collected_at is None and web2.seq is None
    assert web2.health == "not_checked" and web2.health_counts == {"not_checked": len(_linux_controls())}
    assert (web2.owner, web2.site, web2.criticality, web2.platform) == (
        None,
        "Barcelona HQ",
        "normal",
        "linux",
    )

    sw1 = entries["sw1"]  # inline host var beats nothing; group_vars file gives site and owner
    assert (sw1.owner, sw1.site, sw1.criticality, sw1.platform) == (
        "NetOps",
        "Girona DC",
        "high",
        "cisco_ios",
    )
    assert sw1.facts["os"]["firmware"] == "15.2(4)E10" and sw1.health == "not_checked"

    spare = entries["spare"]  # no role: no state rows, platform from network_config_platform
    assert (spare.health, spare.health_counts, spare.roles, spare.platform) == (
        "unknown",
        {},
        (),
        "cisco_ios",
    )
    printer = entries["printer1"]
    assert (printer.platform, printer.health, printer.criticality) == (None, "unknown", "normal")

    old = entries["old-db"]  # facts stored, host removed from the inventory since
    assert not old.in_inventory and old.roles == () and old.health == "unknown"
    assert old.facts["os"]["version"] == "10" and old.platform == "linux"

    data = web1.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["collected_at"] == "2026-11-02T21:00:00+00:00" and data["roles"] == ["linux_health"]


def test_register_until_reads_the_facts_as_they_were(acme: Path) -> None:
    with Ledger() as ledger:
        _start(ledger, "r2", T0 + timedelta(days=10))
        _facts(ledger, "r2", "web1", {**WEB1, "os": {**WEB1["os"], "version": "13"}}, T0 + timedelta(days=10))
        client = load_client("acme")
        now = {e.host: e for e in register(ledger, client)}
        then = {e.host: e for e in register(ledger, client, until=T0 + timedelta(days=1))}
        # store.latest reads only the latest rows' facts: the same rows as the last of each host's history
        for until in (None, T0, T0 + timedelta(days=1), T0 + timedelta(days=10), T0 - timedelta(days=1)):
            assert latest(ledger, "acme", until=until) == {
                r.host: r for r in history(ledger, "acme", until=until)
            }
    assert now["web1"].facts["os"]["version"] == "13" and now["web1"].run_id == "r2"
    assert then["web1"].facts["os"]["version"] == "12" and then["web1"].run_id == "r1"


@pytest.mark.parametrize(
    ("where", "body", "expected"),
    [
        (
            "host_vars/web2.yml",
            {"asset_criticality": "urgent"},
            "inventories/acme/host_vars/web2.yml: asset_criticality: host web2: 'urgent' is not one of "
            "critical, high, normal, low",
        ),
        (
            "group_vars/linux.yml",
            {"asset_owner": ["a", "b"]},
            # web1's own host_vars/web1.yml value wins: only web2 and web3 get the group's
            "inventories/acme/group_vars/linux.yml: asset_owner: host web2, web3 (set for group linux): "
            "expected a text, got list",
        ),
        (
            "host_vars/web3.yml",
            {"asset_site": "{{ site_name }}"},
            "inventories/acme/host_vars/web3.yml: asset_site: host web3: '{{ site_name }}': templates "
            "are not resolved",
        ),
    ],
)
def test_bad_asset_variable_is_one_line_naming_file_key_and_host(
    acme: Path, where: str, body: dict[str, Any], expected: str
) -> None:
    (acme / where).parent.mkdir(exist_ok=True)
    (acme / where).write_text(yaml.safe_dump(body))
    client = load_client("acme")
    _vars, problems = asset_var_problems(client)
    assert len(problems) == 1 and str(problems[0]).startswith(expected), problems
    with Ledger() as ledger, pytest.raises(AssetVarError) as caught:
        register(ledger, client)
    assert "\n" not in str(caught.value)
    code, output = invoke("assets", "acme")
    assert code == 2, output
    assert expected.split(": ", 1)[1][:40] in output.replace("\n", "")
    code, changed = invoke("assets", "acme", "--changes", "--since", "2026-11-01")
    assert code == 2 and changed == output
    assert output.strip().count("\n") == 0 or len(output.strip()) > 150  # one message (wrapped only if long)
    assert "Traceback" not in output


# --------------------------------------------------------------------------- changes


def _changed_web1() -> dict[str, Any]:
    facts = copy.deepcopy(WEB1)
    facts["os"]["version"] = "13"
    facts["os"]["kernel"] = "6.12.9-amd64"
    facts["hardware"]["ram_bytes"] = 128 * GiB
    facts["hardware"]["cpu_count"] = 48
    facts["hardware"]["bios_version"] = "1.14.1"
    facts["hardware"]["serial"] = "7XK2LM4"  # motherboard swap
    facts["disks"] = [
        facts["disks"][0],
        {"name": "sdc", "size_bytes": 8 * 10**12, "model": "X", "serial": "ZD9"},
    ]
    facts["filesystems"] = [
        {**facts["filesystems"][0], "size_bytes": 450 * 10**9},
        {"mount": "/backup", "fstype": "ext4", "device": "/dev/sdc1", "size_bytes": 8 * 10**12},
    ]
    facts["software"] = [
        {"name": "openssh-server", "version": "1:9.2p1-2+deb12u5"},
        {"name": "nginx", "version": "1.22.1-9"},
        {"name": "restic", "version": "0.16.4-1"},
    ]
    facts["interfaces"] = [facts["interfaces"][0], {"name": "eno3", "mac": "b0:7b:25:00:00:03", "ips": []}]
    return facts


def test_changes_report_every_kind_between_consecutive_rows(acme: Path) -> None:
    t1, t2, t3 = T0 + timedelta(days=5), T0 + timedelta(days=6), T0 + timedelta(days=40)
    with Ledger() as ledger:
        _start(ledger, "r2", t1)
        _facts(ledger, "r2", "web1", _changed_web1(), t1)
        sw1 = copy.deepcopy(SW1)
        sw1["os"]["firmware"] = "15.2(7)E9"
        sw1["os"]["image"] = "c2960x-universalk9-mz.152-7.E9.bin"
        sw1["inventory"].append({"name": "Gi1/0/49", "descr": "SFP", "pid": "GLC-LH-SMD", "serial": "AGM1"})
        _facts(ledger, "r2", "sw1", sw1, t1, platform="cisco_ios")
        _start(ledger, "r3", t2)
        _facts(ledger, "r3", "web2", {"hostname": "web2", "os": {"name": "Ubuntu", "version": "24.04"}}, t2)
        _start(ledger, "r4", t3)  # after --until: left out
        _facts(ledger, "r4", "web3", {"hostname": "web3"}, t3)
        found = changes(ledger, "acme", since=T0 + timedelta(days=1), until=T0 + timedelta(days=30))
        everything = changes(ledger, "acme", since=T0 - timedelta(days=1))
    got = [(c.host, c.kind, c.item, c.before, c.after) for c in found]
    assert got == [
        ("sw1", "firmware", "os.firmware", "15.2(4)E10", "15.2(7)E9"),
        (
            "sw1",
            "firmware",
            "os.image",
            "c2960x-universalk9-mz.152-4.E10.bin",
            "c2960x-universalk9-mz.152-7.E9.bin",
        ),
        ("sw1", "hardware", "inventory:Gi1/0/49", None, {"pid": "GLC-LH-SMD", "serial": "AGM1"}),
        ("web1", "os", "os.kernel", "6.1.0-25-amd64", "6.12.9-amd64"),
        ("web1", "os", "os.version", "12", "13"),
        ("web1", "firmware", "hardware.bios_version", "1.9.2", "1.14.1"),
        ("web1", "hardware", "hardware.serial", "7XK2LM3", "7XK2LM4"),
        ("web1", "ram", "hardware.ram_bytes", 64 * GiB, 128 * GiB),
        ("web1", "cpu", "hardware.cpu_count", 32, 48),
        (
            "web1",
            "disk_added",
            "sdc (ZD9)",
            None,
            {"name": "sdc", "size_bytes": 8 * 10**12, "model": "X", "serial": "ZD9"},
        ),
        ("web1", "disk_removed", "sdb (ZC1A)", WEB1["disks"][1], None),
        (
            "web1",
            "filesystem_added",
            "/backup",
            None,
            {"mount": "/backup", "fstype": "ext4", "device": "/dev/sdc1", "size_bytes": 8 * 10**12},
        ),
        ("web1", "filesystem_removed", "/srv", WEB1["filesystems"][1], None),
        ("web1", "filesystem_resized", "/", 400 * 10**9, 450 * 10**9),
        ("web1", "software_added", "restic", None, "0.16.4-1"),
        ("web1", "software_removed", "telnetd", "0.17-44", None),
        ("web1", "software_updated", "openssh-server", "1:9.2p1-2+deb12u2", "1:9.2p1-2+deb12u5"),
        (
            "web1",
            "interface_added",
            "b0:7b:25:00:00:03",
            None,
            {"name": "eno3", "mac": "b0:7b:25:00:00:03", "ips": []},
        ),
        ("web1", "interface_removed", "b0:7b:25:00:00:02", WEB1["interfaces"][1], None),
        (
            "web2",
            "new_host",
            None,
            None,
            {"platform": "linux", "hostname": "web2", "os": "Ubuntu", "version": "24.04"},
        ),
    ]
    assert {c.kind for c in found} | {"new_host"} == set(CHANGE_KINDS)
    assert all(c.at in (t1, t2) and c.seq > 0 for c in found)
    assert [c.run_id for c in found if c.host == "web2"] == ["r3"]
    # since before the first rows: each host's first row is new_host; web3's late row too
    news = [(c.host, c.at) for c in everything if c.kind == "new_host"]
    assert news == [("old-db", T0), ("sw1", T0), ("web1", T0), ("web2", t2), ("web3", t3)]
    assert changes(ledger=Ledger(), client="acme", since=t3) == []
    assert json.loads(json.dumps(found[0].as_dict()))["at"] == t1.isoformat()


def test_changes_compare_only_what_both_rows_know() -> None:
    before = {"hostname": "h", "os": {"name": "Debian"}, "hardware": {"ram_bytes": 8 * GiB}, "software": []}
    after = {"hostname": "h", "os": {"name": "Debian", "version": "12"}, "disks": [{"name": "sda"}]}
    assert diff(before, after) == []  # version and disks learned, software and RAM not collected this time
    # one name, several versions (multi-arch, side-by-side runtimes): one entry, the sorted versions
    two = {"software": [{"name": "vcredist", "version": "14.2"}, {"name": "vcredist", "version": "9.0"}]}
    one = {"software": [{"name": "vcredist", "version": "14.2"}]}
    assert diff(two, one) == [("software_updated", "vcredist", ["14.2", "9.0"], "14.2")]


def test_change_order_is_deterministic() -> None:
    at = T0
    made = [
        AssetChange("b", at, "ram", "hardware.ram_bytes", 1, 2, 5, None),
        AssetChange("a", at, "software_added", "zsh", None, "5", 4, None),
        AssetChange("a", at, "os", "os.version", "1", "2", 4, None),
    ]
    assert sorted(made, key=lambda c: (c.at, c.host, CHANGE_KINDS.index(c.kind), c.item or "")) == [
        made[2],
        made[1],
        made[0],
    ]


# --------------------------------------------------------------------------- CLI


def test_cli_json_is_the_register(acme: Path) -> None:
    code, output = invoke("assets", "acme", "--json")
    assert code == 0, output
    data = json.loads(output)
    assert data["schema"] == "maint.assets/1" and data["client"] == "acme"
    with Ledger() as ledger:
        expected = [e.as_dict() for e in register(ledger, load_client("acme"))]
    assert data["assets"] == expected
    code, output = invoke("assets", "acme", "--json", "--host", "sw1", "--host", "old-db")
    assert [a["host"] for a in json.loads(output)["assets"]] == ["old-db", "sw1"]


def test_cli_csv_fixed_columns_and_no_formula(acme: Path) -> None:
    code, output = invoke("assets", "acme", "--csv")
    assert code == 0, output
    rows = list(csv.reader(io.StringIO(output)))
    assert tuple(rows[0]) == CSV_COLUMNS
    table = {r[0]: dict(zip(CSV_COLUMNS, r, strict=True)) for r in rows[1:]}
    assert sorted(table) == ["old-db", "printer1", "spare", "sw1", "web1", "web2", "web3"]
    web1 = table["web1"]
    assert web1["owner"] == '\'=HYPERLINK("http://evil")'  # would be a formula in a spreadsheet
    assert (web1["serial"], web1["ram_bytes"], web1["cpu_count"], web1["disk_count"]) == (
        "7XK2LM3",
        str(64 * GiB),
        "32",
        "2",
    )
    assert web1["disk_bytes"] == str(480 * 10**9 + 4 * 10**12) and web1["filesystem_count"] == "2"
    assert web1["macs"] == "B0:7B:25:00:00:01; b0:7b:25:00:00:02" and web1["ips"] == "10.0.0.11"
    assert (web1["software_count"], web1["antivirus"], web1["backup"]) == ("3", "ClamAV", "restic")
    assert (web1["health"], web1["criticality"], web1["in_inventory"]) == ("fail", "critical", "true")
    assert web1["collected_at"] == T0.isoformat() and web1["run_id"] == "r1"
    assert table["sw1"]["firmware"] == "15.2(4)E10" and table["sw1"]["site"] == "Girona DC"
    assert table["old-db"]["in_inventory"] == "false"
    assert table["web2"]["collected_at"] == "" and table["web2"]["health"] == "not_checked"
    for bad in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(bad) == "'" + bad
    assert (safe_cell(None), safe_cell(3), safe_cell(["a"]), safe_cell("ok")) == ("", "3", '["a"]', "ok")


def test_cli_table(acme: Path) -> None:
    code, output = invoke("assets", "acme")
    assert code == 0, output
    assert "asset register" in output
    assert "not in the inventory any more (facts kept): old-db" in output
    for text in (
        "PowerEdge R650",
        "7XK2LM3",
        "Debian GNU/Linux 12",
        "IOS 15.2(4)E10",
        "64.0 GiB",
        "Girona DC",
    ):
        assert text in output, text
    assert "7 asset(s), 3 with facts collected" in output


def test_cli_changes(acme: Path) -> None:
    later = T0 + timedelta(days=5)
    with Ledger() as ledger:
        _start(ledger, "r2", later)
        _facts(ledger, "r2", "web1", _changed_web1(), later)
    code, output = invoke("assets", "acme", "--changes", "--since", "2026-11-03", "--json")
    assert code == 0, output
    data = json.loads(output)
    assert data["schema"] == "maint.asset-changes/1" and data["until"] is None
    assert data["since"] == "2026-11-02T23:00:00+00:00"  # midnight in Europe/Madrid
    assert {c["host"] for c in data["changes"]} == {"web1"} and len(data["changes"]) == 16
    code, output = invoke("assets", "acme", "--changes", "--since", "2026-11-01", "--until", "2026-11-02")
    assert code == 0 and "new_host" in output and "software_updated" not in output
    code, output = invoke("assets", "acme", "--changes", "--since", "2026-11-03", "--csv", "--host", "web1")
    rows = list(csv.reader(io.StringIO(output)))
    assert rows[0] == ["at", "host", "kind", "item", "before", "after", "seq", "run_id"]
    assert ["web1", "ram", "hardware.ram_bytes", str(64 * GiB), str(128 * GiB)] in [r[1:6] for r in rows]
    code, output = invoke("assets", "acme", "--changes", "--since", "2026-12-01")
    assert code == 0 and "no asset changes" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["assets", "acme", "--changes"], "--changes needs --since YYYY-MM-DD"),
        (["assets", "acme", "--changes", "--since", "2026-13-01"], "--since '2026-13-01': expected a date"),
        (["assets", "acme", "--changes", "--since", "yesterday"], "--since 'yesterday': expected a date"),
        (
            ["assets", "acme", "--changes", "--since", "2026-11-05", "--until", "2026-11-01"],
            "is before --since",
        ),
        (["assets", "acme", "--since", "2026-11-01"], "--since and --until go with --changes"),
        (["assets", "acme", "--json", "--csv"], "give one of them"),
        (["assets", "acme", "--host", "nope"], "--host 'nope': no such asset of acme"),
        (["assets", "nope"], "no client 'nope'"),
    ],
)
def test_cli_refusals_exit_2_with_one_line(acme: Path, args: list[str], message: str) -> None:
    code, output = invoke(*args)
    assert code == 2, output
    assert message in output and "Traceback" not in output
    assert output.strip().count("\n") == 0 or args == ["assets", "nope"]


def test_asset_variables_refused_values_and_defaults(acme: Path) -> None:
    (acme / "host_vars" / "web2.yml").write_text(
        "asset_owner: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  3131\n"
        "asset_site: 12\nasset_criticality: High\n"
    )
    (acme / "host_vars" / "web3.yml").write_text("asset_owner: '  '\nasset_site: \"a\\nb\"\n")
    found, problems = asset_var_problems(load_client("acme"))
    assert [str(p) for p in problems] == [
        "inventories/acme/host_vars/web2.yml: asset_criticality: host web2: 'High' is not one of critical, "
        "high, normal, low",
        "inventories/acme/host_vars/web2.yml: asset_owner: host web2: a vault-encrypted value cannot be read "
        "here: give it in clear",
        "inventories/acme/host_vars/web2.yml: asset_site: host web2: expected a text, got int 12",
        "inventories/acme/host_vars/web3.yml: asset_site: host web3: control characters (a newline, a "
        "tab...) are not allowed",
    ]
    # a blank owner is no owner; a refused value leaves the default in the mapping
    assert (found["web3"].owner, found["web2"].criticality, found["printer1"].criticality) == (
        None,
        "normal",
        "normal",
    )
