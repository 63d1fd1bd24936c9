"""The client settings schema: ``inventories/<client>/group_vars/all/maintenance.yml``.

The file holds one top-level variable, ``maintenance``, so the same settings are visible to
the runner (validated here) and to the roles (as an ordinary inventory variable).
"""

from __future__ import annotations

import functools
import importlib.util
import re
import sys
from datetime import date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays
from croniter import CroniterBadDateError, croniter
from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from runner.modes import Mode as Mode  # re-exported: runner.inventory.Mode
from runner.notify.settings import NotifySettings  # pydantic only (maintenance.notify)

CONTROL_ID = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$"
NAME = r"^[a-z0-9][a-z0-9_.-]*$"
#: a site's name (``maintenance.site``, the ``maint_site`` host variable): one token of the NATS subjects,
#: streams and nkey files of the site's worker (runner.sites, runner.natsconf)
SITE_NAME = r"[a-z0-9_-]{1,32}"
#: not a site name: the controller itself (leave the site unset to run a host on the controller)
RESERVED_SITES = ("controller",)
#: a recurrence must fire at least once in this many years (``0 0 31 2 *`` never does)
CRON_HORIZON_YEARS = 5


class SlaTier(StrEnum):
    BASIC = "basic"
    STANDARD = "standard"
    PREMIUM = "premium"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(_Strict):
    name: str = Field(min_length=1)
    email: EmailStr | None = None
    phone: str | None = None
    role: str = "primary"


class Waiver(_Strict):
    """An accepted exception: applied when reading, so an expired one shows the failure again."""

    control: str = Field(pattern=CONTROL_ID)
    hosts: str = Field(default="*", min_length=1, description="fnmatch pattern of inventory host names")
    owner: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    expires: date | None = None


class Window(_Strict):
    """How long a schedule's window stays open after each occurrence starts.

    ``duration_minutes`` is elapsed time (UTC arithmetic); ``end`` is a local wall-clock time on
    the first day it comes after the start (so a 22:00 start with ``end: "04:00"`` crosses
    midnight, and lasts 7 h on the autumn fall-back night, 5 h on the spring-forward one).
    ``min_run_minutes``: an occurrence never starts (nor retries) with less time left than this.
    """

    duration_minutes: int | None = Field(default=None, ge=15, le=24 * 60)
    end: time | None = None
    min_run_minutes: int = Field(default=30, ge=1)

    @model_validator(mode="after")
    def _one_length(self) -> Window:
        if (self.duration_minutes is None) == (self.end is None):
            raise ValueError("give exactly one of duration_minutes or end")
        if self.duration_minutes is not None and self.duration_minutes < self.min_run_minutes:
            raise ValueError(
                f"window of {self.duration_minutes} min is shorter than its min_run_minutes "
                f"({self.min_run_minutes})"
            )
        return self


class HolidayCalendar(_Strict):
    """Public holidays of a country (ISO 3166-1 alpha-2) and optional region, from ``holidays``."""

    country: str = Field(pattern=r"^[A-Z]{2}$")
    subdivision: str | None = None

    @model_validator(mode="after")
    def _known(self) -> HolidayCalendar:
        subdivisions = _holiday_subdivisions(self.country)
        if subdivisions is None:
            raise ValueError(f"no public-holiday calendar for country {self.country!r} (holidays package)")
        if self.subdivision is not None and self.subdivision not in subdivisions:
            raise ValueError(
                f"unknown subdivision {self.subdivision!r} of {self.country}; "
                f"known: {', '.join(subdivisions) or 'none'}"
            )
        return self


@functools.cache
def _holiday_subdivisions(country: str) -> list[str] | None:
    """The subdivisions of one country the ``holidays`` package knows; None: no calendar for it.

    Loads only that country's module: ``holidays.countries`` imports all 250 of them, which cost every
    ``maint inventory validate`` most of its time (``list_supported_countries``, used before, did too).
    """
    try:
        from holidays.registry import COUNTRIES
    except ImportError:  # an older holidays without the registry: list them all (slow)
        listed = holidays.list_supported_countries()
        return list(listed[country]) if country in listed else None
    for module, (class_name, *codes) in COUNTRIES.items():
        if country in codes:
            return list(_holiday_class(module, class_name).subdivisions)
    return None


def _holiday_class(module: str, class_name: str) -> Any:
    """``holidays.countries.<module>.<class_name>``, without importing the package's other countries."""
    name = f"holidays.countries.{module}"
    loaded = sys.modules.get(name)
    if loaded is None:
        path = Path(holidays.__file__).parent / "countries" / f"{module}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None or not path.is_file():
            return getattr(holidays, class_name)
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[name] = loaded  # `import holidays.countries` later finds it and reuses the same class
        try:
            spec.loader.exec_module(loaded)
        except BaseException:
            del sys.modules[name]
            raise
    return getattr(loaded, class_name)


OnHoliday = Annotated[str, Field(pattern=r"^(skip|next_day)$")]


