"""The clamav evaluator on real linux_antivirus_facts output, and the collector's header parsing.

Cases are data: tests/data/linux_antivirus/cases.yml; origins in tests/data/linux_antivirus/README.md.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from runner import evaluators
from runner.evaluators import EvaluatorError
from runner.evaluators.linux_antivirus import CONTROL_IDS, DEFAULTS
from runner.results import Domain, Status
from tests.conftest import REPO
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
        "linux_antivirus_facts", REPO / "plugins/modules/linux_antivirus_facts.py"
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
    assert out["last_scan"] == {"scanned_files": 7, "infected": 0}
    judged = evaluators.evaluate("clamav", {**load("real_no_database.json"), "scan_log": out})
    assert judged[4].status is Status.FAIL
    assert (
        judged[4].evidence["reason"]
        == "the last scan summary has no Start/End Date (ClamAV older than 0.103?)"
    )
    assert judged[5].status is Status.PASS


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
