"""fetch_page against the loopback site: reading, redirects, the guard on every hop, and the caps."""

from __future__ import annotations

import ipaddress
import json
import time

import pytest

from byok import netguard
from byok.outbound import Outbound
from byok.webtasks import Link, PageError, extract_html, fetch_page, render
from byok.webtasks import pages as pages_module
from tests.webtasks.conftest import Site, closed_port, outbound_settings
from tests.webtasks.site import BOMB, BOMB_SIZE, DATA, LARGE_CHUNKS

SITE_IP = ipaddress.ip_address("127.0.0.1")


async def page_error(outbound: Outbound, url: str, **kwargs: object) -> PageError:
    with pytest.raises(PageError) as info:
        await fetch_page(outbound, url, **{"allow_private": True, **kwargs})  # type: ignore[arg-type]
    return info.value


# -- reading --------------------------------------------------------------------------------------


async def test_html_page_text_and_links(site: Site, lenient: Outbound) -> None:
    page = await fetch_page(lenient, site.url("/"), allow_private=True)
    assert (page.kind, page.status, page.title, page.truncated) == ("html", 200, "Acme Shop", False)
    assert page.url == page.requested_url == site.url("/")
    assert "# Welcome to Acme" in page.text and "## Departments" in page.text
    assert "Acme sells fine widgets and gadgets." in page.text  # whitespace collapsed
    assert "- Widgets\n- Gadgets" in page.text
    for noise in ("SCRIPT-NOISE", "color: red", "HIDDEN-NOISE", "FOOTER-NOISE", "Home | About us"):
        assert noise not in page.text
    assert page.links == (
        Link(site.url("/"), "Home"),
        Link(site.url("/about"), "About us"),
        Link(site.url("/products"), "Products"),  # the relative "products" resolves to the same page
        Link(site.url("/data.json"), "price feed"),
        Link(site.url("/notes.txt"), "release notes"),  # fragment dropped
        Link("https://partner.example/deals?x=1", "Partner deals"),
    )
    rendered = render(page)
    assert rendered.startswith(f"URL: {site.url('/')}\nTitle: Acme Shop")
    assert "- [Partner deals](https://partner.example/deals?x=1)" in rendered


async def test_json_page(site: Site, lenient: Outbound) -> None:
    page = await fetch_page(lenient, site.url("/data.json"), allow_private=True)
    assert (page.kind, page.content_type, page.links) == ("json", "application/json", ())
    assert json.loads(page.text) == DATA
    assert '\n  "currency": "EUR"' in page.text  # pretty-printed for the model


async def test_text_page(site: Site, lenient: Outbound) -> None:
    page = await fetch_page(lenient, site.url("/notes.txt"), allow_private=True)
    assert (page.kind, page.content_type) == ("text", "text/plain")
    assert page.text == "Release notes\n\nv1.0 first release\n\nv1.1 faster widgets"


async def test_charsets(site: Site, lenient: Outbound) -> None:
    assert (await fetch_page(lenient, site.url("/latin1"), allow_private=True)).text == "Café crème"
    page = await fetch_page(lenient, site.url("/meta-charset"), allow_private=True)
    assert page.text == "Naïve façade"


# -- redirects ------------------------------------------------------------------------------------


async def test_relative_redirect_is_followed(site: Site, lenient: Outbound) -> None:
    page = await fetch_page(lenient, site.url("/redirect"), allow_private=True)
    assert (page.url, page.requested_url, page.redirects) == (
        site.url("/about"),
        site.url("/redirect"),
        (site.url("/redirect"),),
    )
    assert "founded in 1999" in page.text


async def test_redirect_chain_within_and_over_the_limit(site: Site, lenient: Outbound) -> None:
    page = await fetch_page(lenient, site.url("/chain/4"), allow_private=True, max_redirects=5)
    assert page.url == site.url("/about") and len(page.redirects) == 5
    error = await page_error(lenient, site.url("/chain/5"), max_redirects=5)
    assert (error.reason, error.status) == ("too_many_redirects", None)
    assert "redirected more than 5 times" in error.message
    assert (await page_error(lenient, site.url("/loop"))).reason == "too_many_redirects"


async def test_redirect_without_location(site: Site, lenient: Outbound) -> None:
    error = await page_error(lenient, site.url("/no-location"))
    assert (error.reason, error.status) == ("bad_response", 302)


