"""The report's charts: matplotlib (Agg, SVG backend) drawn to inline SVG strings, deterministic bytes.

Same data, same bytes: ``svg.hashsalt`` is fixed, no date or creator is written, the XML prolog and
DOCTYPE are stripped, and so are the namespace declarations (an inline ``<svg>`` in HTML needs none, and
the report holds no URL). Text stays text (``svg.fonttype`` ``none``): translatable, selectable, and
extractable from the PDF. Every label arrives already translated: this module makes no sentence.

Axis ticks are whole numbers (percentages 0-100, days), so they read the same in every locale.

Cost: a chart is ~40 ms of matplotlib (most of it ticks and text layout), so within one process each chart's
SVG is kept by the hash of everything it is drawn from (:func:`_draw`: the drawing function, its inputs,
the rc settings and matplotlib's version; at most :data:`CACHE_SIZE` charts, least recently used dropped):
the same inputs draw the same bytes, so a kept chart is the chart. Figures are made without pyplot (no
figure manager, nothing to close), and a long bar chart's names are drawn as text beside the bars, not as
one tick each (a tick is two lines, a grid line and two labels, each copied from the first).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import transforms
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

#: the severities in report order and the colour each is drawn in (the same in every branding)
SEVERITY_COLOURS = {
    "critical": "#8b1a1a",
    "high": "#d9534f",
    "medium": "#f0ad4e",
    "low": "#5bc0de",
    "info": "#9e9e9e",
}
DEFAULT_COLOURS = {"primary": "#1f4e79", "accent": "#2e86c1", "text": "#1b1b1b"}
_GRID = "#d0d7de"
#: typed Any: matplotlib's stubs want a literal key type
_RC: Any = {
    "svg.hashsalt": "maint-report",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": _GRID,
    "axes.grid": True,
    "grid.color": _GRID,
    "grid.linewidth": 0.6,
    "path.simplify": False,
}
_METADATA: dict[str, Any] = {"Date": None, "Creator": None, "Format": None, "Type": None}
_PROLOG = re.compile(r"\A<\?xml[^>]*\?>\s*(<!DOCTYPE[^>]*>\s*)?", re.S)
_XMLNS = re.compile(r'\s+xmlns(:xlink)?="[^"]*"')
#: matplotlib's document-wide ``*{stroke-linejoin: round; stroke-linecap: butt}``: the report's CSS sets it
_STYLE = re.compile(r"\s*<defs>\s*<style[^>]*>[^<]*</style>\s*</defs>")
_ID = re.compile(r'\bid="([^"]+)"')
#: matplotlib's rc settings are global: one chart at a time
_LOCK = threading.Lock()
#: how many charts one process keeps (a report draws 3 + one per host at risk; a fleet of reports more)
CACHE_SIZE = 256
_CACHE: OrderedDict[str, str] = OrderedDict()


def _colours(colours: Mapping[str, str] | None) -> dict[str, str]:
    return {**DEFAULT_COLOURS, **(colours or {})}


def _svg(fig: Figure) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata=_METADATA)
    text = _PROLOG.sub("", out.getvalue())
    text = _XMLNS.sub("", text, count=2).replace("xlink:href=", "href=")
    text = _STYLE.sub("", text, count=1)
    return text.strip() + "\n"


def scope_ids(svg: str, prefix: str) -> str:
    """``svg`` with every ``id`` (and every reference to it) prefixed: several charts in one HTML page
    must not share ids (matplotlib names every figure ``figure_1``)."""
    ids = set(_ID.findall(svg))
    if not ids:
        return svg

    def ref(match: re.Match[str]) -> str:
        name = match.group(2)
        return f"{match.group(1)}{prefix}{name}" if name in ids else match.group(0)

    svg = _ID.sub(lambda m: f'id="{prefix}{m.group(1)}"', svg)
    return re.sub(r'(href="#|url\(#)([^")]+)', ref, svg)


def _figure(
    width: float, height: float, margins: tuple[float, float, float, float] | None = None
) -> tuple[Figure, Any]:
    """A figure and its axes (inside :func:`_draw`'s ``rc_context``).

    ``margins`` (left, right, top, bottom, in inches): fixed, for charts whose labels have a known size
    (the trend's period labels, the disk forecast's axes); without them the layout is computed
    (constrained), which draws the figure twice: bar charts with job and severity names of any length.
    """
    if margins is None:
        fig = Figure(figsize=(width, height), layout="constrained")
        return fig, fig.subplots()
    fig = Figure(figsize=(width, height))
    ax = fig.subplots()
    left, right, top, bottom = margins
    fig.subplots_adjust(
        left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height
    )
    return fig, ax


def _label_inches(labels: Sequence[str], size: float) -> float:
    """A left margin wide enough for the longest y tick label (DejaVu Sans averages ~0.6 em per glyph),
    capped at half the figure: a fixed layout is drawn once, a constrained one twice (most of a long bar
    chart's cost is measuring its labels)."""
    longest = max((len(label) for label in labels), default=1)
    return min(3.2, 0.25 + longest * size * 0.6 / 72)


def _plain(value: Any) -> Any:
    """``value`` as JSON-able data (mappings as sorted item lists), for :func:`_key`; TypeError for
    anything else (an object whose text could stand for different contents is never a key)."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return repr(value)  # nan, inf and -0.0 kept apart
    if isinstance(value, Mapping):
        return [[_plain(k), _plain(v)] for k, v in sorted(value.items(), key=lambda kv: repr(kv[0]))]
    if isinstance(value, Sequence):
        return [_plain(v) for v in value]
    raise TypeError(type(value).__name__)


def _key(build: Callable[..., Figure], args: Sequence[Any], kwargs: Mapping[str, Any]) -> str | None:
    """The hash of what a chart is drawn from (None when an input is not plain data: drawn, not kept)."""
    try:
        plain = [build.__qualname__, _plain(args), _plain(kwargs), _plain(_RC), matplotlib.__version__]
    except TypeError:
        return None
    return hashlib.sha256(json.dumps(plain, separators=(",", ":")).encode()).hexdigest()


def _draw(build: Callable[..., Figure], *args: Any, **kwargs: Any) -> str:
    key = _key(build, args, kwargs)
    with _LOCK:
        if key is not None and key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
        with matplotlib.rc_context(_RC):
            svg = _svg(build(*args, **kwargs))
        if key is not None:
            _CACHE[key] = svg
            while len(_CACHE) > CACHE_SIZE:
                _CACHE.popitem(last=False)
        return svg


def clear_cache() -> None:
    """Forget the charts kept (the next ones are drawn again)."""
    with _LOCK:
        _CACHE.clear()


def _names(ax: Any, ys: Sequence[float], names: Sequence[str], size: float) -> None:
    """``names`` right-aligned left of the y axis at ``ys``, as text (what ``set_yticks(ys, names)`` shows,
    without a tick artist per bar)."""
    ax.set_yticks([])
    ax.set_ylim(min(ys, default=0) - 0.5, max(ys, default=0) + 0.5)
    place = transforms.offset_copy(ax.get_yaxis_transform(), fig=ax.figure, x=-3.5, units="points")
    for y, name in zip(ys, names, strict=True):
        ax.text(0, y, name, transform=place, ha="right", va="center", fontsize=size)


def _trend(points: Sequence[tuple[str, float | None]], ylabel: str, colours: dict[str, str]) -> Figure:
    fig, ax = _figure(6.4, 2.4, (0.6, 0.15, 0.1, 0.65))
    xs = list(range(len(points)))
    ys = [math.nan if v is None else float(v) for _, v in points]
    ax.plot(xs, ys, color=colours["primary"], linewidth=2, marker="o", markersize=4)
    ax.set_xticks(xs, [label for label, _ in points], rotation=45, ha="right", fontsize=7)
    ax.set_ylim(0, 100)
    ax.set_yticks([0, 25, 50, 75, 100])
    ax.set_ylabel(ylabel)
    return fig


def trend(
    points: Sequence[tuple[str, float | None]], *, ylabel: str, colours: Mapping[str, str] | None = None
) -> str:
    """A line of ``(period label, value 0-100 or None)`` points, oldest first (a gap where None)."""
    return _draw(_trend, points, ylabel, _colours(colours))


def _severity(counts: Mapping[str, int], labels: Mapping[str, str]) -> Figure:
    order = [s for s in SEVERITY_COLOURS if s in counts] + sorted(set(counts) - set(SEVERITY_COLOURS))
    names = [labels.get(s, s) for s in order]
    fig, ax = _figure(6.4, 0.5 + 0.32 * max(1, len(order)), (_label_inches(names, 9), 0.15, 0.1, 0.35))
    ys = list(range(len(order)))[::-1]
    values = [int(counts[s]) for s in order]
    ax.barh(ys, values, color=[SEVERITY_COLOURS.get(s, "#777777") for s in order], height=0.6)
    ax.set_yticks(ys, names)
    for y, v in zip(ys, values, strict=True):
        ax.text(v, y, f" {v}", va="center", fontsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, max([*values, 1]) * 1.15)
    ax.grid(axis="y", visible=False)
    return fig


def severity_bars(
    counts: Mapping[str, int], labels: Mapping[str, str], *, colours: Mapping[str, str] | None = None
) -> str:
    """One horizontal bar per severity (critical first), labelled with ``labels[severity]``."""
    return _draw(_severity, counts, labels)


def _backups(jobs: Sequence[tuple[str, float | None]], xlabel: str, colours: dict[str, str]) -> Figure:
    names = [name for name, _ in jobs]
    height = 0.75 + 0.28 * max(1, len(jobs))
    fig, ax = _figure(6.4, height, (_label_inches(names, 7), 0.3, 0.1, 0.6))
    ys = list(range(len(jobs)))[::-1]
    values = [0.0 if v is None else float(v) for _, v in jobs]
    bar_colours = [
        "#cccccc" if v is None else (colours["primary"] if v >= 99.95 else SEVERITY_COLOURS["high"])
        for _, v in jobs
    ]
    ax.barh(ys, values, color=bar_colours, height=0.6)
    _names(ax, ys, names, 7)
    for y, (_, v) in zip(ys, jobs, strict=True):
        ax.text(0 if v is None else v, y, " \u2013" if v is None else f" {round(v)}", va="center", fontsize=7)
    ax.set_xlim(0, 112)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    return fig


def backup_success(
    jobs: Sequence[tuple[str, float | None]], *, xlabel: str, colours: Mapping[str, str] | None = None
) -> str:
    """One bar per ``(job name, success % or None)``; a job below 100 % in the warning colour."""
    return _draw(_backups, jobs, xlabel, _colours(colours))


def _days(points: Sequence[tuple[str, float]]) -> list[float]:
    """Each point's time in days relative to the last point (the last is 0)."""
    times = [datetime.fromisoformat(at) for at, _ in points]
    last = times[-1]
    return [round((t - last).total_seconds() / 86400, 3) for t in times]


def _disk(
    points: Sequence[tuple[str, float]],
    days_to_full: float | None,
    labels: Mapping[str, str],
    colours: dict[str, str],
) -> Figure:
    fig, ax = _figure(6.4, 2.2, (0.6, 0.15, 0.1, 0.5))
    ax.axhline(100, color=SEVERITY_COLOURS["high"], linewidth=1, linestyle=":", label=labels.get("full"))
    if points:
        xs = _days(points)
        ys = [float(v) for _, v in points]
        ax.plot(
            xs, ys, color=colours["primary"], linewidth=2, marker="o", markersize=3, label=labels.get("used")
        )
        if days_to_full is not None and days_to_full >= 0:
            end = min(float(days_to_full), 365.0)
            last = ys[-1]
            reach = last + (100.0 - last) * (end / float(days_to_full)) if days_to_full > 0 else 100.0
            ax.plot(
                [0, end],
                [last, reach],
                color=colours["accent"],
                linewidth=1.5,
                linestyle="--",
                label=labels.get("forecast"),
            )
        ax.axvline(0, color=_GRID, linewidth=1)
    ax.set_ylim(0, 105)
    ax.set_yticks([0, 25, 50, 75, 100])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(labels.get("xlabel", ""))
    ax.set_ylabel(labels.get("ylabel", ""))
    ax.legend(loc="lower left", fontsize=7, frameon=False)
    return fig


def disk_forecast(
    points: Sequence[tuple[str, float]],
    days_to_full: float | None,
    *,
    labels: Mapping[str, str],
    colours: Mapping[str, str] | None = None,
) -> str:
    """Used % over time (ISO instants; x = days from the last sample, negative before it) and the
    forecast to 100 % at ``days_to_full`` days after it. ``labels``: xlabel, ylabel, used, forecast, full."""
    return _draw(_disk, points, days_to_full, labels, _colours(colours))
