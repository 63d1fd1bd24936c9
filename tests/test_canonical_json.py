"""Canonical JSON of the ledger (runner/ledger/chain.py) against RFC 8785 (the ``rfc8785`` package).

A row's hashed content (column name -> text / integer / NULL, plus ``_table``) must be RFC 8785
canonical JSON byte for byte, so an auditor recomputes a row hash with any JCS implementation;
the places where our encoder and RFC 8785 differ are pinned down here with the reason no stored
row reaches them.  Rows written before the private ``_json.make_encoder`` was dropped hash as
before (golden values computed with that implementation).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import rfc8785
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic_core import to_jsonable_python

from runner.ledger import schema
from runner.ledger.chain import GENESIS, TABLE_KEY, canonical_json, check_result_text, row_hash

PROPERTY = settings(max_examples=300, deadline=None, derandomize=True, database=None)

#: the integers RFC 8785 (I-JSON) accepts
JCS_MIN, JCS_MAX = -(2**53) + 1, 2**53 - 1
#: characters where JSON encoders tend to differ: controls, the short escapes, quote and
#: backslash, DEL, C1, U+2028/2029, BOM, noncharacters, the last BMP code points, non-BMP
TRICKY = [chr(c) for c in range(0x20)] + [
    '"', "\\", "/", "'", "\x7f", "\x80", "\x85", "\x9f", "\xa0", "\u2028", "\u2029", "\ufeff",
    "\ue000", "\ufb33", "\ufffd", "\ufffe", "\uffff", "\U00010000", "\U0001f600", "\U0010ffff",
]  # fmt: skip
#: valid Unicode text (codec="utf-8": no lone surrogates)
TEXT = st.text(st.sampled_from(TRICKY) | st.characters(codec="utf-8"), max_size=40)
COLUMN = st.from_regex(r"[a-z_][a-z0-9_]{0,24}", fullmatch=True)
STORED_VALUE = st.none() | st.integers(JCS_MIN, JCS_MAX) | TEXT


def _jcs(value: Any) -> bytes:
    return rfc8785.dumps(value)


@PROPERTY
@given(
    content=st.dictionaries(COLUMN, STORED_VALUE, max_size=20),
    table=st.from_regex(r"[a-z][a-z_]{0,30}", fullmatch=True),
    prev=st.just(GENESIS) | st.text("0123456789abcdef", min_size=64, max_size=64),
)
def test_row_content_is_rfc8785_canonical_json(content: dict[str, Any], table: str, prev: str) -> None:
    content[TABLE_KEY] = table
    assert canonical_json(content).encode() == _jcs(content)
    # the auditor's recipe from the module docstring
    assert row_hash(prev, content) == hashlib.sha256(prev.encode() + _jcs(content)).hexdigest()


CHECK_RESULT_FIELDS = (
    "client", "control", "domain", "evidence", "host", "observed_at", "recorded_at", "remediation",
    "result_key", "role", "run_id", "seq", "severity", "status", "ticket", "title",
)  # fmt: skip


@PROPERTY
@given(
    texts=st.fixed_dictionaries(
        {name: TEXT for name in CHECK_RESULT_FIELDS if name not in ("seq", "ticket")}
    ),
    seq=st.integers(1, JCS_MAX),
    ticket=st.none() | TEXT,
)
def test_check_result_text_is_rfc8785_canonical_json(
    texts: dict[str, str], seq: int, ticket: str | None
) -> None:
    values: dict[str, Any] = {**texts, "seq": seq, "ticket": ticket}
    text = check_result_text(*(values[name] for name in CHECK_RESULT_FIELDS))
    assert text.encode() == _jcs({**values, TABLE_KEY: "check_results"})


def test_stored_rows_are_within_the_domain_where_the_two_agree() -> None:
    """Every chained table hashes ASCII column names (UTF-16 order = code point order) holding
    text or integers: no floats, booleans or non-ASCII keys, where the encoders part."""
    schema.load_domain_tables()
    assert {"runs", "run_events", "check_results"} <= {table.name for table in schema.CHAINED}
    for table in schema.CHAINED:
        keys = [*schema.content_columns(table), TABLE_KEY]
        assert all(re.fullmatch(r"[a-z_][a-z0-9_]*", key) for key in keys), table.name
        assert sorted(keys) == sorted(keys, key=lambda key: key.encode("utf-16-be"))
        for name in schema.content_columns(table):
            column_type = table.c[name].type
            assert isinstance(column_type, sa.Text | sa.Integer), f"{table.name}.{name}: {column_type}"


def test_rfc8785_example_of_section_3_2_2() -> None:
    """The RFC's own serialisation example (its numbers happen to be where Python's repr agrees)."""
    value = json.loads(
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(value) == expected
    assert _jcs(value) == expected.encode()


def test_big_integers_are_exact_digits_where_rfc8785_refuses() -> None:
    """Outside +-(2**53 - 1) RFC 8785 has no form; we write the digits. A stored integer is a
    seq (one per row of a client) or a count, far below 2**53."""
    for number in (2**53, -(2**53), 2**63 - 1):
        assert canonical_json({"seq": number}) == f'{{"seq":{number}}}'
        with pytest.raises(rfc8785.IntegerDomainError):
            _jcs({"seq": number})


def test_lone_surrogates_are_escaped_and_never_stored_raw() -> None:
    """RFC 8785 rejects a lone surrogate; our text escapes it (as evidence text is stored), and the
    database driver refuses to store one in a column: no stored row's content holds one."""
    content = {TABLE_KEY: "runs", "reason": "\ud800"}
    with pytest.raises(rfc8785.CanonicalizationError):
        _jcs(content)
    assert "\\ud800" in canonical_json(content)  # escaped, as evidence text stores it
    row_hash(GENESIS, content)
    with sqlite3.connect(":memory:") as conn, pytest.raises(UnicodeEncodeError):
        conn.execute("SELECT ?", ("\ud800",))


