"""The ledger's tables (SQLAlchemy Core), matching ``migrations/versions``.

The chained tables are insert-only: the ledger's own three (``runs``, ``run_events``,
``check_results``) and those the domains define with :func:`chained_table` in their own modules
(named in :mod:`runner.domains`). Every row carries its client's next ``seq`` (one sequence shared
by all chained tables), the ``prev_hash`` of the row before it and its own ``row_hash``.
``chain_heads`` holds one row per client pointing at the last appended row and the compact range of
its Merkle tree; it is the only table ever updated. ``merkle_nodes`` and ``checkpoints`` (insert-only)
hold the tree's stored subtrees and its checkpoints; ``ledger_meta`` the ledger's id.

Every stored value is text or an integer (datetimes as ISO-8601 UTC text, JSON as
canonical text) so the hashes recompute identically on SQLite and PostgreSQL.
"""

from __future__ import annotations

import importlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.schema import SchemaItem

from runner import domains

metadata = sa.MetaData()

#: an auto-increment 64-bit key that is still SQLite's rowid alias
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

chain_heads = sa.Table(
    "chain_heads",
    metadata,
    sa.Column("client", sa.Text, primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("row_hash", sa.Text, nullable=False),
    # the client's Merkle tree over its rows (size = seq): the compact range, hex roots joined by ","
    # (NULL until first computed: rows recorded before the tree existed are added on the next append)
    sa.Column("frontier", sa.Text),
)

#: the ledger's identity: ``ledger_id`` (random, made by migration 0004) names it in checkpoint origins
ledger_meta = sa.Table(
    "ledger_meta",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

#: the hashes of the client's perfect Merkle subtrees of 2**level leaves, level >= NODE_LEVEL (insert-only):
#: a proof needs them plus at most 2**NODE_LEVEL leaves (row hashes) read from the chained tables
merkle_nodes = sa.Table(
    "merkle_nodes",
    metadata,
    sa.Column("client", sa.Text, primary_key=True),
    sa.Column("level", sa.Integer, primary_key=True),
    sa.Column("idx", sa.BigInteger, primary_key=True),
    sa.Column("hash", sa.Text, nullable=False),
)
NODE_LEVEL = 8

#: checkpoints of each client's tree (insert-only, one per size): the C2SP checkpoint note, signed or not
checkpoints = sa.Table(
    "checkpoints",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("client", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("root_hash", sa.Text, nullable=False),
    sa.Column("made_at", sa.Text, nullable=False),
    sa.Column("key_id", sa.Text),
    sa.Column("note", sa.Text, nullable=False),
    sa.UniqueConstraint("client", "size", name="uq_checkpoints_client_size"),
)

#: the ledger's tables that are not chained (no row of them is covered by a client's hashes)
UNCHAINED: tuple[sa.Table, ...] = (chain_heads, ledger_meta, merkle_nodes, checkpoints)

#: the chain columns the ledger manages in every chained table (set by :meth:`Ledger.append`), after its key
CHAIN_COLUMNS = ("client", "seq", "prev_hash", "row_hash")

#: the chained tables: the ledger's own three, in the order verify() breaks ties on equal seq, then the
#: domains' (by name, whatever order their modules were imported in); :func:`chained_table` adds to it
CHAINED: tuple[sa.Table, ...] = ()
_CORE = ("runs", "run_events", "check_results")


def chained_table(name: str, *items: SchemaItem, key: sa.Column[Any] | None = None) -> sa.Table:
    """Define the chained table ``name`` on :data:`metadata` and make it part of every client's hash chain.

    The table's columns are its key (``key``, else ``id``: a 64-bit auto-increment surrogate that no hash
    covers), then :data:`CHAIN_COLUMNS`, then ``items`` (the domain's columns, constraints and indexes); the
    unique constraint ``uq_<name>_client_seq`` on (client, seq) is added. Once defined, the table is walked
    by :meth:`Ledger.verify`, listed by :meth:`Ledger.clients` and written only through
    :meth:`Ledger.append`. It is created by a migration of its own (``down_revision = "0001"``: one branch
    per domain, upgraded with ``heads``) that :mod:`runner.domains` names with the module defining it.
    """
    global CHAINED
    taken = {"id", *CHAIN_COLUMNS}
    clashing = sorted(item.name for item in items if isinstance(item, sa.Column) and item.name in taken)
    if clashing:
        raise ValueError(f"chained table {name}: columns {clashing} are the ledger's own")
    if key is None:
        key = sa.Column("id", BigId, primary_key=True, autoincrement=True)
    table = sa.Table(
        name,
        metadata,
        key,
        sa.Column("client", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("row_hash", sa.Text, nullable=False),
        *items,
        sa.UniqueConstraint("client", "seq", name=f"uq_{name}_client_seq"),
    )
    core = [t for t in (*CHAINED, table) if t.name in _CORE]
    domains = sorted((t for t in (*CHAINED, table) if t.name not in _CORE), key=lambda t: t.name)
    CHAINED = (*sorted(core, key=lambda t: _CORE.index(t.name)), *domains)
    return table


runs = chained_table(
    "runs",
    sa.Column("mode", sa.Text, nullable=False),
    sa.Column("roles", sa.Text, nullable=False),
    sa.Column("host_limit", sa.Text),
    sa.Column("ticket", sa.Text),
    sa.Column("reason", sa.Text),
    sa.Column("playbook", sa.Text, nullable=False),
    sa.Column("artifact_dir", sa.Text, nullable=False),
    sa.Column("trigger", sa.Text, nullable=False),
    sa.Column("requested_by", sa.Text, nullable=False),
    sa.Column("started_at", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.Text, nullable=False),
    sa.Index("ix_runs_client_started", "client", "started_at"),
    sa.Index("ix_runs_ticket", "ticket"),
    key=sa.Column("run_id", sa.Text, primary_key=True),
)

run_events = chained_table(
    "run_events",
    sa.Column("run_id", sa.Text, sa.ForeignKey("runs.run_id", name="fk_run_events_run"), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.Text, nullable=False),
    sa.Index("ix_run_events_run", "run_id", "seq"),
)

check_results = chained_table(
    "check_results",
    sa.Column("run_id", sa.Text, sa.ForeignKey("runs.run_id", name="fk_check_results_run"), nullable=False),
    sa.Column("result_key", sa.Text, nullable=False),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("control", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("domain", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),
    sa.Column("remediation", sa.Text, nullable=False),
    sa.Column("observed_at", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("ticket", sa.Text),
    sa.Column("recorded_at", sa.Text, nullable=False),
    sa.UniqueConstraint("run_id", "result_key", name="uq_check_results_run_key"),
    sa.Index("ix_check_results_latest", "client", "host", "control", "observed_at", "seq"),
)

_domains_loaded = False


def load_domain_tables() -> None:
    """Import every module :mod:`runner.domains` names as defining ledger tables (once per process).

    :class:`runner.ledger.Ledger` calls it when opened, so migrate, verify, clients and append see every
    domain's tables although the ledger imports no domain module itself.
    """
    global _domains_loaded
    if not _domains_loaded:
        for module in domains.table_modules():
            importlib.import_module(module)
        _domains_loaded = True


#: columns not covered by a row's hash (the hash itself, its link, a surrogate key)
_UNHASHED = frozenset({"prev_hash", "row_hash", "id"})


def content_columns(table: sa.Table) -> tuple[str, ...]:
    """The columns a row's hash covers (includes ``client`` and ``seq``)."""
    return tuple(c.name for c in table.columns if c.name not in _UNHASHED)


def row_id_column(table: sa.Table) -> str:
    """The column that names a row in a report: the table's key (``run_id`` for runs, else ``id``)."""
    (key,) = table.primary_key.columns
    return str(key.name)
