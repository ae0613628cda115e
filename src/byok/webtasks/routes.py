from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from byok.auth import Principal, require_any_project
from byok.runtime import DbDep, RuntimeDep
from byok.webtasks import service
from byok.webtasks.schemas import PerformWebTaskIn, status_view

router = APIRouter(prefix="/v1/tools/perform-web-task", tags=["web tasks"])
ProjectCaller = Annotated[Principal, Depends(require_any_project)]


@router.post("")
async def perform_web_task(
    body: PerformWebTaskIn,
    principal: ProjectCaller,
    runtime: RuntimeDep,
    db: DbDep,
    session_id: Annotated[str | None, Query(alias="sessionId")] = None,
) -> dict[str, Any]:
    assert principal.project_id is not None
    return {"data": await service.perform(runtime, db, principal.project_id, session_id, body)}


@router.get("/{workflow_id}/status")
async def perform_web_task_status(workflow_id: str, principal: ProjectCaller, db: DbDep) -> dict[str, Any]:
    assert principal.project_id is not None
    return {"data": status_view(await service.run_status(db, principal.project_id, workflow_id))}
