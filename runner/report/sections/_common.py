"""Helpers the domain sections (patching, antivirus, backups, capacity, network) share.

Conventions every domain section follows:

- a host's numbers come from the **latest** row of each of its controls in the state at the period's end
  (:meth:`ReportContext.state`); when that row did not judge anything (``not_checked``, ``error``) the numbers
  are None and the entry's ``status`` and ``reason`` say why: nothing older is shown as if it were current;
- every age is taken at ``ctx.as_of``: the age the evidence gives at the check (``age_days``,
  ``days_since``...) plus the time from the row's ``observed_at`` to ``as_of`` (the evaluators measure ages
  from the collector's clock at that moment, so an evidence timestamp written by the host in its own zone is
  never needed);
- ``status`` of an entry is the worst effective status of the rows it is made of (:data:`WORST_FIRST`), a
  ``not_checked`` row that does not count as not passing left out when another row was judged
  (:func:`entry_status`);
- floats are rounded to one decimal, datetimes are ISO-8601 UTC strings, lists are sorted.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from runner.report.context import Row
from runner.results import Status
from runner.state import ClientState, StateRow
from runner.status import WAIVED

#: effective statuses from the worst to the best: an entry made of several rows shows the first one found
WORST_FIRST = (
    Status.FAIL.value,
    Status.ERROR.value,
    Status.WARN.value,
    Status.NOT_CHECKED.value,
    WAIVED,
    Status.PASS.value,
    Status.NOT_APPLICABLE.value,
)
_RANK = {status: n for n, status in enumerate(WORST_FIRST)}
#: statuses that judged the control (the row's evidence describes the host)
CONCLUSIVE = frozenset({Status.PASS.value, Status.FAIL.value, Status.WARN.value, Status.NOT_APPLICABLE.value})
#: effective statuses that count as passing
PASSING = frozenset({Status.PASS.value, Status.NOT_APPLICABLE.value, WAIVED})
_DAY = 86400.0
_HOUR = 3600.0


def r1(value: float | None) -> float | None:
    """Rounded to one decimal (never ``-0.0``), None kept."""
    return None if value is None else round(float(value), 1) + 0.0


def pct(part: int, whole: int) -> float | None:
    return r1(100.0 * part / whole) if whole else None


def iso(value: datetime | None) -> str | None:
    """An aware datetime as ISO-8601 UTC (``2026-11-07T21:00:05+00:00``)."""
    return None if value is None else value.astimezone(UTC).isoformat()


_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(value: Any) -> datetime | None:
    """An evidence timestamp (``2026-11-27T02:57:25.570059024Z``, ``2025-11-25T22:48:00Z``, ``...+00:00``)
    as an aware UTC datetime; None when it is absent or not one (a naive time is taken as UTC)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = _FRACTION.sub(r"\1", value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        return None
    if found.year < 1971:  # DateTime.MinValue and the 1900-01-01 of a running Veeam session: never set
        return None
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)


def number(value: Any) -> float | None:
    """A JSON number (not a bool) as float, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def integer(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def days_between(earlier: datetime, later: datetime) -> float:
    return (later - earlier).total_seconds() / _DAY


def hours_between(earlier: datetime, later: datetime) -> float:
    return (later - earlier).total_seconds() / _HOUR


def age_days_at(age_days: float | None, observed_at: datetime, as_of: datetime) -> float | None:
    """An age the evidence gives at the check, carried to ``as_of`` (module docstring), rounded."""
    if age_days is None:
        return None
    return r1(max(0.0, age_days + days_between(observed_at, as_of)))


def worst(statuses: Iterable[str]) -> str:
    """The worst of effective statuses (:data:`WORST_FIRST`); ``not_checked`` for none."""
    found = sorted(statuses, key=lambda s: _RANK.get(s, 0))
    return found[0] if found else Status.NOT_CHECKED.value


def entry_status(rows: Sequence[StateRow]) -> str:
    """The status of an entry made of ``rows``: the worst effective status among the rows that count, i.e.
    leaving out a ``not_checked`` row that does not count as not passing (a probe absent on the host, such as
    needrestart) when another row was judged; ``not_checked`` for no row."""
    if any(judged(row) for row in rows):
        rows = [row for row in rows if row.status.value != Status.NOT_CHECKED.value or row.failing]
    return worst(row.effective for row in rows)


def by_host(state: ClientState, prefixes: Sequence[str]) -> dict[str, list[StateRow]]:
    """The state's rows whose control starts with one of ``prefixes``, per host (hosts and rows sorted)."""
    found: dict[str, list[StateRow]] = {}
    for row in state.rows:
        if row.control.startswith(tuple(prefixes)):
            found.setdefault(row.host, []).append(row)
    return {host: sorted(rows, key=lambda r: r.control) for host, rows in sorted(found.items())}


