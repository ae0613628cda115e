"""The built-in web agent behind perform-web-task: guarded page fetching and a tool-calling loop.

:func:`fetch_page` opens one page (private-address guard on every redirect hop, size and time
caps, HTML/JSON/text) and reduces it to text and links; :class:`WebAgent` runs a task on a
binding's provider with ``open_page`` and ``finish`` tools. Routes, sessions, async runs and
storage live elsewhere and call these.
"""

from byok.webtasks.agent import AgentError, AgentResult, Output, Usage, UsageCallback, WebAgent
from byok.webtasks.pages import Link, Page, PageError, extract_html, fetch_page, render

__all__ = [
    "AgentError",
    "AgentResult",
    "Link",
    "Output",
    "Page",
    "PageError",
    "Usage",
    "UsageCallback",
    "WebAgent",
    "extract_html",
    "fetch_page",
    "render",
]
