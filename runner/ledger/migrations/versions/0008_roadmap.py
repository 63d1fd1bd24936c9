"""Roadmap: one chained row per event of an onboarding roadmap item (runner.onboarding.roadmap).

Revision ID: 0008
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "roadmap_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("client", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("row_hash", sa.Text, nullable=False),
        sa.Column("item", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("control", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("treatment_class", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("hosts", sa.Text, nullable=False),
        sa.Column("owner", sa.Text),
        sa.Column("due", sa.Text),
        sa.Column("timezone", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("made_by", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text),
        sa.UniqueConstraint("client", "seq", name="uq_roadmap_events_client_seq"),
    )
    op.create_index("ix_roadmap_events_item", "roadmap_events", ["client", "item", "seq"])


def downgrade() -> None:
    op.drop_table("roadmap_events")
