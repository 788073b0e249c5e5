"""The small process jupyter-server-proxy starts for the ``marimo`` route.

Run as ``python -P -m jupyter_marimo_proxy.launcher <spec.json>`` on Jupyter's
interpreter. It binds the port jupyter-server-proxy gave it (see
``launch/front_door.py``), makes sure the user venv exists, starts
``<venv>/bin/python -I -m marimo -q edit <root> ...`` on a private loopback port
in a process group of its own, and stays as marimo's supervisor:

- Every start of marimo gets a fresh secret (first start, restart, crash
  relaunch, wake after idling), written to the launch's 0600 secret file, where
  the Jupyter server reads it for the proxy's ``Authorization`` header. A
  secret seen once is worthless after the next start.
- jupyter-server-proxy signals only its direct child; the launcher ends
  marimo's whole group (kernels, language server, installers). If the launcher
  itself is killed, marimo gets SIGTERM (PR_SET_PDEATHSIG) and a forked guard
  ends the rest of the group (``launch/guard.py``).
- Signals only set flags that the event loop reads (``loop.add_signal_handler``):
  a second SIGTERM during the first one's shutdown cannot deadlock anything.
- marimo ending without being asked (crash, kill, clean exit) is started
  again, unless it keeps dying; then the tab gets a page that says why, and the
  next request tries again. With an idle timeout marimo stops itself when
  unused and the next request starts it again, waiting meanwhile.
- SIGHUP restarts marimo (new secret, same public port).
- marimo's output goes to a per-server log, 0600, scrubbed of anything
  secret-shaped.
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and "ssl" not in sys.modules:
    # The launcher speaks plain HTTP on loopback only, and asyncio loads ssl
    # (OpenSSL and its module, about 4 MB resident, 1.7 MB proportional) only
    # to offer TLS. One launcher runs per user, all day: leave it out. Only
    # when run as the launcher; Jupyter's process imports this module too.
    sys.modules["ssl"] = None  # type: ignore[assignment]

import asyncio
import json
import os
import secrets
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from .launch.activity import ActivityMeter
from .launch.front_door import FrontDoor, Route, same_secret
from .launch.guard import GroupGuard
from .launch.pages import failure_page
from .launch.scrub import scrub
from .layout import StateLayout
from .private_files import open_private_append, private_dir, write_private_file
from .processes import start_ticks

LOOPBACK = "127.0.0.1"
LOG_TAIL_LINES = 40
STOP_GRACE_SECONDS = 5.0
# A refused connect costs microseconds; every 10 ms the page is at most 10 ms late.
HEALTH_POLL_SECONDS = 0.01
PARENT_POLL_SECONDS = 0.5
# A request that Jupyter built with the previous secret a moment before a start
# rotated it still gets through for this long (it is rewritten to the new
# one). Jupyter re-reads the secret file on every request, so the window only
# covers requests already on their way.
PREVIOUS_SECRET_GRACE_SECONDS = 3.0
SECRET_ENV = "JUPYTER_MARIMO_PROXY_LAUNCH_SECRET"

EXIT_STOPPED = 0

# marimo dying more often than this is a crash loop, not bad luck.
CRASH_WINDOW_SECONDS = 60.0
MAX_RESTARTS_IN_WINDOW = 3


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
    mode: str = "edit"  # "edit": marimo's editor; "run": notebooks as apps, a kernel per tab

    @classmethod
    def load(cls, path: str) -> "LaunchSpec":
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))


# An app's kernel ends this long after its tab closed (a reload reconnects in time).
APP_SESSION_TTL_SECONDS = 5


def _marimo_server(spec: LaunchSpec, python: Path, verb: str, port: int | None) -> list[str]:
    """What every marimo server we start shares, ``edit`` or ``run``."""
    return [
        str(python),
        # Isolated: files in the Jupyter root (a marimo.py, say) cannot shadow
        # marimo's modules, and PYTHON* variables do not redirect it.
        "-I",
        "-m",
        "marimo",
        # Quiet: marimo's banner prints a URL with the access token.
        "-q",
        verb,
        spec.root_dir,
        "--headless",
        "--no-sandbox",
        "--host",
        LOOPBACK,
        "--port",
        str(spec.port if port is None else port),
        "--base-url",
        spec.base_url,
        # The secret is read from a 0600 file: a command line is visible to `ps`.
        "--token-password-file",
        spec.secret_file,
    ]


def marimo_run_command(spec: LaunchSpec, python: Path, port: int | None = None) -> list[str]:
    """``marimo run <root>``: every notebook of the root as an app, each tab a session
    (kernel) of its own, code not sent to the browser."""
    return [*_marimo_server(spec, python, "run", port), "--session-ttl", str(APP_SESSION_TTL_SECONDS)]


def marimo_command(spec: LaunchSpec, python: Path, port: int | None = None) -> list[str]:
    if spec.mode == "run":
        return marimo_run_command(spec, python, port)
    return [
        *_marimo_server(spec, python, "edit", port),
        "--skip-update-check",
        # marimo's own idle shutdown counts minutes without a connected session.
        *(["--timeout", f"{spec.idle_timeout / 60:g}"] if spec.idle_timeout else []),
        *(["--session-ttl", str(max(1, round(spec.session_ttl)))] if spec.session_ttl else []),
        *spec.extra_marimo_args,
    ]


def marimo_environment(spec: LaunchSpec, venv_dir: Path) -> dict[str, str]:
    from .venv import venv_python

    env = dict(os.environ)
    env.pop(SECRET_ENV, None)
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


def _child_setup(umask: int):
    """Runs in marimo's child before exec."""

    def setup() -> None:
        # The launcher keeps its own files private (umask 077); the user's
        # notebooks saved by marimo get the umask Jupyter had.
        os.umask(umask)
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            PR_SET_PDEATHSIG = 1
            # marimo gets SIGTERM when the launcher dies, however it dies.
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass  # not Linux: the guard and the launcher's parent check still apply

    return setup


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        content = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return scrub("\n".join(content.splitlines()[-lines:]))


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def listener_owned_by(port: int, pid: int) -> bool:
    """Whether the socket listening on loopback ``port`` belongs to ``pid``.

    Another account could bind marimo's port first; requests carrying the
    secret must never reach it. Where /proc is missing the check is skipped.
    """
    if not os.path.isdir("/proc/net"):
        return True
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    try:
        links = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    except OSError:
        return False
    return bool(inodes) and all(f"socket:[{inode}]" in links for inode in inodes)


