"""The one way evaluator case tables are judged: a case file, its thresholds, and the exact
status (and evidence) expected for every control the evaluator emits.

Each domain keeps its cases as data (``tests/data/<domain>/cases.yml``); its test module
parametrises over them and calls :func:`check_case`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from runner import evaluators
from runner.results import Domain, Finding, Status


def case_ids(cases: Sequence[Mapping[str, Any]]) -> list[str]:
    return [f"{c['file']}: {c['name']}" for c in cases]


def load_json(folder: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / name).read_text())
    return data


def assert_cases_documented(
    folder: Path, cases: Sequence[Mapping[str, Any]], readme: Path | None = None, prefix: str = ""
) -> None:
    """Every recorded file has a case, every case a file, and the README says where each came from."""
    files = {p.name for p in folder.glob("*.json")}
    assert files == {c["file"] for c in cases}
    text = (readme or folder / "README.md").read_text()
    assert all(f"`{prefix}{name}`" in text for name in files), sorted(
        n for n in files if f"`{prefix}{n}`" not in text
    )


def judge(kind: str, control_ids: Sequence[str], raw: Any, thresholds: Any = None) -> dict[str, Finding]:
    """One finding per control, in the evaluator's order, by control ID."""
    findings = evaluators.evaluate(kind, raw, thresholds)
    assert [f.control for f in findings] == list(control_ids), "one finding per control, in order"
    return {f.control: f for f in findings}


def check_case(
    kind: str, control_ids: Sequence[str], domain: Domain, raw: Any, case: Mapping[str, Any]
) -> dict[str, Finding]:
    """Judge ``raw`` with ``kind`` and assert everything ``case['expect']`` says, per control."""
    got = judge(kind, control_ids, raw, case.get("thresholds"))
    assert set(case["expect"]) == set(control_ids), "a case lists every control"
    for control, expected in case["expect"].items():
        want = {"status": expected} if isinstance(expected, str) else expected
        finding = got[control]
        assert finding.domain is domain, control
        assert finding.status == Status(want["status"]), f"{control}: {finding.evidence}"
        if "severity" in want:
            assert finding.severity == want["severity"], control
        for key, value in want.get("evidence", {}).items():
            assert key in finding.evidence, f"{control}: no evidence {key!r} in {finding.evidence}"
            assert finding.evidence[key] == value, f"{control}: evidence {key!r}"
        if finding.status in (Status.FAIL, Status.WARN, Status.NOT_CHECKED):
            assert finding.remediation, f"{control}: a problem comes with a remediation"
        if finding.status in (Status.NOT_CHECKED, Status.ERROR):
            assert finding.evidence["reason"], f"{control}: {finding.status} always says why"
    return got
