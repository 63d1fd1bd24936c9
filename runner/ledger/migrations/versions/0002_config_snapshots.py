"""Network configuration snapshots (masked text, raw text encrypted at rest).

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "config_snapshots",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("client", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("row_hash", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text),
        sa.Column("device", sa.Text, nullable=False),
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("taken_at", sa.Text, nullable=False),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("masked_text", sa.Text, nullable=False),
        sa.Column("raw_encrypted", sa.Text),
        sa.Column("encryption", sa.Text, nullable=False),
        sa.Column("line_count", sa.Integer, nullable=False),
        sa.UniqueConstraint("client", "seq", name="uq_config_snapshots_client_seq"),
    )
    op.create_index("ix_config_snapshots_device", "config_snapshots", ["client", "device", "seq"])


def downgrade() -> None:
    op.drop_index("ix_config_snapshots_device", table_name="config_snapshots")
    op.drop_table("config_snapshots")
