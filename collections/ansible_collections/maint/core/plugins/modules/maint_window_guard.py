# Documentation only: the code is the action plugin plugins/action/maint_window_guard.py (controller).

DOCUMENTATION = r"""
---
module: maint_window_guard
short_description: Start a disruptive remediation only when enough maintenance window is left
description:
  - Put it right before a task that installs, restarts or reboots. It compares the time left until the
    window end with O(minutes_needed) and returns RV(maint_window_allowed); the same value is set as the fact
    C(maint_window_allowed) so the next tasks can use C(when: maint_window_allowed).
  - The window end is O(window_end), else the C(maint_window_end) extra variable that C(maint due) passes to
    every scheduled job (ISO-8601 UTC).
  - Without a window, only an ad hoc corrective run with a ticket (C(maint_ticket), set by
    C(maint run --ticket)) is allowed; anything else is refused.
  - Every decision is emitted as a C(MAINT-WINDOW-01) check result (C(pass) when allowed, C(warn) when
    refused, evidence with the reason and minutes left), which the runner records in the ledger.
version_added: "0.1.0"
author:
  - maint project
options:
  action:
    description: What is about to happen, in a few words (C(reboot), C(install security updates)).
    type: str
    required: true
  minutes_needed:
    description: Minutes the action needs before the window closes (a reboot with its checks, an install).
    type: int
    required: true
  window_end:
    description: Window end, ISO-8601 with an offset; defaults to the C(maint_window_end) variable.
    type: str
  control:
    description: The control the remediation addresses, copied into the evidence.
    type: str
  on_closed:
    description:
      - C(skip) returns normally with RV(maint_window_allowed=false) and records the C(warn) result.
      - C(fail) fails the task (the runner then records C(error) rows for the role's controls, with why).
    type: str
    choices: [skip, fail]
    default: skip
attributes:
  action:
    support: full
    description: Implemented as an action plugin; nothing is sent to the host.
  check_mode:
    support: full
    description: Decides the same way in check mode.
  diff_mode:
    support: none
    description: Nothing changes.
  platform:
    support: full
    platforms: all
    description: Runs on the controller whatever the target is.
notes:
  - Uses the controller's clock.
  - Requires the C(runner) package (this project) in the controller's Python.
seealso:
  - module: maint.core.maint_evaluate
"""

EXAMPLES = r"""
- name: PATCH-LNX-03 | REMEDIATE | Enough window left to reboot?
  maint.core.maint_window_guard:
    action: reboot
    minutes_needed: "{{ linux_patching_reboot_minutes }}"
    control: PATCH-LNX-03
  register: linux_patching_guard

- name: PATCH-LNX-03 | REMEDIATE | Reboot
  ansible.builtin.reboot:
    reboot_timeout: 900
  when: linux_patching_guard.maint_window_allowed
"""

RETURN = r"""
maint_window_allowed:
  description: Whether the action may start now.
  returned: always
  type: bool
  sample: false
maint_window_minutes_left:
  description: Whole minutes left until the window end (0 once closed); null without a window.
  returned: always
  type: int
  sample: 12
maint_results:
  description: One C(MAINT-WINDOW-01) result (same shape as M(maint.core.maint_evaluate)); read by the runner.
  returned: always
  type: list
  elements: dict
  sample:
    - control: MAINT-WINDOW-01
      title: Disruptive remediation started only with enough maintenance window left
      domain: inventory
      status: warn
      severity: medium
      evidence: {"action": "reboot", "minutes_needed": 20, "minutes_left": 12, "reason": "only 12 min..."}
      host: web01
      role: linux_patching
msg:
  description: The reason, as one line.
  returned: always
  type: str
  sample: "only 12 min of the window left, reboot needs 20: not started"
"""
