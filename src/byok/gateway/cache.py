"""In-memory caches of the hot path: opened credentials and session bindings.

A warm call does no database read and no decrypt. Entries live a short time and are dropped
at once when their key is replaced or deleted: in this process directly, and in the other
processes of a PostgreSQL deployment through ``LISTEN/NOTIFY`` (the notification is sent in
the same transaction as the change, so it is delivered exactly when the change commits).

A per-entry generation counter closes the race where a reader loads the old row just before
a change commits and stores it just after the eviction: its store is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from byok.providers.base import Credential
from byok.resolution import Binding

log = logging.getLogger("byok.cache")
CHANNEL = "byok_invalidate"

V = TypeVar("V")


class TTLCache(Generic[V]):
    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._generations: dict[Hashable, int] = {}

    def generation(self, key: Hashable) -> int:
        return self._generations.get(key, 0)

    def get(self, key: Hashable) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: Hashable, value: V, *, generation: int) -> None:
        """Store ``value`` unless ``key`` was evicted since ``generation`` was read."""
        if self._generations.get(key, 0) != generation:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.pop(next(iter(self._entries)))
        self._entries[key] = (time.monotonic() + self.ttl, value)

    def evict(self, key: Hashable) -> None:
        self._generations[key] = self._generations.get(key, 0) + 1
        self._entries.pop(key, None)

    def evict_where(self, predicate: Any) -> None:
        for key in [k for k in self._entries if predicate(k)]:
            self.evict(key)

    def clear(self) -> None:
        for key in list(self._entries):
            self.evict(key)


@dataclass(frozen=True)
class OpenedKey:
    key_id: str
    credential: Credential


@dataclass(frozen=True)
class SessionEntry:
    project_id: str
    binding: Binding
    running: bool


class HotCaches:
    """The gateway's caches, plus the cross-process invalidation channel."""

    def __init__(self, *, key_ttl: float = 60.0, session_ttl: float = 60.0) -> None:
        self.keys: TTLCache[OpenedKey] = TTLCache(key_ttl)
        self.sessions: TTLCache[SessionEntry] = TTLCache(session_ttl)
        self.workflows: TTLCache[SessionEntry] = TTLCache(session_ttl)
        self._listener: Any = None
        self._task: asyncio.Task[None] | None = None

    # -- invalidation -------------------------------------------------------------------

    def apply(self, message: str) -> None:
        kind, _, rest = message.partition(":")
        if kind == "key":
            project_id, _, slug = rest.partition(":")
            self.keys.evict((project_id, slug))
        elif kind == "project":
            self.keys.evict_where(lambda k: k[0] == rest)
            self.sessions.clear()
            self.workflows.clear()
        elif kind == "session":
            self.sessions.evict(rest)

    async def announce(self, db: AsyncSession, message: str) -> None:
        """Evict here now, and tell the other processes when ``db``'s transaction commits."""
        self.apply(message)
        if db.get_bind().dialect.name == "postgresql":
            await db.execute(
                text("SELECT pg_notify(:channel, :message)"), {"channel": CHANNEL, "message": message}
            )

    async def start(self, engine: AsyncEngine) -> None:
        if engine.dialect.name != "postgresql":
            return  # the embedded SQLite default serves from one process
        self._task = asyncio.create_task(self._listen(engine), name="byok-cache-listener")

    async def _listen(self, engine: AsyncEngine) -> None:
        import asyncpg

        url = engine.url.set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        while True:
            try:
                self._listener = await asyncpg.connect(dsn)
                await self._listener.add_listener(CHANNEL, lambda *args: self.apply(str(args[3])))
                # Anything may have changed while we were not listening.
                self.keys.clear()
                self.sessions.clear()
                self.workflows.clear()
                lost = asyncio.Event()
                self._listener.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await lost.wait()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "cache invalidation listener lost its connection (%s); retrying", type(exc).__name__
                )
                self.keys.clear()
                self.sessions.clear()
                await asyncio.sleep(1)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()
