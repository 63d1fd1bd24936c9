"""Bench (issues 4, 16): a full Linux audit of 50 local-connection hosts against its two floors.

    python bench/linux_audit.py [--hosts 50] [--rounds 2] [--forks 20] [--no-accelerate] [--quick]

The audit is the four Linux roles (linux_health, linux_patching, linux_antivirus, linux_backup) in one
play, ``gather_facts: false``, as playbooks/linux.yml runs them. Each round measures, on the same hosts
with the same parallelism:

- **ping**: a one-task ``ansible.builtin.ping`` playbook: what Ansible costs per task and host;
- **raw**: the collectors' own work without Ansible (bench/_floor.py): a pool of ``forks`` forked
  workers, one job per host, each doing what the four collector modules do on a host, in order, with
  the arguments the roles pass them (read here from each role's task and defaults, under the bench's
  inventory vars). That is the cost no orchestration can remove: the commands the collectors run
  (``apt-get -s -o Debug::NoLocking=true dist-upgrade`` with DEBIAN_FRONTEND=noninteractive;
  ``timedatectl show`` and ``chronyc -n tracking`` where installed; ``systemctl list-units
  --state=failed`` / ``is-system-running`` and ``systemctl is-active|is-enabled clamav-*.service``
  where systemd is PID 1; ``smartctl --scan -j`` and ``-j -a`` per disk; ``journalctl -p err`` when a
  journal exists; ``clamscan --version``; ``needrestart -b -r l`` / ``needs-restarting``; restic
  ``version``/``snapshots``/``check`` when a repository is configured), each with its time limit, and
  the files they read (os-release, /proc/uptime, /proc/mounts and a statvfs per filesystem, the apt
  history and dpkg logs with their rotations, the apt lists' mtimes, /run/reboot-required.pkgs,
  /boot and /lib/modules, freshclam.conf, the ClamAV database headers, every /proc/PID/comm, the kernel
  clock through adjtimex). tests/test_bench_floor.py checks with audit hooks that the floor starts the
  same commands and opens the same files as the collectors. The first host's command list is printed;
  which commands run depends on the machine (a container without systemd or ClamAV runs few);
- **audit**: the four roles under plain Ansible;
- **accelerated**: the same audit under mitogen's strategy (``runner.accelerate.accelerate_env``), unless
  ``--no-accelerate`` or mitogen cannot run here (one line says why).

Every host is this machine over ``ansible_connection: local``, each with its own interpreter path (a
wrapper: see ``interpreters``) so that mitogen gives each host its own context, as real hosts have.

Rounds alternate the order (ping, raw, audit, accelerated, then the reverse) so a drift of the
machine's load falls on every side; each ratio is the median of the per-round ratios. Targets (issue
16), printed next to the ratios, not asserted: audit / raw <= 1.5, audit / ping <= 5, accelerated /
plain <= 0.6. The package index is not refreshed (50 concurrent ``apt-get update`` on one machine would
only measure the apt lock). ``--quick``: 4 hosts, one round (a smoke run for bench/run_all.py).
Exit 0, or 1 when a playbook fails or a role's task cannot be read, 2 for a bad argument.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import _floor  # bench/_floor.py: bench/ is on sys.path as the script's folder (or run_all.py's)
import yaml

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ROLES = ("linux_health", "linux_patching", "linux_antivirus", "linux_backup")
COLLECTOR = {
    "linux_health": "linux_health_facts",
    "linux_patching": "linux_patching_facts",
    "linux_antivirus": "linux_antivirus_facts",
    "linux_backup": "linux_backup_facts",
}
HOST_VARS: dict[str, Any] = {
    "ansible_connection": "local",
    "ansible_python_interpreter": sys.executable,
    "maint_mode": "audit",
    "linux_patching_refresh_cache": False,
}
TARGETS = {"audit / raw": 1.5, "audit / ping": 5.0, "accelerated / plain": 0.6}
RECAP = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unr>\d+)\s+"
    r"failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)",
    re.MULTILINE,
)
VAR = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")


class BenchError(Exception):
    """A role's task or defaults the bench cannot read: one line, exit 1."""


