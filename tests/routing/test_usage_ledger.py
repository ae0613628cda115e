"""The usage ledger writes off the request path and loses nothing on a clean shutdown."""

from __future__ import annotations

from sqlalchemy import func, select

from byok.runtime import Runtime
from byok.usage.ledger import UsageRecord
from byok.usage.models import UsageEvent


async def test_rows_recorded_before_a_clean_shutdown_are_all_written(settings, project) -> None:
    runtime = Runtime.build(settings)
    await runtime.start()
    for n in range(250):
        runtime.usage.record(
            UsageRecord(
                project_id=project.id,
                source="byok",
                key_slug="k",
                provider="openai",
                model="m",
                outcome="ok",
                input_tokens=n,
                output_tokens=1,
            )
        )
    await runtime.aclose()  # a clean shutdown: the queue is drained first
    checker = Runtime.build(settings)
    try:
        async with checker.sessions() as db:
            count = await db.scalar(
                select(func.count()).select_from(UsageEvent).where(UsageEvent.project_id == project.id)
            )
            tokens = await db.scalar(
                select(func.sum(UsageEvent.input_tokens)).where(UsageEvent.project_id == project.id)
            )
    finally:
        await checker.aclose()
    assert count == 250 and tokens == sum(range(250))
