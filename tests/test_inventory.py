"""Client inventory schema and validation: every problem names file, key and expectation."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from runner.cli import app
from runner.inventory import HostTree, load_client, validate_client
from runner.inventory.loader import InventoryError, UnknownClientError
from tests.conftest import BASE_HOSTS, BASE_SETTINGS, REPO, MakeClient

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


# --------------------------------------------------------------------------- untrusted input (issue 10, 2b)


def settings_yaml(extra: str = "", **changes: Any) -> str:
    """The client settings file as YAML text, with ``extra`` lines appended under ``maintenance:``."""
    return yaml.safe_dump({"maintenance": settings(**changes)}, sort_keys=False) + extra


def problem_at(found: list[tuple[str, str, str]], file_end: str, key: str, text: str) -> bool:
    return any(f.endswith(file_end) and k == key and text in m for f, k, m in found)


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("{{ lookup('pipe', 'id > /tmp/x; echo 85') }}", "maintenance.thresholds.linux_health.fs_warn_pct"),
        ("{% if true %}85{% endif %}", "maintenance.thresholds.linux_health.fs_warn_pct"),
    ],
)
def test_templated_threshold_is_rejected(make_client: MakeClient, value: str, key: str) -> None:
    found = problems_of(make_client, settings=settings(thresholds={"linux_health": {"fs_warn_pct": value}}))
    assert problem_at(found, "group_vars/all/maintenance.yml", key, "literal value"), found


def test_templates_rejected_anywhere_in_settings(make_client: MakeClient) -> None:
    changes = {
        "display_name": "{{ lookup('env', 'HOME') }}",
        "waivers": [{"control": "HEALTH-LNX-01", "owner": "a", "reason": "{{ q('file', '/etc/passwd') }}"}],
        "schedules": [
            {
                "name": "m",
                "cron": "{{ '0 22 * * 6' }}",
                "roles": ["linux_health"],
                "window": {"duration_minutes": 60},
            }
        ],
    }
    found = problems_of(make_client, settings=settings(**changes))
    keys = {k for _, k, m in found if "template" in m}
    assert keys >= {
        "maintenance.display_name",
        "maintenance.waivers[0].reason",
        "maintenance.schedules[0].cron",
    }, found


def test_impossible_blackout_date_names_file_and_key(make_client: MakeClient) -> None:
    raw = settings_yaml("  blackout:\n    dates: [2026-02-28, 2026-02-30]\n")
    found = problems_of(make_client, raw_settings=raw)
    assert problem_at(found, "maintenance.yml", "maintenance.blackout.dates[1]", "2026-02-30"), found


def test_duplicate_keys_name_both_lines(make_client: MakeClient) -> None:
    raw = settings_yaml("  thresholds:\n    linux_health:\n      fs_warn_pct: 80\n      fs_warn_pct: 95\n")
    raw = raw.replace("  waivers: []\n", "")
    lines = raw.splitlines()
    first = lines.index("      fs_warn_pct: 80") + 1
    found = problems_of(make_client, raw_settings=raw)
    assert problem_at(
        found,
        "maintenance.yml",
        "maintenance.thresholds.linux_health",
        f"duplicate key 'fs_warn_pct' on line {first + 1} (first on line {first})",
    ), found


BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['lol'] * 9)}]\n"
    for prev, name in zip(["", "a", "b", "c", "d", "e", "f", "g"], "abcdefgh", strict=True)
)


def test_alias_bomb_in_host_vars_is_refused(make_client: MakeClient) -> None:
    root = make_client()
    (root / "host_vars").mkdir()
    (root / "host_vars" / "localhost.yml").write_text(BOMB)
    _, problems = validate_client("acme", root.parent, ROLES)
    assert [(Path(p.file).name, p.message) for p in problems] == [
        ("localhost.yml", "more than 1,000,000 values once aliases are expanded (an alias bomb?)")
    ]


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("deep: " + "[" * 200 + "]" * 200 + "\n", "deep" + "[0]" * 64, "nested more than 64 levels deep"),
        ("serial: " + "9" * 5000 + "\n", "serial", "an integer of 5000 digits"),
        ("loop: &x [1, *x]\n", "loop[1]", "a recursive structure"),
        ("{% raw %}\n", "line 1, column 2", "not valid YAML"),
    ],
)
def test_hostile_group_vars_are_refused(make_client: MakeClient, text: str, key: str, message: str) -> None:
    root = make_client()
    (root / "group_vars" / "linux").mkdir()
    (root / "group_vars" / "linux" / "vars.yml").write_text(text)
    _, problems = validate_client("acme", root.parent, ROLES)
    assert len(problems) == 1, problems
    assert problems[0].file.endswith("group_vars/linux/vars.yml")
    assert problems[0].key.startswith(key[:60]) and message in problems[0].message, problems[0]


def test_huge_hosts_file_is_refused_quickly(make_client: MakeClient) -> None:
    root = make_client()
    hosts = "all:\n  hosts:\n" + "".join(
        f"    h{i}.example.com: {{ansible_host: 10.0.0.1}}\n" for i in range(600_000)
    )
    (root / "hosts.yml").write_text(hosts)
    _, problems = validate_client("acme", root.parent, ROLES)
    assert [(Path(p.file).name, p.message) for p in problems][:1] == [
        ("hosts.yml", "document larger than the 2 MiB limit")
    ]


def test_settings_defined_outside_group_vars_all(make_client: MakeClient) -> None:
    """``maintenance`` in host_vars or a group's vars would override the validated settings for a host."""
    hosts = copy.deepcopy(BASE_HOSTS)
    hosts["all"]["children"]["linux"]["vars"] = {"maintenance": {"thresholds": {}}}
    root = make_client(hosts=hosts)
    (root / "host_vars").mkdir()
    (root / "host_vars" / "localhost.yml").write_text("maintenance:\n  thresholds: {}\n")
    _, problems = validate_client("acme", root.parent, ROLES)
    assert {(Path(p.file).name, p.key) for p in problems} == {
        ("hosts.yml", "all.children.linux.vars.maintenance"),
        ("localhost.yml", "maintenance"),
    }


