"""Client inventory schema and validation: every problem names file, key and expectation."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from runner.inventory import HostTree, load_client, validate_client
from runner.inventory.loader import InventoryError, UnknownClientError
from tests.conftest import BASE_SETTINGS, REPO, MakeClient

ROLES = {"linux_health"}


def settings(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE_SETTINGS)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def problems_of(make_client: MakeClient, **kwargs: Any) -> list[tuple[str, str, str]]:
    root = make_client(**kwargs)
    client, problems = validate_client(root.name, root.parent, ROLES)
    assert client is None
    return [(p.file, p.key, p.message) for p in problems]


def test_valid_client_loads_and_plans(make_client: MakeClient) -> None:
    root = make_client()
    client = load_client("acme", root.parent, ROLES)
    assert client.plan() == {"linux_health": ["localhost"]}
    assert client.settings.timezone == "Europe/Madrid"


@pytest.mark.parametrize(
    ("change", "key", "expected"),
    [
        ({"timezone": None}, "maintenance.timezone", "required key is missing"),
        ({"display_name": None}, "maintenance.display_name", "required key is missing"),
        ({"contacts": "tech@example.com"}, "maintenance.contacts", "valid list"),
        ({"timezone": "Europe/Madird"}, "maintenance.timezone", "unknown IANA time zone 'Europe/Madird'"),
        ({"timezone": "Madrid"}, "maintenance.timezone", "did you mean Europe/Madrid"),
        ({"roles": {"linux_helth": ["linux"]}}, "maintenance.roles", "unknown role 'linux_helth'"),
        (
            {"roles": {"linux_health": ["databases"]}},
            "maintenance.roles.linux_health[0]",
            "matches no group or host",
        ),
        ({"sla_tier": "gold"}, "maintenance.sla_tier", "'basic', 'standard' or 'premium'"),
        (
            {"waivers": [{"control": "HEALTH-LNX-01", "reason": "x", "expires": "2030-01-01"}]},
            "maintenance.waivers[0].owner",
            "required key is missing",
        ),
        (
            {"waivers": [{"control": "health-1", "owner": "a", "reason": "x"}]},
            "maintenance.waivers[0].control",
            "should match pattern",
        ),
        (
            {"waivers": [{"control": "HEALTH-LNX-01", "owner": "a", "reason": "x", "expires": "next week"}]},
            "maintenance.waivers[0].expires",
            "valid date",
        ),
        ({"colour": "blue"}, "maintenance.colour", "unknown key"),
        (
            {
                "schedules": [
                    {
                        "name": "m",
                        "cron": "0 25 * * *",
                        "roles": ["linux_health"],
                        "window": {"duration_minutes": 60},
                    }
                ]
            },
            "maintenance.schedules[0].cron",
            "not a valid five-field cron expression",
        ),
        (
            {"schedules": [{"name": "m", "cron": "0 22 * * 6", "roles": ["linux_health"], "window": {}}]},
            "maintenance.schedules[0].window",
            "exactly one of duration_minutes or end",
        ),
    ],
)
def test_schema_errors_name_file_key_and_expectation(
    make_client: MakeClient, change: dict[str, Any], key: str, expected: str
) -> None:
    found = problems_of(make_client, settings=settings(**change))
    assert any(
        f.endswith("acme/group_vars/all/maintenance.yml") and k == key and expected in m for f, k, m in found
    ), found


def test_wrong_type_in_thresholds(make_client: MakeClient) -> None:
    found = problems_of(make_client, settings=settings(thresholds={"linux_health": ["fs_warn_pct", 80]}))
    assert found[0][1] == "maintenance.thresholds.linux_health"
    assert "valid dictionary" in found[0][2]


def test_malformed_yaml_names_line(make_client: MakeClient) -> None:
    found = problems_of(make_client, raw_settings="maintenance:\n  display_name: [unclosed\n")
    (file, key, message), *_ = found
    assert file.endswith("maintenance.yml")
    assert key.startswith("line ")
    assert "not valid YAML" in message


def test_missing_settings_and_bad_hosts(make_client: MakeClient) -> None:
    root = make_client(hosts={"all": {"hosts": ["a", "b"]}})
    (root / "group_vars" / "all" / "maintenance.yml").unlink()
    _, problems = validate_client("acme", root.parent, ROLES)
    keys = {(Path(p.file).name, p.key) for p in problems}
    assert ("hosts.yml", "all.hosts") in keys
    assert ("maintenance.yml", "maintenance") in keys


def test_unknown_client_lists_known(make_client: MakeClient) -> None:
    root = make_client()
    with pytest.raises(UnknownClientError, match="clients: acme"):
        validate_client("nope", root.parent, ROLES)


def test_load_client_raises_with_every_problem(make_client: MakeClient) -> None:
    root = make_client(settings=settings(timezone="Mars/Base", display_name=None))
    with pytest.raises(InventoryError) as info:
        load_client("acme", root.parent, ROLES)
    assert len(info.value.problems) == 2


def test_host_patterns() -> None:
    tree = HostTree()
    tree.groups = {"all": {"linux", "windows"}, "linux": {"db"}, "windows": set(), "db": set()}
    tree.direct = {"all": set(), "linux": {"web1", "web2"}, "windows": {"dc1"}, "db": {"db1"}}
    tree.hosts = {h: set() for h in ("web1", "web2", "dc1", "db1")}
    assert tree.match("linux") == {"web1", "web2", "db1"}
    assert tree.match("linux:!db") == {"web1", "web2"}
    assert tree.match("linux:&web*") == {"web1", "web2"}
    assert tree.match("web1,dc1") == {"web1", "dc1"}
    assert tree.match("~^d") == {"dc1", "db1"}
    assert tree.match("all") == {"web1", "web2", "dc1", "db1"}
    assert tree.match("nothing") == set()


@pytest.mark.parametrize("name", ["demo", "example-acme"])
def test_shipped_clients_are_valid(name: str) -> None:
    client, problems = validate_client(name, REPO / "inventories")
    assert problems == []
    assert client is not None


def test_example_credentials_are_vaulted() -> None:
    for path in (REPO / "inventories" / "example-acme").rglob("*.yml"):
        text = path.read_text()
        if "vault_" in text and path.name == "vault.yml":
            assert text.startswith("$ANSIBLE_VAULT;1.1;AES256"), path
        assert "Exampl3-Only" not in text, f"plaintext credential in {path}"
