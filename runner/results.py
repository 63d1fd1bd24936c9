"""The check result: the contract between every part of the project (see DESIGN.md).

Evaluators return :class:`Finding` objects (what was judged); the runner adds where and
when (host, client, run, time, role, ticket) to make a :class:`CheckResult`, the row the
ledger stores and every report reads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    WARN = "warn"
    NOT_CHECKED = "not_checked"
    ERROR = "error"
    #: the control does not apply by design (OpenSCAP's ``notapplicable``): e.g. "the patch run installed the
    #: selected updates" in audit mode. Never counted as not passing, never in an exit code.
    NOT_APPLICABLE = "not_applicable"

    @property
    def ok(self) -> bool:
        return self is Status.PASS

    @property
    def conclusive(self) -> bool:
        """A judgement of the control (pass, fail, warn, not_applicable), not a failure to judge it."""
        return self not in (Status.NOT_CHECKED, Status.ERROR)


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


class Domain(StrEnum):
    PATCHING = "patching"
    ANTIVIRUS = "antivirus"
    BACKUP = "backup"
    HEALTH = "health"
    NETWORK = "network"
    SECURITY = "security"
    INVENTORY = "inventory"


class Control(BaseModel):
    """A control's stable identity: what is checked, whatever the outcome."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    control: str = Field(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
    title: str
    domain: Domain
    severity: Severity
    remediation: str = ""

    def finding(
        self,
        status: Status,
        evidence: dict[str, Any] | None = None,
        remediation: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """A judgement of this control."""
        return Finding(
            control=self.control,
            title=self.title,
            domain=self.domain,
            status=status,
            severity=severity or self.severity,
            evidence=evidence or {},
            remediation=self.remediation if remediation is None else remediation,
        )


class Finding(BaseModel):
    """What an evaluator judged about one control on one host."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    control: str = Field(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
    title: str
    domain: Domain
    status: Status
    severity: Severity
    evidence: dict[str, Any] = Field(default_factory=dict)
    remediation: str = ""


def utcnow() -> datetime:
    return datetime.now(UTC)


class CheckResult(Finding):
    """A finding with where and when: one row of the compliance ledger."""

    host: str
    client: str
    run_id: str
    observed_at: datetime = Field(default_factory=utcnow)
    role: str = ""
    ticket: str | None = None

    @field_validator("observed_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @classmethod
    def from_finding(
        cls,
        finding: Finding,
        *,
        host: str,
        client: str,
        run_id: str,
        role: str = "",
        ticket: str | None = None,
        observed_at: datetime | None = None,
    ) -> CheckResult:
        return cls(
            **finding.model_dump(),
            host=host,
            client=client,
            run_id=run_id,
            role=role,
            ticket=ticket,
            observed_at=observed_at or utcnow(),
        )
