"""Schedule occurrences: started / completed / missed / skipped rows, chained per client.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "schedule_occurrences",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("client", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("row_hash", sa.Text, nullable=False),
        sa.Column("occurrence_id", sa.Text, nullable=False),
        sa.Column("schedule", sa.Text, nullable=False),
        sa.Column("window_start", sa.Text, nullable=False),
        sa.Column("window_end", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.Text, nullable=False),
        sa.UniqueConstraint("client", "seq", name="uq_schedule_occurrences_client_seq"),
    )
    op.create_index("ix_schedule_occurrences_occurrence", "schedule_occurrences", ["occurrence_id", "seq"])
    op.create_index("ix_schedule_occurrences_window", "schedule_occurrences", ["window_end"])


def downgrade() -> None:
    op.drop_table("schedule_occurrences")
