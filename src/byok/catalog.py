"""The model catalogue: what the service knows about each provider, as data.

Fields each provider's key takes, example models, the default model per agent, which agents
a provider can serve and which of its models can drive a computer. The key forms, the
resolver and ``GET /v1/providers`` all read this one table; a new provider is a new entry
here plus its client module.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from byok.providers.base import Provider

Agent = Literal["browser-use", "openai-cua", "anthropic-cua", "gemini-computer-use"]
AGENTS: tuple[Agent, ...] = ("browser-use", "openai-cua", "anthropic-cua", "gemini-computer-use")
#: Agents that drive a browser through the model's computer-use tool.
COMPUTER_USE_AGENTS: frozenset[str] = frozenset({"openai-cua", "anthropic-cua", "gemini-computer-use"})

PROVIDER_ALIASES = {"gemini": "google"}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    kind: Literal["secret", "text", "url", "json"] = "text"
    required: bool = False
    default: str | None = None
    help: str = ""


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    label: str
    client: str  # "module:Class", imported on first use
    fields: tuple[FieldSpec, ...]
    example_models: tuple[str, ...] = ()
    default_models: dict[str, str] = field(default_factory=dict)
    agents: frozenset[str] = frozenset({"browser-use"})
    #: Exact model ids known to be computer-use capable.
    computer_use_models: frozenset[str] = frozenset()
    #: Model-id prefixes that are capable (a family "and later").
    computer_use_prefixes: tuple[str, ...] = ()
    #: Model names are the user's own (deployments, local models): capability cannot be known.
    models_are_user_defined: bool = False

    @property
    def field_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields)

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    def is_computer_use_capable(self, model: str) -> bool | None:
        """True/False from the catalogue; None when the catalogue cannot know."""
        if self.models_are_user_defined:
            return None
        if model in self.computer_use_models:
            return True
        return any(model.startswith(prefix) for prefix in self.computer_use_prefixes)


_API_KEY = FieldSpec("api_key", "API key", "secret", required=True)
_DEFAULT_MODEL = FieldSpec("default_model", "Default model", help="used when a request names no model")

_GEMINI_MODELS = ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-3.5-flash", "gemini-3.1-pro-preview")
_GEMINI_CUA = frozenset({"gemini-2.5-computer-use-preview-10-2025"})

PROVIDERS: dict[str, ProviderSpec] = {
    spec.name: spec
    for spec in (
        ProviderSpec(
            name="openai",
            label="OpenAI",
            client="byok.providers.openai:OpenAIProvider",
            fields=(_API_KEY, _DEFAULT_MODEL),
            example_models=("gpt-5.5", "gpt-5.4", "gpt-5.4-mini", "gpt-4.1", "gpt-4o", "o3", "o4-mini"),
            default_models={"browser-use": "gpt-5.4-mini", "openai-cua": "computer-use-preview"},
            agents=frozenset({"browser-use", "openai-cua"}),
            computer_use_models=frozenset({"computer-use-preview", "computer-use-preview-2025-03-11"}),
            computer_use_prefixes=("gpt-5.4", "gpt-5.5", "gpt-5.6", "gpt-5.7", "gpt-6"),
        ),
        ProviderSpec(
            name="anthropic",
            label="Anthropic",
            client="byok.providers.anthropic:AnthropicProvider",
            fields=(_API_KEY, _DEFAULT_MODEL),
            example_models=("claude-sonnet-4-6", "claude-opus-4-7", "claude-opus-4-6", "claude-haiku-4-5"),
            default_models={"browser-use": "claude-sonnet-4-6", "anthropic-cua": "claude-sonnet-4-6"},
            agents=frozenset({"browser-use", "anthropic-cua"}),
            computer_use_models=frozenset(
                {
                    "claude-opus-4-7",
                    "claude-opus-4-6",
                    "claude-sonnet-4-6",
                    "claude-opus-4-5",
                    "claude-sonnet-4-5",
                    "claude-haiku-4-5",
                    "claude-opus-4-1",
                    "claude-sonnet-4",
                    "claude-opus-4",
                    "claude-sonnet-4-0",
                    "claude-opus-4-0",
                }
            ),
            computer_use_prefixes=("claude-opus-5", "claude-sonnet-5", "claude-haiku-5"),
        ),
        ProviderSpec(
            name="google",
            label="Google AI Studio (Gemini API)",
            client="byok.providers.google:GoogleProvider",
            fields=(_API_KEY, _DEFAULT_MODEL),
            example_models=(*_GEMINI_MODELS, *sorted(_GEMINI_CUA)),
            default_models={
                "browser-use": "gemini-2.5-flash",
                "gemini-computer-use": "gemini-2.5-computer-use-preview-10-2025",
            },
            agents=frozenset({"browser-use", "gemini-computer-use"}),
            computer_use_models=_GEMINI_CUA,
        ),
        ProviderSpec(
            name="vertex",
            label="Google Vertex AI",
            client="byok.providers.vertex:VertexProvider",
            fields=(
                FieldSpec(
                    "credentials",
                    "Service-account JSON",
                    "json",
                    required=True,
                    help="the whole key file of a service account with Vertex AI access",
                ),
                FieldSpec("location", "Region", default="global", help="e.g. global, us-central1"),
                _DEFAULT_MODEL,
            ),
            example_models=(*_GEMINI_MODELS, *sorted(_GEMINI_CUA)),
            default_models={
                "browser-use": "gemini-2.5-flash",
                "gemini-computer-use": "gemini-2.5-computer-use-preview-10-2025",
            },
            agents=frozenset({"browser-use", "gemini-computer-use"}),
            computer_use_models=_GEMINI_CUA,
        ),
        ProviderSpec(
            name="azure",
            label="Azure OpenAI",
            client="byok.providers.azure:AzureProvider",
            fields=(
                _API_KEY,
                FieldSpec(
                    "base_url", "Endpoint", "url", required=True, help="https://RESOURCE.openai.azure.com"
                ),
                FieldSpec("api_version", "API version", help="empty: the v1 API; or e.g. 2024-10-21"),
                FieldSpec("default_model", "Default deployment", help="the deployment name to call"),
            ),
            example_models=("gpt-5.4", "gpt-4.1", "gpt-4o", "computer-use-preview"),
            agents=frozenset({"browser-use", "openai-cua"}),
            models_are_user_defined=True,
        ),
        ProviderSpec(
            name="custom",
            label="OpenAI-compatible endpoint",
            client="byok.providers.custom:CustomProvider",
            fields=(
                FieldSpec("api_key", "API key", "secret", help="leave empty for servers that need none"),
                FieldSpec("base_url", "Base URL", "url", required=True, help="ends before /chat/completions"),
                _DEFAULT_MODEL,
            ),
            agents=frozenset({"browser-use"}),
            models_are_user_defined=True,
        ),
    )
}


def canonical_provider(name: str) -> str:
    return PROVIDER_ALIASES.get(name, name)


def provider_class(name: str) -> type[Provider]:
    module_name, _, class_name = PROVIDERS[name].client.partition(":")
    cls: type[Provider] = getattr(importlib.import_module(module_name), class_name)
    return cls
