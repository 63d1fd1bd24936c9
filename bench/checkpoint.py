"""Benchmark: what the per-client Merkle tree and its checkpoints cost (issue 12).

    python bench/checkpoint.py [--rows 200000] [--batch 100] [--rounds 4] [--verify-rows 1000000]
                               [--proofs 100] [--pg [--pg-rows N]] [--profile] [--quick]

(a) append: ``Ledger.record()`` of ROWS check results in batches of BATCH (a run's results per
    host or event, as a live run and ``maint ledger ingest`` record them; runs of 10 000 results
    over 5 clients) into a fresh SQLite ledger file, with the tree maintained (``Ledger``) against
    without it (a subclass with ``_tree = False``: same chain, no frontier, no stored subtrees).
    After an untimed warm-up of each, ROUNDS rounds of each, alternated (tree, plain, plain,
    tree, ...; an even number); each round's ratio tree/plain, their geometric mean reported (it
    cancels the bias of running second). Target: <= 1.15.
    With ``--pg`` (and MAINT_TEST_PG_URL set: a server where a database may be created) the
    same against PostgreSQL (PG_ROWS results, default ROWS), one fresh database per timed run,
    dropped afterwards.
(b) verify: one client's ledger of VERIFY_ROWS rows (built with ``Ledger.record()`` of 10 000
    results per call, a signed checkpoint at half the rows and one at the end); the seconds of
    ``Ledger.verify(client, verifier=...)`` (hash chain, tree recomputed against the stored
    subtrees, both checkpoints' signatures and a consistency proof from the half one), and
    of the chain walk alone (the same row stream through ``chain.walk``, no tree) to compare.
(c) proofs against the end checkpoint: ``Ledger.prove_row()`` of PROOFS random rows (median and
    max ms), ``proofs.check()`` of each document offline with the public key (median ms), and
    ``Ledger.prove_consistency()`` from the half checkpoint (median ms over 10).

Checkpoint files go to a temporary MAINT_VAR. ``--profile`` prints a cProfile of one tree round
of (a). ``--quick``: 20 000 rows, 1 round, 100 000 verify rows, 20 proofs (a short smoke run;
its ratio is noisy).
"""

from __future__ import annotations

import argparse
import cProfile
import heapq
import io
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ledger_ingest import CONTROLS, STATUSES, generate

from maint_devtools.pgdb import temporary_database
from runner.ledger import Ledger, RunRecord, schema
from runner.ledger import checkpoints as cp
from runner.ledger import proofs as proofs_mod
from runner.ledger import verify as verify_mod
from runner.ledger.chain import Head, walk
from runner.ledger.note import generate_signer
from runner.results import CheckResult

APPEND_TARGET = 1.15
BUILD_BATCH = 10_000
WARM_ROWS = 1_000  # results of the first run, recorded untimed by each kind before the rounds
VERIFY_CLIENT = "acme"

Results = Sequence[tuple[str, CheckResult]]


class PlainLedger(Ledger):
    """The ledger without its Merkle tree: the hash chain only (what appending cost before issue 12)."""

    _tree = False


# -- (a) append ---------------------------------------------------------------------------------


def _record_all(ledger: Ledger, runs: Sequence[RunRecord], results: Results, batch: int) -> float:
    """Start the runs (untimed), then the seconds of recording ``results`` in batches of ``batch``."""
    for run in runs:
        ledger.start_run(run)
    began = time.perf_counter()
    added = 0
    for start in range(0, len(results), batch):
        added += ledger.record(results[start : start + batch])
    elapsed = time.perf_counter() - began
    if added != len(results):
        raise RuntimeError(f"{type(ledger).__name__} added {added} of {len(results)} rows")
    return elapsed


def time_sqlite(
    kind: type[Ledger], workdir: Path, runs: Sequence[RunRecord], results: Results, batch: int
) -> float:
    path = workdir / f"{kind.__name__}-{time.monotonic_ns()}.db"
    ledger = kind(f"sqlite:///{path}")
    try:
        return _record_all(ledger, runs, results, batch)
    finally:
        ledger.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def pg_database(admin: str) -> AbstractContextManager[str]:
    """A fresh database on the server of ``admin`` (as tests/conftest.py ``pg_url``), dropped after."""
    return temporary_database(admin, "ledger_bench")


def time_pg(kind: type[Ledger], admin: str, runs: Sequence[RunRecord], results: Results, batch: int) -> float:
    with pg_database(admin) as url:
        ledger = kind(url)
        try:
            return _record_all(ledger, runs, results, batch)
        finally:
            ledger.close()


