"""The web agent end to end: the real provider clients against the fakes, scripted to call tools,
browsing the loopback site.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import pytest

from byok.catalog import provider_class
from byok.outbound import Outbound
from byok.providers.base import Credential, KeyConfig, Provider, ProviderContext, ProviderError
from byok.webtasks import AgentError, WebAgent
from tests.fakes import RATE_LIMITED, FakeProvider, FakeProviders
from tests.webtasks.conftest import Site, closed_port

KEY = "sk-webagent-Zq8LmN3pR7tV1xY5bC9dF2gH6jK4"
MODELS = {"openai": "gpt-4.1-mini", "anthropic": "claude-sonnet-4-6", "google": "gemini-2.5-flash"}
PRODUCT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {"name": {"type": "string"}, "price": {"type": "number"}},
    "required": ["name", "price"],
    "additionalProperties": False,
}


@dataclass
class Binding:
    name: str
    provider: Provider
    credential: Credential
    model: str
    fake: FakeProvider
    outbound: Outbound

    def agent(self, **kwargs: Any) -> WebAgent:
        return WebAgent(
            self.provider, self.credential, self.model, self.outbound, self.outbound.settings, **kwargs
        )

    def open_page(self, url: str, usage: tuple[int, int] = (11, 7)) -> None:
        self.fake.queue_reply(tool_calls=[{"name": "open_page", "arguments": {"url": url}}], usage=usage)

    def finish(self, answer: Any, usage: tuple[int, int] = (11, 7)) -> None:
        self.fake.queue_reply(tool_calls=[{"name": "finish", "arguments": {"answer": answer}}], usage=usage)

    @property
    def generations(self) -> list[Any]:
        """The bodies of the fake's generation requests, as sent."""
        paths = ("/chat/completions", "/v1/messages", ":generateContent")
        return [r.json for r in self.fake.requests if r.path.endswith(paths)]


@pytest.fixture(params=sorted(MODELS))
def binding(request: pytest.FixtureRequest, fakes: FakeProviders, fake_outbound: Outbound) -> Binding:
    name: str = request.param
    fake: FakeProvider = getattr(fakes, name)
    fake.script(KEY)
    provider = provider_class(name)(ProviderContext(settings=fake_outbound.settings, outbound=fake_outbound))
    credential = Credential(config=KeyConfig(provider=name), api_key=KEY)
    return Binding(name, provider, credential, MODELS[name], fake, fake_outbound)


@pytest.fixture
def openai_binding(fakes: FakeProviders, fake_outbound: Outbound) -> Binding:
    fakes.openai.script(KEY)
    provider = provider_class("openai")(
        ProviderContext(settings=fake_outbound.settings, outbound=fake_outbound)
    )
    credential = Credential(config=KeyConfig(provider="openai"), api_key=KEY)
    return Binding("openai", provider, credential, MODELS["openai"], fakes.openai, fake_outbound)


