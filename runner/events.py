"""Turn ansible-runner job events into check results.

One function serves both the live ``event_handler`` of a run and ``maint ledger ingest``
of a job's artifacts, so the rows (and their keys) are the same either way and ingesting
again adds nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from runner import evaluators
from runner.ledger.models import RunStatus
from runner.redact import redact
from runner.results import CheckResult, Control, Domain, Finding, Severity, Status

log = logging.getLogger(__name__)

RESULTS_KEY = "maint_results"
#: a task result's asset facts: ``{"platform": ..., "facts": {...}}`` (runner.assets.facts)
ASSETS_KEY = "maint_assets"
#: the reasons (``evidence.reason``) of rows standing for a host or device that was not reached, or whose
#: role broke or never reported: rows made here, and a network device's fetch that failed
LOST_REASONS = (
    "host unreachable",
    "task failed",
    "fetch failed",
    "run interrupted",
    "the job could not run",
    "no result recorded",
    "the runner stopped",
)


@dataclass(frozen=True)
class RunContext:
    """What every row of one run shares, and what the run was meant to cover."""

    run_id: str
    client: str
    ticket: str | None
    plan: Mapping[str, Sequence[str]]  # role -> hosts
    #: host -> its network platform (``network_config_platform``), for padding only what applies to it
    platforms: Mapping[str, str | None] = field(default_factory=dict)

    def roles_for(self, host: str) -> list[str]:
        return [role for role, hosts in self.plan.items() if host in hosts]


@dataclass
class EventOutcome:
    """What one event contributes: keyed results, and hosts that were lost with why."""

    results: list[tuple[str, CheckResult]] = field(default_factory=list)
    lost_host: str | None = None
    lost_reason: str | None = None
    assets: list[AssetObservation] = field(default_factory=list)


@dataclass(frozen=True)
class AssetObservation:
    """A host's asset facts as one task reported them (stored by :func:`runner.assets.store.record`)."""

    host: str
    platform: str
    facts: Mapping[str, Any]
    role: str
    observed_at: datetime


