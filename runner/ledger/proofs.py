"""Proof files an auditor checks offline, with only the ledger's public key.

``maint ledger prove`` writes one of two JSON documents (``format: maint-ledger-proof/1``):

- ``inclusion``: one row (its table, key, hashed content, ``prev_hash``, ``row_hash``), its leaf index
  (seq - 1), the RFC 9162 inclusion path and the signed checkpoint it is proved against. The checker
  recomputes ``row_hash = sha256(prev_hash + canonical JSON of content)``, the leaf
  ``sha256(0x00 || row_hash)`` and the root, and verifies the checkpoint's signature;
- ``consistency``: an older checkpoint (last month's report), the newer one and the RFC 9162
  consistency path: the newer tree contains the older one, so nothing recorded by then was changed.

:func:`check` needs no database; ``maint ledger check-proof`` prints what it found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runner.ledger import checkpoints as cp
from runner.ledger import merkle
from runner.ledger.chain import TABLE_KEY, ChainRow, row_hash
from runner.ledger.checkpoints import StoredCheckpoint
from runner.ledger.note import NoteError, Verifier

FORMAT = "maint-ledger-proof/1"


def inclusion(row: ChainRow, checkpoint: StoredCheckpoint, path: Sequence[bytes]) -> dict[str, Any]:
    content = {k: v for k, v in row.content.items() if k != TABLE_KEY}
    return {
        "format": FORMAT,
        "kind": "inclusion",
        "client": checkpoint.client,
        "table": row.table,
        "row_id": row.row_id,
        "seq": row.seq,
        "content": content,
        "prev_hash": row.prev_hash,
        "row_hash": row.row_hash,
        "leaf_index": row.seq - 1,
        "tree_size": checkpoint.size,
        "path": [h.hex() for h in path],
        "checkpoint": checkpoint.note,
    }


def consistency(old_note: str, new: StoredCheckpoint, path: Sequence[bytes]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "kind": "consistency",
        "client": new.client,
        "old_checkpoint": old_note,
        "new_checkpoint": new.note,
        "path": [h.hex() for h in path],
    }


@dataclass
class ProofCheck:
    """What checking a proof found: ``ok``, the facts established, and the first problem."""

    ok: bool = False
    facts: list[str] = field(default_factory=list)
    problem: str | None = None
    #: each checkpoint's signature state: "verified", "unsigned", "not checked" or "bad"
    signatures: list[str] = field(default_factory=list)

    @property
    def signature(self) -> str:
        """ "verified" when every checkpoint of the proof is, else the weakest state seen."""
        for state in ("bad", "unsigned", "not checked"):
            if state in self.signatures:
                return state
        return "verified" if self.signatures else "unsigned"


class ProofError(ValueError):
    """The proof document is not one (missing or mistyped field); the message names the field."""


def _field(data: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = data.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ProofError(f"field {name!r}: missing or not {getattr(kind, '__name__', kind)}")
    return value


def _hashes(data: Mapping[str, Any], name: str) -> list[bytes]:
    items = _field(data, name, list)
    found = []
    for index, item in enumerate(items):
        try:
            raw = bytes.fromhex(item) if isinstance(item, str) else b""
        except ValueError:
            raw = b""
        if len(raw) != merkle.HASH_SIZE:
            raise ProofError(f"field {name!r}[{index}]: not a 32-byte hex hash")
        found.append(raw)
    return found


def _checkpoint(
    text: str, client: str, verifier: Verifier | None, result: ProofCheck, label: str
) -> cp.ParsedCheckpoint | None:
    try:
        parsed = cp.parse(text)
    except NoteError as exc:
        result.problem = f"{label}: not a checkpoint: {exc}"
        return None
    state, why = cp.signature_state(parsed, verifier)
    result.signatures.append(state)
    if state == "bad":
        result.problem = f"{label}: {why}"
        return None
    ids = parsed.ids
    if ids is None or ids[1] != client:
        result.problem = f"{label}: origin {parsed.checkpoint.origin!r} is not client {client}'s ledger"
        return None
    if state == "verified" and verifier is not None:
        result.facts.append(f"{label} signed by {verifier.name} ({verifier.fingerprint})")
    return parsed


def check(data: Mapping[str, Any], verifier: Verifier | None) -> ProofCheck:
    """Check a proof document; ProofError when it is not one."""
    if data.get("format") != FORMAT:
        raise ProofError(f"field 'format': expected {FORMAT!r}")
    kind = data.get("kind")
    if kind == "inclusion":
        return _check_inclusion(data, verifier)
    if kind == "consistency":
        return _check_consistency(data, verifier)
    raise ProofError("field 'kind': expected 'inclusion' or 'consistency'")


def _check_inclusion(data: Mapping[str, Any], verifier: Verifier | None) -> ProofCheck:
    result = ProofCheck()
    client = _field(data, "client", str)
    table = _field(data, "table", str)
    seq = _field(data, "seq", int)
    content = dict(_field(data, "content", dict))
    prev, stored_hash = _field(data, "prev_hash", str), _field(data, "row_hash", str)
    index, size = _field(data, "leaf_index", int), _field(data, "tree_size", int)
    path = _hashes(data, "path")
    parsed = _checkpoint(_field(data, "checkpoint", str), client, verifier, result, "checkpoint")
    if parsed is None:
        return result
    if content.get("client") != client or content.get("seq") != seq or index != seq - 1:
        result.problem = "the row's client, seq and leaf index do not agree"
        return result
    if parsed.checkpoint.size != size:
        result.problem = f"tree_size {size} is not the checkpoint's size {parsed.checkpoint.size}"
        return result
    content[TABLE_KEY] = table
    try:
        computed = row_hash(prev, content)
    except (UnicodeEncodeError, RecursionError) as exc:  # no stored row holds either: not a ledger row
        why = "nested too deeply" if isinstance(exc, RecursionError) else "a lone surrogate (not UTF-8)"
        raise ProofError(f"fields 'content', 'table', 'prev_hash': {why}, not a ledger row") from None
    if computed != stored_hash:
        result.problem = "the row's content does not hash to its row_hash: the row was edited"
        return result
    try:
        leaf = merkle.leaf_hash(bytes.fromhex(stored_hash))
    except ValueError:
        result.problem = "row_hash is not hex"
        return result
    if not merkle.verify_inclusion(index, size, leaf, path, parsed.checkpoint.root):
        result.problem = f"the inclusion path does not lead to the checkpoint's root ({size} rows)"
        return result
    result.facts.append(
        f"{table} row {data.get('row_id')} (seq {seq}) of {client} is in the ledger's tree of {size} rows"
    )
    result.ok = True
    return result


def _check_consistency(data: Mapping[str, Any], verifier: Verifier | None) -> ProofCheck:
    result = ProofCheck()
    client = _field(data, "client", str)
    path = _hashes(data, "path")
    old = _checkpoint(_field(data, "old_checkpoint", str), client, verifier, result, "old checkpoint")
    if old is None:
        return result
    new = _checkpoint(_field(data, "new_checkpoint", str), client, verifier, result, "new checkpoint")
    if new is None:
        return result
    if old.checkpoint.origin != new.checkpoint.origin:
        result.problem = "the two checkpoints are of different ledgers"
        return result
    m, n = old.checkpoint.size, new.checkpoint.size
    if not merkle.verify_consistency(m, n, old.checkpoint.root, new.checkpoint.root, path):
        result.problem = f"the consistency proof from {m} rows to {n} fails: the older tree is not contained"
        return result
    result.facts.append(f"the tree of {n} rows of {client} contains the tree of {m} rows unchanged")
    result.ok = True
    return result