async def test_opens_the_url_follows_links_and_finishes(
    binding: Binding, site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    binding.open_page("products", usage=(100, 10))  # relative to the start page
    binding.open_page("/products/widget", usage=(200, 20))
    binding.finish("The Widget costs 42 EUR.", usage=(300, 30))
    calls: list[tuple[int, int]] = []

    async def on_usage(input_tokens: int, output_tokens: int) -> None:
        calls.append((input_tokens, output_tokens))

    result = await binding.agent().run(
        prompt="How much does the widget cost?", url=site.url("/"), on_usage=on_usage
    )
    assert result.output == "The Widget costs 42 EUR."
    assert result.pages == [site.url("/"), site.url("/products"), site.url("/products/widget")]
    assert result.steps == 3
    assert calls == [(100, 10), (200, 20), (300, 30)]
    assert result.usage.as_dict() == {"input_tokens": 600, "output_tokens": 60}
    first, _, last = (json.dumps(body) for body in binding.generations)
    assert "How much does the widget cost?" in first and "Welcome to Acme" in first
    assert "open_page" in first and "finish" in first  # the tools are declared
    assert "costs 42 EUR and ships in 3 days" in last  # the tool result reached the model
    assert binding.fake.requests[-1].headers  # the call went through the provider's own API
    everything = json.dumps(result.as_dict()) + repr(result) + caplog.text
    assert KEY not in everything
    assert not binding.fake.violations


async def test_without_url_the_model_opens_an_absolute_url(binding: Binding, site: Site) -> None:
    binding.open_page(site.url("/data.json"))
    binding.finish("EUR")
    result = await binding.agent().run(prompt="Which currency?", url=None)
    assert (result.output, result.pages, result.steps) == ("EUR", [site.url("/data.json")], 2)


async def test_output_schema_success(binding: Binding, site: Site) -> None:
    binding.finish({"name": "Widget", "price": 42})
    result = await binding.agent().run(
        prompt="The widget?", url=site.url("/products/widget"), output_schema=PRODUCT_SCHEMA
    )
    assert result.output == {"name": "Widget", "price": 42}
    assert result.steps == 1


async def test_output_schema_repair_round_succeeds(binding: Binding, site: Site) -> None:
    binding.finish({"name": "Widget"})
    binding.finish({"name": "Widget", "price": 42})
    result = await binding.agent().run(
        prompt="The widget?", url=site.url("/products/widget"), output_schema=PRODUCT_SCHEMA
    )
    assert result.output == {"name": "Widget", "price": 42}
    assert result.steps == 2
    repair = json.dumps(binding.generations[-1])
    assert "does not match the output schema" in repair and "'price' is a required property" in repair


async def test_output_schema_repair_round_fails(binding: Binding, site: Site) -> None:
    binding.finish({"name": "Widget"})
    binding.finish({"name": "Widget", "price": "forty-two"})
    binding.finish({"name": "Widget", "price": 42})  # never asked for
    with pytest.raises(AgentError) as info:
        await binding.agent().run(
            prompt="The widget?", url=site.url("/products/widget"), output_schema=PRODUCT_SCHEMA
        )
    error = info.value
    assert (error.reason, error.status, error.steps) == ("invalid_output", 422, 2)
    assert error.message.startswith("output does not match output_schema: ")
    assert "'forty-two' is not of type 'number'" in error.message


async def test_max_steps_exhausted(binding: Binding, site: Site) -> None:
    binding.open_page("/about")
    binding.open_page("/products")
    binding.finish("too late")
    with pytest.raises(AgentError) as info:
        await binding.agent().run(prompt="Wander.", url=site.url("/"), max_steps=2)
    error = info.value
    assert (error.reason, error.status, error.steps) == ("max_steps_exceeded", 422, 2)
    assert str(error) == "max_steps (2) reached without an answer"
    assert error.pages == (site.url("/"), site.url("/about"), site.url("/products"))
    assert "last turn" in json.dumps(binding.generations[-1])


async def test_first_url_unreachable_fails_before_any_model_call(binding: Binding) -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    with pytest.raises(AgentError) as info:
        await binding.agent().run(prompt="Read it.", url=url)
    error = info.value
    assert (error.reason, error.status, error.steps) == ("page_unavailable", 422, 0)
    assert error.message.startswith("the task's url cannot be opened: cannot reach 127.0.0.1")
    assert error.details == {"url": url, "page_reason": "unreachable", "page_status": None}
    assert binding.generations == []


async def test_provider_rate_limited_propagates(binding: Binding, site: Site) -> None:
    binding.fake.script(KEY, RATE_LIMITED, retry_after=3)
    with pytest.raises(ProviderError) as info:
        await binding.agent().run(prompt="Anything.", url=site.url("/"))
    error = info.value
    assert (error.reason, error.status) == ("rate_limited", 429)
    assert error.retry_after == pytest.approx(3, abs=1)
    assert KEY not in error.message


# -- details, on one provider ---------------------------------------------------------------------


async def test_first_url_refused_by_the_guard(openai_binding: Binding, site: Site) -> None:
    strict_settings = openai_binding.outbound.settings.model_copy(update={"allow_private_networks": False})
    agent = WebAgent(
        openai_binding.provider,
        openai_binding.credential,
        "gpt-4.1-mini",
        openai_binding.outbound,
        strict_settings,
    )
    with pytest.raises(AgentError) as info:
        await agent.run(prompt="Read it.", url=site.url("/"))
    assert (info.value.reason, info.value.status) == ("endpoint_not_allowed", 422)
    assert info.value.details["page_reason"] == "endpoint_not_allowed"


async def test_a_failing_page_later_is_the_models_problem(openai_binding: Binding, site: Site) -> None:
    openai_binding.open_page("/missing")
    openai_binding.open_page("/image.png")
    openai_binding.finish("no luck")
    result = await openai_binding.agent().run(prompt="Look around.", url=site.url("/"))
    assert (result.output, result.pages) == ("no luck", [site.url("/")])
    tool_results = [m["content"] for m in openai_binding.generations[-1]["messages"] if m["role"] == "tool"]
    assert "answered HTTP 404" in tool_results[0]
    assert "image/png" in tool_results[1]


async def test_plain_text_answers(openai_binding: Binding, site: Site) -> None:
    openai_binding.fake.queue_reply(text="Ada Lovelace founded it.")
    result = await openai_binding.agent().run(prompt="Who founded Acme?", url=site.url("/about"))
    assert (result.output, result.steps) == ("Ada Lovelace founded it.", 1)

    openai_binding.fake.queue_reply(text='```json\n{"name": "Widget", "price": 42}\n```')
    result = await openai_binding.agent().run(
        prompt="The widget?", url=site.url("/products/widget"), output_schema=PRODUCT_SCHEMA
    )
    assert result.output == {"name": "Widget", "price": 42}


async def test_answer_as_a_json_string_and_with_defs(openai_binding: Binding, site: Site) -> None:
    schema = {
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/item"}}},
        "required": ["items"],
        "$defs": {
            "item": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
        },
    }
    openai_binding.finish(json.dumps({"items": [{"name": "Widget"}, {"name": "Gadget"}]}))
    result = await openai_binding.agent().run(prompt="List.", url=site.url("/products"), output_schema=schema)
    assert result.output == {"items": [{"name": "Widget"}, {"name": "Gadget"}]}
    finish_tool = next(
        t["function"] for t in openai_binding.generations[0]["tools"] if t["function"]["name"] == "finish"
    )
    # $defs sit at the root of finish's parameters, where "#/$defs/item" resolves.
    assert finish_tool["parameters"]["$defs"] == schema["$defs"]
    assert finish_tool["parameters"]["properties"]["answer"]["properties"] == schema["properties"]


async def test_tool_mistakes_are_told_to_the_model(openai_binding: Binding, site: Site) -> None:
    openai_binding.fake.queue_reply(tool_calls=[{"name": "search", "arguments": {"q": "widget"}}])
    openai_binding.fake.queue_reply(tool_calls=[{"name": "open_page", "arguments": {}}])
    openai_binding.fake.queue_reply(text=None)  # an empty reply
    openai_binding.finish("done")
    result = await openai_binding.agent().run(prompt="Go.", url=site.url("/"))
    assert (result.output, result.steps) == ("done", 4)
    sent = json.dumps(openai_binding.generations[-1]["messages"])
    assert "no tool named 'search'" in sent and "open_page needs a `url` string" in sent
    assert "Use a tool" in sent


async def test_old_pages_shrink_to_a_stub(openai_binding: Binding, site: Site) -> None:
    openai_binding.open_page("/about")
    openai_binding.open_page("/products/widget")
    openai_binding.finish("ok")
    await openai_binding.agent(keep_pages=1).run(prompt="Go.", url=site.url("/"))
    last = json.dumps(openai_binding.generations[-1]["messages"])
    assert "Welcome to Acme" not in last and "founded in 1999" not in last
    assert "costs 42 EUR" in last
    assert last.count("Its text is omitted now to save space") == 2


async def test_invalid_requests_fail_before_anything_runs(openai_binding: Binding, site: Site) -> None:
    agent = openai_binding.agent()
    with pytest.raises(AgentError) as info:
        await agent.run(prompt="Go.", url=site.url("/"), output_schema={"type": "thing"})
    assert info.value.reason == "invalid_request"
    assert info.value.message.startswith("output_schema is not a valid JSON Schema")
    with pytest.raises(AgentError) as info:
        await agent.run(prompt="Go.", url=site.url("/"), max_steps=0)
    assert info.value.reason == "invalid_request"
    assert openai_binding.generations == []


async def test_a_valid_finish_ends_the_task_even_beside_other_calls(
    openai_binding: Binding, site: Site
) -> None:
    openai_binding.fake.queue_reply(
        tool_calls=[
            {"name": "open_page", "arguments": {"url": "/about"}},
            {"name": "finish", "arguments": {"answer": "quick"}},
        ]
    )
    before = site.hits.count("/about")
    result = await openai_binding.agent().run(prompt="Go.", url=site.url("/"))
    assert (result.output, result.steps, result.pages) == ("quick", 1, [site.url("/")])
    assert site.hits.count("/about") == before


async def test_no_secret_in_logs_or_errors(
    openai_binding: Binding, site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    openai_binding.finish({"wrong": True})
    openai_binding.finish({"still": "wrong"})
    with pytest.raises(AgentError) as info:
        await openai_binding.agent().run(prompt="Go.", url=site.url("/"), output_schema=PRODUCT_SCHEMA)
    assert KEY not in caplog.text + str(info.value) + repr(info.value.details)
    assert KEY not in repr(openai_binding.agent())
