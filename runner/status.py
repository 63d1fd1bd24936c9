"""The rules every report applies to a result: waivers, and what counts as not passing.

Waivers are never stored as a status: a live waiver shows a result that is not a pass as ``waived``;
an expired one shows it again, saying when the waiver ran out. The same rules judge a run's table
(``maint run``, ``maint demo``) and the current state (``maint status``, :mod:`runner.state`):

- ``pass`` and ``not_applicable`` pass; a live waiver makes anything else pass;
- ``fail``, ``warn`` and ``error`` do not pass (``error``: the check itself broke);
- ``not_checked`` does not pass only when the host could not be reached (:data:`UNREACHABLE_REASONS`);
  otherwise (never checked yet, a run interrupted, a prerequisite missing) it is shown, not counted,
  unless the last conclusive result before it did not pass (a known failure stays one until a check
  shows otherwise).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from runner.inventory.schema import ClientSettings, Waiver
from runner.results import Status

WAIVED = "waived"
#: how a row standing for a host or device that could not be reached starts its ``evidence.reason``
#: (runner/events.py for an unreachable host, the network_config action for a device it could not read)
UNREACHABLE_REASONS = ("host unreachable", "fetch failed")
#: statuses that never count as not passing
PASSING = frozenset({Status.PASS, Status.NOT_APPLICABLE})
#: conclusive statuses that do not pass
JUDGED_BAD = frozenset({Status.FAIL, Status.WARN})


def matching_waiver(control: str, host: str, waivers: Sequence[Waiver]) -> Waiver | None:
    for waiver in waivers:
        if waiver.control == control and fnmatch.fnmatchcase(host, waiver.hosts):
            return waiver
    return None


class Waivers:
    """A client's waivers split at ``today`` (a waiver runs to the end of its expiry day)."""

    def __init__(self, waivers: Sequence[Waiver], today: date) -> None:
        self.today = today
        self.live = [w for w in waivers if w.expires is None or w.expires >= today]
        self.expired = [w for w in waivers if w.expires is not None and w.expires < today]
        self._controls = {w.control for w in waivers}

    def lookup(self, control: str, host: str) -> tuple[Waiver | None, Waiver | None]:
        """(live waiver, expired waiver) for this control on this host; at most one is set."""
        if control not in self._controls:
            return None, None
        live = matching_waiver(control, host, self.live)
        return live, None if live else matching_waiver(control, host, self.expired)


def client_today(settings: ClientSettings, now: datetime | None = None) -> date:
    """Today in the client's own time zone (what a waiver's expiry date means)."""
    zone = ZoneInfo(settings.timezone)
    return (now.astimezone(zone) if now is not None else datetime.now(zone)).date()


def reason_of(evidence: Mapping[str, Any] | None) -> str:
    reason = evidence.get("reason") if isinstance(evidence, Mapping) else None
    return reason if isinstance(reason, str) else ""


def unreachable(status: Status, reason: str) -> bool:
    """Whether a row stands for a host or device that could not be reached."""
    return status in (Status.NOT_CHECKED, Status.ERROR) and reason.startswith(UNREACHABLE_REASONS)


def not_passing(status: Status, reason: str, last_conclusive: Status | None = None) -> bool:
    """The rule above, before waivers."""
    if status in PASSING:
        return False
    if status in JUDGED_BAD or status is Status.ERROR:
        return True
    # not_checked
    return unreachable(status, reason) or last_conclusive in JUDGED_BAD


def note(waiver: Waiver | None, expired: Waiver | None) -> str:
    if waiver is not None:
        until = f" until {waiver.expires}" if waiver.expires else " (no expiry)"
        return f"waived by {waiver.owner}{until}: {waiver.reason}"
    if expired is not None:
        return f"waiver expired on {expired.expires} ({expired.owner})"
    return ""
