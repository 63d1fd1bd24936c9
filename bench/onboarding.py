"""Benchmark: the onboarding pack of one client against building its status alone (issue 14).

    python bench/onboarding.py [--hosts 50] [--months 3] [--software 400] [--rounds 4] [--quick]

A client of HOSTS Linux hosts (linux_health, linux_patching, linux_antivirus and linux_backup assigned) in a
fresh SQLite ledger: MONTHS monthly audit runs of every role, each result the real evaluator's on a healthy
or failing recorded output under tests/data (bench/report.py's generator, fixed seed), the last one the
onboarding audit; per host one asset facts row (``runner.assets.store.record``: identity, OS, hardware,
two interfaces, disks, filesystems, SOFTWARE installed packages, listening services) and the roadmap planned
from the risks (untimed). Timed, after an untimed warm-up of each, ROUNDS rounds alternated ABBA:

- **pack**: :func:`runner.onboarding.pack.build_pack` (the JSON) and its HTML (``pack.html.j2``);
- **xlsx**: the three workbooks and the CSV from that JSON (:mod:`runner.onboarding.xlsx`);
- **status** (the baseline): :func:`runner.state.compute` of the client, the current state alone.

Printed: each part's median seconds and the ratios pack/status and xlsx/status (geometric mean of the
rounds' ratios). The PDF (WeasyPrint) is timed once apart. Everything goes to a temporary MAINT_VAR /
MAINT_INVENTORIES. ``--quick``: 10 hosts, 2 months, 100 packages, 2 rounds (a smoke run).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from report import OUTPUTS, alternate, fill, geomean, monthly, write_client

CLIENT = "onboard"


def facts_of(host: str, index: int, software: int) -> dict[str, Any]:
    """Asset facts of one generated Debian host (the documented shape, runner/assets/facts.py)."""
    return {
        "hostname": host,
        "fqdn": f"{host}.bench.example",
        "os": {"name": "Debian GNU/Linux", "version": "12", "kernel": "6.1.0-28-amd64"},
        "hardware": {
            "vendor": "QEMU",
            "model": "Standard PC (Q35 + ICH9, 2009)",
            "serial": f"SN{index:06d}",
            "virtualisation": "kvm",
            "cpu_model": "AMD EPYC 7763 64-Core Processor",
            "cpu_count": 4,
            "ram_bytes": 8 * 1024**3,
        },
        "interfaces": [
            {"name": "lo", "ips": ["127.0.0.1"]},
            {
                "name": "ens3",
                "mac": f"52:54:00:00:{index // 256:02x}:{index % 256:02x}",
                "ips": [f"10.0.{index // 250}.{index % 250 + 1}"],
            },
        ],
        "disks": [{"name": "vda", "size_bytes": 64 * 1024**3, "model": "QEMU HARDDISK"}],
        "filesystems": [
            {"mount": "/", "fstype": "ext4", "device": "/dev/vda1", "size_bytes": 60 * 1024**3},
            {"mount": "/boot/efi", "fstype": "vfat", "device": "/dev/vda15", "size_bytes": 124 * 1024**2},
        ],
        "software": [
            {
                "name": f"package-{n:04d}",
                "version": f"1.{n % 17}.{(n * 7 + index) % 5}-1",
                "publisher": "Debian",
            }
            for n in range(software)
        ],
        "software_count": software,
        "services_listening": [{"proto": "tcp", "address": "0.0.0.0", "port": 22, "process": "sshd"}],
        "last_boot": "2026-11-01T06:00:00+00:00",
    }


def timed(fn: Callable[[], Any]) -> Callable[[], float]:
    def run() -> float:
        began = time.perf_counter()
        fn()
        return time.perf_counter() - began

    return run


def bench(work: Path, hosts: int, months: int, software: int, rounds: int) -> int:
    from runner.assets import store
    from runner.inventory import load_client
    from runner.ledger import Ledger
    from runner.onboarding import pack as pack_mod
    from runner.onboarding import risks as risks_mod
    from runner.onboarding import roadmap, xlsx
    from runner.report.render import pdf, render
    from runner.state import compute

    roles = list(OUTPUTS)
    write_client(work / "inventories", CLIENT, hosts, roles)
    client = load_client(CLIENT)
    ledger = Ledger(f"sqlite:///{work / 'onboarding.db'}")
    end = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
    began = time.perf_counter()
    runs = monthly(end, months)
    rows = fill(ledger, [CLIENT], hosts, roles, runs, seed=13)
    run_id = f"{CLIENT}-{runs[-1]:%Y%m%dT%H%M}"
    for index, host in enumerate(sorted(client.tree.hosts)):
        store.record(
            ledger,
            client=CLIENT,
            host=host,
            platform="linux",
            facts=facts_of(host, index, software),
            run_id=run_id,
            role="linux_assets",
            collected_at=runs[-1] + timedelta(minutes=5),
        )
    now = end + timedelta(hours=2)
    found = risks_mod.risks(ledger, client)
    roadmap.plan(ledger, client, found, by="bench", now=now)
    head = ledger.chain_heads()[CLIENT][0]
    print(
        f"onboarding pack: 1 client, {hosts} hosts, {len(roles)} roles, {months} monthly audit(s), "
        f"{software} packages per host: {rows} check results, {head} ledger rows, {len(found)} risks "
        f"(made in {time.perf_counter() - began:.1f} s)"
    )
    held: dict[str, Any] = {}

    def build() -> None:
        data = pack_mod.build_pack(ledger, client, run_id=run_id, lang="en", now=now, msp={}, verifier=None)
        held["html"] = render(data, "html", template="pack")
        held["data"] = data

    def sheets() -> None:
        data = held["data"]
        held["xlsx"] = [xlsx.assets(data), xlsx.risks(data), xlsx.roadmap(data), pack_mod.assets_csv(data)]

    def status() -> None:
        held["state"] = compute(ledger, client)

    build()  # the JSON the workbooks are made from
    pack_times, status_times = alternate(rounds, timed(build), timed(status))
    xlsx_times, status_times_2 = alternate(rounds, timed(sheets), timed(status))
    pack_ratio = geomean([p / s for p, s in zip(pack_times, status_times, strict=True)])
    xlsx_ratio = geomean([x / s for x, s in zip(xlsx_times, status_times_2, strict=True)])
    med = statistics.median
    data = held["data"]
    print(
        f"  status (runner.state.compute): median {med(status_times + status_times_2) * 1000:.0f} ms, "
        f"{len(held['state'].rows)} rows"
    )
    print(
        f"  pack JSON + HTML: median {med(pack_times) * 1000:.0f} ms ({len(data['assets'])} assets, "
        f"{len(data['risks'])} risks, {len(data['roadmap']['items'])} roadmap items, "
        f"HTML {len(held['html']) // 1024} KiB)"
    )
    sizes = ", ".join(f"{len(b) // 1024} KiB" for b in held["xlsx"])
    print(f"  workbooks + CSV: median {med(xlsx_times) * 1000:.0f} ms (assets, risks, roadmap, csv: {sizes})")
    print(
        f"  ratio pack/status: {pack_ratio:.1f}x   ratio xlsx/status: {xlsx_ratio:.1f}x   (geometric means)"
    )
    try:
        one = time.perf_counter()
        size = len(pdf(held["html"].decode()))
        print(f"  pdf (WeasyPrint, once): {time.perf_counter() - one:.1f} s, {size // 1024} KiB")
    except Exception as exc:  # WeasyPrint missing its libraries: say so, the rest stands
        print(f"  pdf: not measured ({type(exc).__name__}: {exc})")
    ledger.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/onboarding.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--months", type=int, default=3)
    parser.add_argument("--software", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="10 hosts, 2 months, 100 packages, 2 rounds")
    args = parser.parse_args(argv)
    if args.quick:
        args.hosts, args.months, args.software, args.rounds = 10, 2, 100, 2
    for name in ("hosts", "months", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} {getattr(args, name)}: expected at least 1")
    if args.software < 0:
        parser.error(f"--software {args.software}: expected 0 or more")
    with tempfile.TemporaryDirectory(prefix="maint-bench-onboarding-") as tmp:
        work = Path(tmp)
        os.environ["MAINT_VAR"] = str(work / "var")
        os.environ["MAINT_INVENTORIES"] = str(work / "inventories")
        os.environ.pop("MAINT_DB_URL", None)
        os.environ.pop("MAINT_LEDGER_KEY_FILE", None)
        return bench(work, args.hosts, args.months, args.software, args.rounds)


if __name__ == "__main__":
    raise SystemExit(main())
