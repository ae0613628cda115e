"""The usage ledger's writer: calls are recorded off the request's critical path.

``record`` only appends to an in-memory queue; a background task writes batches (and keeps
each key's ``last_used_at`` current). ``stop`` drains the queue, so a clean shutdown loses
nothing.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from byok.db import utcnow
from byok.keys.models import ProviderKey
from byok.usage.models import UsageEvent

log = logging.getLogger("byok.usage")


@dataclass
class UsageRecord:
    project_id: str
    source: str
    key_slug: str | None
    provider: str
    model: str
    outcome: str
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: int = 0
    session_id: str | None = None
    workflow_id: str | None = None
    at: datetime = field(default_factory=utcnow)


class UsageLedger:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, batch_size: int = 500, interval_s: float = 0.25
    ) -> None:
        self._sessions = sessions
        self._batch_size = batch_size
        # Rows wait this long to share a transaction: one commit per interval, not per call.
        self._interval_s = interval_s
        self._queue: asyncio.Queue[UsageRecord] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._pending = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closing = False

    def record(self, entry: UsageRecord) -> None:
        self._queue.put_nowait(entry)
        self._idle.clear()
        self._pending.set()

    def start(self) -> None:
        if self._task is None:
            self._closing = False
            self._task = asyncio.create_task(self._run(), name="byok-usage-ledger")

    async def flush(self) -> None:
        """Wait until everything recorded so far is written (tests, shutdown)."""
        if self._task is None:
            await self._write_all()
            return
        await self._idle.wait()

    async def stop(self) -> None:
        """Write what is queued, then stop: a clean shutdown loses no row."""
        if self._task is not None:
            self._closing = True
            self._pending.set()
            await self._task
            self._task = None
        await self._write_all()

    def _drain(self) -> list[UsageRecord]:
        batch: list[UsageRecord] = []
        while not self._queue.empty() and len(batch) < self._batch_size:
            batch.append(self._queue.get_nowait())
        return batch

    async def _write_all(self) -> None:
        while not self._queue.empty():
            batch = self._drain()
            try:
                await self._write(batch)
            except Exception as exc:
                # The ledger must not take the gateway down; the rows are logged as lost.
                log.error("could not write %d usage rows: %s", len(batch), type(exc).__name__)

    async def _run(self) -> None:
        while not self._closing:
            await self._pending.wait()
            if not self._closing and self._queue.qsize() < self._batch_size:
                await asyncio.sleep(self._interval_s)
            await self._write_all()
            # No await between the last emptiness check and here: nothing can slip in unseen.
            self._pending.clear()
            self._idle.set()

    async def _write(self, batch: list[UsageRecord]) -> None:
        if not batch:
            return
        last_used: dict[tuple[str, str], datetime] = {}
        for entry in batch:
            if entry.key_slug is not None and entry.outcome == "ok":
                key = (entry.project_id, entry.key_slug)
                last_used[key] = max(entry.at, last_used.get(key, entry.at))
        async with self._sessions() as db:
            await db.execute(insert(UsageEvent), [dict(vars(entry)) for entry in batch])
            for (project_id, slug), at in last_used.items():
                await db.execute(
                    update(ProviderKey)
                    .where(ProviderKey.project_id == project_id, ProviderKey.key_slug == slug)
                    .values(last_used_at=at)
                )
            await db.commit()
