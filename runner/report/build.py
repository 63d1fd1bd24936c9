"""The client report's JSON form: every section built from one :class:`ReportContext`.

``build_report`` is what ``maint report CLIENT`` renders (HTML, PDF, Markdown) and prints as JSON. The same
ledger, client inventory and period give the same document: nothing in it depends on the clock (its time
is the checkpoint's, ``as_of``), and every list is sorted.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.report.context import ReportContext
from runner.report.period import Period, containing
from runner.report.sections import core

if TYPE_CHECKING:
    from runner.inventory import Client
    from runner.ledger import Ledger
    from runner.ledger.note import Verifier

SCHEMA = "maint.report/1"
#: the domain sections, each ``runner.report.sections.<name>.build(ctx)``, in the report's order
DOMAIN_SECTIONS = ("patching", "antivirus", "backups", "capacity", "network")


def default_period(client: Client, now: datetime | None = None) -> Period:
    """The month the client is in now (its time zone)."""
    return containing(now or datetime.now(UTC), client.settings.timezone)


def client_facts(client: Client) -> dict[str, Any]:
    """Who the document is for, as the report's and the onboarding pack's cover print it."""
    settings = client.settings
    return {
        "name": client.name,
        "display_name": settings.display_name,
        "timezone": settings.timezone,
        "sla_tier": settings.sla_tier.value,
    }


def ledger_facts(ctx: ReportContext, verifier: Verifier | None) -> dict[str, Any]:
    """The checkpoint the report was built from, as the cover prints it, and how to check it."""
    from runner import witness

    hint = witness.VERIFY_HINT.format(client=ctx.client.name)
    facts: dict[str, Any] = {
        "checkpoint": None,
        "rows_in_report": ctx.size,
        "rows_after": ctx.rows_after,
        "fingerprint": None,
        "public_key": None,
        "key_name": None,
        "verify": hint,
    }
    if ctx.checkpoint is None:
        return facts
    data = witness.as_dict(ctx.checkpoint, verifier, ctx.head)
    # what the cover shows is fixed by the checkpoint, not by how many rows came after it or where its file is
    data.pop("rows_after_checkpoint", None)
    data.pop("file", None)
    facts["checkpoint"] = data
    key = data.get("key")
    if isinstance(key, dict):
        facts["fingerprint"] = key.get("fingerprint")
        facts["public_key"] = key.get("public_key")
        facts["key_name"] = key.get("name")
    return facts


def build_context(
    ledger: Ledger, client: Client, period: Period | None = None, *, lang: str = "en"
) -> ReportContext:
    from runner.report.i18n import translator

    translator(lang)  # an unknown language fails here, before any reading
    return ReportContext(ledger, client, period or default_period(client), lang=lang)


def build_report(
    ledger: Ledger,
    client: Client,
    period: Period | None = None,
    *,
    lang: str = "en",
    msp: dict[str, Any] | None = None,
    verifier: Verifier | None = None,
    inventories: Path | None = None,
    ctx: ReportContext | None = None,
) -> dict[str, Any]:
    """The report of ``client`` for ``period`` (default: this month) as a JSON-able dict."""
    ctx = ctx or build_context(ledger, client, period, lang=lang)
    if msp is None:
        from runner.report.branding import load_msp

        msp = load_msp(inventories).as_dict()
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "lang": ctx.lang,
        "client": client_facts(client),
        "msp": msp,
        "period": ctx.period.as_dict(),
        "as_of": ctx.as_of.isoformat(),
        "ledger": ledger_facts(ctx, verifier),
        "summary": core.summary(ctx),
        "coverage": core.coverage(ctx),
    }
    for name in DOMAIN_SECTIONS:
        module = importlib.import_module(f"runner.report.sections.{name}")
        report[name] = module.build(ctx)
    report["findings"] = core.findings_section(ctx)
    report["waivers"] = core.waivers(ctx)
    report["windows"] = core.windows(ctx)
    report["interventions"] = core.interventions(ctx)
    return report
