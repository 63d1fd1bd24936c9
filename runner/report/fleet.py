"""The fleet report: one page for the MSP, a row per client, built from the same sections as each report.

``build_fleet`` returns the JSON form (schema ``maint.fleet/1``); :func:`runner.report.render.render` with
``template="fleet"`` makes HTML, PDF or Markdown of it. Every client folder under ``inventories/`` is a row;
a folder that cannot be read is a row with its ``problem`` (and nothing else), never hiding the others.

Each client's numbers come from its :class:`runner.report.context.ReportContext` for the period (one query
of its rows up to the checkpoint the report would be built from) and the report's own sections, so the fleet
page and the client's report never disagree:

- ``score``, ``previous_score``, ``trend``: the summary section (:func:`runner.report.sections.core.summary`);
- ``critical``: the open findings of severity critical (the findings section's rows): ``count``, ``ids``
  (``host:CONTROL``) and the ``seqs`` of their latest rows;
- ``missed_windows``: schedule occurrences of the period whose latest state is ``missed`` (windows section):
  ``count`` and their ``window_start``;
- ``stale_backups``: backup jobs (the backups section's, those with a name) whose last known success is
  older than ``backup_days`` days at the report's ``as_of``, or unknown: ``count`` and ``jobs``
  [{"host", "kind", "job", "last_success", "age_hours", "seqs"}];
- ``unreachable``: hosts whose latest results at the period's end say they could not be reached (the state
  of :mod:`runner.state`);
- ``checkpoint``: ``size`` and ``signed`` of the checkpoint used, or None; ``rows_after``.

``totals`` adds the rows up (clients, broken, critical, missed windows, stale backups, unreachable hosts) and
gives the mean score of the clients that have one.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner import catalogue as catalogue_mod

if TYPE_CHECKING:
    from runner.catalogue import Catalogue
    from runner.inventory import Client
    from runner.ledger import Ledger
    from runner.report.period import Period

log = logging.getLogger(__name__)

SCHEMA = "maint.fleet/1"
DEFAULT_BACKUP_DAYS = 2


def client_row(
    ledger: Ledger,
    client: Client,
    period: Period,
    *,
    lang: str = "en",
    backup_days: int = DEFAULT_BACKUP_DAYS,
    cat: Catalogue | None = None,
) -> dict[str, Any]:
    """One client's fleet row for ``period`` (see the module docstring)."""
    from runner.report.context import ReportContext
    from runner.report.sections import backups, core

    ctx = ReportContext(ledger, client, period, lang=lang, cat=cat)
    brief = core.summary(ctx)
    critical = [row for row in core.findings(ctx) if row.severity.value == "critical"]
    held = core.windows(ctx)
    missed = [o for o in held.get("occurrences", []) if o.get("state") == "missed"]
    limit_hours = backup_days * 24.0
    stale = [
        {
            "host": job["host"],
            "kind": job.get("kind"),
            "job": job["job"],
            "last_success": job.get("last_success"),
            "age_hours": job.get("age_hours"),
            "seqs": sorted(job.get("seqs") or []),
        }
        for job in backups.build(ctx)["jobs"]
        if job.get("job") is not None
        and (job.get("age_hours") is None or float(job["age_hours"]) > limit_hours)
    ]
    checkpoint = ctx.checkpoint
    return {
        "client": client.name,
        "display_name": client.settings.display_name,
        "timezone": client.settings.timezone,
        "sla_tier": client.settings.sla_tier.value,
        "problem": None,
        "period": period.label,
        "as_of": ctx.as_of.astimezone(UTC).isoformat(),
        "hosts": len(ctx.scope.hosts),
        "score": brief.get("score"),
        "previous_score": brief.get("previous_score"),
        "trend": brief.get("trend"),
        "critical": {
            "count": len(critical),
            "ids": sorted(core.finding_id(row) for row in critical),
            "seqs": sorted(int(row.latest.raw["seq"]) for row in critical if row.latest is not None),
        },
        "missed_windows": {
            "count": len(missed),
            "occurrences": sorted(_iso(str(o.get("window_start"))) for o in missed),
        },
        "stale_backups": {
            "count": len(stale),
            "jobs": sorted(stale, key=lambda j: (str(j["host"]), str(j["kind"]), str(j["job"]))),
        },
        "unreachable": sorted(ctx.state().unreachable_hosts),
        "checkpoint": (
            {"size": checkpoint.size, "signed": checkpoint.signed} if checkpoint is not None else None
        ),
        "rows_after": ctx.rows_after,
    }


