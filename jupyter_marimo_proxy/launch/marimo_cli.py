"""Every flag of ``marimo edit`` (and marimo's global flags), classified.

marimo gains flags between versions; tests/test_marimo_cli.py fails when one
appears here unclassified, so that each is looked at once: whether we set it,
leave it to the administrator (``c.MarimoProxy.extra_marimo_args``), or keep it
out on purpose.
"""

from __future__ import annotations

# Set by the launcher on every start; extra_marimo_args may not override them
# (they carry the security model: loopback, the secret, the route).
USED = {
    "--host": "loopback only",
    "--port": "a private port chosen by the launcher",
    "--headless": "no browser on the server",
    "--token-password-file": "the per-start secret, from a 0600 file",
    "--base-url": "Jupyter's base_url + marimo/",
    "--skip-update-check": "no network call at start",
    "--no-sandbox": "packages come from the user venv, not a sandbox",
    "--timeout": "c.MarimoProxy.idle_timeout",
    "--session-ttl": "c.MarimoProxy.session_ttl",
    "-q": "quiet: marimo's banner prints a URL with the token",
    "--quiet": "quiet: marimo's banner prints a URL with the token",
}

# Left to the administrator through c.MarimoProxy.extra_marimo_args.
EXPOSED = {
    "--watch": "reload notebooks changed on disk",
    "--skew-protection": "marimo's default",
    "--no-skew-protection": "for proxies that rewrite marimo's assets",
    "--trusted": "remote notebooks",
    "--untrusted": "remote notebooks",
    "--profile-dir": "where marimo keeps profiles",
    "--allow-origins": "CORS for other origins (the browser only talks to Jupyter's)",
    "--asset-url": "marimo's frontend assets from elsewhere",
    "--server-startup-command": "run a command when marimo starts",
    "--mcp": "marimo's MCP server",
    "--convert": "open non-marimo files",
    "-l": "marimo's log level",
    "--log-level": "marimo's log level",
    "-d": "development mode",
    "--development-mode": "development mode",
}

# Never passed: each would break the security model or the launch.
LEFT_OUT = {
    "--token": "auth is always on (with our secret)",
    "--no-token": "would let anyone on loopback in",
    "--token-password": "would put the secret on a command line",
    "-p": "the launcher chooses the port",
    "--proxy": "marimo is only reached through Jupyter's route",
    "--sandbox": "the user venv is the environment (marimo's install check needs it)",
    "--remote-url": "marimo's URL is Jupyter's route",
    "--mcp-allow-remote": "nothing listens beyond loopback",
    "-y": "no prompts: marimo runs headless",
    "--yes": "no prompts: marimo runs headless",
    "--version": "not a server flag",
}

CLASSIFIED = {**USED, **EXPOSED, **LEFT_OUT}


def refused_extra_args(args: list[str]) -> list[str]:
    """The flags in ``args`` (c.MarimoProxy.extra_marimo_args) that the extension
    sets itself or keeps out on purpose."""
    refused = []
    for arg in args:
        flag = arg.split("=", 1)[0]
        if flag in USED or flag in LEFT_OUT:
            refused.append(flag)
    return refused
