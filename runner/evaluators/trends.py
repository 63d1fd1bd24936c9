"""Judge trends from a host's history in the ledger: days to full per volume, error counts rising.

The raw data is a *series*, built by :mod:`runner.trends` from the ledger after a run (or saved to a file
for ``maint evaluate linux_health_trends FILE``)::

    {"schema": 1, "host": "web1",
     "capacity": [{"seq": 41, "run_id": "...", "observed_at": "2026-11-02T03:00:00+00:00",
                   "volumes": [{"mount": "/", "fstype": "ext4", "size_bytes": 1000, "used_bytes": 500}]}],
     "errors": [{"seq": 42, "run_id": "...", "observed_at": "...", "error_counts": {"journal": 3}}],
     "reasons": {"capacity": "why there is no capacity series", "errors": "..."}}

``capacity`` holds the evidence ``volumes`` of HEALTH-LNX-01 / HEALTH-WIN-01 rows (Windows volumes are
named by ``volume``, Linux filesystems by ``mount``), ``errors`` the evidence ``error_counts`` of
HEALTH-LNX-08 / HEALTH-WIN-06 / HEALTH-NET-01 rows. Observations may come in any order; only those within
``trend_window_days`` of the newest one, at most the last ``trend_points``, are used.

**Days to full.** Per volume of the newest observation, the observations since its last size change
(a resize) or since its last cleanup (used bytes falling more than ``trend_cleanup_drop_pct`` of the size
below every earlier observation of the series, and the next observation, if any, staying that low:
:func:`is_cleanup`) form the series. With at least ``trend_min_points`` of them spanning at
least ``trend_min_days`` days, a Theil-Sen line is fitted (:func:`theil_sen`: the slope is the median of
the slopes between every two observations, the intercept the median of ``y - slope * x``): one odd reading
moves neither. When the slope is positive, ``days_to_full`` is the days from the newest observation until
the line reaches the size (0 when it already has); otherwise the volume never fills (None). Fewer days than
``days_to_full_fail`` fail, than ``days_to_full_warn`` warn.

**Errors rising.** A source (the journal, one disk's SMART error log, an interface) whose count rose in
each of the last 3 runs (its 4 latest observations strictly increasing) warns; with fewer than 4
observations the control is ``not_checked`` ("needs 4 runs").
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    StrictInt,
    StrictStr,
    model_validator,
)

from runner import catalogue
from runner.evaluators import EvaluatorError, evaluator
from runner.evaluators.common import check_known_controls, validate_raw, validate_thresholds
from runner.results import Control, Finding, Status

SCHEMA = 1
_CATALOGUE = catalogue.load()
#: the 4 observations (3 rises) an error count must climb through to warn
RISING_RUNS = 4
#: most volumes and sources listed in a row's evidence
_MAX_LISTED = 100

LINUX_KIND = "linux_health_trends"
WINDOWS_KIND = "windows_health_trends"
NETWORK_KIND = "network_trends"

LNX_FULL = _CATALOGUE.control("HEALTH-LNX-09").as_control()
LNX_ERRORS = _CATALOGUE.control("HEALTH-LNX-10").as_control()
WIN_FULL = _CATALOGUE.control("HEALTH-WIN-07").as_control()
WIN_ERRORS = _CATALOGUE.control("HEALTH-WIN-08").as_control()
NET_ERRORS = _CATALOGUE.control("HEALTH-NET-02").as_control()

#: the role, the controls (days to full or None, errors rising) and the volume name key of each kind
KIND_INFO: Mapping[str, tuple[str, Control | None, Control, str]] = MappingProxyType(
    {
        LINUX_KIND: ("linux_health", LNX_FULL, LNX_ERRORS, "mount"),
        WINDOWS_KIND: ("windows_health", WIN_FULL, WIN_ERRORS, "volume"),
        NETWORK_KIND: ("network_config", None, NET_ERRORS, "interface"),
    }
)
#: the input controls of each kind (volumes, error counts; "" when it has none), read by the trend step
INPUTS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        LINUX_KIND: ("HEALTH-LNX-01", "HEALTH-LNX-08"),
        WINDOWS_KIND: ("HEALTH-WIN-01", "HEALTH-WIN-06"),
        NETWORK_KIND: ("", "HEALTH-NET-01"),
    }
)
#: network_config's thresholds are the rule packs' overrides (disabled, params): the network trend keeps
#: the catalogue's wording of HEALTH-NET-02 (the last 12 runs within 90 days) and reads ``disabled``
NETWORK_DEFAULTS: Mapping[str, Any] = MappingProxyType({"disabled": [], "params": {}})
NETWORK_POINTS = 12
NETWORK_WINDOW_DAYS = 90


def _defaults(kind: str) -> Mapping[str, Any]:
    if kind == NETWORK_KIND:
        return NETWORK_DEFAULTS
    return MappingProxyType(_CATALOGUE.roles[KIND_INFO[kind][0]].defaults(kind))


def _other_thresholds(kind: str) -> frozenset[str]:
    """The role's thresholds this kind does not use (the trend step passes the role's whole override map)."""
    if kind == NETWORK_KIND:
        return frozenset()
    role = _CATALOGUE.roles[KIND_INFO[kind][0]]
    return frozenset(set(role.thresholds) - set(role.defaults(kind)))


# ---------------------------------------------------------------- the fit


def theil_sen(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """(slope, intercept) of the Theil-Sen line: the median of the pairwise slopes, then the median of
    ``y - slope * x``. Pairs with the same ``x`` are left out; ValueError when no pair is left."""
    if len(xs) != len(ys):
        raise ValueError("xs and ys differ in length")
    slopes = [
        (ys[j] - ys[i]) / (xs[j] - xs[i])
        for i in range(len(xs))
        for j in range(i + 1, len(xs))
        if xs[j] != xs[i]
    ]
    if not slopes:
        raise ValueError("no two observations at different times")
    slope = statistics.median(slopes)
    intercept = statistics.median(y - slope * x for x, y in zip(xs, ys, strict=True))
    return slope, intercept


def days_to_full(xs: Sequence[float], ys: Sequence[float], full: float) -> tuple[float | None, float]:
    """(days from the last ``x`` until the Theil-Sen line of ``ys`` reaches ``full``, or None when it never
    does; the slope per day). ``xs`` are days; 0 when the line is already at or past ``full``."""
    slope, intercept = theil_sen(xs, ys)
    if slope <= 0:
        return None, slope
    reached = (full - intercept) / slope
    return max(0.0, reached - max(xs)), slope


# ---------------------------------------------------------------- thresholds


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    trend_points: StrictInt = Field(ge=RISING_RUNS)
    trend_window_days: StrictInt = Field(ge=1)
    trend_min_points: StrictInt = Field(default=3, ge=2)
    trend_min_days: StrictInt = Field(default=7, ge=0)
    trend_cleanup_drop_pct: StrictInt = Field(default=5, ge=1, le=100)
    days_to_full_warn: StrictInt = Field(default=30, ge=0)
    days_to_full_fail: StrictInt = Field(default=7, ge=0)
    skip_controls: list[StrictStr]
    #: the controls skip_controls may name (the role's): set by the kind, not by a client
    role_controls: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.days_to_full_fail > self.days_to_full_warn:
            raise ValueError(
                f"days_to_full_fail ({self.days_to_full_fail}) is above days_to_full_warn "
                f"({self.days_to_full_warn})"
            )
        if self.trend_min_points > self.trend_points:
            raise ValueError(
                f"trend_min_points ({self.trend_min_points}) is above trend_points ({self.trend_points})"
            )
        check_known_controls(self.skip_controls, self.role_controls)
        return self


def parse_thresholds(kind: str, thresholds: Mapping[str, Any]) -> Thresholds:
    role = KIND_INFO[kind][0]
    if kind == NETWORK_KIND:
        disabled = thresholds.get("disabled", [])
        if not isinstance(disabled, list) or not all(isinstance(d, str) for d in disabled):
            raise EvaluatorError(f"{kind}: invalid thresholds: disabled: expected a list of rule IDs")
        thresholds = {
            "trend_points": NETWORK_POINTS,
            "trend_window_days": NETWORK_WINDOW_DAYS,
            **{k: v for k, v in thresholds.items() if k not in ("disabled", "params")},
            "skip_controls": [d for d in disabled if d == NET_ERRORS.control],
        }
    others = _other_thresholds(kind)
    kept = {k: v for k, v in thresholds.items() if k not in others and k != "role_controls"}
    ids = tuple(spec.id for spec in _CATALOGUE.for_role(role))
    return validate_thresholds(Thresholds, {**kept, "role_controls": ids}, kind=kind)


# ---------------------------------------------------------------- raw series


class _Raw(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")


class _Volume(_Raw):
    mount: StrictStr | None = None
    volume: StrictStr | None = None
    fstype: StrictStr = ""
    size_bytes: NonNegativeInt
    used_bytes: NonNegativeInt


class _Observation(_Raw):
    seq: StrictInt | None = None
    run_id: StrictStr = ""
    observed_at: AwareDatetime = Field(strict=False)


class _Capacity(_Observation):
    volumes: list[_Volume]


class _Errors(_Observation):
    error_counts: dict[StrictStr, NonNegativeInt]


class _Series(_Raw):
    schema_version: StrictInt = Field(alias="schema")
    host: StrictStr = ""
    capacity: list[_Capacity] | None = None
    errors: list[_Errors] | None = None
    reasons: dict[StrictStr, StrictStr] = Field(default_factory=dict)


def parse_raw(kind: str, raw: Any) -> _Series:
    series = validate_raw(_Series, raw, kind=kind, key="series", marker="schema", module="runner.trends")
    if series.schema_version != SCHEMA:
        raise EvaluatorError(
            f"{kind}: series schema {series.schema_version} is not supported (expected {SCHEMA})"
        )
    return series


def _recent(observations: Sequence[Any], th: Thresholds) -> list[Any]:
    """Oldest first: those within the window of the newest one, at most the last ``trend_points``."""
    ordered = sorted(observations, key=lambda o: (o.observed_at, o.seq if o.seq is not None else -1))
    if not ordered:
        return []
    since = ordered[-1].observed_at - timedelta(days=th.trend_window_days)
    return [o for o in ordered if o.observed_at >= since][-th.trend_points :]


def _iso(at: datetime) -> str:
    return at.isoformat()


def _days(origin: datetime, at: datetime) -> float:
    return (at - origin).total_seconds() / 86400


# ---------------------------------------------------------------- days to full


def _volume_name(vol: _Volume, key: str) -> str | None:
    return vol.mount if key == "mount" else vol.volume


def is_cleanup(before: Sequence[float], now: Sequence[float], drop: float) -> bool:
    """Whether ``now[0]`` starts a new series after ``before``: it lies more than ``drop`` below every value
    of ``before`` and so does the value after it (``now[1]``, when there is one). A single low reading
    that the next one contradicts is an outlier for the fit to ignore, not a cleanup."""
    if not before:
        return False
    floor = min(before) - drop
    return all(value < floor for value in now[:2])


def _forecast(name: str, key: str, points: list[tuple[_Capacity, _Volume]], th: Thresholds) -> dict[str, Any]:
    """One volume's entry: its forecast and status, or why it has none (``reason``)."""
    current: list[tuple[_Capacity, _Volume]] = []
    restarted: dict[str, Any] | None = None
    for index, (obs, vol) in enumerate(points):
        if current:
            if vol.size_bytes != current[-1][1].size_bytes:
                current, restarted = [], {"why": "resize", "at": _iso(obs.observed_at)}
            elif is_cleanup(
                [v.used_bytes for _o, v in current],
                [v.used_bytes for _o, v in points[index : index + 2]],
                vol.size_bytes * th.trend_cleanup_drop_pct / 100,
            ):
                current, restarted = [], {"why": "cleanup", "at": _iso(obs.observed_at)}
        current.append((obs, vol))
    last_obs, last = current[-1]
    origin = current[0][0].observed_at
    xs = [_days(origin, obs.observed_at) for obs, _vol in current]
    span = xs[-1] if xs else 0.0
    entry: dict[str, Any] = {
        key: name,
        "size_bytes": last.size_bytes,
        "used_bytes": last.used_bytes,
        "points": len(current),
        "span_days": round(span, 1),
        "seqs": [obs.seq for obs, _vol in current],
    }
    if key == "mount" and last.fstype:
        entry["fstype"] = last.fstype
    if restarted:
        entry["restarted"] = restarted
    if len(current) < th.trend_min_points or span < th.trend_min_days:
        entry["reason"] = (
            f"{len(current)} observation(s) over {span:.1f} days"
            + (f" since the {restarted['why']} of {restarted['at'][:10]}" if restarted else "")
            + f"; a forecast needs {th.trend_min_points} over {th.trend_min_days} days"
        )
        return entry
    try:
        days, slope = days_to_full(
            xs, [float(vol.used_bytes) for _obs, vol in current], float(last.size_bytes)
        )
    except ValueError as exc:
        entry["reason"] = str(exc)
        return entry
    entry["slope_bytes_per_day"] = round(slope)
    entry["days_to_full"] = None if days is None else round(days, 1)
    if days is not None:
        entry["full_at"] = _iso(last_obs.observed_at + timedelta(days=days))
    if days is not None and days < th.days_to_full_fail:
        entry["status"] = Status.FAIL.value
    elif days is not None and days < th.days_to_full_warn:
        entry["status"] = Status.WARN.value
    else:
        entry["status"] = Status.PASS.value
    return entry


