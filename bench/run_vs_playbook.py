"""Bench (issue 2a): `maint run` against plain `ansible-playbook` of the same playbook.

A 10-task role on 50 local-connection hosts. Both commands run alternately in this one
script, several rounds; the ratio of medians is what to read (target <= 1.10): it is the
cost of ansible-runner's event stream plus recording every result in the ledger.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

TASKS = [
    {
        "name": "BENCH | Read kernel release",
        "ansible.builtin.command": "uname -r",
        "changed_when": False,
        "register": "bench_ten_kernel",
    },
    {
        "name": "BENCH | Stat /etc/hostname",
        "ansible.builtin.stat": {"path": "/etc/hostname"},
        "register": "bench_ten_hostname",
    },
    {
        "name": "BENCH | Stat /etc/os-release",
        "ansible.builtin.stat": {"path": "/etc/os-release"},
        "register": "bench_ten_osrel",
    },
    {
        "name": "BENCH | Read uptime",
        "ansible.builtin.slurp": {"src": "/proc/uptime"},
        "register": "bench_ten_uptime",
    },
    {
        "name": "BENCH | Compute facts",
        "ansible.builtin.set_fact": {
            "bench_ten_up": "{{ (bench_ten_uptime.content | b64decode).split()[0] | float }}"
        },
    },
    {
        "name": "BENCH | List /etc",
        "ansible.builtin.find": {"paths": "/etc", "file_type": "file", "depth": 1},
        "register": "bench_ten_etc",
    },
    {
        "name": "BENCH | Date",
        "ansible.builtin.command": "date -u +%s",
        "changed_when": False,
        "register": "bench_ten_date",
    },
    {
        "name": "BENCH | Assert sane",
        "ansible.builtin.assert": {"that": ["bench_ten_up | float > 0"], "quiet": True},
    },
    {
        "name": "BENCH | Summarise",
        "ansible.builtin.set_fact": {"bench_ten_files": "{{ bench_ten_etc.matched }}"},
    },
    {
        # one result per host for the runner to record: the window guard emits MAINT-WINDOW-01 on the
        # controller, as any maint.core action plugin does (the window ends long after the bench)
        "name": "BENCH | Emit a result",
        "maint.core.maint_window_guard": {
            "action": "bench of {{ bench_ten_files }} files on {{ bench_ten_kernel.stdout }}",
            "minutes_needed": 0,
            "window_end": "2999-01-01T00:00:00Z",
        },
    },
]


def build_home(base: Path, hosts: int) -> dict[str, list[str]]:
    for sub in ("roles/bench_ten/tasks", "playbooks", "inventories/bench/group_vars/all"):
        (base / sub).mkdir(parents=True)
    cfg = (
        (REPO / "ansible.cfg")
        .read_text()
        .replace("./collections", str(REPO / "collections"))
        .replace("./roles", str(base / "roles"))
    )
    (base / "ansible.cfg").write_text(cfg)
    (base / "roles/bench_ten/tasks/main.yml").write_text(yaml.safe_dump(TASKS, sort_keys=False))
    play = [
        {
            "name": "Bench",
            "hosts": "{{ maint_targets['bench_ten'] | default([]) }}",
            "gather_facts": False,
            "roles": ["bench_ten"],
        }
    ]
    (base / "playbooks/site.yml").write_text(yaml.safe_dump(play, sort_keys=False))
    shutil.copy(REPO / "playbooks/role.yml", base / "playbooks/role.yml")
    (base / "collections").symlink_to(REPO / "collections")
    names = [f"bench-{i:03d}" for i in range(1, hosts + 1)]
    hosts_yml = {
        "all": {
            "children": {
                "bench": {
                    "hosts": {
                        n: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
                        for n in names
                    }
                }
            }
        }
    }
    (base / "inventories/bench/hosts.yml").write_text(yaml.safe_dump(hosts_yml))
    settings = {
        "maintenance": {
            "display_name": "Bench",
            "timezone": "UTC",
            "contacts": [{"name": "bench"}],
            "roles": {"bench_ten": ["bench"]},
        }
    }
    (base / "inventories/bench/group_vars/all/maintenance.yml").write_text(yaml.safe_dump(settings))
    return {"bench_ten": names}


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="maint-bench-") as tmp:
        home = Path(tmp)
        targets = build_home(home, args.hosts)
        # maint runs a single role through playbooks/role.yml: the baseline runs that same playbook
        (home / "targets.json").write_text(json.dumps({"maint_targets": targets, "maint_role": "bench_ten"}))
        env = {
            **os.environ,
            "MAINT_HOME": str(home),
            "ANSIBLE_CONFIG": str(home / "ansible.cfg"),
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        maint = [str(BIN / "maint"), "run", "bench"]
        plain = [
            str(BIN / "ansible-playbook"),
            "-i",
            "inventories/bench",
            "playbooks/role.yml",
            "-e",
            "@targets.json",
        ]
        timed(plain, env, home)  # warm-up: caches, bytecode
        t_maint, t_plain = [], []
        for _ in range(args.rounds):
            t_plain.append(timed(plain, env, home))
            t_maint.append(timed(maint, env, home))
        m, p = statistics.median(t_maint), statistics.median(t_plain)
        print(f"run_vs_playbook: {args.hosts} hosts x {len(TASKS)} tasks, {args.rounds} rounds alternated")
        print(f"  ansible-playbook (no ledger): median {p:.2f}s  {[round(t, 2) for t in t_plain]}")
        print(f"  maint run (runner + ledger):  median {m:.2f}s  {[round(t, 2) for t in t_maint]}")
        print(f"  ratio maint/plain = {m / p:.3f}  (target <= 1.10)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
