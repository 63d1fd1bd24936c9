"""Judge raw collected data with a ``runner`` evaluator and emit check results (docs: plugins/modules).

Runs on the controller. The task result carries ``maint_results`` (one dict per finding, evidence
redacted) and ``maint_summary`` (count per status); the runner reads ``maint_results`` from the
``runner_on_ok`` events. A failing check is not a failed task; an evaluator that breaks yields one
``error`` result per control it owns, so no control silently disappears. Audits collect and judge in one
task with maint_audit; this action judges data a role collected itself (after a remediation).
"""

from __future__ import annotations

from typing import Any

from ansible_collections.maint.core.plugins.plugin_utils.controller import ControllerAction
from ansible_collections.maint.core.plugins.plugin_utils.judge import judge

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "kind": {"type": "str", "required": True},
    "data": {"type": "raw", "required": True},
    "thresholds": {"type": "dict", "default": {}},
}


class ActionModule(ControllerAction):
    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        result.update(changed=False, failed=False)
        result.update(
            judge("maint_evaluate", args["kind"], args["data"], args["thresholds"], self._task, task_vars)
        )
        return result
