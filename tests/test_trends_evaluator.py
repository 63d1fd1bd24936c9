"""The trend evaluators (runner/evaluators/trends.py) on synthetic series with exact expected days to full.

Every series is written so its Theil-Sen line can be worked out by hand: the expected numbers are in the
comments, and the assertions compare them exactly.
"""

from __future__ import annotations

import json
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from runner import evaluators
from runner.cli import app
from runner.evaluators import EvaluatorError
from runner.evaluators.trends import days_to_full, theil_sen
from runner.results import Status

DATA = Path(__file__).parent / "data" / "trends"
G = 1024**3
T0 = datetime(2026, 10, 1, 3, 0, tzinfo=UTC)
LINUX = "linux_health_trends"


def at(day: float) -> str:
    return (T0 + timedelta(days=day)).isoformat()


def capacity(points: list[tuple[float, int, int]], mount: str = "/") -> list[dict[str, Any]]:
    """(day, size GiB, used GiB) -> HEALTH-LNX-01 observations of one filesystem, seq 1, 2, ..."""
    return [
        {
            "seq": i + 1,
            "run_id": f"run-{i}",
            "observed_at": at(day),
            "volumes": [{"mount": mount, "fstype": "ext4", "size_bytes": size * G, "used_bytes": used * G}],
        }
        for i, (day, size, used) in enumerate(points)
    ]


def errors(counts: list[dict[str, int]], every: float = 7) -> list[dict[str, Any]]:
    return [
        {"seq": 100 + i, "run_id": f"run-{i}", "observed_at": at(i * every), "error_counts": c}
        for i, c in enumerate(counts)
    ]


def judge(raw: dict[str, Any], thresholds: dict[str, Any] | None = None, kind: str = LINUX) -> dict[str, Any]:
    findings = evaluators.evaluate(kind, {"schema": 1, **raw}, thresholds)
    return {f.control: f for f in findings}


def full(raw_capacity: list[dict[str, Any]], thresholds: dict[str, Any] | None = None) -> Any:
    return judge({"capacity": raw_capacity}, thresholds)["HEALTH-LNX-09"]


# ---------------------------------------------------------------- the fit


def test_theil_sen_is_the_median_of_pairwise_slopes() -> None:
    assert theil_sen([0, 1, 2], [1, 3, 5]) == (2.0, 1.0)
    # slopes (0,1)=2, (0,2)=0.5, (1,2)=-1 -> median 0.5; y - 0.5x = 1, 2.5, 1 -> median 1
    assert theil_sen([0, 1, 2], [1, 3, 2]) == (0.5, 1.0)
    with pytest.raises(ValueError, match="different times"):
        theil_sen([3, 3], [1, 2])
    assert days_to_full([0, 1, 2], [50, 50, 50], 100) == (None, 0.0)
    assert days_to_full([0, 10], [90, 110], 100) == (0.0, 2.0)  # the line already passed the size


def test_steady_growth_warns_with_the_exact_days_to_full() -> None:
    # 40, 54, 68 GiB on days 0, 7, 14: 2 GiB a day from 40 reaches 100 on day 30, 16 days after the last
    got = full(capacity([(0, 100, 40), (7, 100, 54), (14, 100, 68)]))
    assert got.status is Status.WARN
    (entry,) = got.evidence["volumes"]
    assert entry["days_to_full"] == 16.0 and entry["slope_bytes_per_day"] == 2 * G
    assert entry["points"] == 3 and entry["seqs"] == [1, 2, 3] and entry["span_days"] == 14.0
    assert entry["full_at"] == at(30) and entry["status"] == "warn"
    assert "/ in 16.0 days (2.00 GiB/day)" in got.remediation
    assert (got.evidence["warn_days"], got.evidence["fail_days"]) == (30, 7)


def test_fast_growth_fails_and_slow_growth_passes() -> None:
    # 76, 84, 92 on days 0, 4, 8: 2 a day, full on day 12, 4 days after the last: below 7 -> fail
    fast = full(capacity([(0, 100, 76), (4, 100, 84), (8, 100, 92)]))
    assert fast.status is Status.FAIL and fast.evidence["volumes"][0]["days_to_full"] == 4.0
    # 50..58 on days 0..8, 1 a day: full on day 50, 42 days after the last -> pass
    slow = full(capacity([(d, 100, 50 + d) for d in (0, 2, 4, 6, 8)]))
    assert slow.status is Status.PASS and slow.evidence["volumes"][0]["days_to_full"] == 42.0
    # the same series with the warning raised to 60 days warns: the client's threshold is used
    assert full(capacity([(d, 100, 50 + d) for d in (0, 2, 4, 6, 8)]), {"days_to_full_warn": 60}).status is (
        Status.WARN
    )


def test_flat_usage_never_fills() -> None:
    got = full(capacity([(0, 100, 60), (7, 100, 60), (14, 100, 60)]))
    assert got.status is Status.PASS
    entry = got.evidence["volumes"][0]
    assert entry["days_to_full"] is None and entry["slope_bytes_per_day"] == 0 and "full_at" not in entry


