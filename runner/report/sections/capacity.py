"""The disk and capacity section: per host, its fullest volume at the period's end and when it will be full
(conventions: :mod:`runner.report.sections._common`).

**Evidence.** ``HEALTH-LNX-01`` (``fullest: {mount, used_pct}``; volumes at or above the warning threshold
also in ``offending`` with ``size_bytes`` and ``free_bytes``; threshold ``fail_pct``) and ``HEALTH-WIN-01``
(``fullest: {volume, free_pct}``, used % = 100 - free %; ``offending`` with ``size_gib`` and ``free_gib``;
threshold ``fail_free_pct``, i.e. used >= 100 - it).

**Forecast.** The same fit as HEALTH-LNX-09 / HEALTH-WIN-07 (:func:`runner.evaluators.trends.days_to_full`,
Theil-Sen), with the catalogue's default thresholds of those controls, so the report and the controls agree.
The samples of the volume are the host's rows of that control observed in the :data:`WINDOW_DAYS` days before
the period's end whose evidence measures the volume: its entry in ``volumes`` (rows since issue 15: used %
is ``used_bytes / size_bytes``, the bytes the trend control fits), else its ``offending`` entry or
``fullest`` (older rows; a volume below the warning threshold that is not the fullest is not measured by such
a row); the last :data:`MAX_SAMPLES` are kept. When the volume's size changes between two samples that give
it (a resize), or its used % falls more than :data:`CLEANUP_DROP_PCT` points below every earlier sample of
the series and the next sample stays that low (a cleanup, :func:`runner.evaluators.trends.is_cleanup`), the
series restarts there. With at least :data:`MIN_SAMPLES` samples spanning at least
:data:`MIN_DAYS` days, a Theil-Sen line ``used_pct = a + b * days`` is fitted (``b`` the median of the slopes
between every two samples, ``a`` the median of ``used_pct - b * days``); ``growth_pct_per_day`` is ``b``; when
``b > 0``, ``days_to_full`` is the days from ``ctx.as_of`` until the line reaches 100 % (0 when it already
has): HEALTH-*-09's figure at the last sample less the days from that sample to ``as_of``; else None (flat or
shrinking usage never fills).

Keys of ``build(ctx)``:

- ``hosts``: one entry per host with ``HEALTH-LNX-01`` or ``HEALTH-WIN-01`` in the state, sorted by host:

  - ``host``; ``control``; ``volume``: the fullest volume of the latest result (mount point or drive letter),
    None when that result judged nothing (then ``status`` and ``reason`` say why and every number is None);
  - ``used_pct``: its used % at that check (as the role judged it: df's Use% on Linux); ``size_bytes``,
    ``free_bytes`` when the evidence gives them (a volume in ``offending``; Windows sizes are GiB with one
    decimal, converted), else None;
  - ``fail_pct``: the used % at which the control fails for this host (its evidence's threshold);
  - ``days_to_full``, ``growth_pct_per_day``: the forecast above (None without enough samples);
  - ``at_risk``: ``days_to_full <= horizon_days`` or ``used_pct >= fail_pct``;
  - ``points``: ``[[observed_at, used_pct], ...]``, the samples of the series (those the line was fitted on
    when there is one), oldest first; ``seqs``: their ledger seqs; ``resized_at``: the first sample of the
    current size (or after the cleanup) when the series restarted, else None;
  - ``status``: the control's effective status; ``reason``; ``seq``: the latest result's seq.
- ``at_risk``: hosts at risk, sorted; ``method``: how the forecast is made (fixed text, for the template);
  ``horizon_days``: :data:`HORIZON_DAYS`; ``window_days``: :data:`WINDOW_DAYS`; ``min_samples``, ``min_days``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from runner import catalogue
from runner.evaluators.trends import days_to_full, is_cleanup
from runner.report.context import ReportContext, Row
from runner.report.sections import _common as c
from runner.state import StateRow

CONTROLS = ("HEALTH-LNX-01", "HEALTH-WIN-01")
HORIZON_DAYS = 90
#: the trend controls' defaults (HEALTH-LNX-09; HEALTH-WIN-07 has the same), so the report agrees with them
_TREND = catalogue.load().roles["linux_health"].defaults("linux_health_trends")
WINDOW_DAYS: int = _TREND["trend_window_days"]
MAX_SAMPLES: int = _TREND["trend_points"]
MIN_SAMPLES: int = _TREND["trend_min_points"]
MIN_DAYS: int = _TREND["trend_min_days"]
CLEANUP_DROP_PCT: int = _TREND["trend_cleanup_drop_pct"]
METHOD = (
    f"Theil-Sen line over the last {MAX_SAMPLES} samples of the last {WINDOW_DAYS} days "
    f"(at least {MIN_SAMPLES} over {MIN_DAYS} days), as HEALTH-LNX-09 and HEALTH-WIN-07"
)
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


def _from_volumes(evidence: Mapping[str, Any], volume: str, key: str) -> tuple[float, int, int] | None:
    """(used %, size, free) of ``volume`` from the trend input ``volumes`` (bytes), None when absent."""
    for item in c.items(evidence.get("volumes")):
        if item.get(key) == volume:
            size, used = c.integer(item.get("size_bytes")), c.integer(item.get("used_bytes"))
            if size and used is not None:
                return used * 100.0 / size, size, size - used
    return None


def sample_of(evidence: Mapping[str, Any], volume: str, windows: bool) -> tuple[float, int | None] | None:
    """(used %, size bytes) of ``volume`` as a forecast sample: from ``volumes`` (what HEALTH-*-09 fits),
    else as :func:`measure` reads older rows."""
    found = _from_volumes(evidence, volume, "volume" if windows else "mount")
    if found is not None:
        return found[0], found[1]
    measured = measure(evidence, volume, windows)
    return None if measured is None else (measured[0], measured[1])


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
    """The last :data:`MAX_SAMPLES` samples since the last size change or cleanup (module docstring), and
    the sample the series restarted at."""
    current: list[Sample] = []
    size: int | None = None
    resized: datetime | None = None
    ordered = sorted(samples, key=lambda s: (s.at, s.seq))[-MAX_SAMPLES:]
    for index, sample in enumerate(ordered):
        if sample.size_bytes is not None:
            if size is not None and sample.size_bytes != size:
                current, resized = [], sample.at
            size = sample.size_bytes
        now = [s.used_pct for s in ordered[index : index + 2]]
        if is_cleanup([s.used_pct for s in current], now, CLEANUP_DROP_PCT):
            current, resized = [], sample.at
        current.append(sample)
    return current, resized


def forecast(samples: Sequence[Sample], as_of: datetime, zone: str) -> tuple[float | None, float | None]:
    """(days_to_full, growth_pct_per_day) of a series, unrounded; (None, None) without enough samples.

    ``zone`` is kept for the callers; the span is counted in days, whatever the local calendar."""
    if len(samples) < MIN_SAMPLES:
        return None, None
    origin = samples[0].at
    xs = [c.days_between(origin, s.at) for s in samples]
    if xs[-1] < MIN_DAYS:
        return None, None
    days, slope = days_to_full(xs, [s.used_pct for s in samples], 100.0)
    if days is None:
        return None, slope
    # HEALTH-*-09 counts from the last sample; the report from its as_of
    return max(0.0, days - c.days_between(samples[-1].at, as_of)), slope


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
        measured = sample_of(row.evidence, volume, windows)
        if measured is not None:
            used, size = measured
            found.append(Sample(row.observed_at, used, size, None, row.seq))
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
