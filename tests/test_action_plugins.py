"""The Ansible side: redaction, the collector module's helpers, and the action plugins in a real playbook.

One ``ansible-playbook`` run (local connection, gather_facts false, JSON stdout callback) drives the
linux_health role and the ``maint_check`` / ``maint_evaluate`` plugins; the tests assert on what the
tasks returned, which is what the runner reads from the event stream.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from runner.redact import MASK, is_secret_key, redact

REPO = Path(__file__).resolve().parent.parent
PLUGINS = REPO / "collections/ansible_collections/maint/core/plugins"
BIN = Path(sys.executable).parent
STATUSES = {"pass", "fail", "warn", "not_checked", "error"}
CONTROLS = [f"HEALTH-LNX-0{i}" for i in range(1, 8)]

# ---------------------------------------------------------------- redact


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "Password",
        "db_password",
        "passwd",
        "secret",
        "client_secret",
        "token",
        "X-Auth-Token",
        "api_key",
        "apiKey",
        "APIKey",
        "key",
        "ssh_private_key",
        "privateKey",
        "snmp_community",
        "wpa_psk",
        "credentials",
        "auth",
        "Authorization",
        "enable_secret",
        "secrets",
        "keys",
    ],
)
def test_secret_keys(key: str) -> None:
    assert is_secret_key(key)
    assert redact({key: "hunter2"}) == {key: MASK}


@pytest.mark.parametrize(
    "key",
    [
        "monkey",
        "keyboard",
        "author",
        "authority",
        "turkey_count",
        "passed",
        "pass",
        "key_size",
        "password_age_days",
        "token_expiry",
        "ssh_key_fingerprint",
        "private_key_file",
        "api_key_id",
        "mount",
    ],
)
def test_not_secret_keys(key: str) -> None:
    assert not is_secret_key(key)
    assert redact({key: "value"}) == {key: "value"}


def test_redact_is_a_deep_copy_and_walks_everything() -> None:
    evidence: dict[str, Any] = {
        "users": [{"name": "bob", "password": "pw1", "password_set": True}],
        "snmp": {"community": ["public", "private"], "version": "2c"},
        "vaulted": "$ANSIBLE_VAULT;1.1;AES256\n6231...",
        "pem": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn...\n-----END OPENSSH PRIVATE KEY-----",
        "cert": "-----BEGIN CERTIFICATE-----\nMIIB...",
        "token": None,
        "psk": "",
        "counts": (1, 2.5, None),
        7: "int key",
    }
    before = copy.deepcopy(evidence)
    out = redact(evidence)
    assert out == {
        "users": [{"name": "bob", "password": MASK, "password_set": True}],
        "snmp": {"community": MASK, "version": "2c"},
        "vaulted": MASK,
        "pem": MASK,
        "cert": "-----BEGIN CERTIFICATE-----\nMIIB...",
        "token": None,  # absence is evidence, not a secret
        "psk": "",
        "counts": (1, 2.5, None),
        7: "int key",
    }
    assert evidence == before, "input left untouched"
    assert out["users"] is not evidence["users"]


def test_redact_masks_vault_objects_without_decrypting() -> None:
    class EncryptedString:  # stands in for ansible-core's vault value; str() would decrypt it
        def __str__(self) -> str:
            raise AssertionError("decrypted")

    assert redact({"note": EncryptedString()}) == {"note": MASK}


# ---------------------------------------------------------------- collector helpers


@pytest.fixture(scope="module")
def collector() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "linux_health_facts", PLUGINS / "modules/linux_health_facts.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("6.1.0-21-amd64", "6.1.0-22-amd64"),
        ("6.1.0-9-amd64", "6.1.0-10-amd64"),
        ("5.14.0-362.8.1.el9_3.x86_64", "5.14.0-427.13.1.el9_4.x86_64"),
        ("5.15.0-105-generic", "6.8.0-31-generic"),
        ("4.18.0-513.5.1.el8_9.x86_64", "4.18.0-513.11.1.el8_9.x86_64"),
    ],
)
def test_kernel_versions_order(collector: ModuleType, older: str, newer: str) -> None:
    assert collector.version_key(older) < collector.version_key(newer)


@pytest.mark.parametrize(
    ("release", "flavour"),
    [
        ("6.1.0-21-amd64", "amd64"),
        ("6.1.0-21-cloud-amd64", "cloud-amd64"),
        ("6.8.0-31-generic", "generic"),
        ("5.14.0-427.13.1.el9_4.x86_64", ""),
        ("5.14.0-427.13.1.el9_4.x86_64+debug", "+debug"),
    ],
)
def test_kernel_flavour(collector: ModuleType, release: str, flavour: str) -> None:
    assert collector.kernel_flavour(release) == flavour


def test_filesystems_from_a_mounts_table(collector: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "with space").mkdir()
    (tmp_path / "hosts").write_text("127.0.0.1 localhost\n")
    mounts = tmp_path / "mounts"
    escaped = str(tmp_path / "with space").replace(" ", "\\040")  # as /proc/mounts writes a space
    mounts.write_text(
        textwrap.dedent(
            f"""\
            proc /proc proc rw 0 0
            /dev/vda / ext4 rw,relatime 0 0
            tmpfs /sys/fs/cgroup tmpfs rw 0 0
            /dev/loop3 /snap/core/1 squashfs ro 0 0
            overlay /var/lib/docker/overlay2/abc/merged overlay rw 0 0
            /dev/vda {tmp_path / "hosts"} ext4 rw 0 0
            /dev/vda {escaped} ext4 rw 0 0
            /dev/vda /nonexistent-mount-point ext4 ro 0 0
            """
        )
    )
    out = collector.read_filesystems(1.0, str(mounts))
    assert out["available"] is True
    by_mount = {item["mount"]: item for item in out["items"]}
    assert set(by_mount) == {"/", "/nonexistent-mount-point"}
    root = by_mount["/"]
    assert root["fstype"] == "ext4" and root["readonly"] is False
    assert str(tmp_path / "with space") in root["other_mounts"]  # \040 unescaped, bind mount folded in
    assert root["size_bytes"] >= root["used_bytes"] > 0 and root["inodes_total"] > 0
    assert by_mount["/nonexistent-mount-point"]["readonly"] is True
    assert by_mount["/nonexistent-mount-point"]["error"].startswith("statvfs failed")
    assert out["skipped"] == {
        "pseudo": 1,
        "runtime": 1,
        "image": 1,
        "container_storage": 1,
        "duplicate": 1,
        "file_bind": 1,
    }


def test_unreadable_mounts_table_is_reported(collector: ModuleType, tmp_path: Path) -> None:
    out = collector.read_filesystems(1.0, str(tmp_path / "missing"))
    assert out["available"] is False and "cannot read" in out["reason"]


# ---------------------------------------------------------------- playbook

PLAYBOOK = """\
- name: Role and plugins
  hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    maintenance:
      thresholds:
        linux_health:
          fs_warn_pct: 1
          fs_fail_pct: 100
          skip_controls: [HEALTH-LNX-06]
  roles:
    - role: linux_health
  tasks:
    - name: Good single check with a secret in its evidence
      maint_check:
        control: TEST-CHK-01
        title: A check written in the role
        domain: security
        status: fail
        severity: high
        evidence: {user: admin, password: hunter2, vault: "$ANSIBLE_VAULT;1.1;AES256 3031"}
        remediation: Change it.
    - name: Several checks at once
      maint_check:
        results:
          - {control: TEST-CHK-02, title: Two, domain: backup, status: pass, severity: low}
          - {control: TEST-CHK-03, title: Three, domain: backup, status: not_checked, severity: info,
             evidence: {reason: weekly only}}
    - name: A check with a bad status
      maint_check:
        control: TEST-CHK-04
        title: Bad
        domain: health
        status: bogus
        severity: low
      ignore_errors: true
    - name: A check naming an unknown field
      maint_check:
        results:
          - {control: TEST-CHK-05, title: Five, domain: health, status: pass, severity: low, colour: red}
      ignore_errors: true
    - name: An unknown evaluator
      maint.core.maint_evaluate:
        kind: no_such_kind
        data: {}
      ignore_errors: true
    - name: Raw data of the wrong shape
      maint.core.maint_evaluate:
        kind: linux_health
        data: {schema: 1, filesystems: "full"}

