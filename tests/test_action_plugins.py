"""The Ansible side: redaction, the maint.core collection's shared code, and its plugins in a real playbook.

The collectors' shared helpers (``plugins/module_utils/``) and the action plugins' result rows
(``plugins/plugin_utils/results.py``) are tested as functions; then one ``ansible-playbook`` run (local
connection, gather_facts false, JSON stdout callback) drives the linux_health role, the linux_patching
collector and ``maint.core.maint_evaluate``; the tests assert on what the tasks returned, which is what the
runner reads from the event stream (and on AnsiballZ shipping module_utils with the collectors).
"""

from __future__ import annotations

import copy
import gzip
import importlib.util
import json
import os
import re
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from ansible_collections.maint.core.plugins.module_utils import commands, files, probes
from ansible_collections.maint.core.plugins.plugin_utils import results as plugin_results

from runner.redact import MASK, is_secret_key, redact
from runner.results import Control, Domain, Severity, Status
from tests.conftest import PLUGINS, run_playbook

STATUSES = {s.value for s in Status}
# HEALTH-LNX-03 is retired (a pending reboot is PATCH-LNX-04's, judged once by linux_patching)
CONTROLS = [f"HEALTH-LNX-0{i}" for i in (1, 2, 4, 5, 6, 7, 8)]

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


# ---------------------------------------------------------------- module_utils: what the collectors share


def test_collectors_import_their_shared_code_and_keep_no_copy() -> None:
    """Each collector imports module_utils by FQCN (AnsiballZ ships it) instead of its own copy."""
    copies = ("def unavailable(", "def probe(", "def utc_now(", "def first_line(", "def read_os_release(")
    collectors = ("linux_health_facts", "linux_patching_facts", "linux_antivirus_facts", "linux_backup_facts")
    for name in (*collectors, "linux_asset_facts", "linux_access_facts"):
        text = (PLUGINS / "modules" / f"{name}.py").read_text()
        assert "from ansible_collections.maint.core.plugins.module_utils." in text, name
        assert [c for c in (*copies, "C_ENV =") if c in text] == [], name
        if name != "linux_backup_facts":  # restic runs with its secrets in its own wrapper, masked
            assert "subprocess.run(" not in text, name
    assert not (PLUGINS / "action" / "maint_check.py").exists()
    assert not (PLUGINS / "modules" / "maint_check.py").exists()


