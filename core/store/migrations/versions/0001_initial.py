"""Initial store schema: model versions, predictions, outcomes, metric snapshots, training
runs, A/B tests, audit log, locks, replay cursors.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("family", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("artifact_path", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("deployed_at", TS, nullable=True),
        sa.UniqueConstraint("family", "version", name="uq_model_versions_family_version"),
    )
    op.create_index("ix_model_versions_family", "model_versions", ["family"])
    op.create_index("ix_model_versions_status", "model_versions", ["status"])

    op.create_table(
        "predictions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("model_name", sa.String(), nullable=False),
        sa.Column("model_version", sa.String(), nullable=False),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("interval", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.Column("origin_ts", TS, nullable=False),
        sa.Column("target_ts", TS, nullable=True),
        sa.Column("inputs_hash", sa.String(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("lower", sa.Float(), nullable=True),
        sa.Column("upper", sa.Float(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("output", sa.JSON(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("model_name", "model_version", "symbol", "interval", "kind",
                            "horizon", "origin_ts", name="uq_predictions_key"),
    )
    op.create_index("ix_predictions_model_name", "predictions", ["model_name"])
    op.create_index("ix_predictions_symbol", "predictions", ["symbol"])
    op.create_index("ix_predictions_origin_ts", "predictions", ["origin_ts"])

    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("prediction_id", sa.Integer(),
                  sa.ForeignKey("predictions.id", ondelete="CASCADE"), nullable=False,
                  unique=True),
        sa.Column("realized", sa.Float(), nullable=False),
        sa.Column("realized_ts", TS, nullable=False),
        sa.Column("error", sa.Float(), nullable=False),
        sa.Column("hit", sa.Boolean(), nullable=True),
        sa.Column("covered", sa.Boolean(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )

    op.create_table(
        "metric_snapshots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ts", TS, nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("model_name", sa.String(), nullable=True),
        sa.Column("model_version", sa.String(), nullable=True),
        sa.Column("horizon", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_metric_snapshots_ts", "metric_snapshots", ["ts"])
    op.create_index("ix_metric_snapshots_name", "metric_snapshots", ["name"])
    op.create_index("ix_metric_snapshots_model_name", "metric_snapshots", ["model_name"])

    op.create_table(
        "training_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("family", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("who", sa.String(), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("version", sa.String(), nullable=True),
    )
    op.create_index("ix_training_runs_family", "training_runs", ["family"])

    op.create_table(
        "ab_tests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False, unique=True),
        sa.Column("family", sa.String(), nullable=False),
        sa.Column("champion_version", sa.String(), nullable=False),
        sa.Column("challenger_version", sa.String(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("salt", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("stopped_at", TS, nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
    )
    op.create_index("ix_ab_tests_family", "ab_tests", ["family"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ts", TS, nullable=False),
        sa.Column("who", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_log_ts", "audit_log", ["ts"])

    op.create_table(
        "locks",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("holder", sa.String(), nullable=False),
        sa.Column("detail", sa.String(), nullable=False),
        sa.Column("acquired_at", TS, nullable=False),
    )

    op.create_table(
        "replay_cursors",
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("cursor_ts", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("replay_cursors", "locks", "audit_log", "ab_tests", "training_runs",
                  "metric_snapshots", "outcomes", "predictions", "model_versions"):
        op.drop_table(table)
