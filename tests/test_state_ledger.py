"""Ledger.current_rows: the latest row and the last conclusive one per (host, control), on SQLite and
PostgreSQL, whatever the history's depth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from runner.ledger import Ledger, RunRecord
from runner.results import CheckResult, Control, Domain, Severity, Status

T0 = datetime(2026, 11, 1, 22, 0, tzinfo=UTC)
CONTROL = Control(control="HEALTH-LNX-01", title="Free space", domain=Domain.HEALTH, severity=Severity.HIGH)


def row(run_id: str, host: str, status: Status, at: datetime, control: str = "HEALTH-LNX-01") -> CheckResult:
    finding = CONTROL.model_copy(update={"control": control}).finding(
        status, evidence={"reason": status.value}
    )
    return CheckResult.from_finding(
        finding, host=host, client="acme", run_id=run_id, role="linux_health", observed_at=at
    )


def check(url: str) -> None:
    with Ledger(url) as ledger:
        history = [
            (Status.FAIL, T0),
            (Status.PASS, T0 + timedelta(days=30)),
            (Status.NOT_CHECKED, T0 + timedelta(days=60)),
            (Status.ERROR, T0 + timedelta(days=90)),
        ]
        for n, (status, at) in enumerate(history):
            run_id = f"run-{n}"
            ledger.start_run(
                RunRecord(
                    run_id=run_id,
                    client="acme",
                    mode="audit",
                    roles=["linux_health"],
                    trigger="manual",
                    started_at=at,
                )
            )
            rows = [row(run_id, "web01", status, at), row(run_id, "web02", Status.PASS, at)]
            # many pairs: more than one seek statement's worth
            rows += [
                row(run_id, f"bulk{i:04d}", Status.WARN, at, control="HEALTH-LNX-02") for i in range(2100)
            ]
            ledger.record([(f"{r.host}:{r.control}", r) for r in rows])
        # two rows at the same instant: the later seq wins
        ledger.start_run(
            RunRecord(
                run_id="tie",
                client="acme",
                mode="audit",
                roles=["linux_health"],
                trigger="manual",
                started_at=T0,
            )
        )
        ledger.record(
            [("a", row("tie", "web03", Status.FAIL, T0)), ("b", row("tie", "web03", Status.PASS, T0))]
        )

        pairs = [
            ("web01", "HEALTH-LNX-01"),
            ("web02", "HEALTH-LNX-01"),
            ("web03", "HEALTH-LNX-01"),
            ("nope", "HEALTH-LNX-01"),
        ]
        pairs += [(f"bulk{i:04d}", "HEALTH-LNX-02") for i in range(2100)]
        found = ledger.current_rows("acme", pairs)
        latest, conclusive = found[("web01", "HEALTH-LNX-01")]
        assert latest["status"] == "error" and latest["run_id"] == "run-3"
        assert conclusive is not None and conclusive["status"] == "pass" and conclusive["run_id"] == "run-1"
        latest, conclusive = found[("web02", "HEALTH-LNX-01")]
        assert latest["status"] == "pass" and latest["run_id"] == "run-3" and conclusive is None
        assert found[("web03", "HEALTH-LNX-01")][0]["status"] == "pass"
        assert ("nope", "HEALTH-LNX-01") not in found
        assert len(found) == 3 + 2100
        assert all(found[p][0]["run_id"] == "run-3" for p in pairs[4:])
        assert ledger.current_rows("other", pairs) == {}
        assert ledger.current_rows("acme", []) == {}


def test_current_rows_sqlite(tmp_path: Path) -> None:
    check(f"sqlite:///{tmp_path / 'ledger.db'}")


def test_current_rows_postgresql(pg_url: str) -> None:
    check(pg_url)
