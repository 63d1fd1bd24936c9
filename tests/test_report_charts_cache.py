"""The report charts' in-process cache (runner/report/charts.py): a kept chart is byte for byte the chart
drawn afresh, different inputs are different charts, and the cache stays bounded."""

from __future__ import annotations

import pytest

from runner.report import charts

POINTS = [(f"2026-{m:02d}", 40.0 + m) for m in range(1, 13)]


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    charts.clear_cache()


def test_a_kept_chart_is_the_chart_drawn_afresh() -> None:
    first = charts.trend(POINTS, ylabel="Score")
    kept = charts.trend(POINTS, ylabel="Score")
    charts.clear_cache()
    assert kept == first == charts.trend(POINTS, ylabel="Score")
    jobs = [("h1 · daily", 100.0), ("h2 · daily", 50.0), ("h3 · none", None)]
    bars = charts.backup_success(jobs, xlabel="percent")
    charts.clear_cache()
    assert charts.backup_success(jobs, xlabel="percent") == bars
    assert ">h3 · none<" in bars and ">h1 · daily<" in bars  # the job names are text beside the bars


def test_any_input_change_draws_another_chart() -> None:
    base = charts.trend(POINTS, ylabel="Score")
    assert charts.trend(POINTS, ylabel="Puntuació") != base
    assert charts.trend(POINTS, ylabel="Score", colours={"primary": "#000000"}) != base
    assert charts.trend([*POINTS[:-1], ("2026-12", None)], ylabel="Score") != base
    labels = {"xlabel": "days", "ylabel": "used", "used": "used", "forecast": "forecast", "full": "full"}
    samples = [("2026-11-01T00:00:00+00:00", 70.0), ("2026-11-29T00:00:00+00:00", 90.0)]
    assert charts.disk_forecast(samples, 12.0, labels=labels) != charts.disk_forecast(
        samples, 30.0, labels=labels
    )


def test_the_cache_is_bounded_and_keys_only_plain_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "CACHE_SIZE", 2)
    for label in ("a", "b", "c"):
        charts.trend(POINTS, ylabel=label)
    assert len(charts._CACHE) == 2

    class Opaque:  # its repr names an address, not its contents: never a key
        pass

    assert charts._key(charts._trend, (Opaque(),), {}) is None
    assert charts._key(charts._trend, (POINTS, "Score", {}), {}) == charts._key(
        charts._trend, (list(POINTS), "Score", {}), {}
    )
