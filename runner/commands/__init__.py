"""Domain commands of the ``maint`` CLI.

Each module here defines its commands with ``@app.command()`` (or on ``inventory_app`` /
``ledger_app``) imported from :mod:`runner.cli`, keeps only argument parsing and printing,
and calls the library. Add one import line below per module.
"""

from runner.commands import (
    lint_config,  # noqa: F401
    network,  # noqa: F401
    review,  # noqa: F401
    schedule,  # noqa: F401
)
