"""``maint ledger keygen | public-key | checkpoint | verify | prove | check-proof`` through the CLI.

Each test has its own var/ and ledger (tests/conftest.py) and its own key file (MAINT_LEDGER_KEY_FILE in
tmp). Rows are made with the Ledger API as a run records them; tampering is done the way an attacker with
write access to the database would: sqlite3 on the file, hashes recomputed, stored checkpoints removed,
so only a checkpoint exported before the tamper can show it.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import Result
from typer.testing import CliRunner

from runner.cli import app
from runner.ledger import Ledger, RunStatus, keys, note, schema
from runner.ledger import verify as verify_mod
from runner.ledger.chain import GENESIS, row_hash
from tests.test_ledger import batch, make_run

cli = CliRunner()

#: the rows record_run makes: the run (seq 1), 6 results (seq 2-7) and its finish event (seq 8)
ROWS = 8


def invoke(*args: str | Path) -> Result:
    return cli.invoke(app, [str(a) for a in args], catch_exceptions=False)


def one_error_line(result: Result, *needles: str) -> None:
    """Exit 2, one ``error:`` line on stderr naming ``needles``, nothing that looks like a traceback."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], lines[0]


def record_run(run_id: str = "run-1", client: str = "acme") -> None:
    with Ledger() as ledger:
        ledger.start_run(make_run(run_id, client))
        ledger.record(batch(run_id, client))
        ledger.finish_run(run_id, RunStatus.SUCCESSFUL)


def db_file(var: Path) -> Path:
    return var / "ledger.db"


def sql(var: Path, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db_file(var))
    try:
        rows = conn.execute(statement, params).fetchall()
        conn.commit()
    finally:
        conn.close()
    return rows


@pytest.fixture
def key_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "secret" / "keys" / "ledger.key"
    monkeypatch.setenv(keys.ENV_KEY_FILE, str(path))
    return path


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch, private_state: Path) -> Path:
    """No ledger key configured (var/keys/ledger.key, absent): checkpoints are unsigned."""
    monkeypatch.delenv(keys.ENV_KEY_FILE, raising=False)
    return private_state / "keys" / "ledger.key"


@pytest.fixture
def signed(key_path: Path) -> Path:
    """A ledger key (keygen) and one client with one run: returns the key file."""
    assert invoke("ledger", "keygen").exit_code == 0
    record_run()
    return key_path


def export_checkpoint(var: Path, tmp_path: Path, client: str = "acme") -> Path:
    """``maint ledger checkpoint CLIENT`` and a copy of its file kept outside var/ (a client's report)."""
    result = invoke("ledger", "checkpoint", client, "--json")
    assert result.exit_code == 0, result.output
    [made] = json.loads(result.stdout)
    kept = tmp_path / "kept" / f"{client}-{made['size']}.txt"
    kept.parent.mkdir(exist_ok=True)
    shutil.copyfile(var / "checkpoints" / client / f"{made['size']}.txt", kept)
    return kept


def forget_checkpoints(var: Path, client: str = "acme") -> None:
    """What an attacker also does: drop the checkpoints stored in the ledger and under var/."""
    sql(var, "DELETE FROM checkpoints WHERE client = ?", client)
    shutil.rmtree(var / "checkpoints" / client, ignore_errors=True)


def recompute_chain(var: Path, client: str = "acme") -> None:
    """Rewrite every hash of the client's chain after an edit, its head, and drop its stored tree."""
    engine = sa.create_engine(f"sqlite:///{db_file(var)}")
    tables = {t.name: t for t in schema.CHAINED}
    try:
        with engine.begin() as conn:
            rows = sorted(
                (row for t in schema.CHAINED for row in verify_mod.chain_rows(conn, t, client)),
                key=lambda row: row.seq,
            )
            prev = GENESIS
            for row in rows:
                digest = row_hash(prev, row.content)
                table = tables[row.table]
                conn.execute(
                    sa.update(table)
                    .where(table.c.client == client, table.c.seq == row.seq)
                    .values(prev_hash=prev, row_hash=digest)
                )
                prev = digest
            heads = schema.chain_heads
            conn.execute(
                sa.update(heads)
                .where(heads.c.client == client)
                .values(seq=len(rows), row_hash=prev, frontier=None)
            )
            conn.execute(sa.delete(schema.merkle_nodes).where(schema.merkle_nodes.c.client == client))
    finally:
        engine.dispose()
    forget_checkpoints(var, client)


