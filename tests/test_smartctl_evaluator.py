"""HEALTH-LNX-07 judged on every real smartctl -j output of the vendored corpus (tests/data/smartctl)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner import evaluators
from runner.evaluators import EvaluatorError
from runner.results import Domain, Severity, Status
from tests.conftest import REPO

DATA = Path(__file__).parent / "data" / "smartctl"
CORPUS = REPO / "tests" / "data" / "corpus" / "linux"
CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "cases.yml").read_text())
needs_corpus = pytest.mark.corpus  # the corpus must be there: test_corpus_is_present fails without it


def test_corpus_is_present() -> None:
    assert CORPUS.is_dir(), (
        f"smartctl corpus not found at {CORPUS}: tests/data/corpus is part of the repository"
    )


def path_of(name: str) -> Path:
    return CORPUS / name.removeprefix("corpus:") if name.startswith("corpus:") else DATA / name


def case_id(case: dict[str, Any]) -> str:
    return f"{case['file'].removeprefix('corpus:')}: {case.get('name', case.get('status', 'error'))}"


@needs_corpus
def test_every_corpus_file_has_a_case() -> None:
    covered = {c["file"].removeprefix("corpus:") for c in CASES if c["file"].startswith("corpus:")}
    assert covered == {p.name for p in CORPUS.glob("*.json")}
    local = {c["file"] for c in CASES if not c["file"].startswith("corpus:")}
    assert local == {p.name for p in DATA.glob("*.json")}
    readme = (DATA / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in local)


@needs_corpus
@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    raw = json.loads(path_of(case["file"]).read_text())
    if "error" in case:
        with pytest.raises(EvaluatorError, match=r"^smartctl: ") as exc:
            evaluators.evaluate("smartctl", raw, case.get("thresholds"))
        assert case["error"] in str(exc.value)
        return
    [finding] = evaluators.evaluate("smartctl", raw, case.get("thresholds"))
    assert (finding.control, finding.domain) == ("HEALTH-LNX-07", Domain.HEALTH)
    assert finding.status == Status(case["status"]), finding.evidence
    if "severity" in case:
        assert finding.severity == Severity(case["severity"])
    for key, value in case.get("finding", {}).items():
        assert finding.evidence[key] == value, key
    [disk] = finding.evidence["disks"]
    for key, value in case.get("disk", {}).items():
        assert disk.get(key) == value, f"disk evidence {key!r}: {disk}"
    if finding.status is Status.PASS:
        assert "problems" not in disk and finding.remediation == ""
    else:
        assert finding.remediation


@needs_corpus
def test_several_disks_give_the_worst_status_and_name_each() -> None:
    names = [
        "smartctl_json_smart-ata.json",
        "smartctl_json_smart-scsi.json",
        "smartctl_json_smart-nvme-failed.json",
    ]
    raws = [json.loads((CORPUS / n).read_text()) for n in names]
    raws.append(json.loads((DATA / "real_container_no_device.json").read_text()))
    [finding] = evaluators.evaluate("smartctl", raws)
    assert finding.status is Status.FAIL
    assert finding.evidence["checked"] == 3
    assert finding.evidence["failing"] == ["/dev/nvme0"]
    assert finding.evidence["warning"] == ["/dev/sdg"]
    assert finding.evidence["unreadable"] == ["/dev/sda"]
    assert finding.remediation.startswith(
        "/dev/sdg: 56 SCSI grown defects (warn at 1); /dev/nvme0: 7 NVMe media and data integrity errors."
    )


def test_nvme_critical_warning_bits_are_named() -> None:
    raw = json.loads((DATA / "real_container_no_device.json").read_text())
    raw["smartctl"]["exit_status"] = 0
    raw["device"] = {"name": "/dev/nvme1", "type": "nvme", "protocol": "NVMe"}
    raw["nvme_smart_health_information_log"] = {"critical_warning": 0x05, "media_errors": 0}
    [finding] = evaluators.evaluate("smartctl", raw)
    assert finding.status is Status.FAIL
    assert finding.evidence["disks"][0]["problems"] == [
        "NVMe critical warning 0x05: available spare below threshold, reliability degraded by media or "
        "internal errors"
    ]


BAD: list[tuple[Any, dict[str, Any], str]] = [
    ([1, 2], {}, "smartctl -j output must be a JSON object, got int"),
    ({"hello": 1}, {}, "not smartctl -j output"),
    ({"smartctl": "7.3"}, {}, "'smartctl' must be an object, got str"),
    (
        {"smart_status": {"passed": True}},
        {"smart_reallocated_warn": 0},
        "smart_reallocated_warn: Input should be",
    ),
    (
        {"smart_status": {"passed": True}},
        {"smart_reallocated_warn": 9, "smart_reallocated_fail": 5},
        "is above",
    ),
]


@pytest.mark.parametrize(("raw", "thresholds", "message"), BAD, ids=[b[2][:30] for b in BAD])
def test_wrong_shape_or_thresholds_raise(raw: Any, thresholds: dict[str, Any], message: str) -> None:
    with pytest.raises(EvaluatorError, match=r"^smartctl: ") as exc:
        evaluators.evaluate("smartctl", raw, thresholds)
    assert message in str(exc.value)
