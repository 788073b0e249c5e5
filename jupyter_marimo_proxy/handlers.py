"""REST routes under ``{base_url}jupyter-marimo-proxy/``; every one requires Jupyter's login.

State-changing verbs (POST, DELETE) also pass Jupyter's XSRF check, which
APIHandler applies to cookie-authenticated requests.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from urllib.parse import urlencode

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from .packages.jobs import JobState
from .marimo_control import NotRunning, restart_marimo
from .notebooks import (
    CommandFailed,
    TargetExists,
    convert_to_marimo,
    create_notebook,
    export_to_ipynb,
    is_marimo_notebook,
)
from .packages.manifest import load_manifest
from .packages.inventory import list_packages
from .paths import PathRefused, read_in_root, resolve_in_root, to_contents_path
from .packages.requirements_file import MAX_FILE_BYTES, parse_requirements
from .session import apps_tab_url, current_session, marimo_tab_url
from .packages.specs import SpecError, parse_package_name, parse_specs
from .status import build_status
from .venv import ensure_venv, venv_python

API_PREFIX = "jupyter-marimo-proxy"
MAX_LONG_POLL_SECONDS = 30.0


class JsonAPIHandler(APIHandler):
    @property
    def allow_hidden(self) -> bool:
        # Jupyter's own rule for dot files and folders applies to ours too.
        return bool(getattr(self.contents_manager, "allow_hidden", False))

    def read_json(self) -> dict:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            raise tornado.web.HTTPError(400, "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise tornado.web.HTTPError(400, "The request body must be a JSON object.")
        return body

    def job_url(self, job_id: str) -> str:
        return url_path_join(self.base_url, API_PREFIX, "jobs", job_id)

    def accepted(self, job) -> None:
        self.set_status(202)
        self.set_header("Location", self.job_url(job.id))
        self.finish(json.dumps(job.to_json()))


class StatusHandler(JsonAPIHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        self.finish(json.dumps(await build_status(current_session())))


class PackagesHandler(JsonAPIHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        session = current_session()
        requested = await asyncio.to_thread(lambda: load_manifest(session.layout.manifest).requested)
        listing = await asyncio.to_thread(list_packages, session.layout.venv_dir, session.settings.base_python, requested)
        self.finish(json.dumps(listing))

    @tornado.web.authenticated
    async def post(self) -> None:
        """Install ``specs``, or the requirements of ``requirements_file`` (a path in the root)."""
        body = self.read_json()
        session = current_session()
        try:
            if "requirements_file" in body:
                path, data = read_in_root(
                    session.root_dir, body["requirements_file"], MAX_FILE_BYTES, allow_hidden=self.allow_hidden
                )
                requirements = parse_requirements(path, data.decode("utf-8", errors="replace"))
            else:
                requirements = parse_specs(body.get("specs"))
        except PathRefused as error:
            raise tornado.web.HTTPError(error.status, str(error)) from None
        except SpecError as error:
            raise tornado.web.HTTPError(400, str(error)) from None
        self.accepted(session.packages.install(requirements))


class PackageHandler(JsonAPIHandler):
    @tornado.web.authenticated
    async def delete(self, name: str) -> None:
        try:
            canonical = parse_package_name(name)
        except SpecError as error:
            raise tornado.web.HTTPError(400, str(error)) from None
        service = current_session().packages
        installed = await asyncio.to_thread(service.installed_by_user)
        if canonical not in installed:
            raise tornado.web.HTTPError(
                404, f"{name} is not installed in the user venv (packages of the base environment cannot be removed here)."
            )
        self.accepted(service.uninstall([canonical]))


class JobsHandler(JsonAPIHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        self.finish(json.dumps([job.to_json(offset=len(job.log)) for job in current_session().packages.queue.all()]))


class JobHandler(JsonAPIHandler):
    def find_job(self, job_id: str):
        job = current_session().packages.queue.get(job_id)
        if job is None:
            raise tornado.web.HTTPError(404, f"No job {job_id}.")
        return job

    @tornado.web.authenticated
    async def get(self, job_id: str) -> None:
        """The job with its log from ``offset``; ``wait`` seconds of long-polling for news.
        ``state`` (the state the client last saw) makes a state change news too."""
        job = self.find_job(job_id)
        try:
            offset = int(self.get_argument("offset", "0"))
            wait = min(float(self.get_argument("wait", "0")), MAX_LONG_POLL_SECONDS)
        except ValueError:
            raise tornado.web.HTTPError(400, "offset and wait must be numbers.") from None
        try:
            seen = JobState(self.get_argument("state", job.state.value))
        except ValueError:
            raise tornado.web.HTTPError(400, "state must be a job state.") from None
        await current_session().packages.queue.wait_for_change(job, offset, wait, seen)
        self.finish(json.dumps(job.to_json(offset)))

    @tornado.web.authenticated
    async def delete(self, job_id: str) -> None:
        job = self.find_job(job_id)
        if job.state.finished:
            raise tornado.web.HTTPError(409, f"The job has already {job.state.value}.")
        await current_session().packages.queue.cancel(job)
        await current_session().packages.queue.wait_finished(job, timeout=15)
        self.finish(json.dumps(job.to_json()))


class RestartHandler(JsonAPIHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        session = current_session()
        try:
            state = await restart_marimo(session)
        except NotRunning as error:
            raise tornado.web.HTTPError(409, str(error)) from None
        marimo = (await build_status(session))["marimo"]
        if state.get("state") != "running":
            self.set_status(500)
            marimo = {"message": f"marimo did not come back: {marimo.get('error') or 'unknown error'}", **marimo}
        self.finish(json.dumps(marimo))


class RepairHandler(JsonAPIHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        """Rebuild the venv if it is broken and reinstall every package the manifest records."""
        self.accepted(current_session().packages.repair())


class NotebookFileHandler(JsonAPIHandler):
    """Shared by the routes that take a file in the Jupyter root and run marimo on it."""

    def resolve(self, relative: object, kind: str = "file", must_exist: bool = True):
        try:
            return resolve_in_root(
                current_session().root_dir, relative, kind=kind, must_exist=must_exist, allow_hidden=self.allow_hidden
            )
        except PathRefused as error:
            raise tornado.web.HTTPError(error.status, str(error)) from None

    async def venv_python(self) -> str:
        session = current_session()
        await asyncio.to_thread(session.layout.ensure)
        await asyncio.to_thread(ensure_venv, session.layout.venv_dir, session.settings.base_python)
        return str(venv_python(session.layout.venv_dir))

    async def run_conversion(self, convert) -> None:
        body = self.read_json()
        source = self.resolve(body.get("path"))
        try:
            target = await convert(
                await self.venv_python(),
                source,
                bool(body.get("overwrite", False)),
                root=Path(current_session().root_dir),
                allow_hidden=self.allow_hidden,
                # Another name the user chose (a contents path); absent: next to the source.
                target_path=body.get("target"),
            )
        except TargetExists as exists:
            root = current_session().root_dir
            self.set_status(409)
            self.finish(
                json.dumps(
                    {
                        "message": f"{exists.target.name} already exists.",
                        "target": to_contents_path(root, exists.target),
                        # A free name next to it, for "Save as…".
                        "suggestion": to_contents_path(root, exists.suggestion),
                    }
                )
            )
            return
        except PathRefused as error:
            raise tornado.web.HTTPError(error.status, str(error)) from None
        except CommandFailed as error:
            # marimo prints a whole traceback; its last line is the readable part.
            output = str(error).strip()
            last = next((line.strip() for line in reversed(output.splitlines()) if line.strip()), output)
            self.set_status(422)
            self.finish(json.dumps({"message": f"marimo could not do it: {last}", "detail": output}))
            return
        self.finish(json.dumps({"path": to_contents_path(current_session().root_dir, target)}))


class ConvertHandler(NotebookFileHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        """``x.ipynb`` -> ``x.marimo.py`` with ``marimo convert``."""
        await self.run_conversion(convert_to_marimo)


class ExportHandler(NotebookFileHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        """``x.marimo.py`` -> ``x.ipynb`` with ``marimo export ipynb``."""
        await self.run_conversion(export_to_ipynb)


class NewNotebookHandler(NotebookFileHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        directory = self.read_json().get("directory") or "."
        folder = self.resolve(directory, kind="dir")
        try:
            target = await asyncio.to_thread(create_notebook, folder, Path(current_session().root_dir), self.allow_hidden)
        except PathRefused as error:
            raise tornado.web.HTTPError(error.status, str(error)) from None
        self.set_status(201)
        self.finish(json.dumps({"path": to_contents_path(current_session().root_dir, target)}))


class NotebookUrlHandler(NotebookFileHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        """Where marimo shows a notebook: its editor, or its app view (code hidden, outputs live)."""
        session = current_session()
        path = self.resolve(self.get_argument("path", ""))
        if not await asyncio.to_thread(is_marimo_notebook, path):
            raise tornado.web.HTTPError(400, f"{path.name} is not a marimo notebook (no `app = marimo.App(...)`).")
        mode = self.get_argument("mode", "edit")
        if mode not in ("edit", "app"):
            raise tornado.web.HTTPError(400, "mode must be 'edit' or 'app'.")
        query = {"file": to_contents_path(session.root_dir, path)}
        # Apps run on their own route (marimo run): a kernel per tab, never the editor's session.
        tab_url = apps_tab_url(session.base_url) if mode == "app" else marimo_tab_url(session.base_url)
        self.finish(json.dumps({"url": tab_url + "?" + urlencode(query), "mode": mode}))


class InstancesHandler(JsonAPIHandler):
    # Open marimo tabs poll this every 2.5 s while JupyterLab's page is visible:
    # that is nobody's use of the server (idle culling, issue #11).
    _track_activity = False

    @tornado.web.authenticated
    async def get(self) -> None:
        """Which start of marimo each route serves now (editor and apps): cheap
        enough to poll, so that open tabs notice a restart, a crash relaunch or
        a shutdown from inside marimo and reconnect by themselves."""
        from .session import current_app_session
        from .processes import pid_alive
        from .status import read_launch_state

        def instance(session) -> dict:
            launch = read_launch_state(session)
            alive = pid_alive(launch.get("launcher_pid"))
            state = launch.get("state", "stopped") if alive else "stopped"
            if launch.get("state") == "failed":
                state = "failed"
            return {
                "state": state,
                # A start of marimo: its pid and when it became ready.
                "instance": f"{launch.get('marimo_pid')}:{launch.get('started')}" if state == "running" else None,
                "error": launch.get("error"),
            }

        self.finish(json.dumps({"marimo": instance(current_session()), "marimo-apps": instance(current_app_session())}))


def route_table(base_url: str) -> list[tuple]:
    def route(path: str) -> str:
        return url_path_join(base_url, API_PREFIX, path)

    return [
        (route("status"), StatusHandler),
        (route("packages"), PackagesHandler),
        (route("packages/([^/]+)"), PackageHandler),
        (route("jobs"), JobsHandler),
        (route("jobs/([0-9a-f]+)"), JobHandler),
        (route("restart"), RestartHandler),
        (route("repair"), RepairHandler),
        (route("convert"), ConvertHandler),
        (route("export"), ExportHandler),
        (route("new"), NewNotebookHandler),
        (route("notebook-url"), NotebookUrlHandler),
        (route("instances"), InstancesHandler),
        *__import__("jupyter_marimo_proxy.twins.handlers", fromlist=["twin_routes"]).twin_routes(route),
    ]
