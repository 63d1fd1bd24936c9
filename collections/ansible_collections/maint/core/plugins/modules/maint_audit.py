# Documentation only: the code is the action plugin plugins/action/maint_audit.py (runs on the controller).

DOCUMENTATION = r"""
---
module: maint_audit
short_description: Collect a role's data on the host and judge it on the controller, in one task
description:
  - Checks the preflight conditions, runs O(collector) on the host, checks O(expect) against the collected
    data, and judges it with the evaluator registered for O(kind) (C(runner.evaluators.get(kind))).
  - One task per role in audit mode instead of three (preflight, collect, evaluate); every task costs every
    host a round trip, a module upload and a fork.
  - A failing check is not a failed task. The task fails when a preflight condition or O(expect) does not
    hold, when the collector fails (with its message), or when the thresholds are invalid.
  - When the evaluator raises, the task still succeeds and returns one C(error) result per control.
version_added: "0.4.0"
author:
  - maint project
options:
  kind:
    description:
      - Evaluator kind, as registered with C(@evaluator(kind, ...)) in C(runner/evaluators/).
      - C(assets:linux) or C(assets:windows) parses asset facts instead (returned as C(maint_assets), with
        the ASSET-LNX-01 / ASSET-WIN-01 result), as M(maint.core.maint_assets) does.
    type: str
    required: true
  platform:
    description: The platform the role audits; the connection must reach the host as one.
    type: str
    required: true
    choices: [linux, windows]
  collector:
    description:
      - Module that collects the raw data on the host, for example C(maint.core.linux_health_facts) or
        C(ansible.windows.win_powershell).
    type: str
    required: true
  collector_args:
    description: Arguments of O(collector).
    type: dict
    default: {}
  script:
    description:
      - A PowerShell script in the role's C(files/), passed to C(ansible.windows.win_powershell) as its
        C(script). Its last output must be the collector's JSON document.
    type: str
  result_key:
    description:
      - Key of the collector's result that holds the raw data; the task result carries the data under the
        same key.
    type: str
    required: true
  thresholds:
    description: Overrides of the evaluator's defaults, as for M(maint.core.maint_evaluate).
    type: dict
    default: {}
  evaluate:
    description: Judge the data. False when a remediation follows and the role judges after it.
    type: bool
    default: true
  checks:
    description: The role's settings, checked before anything runs on the host.
    type: list
    elements: dict
    default: []
    suboptions:
      ok:
        description: The condition, templated to a boolean.
        type: bool
        required: true
      msg:
        description: The message to fail with when O(checks[].ok) is false.
        type: str
        required: true
  expect:
    description: Keys of the collected data and the values they must have (C(system=Linux)).
    type: dict
    default: {}
  merge:
    description:
      - Keys merged into the collected data before it is judged (role settings the evaluator reads, such as
        C(mode), or results of earlier tasks, such as a remediation's).
    type: dict
    default: {}
  followup:
    description:
      - An action run in the same task after the collector, on the same connection, unless the collected
        data's O(followup.decision) key is a mapping with C(needed=false) (the collector says it is not
        needed).
      - Its result, or null when it did not run, is added to the data under O(followup.key). A failed run is
        data for the evaluator to judge, not a failed task; an unreachable host is unreachable.
      - The Windows Update search of C(windows_patching) (C(ansible.windows.win_updates) with
        C(state=searched)) runs this way only when updates may be pending or the last search is too old.
    type: dict
    suboptions:
      action:
        description: The action (module or action plugin), for example C(ansible.windows.win_updates).
        type: str
        required: true
      args:
        description: Its arguments.
        type: dict
        default: {}
      key:
        description: Where its result goes in the collected data.
        type: str
        required: true
      decision:
        description: The key of the collected data that says whether it is C(needed) (and why).
        type: str
        required: true
      always:
        description: Run it whatever the decision says (a remediation judges the state after it).
        type: bool
        default: false
attributes:
  action:
    support: full
    description: An action plugin; the collector runs on the host, the judgement on the controller.
  check_mode:
    support: full
    description: The collectors only read; the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes.
  platform:
    support: full
    platforms: posix, windows
notes:
  - Requires the C(runner) package (this project, C(pip install -e .)) in the controller's Python.
seealso:
  - module: maint.core.maint_evaluate
  - module: maint.core.linux_health_facts
"""

EXAMPLES = r"""
- name: HEALTH-LNX-01..10 | AUDIT | Collect and judge host health
  maint.core.maint_audit:
    kind: linux_health
    platform: linux
    collector: maint.core.linux_health_facts
    collector_args:
      command_timeout: 30
    result_key: linux_health
    expect:
      system: Linux
  register: linux_health_results
"""

RETURN = r"""
maint_results:
  description: One check result per finding, evidence redacted, with C(host) and C(role).
  returned: when O(evaluate) is true
  type: list
  elements: dict
maint_summary:
  description: Number of results per status.
  returned: when O(evaluate) is true
  type: dict
"""
