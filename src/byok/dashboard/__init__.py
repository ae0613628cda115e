"""The dashboard: Project settings → BYOK, a static page served by the service itself."""

from byok.dashboard.routes import mount_dashboard

__all__ = ["mount_dashboard"]
