"""Keep secrets out of every log line the extension stores or shows.

marimo runs quiet (``-q``), so it should print no token; its output changes
between versions, so anything secret-shaped is masked as well.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "[hidden]"
_SECRET_SHAPED = re.compile(
    r"(?P<key>(?:access_token|token|password|secret)=)[^\s&\"'<>]+"
    r"|(?P<scheme>(?:Bearer|Basic|token)\s+)[A-Za-z0-9._~+/=-]{12,}"
    # Credentials in a URL (an index URL with user:password@ in it).
    r"|(?P<url>[a-z][a-z0-9+.-]*://)[^\s/@:]+:[^\s/@]+@",
    re.IGNORECASE,
)


def scrub(text: str, known_secrets: Iterable[str] = ()) -> str:
    for secret in known_secrets:
        if secret:
            text = text.replace(secret, MASK)
    def mask(match: re.Match) -> str:
        if match.group("url"):
            return match.group("url") + MASK + "@"
        return (match.group("key") or match.group("scheme")) + MASK

    return _SECRET_SHAPED.sub(mask, text)