def seq_of(row: StateRow | None) -> int | None:
    """The seq of a state row's latest result (None: never checked)."""
    if row is None or row.latest is None:
        return None
    value = row.latest.raw.get("seq")
    return int(value) if value is not None else None


def seqs_of(rows: Iterable[StateRow]) -> list[int]:
    return sorted({seq for seq in (seq_of(row) for row in rows) if seq is not None})


def judged(row: StateRow | None) -> bool:
    """The row's latest result judged the control (its evidence describes the host)."""
    return row is not None and row.latest is not None and row.status.value in CONCLUSIVE


def evidence(row: StateRow | None) -> dict[str, Any] | None:
    """The latest result's evidence when it judged the control, else None."""
    if row is None or row.latest is None or not judged(row):
        return None
    return row.latest.evidence


def observed(row: StateRow | None) -> datetime | None:
    return row.latest.observed_at if row is not None and row.latest is not None else None


def passed(row: StateRow | None) -> bool | None:
    """True when the latest result passed, False when it failed, None otherwise (not judged, warn...)."""
    if row is None or row.latest is None:
        return None
    status = row.status.value
    if status == Status.PASS.value:
        return True
    if status == Status.FAIL.value:
        return False
    return None


def all_passing(rows: Sequence[StateRow]) -> bool | None:
    """Every row passing, waived or not applicable (True), one not passing (False: :attr:`StateRow.failing`,
    the rule of ``maint status``), or None when no latest result judged any of them (not checked)."""
    if not any(judged(row) for row in rows):
        return None
    return not any(row.failing for row in rows)


def not_judged_reason(rows: Sequence[StateRow]) -> str | None:
    """Why none of the rows was judged (the reason of the worst of them: "host unreachable: ...", "never
    checked"), None when one was."""
    if any(judged(row) for row in rows):
        return None
    for row in sorted(rows, key=lambda r: (_RANK.get(r.effective, 0), r.control)):
        if row.reason:
            return row.reason
    return None


def last_checked(rows: Iterable[StateRow]) -> str | None:
    times = [t for t in (observed(row) for row in rows) if t is not None]
    return iso(max(times)) if times else None


def find(rows: Sequence[StateRow], control: str) -> StateRow | None:
    return next((row for row in rows if row.control == control), None)


def row_seqs(rows: Iterable[Row]) -> list[int]:
    return sorted({row.seq for row in rows})


# --------------------------------------------------------------------------- locations

#: ``scheme://user:password@host`` (any scheme, restic's ``rest:http://...`` and ``s3:https://...`` included)
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@")
#: restic/ssh style ``sftp:user@host:/path``
_SFTP_USER = re.compile(r"^(?P<prefix>sftp:)[^/@\s:]+@")
#: a query string or fragment (SAS tokens, ``?access_key=...``)
_QUERY = re.compile(r"[?#].*$")
#: ``password=...`` / ``key=...`` pairs anywhere
_PAIR = re.compile(r"(?i)\b(pass(word)?|pwd|secret|token|key|access[_-]?key|sig)=[^;&\s]*")


def safe_location(value: Any) -> str | None:
    """Where copies are stored as evidence names it, with any credential in it removed: the user and password
    of a URL (``rest:https://u:p@host/repo`` -> ``rest:https://host/repo``), an ``sftp:user@`` user, a query
    string, and ``password=``-style pairs. None for no location."""
    return _safe_location(value) if isinstance(value, str) else None


@functools.lru_cache(maxsize=4096)
def _safe_location(value: str) -> str | None:
    text = value.strip()
    text = _URL_USERINFO.sub(lambda m: m.group("scheme"), text)
    text = _SFTP_USER.sub(lambda m: m.group("prefix"), text)
    text = _QUERY.sub("", text)
    text = _PAIR.sub(lambda m: f"{m.group(1)}=", text)
    return text or None


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> list[Mapping[str, Any]]:
    """The mappings of a JSON list (anything else: empty)."""
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []
