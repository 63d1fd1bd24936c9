"""A notification pass: new facts recorded ``pending``, what is due delivered, each outcome a ledger row.

One pass per client at a time (``var/locks/notify/<client>.lock``, not waited for: a pass that finds it
held leaves the work to the one running). The pass

1. decides the facts (:func:`runner.notify.facts.detect`) and appends a ``pending`` row for every
   (fact, channel) not recorded yet, due at once;
2. delivers every (fact, channel) whose latest row is ``pending`` or ``failed`` with ``next_attempt_at``
   come, each channel in a thread of its own with :attr:`NotifySettings.budget_seconds` for all its sends:
   once a send fails, or the budget is spent, the channel's other messages wait for the next pass;
3. appends the outcomes: ``sent``, or ``failed`` with the scrubbed error and the next attempt after
   :data:`BACKOFF` (``next_attempt_at`` NULL after :data:`MAX_ATTEMPTS`: given up).

Nothing here raises into a run (:func:`safe_pass`), and a run's exit code never depends on it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner import paths
from runner.ledger.chain import canonical_json
from runner.locks import ClientBusyError, ClientLock
from runner.notify import facts as facts_mod
from runner.notify import store
from runner.notify.channels import (
    AnyChannel,
    ChannelConfigError,
    DeliveryError,
    Resolved,
    resolve,
    send,
)
from runner.notify.messages import Message
from runner.notify.settings import Event, NotifySettings
from runner.notify.store import FAILED, PENDING, SENT, Notification

if TYPE_CHECKING:
    from runner.inventory import Client
    from runner.ledger import Ledger

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
#: the wait after the 1st, 2nd, 3rd and 4th failed attempt (then the last one again)
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=25), timedelta(hours=2))
#: a send is not started with less of the channel's budget left than this (seconds)
MIN_SLICE_S = 0.2
TEST_EVENT = "test"


def next_attempt(attempts: int, now: datetime) -> datetime | None:
    """When to try again after ``attempts`` failed attempts; None once :data:`MAX_ATTEMPTS` is reached."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + BACKOFF[min(attempts, len(BACKOFF)) - 1]


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class Delivery:
    """One (fact, channel) this pass handled."""

    fact: str
    event: str
    channel: str
    outcome: str  # sent | failed | deferred (not tried: the channel failed or its budget was spent)
    attempts: int
    subject: str = ""
    error: str | None = None
    next_attempt_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class PassReport:
    client: str
    trigger: str
    facts: int = 0
    recorded: int = 0  # (fact, channel) pairs seen for the first time
    deliveries: list[Delivery] = field(default_factory=list)
    busy: bool = False  # another pass of the client was running

    def count(self, outcome: str) -> int:
        return sum(1 for d in self.deliveries if d.outcome == outcome)

    def as_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "trigger": self.trigger,
            "facts": self.facts,
            "recorded": self.recorded,
            "sent": self.count(SENT),
            "failed": self.count(FAILED),
            "deferred": self.count("deferred"),
            "busy": self.busy,
            "deliveries": [d.as_dict() for d in self.deliveries],
        }


