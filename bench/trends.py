"""Benchmark: the trend step (``runner.trends.trend_rows``) at the end of a run, against reading the run back.

    python bench/trends.py [--hosts 50] [--runs 24] [--repeat 3] [--quick]

A SQLite ledger holds RUNS weekly runs of HOSTS Linux hosts, each run with the rows the trend step reads
(HEALTH-LNX-01 with ``volumes`` of 4 filesystems, HEALTH-LNX-08 with ``error_counts`` of the journal and 2
disks) plus 5 other linux_health rows, recorded with ``Ledger.record()`` (the chained path). Then, for the
newest run:

(a) ``trend_rows``: per host, the run's input rows, the history of both input controls (the index
    ``ix_check_results_latest`` seeks (client, host, control, observed_at)), Theil-Sen per filesystem and the
    error trend: the rows the run records after the play;
(b) the baseline, ``Ledger.results_for_run`` of the same run: reading the run's own rows back, which every
    run does once for its summary.

Alternated, best of REPEAT; prints the ratio (a)/(b) and the step's milliseconds per host. Two queries per
host (one per input control, each an index seek capped at ``trend_points`` x 4 rows) and the fits: the
ratio grows with the hosts, not with the history's depth (compare ``--runs 24`` and ``--runs 96``).
Target: under 1 s per 50 hosts (a run of 50 hosts takes minutes), ratio <= 50.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runner import trends
from runner.ledger import Ledger, RunRecord
from runner.results import CheckResult, Domain, Severity, Status

CLIENT = "bench"
ROLE = "linux_health"
START = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
GIB = 1024**3
MOUNTS = ("/", "/var", "/srv", "/home")
OTHERS = ("HEALTH-LNX-02", "HEALTH-LNX-03", "HEALTH-LNX-04", "HEALTH-LNX-05", "HEALTH-LNX-06")


def row(control: str, host: str, run_id: str, at: datetime, evidence: dict[str, object]) -> CheckResult:
    return CheckResult(
        control=control,
        title=control,
        domain=Domain.HEALTH,
        status=Status.PASS,
        severity=Severity.MEDIUM,
        evidence=evidence,
        host=host,
        client=CLIENT,
        run_id=run_id,
        observed_at=at,
        role=ROLE,
    )


def fill(ledger: Ledger, hosts: int, runs: int) -> str:
    """RUNS weekly runs; returns the newest run's id."""
    run_id = ""
    for run in range(runs):
        at = START + timedelta(days=7 * run)
        run_id = f"bench-{run:03d}"
        ledger.start_run(
            RunRecord(
                run_id=run_id, client=CLIENT, mode="audit", roles=[ROLE], trigger="schedule", started_at=at
            )
        )
        rows = []
        for h in range(hosts):
            host = f"srv{h:03d}"
            seen = at + timedelta(seconds=h)
            volumes = [
                {
                    "mount": mount,
                    "fstype": "ext4",
                    "size_bytes": 100 * GIB,
                    "used_bytes": (20 + (h + i) % 30) * GIB + run * (i + 1) * GIB // 4,
                }
                for i, mount in enumerate(MOUNTS)
            ]
            counts = {"journal": (h * 7 + run * 3) % 50, "smart:/dev/sda": run // 4, "smart:/dev/sdb": 0}
            rows.append((f"{host}:01", row("HEALTH-LNX-01", host, run_id, seen, {"volumes": volumes})))
            rows.append((f"{host}:08", row("HEALTH-LNX-08", host, run_id, seen, {"error_counts": counts})))
            rows += [(f"{host}:{c}", row(c, host, run_id, seen, {})) for c in OTHERS]
        ledger.record(rows)
    return run_id


def best(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--runs", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="10 hosts, 8 runs, one round")
    args = parser.parse_args(argv)
    if args.quick:
        args.hosts, args.runs, args.repeat = 10, 8, 1
    work = Path(tempfile.mkdtemp(prefix="bench-trends-"))
    try:
        ledger = Ledger(f"sqlite:///{work / 'ledger.db'}")
        t0 = time.perf_counter()
        newest = fill(ledger, args.hosts, args.runs)
        filled = time.perf_counter() - t0
        plan = {ROLE: [f"srv{h:03d}" for h in range(args.hosts)]}
        produced = trends.trend_rows(ledger, CLIENT, newest, plan)
        expected = 2 * args.hosts  # HEALTH-LNX-09 and HEALTH-LNX-10 per host
        if len(produced) != expected or any(r.status is Status.ERROR for _k, r in produced):
            print(
                f"bench/trends.py: the step gave {len(produced)} rows (expected {expected})", file=sys.stderr
            )
            return 1
        step_times, read_times = [], []
        for _ in range(args.repeat):  # alternated rounds: the same noise for both
            read_times.append(best(lambda: ledger.results_for_run(newest), 1))
            step_times.append(best(lambda: trends.trend_rows(ledger, CLIENT, newest, plan), 1))
        step, read = min(step_times), min(read_times)
        ledger.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"trend step, {args.hosts} hosts x {args.runs} runs of history ({filled:.1f} s to fill): "
        f"{step * 1000:.0f} ms ({step * 1000 / args.hosts:.1f} ms/host); reading the run back "
        f"{read * 1000:.0f} ms; ratio {step / read:.1f} (target <= 50, < 1 s per 50 hosts)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
