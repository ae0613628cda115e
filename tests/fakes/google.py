"""Fake Gemini API (AI Studio) under ``/v1beta``, plus the Gemini shapes the Vertex fake reuses.

The key is read ONLY from the ``x-goog-api-key`` header; a ``?key=`` query parameter is recorded in
``violations`` and rejected, since secrets must never travel in URLs.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from .base import FakeProvider, RecordedRequest, Reply, chunk_text, json_error, new_id, sse_response

GEMINI_MODELS = frozenset(
    {
        "gemini-2.5-flash-lite",
        "gemini-2.5-flash",
        "gemini-2.5-pro",
        "gemini-3.5-flash",
        "gemini-3.1-pro-preview",
        "gemini-2.5-computer-use-preview-10-2025",
    }
)
GEMINI_FINISH = {
    "stop": "STOP",
    "end_turn": "STOP",
    "tool_calls": "STOP",
    "tool_use": "STOP",
    "length": "MAX_TOKENS",
    "max_tokens": "MAX_TOKENS",
}
METHODS = ("generateContent", "streamGenerateContent", "countTokens")
TYPE = "type.googleapis.com/google.rpc."


# -- Gemini shapes (shared with vertex) --------------------------------------------------------


def usage_metadata(reply: Reply, *, vertex: bool = False) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "promptTokenCount": reply.input_tokens,
        "candidatesTokenCount": reply.output_tokens,
        "totalTokenCount": reply.input_tokens + reply.output_tokens,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": reply.input_tokens}],
    }
    if vertex:
        usage["trafficType"] = "ON_DEMAND"
    return usage


def function_parts(reply: Reply) -> list[dict[str, Any]]:
    return [{"functionCall": {"name": c.name, "args": c.arguments}} for c in reply.tool_calls]


def gemini_chunks(
    reply: Reply, model: str, finish: str, *, stream: bool, vertex: bool = False
) -> list[dict[str, Any]]:
    """One GenerateContentResponse (stream=False) or the list of streamed chunks."""
    texts = chunk_text(reply.text or "") if stream else [reply.text or ""]
    text_parts = [{"text": t} for t in texts if t]
    if stream:
        groups = [[part] for part in text_parts] + [function_parts(reply)]
    else:
        groups = [text_parts + function_parts(reply)]
    groups = [g for g in groups if g] or [[{"text": ""}]]
    ident = new_id("", 11)
    chunks: list[dict[str, Any]] = []
    for i, parts in enumerate(groups):
        last = i == len(groups) - 1
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
        if last:
            candidate["finishReason"] = finish
        chunk: dict[str, Any] = {"candidates": [candidate], "modelVersion": model, "responseId": ident}
        if last:
            chunk["usageMetadata"] = usage_metadata(reply, vertex=vertex)
        if vertex:
            chunk["createTime"] = "2026-01-01T00:00:00.000000Z"
        chunks.append(chunk)
    return chunks


def render_generation(
    provider: FakeProvider, model: str, method: str, stream_sse: bool, vertex: bool
) -> Response:
    reply = provider.next_reply()
    finish = provider.finish(reply, "STOP")
    if method == "generateContent":
        return JSONResponse(gemini_chunks(reply, model, finish, stream=False, vertex=vertex)[0])
    chunks = gemini_chunks(reply, model, finish, stream=True, vertex=vertex)
    if stream_sse:
        return sse_response((None, c) for c in chunks)
    return JSONResponse(chunks)


def count_tokens(body: Any) -> dict[str, Any]:
    words = 0

    def walk(node: Any) -> None:
        nonlocal words
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    words += len(value.split())
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(body)
    total = max(words, 1)
    return {"totalTokens": total, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": total}]}


def google_error(
    code: int,
    status: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return json_error(code, {"error": error}, headers)


def quota_error(service: str, model: str | None, retry_after: float, *, limit: int) -> Response:
    metric = f"{service}/generate_content_free_tier_requests"
    message = (
        "You exceeded your current quota, please check your plan and billing details. For more information "
        "on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n"
        f"* Quota exceeded for metric: {metric}, limit: {limit}, model: {model or 'unknown'}\n"
        f"Please retry in {retry_after:g}s."
    )
    violation = {
        "quotaMetric": metric,
        "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
        "quotaDimensions": {"location": "global", "model": model or "unknown"},
        "quotaValue": str(limit),
    }
    details = [
        {"@type": TYPE + "QuotaFailure", "violations": [violation]},
        {
            "@type": TYPE + "Help",
            "links": [
                {
                    "description": "Learn more about Gemini API quotas",
                    "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                }
            ],
        },
        {"@type": TYPE + "RetryInfo", "retryDelay": f"{retry_after:g}s"},
    ]
    return google_error(429, "RESOURCE_EXHAUSTED", message, details)


def unavailable_error() -> Response:
    return google_error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")


def invalid_body(body: Any) -> Response | None:
    if not isinstance(body, dict) or not body.get("contents"):
        return google_error(
            400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified\n"
        )
    return None


async def read_json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


# -- the fake ----------------------------------------------------------------------------------


class GoogleFake(FakeProvider):
    name = "google"
    default_models = GEMINI_MODELS
    finish_map = GEMINI_FINISH

    def _routes(self) -> None:
        app = self.app

        @app.get("/v1beta/models")
        async def list_models(request: Request) -> Response:
            if denied := await self._gate(request):
                return denied
            size = max(1, min(int(request.query_params.get("pageSize", "50")), 1000))
            start = int(request.query_params.get("pageToken") or 0)
            ordered = sorted(self.models)
            body: dict[str, Any] = {"models": [self._model(m) for m in ordered[start : start + size]]}
            if start + size < len(ordered):
                body["nextPageToken"] = str(start + size)
            return JSONResponse(body)

        @app.get("/v1beta/models/{model}")
        async def get_model(model: str, request: Request) -> Response:
            if denied := await self._gate(request, model=model):
                return denied
            return JSONResponse(self._model(model))

        @app.post("/v1beta/models/{target}")
        async def model_method(target: str, request: Request) -> Response:
            model, _, method = target.rpartition(":")
            if method not in METHODS or not model:
                return google_error(404, "NOT_FOUND", f"Method not found: {target}")
            body = await read_json(request)
            if denied := await self._gate(request, model=model, generation=method != "countTokens"):
                return denied
            if method == "countTokens":
                return JSONResponse(count_tokens(body))
            if bad := invalid_body(body):
                return bad
            sse = request.query_params.get("alt") == "sse"
            return render_generation(self, model, method, sse, vertex=False)

    async def _gate(self, request: Request, **kwargs: Any) -> Response | None:
        if "key" in request.query_params:
            # Already recorded by inspect(); the service must never send the key in the URL.
            return self.error_auth("?key=")
        return await self.check(request.headers.get("x-goog-api-key"), **kwargs)

    def inspect(self, record: RecordedRequest) -> None:
        if "key" in record.query:
            self.violations.append(
                f"google: API key sent as ?key= query parameter on {record.method} {record.path}"
            )

    @staticmethod
    def _model(model: str) -> dict[str, Any]:
        return {
            "name": f"models/{model}",
            "version": "001",
            "displayName": model.replace("-", " ").title(),
            "description": f"Fake {model}",
            "inputTokenLimit": 1048576,
            "outputTokenLimit": 65536,
            "supportedGenerationMethods": ["generateContent", "countTokens", "createCachedContent"],
            "temperature": 1,
            "topP": 0.95,
            "topK": 64,
            "maxTemperature": 2,
            "thinking": True,
        }

    # -- errors --------------------------------------------------------------------------------

    def error_auth(self, credential: str | None) -> Response:
        if not credential:
            return google_error(
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers (callers without established identity). "
                "Please use API Key or other form of API consumer identity to call this API.",
            )
        message = "API key not valid. Please pass a valid API key."
        details = [
            {
                "@type": TYPE + "ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            },
            {"@type": TYPE + "LocalizedMessage", "locale": "en-US", "message": message},
        ]
        return google_error(400, "INVALID_ARGUMENT", message, details)

    def error_not_found(self, model: str) -> Response:
        message = (
            f"models/{model} is not found for API version v1beta, or is not supported for generateContent. "
            "Call ListModels to see the list of available models and their supported methods."
        )
        return google_error(404, "NOT_FOUND", message)

    def error_no_quota(self, model: str | None) -> Response:
        return quota_error("generativelanguage.googleapis.com", model, 7.0, limit=0)

    def error_rate_limited(self, retry_after: float, model: str | None) -> Response:
        return quota_error("generativelanguage.googleapis.com", model, retry_after, limit=10)

    def error_unavailable(self) -> Response:
        return unavailable_error()