def test_keys_beyond_the_bmp_sort_by_code_point_not_utf16() -> None:
    """RFC 8785 section 3.2.3's sorting example: JCS sorts by UTF-16 code units, we by code point;
    they part only for keys beyond U+FFFF against U+E000..U+FFFF, never for column names."""
    value = {key: index for index, key in enumerate(["€", "\r", "\ufb33", "1", "\U0001f600", "\x80", "ö"])}
    jcs_order = ["\r", "1", "\x80", "ö", "€", "\U0001f600", "\ufb33"]
    assert list(json.loads(_jcs(value))) == jcs_order
    assert list(json.loads(canonical_json(value))) == ["\r", "1", "\x80", "ö", "€", "\ufb33", "\U0001f600"]


def test_floats_are_python_repr_not_the_rfc8785_number_form() -> None:
    """Only JSON values stored as text (evidence) hold floats; the row hashes that text."""
    assert canonical_json([1.0, 1e21, 1e-7, -0.0]) == "[1.0,1e+21,1e-07,-0.0]"
    assert _jcs([1.0, 1e21, 1e-7, -0.0]) == b"[1,1e+21,1e-7,0]"


# -- rows written before: the previous encoder (CPython's private _json.make_encoder) ------

#: canonical_json of OLD_EVIDENCE and row_hash("ab" * 32, OLD_CONTENT) as the old encoder made them
OLD_EVIDENCE_TEXT = (
    '{"3":"int key","big":1180591620717411303424,"f":[0.1,1e+16,1e-07,100.0,-0.0,NaN,Infinity],'
    '"n":{"a":[{},[]],"b":true},"t":"2025-03-01T22:00:00Z","u":"é😀\u2028\\u0000"}'
)
OLD_ROW_HASH = "61fd45b3c1df0e3d6d89d9ac809b7a19fbc8ad6f825d3b5938964714496f7831"
OLD_EVIDENCE: dict[Any, Any] = {
    "f": [0.1, 1e16, 1e-7, 100.0, -0.0, float("nan"), float("inf")],
    "big": 2**70,
    "t": datetime(2025, 3, 1, 22, 0, tzinfo=UTC),
    "n": {"b": True, "a": [{}, []]},
    "u": "é😀\u2028\x00",
    3: "int key",  # mixed key types: the to_jsonable_python fallback
}
OLD_CONTENT: dict[str, Any] = {
    TABLE_KEY: "check_results",
    "client": "acme",
    "control": "AV-WIN-01",
    "domain": "antivirus",
    "evidence": '{"a":["ü","\u2028",null,1.5],"nl":"a\\nb\\\\c","z":1}',
    "host": "acme-pc0001",
    "observed_at": "2025-03-01T22:00:00Z",
    "recorded_at": "2025-03-02T01:02:03.456789Z",
    "remediation": "",
    "result_key": "acme-pc0001|AV-WIN-01",
    "role": "antivirus",
    "run_id": "acme-20250301-0000",
    "seq": 7,
    "severity": "critical",
    "status": "fail",
    "ticket": None,
    "title": 'Defender "real-time" \x7f\u2029 \U0001f600 \x01',
}