class Blackout(_Strict):
    """Local dates on which no occurrence starts: explicit dates and public holidays.

    ``on_holiday``: ``skip`` drops the occurrence; ``next_day`` moves it to the same local time on
    the next day that is not blacked out (a schedule may override it with its own ``on_holiday``).
    """

    dates: list[date] = Field(default_factory=list)
    holidays: HolidayCalendar | None = None
    on_holiday: OnHoliday = "skip"


ReportCadence = Literal["monthly", "none"]
ReportFormat = Literal["html", "pdf", "md", "json"]
ReportLang = Literal["en", "es", "ca"]


def _report_formats() -> list[ReportFormat]:
    return ["html", "pdf"]


class ReportSettings(_Strict):
    """The reports ``maint due`` files for a schedule with ``report: monthly`` (var/reports/<client>/)."""

    formats: list[ReportFormat] = Field(default_factory=_report_formats, min_length=1)
    lang: ReportLang = "en"


class OnboardingOwners(_Strict):
    """Who a new roadmap item is proposed to, by treatment class (runner.onboarding.roadmap)."""

    fix_now: str = Field(default="MSP", min_length=1)
    preventive_cycle: str = Field(default="MSP", min_length=1)
    separate_project: str = Field(default="client", min_length=1)


class OnboardingDueDays(_Strict):
    """Days from the plan date (client time) to a new roadmap item's target date, by treatment class."""

    fix_now: int = Field(default=7, ge=0, le=3650)
    preventive_cycle: int = Field(default=30, ge=0, le=3650)
    separate_project: int = Field(default=90, ge=0, le=3650)


class OnboardingSettings(_Strict):
    """``maintenance.onboarding``: the defaults of the onboarding roadmap's items."""

    owners: OnboardingOwners = Field(default_factory=OnboardingOwners)
    due_days: OnboardingDueDays = Field(default_factory=OnboardingDueDays)


class Schedule(_Strict):
    name: str = Field(pattern=NAME)
    cron: str = Field(description="five-field cron expression, evaluated in the client's time zone")
    roles: list[str] = Field(min_length=1)
    mode: Mode = Mode.AUDIT
    window: Window
    enabled: bool = True
    on_holiday: OnHoliday | None = Field(default=None, description="overrides blackout.on_holiday")
    report: ReportCadence = Field(
        default="none", description="monthly: `maint due` files the period's report when an occurrence ends"
    )

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        if len(value.split()) != 5 or not croniter.is_valid(value):
            raise ValueError(f"not a valid five-field cron expression: {value!r}")
        try:
            croniter(value, datetime(2000, 1, 1), max_years_between_matches=CRON_HORIZON_YEARS).get_next(
                datetime
            )
        except CroniterBadDateError:
            raise ValueError(
                f"cron expression {value!r} never fires (no occurrence within {CRON_HORIZON_YEARS} years)"
            ) from None
        return value

    @model_validator(mode="after")
    def _window_fits(self) -> Schedule:
        end = self.window.end
        if end is None:
            return self
        minutes, hours = croniter(self.cron).expanded[:2]
        end_min = end.hour * 60 + end.minute
        shortest = min(
            (end_min - (int(h) * 60 + int(m))) % (24 * 60)
            for h in (range(24) if hours == ["*"] else hours)
            for m in (range(60) if minutes == ["*"] else minutes)
        )
        if shortest < self.window.min_run_minutes:
            raise ValueError(
                f"window ending at {end.strftime('%H:%M')} leaves {shortest} min after a start at "
                f"cron {self.cron!r}: shorter than min_run_minutes ({self.window.min_run_minutes})"
            )
        return self


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
#: weekday names in ``date.weekday()`` order
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _wall_time(value: Any) -> Any:
    """A wall-clock time given as text ``"HH:MM"``: YAML reads an unquoted ``18:00`` as the number 1080."""
    if isinstance(value, time):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError(f'expected a quoted time "HH:MM" (00:00 to 23:59), got {value!r}')
    return value


class WorkingHours(_Strict):
    """The client's working hours: when the SLA clock runs (client time zone; public holidays of
    ``blackout.holidays`` are off too). ``end`` is after ``start`` on the same day."""

    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]), min_length=1)
    start: time = time(9, 0)
    end: time = time(18, 0)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _times(cls, value: Any) -> Any:
        return _wall_time(value)

    @model_validator(mode="after")
    def _span(self) -> WorkingHours:
        if len(set(self.days)) != len(self.days):
            raise ValueError(f"days lists a day twice: {self.days}")
        if self.end <= self.start:
            raise ValueError(
                f"end {self.end.strftime('%H:%M')} must be after start {self.start.strftime('%H:%M')}"
            )
        return self


#: working hours the client may wait for the MSP's first response, per SLA tier
DEFAULT_RESPONSE_HOURS: dict[SlaTier, float] = {
    SlaTier.PREMIUM: 4.0,
    SlaTier.STANDARD: 8.0,
    SlaTier.BASIC: 24.0,
}


