"""Resolution records of ad hoc corrective runs, and the client's resolution report of a ticket.

After ``maint run CLIENT --role R --limit HOST --ticket ID --reason TEXT``, the record compares,
per host and control the run judged, the latest result recorded *before* the ticket's first run
started (chain order: lower ``seq`` than that run's row) with the latest result of the ticket's
runs. Everything is read from the ledger; nothing runs again.

Only the ticket's controls decide "resolved" (``--control`` when the run was started, recorded in
its ``interventions`` row: :mod:`runner.interventions`; every control the runs judged for a run
recorded without one). The ticket is resolved when each of its controls, after the ticket's runs,
passes by the rules ``maint status`` applies (:mod:`runner.status`: pass, not_applicable or waived; a
not_checked only counts when the host was not reached or the control last failed), at least one of
them passes, and none was left unjudged. Waivers are taken as they stand in the client's settings, on
the client's date of the ticket's last result, so the same ledger and inventory give the same answer
whenever the report is made.

:func:`report` builds the client-grade report's JSON form (``maint resolution --format json``); HTML,
PDF and Markdown are rendered from it (``runner/report/templates/resolution.*.j2``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from runner.interventions import Intervention
from runner.ledger import Ledger, RunInfo
from runner.ledger import schema as ls
from runner.ledger.store import _result
from runner.results import CheckResult, Status

if TYPE_CHECKING:
    from runner.inventory import Client, ClientSettings

SCHEMA = "maint.resolution/1"
_INCONCLUSIVE = (Status.NOT_CHECKED.value, Status.ERROR.value)
_SEVERITIES = ("critical", "high", "medium", "low", "info")


class ResolutionError(Exception):
    """No run (or no run of the ticket) to build a resolution record from."""


@dataclass(frozen=True)
class ControlChange:
    host: str
    control: str
    title: str
    before: CheckResult | None
    after: CheckResult
    #: the check_results rows' seq in the client's chain (``maint ledger prove CLIENT --seq N``)
    before_seq: int | None = None
    after_seq: int | None = None

    @property
    def change(self) -> str:
        before = self.before.status if self.before else None
        after = self.after.status
        if before is None:
            return "new"
        if before is after:
            return "unchanged"
        if after is Status.PASS:
            return "fixed"
        if before is Status.PASS:
            return "regressed"
        return "changed"

    def as_dict(self) -> dict[str, Any]:
        def side(r: CheckResult | None, seq: int | None) -> dict[str, Any] | None:
            if r is None:
                return None
            return {
                "status": r.status.value,
                "run_id": r.run_id,
                "observed_at": r.observed_at.isoformat(),
                "evidence": r.evidence,
                "seq": seq,
            }

        return {
            "host": self.host,
            "control": self.control,
            "title": self.title,
            "change": self.change,
            "before": side(self.before, self.before_seq),
            "after": side(self.after, self.after_seq),
        }


@dataclass
class Resolution:
    client: str
    ticket: str | None
    runs: list[RunInfo]
    changes: list[ControlChange] = field(default_factory=list)
    #: the client's latest ledger checkpoint as outputs carry it (:func:`runner.witness.carried`), or None
    checkpoint: dict[str, Any] | None = None
    #: the ticket's controls (its interventions rows); None: every control the runs judged decides
    controls: tuple[str, ...] | None = None
    interventions: tuple[Intervention, ...] = ()
    #: ticket (host, control) pairs whose result after does not pass (waivers applied); None: judged from
    #: the statuses alone (a record built by hand)
    failing: frozenset[tuple[str, str]] | None = None
    #: ticket (host, control) pairs the ticket's runs did not judge at all
    missing: tuple[tuple[str, str], ...] = ()

    def decides(self, change: ControlChange) -> bool:
        return self.controls is None or change.control in self.controls

    @property
    def ticket_changes(self) -> list[ControlChange]:
        """The changes of the ticket's controls: the only ones that decide "resolved"."""
        return [c for c in self.changes if self.decides(c)]

    def is_failing(self, change: ControlChange) -> bool:
        if self.failing is not None:
            return (change.host, change.control) in self.failing
        from runner.status import not_passing, reason_of

        return not_passing(change.after.status, reason_of(change.after.evidence))

    @property
    def resolved(self) -> bool:
        pairs = self.ticket_changes
        return (
            bool(pairs)
            and not self.missing
            and not any(self.is_failing(c) for c in pairs)
            and any(c.after.status is Status.PASS for c in pairs)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "ticket": self.ticket,
            "resolved": self.resolved,
            "runs": [
                {
                    "run_id": r.run_id,
                    "started_at": r.started_at.isoformat(),
                    "finished_at": r.finished_at.isoformat() if r.finished_at else None,
                    "requested_by": r.requested_by,
                    "roles": r.roles,
                    "limit": r.limit,
                    "mode": r.mode,
                    "status": r.status.value,
                    "reason": r.reason,
                }
                for r in self.runs
            ],
            "changes": [c.as_dict() for c in self.changes],
            "checkpoint": self.checkpoint,
            # from the runs' interventions rows (None / empty for runs recorded without one)
            "technician": self.interventions[0].technician if self.interventions else None,
            "technicians": sorted({i.technician for i in self.interventions}),
            "opened_at": next(
                (i.opened_at.isoformat() for i in self.interventions if i.opened_at is not None), None
            ),
            "ticket_controls": list(self.controls) if self.controls is not None else None,
        }

    def markdown(self) -> str:
        """Template ``runner/templates/resolution.md.j2``: the runs, the outcome, a row per control, the
        ledger checkpoint (``_checkpoint.md.j2``)."""
        from runner.render import render
        from runner.witness import section_facts

        ledger = section_facts(self.checkpoint, self.client)
        return render("resolution.md.j2", record=self, ledger=ledger)


