"""``access_approved_admins`` / ``access_approved_keys``: validated where set, one line per bad value.

They are host or group variables every access role reads (runner/inventory/hostvars.py); `maint inventory
validate` names the file, the key and the hosts a bad value reaches (exit 2).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from runner.cli import app
from runner.inventory import load_client
from runner.inventory.hostvars import access_var_problems
from tests.conftest import BASE_SETTINGS, MakeClient

ALICE = "SHA256:hK94C0RFS6hJv8rMVIPYp8xSSEcXoQJvk/KrtxPGNRM"
HOSTS = {"all": {"children": {"linux": {"hosts": {"web1": {}, "web2": {}}}}}}


def _client(make_client: MakeClient) -> Path:
    return make_client("acme", settings={**BASE_SETTINGS, "roles": {"linux_access": ["linux"]}}, hosts=HOSTS)


def test_good_lists_are_accepted(make_client: MakeClient) -> None:
    root = _client(make_client)
    (root / "group_vars" / "linux.yml").write_text(
        f"access_approved_admins: [alice, 'ACME\\\\it-admins']\naccess_approved_keys: ['{ALICE}']\n"
    )
    assert access_var_problems(load_client("acme")) == []


@pytest.mark.parametrize(
    ("where", "text", "expected"),
    [
        (
            "group_vars/linux.yml",
            "access_approved_admins: alice\n",
            "acme/group_vars/linux.yml: access_approved_admins: host web1, web2 (set for group linux): "
            "expected a list of texts, got str 'alice'",
        ),
        (
            "host_vars/web2.yml",
            "access_approved_keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDmvsaGq alice@laptop']\n",
            "acme/host_vars/web2.yml: access_approved_keys: host web2: entry 0: "
            "'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDmvsaGq alice@laptop' is not an SSH key fingerprint",
        ),
        (
            "host_vars/web1.yml",
            "access_approved_admins: [alice, 7]\n",
            "acme/host_vars/web1.yml: access_approved_admins: host web1: entry 1: "
            "expected a non-empty text, got int",
        ),
        (
            "host_vars/web1.yml",
            'access_approved_keys: "{{ team_keys }}"\n',
            "acme/host_vars/web1.yml: access_approved_keys: host web1: '{{ team_keys }}': "
            "templates are not resolved",
        ),
    ],
)
def test_a_bad_value_names_file_key_and_hosts(
    make_client: MakeClient, where: str, text: str, expected: str
) -> None:
    root = _client(make_client)
    (root / where).parent.mkdir(exist_ok=True)
    (root / where).write_text(text)
    (problem,) = access_var_problems(load_client("acme"))
    assert str(problem).startswith("inventories/" + expected) or expected in str(problem), str(problem)
    result = CliRunner().invoke(app, ["inventory", "validate", "acme"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    flat = " ".join(result.output.split())
    assert problem.key in flat and where.split("/")[-1] in flat
