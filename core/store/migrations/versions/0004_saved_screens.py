"""Saved screener screens: one named filter set per owner (user or browser session).

Revision ID: 0004_saved_screens
Revises: 0003_lock_lease
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_saved_screens"
down_revision = "0003_lock_lease"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_screens",
        sa.Column("owner", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("saved_screens")