- name: Thresholds with a typo
  hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    maintenance: {thresholds: {linux_health: {fs_warn_percent: 85}}}
  roles:
    - role: linux_health
"""


@pytest.fixture(scope="module")
def tasks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Run the playbook once; task name -> localhost's result."""
    work = tmp_path_factory.mktemp("play")
    (work / "play.yml").write_text(PLAYBOOK)
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(work / "play.yml")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, f"only the typo play fails:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    report = json.loads(proc.stdout)
    out: dict[str, dict[str, Any]] = {}
    for play in report["plays"]:
        for task in play["tasks"]:
            name = task["task"]["name"]
            key = f"{play['play']['name']} / {name}"
            out[key] = task["hosts"]["localhost"]
    return out


def task(tasks: dict[str, dict[str, Any]], name: str, play: str = "Role and plugins") -> dict[str, Any]:
    return tasks[f"{play} / {name}"]


def test_role_emits_six_results_with_client_overrides(tasks: dict[str, dict[str, Any]]) -> None:
    res = task(tasks, "linux_health : HEALTH-LNX-01..07 | AUDIT | Evaluate host health")
    assert res["changed"] is False and res.get("failed", False) is False
    rows = res["maint_results"]
    assert [r["control"] for r in rows] == CONTROLS
    assert {r["host"] for r in rows} == {"localhost"}
    assert {r["role"] for r in rows} == {"linux_health"}
    assert all(set(r) == {*FINDING_KEYS, "host", "role"} for r in rows)
    by = {r["control"]: r for r in rows}
    # overrides from maintenance.thresholds.linux_health reached the evaluator
    assert by["HEALTH-LNX-01"]["status"] == "warn"
    assert (by["HEALTH-LNX-01"]["evidence"]["warn_pct"], by["HEALTH-LNX-01"]["evidence"]["fail_pct"]) == (
        1,
        100,
    )
    assert by["HEALTH-LNX-06"]["status"] == "not_checked"
    assert by["HEALTH-LNX-06"]["evidence"] == {
        "reason": "disabled by configuration (linux_health skip_controls)"
    }
    if not Path("/run/systemd/system").is_dir():  # this container: systemd is installed but not PID 1
        assert by["HEALTH-LNX-04"]["status"] == "not_checked"
        assert by["HEALTH-LNX-04"]["evidence"]["reason"].startswith("systemd is not the init system")
    summary = res["maint_summary"]
    assert set(summary) == STATUSES and sum(summary.values()) == 7
    assert summary == {s: sum(r["status"] == s for r in rows) for s in STATUSES}


