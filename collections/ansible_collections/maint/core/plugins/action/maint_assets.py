"""Parse a collector's raw asset output on the controller; hand the facts to the ledger (docs: modules/).

Runs on the controller. The task result carries ``maint_assets`` (``{"platform", "host", "facts"}``, read by
``runner.events.from_event`` into the run's asset_facts rows) when the output was understood, and always
``maint_results`` with one row for the platform's control (ASSET-LNX-01, ASSET-WIN-01): ``pass`` with a
summary of the facts, or ``error`` with the parser's message (and then no ``maint_assets``: facts are never
guessed). An output not understood is not a failed task. The asset roles collect and record in one task
with maint_audit (``kind: assets:<platform>``); this action records data collected by another task.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.maint.core.plugins.plugin_utils.assets import PLATFORMS, record_assets
from ansible_collections.maint.core.plugins.plugin_utils.controller import ControllerAction

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "platform": {"type": "str", "required": True, "choices": list(PLATFORMS)},
    "data": {"type": "raw", "required": True},
}


class ActionModule(ControllerAction):
    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        result.update(changed=False, failed=False)
        result.update(
            record_assets("maint_assets", args["platform"], args["data"], self._task, task_vars or {})
        )
        return result
