"""Proof documents (runner/ledger/proofs.py) and the Merkle tree of a ledger made before it existed.

- :func:`runner.ledger.proofs.check` on any JSON-like document gives a ProofCheck or a ProofError, never
  another exception (what ``maint ledger check-proof`` relies on for its one-line errors);
- a ledger whose rows were written at the revisions before 0004 (0001, 0002, 0003: no tree, no
  checkpoints) is migrated when opened; its tree is computed from the old rows, checkpoints are made,
  more rows appended, and every proof and checkpoint holds.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.ledger import Ledger, RunStatus, checkpoints, merkle, note, proofs, schema
from runner.ledger.store import MIGRATIONS
from tests.test_ledger import batch, make_run, url_of

SIGNER = note.generate_signer("maint-test")


def record_run(ledger: Ledger, run_id: str, hosts: int, client: str = "acme") -> int:
    """One finished run: 1 run row, 2 * hosts results, 1 event; returns the rows added."""
    ledger.start_run(make_run(run_id, client))
    added = ledger.record(batch(run_id, client, hosts))
    ledger.finish_run(run_id, RunStatus.SUCCESSFUL)
    return added + 2


@pytest.fixture(scope="module")
def proof_documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """A real inclusion proof and a real consistency proof, signed by SIGNER."""
    folder = tmp_path_factory.mktemp("proofs")
    monkey = pytest.MonkeyPatch()
    monkey.setenv("MAINT_VAR", str(folder / "var"))
    try:
        with Ledger(url_of(folder / "ledger.db")) as ledger:
            record_run(ledger, "run-1", 3)
            old = ledger.checkpoint("acme", SIGNER)
            record_run(ledger, "run-2", 4)
            new = ledger.checkpoint("acme", SIGNER)
            assert old is not None and new is not None
            inclusion = ledger.prove_row("acme", 3, new)
            consistency = ledger.prove_consistency("acme", checkpoints.parse(old.note), new)
    finally:
        monkey.undo()
    return {"inclusion": inclusion, "consistency": consistency}


def test_real_proofs_check_and_say_what_they_prove(proof_documents: dict[str, dict[str, Any]]) -> None:
    verifier = SIGNER.verifier
    inclusion = proofs.check(proof_documents["inclusion"], verifier)
    assert inclusion.ok and inclusion.signature == "verified", inclusion.problem
    assert inclusion.facts[-1] == "check_results row 2 (seq 3) of acme is in the ledger's tree of 18 rows"
    consistency = proofs.check(proof_documents["consistency"], verifier)
    assert consistency.ok and consistency.signature == "verified", consistency.problem
    assert consistency.facts[-1] == "the tree of 18 rows of acme contains the tree of 8 rows unchanged"
    # without a key the proof holds but nothing says who made it
    assert proofs.check(proof_documents["inclusion"], None).signature == "not checked"
    other = note.generate_signer("maint-test").verifier
    refused = proofs.check(proof_documents["consistency"], other)
    assert not refused.ok and refused.signature == "bad" and "old checkpoint" in (refused.problem or "")


def test_a_checkpoint_of_another_client_does_not_prove_this_clients_row(
    proof_documents: dict[str, dict[str, Any]],
) -> None:
    data = copy.deepcopy(proof_documents["inclusion"])
    data["client"] = "beta"
    data["content"]["client"] = "beta"
    found = proofs.check(data, SIGNER.verifier)
    assert not found.ok and "is not client beta's ledger" in (found.problem or "")


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(st.characters(exclude_categories=()), max_size=20)
    # lone surrogates, often (json.loads makes them from "\\ud800"; UTF-8 has no form of them); a list
    # of one-character strategies, since st.text would merge the two alphabets into one rare range
    | st.lists(
        st.characters(exclude_categories=())
        | st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=()),
        max_size=20,
    ).map("".join)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
INCLUSION_KEYS = ("client", "table", "row_id", "seq", "content", "prev_hash", "row_hash", "leaf_index")
FIELDS = (
    "format",
    "kind",
    *INCLUSION_KEYS,
    "tree_size",
    "path",
    "checkpoint",
    "old_checkpoint",
    "new_checkpoint",
    "public_key",
)


def _mutations() -> st.SearchStrategy[Any]:
    """A change of one part of a real document: a field replaced or dropped, or a string edited."""
    field = st.sampled_from(FIELDS)
    replace = st.tuples(st.just("replace"), field, JSON_VALUES)
    drop = st.tuples(st.just("drop"), field, st.none())
    edit = st.tuples(st.just("edit"), field, st.tuples(st.integers(0, 600), st.text(max_size=3)))
    content = st.tuples(st.just("content"), st.text(max_size=12), JSON_VALUES)
    path = st.tuples(st.just("path"), st.integers(0, 5), JSON_VALUES)
    return replace | drop | edit | content | path


def _apply(data: dict[str, Any], mutation: tuple[str, str, Any]) -> None:
    how, name, value = mutation
    if how == "replace":
        data[name] = value
    elif how == "drop":
        data.pop(name, None)
    elif how == "edit" and isinstance(data.get(name), str):
        at, text = value
        data[name] = data[name][:at] + text + data[name][at + 1 :]
    elif how == "content" and isinstance(data.get("content"), dict):
        data["content"][name] = value
    elif how == "path" and isinstance(data.get("path"), list) and data["path"]:
        data["path"][int(name) % len(data["path"])] = value


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(["inclusion", "consistency"]),
    mutations=st.lists(_mutations(), max_size=4),
    keyed=st.booleans(),
)
def test_check_of_any_edited_document_is_a_result_or_a_proof_error(
    proof_documents: dict[str, dict[str, Any]], kind: str, mutations: list[Any], keyed: bool
) -> None:
    data = copy.deepcopy(proof_documents[kind])
    for mutation in mutations:
        _apply(data, mutation)
    _judged(data, SIGNER.verifier if keyed else None)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    field=st.sampled_from(["content", "table", "prev_hash", "row_id"]),
    key=st.sampled_from(["title", "evidence", "status", "host", "new_column"]),
    value=JSON_VALUES,
)
def test_check_of_an_edited_row_is_a_result_or_a_proof_error(
    proof_documents: dict[str, dict[str, Any]], field: str, key: str, value: Any
) -> None:
    """Only the row edited, so the checks before its hash pass and the hash itself meets the value."""
    data = copy.deepcopy(proof_documents["inclusion"])
    if field == "content":
        data["content"][key] = value
    else:
        data[field] = value
    _judged(data, SIGNER.verifier)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=12), JSON_VALUES, max_size=8), st.sampled_from(["", "i", "c"]))
def test_check_of_arbitrary_json_is_a_result_or_a_proof_error(data: dict[str, Any], shape: str) -> None:
    if shape:
        data = {**data, "format": proofs.FORMAT, "kind": "inclusion" if shape == "i" else "consistency"}
    _judged(data, SIGNER.verifier)


def _judged(data: dict[str, Any], verifier: note.Verifier | None) -> None:
    try:
        found = proofs.check(data, verifier)
    except proofs.ProofError as exc:
        assert str(exc)
        return
    assert isinstance(found, proofs.ProofCheck)
    assert found.ok == (found.problem is None)


def test_deeply_nested_content_is_a_proof_error(proof_documents: dict[str, dict[str, Any]]) -> None:
    data = copy.deepcopy(proof_documents["inclusion"])
    deep: Any = "x"
    for _ in range(100_000):
        deep = [deep]
    data["content"]["evidence"] = deep
    with pytest.raises(proofs.ProofError, match="nested too deeply"):
        proofs.check(data, SIGNER.verifier)


# -- a ledger made before revision 0004 ----------------------------------------------------------


def _alembic(conn: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def _old_ledger(path: Path, source: Path) -> None:
    """A ledger at revisions 0002 + 0003 (heads before 0004) holding ``source``'s rows as they were written.

    The chained tables' rows are the same at every revision (0004 adds no column to them), so the rows
    are copied as stored, hashes included; ``chain_heads`` gets its columns of then (no ``frontier``).
    """
    engine = sa.create_engine(url_of(path))
    with engine.begin() as conn:
        command.upgrade(_alembic(conn), "0002")
        command.upgrade(_alembic(conn), "0003")
    engine.dispose()
    path.chmod(0o600)
    db = sqlite3.connect(path)
    try:
        versions = {row[0] for row in db.execute("SELECT version_num FROM alembic_version")}
        assert versions == {"0002", "0003"}
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'ledger_meta'").fetchall() == []
        db.execute("ATTACH DATABASE ? AS src", (str(source),))
        for table in ("chain_heads", *(t.name for t in schema.CHAINED)):
            columns = [row[1] for row in db.execute(f"PRAGMA main.table_info({table})")]
            if not columns:  # a domain table of a later migration (0005, 0006...): none in a ledger of then
                continue
            assert "frontier" not in columns
            names = ", ".join(columns)
            db.execute(f"INSERT INTO main.{table} ({names}) SELECT {names} FROM src.{table}")
        db.commit()
        db.execute("DETACH DATABASE src")
    finally:
        db.close()


def _independent_root(path: Path, client: str) -> bytes:
    """RFC 9162 MTH over the leaves sha256(0x00 || row_hash), read straight from the file."""
    db = sqlite3.connect(path)
    try:
        hashes = sorted(
            (seq, digest)
            for table in schema.CHAINED
            for seq, digest in db.execute(
                f"SELECT seq, row_hash FROM {table.name} WHERE client = ?", (client,)
            )
        )
    finally:
        db.close()
    assert [seq for seq, _ in hashes] == list(range(1, len(hashes) + 1))
    leaves = [hashlib.sha256(b"\x00" + bytes.fromhex(digest)).digest() for _, digest in hashes]
    return merkle.root(leaves)


def test_a_ledger_from_before_the_tree_migrates_and_proves(tmp_path: Path) -> None:
    source = tmp_path / "source.db"
    with Ledger(url_of(source)) as writer:
        old_rows = record_run(writer, "run-1", 150)  # 302 rows: one full stored subtree of 256 leaves
        [report] = writer.verify("acme")
        source_root = report.root_hash
    old = tmp_path / "old.db"
    _old_ledger(old, source)
    assert old_rows == 302
    with Ledger(url_of(old)) as ledger:  # migrates to 0004: ledger_meta, merkle_nodes, checkpoints
        assert ledger.ledger_id()
        [report] = ledger.verify("acme")
        assert report.ok and report.rows == old_rows and report.tree_size == old_rows, report
        assert report.root_hash == source_root == _independent_root(old, "acme").hex()
        first = ledger.checkpoint("acme", SIGNER)
        assert first is not None and first.size == old_rows and first.root.hex() == source_root
        kept = tmp_path / "first.txt"
        kept.write_text(first.note)
        total = old_rows + record_run(ledger, "run-2", 120)  # 544 rows: a second subtree of 256
        second = ledger.checkpoint("acme", SIGNER)
        assert second is not None and second.size == total
        given = checkpoints.read_given([kept])
        [report] = ledger.verify("acme", given=given, verifier=SIGNER.verifier)
        assert report.ok, report
        assert report.tree_size == total and report.root_hash == _independent_root(old, "acme").hex()
        assert len(report.checkpoints) == 5  # 2 stored, 2 files under var/, 1 given
        assert all(c.ok and c.signature == "verified" for c in report.checkpoints)
        with ledger.engine.connect() as conn:
            nodes = conn.execute(
                sa.select(schema.merkle_nodes.c.level, schema.merkle_nodes.c.idx).where(
                    schema.merkle_nodes.c.client == "acme"
                )
            ).all()
        assert sorted(nodes) == [(8, 0), (8, 1), (9, 0)]
        for seq in (1, 257, total):
            proof = json.loads(json.dumps(ledger.prove_row("acme", seq, second)))
            assert proofs.check(proof, SIGNER.verifier).ok
        consistency = ledger.prove_consistency("acme", checkpoints.parse(first.note), second)
        assert proofs.check(consistency, SIGNER.verifier).ok

    # an old row edited afterwards (its stored hashes kept): the chain names it; the checkpoints, over the
    # stored row hashes, still hold (tests/test_ledger_cli.py recomputes the hashes: then they fail)
    db = sqlite3.connect(old)
    try:
        db.execute("UPDATE check_results SET status = 'pass' WHERE status = 'fail' AND seq < 100")
        db.commit()
    finally:
        db.close()
    with Ledger(url_of(old)) as ledger:
        [report] = ledger.verify("acme", given=checkpoints.read_given([kept]), verifier=SIGNER.verifier)
    assert not report.ok and report.first_bad is not None and report.first_bad.table == "check_results"
    assert report.first_bad.seq < 100 and report.tree_problem is None
    assert report.first_bad_checkpoint is None
