"""Run every benchmark in this folder; each prints its own ratio against its baseline.

    python bench/run_all.py [--quick]

``--quick`` passes ``--quick`` (small sizes) to the benches that have it.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

BENCHES = [
    "run_vs_playbook",
    "ledger_ingest",
    "status",
    "network_drift",
    "schedule_due",
    "network_review",
    "inventory_review",
    "linux_audit",
    "cli_startup",
    "checkpoint",
    "report",
    "trends",
    "fleet_cycle",
    "site_worker",
]
#: benches with a ``--quick`` mode
QUICK = {"checkpoint", "report", "trends", "linux_audit", "fleet_cycle", "site_worker"}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    unknown = [arg for arg in args if arg != "--quick"]
    if unknown:
        print(f"bench/run_all.py: unknown argument {unknown[0]!r} (only --quick)", file=sys.stderr)
        return 2
    quick = "--quick" in args
    failed = 0
    for name in BENCHES:
        print(f"== {name}", flush=True)
        module = importlib.import_module(name)
        failed += 1 if module.main(["--quick"] if quick and name in QUICK else []) else 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
