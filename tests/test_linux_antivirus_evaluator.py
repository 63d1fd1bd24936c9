"""The clamav evaluator on real linux_antivirus_facts output, and the collector's header parsing.

Cases are data: tests/data/linux_antivirus/cases.yml; origins in tests/data/linux_antivirus/README.md.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from runner import evaluators
from runner.evaluators import EvaluatorError
from runner.evaluators.linux_antivirus import CONTROL_IDS, DEFAULTS
from runner.results import Domain, Status
from tests.conftest import PLUGINS, REPO
from tests.evaluator_cases import assert_cases_documented, case_ids, check_case, load_json

DATA = Path(__file__).parent / "data" / "linux_antivirus"
CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "cases.yml").read_text())
REAL_2020_HEADER = (
    "ClamAV-VDB:16 Apr 2020 07-58 -0400:25784:2267600:63:92baacd59fd26e6bcf03077add78d209:"
    "4Jp9JtGJY6nUk8JHDQQpQeBwlfXqskvhXL+vesDNqAeWCmjbudU+Hy/Nj4/BH2vl70c/R5B/VYY+eqqCQo6o7VGLqLJr/E+19gejqMp/"
    "iRcuHrtnLw6V/x3UjO3/qYVSlcJvAjtMI7FK32wjB+Sp8kaS/ZbfaFQp6trRQhisjqf:raynman:1587038339"
)


def load(name: str) -> dict[str, Any]:
    return load_json(DATA, name)


@pytest.fixture(scope="module")
def collector() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "linux_antivirus_facts", PLUGINS / "modules/linux_antivirus_facts.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_case_file_is_used_and_documented() -> None:
    assert_cases_documented(DATA, CASES)


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_case(case: dict[str, Any]) -> None:
    check_case("clamav", CONTROL_IDS, Domain.ANTIVIRUS, load(case["file"]), case)


def test_signature_age_comes_from_the_header_not_the_mtime(collector: ModuleType, tmp_path: Path) -> None:
    db = tmp_path / "daily.cvd"
    db.write_bytes(REAL_2020_HEADER.encode().ljust(512, b" ") + b"\x1f\x8b payload")
    header = collector.read_header(str(db))  # the file was written just now; its header says 2020
    assert header["build_time"] == 1587038339
    assert (header["version"], header["signatures"], header["functionality_level"]) == (25784, 2267600, 63)
    # a header without the epoch field: the text time with its offset gives the same instant (to the minute)
    assert collector.parse_build_time("16 Apr 2020 07-58 -0400") == 1587038280
    assert collector.parse_build_time("26 Sep 2024 09-01 +0000") == 1727341260
    assert collector.parse_build_time("yesterday") is None


def test_database_directory_picks_newest_version_and_reports_junk(
    collector: ModuleType, tmp_path: Path
) -> None:
    old = REAL_2020_HEADER.replace(":25784:", ":25700:")
    (tmp_path / "daily.cvd").write_bytes(old.encode().ljust(512, b" "))
    (tmp_path / "daily.cld").write_bytes(REAL_2020_HEADER.encode().ljust(512, b" "))
    (tmp_path / "main.cvd").write_bytes(b"<html>429 Too Many Requests</html>")
    (tmp_path / "freshclam.dat").write_bytes(b"\0" * 20)
    out = collector.read_databases(str(tmp_path))
    assert [(f["file"], f["version"]) for f in out["files"]] == [("daily.cld", 25784)]
    assert out["invalid"] == [
        {"file": "main.cvd", "error": "no ClamAV-VDB header (truncated or not a ClamAV database)"}
    ]


def test_scan_log_summary_is_the_last_one(collector: ModuleType, tmp_path: Path) -> None:
    log = tmp_path / "scan.log"
    block = (
        "\n----------- SCAN SUMMARY -----------\nKnown viruses: 1\nScanned files: {n}\nInfected files: {i}\n"
    )
    log.write_text(block.format(n=5, i=2) + "Start Date: 2026:01:01 00:00:00\n" + block.format(n=7, i=0))
    out = collector.read_scan_log(str(log))
    assert out["last_scan"] == {"scanned_files": 7, "infected": 0, "found": 0}
    judged = evaluators.evaluate("clamav", {**load("real_no_database.json"), "scan_log": out})
    assert judged[4].status is Status.FAIL
    assert (
        judged[4].evidence["reason"]
        == "the last scan summary has no Start/End Date (ClamAV older than 0.103?)"
    )
    assert judged[5].status is Status.PASS


# a clamscan --log file as ClamAV 1.x writes it: a separator line starts each run, FOUND lines, the summary
SCAN_LOG = """
-------------------------------------------------------------------------------

