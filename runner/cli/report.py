"""Report commands: ``maint report CLIENT`` (the client's report for a period)."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from runner.cli.app import app, fail, open_ledger, user_errors

if TYPE_CHECKING:
    from runner.inventory import Client
    from runner.report.period import Period

FORMATS = ("html", "pdf", "md", "json")


def report_period(client: Client, period: str | None, first: str | None, last: str | None) -> Period | None:
    """--period, or --from/--to, in the client's time zone (None: this month); exit 2 on a bad value."""
    from runner.report import period as periods

    zone = client.settings.timezone
    try:
        if period is not None:
            if first is not None or last is not None:
                fail("--period: give a month or --from/--to, not both")
            return periods.month(period, zone)
        if (first is None) != (last is None):
            fail("--from and --to go together (both dates, YYYY-MM-DD)")
        if first is not None and last is not None:
            return periods.span(periods.parse_day(first, "--from"), periods.parse_day(last, "--to"), zone)
    except ValueError as exc:
        fail(str(exc))
    return None


def check_choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        fail(f"{option} {value!r}: expected one of {', '.join(allowed)}")
    return value


def write_output(data: bytes, output: Path | None, fmt: str) -> None:
    """To ``output`` (created 0600: a report names the client's weaknesses), else to stdout (not a PDF to a
    terminal)."""
    if output is None:
        if fmt == "pdf" and sys.stdout.isatty():
            fail("--format pdf: give -o FILE (a PDF is not printed to a terminal)")
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    tmp = output.with_name(f".{output.name}.tmp")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        tmp.replace(output)
    except OSError as exc:  # the option and the file named, not the temporary file beside it
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        fail(f"-o {output}: cannot write it ({exc.strerror or exc})")
    typer.echo(f"report written to {output}", err=True)


@app.command("report")
def report_command(
    client: Annotated[
        str | None, typer.Argument(help="Client folder under inventories/ (none with --fleet).")
    ] = None,
    period: Annotated[
        str | None, typer.Option("--period", help="A month, YYYY-MM (default: this month).")
    ] = None,
    first: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (with --to).")] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD, inclusive.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="html, pdf, md or json.")] = "html",
    lang: Annotated[str, typer.Option("--lang", help="en, es or ca.")] = "en",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to this file.")] = None,
    fleet: Annotated[
        bool, typer.Option("--fleet", help="One page for the MSP: a row per client (no CLIENT).")
    ] = False,
    backup_days: Annotated[
        int, typer.Option("--backup-days", help="--fleet: a backup job without a success in this many days.")
    ] = 2,
) -> None:
    """The client's report for a period, built from the ledger only (nothing runs again).

    Every number traces to ledger rows covered by the signed checkpoint the cover names. Exit 0 when written,
    2 when it cannot be built (unknown client, bad period, no ledger).
    """
    from runner import witness
    from runner.inventory import load_client
    from runner.report.build import build_report
    from runner.report.i18n import LANGS

    check_choice(fmt, FORMATS, "--format")
    check_choice(lang, LANGS, "--lang")
    if fleet or client is None:
        fleet_report(client, fleet, period, first, last, fmt, lang, output, backup_days)
        return
    with user_errors():
        found = load_client(client)
    chosen = report_period(found, period, first, last)
    ledger = open_ledger()
    with user_errors():
        try:
            verifier = witness.configured_verifier()
            data = build_report(ledger, found, chosen, lang=lang, verifier=verifier)
            from runner.report.render import render

            rendered = render(data, fmt)
        except ValueError as exc:  # a bad msp.yml, an unknown language: one line naming it
            fail(str(exc))
    write_output(rendered, output, fmt)


def fleet_report(
    client: str | None,
    fleet: bool,
    period: str | None,
    first: str | None,
    last: str | None,
    fmt: str,
    lang: str,
    output: Path | None,
    backup_days: int,
) -> None:
    """``maint report --fleet``: every client's row for a month (see :mod:`runner.report.fleet`)."""
    from runner.report.fleet import build_fleet
    from runner.report.render import render

    if not fleet:
        fail("give a CLIENT, or --fleet for every client")
    if client is not None:
        fail(f"--fleet takes no CLIENT (got {client!r}): the fleet report has a row per client")
    if first is not None or last is not None:
        fail("--fleet: give a month with --period YYYY-MM (not --from/--to)")
    if backup_days < 1:
        fail(f"--backup-days {backup_days}: expected a whole number of days, at least 1")
    ledger = open_ledger()
    with user_errors():
        try:
            data = build_fleet(ledger, period, lang=lang, backup_days=backup_days)
            rendered = render(data, fmt, template="fleet")
        except ValueError as exc:  # a bad --period, msp.yml: one line naming it
            fail(str(exc))
    write_output(rendered, output, fmt)


@app.command("reports")
def reports_command(
    client: Annotated[str, typer.Argument(help="Client folder under inventories/ (or in var/reports/).")],
    as_json: Annotated[bool, typer.Option("--json", help="Each filed report's sidecar, as JSON.")] = False,
) -> None:
    """The reports filed under var/reports/CLIENT/ (by `maint due` and `maint demo`), newest first.

    Per period: the formats and their sizes, the ledger checkpoint the report was built from, and whether each
    file still matches the sha256 recorded when it was filed.
    """
    from runner.cli.app import dump, out
    from runner.names import UnsafeNameError
    from runner.report import filed

    try:
        found = filed.listing(client)
    except UnsafeNameError as exc:
        fail(str(exc))
    if as_json:
        dump(found)
        return
    if not found:
        where = filed.reports_dir(client)
        out.print(f"no reports filed for {client} under {where}", soft_wrap=True, markup=False)
        return
    from rich.table import Table

    table = Table(title=f"reports filed for {client}")
    for col in ("period", "formats", "size", "built from checkpoint", "rows", "filed (UTC)", "files"):
        table.add_column(col, overflow="fold")
    for meta in found:
        if "problem" in meta:
            table.add_row(str(meta["period"]), "", "", "", "", "", str(meta["problem"]))
            continue
        files = meta.get("files", {})
        checkpoint = meta.get("checkpoint")
        built = (
            f"size {checkpoint.get('size')}{'' if checkpoint.get('signed') else ' (unsigned)'}"
            if isinstance(checkpoint, dict)
            else "no checkpoint (ledger head)"
        )
        after = meta.get("rows_after")
        if after:
            built += f", {after} row(s) after it left out"
        state = [f"{info.get('name')}{_file_state(info)}" for info in files.values()]
        table.add_row(
            str(meta.get("period")),
            ", ".join(files),
            ", ".join(_size(int(info.get("bytes") or 0)) for info in files.values()),
            built,
            str(meta.get("rows_in_report")),
            str(meta.get("filed_at", ""))[:16].replace("T", " "),
            ", ".join(state),
        )
    out.print(table)


def _file_state(info: dict[str, object]) -> str:
    if not info.get("present"):
        return " (missing)"
    return "" if info.get("intact") else " (changed since filed)"


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    return f"{n / 1024:.1f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MiB"