def _find_runs(ledger: Ledger, run_id: str | None, ticket: str | None) -> list[RunInfo]:
    if run_id is not None:
        info = ledger.run(run_id)
        if info is None:
            raise ResolutionError(f"no run {run_id!r} in the ledger {ledger.display_url}")
        if ticket is not None and info.ticket != ticket:
            raise ResolutionError(f"--run {run_id}: a run of ticket {info.ticket!r}, not of {ticket!r}")
        return [info]
    found = sorted(ledger.runs(ticket=ticket, limit=1000), key=lambda r: (r.started_at, r.run_id))
    if not found:
        raise ResolutionError(f"no run recorded for ticket {ticket!r} (see `maint runs --ticket`)")
    return found


def _load_settings(client: str) -> ClientSettings | None:
    """The client's settings now (waivers, time zone, SLA), None when its inventory cannot be read."""
    from runner.inventory import InventoryError, UnknownClientError, load_client

    try:
        return load_client(client).settings
    except (InventoryError, UnknownClientError, OSError, ValueError):
        return None


def _latest_before(
    conn: sa.Connection, client: str, hosts: Sequence[str], below: int, *, conclusive: bool = False
) -> dict[tuple[str, str], tuple[CheckResult, int]]:
    """The latest row per (host, control) of these hosts with seq < ``below``."""
    cr = ls.check_results
    if not hosts:
        return {}
    rank = (
        sa.func.row_number()
        .over(partition_by=(cr.c.host, cr.c.control), order_by=cr.c.seq.desc())
        .label("rank")
    )
    where = [cr.c.client == client, cr.c.seq < below, cr.c.host.in_(list(hosts))]
    if conclusive:
        where.append(cr.c.status.not_in(_INCONCLUSIVE))
    inner = sa.select(cr, rank).where(*where).subquery()
    found = {}
    for row in conn.execute(sa.select(inner).where(inner.c.rank == 1)).mappings():
        result = _result(row)
        found[(result.host, result.control)] = (result, int(row["seq"]))
    return found


def _failing_pairs(
    changes: Sequence[ControlChange],
    settings: ClientSettings | None,
    last_conclusive: Mapping[tuple[str, str], tuple[CheckResult, int]],
) -> frozenset[tuple[str, str]]:
    """The pairs whose result after does not pass (:mod:`runner.status`), waivers on the ticket's date."""
    from runner.status import Waivers, client_today, not_passing, reason_of

    if not changes:
        return frozenset()
    waivers = None
    if settings is not None:
        waivers = Waivers(settings.waivers, client_today(settings, max(c.after.observed_at for c in changes)))
    bad = set()
    for c in changes:
        if waivers is not None and c.after.status not in (Status.PASS, Status.NOT_APPLICABLE):
            live, _expired = waivers.lookup(c.control, c.host)
            if live is not None:
                continue
        last = last_conclusive.get((c.host, c.control))
        if not_passing(c.after.status, reason_of(c.after.evidence), last[0].status if last else None):
            bad.add((c.host, c.control))
    return frozenset(bad)