def judge_capacity(
    control: Control, key: str, observations: Sequence[_Capacity] | None, reason: str, th: Thresholds
) -> Finding:
    if not observations:
        return _not_checked(control, reason or "no volume observation in the history")
    recent = _recent(observations, th)
    newest = recent[-1]
    names = [n for vol in newest.volumes if (n := _volume_name(vol, key))]
    if not names:
        return _not_checked(control, f"the latest observation ({_iso(newest.observed_at)}) lists no volume")
    judged: list[dict[str, Any]] = []
    short: list[dict[str, Any]] = []
    for name in sorted(set(names)):
        points = [(obs, vol) for obs in recent for vol in obs.volumes if _volume_name(vol, key) == name]
        entry = _forecast(name, key, points, th)
        (judged if "status" in entry else short).append(entry)
    evidence: dict[str, Any] = {
        "warn_days": th.days_to_full_warn,
        "fail_days": th.days_to_full_fail,
        "min_points": th.trend_min_points,
        "min_days": th.trend_min_days,
        "window_days": th.trend_window_days,
        "observations": len(recent),
        "latest": _iso(newest.observed_at),
    }
    if not judged:
        longest = max(short, key=lambda e: (e["points"], e["span_days"]))
        why = f"too little history: {longest[key]} has {longest['reason']}"
        evidence.update(reason=why, insufficient=short[:_MAX_LISTED])
        return control.finding(
            Status.NOT_CHECKED,
            evidence,
            remediation=(
                f"Not judged yet: {why}. The forecast appears once the ledger holds enough runs of "
                f"{INPUT_OF[control.control]}; nothing to do but keep the schedule."
            ),
        )
    rank = {Status.FAIL.value: 0, Status.WARN.value: 1, Status.PASS.value: 2}
    judged.sort(
        key=lambda e: (
            rank[e["status"]],
            e["days_to_full"] if e["days_to_full"] is not None else 1e18,
            e[key],
        )
    )
    evidence["volumes"] = judged[:_MAX_LISTED]
    if len(judged) > _MAX_LISTED:
        evidence["volumes_more"] = len(judged) - _MAX_LISTED
    if short:
        evidence["insufficient"] = short[:_MAX_LISTED]
    worst = Status(judged[0]["status"])
    if worst is Status.PASS:
        return control.finding(Status.PASS, evidence, remediation="")
    limit = th.days_to_full_fail if worst is Status.FAIL else th.days_to_full_warn
    soon = ", ".join(
        f"{e[key]} in {e['days_to_full']} days ({e['slope_bytes_per_day'] / 1024**3:.2f} GiB/day)"
        for e in judged
        if e["status"] != Status.PASS.value
    )
    return control.finding(
        worst,
        evidence,
        remediation=f"Forecast full within {limit} days: {soon}. {control.remediation}",
    )