# -- keygen / public-key ---------------------------------------------------------------------


def test_keygen_writes_a_private_key_and_prints_only_its_public_half(key_path: Path) -> None:
    result = invoke("ledger", "keygen", "--name", "acme-msp")
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_path.parent.stat().st_mode) == 0o700
    public = keys.public_key_file(key_path)
    assert stat.S_IMODE(public.stat().st_mode) == 0o644
    signer = keys.load_signer(key_path)
    assert signer is not None and signer.name == "acme-msp"
    verifier = signer.verifier
    assert public.read_text() == verifier.encode() + "\n"
    assert verifier.encode() in result.stdout
    assert f"fingerprint {verifier.fingerprint}" in result.stdout
    secret = signer.encode()
    assert secret not in result.output and secret.split("+", 4)[4] not in result.output

    shown = invoke("ledger", "public-key", "-o", key_path.parent.parent / "exported.pub")
    assert shown.exit_code == 0
    assert shown.stdout == verifier.encode() + "\n"
    assert (key_path.parent.parent / "exported.pub").read_text() == verifier.encode() + "\n"
    assert verifier.fingerprint in shown.stderr and secret not in shown.output


def test_keygen_keeps_an_existing_key_unless_forced(key_path: Path) -> None:
    assert invoke("ledger", "keygen").exit_code == 0
    first = key_path.read_text()
    one_error_line(invoke("ledger", "keygen"), str(key_path), "--force")
    assert key_path.read_text() == first
    assert invoke("ledger", "keygen", "--force").exit_code == 0
    assert key_path.read_text() != first
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600


@pytest.mark.parametrize("name", ["two words", "a+b", ""])
def test_keygen_refuses_a_bad_name(key_path: Path, name: str) -> None:
    one_error_line(invoke("ledger", "keygen", "--name", name), "--name")
    assert not key_path.exists()


def test_public_key_without_a_key_says_how_to_make_one(key_path: Path) -> None:
    one_error_line(invoke("ledger", "public-key"), str(key_path), "maint ledger keygen")


# -- checkpoint -------------------------------------------------------------------------------


def test_checkpoint_is_signed_stored_and_reused(signed: Path, private_state: Path) -> None:
    result = invoke("ledger", "checkpoint")
    assert result.exit_code == 0, result.output
    path = private_state / "checkpoints" / "acme" / f"{ROWS}.txt"
    assert str(path) in result.stdout and f"acme: {ROWS} rows" in result.stdout
    text = path.read_text()
    verifier = keys.load_verifier(keys.public_key_file(signed))
    body = note.verified_by(text, verifier)
    checkpoint = note.Checkpoint.parse(body)
    with Ledger() as ledger:
        assert checkpoint.origin == f"maint-ledger/{ledger.ledger_id()}/acme"
        [report] = ledger.verify("acme")
    assert checkpoint.size == ROWS and checkpoint.root.hex() == report.root_hash
    assert re.fullmatch(r"time \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", checkpoint.extensions[0])

    again = invoke("ledger", "checkpoint", "acme", "--json")
    assert again.exit_code == 0
    [data] = json.loads(again.stdout)
    assert data["note"] == text and path.read_text() == text  # no new rows: the same checkpoint
    assert sql(private_state, "SELECT count(*) FROM checkpoints") == [(1,)]
    assert set(data) == {"origin", "size", "root_hash", "made_at", "signed", "key", "note"}
    assert data["size"] == ROWS and data["signed"] is True
    assert data["key"] == {
        "name": verifier.name,
        "fingerprint": verifier.fingerprint,
        "public_key": verifier.encode(),
    }

    record_run("run-2")
    grown = invoke("ledger", "checkpoint", "acme", "--json")
    assert [c["size"] for c in json.loads(grown.stdout)] == [2 * ROWS]
    assert sorted(p.name for p in path.parent.iterdir()) == [f"{2 * ROWS}.txt", f"{ROWS}.txt"]