def resolution(ledger: Ledger, *, run_id: str | None = None, ticket: str | None = None) -> Resolution:
    """The resolution record of one run, or of every run of a ticket (oldest first).

    With both, only that run, which must be one of the ticket's.
    """
    from runner import interventions as iv

    if run_id is None and ticket is None:
        raise ResolutionError("give a run ID or a ticket")
    found = _find_runs(ledger, run_id, ticket)
    clients = {r.client for r in found}
    if len(clients) > 1:
        raise ResolutionError(f"ticket {ticket!r} has runs for several clients: {', '.join(sorted(clients))}")
    client = found[0].client
    run_ids = [r.run_id for r in found]
    cr, runs = ls.check_results, ls.runs
    with ledger.engine.connect() as conn:
        first_seq = conn.execute(
            sa.select(sa.func.min(runs.c.seq)).where(runs.c.run_id.in_(run_ids))
        ).scalar()
        after: dict[tuple[str, str], tuple[CheckResult, int]] = {}
        for row in conn.execute(sa.select(cr).where(cr.c.run_id.in_(run_ids)).order_by(cr.c.seq)).mappings():
            result = _result(row)
            after[(result.host, result.control)] = (result, int(row["seq"]))  # the latest of the runs wins
        hosts = sorted({host for host, _control in after})
        before = _latest_before(conn, client, hosts, int(first_seq)) if first_seq is not None else {}
        unsure = [pair for pair, (r, _s) in after.items() if r.status.value in _INCONCLUSIVE]
        last_conclusive = {}
        if unsure:
            top = max(seq for _r, seq in after.values()) + 1
            last_conclusive = _latest_before(conn, client, hosts, top, conclusive=True)
    rows = iv.for_runs(ledger.engine, run_ids)
    kept = tuple(rows[r] for r in run_ids if r in rows)
    controls = tuple(sorted({c for i in kept for c in i.controls})) if kept else None
    changes = []
    for (h, c), (r, seq) in sorted(after.items()):
        old = before.get((h, c))
        changes.append(
            ControlChange(
                host=h,
                control=c,
                title=r.title,
                before=old[0] if old else None,
                after=r,
                before_seq=old[1] if old else None,
                after_seq=seq,
            )
        )
    record = Resolution(
        client=client,
        ticket=ticket or found[0].ticket,
        runs=found,
        changes=changes,
        controls=controls,
        interventions=kept,
    )
    settings = _load_settings(client)
    record.failing = _failing_pairs(record.ticket_changes, settings, last_conclusive)
    if controls is not None:
        judged = {c.control for c in changes}
        planned = _planned(ledger, found)
        record.missing = tuple(
            sorted(
                (host, control) for control in controls if control not in judged for host in planned(control)
            )
        )
    return record


def _planned(ledger: Ledger, runs: Sequence[RunInfo]) -> Any:
    """control -> the hosts the runs planned the control's role on (its role from the catalogue)."""
    from runner import catalogue

    cat = catalogue.load()
    plans: dict[str, set[str]] = {}
    for r in runs:
        for role, planned in (ledger.run_plan(r.run_id) or {}).items():
            plans.setdefault(role, set()).update(planned)

    def hosts(control: str) -> list[str]:
        spec = cat.controls.get(control)
        role = spec.role if spec is not None else None
        return sorted(plans.get(role, set())) if role else sorted({h for hs in plans.values() for h in hs})

    return hosts


# ------------------------------------------------------------------------------ the client's report


def _iso(value: datetime | None) -> str | None:
    from datetime import UTC

    return None if value is None else value.astimezone(UTC).isoformat()


