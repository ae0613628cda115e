"""Fake Azure OpenAI resource: the v1 API (``/openai/v1``) and the dated deployments API.

``models`` is the set of DEPLOYMENTS; ``GET /openai/v1/models`` lists the model catalogue instead,
as on the real service, so it proves key and endpoint but never a deployment.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from .base import json_error, retry_headers
from .chat import CREATED, ChatCompletionsFake

AZURE_DEPLOYMENTS = frozenset({"gpt-4.1-nano", "gpt-4o-mini", "my-gpt-4o"})
AZURE_CATALOGUE = ("gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4o", "gpt-4o-mini", "o4-mini")
_FILTERS = {
    name: {"filtered": False, "severity": "safe"} for name in ("hate", "self_harm", "sexual", "violence")
}


class AzureFake(ChatCompletionsFake):
    name = "azure"
    default_models = AZURE_DEPLOYMENTS
    request_id_header = "apim-request-id"
    extra_choice = {"content_filter_results": _FILTERS}
    extra_completion = {"prompt_filter_results": [{"prompt_index": 0, "content_filter_results": _FILTERS}]}

    def _routes(self) -> None:
        app = self.app

        @app.get("/openai/v1/models")
        async def list_models(request: Request) -> Response:
            if denied := await self.check(request.headers.get("api-key")):
                return denied
            data = [self._catalogue_entry(m) for m in AZURE_CATALOGUE]
            return JSONResponse({"object": "list", "data": data})

        @app.post("/openai/v1/chat/completions")
        async def chat_v1(request: Request) -> Response:
            return await self.chat(request, request.headers.get("api-key"))

        @app.post("/openai/deployments/{deployment}/chat/completions")
        async def chat_dated(deployment: str, request: Request) -> Response:
            if not request.query_params.get("api-version"):
                message = "Missing required query parameter 'api-version'."
                return json_error(400, {"error": {"code": "BadRequest", "message": message}})
            return await self.chat(request, request.headers.get("api-key"), model=deployment)

    @staticmethod
    def _catalogue_entry(model: str) -> dict[str, Any]:
        return {
            "id": model,
            "object": "model",
            "created_at": CREATED,
            "status": "succeeded",
            "capabilities": {"chat_completion": True, "completion": False, "embeddings": False},
            "lifecycle_status": "generally-available",
        }

    # -- errors --------------------------------------------------------------------------------

    @staticmethod
    def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
        return json_error(status, {"error": {"code": code, "message": message}}, headers)

    def error_auth(self, credential: str | None) -> Response:
        message = (
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide "
            "a valid key for an active subscription and use a correct regional API endpoint for your "
            "resource."
        )
        return self._error(401, "401", message)

    def error_not_found(self, model: str) -> Response:
        message = (
            "The API deployment for this resource does not exist. If you created the deployment within the "
            "last 5 minutes, please wait a moment and try again."
        )
        return self._error(404, "DeploymentNotFound", message)

    def error_no_quota(self, model: str | None) -> Response:
        message = (
            "You exceeded your current quota, please check your plan and billing details. "
            "For more information on this error, read the docs: https://aka.ms/oai/quotaincrease."
        )
        return self._error(429, "insufficient_quota", message)

    def error_rate_limited(self, retry_after: float, model: str | None) -> Response:
        message = (
            "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have "
            "exceeded token rate limit of your current OpenAI S0 pricing tier. "
            f"Please retry after {retry_after:g} seconds."
        )
        return self._error(429, "429", message, retry_headers(retry_after))

    def error_unavailable(self) -> Response:
        message = "The service is temporarily unable to process your request. Please try again later."
        return self._error(503, "ServiceUnavailable", message)
