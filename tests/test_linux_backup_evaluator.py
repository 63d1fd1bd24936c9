"""The linux_backup evaluators on real linux_backup_facts output recorded against real restic repositories.

Cases are data: tests/data/linux_backup/cases.yml; origins in tests/data/linux_backup/README.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner import evaluators
from runner.evaluators import EvaluatorError
from runner.evaluators.linux_backup import CONTROL_IDS, DEFAULTS
from runner.results import Domain, Status
from tests.conftest import PLUGINS, REPO
from tests.evaluator_cases import assert_cases_documented, case_ids, check_case, load_json

DATA = Path(__file__).parent / "data" / "linux_backup"
CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "cases.yml").read_text())
CANARY = "canary-pw-7731"  # the repositories' password when the files were recorded


def load(name: str) -> dict[str, Any]:
    return load_json(DATA, name)


def test_every_case_file_is_used_documented_and_free_of_the_password() -> None:
    assert_cases_documented(DATA, CASES)
    files = {p.name for p in DATA.glob("*.json")}
    for name in files:
        assert CANARY not in (DATA / name).read_text(), name


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_case(case: dict[str, Any]) -> None:
    check_case("linux_backup", CONTROL_IDS, Domain.BACKUP, load(case["file"]), case)


def test_single_kinds_judge_their_own_section() -> None:
    raw = load("real_fresh_restore_live.json")
    restic = evaluators.evaluate("restic", raw)
    files = evaluators.evaluate("backup_files", raw)
    combined = evaluators.evaluate("linux_backup", raw)
    assert [f.control for f in restic] == list(CONTROL_IDS[:6])
    assert [f.control for f in files] == list(CONTROL_IDS[6:])
    assert restic + files == combined
    assert evaluators.get("restic").role == evaluators.get("backup_files").role == "linux_backup"
    assert [c.control for c in evaluators.controls_for_role("linux_backup")] == list(CONTROL_IDS)


def test_restore_of_a_changed_live_file_warns_instead_of_failing() -> None:
    raw = load("real_fresh_restore_live.json")
    restore = raw["restic"]["restore"]
    restore.update(
        comparable=False,
        live_changed=True,
        sha256_expected="0" * 64,
        reason="the live file changed since the snapshot (mtime or size differ)",
    )
    finding = evaluators.evaluate("restic", raw)[3]
    assert finding.status is Status.WARN
    assert finding.evidence["reason"] == (
        "restored, but not compared: the live file changed since the snapshot (mtime or size differ)"
    )


def test_role_defaults_match_evaluator_defaults() -> None:
    role_defaults = yaml.safe_load((REPO / "roles/linux_backup/defaults/main.yml").read_text())
    for key, value in DEFAULTS.items():
        assert role_defaults[f"linux_backup_{key}"] == (list(value) if isinstance(value, tuple) else value)


BAD: list[tuple[str, Any, dict[str, Any], str]] = [
    ("linux_backup", [], {}, "raw data must be a mapping"),
    ("linux_backup", {"schema": 1}, {}, "collected_epoch: Field required"),
    ("restic", {"schema": 1, "collected_epoch": 1}, {}, "raw data has no 'restic' section"),
    ("linux_backup", {**load("real_wrong_password.json"), "schema": 9}, {}, "schema 9 is not supported"),
    ("restic", load("real_wrong_password.json"), {"restic_max_age_hours": 0}, "restic_max_age_hours: Input"),
    ("backup_files", load("real_fresh_restore_live.json"), {"max_age": 5}, "max_age: Extra inputs"),
    (
        "linux_backup",
        load("real_fresh_restore_live.json"),
        {"skip_controls": ["BKP-X-1"]},
        "unknown controls",
    ),
]


@pytest.mark.parametrize(("kind", "raw", "thresholds", "message"), BAD, ids=[b[3][:30] for b in BAD])
def test_bad_input_raises(kind: str, raw: Any, thresholds: dict[str, Any], message: str) -> None:
    with pytest.raises(EvaluatorError, match=rf"^{kind}: ") as exc:
        evaluators.evaluate(kind, raw, thresholds)
    assert message in str(exc.value)


# ---------------------------------------------------------------- the role on a real repository

PLAY = """\
- name: Backup role with a canary password
  hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    linux_backup_restic_repository: REPO_DIR
    linux_backup_restic_password: CANARY
    linux_backup_restic_restore_path: DATA_FILE
    linux_backup_file_sets: [{name: data, path: DATA_DIR, min_size_bytes: 1}]
  roles:
    - role: linux_backup