def test_collector_ran_once_and_changed_nothing(tasks: dict[str, dict[str, Any]]) -> None:
    res = task(tasks, "linux_health : HEALTH-LNX-01..07 | AUDIT | Collect host health data")
    assert res["changed"] is False
    raw = res["linux_health"]
    assert raw["schema"] == 1 and raw["system"] == "Linux"
    assert raw["filesystems"]["available"] is True
    assert any(item["mount"] == "/" for item in raw["filesystems"]["items"])
    assert not any(t.get("changed") for t in tasks.values())


def test_maint_check_single_result_is_redacted(tasks: dict[str, dict[str, Any]]) -> None:
    res = task(tasks, "Good single check with a secret in its evidence")
    assert res.get("failed", False) is False, "a failing check is not a failed task"
    assert res["maint_results"] == [
        {
            "control": "TEST-CHK-01",
            "title": "A check written in the role",
            "domain": "security",
            "status": "fail",
            "severity": "high",
            "evidence": {"user": "admin", "password": MASK, "vault": MASK},
            "remediation": "Change it.",
            "host": "localhost",
            "role": "",
        }
    ]
    assert res["maint_summary"] == {"pass": 0, "fail": 1, "warn": 0, "not_checked": 0, "error": 0}


def test_maint_check_results_list(tasks: dict[str, dict[str, Any]]) -> None:
    res = task(tasks, "Several checks at once")
    assert [(r["control"], r["status"], r["evidence"]) for r in res["maint_results"]] == [
        ("TEST-CHK-02", "pass", {}),
        ("TEST-CHK-03", "not_checked", {"reason": "weekly only"}),
    ]
    assert res["maint_summary"]["pass"] == 1 and res["maint_summary"]["not_checked"] == 1


def test_maint_check_bad_status_fails_naming_the_field(tasks: dict[str, dict[str, Any]]) -> None:
    res = task(tasks, "A check with a bad status")
    assert res["failed"] is True
    assert "maint_results" not in res
    assert "control 'TEST-CHK-04'" in res["msg"]
    assert "field 'status'" in res["msg"] and "'bogus'" in res["msg"]


def test_maint_check_unknown_field_fails(tasks: dict[str, dict[str, Any]]) -> None:
    res = task(tasks, "A check naming an unknown field")
    assert res["failed"] is True
    assert "field 'colour': Extra inputs are not permitted" in res["msg"]


def test_maint_evaluate_unknown_kind_fails(tasks: dict[str, dict[str, Any]]) -> None:
    res = task(tasks, "An unknown evaluator")
    assert res["failed"] is True
    assert "unknown evaluator kind 'no_such_kind'" in res["msg"] and "linux_health" in res["msg"]


def test_maint_evaluate_broken_data_gives_error_rows(tasks: dict[str, dict[str, Any]]) -> None:
    res = task(tasks, "Raw data of the wrong shape")
    assert res.get("failed", False) is False
    rows = res["maint_results"]
    assert [r["control"] for r in rows] == CONTROLS
    assert {r["status"] for r in rows} == {"error"}
    assert all(r["evidence"]["exception"] == "EvaluatorError" for r in rows)
    error = rows[0]["evidence"]["error"]
    assert error.startswith("linux_health: raw data has the wrong shape: hostname: Field required")
    assert "filesystems: Input should be a valid dictionary" in error
    assert res["maint_summary"]["error"] == 7


def test_threshold_typo_stops_the_role_before_collecting(tasks: dict[str, dict[str, Any]]) -> None:
    play = "Thresholds with a typo"
    res = task(
        tasks, "linux_health : HEALTH-LNX-01..07 | PREFLIGHT | Thresholds are known and coherent", play
    )
    assert res["failed"] is True
    assert "['fs_warn_percent']" in res["msg"]
    assert f"{play} / linux_health : HEALTH-LNX-01..07 | AUDIT | Collect host health data" not in tasks


FINDING_KEYS = {"control", "title", "domain", "status", "severity", "evidence", "remediation"}
