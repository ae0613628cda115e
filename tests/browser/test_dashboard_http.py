"""How the dashboard is served: the routes, the headers (a strict CSP), and the static files'
own discipline (no inline script or style, nothing from another origin). No browser needed.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from byok.app import create_app
from byok.dashboard import mount_dashboard
from byok.dashboard.routes import STATIC_DIR
from byok.runtime import Runtime


@pytest.fixture(scope="module")
async def web(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime=runtime)
    mount_dashboard(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://byok.test") as c:
        yield c


def csp_directives(header: str) -> dict[str, str]:
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/dashboard", "/dashboard/"])
async def test_the_page_is_served_with_a_strict_csp(web: httpx.AsyncClient, path: str) -> None:
    reply = await web.get(path)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/html")
    assert "<title>Project settings · BYOK</title>" in reply.text
    csp = csp_directives(reply.headers["content-security-policy"])
    assert csp["default-src"] == "default-src 'self'"
    assert csp["script-src"] == "script-src 'self'"
    assert csp["style-src"] == "style-src 'self'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["object-src"] == "object-src 'none'"
    assert "unsafe-inline" not in reply.headers["content-security-policy"]
    assert reply.headers["x-frame-options"] == "DENY"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["referrer-policy"] == "no-referrer"
    assert reply.headers["cache-control"] == "no-store"
    assert "x-request-id" in reply.headers


async def test_the_root_redirects_to_the_dashboard(web: httpx.AsyncClient) -> None:
    reply = await web.get("/")
    assert reply.status_code == 307
    assert reply.headers["location"] == "/dashboard/"


@pytest.mark.parametrize(
    ("name", "media_type"),
    [("app.js", "text/javascript"), ("style.css", "text/css"), ("favicon.svg", "image/svg+xml")],
)
async def test_static_assets(web: httpx.AsyncClient, name: str, media_type: str) -> None:
    reply = await web.get(f"/dashboard/static/{name}")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith(media_type)
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in reply.headers["content-security-policy"]


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/static/missing.js",
        "/dashboard/static/index.html",
        "/dashboard/static/..%2Froutes.py",
        "/dashboard/static/%2E%2E%2F__init__.py",
    ],
)
async def test_only_the_known_assets_are_served(web: httpx.AsyncClient, path: str) -> None:
    reply = await web.get(path)
    assert reply.status_code == 404
    assert reply.json()["error"]["type"] == "not_found"


async def test_the_routes_are_not_in_the_api_schema(web: httpx.AsyncClient) -> None:
    paths = (await web.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if p == "/" or p.startswith("/dashboard")]


def test_the_page_has_no_inline_script_style_or_foreign_origin() -> None:
    html = (STATIC_DIR / "index.html").read_text()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all(re.search(r'\bsrc="/dashboard/static/[\w.-]+"', s) for s in scripts)
    assert not re.search(r"<script\b[^>]*>(?!</script>)", html), "inline script"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert not re.search(r"\sstyle\s*=", html) and "<style" not in html, "inline style"
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html), "a resource from another origin"


def test_the_script_builds_the_dom_without_html_strings() -> None:
    js = (STATIC_DIR / "app.js").read_text()
    for banned in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "localStorage"):
        assert banned not in js, banned
    assert not re.search(r"""fetch\(\s*["'`]https?:""", js), "the page calls its own origin only"
