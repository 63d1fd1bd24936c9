"""A report's JSON form rendered to HTML, PDF, Markdown or JSON (templates in ``runner/report/templates/``).

- ``html``: one self-contained file: CSS inline, charts inline ``<svg>`` (:mod:`runner.report.charts`), the
  logo a ``data:`` URI; no external URL and no script. Printable (A4, a page break before each section).
- ``pdf``: WeasyPrint on that HTML, with a URL fetcher that refuses everything but ``data:``.
- ``md``: GitHub-flavoured Markdown, the same sections as tables, no charts.
- ``json``: the data itself (sorted keys, two-space indent, UTF-8).

The language is ``data["lang"]``; every sentence comes from the templates through gettext
(:mod:`runner.report.i18n`), numbers and dates through its filters, in the client's time zone
(``data["client"]["timezone"]``). Same data, same bytes (HTML, Markdown, JSON).

Templates: ``<template>.html.j2`` / ``<template>.md.j2``. ``_base.html.j2`` holds the ``<head>``, the CSS,
the running footer and the cover header; ``_macros.j2`` (HTML) and ``_macros.md.j2`` (Markdown) the shared
pieces (status and severity labels, checkpoint block, evidence). Other report kinds (``fleet``,
``resolution``) extend and import them.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from runner import render as md_render
from runner.report import charts as chart_mod
from runner.report import i18n
from runner.report.branding import Colours, Msp

FORMATS = ("html", "pdf", "md", "json")
TEMPLATES = Path(__file__).resolve().parent / "templates"
_TEMPLATE_NAME = re.compile(r"[a-z][a-z0-9_]*")
_LOGO_URI = re.compile(r"data:image/(svg\+xml|png);base64,[A-Za-z0-9+/=]+")
#: evidence shown per finding: at most this many keys, each value cut to this many characters
EVIDENCE_KEYS = 12
EVIDENCE_CHARS = 160


class RenderError(ValueError):
    """Data or options a report cannot be rendered from (one line naming the key or option)."""


# ------------------------------------------------------------------------------------------- filters


def seq_ranges(seqs: Iterable[int] | int | None, limit: int = 8) -> str:
    """Ledger seqs as compact ranges: ``[3, 4, 5, 9]`` -> ``3-5, 9`` with an en dash (at most ``limit``
    ranges, then an ellipsis)."""
    if seqs is None:
        return "\u2013"
    values = sorted({int(seqs)} if isinstance(seqs, int) else {int(s) for s in seqs})
    if not values:
        return "\u2013"
    ranges: list[tuple[int, int]] = []
    for value in values:
        if ranges and value == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], value)
        else:
            ranges.append((value, value))
    parts = [str(a) if a == b else f"{a}\u2013{b}" for a, b in ranges[:limit]]
    return ", ".join(parts) + (", \u2026" if len(ranges) > limit else "")


def md_cell(text: Any) -> str:
    """A Markdown table cell (:func:`runner.render.cell`) whose ``<`` cannot open an HTML tag."""
    return md_render.cell(text).replace("<", "\\<")


def _short(value: Any) -> str:
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        text = ", ".join(str(v) for v in value)
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= EVIDENCE_CHARS else text[: EVIDENCE_CHARS - 1] + "\u2026"


def evidence_items(evidence: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """A finding's evidence as (key, value text) pairs, sorted, each on one line and cut to length."""
    if not evidence:
        return []
    return [(str(key), _short(evidence[key])) for key in sorted(evidence, key=str)[:EVIDENCE_KEYS]]


def evidence_more(evidence: Mapping[str, Any] | None) -> int:
    """How many evidence keys :func:`evidence_items` leaves out."""
    return max(0, len(evidence or {}) - EVIDENCE_KEYS)


def index_by(items: Iterable[Mapping[str, Any]], key: str) -> dict[Any, Mapping[str, Any]]:
    """``{item[key]: item}`` (a lookup the templates use, e.g. findings by id)."""
    return {item[key]: item for item in items}


# -------------------------------------------------------------------------------------------- charts


class ChartKit:
    """The charts one rendering draws, as template-ready ``Markup``; each chart's ids are prefixed
    (``c1-``, ``c2-`` ... in drawing order), so several charts share one page."""

    def __init__(self, colours: Mapping[str, str]) -> None:
        self.colours = dict(colours)
        self.count = 0

    def _done(self, svg: str) -> Markup:
        self.count += 1
        return Markup(chart_mod.scope_ids(svg, f"c{self.count}-"))  # noqa: S704 - matplotlib's own SVG

    def trend(self, points: Sequence[Mapping[str, Any]], *, label: str, value: str, ylabel: str) -> Markup:
        pairs = [(str(p[label]), None if p[value] is None else float(p[value])) for p in points]
        return self._done(chart_mod.trend(pairs, ylabel=ylabel, colours=self.colours))

    def severity(self, counts: Mapping[str, int], labels: Mapping[str, str]) -> Markup:
        return self._done(chart_mod.severity_bars(counts, labels, colours=self.colours))

    def backups(self, jobs: Sequence[tuple[str, float | None]], *, xlabel: str) -> Markup:
        return self._done(chart_mod.backup_success(jobs, xlabel=xlabel, colours=self.colours))

    def disk(
        self, points: Sequence[Sequence[Any]], days_to_full: float | None, *, labels: Mapping[str, str]
    ) -> Markup:
        pairs = [(str(at), float(pct)) for at, pct in points]
        return self._done(chart_mod.disk_forecast(pairs, days_to_full, labels=labels, colours=self.colours))