def interpreters(work: Path, hosts: int) -> dict[str, dict[str, str]]:
    """One interpreter path per host: a two-line sh wrapper that execs this Python.

    mitogen keys a ``local`` connection's context by its interpreter path only: 50 local hosts with one
    path share one context, which runs their modules one after the other (seen here: one apt-get at a
    time). A fleet of real hosts has one context each; the wrappers give every bench host its own.
    mitogen also pins the processes it starts to the CPUs it does not reserve for its multiplexer (on 2
    or 3 CPUs: all but CPU 0), so the local contexts and the collectors' commands would get one core of
    two; a real host's commands run on that host's CPUs. With ``taskset`` installed the wrapper gives
    the host's interpreter every CPU of this machine again (a no-op for plain Ansible, which pins
    nothing). Plain Ansible pays one ``exec`` of sh (and taskset) per module; both audits and the ping
    playbook use the same inventory.
    """
    folder = work / "python"
    folder.mkdir()
    taskset = shutil.which("taskset")
    cpus = f"0-{(os.cpu_count() or 1) - 1}"
    prefix = f"{taskset} -a -c {cpus} " if taskset else ""
    out = {}
    for i in range(hosts):
        name = f"bench-{i:03d}"
        wrapper = folder / name
        wrapper.write_text(f'#!/bin/sh\nexec {prefix}{sys.executable} "$@"\n')
        wrapper.chmod(0o755)
        out[name] = {"ansible_python_interpreter": str(wrapper)}
    return out


def write_inputs(work: Path, hosts: int) -> tuple[Path, Path, Path]:
    inventory = work / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"linux": {"hosts": interpreters(work, hosts), "vars": HOST_VARS}}))
    ping = work / "ping.yml"
    ping.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "BENCH | ping",
                    "hosts": "linux",
                    "gather_facts": False,
                    "tasks": [{"name": "BENCH | ping", "ansible.builtin.ping": None}],
                }
            ]
        )
    )
    audit = work / "audit.yml"
    audit.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "BENCH | Linux audit",
                    "hosts": "linux",
                    "gather_facts": False,
                    "roles": [{"role": role} for role in ROLES],
                }
            ],
            sort_keys=False,
        )
    )
    return inventory, ping, audit


