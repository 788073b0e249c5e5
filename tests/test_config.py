"""Settings are validated at start: a list setting written the wrong way is an
error naming the setting, never passed on to marimo as it was written."""

from __future__ import annotations

import pytest
from traitlets import TraitError
from traitlets.config import Application

from jupyter_marimo_proxy.config import MarimoProxy


def settings_from_command_line(*argv: str) -> MarimoProxy:
    # Jupyter's ServerApp does not declare MarimoProxy among its classes, so its
    # options reach the config as deferred strings, as they do here.
    app = Application()
    app.parse_command_line(list(argv))
    return MarimoProxy(config=app.config)


def test_a_list_written_on_the_command_line_is_unpacked():
    settings = settings_from_command_line('--MarimoProxy.extra_marimo_args=["--bogus", "--watch"]')
    assert settings.extra_marimo_args == ["--bogus", "--watch"]


def test_a_repeated_option_still_builds_a_list():
    settings = settings_from_command_line("--MarimoProxy.find_links=/a", "--MarimoProxy.find_links=/b")
    assert settings.find_links == ["/a", "/b"]


def test_a_plain_value_is_one_item():
    assert settings_from_command_line("--MarimoProxy.extra_marimo_args=--watch").extra_marimo_args == ["--watch"]


@pytest.mark.parametrize("value", ['["--bogus"', "[--bogus]", "[1, 2]"])
def test_a_malformed_list_is_an_error_naming_the_setting(value):
    with pytest.raises(TraitError, match=r"c\.MarimoProxy\.extra_marimo_args: .* is not a list of strings"):
        settings_from_command_line(f"--MarimoProxy.extra_marimo_args={value}")


def test_a_malformed_list_in_a_config_file_is_an_error_too():
    with pytest.raises(TraitError, match=r"c\.MarimoProxy\.extra_index_urls"):
        MarimoProxy(extra_index_urls=["[https://example.org/simple"])
