"""``maint worker`` (a site's worker, issue 17) and ``maint workers`` (the workers' last heartbeats).

The work is :mod:`runner.worker` and :mod:`runner.dispatch`, imported when a command runs.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from runner.cli.app import app, fail

_NATS_HELP = "URL of the NATS server (tls://host:4222)."


def _settings(
    nats: str, creds: Path, tls_ca: Path | None, tls_cert: Path | None, tls_key: Path | None
) -> Any:
    from runner.dispatch import NatsSettings

    settings = NatsSettings(
        url=nats,
        creds=creds.expanduser(),
        tls_ca=tls_ca.expanduser() if tls_ca else None,
        tls_cert=tls_cert.expanduser() if tls_cert else None,
        tls_key=tls_key.expanduser() if tls_key else None,
    )
    why = settings.problem()
    if why is not None:
        fail(why)
    return settings


@app.command("worker")
def worker(
    site: Annotated[
        str, typer.Option(help="The site this worker runs jobs for (maintenance.site / maint_site).")
    ],
    nats: Annotated[str, typer.Option(help=_NATS_HELP, envvar="MAINT_NATS_URL")],
    creds: Annotated[
        Path,
        typer.Option(
            help="The site user's nkeys seed file (site-<site>.nk, mode 0600).", envvar="MAINT_NATS_CREDS"
        ),
    ],
    tls_ca: Annotated[
        Path | None,
        typer.Option(help="CA certificate the server's is signed by.", envvar="MAINT_NATS_TLS_CA"),
    ] = None,
    tls_cert: Annotated[
        Path | None, typer.Option(help="This worker's client certificate.", envvar="MAINT_NATS_TLS_CERT")
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option(help="The client certificate's key.", envvar="MAINT_NATS_TLS_KEY")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Jobs run at the same time.")] = 1,
    name: Annotated[
        str | None, typer.Option(help="This worker's name in heartbeats (default: <host>-<pid>).")
    ] = None,
    heartbeat: Annotated[float, typer.Option(min=0.5, help="Seconds between heartbeats.")] = 5.0,
) -> None:
    """Run the jobs of SITE the controller queues on NATS, until SIGTERM (running jobs finish; a second
    SIGTERM cancels them). The site's vault password: MAINT_VAULT_PASSWORD_FILE. Never opens the ledger.

    Exit 2 when an option is unusable or the server cannot be reached.
    """
    import re

    from runner.dispatch import DispatchError
    from runner.inventory.schema import site_name_problem
    from runner.worker import WorkerOptions, default_name, run_worker

    why = site_name_problem(site)
    if why is not None:
        fail(f"--site: {why}")
    if name is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
        fail("--name: letters, digits, '_' and '-' (at most 64)")
    vault = os.environ.get("MAINT_VAULT_PASSWORD_FILE") or None
    if vault is not None and not Path(vault).expanduser().is_file():
        fail(f"MAINT_VAULT_PASSWORD_FILE: {vault}: no such file")
    options = WorkerOptions(
        site=site,
        nats=_settings(nats, creds, tls_ca, tls_cert, tls_key),
        name=name or default_name(),
        concurrency=concurrency,
        heartbeat_s=heartbeat,
        vault_password_file=vault,
    )
    try:
        run_worker(options)
    except DispatchError as exc:
        fail(str(exc))
    except Exception as exc:  # the server refusing (no such consumer: the controller declares the site first)
        fail(f"site {site}: {type(exc).__name__}: {exc}")


async def _heartbeats(settings: Any) -> list[dict[str, Any]]:
    from runner import sites
    from runner.dispatch import connect

    nc = await connect(settings, None, name="maint workers")
    try:
        js = nc.jetstream()
        try:
            info = await js.stream_info(sites.HEARTBEATS_STREAM, subjects_filter="maint.heartbeats.>")
        except Exception:
            return []
        found: list[dict[str, Any]] = []
        for subject in sorted((info.state.subjects or {}).keys()):
            msg = await js.get_last_msg(sites.HEARTBEATS_STREAM, subject)
            try:
                body = json.loads(msg.data or b"{}")
            except ValueError:
                continue
            if isinstance(body, dict):
                found.append(body)
        return found
    finally:
        await nc.close()


@app.command("workers")
def workers(
    nats: Annotated[str, typer.Option(help=_NATS_HELP, envvar="MAINT_NATS_URL")],
    creds: Annotated[
        Path,
        typer.Option(help="The controller's nkeys seed file (controller.nk).", envvar="MAINT_NATS_CREDS"),
    ],
    tls_ca: Annotated[
        Path | None,
        typer.Option(help="CA certificate the server's is signed by.", envvar="MAINT_NATS_TLS_CA"),
    ] = None,
    tls_cert: Annotated[
        Path | None, typer.Option(help="The controller's client certificate.", envvar="MAINT_NATS_TLS_CERT")
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option(help="The client certificate's key.", envvar="MAINT_NATS_TLS_KEY")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """List the site workers: site, worker, last heartbeat, jobs running (from the heartbeats stream).

    Exit 2 when the server cannot be reached.
    """
    import asyncio

    from runner.dispatch import DispatchError

    settings = _settings(nats, creds, tls_ca, tls_cert, tls_key)
    try:
        beats = asyncio.run(_heartbeats(settings))
    except DispatchError as exc:
        fail(str(exc))
    beats.sort(key=lambda b: (str(b.get("site")), str(b.get("worker"))))
    if as_json:
        sys.stdout.write(json.dumps(beats, indent=2) + "\n")
        return
    if not beats:
        sys.stdout.write("no worker has sent a heartbeat\n")
        return
    sys.stdout.write(f"{'SITE':<16} {'WORKER':<32} {'LAST HEARTBEAT':<26} JOBS\n")
    for beat in beats:
        jobs = ", ".join(f"{j.get('run')}#{j.get('attempt')}" for j in beat.get("jobs") or []) or "-"
        state = " (stopping)" if beat.get("stopping") else ""
        sys.stdout.write(
            f"{beat.get('site')!s:<16} {beat.get('worker')!s:<32} {beat.get('at')!s:<26} {jobs}{state}\n"
        )
