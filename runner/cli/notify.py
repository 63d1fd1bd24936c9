"""``maint notify test | list | retry``: a client's notifications (parsing and printing only).

Exit codes of ``maint notify test``: 0 every channel sent, 1 some failed, 2 the configuration cannot send
(no ``maintenance.notify``, an unknown ``--channel``, a variable not set, a vault value not readable).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

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

if TYPE_CHECKING:  # each command imports what it uses: `maint --help` loads no ledger or pydantic
    from runner.inventory import Client
    from runner.notify.settings import NotifySettings

notify_app = typer.Typer(help="Notifications: e-mail, Teams and JSON webhooks, once per new fact.")
app.add_typer(notify_app, name="notify", no_args_is_help=True)

NOW_HELP = "Pretend it is this time (ISO-8601 with offset or Z): what is due then is retried."


def _client(name: str) -> Client:
    from runner.inventory import load_client

    with user_errors():
        return load_client(name)


def _settings(client: Client) -> NotifySettings:
    settings = client.settings.notify
    if settings is None:
        fail(f"client {client.name!r} has no maintenance.notify in {client.settings_file}")
    return settings


def _now(text: str | None) -> datetime | None:
    if text is None:
        return None
    from runner.schedule import parse_now

    try:
        return parse_now(text)
    except ValueError as exc:
        fail(str(exc))


@notify_app.command("test")
def notify_test(
    client: Annotated[str, typer.Argument(help="Client folder.")],
    channel: Annotated[
        list[str] | None, typer.Option("--channel", help="Only this channel (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Send a test message on each channel and print the outcome per channel (recorded in the ledger)."""
    from runner.notify.channels import ChannelConfigError, resolve
    from runner.notify.engine import send_test

    found = _client(client)
    settings = _settings(found)
    names = list(dict.fromkeys(channel or [c.name for c in settings.channels]))
    unknown = [n for n in names if settings.channel(n) is None]
    if unknown:
        known = ", ".join(c.name for c in settings.channels)
        fail(f"--channel {', '.join(unknown)}: no such channel of {client} (channels: {known})")
    problems = []
    for name in names:
        chosen = settings.channel(name)
        assert chosen is not None
        try:
            resolve(chosen)
        except ChannelConfigError as exc:
            problems.append(str(exc))
    if problems:
        for problem in problems:
            err.print(f"[red]✗[/] {escape(problem)}", soft_wrap=True)
        raise typer.Exit(EXIT_CANNOT_RUN)
    ledger = open_ledger()
    with user_errors():
        results = send_test(ledger, found, settings, names)
    if as_json:
        dump([r.as_dict() for r in results])
    else:
        for r in results:
            mark = "[green]sent[/]" if r.sent else "[red]failed[/]"
            why = f": {escape(r.error)}" if r.error else ""
            out.print(f"{escape(r.channel)} ({r.type}, {escape(r.target)}): {mark}{why}", soft_wrap=True)
    raise typer.Exit(EXIT_OK if all(r.sent for r in results) else EXIT_NOT_PASSED)


@notify_app.command("list")
def notify_list(
    client: Annotated[str, typer.Argument(help="Client folder.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The client's recorded notifications, oldest first: each (fact, channel) with its latest outcome."""
    from runner.notify import store

    ledger = open_ledger()
    with user_errors():
        found = sorted(store.read(ledger.engine, [client]).values(), key=lambda n: n.seqs[0])
    if as_json:
        dump([n.as_dict() for n in found])
        return
    if not found:
        out.print(f"no notifications recorded for {escape(client)}")
        return
    table = Table(title=f"notifications of {escape(client)}")
    for col in ("first seen", "event", "channel", "outcome", "tries", "next attempt", "subject", "error"):
        table.add_column(col, overflow="fold")
    for n in found:
        colour = {"sent": "green", "failed": "red"}.get(n.outcome, "yellow")
        table.add_row(
            n.first_recorded_at[:16].replace("T", " "),
            n.event,
            escape(n.channel),
            f"[{colour}]{n.outcome}[/]",
            str(n.attempts),
            (n.next_attempt_at or "")[:16].replace("T", " "),
            escape(n.subject),
            escape(n.error or ""),
        )
    out.print(table)


@notify_app.command("retry")
def notify_retry(
    client: Annotated[str | None, typer.Argument(help="Client folder; every client when omitted.")] = None,
    now: Annotated[str | None, typer.Option(help=NOW_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Send again what failed and is due (back-off 1 min, 5 min, 25 min, 2 h; at most 6 attempts).

    Exit 0 when nothing due failed again, 1 when some did, 2 when a client's inventory is invalid.
    """
    from runner.inventory import InventoryError, UnknownClientError, list_clients, load_client
    from runner.notify.engine import run_pass

    at = _now(now)
    ledger = open_ledger()
    names = [client] if client else list_clients()
    reports = []
    bad = 0
    for name in names:
        try:
            loaded = load_client(name)
        except (InventoryError, UnknownClientError) as exc:
            if client:
                fail(str(exc))
            bad += 1
            err.print(f"[red]✗[/] {escape(name)}: {escape(str(exc).splitlines()[0])}", soft_wrap=True)
            continue
        if loaded.settings.notify is None:
            continue
        with user_errors():
            reports.append(run_pass(ledger, loaded, now=at, trigger="retry", detect=False))
    if as_json:
        dump([r.as_dict() for r in reports])
    else:
        if not reports:
            out.print("no client has maintenance.notify")
        for r in reports:
            busy = " (another pass was running)" if r.busy else ""
            out.print(
                f"{escape(r.client)}: {r.count('sent')} sent, {r.count('failed')} failed, "
                f"{r.count('deferred')} deferred{busy}",
                soft_wrap=True,
            )
            for d in r.deliveries:
                if d.outcome == "failed":
                    out.print(
                        f"  {escape(d.channel)}: {escape(d.subject)}: {escape(d.error or '')}", soft_wrap=True
                    )
    if bad:
        raise typer.Exit(EXIT_CANNOT_RUN)
    raise typer.Exit(EXIT_NOT_PASSED if any(r.count("failed") for r in reports) else EXIT_OK)
