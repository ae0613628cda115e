"""Keeping web-task runs honest across restarts.

A live run's heartbeat is refreshed while it works; a ``RUNNING`` row whose heartbeat went
stale belongs to a process that stopped, and is marked ``FAILED`` ("interrupted") by the sweep
at start-up and periodically, and when its status is read — never left ``RUNNING`` forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from byok.db import utcnow
from byok.webtasks.models import WebTaskRun

log = logging.getLogger("byok.webtasks")

HEARTBEAT_S = 10.0
STALE_AFTER = timedelta(seconds=3 * HEARTBEAT_S)
INTERRUPTED = "interrupted: the service stopped while this task was running"


class RunRegistry:
    """The runs this process is executing, their heartbeat, and the stale-run sweep."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._live: dict[str, asyncio.Task[Any]] = {}
        self._ticker: asyncio.Task[None] | None = None

    @property
    def live_ids(self) -> list[str]:
        return list(self._live)

    def track(self, run_id: str, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(work, name=f"web-task-{run_id}")
        self._live[run_id] = task
        task.add_done_callback(lambda _t: self._live.pop(run_id, None))
        return task

    def adopt(self, run_id: str) -> None:
        """Count a run executed inline (sync requests) as live, for the heartbeat."""
        current = asyncio.current_task()
        if current is not None:
            self._live[run_id] = current

    def release(self, run_id: str) -> None:
        self._live.pop(run_id, None)

    async def start(self) -> None:
        await self.sweep()
        self._ticker = asyncio.create_task(self._tick(), name="byok-web-task-heartbeat")

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            try:
                await self.beat()
                await self.sweep()
            except Exception as exc:
                log.warning("web-task heartbeat failed: %s", type(exc).__name__)

    async def beat(self) -> None:
        if not self._live:
            return
        async with self._sessions() as db:
            await db.execute(
                update(WebTaskRun)
                .where(WebTaskRun.id.in_(list(self._live)), WebTaskRun.status == "RUNNING")
                .values(heartbeat_at=utcnow())
            )
            await db.commit()

    async def sweep(self) -> int:
        """Mark runs whose process is gone as FAILED; returns how many."""
        cutoff = utcnow() - STALE_AFTER
        query = update(WebTaskRun).where(WebTaskRun.status == "RUNNING", WebTaskRun.heartbeat_at < cutoff)
        if self._live:
            query = query.where(WebTaskRun.id.not_in(list(self._live)))
        async with self._sessions() as db:
            done = await db.execute(query.values(status="FAILED", error=INTERRUPTED, finished_at=utcnow()))
            await db.commit()
        return int(done.rowcount or 0)  # type: ignore[attr-defined]

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        tasks = list(self._live.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
