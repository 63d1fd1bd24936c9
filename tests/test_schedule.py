"""Schedule occurrences in Europe/Madrid: DST changes, midnight, Catalan holidays; schema validation.

Time is frozen through the ``since`` / ``until`` / ``--now`` parameters; nothing reads the clock.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from typer.testing import CliRunner

from runner.cli import app
from runner.inventory import validate_client
from runner.inventory.schema import ClientSettings
from runner.schedule import Plan, next_occurrences, occurrences
from tests.conftest import BASE_SETTINGS, MakeClient

ROLE = ["linux_health"]


def settings(*schedules: dict[str, Any], blackout: dict[str, Any] | None = None) -> ClientSettings:
    data = copy.deepcopy(BASE_SETTINGS)
    data["schedules"] = [{"roles": ROLE, **s} for s in schedules]
    if blackout is not None:
        data["blackout"] = blackout
    return ClientSettings.model_validate(data)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


CATALONIA = {"holidays": {"country": "ES", "subdivision": "CT"}}

# name, schedule, since, until, expected [(start_local, end_local, window minutes, plan, note substring)]
CASES: list[
    tuple[str, dict[str, Any], dict[str, Any] | None, str, str, list[tuple[str, str, int, str, str]]]
] = [
    (
        "02:30 on the spring-forward day starts at 03:00 local (first instant that exists)",
        {"name": "night", "cron": "30 2 * * 0", "window": {"duration_minutes": 120}},
        None,
        "2026-03-28T00:00:00+00:00",
        "2026-03-30T00:00:00+00:00",
        [("2026-03-29T03:00:00+02:00", "2026-03-29T05:00:00+02:00", 120, "run", "02:30 does not exist")],
    ),
    (
        "02:30 on the fall-back day starts at the first 02:30 (CEST)",
        {"name": "night", "cron": "30 2 * * 0", "window": {"duration_minutes": 120}},
        None,
        "2026-10-24T00:00:00+00:00",
        "2026-10-26T00:00:00+00:00",
        [("2026-10-25T02:30:00+02:00", "2026-10-25T03:30:00+01:00", 120, "run", "occurs twice")],
    ),
    (
        "22:00-04:00 window over the autumn fall-back hour lasts 7 real hours",
        {"name": "patch", "cron": "0 22 * * 6", "window": {"end": "04:00", "min_run_minutes": 90}},
        None,
        "2026-10-24T00:00:00+00:00",
        "2026-10-26T00:00:00+00:00",
        [("2026-10-24T22:00:00+02:00", "2026-10-25T04:00:00+01:00", 420, "run", "")],
    ),
    (
        "22:00-04:00 window over the spring-forward hour lasts 5 real hours",
        {"name": "patch", "cron": "0 22 * * 6", "window": {"end": "04:00", "min_run_minutes": 90}},
        None,
        "2026-03-28T00:00:00+00:00",
        "2026-03-29T00:00:00+00:00",
        [("2026-03-28T22:00:00+01:00", "2026-03-29T04:00:00+02:00", 300, "run", "")],
    ),
    (
        "a 180-minute window from 01:00 on the fall-back night ends at 03:00 CET",
        {"name": "early", "cron": "0 1 25 10 *", "window": {"duration_minutes": 180}},
        None,
        "2026-10-24T00:00:00+00:00",
        "2026-10-26T00:00:00+00:00",
        [("2026-10-25T01:00:00+02:00", "2026-10-25T03:00:00+01:00", 180, "run", "")],
    ),
    (
        "a window crossing midnight",
        {"name": "late", "cron": "30 23 * * 2", "window": {"duration_minutes": 90}},
        None,
        "2026-02-09T00:00:00+00:00",
        "2026-02-12T00:00:00+00:00",
        [("2026-02-10T23:30:00+01:00", "2026-02-11T01:00:00+01:00", 90, "run", "")],
    ),
    (
        "Sant Joan (24 June, a Wednesday) skipped",
        {"name": "wed", "cron": "0 22 * * 3", "window": {"duration_minutes": 120}},
        {**CATALONIA, "on_holiday": "skip"},
        "2026-06-23T00:00:00+00:00",
        "2026-07-02T00:00:00+00:00",
        [
            (
                "2026-06-24T22:00:00+02:00",
                "2026-06-25T00:00:00+02:00",
                120,
                "skipped",
                "Saint John the Baptist",
            ),
            ("2026-07-01T22:00:00+02:00", "2026-07-02T00:00:00+02:00", 120, "run", ""),
        ],
    ),
    (
        "Sant Joan moved to the next day",
        {"name": "wed", "cron": "0 22 * * 3", "window": {"duration_minutes": 120}},
        {**CATALONIA, "on_holiday": "next_day"},
        "2026-06-23T00:00:00+00:00",
        "2026-06-30T00:00:00+00:00",
        [("2026-06-25T22:00:00+02:00", "2026-06-26T00:00:00+02:00", 120, "moved", "moved to 2026-06-25")],
    ),
    (
        "La Diada (11 September, a Friday) moved by the schedule's own on_holiday over a skip default",
        {"name": "fri", "cron": "0 21 * * 5", "window": {"duration_minutes": 180}, "on_holiday": "next_day"},
        {**CATALONIA, "on_holiday": "skip"},
        "2026-09-10T00:00:00+00:00",
        "2026-09-13T00:00:00+00:00",
        [
            (
                "2026-09-12T21:00:00+02:00",
                "2026-09-13T00:00:00+02:00",
                180,
                "moved",
                "National Day of Catalonia",
            )
        ],
    ),
    (
        "La Diada skipped; a move also jumps over an explicit blackout date",
        {"name": "thu", "cron": "0 21 10 9 *", "window": {"duration_minutes": 60}},
        {**CATALONIA, "dates": ["2026-09-10"], "on_holiday": "next_day"},
        "2026-09-09T00:00:00+00:00",
        "2026-09-13T00:00:00+00:00",
        [("2026-09-12T21:00:00+02:00", "2026-09-12T22:00:00+02:00", 60, "moved", "blackout date 2026-09-10")],
    ),
]


@pytest.mark.parametrize(
    ("name", "schedule", "blackout", "since", "until", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_occurrences(
    name: str,
    schedule: dict[str, Any],
    blackout: dict[str, Any] | None,
    since: str,
    until: str,
    expected: list[tuple[str, str, int, str, str]],
) -> None:
    found = occurrences("acme", settings(schedule, blackout=blackout), utc(since), utc(until))
    got = [(o.local_start.isoformat(), o.local_end.isoformat(), o.minutes, o.plan.value) for o in found]
    assert got == [e[:4] for e in expected]
    for occurrence, (*_, note) in zip(found, expected, strict=True):
        assert occurrence.id == f"acme/{schedule['name']}/{occurrence.start:%Y-%m-%dT%H:%MZ}"
        if note:
            assert any(note in n for n in occurrence.notes), occurrence.notes
        else:
            assert occurrence.notes == ()


def test_moved_onto_an_existing_occurrence_stays_listed_as_skipped() -> None:
    daily = {"name": "daily", "cron": "0 9 * * *", "window": {"duration_minutes": 60}}
    found = occurrences(
        "acme",
        settings(daily, blackout={**CATALONIA, "on_holiday": "next_day"}),
        utc("2026-06-23T00:00:00+00:00"),
        utc("2026-06-26T00:00:00+00:00"),
    )
    assert [(o.local_start.date().isoformat(), o.plan) for o in found] == [
        ("2026-06-23", Plan.RUN),
        ("2026-06-24", Plan.SKIPPED),
        ("2026-06-25", Plan.RUN),
    ]
    assert "already has an occurrence" in found[1].notes[-1]


def test_next_occurrences_counts_runs_and_keeps_skips_between() -> None:
    wed = {"name": "wed", "cron": "0 22 * * 3", "window": {"duration_minutes": 120}}
    found = next_occurrences(
        "acme",
        settings(wed, blackout={**CATALONIA, "on_holiday": "skip"}),
        utc("2026-06-20T00:00:00+00:00"),
        2,
    )
    assert [(o.local_start.date().isoformat(), o.plan.value) for o in found] == [
        ("2026-06-24", "skipped"),
        ("2026-07-01", "run"),
        ("2026-07-08", "run"),
    ]


def test_an_open_window_is_listed_as_next() -> None:
    late = {"name": "late", "cron": "30 23 * * *", "window": {"duration_minutes": 90}}
    found = next_occurrences("acme", settings(late), utc("2026-02-11T00:30:00+01:00"), 1)
    assert [o.local_start.isoformat() for o in found] == ["2026-02-10T23:30:00+01:00"]


def test_schedule_cli_json_local_and_utc(make_client: MakeClient) -> None:
    data = copy.deepcopy(BASE_SETTINGS)
    data["schedules"] = [{"name": "wed", "cron": "0 22 * * 3", "roles": ROLE, "window": {"end": "01:00"}}]
    data["blackout"] = {**CATALONIA, "on_holiday": "skip"}
    make_client("acme", settings=data)
    result = CliRunner().invoke(
        app,
        ["schedule", "acme", "--next", "1", "--now", "2026-06-22T12:00:00Z", "--json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["start_local"], r["end_utc"], r["plan"]) for r in rows] == [
        ("2026-06-24T22:00:00+02:00", "2026-06-24T23:00:00+00:00", "skipped"),
        ("2026-07-01T22:00:00+02:00", "2026-07-01T23:00:00+00:00", "run"),
    ]
    assert rows[0]["notes"] == ["skipped: public holiday (ES-CT) 2026-06-24: Saint John the Baptist"]
    table = CliRunner().invoke(
        app, ["schedule", "acme", "--now", "2026-06-22T12:00:00Z"], catch_exceptions=False
    )
    assert "skipped" in table.output and "CEST" in table.output
    bad = CliRunner().invoke(app, ["schedule", "acme", "--now", "yesterday"], catch_exceptions=False)
    assert bad.exit_code == 2 and "ISO-8601" in bad.output


INVALID = [
    (
        {
            "schedules": [
                {"name": "m", "cron": "0 0 31 2 *", "roles": ROLE, "window": {"duration_minutes": 60}}
            ]
        },
        "maintenance.schedules[0].cron",
        "never fires (no occurrence within 5 years)",
    ),
    (
        {
            "schedules": [
                {
                    "name": "m",
                    "cron": "0 22 * * 6",
                    "roles": ROLE,
                    "window": {"duration_minutes": 60, "min_run_minutes": 90},
                }
            ]
        },
        "maintenance.schedules[0].window",
        "window of 60 min is shorter than its min_run_minutes (90)",
    ),
    (
        {
            "schedules": [
                {
                    "name": "m",
                    "cron": "30 23 * * 6",
                    "roles": ROLE,
                    "window": {"end": "00:15", "min_run_minutes": 60},
                }
            ]
        },
        "maintenance.schedules[0]",
        "leaves 45 min after a start",
    ),
    ({"timezone": "Europe/Madird"}, "maintenance.timezone", "unknown IANA time zone 'Europe/Madird'"),
    (
        {"blackout": {"holidays": {"country": "XX"}}},
        "maintenance.blackout.holidays",
        "no public-holiday calendar",
    ),
    (
        {"blackout": {"holidays": {"country": "ES", "subdivision": "XY"}}},
        "maintenance.blackout.holidays",
        "unknown subdivision 'XY' of ES",
    ),
    ({"blackout": {"on_holiday": "later"}}, "maintenance.blackout.on_holiday", "should match pattern"),
]


@pytest.mark.parametrize(("change", "key", "expected"), INVALID)
def test_validation_names_the_key(
    make_client: MakeClient, change: dict[str, Any], key: str, expected: str
) -> None:
    data = {**copy.deepcopy(BASE_SETTINGS), **change}
    make_client("acme", settings=data)
    client, problems = validate_client("acme")
    assert client is None
    assert any(p.key == key and expected in p.message for p in problems), problems


def test_shipped_clients_have_valid_realistic_schedules() -> None:
    for name in ("demo", "example-acme"):
        client, problems = validate_client(name)
        assert problems == [] and client is not None
        assert client.settings.schedules and client.settings.blackout.holidays is not None


# -- untrusted --now and one bad client among good ones ---------------------------------------------

BROKEN_BLACKOUT = """\
maintenance:
  display_name: Broken
  timezone: Europe/Madrid
  contacts: [{name: Tech, email: tech@example.com}]
  roles: {linux_health: [linux]}
  schedules:
    - {name: nightly, cron: "0 22 * * *", roles: [linux_health], window: {duration_minutes: 120}}
  blackout:
    dates: [2026-02-30]
