"""The network section: per network device, whether it was reached, its review findings and its configuration
changes within the period (conventions: :mod:`runner.report.sections._common`).

A **network device** is a host of the inventory that the ``network_config`` role is assigned to. Its review
findings are its ``NET-*`` rows in the state at the period's end; whether it was reached comes from its latest
``NET-*`` and ``MAINT-*`` results (a row ``not_checked`` or ``error`` whose reason is "host unreachable" or
"fetch failed" means not reached).

A **configuration change** is a snapshot of the device in the ``config_snapshots`` table (a snapshot is stored
only when the masked normalised configuration differs from the device's previous one) taken within the period,
with ``seq <= ctx.size``. Its line counts are those of :func:`runner.network.drift.compare` against the
device's previous snapshot (masked text only: a diff never shows a secret); the first snapshot of a device is
a change of kind ``added`` (every line added), as ``maint drift`` shows it; a snapshot that differs from the
previous one only in what an older masker left unmasked is no change.

Keys of ``build(ctx)``:

- ``devices``: sorted by host:

  - ``host``; ``platform``: ``network_config_platform`` from the inventory, else the latest snapshot's;
  - ``reachable``: False when a latest result says the device was not reached, True when it was checked
    and reached, None when it was never checked; ``reason``: why it was not reached or checked (else None);
  - ``findings``: how many ``NET-*`` controls fail or warn (waived ones left out);
    ``finding_controls``: their ids;
  - ``changes_in_period``: the changes above; ``last_change``: when the newest change up to the period's
    end was taken (even before the period), None without a snapshot; ``snapshots``: how many snapshots the
    device has up to the period's end;
  - ``status``: the worst effective status of the device's ``NET-*`` rows (``entry_status``);
    ``last_checked``;
  - ``seq``: the newest seq of its latest ``NET-*`` results (None: never checked); ``seqs``: all of them.
- ``changes``: every change within the period, ``{"host", "at", "added", "removed", "run_id", "kind"
  ("added" | "changed"), "snapshot_id", "seq"}``, oldest first;
- ``unreachable``: devices with ``reachable`` False; ``findings_total``: the sum of ``findings``;
  ``changes_total``: len(changes); ``devices_changed``: devices with a change within the period.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from runner.network.drift import Change, compare
from runner.network.snapshots import Snapshot, history
from runner.report.context import ReportContext
from runner.report.sections import _common as c
from runner.results import Status
from runner.state import StateRow

ROLE = "network_config"
_FINDING = frozenset({Status.FAIL.value, Status.WARN.value})


def _taken(snap: Snapshot) -> datetime | None:
    return c.parse_time(snap.taken_at)


def _changes(
    ctx: ReportContext, device: str, snaps: Sequence[Snapshot]
) -> tuple[list[dict[str, Any]], str | None]:
    """The device's changes within the period, and when the newest change up to the period's end was taken."""
    period = ctx.period
    found: list[dict[str, Any]] = []
    last: str | None = None
    for n in range(
        len(snaps) - 1, -1, -1
    ):  # newest first: stop once the period is left and last_change known
        snap = snaps[n]
        taken = _taken(snap)
        if taken is None:
            continue
        inside = period.contains(taken)
        if not inside and last is not None:
            break
        drift = compare(device, snaps[n - 1] if n > 0 else None, snap)
        if drift.change is Change.UNCHANGED:
            continue
        last = last or c.iso(taken)
        if inside:
            found.append(
                {
                    "host": device,
                    "at": c.iso(taken),
                    "added": drift.added,
                    "removed": drift.removed,
                    "run_id": snap.run_id,
                    "kind": drift.change.value,
                    "snapshot_id": snap.id,
                    "seq": snap.seq,
                }
            )
    found.reverse()
    return found, last


def _reach(rows: Sequence[StateRow]) -> tuple[bool | None, str | None]:
    for row in rows:
        if row.latest is not None and row.unreachable:
            return False, row.reason or None
    if not any(row.latest is not None for row in rows):
        return None, c.not_judged_reason(rows)
    return True, None


def build(ctx: ReportContext) -> dict[str, Any]:
    state = ctx.state()
    scope = state.scope
    devices = sorted(host for host in scope.hosts if ROLE in scope.roles.get(host, frozenset()))
    end = ctx.period.end
    by_device: dict[str, list[Snapshot]] = {}
    for snap in history(ctx.ledger, ctx.client.name):
        taken = _taken(snap)
        if snap.seq <= ctx.size and taken is not None and taken < end and snap.device in devices:
            by_device.setdefault(snap.device, []).append(snap)
    rows_by_host = c.by_host(state, ("NET-", "MAINT-"))
    entries: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for device in devices:
        rows = rows_by_host.get(device, [])
        net = [row for row in rows if row.control.startswith("NET-")]
        reachable, reason = _reach(rows)
        failing = sorted(row.control for row in net if row.effective in _FINDING)
        snaps = sorted(by_device.get(device, []), key=lambda s: s.seq)
        found, last = _changes(ctx, device, snaps)
        changes.extend(found)
        seqs = c.seqs_of(net)
        entries.append(
            {
                "host": device,
                "platform": scope.platforms.get(device) or (snaps[-1].platform if snaps else None),
                "reachable": reachable,
                "reason": reason,
                "findings": len(failing),
                "finding_controls": failing,
                "changes_in_period": len(found),
                "last_change": last,
                "snapshots": len(snaps),
                "status": c.entry_status(net),
                "last_checked": c.last_checked(net),
                "seq": max(seqs) if seqs else None,
                "seqs": seqs,
            }
        )
    changes.sort(key=lambda ch: (ch["at"], ch["host"], ch["seq"]))
    return {
        "devices": entries,
        "changes": changes,
        "unreachable": [e["host"] for e in entries if e["reachable"] is False],
        "findings_total": sum(e["findings"] for e in entries),
        "changes_total": len(changes),
        "devices_changed": sum(1 for e in entries if e["changes_in_period"]),
    }
