"""The trend step: after a run's rows are recorded, judge capacity and error trends from the ledger's history.

For every kind of :mod:`runner.evaluators.trends` (``linux_health_trends``, ``windows_health_trends``,
``network_trends``) and every host the run planned for its role, the step reads this run's input rows
(HEALTH-LNX-01 ``volumes`` and HEALTH-LNX-08 ``error_counts``; HEALTH-WIN-01 / HEALTH-WIN-06;
HEALTH-NET-01), then the host's earlier rows of those controls (observed no later than this run's, within
``trend_window_days``, at most ``trend_points``), builds the raw series the evaluator judges and returns
one row per trend control, recorded in the same run by the caller (:mod:`runner.execute` before the
not_checked padding, :mod:`runner.ingest` after the ingested rows).

- A (host, role) that reported nothing in this run is left to the padding (``missing_rows``), and a trend
  control already recorded for the host in this run (the rows of an unreachable host name every control
  of the role) is not recorded twice. A host or device whose rows say it was not reached (a failed fetch,
  :data:`runner.events.LOST_REASONS`) gets its trend rows ``not_checked`` with that same reason.
- Idempotent: the rows' keys are ``trends:<host>:<role>:<control>`` and their ``observed_at`` is the
  input row's, and the history read stops at that time, so ingesting a run again yields the same rows and
  records none.
- Thresholds: the evaluator's defaults with the client's ``maintenance.thresholds.<role>`` over them, as
  the role evaluators get them.
- Never raises: a failure to read the history or a bug in an evaluator becomes ``error`` rows of that
  kind's controls (their reason says what happened), so a run always ends with every control shown.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from runner import evaluators
from runner.ledger import Ledger
from runner.ledger.schema import check_results as cr
from runner.results import CheckResult, Finding, Status

log = logging.getLogger(__name__)

KEY_PREFIX = "trends"
#: statuses of input rows that measured something (a not_checked or error row has no series point)
_MEASURED = (Status.PASS.value, Status.WARN.value, Status.FAIL.value)
#: history rows read per (host, control) beyond the points used: rows without the evidence key are skipped
_READ_FACTOR = 4


def _iso(value: datetime) -> str:
    """The ledger's fixed-width ISO text (sorts in time order), for comparing with ``observed_at``."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default


def history(
    ledger: Ledger,
    client: str,
    host: str,
    control: str,
    *,
    until: datetime,
    days: int,
    limit: int,
) -> list[dict[str, Any]]:
    """The measured rows of (host, control) observed within ``days`` before ``until`` (included), newest
    first, at most ``limit``: ``{seq, run_id, observed_at, status, evidence}``."""
    query = (
        sa.select(cr.c.seq, cr.c.run_id, cr.c.observed_at, cr.c.status, cr.c.evidence)
        .where(
            cr.c.client == client,
            cr.c.host == host,
            cr.c.control == control,
            cr.c.observed_at <= _iso(until),
            cr.c.observed_at >= _iso(until - timedelta(days=days)),
            cr.c.status.in_(_MEASURED),
        )
        .order_by(cr.c.observed_at.desc(), cr.c.seq.desc())
        .limit(limit)
    )
    with ledger.engine.connect() as conn:
        return [
            {
                "seq": int(row.seq),
                "run_id": str(row.run_id),
                "observed_at": str(row.observed_at),
                "status": str(row.status),
                "evidence": json.loads(row.evidence),
            }
            for row in conn.execute(query)
        ]


def _series_part(
    ledger: Ledger,
    client: str,
    current: CheckResult | None,
    control: str,
    key: str,
    th: Mapping[str, Any],
) -> tuple[list[dict[str, Any]] | None, str]:
    """The observations of one input control (oldest first), or None and why there are none."""
    if not control:
        return None, ""
    if current is None:
        return None, f"no {control} row in this run"
    if current.status.value not in _MEASURED or key not in current.evidence:
        reason = current.evidence.get("reason") if isinstance(current.evidence, Mapping) else None
        why = f"{control} was {current.status.value} in this run"
        return None, why + (f": {reason}" if reason else f" (its evidence has no {key!r})")
    points = _int(th.get("trend_points"), 12)
    rows = history(
        ledger,
        client,
        current.host,
        control,
        until=current.observed_at,
        days=_int(th.get("trend_window_days"), 90),
        limit=points * _READ_FACTOR,
    )
    observations = [
        {"seq": r["seq"], "run_id": r["run_id"], "observed_at": r["observed_at"], key: r["evidence"][key]}
        for r in rows
        if isinstance(r["evidence"], Mapping) and key in r["evidence"]
    ][:points]
    observations.reverse()
    return observations, ""


def series_for(
    ledger: Ledger,
    client: str,
    host: str,
    kind: str,
    inputs: Mapping[str, CheckResult],
    thresholds: Mapping[str, Any],
) -> dict[str, Any]:
    """The raw series ``kind``'s evaluator judges for ``host`` (:mod:`runner.evaluators.trends`)."""
    from runner.evaluators.trends import INPUTS

    capacity_control, errors_control = INPUTS[kind]
    th = {**evaluators.get(kind).defaults, **thresholds}
    capacity, capacity_why = _series_part(
        ledger, client, inputs.get(capacity_control), capacity_control, "volumes", th
    )
    errors, errors_why = _series_part(
        ledger, client, inputs.get(errors_control), errors_control, "error_counts", th
    )
    raw: dict[str, Any] = {"schema": 1, "host": host, "reasons": {}}
    if capacity_control:
        raw["capacity"] = capacity
        if capacity_why:
            raw["reasons"]["capacity"] = capacity_why
    raw["errors"] = errors
    if errors_why:
        raw["reasons"]["errors"] = errors_why
    return raw


