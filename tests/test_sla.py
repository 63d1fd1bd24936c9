"""Working-hours arithmetic (runner/sla.py): the client's time zone, its working days and hours, its public
holidays, DST, and the properties every such clock must have (additive, zero when closed, never more than
the wall clock)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from runner import sla
from runner.inventory.schema import ClientSettings
from tests.conftest import BASE_SETTINGS

MADRID = ZoneInfo("Europe/Madrid")
HOUR = timedelta(hours=1)


def client(**extra: Any) -> ClientSettings:
    data = copy.deepcopy(BASE_SETTINGS)
    data.update(extra)
    return ClientSettings.model_validate(data)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=MADRID)


PLAIN = client()
CATALONIA = client(blackout={"holidays": {"country": "ES", "subdivision": "CT"}})


def test_friday_17_to_monday_10_is_two_working_hours() -> None:
    opened, done = local("2026-11-06T17:00"), local("2026-11-09T10:00")  # Friday -> Monday
    assert opened.strftime("%a") == "Fri" and done.strftime("%a") == "Mon"
    assert sla.working_time(opened, done, PLAIN) == 2 * HOUR
    assert sla.working_seconds(opened, done, PLAIN) == 7200.0
    line = sla.sla_line(client(sla_tier="premium"), opened, done, done + timedelta(minutes=30))
    assert line.as_dict() == {
        "tier": "premium",
        "response_target_hours": 4.0,
        "response_hours": 2.0,
        "resolution_hours": 2.5,
        "met": True,
        "holidays": None,
    }


def test_a_public_holiday_is_skipped() -> None:
    # Tuesday 8 December 2026 is a public holiday in Spain (Immaculate Conception)
    opened, done = local("2026-12-07T17:00"), local("2026-12-09T10:00")
    assert sla.holiday(local("2026-12-08T12:00").date(), CATALONIA) == "Immaculate Conception"
    assert sla.working_time(opened, done, PLAIN) == 11 * HOUR  # 1 Monday + 9 Tuesday + 1 Wednesday
    assert sla.working_time(opened, done, CATALONIA) == 2 * HOUR
    line = sla.sla_line(
        client(sla_tier="basic", blackout={"holidays": {"country": "ES"}}), opened, done, None
    )
    assert (line.response_hours, line.resolution_hours, line.met, line.holidays) == (2.0, None, True, "ES")


def test_the_clock_runs_in_the_client_time_zone_across_dst() -> None:
    # 25 October 2026: clocks go back at 03:00 in Madrid; the next Monday is still 09:00-18:00 local
    start = datetime(2026, 10, 23, 0, 0, tzinfo=UTC)  # Friday
    end = datetime(2026, 10, 27, 0, 0, tzinfo=UTC)  # Tuesday 01:00 local
    assert sla.working_time(start, end, PLAIN) == 18 * HOUR  # Friday and Monday, 9 h each
    spans = list(sla.working_spans(start, end, PLAIN))
    assert [(a.hour, b.hour) for a, b in spans] == [(7, 16), (8, 17)]  # CEST (UTC+2), then CET (UTC+1)
    new_york = client(timezone="America/New_York")
    monday = datetime(2026, 10, 26, 12, 0, tzinfo=UTC)  # 08:00 in New York: an hour before it opens
    assert sla.working_time(monday, monday + 2 * HOUR, new_york) == HOUR


def test_working_hours_and_sla_are_configurable() -> None:
    shop = client(
        working_hours={"days": ["sat", "sun"], "start": "10:00", "end": "14:00"},
        sla={"response_hours": {"standard": 2.5}},
    )
    saturday = local("2026-11-07T00:00")
    assert sla.working_time(saturday, saturday + timedelta(days=7), shop) == 8 * HOUR
    assert shop.sla.response_hours["standard"] == 2.5 and shop.sla.response_hours["premium"] == 4.0
    assert PLAIN.sla.response_hours == {"premium": 4.0, "standard": 8.0, "basic": 24.0}


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"start": 1080}, 'expected a quoted time "HH:MM"'),  # YAML read an unquoted 18:00 as 1080
        ({"start": "18:00", "end": "09:00"}, "end 09:00 must be after start 18:00"),
        ({"days": ["mon", "mon"]}, "days lists a day twice"),
        ({"days": ["monday"]}, "Input should be 'mon'"),
        ({"days": []}, "at least 1 item"),
    ],
)
def test_bad_working_hours_are_refused(hours: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        client(working_hours=hours)


def test_a_bad_sla_target_is_refused() -> None:
    with pytest.raises(ValidationError, match="greater than 0"):
        client(sla={"response_hours": {"premium": 0}})
    with pytest.raises(ValidationError, match="platinum"):
        client(sla={"response_hours": {"platinum": 2}})


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="has no time zone"):
        sla.working_time(datetime(2026, 11, 6, 17), local("2026-11-09T10:00"), PLAIN)


# -- properties ---------------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
calendars = st.sampled_from(
    [PLAIN, CATALONIA, client(timezone="America/New_York"), client(timezone="Asia/Kolkata")]
)


@settings(max_examples=200, deadline=None)
@given(a=instants, b=instants, c=instants, cal=calendars)
def test_working_time_is_additive_and_never_more_than_wall_time(
    a: datetime, b: datetime, c: datetime, cal: ClientSettings
) -> None:
    a, b, c = sorted((a, b, c))
    whole = sla.working_time(a, c, cal)
    assert whole == sla.working_time(a, b, cal) + sla.working_time(b, c, cal)
    assert timedelta(0) <= whole <= c - a
    assert sla.working_time(c, a, cal) == timedelta(0)


@settings(max_examples=100, deadline=None)
@given(
    week=st.integers(min_value=0, max_value=100),
    start=st.integers(min_value=0, max_value=48 * 3600 - 1),
    length=st.integers(min_value=0, max_value=48 * 3600),
)
def test_zero_inside_a_weekend(week: int, start: int, length: int) -> None:
    saturday = local("2026-01-03T00:00") + timedelta(weeks=week)  # a Saturday 00:00, Madrid
    a = saturday + timedelta(seconds=start)
    b = min(a + timedelta(seconds=length), saturday + timedelta(days=2))
    assert sla.working_time(a.astimezone(UTC), b.astimezone(UTC), PLAIN) == timedelta(0)