def test_checkpoint_without_a_key_is_unsigned_and_says_so(no_key: Path, private_state: Path) -> None:
    record_run()
    result = invoke("ledger", "checkpoint")
    assert result.exit_code == 0, result.output
    assert "unsigned" in result.stdout
    assert "note: no ledger key" in result.stderr and "maint ledger keygen" in result.stderr
    text = (private_state / "checkpoints" / "acme" / f"{ROWS}.txt").read_text()
    body, signatures = note.split_note(text)
    assert signatures == [] and note.Checkpoint.parse(body).size == ROWS
    [data] = json.loads(invoke("ledger", "checkpoint", "--json").stdout)
    assert data["signed"] is False and data["key"] is None


def test_checkpoint_of_an_unknown_client_or_an_empty_ledger(no_key: Path) -> None:
    assert invoke("ledger", "checkpoint").stdout.strip() == "the ledger is empty"
    one_error_line(invoke("ledger", "checkpoint", "nobody"), "nobody")


def test_a_key_file_named_but_missing_is_an_error_not_an_unsigned_checkpoint(
    key_path: Path, private_state: Path
) -> None:
    record_run()
    one_error_line(invoke("ledger", "checkpoint"), str(key_path), "maint ledger keygen")
    assert not (private_state / "checkpoints").exists()


# -- verify -------------------------------------------------------------------------------------


def test_verify_ok_with_stored_and_given_checkpoints(
    signed: Path, tmp_path: Path, private_state: Path
) -> None:
    kept = export_checkpoint(private_state, tmp_path)
    result = invoke("ledger", "verify", "acme", "--checkpoint", kept)
    assert result.exit_code == 0, result.output
    assert f"✓ acme: {ROWS} rows, chain intact, tree of {ROWS} rows" in result.stdout
    assert "3/3 checkpoints hold (3 with a verified signature)" in result.stdout
    assert "signatures checked with maint-ledger" in result.stderr

    as_json = invoke("ledger", "verify", "--checkpoint", kept, "--json")
    assert as_json.exit_code == 0
    [report] = json.loads(as_json.stdout)
    assert set(report) == {
        "client",
        "rows",
        "ok",
        "first_bad",
        "tree_size",
        "root_hash",
        "tree_problem",
        "checkpoints",
        "first_bad_checkpoint",
    }
    assert report["ok"] is True and report["rows"] == ROWS and report["tree_size"] == ROWS
    assert report["first_bad"] is None and report["first_bad_checkpoint"] is None
    assert [c["source"] for c in report["checkpoints"]] == ["ledger", "file", "given"]
    assert {c["where"] for c in report["checkpoints"] if c["source"] == "given"} == {str(kept)}
    for check in report["checkpoints"]:
        assert set(check) == {"source", "where", "size", "ok", "signature", "reason"}
        assert check["ok"] and check["signature"] == "verified" and check["size"] == ROWS


def test_an_edited_row_is_named(signed: Path, tmp_path: Path, private_state: Path) -> None:
    kept = export_checkpoint(private_state, tmp_path)
    [(row_id, seq)] = sql(private_state, "SELECT id, seq FROM check_results WHERE status = 'fail' LIMIT 1")
    sql(private_state, "UPDATE check_results SET status = 'pass' WHERE id = ?", row_id)
    result = invoke("ledger", "verify", "--checkpoint", kept)
    assert result.exit_code == 1
    assert f"first bad row: check_results row {row_id} (seq {seq})" in result.stdout


def test_an_edit_with_every_hash_recomputed_is_caught_by_the_exported_checkpoint(
    signed: Path, tmp_path: Path, private_state: Path
) -> None:
    kept = export_checkpoint(private_state, tmp_path)
    sql(private_state, "UPDATE check_results SET status = 'pass' WHERE status = 'fail'")
    recompute_chain(private_state)
    # the database alone now looks intact: that is why checkpoints are kept outside it
    assert invoke("ledger", "verify", "acme").exit_code == 0
    result = invoke("ledger", "verify", "acme", "--checkpoint", kept)
    assert result.exit_code == 1
    assert f"first checkpoint that no longer holds: {kept} ({ROWS} rows)" in result.stdout
    assert "its root does not match the ledger's first 8 rows" in result.stdout


