"""``GET /v1/providers``: the catalogue, so clients (the dashboard) hold no second copy of it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from byok.catalog import PROVIDERS, provider_class

router = APIRouter(tags=["providers"])


@router.get("/v1/providers")
async def list_providers() -> dict[str, Any]:
    data = []
    for spec in PROVIDERS.values():
        data.append(
            {
                "provider": spec.name,
                "label": spec.label,
                "fields": [asdict(f) for f in spec.fields],
                "example_models": list(spec.example_models),
                "default_models": spec.default_models,
                "agents": sorted(spec.agents),
                "verify_model": provider_class(spec.name).cheapest_model,
            }
        )
    return {"data": data}
