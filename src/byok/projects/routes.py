from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from byok.auth import OperatorDep, ProjectDep
from byok.keys.schemas import key_view
from byok.projects import service
from byok.projects.schemas import ApiKeyCreateIn, ProjectCreateIn, api_key_view, project_view
from byok.runtime import DbDep, RuntimeDep

router = APIRouter(prefix="/v1/projects", tags=["projects"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_project(
    body: ProjectCreateIn, principal: OperatorDep, runtime: RuntimeDep, db: DbDep
) -> dict[str, Any]:
    project, api_key, keys = await service.create_project(runtime, db, principal, body)
    return {"data": {**project_view(project), "api_key": api_key, "keys": [key_view(k) for k in keys]}}


@router.get("")
async def list_projects(_: OperatorDep, db: DbDep) -> dict[str, Any]:
    return {"data": [project_view(p) for p in await service.list_projects(db)]}


@router.get("/{project_id}")
async def get_project(project_id: str, _: ProjectDep, db: DbDep) -> dict[str, Any]:
    return {"data": project_view(await service.get_project(db, project_id))}


@router.delete("/{project_id}")
async def delete_project(project_id: str, _: OperatorDep, runtime: RuntimeDep, db: DbDep) -> dict[str, Any]:
    await service.delete_project(runtime, db, project_id)
    return {"data": {"status": "deleted"}}


@router.get("/{project_id}/api-keys")
async def list_api_keys(project_id: str, _: ProjectDep, db: DbDep) -> dict[str, Any]:
    return {"data": [api_key_view(k) for k in await service.list_api_keys(db, project_id)]}


@router.post("/{project_id}/api-keys", status_code=status.HTTP_201_CREATED)
async def create_api_key(
    project_id: str, principal: ProjectDep, db: DbDep, body: ApiKeyCreateIn | None = None
) -> dict[str, Any]:
    row, api_key = await service.create_api_key(db, principal, project_id, body.label if body else None)
    return {"data": {**api_key_view(row), "api_key": api_key}}


@router.delete("/{project_id}/api-keys/{api_key_id}")
async def delete_api_key(
    project_id: str, api_key_id: str, principal: ProjectDep, db: DbDep
) -> dict[str, Any]:
    await service.delete_api_key(db, principal, project_id, api_key_id)
    return {"data": {"status": "deleted"}}
