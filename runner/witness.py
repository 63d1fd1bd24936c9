"""The ledger checkpoint an output carries, so each report or JSON document someone keeps is a witness.

``maint status CLIENT --json``, ``maint run --json``, ``maint drift`` and ``maint resolution`` carry the
client's latest checkpoint (C2SP signed note; see :mod:`runner.ledger.checkpoints`): its origin, tree size,
root hash, time, whether it is signed and by which key (name, fingerprint, public key), the note itself, and
how many rows were appended after it. Whoever keeps that output can later run ``maint ledger verify CLIENT
--checkpoint FILE --public-key KEY`` (FILE: the note saved as a file) and see whether the ledger still
contains what they were shown. Reading never makes a checkpoint: a read-only command leaves no trace.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.ledger import checkpoints as cp
from runner.ledger.note import NoteError

if TYPE_CHECKING:
    from runner.ledger import Ledger
    from runner.ledger.checkpoints import StoredCheckpoint
    from runner.ledger.note import Verifier

#: how to check a kept checkpoint (CLIENT, FILE and KEY are placeholders the reader fills in)
VERIFY_HINT = "maint ledger verify {client} --checkpoint FILE --public-key KEY"


def configured_verifier() -> Verifier | None:
    """The ledger key's public half for outputs: the configured key file's, else its ``.pub`` beside it.

    A reader who may not read the private key file (0600, another user's) still gets the public key; None
    when no key is configured. :class:`runner.ledger.keys.KeyFileError` (names the file) when neither can
    be read.
    """
    from runner.ledger import keys

    try:
        signer = keys.load_signer()
    except keys.KeyFileError:
        public = keys.public_key_file(keys.key_file())
        if not public.is_file():
            raise
        return keys.load_verifier(public)
    return signer.verifier if signer is not None else None


def signature(checkpoint: StoredCheckpoint, verifier: Verifier | None) -> str:
    """``verified`` | ``unsigned`` | ``not checked`` (no key here, or another key's) | ``bad``."""
    parsed = cp.parse(checkpoint.note)
    if verifier is not None and parsed.signatures:
        own = any(s.key_id == verifier.key_id and s.name == verifier.name for s in parsed.signatures)
        if not own:
            return "not checked"
    return cp.signature_state(parsed, verifier)[0]


def file_of(checkpoint: StoredCheckpoint) -> Path | None:
    """``var/checkpoints/<client>/<size>.txt`` when it exists (never created here)."""
    if checkpoint.path is not None:
        return checkpoint.path
    path = cp.client_dir(checkpoint.client) / f"{checkpoint.size}.txt"
    return path if path.is_file() else None


def shown_path(path: Path) -> str:
    """``path`` relative to the current directory when it is below it (``var/checkpoints/...``)."""
    try:
        return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd().resolve()) else str(path)
    except (OSError, ValueError):
        return str(path)


def as_dict(checkpoint: StoredCheckpoint, verifier: Verifier | None, head_seq: int | None) -> dict[str, Any]:
    """The checkpoint as outputs carry it: ``StoredCheckpoint.as_dict`` plus ``signature``, ``file`` and
    ``rows_after_checkpoint`` (rows appended since it was made; None when the head is unknown).

    ``key`` names the key only when its signature verifies with ``verifier`` (the configured ledger key),
    so an output never attributes a checkpoint to a key that did not sign it.
    """
    try:
        state = signature(checkpoint, verifier)
        data = checkpoint.as_dict(verifier if state == "verified" else None)
    except NoteError as exc:  # a stored note that no longer parses: shown as it is, never trusted
        state = f"unreadable: {exc}"
        data = {
            "origin": None,
            "size": checkpoint.size,
            "root_hash": base64.b64encode(checkpoint.root).decode(),
            "made_at": checkpoint.made_at,
            "signed": checkpoint.signed,
            "key": None,
            "note": checkpoint.note,
        }
    data["signature"] = state
    found = file_of(checkpoint)
    data["file"] = shown_path(found) if found is not None else None
    data["rows_after_checkpoint"] = None if head_seq is None else max(0, head_seq - checkpoint.size)
    return data


def head_seq(ledger: Ledger, client: str) -> int | None:
    """The seq of the client's chain head (its row count), None when it has no rows."""
    head = ledger.chain_heads().get(client)
    return head[0] if head is not None else None


def carried(ledger: Ledger, client: str, verifier: Verifier | None) -> dict[str, Any] | None:
    """The client's latest stored checkpoint as outputs carry it, None when it has none (none is made)."""
    latest = ledger.latest_checkpoint(client)
    if latest is None:
        return None
    return as_dict(latest, verifier, head_seq(ledger, client))


def brief(ledger: Ledger, client: str) -> dict[str, Any] | None:
    """The fleet view's summary of the client's latest checkpoint: size, signed, made_at (or None)."""
    latest = ledger.latest_checkpoint(client)
    if latest is None:
        return None
    return {"size": latest.size, "signed": latest.signed, "made_at": latest.made_at}


def signed_text(data: dict[str, Any]) -> str:
    """``signed by NAME (SHA256:...)``, ``signed by NAME (signature not checked: ...)`` or ``unsigned``."""
    if not data["signed"]:
        return "unsigned"
    key = data.get("key")
    if key is not None:
        return f"signed by {key['name']} ({key['fingerprint']})"
    try:
        names = ", ".join(s.name for s in cp.parse(data["note"]).signatures) or "an unknown key"
    except NoteError:
        names = "an unknown key"
    reasons = {
        "verified": "signature verified",
        "bad": "its signature does NOT verify with the configured ledger key",
        "not checked": "no matching ledger key configured here to check it",
    }
    state = str(data.get("signature"))
    why = reasons.get(state, state)
    return f"signed by {names} ({why})"


def summary_line(checkpoint: StoredCheckpoint | None, verifier: Verifier | None) -> str:
    """The run summary's line: ``checkpoint: N rows, signed by NAME (SHA256:...) -> var/checkpoints/C/N.txt``
    (or ``unsigned``)."""
    if checkpoint is None:
        return "checkpoint: none made (see the log)"
    data = as_dict(checkpoint, verifier, None)
    where = f" -> {data['file']}" if data["file"] else ""
    return f"checkpoint: {checkpoint.size} rows, {signed_text(data)}{where}"


def section_facts(data: dict[str, Any] | None, client: str) -> dict[str, Any]:
    """What the Markdown and HTML "Ledger checkpoint" sections show (``_checkpoint.*.j2`` lay it out);
    ``present`` is false when the client has no checkpoint yet."""
    common = {"verify": VERIFY_HINT.format(client=client), "make": f"maint ledger checkpoint {client}"}
    if data is None:
        return {"present": False, **common}
    return {
        "present": True,
        "origin": data["origin"],
        "size": data["size"],
        "root_hash": data["root_hash"],
        "made_at": data["made_at"],
        "signed": signed_text(data),
        "public_key": (data.get("key") or {}).get("public_key"),
        "after": data.get("rows_after_checkpoint"),
        "note": data["note"],
        **common,
    }
