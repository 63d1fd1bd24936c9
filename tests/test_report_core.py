"""The report's spine: periods, the checkpoint a report is built from, the state at an instant, and the
core sections (score, coverage, findings, waivers, windows), on a small ledger written row by row."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runner import catalogue
from runner.cli import app
from runner.inventory import load_client
from runner.ledger import Ledger, RunRecord
from runner.report import period as periods
from runner.report.context import ReportContext, choose_checkpoint
from runner.report.sections import core
from runner.results import CheckResult, Control, Status
from runner.state import compute

SETTINGS = """\
maintenance:
  display_name: Acme Ltd
  timezone: Europe/Madrid
  contacts: [{name: Tech, email: tech@example.com}]
  roles:
    linux_health: [linux]
  waivers:
    - control: HEALTH-LNX-06
      hosts: web02
      owner: tech@example.com
      reason: rebuilt, not rebooted
      expires: 2026-12-20
    - control: HEALTH-LNX-01
      hosts: web01
      owner: tech@example.com
      reason: disk replacement ordered
      expires: 2026-11-15
"""
HOSTS = """\
all:
  children:
    linux:
      hosts:
        web01: {ansible_connection: local}
        web02: {ansible_connection: local}
        web03: {ansible_connection: local}
"""
T_OCT = datetime(2026, 10, 10, 21, 0, tzinfo=UTC)
T_NOV = datetime(2026, 11, 7, 21, 0, tzinfo=UTC)
T_DEC = datetime(2026, 12, 5, 21, 0, tzinfo=UTC)


@pytest.fixture
def client_dir(tmp_path: Path) -> Path:
    root = tmp_path / "inventories"
    folder = root / "acme"
    (folder / "group_vars" / "all").mkdir(parents=True)
    (folder / "hosts.yml").write_text(HOSTS)
    (folder / "group_vars" / "all" / "maintenance.yml").write_text(SETTINGS)
    return root


def result(run_id: str, host: str, control: str, status: Status, at: datetime) -> CheckResult:
    spec = catalogue.load().controls[control]
    finding = Control(control=control, title=spec.title, domain=spec.domain, severity=spec.severity).finding(
        status, evidence={"reason": f"{status.value} seen"}
    )
    return CheckResult.from_finding(
        finding, host=host, client="acme", run_id=run_id, role="linux_health", observed_at=at
    )


def record(ledger: Ledger, run_id: str, at: datetime, statuses: dict[tuple[str, str], Status]) -> None:
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
    ledger.record(
        [(f"{h}:{c}", result(run_id, h, c, s, at + timedelta(minutes=1))) for (h, c), s in statuses.items()]
    )


def all_controls(status: Status = Status.PASS) -> dict[tuple[str, str], Status]:
    specs = catalogue.load().for_role("linux_health")
    return {(h, s.id): status for h in ("web01", "web02", "web03") for s in specs}


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Ledger:
    monkeypatch.setenv("MAINT_VAR", str(tmp_path / "var"))
    monkeypatch.delenv("MAINT_LEDGER_KEY_FILE", raising=False)
    return Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")


def history(ledger: Ledger) -> None:
    """October all pass; November: web01 fails HEALTH-LNX-01 (and web03 is not reached); December:
    web01 fixed, web02 fails HEALTH-LNX-02."""
    record(ledger, "oct", T_OCT, all_controls())
    ledger.checkpoint("acme")
    nov = all_controls()
    nov[("web01", "HEALTH-LNX-01")] = Status.FAIL
    for key in [k for k in nov if k[0] == "web03"]:
        del nov[key]
    record(ledger, "nov", T_NOV, nov)
    ledger.record(
        [
            (
                "web03:unreachable",
                CheckResult.from_finding(
                    Control(
                        control="HEALTH-LNX-01",
                        title="x",
                        domain=catalogue.load().controls["HEALTH-LNX-01"].domain,
                        severity=catalogue.load().controls["HEALTH-LNX-01"].severity,
                    ).finding(Status.NOT_CHECKED, evidence={"reason": "host unreachable: ssh timed out"}),
                    host="web03",
                    client="acme",
                    run_id="nov",
                    role="linux_health",
                    observed_at=T_NOV + timedelta(minutes=2),
                ),
            )
        ]
    )
    ledger.checkpoint("acme")
    dec = all_controls()
    dec[("web02", "HEALTH-LNX-02")] = Status.FAIL
    record(ledger, "dec", T_DEC, dec)
    ledger.checkpoint("acme")


# --------------------------------------------------------------------------- periods


def test_month_period_is_whole_local_days_across_dst() -> None:
    october = periods.month("2026-10", "Europe/Madrid")
    assert october.start == datetime(2026, 9, 30, 22, 0, tzinfo=UTC)  # CEST
    assert october.end == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)  # CET after the fall-back
    assert october.previous().label == "2026-09" and october.days == 31
    assert [p.label for p in periods.month("2026-02", "UTC").back(3)] == ["2025-12", "2026-01", "2026-02"]
    span = periods.span(date(2026, 11, 3), date(2026, 11, 20), "UTC")
    assert span.label == "2026-11-03..2026-11-20" and span.previous().last_day == date(2026, 11, 2)
    assert periods.span(date(2026, 11, 1), date(2026, 11, 30), "UTC").label == "2026-11"


@pytest.mark.parametrize("bad", ["2026-13", "26-11", "2026/11", "november", "2026-00"])
def test_bad_month_names_the_option(bad: str) -> None:
    with pytest.raises(ValueError, match="--period"):
        periods.month(bad, "UTC")


# --------------------------------------------------------------------------- context


def test_a_past_period_keeps_its_checkpoint_when_rows_come_later(ledger: Ledger, client_dir: Path) -> None:
    history(ledger)
    client = load_client("acme", client_dir)
    november = periods.month("2026-11", "Europe/Madrid")
    ctx = ReportContext(ledger, client, november)
    checkpoints = ledger.checkpoints("acme")
    assert ctx.checkpoint == checkpoints[1]  # the first covering every row observed before Dec 1
    assert all(row.observed_at < november.end for row in ctx.rows)
    assert {row.run_id for row in ctx.rows} == {"oct", "nov"}
    assert ctx.rows_after == checkpoints[-1].size - checkpoints[1].size


def test_rows_after_the_latest_checkpoint_are_left_out_and_counted(ledger: Ledger, client_dir: Path) -> None:
    history(ledger)
    record(ledger, "late", T_DEC + timedelta(days=1), {("web01", "HEALTH-LNX-01"): Status.FAIL})
    client = load_client("acme", client_dir)
    ctx = ReportContext(ledger, client, periods.month("2026-12", "Europe/Madrid"))
    assert ctx.checkpoint == ledger.checkpoints("acme")[-1]
    assert "late" not in {row.run_id for row in ctx.rows}
    assert ctx.rows_after == 2  # the run row and its result


def test_choose_checkpoint_without_any_uses_the_head() -> None:
    assert choose_checkpoint([], 10, 12) == (None, 12)


def test_state_at_the_end_equals_maint_status(ledger: Ledger, client_dir: Path) -> None:
    history(ledger)
    client = load_client("acme", client_dir)
    ctx = ReportContext(ledger, client, periods.month("2026-12", "Europe/Madrid"))
    now = datetime(2026, 12, 10, tzinfo=UTC)
    live = compute(ledger, client, now=now)
    mine = ctx.state()
    assert [(r.host, r.control, r.effective, r.failing) for r in mine.rows] == [
        (r.host, r.control, r.effective, r.failing) for r in live.rows
    ]


# --------------------------------------------------------------------------- sections


def test_score_counts_every_applicable_pair_by_catalogue_weight(ledger: Ledger, client_dir: Path) -> None:
    history(ledger)
    client = load_client("acme", client_dir)
    ctx = ReportContext(ledger, client, periods.month("2026-11", "Europe/Madrid"))
    state = ctx.state()
    specs = catalogue.load().controls
    possible = earned = 0
    for row in state.rows:
        if row.effective == "not_applicable":
            continue
        weight = core.WEIGHTS[specs[row.control].severity.value]
        possible += weight
        earned += weight if row.effective in ("pass", "waived") else 0
    summary = core.summary(ctx)
    assert (summary["earned"], summary["possible"]) == (earned, possible)
    assert summary["score"] == round(100 * earned / possible) < 100
    assert summary["previous_score"] == 100  # October: every control passed
    assert summary["trend"] == summary["score"] - 100
    labels = [p["period"] for p in summary["trend_points"]]
    assert labels[-1] == "2026-11" and len(labels) == 12
    assert [p["score"] for p in summary["trend_points"]][:-2] == [None] * 10


def test_findings_change_first_seen_and_resolved(ledger: Ledger, client_dir: Path) -> None:
    history(ledger)
    client = load_client("acme", client_dir)
    nov = core.findings_section(ReportContext(ledger, client, periods.month("2026-11", "Europe/Madrid")))
    ids = [f["id"] for f in nov["open"]]
    assert "web01:HEALTH-LNX-01" in ids
    web01 = next(f for f in nov["open"] if f["id"] == "web01:HEALTH-LNX-01")
    assert web01["change"] == "regressed" and web01["previous_status"] == "pass"
    assert web01["first_seen"] == (T_NOV + timedelta(minutes=1)).isoformat()
    assert web01["seq"] is not None and web01["risk"]
    # web03 was not reached and last passed: coverage, not a finding
    assert not any(f["host"] == "web03" for f in nov["open"])
    dec = core.findings_section(ReportContext(ledger, client, periods.month("2026-12", "Europe/Madrid")))
    assert [f["id"] for f in dec["open"]] == ["web02:HEALTH-LNX-02"]
    assert dec["open"][0]["change"] == "regressed"
    assert [r["id"] for r in dec["resolved"]] == ["web01:HEALTH-LNX-01"]


def test_coverage_names_the_host_not_reached(ledger: Ledger, client_dir: Path) -> None:
    history(ledger)
    client = load_client("acme", client_dir)
    cov = core.coverage(ReportContext(ledger, client, periods.month("2026-11", "Europe/Madrid")))
    assert cov["hosts_in_scope"] == 3 and cov["hosts_checked"] == 2
    assert cov["hosts_not_checked"] == [{"host": "web03", "reason": "host unreachable: ssh timed out"}]
    (health,) = cov["by_domain"]
    assert (health["hosts"], health["checked"], health["not_checked"]) == (3, 2, 1)


def test_waivers_in_force_and_expiring(ledger: Ledger, client_dir: Path) -> None:
    history(ledger)
    client = load_client("acme", client_dir)
    nov = core.waivers(ReportContext(ledger, client, periods.month("2026-11", "Europe/Madrid")))
    assert [w["control"] for w in nov["in_force"]] == ["HEALTH-LNX-06"]
    assert [w["control"] for w in nov["expiring_30d"]] == ["HEALTH-LNX-06"]  # 2026-12-20 within 30 days
    assert nov["as_of_date"] == "2026-11-30"  # the period's last day: HEALTH-LNX-01's waiver had expired
    oct_ = core.waivers(ReportContext(ledger, client, periods.month("2026-10", "Europe/Madrid")))
    assert [w["control"] for w in oct_["in_force"]] == ["HEALTH-LNX-01", "HEALTH-LNX-06"]
    assert [w["control"] for w in oct_["expiring_30d"]] == ["HEALTH-LNX-01"]


# --------------------------------------------------------------------------- CLI errors


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2026-13"], "--period 2026-13"),
        (["--from", "2026-11-01"], "--from and --to go together"),
        (["--from", "2026-11-31", "--to", "2026-12-01"], "--from 2026-11-31"),
        (["--from", "2026-11-10", "--to", "2026-11-01"], "--to 2026-11-01 is before"),
        (["--format", "docx"], "--format 'docx'"),
        (["--lang", "fr"], "--lang 'fr'"),
        (["--period", "2026-11", "--from", "2026-11-01", "--to", "2026-11-02"], "not both"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(
    args: list[str], message: str, client_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAINT_INVENTORIES", str(client_dir))
    monkeypatch.setenv("MAINT_VAR", str(tmp_path / "var"))
    found = CliRunner().invoke(app, ["report", "acme", *args])
    assert found.exit_code == 2, found.output
    assert message in found.output and "Traceback" not in found.output
    assert len(found.output.strip().splitlines()) == 1


def test_unknown_client_exits_2(client_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAINT_INVENTORIES", str(client_dir))
    monkeypatch.setenv("MAINT_VAR", str(tmp_path / "var"))
    found = CliRunner().invoke(app, ["report", "nobody"])
    assert found.exit_code == 2 and "nobody" in found.output and "Traceback" not in found.output


def test_json_report_of_a_period(
    ledger: Ledger, client_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history(ledger)
    monkeypatch.setenv("MAINT_INVENTORIES", str(client_dir))
    monkeypatch.setenv("MAINT_DB_URL", f"sqlite:///{tmp_path / 'ledger.db'}")
    out = tmp_path / "nov.json"
    found = CliRunner().invoke(
        app, ["report", "acme", "--period", "2026-11", "--format", "json", "-o", str(out)]
    )
    assert found.exit_code == 0, found.output
    data = json.loads(out.read_text())
    assert data["period"]["label"] == "2026-11" and data["ledger"]["checkpoint"]["size"] == ctx_size(ledger)
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    found = CliRunner().invoke(app, ["report", "acme", "--period", "2026-11", "-o", str(blocked / "r.html")])
    assert found.exit_code == 2 and "Traceback" not in found.output
    (line,) = found.output.strip().splitlines()  # the option and the file, not the temporary beside it
    assert line.startswith(f"error: -o {blocked / 'r.html'}: cannot write it (") and ".tmp" not in line


def ctx_size(ledger: Ledger) -> int:
    return ledger.checkpoints("acme")[1].size


def test_trend_points_equal_the_score_of_the_full_state(ledger: Ledger, client_dir: Path) -> None:
    """The trend's fast path (no state rows built) gives what score_of(state) gives, at every period end."""
    history(ledger)
    client = load_client("acme", client_dir)
    ctx = ReportContext(ledger, client, periods.month("2026-12", "Europe/Madrid"))
    for period in ctx.period.back(4):
        assert core.score_at(ctx, period.end) == core.score_of(ctx.state(period.end))[0]
    summary = core.summary(ctx)
    assert [p["score"] for p in summary["trend_points"]][-3:] == [
        core.score_of(ctx.state(p.end))[0] for p in ctx.period.back(3)
    ]