async def test_every_hop_passes_check_url(
    site: Site, lenient: Outbound, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A redirect to the cloud metadata address is refused before any connection is tried.

    The loopback site stands in for a public one: 127.0.0.1 counts as public and its plain-http
    origin passes the URL check; every other URL gets the real ``allow_private=False`` check.
    The outbound's own connection guard allows private addresses here, so only the per-hop
    re-check stands between the redirect and 169.254.169.254: without it the fetch would try
    to connect there and fail some other way.
    """
    real_check, real_public = netguard.check_url, netguard.is_public_address
    checked: list[str] = []

    def check_url(url: str, *, allow_private: bool) -> None:
        checked.append(url)
        real_check(url, allow_private=allow_private or url.startswith(site.origin + "/"))

    monkeypatch.setattr(netguard, "is_public_address", lambda ip: ip == SITE_IP or real_public(ip))
    monkeypatch.setattr(pages_module, "check_url", check_url)
    started = time.monotonic()
    error = await page_error(lenient, site.url("/to-metadata"), allow_private=False, timeout=5)
    assert error.reason == "endpoint_not_allowed", error.message
    assert error.url == "http://169.254.169.254/latest/meta-data/"
    assert "is not allowed" in error.message
    assert checked == [site.url("/to-metadata"), "http://169.254.169.254/latest/meta-data/"]
    assert time.monotonic() - started < 2


async def test_every_hop_passes_the_guarded_connection(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """With production's guard (no private networks) a redirect to another loopback address is refused.

    127.0.0.1 is made to count as public (the site stands in for a public one); 127.0.0.2, where
    the redirect points, is still internal. Only the guarded connection can refuse that hop
    (``check_url`` passes any literal when private networks are allowed for the URL check):
    without it the hop would be a plain "connection refused" (nothing listens on 127.0.0.2).
    """
    real = netguard.is_public_address
    monkeypatch.setattr(netguard, "is_public_address", lambda ip: ip == SITE_IP or real(ip))
    outbound = Outbound(outbound_settings(allow_private=False))  # fresh: no pooled connections
    try:
        assert (await fetch_page(outbound, site.url("/about"), allow_private=True)).title == "About Acme"
        error = await page_error(outbound, site.url("/to-loopback-alias"))
        assert error.reason == "endpoint_not_allowed", error.message
        assert error.url.startswith("http://127.0.0.2:")
        assert "private or internal address" in error.message
    finally:
        await outbound.aclose()


async def test_the_site_itself_is_refused_by_the_production_guard(site: Site, strict: Outbound) -> None:
    error = await page_error(strict, site.url("/about"))
    assert error.reason == "endpoint_not_allowed"


@pytest.mark.parametrize("path", ["/to-credentials", "/to-file"])
async def test_hops_with_credentials_or_other_schemes_are_refused(
    site: Site, lenient: Outbound, path: str
) -> None:
    """Refused even where private networks are allowed: without the hop check httpx would follow."""
    error = await page_error(lenient, site.url(path))
    assert error.reason == "endpoint_not_allowed", error.message


async def test_credentials_hop_never_reaches_the_site(site: Site, lenient: Outbound) -> None:
    before = site.hits.count("/about")
    await page_error(lenient, site.url("/to-credentials"))
    assert site.hits.count("/about") == before


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:9/", "endpoint_not_allowed"),  # plain http, loopback literal
        ("https://10.0.0.1/", "endpoint_not_allowed"),
        ("https://[::1]/", "endpoint_not_allowed"),
        ("https://localhost:1/", "endpoint_not_allowed"),  # a name: resolved and checked
        ("ftp://example.com/", "endpoint_not_allowed"),
        ("https://user:pw@example.com/", "endpoint_not_allowed"),
        ("https://[::1/", "invalid_url"),
    ],
)
async def test_refused_urls(lenient: Outbound, url: str, reason: str) -> None:
    """``allow_private=False`` holds even on an outbound whose own guard would let loopback through."""
    error = await page_error(lenient, url, allow_private=False)
    assert (error.reason, error.status) == (reason, None), error.message


# -- failures and caps ----------------------------------------------------------------------------


async def test_large_page_is_truncated_at_the_cap(site: Site, lenient: Outbound) -> None:
    page = await fetch_page(lenient, site.url("/large"), allow_private=True)
    assert page.truncated and page.text.startswith("# START-MARKER")
    assert "END-MARKER" not in page.text
    assert len(page.text) <= 20_002  # the text cap
    assert "(the page was too large and is truncated)" in render(page)


async def test_size_cap_counts_bytes_not_text(site: Site, lenient: Outbound) -> None:
    page = await fetch_page(
        lenient, site.url("/large"), allow_private=True, max_bytes=5_000, max_text_chars=10**6
    )
    assert page.truncated and "END-MARKER" not in page.text
    assert page.text.count("filler text") < 5_000 / len("filler text ")
    full = await fetch_page(
        lenient, site.url("/large"), allow_private=True, max_bytes=10**7, max_text_chars=10**7
    )
    assert not full.truncated and "END-MARKER" in full.text
    assert full.text.count("filler text") == 80 * LARGE_CHUNKS


async def test_gzip_is_inflated(site: Site, lenient: Outbound) -> None:
    page = await fetch_page(lenient, site.url("/gzip"), allow_private=True)
    assert page.title == "Widget" and "costs 42 EUR" in page.text


async def test_a_gzip_bomb_is_inflated_only_up_to_the_cap(site: Site, lenient: Outbound) -> None:
    page = await fetch_page(lenient, site.url("/bomb"), allow_private=True, max_text_chars=10**7)
    assert page.truncated and len(page.text) == 2_000_000
    assert len(BOMB) < 100_000 < BOMB_SIZE


async def test_an_unsupported_content_encoding(site: Site, lenient: Outbound) -> None:
    error = await page_error(lenient, site.url("/brotli"))
    assert error.reason == "bad_response" and "unsupported encoding br" in error.message


async def test_slow_page_times_out(site: Site, lenient: Outbound) -> None:
    started = time.monotonic()
    error = await page_error(lenient, site.url("/slow"), timeout=0.5)
    assert (error.reason, error.status) == ("timeout", None)
    assert "did not answer within 0.5 s" in error.message
    assert time.monotonic() - started < 2


async def test_dripping_page_hits_the_overall_deadline(site: Site, lenient: Outbound) -> None:
    """Each byte arrives well within the read timeout; the whole fetch still ends at ``timeout``."""
    started = time.monotonic()
    error = await page_error(lenient, site.url("/drip"), timeout=1.0)
    assert error.reason == "timeout"
    assert time.monotonic() - started < 2.5


async def test_unsupported_content_type(site: Site, lenient: Outbound) -> None:
    error = await page_error(lenient, site.url("/image.png"))
    assert error.reason == "unsupported_content_type"
    assert "image/png" in error.message and "HTML, JSON and text" in error.message


@pytest.mark.parametrize(("path", "status"), [("/missing", 404), ("/broken", 500)])
async def test_http_errors(site: Site, lenient: Outbound, path: str, status: int) -> None:
    error = await page_error(lenient, site.url(path))
    assert (error.reason, error.status) == ("http_error", status)
    assert f"answered HTTP {status}" in error.message


async def test_unreachable(lenient: Outbound) -> None:
    error = await page_error(lenient, f"http://127.0.0.1:{closed_port()}/")
    assert (error.reason, error.status) == ("unreachable", None)
    assert error.message.startswith("cannot reach 127.0.0.1")


# -- extraction alone -----------------------------------------------------------------------------


def test_extract_html_base_href_nested_noise_and_link_cap() -> None:
    anchors = "".join(f'<a href="p{i}">page {i}</a>' for i in range(150))
    html = (
        '<html><head><base href="https://docs.example/v2/"></head><body>'
        '<div aria-hidden="true">A<div hidden>B</div></div><p>Kept</p>'
        f"<table><tr><th>k</th><td>v</td></tr></table>{anchors}</body></html>"
    )
    title, text, links = extract_html(html, "https://docs.example/index.html", max_links=100)
    assert title is None
    assert text.startswith("Kept\n") and "k v" in text and "A" not in text.split("\n")
    assert len(links) == 100 and links[0] == Link("https://docs.example/v2/p0", "page 0")


def test_extract_html_survives_deep_and_broken_markup() -> None:
    deep = "<div>" * 5_000 + "deep text" + "</div>" * 10
    assert "deep text" in extract_html(deep, "https://x.example/")[1]
    title, text, _ = extract_html("<title>T</title><p>unclosed <b>bold", "https://x.example/")
    assert (title, text) == ("T", "unclosed bold")
