"""The disk and capacity section: per host, its fullest volume at the period's end and when it will be full
(conventions: :mod:`runner.report.sections._common`).

**Evidence.** ``HEALTH-LNX-01`` (``fullest: {mount, used_pct}``; volumes at or above the warning threshold
also in ``offending`` with ``size_bytes`` and ``free_bytes``; threshold ``fail_pct``) and ``HEALTH-WIN-01``
(``fullest: {volume, free_pct}``, used % = 100 - free %; ``offending`` with ``size_gib`` and ``free_gib``;
threshold ``fail_free_pct``, i.e. used >= 100 - it).

**Forecast.** The samples of the volume are the host's rows of that control observed in the
:data:`WINDOW_DAYS` days before the period's end whose evidence names the volume (as ``fullest`` or in
``offending``: a volume below the warning threshold that is not the fullest is not measured by that row). When
the volume's size changes between two samples that give it (a resize), the series restarts at the first sample
of the new size. With at least :data:`MIN_SAMPLES` samples on at least :data:`MIN_DAYS` distinct local days, a
least-squares line ``used_pct = a + b * days`` is fitted (:func:`statistics.linear_regression`);
``growth_pct_per_day`` is ``b``; when ``b > 0``, ``days_to_full`` is the days from ``ctx.as_of`` until the
line reaches 100 % (0 when it already has), else None (flat or shrinking usage never fills).

Keys of ``build(ctx)``:

- ``hosts``: one entry per host with ``HEALTH-LNX-01`` or ``HEALTH-WIN-01`` in the state, sorted by host:

  - ``host``; ``control``; ``volume``: the fullest volume of the latest result (mount point or drive letter),
    None when that result judged nothing (then ``status`` and ``reason`` say why and every number is None);
  - ``used_pct``: its used % at that check; ``size_bytes``, ``free_bytes`` when the evidence gives them (a
    volume in ``offending``; Windows sizes are GiB with one decimal, converted), else None;
  - ``fail_pct``: the used % at which the control fails for this host (its evidence's threshold);
  - ``days_to_full``, ``growth_pct_per_day``: the forecast above (None without enough samples);
  - ``at_risk``: ``days_to_full <= horizon_days`` or ``used_pct >= fail_pct``;
  - ``points``: ``[[observed_at, used_pct], ...]``, the samples of the series (those the line was fitted on
    when there is one), oldest first; ``seqs``: their ledger seqs; ``resized_at``: the first sample of the
    current size when the series restarted, else None;
  - ``status``: the control's effective status; ``reason``; ``seq``: the latest result's seq.
- ``at_risk``: hosts at risk, sorted; ``method``: how the forecast is made (fixed text, for the template);
  ``horizon_days``: :data:`HORIZON_DAYS`; ``window_days``: :data:`WINDOW_DAYS`; ``min_samples``, ``min_days``.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from runner.report.context import ReportContext, Row
from runner.report.sections import _common as c
from runner.state import StateRow

CONTROLS = ("HEALTH-LNX-01", "HEALTH-WIN-01")
HORIZON_DAYS = 90
WINDOW_DAYS = 90
MIN_SAMPLES = 3
MIN_DAYS = 2
METHOD = "least squares over the samples of the last 90 days"
_GIB = 1024**3


@dataclass(frozen=True)
class Sample:
    at: datetime
    used_pct: float
    size_bytes: int | None
    free_bytes: int | None
    seq: int


def _volume(evidence: Mapping[str, Any], windows: bool) -> str | None:
    fullest = c.mapping(evidence.get("fullest"))
    name = fullest.get("volume" if windows else "mount")
    return name if isinstance(name, str) and name else None


def _measured(item: Mapping[str, Any], windows: bool) -> tuple[float, int | None, int | None] | None:
    """(used %, size bytes, free bytes) of one volume's entry (``fullest`` or an ``offending`` one)."""
    if windows:
        free_pct = c.number(item.get("free_pct"))
        size, free = c.number(item.get("size_gib")), c.number(item.get("free_gib"))
        if free_pct is None:
            return None
        return (
            100.0 - free_pct,
            round(size * _GIB) if size is not None else None,
            round(free * _GIB) if free is not None else None,
        )
    used = c.number(item.get("used_pct"))
    if used is None:
        return None
    return used, c.integer(item.get("size_bytes")), c.integer(item.get("free_bytes"))


def measure(
    evidence: Mapping[str, Any], volume: str, windows: bool
) -> tuple[float, int | None, int | None] | None:
    """(used %, size bytes, free bytes) of ``volume`` in one result's evidence (None: not measured): its
    ``offending`` entry (which has the sizes), else ``fullest`` when it is that volume."""
    key = "volume" if windows else "mount"
    for item in c.items(evidence.get("offending")):
        if item.get(key) == volume:
            return _measured(item, windows)
    fullest = c.mapping(evidence.get("fullest"))
    return _measured(fullest, windows) if fullest.get(key) == volume else None


