"""Reading the usage ledger: totals and rows per key and model over a time window."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from byok.usage.models import UsageEvent


async def usage_summary(
    db: AsyncSession,
    project_id: str,
    *,
    since: datetime | None,
    until: datetime | None,
    key_slug: str | None,
) -> dict[str, Any]:
    error = case((UsageEvent.outcome == "ok", 0), else_=1)
    columns = (
        func.count().label("requests"),
        func.coalesce(func.sum(error), 0).label("errors"),
        func.coalesce(func.sum(UsageEvent.input_tokens), 0).label("input_tokens"),
        func.coalesce(func.sum(UsageEvent.output_tokens), 0).label("output_tokens"),
    )
    filters = [UsageEvent.project_id == project_id]
    if since is not None:
        filters.append(UsageEvent.at >= since)
    if until is not None:
        filters.append(UsageEvent.at < until)
    if key_slug is not None:
        filters.append(UsageEvent.key_slug == key_slug)
    totals = (await db.execute(select(*columns).where(*filters))).one()
    groups = (
        await db.execute(
            select(UsageEvent.key_slug, UsageEvent.provider, UsageEvent.model, *columns)
            .where(*filters)
            .group_by(UsageEvent.key_slug, UsageEvent.provider, UsageEvent.model)
            .order_by(UsageEvent.key_slug, UsageEvent.provider, UsageEvent.model)
        )
    ).all()

    def counts(row: Any) -> dict[str, int]:
        return {
            name: int(getattr(row, name)) for name in ("requests", "errors", "input_tokens", "output_tokens")
        }

    return {
        "totals": counts(totals),
        "by_key": [
            {"key_slug": row.key_slug, "provider": row.provider, "model": row.model, **counts(row)}
            for row in groups
        ],
    }
