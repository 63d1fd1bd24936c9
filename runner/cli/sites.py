"""``maint nats-config``: the nats-server configuration of the site workers (issue 17), from the inventories.

The work is :mod:`runner.natsconf` and :mod:`runner.sites`, imported when the command runs (start-up stays
lazy).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from runner.cli.app import app, err, fail


@app.command("nats-config")
def nats_config(
    inventories: Annotated[
        Path | None,
        typer.Option(
            help="Folder of the client inventories (default: MAINT_INVENTORIES, else inventories/)."
        ),
    ] = None,
    tls_dir: Annotated[
        Path,
        typer.Option(help="Folder of the server's server.crt, server.key and ca.crt, on the NATS server."),
    ] = Path("/etc/nats-server/tls"),
    store_dir: Annotated[
        Path,
        typer.Option(
            help="JetStream's folder on the NATS server, owned by its user (streams go in jetstream/)."
        ),
    ] = Path("/var/lib/nats-server"),
    listen: Annotated[
        str | None,
        typer.Option(help="HOST:PORT the server listens on (default: port 4222 on every interface)."),
    ] = None,
    creds: Annotated[
        Path | None,
        typer.Option(help="Folder of the users' nkey seed files (controller.nk, site-<site>.nk) to read."),
    ] = None,
    write_creds: Annotated[
        Path | None,
        typer.Option(
            help="Like --creds, and make the seed files that are missing there (mode 0600; existing ones "
            "are kept). Hand each site its own site-<site>.nk only."
        ),
    ] = None,
    tls_verify: Annotated[
        bool, typer.Option(help="Require a client certificate signed by ca.crt on every connection.")
    ] = True,
    max_file_store: Annotated[
        str, typer.Option(help="JetStream's disk limit (server and account).")
    ] = "10GB",
    max_memory_store: Annotated[str, typer.Option(help="JetStream's memory limit.")] = "256MB",
    max_payload: Annotated[
        str, typer.Option(help="Largest message (a job's payload); at most 64MB.")
    ] = "8MB",
) -> None:
    """Print a nats-server configuration for the site workers: JetStream, TLS, a controller user and one
    user per site the inventories name (nkeys: only public keys are printed).

    Exit 2 when an inventory cannot be read, a site name is bad, a seed file is missing or unusable.
    """
    from runner import natsconf, paths
    from runner.inventory import list_clients, validate_client
    from runner.sites import site_var_problems

    if creds is not None and write_creds is not None and creds != write_creds:
        fail("give --creds DIR or --write-creds DIR, not both")
    seeds = write_creds if write_creds is not None else creds
    if seeds is None:
        fail(
            "the users' nkeys: pass --write-creds DIR (makes the missing seed files, mode 0600) "
            "or --creds DIR (reads existing ones)"
        )
    base = (inventories or paths.inventories_dir()).expanduser()
    if not base.is_dir():
        fail(f"--inventories: {base} is not a folder")
    site_clients: dict[str, set[str]] = {}
    problems: list[str] = []
    for name in list_clients(base):
        client, found = validate_client(name, base)
        if client is not None:
            hosts, bad = site_var_problems(client)
            found = [*found, *bad]
            for site in {s for s in hosts.values() if s is not None}:
                site_clients.setdefault(site, set()).add(name)
        problems += [str(p) for p in found]
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        fail(f"cannot list the sites (`maint inventory validate` shows every problem): {shown}")
    listed = {site: sorted(names) for site, names in sorted(site_clients.items())}
    try:
        host, port = natsconf.parse_listen(listen) if listen is not None else (None, 4222)
        options = natsconf.ServerOptions(
            host=host,
            port=port,
            tls_dir=tls_dir,
            tls_verify=tls_verify,
            store_dir=store_dir,
            max_file_store=natsconf.parse_size(max_file_store, "--max-file-store"),
            max_memory_store=natsconf.parse_size(max_memory_store, "--max-memory-store"),
            max_payload=natsconf.parse_size(max_payload, "--max-payload"),
        )
        keys, written = natsconf.user_keys(seeds.expanduser(), list(listed), create=write_creds is not None)
        text = natsconf.render(options, listed, keys)
    except natsconf.NatsConfigError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{seeds}: {exc.strerror or exc}")
    for path in written:
        err.print(f"wrote {path} (mode 0600)", markup=False, highlight=False)
    for site, names in listed.items():
        if len(names) > 1:
            err.print(
                f"note: site {site} runs hosts of several clients ({', '.join(names)}): its worker can read "
                "all their jobs",
                markup=False,
                highlight=False,
            )
    if not listed:
        err.print("note: no inventory names a site yet: only the controller user", markup=False)
    sys.stdout.write(text)
