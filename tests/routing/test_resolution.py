"""Model resolution: every rule and error, for every provider and agent."""

from __future__ import annotations

import pytest

from byok.errors import APIError
from byok.keys.models import ProviderKey
from byok.resolution import Binding, bind_key, default_binding
from byok.settings import Settings
from tests.api.helpers import key_body
from tests.conftest import INTERNAL_TOKEN

PNS = "provider_not_supported"
REQ = "model_required"

# provider -> agent -> the model chosen without a request model, or the error
TABLE: dict[str, dict[str, str]] = {
    "openai": {
        "browser-use": "gpt-5.4-mini",
        "openai-cua": "computer-use-preview",
        "anthropic-cua": PNS,
        "gemini-computer-use": PNS,
    },
    "anthropic": {
        "browser-use": "claude-sonnet-4-6",
        "openai-cua": PNS,
        "anthropic-cua": "claude-sonnet-4-6",
        "gemini-computer-use": PNS,
    },
    "google": {
        "browser-use": "gemini-2.5-flash",
        "openai-cua": PNS,
        "anthropic-cua": PNS,
        "gemini-computer-use": "gemini-2.5-computer-use-preview-10-2025",
    },
    "vertex": {
        "browser-use": "gemini-2.5-flash",
        "openai-cua": PNS,
        "anthropic-cua": PNS,
        "gemini-computer-use": "gemini-2.5-computer-use-preview-10-2025",
    },
    "azure": {"browser-use": REQ, "openai-cua": REQ, "anthropic-cua": PNS, "gemini-computer-use": PNS},
    "custom": {"browser-use": REQ, "openai-cua": PNS, "anthropic-cua": PNS, "gemini-computer-use": PNS},
}
CASES = [(p, a, expected) for p, row in TABLE.items() for a, expected in row.items()]


def row(provider: str, default_model: str | None = None) -> ProviderKey:
    return ProviderKey(key_slug=f"{provider}-key", provider=provider, default_model=default_model)


@pytest.mark.parametrize(("provider", "agent", "expected"), CASES)
def test_provider_default_per_agent(provider: str, agent: str, expected: str) -> None:
    if expected in (PNS, REQ):
        with pytest.raises(APIError) as err:
            bind_key(row(provider), provider=None, model=None, agent=agent)
        assert err.value.type == expected
        assert err.value.status == 400
    else:
        binding = bind_key(row(provider), provider=None, model=None, agent=agent)
        assert binding == Binding("byok", f"{provider}-key", provider, expected, agent)


@pytest.mark.parametrize(
    ("provider", "agent", "model", "expected"),
    [
        ("openai", "openai-cua", "gpt-4o", "model_not_capable"),
        ("openai", "openai-cua", "gpt-5.4", None),
        ("openai", "openai-cua", "computer-use-preview-2025-03-11", None),
        ("anthropic", "anthropic-cua", "claude-3-haiku-20240307", "model_not_capable"),
        ("anthropic", "anthropic-cua", "claude-opus-4-7", None),
        ("google", "gemini-computer-use", "gemini-2.5-flash", "model_not_capable"),
        ("vertex", "gemini-computer-use", "gemini-2.5-pro", "model_not_capable"),
        ("azure", "openai-cua", "my-cua-deployment", None),  # deployment names: capability unknown
        ("azure", "browser-use", "my-deployment", None),
        ("custom", "browser-use", "llama-3.1-8b-instruct", None),
        ("custom", "openai-cua", "llama-3.1-8b-instruct", PNS),
        ("azure", "gemini-computer-use", "x", PNS),
    ],
)
def test_request_model_and_capability(provider: str, agent: str, model: str, expected: str | None) -> None:
    if expected is None:
        assert bind_key(row(provider), provider=None, model=model, agent=agent).model == model
        return
    with pytest.raises(APIError) as err:
        bind_key(row(provider), provider=None, model=model, agent=agent)
    assert (err.value.status, err.value.type) == (400, expected)


