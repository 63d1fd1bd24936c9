"""Sites in the inventory (issue 17): which worker runs each host, and a run's plan split by site.

``maintenance.site`` names the client's site, a ``maint_site`` group variable overrides it for the group's
hosts and a host variable for the host (null: back to the controller); names are checked by
``maint inventory validate`` with one line naming the file and the key (exit 2).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from runner.cli import app
from runner.inventory import load_client
from runner.sites import SiteVarError, host_sites, site_of, site_var_problems, split_plan
from tests.conftest import BASE_SETTINGS, MakeClient

HOSTS: dict[str, Any] = {
    "all": {
        "children": {
            "linux": {
                "hosts": {
                    "web1": {},
                    "web2": {"maint_site": None},
                    "web3": {},
                    "db1": {},
                },
            },
            "branch": {
                "vars": {"maint_site": "b"},
                "hosts": {"br1": {}, "br2": {"maint_site": "c"}, "br3": {}},
            },
            "lab": {"hosts": {"lab1": {}}},
        }
    }
}


def settings(site: str | None = "a", **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE_SETTINGS)
    data["roles"] = {"linux_health": ["linux", "branch", "lab"], "linux_patching": ["branch"]}
    if site is not None:
        data["site"] = site
    data.update(changes)
    return data


@pytest.fixture
def acme(make_client: MakeClient) -> Path:
    root = make_client("acme", settings=settings(), hosts=copy.deepcopy(HOSTS))
    (root / "group_vars" / "lab.yml").write_text("maint_site: lab-2\n")
    (root / "host_vars").mkdir()
    (root / "host_vars" / "db1.yml").write_text("maint_site: dc_1\n")
    (root / "host_vars" / "br1.yml").write_text("maint_site: ~\n")
    return root


def test_host_wins_over_group_over_client(acme: Path) -> None:
    client = load_client("acme")
    assert host_sites(client) == {
        "web1": "a",  # the client's site
        "web2": None,  # its own null: back to the controller
        "web3": "a",
        "db1": "dc_1",  # host_vars/
        "br1": None,  # host_vars/ null over the group's b
        "br2": "c",  # hosts.yml host variable over the group's b
        "br3": "b",  # the group's (hosts.yml vars:)
        "lab1": "lab-2",  # group_vars/lab.yml
    }
    assert site_of(client, "br2") == "c" and site_of(client, "web2") is None
    assert site_of(client, "added-by-a-plugin") == "a"  # not in the folder: the client-wide site


def test_no_site_anywhere_runs_everything_on_the_controller(make_client: MakeClient) -> None:
    make_client("plain")  # tests/conftest.py's client: localhost in group linux, no site
    client = load_client("plain")
    plan = client.plan()
    assert set(host_sites(client).values()) == {None}
    assert split_plan(plan, client) == {None: {role: list(hosts) for role, hosts in plan.items() if hosts}}


def test_split_plan_keeps_every_role_and_host_once(acme: Path) -> None:
    client = load_client("acme")
    plan = {
        "linux_health": ["web1", "web2", "db1", "br1", "br2", "br3", "lab1"],
        "linux_patching": ["br3", "br2", "br1"],
    }
    parts = split_plan(plan, client)
    assert parts == {
        "a": {"linux_health": ["web1"]},
        None: {"linux_health": ["web2", "br1"], "linux_patching": ["br1"]},
        "dc_1": {"linux_health": ["db1"]},
        "b": {"linux_health": ["br3"], "linux_patching": ["br3"]},
        "c": {"linux_health": ["br2"], "linux_patching": ["br2"]},
        "lab-2": {"linux_health": ["lab1"]},
    }
    pairs = sorted((role, host) for part in parts.values() for role, hosts in part.items() for host in hosts)
    assert pairs == sorted((role, host) for role, hosts in plan.items() for host in hosts)
    assert split_plan({}, client) == {}


def validate(*args: str) -> Any:
    return CliRunner().invoke(app, ["inventory", "validate", *args])


def lines_about(result: Any, key: str) -> list[str]:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return [line for line in result.stdout.splitlines() if key in line]


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("Site A", "is not a site name"),
        ("x" * 33, "is not a site name"),
        ("a.b", "is not a site name"),
        ("controller", "is reserved"),
        (7, "a site name is a text"),
    ],
)
def test_a_bad_client_site_names_the_settings_file(make_client: MakeClient, value: Any, why: str) -> None:
    make_client("acme", settings=settings(site=value), hosts=copy.deepcopy(HOSTS))
    [line] = lines_about(validate("acme"), "maintenance.site")
    assert "acme/group_vars/all/maintenance.yml: maintenance.site" in line
    assert why in line or isinstance(value, int)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("maint_site: HQ\n", "'HQ' is not a site name"),
        ("maint_site: '{{ site }}'\n", "templates are not resolved"),
        ("maint_site: [a]\n", "a site name is a text"),
        ("maint_site: controller\n", "is reserved"),
    ],
)
def test_a_bad_maint_site_names_its_file_key_and_hosts(acme: Path, text: str, why: str) -> None:
    (acme / "group_vars" / "branch.yml").write_text(text)
    [line] = lines_about(validate("acme"), "maint_site")
    assert line.strip().startswith(
        "inventories/acme/group_vars/branch.yml: maint_site: host br3 (set for group"
    )
    assert why in line
    with pytest.raises(SiteVarError, match=re.escape("group_vars/branch.yml: maint_site")):
        host_sites(load_client("acme"))


def test_longest_site_name_is_valid(make_client: MakeClient) -> None:
    root = make_client("acme", settings=settings(site="a" * 32), hosts=copy.deepcopy(HOSTS))
    (root / "host_vars").mkdir()
    (root / "host_vars" / "web1.yml").write_text(yaml.safe_dump({"maint_site": "0_-z" * 8}))
    result = validate("acme")
    assert result.exit_code == 0, result.output
    client = load_client("acme")
    assert site_var_problems(client)[1] == []
    assert host_sites(client)["web1"] == "0_-z" * 8 and host_sites(client)["web3"] == "a" * 32
