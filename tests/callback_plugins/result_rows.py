"""Ansible callback for tests/test_windows_winrm.py: the full ``maint_results`` rows and the audit data.

Enabled with ``ANSIBLE_CALLBACK_PLUGINS=<this folder>`` and ``ANSIBLE_CALLBACKS_ENABLED=result_rows``; at the
end of the playbook it writes ``MAINT_RESULT_ROWS`` (a JSON list): per task result with ``maint_results`` the
host, the role, the rows as the action returned them, ``maint_assets`` when present and the collected data
(the result's other keys named by ``MAINT_RESULT_KEYS``, comma-separated). It prints nothing.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "result_rows"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[dict[str, Any]] = []

    def v2_runner_on_ok(self, result: Any) -> None:
        rows = result._result.get("maint_results")
        if not isinstance(rows, list):
            return
        task = result._task
        keys = [k for k in os.environ.get("MAINT_RESULT_KEYS", "").split(",") if k]
        self.entries.append(
            {
                "host": result._host.get_name(),
                "role": task._role.get_name(include_role_fqcn=False) if task._role else None,
                "rows": rows,
                "assets": result._result.get("maint_assets"),
                "data": {k: result._result[k] for k in keys if k in result._result},
            }
        )

    def v2_playbook_on_stats(self, stats: Any) -> None:
        path = os.environ.get("MAINT_RESULT_ROWS")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(self.entries, handle)
