# Documentation only: the code is the action plugin plugins/action/maint_check.py (runs on the controller).

DOCUMENTATION = r"""
---
module: maint_check
short_description: Emit check results judged in a role's own tasks
description:
  - For a check simple enough to judge in the role (an C(assert)-like comparison), emit the result in the
    same shape as M(maint_evaluate), so the runner records it in the ledger.
  - Give either the fields of one result (O(control), O(title), O(domain), O(status), O(severity),
    O(evidence), O(remediation)) or O(results), a list of such mappings; not both.
  - Every result is validated by the C(runner.results.Finding) model; an invalid one fails the task and the
    message names the field. A valid C(fail) result does not fail the task.
  - Evidence is passed through C(runner.redact.redact) so secrets never reach the ledger.
version_added: "0.1.0"
author:
  - maint project
options:
  control:
    description: Stable control ID, upper case words joined by dashes.
    type: str
  title:
    description: One line a client can read.
    type: str
  domain:
    description: Domain of the control.
    type: str
    choices: [patching, antivirus, backup, health, network, security, inventory]
  status:
    description: Outcome of the check.
    type: str
    choices: [pass, fail, warn, not_checked, error]
  severity:
    description: How much the control matters.
    type: str
    choices: [critical, high, medium, low, info]
  evidence:
    description: Small mapping of what was observed.
    type: dict
    default: {}
  remediation:
    description: What a technician should do.
    type: str
    default: ""
  results:
    description:
      - Several results at once; each element has the keys of the single-result options above.
    type: list
    elements: dict
attributes:
  action:
    support: full
    description: Implemented as an action plugin; nothing is sent to the host.
  check_mode:
    support: full
    description: Emits results only; the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes.
  platform:
    support: full
    platforms: all
    description: Runs on the controller whatever the target is.
notes:
  - Requires the C(runner) package (this project) in the controller's Python.
seealso:
  - module: maint_evaluate
"""

EXAMPLES = r"""
- name: SEC-LNX-09 | AUDIT | Root login over SSH is disabled
  maint_check:
    control: SEC-LNX-09
    title: Root cannot log in over SSH
    domain: security
    status: "{{ 'pass' if sshd_effective.permitrootlogin == 'no' else 'fail' }}"
    severity: high
    evidence:
      permitrootlogin: "{{ sshd_effective.permitrootlogin }}"
    remediation: Set PermitRootLogin no in /etc/ssh/sshd_config and reload sshd.

- name: BKP-RESTIC-01..02 | AUDIT | Emit backup results
  maint_check:
    results:
      - control: BKP-RESTIC-01
        title: Last backup is recent
        domain: backup
        status: pass
        severity: high
      - control: BKP-RESTIC-02
        title: Repository check passes
        domain: backup
        status: not_checked
        severity: medium
        evidence:
          reason: restic check is run weekly only
"""

RETURN = r"""
maint_results:
  description:
    - The validated results with C(host) and C(role) added; same shape as M(maint_evaluate).
    - This key is read by the runner from C(runner_on_ok) events; its name is a contract.
  returned: always
  type: list
  elements: dict
  sample:
    - control: SEC-LNX-09
      title: Root cannot log in over SSH
      domain: security
      status: fail
      severity: high
      evidence: {"permitrootlogin": "yes"}
      remediation: Set PermitRootLogin no in /etc/ssh/sshd_config and reload sshd.
      host: web01
      role: linux_security
maint_summary:
  description: Number of results per status (every status present, zeros included).
  returned: always
  type: dict
  sample: {"pass": 0, "fail": 1, "warn": 0, "not_checked": 0, "error": 0}
msg:
  description: The summary as one line.
  returned: always
  type: str
  sample: "1 fail"
"""
