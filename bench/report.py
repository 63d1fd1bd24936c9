"""Benchmark: the client report and the fleet report, against reading the rows they are built from (issue 13).

    python bench/report.py [--hosts 50] [--months 12] [--rounds 4] [--clients 200] [--weekly] [--quick]

(a) report: one client of HOSTS hosts with MONTHS months of history in a fresh SQLite ledger: helper
    HISTORY's year (``maint_devtools.history``: inventories/example-acme copied with generated hosts up to
    HOSTS, one monthly run of its Linux and Windows roles judged by the real evaluators on recorded
    outputs, its story of filling disks, failing backups, a missed and a skipped window, a ticket), or with
    ``--weekly`` (or without that module) weekly runs of four Linux roles made here, each result the real
    evaluator's on a healthy or failing recorded output under tests/data chosen per host and week from a
    fixed seed. Timed: the last month's report built (``build_report``) and rendered to HTML, against the
    baseline of reading the same rows with ONE query (the report context's own query: every check result
    of the client up to the checkpoint and the period's end, ordered, made into dicts). After an untimed
    warm-up of each, ROUNDS rounds of each, alternated ABBA; each round's ratio report/query, their
    geometric mean reported, with the build and render medians apart. Target: <= 5. Every round draws
    every chart (the chart cache emptied first); the same report built again in the same process, whose
    charts are kept by the hash of their inputs (runner.report.charts), is printed apart.
(b) pdf: the seconds of rendering the same report to PDF with WeasyPrint (best of 2), or one line saying
    why WeasyPrint cannot run here.
(c) fleet: CLIENTS small clients (3 hosts, linux_health and linux_backup, MONTHS monthly runs each, one
    missed window in four clients) plus one client with a broken inventory, in one ledger; the seconds of
    ``build_fleet`` for the last month and of rendering it to HTML. Target: <= 60 s.

Everything goes to a temporary MAINT_VAR / MAINT_INVENTORIES. ``--quick``: 10 hosts, 3 months, 2 rounds,
20 clients (a smoke run; its numbers are not the targets').
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
REPORT_TARGET = 5.0
FLEET_TARGET_S = 60.0
ZONE = "Europe/Madrid"
#: role -> (evaluator kind, healthy output, failing output, how often the failing one is seen)
OUTPUTS: dict[str, tuple[str, str, str, float]] = {
    "linux_health": ("linux_health", "linux_health/healthy_vm.json", "linux_health/disk_full.json", 0.1),
    "linux_patching": (
        "linux_patching",
        "linux_patching/real_bookworm_after_upgrade.json",
        "linux_patching/real_bookworm_security_pending.json",
        0.3,
    ),
    "linux_antivirus": (
        "clamav",
        "linux_antivirus/real_fresh_database_clean_scan.json",
        "linux_antivirus/real_stale_database_missing_log.json",
        0.1,
    ),
    "linux_backup": (
        "linux_backup",
        "linux_backup/real_fresh_restore_live.json",
        "linux_backup/real_wrong_password.json",
        0.05,
    ),
}


def findings_of(role: str) -> tuple[list[Any], list[Any]]:
    """The real evaluator's findings on the role's healthy and failing recorded outputs."""
    from runner import evaluators

    kind, good, bad, _share = OUTPUTS[role]
    found = []
    for name in (good, bad):
        raw = json.loads((DATA / name).read_text())
        found.append(
            evaluators.evaluate(kind, raw.get("maint_raw", raw) if isinstance(raw, dict) else raw, {})
        )
    return found[0], found[1]


def write_client(base: Path, name: str, hosts: int, roles: Sequence[str], *, broken: bool = False) -> None:
    root = base / name
    (root / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
    members = {f"{name}-h{i:03d}": {"ansible_host": "127.0.0.1"} for i in range(hosts)}
    (root / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"linux": {"hosts": members}}}}))
    settings: dict[str, Any] = {
        "display_name": f"Client {name}",
        "timezone": ZONE,
        "contacts": [{"name": "Tech", "email": "tech@example.com"}],
        "roles": {role: ["linux"] for role in roles},
        "schedules": [
            {
                "name": "monthly",
                "cron": "0 22 * * 6#1",
                "roles": list(roles),
                "window": {"duration_minutes": 240, "min_run_minutes": 15},
            }
        ],
    }
    if broken:
        settings["timezone"] = "Mars/Olympus"
    (root / "group_vars" / "all" / "maintenance.yml").write_text(yaml.safe_dump({"maintenance": settings}))


def fill(
    ledger: Any,
    clients: Sequence[str],
    hosts: int,
    roles: Sequence[str],
    runs: Sequence[datetime],
    seed: int,
    *,
    missed_every: int = 0,
) -> int:
    """Record a run per client at each instant of ``runs`` (all clients' results of one instant in one
    ``record`` call), a schedule occurrence per client and month, and a checkpoint per client."""
    from runner import schedule_ledger as occ
    from runner.ledger import RunRecord, RunStatus
    from runner.results import CheckResult
    from runner.schedule_ledger import OccurrenceState

    rnd = random.Random(seed)
    made = {role: findings_of(role) for role in roles}
    rows = 0
    months: set[tuple[str, str]] = set()
    for when in runs:
        batch: list[tuple[str, CheckResult]] = []
        occurrences: list[dict[str, Any]] = []
        for number, client in enumerate(clients):
            run_id = f"{client}-{when:%Y%m%dT%H%M}"
            ledger.start_run(
                RunRecord(
                    run_id=run_id,
                    client=client,
                    mode="audit",
                    roles=list(roles),
                    trigger="schedule",
                    started_at=when,
                )
            )
            for h in range(hosts):
                host = f"{client}-h{h:03d}"
                for role in roles:
                    good, bad = made[role]
                    chosen = bad if rnd.random() < OUTPUTS[role][3] else good
                    for index, finding in enumerate(chosen):
                        at = when + timedelta(seconds=h * 10 + index)
                        result = CheckResult.from_finding(
                            finding, host=host, client=client, run_id=run_id, role=role, observed_at=at
                        )
                        batch.append((f"{host}|{role}|{finding.control}", result))
            month = f"{when:%Y-%m}"
            if (client, month) not in months:
                months.add((client, month))
                missed = bool(missed_every) and number % missed_every == 0 and when == runs[-1]
                start = when - timedelta(minutes=1)
                occurrences.append(
                    occ.row(
                        client=client,
                        occurrence_id=f"{client}/monthly/{start:%Y-%m-%dT%H:%MZ}",
                        schedule_name="monthly",
                        window_start=start,
                        window_end=start + timedelta(hours=4),
                        state=OccurrenceState.MISSED if missed else OccurrenceState.COMPLETED,
                        recorded_at=when + timedelta(hours=1),
                        run_id=run_id,
                    )
                )
        rows += ledger.record(batch)
        if occurrences:
            ledger.append(occ.schedule_occurrences, occurrences)
        for client in clients:
            ledger.finish_run(f"{client}-{when:%Y%m%dT%H%M}", RunStatus.SUCCESSFUL, {"hosts": hosts})
    for client in clients:
        ledger.checkpoint(client)
    return rows


def weekly(end: datetime, months: int) -> list[datetime]:
    first = end - timedelta(days=30 * months)
    return [
        first + timedelta(days=7 * i) for i in range(months * 30 // 7) if first + timedelta(days=7 * i) < end
    ]


def monthly(end: datetime, months: int) -> list[datetime]:
    return [end - timedelta(days=30 * (months - 1 - i)) for i in range(months)]


def geomean(values: Sequence[float]) -> float:
    return math.exp(statistics.fmean(math.log(v) for v in values))


def alternate(rounds: int, a: Callable[[], float], b: Callable[[], float]) -> tuple[list[float], list[float]]:
    a(), b()  # warm-up: imports, templates, statement caches
    first: list[float] = []
    second: list[float] = []
    for index in range(rounds):
        for which in (a, b) if index % 2 == 0 else (b, a):
            (first if which is a else second).append(which())
    return first, second


def _history() -> Any:
    """helper HISTORY's generator, None when it is not there."""
    try:
        from maint_devtools import history
    except ImportError:
        return None
    return history if hasattr(history, "generate") and hasattr(history, "write_inventory") else None


