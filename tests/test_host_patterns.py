"""Host selection agrees with Ansible: every pattern form of Ansible's "Patterns" page.

The truth is ``ansible PATTERN -i hosts.yml --list-hosts [--limit LIMIT]`` run as a command on
the same inventory file; maint's plan (``Client.plan``) must give the same hosts, and the
validation-only matcher (``HostTree.match``) must agree on which hosts (or, for subscripts,
whether any) a pattern selects. The inventory holds a vaulted value, a vault-encrypted
group_vars file and templated values: planning needs no vault password and runs no template.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from runner.cli import app
from runner.inventory import load_client
from runner.inventory.patterns import (
    PatternError,
    expand_host_range,
    job_limit,
    pattern_problem,
    split_pattern,
)
from tests.conftest import BASE_HOSTS, BASE_SETTINGS, MakeClient

BIN = Path(sys.executable).parent

HOSTS_YML = """\
all:
  hosts:
    loner.example.com:
  children:
    linux:
      children:
        webs:
          hosts:
            web[01:03].example.com:
              api_key: !vault |
                $ANSIBLE_VAULT;1.1;AES256
                62313835393533616436666133363066336466626336313632363534343433376137616633323037
              motd: "{{ lookup('pipe', 'touch CANARY_FILE') }}"
        dbs:
          hosts:
            db-[a:c]:
          vars:
            ansible_user: "{{ lookup('pipe', 'touch CANARY_FILE') }}"
    windows:
      hosts:
        win01:
        win02:
    staging:
      hosts:
        web01.example.com:
        db-a:
        win02:
    prod:
      hosts:
        web02.example.com:
        web03.example.com:
        db-b:
        db-c:
        win01:
