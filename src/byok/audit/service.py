"""Writing and reading the audit trail. Events are added to the caller's transaction, so an
event exists exactly when the change it records does."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from byok.audit.models import AuditEvent
from byok.db import isoformat
from byok.errors import APIError

Action = Literal[
    "project.created",
    "key.created",
    "key.replaced",
    "key.verified",
    "key.verification_failed",
    "key.deleted",
    "api_key.created",
    "api_key.deleted",
]


def record(
    db: AsyncSession,
    *,
    project_id: str,
    actor: str,
    action: Action,
    key_slug: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    db.add(
        AuditEvent(
            project_id=project_id, actor=actor, action=action, key_slug=key_slug, details=details or {}
        )
    )


def event_view(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": str(event.id),
        "at": isoformat(event.at),
        "actor": event.actor,
        "action": event.action,
        "key_slug": event.key_slug,
        "details": event.details,
    }


async def list_events(
    db: AsyncSession, project_id: str, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first; ``cursor`` is the id of the last event of the previous page."""
    query = select(AuditEvent).where(AuditEvent.project_id == project_id)
    if cursor is not None:
        try:
            before = int(cursor)
        except ValueError:
            raise APIError(
                422,
                "invalid_request",
                "cursor is not valid",
                [{"loc": ["query", "cursor"], "msg": "not a cursor from this API"}],
            ) from None
        query = query.where(AuditEvent.id < before)
    rows = (await db.execute(query.order_by(AuditEvent.id.desc()).limit(limit + 1))).scalars().all()
    page = list(rows[:limit])
    next_cursor = str(page[-1].id) if len(rows) > limit and page else None
    return [event_view(e) for e in page], next_cursor