def notify_lock(client: str) -> ClientLock:
    return ClientLock(client, directory=paths.var_dir() / "locks" / "notify")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _row(
    client: str,
    fact: str,
    event: str,
    channel: AnyChannel,
    subject: str,
    body_digest: str,
    outcome: str,
    attempts: int,
    now: datetime,
    *,
    body: str | None = None,
    detail: dict[str, Any] | None = None,
    next_at: datetime | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    return {
        "client": client,
        "fact": fact,
        "event": event,
        "channel": channel.name,
        "channel_type": channel.type,
        "subject": subject,
        "body": body,
        "body_sha256": body_digest,
        "detail": canonical_json(detail) if detail is not None else None,
        "outcome": outcome,
        "attempts": attempts,
        "next_attempt_at": _iso(next_at) if next_at is not None else None,
        "error": error,
        "recorded_at": _iso(now),
    }


def _resolved(settings: NotifySettings) -> tuple[dict[str, Resolved], dict[str, str]]:
    ready: dict[str, Resolved] = {}
    broken: dict[str, str] = {}
    for channel in settings.channels:
        try:
            ready[channel.name] = resolve(channel)
        except ChannelConfigError as exc:
            broken[channel.name] = str(exc)
    return ready, broken


def _scrub_all(ready: dict[str, Resolved], text: str) -> str:
    for resolved in ready.values():
        text = resolved.clean(text)
    return text


class _Worker(threading.Thread):
    """Sends one channel's messages in order within its budget; stops at the first failure."""

    def __init__(
        self, resolved: Resolved, items: list[tuple[Notification, Message]], budget: float, now: datetime
    ) -> None:
        super().__init__(name=f"notify-{resolved.channel.name}", daemon=True)
        self.resolved, self.items, self.budget, self.now = resolved, items, budget, now
        self.done: list[tuple[Notification, str | None]] = []  # (item, error or None when sent)
        self._lock = threading.Lock()

    def run(self) -> None:
        deadline = time.monotonic() + self.budget
        for item, message in self.items:
            left = deadline - time.monotonic()
            if left < MIN_SLICE_S:
                return
            timeout = min(float(self.resolved.channel.timeout_s), left)
            try:
                send(self.resolved, message, datetime.now(UTC), timeout)
                error = None
            except DeliveryError as exc:
                error = self.resolved.scrub(str(exc))
            except Exception as exc:  # a defect of one send must not stop the pass
                log.debug("notify %s", self.resolved.channel.name, exc_info=True)
                error = self.resolved.scrub(f"{type(exc).__name__}: {exc}")
            with self._lock:
                self.done.append((item, error))
            if error is not None:
                return

    def results(self) -> list[tuple[Notification, str | None]]:
        with self._lock:
            return list(self.done)


def _message(client: Client, n: Notification) -> Message:
    import json

    return Message(
        client=client.name,
        display_name=client.settings.display_name,
        event=n.event,
        fact=json.loads(n.fact),
        subject=n.subject,
        body=n.body,
        detail=n.detail,
        notification_seq=n.seqs[0] if n.seqs else None,
        attempt=n.attempts + 1,
        test=n.event == TEST_EVENT,
    )


def deliver(
    ledger: Ledger,
    client: Client,
    settings: NotifySettings,
    due: Sequence[Notification],
    now: datetime,
    ready: dict[str, Resolved],
    broken: dict[str, str],
) -> list[Delivery]:
    """Send ``due`` (each channel in its own thread, within its budget); append the outcomes."""
    by_channel: dict[str, list[Notification]] = {}
    for n in due:
        by_channel.setdefault(n.channel, []).append(n)
    outcomes: list[tuple[Notification, str | None]] = []
    workers: list[_Worker] = []
    for name, items in sorted(by_channel.items()):
        if name in broken:  # cannot send as configured: one failed attempt each, retried with back-off
            outcomes += [(n, broken[name]) for n in items]
            continue
        worker = _Worker(ready[name], [(n, _message(client, n)) for n in items], settings.budget_seconds, now)
        workers.append(worker)
        worker.start()
    stop = time.monotonic() + settings.budget_seconds + 1.0
    for worker in workers:
        worker.join(max(0.0, stop - time.monotonic()))
        if worker.is_alive():  # a send stuck past every timeout (DNS): its item stays due
            log.warning("notify: channel %s did not finish within its budget", worker.resolved.channel.name)
        outcomes += worker.results()
    handled = {n.key for n, _ in outcomes}
    rows: list[dict[str, Any]] = []
    found: list[Delivery] = []
    channels = {c.name: c for c in settings.channels}
    for n, error in outcomes:
        attempts = n.attempts + 1
        next_at = None if error is None else next_attempt(attempts, now)
        outcome = SENT if error is None else FAILED
        rows.append(
            _row(
                client.name,
                n.fact,
                n.event,
                channels[n.channel],
                n.subject,
                _digest(n.body),
                outcome,
                attempts,
                now,
                next_at=next_at,
                error=error,
            )
        )
        found.append(
            Delivery(
                n.fact,
                n.event,
                n.channel,
                outcome,
                attempts,
                n.subject,
                error,
                _iso(next_at) if next_at is not None else None,
            )
        )
    for n in due:
        if n.key not in handled:
            found.append(Delivery(n.fact, n.event, n.channel, "deferred", n.attempts, n.subject))
    if rows:
        ledger.append(store.notifications, rows)
    return found


def _is_due(n: Notification, now: datetime, channels: set[str]) -> bool:
    return (
        n.outcome in (PENDING, FAILED)
        and n.event != TEST_EVENT
        and n.next_attempt_at is not None
        and _dt(n.next_attempt_at) <= now
        and n.channel in channels
    )


def run_pass(
    ledger: Ledger,
    client: Client,
    *,
    now: datetime | None = None,
    trigger: str = "",
    report: tuple[str, list[Path]] | None = None,
    detect: bool = True,
) -> PassReport:
    """One pass for one client (see the module docstring); ``detect=False`` only retries what is due."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    found = PassReport(client=client.name, trigger=trigger)
    settings = client.settings.notify
    if settings is None:
        return found
    lock = notify_lock(client.name)
    try:
        lock.acquire(retries=0)
    except ClientBusyError:
        found.busy = True
        return found
    try:
        facts = facts_mod.detect(ledger, client, settings, now) if detect else []
        if report is not None and settings.rule(Event.REPORT_READY) is not None:
            facts.append(facts_mod.report_ready(client, report[0], report[1], now))
        found.facts = len(facts)
        state = store.read(ledger.engine, [client.name])
        channels = {c.name: c for c in settings.channels}
        new_rows = []
        ready: dict[str, Resolved] = {}
        broken: dict[str, str] = {}
        fresh = [
            (fact, name)
            for fact in facts
            for name in settings.channels_for(fact.event)
            if (client.name, fact.fact, name) not in state
        ]
        if fresh or any(_is_due(n, now, set(channels)) for n in state.values()):
            ready, broken = _resolved(settings)  # credentials are read only when something is to be sent
        for fact, name in fresh:
            subject = _scrub_all(ready, fact.subject)
            body = _scrub_all(ready, fact.body)
            detail = {k: _scrub_all(ready, v) if isinstance(v, str) else v for k, v in fact.detail.items()}
            new_rows.append(
                _row(
                    client.name,
                    fact.fact,
                    fact.event.value,
                    channels[name],
                    subject,
                    _digest(body),
                    PENDING,
                    0,
                    now,
                    body=body,
                    detail=detail,
                    next_at=now,
                )
            )
        if new_rows:
            ledger.append(store.notifications, new_rows)
            state = store.read(ledger.engine, [client.name])
        found.recorded = len(new_rows)
        due = sorted(
            (n for n in state.values() if _is_due(n, now, set(channels))),
            key=lambda n: n.seqs[0],
        )
        if due:
            found.deliveries = deliver(ledger, client, settings, due, now, ready, broken)
    finally:
        lock.release()
    return found


def safe_pass(
    ledger: Ledger,
    client: Client | str,
    *,
    now: datetime | None = None,
    trigger: str = "",
    report: tuple[str, list[Path]] | None = None,
    detect: bool = True,
) -> PassReport | None:
    """:func:`run_pass` that never raises (what runs, ``maint due`` and the report filing call)."""
    name = client if isinstance(client, str) else client.name
    try:
        if isinstance(client, str):
            from runner.inventory import load_client

            client = load_client(client)
        if client.settings.notify is None:
            return None
        found = run_pass(ledger, client, now=now, trigger=trigger, report=report, detect=detect)
    except Exception as exc:
        log.warning("notifications of %s not sent this time (%s): %s", name, trigger, type(exc).__name__)
        log.debug("notification pass of %s", name, exc_info=True)
        return None
    if found.count(FAILED):
        log.warning(
            "notifications of %s: %d failed, retried later (maint notify list %s)",
            name,
            found.count(FAILED),
            name,
        )
    return found


# -- maint notify test ------------------------------------------------------------------------------


@dataclass
class ProbeOutcome:
    channel: str
    type: str
    target: str
    sent: bool
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def send_test(
    ledger: Ledger,
    client: Client,
    settings: NotifySettings,
    names: Sequence[str],
    now: datetime | None = None,
) -> list[ProbeOutcome]:
    """Send a test message on each channel of ``names`` (already resolvable: see :func:`resolve`);
    each outcome is a ``test`` row of the ledger (never retried)."""
    from runner.notify.channels import target

    now = (now or datetime.now(UTC)).astimezone(UTC)
    stamp = _iso(now)
    subject = f"[maint] {client.settings.display_name}: test notification"
    results: list[ProbeOutcome] = []
    rows = []
    for name in names:
        channel = settings.channel(name)
        assert channel is not None
        resolved = resolve(channel)
        body = (
            f"This is a test notification of maint for {client.settings.display_name} ({client.name}) "
            f"on channel {name} ({channel.type}), sent {stamp}.\n"
        )
        fact = [TEST_EVENT, name, stamp]
        message = Message(
            client=client.name,
            display_name=client.settings.display_name,
            event=TEST_EVENT,
            fact=fact,
            subject=subject,
            body=body,
            detail={"channel": name, "seqs": []},
            test=True,
        )
        try:
            send(resolved, message, now, min(float(channel.timeout_s), settings.budget_seconds))
            error = None
        except DeliveryError as exc:
            error = resolved.scrub(str(exc))
        except Exception as exc:
            error = resolved.scrub(f"{type(exc).__name__}: {exc}")
        results.append(ProbeOutcome(name, channel.type, target(resolved), error is None, error))
        rows.append(
            _row(
                client.name,
                canonical_json(fact),
                TEST_EVENT,
                channel,
                subject,
                _digest(body),
                SENT if error is None else FAILED,
                1,
                now,
                body=body,
                detail={"channel": name},
                error=error,
            )
        )
    if rows:
        ledger.append(store.notifications, rows)
    return results
