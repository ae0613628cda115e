"""Serve the dashboard: one static page, its script and stylesheet, under a strict CSP.

The page calls only the public REST API (same origin, ``anchor-api-key``); the service holds no
dashboard-specific endpoint. ``mount_dashboard(app)`` adds ``/dashboard``, ``/dashboard/``,
``/dashboard/static/<file>`` and a redirect from ``/`` to the page.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse, Response

from byok.errors import not_found

STATIC_DIR = Path(__file__).parent / "static"
PAGE = STATIC_DIR / "index.html"

#: No inline script or style, nothing from another origin, never framed.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


def security_headers(*, cache: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
        "Cache-Control": cache,
    }


def _assets() -> dict[str, Path]:
    """The files the page may load, by name: a fixed list read once, never a path from the URL."""
    return {
        path.name: path
        for path in sorted(STATIC_DIR.iterdir())
        if path.is_file() and path.suffix in _MEDIA_TYPES and path != PAGE
    }


def mount_dashboard(app: FastAPI) -> None:
    """Serve the dashboard at ``/dashboard`` and send ``/`` there."""
    assets = _assets()

    async def page() -> Response:
        # no-store: the page is tiny, and a stale script against a newer API helps nobody.
        return FileResponse(
            PAGE, media_type=_MEDIA_TYPES[".html"], headers=security_headers(cache="no-store")
        )

    async def asset(name: str) -> Response:
        path = assets.get(name)
        if path is None:
            raise not_found("file")
        return FileResponse(
            path, media_type=_MEDIA_TYPES[path.suffix], headers=security_headers(cache="no-cache")
        )

    async def root() -> Response:
        return RedirectResponse("/dashboard/", status_code=307)

    app.add_api_route("/dashboard", page, methods=["GET", "HEAD"], include_in_schema=False)
    app.add_api_route("/dashboard/", page, methods=["GET", "HEAD"], include_in_schema=False)
    app.add_api_route("/dashboard/static/{name}", asset, methods=["GET", "HEAD"], include_in_schema=False)
    app.add_api_route("/", root, methods=["GET", "HEAD"], include_in_schema=False)
