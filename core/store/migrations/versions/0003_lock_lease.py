"""Locks become leases: the holder's host and pid, a heartbeat, and the training run it guards.

A holder that died (same host and its pid gone, or no heartbeat for a minute) is reclaimed
by the next :func:`core.store.ops.acquire_lock`; see :mod:`core.store.runs`.

Revision ID: 0003_lock_lease
Revises: 0002_watchlists
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_lock_lease"
down_revision = "0002_watchlists"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("locks") as batch:
        batch.add_column(sa.Column("host", sa.String(), nullable=False, server_default=""))
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", TS, nullable=True))
        batch.add_column(sa.Column("run_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("locks") as batch:
        batch.drop_column("run_id")
        batch.drop_column("heartbeat_at")
        batch.drop_column("pid")
        batch.drop_column("host")
