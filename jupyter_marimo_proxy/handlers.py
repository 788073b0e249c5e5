"""REST routes under ``{base_url}jupyter-marimo-proxy/``; every one requires Jupyter's login.

State-changing verbs (POST, DELETE) also pass Jupyter's XSRF check, which
APIHandler applies to cookie-authenticated requests.
"""

from __future__ import annotations

import asyncio
import json

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from .marimo_control import NotRunning, restart_marimo
from .packages import list_packages
from .session import current_session
from .specs import SpecError, parse_package_name, parse_specs
from .status import build_status

API_PREFIX = "jupyter-marimo-proxy"
MAX_LONG_POLL_SECONDS = 30.0


class JsonAPIHandler(APIHandler):
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
        listing = await asyncio.to_thread(list_packages, session.layout.venv_dir, session.settings.base_python)
        self.finish(json.dumps(listing))

    @tornado.web.authenticated
    async def post(self) -> None:
        try:
            requirements = parse_specs(self.read_json().get("specs"))
        except SpecError as error:
            raise tornado.web.HTTPError(400, str(error)) from None
        self.accepted(current_session().packages.install(requirements))


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
        """The job with its log from ``offset``; ``wait`` seconds of long-polling for news."""
        job = self.find_job(job_id)
        try:
            offset = int(self.get_argument("offset", "0"))
            wait = min(float(self.get_argument("wait", "0")), MAX_LONG_POLL_SECONDS)
        except ValueError:
            raise tornado.web.HTTPError(400, "offset and wait must be numbers.") from None
        await current_session().packages.queue.wait_for_change(job, offset, wait)
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
        if state.get("state") != "running":
            self.set_status(500)
        self.finish(json.dumps((await build_status(session))["marimo"]))


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
    ]
