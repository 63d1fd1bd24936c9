"""``maint schedule``, ``maint due`` and ``maint resolution``: parsing and printing only."""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from runner.cli.app import (
    EXIT_CANNOT_RUN,
    EXIT_NOT_PASSED,
    EXIT_OK,
    app,
    dump,
    err,
    fail,
    open_ledger,
    out,
    user_errors,
)

if TYPE_CHECKING:  # each command imports what it uses: `maint --help` loads no ledger or calendar (start-up)
    from runner.due import DueReport
    from runner.ledger import Ledger
    from runner.resolution import Resolution
    from runner.schedule import Occurrence

log = logging.getLogger(__name__)

NOW_HELP = "Pretend it is this time (ISO-8601 with offset or Z), for reproducible output."


def _now(text: str | None) -> datetime:
    from runner.schedule import parse_now

    try:
        return parse_now(text)
    except ValueError as exc:
        fail(str(exc))


@app.command()
def schedule(
    client: Annotated[str | None, typer.Argument(help="Client folder; every client when omitted.")] = None,
    next_: Annotated[
        int, typer.Option("--next", "-n", min=1, max=1000, help="How many occurrences that run.")
    ] = 5,
    now: Annotated[str | None, typer.Option(help=NOW_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The next occurrences of each client's schedules: window in local time and UTC, holidays marked."""
    from runner.inventory import InventoryError, UnknownClientError, list_clients, validate_client
    from runner.schedule import next_occurrences

    at = _now(now)
    names = [client] if client else list_clients()
    if not names:
        fail("no client inventories found")
    found = []
    bad = 0
    for name in names:  # each client on its own: one bad inventory does not hide the others
        problems: list[str] = []
        try:
            loaded, found_problems = validate_client(name)
            problems = [str(p) for p in found_problems] or ([] if loaded else ["invalid inventory"])
            if loaded is not None:
                found += next_occurrences(name, loaded.settings, at, next_)
        except (UnknownClientError, InventoryError) as exc:
            problems = [str(exc)]
        except Exception as exc:  # a defect must not stop the other clients; say where it was
            log.debug("schedule of client %s", name, exc_info=True)
            problems = [f"cannot compute its schedule: {type(exc).__name__}: {exc}"]
        if problems:
            bad += 1
            for problem in problems:
                err.print(f"[red]✗[/] {escape(name)}: {escape(problem)}", soft_wrap=True)
    if as_json:
        dump([o.as_dict() for o in found])
    elif not found:
        out.print("no enabled schedules")
    else:
        _print_schedule(found, at)
    if bad:
        raise typer.Exit(EXIT_CANNOT_RUN)


def _print_schedule(found: list[Occurrence], at: datetime) -> None:
    from runner.schedule import Plan

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
    for run_id in report.abandoned:
        out.print(f"abandoned run {run_id}: artifacts ingested, run closed", soft_wrap=True)
    for name, problems in report.problems.items():
        out.print(f"[red]✗[/] {escape(name)}: not looked at", soft_wrap=True)
        for problem in problems:
            out.print(f"  {escape(problem)}", soft_wrap=True)
    if report.stopped_by:
        out.print(
            f"[red]stopped by {report.stopped_by}[/]: running jobs interrupted, clients not started yet left "
            "for the next pass",
            soft_wrap=True,
        )
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
    for e in report.entries:  # the period's report, filed when a `report: monthly` occurrence ended
        if e.report:
            out.print(e.report, soft_wrap=True, markup=False, highlight=False)


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
        int,
        typer.Option(
            min=1,
            max=3660,
            help="Record as missed occurrences whose window closed up to this many days ago "
            "(each schedule's last recorded occurrence is found whatever its age).",
        ),
    ] = 7,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run every schedule occurrence that is due and not yet done, inside its window (cron-safe).

    Exit 0 when it did its job, 1 when an occurrence was recorded missed or a run could not start,
    2 when a client's inventory is invalid (the others are still handled).
    """
    from runner.cli.ledger import configured_signer, make_checkpoint
    from runner.due import due

    at = _now(now)
    ledger = open_ledger()
    signer = None if dry_run else configured_signer()  # a bad key file stops here, before anything is done
    with user_errors():
        report = due(
            at,
            ledger=ledger,
            dry_run=dry_run,
            max_parallel=max_parallel,
            clients=client,
            lookback=timedelta(days=lookback_days),
        )
    if not dry_run:  # runs made theirs; missed and skipped occurrences are rows too
        for touched in sorted({entry.client for entry in report.entries}):
            make_checkpoint(ledger, touched, signer)
    if as_json:
        dump(report.as_dict())
    else:
        _print_due(report)
    if report.problems:
        raise typer.Exit(EXIT_CANNOT_RUN)
    raise typer.Exit(EXIT_NOT_PASSED if report.missed or report.errors else EXIT_OK)


class Format(StrEnum):
    HTML = "html"
    PDF = "pdf"
    MD = "md"
    JSON = "json"


def print_resolution(ledger: Ledger, *, run_id: str | None = None, ticket: str | None = None) -> None:
    """Print a resolution record as Markdown (used by `maint run --ticket` too)."""
    from runner.resolution import ResolutionError, resolution

    try:
        record = resolution(ledger, run_id=run_id, ticket=ticket)
    except ResolutionError as exc:
        fail(str(exc))
    record = _with_checkpoint(ledger, record)
    out.print(record.markdown(), markup=False, highlight=False, soft_wrap=True)


def _carried(ledger: Ledger, client: str) -> dict[str, Any] | None:
    """The client's latest ledger checkpoint as outputs carry it (read only: none is made here)."""
    from runner import witness

    with user_errors():
        return witness.carried(ledger, client, witness.configured_verifier())


def _with_checkpoint(ledger: Ledger, record: Resolution) -> Resolution:
    """The record carrying its client's latest ledger checkpoint."""
    import dataclasses

    return dataclasses.replace(record, checkpoint=_carried(ledger, record.client))


@app.command("resolution")
def resolution_command(
    run_id: Annotated[str | None, typer.Argument(help="A run ID (see `maint runs`).")] = None,
    ticket: Annotated[str | None, typer.Option(help="Every run of this ticket, oldest first.")] = None,
    run: Annotated[
        str | None, typer.Option("--run", help="Only this run (of the ticket, with --ticket).")
    ] = None,
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format",
            help="The client's report: html, pdf, md or json (default: the technician's record as text).",
        ),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="The report's language: en, es or ca.")] = "en",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the report to this file.")
    ] = None,
) -> None:
    """A ticket's resolution: each control before and after its corrective run(s), decided by the ticket's
    controls, with what was changed, the proactive review, the times and the SLA (a run or a ticket)."""
    from runner.resolution import ResolutionError, report

    if run_id is not None and run is not None and run_id != run:
        fail("give the run once: RUN_ID or --run")
    run_id = run_id or run
    if run_id is None and ticket is None:
        fail("give a RUN_ID or --ticket ID")
    if fmt is None:
        if lang != "en" or output is not None:
            fail("--lang and -o go with --format html, pdf, md or json")
        print_resolution(open_ledger(), run_id=run_id, ticket=ticket)
        return
    from runner.cli.report import write_output
    from runner.report.branding import load_msp
    from runner.report.i18n import LANGS

    if lang not in LANGS:
        fail(f"--lang {lang!r}: expected one of {', '.join(LANGS)}")
    if fmt is Format.PDF and output is None and sys.stdout.isatty():
        fail("--format pdf: give -o FILE (a PDF is not printed to a terminal)")
    ledger = open_ledger()
    with user_errors():
        try:
            msp = load_msp().as_dict()
            client = _client_of(ledger, run_id, ticket)
            data = report(
                ledger,
                run_id=run_id,
                ticket=ticket,
                lang=lang,
                checkpoint=_carried(ledger, client) if client else None,
                msp=msp,
            )
            from runner.report.render import render

            rendered = render(data, fmt.value, template="resolution")
        except ResolutionError as exc:
            fail(str(exc))
        except ValueError as exc:  # a bad msp.yml, an unknown language: one line naming it
            fail(str(exc))
    write_output(rendered, output, fmt.value)


def _client_of(ledger: Ledger, run_id: str | None, ticket: str | None) -> str | None:
    if run_id is not None:
        info = ledger.run(run_id)
        return info.client if info is not None else None
    found = ledger.runs(ticket=ticket, limit=1)
    return found[0].client if found else None
