"""Configuration snapshots in the ledger: masked normalised text always, raw text encrypted at rest.

One chained row per (client, device) configuration *change*: a fetch whose masked normalised text has
the same content hash as the device's latest snapshot stores nothing (FortiOS re-encrypting its ``ENC``
values on every ``show`` is therefore not a change). The raw text, which can restore the device, is
stored Fernet-encrypted with the key from ``MAINT_SNAPSHOT_KEY`` (a Fernet key) or the file named by
``MAINT_SNAPSHOT_KEY_FILE``; without a key only the masked text is stored (one warning per process).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

from runner.ledger import schema
from runner.ledger.store import Ledger
from runner.network.mask import mask
from runner.network.normalise import normalise
from runner.network.platforms import Platform

log = logging.getLogger(__name__)

KEY_ENV = "MAINT_SNAPSHOT_KEY"
KEY_FILE_ENV = "MAINT_SNAPSHOT_KEY_FILE"
ENCRYPTION = "fernet"
#: the largest id a row can have (a signed 64-bit integer in every database the ledger runs on)
MAX_ID = 2**63 - 1

#: the domain's chained table (migration 0002; named in runner.domains)
config_snapshots = schema.chained_table(
    "config_snapshots",
    sa.Column("run_id", sa.Text),
    sa.Column("device", sa.Text, nullable=False),
    sa.Column("platform", sa.Text, nullable=False),
    sa.Column("taken_at", sa.Text, nullable=False),
    sa.Column("content_hash", sa.Text, nullable=False),
    sa.Column("masked_text", sa.Text, nullable=False),
    sa.Column("raw_encrypted", sa.Text),
    sa.Column("encryption", sa.Text, nullable=False),
    sa.Column("line_count", sa.Integer, nullable=False),
    sa.Index("ix_config_snapshots_device", "client", "device", "seq"),
)


class SnapshotError(Exception):
    """A snapshot cannot be stored or read (bad key, no such snapshot, no raw text)."""


@dataclass(frozen=True)
class Snapshot:
    id: int
    seq: int
    client: str
    device: str
    platform: str
    run_id: str | None
    taken_at: str
    content_hash: str
    masked_text: str
    raw_encrypted: str | None
    encryption: str
    line_count: int

    @property
    def has_raw(self) -> bool:
        return self.raw_encrypted is not None

    @property
    def shown_text(self) -> str:
        """The masked text as it may be shown: masked again with today's masker, so a snapshot stored
        before a masking gap was closed never prints the secret it kept (masking is idempotent)."""
        try:
            platform = Platform(self.platform)
        except ValueError:
            return self.masked_text
        return mask(platform, self.masked_text)


@dataclass(frozen=True)
class StoreOutcome:
    """What :func:`store` did: ``stored`` False means the configuration was unchanged."""

    snapshot_id: int
    content_hash: str
    stored: bool
    encrypted: bool
    masked_text: str


_warned_no_key = False


def snapshot_key() -> Fernet | None:
    """The Fernet key from the environment (value or file), or None when none is configured."""
    value = os.environ.get(KEY_ENV, "").strip()
    source = KEY_ENV
    if not value:
        path = os.environ.get(KEY_FILE_ENV, "").strip()
        if not path:
            return None
        source = f"{KEY_FILE_ENV} ({path})"
        try:
            value = Path(path).expanduser().read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise SnapshotError(f"cannot read the snapshot key file {path}: {type(exc).__name__}") from None
    try:
        return Fernet(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise SnapshotError(
            f"the snapshot key from {source} is not a Fernet key (32 url-safe base64 bytes); make one "
            "with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        ) from None


def masked_config(platform: Platform, raw: str) -> str:
    """The text stored for review and diff: normalised, then every secret masked."""
    return mask(platform, normalise(platform, raw))


def content_hash(masked_text: str) -> str:
    return hashlib.sha256(masked_text.encode("utf-8")).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _columns() -> list[sa.Column[object]]:
    return list(config_snapshots.c)


def _from_row(row: sa.Row[object]) -> Snapshot:
    m = row._mapping
    return Snapshot(
        id=int(m["id"]),
        seq=int(m["seq"]),
        client=str(m["client"]),
        device=str(m["device"]),
        platform=str(m["platform"]),
        run_id=None if m["run_id"] is None else str(m["run_id"]),
        taken_at=str(m["taken_at"]),
        content_hash=str(m["content_hash"]),
        masked_text=str(m["masked_text"]),
        raw_encrypted=None if m["raw_encrypted"] is None else str(m["raw_encrypted"]),
        encryption=str(m["encryption"]),
        line_count=int(m["line_count"]),
    )


def latest(ledger: Ledger, client: str, device: str, *, max_seq: int | None = None) -> Snapshot | None:
    """The device's newest snapshot (with ``seq <= max_seq`` when given)."""
    t = config_snapshots
    query = sa.select(t).where(t.c.client == client, t.c.device == device)
    if max_seq is not None:
        query = query.where(t.c.seq <= max_seq)
    with ledger.engine.connect() as conn:
        row = conn.execute(query.order_by(t.c.seq.desc()).limit(1)).first()
    return None if row is None else _from_row(row)


