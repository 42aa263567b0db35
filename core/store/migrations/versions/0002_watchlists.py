"""Watchlists: one ordered list of tickers per signed-in user or browser session.

Revision ID: 0002_watchlists
Revises: 0001_initial
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_watchlists"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watchlists",
        sa.Column("owner", sa.String(), primary_key=True),
        sa.Column("symbols", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("watchlists")
