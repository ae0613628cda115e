"""The contract's error envelope and the one place that renders it.

Every failure a client sees is ``{"error": {"code", "type", "message", "details"?}}``;
FastAPI's bare ``{"detail": ...}`` never escapes.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("byok.errors")


class APIError(Exception):
    """An error with its HTTP status and machine-readable ``type``."""

    def __init__(
        self,
        status: int,
        type: str,
        message: str,
        details: dict[str, Any] | list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type
        self.message = message
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.status, "type": self.type, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


def not_found(what: str = "resource") -> APIError:
    return APIError(404, "not_found", f"{what} not found")


def conflict(message: str) -> APIError:
    return APIError(409, "conflict", message)


def error_response(err: APIError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status, headers=err.headers)


_STATUS_TYPES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for err in exc.errors():
        # Pydantic echoes the offending input; it may be a secret, so it never goes back.
        details.append({"loc": list(err.get("loc", ())), "msg": str(err.get("msg", "invalid"))})
    return details


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def _api_error(_: Request, exc: APIError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        err = APIError(422, "invalid_request", "the request is not valid", _validation_details(exc))
        return error_response(err)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        type_ = _STATUS_TYPES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else type_.replace("_", " ")
        return error_response(APIError(exc.status_code, type_, message, headers=dict(exc.headers or {})))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The exception's text may carry request data; log its type and the request id only.
        log.error(
            "unhandled %s on %s %s (request %s)",
            type(exc).__name__,
            request.method,
            request.url.path,
            request.headers.get("x-request-id", "-"),
        )
        return error_response(APIError(500, "internal_error", "the service failed to handle this request"))
