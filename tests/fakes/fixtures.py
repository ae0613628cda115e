"""Pytest fixtures for the fakes: import them into a test module or register them in a conftest.

``fake_providers`` starts the six servers once per session; ``fakes`` hands the same object to a
test after ``reset()``, so scripts, queued replies and records never leak between tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import FakeProviders


@pytest.fixture(scope="session")
def fake_providers() -> Iterator[FakeProviders]:
    providers = FakeProviders().start()
    try:
        yield providers
    finally:
        providers.stop()


@pytest.fixture
def fakes(fake_providers: FakeProviders) -> Iterator[FakeProviders]:
    fake_providers.reset()
    yield fake_providers
    fake_providers.reset()