def test_probe_keeps_a_crash_local() -> None:
    def broken() -> None:
        raise KeyError("boom")

    assert probes.probe("kernel", broken) == {
        "available": False,
        "reason": "kernel probe crashed: KeyError: 'boom'",
    }
    assert probes.probe("ok", lambda x: {"available": True, "x": x}, 3) == {"available": True, "x": 3}
    assert probes.unavailable("no tool", path="/x") == {"available": False, "reason": "no tool", "path": "/x"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", probes.utc_now())
    assert probes.first_line("\n  \n first \nsecond") == "first"


def test_command_result_never_raises(tmp_path: Path) -> None:
    script = tmp_path / "tool"
    script.write_text(
        "#!/bin/sh\necho \"lang=$LANG extra=$EXTRA\"; echo '3 upgraded, 0 not upgraded.'; exit 3\n"
    )
    script.chmod(0o755)
    out = commands.command_result(
        [str(script)], 10.0, {"EXTRA": "yes"}, max_output=12, summary=re.compile(r"^\d+ upgraded")
    )
    assert out["rc"] == 3 and out["truncated"] is True
    assert out["stdout"] == "t upgraded.\n" and len(out["stdout"]) == 12
    assert out["summary"] == "3 upgraded, 0 not upgraded."  # kept whole although stdout was cut
    rc, text, _err = commands.run([str(script)], 10.0, {"EXTRA": "yes"})
    assert rc == 3 and text.startswith("lang=C extra=yes")
    missing = commands.command_result([str(tmp_path / "absent")], 10.0)
    assert missing["rc"] is None and "No such file" in missing["stderr"]
    slow = tmp_path / "slow"
    slow.write_text("#!/bin/sh\nexec sleep 30\n")
    slow.chmod(0o755)
    late = commands.command_result([str(slow)], 0.2)
    assert late == {"command": str(slow), "rc": None, "stdout": "", "stderr": "timed out after 0.2s"}


def test_which_looks_in_the_sbin_folders_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert commands.which("sh") in ("/usr/bin/sh", "/bin/sh")
    assert commands.which("no-such-tool-anywhere") is None


def test_read_text_plain_gzip_capped_and_missing(tmp_path: Path) -> None:
    plain = tmp_path / "history.log"
    plain.write_bytes(b"Start-Date: 2026-11-27\n\xff end\n")
    rotated = tmp_path / "history.log.2.gz"
    rotated.write_bytes(gzip.compress(b"Upgrade: libc6\n"))
    assert files.read_text(str(plain)) == "Start-Date: 2026-11-27\n\ufffd end\n"
    assert files.read_text(str(plain), 5) == "Start"
    assert files.read_text(str(rotated)) == "Upgrade: libc6\n"
    (tmp_path / "broken.gz").write_bytes(b"\x1f\x8b not really")
    assert files.read_text(str(tmp_path / "broken.gz")) is None
    assert files.read_text(str(tmp_path / "absent")) is None
    assert files.read_text(str(tmp_path)) is None  # a directory


def test_os_release_fields() -> None:
    text = (
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n# comment\nID=debian\nVERSION_ID="12"\n'
        'junk\nX="unterminated\n'
    )
    fields = files.parse_os_release(text)
    assert fields == {
        "PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)",
        "ID": "debian",
        "VERSION_ID": "12",
        "X": "unterminated",
    }
    here = files.read_os_release()
    assert set(here) >= {"available", "id", "id_like", "version_id", "pretty_name"}
    assert here["available"] is True and here["id"]


# ---------------------------------------------------------------- plugin_utils: the rows the runner reads

ROW_CONTROL = Control(
    control="TEST-ROW-01",
    title="A row",
    domain=Domain.SECURITY,
    severity=Severity.HIGH,
    remediation="Change it.",
)


def test_result_rows_redact_evidence_and_name_host_and_role() -> None:
    finding = ROW_CONTROL.finding(
        Status.FAIL, {"user": "admin", "password": "hunter2", "vault": "$ANSIBLE_VAULT;1.1;AES256 3031"}
    )
    rows = plugin_results.result_rows([finding], "web01", "linux_health")
    assert rows == [
        {
            "control": "TEST-ROW-01",
            "title": "A row",
            "domain": "security",
            "status": "fail",
            "severity": "high",
            "evidence": {"user": "admin", "password": MASK, "vault": MASK},
            "remediation": "Change it.",
            "host": "web01",
            "role": "linux_health",
        }
    ]
    assert finding.evidence["password"] == "hunter2", "the finding itself is left alone"
    counts = plugin_results.summary([*rows, {**rows[0], "status": "pass"}])
    assert set(counts) == STATUSES and counts["fail"] == 1 and counts["pass"] == 1
    assert sum(counts.values()) == 2
    assert plugin_results.summary_line(counts) == "1 pass, 1 fail"


def test_task_host_role_outside_and_inside_a_role() -> None:
    class Role:
        def get_name(self, include_role_fqcn: bool = True) -> str:
            assert include_role_fqcn is False
            return "network_config"

    class Task:
        def __init__(self, role: Role | None) -> None:
            self._role = role

    vars_ = {"inventory_hostname": "sw01"}
    assert plugin_results.task_host_role(Task(None), vars_) == ("sw01", "")
    assert plugin_results.task_host_role(Task(None), vars_, default_role="x") == ("sw01", "x")
    assert plugin_results.task_host_role(Task(Role()), vars_) == ("sw01", "network_config")


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
    - name: The patching collector, from the collection, in check mode (nothing refreshed)
      maint.core.linux_patching_facts:
        refresh_cache: false
      check_mode: true
      register: patching_raw
    - name: PATCH-LNX-04, the one reboot judgement, from what it collected
      maint.core.maint_evaluate:
        kind: linux_patching
        data: "{{ patching_raw.linux_patching }}"
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
    proc = run_playbook(work, "-i", "localhost,", "-c", "local", str(work / "play.yml"), timeout=120)
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


def test_role_emits_its_seven_results_with_client_overrides(tasks: dict[str, dict[str, Any]]) -> None:
    res = task(tasks, AUDIT_TASK)
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
    assert set(summary) == STATUSES and sum(summary.values()) == len(CONTROLS)
    assert summary == {s: sum(r["status"] == s for r in rows) for s in STATUSES}


def test_collector_ran_once_and_changed_nothing(tasks: dict[str, dict[str, Any]]) -> None:
    """One task per host collects and judges: the raw data rides in the same result as the findings."""
    assert [k for k in tasks if k.startswith("Role and plugins / linux_health : ")] == [
        f"Role and plugins / {AUDIT_TASK}"
    ]
    res = task(tasks, AUDIT_TASK)
    assert res["changed"] is False
    raw = res["linux_health"]
    assert raw["schema"] == 1 and raw["system"] == "Linux"
    assert raw["filesystems"]["available"] is True
    assert any(item["mount"] == "/" for item in raw["filesystems"]["items"])
    assert "reboot" not in raw, "a pending reboot is linux_patching's to collect and judge"
    assert not any(t.get("changed") for t in tasks.values())


def test_patching_collector_runs_with_its_module_utils_and_feeds_patch_lnx_04(
    tasks: dict[str, dict[str, Any]],
) -> None:
    """AnsiballZ shipped module_utils with the collector; its reboot probes are what PATCH-LNX-04 judges."""
    res = task(tasks, "The patching collector, from the collection, in check mode (nothing refreshed)")
    assert res.get("failed", False) is False and res["changed"] is False, res.get("msg")
    raw = res["linux_patching"]
    assert raw["schema"] == 1 and raw["collected_at"].endswith("Z")
    assert set(raw["os"]) == {"id", "id_like", "version_id", "pretty_name"}
    if raw["manager"] == "none":
        pytest.skip(f"this machine has no supported package manager: {raw['reason']}")
    reboot = raw["reboot"]
    assert set(reboot) == {"flag_file", "needs_restarting", "kernel"}
    flag = reboot["flag_file"]
    present = any(Path(p).exists() for p in ("/run/reboot-required", "/var/run/reboot-required"))
    assert flag["available"] is (raw["manager"] == "apt" or present)
    assert reboot["kernel"]["running"] == os.uname().release
    rows = task(tasks, "PATCH-LNX-04, the one reboot judgement, from what it collected")["maint_results"]
    (row,) = [r for r in rows if r["control"] == "PATCH-LNX-04"]
    assert row["title"] == "No reboot is pending after updates"
    assert not [r for r in rows if r["control"].startswith("HEALTH-")]
    if flag["available"] and present:
        assert row["status"] == "fail"
    elif (
        flag["available"]
        and not reboot["kernel"]["available"]
        and not reboot["needs_restarting"]["available"]
    ):
        assert (row["status"], row["evidence"]["checked"]) == ("pass", ["flag_file"])


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
    assert res["maint_summary"]["error"] == len(CONTROLS)


def test_threshold_typo_fails_the_evaluation_naming_the_key(tasks: dict[str, dict[str, Any]]) -> None:
    """maint_evaluate checks thresholds against the catalogue: nothing is judged on bad settings."""
    play = "Thresholds with a typo"
    suffix = "| AUDIT | Collect and judge host health"
    (name,) = [k for k in tasks if k.startswith(f"{play} / ") and k.endswith(suffix)]
    res = tasks[name]
    assert res["failed"] is True and "maint_results" not in res
    assert "maintenance.thresholds.linux_health.fs_warn_percent: unknown threshold" in res["msg"]
    assert "did you mean fs_warn_pct?" in res["msg"]


AUDIT_TASK = "linux_health : HEALTH-LNX-01..08 | AUDIT | Collect and judge host health"
FINDING_KEYS = {"control", "title", "domain", "status", "severity", "evidence", "remediation"}
