"""Working-hours arithmetic for the SLA: how much of the client's working time lies between two instants.

The clock runs only inside the client's working hours (``maintenance.working_hours``: the days of the
week and a start and end wall-clock time, default Monday to Friday 09:00-18:00), in the client's own
time zone (``maintenance.timezone``), and never on a public holiday of its calendar
(``maintenance.blackout.holidays``, the same ``holidays`` package calendar the schedules use). Each
working day's span is turned into UTC instants on its own date, so a day of a DST change counts what the
wall clock says (09:00-18:00 is 9 h of working time on the night the clocks change as on any other day),
and the sum is taken in UTC: ``working_time(a, c) == working_time(a, b) + working_time(b, c)`` for any
``a <= b <= c``, and it is never more than ``c - a``.

The SLA's response target per tier (``maintenance.sla.response_hours``) is in these working hours.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from runner.inventory.schema import WEEKDAYS, ClientSettings

HOUR = timedelta(hours=1)


@functools.lru_cache(maxsize=64)
def _calendar(country: str, subdivision: str | None) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision)


def holiday(day: date, settings: ClientSettings) -> str | None:
    """The name of the public holiday ``day`` (a local date) is in the client's calendar, or None."""
    cal = settings.blackout.holidays
    if cal is None:
        return None
    name = _calendar(cal.country, cal.subdivision).get(day)
    return str(name) if name else None


def is_working_day(day: date, settings: ClientSettings) -> bool:
    return WEEKDAYS[day.weekday()] in settings.working_hours.days and holiday(day, settings) is None


def _instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time (a time skipped by DST is read with the offset before)."""
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def working_spans(
    start: datetime, end: datetime, settings: ClientSettings
) -> Iterator[tuple[datetime, datetime]]:
    """The working spans (UTC, in order) that overlap ``[start, end)``, clipped to it."""
    start, end = _aware(start, "start"), _aware(end, "end")
    if end <= start:
        return
    zone = ZoneInfo(settings.timezone)
    hours = settings.working_hours
    day = start.astimezone(zone).date() - timedelta(days=1)  # a span ends on its own local day
    last = end.astimezone(zone).date() + timedelta(days=1)
    while day <= last:
        if is_working_day(day, settings):
            lo = max(start, _instant(day, hours.start, zone))
            hi = min(end, _instant(day, hours.end, zone))
            if hi > lo:
                yield lo, hi
        day += timedelta(days=1)


def working_time(start: datetime, end: datetime, settings: ClientSettings) -> timedelta:
    """Working time between two aware instants (zero when ``end`` is not after ``start``); exact."""
    total = timedelta(0)
    for lo, hi in working_spans(start, end, settings):
        total += hi - lo
    return total


def working_seconds(start: datetime, end: datetime, settings: ClientSettings) -> float:
    """:func:`working_time` in seconds."""
    return working_time(start, end, settings).total_seconds()


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} {value.isoformat()} has no time zone")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class SlaLine:
    """The response target of the client's tier and the time taken, in working hours."""

    tier: str
    target_hours: float
    opened_at: datetime | None
    response_hours: float | None  # opened_at -> the first run's start
    resolution_hours: float | None  # opened_at -> the last run's end
    holidays: str | None  # "ES-CT" when a calendar is set

    @property
    def met(self) -> bool | None:
        return None if self.response_hours is None else self.response_hours <= self.target_hours

    def as_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "response_target_hours": round(self.target_hours, 1),
            "response_hours": None if self.response_hours is None else round(self.response_hours, 1),
            "resolution_hours": None if self.resolution_hours is None else round(self.resolution_hours, 1),
            "met": self.met,
            "holidays": self.holidays,
        }


def sla_line(
    settings: ClientSettings, opened_at: datetime | None, first_start: datetime, last_end: datetime | None
) -> SlaLine:
    """The SLA line of an intervention: response = opened -> first run start, resolution = -> last run end."""
    tier = settings.sla_tier
    target = settings.sla.response_hours[tier]
    cal = settings.blackout.holidays
    where = None if cal is None else (f"{cal.country}-{cal.subdivision}" if cal.subdivision else cal.country)
    response = resolution = None
    if opened_at is not None:
        response = working_time(opened_at, first_start, settings) / HOUR
        if last_end is not None:
            resolution = working_time(opened_at, last_end, settings) / HOUR
    return SlaLine(tier.value, target, opened_at, response, resolution, where)
