"""Fetching one web page for the agent: guarded, bounded, and reduced to text and links.

Every URL a web task opens comes from a user or from a page, so it is treated like a
user-supplied ``base_url``: each hop, the first and every redirect, passes :func:`check_url`
(scheme, credentials, internal literals) and then the guarded connection of
``outbound.guarded`` (which resolves the host once and connects only to the address it checked).
The guarded client never follows redirects; this module does, hop by hop, so that no hop skips
the gate.

Limits and the choices behind them:

* **Size**: the body is streamed and inflated (gzip/deflate) here, and reading stops at
  ``max_bytes`` of *decoded* bytes, so a compression bomb costs no more than a plain page. A page
  over the cap is *truncated*, not refused: the first two megabytes of an HTML page carry nearly
  all of its readable text, and an agent is better served by most of a page than by none. The
  :class:`Page` says ``truncated=True`` and the agent tells the model. The extracted text is
  capped too (``max_text_chars``, 20,000), and so are the links (``max_links``, 100).
* **Time**: ``timeout`` bounds connect and each read, and also the whole fetch, redirects
  included, so a server dripping one byte at a time cannot hold a task.
* **Types**: HTML (``text/html``, ``application/xhtml+xml``), JSON (``application/json``,
  ``*+json``) and any other ``text/*``; the rest (images, PDFs, archives) is refused from the
  headers, before the body is read.

HTML is parsed with selectolax (the Lexbor engine: a fast, maintained HTML5 parser that copes
with broken and truncated markup as browsers do).
"""

from __future__ import annotations

import asyncio
import codecs
import json
import re
import zlib
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import urldefrag, urljoin, urlsplit

import httpcore
import httpx
from selectolax.lexbor import LexborHTMLParser, LexborNode

from byok.netguard import EndpointNotAllowed, check_url, resolve_public
from byok.outbound import Outbound

PageErrorReason = Literal[
    "endpoint_not_allowed",
    "invalid_url",
    "unreachable",
    "timeout",
    "http_error",
    "too_many_redirects",
    "unsupported_content_type",
    "bad_response",
]
PageKind = Literal["html", "json", "text"]

MAX_TEXT_CHARS = 20_000
MAX_LINKS = 100
MAX_LINK_TEXT = 120
USER_AGENT = "byok-web-agent/0.1"
_ACCEPT = "text/html,application/xhtml+xml,application/json;q=0.9,text/plain;q=0.8,text/*;q=0.7"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

# Removed before the text is read: code, styling, embedded media and page chrome.
_NOISE_TAGS = (
    "script style noscript template svg canvas iframe object embed nav footer aside button select".split()
)
_NOISE_SELECTOR = "[hidden], [aria-hidden=true], [role=navigation], [role=banner], [role=contentinfo]"
_BLOCKS = frozenset(
    """address article blockquote body dd details dialog div dl dt fieldset figcaption figure form header
    hgroup hr html main ol p pre section summary table tbody thead tfoot tr ul caption""".split()
)
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_SKIP_LINK_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "#")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_SPACES = re.compile(r"[^\S\n]+")
_WHITESPACE = re.compile(r"\s+")


class PageError(Exception):
    """A page could not be opened; ``message`` is one clear sentence, safe to show the model and user.

    ``status`` is the page's own HTTP status when the server answered with an error, else None.
    ``reason`` says which kind of failure it was, so callers can map it (a refused address is
    the caller's mistake, a 404 is the site's answer).
    """

    def __init__(self, message: str, status: int | None = None, *, reason: PageErrorReason, url: str) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason: PageErrorReason = reason
        self.url = url


@dataclass(frozen=True)
class Link:
    url: str
    text: str


@dataclass(frozen=True)
class Page:
    """One opened page. ``url`` is where the content came from, after redirects."""

    url: str
    requested_url: str
    status: int
    kind: PageKind
    content_type: str
    title: str | None
    text: str
    links: tuple[Link, ...] = ()
    #: The body was cut at ``max_bytes`` or the text at ``max_text_chars``.
    truncated: bool = False
    redirects: tuple[str, ...] = ()


