"""Emit check results judged in the role itself (docs: plugins/modules/maint_check.py).

Either the fields of one finding as arguments, or ``results``: a list of them. Each is validated by
:class:`runner.results.Finding`; an invalid one fails the task with the field named. The task result
has the same ``maint_results`` / ``maint_summary`` shape as ``maint_evaluate``.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from pydantic import ValidationError

from runner.redact import redact
from runner.results import Finding, Status

FINDING_FIELDS = frozenset(Finding.model_fields)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = dict(self._task.args)

        if "results" in args:
            extra = sorted(set(args) - {"results"})
            if extra:
                raise AnsibleActionFail(
                    f"maint_check: give either 'results' or the fields of one result, not both "
                    f"(also got {', '.join(extra)})"
                )
            items = args["results"]
            if not isinstance(items, list) or not items:
                raise AnsibleActionFail("maint_check: 'results' must be a non-empty list of results")
        else:
            items = [args]

        findings = [_validate(item, index, len(items)) for index, item in enumerate(items, start=1)]

        host = str(task_vars.get("inventory_hostname", ""))
        role = self._task._role.get_name(include_role_fqcn=False) if self._task._role else ""
        rows = [_row(f, host, role) for f in findings]
        summary = _summary(rows)
        result.update(
            changed=False,
            failed=False,
            maint_results=rows,
            maint_summary=summary,
            msg=", ".join(f"{n} {s}" for s, n in summary.items() if n),
        )
        return result


def _validate(item: Any, index: int, total: int) -> Finding:
    where = f"result {index} of {total}" if total > 1 else "result"
    if not isinstance(item, dict):
        raise AnsibleActionFail(f"maint_check: {where} must be a mapping, got {type(item).__name__}")
    control = item.get("control", "?")
    try:
        return Finding.model_validate(dict(item))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "(result)"
            got = f" (got {err['input']!r})" if _showable(err) else ""
            problems.append(f"field '{field}': {err['msg']}{got}")
        raise AnsibleActionFail(
            f"maint_check: invalid {where} for control {control!r}: {'; '.join(problems)}"
        ) from exc


def _showable(err: Any) -> bool:
    """Echo the offending input only when it is a short scalar outside evidence (never a secret blob)."""
    value = err["input"]
    return (
        err["type"] != "missing"
        and err["loc"][:1] != ("evidence",)
        and isinstance(value, str | int | float | bool)
        and len(str(value)) <= 60
    )


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
