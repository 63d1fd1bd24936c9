"""Drift: per device, the unified diff of masked snapshots between two points of a client's history.

The newer side is each device's latest snapshot; the older side is its latest snapshot as of the end
of an earlier run (default: the run before the latest run that stored or checked configurations) or
before a date. Only masked normalised text is ever compared, so a diff never shows a secret and
FortiOS's re-encrypted ``ENC`` values never show up as a change.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from runner.ledger import schema
from runner.ledger.store import Ledger
from runner.network.snapshots import Snapshot, config_snapshots, state

ROLE = "network_config"


class DriftError(Exception):
    """The comparison point cannot be found (unknown run, bad date, no history)."""


class Change(StrEnum):
    CHANGED = "changed"
    ADDED = "added"  # no snapshot on the older side
    REMOVED = "removed"  # no snapshot on the newer side (cannot happen with latest-state; kept for --device)
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class DeviceDrift:
    device: str
    platform: str
    change: Change
    old: Snapshot | None
    new: Snapshot | None
    diff: tuple[str, ...] = ()
    added: int = 0
    removed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "platform": self.platform,
            "change": self.change.value,
            "old": _side(self.old),
            "new": _side(self.new),
            "lines_added": self.added,
            "lines_removed": self.removed,
            "diff": "\n".join(self.diff),
        }


def _side(snap: Snapshot | None) -> dict[str, Any] | None:
    if snap is None:
        return None
    return {
        "snapshot_id": snap.id,
        "run_id": snap.run_id,
        "taken_at": snap.taken_at,
        "hash": snap.content_hash,
    }


@dataclass(frozen=True)
class DriftReport:
    client: str
    since: str  # what the older side is: a run id or a date
    devices: tuple[DeviceDrift, ...] = field(default_factory=tuple)
    #: the client's latest ledger checkpoint as outputs carry it (:func:`runner.witness.carried`), or None
    checkpoint: dict[str, Any] | None = None

    def counts(self) -> dict[str, int]:
        counts = {c.value: 0 for c in Change}
        for d in self.devices:
            counts[d.change.value] += 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "since": self.since,
            "counts": self.counts(),
            "devices": [d.as_dict() for d in self.devices],
            "checkpoint": self.checkpoint,
        }


def diff_texts(old: str, new: str, old_label: str, new_label: str) -> tuple[tuple[str, ...], int, int]:
    """Unified diff lines (no line ends) and the counts of added and removed lines."""
    lines = tuple(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), fromfile=old_label, tofile=new_label, lineterm="", n=3
        )
    )
    added = sum(1 for ln in lines if ln.startswith("+") and not ln.startswith("+++"))
    removed = sum(1 for ln in lines if ln.startswith("-") and not ln.startswith("---"))
    return lines, added, removed


def compare(device: str, old: Snapshot | None, new: Snapshot | None) -> DeviceDrift:
    either = new or old
    if either is None:
        raise DriftError(f"device {device!r} has no snapshot on either side")
    platform = either.platform
    if old is None:
        assert new is not None
        lines, added, removed = diff_texts("", new.shown_text, "/dev/null", _label(device, new))
        return DeviceDrift(device, platform, Change.ADDED, None, new, lines, added, removed)
    if new is None:
        lines, added, removed = diff_texts(old.shown_text, "", _label(device, old), "/dev/null")
        return DeviceDrift(device, platform, Change.REMOVED, old, None, lines, added, removed)
    if old.content_hash == new.content_hash:
        return DeviceDrift(device, platform, Change.UNCHANGED, old, new)
    old_text, new_text = old.shown_text, new.shown_text
    if old_text == new_text:  # they differed only in what an older masker had left unmasked
        return DeviceDrift(device, platform, Change.UNCHANGED, old, new)
    lines, added, removed = diff_texts(old_text, new_text, _label(device, old), _label(device, new))
    return DeviceDrift(device, platform, Change.CHANGED, old, new, lines, added, removed)


def _label(device: str, snap: Snapshot) -> str:
    return f"{device} snapshot {snap.id} ({snap.run_id or 'no run'}, {snap.taken_at[:19]})"


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _network_runs(ledger: Ledger, client: str) -> list[str]:
    """Run ids of the client that ran the network role or stored a snapshot, oldest first."""
    runs, snaps = schema.runs, config_snapshots
    with ledger.engine.connect() as conn:
        rows = conn.execute(
            sa.select(runs.c.run_id, runs.c.roles).where(runs.c.client == client).order_by(runs.c.seq)
        ).all()
        with_snap = {
            str(r[0])
            for r in conn.execute(sa.select(snaps.c.run_id).where(snaps.c.client == client).distinct())
        }
    out = []
    for run_id, roles in rows:
        try:
            role_list = json.loads(roles)
        except ValueError:
            role_list = []
        if ROLE in role_list or run_id in with_snap:
            out.append(str(run_id))
    return out


def _run_end_seq(ledger: Ledger, client: str, run_id: str) -> int:
    """The last seq the run wrote (its final event, results or snapshots)."""
    seqs = []
    with ledger.engine.connect() as conn:
        for table in (schema.runs, schema.run_events, schema.check_results, config_snapshots):
            value = conn.execute(
                sa.select(sa.func.max(table.c.seq)).where(table.c.client == client, table.c.run_id == run_id)
            ).scalar()
            if value is not None:
                seqs.append(int(value))
    if not seqs:
        raise DriftError(f"client {client!r} has no run {run_id!r} in the ledger")
    return max(seqs)


def drift(ledger: Ledger, client: str, *, device: str | None = None, since: str | None = None) -> DriftReport:
    """Compare each device's latest snapshot with the one current at ``since`` (a run id or YYYY-MM-DD)."""
    if since is not None and _DATE.match(since):
        try:
            day = date.fromisoformat(since)
        except ValueError as exc:
            raise DriftError(f"--since {since!r}: {exc}") from None
        before = datetime(day.year, day.month, day.day, tzinfo=UTC).isoformat(timespec="microseconds")
        old_state = state(ledger, client, before=before)
        label = since
    else:
        if since is None:
            runs = _network_runs(ledger, client)
            if len(runs) < 2:
                old_state, label = {}, "the beginning"
                since_seq = None
            else:
                since = runs[-2]
                since_seq = _run_end_seq(ledger, client, since)
        else:
            since_seq = _run_end_seq(ledger, client, since)
        if since is not None:
            assert since_seq is not None
            old_state, label = state(ledger, client, max_seq=since_seq), since
    new_state = state(ledger, client)
    names = sorted(set(old_state) | set(new_state))
    if device is not None:
        if device not in names:
            raise DriftError(f"client {client!r} has no snapshot for device {device!r}")
        names = [device]
    results = [compare(name, old_state.get(name), new_state.get(name)) for name in names]
    results.sort(key=lambda d: (d.change is Change.UNCHANGED, d.device))
    return DriftReport(client=client, since=label, devices=tuple(results))