def _side(r: CheckResult | None, seq: int | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {
        "status": r.status.value,
        "run_id": r.run_id,
        "observed_at": _iso(r.observed_at),
        "seq": seq,
        "evidence": r.evidence,
    }


def verdict(before: Status | None, after: Status | None, failing: bool) -> str:
    """Before -> after of one ticket control in one word the report says in plain language:
    ``fixed``, ``still_failing``, ``regressed``, ``confirmed`` (passed and still passes), ``passes`` (no
    earlier result), ``fails`` (no earlier result), ``not_checked`` (no conclusive result after)."""
    if after is None or (after in (Status.NOT_CHECKED, Status.ERROR) and not failing):
        return "not_checked"
    passed_before = before in (Status.PASS, Status.NOT_APPLICABLE)
    if before is None or before in (Status.NOT_CHECKED,):
        return "fails" if failing else "passes"
    if failing:
        return "regressed" if passed_before else "still_failing"
    return "confirmed" if passed_before else "fixed"


def _remediation(rows: Iterable[tuple[CheckResult, int]]) -> dict[str, Any]:
    """What the ticket's runs changed, read from the evidence the remediation evaluators write:
    PATCH-LNX-06 (``upgraded`` [{name, old, new}], ``not_upgraded``, ``rebooted``, ``reboot_policy``,
    ``reboot_msg``, ``error``) and PATCH-WIN-04 (``updates`` [{kb, title, result}], ``rebooted``...)."""
    packages: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    reboots: list[dict[str, Any]] = []
    not_upgraded: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for r, seq in rows:
        ev = r.evidence if isinstance(r.evidence, dict) else {}
        if r.status is Status.NOT_APPLICABLE:
            continue
        base = {"host": r.host, "control": r.control, "seq": seq, "run_id": r.run_id}
        upgraded = ev.get("upgraded")
        if isinstance(upgraded, list):
            for item in upgraded:
                if isinstance(item, dict) and item.get("name"):
                    packages.append(
                        {**base, "name": str(item["name"]), "old": item.get("old"), "new": item.get("new")}
                    )
            for name in ev.get("not_upgraded") or []:
                not_upgraded.append({**base, "name": str(name)})
        listed = ev.get("updates")
        if isinstance(listed, list) and "installed" in ev:
            for item in listed:
                if isinstance(item, dict):
                    updates.append(
                        {
                            **base,
                            "kb": item.get("kb"),
                            "title": item.get("title"),
                            "result": item.get("result"),
                            "failure_code": item.get("failure_code"),
                        }
                    )
        if isinstance(ev.get("rebooted"), bool) and ("upgraded" in ev or "installed" in ev):
            reboots.append(
                {
                    **base,
                    "rebooted": ev["rebooted"],
                    "policy": ev.get("reboot_policy"),
                    "message": ev.get("reboot_msg"),
                }
            )
        if ("upgraded" in ev or "installed" in ev) and isinstance(ev.get("error"), str):
            errors.append({**base, "error": ev["error"][:300]})

    def order(items: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
        return sorted(items, key=lambda i: (*(str(i.get(k) or "") for k in ("host", *keys)), i["seq"]))

    return {
        "packages": order(packages, "name"),
        "updates": order(updates, "kb", "title"),
        "reboots": order(reboots, "control"),
        "not_upgraded": order(not_upgraded, "name"),
        "errors": order(errors, "control"),
        "changed": bool(packages or [u for u in updates if u.get("result") == "installed"])
        or any(b["rebooted"] for b in reboots),
    }


def _review(
    ledger: Ledger,
    record: Resolution,
    client: Client | None,
    settings: ClientSettings | None,
    hosts: Sequence[str],
    below: int,
    tr: Any,
) -> dict[str, Any]:
    """The proactive review: the hosts' other assigned roles, from the fresh audit run (``--review``) or
    their latest results as of the ticket's last run; ``findings`` are the controls that do not pass."""
    from runner import interventions as iv
    from runner.status import Waivers, client_today, not_passing, reason_of

    run_roles = {role for r in record.runs for role in r.roles}
    if record.interventions:
        roles = sorted({role for i in record.interventions for role in i.review_roles})
    elif client is not None:
        plan = {role: list(hs) for r in record.runs for role, hs in (ledger.run_plan(r.run_id) or {}).items()}
        roles = sorted(set(iv.review_plan(client, plan, None)) - run_roles)
    else:
        roles = []
    fresh = next(
        (i.review_run_id for i in reversed(record.interventions) if i.review and i.review_run_id), None
    )
    review_run = ledger.run(fresh) if fresh else None
    cr = ls.check_results
    rows: list[tuple[CheckResult, int]] = []
    with ledger.engine.connect() as conn:
        if review_run is not None:
            query = sa.select(cr).where(cr.c.run_id == review_run.run_id).order_by(cr.c.seq)
            latest: dict[tuple[str, str], tuple[CheckResult, int]] = {}
            for row in conn.execute(query).mappings():
                result = _result(row)
                latest[(result.host, result.control)] = (result, int(row["seq"]))
            rows = list(latest.values())
        elif roles and hosts:
            rows = [
                (r, s)
                for (r, s) in _latest_before(conn, record.client, hosts, below).values()
                if r.role in roles
            ]
    waivers = None
    if settings is not None and rows:
        waivers = Waivers(settings.waivers, client_today(settings, max(r.observed_at for r, _s in rows)))
    findings = []
    passing = 0
    for r, seq in sorted(rows, key=lambda x: (x[0].host, x[0].control)):
        waived = False
        if waivers is not None and r.status not in (Status.PASS, Status.NOT_APPLICABLE):
            waived = waivers.lookup(r.control, r.host)[0] is not None
        if waived or not not_passing(r.status, reason_of(r.evidence)):
            passing += 1
            continue
        findings.append(
            {
                "host": r.host,
                "control": r.control,
                "title": tr.control(r.control, "title", r.title),
                "severity": r.severity.value,
                "status": r.status.value,
                "role": r.role,
                "observed_at": _iso(r.observed_at),
                "run_id": r.run_id,
                "seq": seq,
                "remediation": r.remediation
                if tr.lang == "en"
                else tr.control(r.control, "remediation", r.remediation),
            }
        )
    findings.sort(key=lambda f: (_SEVERITIES.index(f["severity"]), f["host"], f["control"]))
    return {
        "fresh": review_run is not None,
        "requested": any(i.review for i in record.interventions),
        "run_id": review_run.run_id if review_run is not None else None,
        "run_status": review_run.status.value if review_run is not None else None,
        "roles": roles,
        "checked": len(rows),
        "passing": passing,
        "findings": findings,
    }


def report(
    ledger: Ledger,
    *,
    run_id: str | None = None,
    ticket: str | None = None,
    lang: str = "en",
    checkpoint: dict[str, Any] | None = None,
    msp: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The client's resolution report of a ticket (or one run) as a JSON-able dict, deterministic: the
    same ledger and inventory give the same dict. ``checkpoint``: :func:`runner.witness.carried`."""
    from runner import catalogue, witness
    from runner.inventory import InventoryError, UnknownClientError, load_client
    from runner.report.i18n import translator
    from runner.sla import sla_line

    tr = translator(lang)
    record = resolution(ledger, run_id=run_id, ticket=ticket)
    record.checkpoint = checkpoint
    try:
        client: Client | None = load_client(record.client)
    except (InventoryError, UnknownClientError):
        client = None
    settings = client.settings if client is not None else None
    cat = catalogue.load()
    by_run = {i.run_id: i for i in record.interventions}
    cr = ls.check_results
    run_ids = [r.run_id for r in record.runs]
    with ledger.engine.connect() as conn:
        all_rows = [
            (_result(row), int(row["seq"]))
            for row in conn.execute(
                sa.select(cr).where(cr.c.run_id.in_(run_ids)).order_by(cr.c.seq)
            ).mappings()
        ]
        top = conn.execute(
            sa.select(sa.func.max(ls.runs.c.seq)).where(ls.runs.c.run_id.in_(run_ids))
        ).scalar()
    below = max([int(top or 0), *(s for _r, s in all_rows)]) + 1
    hosts = sorted({r.host for r, _s in all_rows} | {h for c in record.missing for h in c[:1]})

    controls = []
    for c in record.ticket_changes:
        spec = cat.controls.get(c.control)
        failing = record.is_failing(c)
        controls.append(
            {
                "host": c.host,
                "control": c.control,
                "title": tr.control(c.control, "title", spec.title if spec else c.title),
                "severity": c.after.severity.value,
                "risk": tr.control(c.control, "rationale", spec.rationale) if spec else "",
                "remediation": (
                    c.after.remediation
                    if lang == "en" or spec is None
                    else tr.control(c.control, "remediation", spec.remediation)
                ),
                "before": _side(c.before, c.before_seq),
                "after": _side(c.after, c.after_seq),
                "change": c.change,
                "verdict": verdict(c.before.status if c.before else None, c.after.status, failing),
                "passes": not failing,
            }
        )
    for host, control in record.missing:
        spec = cat.controls.get(control)
        controls.append(
            {
                "host": host,
                "control": control,
                "title": tr.control(control, "title", spec.title if spec else control),
                "severity": spec.severity.value if spec else "info",
                "risk": tr.control(control, "rationale", spec.rationale) if spec else "",
                "remediation": "",
                "before": None,
                "after": None,
                "change": "not_judged",
                "verdict": "not_checked",
                "passes": False,
            }
        )
    controls.sort(key=lambda x: (x["host"], x["control"]))

    opened = next((i.opened_at for i in record.interventions if i.opened_at is not None), None)
    first_start = min(r.started_at for r in record.runs)
    last = max(record.runs, key=lambda r: (r.started_at, r.run_id))
    last_end = last.finished_at
    sla: dict[str, Any] | None = None
    if settings is not None:
        line = sla_line(settings, opened, first_start, last_end)
        wh = settings.working_hours
        sla = {
            **line.as_dict(),
            "working_hours": {
                "days": list(wh.days),
                "start": wh.start.strftime("%H:%M"),
                "end": wh.end.strftime("%H:%M"),
            },
        }
    technicians = sorted({i.technician for i in record.interventions}) or sorted(
        {r.requested_by for r in record.runs if r.requested_by}
    )
    key = (checkpoint or {}).get("key") or {}
    head = witness.head_seq(ledger, record.client)
    return {
        "schema": SCHEMA,
        "lang": lang,
        "client": {
            "name": record.client,
            "display_name": settings.display_name if settings else record.client,
            "timezone": settings.timezone if settings else "UTC",
            "sla_tier": settings.sla_tier.value if settings else None,
        },
        "msp": msp,
        "ticket": record.ticket,
        "resolved": record.resolved,
        "request": {
            "ticket": record.ticket,
            "reasons": list(dict.fromkeys(r.reason for r in record.runs if r.reason)),
            "opened_at": _iso(opened),
            "technicians": technicians,
            "hosts": hosts,
            "roles": sorted({role for r in record.runs for role in r.roles}),
            "one_off_roles": sorted({role for i in record.interventions for role in i.one_off_roles}),
            "modes": sorted({r.mode for r in record.runs}),
            "controls": list(record.controls) if record.controls is not None else None,
        },
        "runs": [
            {
                "run_id": r.run_id,
                "started_at": _iso(r.started_at),
                "finished_at": _iso(r.finished_at),
                "requested_by": r.requested_by,
                "technician": by_run[r.run_id].technician if r.run_id in by_run else r.requested_by,
                "roles": r.roles,
                "limit": r.limit,
                "mode": r.mode,
                "status": r.status.value,
                "reason": r.reason,
                "review_run_id": by_run[r.run_id].review_run_id if r.run_id in by_run else None,
                "intervention_seq": by_run[r.run_id].seq if r.run_id in by_run else None,
            }
            for r in record.runs
        ],
        "changes": [c.as_dict() for c in record.changes],
        "checked": {
            "controls": len(record.changes),
            "passing": sum(
                1 for c in record.changes if c.after.status in (Status.PASS, Status.NOT_APPLICABLE)
            ),
            "hosts": hosts,
        },
        "controls": controls,
        "remediation": _remediation(all_rows),
        "review": _review(ledger, record, client, settings, hosts, below, tr),
        "times": {
            "zone": settings.timezone if settings else "UTC",
            "opened_at": _iso(opened),
            "first_run_start": _iso(first_start),
            "last_run_end": _iso(last_end),
        },
        "sla": sla,
        "checkpoint": checkpoint,
        "ledger": {
            "checkpoint": checkpoint,
            "covers_ticket": checkpoint is not None and int(checkpoint.get("size") or 0) >= below - 1,
            "rows": head,
            "rows_after": (checkpoint or {}).get("rows_after_checkpoint"),
            "fingerprint": key.get("fingerprint"),
            "key_name": key.get("name"),
            "public_key": key.get("public_key"),
            "verify": witness.VERIFY_HINT.format(client=record.client),
        },
    }