def test_an_outlier_does_not_move_the_theil_sen_line() -> None:
    # 70, 72, [95], 76, 78, 80 on days 0..10 step 2: 10 of the 15 pairwise slopes are exactly 1 GiB/day, the
    # median too; y - x is 70 but for the outlier: intercept 70, full on day 30, 20 days after the last
    points = [(0, 100, 70), (2, 100, 72), (4, 100, 95), (6, 100, 76), (8, 100, 78), (10, 100, 80)]
    got = full(capacity(points))
    entry = got.evidence["volumes"][0]
    assert (got.status, entry["days_to_full"], entry["slope_bytes_per_day"]) == (Status.WARN, 20.0, G)
    # least squares is pulled by the outlier: another answer
    slope, intercept = statistics.linear_regression([p[0] for p in points], [p[2] for p in points])
    assert round((100 - intercept) / slope - 10, 1) != 20.0


def test_a_cleanup_restarts_the_series() -> None:
    # 80, 87 (days 0, 7), cleaned to 50 on day 14 (a drop of 37 % of the size), then 57, 64 (days 21, 28):
    # the fit is on days 14..28 only: 1 GiB/day from 50 reaches 100 50 days after day 14, 36 after the last
    points = [(0, 100, 80), (7, 100, 87), (14, 100, 50), (21, 100, 57), (28, 100, 64)]
    got = full(capacity(points))
    entry = got.evidence["volumes"][0]
    assert got.status is Status.PASS and entry["days_to_full"] == 36.0
    assert entry["restarted"] == {"why": "cleanup", "at": at(14)} and entry["seqs"] == [3, 4, 5]
    # right after the cleanup there are two points: too little history since it
    short = full(capacity(points[:4]))
    assert short.status is Status.NOT_CHECKED
    assert "since the cleanup of 2026-10-15" in short.evidence["reason"]
    # a small drop (rotated logs, 3 % of the size) is not a cleanup
    small = full(capacity([(0, 100, 60), (7, 100, 67), (14, 100, 64), (21, 100, 71)]))
    assert "restarted" not in small.evidence["volumes"][0]


def test_a_resize_restarts_the_series() -> None:
    raw = json.loads((DATA / "windows_resized.json").read_text())
    got = judge(raw, kind="windows_health_trends")
    volume = got["HEALTH-WIN-07"].evidence["volumes"][0]
    # 101, 108, 115 GiB of 200 on days 21, 28, 35: full on day 120, 85 days after the last
    assert got["HEALTH-WIN-07"].status is Status.PASS
    assert (volume["volume"], volume["days_to_full"], volume["size_bytes"]) == ("C:", 85.0, 200 * G)
    assert volume["restarted"] == {"why": "resize", "at": at(21)} and volume["seqs"] == [203, 204, 205]
    # three System-log counts: the rising check needs four runs
    assert got["HEALTH-WIN-08"].status is Status.NOT_CHECKED
    assert got["HEALTH-WIN-08"].evidence["reason"].startswith("needs 4 runs")


def test_too_little_history_is_not_checked_with_the_reason() -> None:
    two = full(capacity([(0, 100, 40), (7, 100, 47)]))
    assert two.status is Status.NOT_CHECKED
    assert two.evidence["reason"] == (
        "too little history: / has 2 observation(s) over 7.0 days; a forecast needs 3 over 7 days"
    )
    short_span = full(capacity([(0, 100, 40), (2, 100, 42), (5, 100, 45)]))
    assert short_span.status is Status.NOT_CHECKED and "over 5.0 days" in short_span.evidence["reason"]
    assert full([]).status is Status.NOT_CHECKED


def test_only_the_last_points_within_the_window_are_used() -> None:
    # 20 weekly points; trend_points 12 keeps the last 12 (seqs 9..20); a 30-day window keeps 5
    points = [(7 * i, 1000, 100 + i) for i in range(20)]
    got = full(capacity(points))
    assert got.evidence["volumes"][0]["seqs"] == list(range(9, 21))
    windowed = full(capacity(points), {"trend_window_days": 30})
    assert windowed.evidence["volumes"][0]["seqs"] == list(range(16, 21))


def test_volumes_without_history_are_listed_apart() -> None:
    raw = capacity([(0, 100, 40), (7, 100, 54), (14, 100, 68)])
    raw[-1]["volumes"].append({"mount": "/new", "fstype": "xfs", "size_bytes": G, "used_bytes": 1})
    got = full(raw)
    assert [v["mount"] for v in got.evidence["volumes"]] == ["/"]
    assert got.evidence["insufficient"][0]["mount"] == "/new"


# ---------------------------------------------------------------- errors rising