# ---------------------------------------------------------------------------------------- environment


@functools.lru_cache(maxsize=32)
def environment(lang: str, zone: str | None) -> jinja2.Environment:
    """The report environment of one language and time zone (cached): HTML autoescaped, Markdown and
    CSS not; undefined names fail; gettext and the number/date filters of :mod:`runner.report.i18n`."""
    env = md_render.new_environment(
        TEMPLATES, plain=("md", "md.j2", "txt.j2", "css"), extensions=("jinja2.ext.i18n",)
    )
    i18n.install(env, i18n.translator(lang), zone=zone)
    env.filters.update(
        cell=md_cell,  # the report's own: `<` escaped too (GitHub drops what looks like a tag)
        seqs=seq_ranges,
        evidence=evidence_items,
        evidence_more=evidence_more,
    )
    env.globals.update(index_by=index_by)
    return env


def _msp(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data["msp"]`` checked (colours ``#rrggbb``, logo a ``data:`` image): they go into CSS and an
    attribute; the defaults when absent."""
    raw = data.get("msp")
    if raw is None:
        return Msp().as_dict()
    if not isinstance(raw, Mapping):
        raise RenderError("msp: expected a mapping")
    out = {**Msp().as_dict(), **raw}
    colours = out.get("colours")
    if not isinstance(colours, Mapping):
        raise RenderError("msp.colours: expected a mapping of primary, accent, text")
    checked = {}
    for key, default in Colours().model_dump().items():
        value = colours.get(key, default)
        try:
            checked[key] = Colours.model_validate({key: value}).model_dump()[key]
        except ValueError:
            raise RenderError(f"msp.colours.{key}: expected #rrggbb, got {value!r}") from None
    out["colours"] = checked
    logo = out.get("logo")
    if logo is not None and not (isinstance(logo, str) and _LOGO_URI.fullmatch(logo)):
        raise RenderError("msp.logo: expected a data:image/svg+xml or data:image/png base64 URI")
    return out


def _template(template: str, ext: str) -> str:
    if not _TEMPLATE_NAME.fullmatch(template):
        raise RenderError(f"template {template!r}: expected a name such as report, fleet or resolution")
    name = f"{template}.{ext}.j2"
    if not (TEMPLATES / name).is_file():
        raise RenderError(f"template {template!r}: no {name} in runner/report/templates/")
    return name


def _zone(data: Mapping[str, Any]) -> str | None:
    client = data.get("client")
    zone = client.get("timezone") if isinstance(client, Mapping) else None
    return zone if isinstance(zone, str) else None


def render_text(data: Mapping[str, Any], ext: str, *, template: str = "report") -> str:
    """The HTML (``ext`` ``html``) or Markdown (``md``) text of ``data``."""
    lang = data.get("lang", "en")
    if not isinstance(lang, str):
        raise RenderError(f"lang: expected one of {', '.join(i18n.LANGS)}")
    try:
        env = environment(lang, _zone(data))
    except ValueError as exc:  # an unknown language or time zone
        raise RenderError(str(exc)) from None
    msp = _msp(data)
    context = {**data, "data": data, "msp": msp, "charts": ChartKit(msp["colours"])}
    return env.get_template(_template(template, ext)).render(context)


def pdf(html: str) -> bytes:
    """The PDF of ``html`` (WeasyPrint); any URL but ``data:`` is refused, so nothing is fetched."""
    import logging

    import weasyprint
    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    class DataOnly(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if not url.startswith("data:"):
                raise FatalURLFetchingError(f"report PDF: refused to fetch {url!r} (only data: URIs)")
            return super().fetch(url, headers)

    logger = logging.getLogger("weasyprint")
    level = logger.level
    logger.setLevel(logging.ERROR)  # CSS it does not support (screen-only rules) is not an error
    try:
        out = weasyprint.HTML(string=html, base_url=None, url_fetcher=DataOnly()).write_pdf()
    except FatalURLFetchingError as exc:  # a BaseException: made an ordinary one-line error
        raise RenderError(str(exc)) from None
    finally:
        logger.setLevel(level)
    assert isinstance(out, bytes)
    return out


def render(data: Mapping[str, Any], fmt: str, *, template: str = "report") -> bytes:
    """``data`` (a report's JSON form) as ``fmt`` (one of :data:`FORMATS`), UTF-8 for the text formats."""
    if fmt not in FORMATS:
        raise RenderError(f"--format {fmt}: expected one of {', '.join(FORMATS)}")
    if fmt == "json":
        return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    if fmt == "md":
        return render_text(data, "md", template=template).encode()
    html = render_text(data, "html", template=template)
    return html.encode() if fmt == "html" else pdf(html)