def bench_report(work: Path, hosts: int, months: int, rounds: int, *, weekly_runs: bool = False) -> int:
    import sqlalchemy as sa

    from runner.inventory import load_client
    from runner.ledger import Ledger
    from runner.ledger import schema as ls
    from runner.ledger.store import CURRENT_COLUMNS, _iso
    from runner.report.build import build_report
    from runner.report.context import ReportContext
    from runner.report.period import containing
    from runner.report.render import render

    ledger = Ledger(f"sqlite:///{work / 'report.db'}")
    began = time.perf_counter()
    history = None if weekly_runs else _history()
    if history is not None:  # helper HISTORY's year: the example client's story, on HOSTS hosts
        source = REPO / "inventories" / "example-acme"
        own = len(load_client("example-acme", source.parent).tree.hosts)
        history.write_inventory(work / "inventories", "bench", source=source, hosts_extra=max(0, hosts - own))
        client = load_client("bench")
        end = datetime(2026, 12, 1, tzinfo=UTC)
        history.generate(ledger, client, months=months, end=end, seed=13, hosts_extra=max(0, hosts - own))
        rows = ledger.chain_heads()["bench"][0]
        what = "monthly runs (maint_devtools.history, example-acme's roles)"
        period = containing(end - timedelta(days=1), client.settings.timezone)
    else:
        roles = list(OUTPUTS)
        write_client(work / "inventories", "bench", hosts, roles)
        end = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
        rows = fill(ledger, ["bench"], hosts, roles, weekly(end, months), seed=13)
        what = "weekly runs (4 Linux roles)"
        client = load_client("bench")
        period = containing(end, ZONE)
    print(
        f"(a) report {period.label}: 1 client, {len(client.tree.hosts)} hosts, {months} months of {what}: "
        f"{rows} ledger rows (made in {time.perf_counter() - began:.1f} s)"
    )
    data: dict[str, Any] = {}
    parts: dict[str, list[float]] = {"build": [], "html": []}
    html_bytes: list[int] = []
    charts: list[int] = []

    from runner.report import charts as chart_mod

    def report() -> float:
        chart_mod.clear_cache()  # every round draws every chart: one report, as a client's is built once
        t0 = time.perf_counter()
        data.update(build_report(ledger, client, period))
        t1 = time.perf_counter()
        html = render(data, "html")
        t2 = time.perf_counter()
        parts["build"].append(t1 - t0)
        parts["html"].append(t2 - t1)
        html_bytes.append(len(html))
        charts.append(html.count(b"<svg"))
        return t2 - t0

    size = ReportContext(ledger, client, period).size
    cr = ls.check_results
    query = (
        sa.select(*[cr.c[name] for name in CURRENT_COLUMNS])
        .where(cr.c.client == client.name, cr.c.seq <= size, cr.c.observed_at < _iso(period.end))
        .order_by(cr.c.observed_at, cr.c.seq)
    )
    read: list[int] = []

    def one_query() -> float:
        t0 = time.perf_counter()
        with ledger.engine.connect() as conn:
            found = [dict(zip(CURRENT_COLUMNS, r, strict=True)) for r in conn.execute(query)]
        elapsed = time.perf_counter() - t0
        read.append(len(found))
        return elapsed

    built, baseline = alternate(rounds, report, one_query)
    ratio = geomean([b / q for b, q in zip(built, baseline, strict=True)])
    build, html_s = statistics.median(parts["build"][1:]), statistics.median(parts["html"][1:])
    print(
        f"    report (build + html, {html_bytes[-1] / 1024:.0f} KiB): median {statistics.median(built):.3f} s"
        f" (build_report {build:.3f} s, render html {html_s:.3f} s)"
    )
    print(f"    one query of the same {read[-1]} rows: median {statistics.median(baseline):.3f} s")
    print(
        f"    ratio report/query (geometric mean, {rounds} rounds): {ratio:.2f} (target <= {REPORT_TARGET})"
    )
    alone = geomean([b / q for b, q in zip(parts["build"][1:], baseline, strict=True)])
    print(
        f"    of which build_report/query: {alone:.2f}; the rest is the html template and its {charts[-1]} "
        "charts (matplotlib), all drawn in every round"
    )
    # the same report again in the same process (the HTML then the PDF, or a rebuild): the charts are kept
    # per process by the hash of their inputs (runner.report.charts), only the data is built again
    warm = []
    for _ in range(max(1, rounds)):
        t0 = time.perf_counter()
        render(build_report(ledger, client, period), "html")
        warm.append(time.perf_counter() - t0)
    print(
        f"    again in the same process, charts kept: median {statistics.median(warm):.3f} s, ratio "
        f"{statistics.median(warm) / statistics.median(baseline):.2f}"
    )
    try:
        times = []
        for _ in range(2):
            t0 = time.perf_counter()
            pdf = render(data, "pdf")
            times.append(time.perf_counter() - t0)
        print(f"(b) pdf: {min(times):.2f} s ({len(pdf) / 1024:.0f} KiB, best of 2)")
    except Exception as exc:  # WeasyPrint without Pango: say so, the rest still counts
        print(f"(b) pdf: not made here: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    ledger.close()
    return 0


def bench_fleet(work: Path, clients: int, months: int) -> int:
    from runner.ledger import Ledger
    from runner.report.fleet import build_fleet
    from runner.report.render import render

    roles = ["linux_health", "linux_backup"]
    names = [f"c{i:03d}" for i in range(clients)]
    base = work / "inventories"
    for name in names:
        write_client(base, name, 3, roles)
    write_client(base, "zz-broken", 3, roles, broken=True)
    end = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
    ledger = Ledger(f"sqlite:///{work / 'fleet.db'}")
    began = time.perf_counter()
    rows = fill(ledger, names, 3, roles, monthly(end, months), seed=7, missed_every=4)
    print(
        f"(c) fleet: {clients} clients (+1 broken) of 3 hosts, {months} monthly runs: {rows} rows "
        f"(made in {time.perf_counter() - began:.1f} s)"
    )
    t0 = time.perf_counter()
    data = build_fleet(ledger, "2026-11", now=end, inventories=base)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    html = render(data, "html", template="fleet")
    rendered = time.perf_counter() - t0
    broken = data["totals"]["broken"]
    print(
        f"    build_fleet: {built:.2f} s; html: {rendered:.2f} s ({len(html) / 1024:.0f} KiB); "
        f"total {built + rendered:.2f} s (target <= {FLEET_TARGET_S:.0f} s); "
        f"{len(data['clients'])} rows, {broken} broken, {data['totals']['missed_windows']} missed windows"
    )
    ledger.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--weekly",
        action="store_true",
        help="(a) on weekly runs of 4 Linux roles made here, not HISTORY's year",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.hosts, args.months, args.rounds, args.clients = 10, 3, 2, 20
    with tempfile.TemporaryDirectory(prefix="maint-bench-report-") as tmp:
        work = Path(tmp)
        saved = {k: os.environ.get(k) for k in ("MAINT_VAR", "MAINT_INVENTORIES", "MAINT_DB_URL")}
        os.environ["MAINT_VAR"] = str(work / "var")
        os.environ.pop("MAINT_DB_URL", None)
        try:
            os.environ["MAINT_INVENTORIES"] = str(work / "a" / "inventories")
            (work / "a").mkdir()
            code = bench_report(work / "a", args.hosts, args.months, args.rounds, weekly_runs=args.weekly)
            os.environ["MAINT_INVENTORIES"] = str(work / "b" / "inventories")
            (work / "b").mkdir()
            code |= bench_fleet(work / "b", args.clients, args.months)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    return code


if __name__ == "__main__":
    raise SystemExit(main())