def test_rows_written_with_the_old_encoder_hash_as_before() -> None:
    assert (
        canonical_json({"z": 1, "a": ["ü", "\u2028", None, 1.5], "nl": "a\nb\\c"}) == OLD_CONTENT["evidence"]
    )
    assert row_hash("ab" * 32, OLD_CONTENT) == OLD_ROW_HASH
    fields = {key: value for key, value in OLD_CONTENT.items() if key != TABLE_KEY}
    text = check_result_text(*(fields[name] for name in CHECK_RESULT_FIELDS))
    assert hashlib.sha256(("ab" * 32 + text).encode()).hexdigest() == OLD_ROW_HASH


def test_evidence_is_encoded_as_before() -> None:
    assert canonical_json(OLD_EVIDENCE) == OLD_EVIDENCE_TEXT


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(TEXT, inner, max_size=5),
    max_leaves=25,
)


@PROPERTY
@given(value=JSON_VALUES)
def test_evidence_encoding_is_json_dumps_with_fixed_options(value: Any) -> None:
    expected = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=to_jsonable_python
    )
    assert canonical_json(value) == expected


def test_encoding_does_not_depend_on_cpythons_accelerator(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pure-Python path of the json module (what other interpreters run) gives the same bytes."""
    values = [OLD_EVIDENCE, OLD_CONTENT, {"k": TRICKY, "n": [JCS_MAX, None, 2.5]}]
    accelerated = [canonical_json(value) for value in values]
    monkeypatch.setattr(json.encoder, "c_make_encoder", None)
    assert [canonical_json(value) for value in values] == accelerated
    assert all(json.encoder.py_encode_basestring(c) == json.encoder.encode_basestring(c) for c in TRICKY)


def test_evidence_with_a_lone_surrogate_is_stored_escaped_and_reads_back(tmp_path: Path) -> None:
    """A collector's JSON may carry "\\ud800" (a Windows file name with an unpaired surrogate): the
    evidence is stored with that escape, the batch is recorded, verifies, and reads back unchanged."""
    from runner.ledger import Ledger, RunRecord
    from runner.results import CheckResult

    evidence = {"path": "C:\\Users\\x\\file\ud800.txt", "note": "caf\u00e9"}
    text = canonical_json(evidence)
    assert "\\ud800" in text and "\u00e9" in text and json.loads(text) == evidence
    text.encode("utf-8")  # storable
    when = datetime(2026, 12, 1, tzinfo=UTC)
    with Ledger(f"sqlite:///{tmp_path / 'l.db'}") as ledger:
        ledger.start_run(
            RunRecord(run_id="r1", client="acme", mode="audit", roles=["windows_health"], started_at=when)
        )
        result = CheckResult(
            control="HEALTH-WIN-01",
            title="t",
            domain="health",
            status="fail",
            severity="high",
            evidence=evidence,
            remediation="",
            host="w1",
            client="acme",
            run_id="r1",
            observed_at=when,
            role="windows_health",
        )
        assert ledger.record([("k1", result)]) == 1
        assert ledger.results_for_run("r1")[0].evidence == evidence
        (report,) = ledger.verify("acme")
        assert report.ok
