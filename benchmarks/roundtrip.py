"""Proxy round trip: ``GET /health`` through the proxy vs straight to marimo's port.

marimo running (opened once, not timed); then requests alternate between
``{base_url}marimo/health`` on Jupyter (with Jupyter's token, through
jupyter-server-proxy, which adds marimo's secret) and marimo's own port on
127.0.0.1 (``/health`` needs no secret). Each path keeps one connection open
(keep-alive), as a browser would. 20 warm-up requests each, not counted. The
peer is measured the same way (its marimo's port read from its command line
in /proc). Alone:

    python benchmarks/roundtrip.py [--smoke] [--json PATH]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness  # noqa: E402
from benchmarks.harness import Context, Jupyter  # noqa: E402

WARMUP = 20


def marimo_port(server: Jupyter) -> int:
    """The port of the marimo server that ``server`` started, from its command line."""
    for pid in harness.marimo_processes_under(server.proc.pid):
        args = harness.cmdline(pid)
        if "--port" in args:
            return int(args[args.index("--port") + 1])
    raise RuntimeError("no marimo process with --port under the Jupyter server")


def measure(server: Jupyter, direct_url: str, count: int) -> tuple[list[float], list[float]]:
    proxied_url = server.url + "marimo/health"
    direct = harness.loopback_session()
    via, straight = [], []

    def one(session, url: str) -> float:
        started = time.perf_counter()
        response = session.get(url, timeout=10)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code} {response.text[:200]}")
        return elapsed * 1000

    for _ in range(WARMUP):
        one(server.http, proxied_url)
        one(direct, direct_url)
    for _ in range(count):
        via.append(one(server.http, proxied_url))
        straight.append(one(direct, direct_url))
    return via, straight


def run(ctx: Context) -> None:
    count = 20 if ctx.smoke else 200
    fig = ctx.report.figure(
        "proxy round trip",
        f"`GET /health`, {count} requests on a kept-alive connection, through the proxy vs straight to marimo's port",
    )
    root = harness.write_notebooks(ctx.work / "roundtrip-root", 1)
    with ctx.our_server(root, ctx.work / "roundtrip-state") as server:
        harness.time_marimo_tab(server)
        status = server.get("jupyter-marimo-proxy/status").json()["marimo"]
        # The status's port is the launcher's front door (it wants the secret);
        # marimo itself listens on a private port the launch state names.
        launch = json.loads((server.state_dir / "run" / f"launch-{status['port']}.json").read_text())
        direct_url = f"http://{harness.LOOPBACK}:{launch['marimo_port']}{status['url']}health"
        via, direct = measure(server, direct_url, count)
    with ctx.peer_server(root) as peer:
        harness.time_marimo_tab(peer)
        peer_via, peer_direct = measure(peer, f"http://{harness.LOOPBACK}:{marimo_port(peer)}/marimo/health", count)
    fig.add("direct", "straight to marimo's port", "ms", direct)
    fig.add("proxied", "through the proxy", "ms", via, ref="direct")
    fig.add("peer_direct", "peer: straight to its marimo's port", "ms", peer_direct, short="peer direct")
    fig.add("peer_proxied", "peer: through the proxy", "ms", peer_via, ref="peer_direct")
    overhead = fig.series["proxied"].median - fig.series["direct"].median
    peer_overhead = fig.series["peer_proxied"].median - fig.series["peer_direct"].median
    fig.facts.update(overhead_ms=overhead, peer_overhead_ms=peer_overhead, requests=count)
    fig.goal(
        "median overhead reported, in ms",
        f"+{overhead:.1f} ms per request (peer: +{peer_overhead:.1f} ms)",
        None,
    )


if __name__ == "__main__":
    sys.exit(harness.standalone("roundtrip", run, __doc__, default_repeat=1))