def _created(event: Mapping[str, Any]) -> datetime:
    raw = event.get("created")
    if isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            value = datetime.now(UTC)
    else:
        value = datetime.now(UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _message(res: Mapping[str, Any]) -> str:
    msg = res.get("msg") or res.get("stderr") or res.get("module_stderr") or res.get("reason") or ""
    text = str(msg).strip()
    return text[:500] if text else "no reason given by Ansible"


def _role_of(event_data: Mapping[str, Any]) -> str:
    role = event_data.get("role") or ""
    return str(role).split(".")[-1] if role else ""


def padding_controls(role: str, platform: str | None) -> list[Control]:
    """The controls of ``role`` that apply to a host of ``platform`` (catalogue order)."""
    from runner import catalogue

    try:
        cat = catalogue.load()
    except catalogue.CatalogueError:
        cat = None
    if cat is not None and role in cat.roles:
        return [spec.as_control() for spec in cat.for_role(role) if spec.applies_to(platform)]
    return evaluators.controls_for_role(role)


def control_rows(
    ctx: RunContext,
    host: str,
    role: str,
    status: Status,
    reason: str,
    key_prefix: str,
    observed_at: datetime,
    extra: Mapping[str, Any] | None = None,
) -> list[tuple[str, CheckResult]]:
    """One row per control of ``role`` that applies to ``host``: how a lost host stays visible.

    Only the controls that apply to the host's platform (a Cisco switch is padded with the Cisco rules,
    never with the other platforms'); a role the catalogue does not know falls back on what its
    evaluators can emit.
    """
    controls = padding_controls(role, ctx.platforms.get(host))
    if not controls:
        controls = [
            Control(
                control="MAINT-ROLE-01",
                title=f"Role {role} completed",
                domain=Domain.INVENTORY,
                severity=Severity.HIGH,
                remediation="Look at the run's artifacts for why the role could not finish.",
            )
        ]
    rows = []
    for control in controls:
        finding = control.finding(status, evidence={"reason": reason, **(extra or {})})
        result = CheckResult.from_finding(
            finding,
            host=host,
            client=ctx.client,
            run_id=ctx.run_id,
            role=role,
            ticket=ctx.ticket,
            observed_at=observed_at,
        )
        rows.append((f"{key_prefix}:{host}:{role}:{control.control}", result))
    return rows


def from_event(ctx: RunContext, event: Mapping[str, Any]) -> EventOutcome:
    """Check results carried by one ansible-runner event (``maint_results``, unreachable, failed)."""
    kind = event.get("event")
    data = event.get("event_data") or {}
    host = str(data.get("host") or "")
    outcome = EventOutcome()
    if kind not in ("runner_on_ok", "runner_on_unreachable", "runner_on_failed") or not host:
        return outcome
    res = data.get("res") or {}
    observed = _created(event)
    role = _role_of(data)
    uuid = str(event.get("uuid") or f"{data.get('task_uuid', '')}:{host}")

    if kind == "runner_on_ok":
        raw_assets = res.get(ASSETS_KEY)
        if isinstance(raw_assets, Mapping) and isinstance(raw_assets.get("facts"), Mapping):
            outcome.assets.append(
                AssetObservation(
                    host=str(raw_assets.get("host") or host),
                    platform=str(raw_assets.get("platform") or ""),
                    facts=raw_assets["facts"],
                    role=role,
                    observed_at=observed,
                )
            )
        raw_results = res.get(RESULTS_KEY)
        if not isinstance(raw_results, list):
            return outcome
        for index, raw in enumerate(raw_results):
            try:
                item = dict(raw)
                item_host = str(item.pop("host", host) or host)
                item_role = str(item.pop("role", "") or role)
                finding = Finding.model_validate({**item, "evidence": redact(item.get("evidence") or {})})
            except (TypeError, ValueError, ValidationError) as exc:
                log.warning("run %s: ignoring malformed check result from %s: %s", ctx.run_id, host, exc)
                continue
            outcome.results.append(
                (
                    f"{uuid}:{index}",
                    CheckResult.from_finding(
                        finding,
                        host=item_host,
                        client=ctx.client,
                        run_id=ctx.run_id,
                        role=item_role,
                        ticket=ctx.ticket,
                        observed_at=observed,
                    ),
                )
            )
        return outcome

    if kind == "runner_on_unreachable":
        reason = f"host unreachable: {_message(res)}"
        outcome.lost_host, outcome.lost_reason = host, reason
        for r in [role] if role else ctx.roles_for(host):
            outcome.results += control_rows(ctx, host, r, Status.NOT_CHECKED, reason, "unreachable", observed)
        return outcome

    # runner_on_failed: an ignored failure is the role's business; a real one ends the host's play
    if data.get("ignore_errors"):
        return outcome
    task = str(data.get("task") or "")
    reason = f"task failed: {task}: {_message(res)}" if task else f"task failed: {_message(res)}"
    outcome.lost_host, outcome.lost_reason = host, reason
    for r in [role] if role else ctx.roles_for(host):
        outcome.results += control_rows(
            ctx, host, r, Status.ERROR, reason, f"failed:{uuid}", observed, extra={"task": task}
        )
    return outcome


#: the field the controller adds to each event of a site's job: which attempt of the job it came from
#: (:data:`runner.dispatch.ATTEMPT_FIELD`); a local job's events have none (attempt 1)
ATTEMPT_FIELD = "maint_attempt"


def event_attempt(event: Mapping[str, Any]) -> int:
    """The attempt of the job an event came from (1 for a local job's events)."""
    value = event.get(ATTEMPT_FIELD)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


class AttemptFilter:
    """One result per check when a site's job ran more than once (its worker died; another took it over).

    The second attempt runs the whole job again: a check the first attempt already recorded keeps that
    row, and the later attempt's rows of it are dropped (counted in ``repeated``); the checks the first
    attempt never reached come from the later one. The live recorder sees attempts in order; ingest sorts
    events by attempt first, so both keep the same rows. Thread-safe (a run's sites record in parallel).
    """

    def __init__(self) -> None:
        import threading

        self._first: dict[tuple[str, str, str], int] = {}
        self._lock = threading.Lock()
        self.repeated = 0

    def keep(self, rows: Sequence[tuple[str, CheckResult]], attempt: int) -> list[tuple[str, CheckResult]]:
        kept: list[tuple[str, CheckResult]] = []
        with self._lock:
            for key, row in rows:
                first = self._first.setdefault((row.host, row.role, row.control), attempt)
                if first == attempt:
                    kept.append((key, row))
                else:
                    self.repeated += 1
        return kept


def missing_rows(
    ctx: RunContext,
    seen: Mapping[tuple[str, str], set[str]],
    lost: Mapping[str, str],
    default_reason: str,
) -> list[tuple[str, CheckResult]]:
    """``not_checked`` rows for every planned (host, role) that reported nothing at all.

    A role that reported for a host has judged what applies to it (a Cisco switch is not
    judged by the FortiOS rules, a host without Veeam reports Veeam as not_checked itself);
    a role that never reported is shown with one row per control it could have emitted.
    ``seen`` maps (host, role) to the controls recorded for it; ``lost`` maps hosts to why
    they dropped out of the play.
    """
    rows: list[tuple[str, CheckResult]] = []
    now = datetime.now(UTC)
    for role, hosts in ctx.plan.items():
        for host in hosts:
            if seen.get((host, role)):
                continue
            reason = lost.get(host, default_reason)
            rows += control_rows(ctx, host, role, Status.NOT_CHECKED, reason, "missing", now)
    return rows


def status_counts(results: Iterable[CheckResult]) -> dict[str, int]:
    """How many results of each status (every status present, zeros included)."""
    counts = {s.value: 0 for s in Status}
    for result in results:
        counts[result.status.value] += 1
    return counts


def lost(row: CheckResult) -> bool:
    """The row says its host or device was lost (unreachable, a task failed on it, the play ended early:
    :data:`LOST_REASONS`), not that the host was checked."""
    reason = row.evidence.get("reason") if isinstance(row.evidence, dict) else None
    return (
        row.status in (Status.NOT_CHECKED, Status.ERROR)
        and isinstance(reason, str)
        and reason.startswith(LOST_REASONS)
    )


def run_outcome(
    plan: Mapping[str, Sequence[str]], results: Iterable[CheckResult], *, interrupted: bool = False
) -> tuple[RunStatus, list[str]]:
    """The run's truthful outcome and the planned hosts not (fully) reached.

    A planned (host, role) is done when the role reported for the host and none of its rows says
    the host or device was lost (:data:`LOST_REASONS`). ``successful``: every one is done;
    ``partial``: some are; ``failed``: none is; ``interrupted`` wins over all three.
    """
    rows: dict[tuple[str, str], list[CheckResult]] = {}
    for row in results:
        rows.setdefault((row.host, row.role), []).append(row)
    done: set[tuple[str, str]] = set()
    not_reached: set[str] = set()
    for role, hosts in plan.items():
        for host in hosts:
            pair = rows.get((host, role), [])
            if pair and not any(lost(row) for row in pair):
                done.add((host, role))
            else:
                not_reached.add(host)
    if interrupted:
        status = RunStatus.INTERRUPTED
    elif not done:
        status = RunStatus.FAILED
    elif not_reached:
        status = RunStatus.PARTIAL
    else:
        status = RunStatus.SUCCESSFUL
    return status, sorted(not_reached)
