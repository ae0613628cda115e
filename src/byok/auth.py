"""Who is calling: the operator, a project (by one of its API keys), or the session service.

A project key used on another project's resources is answered ``404``, exactly as a project
that does not exist, so a caller cannot probe for other tenants.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import Depends, Request
from sqlalchemy import select, update

from byok.db import utcnow
from byok.errors import APIError, not_found
from byok.projects.models import Project, ProjectApiKey
from byok.runtime import DbDep, Runtime, RuntimeDep

API_KEY_PREFIX = "byok_"
# last_used_at is a hint for people, not an audit record: refresh it at most this often.
_LAST_USED_GRANULARITY = timedelta(seconds=60)


@dataclass(frozen=True)
class Principal:
    kind: Literal["operator", "project", "internal"]
    project_id: str | None = None
    api_key_id: str | None = None

    @property
    def actor(self) -> str:
        return f"api_key:{self.api_key_id}" if self.kind == "project" else self.kind


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def _presented_token(request: Request) -> str | None:
    if token := request.headers.get("anchor-api-key"):
        return token.strip()
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _unauthorized() -> APIError:
    return APIError(
        401, "unauthorized", "missing or invalid credentials", headers={"WWW-Authenticate": "Bearer"}
    )


async def authenticate(request: Request, runtime: RuntimeDep, db: DbDep) -> Principal:
    token = _presented_token(request)
    if not token:
        raise _unauthorized()
    if hmac.compare_digest(token.encode(), runtime.secrets.admin_token.encode()):
        return Principal("operator")
    if hmac.compare_digest(token.encode(), runtime.secrets.internal_token.encode()):
        return Principal("internal")
    row = (
        await db.execute(select(ProjectApiKey).where(ProjectApiKey.key_hash == hash_api_key(token)))
    ).scalar_one_or_none()
    if row is None:
        raise _unauthorized()
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > _LAST_USED_GRANULARITY:
        await db.execute(update(ProjectApiKey).where(ProjectApiKey.id == row.id).values(last_used_at=now))
        await db.commit()
    return Principal("project", project_id=row.project_id, api_key_id=row.id)


AuthDep = Annotated[Principal, Depends(authenticate)]


async def require_operator(principal: AuthDep) -> Principal:
    if principal.kind != "operator":
        raise APIError(403, "forbidden", "this route needs the operator token")
    return principal


def check_internal(request: Request, runtime: Runtime) -> Principal:
    """The session service's token only; checked without touching the database (hot path)."""
    token = _presented_token(request)
    if not token:
        raise _unauthorized()
    if hmac.compare_digest(token.encode(), runtime.secrets.internal_token.encode()):
        return Principal("internal")
    if hmac.compare_digest(token.encode(), runtime.secrets.admin_token.encode()):
        raise APIError(403, "forbidden", "this route is for the session service")
    raise _unauthorized()


async def require_internal(request: Request, runtime: RuntimeDep) -> Principal:
    return check_internal(request, runtime)


async def require_project(project_id: str, principal: AuthDep, db: DbDep) -> Principal:
    """The caller may act on ``project_id``: the operator on any, a project on its own."""
    if principal.kind == "project" and principal.project_id == project_id:
        return principal
    if principal.kind == "internal":
        raise APIError(403, "forbidden", "the session-service token may call the internal routes only")
    if principal.kind == "operator" and await db.get(Project, project_id) is not None:
        return principal
    raise not_found("project")


async def require_any_project(principal: AuthDep) -> Principal:
    """A route scoped to the caller's own project (sessions, web tasks)."""
    if principal.kind != "project":
        raise APIError(403, "forbidden", "this route needs a project API key")
    return principal


OperatorDep = Annotated[Principal, Depends(require_operator)]
InternalDep = Annotated[Principal, Depends(require_internal)]
ProjectDep = Annotated[Principal, Depends(require_project)]