def test_model_precedence_request_then_key_default_then_catalogue() -> None:
    keyed = row("anthropic", default_model="claude-opus-4-7")
    assert (
        bind_key(keyed, provider=None, model="claude-haiku-4-5", agent="browser-use").model
        == "claude-haiku-4-5"
    )
    assert bind_key(keyed, provider=None, model=None, agent="browser-use").model == "claude-opus-4-7"
    assert (
        bind_key(row("azure", "my-gpt-4o"), provider=None, model=None, agent="browser-use").model
        == "my-gpt-4o"
    )


@pytest.mark.parametrize(("asked", "ok"), [("openai", True), ("anthropic", False), ("gemini", False)])
def test_provider_safety_check(asked: str, ok: bool) -> None:
    if ok:
        bind_key(row("openai"), provider=asked, model=None, agent="browser-use")
        return
    with pytest.raises(APIError) as err:
        bind_key(row("openai"), provider=asked, model=None, agent="browser-use")
    assert (err.value.status, err.value.type) == (400, "provider_mismatch")


def test_gemini_is_an_alias_of_google() -> None:
    assert bind_key(row("google"), provider="gemini", model=None, agent="browser-use").provider == "google"


def test_unknown_agent_is_a_validation_error() -> None:
    with pytest.raises(APIError) as err:
        bind_key(row("openai"), provider=None, model=None, agent="robot")
    assert (err.value.status, err.value.type) == (422, "invalid_request")


def test_default_binding_needs_the_operator_default() -> None:
    with pytest.raises(APIError) as err:
        default_binding(Settings(), "browser-use")
    assert (err.value.status, err.value.type) == (503, "default_model_unavailable")
    configured = Settings(default_provider="anthropic", default_model="claude-sonnet-4-6")
    assert default_binding(configured, "browser-use") == Binding(
        "default", None, "anthropic", "claude-sonnet-4-6", "browser-use"
    )
    with pytest.raises(APIError) as err:
        default_binding(configured, "openai-cua")
    assert err.value.type == PNS


# --- through the internal route -------------------------------------------------------------

INTERNAL = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}


@pytest.mark.parametrize(
    ("patch", "status", "type_"),
    [
        ({"key_slug": "main"}, 200, None),
        ({"key_slug": "main", "surface": "web_task"}, 200, None),
        ({"key_slug": "missing"}, 404, "key_not_found"),
        ({"key_slug": "main", "provider": "openai"}, 400, "provider_mismatch"),
        ({"key_slug": "main", "provider": "anthropic"}, 200, None),
        ({"key_slug": "main", "surface": "task"}, 400, "byok_not_supported"),
        ({"key_slug": "missing", "surface": "task"}, 400, "byok_not_supported"),
        ({"surface": "task"}, 503, "default_model_unavailable"),
        ({}, 503, "default_model_unavailable"),
        ({"key_slug": "main", "agent": "gemini-computer-use"}, 400, "provider_not_supported"),
        (
            {"key_slug": "main", "agent": "anthropic-cua", "model": "claude-3-haiku-20240307"},
            400,
            "model_not_capable",
        ),
    ],
)
async def test_internal_resolve_route(client, project, fakes, patch, status, type_) -> None:
    body = key_body(fakes, "anthropic", slug="main")
    assert (await client.post(project.keys_url(), json=body, headers=project.headers)).status_code == 201
    response = await client.post(
        "/internal/v1/resolve", json={"project_id": project.id, **patch}, headers=INTERNAL
    )
    assert response.status_code == status, response.text
    if type_ is None:
        binding = response.json()["data"]
        assert binding == {
            "source": "byok",
            "key_slug": "main",
            "provider": "anthropic",
            "model": "claude-sonnet-4-6",
            "agent": "browser-use",
        }
        assert body["api_key"] not in response.text
    else:
        assert response.json()["error"]["type"] == type_


async def test_internal_routes_need_the_internal_token(client, project, admin) -> None:
    body = {"project_id": project.id}
    assert (await client.post("/internal/v1/resolve", json=body)).status_code == 401
    assert (await client.post("/internal/v1/resolve", json=body, headers=project.headers)).status_code == 401
    assert (await client.post("/internal/v1/resolve", json=body, headers=admin)).status_code == 403


async def test_internal_resolve_unknown_project_is_404(client) -> None:
    response = await client.post("/internal/v1/resolve", json={"project_id": "prj_nope"}, headers=INTERNAL)
    assert response.status_code == 404
