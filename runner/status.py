"""Latest status per host and control, with the client's waivers applied when reading.

Waivers are never stored as a status: a live waiver shows a failing control as ``waived``;
an expired one shows the failure again, saying when the waiver ran out.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from runner.inventory.schema import ClientSettings, Waiver
from runner.results import CheckResult, Status

WAIVED = "waived"


@dataclass(frozen=True)
class StatusRow:
    result: CheckResult
    waiver: Waiver | None = None
    expired_waiver: Waiver | None = None

    @property
    def effective(self) -> str:
        """The status a report shows: the stored one, or ``waived``."""
        return WAIVED if self.waiver is not None else self.result.status.value

    @property
    def passing(self) -> bool:
        return self.result.status is Status.PASS or self.waiver is not None

    @property
    def note(self) -> str:
        if self.waiver is not None:
            until = f" until {self.waiver.expires}" if self.waiver.expires else " (no expiry)"
            return f"waived by {self.waiver.owner}{until}: {self.waiver.reason}"
        if self.expired_waiver is not None:
            return f"waiver expired on {self.expired_waiver.expires} ({self.expired_waiver.owner})"
        return ""

    def as_dict(self) -> dict[str, Any]:
        data = self.result.model_dump(mode="json")
        data["effective_status"] = self.effective
        data["note"] = self.note
        return data


def matching_waiver(result: CheckResult, waivers: Sequence[Waiver]) -> Waiver | None:
    for waiver in waivers:
        if waiver.control == result.control and fnmatch.fnmatchcase(result.host, waiver.hosts):
            return waiver
    return None


def apply_waivers(results: Sequence[CheckResult], waivers: Sequence[Waiver], today: date) -> list[StatusRow]:
    """Apply waivers to results (a passing result needs none and shows none)."""
    rows = []
    for result in results:
        if result.status is Status.PASS:
            rows.append(StatusRow(result))
            continue
        live = [w for w in waivers if w.expires is None or w.expires >= today]
        dead = [w for w in waivers if w.expires is not None and w.expires < today]
        waiver = matching_waiver(result, live)
        expired = None if waiver else matching_waiver(result, dead)
        rows.append(StatusRow(result, waiver=waiver, expired_waiver=expired))
    rows.sort(key=lambda r: (r.result.host, r.result.control))
    return rows


def client_status(results: Sequence[CheckResult], settings: ClientSettings) -> list[StatusRow]:
    """Waivers applied as of today in the client's own time zone (a waiver runs to the end of its day)."""
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    return apply_waivers(results, settings.waivers, today)
