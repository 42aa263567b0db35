"""Paper books that follow a strategy: one strategy per (owner, symbol), stored as its
validated fields, with the bar it started following from.

Revision ID: 0006_paper_strategies
Revises: 0005_paper_book
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_paper_strategies"
down_revision = "0005_paper_book"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "paper_strategies",
        sa.Column("owner", sa.String(),
                  sa.ForeignKey("paper_accounts.owner", ondelete="CASCADE"), primary_key=True),
        sa.Column("symbol", sa.String(), primary_key=True),
        sa.Column("interval", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("started_ts", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("paper_strategies")
