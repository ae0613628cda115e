"""A small website for the web-agent tests, served on loopback with ``tests.fakes.server.serve``.

Pages with links (relative and absolute, noise the reader must drop), a JSON page, a plain-text
page, redirects (relative, chained, looping, and pointing at forbidden places), a page far over
the size cap, slow pages, an image and error statuses. ``hits`` records every path requested,
so a test can prove a hop was never made.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse

INDEX = """<!doctype html>
<html><head><title>Acme Shop</title>
<style>body { color: red }</style>
<script>window.tracking = "SCRIPT-NOISE";</script></head>
<body>
<nav><a href="/">Home</a> | <a href="/about">About us</a> | <a href="/products">Products</a></nav>
<main>
  <h1>Welcome to Acme</h1>
  <p>Acme sells   fine
     widgets and gadgets.</p>
  <h2>Departments</h2>
  <ul><li>Widgets</li><li>Gadgets</li></ul>
  <p>See <a href="products">our products</a>, the <a href="/data.json">price feed</a>
     and the <a href="notes.txt#top">release notes</a>.</p>
  <p><a href="javascript:void(0)">click</a> <a href="mailto:shop@acme.test">mail us</a>
     <a href="#main">top</a> <a href="/about">About again</a>
     <a href="https://partner.example/deals?x=1">Partner deals</a></p>
  <div hidden>HIDDEN-NOISE</div>
</main>
<footer>FOOTER-NOISE Copyright Acme</footer>
</body></html>"""

ABOUT = """<html><head><title>About Acme</title></head><body>
<h1>About</h1><p>Acme was founded in 1999 by Ada Lovelace.</p><p><a href="/">Back home</a></p>
</body></html>"""

PRODUCTS = """<html><head><title>Products</title></head><body>
<h1>Products</h1>
<ul>
  <li><a href="/products/widget">Widget</a></li>
  <li><a href="/products/gadget">Gadget</a></li>
</ul></body></html>"""

WIDGET = """<html><head><title>Widget</title></head><body>
<h1>Widget</h1><p>The Widget costs 42 EUR and ships in 3 days.</p></body></html>"""

GADGET = """<html><head><title>Gadget</title></head><body>
<h1>Gadget</h1><p>The Gadget costs 17 EUR.</p></body></html>"""

META_CHARSET = '<html><head><meta charset="windows-1252"></head><body><p>Na\xefve fa\xe7ade</p></body></html>'
NOTES = "Release notes\n\n  v1.0   first release\n\n\n\nv1.1 faster widgets\n"
DATA = {"currency": "EUR", "products": [{"name": "Widget", "price": 42}, {"name": "Gadget", "price": 17}]}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
LARGE_CHUNK = "<p>" + "filler text " * 80 + "</p>\n"  # about 1 KB
LARGE_CHUNKS = 3000  # about 3 MB, over the 2 MB default cap
BOMB_SIZE = 50_000_000
BOMB = gzip.compress(b"A" * BOMB_SIZE)  # about 50 KB on the wire, 50 MB inflated
GZIP = {"content-encoding": "gzip"}


def build_site() -> tuple[FastAPI, list[str]]:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    hits: list[str] = []

    @app.middleware("http")
    async def record(request: Request, call_next):  # type: ignore[no-untyped-def]
        hits.append(request.url.path)
        return await call_next(request)

    def html(body: str) -> HTMLResponse:
        return HTMLResponse(body)

    def redirect(location: str, status: int = 302) -> Response:
        return Response(status_code=status, headers={"location": location})

    app.get("/")(lambda: html(INDEX))
    app.get("/about")(lambda: html(ABOUT))
    app.get("/products")(lambda: html(PRODUCTS))
    app.get("/products/widget")(lambda: html(WIDGET))
    app.get("/products/gadget")(lambda: html(GADGET))
    app.get("/data.json")(lambda: JSONResponse(DATA))
    app.get("/notes.txt")(lambda: PlainTextResponse(NOTES))
    app.get("/image.png")(lambda: Response(PNG, media_type="image/png"))
    app.get("/broken")(lambda: PlainTextResponse("boom", status_code=500))
    app.get("/redirect")(lambda: redirect("about", 301))  # relative Location
    app.get("/loop")(lambda: redirect("/loop"))
    app.get("/no-location")(lambda: Response(status_code=302))
    app.get("/to-metadata")(lambda: redirect("http://169.254.169.254/latest/meta-data/"))
    app.get("/to-file")(lambda: redirect("file:///etc/passwd"))
    app.get("/latin1")(
        lambda: Response("Café crème".encode("latin-1"), media_type="text/plain; charset=iso-8859-1")
    )
    app.get("/meta-charset")(
        lambda: Response(META_CHARSET.encode("cp1252"), headers={"content-type": "text/html"})
    )

    app.get("/gzip")(lambda: Response(gzip.compress(WIDGET.encode()), media_type="text/html", headers=GZIP))
    app.get("/bomb")(lambda: Response(BOMB, media_type="text/plain", headers=GZIP))
    app.get("/brotli")(
        lambda: Response(b"\x0b\x02\x80hi\x03", media_type="text/plain", headers={"content-encoding": "br"})
    )

    @app.get("/chain/{n}")
    async def chain(n: int) -> Response:
        return redirect(f"/chain/{n - 1}" if n > 0 else "/about", 307)

    @app.get("/to-loopback-alias")
    async def to_loopback_alias(request: Request) -> Response:
        # The same server's port on another loopback address: only the guard tells them apart.
        return redirect(f"http://127.0.0.2:{request.url.port}/about")

    @app.get("/to-credentials")
    async def to_credentials(request: Request) -> Response:
        return redirect(f"http://user:secret@127.0.0.1:{request.url.port}/about")

    @app.get("/large")
    async def large() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"<html><body><h1>START-MARKER</h1>"
            for _ in range(LARGE_CHUNKS):
                yield LARGE_CHUNK.encode()
            yield b"<p>END-MARKER</p></body></html>"

        return StreamingResponse(body(), media_type="text/html")

    @app.get("/slow")
    async def slow() -> HTMLResponse:
        await asyncio.sleep(3)
        return html(ABOUT)

    @app.get("/drip")
    async def drip() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"<html><body><p>"
            for _ in range(40):
                await asyncio.sleep(0.25)
                yield b"."

        return StreamingResponse(body(), media_type="text/html")

    return app, hits
