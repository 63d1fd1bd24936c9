"""The onboarding pack's workbooks (openpyxl): ``assets.xlsx`` (sheets Assets and Software: CIS Controls v8
safeguards 1.1 and 2.1), ``risks.xlsx`` (Risks, ranked) and ``roadmap.xlsx`` (Roadmap and Milestones).

Every sheet: the header row bold and frozen, an autofilter over the table, column widths from the longest
value (capped), dates and times as real spreadsheet dates (in the client's time zone, which the header does
not repeat: the pack names it) and numbers as numbers. Text is stored as text: a cell whose value begins
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe, as in ``assets.csv``
(:func:`runner.onboarding.pack.csv_safe`), so no spreadsheet runs it as a formula, not even after an edit.
Headers and sheet names come from ``runner/report/templates/pack_labels.txt.j2`` in the pack's language.

The workbook's document properties carry the pack's ``built_at`` (not the clock), so the same pack gives
workbooks with the same cells and properties.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from runner.onboarding.pack import ASSET_COLUMNS, csv_safe

MAX_WIDTH = 60
MIN_WIDTH = 8
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
#: Excel's limit on a cell's text
MAX_CELL = 32_767

Column = tuple[str, Callable[[Mapping[str, Any]], Any]]


def labels(pack: Mapping[str, Any]) -> Any:
    """The words of ``pack_labels.txt.j2`` in the pack's language (the template's module)."""
    from runner.report.render import environment

    client = pack.get("client") or {}
    env = environment(str(pack.get("lang", "en")), client.get("timezone"))
    return env.get_template("pack_labels.txt.j2").module


def _zone(pack: Mapping[str, Any]) -> ZoneInfo:
    return ZoneInfo(str((pack.get("client") or {}).get("timezone") or "UTC"))


def when(value: Any, zone: ZoneInfo) -> datetime | None:
    """An ISO-8601 date-time as a naive datetime in ``zone`` (what a spreadsheet stores), else None."""
    if not isinstance(value, str) or len(value) <= 10:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return parsed.astimezone(zone).replace(tzinfo=None, microsecond=0)


def day(value: Any) -> date | None:
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    out = csv_safe(str(value))
    return out if len(out) <= MAX_CELL else out[: MAX_CELL - 1] + "\u2026"


def _shown(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    return 16 if isinstance(value, date) else len(str(value))


def _sheet(ws: Worksheet, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Write one table into a write-only sheet: widths and panes first (they precede the rows in the file),
    then the bold header and the rows; date cells get a date format."""
    widths = [max(MIN_WIDTH, len(str(h)) + 2) for h in headers]
    for values in rows:
        for i, value in enumerate(values):
            if value is not None:
                widths[i] = max(widths[i], min(MAX_WIDTH, _shown(value) + 2))
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    last = get_column_letter(max(1, len(headers)))
    ws.auto_filter.ref = f"A1:{last}{len(rows) + 1}"
    bold = Font(bold=True)
    top = Alignment(vertical="top", wrap_text=True)
    header = []
    for name in headers:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = bold
        cell.alignment = top
        header.append(cell)
    ws.append(header)
    for values in rows:
        out: list[Any] = []
        for value in values:
            if isinstance(value, date):  # datetimes too
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = DATETIME_FORMAT if isinstance(value, datetime) else DATE_FORMAT
                out.append(cell)
            else:  # text never begins with "=" here (csv_safe): stored as a string, never a formula
                out.append(value)
        ws.append(out)


def _workbook(pack: Mapping[str, Any]) -> Workbook:
    wb = Workbook(write_only=True)  # streamed: a register of thousands of programs stays fast
    built = when(pack.get("built_at"), ZoneInfo("UTC"))
    if built is not None:
        wb.properties.created = built
        wb.properties.modified = built
    msp = pack.get("msp") or {}
    wb.properties.creator = str(msp.get("name") or "maint")
    wb.properties.title = str((pack.get("client") or {}).get("display_name") or "")
    return wb


