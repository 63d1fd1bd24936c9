"""Checkpoints of a client's Merkle tree: what they say, where they are kept, how each one is judged.

A checkpoint is a C2SP ``tlog-checkpoint`` note: origin ``maint-ledger/<ledger id>/<client>``, the tree
size (the client's rows), the root hash, and the extension line ``time <UTC>``; signed (C2SP signed note,
Ed25519) when a ledger key is configured, else the body alone (unsigned). Each is stored in the ledger's
``checkpoints`` table and written to ``var/checkpoints/<client>/<size>.txt``: copies outside the
database that a report, an auditor or the client keeps are what make a rewrite of the database visible.
"""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runner.ledger import note as note_mod
from runner.ledger.note import Checkpoint, NoteError, Signer, Verifier
from runner.paths import var_dir

ORIGIN_PREFIX = "maint-ledger"
TIME_PREFIX = "time "


def origin(ledger_id: str, client: str) -> str:
    return f"{ORIGIN_PREFIX}/{ledger_id}/{client}"


def parse_origin(text: str) -> tuple[str, str] | None:
    """(ledger id, client) of one of our origins, None for any other origin."""
    prefix, _, rest = text.partition("/")
    ledger_id, _, client = rest.partition("/")
    if prefix != ORIGIN_PREFIX or not ledger_id or not client:
        return None
    return ledger_id, client


def _utc_text(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_note(
    ledger_id: str, client: str, size: int, root: bytes, when: datetime, signer: Signer | None
) -> str:
    """The checkpoint note (signed when ``signer`` is given)."""
    body = Checkpoint(
        origin=origin(ledger_id, client), size=size, root=root, extensions=(TIME_PREFIX + _utc_text(when),)
    ).body()
    return note_mod.sign_note(body, [signer]) if signer is not None else body


@dataclass(frozen=True)
class ParsedCheckpoint:
    """A checkpoint note read back: its body's fields and its signatures (not yet verified)."""

    note: str
    checkpoint: Checkpoint
    signatures: tuple[note_mod.Signature, ...]

    @property
    def made_at(self) -> str | None:
        for line in self.checkpoint.extensions:
            if line.startswith(TIME_PREFIX):
                return line[len(TIME_PREFIX) :]
        return None

    @property
    def ids(self) -> tuple[str, str] | None:
        return parse_origin(self.checkpoint.origin)


def parse(text: str) -> ParsedCheckpoint:
    """Parse a checkpoint note (signed or not); NoteError says what is wrong."""
    body, signatures = note_mod.split_note(text)
    return ParsedCheckpoint(note=text, checkpoint=Checkpoint.parse(body), signatures=tuple(signatures))


def signature_state(parsed: ParsedCheckpoint, verifier: Verifier | None) -> tuple[str, str | None]:
    """("verified" | "unsigned" | "not checked" | "bad", why it is bad)."""
    if not parsed.signatures:
        return "unsigned", None
    if verifier is None:
        return "not checked", None
    try:
        note_mod.verified_by(parsed.note, verifier)
    except NoteError as exc:
        return "bad", f"{exc} (key {verifier.name}, {verifier.fingerprint})"
    return "verified", None


@dataclass(frozen=True)
class StoredCheckpoint:
    """One checkpoint of the ledger's ``checkpoints`` table."""

    client: str
    size: int
    root: bytes
    made_at: str
    key_id: str | None
    note: str
    path: Path | None = field(default=None, compare=False)

    @property
    def signed(self) -> bool:
        return self.key_id is not None

    def as_dict(self, verifier: Verifier | None = None) -> dict[str, Any]:
        """What a report or a JSON output carries: enough to verify it later, offline."""
        parsed = parse(self.note)
        key: dict[str, Any] | None = None
        if verifier is not None and self.signed:
            key = {
                "name": verifier.name,
                "fingerprint": verifier.fingerprint,
                "public_key": verifier.encode(),
            }
        return {
            "origin": parsed.checkpoint.origin,
            "size": self.size,
            "root_hash": base64.b64encode(self.root).decode(),
            "made_at": self.made_at,
            "signed": self.signed,
            "key": key,
            "note": self.note,
        }


def client_dir(client: str, *, create: bool = False) -> Path:
    path = var_dir(create) / "checkpoints" / client
    if create:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def write_file(checkpoint: StoredCheckpoint) -> Path:
    """``var/checkpoints/<client>/<size>.txt`` (replaced atomically; it is public, not secret)."""
    folder = client_dir(checkpoint.client, create=True)
    target = folder / f"{checkpoint.size}.txt"
    fd, name = tempfile.mkstemp(dir=folder, prefix=".checkpoint-")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(checkpoint.note)
        tmp.chmod(0o644)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def files_of(client: str) -> list[Path]:
    """The client's checkpoint files under var/checkpoints, smallest size first."""
    folder = client_dir(client)
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob("*.txt") if p.is_file()]
    return sorted(found, key=lambda p: (len(p.stem), p.stem))


@dataclass
class Candidate:
    """A checkpoint verify judges: from the ledger, a file under var/checkpoints, or one given to verify."""

    source: str  # "ledger" | "file" | "given"
    where: str  # the checkpoint's id in the table, or its path
    text: str
    parsed: ParsedCheckpoint | None = None
    problem: str | None = None

    @classmethod
    def of(cls, source: str, where: str, text: str) -> Candidate:
        try:
            return cls(source, where, text, parse(text))
        except NoteError as exc:
            return cls(source, where, text, None, f"not a checkpoint: {exc}")


def read_candidate(source: str, path: Path) -> Candidate:
    """A checkpoint file as a candidate: a file that is not UTF-8 text is one with a problem, not an error
    (an unreadable one is the caller's OSError)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Candidate(source, str(path), "", None, f"not a checkpoint: not UTF-8 text (byte {exc.start})")
    return Candidate.of(source, str(path), text)


def read_given(paths: Iterable[Path]) -> list[Candidate]:
    """Checkpoint files given to verify (an unreadable one is the caller's OSError)."""
    return [read_candidate("given", path) for path in paths]


def route(given: Iterable[Candidate]) -> Mapping[str | None, list[Candidate]]:
    """Given checkpoints by the client their origin names (None: not one of ours)."""
    found: dict[str | None, list[Candidate]] = {}
    for candidate in given:
        ids = candidate.parsed.ids if candidate.parsed is not None else None
        found.setdefault(ids[1] if ids else None, []).append(candidate)
    return found
