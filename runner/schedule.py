"""When each schedule of a client runs: occurrences in the client's IANA time zone.

A schedule's cron expression is evaluated on the client's *local wall clock* (croniter on naive
local times), and each wall time is then placed on the time line with :mod:`zoneinfo`:

- a wall time that does not exist (the spring-forward gap: 02:30 on the last Sunday of March in
  Europe/Madrid) starts at the first instant that exists after it — the moment the clock jumps,
  03:00 local — and the occurrence carries a note saying so;
- a wall time that exists twice (the autumn fall-back hour) starts at its first occurrence;
- ``window.duration_minutes`` is elapsed time; ``window.end`` is a local wall time on the first
  day it comes after the start, so the window's real length (UTC) is what the clocks make it:
  22:00 to 04:00 lasts 7 h on the fall-back night and 5 h on the spring-forward night;
- an occurrence whose local start date is a blackout date or a public holiday of the client's
  calendar (``holidays`` package) is skipped, or moved to the same wall time on the next day
  that is not blacked out, as ``on_holiday`` says; either way it stays listed and marked.

Every occurrence has a stable ID — client, schedule and UTC start — that the ledger records.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from croniter import croniter

from runner.inventory.schema import Blackout, ClientSettings, Mode, Schedule

#: the furthest a ``next_day`` move goes looking for a day that is not blacked out
MAX_MOVE_DAYS = 14
#: ``next_occurrences`` gives up looking further than this (every occurrence skipped)
HORIZON = timedelta(days=6 * 366)
#: the ``--now`` times accepted: the computation reaches years before and after ``now``
NOW_RANGE = (datetime(1971, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC))


class Plan(StrEnum):
    """What happens to an occurrence."""

    RUN = "run"
    MOVED = "moved"  # runs, on a later day than its cron said (blackout / holiday)
    SKIPPED = "skipped"  # does not run (blackout / holiday)


@dataclass(frozen=True)
class Occurrence:
    client: str
    schedule: str
    zone: str
    start: datetime  # UTC
    end: datetime  # UTC
    roles: tuple[str, ...]
    mode: Mode
    min_run_minutes: int
    plan: Plan = Plan.RUN
    notes: tuple[str, ...] = ()
    moved_from: date | None = None
    nominal: datetime | None = field(default=None, compare=False)  # the cron's local wall time

    @property
    def id(self) -> str:
        """``client/schedule/UTC start``: the occurrence's identity in the ledger."""
        return f"{self.client}/{self.schedule}/{self.start.strftime('%Y-%m-%dT%H:%MZ')}"

    @property
    def runs(self) -> bool:
        return self.plan is not Plan.SKIPPED

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(ZoneInfo(self.zone))

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(ZoneInfo(self.zone))

    @property
    def minutes(self) -> int:
        """The window's real length."""
        return int((self.end - self.start).total_seconds() // 60)

    @property
    def last_start(self) -> datetime:
        """The latest instant a run (or a retry) may still start: ``min_run_minutes`` before the end."""
        return self.end - timedelta(minutes=self.min_run_minutes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "client": self.client,
            "schedule": self.schedule,
            "plan": self.plan.value,
            "mode": self.mode.value,
            "roles": list(self.roles),
            "zone": self.zone,
            "start_local": self.local_start.isoformat(),
            "end_local": self.local_end.isoformat(),
            "start_utc": self.start.isoformat(),
            "end_utc": self.end.isoformat(),
            "window_minutes": self.minutes,
            "moved_from": self.moved_from.isoformat() if self.moved_from else None,
            "notes": list(self.notes),
        }


# -- wall clock <-> time line -----------------------------------------------------------------


def _offset(instant: datetime, zone: ZoneInfo) -> timedelta | None:
    return instant.astimezone(zone).utcoffset()


def to_utc(wall: datetime, zone: ZoneInfo) -> tuple[datetime, str | None]:
    """Place a naive local wall time on the time line; return it in UTC and a note when the clock
    changes make it special (does not exist: the first instant after it; twice: the first)."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        if second != first:
            return first, f"{wall:%H:%M} occurs twice on {wall:%Y-%m-%d} (clock change): the first one"
        return first, None
    # In the gap: fold=1 (the offset after) gives the earlier instant; the transition lies between.
    lo, hi = min(first, second), max(first, second)
    before = _offset(lo, zone)
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if _offset(mid, zone) == before:
            lo = mid
        else:
            hi = mid
    jump = hi.replace(microsecond=0)
    if _offset(jump, zone) == before:
        jump += timedelta(seconds=1)
    local = jump.astimezone(zone)
    return jump, (
        f"{wall:%H:%M} does not exist on {wall:%Y-%m-%d} (clock change): starts at {local:%H:%M} local"
    )


def window_end(start: datetime, schedule: Schedule, zone: ZoneInfo) -> datetime:
    """UTC end of the window of an occurrence starting at ``start`` (UTC)."""
    window = schedule.window
    if window.duration_minutes is not None:
        return start + timedelta(minutes=window.duration_minutes)
    assert window.end is not None  # the schema requires one of the two
    local = start.astimezone(zone).replace(tzinfo=None)
    wall = datetime.combine(local.date(), window.end)
    if wall <= local:
        wall += timedelta(days=1)
    end, _note = to_utc(wall, zone)
    return end


# -- blackout -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _calendar(country: str, subdivision: str | None) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision)


def blackout_reason(day: date, blackout: Blackout) -> str | None:
    """Why ``day`` (a local date) is blacked out, or None."""
    if day in blackout.dates:
        return f"blackout date {day.isoformat()}"
    if blackout.holidays is not None:
        cal = blackout.holidays
        name = _calendar(cal.country, cal.subdivision).get(day)
        if name:
            region = f"{cal.country}-{cal.subdivision}" if cal.subdivision else cal.country
            return f"public holiday ({region}) {day.isoformat()}: {name}"
    return None


# -- occurrences ----------------------------------------------------------------------------------


def _schedule_occurrences(
    client: str, settings: ClientSettings, schedule: Schedule, since: datetime, until: datetime
) -> Iterator[Occurrence]:
    """Occurrences of one schedule whose window ends after ``since`` and that start before ``until``."""
    zone = ZoneInfo(settings.timezone)
    policy = schedule.on_holiday or settings.blackout.on_holiday
    reach = timedelta(days=MAX_MOVE_DAYS + 2) + _longest(schedule)
    base = (since - reach).astimezone(zone).replace(tzinfo=None)
    stop = until.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    common: dict[str, Any] = {
        "client": client,
        "schedule": schedule.name,
        "zone": settings.timezone,
        "roles": tuple(schedule.roles),
        "mode": schedule.mode,
        "min_run_minutes": schedule.window.min_run_minutes,
    }
    cron = croniter(schedule.cron, base)
    while True:
        nominal: datetime = cron.get_next(datetime)
        if nominal > stop:
            return
        day = nominal.date()
        reason = blackout_reason(day, settings.blackout)
        notes: list[str] = []
        plan, moved_from, wall = Plan.RUN, None, nominal
        if reason is not None:
            if policy == "skip":
                plan = Plan.SKIPPED
                notes.append(f"skipped: {reason}")
            else:
                target = _next_open_day(day, settings.blackout)
                if target is None:
                    plan = Plan.SKIPPED
                    notes.append(f"skipped: {reason}; no open day within {MAX_MOVE_DAYS} days")
                else:
                    plan, moved_from = Plan.MOVED, day
                    wall = datetime.combine(target, nominal.time())
                    notes.append(f"moved to {target.isoformat()}: {reason}")
        start, note = to_utc(wall, zone)
        if note:
            notes.append(note)
        end = window_end(start, schedule, zone)
        if end <= since or start >= until:
            continue
        yield Occurrence(
            start=start,
            end=end,
            plan=plan,
            notes=tuple(notes),
            moved_from=moved_from,
            nominal=nominal,
            **common,
        )


def _longest(schedule: Schedule) -> timedelta:
    minutes = schedule.window.duration_minutes
    return timedelta(minutes=minutes) if minutes is not None else timedelta(hours=26)


def _next_open_day(day: date, blackout: Blackout) -> date | None:
    for step in range(1, MAX_MOVE_DAYS + 1):
        candidate = day + timedelta(days=step)
        if blackout_reason(candidate, blackout) is None:
            return candidate
    return None


def occurrences(
    client: str,
    settings: ClientSettings,
    since: datetime,
    until: datetime,
    *,
    schedules: list[str] | None = None,
) -> list[Occurrence]:
    """Every occurrence (skipped ones included) of the client's enabled schedules whose window
    ends after ``since`` and that starts before ``until``, in start order, one per ID."""
    since, until = _utc(since), _utc(until)
    found: dict[str, Occurrence] = {}
    for schedule in settings.schedules:
        if not schedule.enabled or (schedules is not None and schedule.name not in schedules):
            continue
        zone = ZoneInfo(settings.timezone)
        for occurrence in _schedule_occurrences(client, settings, schedule, since, until):
            kept = found.get(occurrence.id)
            if kept is None:
                found[occurrence.id] = occurrence
                continue
            # a moved occurrence landing on a regular one of the same schedule: the regular one
            # runs, the moved one stays listed as skipped at its own time
            moved = occurrence if occurrence.plan is Plan.MOVED else kept
            found[occurrence.id] = kept if moved is occurrence else occurrence
            if moved.nominal is not None:
                start, _note = to_utc(moved.nominal, zone)
                skipped = replace(
                    moved,
                    start=start,
                    end=window_end(start, schedule, zone),
                    plan=Plan.SKIPPED,
                    moved_from=None,
                    notes=(*moved.notes, "skipped: that day already has an occurrence of this schedule"),
                )
                if since < skipped.end and skipped.start < until:
                    found.setdefault(skipped.id, skipped)
    return sorted(found.values(), key=lambda o: (o.start, o.schedule))


def next_occurrences(
    client: str, settings: ClientSettings, now: datetime, count: int, *, schedules: list[str] | None = None
) -> list[Occurrence]:
    """The next ``count`` occurrences that run (a window open at ``now`` included), with the
    skipped ones that fall between them."""
    now = _utc(now)
    span = timedelta(days=7)
    while True:
        found = occurrences(client, settings, now, now + span, schedules=schedules)
        running = [o for o in found if o.runs]
        if len(running) >= count or span >= HORIZON:
            break
        span *= 2
    if len(running) < count:
        return found
    last = running[count - 1].start
    return [o for o in found if o.start <= last]


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"a time zone is required: {value.isoformat()}")
    return value.astimezone(UTC)


def parse_now(text: str | None) -> datetime:
    """``--now`` (ISO-8601 with an offset, or ``Z``), or the current time; always UTC."""
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise ValueError(
            f"--now expects an ISO-8601 time such as 2026-06-24T22:05:00+02:00, got {text!r}"
        ) from None
    if value.tzinfo is None:
        raise ValueError(f"--now needs an offset or Z (the zone is ambiguous): {text!r}")
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # year 1 with a negative offset, year 9999 with a positive one
        value = NOW_RANGE[0] - timedelta(days=1)
    if not NOW_RANGE[0] <= value <= NOW_RANGE[1]:
        raise ValueError(
            f"--now must lie between {NOW_RANGE[0]:%Y-%m-%d} and {NOW_RANGE[1]:%Y-%m-%d} "
            f"(schedules are computed years around it), got {text!r}"
        )
    return value


__all__ = [
    "Occurrence",
    "Plan",
    "blackout_reason",
    "next_occurrences",
    "occurrences",
    "parse_now",
    "to_utc",
    "window_end",
]
