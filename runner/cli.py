"""The ``maint`` command line: parses arguments, calls the library, prints, picks the exit code.

Exit codes: 0 everything passed / the command did its job; 1 some check did not pass (or the
ledger failed verification, or validation found problems where noted); 2 the command could not
run (bad inventory, unknown client or role, unreadable file…), with one clear message.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import yaml
from rich.console import Console
from rich.logging import RichHandler

from runner import evaluators, paths
from runner.console import RunProgress, status_table, styled, summary_table
from runner.evaluators import EvaluatorError
from runner.execute import RunError, RunOutcome, RunRequest, execute
from runner.ingest import IngestError, ingest
from runner.inventory import (
    InventoryError,
    Mode,
    UnknownClientError,
    list_clients,
    load_client,
    validate_client,
)
from runner.ledger import Ledger, LedgerError, RunStatus
from runner.locks import ClientBusyError
from runner.results import Status
from runner.status import client_status

EXIT_OK, EXIT_NOT_PASSED, EXIT_CANNOT_RUN = 0, 1, 2

app = typer.Typer(
    name="maint",
    help="Preventive IT maintenance as code: run roles per client, judge, record, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
inventory_app = typer.Typer(help="Client inventories.", no_args_is_help=True)
ledger_app = typer.Typer(help="The compliance ledger.", no_args_is_help=True)
app.add_typer(inventory_app, name="inventory")
app.add_typer(ledger_app, name="ledger")


def _console(stderr: bool = False) -> Console:
    """A console that keeps tables readable in logs and pipes (no terminal width to follow)."""
    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal:
        console = Console(stderr=stderr, highlight=False, width=max(console.width, 160))
    return console


out = _console()
err = _console(stderr=True)

#: errors a user can fix: one message, exit 2, no traceback
USER_ERRORS: tuple[type[Exception], ...] = (
    InventoryError,
    UnknownClientError,
    RunError,
    ClientBusyError,
    LedgerError,
    EvaluatorError,
    IngestError,
    OSError,
)


def fail(message: str, code: int = EXIT_CANNOT_RUN) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except USER_ERRORS as exc:
        fail(str(exc))


@app.callback()
def _setup(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More log output (-vv: debug).")
    ] = 0,
) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, rich_tracebacks=False)],
        force=True,
    )


def open_ledger() -> Ledger:
    with user_errors():
        return Ledger()


def dump(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


# --------------------------------------------------------------------------- inventory


@inventory_app.command("validate")
def inventory_validate(
    client: Annotated[
        str | None, typer.Argument(help="Client folder name; every client when omitted.")
    ] = None,
) -> None:
    """Check client inventories against the schema; print every problem (exit 2 on errors)."""
    names = [client] if client else list_clients()
    if not names:
        fail(f"no client inventories under {paths.inventories_dir()}")
    bad = 0
    for name in names:
        with user_errors():
            found, problems = validate_client(name)
        if problems:
            bad += 1
            out.print(f"[red]✗[/] {name}: {len(problems)} problem(s)")
            for problem in problems:
                out.print(f"  {problem}", soft_wrap=True)
        elif found is not None:
            hosts = len(found.tree.hosts)
            out.print(f"[green]✓[/] {name}: {hosts} host(s), roles {', '.join(found.settings.roles)}")
    if bad:
        raise typer.Exit(EXIT_CANNOT_RUN)


# --------------------------------------------------------------------------- run


def _run(request: RunRequest, as_json: bool) -> RunOutcome:
    ledger = open_ledger()
    progress = RunProgress(err if as_json else out)
    with user_errors():
        return execute(request, ledger, None if as_json else progress)


def _run_exit(outcome: RunOutcome) -> int:
    settings = outcome.settings or load_client(outcome.client).settings
    rows = client_status(outcome.results, settings)
    if outcome.status in (RunStatus.INTERRUPTED, RunStatus.ERROR):
        return EXIT_NOT_PASSED
    return EXIT_OK if rows and all(r.passing for r in rows) else EXIT_NOT_PASSED


@app.command()
def run(
    client: Annotated[str, typer.Argument(help="Client folder under inventories/.")],
    role: Annotated[
        list[str] | None, typer.Option("--role", "-r", help="Run only this role (repeatable).")
    ] = None,
    limit: Annotated[str | None, typer.Option(help="Ansible host pattern limiting the hosts.")] = None,
    mode: Annotated[Mode, typer.Option(help="audit looks; remediate may change hosts.")] = Mode.AUDIT,
    ticket: Annotated[str | None, typer.Option(help="Ticket reference recorded with every result.")] = None,
    reason: Annotated[str | None, typer.Option(help="Why this run was started (ad hoc runs).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
) -> None:
    """Run the client's roles now and record every check result in the ledger.

    Exit 0 when every check passed (waivers applied), 1 when some did not, 2 when the run could not start.
    """
    request = RunRequest(
        client=client, roles=tuple(role or ()), limit=limit, mode=mode, ticket=ticket, reason=reason
    )
    outcome = _run(request, as_json)
    code = _run_exit(outcome)
    if as_json:
        dump(
            {
                "run_id": outcome.run_id,
                "client": outcome.client,
                "status": outcome.status.value,
                "counts": outcome.counts,
                "artifact_dir": str(outcome.artifact_dir),
                "results": [r.model_dump(mode="json") for r in outcome.results],
            }
        )
    else:
        out.print(summary_table(outcome))
        out.print(f"artifacts: {outcome.artifact_dir}", soft_wrap=True)
        if ticket:  # ad hoc corrective run: each control before and after (maint resolution)
            from runner.commands.schedule import print_resolution

            print_resolution(open_ledger(), run_id=outcome.run_id)
    raise typer.Exit(code)


@app.command()
def runs(
    client: Annotated[str | None, typer.Argument(help="Only this client's runs.")] = None,
    ticket: Annotated[str | None, typer.Option(help="Only runs for this ticket.")] = None,
    limit: Annotated[int, typer.Option(help="How many runs, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List recorded runs, newest first."""
    ledger = open_ledger()
    found = ledger.runs(client, ticket=ticket, limit=limit)
    if as_json:
        dump([r.model_dump(mode="json") for r in found])
        return
    from rich.table import Table

    table = Table(title="runs")
    for col in ("run", "client", "started (UTC)", "mode", "roles", "status", "ticket", "results"):
        table.add_column(col, overflow="fold")
    for r in found:
        counts = ", ".join(f"{r.summary[s.value]} {s.value}" for s in Status if r.summary.get(s.value))
        table.add_row(
            r.run_id,
            r.client,
            r.started_at.strftime("%Y-%m-%d %H:%M"),
            r.mode,
            ",".join(r.roles),
            r.status.value,
            r.ticket or "",
            counts,
        )
    out.print(table)