def alternate(
    rounds: int, timed: Callable[[type[Ledger]], float], warm: Callable[[type[Ledger]], float]
) -> tuple[list[float], list[float]]:
    """``rounds`` timings of each kind, alternated ABBA so a drift of the machine hits both alike,
    after an untimed ``warm`` run of each (imports, statement caches: the first run is not cold)."""
    warm(PlainLedger)
    warm(Ledger)
    tree: list[float] = []
    plain: list[float] = []
    for index in range(rounds):
        order: tuple[type[Ledger], ...] = (Ledger, PlainLedger) if index % 2 == 0 else (PlainLedger, Ledger)
        for kind in order:
            (tree if kind is Ledger else plain).append(timed(kind))
    return tree, plain


def profile_round(workdir: Path, runs: Sequence[RunRecord], results: Results, batch: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    time_sqlite(Ledger, workdir, runs, results, batch)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(18)
    return out.getvalue()


# -- (b) verify and (c) proofs -------------------------------------------------------------------


def one_client_runs(rows: int, seed: int = 7) -> Iterator[tuple[RunRecord, list[tuple[str, CheckResult]]]]:
    """One client's runs of up to BUILD_BATCH results, ``rows`` chained rows in all (each run's own row
    counts: the runs table is chained too), generated run by run (not all in memory)."""
    rnd = random.Random(seed)
    start = datetime(2024, 1, 1, 22, 0, tzinfo=UTC)
    run_no = made = 0
    per_run = max(1, min(BUILD_BATCH, rows // 20))  # a small ledger still has its half checkpoint
    while made < rows:
        when = start + timedelta(hours=6 * run_no)
        run = RunRecord(
            run_id=f"{VERIFY_CLIENT}-{when:%Y%m%d%H}-{run_no:05d}",
            client=VERIFY_CLIENT,
            mode="audit",
            roles=["patching", "antivirus", "backup", "health"],
            trigger="schedule",
            started_at=when,
        )
        count = min(per_run, rows - made - 1)
        results = []
        for index in range(count):
            host = f"{VERIFY_CLIENT}-{'srv' if index % 5 == 0 else 'pc'}{index // len(CONTROLS):04d}"
            control, title, domain, severity = CONTROLS[index % len(CONTROLS)]
            status = rnd.choice(STATUSES)
            evidence: dict[str, object] = {"value": rnd.randint(0, 500), "threshold": 30, "source": "wmi"}
            result = CheckResult(
                control=control,
                title=title,
                domain=domain,
                status=status,
                severity=severity,
                evidence=evidence,
                remediation="" if status.value == "pass" else "See the runbook for " + control,
                host=host,
                client=VERIFY_CLIENT,
                run_id=run.run_id,
                observed_at=when + timedelta(seconds=index // 10),
                role=domain.value,
            )
            results.append((f"{host}|{control}", result))
        yield run, results
        made += 1 + count
        run_no += 1


def chain_only(ledger: Ledger, client: str) -> tuple[int, float]:
    """The rows and seconds of verify's row stream through ``chain.walk`` alone (no tree, no checkpoints)."""
    began = time.perf_counter()
    with ledger._snapshot() as conn:
        heads = schema.chain_heads
        found = conn.execute(sa.select(heads.c.seq, heads.c.row_hash).where(heads.c.client == client)).one()
        streams = [verify_mod.chain_rows(conn, table, client) for table in schema.CHAINED]
        rows, bad = walk(
            client, heapq.merge(*streams, key=lambda row: row.seq), Head(int(found.seq), found.row_hash)
        )
    elapsed = time.perf_counter() - began
    if bad is not None:
        raise RuntimeError(f"the bench ledger's chain does not verify: {bad}")
    return rows, elapsed


def ms(seconds: float) -> float:
    return seconds * 1000


def verify_and_prove(workdir: Path, rows: int, proofs: int) -> dict[str, float]:
    signer = generate_signer("maint-bench")
    verifier = signer.verifier
    path = workdir / "verify.db"
    numbers: dict[str, float] = {}
    ledger = Ledger(f"sqlite:///{path}")
    try:
        began = time.perf_counter()
        half = None
        made = 0
        for run, results in one_client_runs(rows):
            ledger.start_run(run)
            made += 1 + ledger.record(results)
            if half is None and made >= rows // 2:
                half = ledger.checkpoint(VERIFY_CLIENT, signer)
        full = ledger.checkpoint(VERIFY_CLIENT, signer)
        numbers["build_s"] = time.perf_counter() - began
        if half is None or full is None or made != rows:
            raise RuntimeError(f"the bench ledger holds {made} of {rows} rows")
        if full.size != rows:
            raise RuntimeError(f"the checkpoint names {full.size} rows, not {rows}")
        numbers["half_size"] = half.size

        began = time.perf_counter()
        (report,) = ledger.verify(VERIFY_CLIENT, verifier=verifier)
        numbers["verify_s"] = time.perf_counter() - began
        if not report.ok or report.rows != rows or len(report.checkpoints) < 2:
            raise RuntimeError(f"the bench ledger does not verify: {report}")
        numbers["checkpoints"] = len(report.checkpoints)
        chained, numbers["chain_s"] = chain_only(ledger, VERIFY_CLIENT)
        if chained != rows:
            raise RuntimeError(f"the chain walk saw {chained} of {rows} rows")

        rnd = random.Random(11)
        prove_times, check_times = [], []
        for seq in rnd.sample(range(1, full.size + 1), min(proofs, full.size)):
            began = time.perf_counter()
            document = ledger.prove_row(VERIFY_CLIENT, seq, full)
            prove_times.append(time.perf_counter() - began)
            began = time.perf_counter()
            checked = proofs_mod.check(document, verifier)
            check_times.append(time.perf_counter() - began)
            if not checked.ok or checked.signature != "verified":
                raise RuntimeError(f"the proof of row seq {seq} does not check: {checked.problem}")
        numbers["prove_median_ms"] = ms(statistics.median(prove_times))
        numbers["prove_max_ms"] = ms(max(prove_times))
        numbers["check_median_ms"] = ms(statistics.median(check_times))
        numbers["proof_path"] = len(document["path"])

        old = cp.parse(half.note)
        consistency_times = []
        for _ in range(10):
            began = time.perf_counter()
            document = ledger.prove_consistency(VERIFY_CLIENT, old, full)
            consistency_times.append(time.perf_counter() - began)
        if not proofs_mod.check(document, verifier).ok:
            raise RuntimeError("the consistency proof does not check")
        numbers["consistency_median_ms"] = ms(statistics.median(consistency_times))
        numbers["consistency_path"] = len(document["path"])
    finally:
        ledger.close()
    return numbers


def append_part(
    workdir: Path, rows: int, batch: int, rounds: int, pg: tuple[str, int] | None
) -> tuple[list[str], list[float]]:
    """(a): the summary lines and the ratios on SQLite (and PostgreSQL: ``pg`` = admin URL, rows)."""
    runs, results = generate(rows)
    print(f"(a) append {rows} results in batches of {batch}, {rounds} round(s) of each", flush=True)
    summary: list[str] = []
    ratios: list[float] = []
    tree, plain = alternate(
        rounds,
        lambda kind: time_sqlite(kind, workdir, runs, results, batch),
        lambda kind: time_sqlite(kind, workdir, runs[:1], results[:WARM_ROWS], batch),
    )
    lines, ratio = _append_lines("SQLite", rows, tree, plain)
    print("\n".join(lines), flush=True)
    summary += lines
    ratios.append(ratio)
    if pg is not None:
        admin, pg_rows = pg
        if pg_rows != rows:
            runs, results = generate(pg_rows)
        print(f"(a) the same on PostgreSQL, {pg_rows} results", flush=True)
        tree, plain = alternate(
            rounds,
            lambda kind: time_pg(kind, admin, runs, results, batch),
            lambda kind: time_pg(kind, admin, runs[:1], results[:WARM_ROWS], batch),
        )
        lines, ratio = _append_lines("PostgreSQL", pg_rows, tree, plain)
        print("\n".join(lines), flush=True)
        summary += lines
        ratios.append(ratio)
    return summary, ratios


# -- main ---------------------------------------------------------------------------------------


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _ratios(tree: Sequence[float], plain: Sequence[float]) -> list[float]:
    return [t / p for t, p in zip(tree, plain, strict=True)]


def _append_lines(
    label: str, rows: int, tree: Sequence[float], plain: Sequence[float]
) -> tuple[list[str], float]:
    # rounds alternate which kind runs first, and the second run of a round is often slower for reasons of
    # the machine (PostgreSQL flushing the database the first one dropped): the geometric mean over an even
    # number of rounds cancels that position bias, where a median of odd rounds would keep it
    ratio = statistics.geometric_mean(_ratios(tree, plain))
    med_tree, med_plain = statistics.median(tree), statistics.median(plain)
    lines = [
        f"append {label}: {rows} rows, tree {med_tree:.3f} s ({rows / med_tree:,.0f} rows/s), "
        f"plain {med_plain:.3f} s ({rows / med_plain:,.0f} rows/s)  (medians)",
        f"  ratio tree/plain: geometric mean {ratio:.3f}  (target <= {APPEND_TARGET})  "
        f"rounds: {', '.join(f'{r:.3f}' for r in _ratios(tree, plain))}",
    ]
    return lines, ratio


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=_positive, help="results appended in (a) (default 200000)")
    parser.add_argument(
        "--batch", type=_positive, default=100, help="results per Ledger.record() call in (a)"
    )
    parser.add_argument("--rounds", type=_positive, help="rounds of each kind in (a), made even (default 4)")
    parser.add_argument(
        "--verify-rows", type=_positive, help="rows of the ledger of (b) and (c) (default 1000000)"
    )
    parser.add_argument("--proofs", type=_positive, help="rows proved in (c) (default 100)")
    parser.add_argument("--pg", action="store_true", help="(a) on PostgreSQL too (MAINT_TEST_PG_URL)")
    parser.add_argument(
        "--pg-rows", type=_positive, help="results appended in (a) on PostgreSQL (default ROWS)"
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one tree round of (a)")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    args = parser.parse_args(argv)
    quick = args.quick
    rows = args.rows or (20_000 if quick else 200_000)
    rounds = args.rounds or (2 if quick else 4)
    rounds += rounds % 2  # whole pairs: each kind first as often as second
    verify_rows = args.verify_rows or (100_000 if quick else 1_000_000)
    proofs = args.proofs or (20 if quick else 100)
    admin = os.environ.get("MAINT_TEST_PG_URL")
    if args.pg and not admin:
        print("bench/checkpoint.py: --pg needs MAINT_TEST_PG_URL (a PostgreSQL server URL)", file=sys.stderr)
        return 2
    if args.pg and admin:
        try:  # before any round: an unreachable server or a wrong password is one line, not a traceback
            with sa.create_engine(admin).connect():
                pass
        except sa.exc.DBAPIError as exc:
            reason = str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__
            print(f"bench/checkpoint.py: --pg: cannot reach MAINT_TEST_PG_URL: {reason}", file=sys.stderr)
            return 2

    old_var = os.environ.get("MAINT_VAR")
    summary: list[str] = []
    with tempfile.TemporaryDirectory(prefix="checkpoint-bench-") as tmp:
        workdir = Path(tmp)
        os.environ["MAINT_VAR"] = str(workdir / "var")  # checkpoint files, not the repository's var/
        try:
            pg = (admin, args.pg_rows or rows) if args.pg and admin else None
            lines, ratios = append_part(workdir, rows, args.batch, rounds, pg)
            summary += lines
            if args.profile:
                runs, results = generate(rows)
                print(profile_round(workdir, runs, results, args.batch))
                del runs, results

            print(
                f"(b, c) build a ledger of {verify_rows} rows of one client, verify it, prove rows",
                flush=True,
            )
            n = verify_and_prove(workdir, verify_rows, proofs)
        finally:
            if old_var is None:
                os.environ.pop("MAINT_VAR", None)
            else:
                os.environ["MAINT_VAR"] = old_var

    summary += [
        f"verify {verify_rows} rows of one client (SQLite, built in {n['build_s']:.1f} s; "
        f"{int(n['checkpoints'])} checkpoints judged: half ({int(n['half_size'])}) and end, each in the "
        "ledger and under var/checkpoints)",
        f"  Ledger.verify: {n['verify_s']:.2f} s ({verify_rows / n['verify_s']:,.0f} rows/s)  "
        "(issue: seconds, no target)",
        f"  the chain walk alone: {n['chain_s']:.2f} s; tree + checkpoints add "
        f"{n['verify_s'] - n['chain_s']:.2f} s ({(n['verify_s'] / n['chain_s'] - 1) * 100:.0f}%)",
        f"prove_row ({proofs} random rows of {verify_rows}, path {int(n['proof_path'])} hashes): "
        f"median {n['prove_median_ms']:.2f} ms, max {n['prove_max_ms']:.2f} ms  (issue: milliseconds)",
        f"  proofs.check offline (signature + path): median {n['check_median_ms']:.2f} ms",
        f"prove_consistency {int(n['half_size'])} -> {verify_rows} rows "
        f"(path {int(n['consistency_path'])} hashes): median {n['consistency_median_ms']:.2f} ms",
    ]
    print("-- summary (bench/checkpoint.py)")
    for line in summary:
        print(line)
    return 0 if all(r <= APPEND_TARGET for r in ratios) else 1


if __name__ == "__main__":
    sys.exit(main())
