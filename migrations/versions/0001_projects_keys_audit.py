"""projects keys audit

Revision ID: 0001
Revises:
Create Date: 2026-11-27 03:23:30.212836
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import byok.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", byok.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    op.create_table(
        "audit_events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("at", byok.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("key_slug", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_audit_events_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_project_id"), ["project_id"], unique=False)

    op.create_table(
        "project_api_keys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", byok.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", byok.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_api_keys_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_project_api_keys_key_hash")),
    )
    with op.batch_alter_table("project_api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_api_keys_project_id"), ["project_id"], unique=False)

    op.create_table(
        "provider_keys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("key_slug", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("base_url", sa.String(length=2048), nullable=True),
        sa.Column("location", sa.String(length=64), nullable=True),
        sa.Column("api_version", sa.String(length=64), nullable=True),
        sa.Column("default_model", sa.String(length=200), nullable=True),
        sa.Column("account", sa.String(length=320), nullable=True),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_error_reason", sa.String(length=64), nullable=True),
        sa.Column("last_error_message", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("verified_at", byok.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", byok.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", byok.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", byok.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_provider_keys_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_keys")),
        sa.UniqueConstraint("project_id", "key_slug", name="uq_provider_keys_project_slug"),
    )
    with op.batch_alter_table("provider_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provider_keys_project_id"), ["project_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("provider_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_keys_project_id"))

    op.drop_table("provider_keys")
    with op.batch_alter_table("project_api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_api_keys_project_id"))

    op.drop_table("project_api_keys")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_project_id"))

    op.drop_table("audit_events")
    op.drop_table("projects")
