"""Server-sent events: the one parser every provider stream goes through."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any, NamedTuple, Protocol


class EventTooLarge(ValueError):
    """One event (or line) of a stream is larger than the parser's limit."""


#: The most text one server-sent event (or a non-streamed body standing in for a stream) may carry.
MAX_EVENT_CHARS = 16 * 1024 * 1024
_EOL = re.compile(r"\r\n|\r|\n")


class SSEEvent(NamedTuple):
    """One server-sent event: its ``event:`` name (None when absent) and its joined ``data:`` lines."""

    event: str | None
    data: str


async def parse_sse(chunks: AsyncIterator[str], limit: int = MAX_EVENT_CHARS) -> AsyncIterator[SSEEvent]:
    """Server-sent events from a stream of text (the WHATWG parsing rules, leniently).

    Lines end in CRLF, LF or CR; ``:`` lines are comments; ``id`` and ``retry`` are ignored; an
    event is dispatched at a blank line, and also at the end of the stream when it has data.
    An event (or a line) larger than ``limit`` characters raises :class:`EventTooLarge`, so a
    misbehaving server cannot make the service buffer without bound.
    """
    buffer = ""
    scanned = 0  # how much of ``buffer`` is known to hold no line end
    event: str | None = None
    data: list[str] = []
    size = 0

    def too_big() -> EventTooLarge:
        return EventTooLarge(f"a server-sent event exceeded {limit} characters")

    def field_of(line: str) -> SSEEvent | None:
        nonlocal event, data, size
        if not line:
            ready = SSEEvent(event, "\n".join(data)) if data else None
            event, data, size = None, [], 0
            return ready
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
            size += len(value) + 1
            if size > limit:
                raise too_big()
        elif name == "event":
            event = value or None
        return None

    async for text in chunks:
        buffer += text
        while True:
            match = _EOL.search(buffer, scanned)
            # A CR at the very end may be the first half of a CRLF split across reads.
            if match is None or (match.group() == "\r" and match.end() == len(buffer)):
                scanned = max(0, len(buffer) - 1)
                break
            line, buffer, scanned = buffer[: match.start()], buffer[match.end() :], 0
            if (ready := field_of(line)) is not None:
                yield ready
        if len(buffer) > limit:
            raise too_big()
    for line in _EOL.split(buffer):
        if (ready := field_of(line)) is not None:
            yield ready
    if (ready := field_of("")) is not None:
        yield ready


class StreamTranslator(Protocol):
    """Turns a provider's server-sent events into OpenAI chunks, one event at a time."""

    #: True once the provider said the stream is over (the rest of the connection is not read).
    done: bool

    def feed(self, event: SSEEvent) -> list[dict[str, Any]]:
        """The chunks this event produces (often none); raises ProviderError on an error event."""
        ...

    def close(self) -> list[dict[str, Any]]:
        """The closing chunks once the events ran out: the finish chunk if due, then usage."""
        ...
