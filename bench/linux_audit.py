"""Bench (issue 4): a full Linux audit (linux_health, linux_patching, linux_antivirus, linux_backup) of 50
local-connection hosts against a single-task `ping` playbook on the same hosts, same forks.

Prints the Ansible tasks each host ran in the audit (from the play recap) and the ratio of wall times,
medians of alternating rounds. Every host is this machine over `ansible_connection: local`, so the ratio
is Ansible's per-task cost plus the collectors' own work. The package index is not refreshed (50
concurrent `apt-get update` on one machine would only measure the apt lock).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ROLES = ("linux_health", "linux_patching", "linux_antivirus", "linux_backup")
RECAP = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unr>\d+)\s+"
    r"failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)",
    re.MULTILINE,
)


def write_inputs(work: Path, hosts: int) -> tuple[Path, Path]:
    inventory = work / "hosts.yml"
    inventory.write_text(
        yaml.safe_dump(
            {
                "linux": {
                    "hosts": {f"bench-{i:03d}": None for i in range(hosts)},
                    "vars": {
                        "ansible_connection": "local",
                        "ansible_python_interpreter": sys.executable,
                        "maint_mode": "audit",
                        "linux_patching_refresh_cache": False,
                    },
                }
            }
        )
    )
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
    return inventory, ping


def play(inventory: Path, playbook: Path, forks: int) -> tuple[float, str]:
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_FORKS=str(forks),
        ANSIBLE_NOCOLOR="1",
        PATH=f"{BIN}:{env.get('PATH', '')}",
    )
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
        raise SystemExit(f"{playbook.name} failed (exit {proc.returncode})")
    return elapsed, proc.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--forks", type=int, default=20)
    args = parser.parse_args(argv)
    missing = [r for r in ROLES if not (REPO / "roles" / r / "tasks" / "main.yml").exists()]
    if missing:
        print(f"linux_audit: roles missing: {', '.join(missing)}")
        return 1
    with tempfile.TemporaryDirectory(prefix="maint-bench-") as tmp:
        inventory, ping = write_inputs(Path(tmp), args.hosts)
        audit = REPO / "playbooks" / "linux.yml"
        audit_times: list[float] = []
        ping_times: list[float] = []
        recap = ""
        for _ in range(args.rounds):
            elapsed, _out = play(inventory, ping, args.forks)
            ping_times.append(elapsed)
            elapsed, recap = play(inventory, audit, args.forks)
            audit_times.append(elapsed)
    rows = {m["host"]: m for m in RECAP.finditer(recap)}
    row = rows.get("bench-000")
    if row is None:
        print("linux_audit: no play recap for bench-000")
        return 1
    ok, skipped = int(row["ok"]), int(row["skipped"])
    audit_median, ping_median = statistics.median(audit_times), statistics.median(ping_times)
    print(f"hosts={args.hosts} forks={args.forks} rounds={args.rounds}")
    print(f"tasks per host in a full Linux audit: {ok} run + {skipped} skipped (remediation, conditions)")
    print(f"ping playbook (1 task):   median {ping_median:6.2f}s  {[round(t, 2) for t in ping_times]}")
    print(f"full Linux audit:         median {audit_median:6.2f}s  {[round(t, 2) for t in audit_times]}")
    print(f"ratio audit / ping: {audit_median / ping_median:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
