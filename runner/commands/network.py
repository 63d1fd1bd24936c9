"""Network configuration commands: ``maint config show``, ``maint drift``, ``maint simulators``."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer

from runner import paths
from runner.cli import app, fail, open_ledger, out, user_errors
from runner.network import drift as drift_mod
from runner.network import simulator
from runner.network.snapshots import SnapshotError, decrypt_raw, find

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
        int | None, typer.Option("--snapshot", help="Snapshot id (default: the latest).")
    ] = None,
) -> None:
    """Print a device's latest configuration snapshot: masked, or with --raw decrypted."""
    ledger = open_ledger()
    with user_errors():
        try:
            snap = find(ledger, client, device, snapshot)
            text = decrypt_raw(snap) if raw else snap.masked_text
        except SnapshotError as exc:
            fail(str(exc))
    typer.echo(text, nl=not text.endswith("\n"))


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
    if fmt not in drift_mod.RENDERERS:
        fail(f"--format {fmt!r}: choose one of {', '.join(drift_mod.RENDERERS)}")
    ledger = open_ledger()
    with user_errors():
        try:
            report = drift_mod.drift(ledger, client, device=device, since=since)
        except drift_mod.DriftError as exc:
            fail(str(exc))
    typer.echo(drift_mod.render(report, fmt), nl=False)


@app.command("simulators")
def simulators(
    platform: Annotated[
        list[str] | None,
        typer.Option(
            "--platform", help=f"Platforms to serve (default: all): {', '.join(simulator.DIALECTS)}."
        ),
    ] = None,
    config: Annotated[
        list[Path] | None,
        typer.Option("--config", help="Configuration file to serve, one per --platform, in the same order."),
    ] = None,
    port: Annotated[int, typer.Option("--port", help="First port (0: ephemeral ports).")] = 0,
    fault: Annotated[str, typer.Option("--fault", help="none, auth, stall, drop or garbage.")] = "none",
    known_hosts: Annotated[
        Path | None, typer.Option("--known-hosts", help="Write the simulators' host keys to this file.")
    ] = None,
) -> None:
    """Serve simulated network devices on 127.0.0.1 until Ctrl-C (for trying netmiko or the role by hand)."""
    names = platform or list(simulator.DIALECTS)
    unknown = [p for p in names if p not in simulator.DIALECTS]
    if unknown:
        fail(f"unknown platform(s) {', '.join(unknown)}; known: {', '.join(simulator.DIALECTS)}")
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
