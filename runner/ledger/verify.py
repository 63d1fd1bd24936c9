"""``maint ledger verify`` for one client, inside one read snapshot of the ledger.

Three things are checked, and the report names the first thing that no longer holds:

1. the hash chain (:func:`runner.ledger.chain.walk`): a row edited, deleted, inserted or reordered
   without recomputing the hashes after it;
2. the Merkle tree recomputed from the stored rows against what the ledger stored while appending
   (the head's compact range, the stored subtrees): a chain recomputed after an edit still differs
   from the subtrees stored when the rows were first appended, unless those were recomputed too;
3. every checkpoint (stored, under var/checkpoints, given): its signature, its origin (this ledger,
   this client), and that the tree contains it - its size is at most the rows' count and the root of
   the first ``size`` rows is its root; then a consistency proof from its size to the current tree,
   made from the stored subtrees exactly as ``maint ledger prove`` would give it, must verify.

Against checkpoints kept outside the database, a full recomputation of every hash (and of the stored
tree, and of the stored checkpoints) is found as well; a signature by the ledger's key shows that a
checkpoint was made by the ledger, not by whoever edited the database.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runner.ledger import checkpoints as cp
from runner.ledger import merkle, schema
from runner.ledger import tree as tree_mod
from runner.ledger.chain import TABLE_KEY, ChainRow, Head, walk
from runner.ledger.models import CheckpointCheck, VerifyReport
from runner.ledger.note import Checkpoint, Verifier

NODE_LEVEL = tree_mod.NODE_LEVEL


def chain_rows(conn: Connection, table: sa.Table, client: str, seq: int | None = None) -> Iterator[ChainRow]:
    """A client's rows of one chained table in seq order (only row ``seq`` when given)."""
    content = schema.content_columns(table)
    id_column = schema.row_id_column(table)
    columns = [table.c[name] for name in dict.fromkeys((*content, id_column, "prev_hash", "row_hash"))]
    query = sa.select(*columns).where(table.c.client == client)
    if seq is not None:
        query = query.where(table.c.seq == seq)
    query = query.order_by(table.c.seq)
    result = conn.execution_options(stream_results=True, yield_per=2000).execute(query).mappings()
    for row in result:
        values = {name: row[name] for name in content}
        values[TABLE_KEY] = table.name
        yield ChainRow(
            seq=int(row["seq"]),
            table=table.name,
            row_id=row[id_column],
            prev_hash=row["prev_hash"],
            row_hash=row["row_hash"],
            content=values,
        )


def row_at(conn: Connection, client: str, seq: int) -> ChainRow | None:
    """The client's row of ``seq``, whichever chained table holds it."""
    for table in schema.CHAINED:
        for row in chain_rows(conn, table, client, seq):
            return row
    return None


def _blocks(first: int) -> str:
    """The rows (by seq) a stored subtree of level NODE_LEVEL at index ``first`` covers."""
    width = 1 << NODE_LEVEL
    return f"rows seq {first * width + 1}-{(first + 1) * width}"


class _Tree:
    """The tree recomputed while the chain is walked: roots at the sizes checkpoints name, and the first
    stored subtree that differs from the rows."""

    def __init__(self, sizes: set[int], stored: dict[int, str] | None) -> None:
        self.frontier = merkle.Frontier()
        self.sizes, self.stored = sizes, stored
        self.roots: dict[int, bytes] = {}
        self.bad_node: int | None = None

    def _on_node(self, level: int, index: int, digest: bytes) -> None:
        stored = self.stored
        if level != NODE_LEVEL or self.bad_node is not None or stored is None:
            return
        if index in stored and stored[index] != digest.hex():
            self.bad_node = index

    def track(self, rows: Iterator[ChainRow]) -> Iterator[ChainRow]:
        frontier, on_node, sizes = self.frontier, self._on_node, self.sizes
        leaf_of = tree_mod.leaf_of
        for row in rows:
            frontier.append(leaf_of(row.row_hash), on_node)
            if frontier.size in sizes:
                self.roots[frontier.size] = frontier.root()
            yield row


def verify_client(
    conn: Connection, client: str, ledger_id: str, given: Sequence[cp.Candidate], verifier: Verifier | None
) -> VerifyReport:
    heads = schema.chain_heads
    stored_head = conn.execute(
        sa.select(heads.c.seq, heads.c.row_hash, heads.c.frontier).where(heads.c.client == client)
    ).first()
    head = Head(int(stored_head.seq), str(stored_head.row_hash)) if stored_head is not None else None
    candidates = [
        *(cp.Candidate.of("ledger", f"checkpoint {c['id']}", c["note"]) for c in _stored_notes(conn, client)),
        *(cp.read_candidate("file", p) for p in cp.files_of(client)),
        *given,
    ]
    sizes = {c.parsed.checkpoint.size for c in candidates if c.parsed is not None}
    # a head without a range: rows recorded before the tree existed, not appended to since (no subtrees yet)
    kept = stored_head is not None and stored_head.frontier is not None
    tree = _Tree(sizes, dict(tree_mod.stored_nodes(conn, client)) if kept else None)
    streams = [chain_rows(conn, table, client) for table in schema.CHAINED]
    tracked = tree.track(heapq.merge(*streams, key=lambda row: row.seq))
    rows, bad = walk(client, tracked, head)
    for _ in tracked:  # the tree covers every stored row, also those after a bad one
        rows += 1
    size, root = tree.frontier.size, tree.frontier.root()
    problem = _tree_problem(tree, stored_head, head, size, root)
    checks = _judge(conn, client, ledger_id, candidates, verifier, tree, size, root, problem is None)
    return VerifyReport(
        client=client,
        rows=rows,
        ok=bad is None and problem is None and all(c.ok for c in checks),
        first_bad=bad,
        tree_size=size,
        root_hash=root.hex(),
        tree_problem=problem,
        checkpoints=checks,
    )