def state(
    ledger: Ledger, client: str, *, max_seq: int | None = None, before: str | None = None
) -> dict[str, Snapshot]:
    """Each device's newest snapshot up to ``max_seq`` (or taken before the ISO time ``before``)."""
    t = config_snapshots
    where = [t.c.client == client]
    if max_seq is not None:
        where.append(t.c.seq <= max_seq)
    if before is not None:
        where.append(t.c.taken_at < before)
    newest = (
        sa.select(t.c.device, sa.func.max(t.c.seq).label("seq")).where(*where).group_by(t.c.device).subquery()
    )
    query = sa.select(t).join(newest, sa.and_(t.c.device == newest.c.device, t.c.seq == newest.c.seq))
    with ledger.engine.connect() as conn:
        rows = conn.execute(query.where(t.c.client == client)).all()
    return {snap.device: snap for snap in map(_from_row, rows)}


def history(ledger: Ledger, client: str, device: str | None = None) -> list[Snapshot]:
    """Every snapshot of the client (or one device), oldest first."""
    t = config_snapshots
    query = sa.select(t).where(t.c.client == client)
    if device is not None:
        query = query.where(t.c.device == device)
    with ledger.engine.connect() as conn:
        return [_from_row(r) for r in conn.execute(query.order_by(t.c.seq))]


def store(
    ledger: Ledger,
    *,
    client: str,
    device: str,
    platform: Platform,
    raw: str,
    run_id: str | None = None,
    key: Fernet | None = None,
    use_env_key: bool = True,
) -> StoreOutcome:
    """Store the configuration unless the device's latest snapshot has the same masked content."""
    global _warned_no_key
    masked = masked_config(platform, raw)
    digest = content_hash(masked)
    if key is None and use_env_key:
        key = snapshot_key()
    previous = latest(ledger, client, device)
    if previous is not None and previous.content_hash == digest:
        log.info("%s/%s: configuration unchanged (%s)", client, device, digest[:12])
        return StoreOutcome(previous.id, digest, False, previous.has_raw, masked)
    if key is None and not _warned_no_key:
        _warned_no_key = True
        log.warning(
            "no snapshot key (%s or %s): storing masked configurations only; they cannot restore a device",
            KEY_ENV,
            KEY_FILE_ENV,
        )
    row = {
        "client": client,
        "run_id": run_id,
        "device": device,
        "platform": platform.value,
        "taken_at": _now(),
        "content_hash": digest,
        "masked_text": masked,
        "raw_encrypted": key.encrypt(raw.encode("utf-8")).decode("ascii") if key else None,
        "encryption": ENCRYPTION if key else "none",
        "line_count": len(masked.splitlines()),
    }
    ledger.append(config_snapshots, [row])
    stored = latest(ledger, client, device)
    assert stored is not None
    log.info("%s/%s: snapshot %s stored (%s)", client, device, stored.id, digest[:12])
    return StoreOutcome(stored.id, digest, True, key is not None, masked)


def find(ledger: Ledger, client: str, device: str, snapshot_id: int | None = None) -> Snapshot:
    """The device's latest snapshot, or the one with ``snapshot_id``; SnapshotError when there is none."""
    if snapshot_id is None:
        found = latest(ledger, client, device)
    elif not 0 < snapshot_id <= MAX_ID:
        raise SnapshotError(f"--snapshot {snapshot_id}: a snapshot id is between 1 and {MAX_ID}")
    else:
        t = config_snapshots
        with ledger.engine.connect() as conn:
            row = conn.execute(
                sa.select(t).where(t.c.client == client, t.c.device == device, t.c.id == snapshot_id)
            ).first()
        found = None if row is None else _from_row(row)
    if found is None:
        which = "no snapshot" if snapshot_id is None else f"no snapshot {snapshot_id}"
        raise SnapshotError(f"client {client!r} has {which} for device {device!r}")
    return found


def decrypt_raw(snapshot: Snapshot, key: Fernet | None = None) -> str:
    """The restorable raw configuration; SnapshotError without a key, a raw copy, or with a wrong key."""
    where = f"snapshot {snapshot.id} of {snapshot.client}/{snapshot.device}"
    if snapshot.raw_encrypted is None:
        raise SnapshotError(f"{where} was stored without a key: only the masked configuration exists")
    key = key or snapshot_key()
    if key is None:
        raise SnapshotError(
            f"{where} is encrypted: set {KEY_ENV} or {KEY_FILE_ENV} to the snapshot key to show it"
        )
    try:
        return key.decrypt(snapshot.raw_encrypted.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise SnapshotError(f"{where}: the snapshot key does not decrypt it (wrong key?)") from None


def devices(ledger: Ledger, client: str) -> Sequence[str]:
    t = config_snapshots
    with ledger.engine.connect() as conn:
        return [str(r[0]) for r in conn.execute(sa.select(t.c.device).where(t.c.client == client).distinct())]