def test_errors_rising_in_each_of_the_last_three_runs_warn() -> None:
    raw = json.loads((DATA / "linux_steady_growth.json").read_text())
    got = judge(raw)
    rising = got["HEALTH-LNX-10"]
    assert rising.status is Status.WARN
    assert rising.evidence["rising"] == ["journal"]
    assert rising.evidence["series"] == {"journal": [3, 5, 9, 14], "smart:/dev/sda": [2, 2, 2, 2]}
    assert rising.evidence["seqs"] == [101, 111, 121, 131]
    assert "journal: 3 -> 5 -> 9 -> 14" in rising.remediation
    assert got["HEALTH-LNX-09"].status is Status.WARN  # / full in 16 days; /var flat
    assert [v["mount"] for v in got["HEALTH-LNX-09"].evidence["volumes"]] == ["/", "/var"]


def test_errors_not_strictly_rising_pass_and_too_few_runs_are_not_checked() -> None:
    flat_once = judge({"errors": errors([{"journal": n} for n in (1, 2, 2, 3)])})["HEALTH-LNX-10"]
    assert flat_once.status is Status.PASS and flat_once.evidence["rising"] == []
    # only the last four count: an old rise followed by a fall passes
    old = judge({"errors": errors([{"journal": n} for n in (1, 2, 3, 4, 1)])})["HEALTH-LNX-10"]
    assert old.status is Status.PASS and old.evidence["series"] == {"journal": [2, 3, 4, 1]}
    three = judge({"errors": errors([{"journal": n} for n in (1, 2, 3)])})["HEALTH-LNX-10"]
    assert three.status is Status.NOT_CHECKED
    assert three.evidence["reason"] == "needs 4 runs with error counts, the history holds 3"
    # a source missing from one of the four runs is not judged
    gap = judge({"errors": errors([{"a": 1}, {"a": 2, "b": 1}, {"a": 3, "b": 2}, {"a": 4, "b": 3}])})
    assert gap["HEALTH-LNX-10"].evidence["partial"] == ["b"] and gap["HEALTH-LNX-10"].evidence["rising"] == [
        "a"
    ]


def test_network_interface_errors_rising() -> None:
    raw = json.loads((DATA / "network_rising.json").read_text())
    got = judge(raw, kind="network_trends")
    assert list(got) == ["HEALTH-NET-02"]
    assert got["HEALTH-NET-02"].status is Status.WARN and got["HEALTH-NET-02"].evidence["rising"] == [
        "Gi1/0/1"
    ]
    # the rule packs' override "disabled" switches it off, as any network rule
    off = judge(raw, {"disabled": ["HEALTH-NET-02", "NET-IOS-01"]}, kind="network_trends")
    assert off["HEALTH-NET-02"].status is Status.NOT_CHECKED


# ---------------------------------------------------------------- thresholds and data


def test_skip_controls_and_the_role_evaluators_thresholds() -> None:
    raw = json.loads((DATA / "linux_steady_growth.json").read_text())
    got = judge(raw, {"skip_controls": ["HEALTH-LNX-09"], "fs_warn_pct": 85})  # a role threshold: ignored
    assert (
        got["HEALTH-LNX-09"].status is Status.NOT_CHECKED
        and "skip_controls" in got["HEALTH-LNX-09"].evidence["reason"]
    )
    assert got["HEALTH-LNX-10"].status is Status.WARN


@pytest.mark.parametrize(
    ("thresholds", "message"),
    [
        ({"days_to_full_fail": 40}, "days_to_full_fail \\(40\\) is above days_to_full_warn"),
        ({"trend_points": 3}, "trend_points"),
        ({"skip_controls": ["HEALTH-WIN-07"]}, "skip_controls names unknown controls"),
        ({"trend_min_daysx": 1}, "trend_min_daysx"),
    ],
)
def test_invalid_thresholds_raise(thresholds: dict[str, Any], message: str) -> None:
    with pytest.raises(EvaluatorError, match=f"^{LINUX}: invalid thresholds: .*{message}"):
        judge({"capacity": []}, thresholds)


@pytest.mark.parametrize(
    "raw",
    [
        {"schema": 2},
        {"schema": 1, "capacity": [{"observed_at": "2026-10-01T00:00:00", "volumes": []}]},  # naive time
        {"schema": 1, "errors": [{"observed_at": at(0), "error_counts": {"journal": -1}}]},
        {"schema": 1, "capacity": "none"},
        [],
    ],
)
def test_series_of_the_wrong_shape_raise(raw: Any) -> None:
    with pytest.raises(EvaluatorError, match=f"^{LINUX}: "):
        evaluators.evaluate(LINUX, raw)


def test_maint_evaluate_judges_a_saved_series() -> None:
    result = CliRunner().invoke(app, ["evaluate", "--json", LINUX, str(DATA / "linux_steady_growth.json")])
    assert result.exit_code == 1, result.output  # a warning is not a pass
    data = json.loads(result.output)
    rows = data if isinstance(data, list) else data.get("findings", data.get("results"))
    by = {r["control"]: r for r in rows}
    assert by["HEALTH-LNX-09"]["status"] == "warn" and by["HEALTH-LNX-10"]["status"] == "warn"
    assert by["HEALTH-LNX-09"]["evidence"]["volumes"][0]["days_to_full"] == 16.0