# -- rendering -------------------------------------------------------------------------------


def to_json(report: DriftReport) -> str:
    return json.dumps(report.as_dict(), indent=2)


def _counts(report: DriftReport) -> str:
    return ", ".join(f"{n} {c}" for c, n in report.counts().items())


def _ledger(report: DriftReport) -> dict[str, Any]:
    from runner.witness import section_facts

    return section_facts(report.checkpoint, report.client)


def to_markdown(report: DriftReport) -> str:
    """Template ``runner/templates/drift.md.j2``: the device table, each device's diff, the ledger
    checkpoint (``_checkpoint.md.j2``)."""
    from runner.render import render

    return render("drift.md.j2", report=report, counts=_counts(report), ledger=_ledger(report))


def to_html(report: DriftReport) -> str:
    """Template ``runner/templates/drift.html.j2`` (autoescaped): the device table, each diff, the ledger
    checkpoint (``_checkpoint.html.j2``)."""
    from runner.render import render

    return render(
        "drift.html.j2", report=report, counts=_counts(report), line_class=_css, ledger=_ledger(report)
    )


def _css(line: str) -> str:
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+") and not line.startswith("+++"):
        return "add"
    if line.startswith("-") and not line.startswith("---"):
        return "del"
    return ""


RENDERERS = {"md": to_markdown, "html": to_html, "json": to_json}


def render(report: DriftReport, fmt: str) -> str:
    try:
        return RENDERERS[fmt](report)
    except KeyError:
        raise DriftError(f"unknown format {fmt!r}; choose one of {', '.join(RENDERERS)}") from None
