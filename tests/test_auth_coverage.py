"""Every handler this extension registers requires Jupyter's login."""

from __future__ import annotations


import pytest
from jupyter_server.utils import JupyterServerAuthWarning

from jupyter_marimo_proxy.handlers import API_PREFIX


@pytest.fixture
def jp_server_config():
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_marimo_proxy": True, "jupyter_server_proxy": True},
            "allow_unauthenticated_access": False,
        }
    }


def all_rules(router):
    """Rules of a tornado router, descending into the per-host routers."""
    for rule in router.rules:
        if hasattr(rule.target, "rules"):
            yield from all_rules(rule.target)
        else:
            yield rule


def our_rules(serverapp):
    return [
        rule
        for rule in all_rules(serverapp.web_app.default_router)
        if API_PREFIX in getattr(getattr(rule.matcher, "regex", None), "pattern", "")
    ]


async def test_no_handler_without_authentication(jp_serverapp, recwarn):
    rules = our_rules(jp_serverapp)
    assert rules, "the extension registered no routes"
    undecorated = []
    for rule in rules:
        undecorated.extend(jp_serverapp.web_app._check_handler_auth(rule.matcher.regex.pattern, rule.target))
    assert not undecorated, "\n".join(undecorated)
    auth_warnings = [w for w in recwarn if issubclass(w.category, JupyterServerAuthWarning)]
    assert not [w for w in auth_warnings if API_PREFIX in str(w.message)]


async def test_every_route_refuses_anonymous_requests(jp_serverapp, jp_fetch, jp_base_url):
    from tornado.httpclient import HTTPClientError

    for endpoint in ["status"]:
        with pytest.raises(HTTPClientError) as error:
            await jp_fetch(API_PREFIX, endpoint, headers={"Authorization": ""})
        assert error.value.code == 403