class StateWriter:
    """Writes the launch's state where the server extension's status API reads it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.facts: dict = {"launcher_pid": os.getpid()}

    def update(self, **facts) -> None:
        self.facts.update(facts, updated=time.time())
        try:
            write_private_file(self.path, json.dumps(self.facts))
        except OSError as error:
            # The state file only informs the status API; losing it (say, the
            # state dir was removed under us at shutdown) must not stop the
            # launcher from stopping marimo.
            print(f"jupyter-marimo-proxy: could not write {self.path}: {error}", file=sys.stderr)


class Launcher:
    def __init__(self, spec: LaunchSpec, guard: GroupGuard | None = None, umask: int = 0o022) -> None:
        self.spec = spec
        self.layout = StateLayout(Path(spec.state_dir))
        self.state = StateWriter(self.layout.launch_state_file(spec.port))
        self.guard = guard or GroupGuard(None)
        self.user_umask = umask
        self.parent_pid = os.getppid()
        self.recent_exits: list[float] = []
        self.secret: str | None = None
        self.previous_secret: str | None = None
        self.rotated_at = 0.0
        self.marimo: asyncio.subprocess.Process | None = None
        self.marimo_port: int | None = None
        self.log_pump: asyncio.Task | None = None
        self.phase = "starting"
        self.error: str | None = None
        self.failure_shown = False
        self.starts = 0
        # Flags set by signal handlers and requests; `poke` wakes the supervisor.
        self.stop_requested = False
        self.restart_requested = False
        self.start_wanted = False
        self.poke: asyncio.Event | None = None
        self.phase_changed: asyncio.Event | None = None

    # -- the secret -------------------------------------------------------------

    def rotate_secret(self) -> None:
        """A fresh secret for the next start of marimo, in the 0600 secret file."""
        self.previous_secret, self.secret = self.secret, secrets.token_urlsafe(32)
        self.rotated_at = time.monotonic()
        write_private_file(Path(self.spec.secret_file), self.secret)

    def accepts(self, bearer: bytes | None) -> bool:
        """Whether ``bearer`` is the current secret, or the one before it just after a start."""
        if same_secret(bearer, self.secret):
            return True
        recent = time.monotonic() - self.rotated_at < PREVIOUS_SECRET_GRACE_SECONDS
        return recent and same_secret(bearer, self.previous_secret)

    # -- phases -----------------------------------------------------------------

    def set_phase(self, phase: str, **facts) -> None:
        self.phase = phase
        # The status API knows starting, running, idle, failed and stopped.
        self.state.update(state="starting" if phase == "restarting" else phase, **facts)
        if self.phase_changed is not None:
            self.phase_changed.set()
            self.phase_changed = asyncio.Event()

    def wake(self) -> None:
        if self.poke is not None:
            self.poke.set()

    async def route(self) -> Route:
        """Where an authorised request goes; waits while marimo starts."""
        while True:
            if self.stop_requested:
                return Route(page=(503, "marimo is stopping."))
            if self.phase == "running" and self.marimo_port is not None:
                return Route(marimo_port=self.marimo_port, secret=self.secret)
            if self.phase == "failed" and not self.failure_shown:
                self.failure_shown = True
                log_path = self.layout.marimo_log(self.spec.port)
                return Route(page=(503, failure_page(self.error or "unknown error", log_tail(log_path), log_path)))
            if self.phase in ("idle", "failed"):
                self.start_wanted = True
                self.wake()
            assert self.phase_changed is not None
            await self.phase_changed.wait()

    # -- marimo's process group -------------------------------------------------

    async def start_marimo(self) -> None:
        from .venv import venv_python

        venv_dir = self.layout.venv_dir
        log = self.layout.marimo_log(self.spec.port)
        if log.exists():
            os.replace(log, log.with_name(log.name + ".1"))
        self.marimo_port = free_loopback_port()
        self.marimo = await asyncio.create_subprocess_exec(
            *marimo_command(self.spec, venv_python(venv_dir), self.marimo_port),
            cwd=self.spec.root_dir,
            env=marimo_environment(self.spec, venv_dir),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_child_setup(self.user_umask),
        )
        self.guard.watch(self.marimo.pid)
        self.log_pump = asyncio.ensure_future(self.pump_log(self.marimo, log))
        self.state.update(
            marimo_pid=self.marimo.pid,
            marimo_started=start_ticks(self.marimo.pid),
            marimo_port=self.marimo_port,
        )

    async def pump_log(self, process: asyncio.subprocess.Process, log: Path) -> None:
        """marimo's output into its log, line by line, with secrets masked."""
        assert process.stdout is not None
        try:
            handle = open_private_append(log)
        except OSError:
            handle = None
        try:
            async for raw in process.stdout:
                line = scrub(raw.decode("utf-8", errors="replace"), (self.secret, self.previous_secret))
                if handle is not None:
                    try:
                        handle.write(line.encode("utf-8"))
                    except OSError:
                        pass
        finally:
            if handle is not None:
                handle.close()

    async def stop_marimo(self) -> None:
        proc = self.marimo
        if proc is None:
            return
        for sig, wait in ((signal.SIGTERM, STOP_GRACE_SECONDS), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                await asyncio.wait_for(proc.wait(), wait)
                # The leader is gone; children in the group may linger a moment.
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                break
            except asyncio.TimeoutError:
                continue
            break
        await proc.wait()
        if self.log_pump is not None:
            await self.log_pump
        self.marimo = None
        self.log_pump = None
        self.guard.watch(None)

    async def health_ok(self) -> bool:
        assert self.marimo_port is not None
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(LOOPBACK, self.marimo_port), 1.0)
        except (OSError, asyncio.TimeoutError):
            return False
        try:
            writer.write(f"GET {self.spec.base_url}/health HTTP/1.0\r\nHost: {LOOPBACK}\r\n\r\n".encode())
            status_line = await asyncio.wait_for(reader.readline(), 5.0)
            return status_line.split()[1:2] == [b"200"]
        except (OSError, asyncio.TimeoutError, IndexError):
            return False
        finally:
            writer.close()

    async def wait_until_healthy(self) -> str | None:
        """None when marimo answers /health on its own socket, else why it did not."""
        deadline = time.monotonic() + self.spec.startup_timeout
        assert self.marimo is not None
        while time.monotonic() < deadline and not self.stop_requested:
            if self.marimo.returncode is not None:
                return f"marimo exited with code {self.marimo.returncode} while starting."
            if await self.health_ok():
                if not listener_owned_by(self.marimo_port or 0, self.marimo.pid):
                    return f"Another program is listening on marimo's port {self.marimo_port}; not sending it anything."
                return None
            await asyncio.sleep(HEALTH_POLL_SECONDS)
        if self.stop_requested:
            return "stopped while starting."
        return f"marimo did not answer within {self.spec.startup_timeout:g} seconds."

    async def start(self) -> None:
        """Start marimo with a fresh secret; end in 'running' or 'failed'."""
        self.start_wanted = False
        self.rotate_secret()
        # Numbered, so that whoever asked for a restart can tell its own start's
        # outcome from the one of a start already under way when it asked.
        self.starts += 1
        self.set_phase("starting", error=None, log_tail=None, start=self.starts)
        await self.start_marimo()
        error = await self.wait_until_healthy()
        if error is None:
            self.set_phase("running", started=time.time(), error=None)
            return
        await self.stop_marimo()
        self.fail(error)

    def fail(self, error: str) -> None:
        self.error = error
        self.failure_shown = False
        tail = log_tail(self.layout.marimo_log(self.spec.port))
        self.set_phase("failed", error=error, log_tail=tail, marimo_pid=None)

    # -- the venv ---------------------------------------------------------------

    def prepare_venv(self) -> str | None:
        """A healthy venv, rebuilt if broken. Reinstalling the user's packages
        into a rebuilt venv is the server's job (a repair job), so marimo's
        start never waits for an install."""
        import subprocess

        from .venv import ensure_venv, full_check, python_version_of

        venv_dir = self.layout.venv_dir
        try:
            # The probe's answer is reused while the venv and Jupyter's environment are
            # unchanged: 60 ms of every launch, before marimo can start.
            replaced = ensure_venv(venv_dir, self.spec.base_python, probe=True, reuse_probe=True)
        except (OSError, subprocess.CalledProcessError) as error:
            detail = getattr(error, "stderr", "") or str(error)
            return f"Could not create the venv at {venv_dir}: {detail}"
        if replaced is not None:
            # A server of this user reads the note and reinstalls the manifest in a repair job.
            facts = {"venv_existed": replaced.exists, "venv_problems": replaced.problems}
            self.state.update(venv_rebuilt=True, **facts)
            write_private_file(self.layout.rebuild_note, json.dumps(facts))
            report = full_check(venv_dir, python_version_of(self.spec.base_python))
            if not report.healthy:
                return "The new venv is not usable: " + " ".join(report.problems)
        return None

    # -- signals and the parent -------------------------------------------------

    def install_signal_handlers(self, loop: asyncio.AbstractEventLoop) -> None:
        # These run in the event loop, not inside the interrupted frame: a
        # second signal during the first one's work is just another callback.
        def stop() -> None:
            self.stop_requested = True
            self.wake()
            if self.phase_changed is not None:
                self.phase_changed.set()

        def restart() -> None:
            self.restart_requested = True
            self.wake()

        loop.add_signal_handler(signal.SIGTERM, stop)
        loop.add_signal_handler(signal.SIGINT, stop)
        loop.add_signal_handler(signal.SIGHUP, restart)

    def parent_alive(self) -> bool:
        # Reparenting means Jupyter died without stopping us.
        return os.getppid() == self.parent_pid

    async def watch_parent(self) -> None:
        while not self.stop_requested:
            if not self.parent_alive():
                self.stop_requested = True
                self.wake()
                return
            await asyncio.sleep(PARENT_POLL_SECONDS)

    async def watch_marimo(self, process: asyncio.subprocess.Process) -> None:
        await process.wait()
        self.wake()

    # -- the whole run ----------------------------------------------------------

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        self.poke = asyncio.Event()
        self.phase_changed = asyncio.Event()
        self.install_signal_handlers(loop)
        self.rotate_secret()  # before the port answers: the proxy's first request needs it
        self.state.update(state="starting", port=self.spec.port, error=None, marimo_pid=None, guard_pid=self.guard.pid)
        # What is use of marimo is judged at the door (idle culling; launch/activity.py).
        activity = ActivityMeter(self.layout.activity_file(self.spec.port), self.spec.base_url)
        door = FrontDoor(self.accepts, self.route, activity)
        await door.listen(LOOPBACK, self.spec.port)
        watchers = [asyncio.ensure_future(self.watch_parent())]
        try:
            error = await asyncio.to_thread(self.prepare_venv)
            if error:
                self.rotate_secret()
                self.fail(error)
            elif not self.stop_requested:
                await self.start()
            await self.supervise(watchers)
        finally:
            door.close()
            activity.close()
            for task in watchers:
                task.cancel()
            await self.shutdown()
        return EXIT_STOPPED

    async def supervise(self, watchers: list[asyncio.Task]) -> None:
        assert self.poke is not None
        watched: asyncio.subprocess.Process | None = None
        while not self.stop_requested:
            self.poke.clear()
            if self.marimo is not None and self.marimo is not watched:
                watched = self.marimo
                watchers.append(asyncio.ensure_future(self.watch_marimo(watched)))
            if self.restart_requested:
                self.restart_requested = False
                # New requests wait for the new marimo instead of reaching the old one.
                self.set_phase("restarting")
                await self.stop_marimo()
                await self.start()
                continue
            if self.phase == "running" and self.marimo is not None and self.marimo.returncode is not None:
                await self.after_exit(self.marimo.returncode)
                continue
            if self.phase in ("idle", "failed") and self.start_wanted:
                await self.start()
                continue
            await self.poke.wait()

    async def after_exit(self, code: int) -> None:
        """marimo ended without being asked: idle, or start it again unless it keeps dying."""
        self.set_phase("restarting")
        await self.stop_marimo()  # its group may outlive it
        if code == 0 and self.spec.idle_timeout:
            # marimo's own --timeout ended it: the next request starts it again.
            self.set_phase("idle", marimo_pid=None, error=None)
            return
        now = time.monotonic()
        self.recent_exits = [t for t in self.recent_exits if now - t < CRASH_WINDOW_SECONDS] + [now]
        if len(self.recent_exits) > MAX_RESTARTS_IN_WINDOW:
            self.rotate_secret()
            self.fail(
                f"marimo exited with code {code} and has exited {len(self.recent_exits)} times "
                f"in {CRASH_WINDOW_SECONDS:g} seconds; not restarting it again until the tab is reloaded."
            )
            self.recent_exits = []
            return
        self.state.update(error=f"marimo exited with code {code}; restarting it.")
        await self.start()

    async def shutdown(self) -> None:
        """A deliberate stop: marimo's group ends and this launch's secret is removed."""
        await self.stop_marimo()
        self.state.update(state="stopped", error=None, marimo_pid=None)
        Path(self.spec.secret_file).unlink(missing_ok=True)


