"""``maintenance.notify``: the channels a client's notifications go to and the events that send them.

Validated with the rest of the client settings (:class:`runner.inventory.schema.ClientSettings`), so a
mistake is one line naming the file and the key. Credentials are never written here in clear: an SMTP
password, a Teams URL or a bearer token comes from an environment variable (``*_env``: its NAME) or is an
inline ``!vault`` value of the inventory (decrypted at send time with ``MAINT_VAULT_PASSWORD_FILE``)::

    maintenance:
      notify:
        channels:
          - {name: ops-mail, type: email, host: smtp.example.com, port: 587, username: maint@example.com,
             password_env: MAINT_SMTP_PASSWORD, from: maint@example.com, to: [ops@example.com]}
          - {name: ops-teams, type: teams, url_env: MAINT_TEAMS_URL}
          - {name: psa, type: webhook, url: "https://psa.example.com/hooks/maint",
             header_env: MAINT_PSA_TOKEN}
        events:
          - {event: new_failure, min_severity: high}
          - missed_window
          - {event: drift, channels: [ops-teams]}
          - {event: backup_stale, backup_stale_days: 2}
          - report_ready

This module imports only pydantic (the schema imports it; ``maint inventory validate`` loads no ledger).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

NAME = r"^[a-z0-9][a-z0-9_.-]*$"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
VAULT_MARK = "$ANSIBLE_VAULT;"
#: what a notification pass may spend on one channel (all its sends together), by default
DEFAULT_BUDGET_S = 5.0
#: a fact older than this many days (its first row) when first seen is not notified (the report has it)
DEFAULT_LOOKBACK_DAYS = 7


class Event(StrEnum):
    NEW_FAILURE = "new_failure"
    MISSED_WINDOW = "missed_window"
    DRIFT = "drift"
    BACKUP_STALE = "backup_stale"
    REPORT_READY = "report_ready"


class MinSeverity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


def is_vaulted(value: object) -> bool:
    """An ansible-vault ciphertext (an inline ``!vault`` value reads as its text)."""
    return isinstance(value, str) and value.lstrip().startswith(VAULT_MARK)


def _vaulted(value: Any, key: str) -> Any:
    if value is None or is_vaulted(value):
        return value
    raise ValueError(
        f"{key} must be an inline !vault value (ansible-vault encrypt_string), never clear text; "
        f"or name an environment variable with {key}_env"
    )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _Channel(_Strict):
    name: str = Field(pattern=NAME)
    timeout_s: float = Field(default=5.0, gt=0, le=60, description="socket timeout of one send")
    ca_file: str | None = Field(default=None, min_length=1, description="CA bundle to verify TLS with")


EnvName = Annotated[str, Field(pattern=ENV_NAME)]


class EmailChannel(_Channel):
    """SMTP with STARTTLS (verified against the system CAs, or ``ca_file``)."""

    type: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    username: str | None = Field(default=None, min_length=1)
    password_env: EnvName | None = None
    password: str | None = None
    sender: EmailStr = Field(alias="from")
    to: list[EmailStr] = Field(min_length=1)

    @field_validator("password", mode="before")
    @classmethod
    def _password(cls, value: Any) -> Any:
        return _vaulted(value, "password")

    @model_validator(mode="after")
    def _credentials(self) -> EmailChannel:
        if self.password_env is not None and self.password is not None:
            raise ValueError("give one of password_env or password (a !vault value), not both")
        if self.username is not None and self.password_env is None and self.password is None:
            raise ValueError("username given without password_env or a vaulted password")
        if (self.password_env is not None or self.password is not None) and self.username is None:
            raise ValueError("a password needs its username")
        if self.username is not None and not self.starttls:
            raise ValueError("starttls: false with a username would send the password in clear")
        return self


class TeamsChannel(_Channel):
    """A Microsoft Teams incoming webhook (its URL is a credential: environment or vault only)."""

    type: Literal["teams"]
    url_env: EnvName | None = None
    url: str | None = None

    @field_validator("url", mode="before")
    @classmethod
    def _url(cls, value: Any) -> Any:
        return _vaulted(value, "url")

    @model_validator(mode="after")
    def _one_url(self) -> TeamsChannel:
        if (self.url_env is None) == (self.url is None):
            raise ValueError("give exactly one of url_env or url (a !vault value)")
        return self


class WebhookChannel(_Channel):
    """A generic JSON webhook (schema ``maint.notification/1``), optionally with a bearer token."""

    type: Literal["webhook"]
    url: str | None = None
    url_env: EnvName | None = None
    header_env: EnvName | None = Field(default=None, description="environment variable of a bearer token")

    @field_validator("url")
    @classmethod
    def _plain_url(cls, value: str | None) -> str | None:
        if value is None or is_vaulted(value):
            return value
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"expected an http(s) URL, got {value[:40]!r}")
        return value

    @model_validator(mode="after")
    def _one_url(self) -> WebhookChannel:
        if (self.url_env is None) == (self.url is None):
            raise ValueError("give exactly one of url or url_env")
        return self


Channel = Annotated[EmailChannel | TeamsChannel | WebhookChannel, Field(discriminator="type")]


class EventRule(_Strict):
    event: Event
    channels: list[str] | None = Field(default=None, description="channel names; all channels when omitted")
    min_severity: MinSeverity = Field(default=MinSeverity.HIGH, description="new_failure only")
    backup_stale_days: int = Field(default=2, ge=1, le=365, description="backup_stale only")

    @model_validator(mode="before")
    @classmethod
    def _short(cls, value: Any) -> Any:
        return {"event": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _fits(self) -> EventRule:
        given = self.model_fields_set
        if "min_severity" in given and self.event is not Event.NEW_FAILURE:
            raise ValueError("min_severity applies to the new_failure event only")
        if "backup_stale_days" in given and self.event is not Event.BACKUP_STALE:
            raise ValueError("backup_stale_days applies to the backup_stale event only")
        return self


class NotifySettings(_Strict):
    channels: list[Channel] = Field(min_length=1)
    events: list[EventRule] = Field(default_factory=list)
    lookback_days: int = Field(default=DEFAULT_LOOKBACK_DAYS, ge=1, le=366)
    budget_seconds: float = Field(default=DEFAULT_BUDGET_S, gt=0, le=60)

    @model_validator(mode="after")
    def _names(self) -> NotifySettings:
        names = [c.name for c in self.channels]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"channel names must be unique: {', '.join(dupes)}")
        events = [r.event.value for r in self.events]
        twice = sorted({e for e in events if events.count(e) > 1})
        if twice:
            raise ValueError(f"events listed twice: {', '.join(twice)}")
        for rule in self.events:
            unknown = [n for n in rule.channels or () if n not in names]
            if unknown:
                raise ValueError(
                    f"event {rule.event.value} names unknown channel(s) {', '.join(unknown)} "
                    f"(channels: {', '.join(names)})"
                )
        return self

    def channel(self, name: str) -> EmailChannel | TeamsChannel | WebhookChannel | None:
        return next((c for c in self.channels if c.name == name), None)

    def rule(self, event: Event) -> EventRule | None:
        return next((r for r in self.events if r.event is event), None)

    def channels_for(self, event: Event) -> list[str]:
        rule = self.rule(event)
        if rule is None:
            return []
        return list(rule.channels) if rule.channels is not None else [c.name for c in self.channels]