def _stored_notes(conn: Connection, client: str) -> list[dict[str, Any]]:
    table = schema.checkpoints
    query = sa.select(table.c.id, table.c.note).where(table.c.client == client).order_by(table.c.size)
    return [dict(row) for row in conn.execute(query).mappings()]


def _tree_problem(tree: _Tree, stored_head: Any, head: Head | None, size: int, root: bytes) -> str | None:
    if tree.stored is None:
        return None
    if tree.bad_node is not None:
        return (
            f"the Merkle subtree stored when {_blocks(tree.bad_node)} were appended does not match them: "
            "one of those rows was changed afterwards (hashes recomputed)"
        )
    beyond = [index for index in tree.stored if (index + 1) << NODE_LEVEL > size]
    if beyond:
        first = _blocks(min(beyond))
        return f"stored Merkle subtrees cover {first}, beyond the last row: rows deleted at the end"
    missing = [index for index in range(size >> NODE_LEVEL) if index not in tree.stored]
    if missing:
        return f"the stored Merkle subtree of {_blocks(missing[0])} is missing: proofs cannot be made"
    if stored_head is not None and head is not None and stored_head.frontier is not None and head.seq == size:
        kept = tree_mod.load_frontier(head.seq, str(stored_head.frontier))
        if kept is None or kept.root() != root:
            return "the tree range stored with the chain head does not match the rows"
    return None


def _judge(
    conn: Connection,
    client: str,
    ledger_id: str,
    candidates: Sequence[cp.Candidate],
    verifier: Verifier | None,
    tree: _Tree,
    size: int,
    root: bytes,
    stored_ok: bool,
) -> list[CheckpointCheck]:
    states = {id(c): cp.signature_state(c.parsed, verifier) for c in candidates if c.parsed is not None}
    signed_sizes = [
        c.parsed.checkpoint.size
        for c in candidates
        if c.parsed is not None and states[id(c)][0] == "verified"
    ]
    first_signed = min(signed_sizes) if signed_sizes else None
    stored = tree_mod.StoredTree(conn, client, size)
    checks = []
    for candidate in candidates:
        parsed = candidate.parsed
        if parsed is None:
            checks.append(_check(candidate, None, False, "bad", candidate.problem))
            continue
        state, why = states[id(candidate)]
        checkpoint = parsed.checkpoint
        reason = why
        ids = parsed.ids
        if reason is None and ids is None:
            reason = f"origin {checkpoint.origin!r} is not a maint ledger's"
        elif reason is None and ids is not None and ids[0] != ledger_id:
            reason = (
                f"made by ledger {ids[0]}, this ledger is {ledger_id}: the database was replaced or rebuilt"
            )
        elif reason is None and ids is not None and ids[1] != client:
            reason = f"a checkpoint of client {ids[1]}, not {client}"
        elif (
            reason is None
            and state == "unsigned"
            and first_signed is not None
            and checkpoint.size > first_signed
        ):
            reason = f"unsigned, though this client's checkpoints are signed from {first_signed} rows on"
        if reason is None:
            reason = _contains(checkpoint, tree, size, root, stored if stored_ok else None)
        checks.append(_check(candidate, checkpoint.size, reason is None, state, reason))
    return checks


def _contains(
    checkpoint: Checkpoint, tree: _Tree, size: int, root: bytes, stored: tree_mod.StoredTree | None
) -> str | None:
    """Why the current tree does not contain the checkpoint, None when it does."""
    if checkpoint.size > size:
        return (
            f"names {checkpoint.size} rows but the ledger holds {size}: rows deleted at the end, "
            "or the database restored from an older copy"
        )
    if checkpoint.size == 0:
        return None
    if tree.roots.get(checkpoint.size) != checkpoint.root:
        return (
            f"its root does not match the ledger's first {checkpoint.size} rows: a row at or before seq "
            f"{checkpoint.size} was edited, deleted, inserted or reordered since it was made"
        )
    if stored is None or checkpoint.size == size:
        return None
    try:
        path = merkle.consistency_proof(checkpoint.size, size, stored.subtree)
    except tree_mod.TreeError as exc:
        return f"no consistency proof from {checkpoint.size} rows to {size}: {exc}"
    if not merkle.verify_consistency(checkpoint.size, size, checkpoint.root, root, path):
        return f"the consistency proof from {checkpoint.size} rows to {size} made from the stored tree fails"
    return None


def _check(
    candidate: cp.Candidate, size: int | None, ok: bool, signature: str, reason: str | None
) -> CheckpointCheck:
    return CheckpointCheck(
        source=candidate.source, where=candidate.where, size=size, ok=ok, signature=signature, reason=reason
    )
