"""The small process jupyter-server-proxy starts for the ``marimo`` route.

Run as ``python -m jupyter_marimo_proxy.launcher <spec.json>`` on Jupyter's
interpreter. It makes sure the user venv exists, starts
``<venv>/bin/python -m marimo edit <root> ...`` on loopback in a process group
of its own, and stays as marimo's supervisor:

- jupyter-server-proxy signals only its direct child; the launcher passes a stop
  on to marimo's whole group (kernels, language server, installers), and stops
  them too if Jupyter dies without a word.
- If marimo cannot start, the launcher answers on marimo's port itself with a
  page that says why (the tail of marimo's log), instead of leaving the user
  with a bare proxy error after the timeout. After showing that page once it
  exits non-zero, so that jupyter-server-proxy starts it again on the next open.
- If marimo ends without being asked (crash, kill, clean exit), it is started
  again in place, unless it keeps dying (a crash loop ends on the failure page).
- With an idle timeout, marimo stops itself when unused; the launcher then
  answers on its port and starts it again on the next request.
- SIGHUP restarts marimo in place (same port, same secret).
"""

from __future__ import annotations

import html
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .layout import StateLayout
from .venv import ensure_venv, full_check, python_version_of, venv_python

LOOPBACK = "127.0.0.1"
LOG_TAIL_LINES = 40
STOP_GRACE_SECONDS = 5.0

# Exit codes, so jupyter-server-proxy's supervisor restarts us where that helps.
EXIT_STOPPED = 0
EXIT_START_FAILED = 4  # failure page shown: the next open tries again

# marimo dying more often than this is a crash loop, not bad luck.
CRASH_WINDOW_SECONDS = 60.0
MAX_RESTARTS_IN_WINDOW = 3

# Loopback health checks must never go through an HTTP proxy from the environment.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class LaunchSpec:
    state_dir: str
    root_dir: str
    port: int
    base_url: str
    secret_file: str
    startup_timeout: float
    base_python: str
    extra_marimo_args: list[str] = field(default_factory=list)
    uv_path: str | None = None
    idle_timeout: float = 0.0  # seconds; 0: never stop an idle marimo
    session_ttl: float = 0.0  # seconds; 0: marimo keeps sessions after their tab closes
    transport: str | None = None  # marimo's "websocket" or "sse"

    @classmethod
    def load(cls, path: str) -> "LaunchSpec":
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))


def marimo_command(spec: LaunchSpec, python: Path) -> list[str]:
    return [
        str(python),
        "-m",
        "marimo",
        "edit",
        spec.root_dir,
        "--headless",
        "--skip-update-check",
        "--no-sandbox",
        "--host",
        LOOPBACK,
        "--port",
        str(spec.port),
        "--base-url",
        spec.base_url,
        # The secret is read from a 0600 file: a command line is visible to `ps`.
        "--token-password-file",
        spec.secret_file,
        # marimo's own idle shutdown counts minutes without a connected session.
        *(["--timeout", f"{spec.idle_timeout / 60:g}"] if spec.idle_timeout else []),
        *(["--session-ttl", str(max(1, round(spec.session_ttl)))] if spec.session_ttl else []),
        *spec.extra_marimo_args,
    ]


