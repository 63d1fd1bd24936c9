"""What every ``maint`` command shares: the Typer apps, the consoles, the exit codes and the error path.

Both the root commands (:mod:`runner.cli.core`) and the domain commands (``runner/cli/<domain>.py``) import
from here, so no module of the CLI imports the package that assembles it (no import cycle).

Exit codes: 0 everything passed / the command did its job; 1 some check did not pass (or the
ledger failed verification, or validation found problems where noted); 2 the command could not
run (bad inventory, unknown client or role, unreadable file…), with one clear message.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from runner.ledger import Ledger

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

#: errors a user can fix: one message, exit 2, no traceback (and OSError). Named by their module, not
#: imported: a class whose module was never imported cannot have been raised (start-up time)
USER_ERRORS: tuple[tuple[str, str], ...] = (
    ("runner.inventory.loader", "InventoryError"),
    ("runner.inventory.loader", "UnknownClientError"),
    ("runner.execute", "RunError"),
    ("runner.locks", "ClientBusyError"),
    ("runner.ledger.store", "LedgerError"),
    ("runner.ledger.keys", "KeyFileError"),  # the ledger key file: missing, unreadable, malformed, too open
    ("runner.evaluators", "EvaluatorError"),
    ("runner.ingest", "IngestError"),
    ("runner.names", "UnsafeNameError"),  # a client, host or run name that would climb out of its folder
    ("runner.inventory.patterns", "PatternError"),  # a --limit or role pattern Ansible cannot read
)


def user_error_types() -> tuple[type[BaseException], ...]:
    """OSError and the classes of :data:`USER_ERRORS` whose module is loaded."""
    found: list[type[BaseException]] = [OSError]
    for module, name in USER_ERRORS:
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            found.append(cls)
    return tuple(found)


def fail(message: str, code: int = EXIT_CANNOT_RUN) -> NoReturn:
    from rich.markup import escape  # a client name like "[/]" is text, not console markup

    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except user_error_types() as exc:
        fail(str(exc))


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("maint")
        except PackageNotFoundError:  # imported from a bare checkout that was never installed
            number = "0+unknown"
        sys.stdout.write(f"maint {number}\n")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _setup(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More log output (-vv: debug).")
    ] = 0,
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the installed version and exit."
        ),
    ] = False,
) -> None:
    from rich.logging import RichHandler

    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, rich_tracebacks=False)],
        force=True,
    )


def open_ledger() -> Ledger:
    from runner.ledger import Ledger

    with user_errors():
        return Ledger()


def dump(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
