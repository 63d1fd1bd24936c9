"""Notifications: facts read from the ledger, sent once each by e-mail, Teams or a JSON webhook.

A *fact* is something the client should hear about, decided from the ledger only (never by re-running
anything): a new critical or high failure (``new_failure``: one per failing streak of a host's control,
keyed by the seq of its first failing row after the last pass), a missed maintenance window
(``missed_window``), a configuration change of a network device (``drift``), a host whose backups have not
succeeded for N days (``backup_stale``) and a filed report (``report_ready``). Each (fact, channel) is sent
once; every attempt is a chained row of the ``notifications`` table (:mod:`runner.notify.store`), so what
was told to whom, and when, is in the client's ledger with the rest.

Delivery never fails, blocks or slows a run for long: each channel has a budget of a few seconds per pass
(``maintenance.notify.budget_seconds``), a channel that is down is recorded ``failed`` with its next attempt
(back-off 1 min, 5 min, 25 min, 2 h; at most :data:`runner.notify.engine.MAX_ATTEMPTS` attempts) and later
passes (``maint due``, ``maint notify retry``, the next run) retry what is due.

The entry points below import their modules when called: the inventory schema imports
:mod:`runner.notify.settings` (pydantic only), so this package must load nothing else on import.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runner.inventory import Client
    from runner.ledger import Ledger
    from runner.notify.engine import PassReport


def after_run(ledger: Ledger, client: Client, run_id: str | None = None) -> PassReport | None:
    """The notification pass at the end of a run (never raises; None when nothing is configured)."""
    from runner.notify.engine import safe_pass

    return safe_pass(ledger, client, trigger=f"run {run_id}" if run_id else "run")


def after_due(ledger: Ledger, client: Client, now: datetime | None = None) -> PassReport | None:
    """The notification pass after ``maint due`` settled a client's occurrences (never raises)."""
    from runner.notify.engine import safe_pass

    return safe_pass(ledger, client, now=now, trigger="due")


def report_ready(
    ledger: Ledger, client: Client | str, period_label: str, paths: Sequence[Path | str]
) -> PassReport | None:
    """A report was filed: its ``report_ready`` fact (once per client and period), then a pass.

    Never raises; None when the client has no notifications configured.
    """
    from runner.notify.engine import safe_pass

    return safe_pass(ledger, client, trigger="report", report=(period_label, [Path(p) for p in paths]))


__all__ = ["after_due", "after_run", "report_ready"]
