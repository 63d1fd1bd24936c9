# Documentation only: the code is the action plugin plugins/action/maint_assets.py (runs on the controller).

DOCUMENTATION = r"""
---
module: maint_assets
short_description: Parse a collector's raw asset output into asset facts and record the inventory control
description:
  - Parses O(data), the raw output of a platform's asset collector, with C(runner.assets.parsers.parse) on the
    controller, and returns the facts as C(maint_assets) for the runner to store in the ledger's asset_facts
    table (one row per host when its facts changed).
  - Always returns one check result for the platform's control (C(ASSET-LNX-01) for linux, C(ASSET-WIN-01)
    for windows, I(Hardware and software inventory recorded)), C(pass) with the host name, OS and the counts
    of disks, filesystems, software and interfaces found, or C(error) with the parser's message naming the
    command or file it did not understand; then no C(maint_assets) is returned (facts are never guessed).
  - An output that is not understood is not a failed task; the task fails only on invalid arguments.
  - The same judgement runs from the CLI on a saved output (C(maint evaluate linux_assets FILE)).
version_added: "0.4.0"
author:
  - maint project
options:
  platform:
    description:
      - Which collector produced O(data).
    type: str
    required: true
    choices: [linux, windows]
  data:
    description:
      - The collector's raw output, for example the C(linux_assets) key of the C(linux_asset_facts) result.
    type: raw
    required: true
attributes:
  action:
    support: full
    description: Implemented as an action plugin; nothing is sent to the host.
  check_mode:
    support: full
    description: Parses only; the same in check mode.
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
  - module: maint.core.linux_asset_facts
  - module: maint.core.maint_evaluate
"""

EXAMPLES = r"""
- name: ASSET-LNX-01 | AUDIT | Record asset facts
  maint.core.maint_assets:
    platform: linux
    data: "{{ linux_assets_raw.linux_assets }}"
"""

RETURN = r"""
maint_assets:
  description:
    - The asset facts (shape documented in C(runner/assets/facts.py)), read by the runner from
      C(runner_on_ok) events; its name is a contract.
  returned: when the output was understood
  type: dict
  contains:
    platform:
      description: The O(platform).
      type: str
      sample: linux
    host:
      description: C(inventory_hostname) of the host.
      type: str
      sample: web01
    facts:
      description: The facts.
      type: dict
      sample: {"hostname": "web01", "os": {"name": "Debian GNU/Linux", "version": "12"}, "software_count": 41}
maint_results:
  description: One check result, the platform's control (same shape as M(maint.core.maint_evaluate)'s).
  returned: always
  type: list
  elements: dict
  sample:
    - control: ASSET-LNX-01
      title: Hardware and software inventory recorded
      domain: inventory
      status: pass
      severity: low
      evidence: {"hostname": "web01", "os": "Debian GNU/Linux 12", "counts": {"disks": 1, "software": 412}}
      remediation: ""
      host: web01
      role: linux_assets
maint_summary:
  description: Number of results per status (every status present, zeros included).
  returned: always
  type: dict
  sample: {"pass": 1, "fail": 0, "warn": 0, "not_checked": 0, "not_applicable": 0, "error": 0}
msg:
  description: The summary as one line.
  returned: always
  type: str
  sample: "linux assets: 1 pass"
"""