async def fetch_page(
    outbound: Outbound,
    url: str,
    *,
    allow_private: bool,
    max_bytes: int = 2_000_000,
    timeout: float = 15,
    max_redirects: int = 5,
    max_text_chars: int = MAX_TEXT_CHARS,
    max_links: int = MAX_LINKS,
) -> Page:
    """GET ``url`` through the guard, following up to ``max_redirects`` redirects, and read it.

    Raises :class:`PageError` for a refused address, an unreachable host, a timeout, an HTTP
    error status, too many redirects or an unsupported content type.
    """
    limits = _Limits(max_bytes, timeout, max_redirects, max_text_chars, max_links)
    try:
        async with asyncio.timeout(timeout):
            return await _fetch(outbound, url, allow_private, limits)
    except TimeoutError:
        raise PageError(f"{url} did not answer within {timeout:g} s", reason="timeout", url=url) from None


@dataclass(frozen=True)
class _Limits:
    max_bytes: int
    timeout: float
    max_redirects: int
    max_text_chars: int
    max_links: int


async def _fetch(outbound: Outbound, url: str, allow_private: bool, limits: _Limits) -> Page:
    current = urldefrag(url.strip()).url
    hops: list[str] = []
    headers = {"user-agent": USER_AGENT, "accept": _ACCEPT, "accept-encoding": "gzip, deflate"}
    while True:
        await _check(outbound, current, allow_private)
        try:
            async with outbound.guarded.stream(
                "GET", current, headers=headers, timeout=httpx.Timeout(limits.timeout)
            ) as response:
                location = _redirect_target(response, current)
                if location is None:
                    kind, media_type = _kind(response.headers.get("content-type"), current)
                    body, truncated = await _read(response, current, limits.max_bytes)
                    content = _decode(body, response.charset_encoding, kind)
                    page = Page(current, url, response.status_code, kind, media_type, None, content)
                    return _extract(page, truncated, tuple(hops), limits)
        except (httpx.HTTPError, httpx.InvalidURL, EndpointNotAllowed, OSError) as exc:
            raise _failure(exc, current, limits.timeout) from None
        if len(hops) >= limits.max_redirects:
            raise PageError(
                f"{url} redirected more than {limits.max_redirects} times",
                reason="too_many_redirects",
                url=url,
            )
        hops.append(current)
        current = location


def _redirect_target(response: httpx.Response, url: str) -> str | None:
    """Where a redirect points (resolved against ``url``), None for content; raises on an error."""
    status = response.status_code
    if status in _REDIRECTS:
        location = response.headers.get("location", "").strip()
        if not location:
            raise PageError(
                f"{url} answered a redirect without a Location", status, reason="bad_response", url=url
            )
        target: str = urldefrag(urljoin(url, location)).url
        return target
    if status >= 300:
        phrase = f" {response.reason_phrase}" if response.reason_phrase else ""
        raise PageError(f"{url} answered HTTP {status}{phrase}", status, reason="http_error", url=url)
    return None


def _failure(exc: Exception, url: str, timeout: float) -> PageError:
    if isinstance(exc, EndpointNotAllowed):
        return PageError(f"{url} is not allowed: {exc}", reason="endpoint_not_allowed", url=url)
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return PageError(f"{url} is not a valid URL", reason="invalid_url", url=url)
    if isinstance(exc, httpx.TimeoutException):
        return PageError(f"{url} did not answer within {timeout:g} s", reason="timeout", url=url)
    if isinstance(exc, httpx.DecodingError):
        return PageError(f"{url} sent a body that cannot be decoded", reason="bad_response", url=url)
    host = urlsplit(url).hostname or url
    return PageError(f"cannot reach {host} ({type(exc).__name__})", reason="unreachable", url=url)


