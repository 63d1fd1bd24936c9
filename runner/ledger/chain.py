r"""The per-client hash chain: canonical JSON, row hashes and the verification walk.

``row_hash = sha256(prev_hash + canonical_json(content))``, in lowercase hex, over the UTF-8
bytes of the 64 hex characters of ``prev_hash`` (:data:`GENESIS` for a client's first row)
followed by the JSON text of ``content``: every content column of the row (``client`` and
``seq`` included, ``prev_hash``, ``row_hash`` and a surrogate ``id`` not) mapped to its stored
value, plus ``"_table"``: the table's name.  Stored values are only text, integers and NULL,
so a row read back from SQLite or PostgreSQL hashes to the same value it was written with.

The JSON text of ``content`` is RFC 8785 (JCS) canonical JSON, byte for byte (the property
test in tests/test_canonical_json.py holds the two together), so any JCS implementation
recomputes a row hash.  Spelled out for such an object:

- ``{`` members ``}`` in ascending order of their keys, ``"key":value`` joined by ``,``, no
  whitespace anywhere; keys are column names (``[a-z_][a-z0-9_]*``, ASCII), so code point order
  and JCS's UTF-16 order agree;
- a string is ``"`` + its characters + ``"``, escaping only ``"`` as ``\"``, ``\`` as ``\\``,
  U+0008, U+0009, U+000A, U+000C, U+000D as ``\b \t \n \f \r`` and the other characters
  below U+0020 as ``\u00xx`` (lowercase hex); everything else, DEL, U+2028/U+2029 and
  characters beyond U+FFFF included, is written as itself in UTF-8 (a lone surrogate has no UTF-8
  form: in row content it can be neither hashed nor stored, and JCS rejects it too);
- an integer in decimal (``-`` for negatives, no leading zeros, no exponent); NULL as ``null``.
  JCS stops at +-(2**53 - 1); beyond it (which ``seq`` and counts never reach) the exact decimal
  digits are written.

Evidence and the other JSON values (``runs.roles``, ``run_events.summary``, domains' JSON
columns) are stored as :func:`canonical_json` text and hashed as that text (a string of the
object above), so checking a hash never re-encodes them.  Their encoding is Python's
``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
default=pydantic_core.to_jsonable_python)``: the rules above, plus ``true``/``false``, floats
as Python's ``repr`` (``100.0``, ``1e+16``, ``NaN``, ``Infinity``: not JCS's number form),
keys sorted by code point, non-JSON values as pydantic dumps them (datetimes as ISO-8601 text;
a mapping whose keys do not sort together, such as ``1`` and ``"a"``, has them made text first;
a lone surrogate, which a collector's JSON may carry as ``"\ud800"``, written as that escape, so the
value is stored and reads back as it came).
Earlier versions produced it through CPython's private ``_json.make_encoder``: the same bytes,
so every stored row keeps verifying (no migration).
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

#: the encoder of canonical JSON: ``json.dumps(value, sort_keys=True, separators=(",", ":"),
#: ensure_ascii=False, check_circular=False, default=to_jsonable_python)``, built once
_ENCODER = json.JSONEncoder(
    sort_keys=True,
    separators=(",", ":"),
    ensure_ascii=False,
    check_circular=False,
    default=to_jsonable_python,
)
_encode: Callable[[Any], str] = _ENCODER.encode


def canonical_json(value: Any) -> str:
    """Canonical JSON text of a value (sorted keys, no whitespace, UTF-8); what evidence is stored as.

    For a row's content (text / integer / NULL values under ASCII column names) this is RFC 8785
    canonical JSON; see the module docstring for the rest.
    """
    try:
        text = _encode(value)
    except TypeError:  # keys that are not strings and cannot be sorted together
        text = _encode(to_jsonable_python(value))
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (a collector's JSON "\ud800"): keep it escaped
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


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
    esc = encode_basestring  # json's own string encoder: what _ENCODER.encode does for a str
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
