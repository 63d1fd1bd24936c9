"""The ``notifications`` table: one chained row per notification state, never updated.

A (fact, channel) gets a ``pending`` row when the fact is first seen (it holds the subject, the body and
the facts the payloads are made from), then one row per delivery attempt: ``sent``, or ``failed`` with the
error (secrets removed) and ``next_attempt_at`` (NULL once it is given up). The latest row of a
(fact, channel) is its state. ``fact`` is the canonical JSON of the fact's key, e.g.
``["new_failure","web1","PATCH-LNX-01",1234]``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from runner.ledger import schema

TABLE = "notifications"
PENDING, SENT, FAILED = "pending", "sent", "failed"
OUTCOMES = (PENDING, SENT, FAILED)

#: the domain's chained table (migration 0006; named in runner.domains)
notifications = schema.chained_table(
    TABLE,
    sa.Column("fact", sa.Text, nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("channel_type", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text),
    sa.Column("body_sha256", sa.Text, nullable=False),
    sa.Column("detail", sa.Text),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("recorded_at", sa.Text, nullable=False),
    sa.Index("ix_notifications_fact", "client", "fact", "channel", "seq"),
)


@dataclass
class Notification:
    """The state of one (fact, channel): its latest row, with the message of its first."""

    client: str
    fact: str
    event: str
    channel: str
    channel_type: str
    subject: str
    body: str
    detail: dict[str, Any]
    outcome: str
    attempts: int
    next_attempt_at: str | None
    error: str | None
    recorded_at: str
    first_recorded_at: str
    seq: int
    seqs: list[int]

    @property
    def key(self) -> tuple[str, str]:
        return (self.fact, self.channel)

    def as_dict(self) -> dict[str, Any]:
        return {
            "fact": json.loads(self.fact),
            "event": self.event,
            "channel": self.channel,
            "channel_type": self.channel_type,
            "subject": self.subject,
            "outcome": self.outcome,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at,
            "error": self.error,
            "first_recorded_at": self.first_recorded_at,
            "recorded_at": self.recorded_at,
            "seq": self.seq,
            "seqs": self.seqs,
        }


def read(engine: sa.Engine, clients: Iterable[str] | None = None) -> dict[tuple[str, str, str], Notification]:
    """(client, fact, channel) -> its state, for ``clients`` (every client when None); one query."""
    t = notifications
    query = sa.select(t).order_by(t.c.client, t.c.seq)
    if clients is not None:
        query = query.where(t.c.client.in_(list(clients)))
    found: dict[tuple[str, str, str], Notification] = {}
    with engine.connect() as conn:
        for r in conn.execute(query).mappings():
            key = (str(r["client"]), str(r["fact"]), str(r["channel"]))
            current = found.get(key)
            if current is None:
                found[key] = Notification(
                    client=key[0],
                    fact=key[1],
                    event=str(r["event"]),
                    channel=key[2],
                    channel_type=str(r["channel_type"]),
                    subject=str(r["subject"]),
                    body=str(r["body"] or ""),
                    detail=json.loads(r["detail"]) if r["detail"] else {},
                    outcome=str(r["outcome"]),
                    attempts=int(r["attempts"]),
                    next_attempt_at=r["next_attempt_at"],
                    error=r["error"],
                    recorded_at=str(r["recorded_at"]),
                    first_recorded_at=str(r["recorded_at"]),
                    seq=int(r["seq"]),
                    seqs=[int(r["seq"])],
                )
                continue
            current.outcome = str(r["outcome"])
            current.attempts = int(r["attempts"])
            current.next_attempt_at = r["next_attempt_at"]
            current.error = r["error"]
            current.recorded_at = str(r["recorded_at"])
            current.seq = int(r["seq"])
            current.seqs.append(int(r["seq"]))
    return found
