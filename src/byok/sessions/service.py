"""Sessions: each stores the binding it was created with; every later action in it uses it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from byok.db import new_id, utcnow
from byok.errors import not_found
from byok.resolution import Binding, resolve
from byok.runtime import Runtime
from byok.sessions.models import BrowserSession
from byok.sessions.schemas import SessionCreateIn


async def create_session(
    runtime: Runtime,
    db: AsyncSession,
    project_id: str,
    body: SessionCreateIn,
    *,
    binding: Binding | None = None,
) -> BrowserSession:
    if binding is None:
        binding = await resolve(
            db,
            runtime.settings,
            project_id=project_id,
            key_slug=body.key_slug,
            provider=body.provider,
            model=body.model,
            agent=body.agent,
            surface="session",
        )
    row = BrowserSession(
        id=new_id("ses"),
        project_id=project_id,
        status="running",
        binding=binding.as_dict(),
        session_config=body.session,
        browser_config=body.browser,
        created_at=utcnow(),
    )
    db.add(row)
    await db.commit()
    return row


async def get_session(db: AsyncSession, project_id: str, session_id: str) -> BrowserSession:
    row = await db.get(BrowserSession, session_id)
    if row is None or row.project_id != project_id:
        raise not_found("session")
    return row


async def list_sessions(db: AsyncSession, project_id: str) -> list[BrowserSession]:
    query = select(BrowserSession).where(BrowserSession.project_id == project_id)
    return list(
        (await db.execute(query.order_by(BrowserSession.created_at.desc(), BrowserSession.id))).scalars()
    )


async def end_session(runtime: Runtime, db: AsyncSession, project_id: str, session_id: str) -> None:
    row = await get_session(db, project_id, session_id)
    if row.status != "ended":
        await db.execute(
            update(BrowserSession)
            .where(BrowserSession.id == row.id)
            .values(status="ended", ended_at=utcnow())
        )
        await runtime.caches.announce(db, f"session:{row.id}")
        await db.commit()
        runtime.caches.apply(f"session:{row.id}")


def connect_urls(runtime: Runtime, session_id: str) -> dict[str, Any]:
    """Where a browser for this session would be reached; none without a browser runtime."""
    base = runtime.settings.browser_connect_url
    live = runtime.settings.browser_live_view_url
    return {
        "cdp_url": f"{base.rstrip('/')}?sessionId={session_id}" if base else None,
        "live_view_url": f"{live.rstrip('/')}?sessionId={session_id}" if live else None,
    }
