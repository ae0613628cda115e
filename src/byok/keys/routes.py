from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from byok.auth import ProjectDep
from byok.keys import service
from byok.keys.schemas import KeyConfigIn, KeyCreateIn, KeySlug, key_view
from byok.runtime import DbDep, RuntimeDep

router = APIRouter(prefix="/v1/projects/{project_id}/keys", tags=["keys"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_key(
    project_id: str, body: KeyCreateIn, principal: ProjectDep, runtime: RuntimeDep, db: DbDep
) -> dict[str, Any]:
    row = await service.create_key(runtime, db, principal, project_id, body)
    return {"data": key_view(row)}


@router.get("")
async def list_keys(project_id: str, _: ProjectDep, db: DbDep) -> dict[str, Any]:
    return {"data": [key_view(row) for row in await service.list_keys(db, project_id)]}


@router.get("/{key_slug}")
async def get_key(project_id: str, key_slug: KeySlug, _: ProjectDep, db: DbDep) -> dict[str, Any]:
    return {"data": key_view(await service.get_key_row(db, project_id, key_slug))}


@router.put("/{key_slug}")
async def replace_key(
    project_id: str,
    key_slug: KeySlug,
    body: KeyConfigIn,
    principal: ProjectDep,
    runtime: RuntimeDep,
    db: DbDep,
) -> dict[str, Any]:
    row = await service.replace_key(runtime, db, principal, project_id, key_slug, body)
    return {"data": key_view(row)}


@router.delete("/{key_slug}")
async def delete_key(
    project_id: str, key_slug: KeySlug, principal: ProjectDep, runtime: RuntimeDep, db: DbDep
) -> dict[str, Any]:
    await service.delete_key(runtime, db, principal, project_id, key_slug)
    return {"data": {"status": "deleted"}}


@router.post("/{key_slug}/verify")
async def verify_key(
    project_id: str, key_slug: KeySlug, principal: ProjectDep, runtime: RuntimeDep, db: DbDep
) -> dict[str, Any]:
    row = await service.reverify_key(runtime, db, principal, project_id, key_slug)
    return {"data": key_view(row)}
