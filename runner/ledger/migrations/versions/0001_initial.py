"""The initial ledger: chain heads, runs, run events, check results.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _chained() -> list[sa.Column[object]]:
    """The columns every chained row starts with."""
    return [
        sa.Column("client", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("row_hash", sa.Text, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "chain_heads",
        sa.Column("client", sa.Text, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("row_hash", sa.Text, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("run_id", sa.Text, primary_key=True),
        *_chained(),
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
    )
    op.create_index("ix_runs_client_started", "runs", ["client", "started_at"])
    op.create_index("ix_runs_ticket", "runs", ["ticket"])
    op.create_table(
        "run_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        *_chained(),
        sa.Column("run_id", sa.Text, sa.ForeignKey("runs.run_id", name="fk_run_events_run"), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.Text, nullable=False),
        sa.UniqueConstraint("client", "seq", name="uq_run_events_client_seq"),
    )
    op.create_index("ix_run_events_run", "run_events", ["run_id", "seq"])
    op.create_table(
        "check_results",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        *_chained(),
        sa.Column(
            "run_id", sa.Text, sa.ForeignKey("runs.run_id", name="fk_check_results_run"), nullable=False
        ),
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
    )
    op.create_index(
        "ix_check_results_latest", "check_results", ["client", "host", "control", "observed_at", "seq"]
    )


def downgrade() -> None:
    op.drop_table("check_results")
    op.drop_table("run_events")
    op.drop_table("runs")
    op.drop_table("chain_heads")