def test_a_truncated_tail_is_caught_by_the_exported_checkpoint(
    signed: Path, tmp_path: Path, private_state: Path
) -> None:
    kept = export_checkpoint(private_state, tmp_path)
    sql(private_state, "DELETE FROM run_events WHERE seq = ?", ROWS)
    sql(private_state, "DELETE FROM check_results WHERE seq = ?", ROWS - 1)
    [(last,)] = sql(private_state, "SELECT row_hash FROM check_results WHERE seq = ?", ROWS - 2)
    sql(private_state, "UPDATE chain_heads SET seq = ?, row_hash = ?, frontier = NULL", ROWS - 2, last)
    forget_checkpoints(private_state)
    assert invoke("ledger", "verify").exit_code == 0
    result = invoke("ledger", "verify", "--checkpoint", kept)
    assert result.exit_code == 1
    assert f"first checkpoint that no longer holds: {kept} ({ROWS} rows)" in result.stdout
    assert f"names {ROWS} rows but the ledger holds {ROWS - 2}" in result.stdout
    [report] = json.loads(invoke("ledger", "verify", "--checkpoint", kept, "--json").stdout)
    assert report["ok"] is False and report["first_bad_checkpoint"]["where"] == str(kept)


def _flip(text: str, index: int) -> str:
    """``text`` with the character at ``index`` (base64 or a digit) replaced by another of its alphabet."""
    char = text[index]
    other = "B" if char == "A" else "A" if char.isalpha() else "1" if char != "1" else "2"
    return text[:index] + other + text[index + 1 :]


def _flip_hex(text: str, index: int) -> str:
    """Hex ``text`` with one bit of the digit at ``index`` flipped (never just its case changed)."""
    return text[:index] + format(int(text[index], 16) ^ 1, "x") + text[index + 1 :]


@pytest.mark.parametrize("where", ["time line", "signature"])
def test_a_checkpoint_edited_by_one_byte_is_rejected(
    signed: Path, tmp_path: Path, private_state: Path, where: str
) -> None:
    kept = export_checkpoint(private_state, tmp_path)
    text = kept.read_text()
    if where == "time line":
        index = text.index("time ") + len("time ") + 3  # the year's last digit: the body still parses
    else:
        index = text.index("— maint-ledger ") + len("— maint-ledger ") + 20
    kept.write_text(_flip(text, index))
    assert kept.read_text() != text and len(kept.read_text()) == len(text)
    result = invoke("ledger", "verify", "--checkpoint", kept, "--json")
    assert result.exit_code == 1
    [report] = json.loads(result.stdout)
    bad = report["first_bad_checkpoint"]
    assert bad["where"] == str(kept) and bad["signature"] == "bad" and "signature" in bad["reason"]
    assert [c["ok"] for c in report["checkpoints"] if c["source"] != "given"] == [True, True]


def test_a_checkpoint_signed_by_another_key_is_rejected(
    signed: Path, tmp_path: Path, private_state: Path
) -> None:
    kept = export_checkpoint(private_state, tmp_path)
    body, _ = note.split_note(kept.read_text())
    forged = tmp_path / "forged.txt"
    forged.write_text(note.sign_note(body, [note.generate_signer("maint-ledger")]))
    public = keys.public_key_file(signed)
    result = invoke("ledger", "verify", "acme", "--checkpoint", forged, "--public-key", public)
    assert result.exit_code == 1
    assert f"first checkpoint that no longer holds: {forged}" in result.stdout
    assert "signature" in result.stdout


