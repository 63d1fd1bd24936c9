"""The report's backups section on restic jobs: where the copies are is the repository (credentials removed),
and for a local path on a network mount what BKP-RESTIC-05 found (``fstype:source (path)``); the restore
tests still follow the repository. Rows from recorded linux_backup outputs judged by the evaluator, in a real
ledger.
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
from runner.report.sections import backups
from runner.results import CheckResult

DATA = Path(__file__).resolve().parent / "data" / "linux_backup"
NOVEMBER = periods.month("2026-11", "Europe/Madrid")
AT = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
HOSTS = {
    "lnx01": "real_rest_repository_file_credentials.json",
    "lnx02": "derived_nfs_mount.json",
    "lnx03": "real_retention_days_missing.json",
}
SETTINGS = """\
maintenance:
  display_name: Acme Ltd
  timezone: Europe/Madrid
  contacts: [{name: Tech, email: tech@example.com}]
  roles:
    linux_backup: [linux]
"""


@pytest.fixture(scope="module")
def section(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("restic-backups")
    folder = work / "inventories" / "acme"
    (folder / "group_vars" / "all").mkdir(parents=True)
    hosts = "".join(f"        {h}: {{}}\n" for h in HOSTS)
    (folder / "hosts.yml").write_text(f"all:\n  children:\n    linux:\n      hosts:\n{hosts}")
    (folder / "group_vars" / "all" / "maintenance.yml").write_text(SETTINGS)
    url = f"sqlite:///{work / 'ledger.db'}"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("MAINT_VAR", str(work / "var"))
        monkeypatch.setenv("MAINT_INVENTORIES", str(work / "inventories"))
        monkeypatch.delenv("MAINT_LEDGER_KEY_FILE", raising=False)
        with Ledger(url) as ledger:
            ledger.start_run(
                RunRecord(
                    run_id="nov-1",
                    client="acme",
                    mode="audit",
                    roles=["linux_backup"],
                    trigger="schedule",
                    started_at=AT - timedelta(minutes=5),
                )
            )
            rows = []
            for host, name in HOSTS.items():
                raw = json.loads((DATA / name).read_text())
                for f in evaluators.evaluate("linux_backup", raw):
                    result = CheckResult.from_finding(
                        f, host=host, client="acme", run_id="nov-1", role="linux_backup", observed_at=AT
                    )
                    rows.append((f"{host}:{f.control}", result))
            ledger.record(rows)
        with Ledger(url) as ledger:
            yield backups.build(ReportContext(ledger, load_client("acme", work / "inventories"), NOVEMBER))


def test_restic_jobs_show_where_the_copies_are(section: dict[str, Any]) -> None:
    restic = {job["host"]: job for job in section["jobs"] if job["kind"] == "restic"}
    assert {host: job["location"] for host, job in restic.items()} == {
        "lnx01": "rest:https://backup.example.invalid:8000/web01/",
        "lnx02": "nfs4:nas01.example.lan:/export/restic (/tmp/15r/repo-ok)",
        "lnx03": "/tmp/15r/repo-gaps",
    }
    # the restore test of lnx03 is still matched to its repository
    assert [t["result"] for t in restic["lnx03"]["restore_tests"]] == ["pass"]
    assert "canary" not in json.dumps(section)