class Sla(_Strict):
    """The SLA's response targets in working hours; a tier left out keeps its default."""

    response_hours: dict[SlaTier, Annotated[float, Field(gt=0, le=10000)]] = Field(
        default_factory=lambda: dict(DEFAULT_RESPONSE_HOURS)
    )

    @field_validator("response_hours")
    @classmethod
    def _defaults(cls, value: dict[SlaTier, float]) -> dict[SlaTier, float]:
        return {**DEFAULT_RESPONSE_HOURS, **value}


class ClientSettings(_Strict):
    """Everything the runner needs to know about one client besides its hosts."""

    display_name: str = Field(min_length=1)
    timezone: str
    sla_tier: SlaTier = SlaTier.STANDARD
    contacts: list[Contact] = Field(min_length=1)
    modes_allowed: list[Mode] = Field(default_factory=lambda: [Mode.AUDIT])
    roles: dict[str, list[str]] = Field(
        min_length=1, description="role name -> inventory groups (or host patterns) it runs on"
    )
    thresholds: dict[str, dict[str, Annotated[Any, Field()]]] = Field(default_factory=dict)
    waivers: list[Waiver] = Field(default_factory=list)
    schedules: list[Schedule] = Field(default_factory=list)
    blackout: Blackout = Field(default_factory=Blackout)
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    sla: Sla = Field(default_factory=Sla)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    notify: NotifySettings | None = Field(default=None, description="channels and events of notifications")
    onboarding: OnboardingSettings = Field(
        default_factory=OnboardingSettings, description="owners and target dates of new roadmap items"
    )
    accelerate: StrictBool = Field(
        default=False,
        description="run this client's jobs under mitogen's strategy (runner/accelerate.py) where it can run",
    )
    site: str | None = Field(
        default=None,
        description="the site whose worker runs the client's hosts (a maint_site host or group variable "
        "wins); unset: the controller runs them",
    )

    @field_validator("site")
    @classmethod
    def _site(cls, value: str | None) -> str | None:
        why = site_name_problem(value) if value is not None else None
        if why is not None:
            raise ValueError(why)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            close = [z for z in available_timezones() if z.lower().endswith(value.lower().split("/")[-1])]
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ValueError(f"unknown IANA time zone {value!r}{hint}") from None
        return value

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, value: dict[str, list[str]], info: ValidationInfo) -> dict[str, list[str]]:
        known = (info.context or {}).get("known_roles")
        if known is not None:
            for role in value:
                if role not in known:
                    raise ValueError(f"unknown role {role!r}; known roles: {', '.join(sorted(known))}")
        for role, groups in value.items():
            if not groups:
                raise ValueError(f"role {role!r} lists no groups")
        return value

    @field_validator("thresholds")
    @classmethod
    def _threshold_roles(
        cls, value: dict[str, dict[str, Any]], info: ValidationInfo
    ) -> dict[str, dict[str, Any]]:
        known = (info.context or {}).get("known_roles")
        if known is not None:
            for role in value:
                if role not in known:
                    raise ValueError(f"thresholds for unknown role {role!r}")
        # every override against the catalogue: one error per key, located below thresholds.<role>
        from runner.catalogue.thresholds import locate_problems  # the YAML catalogue only, no evaluator

        errors = [
            InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=None)
            for role, overrides in value.items()
            if known is None or role in known
            for loc, message in locate_problems(role, overrides)
        ]
        if errors:
            raise ValidationError.from_exception_data("thresholds", errors)
        return value

    @model_validator(mode="after")
    def _schedules(self) -> ClientSettings:
        names = [s.name for s in self.schedules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"schedule names must be unique: {', '.join(dupes)}")
        for schedule in self.schedules:
            missing = [r for r in schedule.roles if r not in self.roles]
            if missing:
                raise ValueError(
                    f"schedule {schedule.name!r} runs roles not assigned to any group: {', '.join(missing)}"
                )
            if schedule.mode not in self.modes_allowed:
                raise ValueError(
                    f"schedule {schedule.name!r} uses mode {schedule.mode.value!r}, "
                    f"not in modes_allowed {[m.value for m in self.modes_allowed]}"
                )
        return self


def slug_ok(name: str) -> bool:
    return re.fullmatch(NAME, name) is not None


def site_name_problem(value: object) -> str | None:
    """Why ``value`` cannot name a site, or None when it can."""
    if not isinstance(value, str):
        return f"a site name is a text, got {type(value).__name__} {value!r}"[:200]
    if value in RESERVED_SITES:
        return f"{value!r} is reserved: leave the site unset (or null) to run on the controller"
    if re.fullmatch(SITE_NAME, value) is None:
        return (
            f"{value[:40]!r} is not a site name: 1 to 32 of a-z, 0-9, '_' and '-' "
            "(it becomes a token of the site worker's NATS subjects)"
        )
    return None