"""


@pytest.mark.skipif(
    shutil.which("restic") is None,
    reason="!!! restic tests SKIPPED: restic is not installed (apt-get install restic) !!!",
)
def test_role_on_real_repository_never_leaks_the_password(tmp_path: Path) -> None:
    canary = "canary-" + os.urandom(6).hex()
    data = tmp_path / "data"
    data.mkdir()
    (data / "file.txt").write_text("payload\n")
    env = {**os.environ, "RESTIC_PASSWORD": canary, "RESTIC_CACHE_DIR": str(tmp_path / "cache")}
    for args in (["init"], ["backup", str(data)]):
        subprocess.run(
            ["restic", "-r", str(tmp_path / "repo"), "-q", *args], env=env, check=True, capture_output=True
        )
    play = PLAY.replace("REPO_DIR", str(tmp_path / "repo")).replace("CANARY", canary)
    (tmp_path / "play.yml").write_text(
        play.replace("DATA_FILE", str(data / "file.txt")).replace("DATA_DIR", str(data))
    )
    bin_dir = Path(sys.executable).parent
    proc = subprocess.run(
        [
            str(bin_dir / "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            "-vvv",
            str(tmp_path / "play.yml"),
        ],
        cwd=REPO,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("RESTIC_")},
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert canary not in proc.stdout and canary not in proc.stderr
    report = json.loads(proc.stdout[proc.stdout.index('{\n    "custom_stats"') :])
    tasks = {t["task"]["name"]: t["hosts"]["localhost"] for t in report["plays"][0]["tasks"]}
    rows = tasks["linux_backup : BKP-RESTIC-01..06, BKP-FILE-01..02 | AUDIT | Collect and judge backups"][
        "maint_results"
    ]
    statuses = {r["control"]: r["status"] for r in rows}
    # a repository in a temporary folder is on the host's own disk; no forget policy is given
    assert statuses.pop("BKP-RESTIC-05") == "warn"
    assert statuses.pop("BKP-RESTIC-06") == "not_checked"
    assert statuses == dict.fromkeys(set(CONTROL_IDS) - {"BKP-RESTIC-05", "BKP-RESTIC-06"}, "pass")


# ---------------------------------------------------------------- the collector's cross-check fields


def _collector() -> Any:
    sys.path.insert(0, str(PLUGINS / "modules"))
    try:
        import linux_backup_facts  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    return linux_backup_facts


def _params(binary: str, repository: str, password: str) -> dict[str, Any]:
    return {
        "restic_repository": repository,
        "restic_password": password,
        "restic_env": {},
        "restic_binary": binary,
        "restic_host": "vm",
        "restic_tags": [],
        "restic_path": "",
        "restic_forget": {},
        "restic_check": False,
        "restic_read_data_subset": "",
        "restic_restore_path": "",
        "restic_restore_sha256": "",
        "command_timeout": 30.0,
        "file_sets": [],
    }


# what a restic-compatible wrapper printed: snapshot times without an offset, and an object instead of a list
FAKE_RESTIC = """#!/bin/sh
case "$*" in
  *version*) echo "restic 0.16.4 compiled with go1.21.6 on linux/amd64" ;;
  *snapshots*) printf '%s' "$FAKE_SNAPSHOTS" ;;
esac
"""


@pytest.mark.parametrize(
    ("printed", "reason"),
    [
        (
            '[{"time": "2026-11-27T02:57:25.570059024Z", "short_id": "d0f12a1b", "hostname": "vm"},'
            ' {"time": "2026-11-28 02:57:25", "short_id": "e1f2a3b4", "hostname": "vm"}]',
            "restic listed 2 snapshots but the time of 1 could not be read",
        ),
        ('{"snapshots": []}', "restic snapshots --json printed a JSON dict, not the list of snapshots"),
    ],
)
def test_collector_records_what_it_could_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, printed: str, reason: str
) -> None:
    fake = tmp_path / "restic"
    fake.write_text(FAKE_RESTIC)
    fake.chmod(0o755)
    monkeypatch.setenv("FAKE_SNAPSHOTS", printed)
    raw = _collector().collect(_params(str(fake), str(tmp_path / "repo"), "pw-123"), json.loads)
    fresh = evaluators.evaluate("restic", raw)[1]
    assert fresh.status is Status.ERROR
    assert fresh.evidence["reason"].startswith(reason)


@pytest.mark.skipif(
    shutil.which("restic") is None,
    reason="!!! restic tests SKIPPED: restic is not installed (apt-get install restic) !!!",
)
def test_collector_on_real_restic_reads_every_snapshot(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "f").write_text("x\n")
    env = {**os.environ, "RESTIC_PASSWORD": "pw-123", "RESTIC_CACHE_DIR": str(tmp_path / "cache")}
    repo = str(tmp_path / "repo")
    for args in (["init"], ["backup", "--host", "vm", str(data)], ["backup", "--host", "vm", str(data)]):
        subprocess.run(["restic", "-r", repo, "-q", *args], env=env, check=True, capture_output=True)
    raw = _collector().collect(_params("restic", repo, "pw-123"), json.loads)
    snaps = raw["restic"]["snapshots"]
    assert (snaps["count"], snaps["parsed"], snaps["shape"]) == (2, 2, "list")
    assert evaluators.evaluate("restic", raw)[1].status is Status.PASS
