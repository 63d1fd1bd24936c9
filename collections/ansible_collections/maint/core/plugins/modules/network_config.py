# Documentation only: the code is the action plugin plugins/action/network_config.py (runs on the controller).

DOCUMENTATION = r"""
---
module: network_config
short_description: Fetch, snapshot and review a network device's configuration
description:
  - Connects to the device with netmiko from the controller (device types C(cisco_ios), C(aruba_aoscx),
    C(aruba_procurve), C(fortinet)), fetches the configuration (C(show running-config); FortiOS C(show)),
    stores a snapshot in the ledger and reviews it with the platform's YAML rule pack (controls C(NET-IOS-*),
    C(NET-CX-*), C(NET-AOSS-*), C(NET-FGT-*)).
  - The raw configuration never leaves the controller process. The snapshot keeps the masked normalised text
    and the raw text Fernet-encrypted with the key from C(MAINT_SNAPSHOT_KEY) or C(MAINT_SNAPSHOT_KEY_FILE)
    (without a key, masked text only). An unchanged configuration (same hash of the masked text) stores
    nothing.
  - In the same SSH session, after the configuration, the platform's asset facts commands are sent (IOS
    C(show version), C(show inventory); AOS-CX C(show system), C(show version); AOS-S
    C(show system information), C(show version); FortiOS C(get system status)) and parsed into
    RV(maint_assets) (hostname, OS and firmware, model, serial, uptime, modules). A facts command the device
    refuses, that times out, or output that is not understood never affects the review; the facts are then
    left out (a warning and RV(network_config_assets.reason)), never half-guessed.
  - Credentials are read from the host's variables (C(network_config_username) or C(ansible_user),
    C(network_config_password) or C(ansible_password), C(network_config_enable_secret) or
    C(ansible_become_password)), never from arguments, so they never appear in task arguments or results.
  - SSH host keys are always checked against O(known_hosts) (or the controller user's C(~/.ssh/known_hosts)).
  - A host with C(network_config_simulated=true) (the demo client's devices) is not reached over the network;
    the platform's recorded device is served by C(maint_devtools/simulator.py) on a free 127.0.0.1 port for
    this fetch only, with one-time credentials and host key; the host's address and credentials are unused.
    With C(network_config_simulated_config=PATH) (relative to the inventory's folder) the simulated device
    serves that file as its running configuration instead of the recorded one; a file that cannot be read is
    a failed fetch (reason C(configuration file unreadable), the path in the detail).
  - When the fetch fails (authentication failed, timeout, connection refused or dropped, unexpected prompt or
    output, simulated configuration file unreadable) the task still succeeds and returns one C(not_checked)
    result per control of the platform, with the reason in the evidence. Controls of the other platforms are
    returned C(not_checked) as outside scope.
version_added: "0.1.0"
author:
  - maint project
options:
  platform:
    description: The device's platform.
    type: str
    required: true
    choices: [cisco_ios, aruba_aoscx, aruba_aoss, fortios]
  thresholds:
    description:
      - Per-client rule overrides (the client's C(maintenance.thresholds.network_config)), passed to the
        review.
    type: dict
    default: {}
  known_hosts:
    description: known_hosts file with the device's SSH host key; default the controller user's.
    type: path
  conn_timeout:
    description: Seconds to wait for the connection, SSH banner and login.
    type: float
    default: 10
  read_timeout:
    description: Seconds to wait for any one command's output.
    type: float
    default: 60
  store_snapshot:
    description: Store the snapshot in the ledger (needs C(maint_client), set by C(maint run)).
    type: bool
    default: true
  checks:
    description:
      - The role's settings, checked before the device is contacted (the preflight, in this task); the task
        fails with the message of every check that does not hold.
      - The role's variables are also checked against the C(maint_audit) entry point of its argument spec.
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
attributes:
  action:
    support: full
    description: Implemented as an action plugin; the device is reached with netmiko from the controller.
  check_mode:
    support: full
    description: Reads only; the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes on the device. Use C(maint drift) for configuration changes.
  platform:
    support: full
    platforms: all
    description: Runs on the controller whatever the target is.
notes:
  - Requires the C(runner) package (this project) in the controller's Python, and the ledger at
    C(MAINT_DB_URL).
seealso:
  - module: maint.core.maint_evaluate
"""

EXAMPLES = r"""
- name: NET-IOS/CX/AOSS/FGT | AUDIT | Fetch, snapshot and review the configuration
  maint.core.network_config:
    platform: "{{ network_config_platform }}"
    thresholds: "{{ maintenance.thresholds.network_config | default({}) }}"
    known_hosts: /etc/maint/known_hosts
"""

RETURN = r"""
maint_results:
  description:
    - One check result per control (the shape of C(maint_evaluate)'s results); evidence names the offending
      configuration lines with secrets masked, and the snapshot (C(id), C(hash)) it was judged on.
  returned: always
  type: list
  elements: dict
  sample: [{"control": "NET-IOS-08", "status": "fail", "severity": "medium", "host": "sw01",
            "evidence": {"lines": ["ip http server"], "snapshot": {"id": 3, "hash": "9f2c..."}}}]
maint_summary:
  description: Number of results per status.
  returned: always
  type: dict
  sample: {"pass": 8, "fail": 3, "warn": 0, "not_checked": 22, "error": 0}
network_config_snapshot:
  description: The snapshot the review used; empty when the fetch failed or O(store_snapshot) is false.
  returned: always
  type: dict
  contains:
    id:
      description: Snapshot id in the ledger (the previous one when the configuration was unchanged).
      type: int
    hash:
      description: sha256 of the masked normalised text.
      type: str
    stored:
      description: Whether a new snapshot was stored (false when unchanged).
      type: bool
    encrypted:
      description: Whether the raw text is stored (encrypted).
      type: bool
  sample: {"id": 3, "hash": "9f2c...", "stored": true, "encrypted": true}
maint_assets:
  description:
    - The device's asset facts (shape of C(runner.assets.facts)), recorded in the ledger by the run; only
      when every facts command answered and its output was understood.
  returned: when the facts were collected
  type: dict
  sample: {"platform": "cisco_ios", "host": "sw01", "facts": {"hostname": "sw01",
           "os": {"name": "IOS-XE", "firmware": "16.8.1b"}, "hardware": {"model": "ASR-920-24TZ-M",
           "serial": "CAT12345699"}}}
network_config_assets:
  description: Whether asset facts were recorded and, when not, why.
  returned: always
  type: dict
  contains:
    recorded:
      description: Whether RV(maint_assets) is in the result.
      type: bool
    reason:
      description: Why not (the facts command and the device's answer, or what was not understood).
      type: str
  sample: {"recorded": false, "reason": "facts command failed: 'show inventory' refused by the device: ..."}
msg:
  description: The summary as one line.
  returned: always
  type: str
  sample: "sw01 (cisco_ios): 8 pass, 3 fail, 22 not_checked"
"""