def collector_args(role: str, hostvars: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments ``role`` passes its collector: its task's ``collector_args`` (a maint_audit task) or
    the collector task's own, each ``{{ var }}`` resolved from the inventory vars over the role's defaults."""
    tasks_file = REPO / "roles" / role / "tasks" / "main.yml"
    defaults_file = REPO / "roles" / role / "defaults" / "main.yml"
    try:
        tasks = yaml.safe_load(tasks_file.read_text()) or []
        defaults = (yaml.safe_load(defaults_file.read_text()) or {}) if defaults_file.exists() else {}
    except (OSError, yaml.YAMLError) as exc:
        raise BenchError(f"cannot read {tasks_file.relative_to(REPO)}: {exc}") from None
    variables = {**defaults, **hostvars}
    collector = f"maint.core.{COLLECTOR[role]}"
    raw: Any = None
    for task in tasks if isinstance(tasks, list) else []:
        audit = task.get("maint.core.maint_audit") if isinstance(task, dict) else None
        if isinstance(audit, dict) and audit.get("collector") == collector:
            raw = audit.get("collector_args") or {}
        elif isinstance(task, dict) and collector in task:
            raw = task[collector] or {}
    if not isinstance(raw, dict):
        raise BenchError(f"{tasks_file.relative_to(REPO)}: no task runs {collector} (maint_audit or direct)")
    out = {}
    for key, value in raw.items():
        match = VAR.match(value) if isinstance(value, str) else None
        if match is None:
            out[key] = value
        elif match.group(1) in variables:
            out[key] = variables[match.group(1)]
        else:
            raise BenchError(f"{tasks_file.relative_to(REPO)}: {collector} {key}: {value} is not defined")
    return out


def play(inventory: Path, playbook: Path, forks: int, extra_env: Mapping[str, str]) -> tuple[float, str]:
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_ROLES_PATH=str(REPO / "roles"),
        ANSIBLE_FORKS=str(forks),
        ANSIBLE_NOCOLOR="1",
        PATH=f"{BIN}:{env.get('PATH', '')}",
    )
    env.update(extra_env)
    start = time.perf_counter()
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inventory), str(playbook)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=REPO,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-2000:])
        raise BenchError(f"{playbook.name} failed (exit {proc.returncode})")
    return elapsed, proc.stdout


def tasks_per_host(recap: str) -> str:
    rows = {m["host"]: m for m in RECAP.finditer(recap)}
    row = rows.get("bench-000")
    if row is None:
        return "no play recap for bench-000"
    return f"{row['ok']} run + {row['skipped']} skipped"


def accelerated_env(enabled: bool) -> tuple[dict[str, str], str]:
    """mitogen's environment, or ({}, why the accelerated audit is not run)."""
    if not enabled:
        return {}, "--no-accelerate"
    sys.path.insert(0, str(REPO))
    try:
        from runner.accelerate import accelerate_env
    except ImportError as exc:
        return {}, f"runner.accelerate is not there yet ({exc})"
    env, reason = accelerate_env()
    return (env, "") if reason is None else ({}, reason)


def ratio(times: Mapping[str, list[float]], top: str, bottom: str) -> float:
    return statistics.median(a / b for a, b in zip(times[top], times[bottom], strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--hosts", type=int, default=None, help="hosts (default 50, --quick 4)")
    parser.add_argument("--rounds", type=int, default=None, help="alternated rounds (default 2, --quick 1)")
    parser.add_argument("--forks", type=int, default=20)
    parser.add_argument("--no-accelerate", action="store_true", help="skip the audit under mitogen")
    parser.add_argument("--quick", action="store_true", help="4 hosts, 1 round: a smoke run")
    args = parser.parse_args(argv)
    hosts = args.hosts if args.hosts is not None else (4 if args.quick else 50)
    rounds = args.rounds if args.rounds is not None else (1 if args.quick else 2)
    for name, value in (("--hosts", hosts), ("--rounds", rounds), ("--forks", args.forks)):
        if value < 1:
            print(f"linux_audit: {name} must be 1 or more, got {value}", file=sys.stderr)
            return 2
    missing = [r for r in ROLES if not (REPO / "roles" / r / "tasks" / "main.yml").exists()]
    if missing:
        print(f"linux_audit: roles missing: {', '.join(missing)}")
        return 1
    try:
        return bench(hosts, rounds, args.forks, not args.no_accelerate)
    except BenchError as exc:
        print(f"linux_audit: {exc}")
        return 1


def bench(hosts: int, rounds: int, forks: int, accelerate: bool) -> int:
    floor_args = {COLLECTOR[role]: collector_args(role, HOST_VARS) for role in ROLES}
    mitogen, why_not = accelerated_env(accelerate)
    times: dict[str, list[float]] = {"ping": [], "raw": [], "audit": []}
    if mitogen:
        times["accelerated"] = []
    recaps: dict[str, str] = {}
    commands: list[str] = []
    print(f"hosts={hosts} forks={forks} rounds={rounds}", flush=True)
    with tempfile.TemporaryDirectory(prefix="maint-bench-") as tmp:
        inventory, ping, audit = write_inputs(Path(tmp), hosts)

        def run_playbook(name: str, playbook: Path, env: Mapping[str, str]) -> Callable[[], float]:
            def step() -> float:
                elapsed, recaps[name] = play(inventory, playbook, forks, env)
                return elapsed

            return step

        def run_floor() -> float:
            elapsed, first = _floor.fleet(floor_args, hosts, forks)
            commands[:] = first
            return elapsed

        steps: dict[str, Callable[[], float]] = {
            "ping": run_playbook("ping", ping, {}),
            "raw": run_floor,
            "audit": run_playbook("audit", audit, {}),
            "accelerated": run_playbook("accelerated", audit, mitogen),
        }
        for number in range(rounds):
            order = list(times) if number % 2 == 0 else list(reversed(times))
            for name in order:
                times[name].append(steps[name]())
                print(f"  round {number + 1} {name}: {times[name][-1]:.2f}s", flush=True)
            line = "  ".join(f"{name} {times[name][-1]:7.2f}s" for name in times)
            print(f"round {number + 1}: {line}", flush=True)
    print(f"raw commands per host ({len(commands)}): {'; '.join(commands) or 'none'}")
    print(f"tasks per host (play recap of bench-000): audit {tasks_per_host(recaps['audit'])}", end="")
    print(f", accelerated {tasks_per_host(recaps['accelerated'])}" if mitogen else "", end="")
    print(f", ping {tasks_per_host(recaps['ping'])}")
    for name, series in times.items():
        print(f"{name + ':':13s} median {statistics.median(series):7.2f}s  {[round(t, 2) for t in series]}")
    pairs = [("audit / raw", "audit", "raw"), ("audit / ping", "audit", "ping")]
    if mitogen:
        pairs.append(("accelerated / plain", "accelerated", "audit"))
    for label, top, bottom in pairs:
        print(f"ratio {label + ':':21s}{ratio(times, top, bottom):6.2f}  (target <= {TARGETS[label]:g})")
    if not mitogen:
        print(f"accelerated audit not run: {why_not}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
