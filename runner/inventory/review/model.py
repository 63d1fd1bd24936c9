"""The review's report model: findings, per-client changes and the whole review (plain dataclasses)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from runner.redact import MASK


class ReviewError(Exception):
    """The review cannot run (not a Git repository, unknown revision, unreadable object)."""


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class ReviewFinding:
    level: Level
    code: str
    client: str
    where: str
    message: str


@dataclass
class HostChange:
    host: str
    change: str  # added / removed / moved
    groups_before: list[str] = field(default_factory=list)
    groups_after: list[str] = field(default_factory=list)


@dataclass
class RoleChange:
    host: str
    gained: list[str]
    lost: list[str]


@dataclass
class VarChange:
    scope: str  # "group linux", "host web01", "settings"
    key: str
    change: str  # added / removed / changed / moved
    old: str | None = None
    new: str | None = None
    moved_from: str | None = None


@dataclass
class ScheduleChange:
    name: str
    change: str  # added / removed / changed
    before: str | None
    after: str | None
    next_before: list[str]
    next_after: list[str]


@dataclass
class ThresholdChange:
    role: str
    name: str
    old: str
    new: str
    change: str  # loosened / tightened / changed


@dataclass
class WaiverChange:
    control: str
    hosts: str
    change: str  # added / removed / extended / shortened / changed
    owner: str
    expires_before: str | None
    expires_after: str | None


@dataclass
class ClientReview:
    name: str
    change: str  # added / removed / modified / renamed
    renamed_from: str | None = None
    similarity: float | None = None
    hosts: list[HostChange] = field(default_factory=list)
    roles: list[RoleChange] = field(default_factory=list)
    variables: list[VarChange] = field(default_factory=list)
    schedules: list[ScheduleChange] = field(default_factory=list)
    windows: list[VarChange] = field(default_factory=list)
    thresholds: list[ThresholdChange] = field(default_factory=list)
    waivers: list[WaiverChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Review:
    repository: str
    path: str
    base: str
    base_label: str
    head: str | None
    head_label: str
    clients_total: int
    clients: list[ClientReview]
    findings: list[ReviewFinding]
    notes: list[str] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set, repr=False)  # plaintext secrets: scrubbed, never output

    @property
    def errors(self) -> list[ReviewFinding]:
        return [f for f in self.findings if f.level is Level.ERROR]

    @property
    def warnings(self) -> list[ReviewFinding]:
        return [f for f in self.findings if f.level is Level.WARNING]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("secrets")
        data["summary"] = {
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "clients_changed": len(self.clients),
        }
        return data

    def scrub(self, text: str) -> str:
        """Replace every plaintext secret found by :data:`MASK` (the last line of defence)."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text
