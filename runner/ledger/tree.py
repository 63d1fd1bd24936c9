"""Each client's Merkle tree as the ledger stores it: leaves, the compact range, stored subtrees.

Leaf ``i`` of a client's tree is the row of seq ``i + 1`` (any chained table): its leaf hash is
``sha256(0x00 || row_hash)`` with ``row_hash`` as its 32 raw bytes. The row hash already covers the
row's content and the hash of the row before it, so the tree covers every stored value in order.
The tree's size is the chain head's seq.

The head keeps the compact range (:class:`runner.ledger.merkle.Frontier`) so an append costs a few
hashes; ``merkle_nodes`` keeps every perfect subtree of ``2**NODE_LEVEL`` leaves or more, so a proof
reads O(log n) stored nodes plus at most a few hundred row hashes (:class:`StoredTree`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from runner.ledger import merkle, schema

NODE_LEVEL = schema.NODE_LEVEL
#: what :meth:`merkle.Frontier.append` reports each completed perfect subtree to: (level, index, hash)
NodeCallback = Callable[[int, int, bytes], None]


class TreeError(Exception):
    """The stored tree cannot answer: a row or stored node it needs is missing or malformed."""


def leaf_of(row_hash: str) -> bytes:
    """The leaf hash of a row, from its hex ``row_hash``."""
    try:
        raw = bytes.fromhex(row_hash)
    except (TypeError, ValueError):
        raw = str(row_hash).encode()  # a mangled stored hash still makes a (different) leaf
    return merkle.leaf_hash(raw)


class Nodes:
    """Stored subtrees a write transaction adds (level >= NODE_LEVEL), inserted in one statement."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def collector(self, client: str) -> NodeCallback:
        rows = self.rows

        def on_node(level: int, index: int, digest: bytes) -> None:
            if level >= NODE_LEVEL:
                rows.append({"client": client, "level": level, "idx": index, "hash": digest.hex()})

        return on_node

    def flush(self, conn: Connection) -> None:
        if not self.rows:
            return
        table = schema.merkle_nodes
        insert: Any
        if conn.dialect.name == "postgresql":
            insert = postgresql.insert(table).on_conflict_do_nothing()
        elif conn.dialect.name == "sqlite":
            insert = sqlite.insert(table).on_conflict_do_nothing()
        else:  # pragma: no cover - the ledger runs on SQLite and PostgreSQL
            insert = sa.insert(table)
        conn.execute(insert, self.rows)
        self.rows = []


def row_hashes(conn: Connection, client: str, first_seq: int, last_seq: int) -> Iterator[tuple[int, str]]:
    """(seq, row_hash) of the client's rows with ``first_seq <= seq <= last_seq``, every table, by seq."""
    selects = [
        sa.select(t.c.seq, t.c.row_hash).where(t.c.client == client, t.c.seq.between(first_seq, last_seq))
        for t in schema.CHAINED
    ]
    query = sa.union_all(*selects).order_by("seq")
    result = conn.execution_options(stream_results=True, yield_per=5000).execute(query)
    for seq, digest in result:
        yield int(seq), str(digest)


def rebuild(conn: Connection, client: str, size: int, nodes: Nodes) -> merkle.Frontier:
    """The compact range of the client's first ``size`` rows, from their stored hashes (rows recorded
    before the tree existed, or a head whose range was lost); their stored subtrees go to ``nodes``."""
    frontier = merkle.Frontier()
    on_node = nodes.collector(client)
    expected = 1
    for seq, digest in row_hashes(conn, client, 1, size):
        if seq != expected:
            raise TreeError(
                f"client {client}: row seq {expected} is missing (found {seq}): run maint ledger verify"
            )
        frontier.append(leaf_of(digest), on_node)
        expected += 1
    if frontier.size != size:
        raise TreeError(
            f"client {client}: the chain head is at seq {size} but the last row is {frontier.size}"
        )
    return frontier


def load_frontier(size: int, text: str | None) -> merkle.Frontier | None:
    """The stored compact range, None when it is missing or does not fit ``size`` (then rebuild it)."""
    if text is None:
        return None if size else merkle.Frontier()
    try:
        return merkle.Frontier.from_text(size, text)
    except ValueError:
        return None


class StoredTree:
    """A client's tree of ``size`` leaves read from the database: answers ``subtree(start, end)`` from
    stored nodes (perfect aligned subtrees of >= 2**NODE_LEVEL leaves) and row hashes otherwise."""

    def __init__(self, conn: Connection, client: str, size: int) -> None:
        self.conn, self.client, self.size = conn, client, size
        self._memo: dict[tuple[int, int], bytes] = {}
        self._leaves: dict[int, bytes] = {}

    def subtree(self, start: int, end: int) -> bytes:
        if not 0 <= start < end <= self.size:
            raise TreeError(f"client {self.client}: no subtree [{start}, {end}) in a tree of {self.size}")
        key = (start, end)
        found = self._memo.get(key)
        if found is not None:
            return found
        width = end - start
        level = width.bit_length() - 1
        if width == 1 << level and start % width == 0 and level >= NODE_LEVEL:
            found = self._stored(level, start >> level)
        elif width <= 1 << NODE_LEVEL:
            found = merkle.root(self._leaf_range(start, end))
        else:
            split = 1 << ((width - 1).bit_length() - 1)  # the largest power of two below width
            found = merkle.node_hash(self.subtree(start, start + split), self.subtree(start + split, end))
        self._memo[key] = found
        return found

    def _stored(self, level: int, index: int) -> bytes:
        nodes = schema.merkle_nodes
        query = sa.select(nodes.c.hash).where(
            nodes.c.client == self.client, nodes.c.level == level, nodes.c.idx == index
        )
        digest = self.conn.execute(query).scalar()
        if digest is None:
            raise TreeError(f"client {self.client}: stored subtree {level}/{index} is missing")
        try:
            raw = bytes.fromhex(str(digest))
        except ValueError:
            raw = b""
        if len(raw) != merkle.HASH_SIZE:
            raise TreeError(f"client {self.client}: stored subtree {level}/{index} is malformed")
        return raw

    def _leaf_range(self, start: int, end: int) -> list[bytes]:
        missing = [i for i in range(start, end) if i not in self._leaves]
        if missing:
            lo, hi = missing[0], missing[-1]
            got = dict(row_hashes(self.conn, self.client, lo + 1, hi + 1))
            for index in range(lo, hi + 1):
                digest = got.get(index + 1)
                if digest is None:
                    raise TreeError(f"client {self.client}: row seq {index + 1} is missing")
                self._leaves[index] = leaf_of(digest)
        return [self._leaves[i] for i in range(start, end)]

    def leaf(self, index: int) -> bytes:
        return self._leaf_range(index, index + 1)[0]

    def root(self) -> bytes:
        return merkle.EMPTY_ROOT if self.size == 0 else self.subtree(0, self.size)


def stored_nodes(conn: Connection, client: str, level: int = NODE_LEVEL) -> Mapping[int, str]:
    """index -> hex hash of the client's stored subtrees at ``level`` (what verify compares)."""
    nodes = schema.merkle_nodes
    query = sa.select(nodes.c.idx, nodes.c.hash).where(nodes.c.client == client, nodes.c.level == level)
    return {int(idx): str(digest) for idx, digest in conn.execute(query)}
