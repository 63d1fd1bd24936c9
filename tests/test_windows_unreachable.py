"""The Windows roles through the real runner against a host whose WinRM port does not answer.

The host is 127.0.0.1 on port 1 over plain http, so nothing leaves the machine and the connection is refused
at once. Every control of every Windows role must come back as a ``not_checked`` row that says WinRM could not
connect; nothing may pass, disappear or leak the planted password.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest

from runner import evaluators
from runner.execute import RunRequest, execute
from runner.inventory import known_roles
from runner.ledger import Ledger
from runner.results import Status
from tests.conftest import BASE_SETTINGS, REPO, MakeClient

pytestmark = pytest.mark.integration

WINDOWS_ROLES = sorted(r for r in known_roles(REPO / "roles") if r.startswith("windows_"))
CANARY = "Canary-WinRM-Pa55-7f3c9e"
HOST = "acme-win-dead01"


def windows_hosts() -> dict[str, Any]:
    return {
        "all": {
            "children": {
                "windows": {
                    "hosts": {
                        HOST: {
                            "ansible_host": "127.0.0.1",
                            "ansible_port": 1,
                            "ansible_connection": "winrm",
                            "ansible_winrm_scheme": "http",
                            "ansible_winrm_transport": "ntlm",
                            "ansible_winrm_connection_timeout": 5,
                            "ansible_user": "ACME\\svc-maint",
                            "ansible_password": CANARY,
                        }
                    }
                }
            }
        }
    }


def settings(roles: list[str]) -> dict[str, Any]:
    data = copy.deepcopy(BASE_SETTINGS)
    data["roles"] = {role: ["windows"] for role in roles}
    return data


def test_windows_roles_exist() -> None:
    assert {"windows_patching", "windows_health"} <= set(WINDOWS_ROLES)


@pytest.mark.parametrize(
    "roles",
    [WINDOWS_ROLES, ["windows_patching"]],
    ids=["site.yml: every Windows role", "role.yml: windows_patching alone"],
)
def test_unreachable_winrm_host_is_not_checked(
    roles: list[str], make_client: MakeClient, private_state: Path
) -> None:
    make_client("acme", settings=settings(roles), hosts=windows_hosts())
    ledger = Ledger()
    outcome = execute(RunRequest(client="acme", ticket="T-WIN-1"), ledger)
    stored = ledger.results_for_run(outcome.run_id)

    expected = {(role, c.control) for role in roles for c in evaluators.controls_for_role(role)}
    assert {c for _, c in expected} >= (
        {f"PATCH-WIN-0{i}" for i in range(1, 5)} if "windows_patching" in roles else set()
    )
    assert {(r.role, r.control) for r in stored} == expected
    for row in stored:
        assert row.host == HOST
        assert row.status is Status.NOT_CHECKED, (row.control, row.evidence)
        reason = row.evidence["reason"]
        assert reason.startswith("host unreachable:"), reason
        assert "winrm" in reason.lower() or "ntlm" in reason.lower(), reason
        assert "127.0.0.1" in reason and "port=1" in reason.replace(" ", "") and "/wsman" in reason, reason

    leaked = [
        p
        for p in (private_state / "runs" / outcome.run_id).rglob("*")
        if p.is_file() and CANARY in p.read_text(errors="replace")
    ]
    assert leaked == []
    assert CANARY not in json.dumps([r.model_dump(mode="json") for r in stored])
    assert os.environ.get("MAINT_DB_URL")
