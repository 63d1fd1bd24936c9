"""Bench (issue 10, section 7): how long ``maint`` takes before doing anything.

    python bench/cli_startup.py [--repeat N]

Runs, alternating, N times each (default 20): (a) baseline ``python -c pass`` with the same interpreter,
(b) ``maint --version``; then, for information, ``maint --help`` and ``maint inventory validate`` on the
repository's example inventories. Prints the median of each (wall clock, and CPU time, which a busy
machine inflates less), and the ratio (b)/(a) of the wall-clock medians.
Target: ``maint --version``, ``--help`` and ``inventory validate`` each start in <= 0.35 s (median).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_S = 0.35


def maint_command() -> list[str]:
    """The ``maint`` console script of this interpreter's environment (what a user types)."""
    script = Path(sys.executable).with_name("maint")
    if script.is_file():
        return [str(script)]
    found = shutil.which("maint")
    return [found] if found else [sys.executable, "-m", "runner.cli"]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def once(argv: Sequence[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system) of one run."""
    cpu, start = _cpu(), time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start, _cpu() - cpu


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    maint = maint_command()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "maint --version": [*maint, "--version"],
        "maint --help": [*maint, "--help"],
        "maint inventory validate": [*maint, "inventory", "validate"],
    }
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        env = {
            **os.environ,
            "MAINT_VAR": str(Path(tmp) / "var"),
            "MAINT_INVENTORIES": str(REPO / "inventories"),
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        }
        for command in commands.values():  # warm the page cache and the .pyc files
            once(command, env, Path(tmp))
        times: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, command in commands.items():
                wall, used = once(command, env, Path(tmp))
                times[name].append(wall)
                cpu[name].append(used)
    medians = {name: statistics.median(values) for name, values in times.items()}
    cpu_medians = {name: statistics.median(values) for name, values in cpu.items()}
    base, version = medians["python -c pass"], medians["maint --version"]
    print(f"runs: {args.repeat} of each, alternating; medians (wall clock, and CPU user+system):")
    for name, value in medians.items():
        mark = "" if name == "python -c pass" else ("  ok" if value <= TARGET_S else f"  ABOVE {TARGET_S} s")
        print(f"  {name:<26} {value * 1000:7.1f} ms   cpu {cpu_medians[name] * 1000:7.1f} ms{mark}")
    print(
        f"maint --version: median {version:.3f} s; ratio (b)/(a) against python -c pass: {version / base:.1f}"
    )
    print(f"target: <= {TARGET_S} s for --version, --help and inventory validate")
    slow = [name for name, value in medians.items() if name != "python -c pass" and value > TARGET_S]
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
