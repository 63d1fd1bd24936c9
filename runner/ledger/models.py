"""What the ledger stores about runs, as passed in and as read back."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

MODES = frozenset({"audit", "remediate"})
TRIGGERS = frozenset({"manual", "schedule", "demo"})


class RunStatus(StrEnum):
    """A run's latest event: ``running``, then its outcome.

    - ``successful``: every planned host (device) was reached and every role reported for it;
    - ``partial``: some were, some were not (unreachable, a fetch that failed, a role that broke);
    - ``failed``: none was, or the job could not run at all;
    - ``interrupted``: stopped (SIGINT/SIGTERM) or killed, and closed by ``maint ledger ingest``;
    - ``error``: results could not all be recorded (ingest the run's artifacts to add them).

    ``abandoned`` is never stored: it is how a ``running`` run whose process and lock are gone is
    shown (:func:`runner.ingest.effective_status`) until it is ingested. Runs recorded before
    outcomes existed keep ``failed`` for "Ansible reported a failure".
    """

    RUNNING = "running"
    SUCCESSFUL = "successful"
    PARTIAL = "partial"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    ERROR = "error"
    ABANDONED = "abandoned"


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class RunRecord(BaseModel):
    """One run of a client's job, as it starts (the row is never updated afterwards)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str = Field(min_length=1)
    client: str = Field(min_length=1)
    mode: str  # "audit" | "remediate"
    roles: list[str]
    limit: str | None = None
    ticket: str | None = None
    reason: str | None = None
    playbook: str = ""
    artifact_dir: str = ""
    trigger: str = "manual"  # manual | schedule | demo
    requested_by: str = ""
    started_at: datetime

    @field_validator("mode")
    @classmethod
    def _mode(cls, value: str) -> str:
        if value not in MODES:
            raise ValueError(f"mode must be one of {sorted(MODES)}, got {value!r}")
        return value

    @field_validator("trigger")
    @classmethod
    def _trigger(cls, value: str) -> str:
        if value not in TRIGGERS:
            raise ValueError(f"trigger must be one of {sorted(TRIGGERS)}, got {value!r}")
        return value

    @field_validator("started_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return _as_utc(value)


class RunInfo(RunRecord):
    """A run as read back: its record plus the latest run event."""

    status: RunStatus = RunStatus.RUNNING
    finished_at: datetime | None = None
    summary: dict[str, Any] = Field(default_factory=dict)

    @field_validator("finished_at")
    @classmethod
    def _utc_finished(cls, value: datetime | None) -> datetime | None:
        return None if value is None else _as_utc(value)


class BadRow(BaseModel):
    """The first row of a client's chain that fails verification."""

    model_config = ConfigDict(frozen=True)

    table: str
    seq: int
    row_id: str | int | None
    reason: str


class CheckpointCheck(BaseModel):
    """How one checkpoint of a client's tree held against the ledger's rows."""

    model_config = ConfigDict(frozen=True)

    source: str  # "ledger" (its table), "file" (var/checkpoints) or "given" (verify --checkpoint)
    where: str  # the row id in the checkpoints table, or the file's path
    size: int | None  # None when the text was not a checkpoint
    ok: bool
    signature: str  # "verified", "unsigned", "not checked" (no public key) or "bad"
    reason: str | None = None


class VerifyReport(BaseModel):
    """One client's verification: the hash chain, the Merkle tree over its rows and its checkpoints."""

    model_config = ConfigDict(frozen=True)

    client: str
    rows: int
    ok: bool
    first_bad: BadRow | None = None
    #: the tree recomputed from the stored rows: its size and root (hex)
    tree_size: int = 0
    root_hash: str | None = None
    #: stored tree data (the head's compact range, stored subtrees) that do not match the rows
    tree_problem: str | None = None
    checkpoints: list[CheckpointCheck] = Field(default_factory=list)

    @property
    def first_bad_checkpoint(self) -> CheckpointCheck | None:
        failed = [c for c in self.checkpoints if not c.ok]
        return min(failed, key=lambda c: (c.size is None, c.size or 0)) if failed else None
