"""The one way evaluator case tables are judged: a case file, its thresholds, and the exact
status (and evidence) expected for every control the evaluator emits.

Each domain keeps its cases as data (``tests/data/<domain>/cases.yml``); its test module
parametrises over them and calls :func:`check_case`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runner import evaluators
from runner.results import Domain, Finding, Status


def case_ids(cases: Sequence[Mapping[str, Any]]) -> list[str]:
    return [f"{c['file']}: {c['name']}" for c in cases]


def check_case(
    kind: str, control_ids: Sequence[str], domain: Domain, raw: Any, case: Mapping[str, Any]
) -> dict[str, Finding]:
    """Judge ``raw`` with ``kind`` and assert everything ``case['expect']`` says, per control."""
    findings = evaluators.evaluate(kind, raw, case.get("thresholds"))
    assert [f.control for f in findings] == list(control_ids), "one finding per control, in order"
    assert set(case["expect"]) == set(control_ids), "a case lists every control"
    got = {f.control: f for f in findings}
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
