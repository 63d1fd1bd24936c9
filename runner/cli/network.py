"""Network configuration commands: ``maint config show|list``, ``maint drift``, ``maint simulators``."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from runner import paths
from runner.cli.app import app, dump, fail, open_ledger, out, user_errors

if TYPE_CHECKING:  # each command imports what it uses: `maint --help` must not load paramiko (start-up)
    from runner.ledger import Ledger
    from runner.network.drift import DriftReport
    from runner.network.snapshots import Snapshot

#: the simulators' platforms and faults (maint_devtools/simulator.py DRIVERS and Fault) for the help text,
#: as data so the help loads no SSH code; tests/test_cli_startup.py checks they are the simulator's
SIM_PLATFORMS: tuple[str, ...] = ("cisco_ios", "aruba_aoscx", "aruba_aoss", "fortios")
SIM_FAULTS: tuple[str, ...] = ("none", "auth", "stall", "drop", "garbage", "noise", "silent")

config_app = typer.Typer(help="Network configuration snapshots.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("show")
def config_show(
    client: Annotated[str, typer.Argument(help="Client name.")],
    device: Annotated[str, typer.Argument(help="Device (inventory host name).")],
    raw: Annotated[
        bool,
        typer.Option(
            "--raw", help="The restorable raw text (needs MAINT_SNAPSHOT_KEY or MAINT_SNAPSHOT_KEY_FILE)."
        ),
    ] = False,
    snapshot: Annotated[
        int | None,
        typer.Option("--snapshot", help="Snapshot id (default: the latest; see maint config list)."),
    ] = None,
) -> None:
    """Print a device's latest configuration snapshot: masked, or with --raw decrypted.

    A header (device, snapshot id, time, run) goes to stderr, so stdout is the configuration alone.
    """
    from runner.network.snapshots import SnapshotError, decrypt_raw, find

    ledger = open_ledger()
    require_client(ledger, client)
    with user_errors():
        try:
            snap = find(ledger, client, device, snapshot)
            text = decrypt_raw(snap) if raw else snap.shown_text
        except SnapshotError as exc:
            fail(str(exc))
    typer.echo(header(snap, raw=raw), err=True)
    typer.echo(text, nl=not text.endswith("\n"))


def _taken(snap: Snapshot) -> str:
    return snap.taken_at[:19].replace("T", " ") + " UTC"


def header(snap: Snapshot, *, raw: bool) -> str:
    text = (
        "raw (restorable, holds secrets)"
        if raw
        else "masked (secrets replaced; --raw for the restorable text)"
    )
    return "\n".join(
        (
            f"client:   {snap.client}",
            f"device:   {snap.device} ({snap.platform})",
            f"snapshot: {snap.id} (sha256 {snap.content_hash[:12]}, {snap.line_count} lines)",
            f"taken:    {_taken(snap)}",
            f"run:      {snap.run_id or '(none)'}",
            f"text:     {text}",
        )
    )


@config_app.command("list")
def config_list(
    client: Annotated[str, typer.Argument(help="Client name.")],
    device: Annotated[str | None, typer.Argument(help="Only this device (inventory host name).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the snapshots as JSON.")] = False,
) -> None:
    """List a client's configuration snapshots (or a device's), newest first: id, device, time, run, hash."""
    from runner.network.snapshots import history

    ledger = open_ledger()
    require_client(ledger, client)
    with user_errors():
        found = list(reversed(history(ledger, client, device)))
    if as_json:
        dump(
            [
                {
                    "id": s.id,
                    "device": s.device,
                    "platform": s.platform,
                    "taken_at": s.taken_at,
                    "run_id": s.run_id,
                    "hash": s.content_hash,
                    "lines": s.line_count,
                    "raw_stored": s.has_raw,
                }
                for s in found
            ]
        )
        return
    if not found:
        out.print(f"no snapshot for client {client}{f' device {device}' if device else ''} yet")
        return
    from rich.table import Table

    table = Table(title=f"configuration snapshots: {client}{f' / {device}' if device else ''}")
    for col in ("id", "device", "platform", "taken (UTC)", "run", "hash", "lines", "raw"):
        table.add_column(col, overflow="fold")
    for s in found:
        table.add_row(
            str(s.id),
            s.device,
            s.platform,
            s.taken_at[:19].replace("T", " "),
            s.run_id or "",
            s.content_hash[:12],
            str(s.line_count),
            "encrypted" if s.has_raw else "no",
        )
    out.print(table)


def require_client(ledger: Ledger, client: str) -> None:
    """A client is known when it has an inventory or rows in the ledger (a removed client's history
    stays readable); otherwise one line and exit 2."""
    from runner.inventory import UnknownClientError, list_clients

    known = list_clients()
    if client in known:
        return
    with user_errors():
        in_ledger = client in ledger.clients()
    if not in_ledger:
        fail(f"{UnknownClientError(client, paths.inventories_dir(), known)}, nor in the ledger")


@app.command("drift")
def drift(
    client: Annotated[str, typer.Argument(help="Client name.")],
    device: Annotated[str | None, typer.Option("--device", help="Only this device.")] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="A run id or a date (YYYY-MM-DD); default: the previous network run."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="md, html or json.")] = "md",
) -> None:
    """Per device, the diff of masked configuration snapshots since a run or date; changed devices first."""
    from runner.network import drift as drift_mod

    if fmt not in drift_mod.RENDERERS:
        fail(f"--format {fmt!r}: choose one of {', '.join(drift_mod.RENDERERS)}")
    ledger = open_ledger()
    require_client(ledger, client)
    with user_errors():
        try:
            report = drift_mod.drift(ledger, client, device=device, since=since)
        except drift_mod.DriftError as exc:
            fail(str(exc))
        report = _with_checkpoint(ledger, report)
    typer.echo(drift_mod.render(report, fmt), nl=False)


def _with_checkpoint(ledger: Ledger, report: DriftReport) -> DriftReport:
    """The report carrying its client's latest ledger checkpoint (read only: none is made here)."""
    import dataclasses

    from runner import witness

    return dataclasses.replace(
        report, checkpoint=witness.carried(ledger, report.client, witness.configured_verifier())
    )