def _iso(text: str) -> str:
    """A stored ISO-8601 instant as the report writes instants: UTC, no zero microseconds."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return text
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def broken_row(name: str, problem: str) -> dict[str, Any]:
    """The row of a client whose inventory (or report) could not be read: its problem and nothing else."""
    return {
        "client": name,
        "display_name": None,
        "timezone": None,
        "sla_tier": None,
        "problem": problem,
        "period": None,
        "as_of": None,
        "hosts": None,
        "score": None,
        "previous_score": None,
        "trend": None,
        "critical": {"count": 0, "ids": [], "seqs": []},
        "missed_windows": {"count": 0, "occurrences": []},
        "stale_backups": {"count": 0, "jobs": []},
        "unreachable": [],
        "checkpoint": None,
        "rows_after": None,
    }


def _problem(name: str, problems: list[Any]) -> str:
    if not problems:
        return f"invalid inventory (maint inventory validate {name})"
    more = f" (+{len(problems) - 1} more: maint inventory validate {name})" if len(problems) > 1 else ""
    return f"invalid inventory: {problems[0]}{more}"


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    scores = [r["score"] for r in rows if isinstance(r.get("score"), int | float)]
    return {
        "clients": len(rows),
        "broken": sum(1 for r in rows if r["problem"]),
        "critical": sum(r["critical"]["count"] for r in rows),
        "clients_with_critical": sum(1 for r in rows if r["critical"]["count"]),
        "missed_windows": sum(r["missed_windows"]["count"] for r in rows),
        "stale_backups": sum(r["stale_backups"]["count"] for r in rows),
        "unreachable_hosts": sum(len(r["unreachable"]) for r in rows),
        "mean_score": round(sum(scores) / len(scores), 1) if scores else None,
    }


def build_fleet(
    ledger: Ledger,
    period_label: str | None = None,
    *,
    lang: str = "en",
    inventories: Path | None = None,
    now: datetime | None = None,
    backup_days: int = DEFAULT_BACKUP_DAYS,
    msp: Any = None,
) -> dict[str, Any]:
    """The fleet report's JSON form for the month ``period_label`` (``YYYY-MM``; default: the month of
    ``now`` in UTC), each client's period taken in its own time zone.

    ValueError (one line naming the option) for a bad ``--period``, ``--lang`` or ``--backup-days``.
    """
    from runner import paths
    from runner.inventory import list_clients, validate_client
    from runner.report import period as periods
    from runner.report.i18n import translator

    translator(lang)  # ValueError naming --lang
    if backup_days < 1:
        raise ValueError(f"--backup-days {backup_days}: expected a whole number of days, at least 1")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    shown = (periods.month(period_label, "UTC") if period_label else periods.containing(now, "UTC")).label
    base = inventories or paths.inventories_dir()
    cat = catalogue_mod.load()
    rows: list[dict[str, Any]] = []
    for name in list_clients(base):
        try:
            client, problems = validate_client(name, base)
        except Exception as exc:  # one client's broken folder never hides the others
            log.debug("inventory of client %s", name, exc_info=True)
            rows.append(broken_row(name, f"cannot read the inventory: {type(exc).__name__}: {exc}"))
            continue
        if client is None:
            rows.append(broken_row(name, _problem(name, problems)))
            continue
        try:
            period = periods.month(shown, client.settings.timezone)
            rows.append(client_row(ledger, client, period, lang=lang, backup_days=backup_days, cat=cat))
        except Exception as exc:  # a defect in one client's report: shown as its problem
            log.debug("fleet row of client %s", name, exc_info=True)
            rows.append(broken_row(name, f"report cannot be built: {type(exc).__name__}: {exc}"))
    if msp is None:
        from runner.report.branding import load_msp

        msp = load_msp(base)
    first = periods.month(shown, "UTC")
    return {
        "schema": SCHEMA,
        "lang": lang,
        "msp": msp.as_dict() if hasattr(msp, "as_dict") else msp,
        "period": {
            "label": shown,
            "first_day": first.first_day.isoformat(),
            "last_day": first.last_day.isoformat(),
        },
        "backup_days": backup_days,
        "clients": rows,
        "totals": totals(rows),
    }


__all__ = ["DEFAULT_BACKUP_DAYS", "SCHEMA", "broken_row", "build_fleet", "client_row", "totals"]