def test_a_window_of_the_period_recorded_later_brings_the_checkpoint_that_covers_it(
    ledger: Ledger, client_dir: Path
) -> None:
    """Rows are placed in the period by their own time (a window by its start), not by when they were
    recorded: a November window completed after December's checkpoint is in November's report."""
    from runner import schedule_ledger as occ

    history(ledger)
    start = datetime(2026, 11, 28, 21, 0, tzinfo=UTC)
    ledger.append(
        occ.schedule_occurrences,
        [
            occ.row(
                client="acme",
                occurrence_id=f"acme/monthly/{start.isoformat()}",
                schedule_name="monthly",
                window_start=start,
                window_end=start + timedelta(hours=4),
                state=occ.OccurrenceState.COMPLETED,
                recorded_at=T_DEC + timedelta(days=2),
            )
        ],
    )
    client = load_client("acme", client_dir)
    november = periods.month("2026-11", "Europe/Madrid")
    before = ReportContext(ledger, client, november)
    assert before.checkpoint == ledger.checkpoints("acme")[-1] and before.rows_after == 1
    assert core.windows(before)["held"] == 0  # not covered by any checkpoint yet: left out, counted
    ledger.checkpoint("acme")
    after = ReportContext(ledger, client, november)
    assert after.checkpoint == ledger.checkpoints("acme")[-1] and after.rows_after == 0
    assert core.windows(after)["held"] == 1