@app.command()
def status(
    client: Annotated[str, typer.Argument(help="Client folder under inventories/.")],
    host: Annotated[str | None, typer.Option(help="Only this host.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Latest result per host and control, waivers applied (exit 1 if any is not passing)."""
    with user_errors():
        found = load_client(client)
    ledger = open_ledger()
    results = ledger.latest_results(client, host)
    rows = client_status(results, found.settings)
    if as_json:
        dump([r.as_dict() for r in rows])
    elif not rows:
        out.print(
            f"no results recorded for {client}{f' host {host}' if host else ''} yet: try `maint run {client}`"
        )
    else:
        out.print(status_table(found.settings.display_name, rows))
    raise typer.Exit(EXIT_OK if rows and all(r.passing for r in rows) else EXIT_NOT_PASSED)


# --------------------------------------------------------------------------- evaluate


def _read_data(file: Path) -> Any:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return text  # plain command output (e.g. a saved `apt-get -s upgrade`): the evaluator reads text
    return data if isinstance(data, dict | list) else text


@app.command()
def evaluate(
    kind: Annotated[str, typer.Argument(help="Evaluator kind, e.g. linux_health.")],
    file: Annotated[Path, typer.Argument(help="Saved raw output (JSON) to judge.")],
    threshold: Annotated[
        list[str] | None, typer.Option("--threshold", "-t", help="Override a threshold: NAME=VALUE.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Judge a saved raw output with exactly the evaluator the role uses (exit 1 if any check fails)."""
    with user_errors():
        evaluators.get(kind)
    thresholds: dict[str, Any] = {}
    for item in threshold or []:
        name, sep, value = item.partition("=")
        if not sep:
            fail(f"--threshold takes NAME=VALUE, got {item!r}")
        thresholds[name] = yaml.safe_load(value)
    data = _read_data(file)
    if isinstance(data, dict) and "maint_raw" in data:
        data = data["maint_raw"]
    with user_errors():
        findings = evaluators.evaluate(kind, data, thresholds)
    if as_json:
        dump([f.model_dump(mode="json") for f in findings])
    else:
        from rich.table import Table

        table = Table(title=f"{kind}: {file}")
        for col in ("control", "status", "severity", "title", "evidence"):
            table.add_column(col, overflow="fold")
        for f in findings:
            table.add_row(
                f.control, styled(f.status.value), f.severity.value, f.title, json.dumps(f.evidence)[:200]
            )
        out.print(table)
    raise typer.Exit(EXIT_OK if all(f.status is Status.PASS for f in findings) else EXIT_NOT_PASSED)


# --------------------------------------------------------------------------- ledger


@ledger_app.command("verify")
def ledger_verify(
    client: Annotated[str | None, typer.Argument(help="Only this client's chain.")] = None,
) -> None:
    """Check the hash chain; exit 1 and name the first bad row when anything was tampered with."""
    ledger = open_ledger()
    with user_errors():
        reports = ledger.verify(client)
    if not reports:
        out.print("the ledger is empty")
        return
    bad = False
    for report in reports:
        if report.ok:
            out.print(f"[green]✓[/] {report.client}: {report.rows} rows, chain intact")
        else:
            bad = True
            row = report.first_bad
            where = f"{row.table} row {row.row_id} (seq {row.seq})" if row else "unknown row"
            out.print(f"[red]✗[/] {report.client}: first bad row: {where}: {row.reason if row else ''}")
    raise typer.Exit(EXIT_NOT_PASSED if bad else EXIT_OK)


@ledger_app.command("ingest")
def ledger_ingest(
    artifact_dir: Annotated[
        Path, typer.Argument(help="A run's artifacts (var/runs/RUN or its artifacts/RUN).")
    ],
) -> None:
    """Re-read a job's artifacts and add only what the ledger is missing (idempotent)."""
    ledger = open_ledger()
    with user_errors():
        report = ingest(artifact_dir, ledger)
    done = f"; run closed as {report.finished_as.value}" if report.finished_as else ""
    out.print(
        f"run {report.run_id} ({report.client}): {report.events} events read, {report.added} rows added{done}"
    )


# --------------------------------------------------------------------------- demo


@app.command()
def demo() -> None:
    """Audit this machine as the embedded demo client (changes nothing), then show its status."""
    from runner.network import simulator  # the demo's network group is served by local simulators

    request = RunRequest(client="demo", mode=Mode.AUDIT, trigger="demo", reason="maint demo")
    try:
        devices = simulator.demo(load_client("demo").path / "hosts.yml", paths.var_dir() / "demo_known_hosts")
        with devices:
            outcome = _run(request, as_json=False)
    except OSError as exc:
        fail(f"cannot start the demo's network simulators: {exc}")
    out.print(summary_table(outcome))
    settings = outcome.settings or load_client("demo").settings
    ledger = open_ledger()
    rows = client_status(ledger.latest_results("demo"), settings)
    out.print(status_table(settings.display_name, rows))
    out.print(f"ledger:    {ledger.display_url}", soft_wrap=True)
    out.print(f"artifacts: {outcome.artifact_dir}", soft_wrap=True)
    out.print("next: maint status demo | maint runs demo | maint ledger verify demo")
    if outcome.status in (RunStatus.ERROR, RunStatus.INTERRUPTED):
        raise typer.Exit(EXIT_NOT_PASSED)


# Domain commands (network, schedules, inventory review…) live in runner/commands/ and register
# themselves on `app`, `inventory_app` or `ledger_app` when imported here.
from runner import commands  # noqa: E402, F401


def main(argv: list[str] | None = None) -> None:
    command: Callable[..., Any] = typer.main.get_command(app)
    command(args=argv, prog_name="maint")


if __name__ == "__main__":
    main()