def _error_findings(kind: str, reason: str) -> list[Finding]:
    ev = evaluators.get(kind)
    return [
        control.finding(
            Status.ERROR,
            {"reason": reason},
            remediation=f"Not judged: {reason}. Run `maint ledger ingest RUN` again once it is fixed.",
        )
        for control in ev.controls
    ]


def trend_rows(
    ledger: Ledger,
    client: str,
    run_id: str,
    plan: Mapping[str, Sequence[str]],
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    ticket: str | None = None,
) -> list[tuple[str, CheckResult]]:
    """The trend rows of run ``run_id`` (not recorded: the caller records them). Never raises."""
    try:
        from runner.evaluators.trends import INPUTS, KIND_INFO

        results = ledger.results_for_run(run_id)
    except Exception as exc:  # the run goes on; its trend controls are padded as not recorded
        log.exception("run %s: the trend step could not read the run's rows", run_id)
        return _all_error_rows(
            client, run_id, plan, f"the trend step could not read the ledger: {exc}", ticket
        )
    by_host: dict[tuple[str, str], dict[str, CheckResult]] = {}
    for row in results:
        by_host.setdefault((row.host, row.role), {})[row.control] = row
    rows: list[tuple[str, CheckResult]] = []
    for kind, (role, *_controls) in KIND_INFO.items():
        thresholds = dict((overrides or {}).get(role) or {})
        for host in plan.get(role, ()):
            recorded = by_host.get((host, role))
            if not recorded:
                continue  # the role reported nothing for the host: missing_rows pads it
            try:
                controls = [c.control for c in evaluators.get(kind).controls]
            except Exception:  # no control to name an error row after: nothing can be recorded
                log.exception("run %s: trend kind %s is not registered", run_id, kind)
                continue
            todo = [c for c in controls if c not in recorded]
            if not todo:
                continue
            inputs = {c: recorded[c] for c in INPUTS[kind] if c and c in recorded}
            observed = max((r.observed_at for r in inputs.values()), default=None) or max(
                r.observed_at for r in recorded.values()
            )
            lost = _lost_reason(recorded.values())
            if lost is not None:  # the host or device was not reached: its trends say so, as the padding does
                findings = [
                    c.finding(Status.NOT_CHECKED, {"reason": lost}) for c in evaluators.get(kind).controls
                ]
                rows += _rows(
                    kind,
                    [f for f in findings if f.control in todo],
                    client,
                    run_id,
                    host,
                    role,
                    ticket,
                    observed,
                )
                continue
            try:
                raw = series_for(ledger, client, host, kind, inputs, thresholds)
                findings = evaluators.evaluate(kind, raw, thresholds)
            except evaluators.EvaluatorError as exc:
                findings = _error_findings(
                    kind, f"{kind}: {exc}" if not str(exc).startswith(kind) else str(exc)
                )
            except Exception as exc:  # a bug: error rows, never a lost run
                log.exception("run %s: trend kind %s failed for %s", run_id, kind, host)
                findings = _error_findings(kind, f"the {kind} trend step failed: {type(exc).__name__}: {exc}")
            rows += _rows(
                kind, [f for f in findings if f.control in todo], client, run_id, host, role, ticket, observed
            )
    return rows


def _lost_reason(rows: Iterable[CheckResult]) -> str | None:
    """The reason of a row saying the host or device was not reached (:data:`runner.events.LOST_REASONS`)."""
    from runner.events import LOST_REASONS

    for row in rows:
        reason = row.evidence.get("reason") if isinstance(row.evidence, Mapping) else None
        inconclusive = row.status in (Status.NOT_CHECKED, Status.ERROR)
        if inconclusive and isinstance(reason, str) and reason.startswith(LOST_REASONS):
            return reason
    return None


def _rows(
    kind: str,
    findings: Sequence[Finding],
    client: str,
    run_id: str,
    host: str,
    role: str,
    ticket: str | None,
    observed: datetime,
) -> list[tuple[str, CheckResult]]:
    return [
        (
            f"{KEY_PREFIX}:{host}:{role}:{f.control}",
            CheckResult.from_finding(
                f, host=host, client=client, run_id=run_id, role=role, ticket=ticket, observed_at=observed
            ),
        )
        for f in findings
    ]


def _all_error_rows(
    client: str, run_id: str, plan: Mapping[str, Sequence[str]], reason: str, ticket: str | None
) -> list[tuple[str, CheckResult]]:
    """Error rows of every trend control of every planned host: when the run's own rows cannot be read."""
    try:
        from runner.evaluators.trends import KIND_INFO

        rows: list[tuple[str, CheckResult]] = []
        now = datetime.now(UTC)
        for kind, (role, *_rest) in KIND_INFO.items():
            for host in plan.get(role, ()):
                rows += _rows(kind, _error_findings(kind, reason), client, run_id, host, role, ticket, now)
        return rows
    except Exception:
        log.exception("run %s: not even error rows could be made for the trend controls", run_id)
        return []


def client_overrides(client: str) -> dict[str, dict[str, Any]]:
    """The client's ``maintenance.thresholds`` per role ({} when its inventory cannot be read)."""
    try:
        from runner.inventory import load_client

        return {role: dict(values) for role, values in load_client(client).settings.thresholds.items()}
    except Exception as exc:
        log.warning("trends: the thresholds of %s could not be read, the defaults apply: %s", client, exc)
        return {}