# ---------------------------------------------------------------- errors rising


def judge_errors(
    control: Control, observations: Sequence[_Errors] | None, reason: str, th: Thresholds
) -> Finding:
    if not observations:
        return _not_checked(control, reason or "no error counts in the history")
    recent = _recent(observations, th)
    if len(recent) < RISING_RUNS:
        return _not_checked(
            control,
            f"needs {RISING_RUNS} runs with error counts, the history holds {len(recent)}",
            evidence={"observations": len(recent), "seqs": [o.seq for o in recent]},
            remediation=(
                f"Not judged yet: the trend needs {RISING_RUNS} runs of {INPUT_OF[control.control]}; nothing "
                "to do but keep the schedule."
            ),
        )
    last = recent[-RISING_RUNS:]
    sources = sorted({s for obs in last for s in obs.error_counts})
    series = {
        s: [obs.error_counts[s] for obs in last] for s in sources if all(s in o.error_counts for o in last)
    }
    partial = [s for s in sources if s not in series]
    evidence: dict[str, Any] = {
        "runs": RISING_RUNS,
        "seqs": [o.seq for o in last],
        "observed_at": [_iso(o.observed_at) for o in last],
        "series": dict(list(series.items())[:_MAX_LISTED]),
        "rising": [],
    }
    if len(series) > _MAX_LISTED:
        evidence["series_more"] = len(series) - _MAX_LISTED
    if partial:
        evidence["partial"] = partial[:_MAX_LISTED]
    if not series:
        why = f"no error source was counted in each of the last {RISING_RUNS} runs"
        return _not_checked(control, why, evidence=evidence)
    rising = [s for s, values in series.items() if all(a < b for a, b in itertools.pairwise(values))]
    evidence["rising"] = rising[:_MAX_LISTED]
    if not rising:
        return control.finding(Status.PASS, evidence, remediation="")
    listed = "; ".join(f"{s}: {' -> '.join(str(v) for v in series[s])}" for s in rising[:10])
    return control.finding(
        Status.WARN,
        evidence,
        remediation=f"Rising in each of the last {RISING_RUNS - 1} runs: {listed}. {control.remediation}",
    )


