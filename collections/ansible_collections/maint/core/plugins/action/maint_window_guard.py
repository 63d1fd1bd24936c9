"""Refuse to start a disruptive remediation too close to the window end.

Docs: plugins/modules/maint_window_guard.py.

Runs on the controller. The window end comes from ``window_end`` or the ``maint_window_end``
extra variable ``maint due`` passes to scheduled jobs. The decision is returned as
``maint_window_allowed`` (also set as a fact of the same name) and recorded as a
``MAINT-WINDOW-01`` check result, so a skipped reboot or install shows in the ledger with why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible_collections.maint.core.plugins.plugin_utils.controller import ControllerAction
from ansible_collections.maint.core.plugins.plugin_utils.results import result_row, task_host_role

from runner.results import Control, Domain, Severity, Status

GUARD_CONTROL = Control(
    control="MAINT-WINDOW-01",
    title="Disruptive remediation started only with enough maintenance window left",
    domain=Domain.INVENTORY,
    severity=Severity.MEDIUM,
    remediation=(
        "The change was not made: let it run in the next window, lengthen the window, or run it ad hoc "
        "with a ticket (maint run CLIENT --mode remediate --ticket ID)."
    ),
)
ON_CLOSED = ("skip", "fail")


def _parse_end(value: Any) -> datetime:
    try:
        text = str(value)
        end = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise AnsibleActionFail(
            f"maint_window_guard: window_end must be an ISO-8601 time with offset, got {value!r}"
        ) from None
    if end.tzinfo is None:
        raise AnsibleActionFail(f"maint_window_guard: window_end needs an offset or Z: {value!r}")
    return end.astimezone(UTC)


class ActionModule(ControllerAction):
    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = dict(self._task.args)
        unknown = sorted(set(args) - {"action", "minutes_needed", "window_end", "control", "on_closed"})
        if unknown:
            raise AnsibleActionFail(f"maint_window_guard: unknown option(s) {', '.join(unknown)}")
        action = str(args.get("action") or "").strip()
        if not action:
            raise AnsibleActionFail(
                "maint_window_guard: 'action' (what is about to happen, e.g. reboot) is required"
            )
        try:
            needed = int(args.get("minutes_needed", ""))
        except (TypeError, ValueError):
            raise AnsibleActionFail(
                f"maint_window_guard: 'minutes_needed' must be a whole number of minutes, "
                f"got {args.get('minutes_needed')!r}"
            ) from None
        if needed < 0:
            raise AnsibleActionFail("maint_window_guard: 'minutes_needed' cannot be negative")
        on_closed = str(args.get("on_closed", "skip"))
        if on_closed not in ON_CLOSED:
            raise AnsibleActionFail(f"maint_window_guard: 'on_closed' must be one of {', '.join(ON_CLOSED)}")

        raw_end = args.get("window_end") or task_vars.get("maint_window_end") or ""
        ticket = str(task_vars.get("maint_ticket") or "")
        now = datetime.now(UTC)
        evidence: dict[str, Any] = {"action": action, "minutes_needed": needed, "now": now.isoformat()}
        if args.get("control"):
            evidence["for_control"] = str(args["control"])
        if raw_end:
            end = _parse_end(raw_end)
            left = int((end - now).total_seconds() // 60)
            evidence.update(window_end=end.isoformat(), minutes_left=max(left, 0))
            allowed = left >= needed
            reason = (
                f"{left} min of the window left, {action} needs {needed}"
                if allowed
                else (
                    f"window closed at {end:%Y-%m-%d %H:%M} UTC: {action} not started"
                    if left < 0
                    else f"only {left} min of the window left, {action} needs {needed}: not started"
                )
            )
        elif ticket:
            allowed, reason = True, f"ad hoc corrective run for ticket {ticket} (no schedule window)"
            evidence["ticket"] = ticket
        else:
            allowed, reason = (
                False,
                f"no maintenance window (maint_window_end) and no ticket: {action} not started",
            )
        evidence["reason"] = reason

        finding = GUARD_CONTROL.finding(Status.PASS if allowed else Status.WARN, evidence=evidence)
        row = result_row(finding, *task_host_role(self._task, task_vars))
        if not allowed and on_closed == "fail":
            raise AnsibleActionFail(f"maint_window_guard: {reason}")
        result.update(
            changed=False,
            failed=False,
            maint_window_allowed=allowed,
            maint_window_minutes_left=evidence.get("minutes_left"),
            maint_results=[row],
            ansible_facts={"maint_window_allowed": allowed},
            msg=reason,
        )
        return result
