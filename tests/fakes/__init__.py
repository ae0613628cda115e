"""Fake LLM providers on loopback that answer exactly like the real APIs.

Typical use::

    fakes.openai.script("sk-good", ACCEPT)
    fakes.openai.queue_reply(tool_calls=[{"name": "lookup", "arguments": {"q": "x"}}])
    ...drive the service with fakes.env()...
    assert fakes.openai.requests[-1].json["model"] == "gpt-4.1-nano"
"""

from .anthropic import AnthropicFake
from .azure import AzureFake
from .base import (
    ACCEPT,
    BEHAVIOURS,
    NO_QUOTA,
    NOT_JSON,
    RATE_LIMITED,
    REJECT,
    SLOW,
    UNAVAILABLE,
    UNKNOWN_MODEL,
    FakeProvider,
    RecordedRequest,
)
from .custom import CustomFake
from .google import GoogleFake
from .openai import OpenAIFake
from .server import FakeProviders, RunningServer, serve
from .vertex import VertexFake, make_service_account

__all__ = [
    "ACCEPT",
    "BEHAVIOURS",
    "NOT_JSON",
    "NO_QUOTA",
    "RATE_LIMITED",
    "REJECT",
    "SLOW",
    "UNAVAILABLE",
    "UNKNOWN_MODEL",
    "AnthropicFake",
    "AzureFake",
    "CustomFake",
    "FakeProvider",
    "FakeProviders",
    "GoogleFake",
    "OpenAIFake",
    "RecordedRequest",
    "RunningServer",
    "VertexFake",
    "make_service_account",
    "serve",
]