"""


@pytest.mark.parametrize("command", [["schedule"], ["due", "--dry-run"]])
@pytest.mark.parametrize(
    "now",
    [
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T23:59:59-05:00",
        "garbage",
        "2026-13-01T00:00:00Z",
        "2026-06-20T00:00:00",
    ],
)
def test_now_at_the_edges_of_the_calendar_is_one_line_and_exit_2(
    make_client: MakeClient, command: list[str], now: str
) -> None:
    data = copy.deepcopy(BASE_SETTINGS)
    data["schedules"] = [
        {"name": "n", "cron": "0 22 * * *", "roles": ROLE, "window": {"duration_minutes": 60}}
    ]
    make_client("acme", settings=data)
    result = CliRunner().invoke(app, [*command, "--now", now])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "--now" in lines[0], result.output


@pytest.mark.parametrize("now", ["1971-01-01T00:00:00Z", "8999-12-31T23:00:00Z"])
def test_now_far_but_inside_the_range_gives_an_answer(make_client: MakeClient, now: str) -> None:
    data = copy.deepcopy(BASE_SETTINGS)
    data["schedules"] = [
        {"name": "n", "cron": "0 22 * * *", "roles": ROLE, "window": {"duration_minutes": 60}}
    ]
    make_client("acme", settings=data)
    result = CliRunner().invoke(app, ["schedule", "--json", "-n", "1", "--now", now], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert [o["schedule"] for o in json.loads(result.output)] == ["n"]


@pytest.mark.parametrize("command", [["schedule", "--json"], ["due", "--dry-run", "--json"]])
def test_one_clients_bad_inventory_does_not_stop_the_others(
    make_client: MakeClient, command: list[str]
) -> None:
    data = copy.deepcopy(BASE_SETTINGS)
    data["schedules"] = [
        {"name": "nightly", "cron": "0 22 * * *", "roles": ROLE, "window": {"duration_minutes": 120}}
    ]
    make_client("acme", settings=data)
    make_client("broken", raw_settings=BROKEN_BLACKOUT)
    make_client("zeta", settings=data)
    result = CliRunner().invoke(app, [*command, "--now", "2026-06-10T22:05:00+02:00"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    # the bad client is named with its problem (validation names the date; without it, the error)
    broken = [line for line in result.output.splitlines() if "broken" in line]
    assert broken, result.output
    assert "2026-02-30" in result.output or "day is out of range for month" in result.output
    assert "acme/nightly/2026-06-10T20:00Z" in result.output
    assert "zeta/nightly/2026-06-10T20:00Z" in result.output
