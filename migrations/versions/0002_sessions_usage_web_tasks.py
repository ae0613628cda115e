"""sessions usage web tasks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 03:35:32.206046
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import byok.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("binding", sa.JSON(), nullable=False),
        sa.Column("session_config", sa.JSON(), nullable=True),
        sa.Column("browser_config", sa.JSON(), nullable=True),
        sa.Column("created_at", byok.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", byok.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_sessions_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sessions_project_id"), ["project_id"], unique=False)

    op.create_table(
        "usage_events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("at", byok.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("key_slug", sa.String(length=64), nullable=True),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=True),
        sa.Column("workflow_id", sa.String(length=40), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_usage_events_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_events")),
    )
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        batch_op.create_index("ix_usage_events_project_at", ["project_id", "at"], unique=False)

    op.create_table(
        "web_tasks",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=True),
        sa.Column("binding", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_details", sa.JSON(), nullable=True),
        sa.Column("created_at", byok.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", byok.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", byok.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_web_tasks_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_tasks")),
    )
    with op.batch_alter_table("web_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_tasks_project_id"), ["project_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("web_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_tasks_project_id"))

    op.drop_table("web_tasks")
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_events_project_at")

    op.drop_table("usage_events")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessions_project_id"))

    op.drop_table("sessions")
