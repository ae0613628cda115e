"""The dashboard in a real Chromium: the service on loopback (with the fake providers behind it)
and Playwright's async API (the suite runs inside pytest-asyncio's session loop, where the sync
API cannot run).

Chromium is Debian's ``/usr/bin/chromium``. Without it the browser tests skip locally; with
``CI`` set they never skip (a missing browser is then a failure).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from byok.app import create_app
from byok.dashboard import mount_dashboard
from byok.runtime import Runtime
from byok.settings import Settings
from tests.browser.support import CHROMIUM_ARGS, LiveService, require_chromium
from tests.fakes import FakeProviders, RunningServer, serve


class _LoopProbe:
    """Remembers the server thread's event loop, so its runtime can be closed on that loop."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.loop = asyncio.get_running_loop()
        await self.app(scope, receive, send)


@pytest.fixture(scope="session")
def live_service(settings: Settings, fake_providers: FakeProviders) -> Iterator[LiveService]:
    """The real service (create_app + mount_dashboard) on 127.0.0.1, in its own thread and loop.

    It gets its own Runtime built from the test settings (same database, vault keys and fakes):
    the session ``runtime`` fixture's database pool and HTTP clients belong to the test loop and
    cannot be used from the server thread's loop.
    """
    runtime = Runtime.build(settings)
    app = create_app(runtime=runtime)
    mount_dashboard(app)
    probe = _LoopProbe(app)
    server: RunningServer = serve(probe)
    try:
        yield LiveService(server.url, fake_providers)
    finally:
        if probe.loop is not None and probe.loop.is_running():
            asyncio.run_coroutine_threadsafe(runtime.aclose(), probe.loop).result(timeout=10)
        server.stop()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    executable = require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()
