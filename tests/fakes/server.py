"""Serve the fakes on loopback: uvicorn on 127.0.0.1:0 in a background thread with its own loop."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from starlette.types import ASGIApp

from .anthropic import AnthropicFake
from .azure import AzureFake
from .base import FakeProvider
from .custom import CustomFake
from .google import GoogleFake
from .openai import OpenAIFake
from .vertex import VertexFake


@dataclass
class RunningServer:
    server: uvicorn.Server
    thread: threading.Thread
    port: int
    url: str = field(init=False)

    def __post_init__(self) -> None:
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(timeout)


def serve(app: ASGIApp, ready_timeout: float = 10.0, lifespan: str = "off") -> RunningServer:
    """Start ``app`` on 127.0.0.1 with an OS-chosen port and return once it accepts connections.

    ``lifespan="on"`` runs the app's start-up and shutdown (the byok service itself needs it).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan=lifespan,  # type: ignore[arg-type]
        access_log=False,
        loop="asyncio",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.serve(sockets=[sock]))
        finally:
            loop.close()
            sock.close()

    thread = threading.Thread(target=run, name=f"fake-provider-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + ready_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"fake provider server on port {port} did not start")
        time.sleep(0.01)
    return RunningServer(server, thread, port)


class FakeProviders:
    """All six fakes, each on its own loopback port."""

    def __init__(self) -> None:
        self.openai = OpenAIFake()
        self.anthropic = AnthropicFake()
        self.google = GoogleFake()
        self.vertex = VertexFake()
        self.azure = AzureFake()
        self.custom = CustomFake()
        self._servers: dict[str, RunningServer] = {}

    @property
    def all(self) -> dict[str, FakeProvider]:
        return {
            "openai": self.openai,
            "anthropic": self.anthropic,
            "google": self.google,
            "vertex": self.vertex,
            "azure": self.azure,
            "custom": self.custom,
        }

    def start(self) -> FakeProviders:
        for name, fake in self.all.items():
            if name not in self._servers:
                self._servers[name] = serve(fake.app)
        return self

    def stop(self) -> None:
        for server in self._servers.values():
            server.stop()
        self._servers.clear()

    def reset(self) -> None:
        for fake in self.all.values():
            fake.reset()

    def url(self, name: str) -> str:
        """The bare ``http://127.0.0.1:PORT`` of one fake."""
        try:
            return self._servers[name].url
        except KeyError:
            raise RuntimeError("FakeProviders.start() has not been called") from None

    @property
    def violations(self) -> list[str]:
        """Every fake's violations (secrets in URLs and the like); a test should expect none."""
        return [v for fake in self.all.values() for v in fake.violations]

    @property
    def azure_base_url(self) -> str:
        return self.url("azure")

    @property
    def custom_base_url(self) -> str:
        return f"{self.url('custom')}/v1"

    def env(self) -> dict[str, str]:
        """The service's settings pointing every provider at its fake."""
        return {
            "BYOK_OPENAI_BASE_URL": f"{self.url('openai')}/v1",
            "BYOK_ANTHROPIC_BASE_URL": self.url("anthropic"),
            "BYOK_GOOGLE_BASE_URL": self.url("google"),
            "BYOK_VERTEX_BASE_URL": self.url("vertex"),
            "BYOK_GOOGLE_TOKEN_URL": f"{self.url('vertex')}/token",
        }

    def __enter__(self) -> FakeProviders:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
