"""The plain-words messages of finished jobs, from the installers' own wording."""

from __future__ import annotations

from jupyter_marimo_proxy.jobs import Job
from jupyter_marimo_proxy.package_service import describe_changes, explain_failure

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
    assert "a version of click other than the one marimo uses (click==8.5.1)" in message
    assert "Nothing was changed" in message


def test_pip_conflict_with_marimos_pins_names_the_package():
    job = failed(
        "ERROR: Cannot install jmp-breaks-marimo==1.0 because these package versions have conflicting dependencies.",
        "The conflict is caused by:",
        "    jmp-breaks-marimo 1.0 depends on click<1",
        "    The user requested (constraint) click==8.5.1",
    )
    assert "other than the one marimo uses (click==8.5.1)" in explain_failure(job, PINS)


def test_a_pinned_name_merely_mentioned_is_not_called_a_conflict():
    job = failed(
        "  × No solution found when resolving dependencies:",
        "  ╰─▶ Because marimo was not found in the provided package locations and you require marimo==0.25.2,",
        "      we can conclude that your requirements are unsatisfiable.",
    )
    message = explain_failure(job, PINS)
    assert "other than the one marimo uses" not in message
    assert message.startswith("Could not install jmp-breaks-marimo (exit code 1):")


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
    assert "other than the one marimo uses (click==8.5.1)" in explain_failure(job, PINS)
