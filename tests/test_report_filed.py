"""Reports filed by ``maint due`` (a schedule with ``report: monthly``), listed by ``maint reports``, and the
report ``maint demo`` ends with.

The schedule runs daily at 22:00 Europe/Madrid for 120 minutes, so in June (CEST) a window is 20:00-22:00
UTC. Missed occurrences need no job (fast); one test lets ``maint due`` run a real job on localhost.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from runner import schedule_ledger as occ
from runner.due import due
from runner.ledger import Ledger
from runner.report import filed
from runner.schedule_ledger import OccurrenceState
from tests.conftest import BASE_SETTINGS, MakeClient

DAILY = {
    "name": "nightly",
    "cron": "0 22 * * *",
    "roles": ["linux_health"],
    "window": {"duration_minutes": 120, "min_run_minutes": 30},
}
#: every June window up to the 10th's has closed (22:00 UTC); the 11th's has not started
AFTER_WINDOWS = "2026-06-10T22:30:00+00:00"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def client(make_client: MakeClient, name: str, *, report: str = "monthly", **reports: Any) -> None:
    data = copy.deepcopy(BASE_SETTINGS)
    data["schedules"] = [{**copy.deepcopy(DAILY), "report": report}]
    if reports:
        data["reports"] = reports
    make_client(name, settings=data)


def seed(ledger: Ledger, name: str) -> None:
    """The 7 June occurrence completed: the schedule has a history, so the 8th to the 10th are missed."""
    start = at("2026-06-07T20:00:00+00:00")
    ledger.append(
        occ.schedule_occurrences,
        [
            occ.row(
                client=name,
                occurrence_id=f"{name}/nightly/2026-06-07T20:00Z",
                schedule_name="nightly",
                window_start=start,
                window_end=at("2026-06-07T22:00:00+00:00"),
                state=OccurrenceState.COMPLETED,
                recorded_at=at("2026-06-07T20:05:00+00:00"),
            )
        ],
    )


def invoke(*args: str) -> Any:
    from runner.cli import app

    return CliRunner().invoke(app, list(args))


def test_due_files_the_report_when_occurrences_end_and_maint_reports_lists_it(
    make_client: MakeClient, private_state: Path
) -> None:
    client(make_client, "acme", formats=["html", "json", "md"], lang="es")
    client(make_client, "plain", report="none")
    ledger = Ledger()
    seed(ledger, "acme")
    seed(ledger, "plain")
    folder = private_state / "reports" / "acme"

    # not before: nothing has ended yet on the 8th at noon, and a dry run files nothing
    early = invoke("due", "--now", "2026-06-08T10:00:00+00:00")
    assert early.exit_code == 0, early.stdout + early.stderr
    dry = invoke("due", "--now", AFTER_WINDOWS, "--dry-run")
    assert dry.exit_code == 1 and "report acme" not in dry.stdout
    assert not folder.exists()

    result = invoke("due", "--now", AFTER_WINDOWS)
    assert result.exit_code == 1, result.stdout + result.stderr  # missed windows: exit 1, as before
    assert "report acme 2026-06: " in result.stdout and "report plain" not in result.stdout
    assert not (private_state / "reports" / "plain").exists()  # report: none

    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert oct(folder.parent.stat().st_mode & 0o777) == "0o700"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["2026-06.filed.json", "2026-06.html", "2026-06.json", "2026-06.md"]
    for name in names:
        assert oct((folder / name).stat().st_mode & 0o777) == "0o600", name

    report = json.loads((folder / "2026-06.json").read_text())
    assert report["lang"] == "es" and report["period"]["label"] == "2026-06"
    # the pass's own rows are in it: the three missed occurrences and the seeded completed one
    assert (report["windows"]["missed"], report["windows"]["held"]) == (3, 1)
    assert '<html lang="es">' in (folder / "2026-06.html").read_text()

    sidecar = json.loads((folder / "2026-06.filed.json").read_text())
    checkpoint = ledger.latest_checkpoint("acme")
    assert checkpoint is not None
    assert sidecar["checkpoint"]["size"] == checkpoint.size == report["ledger"]["checkpoint"]["size"]
    assert sidecar["checkpoint"]["root_hash"] == base64.b64encode(checkpoint.root).decode()
    assert sidecar["checkpoint"]["root_hash"] == report["ledger"]["checkpoint"]["root_hash"]
    assert sidecar["rows_in_report"] == checkpoint.size and sidecar["rows_after"] == 0
    for fmt in ("html", "json", "md"):
        content = (folder / f"2026-06.{fmt}").read_bytes()
        assert sidecar["files"][fmt] == {
            "name": f"2026-06.{fmt}",
            "bytes": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
        }

    listed = invoke("reports", "acme", "--json")
    assert listed.exit_code == 0, listed.stderr
    (entry,) = json.loads(listed.stdout)
    assert entry["period"] == "2026-06" and sorted(entry["files"]) == ["html", "json", "md"]
    assert all(info["present"] and info["intact"] for info in entry["files"].values())
    (folder / "2026-06.md").write_text("edited\n")
    table = invoke("reports", "acme")
    assert table.exit_code == 0 and "2026-06" in table.stdout and f"size {checkpoint.size}" in table.stdout
    (edited,) = json.loads(invoke("reports", "acme", "--json").stdout)
    assert edited["files"]["md"]["intact"] is False and edited["files"]["html"]["intact"] is True
    nothing = invoke("reports", "plain")
    assert nothing.exit_code == 0 and "no reports filed for plain" in nothing.stdout
    bad = invoke("reports", "../etc")
    assert bad.exit_code == 2 and "Traceback" not in bad.stderr

    # the next day's window ends too: the same period is filed again, replacing the files
    again = invoke("due", "--now", "2026-06-11T22:30:00+00:00")
    assert "report acme 2026-06: " in again.stdout
    report = json.loads((folder / "2026-06.json").read_text())
    assert report["windows"]["missed"] == 4
    assert sorted(p.name for p in folder.iterdir()) == names  # no temporary file left behind


def test_a_report_that_cannot_be_built_is_one_line_and_never_fails_the_pass(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch, private_state: Path
) -> None:
    client(make_client, "acme", formats=["html"])
    ledger = Ledger()
    seed(ledger, "acme")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("template exploded\nsecond line")

    monkeypatch.setattr("runner.report.build.build_report", broken)
    report = due(at(AFTER_WINDOWS), ledger=ledger)
    assert not report.problems and report.errors == 0
    assert [e.recorded for e in report.entries] == ["missed", "missed", "missed"]
    assert [e.report for e in report.entries][:2] == [None, None]
    assert report.entries[-1].report == "report acme 2026-06 not filed: RuntimeError: template exploded"
    assert not (private_state / "reports" / "acme").exists() or not any(
        (private_state / "reports" / "acme").iterdir()
    )


def test_store_replaces_a_period_atomically_and_drops_formats_no_longer_filed(private_state: Path) -> None:
    data = {"ledger": {"checkpoint": {"size": 7, "root_hash": "cm9vdA==", "made_at": "x", "signed": True}}}
    first = filed.store("acme", "2026-05", data, {"html": b"<html>1</html>", "md": b"# 1\n"})
    folder = private_state / "reports" / "acme"
    assert set(first.files) == {"html", "md"} and first.sidecar == folder / "2026-05.filed.json"
    second = filed.store("acme", "2026-05", data, {"html": b"<html>2</html>"}, skipped={"pdf": "no Pango"})
    assert sorted(p.name for p in folder.iterdir()) == ["2026-05.filed.json", "2026-05.html"]
    assert (folder / "2026-05.html").read_bytes() == b"<html>2</html>"
    assert "pdf skipped: no Pango" in second.summary()
    (listed,) = filed.listing("acme")
    assert listed["checkpoint"] == {"size": 7, "root_hash": "cm9vdA==", "made_at": "x", "signed": True}
    assert listed["skipped"] == {"pdf": "no Pango"} and listed["files"]["html"]["intact"] is True
    (folder / "2026-05.html").unlink()
    assert filed.listing("acme")[0]["files"]["html"]["present"] is False


def test_pdf_without_pango_is_skipped_with_a_reason_other_failures_are_not() -> None:
    missing = OSError("cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared object file")
    assert filed.pdf_unavailable(missing) is not None and "WeasyPrint cannot run here" in str(
        filed.pdf_unavailable(missing)
    )
    assert filed.pdf_unavailable(ValueError("bad template")) is None


@pytest.mark.integration
def test_due_files_the_report_after_a_completed_run(make_client: MakeClient, private_state: Path) -> None:
    """A real job on localhost, at the real time (its results are observed now, so the report of this
    month includes them): an occurrence every minute, open for 15, the previous minute's completed."""
    from runner.report.period import containing

    data = copy.deepcopy(BASE_SETTINGS)
    every_minute = {**DAILY, "cron": "* * * * *", "window": {"duration_minutes": 15, "min_run_minutes": 1}}
    data["schedules"] = [{**every_minute, "report": "monthly"}]
    data["reports"] = {"formats": ["json"]}
    make_client("acme", settings=data)
    now = datetime.now(UTC).replace(second=30, microsecond=0)
    start = now.replace(second=0)
    before = start - timedelta(minutes=1)
    ledger = Ledger()
    ledger.append(
        occ.schedule_occurrences,
        [
            occ.row(
                client="acme",
                occurrence_id=f"acme/nightly/{before:%Y-%m-%dT%H:%MZ}",
                schedule_name="nightly",
                window_start=before,
                window_end=before + timedelta(minutes=15),
                state=OccurrenceState.COMPLETED,
                recorded_at=before,
            )
        ],
    )
    report = due(now, ledger=ledger)
    assert [(e.action, e.recorded) for e in report.entries] == [("run", "completed")]
    entry = report.entries[0]
    period = containing(start, "Europe/Madrid")
    assert entry.report is not None and entry.report.startswith(f"report acme {period.label}:")
    found = json.loads((private_state / "reports" / "acme" / f"{period.label}.json").read_text())
    held = 1 + (containing(before, "Europe/Madrid") == period)
    assert (found["windows"]["held"], found["windows"]["missed"], found["windows"]["open"]) == (held, 0, 0)
    assert found["ledger"]["rows_after"] == 0  # built from the checkpoint made after the pass's rows
    assert found["coverage"]["hosts_checked"] == 1  # the run's own results are in it
    checkpoint = ledger.latest_checkpoint("acme")
    assert checkpoint is not None and found["ledger"]["checkpoint"]["size"] == checkpoint.size


