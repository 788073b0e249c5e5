"""Requirement specs from the browser are data: PEP 508 requirements, nothing else.

Installer options, index settings, local paths and URLs are refused before
anything runs; index settings belong to the server's configuration.
"""

from __future__ import annotations

import re

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

MAX_SPEC_LENGTH = 200
MAX_SPECS = 32

# Archive endings that mean "a file", which a bare requirement never names.
_ARCHIVE = re.compile(r"\.(whl|zip|tar\.gz|tgz|tar\.bz2|tar|egg)$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class SpecError(ValueError):
    """A spec we refuse; the message says what is wrong in plain words."""


def parse_spec(raw: object) -> Requirement:
    if not isinstance(raw, str):
        raise SpecError(f"Each requirement must be a string, not {type(raw).__name__}.")
    text = raw.strip()
    if not text:
        raise SpecError("An empty requirement was given.")
    if len(text) > MAX_SPEC_LENGTH:
        raise SpecError(f"A requirement is longer than {MAX_SPEC_LENGTH} characters.")
    if _CONTROL.search(text):
        raise SpecError(f"{text!r} contains control characters.")
    if text.startswith("-"):
        raise SpecError(
            f"{text!r} is an installer option. Type package names with an optional version, "
            "such as requests or pandas==2.2.3; the package index is chosen by the server's "
            "settings (c.MarimoProxy.index_url)."
        )
    if "://" in text or text.lower().startswith(("git+", "file:", "hg+", "svn+", "bzr+")):
        raise SpecError(f"{text!r} is a URL. Only requirements from the configured package index are accepted.")
    if text.startswith((".", "/", "~", "\\")) or "/" in text or "\\" in text or _ARCHIVE.search(text):
        raise SpecError(f"{text!r} looks like a local path. Only requirements by name are accepted.")
    try:
        requirement = Requirement(text)
    except InvalidRequirement as error:
        raise SpecError(f"{text!r} is not a valid requirement (PEP 508): {error}") from None
    if requirement.url:
        raise SpecError(f"{text!r} names a direct URL. Only requirements by name are accepted.")
    return requirement


def parse_specs(raw: object) -> list[Requirement]:
    """Validate a request's list of specs; all of them or none."""
    if not isinstance(raw, list) or not raw:
        raise SpecError("Give at least one requirement, for example 'requests' or 'pandas==2.2.3'.")
    if len(raw) > MAX_SPECS:
        raise SpecError(f"At most {MAX_SPECS} requirements at a time.")
    return [parse_spec(item) for item in raw]


def parse_package_name(raw: str) -> str:
    """A bare distribution name (for uninstall), canonicalised."""
    requirement = parse_spec(raw)
    if requirement.specifier or requirement.extras or requirement.marker:
        raise SpecError(f"{raw!r}: give only the package's name to uninstall it.")
    return canonicalize_name(requirement.name)
