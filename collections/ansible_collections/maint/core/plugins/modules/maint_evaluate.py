# Documentation only: the code is the action plugin plugins/action/maint_evaluate.py (runs on the controller).

DOCUMENTATION = r"""
---
module: maint_evaluate
short_description: Judge raw collected data with a maint evaluator and emit check results
description:
  - Runs the evaluator registered for O(kind) in the C(runner) package (C(runner.evaluators.get(kind))) on
    O(data) with O(thresholds), on the controller, and returns one check result per control.
  - The same evaluator runs from the CLI on a saved file (C(maint evaluate KIND FILE)), so a judgement made
    here can be replayed without the host.
  - A failing check is not a failed task; the task fails only when O(kind) is unknown or the arguments are
    invalid.
  - When the evaluator raises (data of the wrong shape, invalid thresholds, a bug), the task still succeeds
    and returns one C(error) result per control of that evaluator, with the error in its evidence.
  - Evidence is passed through C(runner.redact.redact) so secrets never reach the ledger.
version_added: "0.1.0"
author:
  - maint project
options:
  kind:
    description:
      - Evaluator kind, as registered with C(@evaluator(kind, ...)) in C(runner/evaluators/).
    type: str
    required: true
  data:
    description:
      - Raw data returned by the role's collector, for example the C(linux_health) key of the
        C(linux_health_facts) result.
    type: raw
    required: true
  thresholds:
    description:
      - Overrides of the evaluator's defaults. Keys are the role's variables without the role prefix.
      - Unknown keys and values out of range produce C(error) results naming the key.
    type: dict
    default: {}
attributes:
  action:
    support: full
    description: Implemented as an action plugin; nothing is sent to the host.
  check_mode:
    support: full
    description: Judges only; the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes.
  platform:
    support: full
    platforms: all
    description: Runs on the controller whatever the target is.
notes:
  - Requires the C(runner) package (this project, C(pip install -e .)) in the controller's Python.
seealso:
  - module: maint.core.linux_health_facts
  - module: maint.core.maint_window_guard
"""

EXAMPLES = r"""
- name: HEALTH-LNX-01..06 | AUDIT | Evaluate host health
  maint.core.maint_evaluate:
    kind: linux_health
    data: "{{ linux_health_raw.linux_health }}"
    thresholds:
      fs_warn_pct: 85
      uptime_warn_days: 60
"""

RETURN = r"""
maint_results:
  description:
    - One check result per control the evaluator judged, in the evaluator's control order.
    - This key is read by the runner from C(runner_on_ok) events; its name is a contract.
  returned: always
  type: list
  elements: dict
  contains:
    control:
      description: Stable control ID.
      type: str
      sample: HEALTH-LNX-01
    title:
      description: One line a client can read.
      type: str
      sample: Filesystems have free space
    domain:
      description: Domain of the control.
      type: str
      choices: [patching, antivirus, backup, health, network, security, inventory]
      sample: health
    status:
      description: Outcome.
      type: str
      choices: [pass, fail, warn, not_checked, not_applicable, error]
      sample: warn
    severity:
      description: How much it matters.
      type: str
      choices: [critical, high, medium, low, info]
      sample: medium
    evidence:
      description: What was observed, secrets masked.
      type: dict
      sample: {"warn_pct": 80, "fail_pct": 90, "checked": 2, "offending": [{"mount": "/var", "used_pct": 84}]}
    remediation:
      description: What a technician should do; empty when the check passed.
      type: str
      sample: "/var (84%) at or above 80% space used. Find what grew with ..."
    host:
      description: C(inventory_hostname) of the host judged.
      type: str
      sample: web01
    role:
      description: Name of the role the task belongs to, or an empty string outside a role.
      type: str
      sample: linux_health
maint_summary:
  description: Number of results per status (every status present, zeros included).
  returned: always
  type: dict
  sample: {"pass": 4, "fail": 1, "warn": 0, "not_checked": 1, "not_applicable": 0, "error": 0}
msg:
  description: The summary as one line.
  returned: always
  type: str
  sample: "linux_health: 4 pass, 1 fail, 1 not_checked"
"""