def test_waiver_for_unknown_control(make_client: MakeClient) -> None:
    waivers = [
        {"control": "HEALTH-LNX-01", "owner": "a", "reason": "x"},
        {"control": "HEALTH-LNX-99", "owner": "a", "reason": "x"},
        {"control": "NOPE-XYZ-01", "owner": "a", "reason": "x"},
    ]
    found = problems_of(make_client, settings=settings(waivers=waivers))
    assert [(k, m.split(" (")[0]) for _, k, m in found] == [
        ("maintenance.waivers[1].control", "unknown control 'HEALTH-LNX-99'"),
        ("maintenance.waivers[2].control", "unknown control 'NOPE-XYZ-01'"),
    ]
    assert "did you mean HEALTH-LNX-0" in found[0][2]


def test_shipped_waivers_and_runner_controls_are_known() -> None:
    from runner.controls import is_known, known_controls

    assert is_known("MAINT-SCHED-01") and is_known("NET-IOS-04") and not is_known("HEALTH-LNX-99")
    assert "PATCH-LNX-04" in known_controls()


def test_validate_handles_each_client_on_its_own(make_client: MakeClient) -> None:
    make_client("alpha")
    make_client("bravo", raw_settings=settings_yaml("  blackout:\n    dates: [2026-02-30]\n"))
    make_client("charlie")
    result = CliRunner().invoke(app, ["inventory", "validate"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stdout.splitlines()
    assert any(line.startswith("✓ alpha") for line in lines)
    assert any(line.startswith("✓ charlie") for line in lines)
    assert any(line.startswith("✗ bravo") for line in lines)
    assert any("maintenance.blackout.dates[0]" in line and "2026-02-30" in line for line in lines)


def test_validate_json(make_client: MakeClient) -> None:
    make_client("alpha")
    make_client("bravo", settings=settings(timezone="Mars/Base"))
    result = CliRunner().invoke(app, ["inventory", "validate", "--json"])
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert [(c["client"], c["valid"]) for c in data] == [("alpha", True), ("bravo", False)]
    assert data[0]["hosts"] == 1 and data[0]["roles"] == ["linux_health"] and data[0]["problems"] == []
    (problem,) = data[1]["problems"]
    assert problem["file"].endswith("bravo/group_vars/all/maintenance.yml")
    assert problem["key"] == "maintenance.timezone"
    assert "unknown IANA time zone 'Mars/Base'" in problem["message"]


@pytest.mark.parametrize(
    "command",
    [
        ["schedule", "--now", "2026-03-01T00:00:00Z"],
        ["due", "--dry-run", "--now", "2026-03-01T21:10:00Z"],
    ],
    ids=["schedule", "due"],
)
def test_commands_over_clients_skip_only_the_bad_one(make_client: MakeClient, command: list[str]) -> None:
    schedules = [
        {
            "name": "monthly",
            "cron": "0 22 1 * *",
            "roles": ["linux_health"],
            "window": {"duration_minutes": 60},
        }
    ]
    make_client("alpha", settings=settings(schedules=schedules))
    make_client("bravo", raw_settings=settings_yaml("  blackout:\n    dates: [2026-02-30]\n"))
    result = CliRunner().invoke(app, command)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, result.output
    bravo = [line for line in result.output.splitlines() if "bravo" in line]
    assert bravo and any("2026-02-30" in line for line in result.output.splitlines()), result.output
    assert "alpha" in result.output, result.output


@pytest.mark.parametrize("name", ["", ".", "..", "../acme", "acme/group_vars", "acme\\x"])
def test_a_client_is_one_folder_under_inventories(make_client: MakeClient, name: str) -> None:
    root = make_client()
    with pytest.raises(UnknownClientError, match="clients: acme"):
        validate_client(name, root.parent, ROLES)


def test_validate_names_a_bad_asset_criticality_with_its_file(make_client: MakeClient) -> None:
    root = make_client("alpha")
    host = sorted(load_client("alpha").tree.hosts)[0]
    (root / "host_vars").mkdir(exist_ok=True)
    (root / "host_vars" / f"{host}.yml").write_text("asset_criticality: urgent\n")
    result = CliRunner().invoke(app, ["inventory", "validate"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    problem = [line for line in result.stdout.splitlines() if "asset_criticality" in line]
    assert len(problem) == 1 and f"host_vars/{host}.yml" in problem[0] and "'urgent'" in problem[0]
