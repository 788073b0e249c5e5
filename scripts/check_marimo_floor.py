"""Check the oldest marimo we claim (pyproject's ``marimo>=X``) against what we rely on.

Run by scripts/setup.sh (it needs the package index once; later runs reuse the
venv and a stamp). It installs ``marimo==X`` into ``build/marimo-floor`` and
starts it as the launcher does: ``--token-password-file``, loopback,
``--base-url``, ``MARIMO_SERVER_TRANSPORT=sse``. It passes when marimo
answers ``/health`` without the secret, serves its page for
``Authorization: Bearer <secret>`` (the header jupyter-server-proxy adds for
us), refuses the page without it, and names ``sse`` as its transport.
(marimo 0.17.6 refuses the Bearer header; the transport variable arrived in
0.23.14.)
"""

from __future__ import annotations

import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "build" / "marimo-floor"
BASE_URL = "/floor/marimo"


def floor() -> str:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'"marimo>=([0-9][^",;]*)"', text)
    if not match:
        sys.exit("check_marimo_floor: no marimo>=X in pyproject.toml")
    return match.group(1)


def fetch(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    opener = urllib.request.build_opener(NoRedirect())
    try:
        with opener.open(request, timeout=10) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, ""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def main() -> int:
    version = floor()
    stamp = TARGET / f"checked-{version}"
    if stamp.exists():
        print(f"marimo {version} (our floor) was already checked against the auth scheme.")
        return 0
    uv = ROOT / ".venv" / "bin" / "uv"
    python = TARGET / "bin" / "python"
    if not python.exists():
        subprocess.run([str(uv), "venv", "-q", "--python", sys.executable, str(TARGET)], check=True)
    subprocess.run([str(uv), "pip", "install", "-q", "--python", str(python), f"marimo=={version}"], check=True)
    secret = secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory() as scratch:
        secret_file = Path(scratch) / "secret"
        secret_file.write_text(secret)
        secret_file.chmod(0o600)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        command = [
            str(python), "-I", "-m", "marimo", "-q", "edit", scratch, "--headless", "--skip-update-check",
            "--no-sandbox", "--host", "127.0.0.1", "--port", str(port), "--base-url", BASE_URL,
            "--token-password-file", str(secret_file),
        ]
        env = {"PATH": "/usr/bin:/bin", "HOME": scratch, "MARIMO_SERVER_TRANSPORT": "sse"}
        marimo = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=scratch)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if marimo.poll() is not None:
                    print(marimo.stdout.read().decode(errors="replace"), file=sys.stderr)
                    sys.exit(f"marimo {version} exited at start with the launcher's arguments.")
                try:
                    if fetch(port, BASE_URL + "/health")[0] == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.2)
            else:
                sys.exit(f"marimo {version} did not answer /health within 60 s.")
            with_secret = fetch(port, BASE_URL + "/", {"Authorization": f"Bearer {secret}"})
            without = fetch(port, BASE_URL + "/")
        finally:
            marimo.terminate()
            marimo.wait(timeout=20)
    problems = []
    if with_secret[0] != 200 or "<marimo-" not in with_secret[1]:
        problems.append(f"it answered {with_secret[0]} to 'Authorization: Bearer <secret>' (the header the proxy adds)")
    if without[0] == 200:
        problems.append("it served its page without the secret")
    if '"sse"' not in with_secret[1]:
        problems.append("its page does not name the sse transport set by MARIMO_SERVER_TRANSPORT")
    if problems:
        sys.exit(f"marimo {version}, the oldest pyproject.toml claims, does not work with this project: " + "; ".join(problems) + ".")
    stamp.write_text("ok\n")
    print(f"marimo {version} (our floor) accepts the Bearer secret, refuses without it and takes the transport setting.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
