"""``maint inventory review``: what a change of the inventories does, per client.

The work is :mod:`runner.inventory.review`, imported when the command runs (start-up stays lazy).
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from runner.cli.app import EXIT_CANNOT_RUN, EXIT_NOT_PASSED, EXIT_OK, fail, inventory_app

#: runner.inventory.review.DEFAULT_MAX_WAIVER_DAYS, as data: `maint --help` must not load the review
#: (start-up time); tests/test_cli_startup.py checks they agree
DEFAULT_MAX_WAIVER_DAYS = 180


class Format(StrEnum):
    MD = "md"
    JSON = "json"


@inventory_app.command("review")
def inventory_review(
    base: Annotated[
        str | None,
        typer.Argument(
            help="Base revision (default: merge base of HEAD and origin/main, else main, else HEAD~)."
        ),
    ] = None,
    head: Annotated[
        str | None,
        typer.Argument(help="Revision to review; default: the working tree, uncommitted changes included."),
    ] = None,
    fmt: Annotated[
        Format, typer.Option("--format", help="md: a pull-request comment; json: for tools.")
    ] = Format.MD,
    path: Annotated[
        str | None,
        typer.Option(
            "--path", help="Folder of the client folders (default: inventories/ at the repository root)."
        ),
    ] = None,
    max_waiver_days: Annotated[
        int, typer.Option(min=1, help="Warn about a waiver added or extended for longer than this.")
    ] = DEFAULT_MAX_WAIVER_DAYS,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file instead of stdout.")
    ] = None,
) -> None:
    """Review inventory changes between two Git versions: hosts, roles, variables, schedules, waivers.

    Exit 0 when no error was found, 1 when there is an error (a plaintext secret, a schema error),
    2 when the review could not run (not a Git repository, unknown revision).
    """
    from runner.inventory.review import ReviewError, ReviewRequest, render_json, render_markdown, review

    request = ReviewRequest(base=base, head=head, path=path, max_waiver_days=max_waiver_days)
    try:
        report = review(request)
    except ReviewError as exc:
        fail(str(exc), EXIT_CANNOT_RUN)
    text = render_json(report) if fmt is Format.JSON else render_markdown(report)
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror}")
    else:
        sys.stdout.write(text)
    raise typer.Exit(EXIT_NOT_PASSED if report.errors else EXIT_OK)
