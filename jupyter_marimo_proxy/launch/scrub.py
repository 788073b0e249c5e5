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
    r"|(?P<scheme>(?:Bearer|Basic|token)\s+)[A-Za-z0-9._~+/=-]{12,}",
    re.IGNORECASE,
)


def scrub(text: str, known_secrets: Iterable[str] = ()) -> str:
    for secret in known_secrets:
        if secret:
            text = text.replace(secret, MASK)
    return _SECRET_SHAPED.sub(lambda m: (m.group("key") or m.group("scheme")) + MASK, text)
