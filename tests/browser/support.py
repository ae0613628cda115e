"""Helpers for the browser tests: where Chromium is, the live service handle, and the leak checks."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.fakes import FakeProviders

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Where the dashboard keeps its session (project id and project API key) in sessionStorage.
SESSION_KEY = "byok.dashboard.session"


def chromium_path() -> str | None:
    """Debian's chromium: /usr/bin/chromium, or whatever ``chromium`` is on PATH."""
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def require_chromium() -> str:
    """The browser to launch; skips without one locally, fails without one in CI."""
    path = chromium_path()
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail("Chromium is required in CI but is not installed (apt-get install chromium)")
    pytest.skip("Chromium is not installed (apt-get install chromium); the browser tests run in CI")


@dataclass
class LiveService:
    url: str
    fakes: FakeProviders

    async def new_project(self, name: str = "acme") -> tuple[str, str]:
        async with httpx.AsyncClient(base_url=self.url) as client:
            reply = await client.post(
                "/v1/projects", json={"name": name}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
            )
        assert reply.status_code == 201, reply.text
        data = reply.json()["data"]
        return data["id"], data["api_key"]

    async def call(self, method: str, path: str, api_key: str, body: Any = None) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.url) as client:
            return await client.request(method, path, json=body, headers={"anchor-api-key": api_key})


@dataclass
class PageRecord:
    """Everything the page received and complained about, for the leak and CSP checks."""

    bodies: list[tuple[str, bytes]] = field(default_factory=list)
    pending: list[asyncio.Future[Any]] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        async def grab(response: Any) -> None:
            try:
                self.bodies.append((response.url, await response.body()))
            except Exception:  # redirects and aborted loads have no body
                pass

        page.on("response", lambda response: self.pending.append(asyncio.ensure_future(grab(response))))
        page.on(
            "console",
            lambda message: self.console_errors.append(message.text) if message.type == "error" else None,
        )
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    async def settle(self) -> None:
        while self.pending:
            batch, self.pending = self.pending, []
            await asyncio.gather(*batch, return_exceptions=True)


def secret_needles(secret: str) -> list[str]:
    """Strings that would give a secret away: the key itself, or each line of a PEM private key."""
    if "PRIVATE KEY" not in secret:
        return [secret]
    lines = [line for line in secret.splitlines() if line and "-----" not in line]
    return [line for line in lines if len(line) >= 40]


async def assert_no_secret_in_page(
    page: Any, record: PageRecord, secrets: list[str], project_key: str
) -> None:
    """No secret in the DOM (markup and live input values), in web storage, or in any response."""
    await record.settle()
    needles = [needle for secret in secrets for needle in secret_needles(secret)]
    assert needles, "no secrets to look for"
    content = await page.content()
    values = await page.evaluate(
        "() => [...document.querySelectorAll('input, textarea, select')].map((el) => el.value)"
    )
    storage = await page.evaluate("() => ({session: {...sessionStorage}, local: {...localStorage}})")
    # Web storage holds the project API key and nothing else.
    assert storage["local"] == {}
    assert set(storage["session"]) <= {SESSION_KEY}
    if storage["session"]:
        saved = json.loads(storage["session"][SESSION_KEY])
        assert set(saved) == {"projectId", "apiKey"} and saved["apiKey"] == project_key
    storage_text = json.dumps(storage)
    for needle in needles:
        assert needle not in content, "a secret is in the page's DOM"
        assert not any(needle in value for value in values), "a secret is left in a form field"
        assert needle not in storage_text, "a secret is in web storage"
        for url, body in record.bodies:
            assert needle.encode() not in body, f"a secret came back in the response of {url}"
