"""Run every benchmark in this folder; each prints its own ratio against its baseline."""

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
]


def main() -> int:
    failed = 0
    for name in BENCHES:
        print(f"== {name}", flush=True)
        module = importlib.import_module(name)
        failed += 1 if module.main([]) else 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
