"""Report periods: a calendar month or a span of days, in the client's time zone.

A period covers whole local days: ``start`` is the first day's local midnight and ``end`` (exclusive)
the midnight after the last day, both as UTC instants, so a month in ``Europe/Madrid`` starts at 23:00 or
22:00 UTC on the day before, whatever the DST rules did in between.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _midnight(day: date, zone: str) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@dataclass(frozen=True)
class Period:
    label: str
    first_day: date
    last_day: date
    zone: str
    monthly: bool

    @property
    def start(self) -> datetime:
        return _midnight(self.first_day, self.zone)

    @property
    def end(self) -> datetime:
        return _midnight(self.last_day + timedelta(days=1), self.zone)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end

    def previous(self) -> Period:
        """The month before (a monthly period), else the same number of days just before."""
        if self.monthly:
            last = self.first_day - timedelta(days=1)
            return _month_of(last.year, last.month, self.zone)
        return span(self.first_day - timedelta(days=self.days), self.first_day - timedelta(days=1), self.zone)

    def back(self, n: int) -> list[Period]:
        """The ``n`` periods ending with this one, oldest first."""
        found = [self]
        while len(found) < n:
            found.append(found[-1].previous())
        return found[::-1]

    def as_dict(self) -> dict[str, str]:
        return {
            "label": self.label,
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "timezone": self.zone,
            "previous": self.previous().label,
        }


def _month_of(year: int, month: int, zone: str) -> Period:
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return Period(f"{year:04d}-{month:02d}", first, following - timedelta(days=1), zone, True)


def month(label: str, zone: str) -> Period:
    """``2026-11`` -> that month in ``zone``; ValueError naming the option otherwise."""
    found = _MONTH.match(label.strip())
    if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1970:
        raise ValueError(f"--period {label}: expected a month as YYYY-MM, e.g. 2026-11")
    return _month_of(int(found.group(1)), int(found.group(2)), zone)


def span(first: date, last: date, zone: str) -> Period:
    """The local days ``first`` to ``last`` inclusive (a whole month is labelled as one)."""
    if last < first:
        raise ValueError(f"--to {last.isoformat()} is before --from {first.isoformat()}")
    whole = _month_of(first.year, first.month, zone)
    if whole.first_day == first and whole.last_day == last:
        return whole
    return Period(f"{first.isoformat()}..{last.isoformat()}", first, last, zone, False)


def containing(instant: datetime, zone: str) -> Period:
    """The month containing ``instant`` (local time in ``zone``)."""
    local = instant.astimezone(ZoneInfo(zone))
    return _month_of(local.year, local.month, zone)


def parse_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{option} {text}: expected a date as YYYY-MM-DD") from None
