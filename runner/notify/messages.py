"""What each channel is sent: an e-mail, a Teams Adaptive Card message, a ``maint.notification/1`` JSON.

The generic webhook's body follows :data:`WEBHOOK_SCHEMA` (JSON Schema, draft 2020-12)::

    {"schema": "maint.notification/1", "event": "new_failure", "test": false,
     "client": {"name": "demo", "display_name": "Demo client"},
     "subject": "...", "text": "... the e-mail's body ...",
     "fact": ["new_failure", "web1", "PATCH-LNX-01", 1234],
     "facts": {"host": "web1", "control": "PATCH-LNX-01", "severity": "high", ...},
     "ledger": {"client": "demo", "seqs": [1234, 1301], "notification_seq": 1302,
                "prove": ["maint ledger prove demo --seq 1234", "maint ledger prove demo --seq 1301"]},
     "attempt": 1, "sent_at": "2026-11-07T21:00:05+00:00"}

``facts`` is the event's own data (see :mod:`runner.notify.facts`); ``ledger.seqs`` are the rows of the
client's chain the fact was decided from, each provable against a checkpoint.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

SCHEMA = "maint.notification/1"
#: attachments of a report_ready e-mail, at most (larger reports are named, not attached)
MAX_ATTACH_BYTES = 10 * 1024 * 1024

WEBHOOK_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://maint.example/schemas/notification-1.json",
    "title": "maint notification",
    "type": "object",
    "required": [
        "schema",
        "event",
        "test",
        "client",
        "subject",
        "text",
        "fact",
        "facts",
        "ledger",
        "sent_at",
    ],
    "additionalProperties": False,
    "properties": {
        "schema": {"const": SCHEMA},
        "event": {"enum": ["new_failure", "missed_window", "drift", "backup_stale", "report_ready", "test"]},
        "test": {"type": "boolean"},
        "client": {
            "type": "object",
            "required": ["name", "display_name"],
            "additionalProperties": False,
            "properties": {"name": {"type": "string"}, "display_name": {"type": "string"}},
        },
        "subject": {"type": "string"},
        "text": {"type": "string"},
        "fact": {"type": "array", "minItems": 1, "items": {"type": ["string", "integer"]}},
        "facts": {"type": "object"},
        "ledger": {
            "type": "object",
            "required": ["client", "seqs", "prove"],
            "additionalProperties": False,
            "properties": {
                "client": {"type": "string"},
                "seqs": {"type": "array", "items": {"type": "integer", "minimum": 1}},
                "notification_seq": {"type": ["integer", "null"]},
                "prove": {"type": "array", "items": {"type": "string"}},
            },
        },
        "attempt": {"type": "integer", "minimum": 1},
        "sent_at": {"type": "string", "format": "date-time"},
    },
}


@dataclass(frozen=True)
class Message:
    """One notification as every channel needs it."""

    client: str
    display_name: str
    event: str
    fact: list[Any]
    subject: str
    body: str
    detail: Mapping[str, Any]
    notification_seq: int | None = None
    attempt: int = 1
    test: bool = False

    @property
    def seqs(self) -> list[int]:
        return sorted({int(s) for s in self.detail.get("seqs", [])})

    def webhook(self, sent_at: datetime) -> dict[str, Any]:
        facts = {k: v for k, v in self.detail.items() if k != "seqs"}
        return {
            "schema": SCHEMA,
            "event": self.event,
            "test": self.test,
            "client": {"name": self.client, "display_name": self.display_name},
            "subject": self.subject,
            "text": self.body,
            "fact": list(self.fact),
            "facts": facts,
            "ledger": {
                "client": self.client,
                "seqs": self.seqs,
                "notification_seq": self.notification_seq,
                "prove": [f"maint ledger prove {self.client} --seq {s}" for s in self.seqs],
            },
            "attempt": self.attempt,
            "sent_at": sent_at.isoformat(),
        }

    def teams(self) -> dict[str, Any]:
        """The documented incoming-webhook message: one Adaptive Card in ``attachments``."""
        facts = [{"title": "Client", "value": self.display_name}, {"title": "Event", "value": self.event}]
        for key in ("host", "control", "severity", "device", "schedule", "period"):
            value = self.detail.get(key)
            if isinstance(value, str) and value:
                facts.append({"title": key.capitalize(), "value": value})
        if self.seqs:
            facts.append({"title": "Ledger rows", "value": ", ".join(str(s) for s in self.seqs)})
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [
                {
                    "type": "TextBlock",
                    "text": self.subject,
                    "weight": "Bolder",
                    "size": "Medium",
                    "wrap": True,
                },
                {"type": "FactSet", "facts": facts},
                {"type": "TextBlock", "text": self.body, "wrap": True, "fontType": "Monospace"},
            ],
        }
        return {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": None,
                    "content": card,
                }
            ],
        }

    def email(self, sender: str, to: Sequence[str], sent_at: datetime) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = self.subject
        msg["From"] = sender
        msg["To"] = ", ".join(to)
        msg["Date"] = format_datetime(sent_at)
        msg["Message-ID"] = make_msgid("maint", domain=sender.rpartition("@")[2] or None)
        msg["X-Maint-Client"] = self.client
        msg["X-Maint-Event"] = self.event
        msg["X-Maint-Fact"] = json.dumps(self.fact, ensure_ascii=True)
        msg.set_content(self.body)
        budget = MAX_ATTACH_BYTES
        for name in self.detail.get("files", []) if self.event == "report_ready" else []:
            path = Path(str(name))
            try:
                data = path.read_bytes() if path.is_file() and path.stat().st_size <= budget else None
            except OSError:
                data = None
            if data is None:
                continue
            budget -= len(data)
            kind, _ = mimetypes.guess_type(path.name)
            main, _, sub = (kind or "application/octet-stream").partition("/")
            msg.add_attachment(data, maintype=main, subtype=sub, filename=path.name)
        return msg
