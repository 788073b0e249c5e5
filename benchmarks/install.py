"""Install: the same fixture wheels three ways, for 1, 5 and 20 wheels.

1. through the extension's API (``POST packages``, following the job until it
   succeeds), on a real Jupyter server, into its user venv;
2. plain ``uv pip install`` into a fresh venv;
3. plain ``pip install`` into a fresh venv.

All three install offline from the same folder of tiny pure-Python wheels
(``--no-index --find-links``; the API through ``MarimoProxy.find_links`` and
``no_index``). Not timed: emptying the API's venv again between runs (one
uninstall job per package), making the plain venvs. The pip venv is a copy of
one made once with ``python -m venv`` (its pip from ``ensurepip``). Alone:

    python benchmarks/install.py [--repeat 5] [--smoke] [--json PATH]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness  # noqa: E402
from benchmarks.harness import Context, Jupyter  # noqa: E402

from wheels import FIVE, build_fixture_wheelhouse, build_wheel  # noqa: E402 (tests/)

API = "jupyter-marimo-proxy/"
TWENTY = tuple(f"jmp-bench-{i:02d}" for i in range(20))


def wheel_sets(smoke: bool) -> dict[int, tuple[str, ...]]:
    sets = {1: FIVE[:1], 5: FIVE, 20: TWENTY}
    return {n: names for n, names in sets.items() if not (smoke and n == 20)}


def build_wheelhouse(folder: Path) -> Path:
    build_fixture_wheelhouse(folder)
    for name in TWENTY:
        build_wheel(folder, name)
    return folder


def via_api(server: Jupyter, names: tuple[str, ...]) -> dict:
    response = server.post(API + "packages", json={"specs": list(names)})
    response.raise_for_status()
    job = server.wait_job(response.headers["Location"])
    if job["state"] != "succeeded":
        raise RuntimeError("\n".join(job["log"][-20:]))
    return job


def timed_api(server: Jupyter, names: tuple[str, ...], jobs: list[dict]) -> float:
    """Seconds from the POST until the job is seen succeeded; ``jobs`` gets the
    server's own account (queued: created to started; ran: started to finished)."""
    started = harness.time.perf_counter()
    job = via_api(server, names)
    elapsed = harness.time.perf_counter() - started
    jobs.append({"total_ms": elapsed * 1000, "queued_ms": (job["started"] - job["created"]) * 1000,
                 "ran_ms": (job["finished"] - job["started"]) * 1000})  # fmt: skip
    return elapsed


def empty_api_venv(server: Jupyter, names: tuple[str, ...]) -> None:
    for name in names:
        response = server.delete(API + f"packages/{name}")
        if response.status_code == 202:
            server.wait_job(response.headers["Location"])


def plain(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])}... failed:\n{result.stderr[-2000:]}")


def fresh_copy(template: Path, path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    shutil.copytree(template, path, symlinks=True)
    return path / "bin" / "python"


def run(ctx: Context) -> None:
    fig = ctx.report.figure(
        "install",
        "fixture wheels, offline: through the API until the job succeeds vs plain `uv pip install` and "
        "plain `pip install` into fresh venvs",
    )
    uv = harness.uv_path()
    env = {k: v for k, v in os.environ.items() if k not in harness.INSTALLER_ENV}
    wheels = build_wheelhouse(ctx.work / "wheels")
    offline = ["--no-index", "--find-links", str(wheels)]
    pip_template = ctx.work / "pip-template"
    subprocess.run([sys.executable, "-m", "venv", str(pip_template)], check=True)
    uv_template = ctx.work / "uv-template"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(uv_template)], check=True)
    sets = wheel_sets(ctx.smoke)
    server = ctx.our_server(
        ctx.work / "install-root",
        ctx.work / "install-state",
        extra_args=[f"--MarimoProxy.find_links={wheels}", "--MarimoProxy.no_index=True"],
        drop_env=harness.INSTALLER_ENV,
    ).start()
    times = {(how, n): [] for n in sets for how in ("api", "uv", "pip")}
    jobs: dict[int, list[dict]] = {n: [] for n in sets}
    try:
        # Warm-up, not timed: creates the user venv and fills the installers' caches.
        for names in sets.values():
            via_api(server, names)
            empty_api_venv(server, names)
            plain([uv, "pip", "install", "--python", str(fresh_copy(uv_template, ctx.work / "uv-venv")), *offline, *names], env)
        for i in range(ctx.repeat):
            harness.log(f"install: repetition {i + 1}/{ctx.repeat}")
            for n, names in sets.items():
                times[("api", n)].append(timed_api(server, names, jobs[n]))
                empty_api_venv(server, names)
                python = fresh_copy(uv_template, ctx.work / "uv-venv")
                times[("uv", n)].append(
                    harness.timed(lambda: plain([uv, "pip", "install", "--python", str(python), *offline, *names], env))
                )
                python = fresh_copy(pip_template, ctx.work / "pip-venv")
                pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
                times[("pip", n)].append(harness.timed(lambda: plain([*pip, *offline, *names], env)))
    finally:
        server.stop()

    for n in sets:
        wheel_word = "wheel" if n == 1 else "wheels"
        fig.add(f"uv_{n}", f"{n} {wheel_word}: plain `uv pip install`", "ms", _ms(times[("uv", n)]), short=f"uv, {n}")
        fig.add(f"api_{n}", f"{n} {wheel_word}: through the API", "ms", _ms(times[("api", n)]), ref=f"uv_{n}", short=f"API, {n}")
        fig.add(f"pip_{n}", f"{n} {wheel_word}: plain `pip install`", "ms", _ms(times[("pip", n)]), ref=f"api_{n}")
    api, uv5, pip = (fig.series[k].median for k in ("api_5", "uv_5", "pip_5"))
    fig.goal("5 wheels: API ≤ 1.2x plain uv", f"{api / uv5:.2f}x ({api:.0f} ms vs {uv5:.0f} ms)", api <= 1.2 * uv5)
    fig.goal("5 wheels: API ≥ 3x faster than plain pip", f"{pip / api:.1f}x ({pip:.0f} ms vs {api:.0f} ms)", pip >= 3 * api)
    overhead = {n: fig.series[f"api_{n}"].median - fig.series[f"uv_{n}"].median for n in sets}
    fig.facts["api_minus_uv_ms"] = overhead
    fig.facts["jobs"] = jobs
    account = {k: harness.statistics.median(j[k] for j in jobs[5]) for k in ("total_ms", "queued_ms", "ran_ms")}
    fig.notes.append(
        f"5 wheels through the API, medians: {account['total_ms']:.0f} ms at the client, of which the job ran "
        f"{account['ran_ms']:.0f} ms on the server (venv check, installed-packages scan, constraints file, "
        f"uv, scan again, manifest) after {account['queued_ms']:.1f} ms queued; the rest is HTTP and the long-poll"
    )
    fig.notes.append(
        "API minus plain uv (medians): " + ", ".join(f"{n} wheel{'s' if n > 1 else ''} {o:+.0f} ms" for n, o in overhead.items())
    )


def _ms(samples: list[float]) -> list[float]:
    return [s * 1000 for s in samples]


if __name__ == "__main__":
    sys.exit(harness.standalone("install", run, __doc__))
