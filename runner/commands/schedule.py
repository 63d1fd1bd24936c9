"""``maint schedule``, ``maint due`` and ``maint resolution``: parsing and printing only."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from runner.cli import (
    EXIT_CANNOT_RUN,
    EXIT_NOT_PASSED,
    EXIT_OK,
    app,
    dump,
    fail,
    open_ledger,
    out,
    user_errors,
)
from runner.due import DueReport, due
from runner.inventory import list_clients, load_client
from runner.ledger import Ledger
from runner.resolution import ResolutionError, resolution
from runner.schedule import Plan, next_occurrences, parse_now

NOW_HELP = "Pretend it is this time (ISO-8601 with offset or Z), for reproducible output."


def _now(text: str | None) -> datetime:
    try:
        return parse_now(text)
    except ValueError as exc:
        fail(str(exc))


@app.command()
def schedule(
    client: Annotated[str | None, typer.Argument(help="Client folder; every client when omitted.")] = None,
    next_: Annotated[int, typer.Option("--next", "-n", min=1, help="How many occurrences that run.")] = 5,
    now: Annotated[str | None, typer.Option(help=NOW_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The next occurrences of each client's schedules: window in local time and UTC, holidays marked."""
    at = _now(now)
    names = [client] if client else list_clients()
    if not names:
        fail("no client inventories found")
    found = []
    for name in names:
        with user_errors():
            loaded = load_client(name)
        found += next_occurrences(name, loaded.settings, at, next_)
    if as_json:
        dump([o.as_dict() for o in found])
        return
    if not found:
        out.print("no enabled schedules")
        return
    table = Table(title=f"schedule (from {at:%Y-%m-%d %H:%M} UTC)")
    for col in ("client", "schedule", "mode", "window (local)", "window (UTC)", "min", "plan", "notes"):
        table.add_column(col, overflow="fold")
    for o in found:
        ls, le = o.local_start, o.local_end
        local_end = f"{le:%H:%M}" if le.date() == ls.date() else f"{le:%a %Y-%m-%d %H:%M}"
        plan = {Plan.RUN: "run", Plan.MOVED: "[yellow]moved[/]", Plan.SKIPPED: "[red]skipped[/]"}[o.plan]
        table.add_row(
            o.client,
            o.schedule,
            o.mode.value,
            f"{ls:%a %Y-%m-%d %H:%M} → {local_end} {ls.tzname()}",
            f"{o.start:%Y-%m-%d %H:%M} → {o.end:%Y-%m-%d %H:%M}",
            str(o.minutes),
            plan,
            "; ".join(o.notes),
        )
    out.print(table)


def _print_due(report: DueReport) -> None:
    for name, problems in report.problems.items():
        out.print(f"[red]✗[/] {name}: not looked at", soft_wrap=True)
        for problem in problems:
            out.print(f"  {problem}", soft_wrap=True)
    if not report.entries:
        out.print(f"nothing due at {report.now:%Y-%m-%d %H:%M} UTC")
        return
    title = "due (dry run: nothing done)" if report.dry_run else "due"
    table = Table(title=f"{title} at {report.now:%Y-%m-%d %H:%M} UTC")
    for col in ("occurrence", "action", "outcome", "run", "recorded", "hosts", "reason"):
        table.add_column(col, overflow="fold")
    for e in report.entries:
        table.add_row(
            e.occurrence_id,
            e.action,
            e.outcome,
            f"{e.run_id or ''} {e.run_status or ''}".strip(),
            e.recorded or "",
            ",".join(e.hosts),
            e.reason,
        )
    out.print(table)


@app.command("due")
def due_command(
    now: Annotated[str | None, typer.Option(help=NOW_HELP)] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Decide and print; run and record nothing.")
    ] = False,
    max_parallel: Annotated[int, typer.Option(min=1, help="Clients run at the same time.")] = 4,
    client: Annotated[
        list[str] | None, typer.Option("--client", "-c", help="Only this client (repeatable).")
    ] = None,
    lookback_days: Annotated[
        int, typer.Option(min=1, help="Look at occurrences whose window closed up to this many days ago.")
    ] = 7,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run every schedule occurrence that is due and not yet done, inside its window (cron-safe).

    Exit 0 when it did its job, 1 when an occurrence was recorded missed or a run could not start,
    2 when a client's inventory is invalid (the others are still handled).
    """
    at = _now(now)
    ledger = open_ledger()
    with user_errors():
        report = due(
            at,
            ledger=ledger,
            dry_run=dry_run,
            max_parallel=max_parallel,
            clients=client,
            lookback=timedelta(days=lookback_days),
        )
    if as_json:
        dump(report.as_dict())
    else:
        _print_due(report)
    if report.problems:
        raise typer.Exit(EXIT_CANNOT_RUN)
    raise typer.Exit(EXIT_NOT_PASSED if report.missed or report.errors else EXIT_OK)


class Format(StrEnum):
    MD = "md"
    JSON = "json"


def print_resolution(ledger: Ledger, *, run_id: str | None = None, ticket: str | None = None) -> None:
    """Print a resolution record as Markdown (used by `maint run --ticket` too)."""
    try:
        record = resolution(ledger, run_id=run_id, ticket=ticket)
    except ResolutionError as exc:
        fail(str(exc))
    out.print(record.markdown(), markup=False, highlight=False, soft_wrap=True)


@app.command("resolution")
def resolution_command(
    run_id: Annotated[str | None, typer.Argument(help="A run ID (see `maint runs`).")] = None,
    ticket: Annotated[str | None, typer.Option(help="Every run of this ticket, oldest first.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="md for the client's report, or json.")] = Format.MD,
) -> None:
    """Status of each control before and after an ad hoc corrective run (or a ticket's runs)."""
    if (run_id is None) == (ticket is None):
        fail("give a RUN_ID or --ticket ID")
    ledger = open_ledger()
    if fmt is Format.JSON:
        try:
            record = resolution(ledger, run_id=run_id, ticket=ticket)
        except ResolutionError as exc:
            fail(str(exc))
        dump(record.as_dict())
        return
    print_resolution(ledger, run_id=run_id, ticket=ticket)
