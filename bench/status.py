"""Benchmark: the current state of a client, and the fleet view.

    python bench/status.py [--hosts 50] [--controls 60] [--runs 24] [--clients 200] [--fleet-runs 2]
                           [--repeat 3]

(a) ``runner.state.compute()`` for one client with HOSTS x CONTROLS x RUNS monthly results recorded with
    ``Ledger.record()`` in a SQLite ledger (inventory resolved by Ansible, waivers applied, rows padded),
    against (b) a bare ``SELECT`` of the same client's latest row per (host, control) (the window query
    ``Ledger.latest_results`` runs, rows fetched as tuples, nothing else). Runs alternate, best of REPEAT;
    prints the ratio (a)/(b), target <= 2.
(c) ``runner.state.fleet()`` (``maint status`` with no client) over CLIENTS such clients, each with its own
    inventory folder; prints the seconds, target <= 2 s. The fleet's rows are written straight into the
    ledger's tables (the chain's hash columns left blank: the view never reads them) with FLEET_RUNS runs per
    client: the state seeks each (host, control)'s latest row in the index, so its cost follows the pairs
    asked for, not the history's depth; (a) measures that at RUNS (and prints the same client at 2 runs).

The controls are a synthetic catalogue role of CONTROLS controls (the shipped roles have at most 8 each),
plus the runner's own controls.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runner import catalogue
from runner.catalogue import Catalogue
from runner.inventory import load_client
from runner.ledger import Ledger, RunRecord
from runner.results import CheckResult, Domain, Severity, Status
from runner.state import FleetCache, compute, fleet

ROLE = "linux_health"
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
STATUSES = [Status.PASS] * 12 + [Status.FAIL, Status.WARN, Status.NOT_CHECKED, Status.ERROR]
SEVERITIES = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW]
BARE_LATEST = """SELECT * FROM (SELECT cr.*, row_number() OVER (PARTITION BY host, control
    ORDER BY observed_at DESC, seq DESC) AS rank FROM check_results cr WHERE client = ?) WHERE rank = 1
    ORDER BY host, control"""


def control_id(index: int) -> str:
    return f"BENCH-CTL-{index + 1:02d}"


def synthetic_catalogue(folder: Path, controls: int) -> Catalogue:
    data, rules = folder / "data", folder / "rules"
    data.mkdir(parents=True)
    rules.mkdir()
    shutil.copy(catalogue.DATA_DIR / catalogue.MAINT_FILE, data / catalogue.MAINT_FILE)
    role = {
        "role": ROLE,
        "domain": "health",
        "os_family": "linux",
        "summary": "Benchmark role.",
        "controls": [
            {
                "id": control_id(i),
                "title": f"Benchmark control {i + 1}",
                "severity": SEVERITIES[i % len(SEVERITIES)].value,
                "rationale": "Benchmark.",
                "remediation": "Benchmark.",
                "kinds": [ROLE],
            }
            for i in range(controls)
        ],
    }
    (data / f"{ROLE}.yml").write_text(yaml.safe_dump(role, sort_keys=False))
    return catalogue.load_from(data, rules)


def write_client(base: Path, name: str, hosts: int) -> None:
    root = base / name
    (root / "group_vars" / "all").mkdir(parents=True)
    members = {f"{name}-h{h:02d}": {"ansible_host": f"192.0.2.{h + 1}"} for h in range(hosts)}
    (root / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"linux": {"hosts": members}}}}))
    settings = {
        "display_name": f"Client {name}",
        "timezone": "Europe/Madrid",
        "contacts": [{"name": "Tech", "email": "tech@example.com"}],
        "roles": {ROLE: ["linux"]},
        "waivers": [
            {"control": "HEALTH-LNX-01", "hosts": f"{name}-h0*", "owner": "tech@example.com", "reason": "r"}
        ],
        "schedules": [
            {"name": "monthly", "cron": "0 22 * * 6#1", "roles": [ROLE], "window": {"duration_minutes": 240}}
        ],
    }
    (root / "group_vars" / "all" / "maintenance.yml").write_text(yaml.safe_dump({"maintenance": settings}))


def run_time(client: str, run: int) -> datetime:
    return NOW - timedelta(days=30 * (24 - run))


def record_client(ledger: Ledger, client: str, hosts: int, controls: int, runs: int, seed: int) -> int:
    """HOSTS x CONTROLS results per monthly run through Ledger.record() (the chained path)."""
    rnd = random.Random(seed)
    added = 0
    for run in range(runs):
        started = run_time(client, 24 - runs + run)
        run_id = f"{client}-{run:02d}"
        ledger.start_run(
            RunRecord(
                run_id=run_id,
                client=client,
                mode="audit",
                roles=[ROLE],
                trigger="schedule",
                started_at=started,
            )
        )
        rows = []
        for h in range(hosts):
            host = f"{client}-h{h:02d}"
            for c in range(controls):
                status = rnd.choice(STATUSES)
                evidence = (
                    {"reason": "host unreachable: timeout"} if status is Status.NOT_CHECKED else {"v": c}
                )
                result = CheckResult(
                    control=control_id(c),
                    title=f"Benchmark control {c + 1}",
                    domain=Domain.HEALTH,
                    status=status,
                    severity=SEVERITIES[c % len(SEVERITIES)],
                    evidence=evidence,
                    host=host,
                    client=client,
                    run_id=run_id,
                    observed_at=started + timedelta(seconds=h),
                    role=ROLE,
                )
                rows.append((f"{host}:{c}", result))
        added += ledger.record(rows)
    return added


def fill_fleet(path: Path, clients: Sequence[str], hosts: int, controls: int, runs: int) -> int:
    """The fleet's rows straight into the ledger's tables (one transaction; chain columns blank)."""
    rnd = random.Random(7)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN")
    total = 0
    for client in clients:
        seq = 0
        batch = []
        for run in range(runs):
            started = run_time(client, 24 - runs + run)
            run_id = f"{client}-{run:02d}"
            seq += 1
            conn.execute(
                "INSERT INTO runs (run_id, client, seq, prev_hash, row_hash, mode, roles, playbook,"
                " artifact_dir,"
                " trigger, requested_by, started_at, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run_id,
                    client,
                    seq,
                    "-",
                    "-",
                    "audit",
                    f'["{ROLE}"]',
                    "site.yml",
                    "-",
                    "schedule",
                    "bench",
                    started.isoformat(timespec="microseconds"),
                    started.isoformat(timespec="microseconds"),
                ),
            )
            seq += 1  # the run's outcome, as a finished run has it
            conn.execute(
                "INSERT INTO run_events (client, seq, prev_hash, row_hash, run_id, status, summary,"
                " recorded_at) VALUES (?,?,?,?,?,?,?,?)",
                (client, seq, "-", "-", run_id, "successful", f'{{"hosts":{hosts}}}', started.isoformat()),
            )
            for h in range(hosts):
                host = f"{client}-h{h:02d}"
                observed = (started + timedelta(seconds=h)).isoformat(timespec="microseconds")
                for c in range(controls):
                    seq += 1
                    status = rnd.choice(STATUSES).value
                    evidence = '{"reason":"host unreachable: timeout"}' if status == "not_checked" else "{}"
                    batch.append(
                        (
                            client,
                            seq,
                            "-",
                            "-",
                            run_id,
                            f"{host}:{c}",
                            host,
                            control_id(c),
                            "t",
                            "health",
                            status,
                            SEVERITIES[c % len(SEVERITIES)].value,
                            evidence,
                            "",
                            observed,
                            ROLE,
                            None,
                            observed,
                        )
                    )
        conn.executemany(
            "INSERT INTO check_results (client, seq, prev_hash, row_hash, run_id, result_key, host, control,"
            " title,"
            " domain, status, severity, evidence, remediation, observed_at, role, ticket, recorded_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            batch,
        )
        total += len(batch)
        conn.execute("INSERT INTO chain_heads (client, seq, row_hash) VALUES (?, ?, ?)", (client, seq, "-"))
    conn.execute("COMMIT")
    conn.close()
    return total


def bare_latest(ledger: Ledger, client: str) -> int:
    with ledger.engine.connect() as conn:
        return len(conn.exec_driver_sql(BARE_LATEST, (client,)).all())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--controls", type=int, default=60)
    parser.add_argument("--runs", type=int, default=24)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--fleet-runs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    ok = True
    with tempfile.TemporaryDirectory(prefix="status-bench-") as tmp:
        work = Path(tmp)
        cat = synthetic_catalogue(work / "catalogue", args.controls)
        inventories = work / "inventories"
        inventories.mkdir()

        # (a) / (b): one client, recorded through the ledger
        write_client(inventories, "one", args.hosts)
        write_client(inventories, "shallow", args.hosts)
        ledger = Ledger(f"sqlite:///{work / 'one.db'}")
        began = time.perf_counter()
        rows = record_client(ledger, "one", args.hosts, args.controls, args.runs, seed=1)
        rows += record_client(ledger, "shallow", args.hosts, args.controls, 2, seed=2)
        print(f"recorded {rows:,} results in {time.perf_counter() - began:.1f} s (untimed)")
        client = load_client("one", inventories)
        shallow = load_client("shallow", inventories)
        compute(ledger, client, cat=cat, now=NOW)  # warm: Ansible imported, caches filled
        state_times, bare_times, shallow_times = [], [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            state = compute(ledger, client, cat=cat, now=NOW)
            state_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            latest = bare_latest(ledger, "one")
            bare_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            compute(ledger, shallow, cat=cat, now=NOW)
            shallow_times.append(time.perf_counter() - t)
        ledger.close()
        best_state, best_bare = min(state_times), min(bare_times)
        ratio = best_state / best_bare
        ok &= ratio <= 2
        print(
            f"client: {args.hosts} hosts x {args.controls} controls x {args.runs} runs "
            f"({args.hosts * args.controls * args.runs:,} rows); "
            f"state: {len(state.rows)} rows, bare: {latest}"
        )
        print(f"(a) state.compute():          best {best_state:.3f} s")
        print(f"(b) bare SELECT latest rows:  best {best_bare:.3f} s")
        print(f"ratio (a)/(b): {ratio:.2f}  (target <= 2)")
        print(
            f"    the same client with 2 runs: best {min(shallow_times):.3f} s (history depth barely matters)"
        )

        # (c): the fleet
        names = [f"c{i:03d}" for i in range(args.clients)]
        for name in names:
            write_client(inventories, name, args.hosts)
        shutil.rmtree(inventories / "one")
        shutil.rmtree(inventories / "shallow")
        path = work / "fleet.db"
        Ledger(f"sqlite:///{path}").close()  # the schema
        began = time.perf_counter()
        rows = fill_fleet(path, names, args.hosts, args.controls, args.fleet_runs)
        print(f"fleet: {rows:,} results written in {time.perf_counter() - began:.1f} s (untimed)")
        ledger = Ledger(f"sqlite:///{path}")
        cache = FleetCache(work / "cache")
        t = time.perf_counter()
        cold = fleet(ledger, now=NOW, inventories=inventories, cat=cat, cache=cache)
        cold_time = time.perf_counter() - t
        fleet_times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            lines = fleet(ledger, now=NOW, inventories=inventories, cat=cat, cache=cache)
            fleet_times.append(time.perf_counter() - t)
        ledger.close()
        assert len(lines) == args.clients and not any(line.problem for line in lines), lines[:1]
        assert [line.as_dict() for line in lines] == [line.as_dict() for line in cold], (
            "the cache changes nothing"
        )
        best_fleet = min(fleet_times)
        ok &= best_fleet <= 2
        print(
            f"(c) fleet view, {args.clients} clients x {args.hosts} hosts x {args.controls} controls x "
            f"{args.fleet_runs} runs: best {best_fleet:.2f} s  (target <= 2 s); the first view, every "
            f"state computed: {cold_time:.1f} s ({1000 * cold_time / args.clients:.0f} ms per client)"
        )
        print("all (a): " + ", ".join(f"{t:.3f}" for t in state_times))
        print("all (b): " + ", ".join(f"{t:.3f}" for t in bare_times))
        print("all (c): " + ", ".join(f"{t:.2f}" for t in fleet_times))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
