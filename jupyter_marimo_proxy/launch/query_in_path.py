"""A websocket's query string carried in its path, put back before marimo reads it.

SageMaker Studio's proxy is reported to drop the query string of websocket
upgrade requests: marimo's ``/ws?session_id=…&file=…`` arrives as ``/ws`` and
is refused. The script our route adds to marimo's page (``connection_shim.py``)
opens ``<base>/_jmp_q/<query, base64url>/ws`` instead; the front door, which
reads every request head anyway, turns that back into ``<base>/ws?<query>``.
"""

from __future__ import annotations

import base64
import binascii
import re

MARKER = b"/_jmp_q/"
# The request line: method, target, version. Only the target changes.
_REQUEST_LINE = re.compile(rb"^([A-Z]+) (\S+) (HTTP/\d\.\d)$")
_TOKEN = re.compile(rb"^[A-Za-z0-9_-]*$")


def encode_query(query: str) -> str:
    return base64.urlsafe_b64encode(query.encode("utf-8")).decode("ascii").rstrip("=")


def decode_query(token: bytes) -> bytes | None:
    if not _TOKEN.match(token):
        return None
    try:
        return base64.urlsafe_b64decode(token + b"=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None


def restored_target(target: bytes) -> bytes:
    """``/base/_jmp_q/<q>/rest?extra`` -> ``/base/rest?<q>&extra``; other targets unchanged."""
    path, sep, extra = target.partition(b"?")
    at = path.find(MARKER)
    if at < 0:
        return target
    token, slash, rest = path[at + len(MARKER):].partition(b"/")
    query = decode_query(token)
    if query is None or not slash or any(c in query for c in b"\r\n #"):
        return target
    joined = b"&".join(part for part in (query, extra) if part)
    return path[:at] + b"/" + rest + (b"?" + joined if joined else b"")


def restore_query(head: bytes) -> bytes:
    """The request head with its target's query taken back out of the path."""
    line, sep, rest = head.partition(b"\r\n")
    match = _REQUEST_LINE.match(line)
    if not match or MARKER not in match.group(2):
        return head
    method, target, version = match.groups()
    return b" ".join((method, restored_target(target), version)) + sep + rest
