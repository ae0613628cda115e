"""Every table's model, imported in one place so the metadata (and Alembic) sees them all."""

from byok.audit.models import AuditEvent
from byok.db import Base
from byok.keys.models import ProviderKey
from byok.projects.models import Project, ProjectApiKey
from byok.sessions.models import BrowserSession
from byok.usage.models import UsageEvent
from byok.webtasks.models import WebTaskRun

__all__ = [
    "AuditEvent",
    "Base",
    "BrowserSession",
    "Project",
    "ProjectApiKey",
    "ProviderKey",
    "UsageEvent",
    "WebTaskRun",
]