@pytest.mark.integration
def test_demo_ends_with_the_report_paths(private_state: Path) -> None:
    from runner.report.period import containing

    result = invoke("demo")
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    label = containing(datetime.now(UTC), "Europe/Madrid").label
    last = result.stdout.strip().splitlines()[-2:]
    assert any(line.startswith("report (html): ") for line in last), last
    html = private_state / "reports" / "demo" / f"{label}.html"
    assert html.is_file() and "demo" in html.read_text()
    pdf = private_state / "reports" / "demo" / f"{label}.pdf"
    assert pdf.is_file() or "report (pdf): not made, WeasyPrint cannot run here" in result.stdout
    assert filed.listing("demo")[0]["period"] == label


def test_report_settings_are_validated_naming_the_key(make_client: MakeClient) -> None:
    from runner.inventory import validate_client

    client(make_client, "acme", report="weekly", formats=["html", "docx"], lang="fr")
    found, problems = validate_client("acme")
    assert found is None
    text = "\n".join(str(p) for p in problems)
    assert "schedules[0].report: Input should be 'monthly' or 'none'" in text, text
    assert "reports.formats[1]: Input should be" in text and "reports.lang: Input should be" in text, text
    client(make_client, "ok")
    loaded, none = validate_client("ok")
    assert loaded is not None and not none
    assert loaded.settings.schedules[0].report == "monthly"
    assert (loaded.settings.reports.formats, loaded.settings.reports.lang) == (["html", "pdf"], "en")
