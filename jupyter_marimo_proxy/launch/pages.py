"""The page the launcher shows in marimo's tab when marimo could not start."""

from __future__ import annotations

import html
from pathlib import Path


def failure_page(error: str, tail: str, log_path: Path | None) -> str:
    where = (
        f"The full log is at <code>{html.escape(str(log_path))}</code> on the server."
        if log_path
        else "The Jupyter server's log has the details."
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>marimo could not start</title>
<style>
body {{ font-family: var(--jp-ui-font-family, system-ui, sans-serif); margin: 2rem; max-width: 60rem; }}
pre {{ background: #f4f4f4; padding: 1rem; overflow: auto; max-height: 30rem; }}
</style></head>
<body>
<h1>marimo could not start</h1>
<p id="marimo-proxy-error">{html.escape(error)}</p>
<p>Reload this tab to try again. {where}</p>
<h2>Last lines of marimo's log</h2>
<pre id="marimo-proxy-log">{html.escape(tail) or "(empty)"}</pre>
</body></html>
"""
