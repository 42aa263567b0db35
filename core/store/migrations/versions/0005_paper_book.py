"""Paper trading book: accounts, simulated orders (linked to the prediction that caused
them), positions with their bar clock, and marks (equity at each bar's close).

Revision ID: 0005_paper_book
Revises: 0004_saved_screens
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_paper_book"
down_revision = "0004_saved_screens"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "paper_accounts",
        sa.Column("owner", sa.String(), primary_key=True),
        sa.Column("cash", sa.Float(), nullable=False),
        sa.Column("initial_cash", sa.Float(), nullable=False),
        sa.Column("commission_bp", sa.Float(), nullable=False),
        sa.Column("spread_bp", sa.Float(), nullable=False),
        sa.Column("slippage_bp", sa.Float(), nullable=False),
        sa.Column("fraction", sa.Float(), nullable=False),
        sa.Column("allow_short", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "paper_orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("owner", sa.String(),
                  sa.ForeignKey("paper_accounts.owner", ondelete="CASCADE"), nullable=False),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("interval", sa.String(), nullable=False),
        sa.Column("side", sa.String(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("signal", sa.String(), nullable=True),
        sa.Column("prediction_id", sa.Integer(),
                  sa.ForeignKey("predictions.id", ondelete="SET NULL"), nullable=True),
        sa.Column("placed_at", TS, nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("fill_price", sa.Float(), nullable=True),
        sa.Column("fill_ts", TS, nullable=True),
        sa.Column("commission", sa.Float(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_paper_orders_owner", "paper_orders", ["owner"])
    op.create_table(
        "paper_positions",
        sa.Column("owner", sa.String(),
                  sa.ForeignKey("paper_accounts.owner", ondelete="CASCADE"), primary_key=True),
        sa.Column("symbol", sa.String(), primary_key=True),
        sa.Column("interval", sa.String(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("avg_price", sa.Float(), nullable=False),
        sa.Column("realised", sa.Float(), nullable=False),
        sa.Column("last_price", sa.Float(), nullable=False),
        sa.Column("last_ts", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "paper_marks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("owner", sa.String(),
                  sa.ForeignKey("paper_accounts.owner", ondelete="CASCADE"), nullable=False),
        sa.Column("ts", TS, nullable=False),
        sa.Column("cash", sa.Float(), nullable=False),
        sa.Column("equity", sa.Float(), nullable=False),
        sa.Column("gross", sa.Float(), nullable=False),
        sa.Column("net", sa.Float(), nullable=False),
        sa.Column("realised", sa.Float(), nullable=False),
        sa.Column("unrealised", sa.Float(), nullable=False),
    )
    op.create_index("ix_paper_marks_owner", "paper_marks", ["owner"])


def downgrade() -> None:
    op.drop_index("ix_paper_marks_owner", table_name="paper_marks")
    op.drop_table("paper_marks")
    op.drop_table("paper_positions")
    op.drop_index("ix_paper_orders_owner", table_name="paper_orders")
    op.drop_table("paper_orders")
    op.drop_table("paper_accounts")
