"""Check results as the action plugins hand them to the runner (controller side, this project's Python).

Every action plugin of maint.core returns ``maint_results`` (one dict per finding: the finding's fields,
evidence redacted, plus ``host`` and ``role``) and most also ``maint_summary`` (count per status). The runner
reads ``maint_results`` from the ``runner_on_ok`` events (runner/events.py), so their shape is a contract
and lives here once. Action plugins import it as
``ansible_collections.maint.core.plugins.plugin_utils.results``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from runner.redact import redact
from runner.results import Finding, Status


def task_host_role(task: Any, task_vars: Mapping[str, Any], default_role: str = "") -> tuple[str, str]:
    """The inventory host a task runs for and the name of its role (``default_role`` outside a role)."""
    host = str(task_vars.get("inventory_hostname", ""))
    role = task._role.get_name(include_role_fqcn=False) if task._role else default_role
    return host, str(role)


def result_row(finding: Finding, host: str, role: str) -> dict[str, Any]:
    """One ``maint_results`` element: the finding as JSON, secrets in its evidence masked."""
    row: dict[str, Any] = finding.model_dump(mode="json")
    row["evidence"] = redact(row["evidence"])
    row["host"] = host
    row["role"] = role
    return row


def result_rows(findings: Iterable[Finding], host: str, role: str) -> list[dict[str, Any]]:
    return [result_row(f, host, role) for f in findings]


def summary(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Number of rows per status, every status present (zeros included), in the Status order."""
    counts = {status.value: 0 for status in Status}
    for row in rows:
        counts[row["status"]] += 1
    return counts


def summary_line(counts: Mapping[str, int]) -> str:
    """``4 pass, 1 fail`` (statuses with no row left out)."""
    return ", ".join(f"{n} {s}" for s, n in counts.items() if n)
