"""Notifications: one chained row per (fact, channel) state (pending, sent, failed).

Revision ID: 0006
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("client", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("row_hash", sa.Text, nullable=False),
        sa.Column("fact", sa.Text, nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("channel_type", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text),
        sa.Column("body_sha256", sa.Text, nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("recorded_at", sa.Text, nullable=False),
        sa.UniqueConstraint("client", "seq", name="uq_notifications_client_seq"),
    )
    op.create_index("ix_notifications_fact", "notifications", ["client", "fact", "channel", "seq"])


def downgrade() -> None:
    op.drop_index("ix_notifications_fact", table_name="notifications")
    op.drop_table("notifications")