def series(samples: Sequence[Sample]) -> tuple[list[Sample], datetime | None]:
    """The samples since the last size change (module docstring), and the first sample of the new size."""
    current: list[Sample] = []
    size: int | None = None
    resized: datetime | None = None
    for sample in sorted(samples, key=lambda s: (s.at, s.seq)):
        if sample.size_bytes is not None:
            if size is not None and sample.size_bytes != size:
                current, resized = [], sample.at
            size = sample.size_bytes
        current.append(sample)
    return current, resized


def forecast(samples: Sequence[Sample], as_of: datetime, zone: str) -> tuple[float | None, float | None]:
    """(days_to_full, growth_pct_per_day) of a series, unrounded; (None, None) without enough samples."""
    days = {s.at.astimezone(ZoneInfo(zone)).date() for s in samples}
    if len(samples) < MIN_SAMPLES or len(days) < MIN_DAYS:
        return None, None
    origin = samples[0].at
    xs = [c.days_between(origin, s.at) for s in samples]
    ys = [s.used_pct for s in samples]
    slope, intercept = statistics.linear_regression(xs, ys)
    if slope <= 0:
        return None, slope
    full_at = (100.0 - intercept) / slope  # days after origin
    return max(0.0, full_at - c.days_between(origin, as_of)), slope


def _fail_pct(evidence: Mapping[str, Any], windows: bool) -> float | None:
    if windows:
        free = c.number(evidence.get("fail_free_pct"))
        return None if free is None else 100.0 - free
    return c.number(evidence.get("fail_pct"))


def _samples(ctx: ReportContext, rows: Sequence[Row], volume: str, windows: bool) -> list[Sample]:
    since = ctx.period.end - timedelta(days=WINDOW_DAYS)
    found = []
    for row in rows:
        if row.observed_at < since or not row.conclusive:
            continue
        measured = measure(row.evidence, volume, windows)
        if measured is not None:
            used, size, free = measured
            found.append(Sample(row.observed_at, used, size, free, row.seq))
    return found


def _host(ctx: ReportContext, row: StateRow) -> dict[str, Any]:
    windows = row.control == "HEALTH-WIN-01"
    entry: dict[str, Any] = {
        "host": row.host,
        "control": row.control,
        "volume": None,
        "used_pct": None,
        "size_bytes": None,
        "free_bytes": None,
        "fail_pct": None,
        "days_to_full": None,
        "growth_pct_per_day": None,
        "at_risk": False,
        "points": [],
        "seqs": [],
        "resized_at": None,
        "status": row.effective,
        "reason": c.not_judged_reason([row]),
        "seq": c.seq_of(row),
    }
    evidence = c.evidence(row)
    volume = _volume(evidence, windows) if evidence is not None else None
    if evidence is None or volume is None:
        return entry
    measured = measure(evidence, volume, windows)
    assert measured is not None  # the fullest volume is always measured
    used, size, free = measured
    fail_pct = _fail_pct(evidence, windows)
    samples, resized = series(_samples(ctx, ctx.history(row.host, row.control), volume, windows))
    days_to_full, growth = forecast(samples, ctx.as_of, ctx.period.zone)
    at_risk = (days_to_full is not None and days_to_full <= HORIZON_DAYS) or (
        fail_pct is not None and used >= fail_pct
    )
    entry.update(
        volume=volume,
        used_pct=c.r1(used),
        size_bytes=size,
        free_bytes=free,
        fail_pct=c.r1(fail_pct),
        days_to_full=c.r1(days_to_full),
        growth_pct_per_day=c.r1(growth),
        at_risk=at_risk,
        points=[[c.iso(s.at), c.r1(s.used_pct)] for s in samples],
        seqs=[s.seq for s in samples],
        resized_at=c.iso(resized),
    )
    return entry


def build(ctx: ReportContext) -> dict[str, Any]:
    state = ctx.state()
    rows = sorted((row for row in state.rows if row.control in CONTROLS), key=lambda r: (r.host, r.control))
    hosts = [_host(ctx, row) for row in rows]
    return {
        "hosts": hosts,
        "at_risk": sorted({h["host"] for h in hosts if h["at_risk"]}),
        "method": METHOD,
        "horizon_days": HORIZON_DAYS,
        "window_days": WINDOW_DAYS,
        "min_samples": MIN_SAMPLES,
        "min_days": MIN_DAYS,
    }
