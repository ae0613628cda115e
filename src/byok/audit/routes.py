from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from byok.audit.service import list_events
from byok.auth import ProjectDep
from byok.runtime import DbDep

router = APIRouter(tags=["audit"])


@router.get("/v1/projects/{project_id}/audit")
async def get_audit(
    project_id: str,
    _: ProjectDep,
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    events, next_cursor = await list_events(db, project_id, limit=limit, cursor=cursor)
    return {"data": events, "next_cursor": next_cursor}
