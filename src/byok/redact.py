"""The one place that scrubs secrets out of text before it reaches a reply or a log.

Providers echo keys back in error messages, sometimes masked (OpenAI: ``sk-abc1***...wxyz``),
so an exact-match replace is not enough: masked runs and anything sharing the secret's
distinctive head or tail are removed too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"
_MASKED = re.compile(r"[\w\-.]*\*{3,}[\w\-.]*")
_PEM = re.compile(r"-----BEGIN [A-Z ]+-----.*?(-----END [A-Z ]+-----|$)", re.DOTALL)
_TOKEN = re.compile(r"[A-Za-z0-9_\-.~+/=]{12,}")


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """Return ``text`` without the secrets, their masked echoes, or PEM blocks."""
    cleaned = _PEM.sub(REDACTED, text)
    edges: list[tuple[str, str]] = []
    for secret in secrets:
        if not secret:
            continue
        for line in secret.splitlines() if "\n" in secret else [secret]:
            line = line.strip()
            if len(line) >= 4:
                cleaned = cleaned.replace(line, REDACTED)
        if len(secret) >= 16:
            edges.append((secret[:8], secret[-6:]))
    cleaned = _MASKED.sub(REDACTED, cleaned)
    if edges:
        # A long run that starts or ends like a secret is a partial echo of it.
        def _partial(match: re.Match[str]) -> str:
            word = match.group(0)
            for head, tail in edges:
                if word.startswith(head) or word.endswith(tail):
                    return REDACTED
            return word

        cleaned = _TOKEN.sub(_partial, cleaned)
    return cleaned
