"""maint_audit: the preflight folded into the one task of a role (issue 16).

Real ansible-playbook runs on this machine (local connection): a role's settings, its variables' types and
the platform are still checked before anything runs on the host, with one line naming what is wrong; the
documentation of the action names every option it takes.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO, run_playbook

PLUGINS = REPO / "collections" / "ansible_collections" / "maint" / "core" / "plugins"

PLAYBOOK = """\
- name: A Linux role on a host reached with PowerShell
  hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    ansible_shell_type: powershell
  roles:
    - role: linux_health

- name: A role variable of the wrong type
  hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    linux_health_smart: sometimes
  roles:
    - role: linux_health

- name: A restic repository without its password
  hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    linux_backup_restic_repository: /srv/restic-repo
  roles:
    - role: linux_backup

- name: A patching mode that does not exist
  hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    maint_mode: sometimes
  roles:
    - role: linux_patching

- name: A network device whose platform is not supported
  hosts: localhost
  gather_facts: false
  vars:
    network_config_platform: junos
    network_config_username: admin
    network_config_password: not-a-real-one
  roles:
    - role: network_config
"""


@pytest.fixture(scope="module")
def plays(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Play name -> [(task name, localhost's result)] in the order they ran.

    One ansible-playbook per play: a play whose only host fails ends the playbook.
    """
    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for i, play in enumerate(yaml.safe_load(PLAYBOOK)):
        work = tmp_path_factory.mktemp(f"audit-play-{i}")
        (work / "play.yml").write_text(yaml.safe_dump([play]))
        proc = run_playbook(work, "-i", "localhost,", "-c", "local", str(work / "play.yml"), timeout=120)
        assert proc.returncode == 2, f"{play['name']}: {proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        [ran] = json.loads(proc.stdout)["plays"]
        out[ran["play"]["name"]] = [(t["task"]["name"], t["hosts"]["localhost"]) for t in ran["tasks"]]
    return out


def only_task(plays: dict[str, list[tuple[str, dict[str, Any]]]], play: str) -> dict[str, Any]:
    """The play ran one task, and it failed before the host was asked anything."""
    [(_name, res)] = plays[play]
    assert res["failed"] is True
    assert "maint_results" not in res
    return res


def test_the_platform_is_checked_before_the_collector_runs(plays: dict[str, Any]) -> None:
    res = only_task(plays, "A Linux role on a host reached with PowerShell")
    assert res["msg"].startswith("linux_health audits Linux hosts only; localhost is reached with")
    assert "linux_health" not in res  # nothing was collected


def test_role_variables_are_validated_by_the_argument_spec_without_a_task_of_their_own(
    plays: dict[str, Any],
) -> None:
    res = only_task(plays, "A role variable of the wrong type")
    assert res["msg"].startswith("Validation of arguments failed for role linux_health: ")
    assert "linux_health_smart" in res["msg"]
    [(name, _res)] = plays["A role variable of the wrong type"]
    assert "Validating arguments" not in name


def test_a_role_setting_check_fails_with_its_own_message(plays: dict[str, Any]) -> None:
    res = only_task(plays, "A restic repository without its password")
    assert "has a restic repository" in res["msg"] and "no linux_backup_restic_password" in res["msg"]
    assert "\n" not in res["msg"]


def test_patching_settings_are_checked_in_the_audit_task(plays: dict[str, Any]) -> None:
    res = only_task(plays, "A patching mode that does not exist")
    assert res["msg"] == "linux_patching on localhost: maint_mode 'sometimes' is not audit|remediate."


def test_network_preflight_is_in_the_review_task(plays: dict[str, Any]) -> None:
    res = only_task(plays, "A network device whose platform is not supported")
    assert res["msg"].startswith("Validation of arguments failed for role network_config: ")
    assert "network_config_platform" in res["msg"] and "junos" in res["msg"]
    assert "not-a-real-one" not in json.dumps(plays["A network device whose platform is not supported"])


def _docs(name: str) -> dict[str, Any]:
    tree = ast.parse((PLUGINS / "modules" / f"{name}.py").read_text())
    return {
        node.targets[0].id: yaml.safe_load(node.value.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id in ("DOCUMENTATION", "EXAMPLES", "RETURN")
        and isinstance(node.value, ast.Constant)
    }


@pytest.mark.parametrize("name", ["maint_audit", "maint_evaluate", "network_config"])
def test_action_documentation_names_every_option_of_its_argument_spec(name: str) -> None:
    import importlib

    action = importlib.import_module(f"ansible_collections.maint.core.plugins.action.{name}")
    docs = _docs(name)
    assert docs["DOCUMENTATION"]["module"] == name
    assert set(docs["DOCUMENTATION"]["options"]) == set(action.ARGUMENT_SPEC)


def test_no_role_has_a_main_argument_spec_that_would_add_a_task_per_host() -> None:
    for path in sorted((REPO / "roles").glob("*/meta/argument_specs.yml")):
        entries = yaml.safe_load(path.read_text())["argument_specs"]
        assert "main" not in entries and "maint_audit" in entries, path
        tasks = "\n".join(p.read_text() for p in sorted(Path(path.parent.parent, "tasks").glob("*.yml")))
        assert "maint.core.maint_audit:" in tasks or "maint.core.network_config:" in tasks, path
