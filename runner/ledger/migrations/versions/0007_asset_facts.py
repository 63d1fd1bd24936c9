"""Asset facts: one chained row per host per run when its facts changed (runner.assets.store).

Revision ID: 0007
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "asset_facts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("client", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("row_hash", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text),
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("collected_at", sa.Text, nullable=False),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("facts", sa.Text, nullable=False),
        sa.UniqueConstraint("client", "seq", name="uq_asset_facts_client_seq"),
        sa.UniqueConstraint("run_id", "host", name="uq_asset_facts_run_host"),
    )
    op.create_index("ix_asset_facts_host", "asset_facts", ["client", "host", "seq"])


def downgrade() -> None:
    op.drop_table("asset_facts")
