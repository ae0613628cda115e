from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, field_validator

from byok.db import isoformat
from byok.sessions.schemas import BindingRequest
from byok.webtasks.models import WebTaskRun


class PerformWebTaskIn(BindingRequest):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    prompt: str = Field(min_length=1, max_length=20_000)
    url: str | None = Field(default=None, max_length=4096)
    max_steps: int = Field(default=20, ge=1, le=100)
    output_schema: dict[str, Any] | None = None
    run_async: bool = Field(default=False, alias="async")

    @field_validator("output_schema")
    @classmethod
    def _valid_schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        from jsonschema import exceptions, validators

        try:
            validators.validator_for(value).check_schema(value)
        except exceptions.SchemaError as exc:
            raise ValueError(f"not a valid JSON Schema: {exc.message}") from None
        return value


def status_view(run: WebTaskRun) -> dict[str, Any]:
    view: dict[str, Any] = {
        "status": run.status,
        "workflow_id": run.id,
        "created_at": isoformat(run.created_at),
    }
    if run.status == "COMPLETED" and run.result is not None:
        # The same fields as a sync reply: result (output, pages, steps), model and usage.
        view.update(run.result)
        view["session_id"] = run.session_id
    if run.status == "FAILED":
        view["error"] = run.error
        if run.error_details:
            view["details"] = run.error_details
    return view
