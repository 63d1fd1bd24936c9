"""The per-client hash chain: canonical JSON, row hashes and the verification walk.

``row_hash = sha256(prev_hash + canonical_json(content))`` where ``content`` maps every
content column of the row (``client`` and ``seq`` included) to its stored value, plus
``"_table"``: the table's name.  Canonical JSON is ``json.dumps`` with sorted keys, no
whitespace and UTF-8 text; stored values are only text, integers and NULL, so a row
read back from SQLite or PostgreSQL hashes to the same value it was written with.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import groupby
from json.encoder import encode_basestring
from operator import attrgetter
from typing import Any, NamedTuple

from pydantic_core import to_jsonable_python

from runner.ledger.models import BadRow

#: the prev_hash of a client's first row
GENESIS = "0" * 64
#: the key naming the table inside the hashed content
TABLE_KEY = "_table"

_ENCODER = json.JSONEncoder(
    sort_keys=True,
    separators=(",", ":"),
    ensure_ascii=False,
    default=to_jsonable_python,
)


def _reusable_encoder() -> Callable[[Any], str]:
    """``_ENCODER.encode`` without building a C encoder per call (which costs half its time)."""
    try:
        from _json import make_encoder
    except ImportError:  # pragma: no cover - CPython always has the accelerator
        return _ENCODER.encode
    encoder = make_encoder(None, to_jsonable_python, encode_basestring, None, ":", ",", True, False, True)
    return lambda value: "".join(encoder(value, 0))


_encode = _reusable_encoder()


def canonical_json(value: Any) -> str:
    """Canonical JSON text of a value (sorted keys, no whitespace, UTF-8); what evidence is stored as."""
    try:
        return _encode(value)
    except TypeError:  # keys that are not strings and cannot be sorted together
        return _ENCODER.encode(to_jsonable_python(value))


def row_hash(prev_hash: str, content: Mapping[str, Any]) -> str:
    """The hash of a row whose ``content`` already holds :data:`TABLE_KEY`."""
    return hashlib.sha256((prev_hash + canonical_json(content)).encode()).hexdigest()


def check_result_text(
    client: str,
    control: str,
    domain: str,
    evidence: str,
    host: str,
    observed_at: str,
    recorded_at: str,
    remediation: str,
    result_key: str,
    role: str,
    run_id: str,
    seq: int,
    severity: str,
    status: str,
    ticket: str | None,
    title: str,
    /,
) -> str:
    """``canonical_json`` of a ``check_results`` row's content, spelled out for ingest speed.

    Arguments in the sorted order of the keys; equal to ``canonical_json`` of the row's
    content mapping (plus :data:`TABLE_KEY`) - the tests hold the two together.
    """
    esc = encode_basestring
    return (
        f'{{"{TABLE_KEY}":"check_results","client":{esc(client)},"control":{esc(control)},'
        f'"domain":{esc(domain)},"evidence":{esc(evidence)},"host":{esc(host)},'
        f'"observed_at":{esc(observed_at)},"recorded_at":{esc(recorded_at)},'
        f'"remediation":{esc(remediation)},"result_key":{esc(result_key)},"role":{esc(role)},'
        f'"run_id":{esc(run_id)},"seq":{int(seq)},"severity":{esc(severity)},"status":{esc(status)},'
        f'"ticket":{"null" if ticket is None else esc(ticket)},"title":{esc(title)}}}'
    )


class ChainRow(NamedTuple):
    """One stored row of a chained table, as verify() reads it."""

    seq: int
    table: str
    row_id: str | int | None
    prev_hash: str
    row_hash: str
    content: dict[str, Any]  # content columns plus TABLE_KEY

    def hash_ok(self, prev_hash: str) -> bool:
        return row_hash(prev_hash, self.content) == self.row_hash


class Head(NamedTuple):
    seq: int
    row_hash: str


def _bad(row: ChainRow, reason: str) -> BadRow:
    return BadRow(table=row.table, seq=row.seq, row_id=row.row_id, reason=reason)


def _groups(rows: Iterable[ChainRow]) -> Iterator[list[ChainRow]]:
    for _, group in groupby(rows, key=attrgetter("seq")):
        yield list(group)


def walk(client: str, rows: Iterable[ChainRow], head: Head | None) -> tuple[int, BadRow | None]:
    """Check one client's rows, given in ascending ``seq`` order; return (rows seen, first bad row).

    Stops at the first bad row: a seq gap (row deleted), a duplicate seq or a broken
    ``prev_hash`` link (row inserted), a hash mismatch (content edited), a row beyond the
    chain head, or a chain head that points past the last row (rows deleted at the end).
    """
    groups = _groups(rows)
    expected, prev, count = 1, GENESIS, 0
    current = next(groups, None)
    while current is not None:
        following = next(groups, None)
        count += len(current)
        seq = current[0].seq
        if seq < expected:
            return count, _bad(current[0], f"seq {seq} out of order: expected {expected}")
        if seq > expected:
            return count, _bad(
                current[0], f"seq gap: expected {expected}, found {seq}: row(s) deleted before this one"
            )
        if head is not None and seq > head.seq:
            return count, _bad(current[0], f"row beyond the chain head (head at seq {head.seq})")
        row = current[0]
        if len(current) > 1:
            row = _genuine(current, prev, following, head)
            intruder = next(r for r in current if r is not row)
            return count, _bad(intruder, f"duplicate seq {seq}: row inserted out of order")
        if row.prev_hash != prev:
            return count, _bad(
                row, "prev_hash does not match the previous row: row inserted or chain relinked"
            )
        if not row.hash_ok(prev):
            return count, _bad(row, "hash mismatch: row content edited")
        prev, expected = row.row_hash, seq + 1
        current = following
    last = expected - 1
    if head is None:
        if count:
            return count, BadRow(table="chain_heads", seq=last, row_id=client, reason="chain head missing")
        return count, None
    if head.seq > last:
        return count, BadRow(
            table="chain_heads",
            seq=head.seq,
            row_id=client,
            reason=f"chain head at seq {head.seq} but the last row is seq {last}: row(s) deleted at the end",
        )
    if head.row_hash != prev:
        return count, BadRow(
            table="chain_heads",
            seq=head.seq,
            row_id=client,
            reason="chain head hash does not match the last row",
        )
    return count, None


def _genuine(
    group: list[ChainRow], prev: str, following: list[ChainRow] | None, head: Head | None
) -> ChainRow:
    """Of rows sharing one seq, the one the chain actually runs through (else the first)."""
    valid = [r for r in group if r.prev_hash == prev and r.hash_ok(prev)]
    if following is not None:
        links = {r.prev_hash for r in following}
    else:
        links = {head.row_hash} if head is not None else set()
    for row in valid:
        if row.row_hash in links:
            return row
    return valid[0] if valid else group[0]
