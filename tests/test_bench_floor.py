"""bench/_floor.py, the raw-commands floor of bench/linux_audit.py, does what the four Linux collectors do.

Each side runs in a child interpreter with a Python audit hook (PEP 578) that records every command
started (``subprocess.Popen``) and every file opened or folder listed (``open``, ``os.listdir``,
``os.scandir``, ``glob.glob``): once the collectors' own ``collect()`` with the arguments the roles pass
in the bench, once the floor's ``host_job`` with the same arguments. The two records must be the same
commands in the same order and the same files and folders (process ids folded: ``/proc/PID/comm``), on
this machine, whatever it has installed. No timing is asserted here: the bench prints its ratios.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

BENCH = REPO / "bench"

CHILD = r"""
import json, os, re, sys

side, args_json = sys.argv[1], sys.argv[2]
args = json.loads(args_json)
import _floor
full = _floor.with_defaults(args)
if side == "collectors":
    from ansible_collections.maint.core.plugins.modules import (
        linux_antivirus_facts, linux_backup_facts, linux_health_facts, linux_patching_facts,
    )
    h, p, a, b = (full[name] for name in _floor.COLLECTORS)
    def work():
        linux_health_facts.collect(
            h["statvfs_timeout"], h["command_timeout"], h["smart"], h["smart_max_disks"]
        )
        linux_patching_facts.collect(p, False)
        linux_antivirus_facts.collect(
            a["database_dir"], a["freshclam_conf"], a["scan_log"], a["command_timeout"]
        )
        linux_backup_facts.collect(b, json.loads)
else:
    def work():
        _floor.host_job(args)

# modules imported lazily while working (json's decoder, calendar, ctypes) are not what a host is asked
code = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.__file__)})
commands, touched = [], set()
recording = False

def fold(path):
    path = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else str(path)
    return re.sub(r"^/proc/\d+/", "/proc/PID/", path)

def hook(event, event_args):
    if not recording:
        return
    if event == "subprocess.Popen":
        commands.append(" ".join(map(os.fsdecode, event_args[1])))
    elif event in ("open", "os.listdir", "os.scandir", "glob.glob"):
        target = event_args[0]
        if isinstance(target, int) or target is None:
            return
        path = fold(target)
        if path.startswith(code) or path.endswith((".py", ".pyc", ".so")):
            return
        touched.add(event + " " + path)

sys.addaudithook(hook)
recording = True
work()
recording = False
print(json.dumps({"commands": commands, "touched": sorted(touched)}))
"""


def record(side: str, args: dict[str, Any]) -> dict[str, Any]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(BENCH), str(REPO / "collections"), os.environ.get("PYTHONPATH", "")]
        ),
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD, side, json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


@pytest.fixture(scope="module")
def bench_args() -> dict[str, Any]:
    sys.path.insert(0, str(BENCH))
    try:
        import linux_audit
    finally:
        sys.path.remove(str(BENCH))
    return {
        linux_audit.COLLECTOR[role]: linux_audit.collector_args(role, linux_audit.HOST_VARS)
        for role in linux_audit.ROLES
    }


def test_the_bench_resolves_what_each_role_passes_its_collector(bench_args: dict[str, Any]) -> None:
    # the inventory's var wins over the role default (true), the defaults fill the rest
    assert bench_args["linux_patching_facts"]["refresh_cache"] is False
    assert bench_args["linux_health_facts"]["statvfs_timeout"] == 5
    assert bench_args["linux_antivirus_facts"]["freshclam_conf"] == "/etc/clamav/freshclam.conf"
    assert bench_args["linux_backup_facts"]["restic_repository"] == ""


def test_the_floor_runs_the_collectors_commands_and_reads(bench_args: dict[str, Any]) -> None:
    collectors = record("collectors", bench_args)
    floor = record("floor", bench_args)
    assert floor["commands"] == collectors["commands"]
    assert floor["touched"] == collectors["touched"]
    # the audit of a Debian-family host with apt always simulates the upgrade (PATCH-LNX-01)
    if Path("/usr/bin/apt-get").exists():
        assert "apt-get -s -o Debug::NoLocking=true dist-upgrade" in floor["commands"]


def test_the_floor_covers_a_configured_restic_repository(tmp_path: Path, bench_args: dict[str, Any]) -> None:
    # restic configured (a local repository that does not exist: restic says so and the collector stops)
    args = {**bench_args}
    args["linux_backup_facts"] = {
        **bench_args["linux_backup_facts"],
        "restic_repository": str(tmp_path / "repo"),
        "restic_password": "bench-only",
        "file_sets": [{"name": "dumps", "path": str(tmp_path), "pattern": "*.sql"}],
    }
    (tmp_path / "a.sql").write_text("x")
    collectors = record("collectors", args)
    floor = record("floor", args)
    assert floor["commands"] == collectors["commands"]
    assert floor["touched"] == collectors["touched"]


def test_a_bad_bench_argument_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import linux_audit
    finally:
        sys.path.remove(str(BENCH))
    assert linux_audit.main(["--hosts", "0"]) == 2
    assert capsys.readouterr().err.strip() == "linux_audit: --hosts must be 1 or more, got 0"
