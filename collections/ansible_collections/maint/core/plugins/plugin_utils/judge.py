"""Judge raw collected data with a ``runner`` evaluator: the shared body of maint_evaluate and maint_audit.

Controller side. ``judge`` returns the task result fields (``maint_results``, ``maint_summary``, ``msg``) or
raises ``AnsibleActionFail`` for an unknown kind or bad thresholds (named where they were set). An
evaluator that breaks yields one ``error`` row per control it owns, so no control silently disappears.
Action plugins import it as ``ansible_collections.maint.core.plugins.plugin_utils.judge``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible_collections.maint.core.plugins.plugin_utils.results import (
    result_rows,
    summary,
    summary_line,
    task_host_role,
)

from runner.catalogue.thresholds import key_path, locate_problems
from runner.evaluators import EvaluatorError, UnknownKindError, get
from runner.results import Status


def judge(
    action: str,
    kind: str,
    data: Any,
    thresholds: Mapping[str, Any] | None,
    task: Any,
    task_vars: Mapping[str, Any],
) -> dict[str, Any]:
    """``maint_results`` / ``maint_summary`` / ``msg`` of ``data`` judged by the ``kind`` evaluator."""
    evaluator = check_thresholds(action, kind, thresholds, task_vars)
    limits = dict(thresholds or {})
    try:
        findings = evaluator(data, limits)
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
    rows = result_rows(findings, *task_host_role(task, task_vars))
    counts = summary(rows)
    return {"maint_results": rows, "maint_summary": counts, "msg": f"{kind}: {summary_line(counts)}"}


def check_thresholds(
    action: str, kind: str, thresholds: Mapping[str, Any] | None, task_vars: Mapping[str, Any]
) -> Any:
    """The ``kind`` evaluator, once its thresholds hold; else ``AnsibleActionFail`` naming each bad one."""
    try:
        evaluator = get(kind)
    except UnknownKindError as exc:
        raise AnsibleActionFail(f"{action}: {exc}") from exc
    problems = threshold_problems(evaluator.role, dict(thresholds or {}), task_vars)
    if problems:  # the same words as `maint inventory validate`; nothing is judged on bad settings
        raise AnsibleActionFail(f"{action}: {'; '.join(problems)}")
    return evaluator


def threshold_problems(role: str, thresholds: Mapping[str, Any], task_vars: Mapping[str, Any]) -> list[str]:
    """``key: expectation`` per bad threshold, named where it was set.

    A value the client's ``maintenance.thresholds.<role>`` overrides is named by that key path; any
    other by its role variable (``<role>_<name>``, from the role's defaults or the play).
    """
    maintenance = task_vars.get("maintenance")
    settings = maintenance.get("thresholds") if isinstance(maintenance, Mapping) else None
    overrides = settings.get(role) if isinstance(settings, Mapping) else None
    from_client = set(overrides) if isinstance(overrides, Mapping) else set()
    out = []
    for loc, message in locate_problems(role, dict(thresholds)):
        name, rest = (str(loc[1]), loc[2:]) if len(loc) > 1 else ("", ())
        if not name:
            where = f"thresholds ({role})"
        elif name in from_client:
            where = f"maintenance.thresholds.{key_path(loc)}"
        else:
            where = f"{role}_{name}{key_path(('', *rest))}"
        out.append(f"{where}: {message}")
    return out
