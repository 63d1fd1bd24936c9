"""Judge raw collected data with a ``runner`` evaluator and emit check results (docs: plugins/modules).

Runs on the controller. The task result carries ``maint_results`` (one dict per finding, evidence
redacted) and ``maint_summary`` (count per status); the runner reads ``maint_results`` from the
``runner_on_ok`` events. A failing check is not a failed task; an evaluator that breaks yields one
``error`` result per control it owns, so no control silently disappears.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible_collections.maint.core.plugins.plugin_utils.controller import ControllerAction
from ansible_collections.maint.core.plugins.plugin_utils.results import (
    result_rows,
    summary,
    summary_line,
    task_host_role,
)

from runner.catalogue.thresholds import key_path, locate_problems
from runner.evaluators import EvaluatorError, UnknownKindError, get
from runner.results import Status

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
        kind: str = args["kind"]
        try:
            evaluator = get(kind)
        except UnknownKindError as exc:
            raise AnsibleActionFail(f"maint_evaluate: {exc}") from exc

        thresholds = args["thresholds"] or {}
        problems = _threshold_problems(evaluator.role, thresholds, task_vars)
        if problems:  # the same words as `maint inventory validate`; nothing is judged on bad settings
            raise AnsibleActionFail(f"maint_evaluate: {'; '.join(problems)}")

        try:
            findings = evaluator(args["data"], thresholds)
        except Exception as exc:  # an evaluator that breaks becomes error rows, never a lost control
            kind_of = "invalid data or thresholds" if isinstance(exc, EvaluatorError) else "evaluator bug"
            findings = [
                control.finding(
                    Status.ERROR,
                    {"error": str(exc), "exception": type(exc).__name__, "kind": kind},
                    remediation=(
                        f"The check could not be judged ({kind_of}). Read the error, then fix the "
                        f"collector output, the thresholds or the '{kind}' evaluator and run it again."
                    ),
                )
                for control in evaluator.controls
            ]

        rows = result_rows(findings, *task_host_role(self._task, task_vars))
        counts = summary(rows)
        result.update(
            changed=False,
            failed=False,
            maint_results=rows,
            maint_summary=counts,
            msg=f"{kind}: {summary_line(counts)}",
        )
        return result


def _threshold_problems(role: str, thresholds: dict[str, Any], task_vars: dict[str, Any]) -> list[str]:
    """``key: expectation`` per bad threshold, named where it was set.

    A value the client's ``maintenance.thresholds.<role>`` overrides is named by that key path; any
    other by its role variable (``<role>_<name>``, from the role's defaults or the play).
    """
    maintenance = task_vars.get("maintenance")
    settings = maintenance.get("thresholds") if isinstance(maintenance, Mapping) else None
    overrides = settings.get(role) if isinstance(settings, Mapping) else None
    from_client = set(overrides) if isinstance(overrides, Mapping) else set()
    out = []
    for loc, message in locate_problems(role, thresholds):
        name, rest = (str(loc[1]), loc[2:]) if len(loc) > 1 else ("", ())
        if not name:
            where = f"thresholds ({role})"
        elif name in from_client:
            where = f"maintenance.thresholds.{key_path(loc)}"
        else:
            where = f"{role}_{name}{key_path(('', *rest))}"
        out.append(f"{where}: {message}")
    return out
