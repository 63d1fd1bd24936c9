"""Collect and judge in one task: run a role's collector on the host, evaluate on the controller.

One task per role in audit mode instead of preflight + collect + evaluate: every task costs every host
a round trip, a module upload and a fork (issue 16). The action

1. checks the preflight conditions: the role's variables against its argument spec (the
   ``maint_audit`` entry point of ``meta/argument_specs.yml``: Ansible's own validation, here instead of
   the implicit task Ansible would add per role and host for a ``main`` entry point), the target is
   reached as the role's platform, and ``checks`` (the role's settings, already templated to booleans,
   each with the message to fail with);
2. runs ``collector`` on the host with ``_execute_module`` (a PowerShell ``script`` of the role's files is
   read here and passed to ``ansible.windows.win_powershell``, so a Windows role costs one WinRM command);
3. checks ``expect`` against the collected data (a collector that reports another system fails here);
4. judges the data with the ``kind`` evaluator (``plugin_utils.judge``), unless ``evaluate`` is false
   (a remediation judges after it has changed the host); ``kind: assets:<platform>`` parses asset facts
   instead and returns them as ``maint_assets`` (``plugin_utils.assets``, as the maint_assets action).

The result carries the raw data under ``result_key`` (as the collector returned it), and ``maint_results``
/ ``maint_summary`` like maint_evaluate. A collector that fails fails the task with its message; an
unreachable host is unreachable, exactly as when the collector ran as its own task.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.plugins.action import ActionBase
from ansible_collections.maint.core.plugins.plugin_utils.assets import record_assets
from ansible_collections.maint.core.plugins.plugin_utils.judge import check_thresholds, judge
from ansible_collections.maint.core.plugins.plugin_utils.preflight import (
    CHECKS_SPEC,
    require,
    validate_role_vars,
)

ASSETS_KIND = "assets:"  # kind: assets:linux / assets:windows records asset facts (plugin_utils.assets)
WINDOWS_CONNECTIONS = ("winrm", "psrp")
NETWORK_CONNECTIONS = ("network_cli", "netconf", "httpapi")


ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "kind": {"type": "str", "required": True},
    "platform": {"type": "str", "required": True, "choices": ["linux", "windows"]},
    "collector": {"type": "str", "required": True},
    "collector_args": {"type": "dict", "default": {}},
    "script": {"type": "str"},
    "result_key": {"type": "str", "required": True},
    "thresholds": {"type": "dict", "default": {}},
    "evaluate": {"type": "bool", "default": True},
    "checks": CHECKS_SPEC,
    "expect": {"type": "dict", "default": {}},
    "merge": {"type": "dict", "default": {}},
    "followup": {
        "type": "dict",
        "options": {
            "action": {"type": "str", "required": True},
            "args": {"type": "dict", "default": {}},
            "key": {"type": "str", "required": True},
            "decision": {"type": "str", "required": True},
            "always": {"type": "bool", "default": False},
        },
    },
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        role = self._task._role.get_name(include_role_fqcn=False) if self._task._role else args["kind"]
        host = str(task_vars.get("inventory_hostname", ""))

        self._preflight(role, host, args, task_vars)
        if args["evaluate"] and not args["kind"].startswith(ASSETS_KIND):  # bad thresholds: host not asked
            check_thresholds("maint_audit", args["kind"], args["thresholds"], task_vars)
        try:
            data, collected = self._collect(args, task_vars)
        finally:  # a temporary path the module needed (no pipelining) does not outlive the task
            self._remove_tmp_path(self._connection._shell.tmpdir)
        if collected.get("failed") or collected.get("unreachable"):
            collected.setdefault("msg", f"{args['collector']} failed")
            return collected
        self._expect(role, host, args["expect"], data)
        if isinstance(data, dict):
            data.update(args["merge"])
            if args["followup"]:
                followed = self._followup(args["followup"], data, task_vars)
                if followed.get("unreachable"):
                    return followed

        result.update(changed=False, failed=False)
        for key in ("warnings", "deprecations"):  # the collector's, shown as if it were its own task
            if collected.get(key):
                result[key] = collected[key]
        result[args["result_key"]] = data
        kind: str = args["kind"]
        if kind.startswith(ASSETS_KIND):  # asset facts: parsed, recorded, judged by ASSET-*-01
            result.update(record_assets("maint_audit", kind[len(ASSETS_KIND) :], data, self._task, task_vars))
        elif args["evaluate"]:
            result.update(judge("maint_audit", kind, data, args["thresholds"], self._task, task_vars))
        else:
            result["msg"] = f"{role}: collected, judged after the remediation"
        return result

    # -- steps ---------------------------------------------------------------------------------------

    def _preflight(self, role: str, host: str, args: Mapping[str, Any], task_vars: dict[str, Any]) -> None:
        validate_role_vars(self._task, self._templar, task_vars)
        transport = str(getattr(self._connection, "transport", "") or "ssh").rsplit(".", 1)[-1]
        shell = getattr(getattr(self._connection, "_shell", None), "SHELL_FAMILY", "sh")
        windows = transport in WINDOWS_CONNECTIONS or shell in ("powershell", "cmd")
        if args["platform"] == "linux" and (windows or transport in NETWORK_CONNECTIONS):
            raise AnsibleActionFail(
                f"{role} audits Linux hosts only; {host} is reached with connection '{transport}'. "
                "Remove the role from this host's group in the client's maintenance settings."
            )
        if args["platform"] == "windows" and not windows:
            raise AnsibleActionFail(
                f"{role} audits Windows hosts over WinRM/PSRP only; {host} is reached with connection "
                f"'{transport}'. Set ansible_connection: winrm for it, or remove the role from this host's "
                "group in the client's maintenance settings."
            )
        require(args["checks"])

    def _collect(self, args: Mapping[str, Any], task_vars: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        module_args = dict(args["collector_args"])
        if args["script"]:
            module_args["script"] = self._read_script(args["script"])
        collected = self._execute_module(
            module_name=args["collector"], module_args=module_args, task_vars=task_vars, wrap_async=False
        )
        if collected.get("failed") or collected.get("unreachable"):
            return None, collected
        if args["script"]:  # win_powershell: the script's last output is the collector's JSON document
            output = collected.get("output") or []
            try:
                return json.loads(output[-1]), collected
            except (IndexError, TypeError, ValueError) as exc:
                return None, {
                    "failed": True,
                    "msg": f"{args['script']} printed no JSON document as its last output ({exc})",
                    "error": collected.get("error", []),
                }
        key = args["result_key"]
        if key not in collected:
            return None, {"failed": True, "msg": f"{args['collector']} returned no '{key}'"}
        return collected[key], collected

    def _followup(
        self, spec: Mapping[str, Any], data: dict[str, Any], task_vars: dict[str, Any]
    ) -> dict[str, Any]:
        """Run the action ``spec['action']`` (e.g. ``ansible.windows.win_updates``) in this task, on the same
        connection, unless the collector's ``data[spec['decision']]`` says ``needed: false`` (and not
        ``always``); its result (None when not run) goes to ``data[spec['key']]`` for the evaluator. A failed
        run is data to judge, not a failed task (as ``ignore_errors`` on a task of its own)."""
        decision = data.get(spec["decision"])
        if not spec["always"] and isinstance(decision, Mapping) and decision.get("needed") is False:
            data[spec["key"]] = None
            return {}
        task = self._task.copy(exclude_parent=False, exclude_tasks=True)
        task.args = dict(spec["args"])
        action = self._shared_loader_obj.action_loader.get(
            spec["action"],
            task=task,
            connection=self._connection,
            play_context=self._play_context,
            loader=self._loader,
            templar=self._templar,
            shared_loader_obj=self._shared_loader_obj,
        )
        if action is None:
            raise AnsibleActionFail(f"maint_audit: followup.action: no action plugin '{spec['action']}'")
        try:
            outcome: dict[str, Any] = action.run(task_vars=task_vars)
        except AnsibleError as exc:
            outcome = {"failed": True, "msg": f"{spec['action']}: {exc}"}
        data[spec["key"]] = outcome
        return outcome

    def _read_script(self, name: str) -> str:
        path = self._find_needle("files", name)
        with open(path, encoding="utf-8-sig") as handle:
            return handle.read()

    def _expect(self, role: str, host: str, expect: Mapping[str, Any], data: Any) -> None:
        for key, wanted in expect.items():
            got = data.get(key) if isinstance(data, Mapping) else None
            if got != wanted:
                raise AnsibleActionFail(
                    f"{role} audits {wanted} hosts only; {host} reports {key} '{got}'. "
                    "Remove the role from this host's group."
                )
