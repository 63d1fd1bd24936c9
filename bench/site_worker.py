"""Bench (issue 17): the same 10-host job run by the controller and through a site's worker on 127.0.0.1.

    python bench/site_worker.py [--hosts 10] [--rounds 5] [--quick] [--json]

One client of H local-connection hosts (default 10) with ``linux_health``, run by
:func:`runner.execute.execute` twice per round, interleaved: with every host on the controller (the
baseline), and with ``maintenance.site: a`` so that one ``maint worker`` process (same forks, same machine)
runs it, its job and events over a real nats-server (TLS, nkeys: tests/nats_harness.py, the configuration
``maint nats-config`` prints). Both record into the same kind of ledger, PostgreSQL (sites require it): the
admin URL in ``MAINT_TEST_PG_URL`` (``.ci/run`` starts a server); without it, or without nats-server, the
bench says so in one line and exits 0.

Printed: the median wall time of each and the ratio site / controller (target <= 1.2), and the event
latency to the ledger: for each recorded check, from the event's ``created`` time (stamped by Ansible's
callback where the task ran: at the worker for the site's job; the same clock here) to the moment the
recorder's observer sees the row, right after its commit; p50 and p99, for both runs (the controller's
own is the baseline: its events do not cross NATS). ``--quick``: 1 round.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
SITE = "a"
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}


def _client(base: Path, name: str, hosts: int, site: str | None) -> None:
    root = base / name
    (root / "group_vars" / "all").mkdir(parents=True)
    names = {f"h{i:02d}": dict(LOCAL) for i in range(hosts)}
    (root / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"linux": {"hosts": names}}}}))
    settings: dict[str, Any] = {
        "display_name": f"Bench {name}",
        "timezone": "Europe/Madrid",
        "contacts": [{"name": "Tech", "email": "tech@example.com"}],
        "roles": {"linux_health": ["linux"]},
    }
    if site is not None:
        settings["site"] = site
    (root / "group_vars" / "all" / "maintenance.yml").write_text(
        yaml.safe_dump({"maintenance": settings}, sort_keys=False)
    )


class _Latency:
    """An observer: for each recorded row, now minus its event's time (ms)."""

    def __init__(self) -> None:
        self.samples: list[float] = []

    def started(self, run_id: str, client: str, hosts: Sequence[str]) -> None:
        pass

    def recorded(self, host: str, results: Sequence[Any], host_done: bool) -> None:
        now = datetime.now(UTC)
        for row in results:
            observed = getattr(row, "observed_at", None)
            if isinstance(observed, datetime):
                self.samples.append((now - observed).total_seconds() * 1000)

    def finished(self, outcome: Any) -> None:
        pass


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _worker(site: Any, tmp: Path) -> Any:
    from tests.test_site_worker import _start_worker

    return _start_worker(site, "bench-w1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="1 round")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else max(1, args.rounds)

    from tests.nats_harness import nats_server, nats_server_binary

    admin = os.environ.get("MAINT_TEST_PG_URL")
    if nats_server_binary() is None or not admin:
        print("bench/site_worker.py: skipped: needs nats-server and MAINT_TEST_PG_URL (.ci/run gives both)")
        return 0
    from maint_devtools.pgdb import temporary_database

    with tempfile.TemporaryDirectory(prefix="maint-bench-site-") as tmp_name:
        tmp = Path(tmp_name)
        inventories = tmp / "inventories"
        _client(inventories, "here", args.hosts, None)
        _client(inventories, "there", args.hosts, SITE)
        os.environ.update(
            {
                "MAINT_VAR": str(tmp / "var"),
                "MAINT_INVENTORIES": str(inventories),
                "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            }
        )
        with (
            nats_server(inventories, tmp / "nats", ["controller", SITE]) as server,
            temporary_database(admin, "bench_site") as url,
        ):
            from runner import dispatch
            from runner.execute import RunRequest, execute
            from runner.ledger import Ledger
            from tests.test_site_worker import Site, _settings, _stop

            controller = _settings(server, "controller")
            assert controller.tls_ca and controller.tls_cert and controller.tls_key

            async def declare() -> None:
                nc = await dispatch.connect(controller, None)
                try:
                    await dispatch.ensure_site(nc, SITE)
                finally:
                    await nc.close()

            asyncio.run(declare())
            os.environ.update(
                {
                    "MAINT_DB_URL": url,
                    "MAINT_NATS_URL": controller.url,
                    "MAINT_NATS_CREDS": str(controller.creds),
                    "MAINT_NATS_TLS_CA": str(controller.tls_ca),
                    "MAINT_NATS_TLS_CERT": str(controller.tls_cert),
                    "MAINT_NATS_TLS_KEY": str(controller.tls_key),
                }
            )
            vault = tmp / "vault-pass"
            vault.write_text(secrets.token_hex(16) + "\n")  # the worker's; nothing here is vaulted
            vault.chmod(0o600)
            site = Site(tmp, server, controller, inventories / "there" / "hosts.yml", vault)
            worker = _worker(site, tmp)
            try:
                ledger = Ledger(url)
                execute(RunRequest(client="here"), ledger)  # warm both paths once, unmeasured
                execute(RunRequest(client="there"), ledger)
                times: dict[str, list[float]] = {"controller": [], "site": []}
                latency: dict[str, list[float]] = {"controller": [], "site": []}
                for _ in range(rounds):
                    for kind, client in (("controller", "here"), ("site", "there")):
                        observer = _Latency()
                        start = time.perf_counter()
                        outcome = execute(RunRequest(client=client), ledger, observer)
                        times[kind].append(time.perf_counter() - start)
                        latency[kind] += observer.samples
                        checked = [r for r in outcome.results if r.status.value != "not_checked"]
                        if not checked:
                            print(f"bench/site_worker.py: the {kind} run checked nothing", file=sys.stderr)
                            return 1
            finally:
                _stop(worker)
    load = os.getloadavg()[0]
    med = {kind: statistics.median(values) for kind, values in times.items()}
    ratio = med["site"] / med["controller"]
    numbers = {
        "hosts": args.hosts,
        "rounds": rounds,
        "controller_s": round(med["controller"], 3),
        "site_s": round(med["site"], 3),
        "ratio": round(ratio, 3),
        "target": 1.2,
        "latency_ms": {
            kind: {"p50": round(_pct(v, 0.5), 1), "p99": round(_pct(v, 0.99), 1), "rows": len(v)}
            for kind, v in latency.items()
        },
        "load_average": round(load, 2),
    }
    if args.json:
        print(json.dumps(numbers, indent=2))
        return 0
    print(f"site worker bench: {args.hosts} hosts, linux_health, {rounds} round(s), load {load:.2f}")
    print(f"  controller runs it   median {med['controller']:7.2f} s")
    print(f"  site worker runs it  median {med['site']:7.2f} s   ratio {ratio:.2f} (target <= 1.2)")
    for kind, v in latency.items():
        print(
            f"  event -> ledger, {kind:10s}  p50 {_pct(v, 0.5):7.1f} ms  p99 {_pct(v, 0.99):7.1f} ms  "
            f"({len(v)} rows)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
