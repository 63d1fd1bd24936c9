"""Bench (issue 6): ``maint due --dry-run`` deciding for many clients against loading them.

    python bench/schedule_due.py [--clients N] [--repeat R]

N generated clients (default 1,000) in four time zones with their own holiday calendars, each
with 3 schedules (nightly health 02:00, monthly audit first Saturday 22:00, monthly patch second
Saturday 22:00-04:00) and a ledger holding each schedule's previous occurrence. At a Saturday
22:10 Madrid time (windows open in some zones, closed in others, holidays skipped):

(a) baseline: load and validate every client inventory (what any ``maint`` command does first);
(b) ``runner.due.due(now, dry_run=True)``: the same loading plus every occurrence computed in the
    client's zone (DST, holidays) and decided against the ledger's rows.

Runs alternate (a, b, a, b, ...); the best of R is reported with the ratio (b)/(a): the cost of
deciding on top of loading. Target: ratio <= 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runner import schedule_ledger as occ
from runner.due import due
from runner.inventory import list_clients, validate_client
from runner.ledger import Ledger
from runner.schedule import occurrences

ZONES = [
    ("Europe/Madrid", {"country": "ES", "subdivision": "CT"}),
    ("Europe/London", {"country": "GB", "subdivision": "ENG"}),
    ("America/New_York", {"country": "US", "subdivision": "NY"}),
    ("Asia/Tokyo", {"country": "JP"}),
]
NOW = datetime(2026, 11, 7, 21, 10, tzinfo=UTC)  # Saturday 22:10 in Madrid


def settings(index: int) -> dict[str, Any]:
    zone, calendar = ZONES[index % len(ZONES)]
    return {
        "display_name": f"Client {index}",
        "timezone": zone,
        "contacts": [{"name": "Tech", "email": "tech@example.com"}],
        "modes_allowed": ["audit", "remediate"],
        "roles": {"linux_health": ["linux"]},
        "schedules": [
            {
                "name": "nightly-health",
                "cron": f"{index % 60} 2 * * *",
                "roles": ["linux_health"],
                "window": {"duration_minutes": 120, "min_run_minutes": 15},
            },
            {
                "name": "monthly-audit",
                "cron": "0 22 * * 6#1",
                "roles": ["linux_health"],
                "window": {"duration_minutes": 240},
            },
            {
                "name": "monthly-patch",
                "cron": "0 22 * * 6#2",
                "roles": ["linux_health"],
                "mode": "remediate",
                "window": {"end": "04:00", "min_run_minutes": 90},
            },
        ],
        "blackout": {"dates": ["2026-12-24"], "holidays": calendar, "on_holiday": "next_day"},
    }


def generate(base: Path, count: int) -> None:
    for index in range(count):
        root = base / f"client-{index:04d}"
        (root / "group_vars" / "all").mkdir(parents=True)
        hosts = {
            f"c{index}-lnx{h}": {"ansible_host": f"10.{index // 250}.{index % 250}.{h}"} for h in range(5)
        }
        (root / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"linux": {"hosts": hosts}}}}))
        (root / "group_vars" / "all" / "maintenance.yml").write_text(
            yaml.safe_dump({"maintenance": settings(index)})
        )


def seed(ledger: Ledger, base: Path) -> int:
    """Each schedule's latest occurrence before the last two days, recorded completed."""
    rows = []
    for name in list_clients(base):
        client, _problems = validate_client(name, base)
        assert client is not None
        for o in occurrences(name, client.settings, NOW - timedelta(days=40), NOW - timedelta(days=2)):
            rows.append(
                occ.row(
                    client=name,
                    occurrence_id=o.id,
                    schedule_name=o.schedule,
                    window_start=o.start,
                    window_end=o.end,
                    state=occ.OccurrenceState.COMPLETED,
                    recorded_at=o.start,
                )
            )
    for start in range(0, len(rows), 5000):
        ledger.append(occ.schedule_occurrences, rows[start : start + 5000])
    return len(rows)


def time_load(base: Path) -> float:
    started = time.perf_counter()
    for name in list_clients(base):
        client, problems = validate_client(name, base)
        assert client is not None, problems
    return time.perf_counter() - started


def time_due(base: Path, ledger: Ledger) -> tuple[float, int]:
    started = time.perf_counter()
    report = due(NOW, ledger=ledger, dry_run=True, inventories=base)
    elapsed = time.perf_counter() - started
    assert not report.problems, report.problems
    return elapsed, len(report.entries)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="due-bench-") as tmp:
        base = Path(tmp) / "inventories"
        generate(base, args.clients)
        os.environ["MAINT_VAR"] = str(Path(tmp) / "var")
        ledger = Ledger(f"sqlite:///{Path(tmp) / 'ledger.db'}")
        seeded = seed(ledger, base)
        load_times: list[float] = []
        due_times: list[float] = []
        entries = 0
        for _ in range(args.repeat):
            load_times.append(time_load(base))
            elapsed, entries = time_due(base, ledger)
            due_times.append(elapsed)
        ledger.close()
    best_load, best_due = min(load_times), min(due_times)
    ratio = best_due / best_load
    print(f"clients: {args.clients} x 3 schedules; ledger seeded with {seeded} occurrence rows")
    print(
        f"(a) load + validate:          best {best_load:.3f} s  ({args.clients / best_load:,.0f} clients/s)"
    )
    print(f"(b) maint due --dry-run:      best {best_due:.3f} s  ({entries} decisions)")
    print(f"ratio (b)/(a): {ratio:.2f}  (target <= 2)")
    print("all (a): " + ", ".join(f"{t:.3f}" for t in load_times))
    print("all (b): " + ", ".join(f"{t:.3f}" for t in due_times))
    return 0 if ratio <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
