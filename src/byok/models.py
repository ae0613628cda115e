"""Every table's model, imported in one place so the metadata (and Alembic) sees them all."""

from byok.audit.models import AuditEvent
from byok.db import Base
from byok.keys.models import ProviderKey
from byok.projects.models import Project, ProjectApiKey

__all__ = ["AuditEvent", "Base", "Project", "ProjectApiKey", "ProviderKey"]
