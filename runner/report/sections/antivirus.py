"""The antivirus section: per host with antivirus controls (``AV-*``), from the latest results in the state at
the period's end (conventions: :mod:`runner.report.sections._common`).

Keys of ``build(ctx)``:

- ``hosts``: one entry per host with an ``AV-*`` control in the state, sorted by host:

  - ``host``; ``platform``: ``linux`` (ClamAV, ``AV-LNX-*``) or ``windows`` (``AV-WIN-*``);
  - ``product``: the active antivirus (Windows: ``AV-WIN-01``'s ``primary``, e.g. "Microsoft Defender
    Antivirus", "Sophos Endpoint", else the third-party product it names as installed but not running; Linux:
    "ClamAV" when ``AV-LNX-01`` found clamscan or clamd), None when none is known; ``product_version`` when
    the evidence gives it (ClamAV's, a third-party product's);
  - ``products``: every antivirus seen on the host (``product``, plus Defender when ``AV-WIN-06`` says
    it runs active next to a third-party one), sorted;
  - ``protected``: every ``AV-*`` control passing, waived or not applicable (True), one not passing (False:
    the ``maint status`` rule), None when no latest result judged any (not checked: see ``reason``);
  - ``signature_age_days``: the signatures' age at ``ctx.as_of`` (``AV-WIN-03`` ``age_days`` or
    ``age_hours``, ``AV-LNX-02`` ``age_days`` of the daily database, at the check, plus the days since the
    check); None when the evidence gives no age (e.g. a product read through Security Center only);
  - ``realtime``: real-time protection (``AV-WIN-02``) on (True) or off (False); None when not judged, and
    always None on Linux (ClamAV's evidence does not show on-access scanning);
  - ``last_scan``: when the last scan ended (``AV-WIN-04``: the later of the quick and full scan's end;
    ``AV-LNX-05``: the check's time minus the scan's ``age_days``), None when unknown;
  - ``status``: worst effective status of the host's ``AV-*`` rows (``entry_status``); ``reason``: why the
    host was not judged; ``last_checked``; ``seqs``: the ledger seqs of those rows' latest results.
- ``coverage_pct``: ``hosts_protected / hosts_judged`` in %, None when no host was judged;
- ``hosts_judged``: hosts whose ``protected`` is not None; ``hosts_protected``;
- ``products``: product name -> how many hosts run it (from each host's ``products``).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from runner.report.context import ReportContext
from runner.report.sections import _common as c
from runner.state import StateRow

PREFIXES = ("AV-LNX-", "AV-WIN-")
DEFENDER = "Microsoft Defender Antivirus"
CLAMAV = "ClamAV"


def _windows(rows: list[StateRow]) -> dict[str, Any]:
    active = c.evidence(c.find(rows, "AV-WIN-01"))
    product = active.get("primary") if active is not None else None
    if (not isinstance(product, str) or not product) and active is not None:
        # none active: the third-party product installed (stopped), when the evidence names one
        named = [item.get("name") for item in c.items(active.get("third_party"))]
        product = next((name for name in named if isinstance(name, str) and name), None)
    if not isinstance(product, str) or not product:
        product = None
    version = None
    if active is not None and product is not None:
        for item in c.items(active.get("third_party")):
            if item.get("name") == product and isinstance(item.get("version"), str):
                version = item["version"]
    products = {product} if product else set()
    mode = c.evidence(c.find(rows, "AV-WIN-06"))
    if product and product != DEFENDER and mode is not None and mode.get("defender") == "active":
        products.add(DEFENDER)
    signatures = c.evidence(c.find(rows, "AV-WIN-03"))
    age: float | None = None
    if signatures is not None:
        age = c.number(signatures.get("age_days"))
        hours = c.number(signatures.get("age_hours"))
        if age is None and hours is not None:
            age = hours / 24
    realtime = c.passed(c.find(rows, "AV-WIN-02"))
    scan_ev = c.evidence(c.find(rows, "AV-WIN-04"))
    last_scan = None
    if scan_ev is not None:
        ends = [
            t for t in map(c.parse_time, (scan_ev.get("quick_scan_end"), scan_ev.get("full_scan_end"))) if t
        ]
        last_scan = max(ends) if ends else None
    return {
        "product": product,
        "product_version": version,
        "products": sorted(products),
        "age": (age, c.observed(c.find(rows, "AV-WIN-03"))),
        "realtime": realtime,
        "last_scan": last_scan,
    }


def _linux(rows: list[StateRow]) -> dict[str, Any]:
    engine = c.evidence(c.find(rows, "AV-LNX-01"))
    installed = engine is not None and bool(engine.get("clamscan") or engine.get("clamd"))
    version = engine.get("version") if engine is not None and installed else None
    signatures = c.evidence(c.find(rows, "AV-LNX-02"))
    age = c.number(signatures.get("age_days")) if signatures is not None else None
    scan = c.find(rows, "AV-LNX-05")
    scan_ev = c.evidence(scan)
    scan_age = c.number(scan_ev.get("age_days")) if scan_ev is not None else None
    scanned_at = c.observed(scan)
    last_scan: datetime | None = None
    if scan_age is not None and scanned_at is not None:
        last_scan = scanned_at - timedelta(days=scan_age)
    return {
        "product": CLAMAV if installed else None,
        "product_version": version if isinstance(version, str) else None,
        "products": [CLAMAV] if installed else [],
        "age": (age, c.observed(c.find(rows, "AV-LNX-02"))),
        "realtime": None,
        "last_scan": last_scan,
    }


def _host(ctx: ReportContext, host: str, rows: list[StateRow]) -> dict[str, Any]:
    windows = any(row.control.startswith("AV-WIN-") for row in rows)
    seen = _windows(rows) if windows else _linux(rows)
    age, at = seen.pop("age")
    return {
        "host": host,
        "platform": "windows" if windows else "linux",
        "product": seen["product"],
        "product_version": seen["product_version"],
        "products": seen["products"],
        "protected": c.all_passing(rows),
        "signature_age_days": c.age_days_at(age, at, ctx.as_of) if at is not None else None,
        "realtime": seen["realtime"],
        "last_scan": c.iso(seen["last_scan"]),
        "status": c.entry_status(rows),
        "reason": c.not_judged_reason(rows),
        "last_checked": c.last_checked(rows),
        "seqs": c.seqs_of(rows),
    }


def build(ctx: ReportContext) -> dict[str, Any]:
    state = ctx.state()
    hosts = [_host(ctx, host, rows) for host, rows in c.by_host(state, PREFIXES).items()]
    judged = [h for h in hosts if h["protected"] is not None]
    protected = sum(1 for h in judged if h["protected"])
    products = Counter(name for h in hosts for name in h["products"])
    return {
        "hosts": hosts,
        "coverage_pct": c.pct(protected, len(judged)),
        "hosts_judged": len(judged),
        "hosts_protected": protected,
        "products": dict(sorted(products.items())),
    }
