"""What the README and the roles' READMEs show matches the roles they document."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

ROLES = sorted(p for p in (REPO / "roles").iterdir() if (p / "tasks" / "main.yml").is_file())


GUARD = "maint.core.maint_window_guard"  # roles call the collection's action by FQCN


def _guard_tasks(role: str) -> list[dict[str, object]]:
    """The role's window-guard tasks, inside blocks too."""
    tasks: list[dict[str, object]] = []

    def walk(items: object) -> None:
        for task in items if isinstance(items, list) else []:
            if isinstance(task, dict) and GUARD in task:
                tasks.append(task)
            elif isinstance(task, dict):
                for key in ("block", "rescue", "always"):
                    walk(task.get(key))

    for file in sorted((REPO / "roles" / role / "tasks").glob("*.yml")):
        walk(yaml.safe_load(file.read_text()))
    return tasks


def test_window_guard_example_uses_the_control_the_role_uses() -> None:
    readme = (REPO / "README.md").read_text()
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if f"{GUARD}:" in b]
    assert len(blocks) == 1
    example = yaml.safe_load(blocks[0])
    guard = next(t for t in example if GUARD in t)
    action = guard[GUARD]["action"]
    # the role whose variable the example uses: "{{ linux_patching_reboot_minutes }}"
    role = next(r.name for r in ROLES if f"{{{{ {r.name}_" in guard[GUARD]["minutes_needed"])
    (role_task,) = [t for t in _guard_tasks(role) if t[GUARD]["action"] == action]  # type: ignore[index]
    control = role_task[GUARD]["control"]  # type: ignore[index]
    assert guard[GUARD]["control"] == control
    for task in example:
        assert str(task["name"]).startswith(f"{control} |"), task["name"]
    assert guard["register"] == role_task["register"]
    reboot = next(t for t in example if t is not guard)
    assert f"{guard['register']}.maint_window_allowed" in str(reboot["when"])


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_every_role_readme_lists_its_variables(role: Path) -> None:
    readme = role / "README.md"
    assert readme.is_file(), f"{role.name} has no README.md"
    text = readme.read_text()
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    for name in defaults:
        # `linux_backup_restic_host` / `_tags` / `_path` names three variables in one row
        assert f"`{name}`" in text or f"`_{name.rsplit('_', 1)[-1]}`" in text, f"{role.name}: {name}"


def test_network_config_readme_lists_every_control_of_the_rule_packs() -> None:
    text = (REPO / "roles" / "network_config" / "README.md").read_text()
    for pack in sorted((REPO / "runner" / "network" / "rules").glob("*.yml")):
        data = yaml.safe_load(pack.read_text())
        assert f"`{data['platform']}`" in text, pack.name
        for rule in data["rules"]:
            assert re.search(rf"\| {re.escape(rule['id'])} \| {re.escape(rule['title'])} \|", text), rule[
                "id"
            ]
    for name in ("network_config_known_hosts", "ansible_become_password", "network_config_enable_secret"):
        assert name in text
