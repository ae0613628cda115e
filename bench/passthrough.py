"""The floor for this stack: a FastAPI pass-through that forwards the chat request to the upstream
with one shared httpx.AsyncClient, nothing else (no parsing, no auth, no database).

    python bench/passthrough.py --port 9001 --upstream http://127.0.0.1:9000/v1 [--transport aiohttp]
"""

from __future__ import annotations

import argparse
import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request, Response

UPSTREAM = os.environ.get("BENCH_UPSTREAM", "http://127.0.0.1:9000/v1")
TRANSPORT = os.environ.get("BENCH_TRANSPORT", "httpx")  # httpx | aiohttp
LIMITS = httpx.Limits(max_connections=200, max_keepalive_connections=100, keepalive_expiry=60.0)


def make_client() -> httpx.AsyncClient:
    transport = None
    if TRANSPORT == "aiohttp":
        from httpx_aiohttp import AiohttpTransport

        transport = AiohttpTransport(limits=LIMITS, trust_env=False)
    return httpx.AsyncClient(base_url=UPSTREAM, limits=LIMITS, transport=transport, trust_env=False)


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.client = make_client()
    yield
    await app.state.client.aclose()


app = FastAPI(lifespan=lifespan)


@app.post("/v1/chat/completions")
async def chat(request: Request) -> Response:
    headers = {"content-type": "application/json", "authorization": request.headers.get("authorization", "")}
    upstream = await request.app.state.client.post(
        "/chat/completions", content=await request.body(), headers=headers
    )
    return Response(upstream.content, upstream.status_code, media_type=upstream.headers.get("content-type"))


if __name__ == "__main__":
    import uvicorn

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9001)
    parser.add_argument("--upstream", default=UPSTREAM, help="base URL ending before /chat/completions")
    parser.add_argument("--transport", choices=("httpx", "aiohttp"), default=TRANSPORT)
    args = parser.parse_args()
    UPSTREAM, TRANSPORT = args.upstream, args.transport
    uvicorn.run(app, host=args.host, port=args.port, workers=1, access_log=False, log_level="warning")
