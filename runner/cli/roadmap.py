"""``maint roadmap CLIENT [--json] [--all]`` and ``maint roadmap CLIENT set ITEM --owner/--due/--status``.

The onboarding roadmap (:mod:`runner.onboarding.roadmap`): its items, overdue first, and the technician
agreeing owners, target dates and statuses with the client, each change recorded with who and when.
Exit codes: 0 shown / set; 2 an unknown client or item, a bad date or status, nothing to set.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from runner.cli.app import EXIT_OK, app, dump, fail, open_ledger, out, user_errors

if TYPE_CHECKING:
    from runner.onboarding.roadmap import RoadmapItem

STATUS_HELP = "open, in_progress, done or wont_do."


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return "unknown"


def _show(client: str, found: list[RoadmapItem], *, everything: bool) -> None:
    shown = [i for i in found if everything or i.status in ("open", "in_progress")]
    if not shown:
        hidden = len(found) - len(shown)
        tail = f" ({hidden} done or won't do: --all shows them)" if hidden else ""
        out.print(f"no open roadmap item for {escape(client)}{tail}", soft_wrap=True)
        return
    table = Table(title=f"roadmap of {escape(client)}")
    for col in ("item", "status", "class", "severity", "owner", "due", "hosts", "title"):
        table.add_column(col, overflow="fold")
    for item in shown:
        colour = {"done": "green", "wont_do": "dim", "in_progress": "yellow"}.get(item.status, "red")
        status = f"[{colour}]{item.status}[/]" + (" [bold red](overdue)[/]" if item.overdue else "")
        table.add_row(
            escape(item.item),
            status,
            item.treatment_class,
            item.severity,
            escape(item.owner or ""),
            item.due.isoformat() if item.due else "",
            escape(", ".join(item.hosts)),
            escape(item.title),
        )
    out.print(table)


@app.command("roadmap")
def roadmap(
    client: Annotated[str, typer.Argument(help="Client folder.")],
    action: Annotated[
        str | None, typer.Argument(help="set: change ITEM (else the roadmap is shown).")
    ] = None,
    item: Annotated[str | None, typer.Argument(help="The item to change (its control id).")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="set: who does it.")] = None,
    due: Annotated[str | None, typer.Option("--due", help="set: the target date, YYYY-MM-DD.")] = None,
    status: Annotated[str | None, typer.Option("--status", help=f"set: {STATUS_HELP}")] = None,
    by: Annotated[str | None, typer.Option("--by", help="set: who agreed it (default: the OS user).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    everything: Annotated[bool, typer.Option("--all", help="Include done and won't-do items.")] = False,
) -> None:
    """The client's onboarding roadmap (open, in progress, overdue first), or ``set ITEM`` to change one."""
    from runner.inventory import load_client
    from runner.onboarding import roadmap as rm

    with user_errors():
        found_client = load_client(client)
    now = datetime.now(UTC)
    if action is None:
        if item is not None:
            fail(f"unexpected argument {item!r}")
        given = [
            name
            for name, value in (("--owner", owner), ("--due", due), ("--status", status), ("--by", by))
            if value is not None
        ]
        if given:
            fail(f"{', '.join(given)}: only with `maint roadmap {client} set ITEM`")
        ledger = open_ledger()
        with user_errors():
            found = rm.items(ledger, found_client.name, now=now)
        if as_json:
            shown = [i for i in found if everything or i.status in rm.ACTIVE]
            dump(
                {
                    "client": found_client.name,
                    "items": [i.as_dict() for i in shown],
                    "milestones": rm.milestones(found),
                }
            )
        else:
            _show(found_client.name, found, everything=everything)
        raise typer.Exit(EXIT_OK)
    if action != "set":
        fail(f"unknown action {action!r}: expected `set ITEM` (or nothing, to show the roadmap)")
    if item is None:
        fail(f"`maint roadmap {client} set` needs the ITEM to change (its control id)")
    try:
        when = rm.parse_due(due) if due is not None else None
    except rm.RoadmapError as exc:
        fail(str(exc))
    ledger = open_ledger()
    with user_errors():
        try:
            changed = rm.set_item(
                ledger,
                found_client,
                item,
                by=by if by is not None else _user(),
                now=now,
                owner=owner,
                due=when,
                status=status,
            )
        except rm.RoadmapError as exc:
            fail(str(exc))
    if as_json:
        dump(changed.as_dict())
    else:
        last = changed.history[-1]
        out.print(
            f"{escape(changed.item)}: {changed.status}, owner {escape(changed.owner or '-')}, "
            f"due {changed.due.isoformat() if changed.due else '-'} "
            f"(last change by {escape(str(last['by']))} at {str(last['at'])[:16].replace('T', ' ')} UTC)",
            soft_wrap=True,
        )
    raise typer.Exit(EXIT_OK)
