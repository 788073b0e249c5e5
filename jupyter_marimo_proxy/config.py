"""Server-side settings, read from Jupyter's configuration as ``c.MarimoProxy.*``."""

from __future__ import annotations

import ast
import os
from pathlib import Path

from jupyter_core.paths import jupyter_data_dir
from traitlets import Bool, Enum, Float, List, TraitError, Unicode, default, validate
from traitlets.config import Configurable

# A container mounts its persistent volume somewhere of its own choosing; an
# environment variable lets it point us there without writing Jupyter config.
STATE_DIR_ENV = "JUPYTER_MARIMO_PROXY_STATE_DIR"

LIST_SETTINGS = ("extra_index_urls", "find_links", "extra_marimo_args")


def unpack_list_setting(name: str, value: list) -> list[str]:
    """A list setting as a list of strings.

    On Jupyter's command line a setting of a class Jupyter does not know
    (``--MarimoProxy.extra_marimo_args='["--watch"]'``) arrives as one string
    holding the whole list: unpack it, as Jupyter does for its own settings.
    Something that only looks like a list is an error naming the setting,
    never an argument passed on as it was written.
    """
    items: list[str] = []
    for item in value:
        text = item.strip() if isinstance(item, str) else item
        if isinstance(text, str) and (text.startswith("[") or text.endswith("]")):
            try:
                parsed = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                parsed = None
            if not isinstance(parsed, (list, tuple)) or not all(isinstance(p, str) for p in parsed):
                raise TraitError(
                    f"c.MarimoProxy.{name}: {item!r} is not a list of strings. Write it as "
                    f"--MarimoProxy.{name}='[\"a\", \"b\"]' on the command line, or "
                    f"c.MarimoProxy.{name} = [\"a\", \"b\"] in a config file."
                )
            items.extend(parsed)
        elif isinstance(item, str):
            items.append(item)
        else:
            raise TraitError(f"c.MarimoProxy.{name}: {item!r} is not a string.")
    return items


class MarimoProxy(Configurable):
    """Where the user venv lives and how marimo is started."""

    state_dir = Unicode(
        help=(
            "Directory that survives restarts: holds the user venv, the package "
            "manifest and marimo's logs. Defaults to $" + STATE_DIR_ENV + ", else "
            "<jupyter data dir>/marimo-proxy."
        ),
    ).tag(config=True)

    @default("state_dir")
    def _default_state_dir(self) -> str:
        return os.environ.get(STATE_DIR_ENV) or str(Path(jupyter_data_dir()) / "marimo-proxy")

    startup_timeout = Float(
        60.0,
        help="Seconds marimo may take to answer its health check before the start counts as failed.",
    ).tag(config=True)

    installer = Enum(
        ["auto", "uv", "pip"],
        default_value="auto",
        help="Installer for the user venv: 'uv' (bundled), 'pip', or 'auto' (uv when available).",
    ).tag(config=True)

    index_url = Unicode(
        "",
        help="Package index for installs (--index-url). Empty: the installer's own settings (PIP_INDEX_URL, UV_INDEX_URL, pip.conf, uv.toml).",
    ).tag(config=True)

    extra_index_urls = List(Unicode(), help="Additional package indexes (--extra-index-url).").tag(config=True)

    find_links = List(
        Unicode(),
        help="Folders or pages with wheels (--find-links), e.g. an offline wheelhouse.",
    ).tag(config=True)

    no_index = Bool(False, help="Install only from find_links, never from an index (--no-index).").tag(config=True)

    idle_timeout = Float(
        0.0,
        help=(
            "Stop marimo after this many seconds without a connected notebook (0: never). "
            "The next open starts it again."
        ),
    ).tag(config=True)

    session_ttl = Float(
        0.0,
        help=(
            "Seconds after its last tab closes before marimo ends a notebook's session (its kernel); "
            "0 keeps sessions until marimo stops, as Jupyter keeps kernels after a tab closes."
        ),
    ).tag(config=True)

    transport = Enum(
        ["websocket", "sse"],
        default_value="websocket",
        help=(
            "How marimo's page talks to its server: 'websocket', or 'sse' (server-sent events) "
            "behind proxies that break websockets (reported on SageMaker)."
        ),
    ).tag(config=True)

    requirements = Unicode(
        "",
        help=(
            "A requirements file installed into the user venv in the background when Jupyter "
            "starts (a job shown in the sidebar); marimo opens meanwhile."
        ),
    ).tag(config=True)

    extra_marimo_args = List(
        Unicode(),
        help="Extra arguments appended to `marimo edit` (for example ['--watch']).",
    ).tag(config=True)

    base_python = Unicode(
        help=(
            "Interpreter the user venv is built on. Defaults to the interpreter "
            "running Jupyter, so marimo and its dependencies are already there."
        ),
    ).tag(config=True)

    @validate(*LIST_SETTINGS)
    def _validate_list_setting(self, proposal):
        return unpack_list_setting(proposal["trait"].name, proposal["value"])

    @default("base_python")
    def _default_base_python(self) -> str:
        import sys

        return sys.executable
