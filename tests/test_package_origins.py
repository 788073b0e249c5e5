"""The sidebar's list tells what the user asked for apart from what came with it
and from what was installed outside the sidebar (marimo's Install button)."""

from __future__ import annotations

from pathlib import Path

from jupyter_marimo_proxy.packages.inventory import list_packages, origins
from jupyter_marimo_proxy.venv import venv_site_packages


def dist(site: Path, name: str, version: str, *requires: str) -> None:
    folder = site / f"{name.replace('-', '_')}-{version}.dist-info"
    folder.mkdir(parents=True)
    (folder / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(f"Requires-Dist: {r}\n" for r in requires)
    )
    (folder / "INSTALLER").write_text("uv\n")


def test_requested_dependencies_and_marimo_installs_are_told_apart(tmp_path):
    venv = tmp_path / "venv"
    site = venv_site_packages(venv)
    dist(site, "pandas", "2.2.3", "numpy>=1.26", "tzdata>=2022.7", "pytest>=7; extra == 'test'")
    dist(site, "numpy", "2.1.0")
    dist(site, "tzdata", "2024.1")
    dist(site, "cowsay", "6.1")  # through marimo's Install button: not in the manifest
    dist(site, "polars", "1.0", "numpy; python_version < '3'")  # asked for, its marker needs nothing
    found = origins(venv, ["pandas==2.2.3", "Polars"])
    assert found["pandas"] == {"origin": "requested", "required_by": []}
    assert found["polars"] == {"origin": "requested", "required_by": []}
    assert found["numpy"] == {"origin": "dependency", "required_by": ["pandas"]}
    assert found["tzdata"] == {"origin": "dependency", "required_by": ["pandas"]}
    assert found["cowsay"] == {"origin": "marimo", "required_by": []}


def test_the_listing_carries_the_origin_of_the_venvs_packages(tmp_path):
    import sys

    venv = tmp_path / "venv"
    site = venv_site_packages(venv)
    dist(site, "cowsay", "6.1")
    listing = list_packages(venv, sys.executable, ["cowsay"])
    mine = [p for p in listing if p["source"] == "user"]
    assert mine == [{"name": "cowsay", "version": "6.1", "source": "user", "origin": "requested", "required_by": []}]


def test_the_dependency_closure_follows_what_a_plain_install_pulls_in(tmp_path):
    """marimo's fixed versions: its requirements, theirs, and so on, but not an
    extra's nor one whose marker this interpreter does not meet."""
    from importlib.metadata import distributions

    from packaging.utils import canonicalize_name

    from jupyter_marimo_proxy.packages.inventory import dependency_closure

    site = tmp_path / "site"
    dist(site, "marimo", "0.25.2", "click>=8", "Jinja2", "pytest; extra == 'dev'", "pywin32; sys_platform == 'win32'")
    dist(site, "click", "8.1.7", "colorama; platform_system == 'Windows'")
    dist(site, "jinja2", "3.1.4", "MarkupSafe>=2.0", "Babel>=2.7; extra == 'i18n'")
    dist(site, "markupsafe", "2.1.5")
    for name in ("pytest", "pywin32", "colorama", "babel"):
        dist(site, name, "1.0")
    installed = {canonicalize_name(d.metadata["Name"]): d for d in distributions(path=[str(site)])}
    assert dependency_closure("marimo", installed) == {
        "marimo": "0.25.2",
        "click": "8.1.7",
        "jinja2": "3.1.4",
        "markupsafe": "2.1.5",
    }
