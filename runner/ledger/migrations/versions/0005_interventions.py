"""Corrective interventions: one chained row per ticket run (technician, opened at, controls, review).

Revision ID: 0005
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "interventions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("client", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("row_hash", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("ticket", sa.Text, nullable=False),
        sa.Column("technician", sa.Text, nullable=False),
        sa.Column("opened_at", sa.Text),
        sa.Column("controls", sa.Text, nullable=False),
        sa.Column("review", sa.Integer, nullable=False),
        sa.Column("review_run_id", sa.Text),
        sa.Column("review_roles", sa.Text, nullable=False),
        sa.Column("one_off_roles", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.Text, nullable=False),
        sa.UniqueConstraint("client", "seq", name="uq_interventions_client_seq"),
    )
    op.create_index("ix_interventions_ticket", "interventions", ["ticket", "seq"])
    op.create_index("ix_interventions_run", "interventions", ["run_id"])


def downgrade() -> None:
    op.drop_table("interventions")
