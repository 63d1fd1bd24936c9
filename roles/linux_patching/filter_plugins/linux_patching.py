"""Filters of the linux_patching role: the evaluator's own parser decides what a remediation installs.

Runs on the controller with this project's ``runner`` package, so the role and ``maint evaluate`` never
disagree on which updates are pending, which are security updates, or whether a reboot is required.
"""

from __future__ import annotations

import json
from typing import Any

from ansible.errors import AnsibleFilterError

from runner.evaluators import EvaluatorError, evaluate
from runner.evaluators.linux_patching import KIND, REBOOT, selected_updates
from runner.results import Status


def _plain(raw: Any) -> Any:
    """Ansible hands filters lazy, tagged containers; the evaluator's strict models want plain JSON types."""
    try:
        return json.loads(json.dumps(raw))
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"linux_patching: collector output is not JSON data: {exc}") from exc


def linux_patching_selected(raw: Any, which: str = "all", pinned: bool = False) -> list[str]:
    """Names of the pending updates (``which``: all|security); ``pinned`` gives ``name=candidate``."""
    try:
        updates = selected_updates(_plain(raw), which)
    except EvaluatorError as exc:
        raise AnsibleFilterError(f"linux_patching_selected: {exc}") from exc
    return [f"{u.name}={u.candidate}" if pinned else u.name for u in updates]


def linux_patching_reboot_required(raw: Any) -> bool:
    """True when PATCH-LNX-04 fails on this collector output (flag file, needs-restarting, newer kernel)."""
    try:
        findings = evaluate(KIND, _plain(raw))
    except EvaluatorError as exc:
        raise AnsibleFilterError(f"linux_patching_reboot_required: {exc}") from exc
    return any(f.control == REBOOT.control and f.status is Status.FAIL for f in findings)


def linux_patching_envelope(before: Any, after: Any, remediation: Any) -> dict[str, Any]:
    """The evaluator's input after a remediation: judge ``after``, compare versions with ``before``."""
    return {"mode": "remediate", "current": after, "before": before, "remediation": remediation}


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "linux_patching_selected": linux_patching_selected,
            "linux_patching_reboot_required": linux_patching_reboot_required,
            "linux_patching_envelope": linux_patching_envelope,
        }
