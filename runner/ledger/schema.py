"""The ledger's tables (SQLAlchemy Core), matching ``migrations/versions``.

Three chained tables (``runs``, ``run_events``, ``check_results``) are insert-only: every
row carries its client's next ``seq`` (one sequence shared by the three tables), the
``prev_hash`` of the row before it and its own ``row_hash``.  ``chain_heads`` holds one
row per client pointing at the last appended row; it is the only table ever updated.

Every stored value is text or an integer (datetimes as ISO-8601 UTC text, JSON as
canonical text) so the hashes recompute identically on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

#: an auto-increment 64-bit key that is still SQLite's rowid alias
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

chain_heads = sa.Table(
    "chain_heads",
    metadata,
    sa.Column("client", sa.Text, primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("row_hash", sa.Text, nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.Text, primary_key=True),
    sa.Column("client", sa.Text, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("prev_hash", sa.Text, nullable=False),
    sa.Column("row_hash", sa.Text, nullable=False),
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
    sa.UniqueConstraint("client", "seq", name="uq_runs_client_seq"),
    sa.Index("ix_runs_client_started", "client", "started_at"),
    sa.Index("ix_runs_ticket", "ticket"),
)

run_events = sa.Table(
    "run_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("client", sa.Text, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("prev_hash", sa.Text, nullable=False),
    sa.Column("row_hash", sa.Text, nullable=False),
    sa.Column("run_id", sa.Text, sa.ForeignKey("runs.run_id", name="fk_run_events_run"), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.Text, nullable=False),
    sa.UniqueConstraint("client", "seq", name="uq_run_events_client_seq"),
    sa.Index("ix_run_events_run", "run_id", "seq"),
)

check_results = sa.Table(
    "check_results",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("client", sa.Text, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("prev_hash", sa.Text, nullable=False),
    sa.Column("row_hash", sa.Text, nullable=False),
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
    sa.UniqueConstraint("client", "seq", name="uq_check_results_client_seq"),
    sa.Index("ix_check_results_latest", "client", "host", "control", "observed_at", "seq"),
)

#: the chained tables, in the order verify() breaks ties on equal seq; domains add theirs
#: with :func:`register_chained`
CHAINED: tuple[sa.Table, ...] = (runs, run_events, check_results)


def register_chained(table: sa.Table) -> sa.Table:
    """Make ``table`` part of every client's hash chain (verify() walks it too).

    A chained table has ``client``, ``seq``, ``prev_hash``, ``row_hash`` and an ``id``
    surrogate key, is defined on :data:`metadata`, is created by a migration of its own
    (``down_revision = "0001"``: one branch per domain, upgraded with ``heads``) and is only
    ever written through :meth:`runner.ledger.Ledger.append`.
    """
    global CHAINED
    if table not in CHAINED:
        missing = {"client", "seq", "prev_hash", "row_hash", "id"} - set(table.columns.keys())
        if missing:
            raise ValueError(f"chained table {table.name} lacks columns {sorted(missing)}")
        CHAINED = (*CHAINED, table)
    return table


#: columns not covered by a row's hash (the hash itself, its link, a surrogate key)
_UNHASHED = frozenset({"prev_hash", "row_hash", "id"})


def content_columns(table: sa.Table) -> tuple[str, ...]:
    """The columns a row's hash covers (includes ``client`` and ``seq``)."""
    return tuple(c.name for c in table.columns if c.name not in _UNHASHED)


def row_id_column(table: sa.Table) -> str:
    """The column that names a row in a report."""
    return "run_id" if table is runs else "id"