/srv/upload/invoice.pdf.exe: Win.Test.EICAR_HDB-1 FOUND
{extra}
----------- SCAN SUMMARY -----------
Known viruses: 8708693
Engine version: 1.4.3
Scanned directories: 1
Scanned files: 3
Infected files: {infected}
Data scanned: 0.01 MB
Data read: 0.00 MB (ratio 0.00:1)
Time: 9.311 sec (0 m 9 s)
Start Date: 2026:11:27 02:55:00
End   Date: 2026:11:27 02:55:09
"""


@pytest.mark.parametrize(
    ("infected", "extra", "status", "found"),
    [
        (1, "", Status.FAIL, 1),
        # two overlapping cron runs wrote into one log: a FOUND line, yet the summary says 0 infected
        (0, "", Status.ERROR, 1),
        # --allmatch: one file matching two signatures is two FOUND lines, one infected file
        (1, "/srv/upload/invoice.pdf.exe: Win.Test.EICAR_HDB-2 FOUND", Status.FAIL, 2),
    ],
)
def test_scan_summary_is_cross_checked_with_the_found_lines(
    collector: ModuleType, tmp_path: Path, infected: int, extra: str, status: Status, found: int
) -> None:
    log = tmp_path / "scan.log"
    log.write_text("old run\n" + SCAN_LOG.format(infected=infected, extra=extra))
    out = collector.read_scan_log(str(log))
    assert out["last_scan"]["found"] == found
    clean = evaluators.evaluate("clamav", {**load("real_fresh_database_clean_scan.json"), "scan_log": out})[5]
    assert clean.status is status, clean.evidence
    if status is Status.ERROR:
        assert clean.evidence["reason"] == (
            "the summary says 0 infected files but the scan's log lists 1 FOUND lines"
        )


def test_summary_without_infected_line_or_impossible_counts_is_an_error() -> None:
    raw = load("real_fresh_database_clean_scan.json")
    raw["scan_log"]["last_scan"].pop("infected")
    assert evaluators.evaluate("clamav", raw)[5].status is Status.ERROR
    raw = load("real_fresh_database_clean_scan.json")
    raw["scan_log"]["last_scan"].update(infected=5, scanned_files=1)
    got = evaluators.evaluate("clamav", raw)[5]
    assert got.status is Status.ERROR
    assert got.evidence["reason"] == "the summary says 5 infected of 1 scanned files"


def test_engine_daily_version_is_reported_next_to_the_header_read() -> None:
    """clamscan --version reads its compiled-in directory: another daily there is told, not an error."""
    raw = load("real_fresh_database_clean_scan.json")
    raw["engine"]["daily_version"] = 27800
    got = evaluators.evaluate("clamav", raw)[1]
    assert (got.status, got.evidence["engine_daily_version"]) == (Status.PASS, 27800)
    assert "engine_note" not in got.evidence
    raw["engine"]["daily_version"] = 27851
    got = evaluators.evaluate("clamav", raw)[1]
    assert got.status is Status.PASS
    assert got.evidence["engine_note"].startswith("clamscan --version reports daily 27851, daily.cld")


def test_header_build_time_text_and_epoch_must_agree() -> None:
    raw = load("real_fresh_database_clean_scan.json")
    daily = next(f for f in raw["database"]["files"] if f["name"] == "daily")
    daily["build_time_text"] = "16 Apr 2020 07-58 -0400"  # a header stitched from two files
    got = evaluators.evaluate("clamav", raw)[1]
    assert got.status is Status.ERROR
    assert "are more than a day apart" in got.evidence["reason"]


def test_collector_reads_the_daily_version_from_clamscan_version(
    collector: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "clamscan"
    fake.write_text("#!/bin/sh\necho 'ClamAV 1.4.3/27800/Wed Nov 26 21:55:29 2026'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    engine = collector.read_engine(10)
    assert (engine["version"], engine["daily_version"]) == ("1.4.3", 27800)


def test_registry_and_role_defaults() -> None:
    ev = evaluators.get("clamav")
    assert ev.role == "linux_antivirus"
    assert [c.control for c in evaluators.controls_for_role("linux_antivirus")] == list(CONTROL_IDS)
    role_defaults = yaml.safe_load((REPO / "roles/linux_antivirus/defaults/main.yml").read_text())
    for key, value in DEFAULTS.items():
        assert role_defaults[f"linux_antivirus_{key}"] == (list(value) if isinstance(value, tuple) else value)


BAD: list[tuple[Any, dict[str, Any], str]] = [
    ("text", {}, "raw data must be a mapping"),
    ({"schema": 1}, {}, "collected_epoch: Field required"),
    ({**load("real_no_database.json"), "schema": 2}, {}, "schema 2 is not supported"),
    (load("real_no_database.json"), {"signatures_warn_days": 9}, "signatures_warn_days (9) is above"),
    (load("real_no_database.json"), {"max_age": 1}, "max_age: Extra inputs are not permitted"),
    (load("real_no_database.json"), {"skip_controls": ["AV-LNX-09"]}, "unknown controls ['AV-LNX-09']"),
]


@pytest.mark.parametrize(("raw", "thresholds", "message"), BAD, ids=[b[2][:30] for b in BAD])
def test_bad_input_raises(raw: Any, thresholds: dict[str, Any], message: str) -> None:
    with pytest.raises(EvaluatorError, match=r"^clamav: ") as exc:
        evaluators.evaluate("clamav", raw, thresholds)
    assert message in str(exc.value)
