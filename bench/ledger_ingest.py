"""Benchmark: Ledger.record() against a bare sqlite3 executemany of the same rows.

    python bench/ledger_ingest.py [--rows N] [--batch B] [--repeat R]

(a) ``Ledger.record()`` of N check results into a fresh SQLite ledger, B results per call
    (default 1000: how a run's artifacts are re-ingested; the runs are started untimed);
(b) one ``executemany`` of the same rows (same content columns, JSON-dumped evidence,
    ISO timestamps) into a plain table of a fresh WAL-mode SQLite file, one transaction.
Both start from the same CheckResult objects; runs alternate (a, b, a, b, ...) and the
best of R is reported with the ratio (a)/(b).  Target: ratio <= 3.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runner.ledger import Ledger, RunRecord
from runner.results import CheckResult, Domain, Severity, Status

CONTROLS = [
    ("PATCH-LNX-01", "Security updates installed", Domain.PATCHING, Severity.HIGH),
    ("PATCH-WIN-01", "Windows cumulative update current", Domain.PATCHING, Severity.HIGH),
    ("AV-WIN-01", "Defender real-time protection on", Domain.ANTIVIRUS, Severity.CRITICAL),
    ("AV-WIN-02", "Defender signatures younger than 3 days", Domain.ANTIVIRUS, Severity.HIGH),
    ("BKP-VEEAM-01", "Last backup job succeeded", Domain.BACKUP, Severity.CRITICAL),
    ("BKP-RESTIC-01", "Restic snapshot younger than 26 h", Domain.BACKUP, Severity.HIGH),
    ("HLT-DISK-01", "Free disk space above threshold", Domain.HEALTH, Severity.MEDIUM),
    ("HLT-MEM-01", "Memory pressure normal", Domain.HEALTH, Severity.LOW),
    ("HLT-UPTIME-01", "Rebooted within 45 days", Domain.HEALTH, Severity.LOW),
    ("NET-IOS-SSH-01", "SSH v2 only", Domain.NETWORK, Severity.HIGH),
    ("NET-IOS-TEL-01", "Telnet disabled", Domain.NETWORK, Severity.CRITICAL),
    ("SEC-FW-01", "Host firewall enabled", Domain.SECURITY, Severity.HIGH),
    ("SEC-ADMIN-01", "No unexpected local administrators", Domain.SECURITY, Severity.MEDIUM),
    ("INV-OS-01", "Operating system supported", Domain.INVENTORY, Severity.INFO),
]
STATUSES = [Status.PASS] * 7 + [Status.FAIL, Status.WARN, Status.NOT_CHECKED, Status.ERROR]
CLIENTS = ["acme", "globex", "initech", "umbrella", "hooli"]
RESULTS_PER_RUN = 10_000


def generate(rows: int, seed: int = 42) -> tuple[list[RunRecord], list[tuple[str, CheckResult]]]:
    """``rows`` varied results in runs of up to 10 000 (hosts x controls), spread over clients."""
    rnd = random.Random(seed)
    start = datetime(2025, 3, 1, 22, 0, tzinfo=UTC)
    runs: list[RunRecord] = []
    results: list[tuple[str, CheckResult]] = []
    run_no = 0
    while len(results) < rows:
        client = CLIENTS[run_no % len(CLIENTS)]
        run = RunRecord(
            run_id=f"{client}-{start:%Y%m%d}-{run_no:04d}",
            client=client,
            mode="audit",
            roles=["patching", "antivirus", "backup", "health"],
            trigger="schedule",
            started_at=start + timedelta(days=run_no),
        )
        runs.append(run)
        count = min(RESULTS_PER_RUN, rows - len(results))
        for index in range(count):
            host = f"{client}-{'srv' if index % 5 == 0 else 'pc'}{index // len(CONTROLS):04d}"
            control, title, domain, severity = CONTROLS[index % len(CONTROLS)]
            status = rnd.choice(STATUSES)
            evidence: dict[str, object] = {
                "value": rnd.randint(0, 500),
                "threshold": 30,
                "source": rnd.choice(["wmi", "dpkg", "veeam-api", "show running-config"]),
            }
            if status is not Status.PASS:
                evidence["detail"] = rnd.choice(["KB5034441 missing", "last job 3 d ago", "telnet enabled"])
            result = CheckResult(
                control=control,
                title=title,
                domain=domain,
                status=status,
                severity=severity,
                evidence=evidence,
                remediation="" if status is Status.PASS else "See the runbook for " + control,
                host=host,
                client=client,
                run_id=run.run_id,
                observed_at=run.started_at + timedelta(seconds=index // 10),
                role=domain.value,
            )
            results.append((f"{host}|{control}", result))
        run_no += 1
    return runs, results


def time_ledger(
    workdir: Path, runs: Sequence[RunRecord], results: Sequence[tuple[str, CheckResult]], batch: int
) -> float:
    path = workdir / f"ledger-{time.monotonic_ns()}.db"
    ledger = Ledger(f"sqlite:///{path}")
    try:
        for run in runs:
            ledger.start_run(run)
        began = time.perf_counter()
        added = 0
        for start in range(0, len(results), batch):
            added += ledger.record(results[start : start + batch])
        elapsed = time.perf_counter() - began
    finally:
        ledger.close()
    if added != len(results):
        raise RuntimeError(f"ledger added {added} of {len(results)} rows")
    return elapsed


BARE_TABLE = """CREATE TABLE check_results (
    client TEXT, run_id TEXT, result_key TEXT, host TEXT, control TEXT, title TEXT, domain TEXT,
    status TEXT, severity TEXT, evidence TEXT, remediation TEXT, observed_at TEXT, role TEXT, ticket TEXT)"""


def time_bare(workdir: Path, results: Sequence[tuple[str, CheckResult]]) -> float:
    path = workdir / f"bare-{time.monotonic_ns()}.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(BARE_TABLE)
        began = time.perf_counter()
        rows = [
            (
                r.client,
                r.run_id,
                key,
                r.host,
                r.control,
                r.title,
                r.domain.value,
                r.status.value,
                r.severity.value,
                json.dumps(r.evidence),
                r.remediation,
                r.observed_at.isoformat(),
                r.role,
                r.ticket,
            )
            for key, r in results
        ]
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO check_results VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        conn.execute("COMMIT")
        elapsed = time.perf_counter() - began
    finally:
        conn.close()
    return elapsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000, help="results per Ledger.record() call")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    runs, results = generate(args.rows)
    ledger_times: list[float] = []
    bare_times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        workdir = Path(tmp)
        for _ in range(args.repeat):
            ledger_times.append(time_ledger(workdir, runs, results, args.batch))
            bare_times.append(time_bare(workdir, results))
    best_ledger, best_bare = min(ledger_times), min(bare_times)
    ratio = best_ledger / best_bare
    print(f"rows: {len(results)} in {len(runs)} runs, Ledger.record() batches of {args.batch}")
    print(f"(a) Ledger.record():      best {best_ledger:.3f} s  ({len(results) / best_ledger:,.0f} rows/s)")
    print(f"(b) sqlite3 executemany:  best {best_bare:.3f} s  ({len(results) / best_bare:,.0f} rows/s)")
    print(f"ratio (a)/(b): {ratio:.2f}  (target <= 3)")
    print("all (a): " + ", ".join(f"{t:.3f}" for t in ledger_times))
    print("all (b): " + ", ".join(f"{t:.3f}" for t in bare_times))
    return 0 if ratio <= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
