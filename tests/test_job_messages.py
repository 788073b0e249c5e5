"""The plain-words messages of finished jobs, from the installers' own wording."""

from __future__ import annotations

from jupyter_marimo_proxy.packages.jobs import Job
from jupyter_marimo_proxy.packages.service import describe_changes, explain_failure, success_message

PINS = ["click==8.5.1", "marimo==0.25.2", "starlette==0.47.0"]


def failed(*lines: str) -> Job:
    job = Job(kind="install", specs=["jmp-breaks-marimo"])
    job.log = ["$ installer ...", *lines]
    job.exit_code = 1
    return job


def test_uv_conflict_with_marimos_pins_names_the_package():
    job = failed(
        "  × No solution found when resolving dependencies:",
        "  ╰─▶ Because jmp-breaks-marimo==1.0 depends on click<1 and you require click==8.5.1, we can conclude that",
        "      your requirements are unsatisfiable.",
    )
    message = explain_failure(job, PINS)
    assert message == "jmp-breaks-marimo 1.0 needs click < 1; marimo needs click 8.5.1: nothing was changed."


def test_pip_conflict_with_marimos_pins_names_the_package():
    job = failed(
        "ERROR: Cannot install jmp-breaks-marimo==1.0 because these package versions have conflicting dependencies.",
        "The conflict is caused by:",
        "    jmp-breaks-marimo 1.0 depends on click<1",
        "    The user requested (constraint) click==8.5.1",
    )
    assert explain_failure(job, PINS) == "jmp-breaks-marimo 1.0 needs click < 1; marimo needs click 8.5.1: nothing was changed."


def test_a_pinned_name_merely_mentioned_is_not_called_a_conflict():
    job = failed(
        "  × No solution found when resolving dependencies:",
        "  ╰─▶ Because marimo was not found in the provided package locations and you require marimo==0.25.2,",
        "      we can conclude that your requirements are unsatisfiable.",
    )
    message = explain_failure(job, PINS)
    assert "marimo needs" not in message
    assert message == "marimo is not in the configured package locations (no index is used): nothing was changed."


def test_changes_are_listed_and_an_empty_change_says_so():
    assert describe_changes({"a": "1"}, {"a": "2", "b": "1"}) == "installed a 2, b 1"
    assert describe_changes({"a": "1"}, {}) == "removed a"
    assert describe_changes({}, {}, unchanged="nothing was changed") == "nothing was changed"


def test_uv_0_13_wording_for_all_versions():
    job = failed(
        "error: No solution found when resolving dependencies",
        "  cause: Because all versions of jmp-breaks-marimo depend on click<1 and click==8.5.1, we can conclude",
        "         that all versions of jmp-breaks-marimo cannot be used.",
    )
    assert explain_failure(job, PINS) == "jmp-breaks-marimo needs click < 1; marimo needs click 8.5.1: nothing was changed."


def test_a_package_not_on_the_index_is_named_as_such():
    uv = failed(
        "  × No solution found when resolving dependencies:",
        "  ╰─▶ Because cowsay-zzz was not found in the package registry and you require cowsay-zzz, we can",
        "      conclude that your requirements are unsatisfiable.",
    )
    assert explain_failure(uv, PINS) == "cowsay-zzz is not on the package index: nothing was changed."
    pip = failed(
        "ERROR: Could not find a version that satisfies the requirement cowsay-zzz (from versions: none)",
        "ERROR: No matching distribution found for cowsay-zzz",
    )
    assert explain_failure(pip, PINS) == "cowsay-zzz is not on the package index: nothing was changed."


def test_a_version_not_on_the_index_is_named():
    uv = failed(
        "  × No solution found when resolving dependencies:",
        "  ╰─▶ Because there is no version of cowsay==99 and you require cowsay==99, we can conclude that your",
        "      requirements are unsatisfiable.",
    )
    assert explain_failure(uv, PINS) == "No version of cowsay 99 is on the package index: nothing was changed."


def test_a_conflict_with_a_lower_bound_reads_like_the_issue():
    job = failed(
        "  × No solution found when resolving dependencies:",
        "  ╰─▶ Because pandas==2.2.3 depends on numpy>=1.26 and you require numpy==1.25.0, we can conclude that",
        "      your requirements are unsatisfiable.",
    )
    message = explain_failure(job, ["numpy==1.25.0"])
    assert message == "pandas 2.2.3 needs numpy ≥ 1.26; marimo needs numpy 1.25.0: nothing was changed."


def test_an_unknown_failure_gives_the_installers_reason_not_the_command():
    job = failed("error: Failed to fetch: `https://pypi.org/simple/cowsay/`")
    message = explain_failure(job, PINS)
    assert "$ installer" not in message
    assert message == (
        "Could not install jmp-breaks-marimo: the installer stopped (exit code 1): "
        "Failed to fetch: `https://pypi.org/simple/cowsay/`: nothing was changed."
    )


def ok(kind: str, *specs: str, log: tuple[str, ...] = ()) -> Job:
    job = Job(kind=kind, specs=list(specs))
    job.log = ["$ installer ...", *log]
    job.exit_code = 0
    return job


def test_an_install_names_the_package_and_its_version_once():
    assert success_message(ok("install", "cowsay"), None, {}, {"cowsay": "6.1"}) == "Installed cowsay 6.1"


def test_dependencies_are_counted_apart_from_what_was_asked_for():
    message = success_message(ok("install", "pandas"), None, {}, {"pandas": "2.2.3", "numpy": "2.1.0", "tzdata": "2024.1"})
    assert message == "Installed pandas 2.2.3 with 2 dependencies (numpy 2.1.0, tzdata 2024.1)"


def test_an_install_that_changed_nothing_says_so():
    message = success_message(ok("install", "cowsay"), None, {"cowsay": "6.1"}, {"cowsay": "6.1"})
    assert message == "cowsay 6.1 is already installed: nothing changed"
    base = ok("install", "requests", log=("requests: provided by the base environment (2.32.3); not installed.",))
    assert success_message(base, None, {}, {}) == "requests 2.32.3 comes with Jupyter's environment: nothing changed"


def test_an_uninstall_names_the_version_removed():
    assert success_message(ok("uninstall", "cowsay"), None, {"cowsay": "6.1"}, {}) == "Uninstalled cowsay 6.1"


def test_a_repair_of_a_healthy_venv_does_not_claim_to_reinstall():
    message = success_message(ok("repair", "pandas"), None, {"pandas": "2.2.3"}, {"pandas": "2.2.3"})
    assert message == "The venv was healthy and has every package you installed (pandas 2.2.3): nothing was reinstalled."
    rebuilt = success_message(ok("repair", "pandas"), ["Its interpreter is missing."], {}, {"pandas": "2.2.3"})
    assert rebuilt == "Rebuilt the venv (its interpreter is missing); reinstalled pandas 2.2.3."
