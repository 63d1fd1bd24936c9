"""``maint lint-config FILE``: review a saved network configuration offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from runner.cli.app import EXIT_NOT_PASSED, EXIT_OK, app, dump, fail, out

#: runner.network.Platform's values and "auto", as data: `maint --help` must not load the network code
#: (start-up time); tests/test_cli_startup.py checks they agree
_PLATFORM_CHOICES = ", ".join(["cisco_ios", "aruba_aoscx", "aruba_aoss", "fortios", "auto"])


@app.command("lint-config")
def lint_config(
    file: Annotated[Path, typer.Argument(help="Saved configuration (text, or JSON of command -> output).")],
    platform: Annotated[str, typer.Option("--platform", "-p", help=f"One of: {_PLATFORM_CHOICES}.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
    approved_admin: Annotated[
        list[str] | None,
        typer.Option(
            "--approved-admin",
            help="An approved administrator (repeat it; as the inventory's access_approved_admins).",
        ),
    ] = None,
) -> None:
    """Review a saved configuration against its platform's baseline (exit 1: a rule fails, 2: unreadable)."""
    from runner.console import styled
    from runner.network import (
        NetworkConfigError,
        Platform,
        detect_platform,
        evidence_summary,
        read_config,
        review,
    )
    from runner.results import Status

    try:
        chosen = None if platform == "auto" else Platform(platform)
    except ValueError:
        fail(f"--platform: unknown platform {platform!r} (choose from {_PLATFORM_CHOICES})")
    try:
        text = read_config(file)
        if chosen is None:
            chosen = detect_platform(text)
        from runner.network.checks.access import with_approved_admins

        findings = review(chosen, text, overrides=with_approved_admins({}, approved_admin))
    except NetworkConfigError as exc:
        message = str(exc)
        fail(message if str(file) in message else f"{file}: {message}")
    if as_json:
        dump(
            {
                "file": str(file),
                "platform": chosen.value,
                "findings": [f.model_dump(mode="json") for f in findings],
            }
        )
    else:
        table = Table(title=f"{file} ({chosen.value})")
        for col in ("control", "status", "severity", "title", "evidence"):
            table.add_column(col, overflow="fold")
        for f in findings:
            table.add_row(
                f.control,
                styled(f.status.value),
                f.severity.value,
                f.title,
                escape(evidence_summary(f.evidence)),
            )
        out.print(table)
    failed = any(f.status is Status.FAIL for f in findings)
    raise typer.Exit(EXIT_NOT_PASSED if failed else EXIT_OK)
