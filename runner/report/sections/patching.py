"""The patching section: per host with patching controls (``PATCH-*``), from the latest results in the state
at the period's end (conventions: :mod:`runner.report.sections._common`).

Keys of ``build(ctx)``:

- ``hosts``: one entry per host with a ``PATCH-*`` control in the state, sorted by host:

  - ``host``; ``platform``: ``linux`` (``PATCH-LNX-*``) or ``windows`` (``PATCH-WIN-*``);
  - ``compliant``: True when every ``PATCH-*`` control of the host passes, is waived or is not applicable,
    False when one does not pass (the ``maint status`` rule: fail, warn, error, a host not reached, a known
    failure not checked since), None when no latest result judged any of them (not checked: see ``reason``);
  - ``pending_security``: security updates pending (Linux ``PATCH-LNX-02`` ``security``; Windows
    ``PATCH-WIN-01`` ``by_category.SecurityUpdates``); ``pending_total``: every pending update
    (``PATCH-LNX-01`` / ``PATCH-WIN-01`` ``pending``); None when that result did not judge;
  - ``days_since_update``: days from the last successful update to ``ctx.as_of`` (``PATCH-LNX-03`` /
    ``PATCH-WIN-02`` ``days_since`` at the check, plus the days since the check); None when no update is
    recorded or the result did not judge;
  - ``reboot_pending``: ``PATCH-LNX-04`` / ``PATCH-WIN-03`` failed (True), passed (False), else None;
  - ``status``: the worst effective status of the host's ``PATCH-*`` rows (``entry_status``); ``reason``:
    why the host was not judged (None when it was); ``last_checked``: the newest ``observed_at`` of those
    rows;
  - ``seqs``: the ledger seqs of those rows' latest results (``maint ledger prove CLIENT --seq N``).
- ``compliance_pct``: ``hosts_compliant / hosts_judged`` in %, None when no host was judged;
- ``hosts_judged``: hosts whose ``compliant`` is not None; ``hosts_compliant``: hosts compliant;
- ``pending_security_total``: the sum of the known ``pending_security``; ``reboots_pending``: hosts with
  ``reboot_pending`` True.
"""

from __future__ import annotations

from typing import Any

from runner.report.context import ReportContext
from runner.report.sections import _common as c
from runner.state import StateRow

PREFIXES = ("PATCH-LNX-", "PATCH-WIN-")
#: per platform: (pending total, pending security, last update, reboot) controls
LINUX = ("PATCH-LNX-01", "PATCH-LNX-02", "PATCH-LNX-03", "PATCH-LNX-04")
WINDOWS = ("PATCH-WIN-01", "PATCH-WIN-01", "PATCH-WIN-02", "PATCH-WIN-03")


def _host(ctx: ReportContext, host: str, rows: list[StateRow]) -> dict[str, Any]:
    windows = any(row.control.startswith("PATCH-WIN-") for row in rows)
    total_id, security_id, recent_id, reboot_id = WINDOWS if windows else LINUX
    total_ev = c.evidence(c.find(rows, total_id))
    security_ev = c.evidence(c.find(rows, security_id))
    pending_total = c.integer(total_ev.get("pending")) if total_ev is not None else None
    if security_ev is None:
        pending_security = None
    elif windows:
        pending_security = c.integer(c.mapping(security_ev.get("by_category")).get("SecurityUpdates"))
    else:
        pending_security = c.integer(security_ev.get("security"))
    recent = c.find(rows, recent_id)
    recent_ev = c.evidence(recent)
    at = c.observed(recent)
    days = c.number(recent_ev.get("days_since")) if recent_ev is not None else None
    days_since = c.age_days_at(days, at, ctx.as_of) if at is not None else None
    reboot = c.passed(c.find(rows, reboot_id))
    return {
        "host": host,
        "platform": "windows" if windows else "linux",
        "compliant": c.all_passing(rows),
        "pending_security": pending_security,
        "pending_total": pending_total,
        "days_since_update": days_since,
        "reboot_pending": None if reboot is None else not reboot,
        "status": c.entry_status(rows),
        "reason": c.not_judged_reason(rows),
        "last_checked": c.last_checked(rows),
        "seqs": c.seqs_of(rows),
    }


def build(ctx: ReportContext) -> dict[str, Any]:
    state = ctx.state()
    hosts = [_host(ctx, host, rows) for host, rows in c.by_host(state, PREFIXES).items()]
    judged = [h for h in hosts if h["compliant"] is not None]
    compliant = sum(1 for h in judged if h["compliant"])
    return {
        "hosts": hosts,
        "compliance_pct": c.pct(compliant, len(judged)),
        "hosts_judged": len(judged),
        "hosts_compliant": compliant,
        "pending_security_total": sum(h["pending_security"] or 0 for h in hosts),
        "reboots_pending": sum(1 for h in hosts if h["reboot_pending"] is True),
    }