async def _check(outbound: Outbound, url: str, allow_private: bool) -> None:
    """Refuse a hop before any connection: :func:`check_url`, and a lookup when the caller is stricter.

    The guarded connection enforces ``outbound``'s own setting. A caller asking for less than
    that (``allow_private=False`` on a client that allows private networks) gets the host
    resolved and checked here too, so the stricter policy holds for names as well as literals.
    """
    try:
        check_url(url, allow_private=allow_private)
        if not allow_private and outbound.settings.allow_private_networks:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            await resolve_public(parts.hostname or "", port, allow_private=False)
    except EndpointNotAllowed as exc:
        raise PageError(f"{url} is not allowed: {exc}", reason="endpoint_not_allowed", url=url) from None
    except ValueError:  # urlsplit refuses e.g. "http://[::1" or a bad port
        raise PageError(f"{url} is not a valid URL", reason="invalid_url", url=url) from None
    except httpcore.ConnectError:
        host = urlsplit(url).hostname or url
        raise PageError(f"cannot resolve {host}", reason="unreachable", url=url) from None


def _kind(content_type: str | None, url: str) -> tuple[PageKind, str]:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type in ("text/html", "application/xhtml+xml"):
        return "html", media_type
    if media_type in ("application/json", "text/json") or media_type.endswith("+json"):
        return "json", media_type
    if media_type.startswith("text/"):
        return "text", media_type
    if not media_type:  # servers that send none: parse as HTML, which reads plain text as is too
        return "html", "text/html"
    raise PageError(
        f"{url} is {media_type}, which the web agent cannot read (it reads HTML, JSON and text pages)",
        reason="unsupported_content_type",
        url=url,
    )


async def _read(response: httpx.Response, url: str, max_bytes: int) -> tuple[bytes, bool]:
    """The decompressed body up to ``max_bytes``; True when there was more.

    Decompression is done here, on the raw stream, with the output bounded: httpx's own
    decoders would inflate a whole network chunk at once, and a small gzip bomb can turn one
    chunk into many megabytes before any cap is checked.
    """
    encoding = response.headers.get("content-encoding", "").strip().lower()
    inflater = None
    if encoding in ("gzip", "x-gzip", "deflate"):
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # zlib or gzip header, detected
    elif encoding not in ("", "identity"):
        raise PageError(
            f"{url} is sent with the unsupported encoding {encoding}", reason="bad_response", url=url
        )
    body = bytearray()
    async for raw in response.aiter_raw():
        try:
            body += inflater.decompress(raw, max_bytes + 1 - len(body)) if inflater else raw
        except zlib.error:
            raise PageError(
                f"{url} sent a body that cannot be decoded", reason="bad_response", url=url
            ) from None
        if len(body) > max_bytes:
            return bytes(body[:max_bytes]), True
    return bytes(body), False


def _decode(body: bytes, charset: str | None, kind: PageKind) -> str:
    candidates = [charset]
    if kind == "html" and (found := _META_CHARSET.search(body[:4096])):
        candidates.append(found.group(1).decode("ascii", "replace"))
    for candidate in candidates:
        if candidate:
            try:
                return body.decode(codecs.lookup(candidate).name, errors="replace")
            except LookupError:
                continue
    return body.decode("utf-8", errors="replace")


def _extract(page: Page, truncated: bool, hops: tuple[str, ...], limits: _Limits) -> Page:
    """Turn the decoded body (in ``page.text``) into the page's readable text, title and links."""
    title: str | None = None
    links: tuple[Link, ...] = ()
    if page.kind == "html":
        title, text, links = extract_html(page.text, page.url, max_links=limits.max_links)
    elif page.kind == "json":
        try:
            text = json.dumps(json.loads(page.text), indent=2, ensure_ascii=False)
        except ValueError:  # truncated or not really JSON: show it as it came
            text = tidy(page.text)
    else:
        text = tidy(page.text)
    if len(text) > limits.max_text_chars:
        text = text[: limits.max_text_chars].rstrip() + " …"
        truncated = True
    return replace(page, title=title, text=text, links=links, truncated=truncated, redirects=hops)


