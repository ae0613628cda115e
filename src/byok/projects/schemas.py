from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from byok.db import isoformat
from byok.keys.schemas import KeyCreateIn
from byok.projects.models import Project, ProjectApiKey


class ProjectCreateIn(BaseModel):
    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    name: str = Field(min_length=1, max_length=200)
    model: KeyCreateIn | None = None


class ApiKeyCreateIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    label: str | None = Field(default=None, max_length=200)


def project_view(project: Project) -> dict[str, Any]:
    return {"id": project.id, "name": project.name, "created_at": isoformat(project.created_at)}


def api_key_view(row: ProjectApiKey) -> dict[str, Any]:
    return {
        "id": row.id,
        "label": row.label,
        "created_at": isoformat(row.created_at),
        "last_used_at": isoformat(row.last_used_at),
    }
