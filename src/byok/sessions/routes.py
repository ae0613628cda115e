from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from byok.auth import Principal, require_any_project
from byok.runtime import DbDep, RuntimeDep
from byok.sessions import service
from byok.sessions.schemas import SessionCreateIn, session_view

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])
ProjectCaller = Annotated[Principal, Depends(require_any_project)]


def _project(principal: Principal) -> str:
    assert principal.project_id is not None
    return principal.project_id


@router.post("")
async def create_session(
    body: SessionCreateIn, principal: ProjectCaller, runtime: RuntimeDep, db: DbDep
) -> dict[str, Any]:
    row = await service.create_session(runtime, db, _project(principal), body)
    return {"data": {"id": row.id, **service.connect_urls(runtime, row.id), "model": row.binding}}


@router.get("")
async def list_sessions(principal: ProjectCaller, db: DbDep) -> dict[str, Any]:
    return {"data": [session_view(row) for row in await service.list_sessions(db, _project(principal))]}


@router.get("/{session_id}")
async def get_session(session_id: str, principal: ProjectCaller, db: DbDep) -> dict[str, Any]:
    return {"data": session_view(await service.get_session(db, _project(principal), session_id))}


@router.delete("/{session_id}")
async def end_session(
    session_id: str, principal: ProjectCaller, runtime: RuntimeDep, db: DbDep
) -> dict[str, Any]:
    await service.end_session(runtime, db, _project(principal), session_id)
    return {"data": {"status": "ended"}}
