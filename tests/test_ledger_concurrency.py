"""Two processes appending to ONE client at once (SQLite file and PostgreSQL): one linear chain, one tree.

Each writer (multiprocessing, spawn) starts its own run, then in lockstep rounds (a barrier, so both really
contend in every round) records a small batch of results and appends a schedule occurrence, each its own
transaction, and makes a signed checkpoint now and then. Afterwards: the chain verifies, seqs run 1..N
without a gap, the root recomputed from the rows equals the root of the compact range stored in
chain_heads and that of a checkpoint made after, the stored subtrees are those of the rows, and every
checkpoint either writer made meanwhile holds in verify.
"""

from __future__ import annotations

import itertools
import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from runner import schedule_ledger
from runner.ledger import Ledger, RunRecord, RunStatus, merkle, schema
from runner.ledger import checkpoints as cp
from runner.ledger import tree as tree_mod
from runner.ledger.note import generate_signer, parse_signer
from runner.results import CheckResult, Domain, Severity, Status

CLIENT = "acme"
ROUNDS = 40
BATCH = 6
T0 = datetime(2026, 2, 2, 22, 0, tzinfo=UTC)
#: rows one writer appends: its run, its running event (plan), a batch and an occurrence per round, its end
PER_WRITER = 1 + 1 + ROUNDS * (BATCH + 1) + 1
WAIT_S = 120  # a safety net for a writer that died (the barrier breaks), not a timing assertion


def _checkpoints_now(worker: int, number: int) -> bool:
    """Writer 0 every 3rd round, writer 1 every 4th: sometimes both at once, mostly against appends."""
    return number % (3 + worker) == 0


def _writer(url: str, worker: int, barrier: Any, signer_text: str, out: str) -> None:
    signer = parse_signer(signer_text)
    run_id = f"run-w{worker}"
    hosts = [f"w{worker}-h{h}" for h in range(BATCH)]
    with Ledger(url) as ledger:
        barrier.wait(WAIT_S)
        ledger.start_run(
            RunRecord(run_id=run_id, client=CLIENT, mode="audit", roles=["linux_health"], started_at=T0),
            {"linux_health": hosts},
        )
        for number in range(ROUNDS):
            barrier.wait(WAIT_S)
            observed = T0 + timedelta(minutes=number)
            results = [
                (
                    f"{host}|HEALTH-LNX-01|{number}",
                    CheckResult(
                        control="HEALTH-LNX-01",
                        title="Free disk space",
                        domain=Domain.HEALTH,
                        status=Status.FAIL if (number + index) % 5 == 0 else Status.PASS,
                        severity=Severity.HIGH,
                        evidence={"mount": "/", "used_percent": 50 + (number + index) % 50},
                        remediation="free space on /",
                        host=host,
                        client=CLIENT,
                        run_id=run_id,
                        observed_at=observed,
                        role="linux_health",
                    ),
                )
                for index, host in enumerate(hosts)
            ]
            assert ledger.record(results) == BATCH
            occurrence = schedule_ledger.row(
                client=CLIENT,
                occurrence_id=f"{CLIENT}/w{worker}/{number}",
                schedule_name=f"w{worker}",
                window_start=observed,
                window_end=observed + timedelta(hours=1),
                state=schedule_ledger.OccurrenceState.STARTED,
                recorded_at=observed,
                run_id=run_id,
            )
            assert ledger.append(schedule_ledger.schedule_occurrences, [occurrence]) == 1
            if _checkpoints_now(worker, number):
                made = ledger.checkpoint(CLIENT, signer)
                assert made is not None
                (Path(out) / f"w{worker}-{made.size}.txt").write_text(made.note, encoding="utf-8")
        ledger.finish_run(run_id, RunStatus.SUCCESSFUL)


def _rows(conn: sa.Connection) -> list[tuple[int, str]]:
    return list(tree_mod.row_hashes(conn, CLIENT, 1, 2**62))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_writers_keep_one_linear_tree(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else f"sqlite:///{tmp_path / 'l.db'}"
    Ledger(url).close()  # migrated once, before the writers
    signer = generate_signer("maint-test")
    out = tmp_path / "made"
    out.mkdir()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    writers = [
        context.Process(target=_writer, args=(url, worker, barrier, signer.encode(), str(out)))
        for worker in range(2)
    ]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=600)
    assert [process.exitcode for process in writers] == [0, 0]
    total = 2 * PER_WRITER

    with Ledger(url) as ledger:
        made = sorted(out.glob("*.txt"))
        # both writers checkpointed, each as often as it was told to
        for worker in range(2):
            expected = sum(1 for number in range(ROUNDS) if _checkpoints_now(worker, number))
            assert len([p for p in made if p.name.startswith(f"w{worker}-")]) == expected
        given = cp.read_given(made)
        (report,) = ledger.verify(CLIENT, given=given, verifier=signer.verifier)
        assert report.ok, (report.first_bad, report.tree_problem, report.first_bad_checkpoint)
        assert report.rows == report.tree_size == total
        given_checks = [c for c in report.checkpoints if c.source == "given"]
        assert len(given_checks) == len(made)
        assert all(c.ok and c.signature == "verified" for c in report.checkpoints)

        with ledger.engine.connect() as conn:
            rows = _rows(conn)
            head = (
                conn.execute(sa.select(schema.chain_heads).where(schema.chain_heads.c.client == CLIENT))
                .mappings()
                .one()
            )
            stored_nodes = {
                (int(r.level), int(r.idx)): str(r.hash)
                for r in conn.execute(
                    sa.select(schema.merkle_nodes).where(schema.merkle_nodes.c.client == CLIENT)
                )
            }
            order = list(
                conn.execute(
                    sa.select(schema.check_results.c.run_id)
                    .where(schema.check_results.c.client == CLIENT)
                    .order_by(schema.check_results.c.seq)
                ).scalars()
            )
        # one chain: seqs 1..N, no gap, no duplicate, across every chained table
        assert [seq for seq, _ in rows] == list(range(1, total + 1))
        # one tree: recomputed from the rows == the head's compact range == a checkpoint made now
        frontier = merkle.Frontier()
        recomputed: dict[tuple[int, int], str] = {}

        def on_node(level: int, index: int, digest: bytes) -> None:
            if level >= tree_mod.NODE_LEVEL:
                recomputed[(level, index)] = digest.hex()

        for _, digest in rows:
            frontier.append(tree_mod.leaf_of(digest), on_node)
        leaves = [tree_mod.leaf_of(digest) for _, digest in rows]
        root = merkle.root(leaves)
        assert frontier.root() == root
        assert int(head["seq"]) == total and head["row_hash"] == rows[-1][1]
        assert merkle.Frontier.from_text(total, str(head["frontier"])).root() == root
        assert stored_nodes == recomputed and len(recomputed) >= 2
        after = ledger.checkpoint(CLIENT, signer)
        assert after is not None and (after.size, after.root) == (total, root)
    # the writers really interleaved: every round holds one batch of each, so the run changes each round
    assert sum(1 for a, b in itertools.pairwise(order) if a != b) >= ROUNDS
