"""Bench (issue 16): a fleet's nightly cycle, ``maint due --max-parallel N`` for N = 1, 2, 4.

    python bench/fleet_cycle.py [--clients 40] [--hosts 10] [--parallel 1,2,4] [--quick]

C generated clients (default 40) of H local-connection hosts each (default 10), every client with one
schedule (linux_health + linux_patching, audit mode, ``linux_patching_refresh_cache: false``: C x H
concurrent ``apt-get update`` on one machine would only measure the apt lock) whose window is open at
the bench's frozen ``--now``, so every client is due. For each N the real ``maint due --now ...
--max-parallel N`` command runs on the same inventories with a fresh MAINT_VAR (ledger, runs, locks);
every client's occurrence must be recorded ``completed``.

Printed per N: the wall time and its ratio to N = 1, and the controller's memory: the ``maint due``
process and all its descendants (ansible-runner's ansible-playbook, its forks, the modules and the
commands they run), sampled from /proc every ~100 ms; the peak total and the peak per concurrent job
(peak / N), as RSS (summed: pages the forks share are counted in each, an upper bound) and as PSS
(shared pages split between their users), with the most jobs seen at once (distinct ``MAINT_RUN_ID``
marks among the processes, runner.procs). The machine's load average is printed before and after.
``--quick``: 4 clients x 2 hosts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ROLES = ("linux_health", "linux_patching")
#: a Wednesday 22:05 in Madrid: the nightly 22:00 window (4 hours) is open
NOW = "2026-06-10T22:05:00+02:00"
PAGE = os.sysconf("SC_PAGE_SIZE")
SAMPLE_S = 0.1


def settings(index: int) -> dict[str, Any]:
    return {
        "display_name": f"Fleet client {index}",
        "timezone": "Europe/Madrid",
        "contacts": [{"name": "Tech", "email": "tech@example.com"}],
        "modes_allowed": ["audit"],
        "roles": {role: ["linux"] for role in ROLES},
        "schedules": [
            {
                "name": "nightly",
                "cron": "0 22 * * *",
                "roles": list(ROLES),
                "mode": "audit",
                "window": {"duration_minutes": 240, "min_run_minutes": 15},
            }
        ],
    }


def generate(base: Path, clients: int, hosts: int) -> list[str]:
    names = []
    for index in range(clients):
        name = f"fleet-{index:03d}"
        root = base / name
        (root / "group_vars" / "all").mkdir(parents=True)
        inventory = {
            "all": {
                "children": {
                    "linux": {
                        "hosts": {f"{name}-lnx{h:02d}": None for h in range(hosts)},
                        "vars": {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": sys.executable,
                            "linux_patching_refresh_cache": False,
                        },
                    }
                }
            }
        }
        (root / "hosts.yml").write_text(yaml.safe_dump(inventory))
        (root / "group_vars" / "all" / "maintenance.yml").write_text(
            yaml.safe_dump({"maintenance": settings(index)}, sort_keys=False)
        )
        names.append(name)
    return names


JOB_MARK = b"MAINT_RUN_ID="  # runner.procs.JOB_MARK: every process of a job carries its run id


@dataclass(frozen=True)
class Sample:
    rss: int  # resident bytes, summed (pages shared by forks counted in each: an upper bound)
    pss: int  # proportional set size, summed (shared pages split between their users)
    jobs: int  # distinct run ids among the processes: jobs running at once


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        children.setdefault(int(stat.rsplit(")", 1)[-1].split()[1]), []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def sample(root: int) -> Sample:
    """Memory of ``root`` (the ``maint due`` process) and every descendant, and the jobs among them."""
    rss = pss = 0
    runs: set[bytes] = set()
    for pid in _descendants(root):
        try:
            rss += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
                    break
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):  # the process ended meanwhile
            continue
        runs.update(v for v in environ if v.startswith(JOB_MARK))
    return Sample(rss, pss, len(runs))


@dataclass
class Cycle:
    parallel: int
    wall: float
    peak: Sample
    completed: int
    entries: int


class Sampler(threading.Thread):
    """Samples the process tree every ~100 ms; keeps each quantity's peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = Sample(0, 0, 0)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            now = sample(self.pid)
            self.peak = Sample(
                max(self.peak.rss, now.rss), max(self.peak.pss, now.pss), max(self.peak.jobs, now.jobs)
            )
            self.done.wait(SAMPLE_S)


def cycle(base: Path, work: Path, parallel: int) -> Cycle:
    var = work / f"var-n{parallel}"
    env = {
        **os.environ,
        "MAINT_VAR": str(var),
        "MAINT_DB_URL": f"sqlite:///{var / 'ledger.db'}",
        "MAINT_INVENTORIES": str(base),
        "ANSIBLE_LOCAL_TEMP": str(work / f"tmp-n{parallel}"),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("MAINT_LEDGER_KEY_FILE", None)
    cmd = [str(BIN / "maint"), "due", "--now", NOW, "--max-parallel", str(parallel), "--json"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = Sampler(proc.pid)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    sampler.done.set()
    sampler.join()
    if proc.returncode != 0:
        sys.stderr.write(err.decode(errors="replace")[-3000:])
        raise SystemExit(f"fleet_cycle: maint due --max-parallel {parallel} exited {proc.returncode}")
    report = json.loads(out)
    entries = report["entries"]
    done = sum(1 for e in entries if e["recorded"] == "completed" and e["run_status"] == "successful")
    return Cycle(parallel, wall, sampler.peak, done, len(entries))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--parallel", default="1,2,4", help="comma-separated N values (first one: the base)")
    parser.add_argument("--quick", action="store_true", help="4 clients x 2 hosts")
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.hosts = 4, 2
    try:
        values = [int(v) for v in args.parallel.split(",")]
    except ValueError:
        parser.error(f"--parallel {args.parallel!r}: comma-separated integers expected")
    if not values or min(values) < 1 or args.clients < 1 or args.hosts < 1:
        parser.error("--parallel values, --clients and --hosts must be >= 1")
    missing = [r for r in ROLES if not (REPO / "roles" / r / "tasks" / "main.yml").exists()]
    if missing:
        print(f"fleet_cycle: roles missing: {', '.join(missing)}")
        return 1
    results: list[Cycle] = []
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        work = Path(tmp)
        base = work / "inventories"
        generate(base, args.clients, args.hosts)
        load_before = os.getloadavg()
        for parallel in values:
            results.append(cycle(base, work, parallel))
    print(
        f"clients={args.clients} x hosts={args.hosts} ({args.clients * args.hosts} hosts), "
        f"roles {' + '.join(ROLES)} (audit), forks per job from ansible.cfg, cpus={os.cpu_count()}"
    )
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*load_before))
    print("load average after:  {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    first = results[0]
    failed = 0
    mib = 2**20
    for c in results:
        ok = c.completed == args.clients and c.entries == args.clients
        failed += 0 if ok else 1
        print(
            f"N={c.parallel}: wall {c.wall:7.2f}s  ratio to N={first.parallel}: {c.wall / first.wall:.2f}  "
            f"jobs at once (peak) {c.peak.jobs}  completed {c.completed}/{args.clients}"
            + ("" if ok else "  <- not every occurrence completed")
        )
        print(
            f"      peak RSS {c.peak.rss / mib:7.1f} MiB (per job {c.peak.rss / mib / c.parallel:6.1f})  "
            f"peak PSS {c.peak.pss / mib:7.1f} MiB (per job {c.peak.pss / mib / c.parallel:6.1f})"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