"""

# every form of https://docs.ansible.com/ansible/latest/inventory_guide/intro_patterns.html
LIMITS = [
    "all",
    "*",
    "web01.example.com",
    "webs",
    "webs:dbs",
    "webs,dbs",
    "webs:!staging",
    "linux:!dbs",
    "!dbs,linux",
    "linux,!dbs",
    "linux:&staging",
    "webs:dbs:&staging:!db-a",
    "web*",
    "*.example.com",
    "db-?",
    "web0[12].example.com",
    "web01.example.com,win0*",
    "~web\\d+",
    "~(web|db)",
    "~.*\\.example\\.com",
    "ungrouped",
    "lin*",
    "webs[0]",
    "webs[-1]",
    "linux[0:2]",
    "prod[1:]",
    "webs[0],dbs[-1]",
    "&linux",
    "!windows",
    "nothing-at-all",
]


def ansible_list_hosts(inventory: Path, pattern: str, limit: str | None = None) -> list[str]:
    """The hosts ``ansible --list-hosts`` prints (empty when it selects none)."""
    cmd = [str(BIN / "ansible"), pattern, "-i", str(inventory), "--list-hosts"]
    if limit is not None:
        cmd += ["--limit", limit]
    env = {**os.environ, "ANSIBLE_HOST_PATTERN_MISMATCH": "ignore", "ANSIBLE_NOCOLOR": "1"}
    env.pop("ANSIBLE_VAULT_PASSWORD_FILE", None)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=inventory.parent, check=False)
    if proc.returncode != 0:
        assert "no hosts" in proc.stderr or "No hosts matched" in proc.stderr, proc.stderr
        return []
    lines = proc.stdout.splitlines()
    assert lines[0].strip().startswith("hosts ("), proc.stdout
    return sorted(line.strip() for line in lines[1:] if line.strip())


@pytest.fixture
def acme(make_client: MakeClient) -> Path:
    settings = copy.deepcopy(BASE_SETTINGS)
    settings["roles"] = {"linux_health": ["all"]}
    root = make_client("acme", settings=settings)
    (root / "hosts.yml").write_text(HOSTS_YML)
    # a vault-encrypted group_vars file: reading it would need a password planning never has
    (root / "group_vars" / "all" / "vault.yml").write_text("$ANSIBLE_VAULT;1.1;AES256\n6162636465\n")
    return root


def ansible_play_hosts(inventory: Path, patterns: list[str]) -> dict[str, list[str]]:
    """The hosts ``ansible-playbook --list-hosts`` prints for one play per pattern (one process)."""
    plays = [
        {"name": f"P{i}", "hosts": p, "gather_facts": False, "tasks": []} for i, p in enumerate(patterns)
    ]
    playbook = inventory.parent / "patterns.yml"
    playbook.write_text(yaml.safe_dump(plays))
    cmd = [str(BIN / "ansible-playbook"), "-i", str(inventory), "--list-hosts", str(playbook)]
    env = {**os.environ, "ANSIBLE_HOST_PATTERN_MISMATCH": "ignore", "ANSIBLE_NOCOLOR": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=inventory.parent, check=True)
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line in proc.stdout.splitlines():
        head = line.strip()
        if head.startswith("play #"):
            current = found.setdefault(patterns[int(head.split("#")[1].split()[0]) - 1], [])
        elif line.startswith("      ") and head:
            current.append(head)
    playbook.unlink()
    return {p: sorted(found.get(p, [])) for p in patterns}


@pytest.fixture
def truth(acme: Path) -> dict[str, list[str]]:
    """Ansible's answer for every pattern: as a play's hosts (every case, one process) and,
    for the forms the issue names, as ``--limit`` of ``ansible all --list-hosts``."""
    plays = ansible_play_hosts(acme / "hosts.yml", LIMITS)
    for limit in ("!dbs,linux", "webs[0]", "~web\\d+", "linux:&staging", "*.example.com", "linux[0:2]"):
        assert ansible_list_hosts(acme / "hosts.yml", "all", limit) == plays[limit], limit
    return plays


def test_plan_and_validation_matcher_agree_with_ansible_on_every_pattern_form(
    acme: Path, truth: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MAINT_VAULT_PASSWORD_FILE", raising=False)
    monkeypatch.chdir(acme)
    client = load_client("acme")
    # the inventory's ranges are hosts, as Ansible expands them
    assert {"web01.example.com", "web03.example.com", "db-b"} <= set(client.tree.hosts)
    assert "web[01:03].example.com" not in client.tree.hosts
    assert sorted(client.tree.hosts) == ansible_list_hosts(acme / "hosts.yml", "all")
    disagree = {}
    for limit, expected in truth.items():
        got = client.plan(limit=limit)["linux_health"]
        if got != expected:
            disagree[limit] = (got, expected)
        tree = sorted(client.tree.match(limit))
        if "[" in limit and limit.endswith("]") and not limit.startswith("~"):
            if bool(tree) != bool(expected):  # subscripts: order is Ansible's; emptiness must agree
                disagree[f"tree {limit}"] = (tree, expected)
        elif tree != expected:
            disagree[f"tree {limit}"] = (tree, expected)
    assert disagree == {}
    # the cases the issue names
    assert truth["!dbs,linux"] == ["web01.example.com", "web02.example.com", "web03.example.com"]
    assert truth["webs[0]"] == ["web01.example.com"]
    assert truth["~web\\d+"] == ["web01.example.com", "web02.example.com", "web03.example.com"]
    assert not (acme / "CANARY_FILE").exists()  # nothing was templated


def test_role_patterns_are_resolved_by_ansible_as_a_play_hosts_list(
    make_client: MakeClient, acme: Path
) -> None:
    cases = {
        "linux_health": ["linux:!staging"],
        "linux_patching": ["webs[0:1]", "dbs"],
        "windows_health": ["~win0[12]", "!win01"],
    }
    settings = copy.deepcopy(BASE_SETTINGS)
    settings["roles"] = cases
    (acme / "group_vars" / "all" / "maintenance.yml").write_text(yaml.safe_dump({"maintenance": settings}))
    client = load_client("acme")
    for role, patterns in cases.items():
        expected = ansible_list_hosts(acme / "hosts.yml", ",".join(patterns), "~.*[0-9b]$")
        assert client.hosts_for_role(role, "~.*[0-9b]$") == expected, role
    assert client.plan()["windows_health"] == ["win02"]


def test_limit_file_with_at_sign(acme: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (acme / "limit.txt").write_text("web02.example.com\ndb-c\n")
    monkeypatch.chdir(acme)
    client = load_client("acme")
    expected = ansible_list_hosts(acme / "hosts.yml", "all", "@limit.txt")
    assert client.plan(limit="@limit.txt")["linux_health"] == expected == ["db-c", "web02.example.com"]
    assert job_limit("@limit.txt,webs") == f"@{acme / 'limit.txt'},webs"


@pytest.mark.parametrize(
    ("limit", "says"),
    [
        ("~[", "not a valid regular expression"),
        ("~(web", "not a valid regular expression"),
        ("webs:[", "unbalanced"),
        ("webs[9]", "No hosts matched the subscripted pattern"),
        ("@no-such-file", "Unable to find limit file"),
    ],
)
def test_a_limit_ansible_cannot_read_is_one_line_naming_limit_and_exit_2(
    acme: Path, limit: str, says: str
) -> None:
    with pytest.raises(PatternError, match="--limit"):
        load_client("acme").plan(limit=limit)
    result = CliRunner().invoke(app, ["run", "acme", "--limit", limit])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "--limit" in lines[0] and says in lines[0], result.output
    assert "Traceback" not in result.output


def test_a_limit_that_matches_nothing_stays_exit_2(acme: Path) -> None:
    result = CliRunner().invoke(app, ["run", "acme", "--limit", "nothing-at-all"])
    assert result.exit_code == 2
    assert "--limit 'nothing-at-all' selects no host" in result.output


def test_invalid_role_pattern_is_a_validation_problem(make_client: MakeClient) -> None:
    settings = copy.deepcopy(BASE_SETTINGS)
    settings["roles"] = {"linux_health": ["~["]}
    make_client("acme", settings=settings)
    result = CliRunner().invoke(app, ["inventory", "validate", "acme"])
    assert result.exit_code == 2
    assert "maintenance.roles.linux_health[0]: '~[' '~[' is not a valid regular expression" in result.output


def test_pure_helpers_follow_ansible() -> None:
    assert expand_host_range("web[01:03].example.com") == [
        "web01.example.com",
        "web02.example.com",
        "web03.example.com",
    ]
    assert expand_host_range("db-[a:c]") == ["db-a", "db-b", "db-c"]
    assert expand_host_range("n[1:9:4]-[x:y]") == ["n1-x", "n1-y", "n5-x", "n5-y", "n9-x", "n9-y"]
    assert expand_host_range("odd[3:1]") == ["odd[3:1]"]
    assert split_pattern("a:b[1:2]:!c") == ["a", "b[1:2]", "!c"]
    assert split_pattern("fe80::1") == ["fe80::1"]
    assert split_pattern("web[01:03]") == ["web[01:03]"]
    assert split_pattern(" a , b ") == ["a", "b"]
    assert pattern_problem("linux:!db") is None
    assert pattern_problem("") == "is empty"


@pytest.mark.integration
def test_the_job_gets_the_limit_and_runs_what_was_planned(
    make_client: MakeClient, private_state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    from runner.ledger import Ledger

    hosts = copy.deepcopy(BASE_HOSTS)
    # two more hosts from one ranged entry; never contacted (the limit leaves them out)
    hosts["all"]["children"]["linux"]["hosts"]["web[01:02]"] = {
        "ansible_host": "127.0.0.1",
        "ansible_port": 1,
    }
    root = make_client("acme", hosts=hosts)
    (root / "limit.txt").write_text("localhost\nweb02\n")
    monkeypatch.chdir(root)
    limit = "@limit.txt,!web*"
    assert load_client("acme").plan(limit=limit) == {"linux_health": ["localhost"]}
    result = CliRunner().invoke(app, ["run", "acme", "--limit", limit, "--json"], catch_exceptions=False)
    outcome = json.loads(result.output)
    assert {r["host"] for r in outcome["results"]} == {"localhost"}
    command = json.loads((Path(outcome["artifact_dir"]) / "command").read_text())["command"]
    assert command[command.index("--limit") + 1] == f"@{root / 'limit.txt'},!web*"
    info = Ledger().run(outcome["run_id"])
    assert info is not None and info.limit == limit