class ExplainOnly:
    """For a launch that could not even be prepared (an unusable state dir):
    answer authorised requests with the reason, until stopped."""

    def __init__(self, base_url: str, error: str, secret: str | None) -> None:
        self.page = failure_page(error, "", None)
        self.secret = secret
        self.stopped: asyncio.Event | None = None

    def accepts(self, bearer: bytes | None) -> bool:
        return same_secret(bearer, self.secret)

    async def route(self) -> Route:
        return Route(page=(503, self.page))

    async def run(self, port: int) -> int:
        loop = asyncio.get_running_loop()
        self.stopped = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopped.set)
        parent = os.getppid()
        door = FrontDoor(self.accepts, self.route)
        await door.listen(LOOPBACK, port)
        while not self.stopped.is_set() and os.getppid() == parent:
            try:
                await asyncio.wait_for(self.stopped.wait(), PARENT_POLL_SECONDS)
            except asyncio.TimeoutError:
                pass
        door.close()
        return EXIT_STOPPED


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    # The secret for an explanation-only launch comes through the environment
    # (readable by this account only); nothing started from here inherits it.
    launch_secret = os.environ.pop(SECRET_ENV, None)
    if len(args) == 4 and args[0] == "--explain":
        return asyncio.run(ExplainOnly(args[2], args[3], launch_secret).run(int(args[1])))
    if len(args) != 1:
        print("usage: python -m jupyter_marimo_proxy.launcher <launch-spec.json>", file=sys.stderr)
        return 2
    spec = LaunchSpec.load(args[0])
    # Everything the launcher creates (venv, logs, state) is private to the user.
    user_umask = os.umask(0o077)
    layout = StateLayout(Path(spec.state_dir))
    for folder in (layout.root, layout.run_dir, layout.log_dir):
        private_dir(folder)
    guard = GroupGuard.fork(label=spec.state_dir)  # before any thread exists
    return asyncio.run(Launcher(spec, guard, user_umask).run())


if __name__ == "__main__":
    sys.exit(main())
