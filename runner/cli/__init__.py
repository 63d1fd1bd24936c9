"""The ``maint`` command line: parses arguments, calls the library, prints, picks the exit code.

:mod:`runner.cli.app` holds what every command shares (the Typer apps, consoles, exit codes, the error
path); :mod:`runner.cli.core` the root commands (inventory validate, run, runs, status, evaluate, ledger,
demo); each other module here one domain's commands, registered on the shared apps when imported below.
A new domain adds its module and names it in its :mod:`runner.domains` entry (:data:`COMMAND_MODULES`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import typer

from runner import domains
from runner.cli.app import EXIT_CANNOT_RUN, EXIT_NOT_PASSED, EXIT_OK, app

#: modules whose commands register themselves on the shared apps when imported: each domain's, from
#: :mod:`runner.domains` (a new domain's CLI module goes there)
COMMAND_MODULES: tuple[str, ...] = domains.command_modules()

for _module in COMMAND_MODULES:
    importlib.import_module(_module)


def main(argv: list[str] | None = None) -> None:
    command: Callable[..., Any] = typer.main.get_command(app)
    command(args=argv, prog_name="maint")


__all__ = ["EXIT_CANNOT_RUN", "EXIT_NOT_PASSED", "EXIT_OK", "app", "main"]
