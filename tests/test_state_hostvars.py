"""Each device's platform, as Ansible's variable precedence resolves it (runner/inventory/hostvars.py)."""

from __future__ import annotations

from pathlib import Path

from runner.inventory import load_client
from runner.inventory.hostvars import platforms
from tests.conftest import BASE_SETTINGS, MakeClient


def test_platform_precedence_group_vars_deeper_groups_host_vars(make_client: MakeClient) -> None:
    hosts = {
        "all": {
            "vars": {"network_config_platform": "fortios"},
            "children": {
                "linux": {"hosts": {"localhost": {"ansible_connection": "local"}}},
                "network": {
                    "vars": {"network_config_platform": "aruba_aoss"},
                    "children": {
                        "cisco": {
                            "hosts": {"sw1": {}, "sw2": {}, "sw3": {"network_config_platform": "fortios"}}
                        },
                    },
                    "hosts": {"fw1": {}},
                },
            },
        }
    }
    root: Path = make_client(
        "acme", settings={**BASE_SETTINGS, "roles": {"linux_health": ["linux"]}}, hosts=hosts
    )
    (root / "group_vars" / "network.yml").write_text("network_config_platform: aruba_aoscx\n")
    (root / "group_vars" / "cisco").mkdir()
    (root / "group_vars" / "cisco" / "vars.yml").write_text("network_config_platform: cisco_ios\n")
    (root / "host_vars").mkdir()
    (root / "host_vars" / "sw2.yml").write_text("network_config_platform: aruba_aoss\n")
    (root / "host_vars" / "localhost.yml").write_text("network_config_platform: ''\n")
    found = platforms(load_client("acme"))
    assert found == {
        "localhost": None,  # empty: no platform
        "fw1": "aruba_aoscx",  # group_vars/network.yml beats the inline vars of network and all
        "sw1": "cisco_ios",  # the deeper group's group_vars beat its parent's
        "sw2": "aruba_aoss",  # host_vars beat every group
        "sw3": "fortios",  # its own variable in hosts.yml beats every group file
    }
