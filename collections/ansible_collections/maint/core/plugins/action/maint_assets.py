"""Parse a collector's raw asset output on the controller; hand the facts to the ledger (docs: modules/).

Runs on the controller. The task result carries ``maint_assets`` (``{"platform", "host", "facts"}``, read by
``runner.events.from_event`` into the run's asset_facts rows) when the output was understood, and always
``maint_results`` with one row for the platform's control (ASSET-LNX-01, ASSET-WIN-01): ``pass`` with a
summary of the facts, or ``error`` with the parser's message (and then no ``maint_assets``: facts are never
guessed). An output not understood is not a failed task.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleActionFail
from ansible_collections.maint.core.plugins.plugin_utils.controller import ControllerAction
from ansible_collections.maint.core.plugins.plugin_utils.results import (
    result_rows,
    summary,
    summary_line,
    task_host_role,
)

from runner.catalogue import CatalogueError
from runner.evaluators.assets import PLATFORM_CONTROLS, control, judge
from runner.results import Status

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "platform": {"type": "str", "required": True, "choices": sorted(PLATFORM_CONTROLS)},
    "data": {"type": "raw", "required": True},
}


class ActionModule(ControllerAction):
    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        platform: str = args["platform"]
        role_default = PLATFORM_CONTROLS[platform][0]
        host, role = task_host_role(self._task, task_vars, role_default)
        try:
            ctl = control(platform)
        except CatalogueError as exc:  # the platform's control is not in this catalogue
            raise AnsibleActionFail(f"maint_assets: {exc}") from exc
        try:
            facts, finding = judge(platform, args["data"])
        except Exception as exc:  # a parser bug is an error row, never a lost control
            facts = None
            finding = ctl.finding(
                Status.ERROR,
                {"error": str(exc), "exception": type(exc).__name__, "platform": platform},
                remediation=(
                    f"The {platform} asset facts could not be read (parser bug). Save the collector's "
                    "output, report it with the error, and fix runner/assets."
                ),
            )
        rows = result_rows([finding], host, role)
        counts = summary(rows)
        result.update(
            changed=False,
            failed=False,
            maint_results=rows,
            maint_summary=counts,
            msg=f"{platform} assets: {summary_line(counts)}",
        )
        if facts is not None:
            result["maint_assets"] = {"platform": platform, "host": host, "facts": facts}
        return result
