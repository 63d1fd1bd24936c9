"""Preflight checks folded into the one task of a role (maint_audit, network_config).

Controller side. ``validate_role_vars`` checks the role's variables against the ``maint_audit`` entry point
of its ``meta/argument_specs.yml`` with Ansible's own validator, in the words of ``validate_argument_spec``;
the entry point is not ``main``, so Ansible adds no validation task per role and host (every task costs every
host a fork). ``require`` fails with the messages of the role's ``checks`` (settings templated to booleans)
that do not hold.
Action plugins import it as ``ansible_collections.maint.core.plugins.plugin_utils.preflight``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import yaml
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

ENTRY_POINT = "maint_audit"

CHECKS_SPEC: dict[str, Any] = {
    "type": "list",
    "elements": "dict",
    "default": [],
    "options": {"ok": {"type": "bool", "required": True}, "msg": {"type": "str", "required": True}},
}


def validate_role_vars(task: Any, templar: Any, task_vars: Mapping[str, Any]) -> None:
    """Fail when the role's variables do not match its argument spec (nothing to check outside a role)."""
    role = task._role if task is not None else None
    role_path = getattr(role, "_role_path", None) if role else None
    spec = _argument_spec(role_path) if role_path else {}
    if not spec:
        return
    values = templar.template({name: task_vars[name] for name in spec if name in task_vars})
    outcome = ArgumentSpecValidator(spec).validate(values, validate_role_argument_spec=True)
    if outcome.error_messages:
        name = role.get_name(include_role_fqcn=False)
        raise AnsibleActionFail(
            f"Validation of arguments failed for role {name}: " + "; ".join(outcome.error_messages)
        )


def require(checks: Iterable[Mapping[str, Any]]) -> None:
    """Fail with the message of every check that does not hold, in order."""
    failed = [" ".join(str(check["msg"]).split()) for check in checks if not check["ok"]]
    if failed:
        raise AnsibleActionFail(" ".join(failed))


@lru_cache(maxsize=64)
def _argument_spec(role_path: str) -> dict[str, Any]:
    """The options of the role's ``maint_audit`` entry point (empty when the role has none)."""
    for name in ("argument_specs.yml", "argument_specs.yaml"):
        path = os.path.join(role_path, "meta", name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                document = yaml.safe_load(handle) or {}
            entry = (document.get("argument_specs") or {}).get(ENTRY_POINT) or {}
            return dict(entry.get("options") or {})
    return {}
