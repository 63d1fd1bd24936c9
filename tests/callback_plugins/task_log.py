"""Ansible callback for tests/test_task_counts.py: every task result per host, and its maint_results controls.

Enabled with ``ANSIBLE_CALLBACK_PLUGINS=<this folder>`` and ``ANSIBLE_CALLBACKS_ENABLED=task_log``; at the
end of the playbook it writes ``MAINT_TASK_LOG`` (a JSON list): per task result the host, the role, the task
name, the status (ok, changed, failed, skipped, unreachable) and, when the result has ``maint_results``,
each row's control, host and status. It prints nothing: the play recap on stdout stays Ansible's own.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_log"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[dict[str, Any]] = []

    def _record(self, result: Any, status: str) -> None:
        task = result._task
        role = task._role.get_name(include_role_fqcn=False) if task._role else None
        rows = result._result.get("maint_results")
        if status == "ok" and result._result.get("changed"):
            status = "changed"
        self.entries.append(
            {
                "host": result._host.get_name(),
                "role": role,
                "task": task.get_name(),
                "action": task.action,
                "status": status,
                "msg": str(result._result.get("msg", ""))[:500]
                if status in ("failed", "unreachable")
                else "",
                "results": None
                if not isinstance(rows, list)
                else [
                    {"control": r.get("control"), "host": r.get("host"), "status": r.get("status")}
                    for r in rows
                ],
            }
        )

    def v2_runner_on_ok(self, result: Any) -> None:
        self._record(result, "ok")

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats: Any) -> None:
        path = os.environ.get("MAINT_TASK_LOG")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(self.entries, handle)