def marimo_environment(spec: LaunchSpec, venv_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    # As if the venv were activated: marimo's installer and `!pip` in cells then
    # act on the venv. Jupyter's own bin dir follows, for the bundled uv.
    bin_dirs = [str(venv_python(venv_dir).parent), os.path.dirname(sys.executable)]
    env["PATH"] = os.pathsep.join(bin_dirs + [env.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(venv_dir)
    env.pop("PYTHONHOME", None)
    # Jupyter may run with PYTHONPATH pointing at its own environment; marimo
    # must resolve imports through the venv.
    env.pop("PYTHONPATH", None)
    if spec.transport:
        # Server-sent events instead of a websocket, for proxies that break websockets.
        env["MARIMO_SERVER_TRANSPORT"] = spec.transport
    if spec.uv_path:
        # marimo's own Install button then uses uv (`uv pip install -p <venv python>`),
        # the same installer as the sidebar, unless the user's marimo config says otherwise.
        env["UV"] = spec.uv_path
    return env


def _die_with_parent() -> None:
    """In marimo's child before exec: get SIGTERM when the launcher dies.

    Covers a hard kill of Jupyter and the launcher together (SIGKILL to the
    process group, OOM, a container stop), where nobody could stop marimo.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: the launcher's own parent check still applies


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        content = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(content.splitlines()[-lines:])


class StateWriter:
    """Writes the launch's state where the server extension's status API reads it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.facts: dict = {"launcher_pid": os.getpid()}

    def update(self, **facts) -> None:
        self.facts.update(facts, updated=time.time())
        tmp = self.path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(self.facts), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as error:
            # The state file only informs the status API; losing it (say, the
            # state dir was removed under us at shutdown) must not stop the
            # launcher from stopping marimo.
            print(f"jupyter-marimo-proxy: could not write {self.path}: {error}", file=sys.stderr)


class Launcher:
    def __init__(self, spec: LaunchSpec) -> None:
        self.spec = spec
        self.layout = StateLayout(Path(spec.state_dir))
        self.state = StateWriter(self.layout.launch_state_file(spec.port))
        self.marimo: subprocess.Popen | None = None
        self.stopping = threading.Event()
        self.restart_requested = threading.Event()
        self.parent_pid = os.getppid()
        self.recent_exits: list[float] = []

    # -- marimo's process group -------------------------------------------------

    def start_marimo(self) -> None:
        venv_dir = self.layout.venv_dir
        log = self.layout.marimo_log
        if log.exists():
            os.replace(log, log.with_suffix(".log.1"))
        with open(log, "ab") as log_handle:
            self.marimo = subprocess.Popen(
                marimo_command(self.spec, venv_python(venv_dir)),
                cwd=self.spec.root_dir,
                env=marimo_environment(self.spec, venv_dir),
                stdin=subprocess.DEVNULL,
                stdout=log_handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        self.state.update(state="starting", marimo_pid=self.marimo.pid, error=None)

    def stop_marimo(self) -> None:
        proc = self.marimo
        if proc is None:
            return
        for sig, wait in ((signal.SIGTERM, STOP_GRACE_SECONDS), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait)
                # The leader is gone; children in the group may linger a moment.
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue
            break
        self.marimo = None

    def wait_until_healthy(self) -> str | None:
        """None when marimo answers /health, else why it did not."""
        url = f"http://{LOOPBACK}:{self.spec.port}{self.spec.base_url}/health"
        deadline = time.monotonic() + self.spec.startup_timeout
        while time.monotonic() < deadline and not self.stopping.is_set():
            assert self.marimo is not None
            code = self.marimo.poll()
            if code is not None:
                return f"marimo exited with code {code} while starting."
            try:
                with _direct.open(url, timeout=2) as response:
                    if response.status == 200:
                        return None
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.1)
        if self.stopping.is_set():
            return "stopped while starting."
        return f"marimo did not answer within {self.spec.startup_timeout:g} seconds."

    # -- signals and the parent -------------------------------------------------

    def install_signal_handlers(self) -> None:
        def stop(signum, frame):
            self.stopping.set()

        def restart(signum, frame):
            self.restart_requested.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, restart)

    def parent_alive(self) -> bool:
        # Reparenting means Jupyter died without stopping us.
        return os.getppid() == self.parent_pid

    # -- the whole run ----------------------------------------------------------

    def prepare_venv(self) -> str | None:
        """A healthy venv, rebuilt if broken. Reinstalling the user's packages
        into a rebuilt venv is the server's job (a repair job), so marimo's
        start never waits for an install."""
        venv_dir = self.layout.venv_dir
        try:
            replaced = ensure_venv(venv_dir, self.spec.base_python, probe=True)
        except (OSError, subprocess.CalledProcessError) as error:
            detail = getattr(error, "stderr", "") or str(error)
            return f"Could not create the venv at {venv_dir}: {detail}"
        if replaced is not None:
            # The server reads this and reinstalls the manifest in a repair job.
            self.state.update(venv_rebuilt=True, venv_existed=replaced.exists, venv_problems=replaced.problems)
            report = full_check(venv_dir, python_version_of(self.spec.base_python))
            if not report.healthy:
                return "The new venv is not usable: " + " ".join(report.problems)
        return None

    def start_and_wait(self) -> str | None:
        self.state.update(state="starting", port=self.spec.port, error=None)
        self.start_marimo()
        error = self.wait_until_healthy()
        if error is None:
            self.state.update(state="running", started=time.time())
        return error

    def run(self) -> int:
        self.install_signal_handlers()
        self.state.update(state="starting", port=self.spec.port, error=None)
        error = self.prepare_venv() or self.start_and_wait()
        while not error:
            if self.stopping.is_set() or not self.parent_alive():
                self.shutdown()
                return EXIT_STOPPED
            if self.restart_requested.is_set():
                self.restart_requested.clear()
                self.stop_marimo()
                error = self.start_and_wait()
                continue
            assert self.marimo is not None
            code = self.marimo.poll()
            if code is None:
                time.sleep(0.2)
                continue
            self.stop_marimo()  # its group may outlive it
            if code == 0 and self.spec.idle_timeout:
                # marimo's own --timeout ended it: sleep until someone opens it again.
                self.state.update(state="idle", marimo_pid=None, error=None)
                if not self.wait_for_visitor():
                    self.shutdown()
                    return EXIT_STOPPED
                error = self.start_and_wait()
            else:
                error = self.restart_after_exit(code)
        self.stop_marimo()
        if self.stopping.is_set() or not self.parent_alive():
            self.shutdown()
            return EXIT_STOPPED
        return self.serve_failure(error)

    def restart_after_exit(self, code: int) -> str | None:
        """marimo ended without being asked (crash, kill, clean exit): start it again,
        unless it keeps dying right after starting."""
        now = time.monotonic()
        self.recent_exits = [t for t in self.recent_exits if now - t < CRASH_WINDOW_SECONDS] + [now]
        if len(self.recent_exits) > MAX_RESTARTS_IN_WINDOW:
            return (
                f"marimo exited with code {code} and has exited {len(self.recent_exits)} times "
                f"in {CRASH_WINDOW_SECONDS:g} seconds; not restarting it again."
            )
        self.state.update(state="starting", error=f"marimo exited with code {code}; restarting it.")
        return self.start_and_wait()

    def wait_for_visitor(self) -> bool:
        """Answer on marimo's port until a request comes, with a page that waits for
        marimo and reloads. False when told to stop instead."""
        page = waking_page(self.spec.base_url)
        stopped = serve_page_until_visited(
            self.spec.port,
            self.spec.base_url,
            page,
            lambda: self.stopping.is_set() or not self.parent_alive(),
            linger=0.0,
        )
        return not stopped

    def shutdown(self) -> None:
        """A deliberate stop: marimo's group ends and this launch's secret is removed."""
        self.stop_marimo()
        self.state.update(state="stopped", error=None)
        Path(self.spec.secret_file).unlink(missing_ok=True)

    # -- explaining a failed start ---------------------------------------------

    def serve_failure(self, error: str) -> int:
        log_path = self.layout.marimo_log
        tail = log_tail(log_path)
        self.state.update(state="failed", error=error, log_tail=tail)
        page = failure_page(error, tail, log_path)
        stopped = serve_page_until_visited(
            self.spec.port, self.spec.base_url, page, lambda: self.stopping.is_set() or not self.parent_alive()
        )
        return EXIT_STOPPED if stopped else EXIT_START_FAILED


def serve_page_until_visited(
    port: int, base_url: str, page_html: str, should_stop: Callable[[], bool], linger: float = 0.5
) -> bool:
    """Answer every request on marimo's port with ``page_html`` (503) until a user's
    request has been answered once.

    Returns True when told to stop, False when the page was shown (or the port
    was taken).
    """
    page = page_html.encode("utf-8")
    shown = threading.Event()

    class FailureHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self.send_response(503)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            # The proxy's readiness probe asks for "/"; a user's request
            # comes under marimo's base URL. Only the latter counts as seen.
            if self.path.startswith(base_url + "/") or self.path == base_url:
                shown.set()

        do_POST = do_GET  # noqa: N815

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            pass

    try:
        server = ThreadingHTTPServer((LOOPBACK, port), FailureHandler)
    except OSError:
        # The port is taken (perhaps by the broken marimo's leftovers): exit
        # and let the proxy report its own error.
        return False
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop = False
    while not shown.is_set():
        if should_stop():
            stop = True
            break
        time.sleep(0.2)
    time.sleep(linger)  # let the response reach the proxy before the port closes
    server.shutdown()
    server.server_close()
    return stop


def waking_page(base_url: str) -> str:
    health = json.dumps(base_url + "/health")
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Starting marimo</title>
<style>body {{ font-family: system-ui, sans-serif; margin: 2rem; }}</style></head>
<body>
<p id="marimo-proxy-waking">marimo was stopped after being idle; starting it again…</p>
<script>
(function poll() {{
  fetch({health}, {{cache: "no-store"}})
    .then(function (r) {{ if (r.ok) {{ location.reload(); }} else {{ setTimeout(poll, 500); }} }})
    .catch(function () {{ setTimeout(poll, 500); }});
}})();
</script>
</body></html>
"""


def failure_page(error: str, tail: str, log_path: Path | None) -> str:
    where = (
        f"The full log is at <code>{html.escape(str(log_path))}</code> on the server."
        if log_path
        else "The Jupyter server's log has the details."
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>marimo could not start</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; max-width: 60rem; }}
pre {{ background: #f4f4f4; padding: 1rem; overflow: auto; max-height: 30rem; }}
</style></head>
<body>
<h1>marimo could not start</h1>
<p id="marimo-proxy-error">{html.escape(error)}</p>
<p>Close this tab and open marimo again to retry. {where}</p>
<h2>Last lines of marimo's log</h2>
<pre id="marimo-proxy-log">{html.escape(tail) or "(empty)"}</pre>
</body></html>
"""


def explain_only(port: int, base_url: str, error: str) -> int:
    """Serve the failure page for a launch that could not even be prepared
    (for example an unwritable state directory)."""
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    parent = os.getppid()
    page = failure_page(error, "", None)
    stopped = serve_page_until_visited(port, base_url, page, lambda: stopping.is_set() or os.getppid() != parent)
    return EXIT_STOPPED if stopped else EXIT_START_FAILED


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 4 and args[0] == "--explain":
        return explain_only(int(args[1]), args[2], args[3])
    if len(args) != 1:
        print("usage: python -m jupyter_marimo_proxy.launcher <launch-spec.json>", file=sys.stderr)
        return 2
    return Launcher(LaunchSpec.load(args[0])).run()


if __name__ == "__main__":
    sys.exit(main())
