"""The tamper suite (maint_devtools/tamper.py) on SQLite and PostgreSQL: every case is detected, and verify
names the row or checkpoint the case aimed at; the untouched copy verifies (no false positive)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from maint_devtools import tamper
from runner.ledger import VerifyReport
from runner.ledger.models import CheckpointCheck

#: rows of client acme: more than 2**8, so stored subtrees exist (the recompute cases meet them)
ROWS = 300


@dataclass
class Suite:
    built: tamper.Built
    work: Path


def _suite(backend: tamper.Backend, work: Path) -> Iterator[Suite]:
    try:
        yield Suite(tamper.build(backend, work, ROWS), work)
    finally:
        backend.close()


@pytest.fixture(scope="module")
def sqlite_suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    work = tmp_path_factory.mktemp("tamper-sqlite")
    (work / "db").mkdir()
    yield from _suite(tamper.SqliteBackend(work / "db"), work)


@pytest.fixture(scope="module")
def postgresql_suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    # module scope: one build for all cases (the function-scoped pg_url fixture would rebuild per case);
    # the suite creates and drops its own databases on the same server, as pg_url does
    server = os.environ.get("MAINT_TEST_PG_URL")
    if not server:
        pytest.skip(
            "!!! PostgreSQL ledger tests SKIPPED: MAINT_TEST_PG_URL not set (.ci/run starts a server) !!!"
        )
    yield from _suite(tamper.PostgresBackend(server), tmp_path_factory.mktemp("tamper-pg"))


def _given(report: VerifyReport, where: str) -> CheckpointCheck:
    (check,) = [c for c in report.checkpoints if c.source == "given" and c.where == where]
    return check


def _exported(report: VerifyReport, built: tamper.Built) -> CheckpointCheck:
    return _given(report, str(built.exported))


def _root_mismatch(report: VerifyReport, built: tamper.Built) -> None:
    check = _exported(report, built)
    assert not check.ok and check.signature == "verified"
    assert f"its root does not match the ledger's first {built.exported_size} rows" in (check.reason or "")


def _check_control(report: VerifyReport, built: tamper.Built) -> None:
    assert report.ok and report.first_bad is None and report.tree_problem is None
    assert report.rows == built.size
    check = _exported(report, built)
    assert check.ok and check.signature == "verified"


def _check_edit(report: VerifyReport, built: tamper.Built) -> None:
    assert report.first_bad is not None
    assert (report.first_bad.table, report.first_bad.seq, report.first_bad.row_id) == (
        "check_results",
        built.edit.seq,
        built.edit.row_id,
    )
    assert "hash mismatch" in report.first_bad.reason


def _check_delete_middle(report: VerifyReport, built: tamper.Built) -> None:
    bad = report.first_bad
    assert bad is not None and bad.seq == built.middle.seq + 1
    assert f"seq gap: expected {built.middle.seq}, found {built.middle.seq + 1}" in bad.reason


def _check_delete_tail(report: VerifyReport, built: tamper.Built) -> None:
    # the database agrees with itself again: only the exported checkpoint knows rows are gone
    assert report.first_bad is None and report.tree_problem is None
    assert report.tree_size == built.tail_from - 1
    check = _exported(report, built)
    assert not check.ok
    assert f"names {built.exported_size} rows but the ledger holds {built.tail_from - 1}" in (
        check.reason or ""
    )
    assert [c for c in report.checkpoints if not c.ok] == [check]


def _check_reorder(report: VerifyReport, built: tamper.Built) -> None:
    first, second = built.swap
    bad = report.first_bad
    assert bad is not None and bad.seq == first.seq and bad.row_id == second.row_id  # the row moved up


def _check_insert(report: VerifyReport, built: tamper.Built) -> None:
    bad = report.first_bad
    assert bad is not None and bad.seq == built.forged_after + 2  # the row the forged one pushed down
    assert "prev_hash does not match" in bad.reason


def _check_recompute_chain(report: VerifyReport, built: tamper.Built) -> None:
    assert report.first_bad is None  # the chain itself walks clean
    assert report.tree_problem is not None and "rows seq 1-256" in report.tree_problem
    _root_mismatch(report, built)


def _check_recompute_unsigned(report: VerifyReport, built: tamper.Built) -> None:
    assert report.first_bad is None and report.tree_problem is None
    _root_mismatch(report, built)
    later = [c for c in report.checkpoints if c.source == "ledger" and (c.size or 0) > built.exported_size]
    assert later and all(c.signature == "unsigned" and not c.ok for c in later)


def _check_recompute_own_key(report: VerifyReport, built: tamper.Built) -> None:
    assert report.first_bad is None and report.tree_problem is None
    _root_mismatch(report, built)
    stored = [c for c in report.checkpoints if c.source == "ledger"]
    assert stored and all(c.signature == "bad" and not c.ok for c in stored)


def _check_drop_rebuild(report: VerifyReport, built: tamper.Built) -> None:
    assert report.first_bad is None and report.tree_problem is None
    assert report.tree_size == built.size - 1  # one result fewer, everything renumbered
    assert not [c for c in report.checkpoints if c.source == "ledger"]  # dropped
    _root_mismatch(report, built)


def _check_older_backup(report: VerifyReport, built: tamper.Built) -> None:
    assert report.first_bad is None and report.tree_size == built.backup_size
    check = _exported(report, built)
    assert not check.ok
    assert f"names {built.exported_size} rows but the ledger holds {built.backup_size}" in (
        check.reason or ""
    )


def _check_byte(report: VerifyReport, built: tamper.Built) -> None:
    assert report.first_bad is None and report.tree_problem is None
    check = _given(report, f"{built.exported} (one byte edited)")
    assert not check.ok and check.signature == "bad" and "does not verify" in (check.reason or "")


def _check_other_key(report: VerifyReport, built: tamper.Built) -> None:
    forged = _given(report, "forged (another key)")
    assert not forged.ok and forged.signature == "bad" and forged.size == built.size
    assert _exported(report, built).ok


CHECKS: dict[str, Callable[[VerifyReport, tamper.Built], None]] = {
    "control": _check_control,
    "edit": _check_edit,
    "delete-middle": _check_delete_middle,
    "delete-tail": _check_delete_tail,
    "reorder": _check_reorder,
    "insert-forged": _check_insert,
    "recompute-chain": _check_recompute_chain,
    "recompute-all-unsigned": _check_recompute_unsigned,
    "recompute-all-own-key": _check_recompute_own_key,
    "drop-rebuild": _check_drop_rebuild,
    "older-backup": _check_older_backup,
    "checkpoint-byte": _check_byte,
    "other-key": _check_other_key,
}


def test_every_case_has_a_check() -> None:
    assert [case.name for case in tamper.CASES] == list(CHECKS)
    assert sum(1 for case in tamper.CASES if case.control) == 1


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("case", tamper.CASES, ids=[case.name for case in tamper.CASES])
def test_case(backend: str, case: tamper.Case, request: pytest.FixtureRequest) -> None:
    suite: Suite = request.getfixturevalue(f"{backend}_suite")
    outcome = tamper.run_case(case, suite.built, suite.work)
    assert outcome.detected, outcome.said()
    assert outcome.problem is None, outcome.said()
    assert outcome.report.ok is case.control
    CHECKS[case.name](outcome.report, suite.built)


def test_main_prints_every_case_detected(capsys: pytest.CaptureFixture[str]) -> None:
    assert tamper.main(["--rows", str(tamper.MIN_ROWS)]) == 0
    out = capsys.readouterr().out
    total = len(tamper.CASES) - 1
    assert f"detected {total}/{total} tamper cases; control verifies OK" in out
    lines = {line.split("|")[0].strip(): line for line in out.splitlines() if "|" in line}
    assert lines["control"].split("|")[1].strip() == "ok"
    assert all(lines[case.name].split("|")[1].strip() == "yes" for case in tamper.CASES if not case.control)


def test_main_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = tmp_path / "built.db"
    assert tamper.main(["--rows", str(tamper.MIN_ROWS), "--db", f"sqlite:///{db}", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["detected"], data["total"], data["control_ok"]) == (len(tamper.CASES) - 1,) * 2 + (True,)
    assert db.is_file()  # the built, untampered ledger stays where --db named it


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rows", "10"], f"--rows: at least {tamper.MIN_ROWS} (got 10)"),
        (["--db", "sqlite://"], "--db: an in-memory SQLite ledger cannot be copied per case"),
        (["--db", "mysql://u@h/d"], "--db: mysql is not a ledger backend"),
        (["--db", "not a url"], "--db: not a database URL"),
    ],
)
def test_bad_arguments(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert tamper.main(args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_existing_sqlite_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "ledger.db"
    db.write_bytes(b"keep me")
    assert tamper.main(["--db", f"sqlite:///{db}"]) == 2
    assert "exists" in capsys.readouterr().err
    assert db.read_bytes() == b"keep me"
