"""Asset facts from a collector's raw output, as the maint_assets and maint_audit actions return them.

Controller side. ``record_assets`` parses with ``runner.evaluators.assets.judge`` and returns the task result
fields: ``maint_results`` (one row for the platform's control, ASSET-LNX-01 / ASSET-WIN-01: ``pass`` with a
summary of the facts, or ``error`` with the parser's message), ``maint_summary``, ``msg`` and, only when the
output was understood, ``maint_assets`` (``{"platform", "host", "facts"}``, read by
``runner.events.from_event`` into the run's asset_facts rows): facts are never guessed.
Action plugins import it as ``ansible_collections.maint.core.plugins.plugin_utils.assets``.
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

from runner.catalogue import CatalogueError
from runner.evaluators.assets import PLATFORM_CONTROLS, control, judge
from runner.results import Status

PLATFORMS = tuple(sorted(PLATFORM_CONTROLS))


def record_assets(
    action: str, platform: str, data: Any, task: Any, task_vars: Mapping[str, Any]
) -> dict[str, Any]:
    """The task result fields of ``data`` parsed as ``platform``'s asset facts."""
    if platform not in PLATFORM_CONTROLS:
        raise AnsibleActionFail(
            f"{action}: unknown asset platform '{platform}' (one of {', '.join(PLATFORMS)})"
        )
    role_default = PLATFORM_CONTROLS[platform][0]
    host, role = task_host_role(task, task_vars, role_default)
    try:
        ctl = control(platform)
    except CatalogueError as exc:  # the platform's control is not in this catalogue
        raise AnsibleActionFail(f"{action}: {exc}") from exc
    try:
        facts, finding = judge(platform, data)
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
    out: dict[str, Any] = {
        "maint_results": rows,
        "maint_summary": counts,
        "msg": f"{platform} assets: {summary_line(counts)}",
    }
    if facts is not None:
        out["maint_assets"] = {"platform": platform, "host": host, "facts": facts}
    return out
