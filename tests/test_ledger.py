"""The compliance ledger: round trips, idempotent ingest, tamper evidence, concurrency."""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from runner.ledger import Ledger, LedgerError, RunRecord, RunStatus, default_url, schema
from runner.ledger.chain import GENESIS, TABLE_KEY, canonical_json, check_result_text
from runner.ledger.store import MIGRATIONS
from runner.results import CheckResult, Domain, Severity, Status

T0 = datetime(2025, 3, 1, 22, 0, tzinfo=UTC)


def url_of(path: Path) -> str:
    return f"sqlite:///{path}"


def make_run(run_id: str = "run-1", client: str = "acme", **extra: Any) -> RunRecord:
    fields: dict[str, Any] = {
        "run_id": run_id,
        "client": client,
        "mode": "audit",
        "roles": ["patching", "health"],
        "started_at": T0,
        **extra,
    }
    return RunRecord(**fields)


def make_result(
    run_id: str = "run-1",
    client: str = "acme",
    host: str = "pc01",
    control: str = "PATCH-LNX-01",
    status: Status = Status.PASS,
    observed_at: datetime = T0,
    **evidence: Any,
) -> CheckResult:
    return CheckResult(
        control=control,
        title=f"{control} title",
        domain=Domain.PATCHING,
        status=status,
        severity=Severity.HIGH,
        evidence=evidence or {"pending": 0},
        remediation="apt upgrade" if status is not Status.PASS else "",
        host=host,
        client=client,
        run_id=run_id,
        observed_at=observed_at,
        role="patching",
        ticket="T-1",
    )


def keyed(results: list[CheckResult]) -> list[tuple[str, CheckResult]]:
    return [(f"{r.host}|{r.control}", r) for r in results]


def batch(run_id: str = "run-1", client: str = "acme", hosts: int = 3) -> list[tuple[str, CheckResult]]:
    results = [
        make_result(run_id, client, f"pc{h:02d}", control, Status.FAIL if h == 1 else Status.PASS, value=h)
        for h in range(hosts)
        for control in ("PATCH-LNX-01", "HLT-DISK-01")
    ]
    return keyed(results)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "ledger.db"


@pytest.fixture
def ledger(db: Path) -> Any:
    with Ledger(url_of(db)) as opened:
        yield opened


@pytest.fixture
def filled(ledger: Ledger) -> Ledger:
    """One client, one finished run of 6 results: rows seq 1 (run) .. 7 (results) .. 8 (event)."""
    ledger.start_run(make_run())
    assert ledger.record(batch()) == 6
    ledger.finish_run("run-1", RunStatus.SUCCESSFUL)
    return ledger