def _save(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _table(
    wb: Workbook,
    title: str,
    columns: Sequence[Column],
    items: Sequence[Mapping[str, Any]],
    names: Mapping[str, str],
) -> None:
    ws = wb.create_sheet(title[:31])
    _sheet(
        ws, [names.get(key, key) for key, _get in columns], [[get(i) for _k, get in columns] for i in items]
    )


def _number(value: Any) -> Any:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def assets(pack: Mapping[str, Any]) -> bytes:
    """``assets.xlsx``: one row per asset (CIS 1.1), and one per installed program of each (CIS 2.1)."""
    words = labels(pack)
    zone = _zone(pack)
    yes, no = words.ANSWER["yes"], words.ANSWER["no"]

    def value(key: str) -> Callable[[Mapping[str, Any]], Any]:
        def get(row: Mapping[str, Any]) -> Any:
            raw = row.get(key)
            if key in ("collected_at", "last_boot"):
                return when(raw, zone)
            if key in ("ram_gib", "software_count", "seq"):
                return _number(raw)
            if key == "in_inventory":
                return yes if raw else no
            if key == "criticality":
                return words.CRITICALITY.get(raw, raw)
            if key == "asset_type":
                return words.ASSET_TYPE.get(raw, raw)
            if key == "disks":
                return text([f"{d.get('name')} {d.get('size_gib')} GiB" for d in raw or []])
            return text(raw)

        return get

    wb = _workbook(pack)
    _table(wb, words.SHEET["assets"], [(k, value(k)) for k in ASSET_COLUMNS], pack["assets"], words.ASSET)
    software = [
        {"host": s["host"], "seq": s.get("seq"), **item} for s in pack["software"] for item in s["items"]
    ]
    soft_columns: list[Column] = [
        ("host", lambda r: text(r["host"])),
        ("name", lambda r: text(r["name"])),
        ("version", lambda r: text(r.get("version"))),
        ("publisher", lambda r: text(r.get("publisher"))),
        ("seq", lambda r: _number(r.get("seq"))),
    ]
    _table(wb, words.SHEET["software"], soft_columns, software, words.SOFTWARE)
    return _save(wb)


def _evidence(risk: Mapping[str, Any]) -> str | None:
    parts = []
    for ev in risk.get("evidence") or []:
        seq = ev.get("seq")
        parts.append(f"{ev.get('host')}: {ev.get('status')}" + (f" (#{seq})" if seq is not None else ""))
    return text(parts)


def risks(pack: Mapping[str, Any]) -> bytes:
    """``risks.xlsx``: the risk register, ranked."""
    words = labels(pack)
    zone = _zone(pack)
    columns: list[Column] = [
        ("rank", lambda r: _number(r.get("rank"))),
        ("id", lambda r: text(r["id"])),
        ("control", lambda r: text(r["control"])),
        ("title", lambda r: text(r.get("title"))),
        ("description", lambda r: text(r.get("description"))),
        ("domain", lambda r: text(r.get("domain"))),
        ("severity", lambda r: text(r.get("severity"))),
        ("status", lambda r: text(r.get("status"))),
        ("assets", lambda r: text(r.get("assets"))),
        ("criticality", lambda r: words.CRITICALITY.get(r.get("criticality"), r.get("criticality"))),
        ("likelihood", lambda r: _number(r.get("likelihood"))),
        ("impact", lambda r: _number(r.get("impact"))),
        ("score", lambda r: _number(r.get("score"))),
        ("first_seen", lambda r: when(r.get("first_seen"), zone)),
        (
            "treatment_class",
            lambda r: words.TREATMENT.get(r.get("treatment_class"), r.get("treatment_class")),
        ),
        ("treatment", lambda r: text(r.get("treatment"))),
        ("evidence", _evidence),
    ]
    wb = _workbook(pack)
    _table(wb, words.SHEET["risks"], columns, pack["risks"], words.RISK)
    return _save(wb)


def roadmap(pack: Mapping[str, Any]) -> bytes:
    """``roadmap.xlsx``: the roadmap's items and its milestones."""
    words = labels(pack)
    zone = _zone(pack)
    yes, no = words.ANSWER["yes"], words.ANSWER["no"]
    columns: list[Column] = [
        ("item", lambda r: text(r["item"])),
        ("control", lambda r: text(r.get("control"))),
        ("title", lambda r: text(r.get("title"))),
        (
            "treatment_class",
            lambda r: words.TREATMENT.get(r.get("treatment_class"), r.get("treatment_class")),
        ),
        ("severity", lambda r: text(r.get("severity"))),
        ("hosts", lambda r: text(r.get("hosts"))),
        ("owner", lambda r: text(r.get("owner"))),
        ("due", lambda r: day(r.get("due"))),
        ("status", lambda r: words.ROADMAP_STATUS.get(r.get("status"), r.get("status"))),
        ("overdue", lambda r: yes if r.get("overdue") else no),
        ("created_at", lambda r: when(r.get("created_at"), zone)),
        ("updated_at", lambda r: when(r.get("updated_at"), zone)),
        ("closed_at", lambda r: when(r.get("closed_at"), zone)),
        ("closed_by_run", lambda r: text(r.get("closed_by_run"))),
    ]
    wb = _workbook(pack)
    _table(wb, words.SHEET["roadmap"], columns, pack["roadmap"]["items"], words.ROADMAP)
    milestones = list(pack["roadmap"].get("milestones") or [])

    def treatment(value: Any) -> Any:
        return words.TREATMENT.get(value, value)

    ms_columns: list[Column] = [
        ("treatment_class", lambda m: treatment(m.get("treatment_class"))),
        ("due", lambda m: day(m.get("due"))),
        ("items", lambda m: text(m.get("items"))),
        ("total", lambda m: _number(m.get("total"))),
        ("done", lambda m: _number(m.get("done"))),
        ("open", lambda m: _number(m.get("open"))),
        ("overdue", lambda m: _number(m.get("overdue"))),
    ]
    _table(wb, words.SHEET["milestones"], ms_columns, milestones, words.MILESTONE)
    return _save(wb)
