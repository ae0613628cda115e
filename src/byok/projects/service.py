"""Projects and their API keys. A project created with a ``model`` is created only if that
key verifies: the project, its first API key, the provider key and their audit events are one
transaction."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from byok.audit.service import record
from byok.auth import Principal, hash_api_key, new_api_key
from byok.db import new_id, utcnow
from byok.errors import conflict, not_found
from byok.keys.credentials import credential_from_input
from byok.keys.models import ProviderKey
from byok.keys.service import build_key_row, verification_failed, verify_credential
from byok.projects.models import Project, ProjectApiKey
from byok.projects.schemas import ProjectCreateIn
from byok.providers.base import ProviderError
from byok.runtime import Runtime


async def create_project(
    runtime: Runtime, db: AsyncSession, principal: Principal, body: ProjectCreateIn
) -> tuple[Project, str, list[ProviderKey]]:
    """Create a project; returns it, its API key in plain (shown once) and its keys."""
    project_id = new_id("prj")
    key_row: ProviderKey | None = None
    if body.model is not None:
        credential = credential_from_input(body.model)
        try:
            result = await verify_credential(runtime, credential)
        except ProviderError as exc:
            raise verification_failed(exc) from None
        key_row = build_key_row(
            runtime, project_id=project_id, slug=body.model.key_slug, credential=credential, result=result
        )
    now = utcnow()
    project = Project(id=project_id, name=body.name, created_at=now)
    api_key = new_api_key()
    db.add(project)
    await db.flush()  # the project row first: the others refer to it
    db.add(
        ProjectApiKey(
            id=new_id("pak"),
            project_id=project_id,
            label="default",
            key_hash=hash_api_key(api_key),
            created_at=now,
        )
    )
    record(
        db,
        project_id=project_id,
        actor=principal.actor,
        action="project.created",
        details={"name": body.name},
    )
    keys = []
    if key_row is not None:
        db.add(key_row)
        keys.append(key_row)
        record(
            db,
            project_id=project_id,
            actor=principal.actor,
            action="key.created",
            key_slug=key_row.key_slug,
            details={"provider": key_row.provider, "fingerprint": key_row.fingerprint},
        )
    await db.commit()
    return project, api_key, keys


async def get_project(db: AsyncSession, project_id: str) -> Project:
    project = await db.get(Project, project_id)
    if project is None:
        raise not_found("project")
    return project


async def list_projects(db: AsyncSession) -> list[Project]:
    return list((await db.execute(select(Project).order_by(Project.created_at, Project.id))).scalars())


async def delete_project(runtime: Runtime, db: AsyncSession, project_id: str) -> None:
    project = await get_project(db, project_id)
    await db.delete(project)
    await runtime.caches.announce(db, f"project:{project_id}")
    await db.commit()
    runtime.caches.apply(f"project:{project_id}")


async def list_api_keys(db: AsyncSession, project_id: str) -> list[ProjectApiKey]:
    query = select(ProjectApiKey).where(ProjectApiKey.project_id == project_id)
    return list((await db.execute(query.order_by(ProjectApiKey.created_at, ProjectApiKey.id))).scalars())


async def create_api_key(
    db: AsyncSession, principal: Principal, project_id: str, label: str | None
) -> tuple[ProjectApiKey, str]:
    api_key = new_api_key()
    row = ProjectApiKey(
        id=new_id("pak"),
        project_id=project_id,
        label=label,
        key_hash=hash_api_key(api_key),
        created_at=utcnow(),
    )
    db.add(row)
    record(
        db,
        project_id=project_id,
        actor=principal.actor,
        action="api_key.created",
        details={"api_key_id": row.id},
    )
    await db.commit()
    return row, api_key


async def delete_api_key(db: AsyncSession, principal: Principal, project_id: str, api_key_id: str) -> None:
    # Lock the project's key rows so two concurrent deletes cannot remove the last two keys.
    rows = (
        (
            await db.execute(
                select(ProjectApiKey.id).where(ProjectApiKey.project_id == project_id).with_for_update()
            )
        )
        .scalars()
        .all()
    )
    if api_key_id not in rows:
        raise not_found("API key")
    if len(rows) <= 1:
        raise conflict("a project keeps at least one API key; create another before deleting this one")
    await db.execute(delete(ProjectApiKey).where(ProjectApiKey.id == api_key_id))
    record(
        db,
        project_id=project_id,
        actor=principal.actor,
        action="api_key.deleted",
        details={"api_key_id": api_key_id},
    )
    await db.commit()