# ---------------------------------------------------------------- kinds

INPUT_OF: Mapping[str, str] = MappingProxyType(
    {
        LNX_FULL.control: "HEALTH-LNX-01",
        LNX_ERRORS.control: "HEALTH-LNX-08",
        WIN_FULL.control: "HEALTH-WIN-01",
        WIN_ERRORS.control: "HEALTH-WIN-06",
        NET_ERRORS.control: "HEALTH-NET-01",
    }
)


def _not_checked(
    control: Control,
    reason: str,
    *,
    evidence: Mapping[str, Any] | None = None,
    remediation: str | None = None,
) -> Finding:
    return control.finding(
        Status.NOT_CHECKED,
        {**(evidence or {}), "reason": reason},
        remediation=remediation
        or (
            f"Could not judge the trend: {reason}. Check that {INPUT_OF[control.control]} is recorded "
            "every run."
        ),
    )


def _skipped(control: Control, role: str) -> Finding:
    return _not_checked(
        control,
        f"disabled by configuration ({role} skip_controls)",
        remediation=f"Remove {control.control} from {role}_skip_controls to judge it again.",
    )


def judge(kind: str, raw: Any, thresholds: Mapping[str, Any]) -> list[Finding]:
    """The findings of a trend kind on a series (:data:`KIND_INFO` says which controls)."""
    th = parse_thresholds(kind, thresholds)
    series = parse_raw(kind, raw)
    role, full, errors, key = KIND_INFO[kind]
    findings: list[Finding] = []
    if full is not None:
        findings.append(
            _skipped(full, role)
            if full.control in th.skip_controls
            else judge_capacity(full, key, series.capacity, series.reasons.get("capacity", ""), th)
        )
    findings.append(
        _skipped(errors, role)
        if errors.control in th.skip_controls
        else judge_errors(errors, series.errors, series.reasons.get("errors", ""), th)
    )
    return findings


def _register(kind: str, doc: str) -> Callable[[Any, Mapping[str, Any]], list[Finding]]:
    role, full, errors, _key = KIND_INFO[kind]

    def evaluate(raw: Any, thresholds: Mapping[str, Any]) -> list[Finding]:
        return judge(kind, raw, thresholds)

    evaluate.__doc__ = doc
    controls = [c for c in (full, errors) if c is not None]
    evaluator(kind, role=role, controls=controls, defaults=_defaults(kind))(evaluate)
    return evaluate


evaluate_linux_health_trends = _register(
    LINUX_KIND, "Linux trends from the ledger: days to full per filesystem, error counts rising."
)
evaluate_windows_health_trends = _register(
    WINDOWS_KIND, "Windows trends from the ledger: days to full per volume, System-log errors rising."
)
evaluate_network_trends = _register(NETWORK_KIND, "Network trends from the ledger: interface errors rising.")
