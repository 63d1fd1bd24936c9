"""The report's sections that read the current state as a whole: summary, coverage, findings, waivers,
maintenance windows and corrective interventions.

The state is taken at the period's end (:meth:`ReportContext.state`), with the rules ``maint status`` uses:
waivers applied, ``not_applicable`` left out, a host not reached counting as not passing.

**Health score** (``summary.score``, 0-100): every applicable (host, control) of the state weighs by its
control's catalogue severity (``WEIGHTS``: critical 10, high 5, medium 2, low 1, info 0); it earns its weight
when it passes or is waived; ``score = round(100 * earned / possible)``; None when nothing applies.
``trend`` is the score minus the previous period's (the state at that period's end, with today's inventory).
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from runner.report.context import ReportContext
from runner.results import Severity, Status
from runner.state import SEVERITY_ORDER, STATUS_ORDER, ClientState, StateRow
from runner.status import JUDGED_BAD, WAIVED

WEIGHTS = {"critical": 10, "high": 5, "medium": 2, "low": 1, "info": 0}
#: how many periods the trend chart shows
TREND_PERIODS = 12
#: how many findings the executive summary asks the client to decide on
DECISIONS = 3
#: severities a decision is asked for
DECISION_SEVERITIES = frozenset({"critical", "high"})
EXPIRING_DAYS = 30
_PASSING_EFFECTIVE = frozenset({Status.PASS.value, Status.NOT_APPLICABLE.value, WAIVED})
_BAD = frozenset(s.value for s in JUDGED_BAD)


def _weight(row: StateRow) -> int:
    severity = row.spec.severity.value if row.spec is not None else row.severity.value
    return WEIGHTS[severity]


def score_of(state: ClientState) -> tuple[int | None, int, int]:
    """(score, earned, possible) of a state (the module docstring's formula)."""
    earned = possible = 0
    for row in state.rows:
        if row.effective == Status.NOT_APPLICABLE.value:
            continue
        weight = _weight(row)
        possible += weight
        if row.effective in _PASSING_EFFECTIVE:
            earned += weight
    return (round(100 * earned / possible) if possible else None), earned, possible


def _score_pairs(ctx: ReportContext) -> tuple[list[tuple[str, str, int]], list[tuple[str, str, int]]]:
    """What :func:`score_at` weighs, the same at every instant: the applicable (host, control, weight)
    and the runner's own (host, control, weight), in :func:`runner.state.compute`'s order."""
    from runner.state import applicable, runner_controls

    cached = ctx.memo.get("score_pairs")
    if cached is None:
        expected = [
            (host, control, WEIGHTS[spec.severity.value])
            for (host, control), spec in applicable(ctx.scope, ctx.cat).items()
        ]
        runner = [
            (host, spec.id, WEIGHTS[spec.severity.value])
            for spec in runner_controls(ctx.cat)
            for host in ctx.scope.hosts
        ]
        cached = ctx.memo["score_pairs"] = (expected, runner)
    return cast(tuple[list[tuple[str, str, int]], list[tuple[str, str, int]]], cached)


_NOT_APPLICABLE = Status.NOT_APPLICABLE.value
_PASS = Status.PASS.value
_NOT_CHECKED = Status.NOT_CHECKED.value


def score_at(ctx: ReportContext, at: datetime) -> int | None:
    """:func:`score_of` of ``ctx.state(at)`` without building the state's rows (the trend's twelve points):
    the same pairs, latest rows, waivers and weights, read straight from the context's rows."""
    return scores_at(ctx, [at])[0]


def scores_at(ctx: ReportContext, instants: Sequence[datetime]) -> list[int | None]:
    """:func:`score_at` of each of ``instants``, in one pass over the weighed pairs."""
    from runner.status import Waivers, client_today

    settings = ctx.client.settings
    waivers = [
        Waivers(settings.waivers, client_today(settings, min(at, ctx.as_of) - timedelta(microseconds=1)))
        for at in instants
    ]
    earned = [0] * len(instants)
    possible = [0] * len(instants)
    expected, runner = _score_pairs(ctx)
    by_pair, pair_times = ctx.pair_rows, ctx.pair_times
    roles, scope_roles = ctx.cat.roles, ctx.scope.roles
    empty: frozenset[str] = frozenset()
    for runner_pair, pairs in ((False, expected), (True, runner)):
        for host, control, weight in pairs:
            times = pair_times.get((host, control))
            rows = by_pair.get((host, control))
            for k, at in enumerate(instants):
                n = bisect.bisect_left(times, at) if times else 0
                if n == 0:
                    if runner_pair:
                        continue  # the runner's own checks count once recorded (runner.state.compute)
                    status = _NOT_CHECKED
                else:
                    assert rows is not None
                    latest = rows[n - 1]
                    role = latest.role
                    if runner_pair and role and role in roles and role not in scope_roles.get(host, empty):
                        continue
                    status = latest.status
                if status == _NOT_APPLICABLE:
                    continue
                possible[k] += weight
                if status == _PASS or waivers[k].lookup(control, host)[0] is not None:
                    earned[k] += weight
    return [round(100 * e / p) if p else None for e, p in zip(earned, possible, strict=True)]


def _recorded_before(ctx: ReportContext, end: Any) -> bool:
    return bool(ctx.rows) and ctx.rows[0].observed_at < end


def is_finding(row: StateRow) -> bool:
    """A row the findings list shows: failing, and not only because its host was not reached (that is
    coverage) unless the last thing known about it was bad."""
    if not row.failing:
        return False
    if row.unreachable:
        last = row.last_conclusive
        return last is not None and last.status.value in _BAD
    return True


def finding_id(row: StateRow) -> str:
    return f"{row.host}:{row.control}"


def _rank(row: StateRow) -> tuple[int, int, str, str]:
    return (SEVERITY_ORDER[row.severity.value], STATUS_ORDER[row.effective], row.host, row.control)


def findings(ctx: ReportContext, state: ClientState | None = None) -> list[StateRow]:
    state = state or ctx.state()
    return sorted((row for row in state.rows if is_finding(row)), key=_rank)


# --------------------------------------------------------------------------- summary


def summary(ctx: ReportContext) -> dict[str, Any]:
    state = ctx.state()
    score, earned, possible = score_of(state)
    previous = ctx.period.previous()
    prev_score = score_of(ctx.state(previous.end))[0] if _recorded_before(ctx, previous.end) else None
    periods = ctx.period.back(TREND_PERIODS)
    recorded = [period for period in periods if _recorded_before(ctx, period.end)]
    scores = dict(zip((p.label for p in recorded), scores_at(ctx, [p.end for p in recorded]), strict=True))
    points = [{"period": period.label, "score": scores.get(period.label)} for period in periods]
    open_rows = findings(ctx, state)
    by_severity = Counter(row.severity.value for row in open_rows)
    decisions = [finding_id(row) for row in open_rows if row.severity.value in DECISION_SEVERITIES]
    return {
        "score": score,
        "previous_score": prev_score,
        "trend": score - prev_score if score is not None and prev_score is not None else None,
        "weights": dict(WEIGHTS),
        "earned": earned,
        "possible": possible,
        "counts": state.counts(),
        "findings_by_severity": {s.value: by_severity.get(s.value, 0) for s in Severity},
        "decisions": decisions[:DECISIONS],
        "hosts": len(ctx.scope.hosts),
        "trend_points": points,
    }


# --------------------------------------------------------------------------- coverage


def coverage(ctx: ReportContext) -> dict[str, Any]:
    """Hosts in scope, checked in the period (a conclusive result of any of their controls), and why not."""
    state = ctx.state()
    in_period = ctx.results()
    checked_hosts = {row.host for row in in_period if row.conclusive}
    checked_pairs = {(row.domain, row.host) for row in in_period if row.conclusive}
    last_reason: dict[str, str] = {}
    for row in in_period:
        if not row.conclusive:
            reason = row.evidence.get("reason")
            last_reason[row.host] = reason if isinstance(reason, str) and reason else row.status
    hosts = sorted(ctx.scope.hosts)
    not_checked = [
        {"host": host, "reason": last_reason.get(host, "not run in this period")}
        for host in hosts
        if host not in checked_hosts
    ]
    domain_hosts: dict[str, set[str]] = {}
    domain_controls: Counter[str] = Counter()
    for state_row in state.rows:
        if state_row.control.startswith("MAINT-"):
            continue
        domain_hosts.setdefault(state_row.domain, set()).add(state_row.host)
        domain_controls[state_row.domain] += 1
    by_domain = []
    for domain in sorted(domain_hosts):
        host_set = domain_hosts[domain]
        checked = sum(1 for host in host_set if (domain, host) in checked_pairs)
        by_domain.append(
            {
                "domain": domain,
                "hosts": len(host_set),
                "checked": checked,
                "not_checked": len(host_set) - checked,
                "controls": domain_controls[domain],
            }
        )
    return {
        "hosts_in_scope": len(hosts),
        "hosts_checked": sum(1 for host in hosts if host in checked_hosts),
        "hosts_not_checked": not_checked,
        "by_domain": by_domain,
    }


# --------------------------------------------------------------------------- findings


def _first_seen(ctx: ReportContext, row: StateRow) -> str | None:
    """When the current streak of not passing results of the pair began (inconclusive rows do not end it)."""
    history = [r for r in ctx.history(row.host, row.control) if r.observed_at < ctx.period.end]
    first = None
    for past in reversed(history):
        if past.status in (Status.PASS.value, Status.NOT_APPLICABLE.value):
            break
        if past.conclusive or past.status == Status.ERROR.value:
            first = past
    return first.observed_at.isoformat() if first is not None else None


def _change(now: StateRow, before: StateRow | None) -> tuple[str, str | None]:
    if before is None or before.latest is None:
        return "new", None
    was = before.effective
    if was in _PASSING_EFFECTIVE:
        return "regressed", was
    if was == now.effective:
        return "persisting", was
    if was == Status.WARN.value and now.effective == Status.FAIL.value:
        return "worse", was
    if was == Status.FAIL.value and now.effective == Status.WARN.value:
        return "better", was
    return "persisting", was


def _seen(row: StateRow) -> tuple[int | None, str | None, str | None]:
    if row.latest is None:
        return None, None, None
    raw = row.latest.raw
    return int(raw["seq"]), str(raw["run_id"]), row.latest.observed_at.isoformat()


def findings_section(ctx: ReportContext) -> dict[str, Any]:
    state = ctx.state()
    previous = {(r.host, r.control): r for r in ctx.state(ctx.period.previous().end).rows}
    open_rows = []
    for row in findings(ctx, state):
        text = ctx.text(row.control)
        change, was = _change(row, previous.get((row.host, row.control)))
        seq, run_id, observed = _seen(row)
        evidence = row.latest.evidence if row.latest is not None else {}
        open_rows.append(
            {
                "id": finding_id(row),
                "host": row.host,
                "control": row.control,
                "title": text["title"],
                "domain": row.domain,
                "severity": row.severity.value,
                "status": row.status.value,
                "effective_status": row.effective,
                "risk": text["rationale"],
                "remediation": text["remediation"],
                "reason": row.reason,
                "note": row.note,
                "evidence": evidence,
                "seq": seq,
                "run_id": run_id,
                "observed_at": observed,
                "first_seen": _first_seen(ctx, row),
                "change": change,
                "previous_status": was,
            }
        )
    now = {(r.host, r.control): r for r in state.rows}
    resolved: list[dict[str, Any]] = []
    for pair, before in sorted(previous.items()):
        after = now.get(pair)
        if not is_finding(before) or after is None or after.effective not in _PASSING_EFFECTIVE:
            continue
        seq, _run, _observed = _seen(after)
        resolved.append(
            {
                "id": finding_id(after),
                "host": after.host,
                "control": after.control,
                "title": ctx.text(after.control)["title"],
                "severity": before.severity.value,
                "previous_status": before.effective,
                "status": after.effective,
                "seq": seq,
            }
        )
    resolved.sort(
        key=lambda item: (SEVERITY_ORDER[str(item["severity"])], str(item["host"]), str(item["control"]))
    )
    return {"open": open_rows, "resolved": resolved}


# --------------------------------------------------------------------------- waivers


def waivers(ctx: ReportContext) -> dict[str, Any]:
    state = ctx.state()
    from runner.status import client_today

    today = client_today(ctx.client.settings, ctx.as_of - timedelta(microseconds=1))
    covered = Counter(id(row.waiver) for row in state.rows if row.effective == WAIVED)
    in_force: list[dict[str, Any]] = []
    expiring: list[dict[str, Any]] = []
    for waiver in ctx.client.settings.waivers:
        if waiver.expires is not None and waiver.expires < today:
            continue
        item: dict[str, Any] = {
            "control": waiver.control,
            "title": ctx.text(waiver.control)["title"],
            "hosts": waiver.hosts,
            "owner": waiver.owner,
            "reason": waiver.reason,
            "expires": waiver.expires.isoformat() if waiver.expires is not None else None,
            "rows": covered.get(id(waiver), 0),
        }
        in_force.append(item)
        if waiver.expires is not None and waiver.expires <= today + timedelta(days=EXPIRING_DAYS):
            expiring.append(item)

    def key(item: dict[str, Any]) -> tuple[str, str]:
        return (str(item["control"]), str(item["hosts"]))

    return {
        "as_of_date": today.isoformat(),
        "in_force": sorted(in_force, key=key),
        "expiring_30d": sorted(expiring, key=key),
    }


# --------------------------------------------------------------------------- windows


def windows(ctx: ReportContext) -> dict[str, Any]:
    from runner.schedule_ledger import OccurrenceState

    found = ctx.occurrences()
    counts = Counter(row.state for row in found)
    occurrences = []
    for row in found:
        reason = row.detail.get("reason") if isinstance(row.detail, dict) else None
        occurrences.append(
            {
                "schedule": row.schedule,
                "window_start": row.window_start,
                "window_end": row.window_end,
                "state": row.state.value,
                "reason": reason if isinstance(reason, str) else None,
                "run_id": row.run_id,
                "seq": row.seq,
            }
        )
    return {
        "held": counts.get(OccurrenceState.COMPLETED, 0),
        "missed": counts.get(OccurrenceState.MISSED, 0),
        "skipped": counts.get(OccurrenceState.SKIPPED, 0),
        "open": counts.get(OccurrenceState.STARTED, 0),
        "occurrences": occurrences,
    }


# --------------------------------------------------------------------------- interventions


def interventions(ctx: ReportContext) -> list[dict[str, Any]]:
    """Ticket runs started in the period, one entry per ticket, with whether the ticket is resolved."""
    from runner.resolution import ResolutionError, resolution

    tickets: dict[str, list[Any]] = {}
    for run in ctx.runs():
        if run.ticket:
            tickets.setdefault(run.ticket, []).append(run)
    found = []
    for ticket, runs in sorted(tickets.items()):
        try:
            record = resolution(ctx.ledger, ticket=ticket)
        except ResolutionError:
            record = None
        data = record.as_dict() if record is not None else {}
        found.append(
            {
                "ticket": ticket,
                "technician": data.get("technician") or runs[0].requested_by,
                "opened_at": data.get("opened_at"),
                "runs": len(runs),
                "run_ids": [run.run_id for run in runs],
                "first_run": runs[0].started_at.isoformat(),
                "last_run": runs[-1].started_at.isoformat(),
                "reason": runs[0].reason,
                "roles": sorted({role for run in runs for role in run.roles}),
                "resolved": bool(data.get("resolved")),
                "controls": sorted(
                    data.get("ticket_controls")
                    or {change["control"] for change in data.get("changes", []) if isinstance(change, dict)}
                ),
            }
        )
    return found
