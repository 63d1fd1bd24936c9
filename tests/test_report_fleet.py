"""The fleet report (``maint report --fleet``): a row per client folder, one broken, numbers from the ledger.

Three clients under a private inventories/: ``alpha`` (one host, backups failing), ``beta`` (two hosts, one
not reached in November, a missed window) and ``broken`` (an unknown time zone). Their results are the real
evaluators' findings on recorded outputs (tests/data), recorded with the Ledger API at chosen times in October
and November 2026. The expected numbers are computed here from those findings and the catalogue, not by the
report code: the score with the stated weights, the critical findings, the missed windows, the hosts not
reached.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from runner import catalogue, evaluators
from runner import schedule_ledger as occ
from runner.inventory import load_client
from runner.ledger import Ledger, RunRecord, RunStatus
from runner.report.context import ReportContext
from runner.report.fleet import SCHEMA, build_fleet
from runner.report.period import month
from runner.report.sections import core
from runner.results import CheckResult, Finding, Status
from runner.schedule_ledger import OccurrenceState
from tests.conftest import BASE_SETTINGS, REPO, MakeClient

DATA = REPO / "tests" / "data"
WEIGHTS = {"critical": 10, "high": 5, "medium": 2, "low": 1, "info": 0}
ROLES = {"linux_health": ["linux"], "linux_backup": ["linux"]}
# the recorded restic output's newest snapshot is 2026-11-27T02:57Z: November is "this month"
OCTOBER = datetime(2026, 10, 3, 20, 30, tzinfo=UTC)
NOVEMBER = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
UNREACHABLE = "host unreachable: ssh: connect to host db1 port 22: Connection refused"


def findings(kind: str, name: str) -> list[Finding]:
    raw = json.loads((DATA / name).read_text())
    return evaluators.evaluate(kind, raw.get("maint_raw", raw), {})


HEALTHY = ("linux_health", "linux_health/healthy_vm.json")
DISK_FULL = ("linux_health", "linux_health/disk_full.json")
BACKUP_FILES_FAIL = ("linux_backup", "linux_backup/real_fresh_restore_live.json")
BACKUP_BAD_PASSWORD = ("linux_backup", "linux_backup/real_wrong_password.json")


def settings(**extra: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE_SETTINGS)
    data["roles"] = copy.deepcopy(ROLES)
    data.update(extra)
    return data


def hosts(*names: str) -> dict[str, Any]:
    return {"all": {"children": {"linux": {"hosts": {n: {"ansible_connection": "local"} for n in names}}}}}


def record(ledger: Ledger, client: str, when: datetime, per_host: dict[str, list[Finding] | None]) -> str:
    """One run of ``client`` at ``when``: each host's findings, or (None) every control not_checked because
    the host was not reached."""
    run_id = f"{client}-{when:%Y%m%dT%H%M}"
    ledger.start_run(
        RunRecord(run_id=run_id, client=client, mode="audit", roles=list(ROLES), started_at=when)
    )
    rows = []
    for host, found in per_host.items():
        if found is None:
            found = [
                spec.finding(Status.NOT_CHECKED, evidence={"reason": UNREACHABLE})
                for role in ROLES
                for spec in evaluators.controls_for_role(role)
            ]
        for n, finding in enumerate(found):
            result = CheckResult.from_finding(
                finding,
                host=host,
                client=client,
                run_id=run_id,
                role="linux_backup" if finding.control.startswith("BKP-") else "linux_health",
                observed_at=when + timedelta(seconds=n),
            )
            rows.append((f"{host}|{finding.control}", result))
    ledger.record(rows)
    ledger.finish_run(run_id, RunStatus.SUCCESSFUL, {})
    return run_id


def expected_score(per_host: dict[str, list[Finding]]) -> int:
    """The stated formula over every applicable (host, control) of the two roles, from the findings."""
    cat = catalogue.load()
    earned = possible = 0
    for found in per_host.values():
        by_control = {f.control: f for f in found}
        for control, spec in cat.controls.items():
            if spec.role not in ROLES or spec.retired:
                continue
            finding = by_control.get(control)
            if finding is not None and finding.status is Status.NOT_APPLICABLE:
                continue
            weight = WEIGHTS[spec.severity.value]
            possible += weight
            earned += weight if finding is not None and finding.status is Status.PASS else 0
    return round(100 * earned / possible)


def critical_ids(per_host: dict[str, list[Finding]]) -> list[str]:
    cat = catalogue.load()
    bad = (Status.FAIL, Status.WARN, Status.ERROR)
    return sorted(
        f"{host}:{f.control}"
        for host, found in per_host.items()
        for f in found
        if f.status in bad and cat.controls[f.control].severity.value == "critical"
    )


@pytest.fixture
def fleet(make_client: MakeClient) -> dict[str, Any]:
    make_client("alpha", settings=settings(display_name="Alpha Ltd"), hosts=hosts("app1"))
    make_client("beta", settings=settings(display_name="Beta SL"), hosts=hosts("web1", "db1"))
    make_client("broken", settings=settings(timezone="Mars/Olympus"), hosts=hosts("x1"))
    ledger = Ledger()
    alpha_oct = {"app1": findings(*HEALTHY) + findings(*BACKUP_BAD_PASSWORD)}
    alpha_nov = {"app1": findings(*DISK_FULL) + findings(*BACKUP_FILES_FAIL)}
    beta_oct = {"web1": findings(*HEALTHY) + findings(*BACKUP_FILES_FAIL)}
    beta_oct["db1"] = beta_oct["web1"]
    beta_nov = {"web1": findings(*HEALTHY) + findings(*BACKUP_FILES_FAIL)}
    record(ledger, "alpha", OCTOBER, alpha_oct)
    record(ledger, "alpha", NOVEMBER, alpha_nov)
    record(ledger, "beta", OCTOBER, beta_oct)
    record(ledger, "beta", NOVEMBER, {"web1": beta_nov["web1"], "db1": None})
    start = datetime(2026, 11, 7, 21, 0, tzinfo=UTC)
    ledger.append(
        occ.schedule_occurrences,
        [
            occ.row(
                client="beta",
                occurrence_id=f"beta/monthly/{start:%Y-%m-%dT%H:%MZ}",
                schedule_name="monthly",
                window_start=start,
                window_end=start + timedelta(hours=4),
                state=OccurrenceState.MISSED,
                recorded_at=start + timedelta(hours=5),
                detail={"reason": "the window closed before any run started"},
            )
        ],
    )
    for name in ("alpha", "beta"):
        ledger.checkpoint(name)
    return {
        "ledger": ledger,
        "alpha": (alpha_oct, alpha_nov),
        "beta": (beta_oct, {"web1": beta_nov["web1"], "db1": []}),
    }


def test_fleet_numbers_for_three_clients_one_broken(fleet: dict[str, Any]) -> None:
    ledger = fleet["ledger"]
    data = build_fleet(ledger, "2026-11", now=NOW)
    assert data["schema"] == SCHEMA and data["period"]["label"] == "2026-11"
    rows = {row["client"]: row for row in data["clients"]}
    assert list(rows) == ["alpha", "beta", "broken"]  # every folder, sorted; the broken one not hidden

    broken = rows["broken"]
    assert broken["problem"].startswith("invalid inventory:") and "Mars/Olympus" in broken["problem"]
    assert broken["score"] is None and broken["critical"]["count"] == 0

    alpha_oct, alpha_nov = fleet["alpha"]
    alpha = rows["alpha"]
    assert alpha["problem"] is None and alpha["display_name"] == "Alpha Ltd" and alpha["hosts"] == 1
    assert alpha["score"] == expected_score(alpha_nov)
    assert alpha["previous_score"] == expected_score(alpha_oct)
    assert alpha["trend"] == expected_score(alpha_nov) - expected_score(alpha_oct)
    assert alpha["critical"]["ids"] == critical_ids(alpha_nov) == ["app1:BKP-FILE-01"]
    assert alpha["critical"]["count"] == 1
    assert alpha["missed_windows"] == {"count": 0, "occurrences": []}
    # backups: the restic snapshot of 02:57 and the file set "db dumps" 2 h old at the check are 92 h and
    # 94 h old at the period's end (Madrid midnight); the file set "nas" never had a success
    end = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    stale = {(j["kind"], j["job"]): j for j in alpha["stale_backups"]["jobs"]}
    assert list(stale) == [("files", "db dumps"), ("files", "nas"), ("restic", "restic")]
    assert alpha["stale_backups"]["count"] == 3
    snapshot = datetime(2026, 11, 27, 2, 57, 25, 570059, tzinfo=UTC)
    assert stale[("restic", "restic")]["last_success"] == snapshot.isoformat()
    assert stale[("restic", "restic")]["age_hours"] == round((end - snapshot).total_seconds() / 3600, 1)
    assert stale[("files", "nas")]["last_success"] is None
    four_days = {
        row["client"]: row for row in build_fleet(ledger, "2026-11", now=NOW, backup_days=4)["clients"]
    }
    assert [j["job"] for j in four_days["alpha"]["stale_backups"]["jobs"]] == ["nas"]
    assert alpha["unreachable"] == []

    beta_oct, beta_nov = fleet["beta"]
    beta = rows["beta"]
    assert beta["hosts"] == 2
    # db1 not reached in November: every control of it not_checked, none earned
    assert beta["score"] == expected_score(beta_nov)
    assert beta["previous_score"] == expected_score(beta_oct)
    assert beta["unreachable"] == ["db1"]
    # db1's BKP-FILE-01 failed in October and was not seen since: still a finding (the last known was bad)
    assert beta["critical"]["ids"] == ["db1:BKP-FILE-01", "web1:BKP-FILE-01"]
    assert beta["missed_windows"] == {"count": 1, "occurrences": ["2026-11-07T21:00:00+00:00"]}
    for name in ("alpha", "beta"):
        assert rows[name]["checkpoint"] == {"size": ledger.latest_checkpoint(name).size, "signed": False}
        assert rows[name]["rows_after"] == 0

    # the same numbers as each client's own report (one implementation)
    for name in ("alpha", "beta"):
        ctx = ReportContext(ledger, load_client(name), month("2026-11", "Europe/Madrid"))
        summary = core.summary(ctx)
        assert (rows[name]["score"], rows[name]["trend"]) == (summary["score"], summary["trend"])

    totals = data["totals"]
    assert totals["clients"] == 3 and totals["broken"] == 1
    assert totals["critical"] == 3 and totals["missed_windows"] == 1 and totals["unreachable_hosts"] == 1
    assert totals["mean_score"] == round((alpha["score"] + beta["score"]) / 2, 1)


def test_fleet_of_a_month_before_anything_was_recorded(fleet: dict[str, Any]) -> None:
    data = build_fleet(fleet["ledger"], "2026-09", now=NOW)
    rows = {row["client"]: row for row in data["clients"]}
    assert rows["alpha"]["missed_windows"]["count"] == 0 and rows["beta"]["unreachable"] == []
    assert rows["alpha"]["previous_score"] is None and rows["alpha"]["trend"] is None
    assert rows["alpha"]["critical"]["count"] == 0 and rows["alpha"]["checkpoint"] is not None


def test_fleet_defaults_to_the_month_of_now_and_rejects_a_bad_period(fleet: dict[str, Any]) -> None:
    from runner.report.render import render

    assert build_fleet(fleet["ledger"], None, now=NOW)["period"]["label"] == "2026-11"
    # same ledger and month, same bytes (nothing depends on the clock)
    for fmt in ("html", "md", "json"):
        once = render(build_fleet(fleet["ledger"], "2026-11", now=NOW), fmt, template="fleet")
        later = render(
            build_fleet(fleet["ledger"], "2026-11", now=NOW + timedelta(days=3)), fmt, template="fleet"
        )
        assert once == later, fmt
    with pytest.raises(ValueError, match="--period 2026-13"):
        build_fleet(fleet["ledger"], "2026-13", now=NOW)
    with pytest.raises(ValueError, match="--lang xx"):
        build_fleet(fleet["ledger"], "2026-11", lang="xx", now=NOW)


def test_maint_report_fleet_cli(fleet: dict[str, Any], tmp_path: Path) -> None:
    from runner.cli import app

    cli = CliRunner()
    shown = cli.invoke(app, ["report", "--fleet", "--period", "2026-11", "--format", "json"])
    assert shown.exit_code == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert [row["client"] for row in data["clients"]] == ["alpha", "beta", "broken"]
    out = tmp_path / "fleet.html"
    written = cli.invoke(app, ["report", "--fleet", "--period", "2026-11", "-o", str(out)])
    assert written.exit_code == 0, written.stderr
    html = out.read_text()
    for text in ("Alpha Ltd", "Beta SL", "broken", "app1:BKP-FILE-01", "db1", "Mars/Olympus"):
        assert text in html, text
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    md = cli.invoke(app, ["report", "--fleet", "--period", "2026-11", "--format", "md"])
    assert md.exit_code == 0 and "Alpha Ltd" in md.stdout and "| " in md.stdout
    for args, message in (
        (["report", "--fleet", "alpha"], "--fleet takes no CLIENT"),
        (["report"], "give a CLIENT, or --fleet"),
        (["report", "--fleet", "--period", "June"], "--period June"),
        (["report", "--fleet", "--from", "2026-06-01", "--to", "2026-06-10"], "--fleet: give a month"),
        (["report", "--fleet", "--backup-days", "0"], "--backup-days 0"),
    ):
        bad = cli.invoke(app, args)
        assert bad.exit_code == 2 and message in bad.stderr, (args, bad.stderr)
        assert "Traceback" not in bad.stderr