def raw(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(sql, params).fetchall()
        conn.commit()
    finally:
        conn.close()
    return rows


def only_report(ledger: Ledger, client: str = "acme") -> Any:
    [report] = ledger.verify(client)
    return report


# -- storage basics ---------------------------------------------------------------------


def test_round_trip_of_results(ledger: Ledger) -> None:
    ledger.start_run(make_run())
    pairs = batch()
    pairs.append(
        (
            "odd",
            make_result(
                host="sw1", control="NET-IOS-SSH-01", note='quote " and ünïcode\n', nested={"b": [1, 2.5]}
            ),
        )
    )
    assert ledger.record(pairs) == 7
    assert ledger.results_for_run("run-1") == [result for _, result in pairs]
    assert ledger.results_for_run("no-such-run") == []


def test_record_is_idempotent(ledger: Ledger) -> None:
    ledger.start_run(make_run())
    pairs = batch()
    assert ledger.record(pairs) == 6
    assert ledger.record(pairs) == 0
    extra = keyed([make_result(host="pc09")])
    assert ledger.record(pairs[:2] + extra) == 1
    assert ledger.record(extra + extra) == 0
    assert ledger.record([]) == 0
    assert len(ledger.results_for_run("run-1")) == 7
    assert only_report(ledger).ok


def test_duplicate_key_within_one_batch_counts_once(ledger: Ledger) -> None:
    ledger.start_run(make_run())
    first, second = make_result(status=Status.FAIL), make_result(status=Status.PASS)
    assert ledger.record([("k", first), ("k", second)]) == 1
    assert ledger.results_for_run("run-1") == [first]


def test_start_run_twice_is_a_no_op(ledger: Ledger) -> None:
    ledger.start_run(make_run())
    ledger.start_run(make_run(reason="again"))
    assert len(ledger.runs()) == 1
    assert only_report(ledger).rows == 1
    with pytest.raises(LedgerError, match="already stored"):
        ledger.start_run(make_run(client="globex"))


def test_record_needs_a_started_run_of_the_same_client(ledger: Ledger, db: Path) -> None:
    with pytest.raises(LedgerError, match="unknown run") as info:
        ledger.record(batch())
    assert str(db) in str(info.value)
    ledger.start_run(make_run())
    with pytest.raises(LedgerError, match="belongs to 'acme'"):
        ledger.record(keyed([make_result(client="globex")]))
    assert ledger.results_for_run("run-1") == []
    with pytest.raises(LedgerError, match="unknown run"):
        ledger.finish_run("nope", RunStatus.FAILED)


def test_file_is_private_and_in_wal_mode(ledger: Ledger, db: Path) -> None:
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    assert raw(db, "PRAGMA journal_mode") == [("wal",)]
    with ledger._engine.connect() as conn:  # the ledger's own connections
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


def test_default_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MAINT_DB_URL", "postgresql+psycopg://maint@db/maint")
    assert default_url() == "postgresql+psycopg://maint@db/maint"
    monkeypatch.delenv("MAINT_DB_URL")
    monkeypatch.delenv("MAINT_VAR", raising=False)
    monkeypatch.setenv("MAINT_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    assert default_url() == f"sqlite:///{tmp_path / 'home' / 'var' / 'ledger.db'}"
    assert stat.S_IMODE((tmp_path / "home" / "var").stat().st_mode) == 0o700


def test_errors_name_the_url_without_password() -> None:
    with pytest.raises(LedgerError) as info:
        Ledger("postgresql+psycopg://maint:s3cret@127.0.0.1:1/maint")
    message = str(info.value)
    assert "s3cret" not in message
    assert "maint:***@127.0.0.1:1/maint" in message
    assert info.value.__cause__ is not None


def test_migrations_match_the_schema(ledger: Ledger) -> None:
    with ledger._engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), schema.metadata) == []
        stored = set(conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # every domain branch of 0001 is applied: the database sits at all heads
    assert stored == set(ScriptDirectory.from_config(config).get_heads())
    assert "0001" not in stored or stored == {"0001"}


def test_reopening_keeps_data(db: Path) -> None:
    with Ledger(url_of(db)) as first:
        first.start_run(make_run())
        first.record(batch())
    with Ledger(url_of(db)) as second:
        assert len(second.results_for_run("run-1")) == 6
        assert only_report(second).ok


def test_chained_tables_are_never_updated_or_deleted(ledger: Ledger) -> None:
    statements: list[str] = []
    sa.event.listen(ledger._engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    ledger.start_run(make_run())
    ledger.record(batch())
    ledger.record(batch())
    ledger.finish_run("run-1", RunStatus.SUCCESSFUL)
    ledger.verify()
    writes = [s for s in statements if s.lstrip().upper().startswith(("UPDATE", "DELETE"))]
    assert writes
    assert all(s.lstrip().upper().startswith("UPDATE CHAIN_HEADS") for s in writes)


# -- reading ------------------------------------------------------------------------------


def test_runs_status_comes_from_run_events(ledger: Ledger) -> None:
    ledger.start_run(make_run("run-1", ticket="T-7"))
    ledger.start_run(make_run("run-2", started_at=T0 + timedelta(days=1)))
    ledger.start_run(make_run("run-3", client="globex", started_at=T0 + timedelta(days=2)))
    ledger.record(batch("run-1"))

    first = ledger.run("run-1")
    assert first is not None
    assert first.status is RunStatus.RUNNING
    assert first.finished_at is None
    assert first.summary == {"pass": 4, "fail": 2, "hosts": 3}  # live counts while running
    assert first.roles == ["patching", "health"]
    assert first.started_at == T0

    ledger.finish_run("run-1", RunStatus.FAILED, {"pass": 1, "hosts": 1})
    ledger.finish_run("run-1", RunStatus.SUCCESSFUL)  # a later event wins
    ledger.finish_run("run-2", RunStatus.INTERRUPTED)

    assert [r.run_id for r in ledger.runs()] == ["run-3", "run-2", "run-1"]
    assert [r.run_id for r in ledger.runs("acme")] == ["run-2", "run-1"]
    assert [r.run_id for r in ledger.runs(limit=1)] == ["run-3"]
    assert [r.run_id for r in ledger.runs(ticket="T-7")] == ["run-1"]
    by_id = {r.run_id: r for r in ledger.runs()}
    assert by_id["run-1"].status is RunStatus.SUCCESSFUL
    assert by_id["run-1"].summary == {"pass": 4, "fail": 2, "hosts": 3}
    assert by_id["run-1"].finished_at is not None
    assert by_id["run-1"].ticket == "T-7"
    assert by_id["run-2"].status is RunStatus.INTERRUPTED
    assert by_id["run-2"].summary == {"hosts": 0}
    assert by_id["run-3"].status is RunStatus.RUNNING
    assert ledger.run("missing") is None
    assert ledger.clients() == ["acme", "globex"]


def test_latest_results_per_host_and_control(ledger: Ledger) -> None:
    ledger.start_run(make_run("run-1"))
    ledger.start_run(make_run("run-2"))
    old_fail = make_result("run-1", host="pc01", status=Status.FAIL, observed_at=T0)
    old_disk = make_result("run-1", host="pc01", control="HLT-DISK-01", observed_at=T0)
    other = make_result("run-1", host="pc02", observed_at=T0)
    newer = make_result("run-2", host="pc01", status=Status.PASS, observed_at=T0 + timedelta(hours=1))
    ledger.record(keyed([old_fail, old_disk, other]))
    ledger.record(keyed([newer]))
    # ingested later but observed earlier: not the latest
    late_ingest = make_result("run-2", host="pc02", status=Status.ERROR, observed_at=T0 - timedelta(hours=1))
    ledger.record(keyed([late_ingest]))

    latest = ledger.latest_results("acme")
    assert {(r.host, r.control): r for r in latest} == {
        ("pc01", "HLT-DISK-01"): old_disk,
        ("pc01", "PATCH-LNX-01"): newer,
        ("pc02", "PATCH-LNX-01"): other,
    }
    assert ledger.latest_results("acme", host="pc02") == [other]
    assert ledger.latest_results("nobody") == []

    # same observed_at: the later row (higher seq) wins
    tie = make_result("run-2", host="pc02", status=Status.WARN, observed_at=T0)
    ledger.record([("tie", tie)])
    assert ledger.latest_results("acme", host="pc02") == [tie]


# -- tamper evidence ----------------------------------------------------------------------


def test_clean_ledger_verifies(filled: Ledger) -> None:
    report = only_report(filled)
    assert report.ok
    assert report.rows == 8
    assert report.first_bad is None
    assert filled.verify("nobody")[0].ok


@pytest.mark.parametrize(
    ("column", "value"),
    [("evidence", '{"pending":99}'), ("status", "pass"), ("observed_at", "2025-03-02T00:00:00.000000+00:00")],
)
def test_edited_result_is_named(filled: Ledger, db: Path, column: str, value: str) -> None:
    [(row_id, seq)] = raw(
        db, "SELECT id, seq FROM check_results WHERE host = 'pc01' AND control = 'PATCH-LNX-01'"
    )
    raw(db, f"UPDATE check_results SET {column} = ? WHERE id = ?", value, row_id)
    report = only_report(filled)
    assert not report.ok
    assert report.first_bad is not None
    assert (report.first_bad.table, report.first_bad.seq, report.first_bad.row_id) == (
        "check_results",
        seq,
        row_id,
    )
    assert "hash mismatch" in report.first_bad.reason


def test_edited_run_row_is_named(filled: Ledger, db: Path) -> None:
    raw(db, "UPDATE runs SET mode = 'remediate' WHERE run_id = 'run-1'")
    report = only_report(filled)
    assert report.first_bad is not None
    assert (report.first_bad.table, report.first_bad.seq, report.first_bad.row_id) == ("runs", 1, "run-1")


def test_deleted_middle_row_fails(filled: Ledger, db: Path) -> None:
    raw(db, "DELETE FROM check_results WHERE seq = 4")
    report = only_report(filled)
    assert not report.ok
    assert report.first_bad is not None
    assert (report.first_bad.table, report.first_bad.seq) == ("check_results", 5)
    assert "gap" in report.first_bad.reason


def test_deleted_last_row_fails_on_the_head_pointer(filled: Ledger, db: Path) -> None:
    raw(db, "DELETE FROM run_events WHERE seq = 8")
    report = only_report(filled)
    assert not report.ok
    assert report.first_bad is not None
    assert (report.first_bad.table, report.first_bad.seq) == ("chain_heads", 8)
    assert "deleted at the end" in report.first_bad.reason


def _forge(db: Path, seq: int, prev_hash: str) -> int:
    """Insert a well-formed check_results row (its own hash correct) with the given seq and link."""
    content = {
        "client": "acme",
        "seq": seq,
        "run_id": "run-1",
        "result_key": "forged",
        "host": "pc01",
        "control": "PATCH-LNX-01",
        "title": "forged",
        "domain": "patching",
        "status": "pass",
        "severity": "high",
        "evidence": "{}",
        "remediation": "",
        "observed_at": T0.isoformat(timespec="microseconds"),
        "role": "patching",
        "ticket": None,
        "recorded_at": T0.isoformat(timespec="microseconds"),
    }
    digest = hashlib.sha256((prev_hash + canonical_json({**content, TABLE_KEY: "check_results"})).encode())
    columns = [*content, "prev_hash", "row_hash"]
    values = [*content.values(), prev_hash, digest.hexdigest()]
    conn = sqlite3.connect(db)
    try:
        cursor = conn.execute(
            f"INSERT INTO check_results ({', '.join(columns)}) VALUES ({', '.join('?' * len(values))})",
            values,
        )
        conn.commit()
        assert cursor.lastrowid is not None
        return cursor.lastrowid
    finally:
        conn.close()


def test_inserted_row_with_reused_seq_fails(filled: Ledger, db: Path) -> None:
    forged = _forge(db, 1, GENESIS)  # seq 1 is the run's row: a second "first row" of the chain
    report = only_report(filled)
    assert not report.ok
    assert report.first_bad is not None
    assert (report.first_bad.table, report.first_bad.seq, report.first_bad.row_id) == (
        "check_results",
        1,
        forged,
    )
    assert "duplicate seq" in report.first_bad.reason


def test_reused_seq_within_one_table_is_refused_outright(filled: Ledger, db: Path) -> None:
    [(prev_hash,)] = raw(db, "SELECT row_hash FROM check_results WHERE seq = 4")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        _forge(db, 5, prev_hash)


def test_inserted_row_with_seq_of_another_table_fails(filled: Ledger, db: Path) -> None:
    [(prev_hash,)] = raw(db, "SELECT row_hash FROM check_results WHERE seq = 7")
    forged = _forge(db, 8, prev_hash)  # seq 8 is the run event
    report = only_report(filled)
    assert report.first_bad is not None
    assert (report.first_bad.table, report.first_bad.seq, report.first_bad.row_id) == (
        "check_results",
        8,
        forged,
    )


def test_row_appended_behind_the_head_fails(filled: Ledger, db: Path) -> None:
    [(prev_hash,)] = raw(db, "SELECT row_hash FROM run_events WHERE seq = 8")
    forged = _forge(db, 9, prev_hash)
    report = only_report(filled)
    assert report.first_bad is not None
    assert (report.first_bad.table, report.first_bad.seq, report.first_bad.row_id) == (
        "check_results",
        9,
        forged,
    )
    assert "beyond the chain head" in report.first_bad.reason


def test_clients_chain_independently(filled: Ledger, db: Path) -> None:
    filled.start_run(make_run("g-1", client="globex"))
    assert filled.record(batch("g-1", client="globex")) == 6
    filled.record(keyed([make_result(host="pc77")]))  # acme again, after globex
    [(acme_rows,)] = raw(db, "SELECT seq FROM chain_heads WHERE client = 'acme'")
    [(globex_rows,)] = raw(db, "SELECT seq FROM chain_heads WHERE client = 'globex'")
    assert (acme_rows, globex_rows) == (9, 7)
    assert all(report.ok for report in filled.verify())

    raw(db, "UPDATE check_results SET evidence = '{}' WHERE client = 'globex' AND seq = 3")
    reports = {report.client: report for report in filled.verify()}
    assert reports["acme"].ok
    assert reports["acme"].rows == 9
    assert not reports["globex"].ok
    assert reports["globex"].first_bad is not None
    assert reports["globex"].first_bad.seq == 3


def test_canonical_text_of_results_matches_the_generic_encoder() -> None:
    values: dict[str, Any] = {
        "client": 'ac"me',
        "control": "PATCH-LNX-01",
        "domain": "patching",
        "evidence": canonical_json({"z": 1, "a": ["ü", "\u2028", None, 1.5], "nl": "a\nb\\c"}),
        "host": "pc-ñ",
        "observed_at": "2025-03-01T22:00:00.000000+00:00",
        "recorded_at": "2025-03-01T22:00:01.000000+00:00",
        "remediation": "tab\there\x00",
        "result_key": "k|1",
        "role": "patching",
        "run_id": "run-1",
        "seq": 123456789012,
        "severity": "high",
        "status": "fail",
        "ticket": None,
        "title": "emoji \U0001f600",
    }
    for ticket in (None, 'T-1 "x"'):
        values["ticket"] = ticket
        expected = canonical_json({**values, TABLE_KEY: "check_results"})
        assert check_result_text(*(values[key] for key in sorted(values))) == expected
    assert (
        canonical_json({"b": 1, "a": {"d": 2, "c": T0}}) == '{"a":{"c":"2025-03-01T22:00:00Z","d":2},"b":1}'
    )


# -- concurrency --------------------------------------------------------------------------


def _append_worker(url: str, worker: int, batches: int) -> None:
    with Ledger(url) as ledger:
        run_id = f"run-w{worker}"
        ledger.start_run(make_run(run_id))
        for number in range(batches):
            results = [
                make_result(
                    run_id, host=f"w{worker}-b{number}-h{h}", observed_at=T0 + timedelta(seconds=number)
                )
                for h in range(5)
            ]
            assert ledger.record(keyed(results)) == 5
        ledger.finish_run(run_id, RunStatus.SUCCESSFUL)


@pytest.mark.parametrize("backend", ["sqlite", "sqlite-fresh-file", "postgresql"])
def test_two_processes_append_to_one_client(backend: str, db: Path, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else url_of(db)
    if backend != "sqlite-fresh-file":  # else both workers create and migrate the file at once
        Ledger(url).close()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_worker, args=(url, n, 40)) for n in range(2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    assert [process.exitcode for process in workers] == [0, 0]
    with Ledger(url) as ledger:
        report = only_report(ledger)
        assert report.ok, report.first_bad
        assert report.rows == 2 * (1 + 40 * 5 + 1)
        assert {run.status for run in ledger.runs()} == {RunStatus.SUCCESSFUL}
        with ledger._engine.connect() as conn:
            order = conn.execute(
                sa.select(schema.check_results.c.run_id).order_by(schema.check_results.c.seq)
            )
            run_ids = list(order.scalars())
    # both writers really appended into the one chain (their batches interleave)
    assert sum(1 for a, b in itertools.pairwise(run_ids) if a != b) >= 1


# -- PostgreSQL (the pg_url fixture of conftest.py: only with MAINT_TEST_PG_URL) --


def test_postgresql_round_trip_and_tamper_evidence(pg_url: str) -> None:
    with Ledger(pg_url) as ledger:
        ledger.start_run(make_run())
        pairs = batch()
        assert ledger.record(pairs) == 6
        assert ledger.record(pairs) == 0
        ledger.finish_run("run-1", RunStatus.SUCCESSFUL)
        assert ledger.results_for_run("run-1") == [result for _, result in pairs]
        assert only_report(ledger).ok
        assert ledger.runs()[0].summary == {"fail": 2, "hosts": 3, "pass": 4}
        with ledger._engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), schema.metadata) == []
        with ledger._engine.begin() as conn:
            conn.exec_driver_sql("UPDATE check_results SET status = 'fail' WHERE seq = 3")
        report = only_report(ledger)
        assert report.first_bad is not None
        assert (report.first_bad.table, report.first_bad.seq) == ("check_results", 3)


def test_hashes_are_reproducible_across_sqlite_and_postgresql(filled: Ledger, pg_url: str) -> None:
    with Ledger(pg_url) as target:
        with filled._engine.connect() as source, target._engine.begin() as sink:
            for table in (schema.chain_heads, *schema.CHAINED):
                rows = [dict(row) for row in source.execute(sa.select(table)).mappings()]
                if rows:  # domain tables may be empty here; an empty insert means DEFAULT VALUES
                    sink.execute(sa.insert(table), rows)
        assert [report.model_dump() for report in target.verify()] == [
            report.model_dump() for report in filled.verify()
        ]
        assert only_report(target).ok


def test_a_run_started_with_its_plan_keeps_it_in_the_chain(ledger: Ledger, db: Path) -> None:
    # a run recorded the old way (no plan) next to one with its plan: both chains verify
    ledger.start_run(make_run("old-run"))
    ledger.record(batch("old-run"))
    ledger.finish_run("old-run", RunStatus.FAILED)
    plan = {"health": ["pc02", "pc01"], "patching": ["pc01"]}
    ledger.start_run(make_run("new-run", started_at=T0 + timedelta(hours=1)), plan=plan)
    ledger.start_run(make_run("new-run", started_at=T0 + timedelta(hours=1)), plan=plan)  # no-op again

    assert ledger.run_plan("new-run") == {"health": ["pc01", "pc02"], "patching": ["pc01"]}
    assert ledger.run_plan("old-run") is None
    new = ledger.run("new-run")
    assert new is not None and new.status is RunStatus.RUNNING and new.finished_at is None
    assert [r.run_id for r in ledger.unfinished_runs()] == ["new-run"]
    assert ledger.first_finish("new-run") is None
    assert ledger.first_finish("old-run") is not None

    ledger.finish_run("new-run", RunStatus.PARTIAL, {"hosts": 2, "not_reached": ["pc02"]})
    ledger.finish_run("new-run", RunStatus.SUCCESSFUL)  # a later event does not move the span's end
    finished = ledger.run("new-run")
    assert finished is not None and finished.status is RunStatus.SUCCESSFUL
    first = ledger.first_finish("new-run")
    assert first is not None and finished.finished_at is not None and first <= finished.finished_at
    assert ledger.unfinished_runs() == []
    assert ledger.run_plan("new-run") == {"health": ["pc01", "pc02"], "patching": ["pc01"]}
    (report,) = ledger.verify("acme")
    assert report.ok, report.first_bad
    with sqlite3.connect(db) as con:
        statuses = [row[0] for row in con.execute("select status from run_events order by seq")]
    assert statuses == ["failed", "running", "partial", "successful"]