def test_verify_refuses_a_checkpoint_it_cannot_judge(
    signed: Path, tmp_path: Path, private_state: Path
) -> None:
    record_run("run-b", "beta")
    theirs = export_checkpoint(private_state, tmp_path, "beta")
    one_error_line(invoke("ledger", "verify", "acme", "--checkpoint", theirs), str(theirs), "client beta")
    prose = tmp_path / "notes.txt"
    prose.write_text("just some notes\n")
    one_error_line(invoke("ledger", "verify", "--checkpoint", prose), str(prose), "not a checkpoint")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00garbage\x80")
    one_error_line(invoke("ledger", "verify", "--checkpoint", binary), str(binary), "not UTF-8")
    missing = tmp_path / "missing.txt"
    one_error_line(invoke("ledger", "verify", "--checkpoint", missing), str(missing))
    one_error_line(invoke("ledger", "verify", "--public-key", missing), str(missing))


# -- prove / check-proof ----------------------------------------------------------------------


def _failing_row(var: Path) -> tuple[int, int]:
    [(row_id, seq)] = sql(var, "SELECT id, seq FROM check_results WHERE status = 'fail' ORDER BY id LIMIT 1")
    return int(row_id), int(seq)


def _prove(tmp_path: Path, *args: str | Path) -> tuple[Path, dict[str, Any]]:
    result = invoke("ledger", "prove", "acme", *args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    path = tmp_path / "proof.json"
    path.write_text(result.stdout)
    return path, data


def _write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_prove_a_row_and_check_it_offline(signed: Path, tmp_path: Path, private_state: Path) -> None:
    row_id, seq = _failing_row(private_state)
    proof, data = _prove(tmp_path, "--row", str(row_id))
    assert data["kind"] == "inclusion" and data["table"] == "check_results"
    assert (data["row_id"], data["seq"], data["leaf_index"], data["tree_size"]) == (
        row_id,
        seq,
        seq - 1,
        ROWS,
    )
    assert data["content"]["status"] == "fail" and len(data["path"]) == 3  # 8 leaves: 3 levels
    public = keys.public_key_file(signed)
    result = invoke("ledger", "check-proof", proof, "--public-key", public)
    assert result.exit_code == 0, result.output
    assert f"✓ check_results row {row_id} (seq {seq}) of acme is in the ledger's tree of {ROWS} rows" in (
        result.stdout
    )
    assert "✓ checkpoint signed by maint-ledger" in result.stdout
    # without --public-key: the key inside the proof, and a warning to compare its fingerprint
    inside = invoke("ledger", "check-proof", proof)
    assert inside.exit_code == 0 and "compare that fingerprint" in inside.stderr

    assert invoke("ledger", "prove", "acme", "--seq", str(ROWS)).exit_code == 0
    written = tmp_path / "out" / "p.json"
    written.parent.mkdir()
    assert invoke("ledger", "prove", "acme", "--seq", "1", "-o", written).exit_code == 0
    assert json.loads(written.read_text())["table"] == "runs"


def _edited(data: dict[str, Any], what: str, tmp_path: Path) -> dict[str, Any]:
    edited = json.loads(json.dumps(data))
    if what == "content":
        edited["content"]["status"] = "pass"
    elif what == "path":
        edited["path"][1] = _flip_hex(edited["path"][1], 0)
    elif what == "checkpoint":
        lines = edited["checkpoint"].split("\n")
        lines[2] = _flip(lines[2], 5)  # the root hash
        edited["checkpoint"] = "\n".join(lines)
    elif what == "leaf_index":
        edited["leaf_index"] += 1
    return edited


@pytest.mark.parametrize(
    ("what", "problem"),
    [
        ("content", "the row was edited"),
        ("path", "does not lead to the checkpoint's root"),
        ("checkpoint", "signature"),
        ("leaf_index", "do not agree"),
    ],
)
def test_a_tampered_proof_fails(
    signed: Path, tmp_path: Path, private_state: Path, what: str, problem: str
) -> None:
    row_id, _ = _failing_row(private_state)
    _, data = _prove(tmp_path, "--row", str(row_id))
    path = _write(tmp_path, "edited.json", _edited(data, what, tmp_path))
    result = invoke("ledger", "check-proof", path, "--public-key", keys.public_key_file(signed))
    assert result.exit_code == 1, result.output
    assert "✗" in result.stdout and problem in result.stdout
    assert "is in the ledger's tree" not in result.stdout


def test_a_proof_checked_with_another_key_fails(signed: Path, tmp_path: Path, private_state: Path) -> None:
    proof, _ = _prove(tmp_path, "--seq", "3")
    other = keys.write_signer(note.generate_signer("maint-ledger"), tmp_path / "other" / "other.key")
    result = invoke("ledger", "check-proof", proof, "--public-key", keys.public_key_file(other))
    assert result.exit_code == 1
    assert "✗ checkpoint: no signature by maint-ledger" in result.stdout


def test_an_unsigned_proof_does_not_pass(no_key: Path, tmp_path: Path) -> None:
    record_run()
    proof, data = _prove(tmp_path, "--seq", "2")
    assert "public_key" not in data
    result = invoke("ledger", "check-proof", proof)
    assert result.exit_code == 1
    assert "is in the ledger's tree" in result.stdout and "the checkpoint is unsigned" in result.stdout


def test_prove_since_an_old_checkpoint(signed: Path, tmp_path: Path, private_state: Path) -> None:
    old = export_checkpoint(private_state, tmp_path)
    record_run("run-2")
    assert invoke("ledger", "checkpoint").exit_code == 0  # what maint run does at its end
    proof, data = _prove(tmp_path, "--since", old)
    assert data["kind"] == "consistency" and data["old_checkpoint"] == old.read_text()
    assert data["path"] and note.Checkpoint.parse(note.split_note(data["new_checkpoint"])[0]).size == 2 * ROWS
    public = keys.public_key_file(signed)
    result = invoke("ledger", "check-proof", proof, "--public-key", public)
    assert result.exit_code == 0, result.output
    assert (
        f"✓ the tree of {2 * ROWS} rows of acme contains the tree of {ROWS} rows unchanged" in result.stdout
    )
    data["path"][0] = _flip_hex(data["path"][0], 0)
    broken = invoke("ledger", "check-proof", _write(tmp_path, "b.json", data), "--public-key", public)
    assert broken.exit_code == 1 and "the older tree is not contained" in broken.stdout


def test_prove_and_check_proof_refuse_what_they_cannot_use(
    signed: Path, tmp_path: Path, private_state: Path
) -> None:
    one_error_line(invoke("ledger", "prove", "acme", "--seq", str(ROWS + 1)), f"--seq {ROWS + 1}")
    one_error_line(invoke("ledger", "prove", "acme", "--seq", "0"), "--seq 0")
    one_error_line(invoke("ledger", "prove", "acme", "--row", "999"), "--row 999")
    one_error_line(invoke("ledger", "prove", "acme"), "exactly one of")
    one_error_line(invoke("ledger", "prove", "nobody", "--seq", "1"), "nobody")
    one_error_line(invoke("ledger", "prove", "acme", "--since", tmp_path / "none.txt"), "none.txt")
    _, good = _prove(tmp_path, "--seq", "2")
    cases: dict[str, bytes] = {
        "missing.json": b"",
        "text.json": b"not json at all\n",
        "binary.json": b"\xff\xfe\x00\x81garbage",
        "list.json": b"[1, 2]",
        "deep.json": b"[" * 100_000 + b"]" * 100_000,
        "format.json": json.dumps({**good, "format": "other/1"}).encode(),
        "kind.json": json.dumps({**good, "kind": "exclusion"}).encode(),
        "path.json": json.dumps({**good, "path": ["zz"]}).encode(),
        "seq.json": json.dumps({**good, "seq": "2"}).encode(),
        "content.json": json.dumps({**good, "content": [1]}).encode(),
        "checkpoint.json": json.dumps({**good, "checkpoint": None}).encode(),
        "public_key.json": json.dumps({**good, "public_key": "not a key"}).encode(),
    }
    for name, raw in cases.items():
        path = tmp_path / name
        if name != "missing.json":
            path.write_bytes(raw)
        one_error_line(invoke("ledger", "check-proof", path), str(path))
    one_error_line(
        invoke("ledger", "check-proof", tmp_path / "seq.json", "--public-key", tmp_path / "text.json"),
        "text.json",
    )


# -- secrets: the private key appears nowhere but in its own file -----------------------------


def _canaries(key_path: Path) -> dict[str, bytes]:
    """The private key as text (its file's line), its base64 seed, and the raw and hex seed."""
    signer = keys.load_signer(key_path)
    assert signer is not None
    encoded = signer.encode()
    seed = signer.private.private_bytes_raw()
    assert encoded in key_path.read_text() and len(encoded.split("+", 4)[4]) == 44  # base64 of 0x01 + seed
    return {
        "encoded key": encoded.encode(),
        "base64 seed": encoded.split("+", 4)[4].encode(),
        "raw seed": seed,
        "hex seed": seed.hex().encode(),
    }


def _assert_no_leak(canaries: dict[str, bytes], key_path: Path, var: Path, outputs: list[Result]) -> None:
    assert outputs
    for result in outputs:
        for name, canary in canaries.items():
            assert canary not in result.stdout_bytes + result.stderr_bytes, (name, result.output)
    files = [p for p in var.rglob("*") if p.is_file() and p != key_path]
    database = [p for p in files if p.name.startswith("ledger.db")]
    assert database and any(p.name == "ledger.db-wal" for p in database)  # the WAL is read too
    assert (var / "checkpoints").is_dir()
    for path in files:
        data = path.read_bytes()
        for name, canary in canaries.items():
            assert canary not in data, (name, path)


def _proof_commands(var: Path, tmp_path: Path) -> list[Result]:
    [(row_id,)] = sql(var, "SELECT id FROM check_results ORDER BY id LIMIT 1")
    kept = tmp_path / "kept.txt"
    results = [
        invoke("ledger", "checkpoint"),
        invoke("ledger", "checkpoint", "--json"),
        invoke("ledger", "public-key"),
        invoke("ledger", "public-key", "-o", var / "exported.pub"),
    ]
    shutil.copyfile(next((var / "checkpoints" / "acme").iterdir()), kept)
    results += [
        invoke("ledger", "verify"),
        invoke("ledger", "verify", "acme", "--checkpoint", kept, "--json"),
        invoke("ledger", "prove", "acme", "--row", str(row_id)),
        invoke("ledger", "prove", "acme", "--seq", "1", "-o", var / "proof.json"),
        invoke("ledger", "prove", "acme", "--since", kept),
        invoke("ledger", "check-proof", var / "proof.json"),
        invoke("ledger", "keygen"),  # refused: a key exists; the message names the file only
    ]
    assert [r.exit_code for r in results] == [0] * 10 + [2], [r.output for r in results]
    return results


def test_no_command_shows_or_stores_the_private_key(
    no_key: Path, private_state: Path, tmp_path: Path
) -> None:
    keygen = invoke("ledger", "keygen")  # the default place: var/keys/ledger.key, inside MAINT_VAR
    assert keygen.exit_code == 0 and no_key.is_file()
    canaries = _canaries(no_key)
    record_run()
    record_run("run-2")
    outputs = [keygen, *_proof_commands(private_state, tmp_path)]
    _assert_no_leak(canaries, no_key, private_state, outputs)


@pytest.mark.integration
def test_a_real_run_and_ingest_leak_no_key(
    no_key: Path, private_state: Path, tmp_path: Path, make_client: Any
) -> None:
    make_client("acme")
    keygen = invoke("ledger", "keygen")
    canaries = _canaries(no_key)
    run = invoke("run", "acme", "--json")
    assert run.exit_code in (0, 1), run.output
    outcome = json.loads(run.stdout)
    assert outcome["checkpoint"]["signed"] is True, outcome.get("checkpoint")
    ingest = invoke("ledger", "ingest", outcome["run_id"])
    assert ingest.exit_code == 0, ingest.output
    status = invoke("status", "acme", "--json")
    assert status.exit_code in (0, 1)
    outputs = [keygen, run, ingest, status, *_proof_commands(private_state, tmp_path)]
    _assert_no_leak(canaries, no_key, private_state, outputs)
