"""Judge raw collected data with a ``runner`` evaluator and emit check results (docs: plugins/modules).

Runs on the controller. The task result carries ``maint_results`` (one dict per finding, evidence
redacted) and ``maint_summary`` (count per status); the runner reads ``maint_results`` from the
``runner_on_ok`` events. A failing check is not a failed task; an evaluator that breaks yields one
``error`` result per control it owns, so no control silently disappears.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from runner.evaluators import EvaluatorError, UnknownKindError, get
from runner.redact import redact
from runner.results import Finding, Status

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "kind": {"type": "str", "required": True},
    "data": {"type": "raw", "required": True},
    "thresholds": {"type": "dict", "default": {}},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        kind: str = args["kind"]
        try:
            evaluator = get(kind)
        except UnknownKindError as exc:
            raise AnsibleActionFail(f"maint_evaluate: {exc}") from exc

        try:
            findings = evaluator(args["data"], args["thresholds"] or {})
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

        host = str(task_vars.get("inventory_hostname", ""))
        role = self._task._role.get_name(include_role_fqcn=False) if self._task._role else ""
        rows = [_row(f, host, role) for f in findings]
        summary = _summary(rows)
        result.update(
            changed=False,
            failed=False,
            maint_results=rows,
            maint_summary=summary,
            msg=f"{kind}: " + ", ".join(f"{n} {s}" for s, n in summary.items() if n),
        )
        return result


def _row(finding: Finding, host: str, role: str) -> dict[str, Any]:
    row: dict[str, Any] = finding.model_dump(mode="json")
    row["evidence"] = redact(row["evidence"])
    row["host"] = host
    row["role"] = str(role)
    return row


def _summary(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts = {status.value: 0 for status in Status}
    for row in rows:
        counts[row["status"]] += 1
    return counts