def tidy(text: str) -> str:
    """Collapse runs of spaces within lines and of blank lines, keeping line structure."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def extract_html(
    html: str, base_url: str, *, max_links: int = MAX_LINKS
) -> tuple[str | None, str, tuple[Link, ...]]:
    """The title, the readable text and the links of an HTML document.

    Links are read before the page chrome is removed: navigation menus are exactly what an
    agent follows, even though their text is noise in the page's reading.
    """
    tree = LexborHTMLParser(html)
    title_node = tree.css_first("title")
    title = _one_line(title_node.text()) if title_node is not None else None
    base = base_url
    base_node = tree.css_first("base[href]")
    if base_node is not None:
        href = (base_node.attributes.get("href") or "").strip()
        candidate = urljoin(base_url, href)
        if urlsplit(candidate).scheme in ("http", "https"):
            base = candidate
    links = _links(tree, base, max_links)
    tree.strip_tags(_NOISE_TAGS, recursive=True)
    _remove_outermost(tree.css(_NOISE_SELECTOR))
    root = tree.body or tree.root
    text = tidy(_text(root)) if root is not None else ""
    return title or None, text, links


def _one_line(text: str) -> str:
    return _SPACES.sub(" ", text.replace("\n", " ")).strip()


def _links(tree: LexborHTMLParser, base: str, max_links: int) -> tuple[Link, ...]:
    seen: set[str] = set()
    links: list[Link] = []
    for anchor in tree.css("a[href]"):
        href = (anchor.attributes.get("href") or "").strip()
        if not href or href.lower().startswith(_SKIP_LINK_SCHEMES):
            continue
        try:
            absolute = urldefrag(urljoin(base, href)).url
            parts = urlsplit(absolute)
        except ValueError:
            continue
        if parts.scheme not in ("http", "https") or not parts.hostname or absolute in seen:
            continue
        seen.add(absolute)
        label = (
            _one_line(anchor.text()) or anchor.attributes.get("title") or anchor.attributes.get("aria-label")
        )
        links.append(Link(url=absolute, text=(label or "")[:MAX_LINK_TEXT]))
        if len(links) >= max_links:
            break
    return tuple(links)


def _remove_outermost(nodes: list[LexborNode]) -> None:
    """Decompose matched nodes, skipping those inside another match (already gone with it)."""
    matched = {node.mem_id for node in nodes}
    for node in nodes:
        parent = node.parent
        nested = False
        while parent is not None:
            if parent.mem_id in matched:
                nested = True
                break
            parent = parent.parent
        if not nested:
            node.decompose()


def _text(root: LexborNode) -> str:
    """Walk the tree without recursion (deep documents exist) and lay out blocks as lines.

    Source line breaks are just spaces in HTML; lines come from the block structure alone,
    except inside ``<pre>``.
    """
    parts: list[str] = []
    in_pre = 0
    stack: list[tuple[LexborNode, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        tag = node.tag or ""
        if leaving:
            in_pre -= tag == "pre"
            if tag in _BLOCKS or tag in _HEADINGS:  # not li: the next item starts its own line
                parts.append("\n")
            continue
        if node.is_text_node:
            text = node.text_content or ""
            parts.append(text if in_pre else _WHITESPACE.sub(" ", text))
            continue
        if not node.is_element_node:
            continue  # comments
        in_pre += tag == "pre"
        if tag in _HEADINGS:
            parts.append("\n\n" + "#" * _HEADINGS[tag] + " ")
        elif tag == "li":
            parts.append("\n- ")
        elif tag == "br":
            parts.append("\n")
        elif tag in ("td", "th"):
            parts.append(" ")
        elif tag in _BLOCKS:
            parts.append("\n")
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(list(node.iter(include_text=True))))
    return "".join(parts)


def render(page: Page, *, max_chars: int | None = None) -> str:
    """The page as the model reads it: where it is, its text, then its links."""
    head = [f"URL: {page.url}"]
    if page.title:
        head.append(f"Title: {page.title}")
    head.append(f"Content-Type: {page.content_type}")
    if page.truncated:
        head.append("(the page was too large and is truncated)")
    text = page.text if max_chars is None else page.text[:max_chars]
    sections = ["\n".join(head), "--- text ---\n" + (text or "(no readable text)")]
    if page.links:
        listing = "\n".join(f"- [{link.text or 'link'}]({link.url})" for link in page.links)
        sections.append(f"--- links ({len(page.links)}) ---\n{listing}")
    return "\n\n".join(sections)