@app.command("simulators")
def simulators(
    platform: Annotated[
        list[str] | None,
        typer.Option("--platform", help=f"Platforms to serve (default: all): {', '.join(SIM_PLATFORMS)}."),
    ] = None,
    config: Annotated[
        list[Path] | None,
        typer.Option("--config", help="Configuration file to serve, one per --platform, in the same order."),
    ] = None,
    port: Annotated[int, typer.Option("--port", help="First port (0: ephemeral ports).")] = 0,
    fault: Annotated[str, typer.Option("--fault", help=f"{', '.join(SIM_FAULTS)}.")] = "none",
    known_hosts: Annotated[
        Path | None, typer.Option("--known-hosts", help="Write the simulators' host keys to this file.")
    ] = None,
) -> None:
    """Serve simulated network devices on 127.0.0.1 until Ctrl-C (for trying netmiko or the role by hand)."""
    from maint_devtools import simulator  # a demo tool: imported only here, never at start-up

    names = platform or list(simulator.DRIVERS)
    unknown = [p for p in names if p not in simulator.DRIVERS]
    if unknown:
        fail(f"unknown platform(s) {', '.join(unknown)}; known: {', '.join(simulator.DRIVERS)}")
    if config and len(config) != len(names):
        fail("give one --config per --platform")
    try:
        chosen = simulator.Fault(fault)
    except ValueError:
        fail(f"--fault {fault!r}: choose one of {', '.join(f.value for f in simulator.Fault)}")
    wanted = [
        (name, simulator.DeviceProfile.default(name, config[i] if config else None), port + i if port else 0)
        for i, name in enumerate(names)
    ]
    with user_errors(), simulator.running(wanted) as sims:
        for sim in sims.values():
            sim.fault = chosen
        target = known_hosts or paths.var_dir() / "simulators_known_hosts"
        simulator.write_known_hosts(target, list(sims.values()))
        for name, sim in sims.items():
            out.print(f"{name:12} {sim.device_type:15} {sim.host}:{sim.port}  fault={sim.fault.value}")
        out.print(
            f"user {simulator.DEMO_USER!r}, password {simulator.DEMO_PASSWORD!r}, "
            f"enable {simulator.DEMO_ENABLE!r} (demo-only values); host keys in {target}",
            soft_wrap=True,
        )
        out.print("Ctrl-C stops them.")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            out.print("stopping")
