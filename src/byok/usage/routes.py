from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter

from byok.auth import ProjectDep
from byok.runtime import DbDep
from byok.usage.service import usage_summary

router = APIRouter(tags=["usage"])


@router.get("/v1/projects/{project_id}/usage")
async def get_usage(
    project_id: str,
    _: ProjectDep,
    db: DbDep,
    since: datetime | None = None,
    until: datetime | None = None,
    key_slug: str | None = None,
) -> dict[str, Any]:
    since, until = (_utc(v) for v in (since, until))
    return {"data": await usage_summary(db, project_id, since=since, until=until, key_slug=key_slug)}


def _utc(value: datetime | None) -> datetime | None:
    """Timestamps without a zone are taken as UTC, as everywhere in this API."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
