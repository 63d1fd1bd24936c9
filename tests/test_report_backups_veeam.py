"""The report's backups section on Veeam depth rows (BKP-VEEAM-04..07): one line per Veeam job with its
restore points against the retention, its repository's free space, where its copies are and the SureBackup
jobs that verify it, read from the rows' ``jobs`` / ``copies`` evidence of a real ledger (the recorded
windows_backup outputs of tests/data/windows/backup judged by the evaluator), and the same in the rendered
report (Markdown and HTML, English and Spanish).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from runner import evaluators
from runner.inventory import load_client
from runner.ledger import Ledger, RunRecord
from runner.report import period as periods
from runner.report.context import ReportContext
from runner.report.render import render
from runner.report.sections import backups
from runner.results import CheckResult
from tests.report_sample import sample_report

DATA = Path(__file__).resolve().parent / "data" / "windows" / "backup"
NOVEMBER = periods.month("2026-11", "Europe/Madrid")
T1 = datetime(2026, 11, 7, 21, 0, tzinfo=UTC)
T2 = datetime(2026, 11, 14, 21, 0, tzinfo=UTC)

SETTINGS = """\
maintenance:
  display_name: Acme Ltd
  timezone: Europe/Madrid
  contacts: [{name: Tech, email: tech@example.com}]
  roles:
    windows_backup: [windows]
"""
HOSTS = """\
all:
  children:
    windows:
      hosts:
        vbr01: {}
"""


def record(ledger: Ledger, run_id: str, at: datetime, name: str) -> None:
    raw = json.loads((DATA / name).read_text())
    findings = evaluators.evaluate("windows_backup", raw)
    ledger.start_run(
        RunRecord(
            run_id=run_id,
            client="acme",
            mode="audit",
            roles=["windows_backup"],
            trigger="schedule",
            started_at=at - timedelta(minutes=5),
        )
    )
    ledger.record(
        [
            (
                f"vbr01:{f.control}",
                CheckResult.from_finding(
                    f, host="vbr01", client="acme", run_id=run_id, role="windows_backup", observed_at=at
                ),
            )
            for f in findings
        ]
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    work = tmp_path_factory.mktemp("veeam-backups")
    folder = work / "inventories" / "acme"
    (folder / "group_vars" / "all").mkdir(parents=True)
    (folder / "hosts.yml").write_text(HOSTS)
    (folder / "group_vars" / "all" / "maintenance.yml").write_text(SETTINGS)
    url = f"sqlite:///{work / 'ledger.db'}"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("MAINT_VAR", str(work / "var"))
        monkeypatch.setenv("MAINT_INVENTORIES", str(work / "inventories"))
        monkeypatch.delenv("MAINT_LEDGER_KEY_FILE", raising=False)
        with Ledger(url) as ledger:
            record(ledger, "nov-1", T1, "veeam_depth_healthy_ps51.json")
            record(ledger, "nov-2", T2, "veeam_copy_failed_ps7.json")
    yield url, work / "inventories"


@pytest.fixture
def section(built: tuple[str, Path]) -> Iterator[dict[str, Any]]:
    url, inventories = built
    with Ledger(url) as ledger:
        yield backups.build(ReportContext(ledger, load_client("acme", inventories), NOVEMBER))


def test_one_line_per_veeam_job_with_depth_copies_and_verification(section: dict[str, Any]) -> None:
    jobs = {job["job"]: job for job in section["jobs"]}
    assert list(jobs) == ["Daily VMs - File servers", "Daily VMs - Production", "Offsite copy - Production"]
    prod = jobs["Daily VMs - Production"]
    assert prod["kind"] == "veeam"
    # the latest run (14 November): the copy failed, so the job fails; the first run passed
    assert (prod["status"], prod["failures_in_period"], prod["checks_in_period"]) == ("fail", 1, 2)
    assert prod["restore_points"] == {
        "kept": 14,
        "configured": 14,
        "unit": "points",
        "status": "pass",
        "reason": None,
    }
    assert (prod["location"], prod["repository_free_pct"]) == ("Repo-Local-01", 40.0)
    assert prod["copies"] == [
        {
            "copy": "Offsite copy - Production",
            "kind": "backup_copy",
            "target_repository": "Repo-Offsite-NAS",
            "last_result": "Failed",
            "last_run": "2025-11-26T02:30:00Z",
            "status": "fail",
            "reason": "last session Failed",
        }
    ]
    assert [(v["job"], v["status"], v["last_result"]) for v in prod["verification"]] == [
        ("Monthly restore test", "pass", "Success")
    ]
    files = jobs["Daily VMs - File servers"]
    assert files["restore_points"]["unit"] == "days" and files["location"] == "SOBR-Main"
    assert [(c["kind"], c["target_repository"], c["status"]) for c in files["copies"]] == [
        ("capacity_tier", "S3-Wasabi-Offsite", "fail")
    ]
    # the copy job itself: its own retention and repository, no copy of its own (it is the copy)
    copy_job = jobs["Offsite copy - Production"]
    assert copy_job["copies"] == [] and copy_job["location"] == "Repo-Offsite-NAS"
    assert copy_job["status"] == "fail"  # its last session (BKP-VEEAM-01) failed
    # every line names the rows it rests on, the repository and SureBackup rows included
    assert all(job["seqs"] for job in section["jobs"])


@pytest.mark.parametrize(("fmt", "lang"), [("md", "en"), ("html", "en"), ("md", "es")])
def test_the_report_shows_points_copies_and_verification(fmt: str, lang: str) -> None:
    data = sample_report()
    if lang != "en":
        data["lang"] = lang
    text = render(data, fmt).decode()
    points = {"en": "9 of 14 points", "es": "9 de 14 puntos"}[lang]
    free = {"en": "6% free", "es": "6\u00a0% libre"}[lang]
    kind = {"en": "backup copy job", "es": "trabajo de copia de seguridad"}[lang]
    for expected in (points, free, "Repo-Offsite-NAS", kind, "Monthly restore test"):
        assert expected in text, expected
