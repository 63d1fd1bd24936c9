"""The Merkle tree over each client's rows and its checkpoints; the ledger's id.

``chain_heads.frontier`` keeps each client's compact range (NULL here: the tree of rows recorded
before this revision is computed from their stored hashes on the client's next append or checkpoint,
so the upgrade itself reads no row). ``merkle_nodes`` keeps the perfect subtrees proofs need;
``checkpoints`` the checkpoint notes; ``ledger_meta`` the random ``ledger_id`` naming this ledger in
every checkpoint's origin.

Revision ID: 0004
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("chain_heads") as batch:
        batch.add_column(sa.Column("frontier", sa.Text))
    meta = op.create_table(
        "ledger_meta",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.bulk_insert(meta, [{"key": "ledger_id", "value": uuid.uuid4().hex}])
    op.create_table(
        "merkle_nodes",
        sa.Column("client", sa.Text, primary_key=True),
        sa.Column("level", sa.Integer, primary_key=True),
        sa.Column("idx", sa.BigInteger, primary_key=True),
        sa.Column("hash", sa.Text, nullable=False),
    )
    op.create_table(
        "checkpoints",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("client", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("root_hash", sa.Text, nullable=False),
        sa.Column("made_at", sa.Text, nullable=False),
        sa.Column("key_id", sa.Text),
        sa.Column("note", sa.Text, nullable=False),
        sa.UniqueConstraint("client", "size", name="uq_checkpoints_client_size"),
    )


def downgrade() -> None:
    op.drop_table("checkpoints")
    op.drop_table("merkle_nodes")
    op.drop_table("ledger_meta")
    with op.batch_alter_table("chain_heads") as batch:
        batch.drop_column("frontier")
