"""The network configuration engine on real configurations: detect, normalise, mask, parse, review."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from runner import evaluators
from runner.cli import app
from runner.evaluators import EvaluatorError
from runner.network import (
    NetworkConfigError,
    Platform,
    detect_platform,
    mask,
    mask_with_lines,
    normalise,
    parse,
    read_config,
    review,
    rule_pack,
)
from runner.results import Status

DATA = Path(__file__).resolve().parents[1] / "data" / "network"
CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
PLATFORM_DIRS = [p.value for p in Platform]
CORPUS_FILES = sorted(f for d in PLATFORM_DIRS if (CORPUS / d).is_dir() for f in (CORPUS / d).iterdir())

needs_corpus = pytest.mark.corpus  # the corpus must be there: test_corpus_is_present fails without it


def test_corpus_is_present() -> None:
    assert CORPUS_FILES, f"corpus not found at {CORPUS}: tests/data/corpus is part of the repository"


CASES = yaml.safe_load((DATA / "cases.yml").read_text())

EXPECTED_IDS = {
    # the access review rules (issue 15 §1) follow the baseline in each pack: NET-IOS-12..13, NET-CX-07..08,
    # NET-AOSS-09..10, NET-FGT-09..10 (after the FortiGate filtering rules NET-FGT-13..25)
    Platform.CISCO_IOS: [f"NET-IOS-{n:02d}" for n in range(1, 14)],
    Platform.ARUBA_AOSCX: [f"NET-CX-{n:02d}" for n in range(1, 9)],
    Platform.ARUBA_AOSS: [f"NET-AOSS-{n:02d}" for n in range(1, 11)],
    Platform.FORTIOS: [f"NET-FGT-{n:02d}" for n in (*range(1, 9), *range(13, 26), 9, 10)],
}


@pytest.fixture(scope="module")
def corpus() -> dict[Path, tuple[Platform, str, str]]:
    """file -> (platform, normalised, masked), computed once."""
    out = {}
    for path in CORPUS_FILES:
        raw = read_config(path)
        platform = Platform(path.parent.name)
        normal = normalise(platform, raw)
        out[path] = (platform, normal, mask(platform, normal))
    return out


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


# --------------------------------------------------------------------------- rule packs


@pytest.mark.parametrize("platform", list(Platform))
def test_rule_pack_has_exactly_the_issue_controls(platform: Platform) -> None:
    pack = rule_pack(platform)
    assert [r.id for r in pack.rules] == EXPECTED_IDS[platform]
    for rule in pack.rules:
        assert rule.title and rule.rationale and rule.remediation and rule.checks


def test_evaluator_registered_with_every_control() -> None:
    ids = [c.control for c in evaluators.controls_for_role("network_config")]
    assert [i for i in ids if i.startswith("NET-")] == [i for p in Platform for i in EXPECTED_IDS[p]]
    assert "HEALTH-NET-01" in ids  # the network_counters evaluator's (the interface error counters)


# --------------------------------------------------------------------------- whole corpus


@needs_corpus
@pytest.mark.parametrize("path", CORPUS_FILES, ids=_id)
def test_corpus_file_detected_reviewed_and_round_trips(path: Path, corpus: dict[Any, Any]) -> None:
    platform, normal, masked = corpus[path]
    assert detect_platform(read_config(path)) is platform
    assert normalise(platform, normal) == normal
    assert mask(platform, masked) == masked  # idempotent
    assert parse(platform, normal).text() == normal  # round trip
    assert parse(platform, masked).text() == masked
    findings = review(platform, masked)
    assert [f.control for f in findings] == EXPECTED_IDS[platform]
    assert_evidence_names_input_lines(platform, masked, findings)
    if len(normal) < 100_000:  # raw in, same judgement (the two synthetic stress files: once is enough)
        raw = read_config(path)
        raw_findings = review(platform, raw)
        assert [(f.control, f.status) for f in raw_findings] == [(f.control, f.status) for f in findings]
        assert_evidence_names_input_lines(platform, raw, raw_findings)


def assert_evidence_names_input_lines(platform: Platform, text: str, findings: list[Any]) -> None:
    """Every evidence line number is the line of ``text`` as given that holds the evidence text."""
    masked, origin = mask_with_lines(platform, text.replace("\r\n", "\n"))
    by_input_line = {n + 1: line.strip() for n, line in zip(origin, masked.split("\n"), strict=True)}
    for finding in findings:
        ev = finding.evidence
        for item in (*ev.get("problems", ()), *ev.get("matched", ())):
            if "text" in item:
                assert by_input_line[item["line"]] == item["text"], (finding.control, item)


@needs_corpus
def test_lint_config_cli_walks_every_corpus_file() -> None:
    runner = CliRunner()
    # the two synthetic stress files (1.2 MB) go through review() in the per-file test above
    for path in (p for p in CORPUS_FILES if p.stat().st_size < 400_000):
        result = runner.invoke(app, ["lint-config", str(path), "--json"], catch_exceptions=False)
        assert result.exit_code in (0, 1), (path, result.output)
        data = json.loads(result.stdout)
        assert data["platform"] == path.parent.name
        statuses = {f["status"] for f in data["findings"]}
        assert result.exit_code == (1 if "fail" in statuses else 0)


@needs_corpus
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['control']}:{Path(c['file']).name}")
def test_corpus_spot_checks(case: dict[str, Any]) -> None:
    path = CORPUS / case["file"]
    text = read_config(path)
    findings = {f.control: f for f in review(detect_platform(text), text)}
    finding = findings[case["control"]]
    assert finding.status == Status(case["status"])
    if "evidence" in case:
        assert finding.evidence == case["evidence"]


# --------------------------------------------------------------------------- masking


def _originals(platform: Platform, raw: str) -> set[str]:
    """Secret values in a raw configuration, found independently of mask.py's patterns."""
    found: set[str] = set()
    patterns = [
        r"\b(?:password|secret) [0-9] (\S{6,})",
        r"\bENC (\S{8,})",
        r"^\s*snmp-server community \"?([^\s\"]+)",
        r"^\s*snmp[^\n]*\bcommunity \"?([^\s\"]+)",
        r"\bciphertext (\S{5,})",
        r"\bkey [0-9] (\S{6,})",
    ]
    for pattern in patterns:
        found |= {m.group(1) for m in re.finditer(pattern, raw, re.M)}
    return {s for s in found if not s.startswith("<") and s.lower() not in ("public", "private")}


@needs_corpus
def test_no_secret_survives_masking_in_corpus(corpus: dict[Any, Any]) -> None:
    checked = 0
    for path, (platform, _normal, masked) in corpus.items():
        assert not re.search(r"\b(password|secret) 7 [0-9A-F]{4,}", masked), path
        assert not re.search(r"\bENC (?!<masked>)\S", masked), path
        assert "-----BEGIN" not in masked and "PRIVATE KEY" not in masked, path
        snmp_lines = [line for line in masked.splitlines() if "snmp" in line or "community" in line]
        for secret in _originals(platform, read_config(path)):
            checked += 1
            assert not any(re.search(rf"(?<!\S){re.escape(secret)}(?!\S)", line) for line in snmp_lines), (
                path,
                secret,
            )
            if len(secret) >= 8 and not secret.isalpha():  # not a word such as "password"
                assert secret not in masked, (path, secret)
    assert checked > 40  # the scan really looked at secrets


SECRET_FILES = {
    "aruba_aoss/oxidized_procurve_include-credentials.txt": (
        "procurve/procurve__include-credentials__secret.yaml"
    ),
    "aruba_aoss/oxidized_procurve_encrypt-credentials.txt": (
        "procurve/procurve__encrypt-credentials__secret.yaml"
    ),
    "aruba_aoscx/oxidized_R0X25A-6410_FL.10.10.1100.txt": (
        "aoscx/aoscx__R0X25A-6410_FL.10.10.1100__secret.yaml"
    ),
    "fortios/oxidized_FortiGate-91G_7.4.7.txt": "fortigate/fortigate__FortiGate-91G_7.4.7__secret.yaml",
}


@needs_corpus
@pytest.mark.parametrize("config,secrets", SECRET_FILES.items(), ids=list(SECRET_FILES))
def test_oxidized_secret_lists_are_masked(config: str, secrets: str) -> None:
    """oxidized's own lists of strings that must be gone after secret removal."""
    spec = yaml.safe_load((CORPUS / "sessions" / secrets).read_text())
    raw = read_config(CORPUS / config)
    platform = detect_platform(raw)
    masked = mask(platform, normalise(platform, raw))
    findings = json.dumps([f.model_dump(mode="json") for f in review(platform, raw)])
    for needle in spec["fail"]:
        assert re.search(needle, raw), needle  # the secret really is in the original
        assert not re.search(needle, masked), needle
        assert not re.search(needle, findings), needle


def test_planted_canaries_never_reach_masked_text_or_evidence() -> None:
    raw = (DATA / "canary_ios.cfg").read_text()
    canaries = set(re.findall(r"Canary\w*?\d{4}", raw)) | {"$9$", "$1$"}
    assert len(canaries) == 19
    masked = mask(Platform.CISCO_IOS, normalise(Platform.CISCO_IOS, raw))
    evidence = json.dumps([f.model_dump(mode="json") for f in review(Platform.CISCO_IOS, raw)])
    for canary in canaries:
        assert canary not in masked, canary
        assert canary not in evidence, canary
    assert "secret 9 <masked>" in masked and "password 7 <masked>" in masked  # type kept
    assert "snmp-server community <masked:default> RO" in masked


def test_canary_config_findings() -> None:
    findings = {f.control: f for f in review(Platform.CISCO_IOS, (DATA / "canary_ios.cfg").read_text())}
    assert findings["NET-IOS-01"].evidence["problems"] == [
        {"line": 40, "text": "transport input telnet", "block": "line vty 0 4"}
    ]
    assert findings["NET-IOS-09"].evidence["problems"] == [
        {"line": 39, "text": "exec-timeout 0 0", "block": "line vty 0 4"}
    ]
    assert findings["NET-IOS-10"].status is Status.PASS  # aaa new-model
    assert findings["NET-IOS-11"].status is Status.PASS
    assert findings["NET-IOS-03"].evidence["problems"] == [{"line": 7, "text": "enable password <masked>"}]


# --------------------------------------------------------------------------- normalise / FortiOS ENC


@needs_corpus
def test_normalise_drops_volatile_lines_and_keeps_the_rest() -> None:
    raw = (CORPUS / "cisco_ios/napalm_ios_show_running-config.txt").read_text()
    volatile = (
        "Building configuration...",
        "Current configuration : 1366 bytes",
        "! Last configuration change at",
    )
    assert all(v in raw for v in volatile)
    out = normalise(Platform.CISCO_IOS, raw.replace("\n", "\r\n"))
    assert "\r" not in out and not any(v in out for v in volatile)
    dropped = [line for line in raw.splitlines() if any(line.startswith(v) for v in volatile)]
    assert len(out.splitlines()) == len(raw.strip("\n").splitlines()) - len(dropped) - 1  # leading blank too

    fgt = (CORPUS / "fortios/fortiosxutils_fgvm_v6.2.3_show_4k_lines.txt").read_text()
    out = normalise(Platform.FORTIOS, fgt)
    assert "#conf_file_ver=" in fgt and "#conf_file_ver=" not in out and "#buildno=" not in out
    assert "FG_VM-Demo $ show" not in out  # the prompt echo
    assert out.startswith("#config-version=FortiGate-VM64 v6.2.3,build1066,191218 (GA):opmode=1:vdom=0\n")


@needs_corpus
def test_fortios_reencrypted_secrets_give_identical_masked_text() -> None:
    raw = (CORPUS / "fortios/fortiosxutils_fgvm_v6.2.3_show_4k_lines.txt").read_text()
    counter = iter(range(10**6))

    def reencrypt(match: re.Match[str]) -> str:
        return "ENC " + base64.b64encode(f"fresh-{next(counter)}-{match.group(1)[:5]}".encode()).decode()

    second = re.sub(r"ENC (\S+)", reencrypt, raw).replace("#conf_file_ver=0", "#conf_file_ver=77")
    second = second.replace(":user=demo", ":user=backup")
    assert second != raw and next(counter) > 10
    first_safe = mask(Platform.FORTIOS, normalise(Platform.FORTIOS, raw))
    second_safe = mask(Platform.FORTIOS, normalise(Platform.FORTIOS, second))
    assert first_safe == second_safe


# --------------------------------------------------------------------------- overrides


@needs_corpus
def test_overrides_switch_rules_off_and_rethreshold() -> None:
    text = read_config(CORPUS / "fortios/fortiosxutils_fgvm_v6.2.3_show_4k_lines.txt")  # admintimeout 30
    base = {f.control: f for f in review(Platform.FORTIOS, text)}
    assert base["NET-FGT-03"].status is Status.FAIL
    relaxed = {
        f.control: f
        for f in review(
            Platform.FORTIOS,
            text,
            overrides={"disabled": ["NET-FGT-08"], "params": {"NET-FGT-03": {"max_admintimeout": 30}}},
        )
    }
    assert "NET-FGT-08" not in relaxed and len(relaxed) == len(EXPECTED_IDS[Platform.FORTIOS]) - 1
    assert relaxed["NET-FGT-03"].status is Status.PASS
    assert relaxed["NET-FGT-03"].evidence["params"] == {"max_admintimeout": 30}

    # absent admintimeout: the FortiOS default (5) is judged against the limit
    hier = read_config(CORPUS / "fortios/hierconfig_fortios_running.conf")
    strict = {
        f.control: f
        for f in review(Platform.FORTIOS, hier, overrides={"params": {"NET-FGT-03": {"max_admintimeout": 4}}})
    }
    assert strict["NET-FGT-03"].evidence["problems"] == [
        {
            "block": "config system global",
            "line": 1,
            "default": 5,
            "value": 5,
            "expected": "admintimeout <= 4",
        }
    ]


def test_overrides_threshold_can_be_switched_on() -> None:
    text = (DATA / "canary_ios.cfg").read_text()
    assert {f.control: f for f in review(Platform.CISCO_IOS, text)}["NET-IOS-09"].evidence["problems"] == [
        {"line": 39, "text": "exec-timeout 0 0", "block": "line vty 0 4"}
    ]
    strict = review(Platform.CISCO_IOS, text, overrides={"params": {"NET-IOS-09": {"max_minutes": 4}}})
    problems = {f.control: f for f in strict}["NET-IOS-09"].evidence["problems"]
    assert {"line": 36, "text": "exec-timeout 5 0", "block": "line con 0", "value": 5,
            "expected": "exec-timeout minutes <= 4"} in problems  # fmt: skip


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"disabled": ["NET-IOS-99"]}, "unknown rule 'NET-IOS-99'"),
        ({"params": {"NET-FGT-03": {"max_timeout": 3}}}, "unknown parameter 'max_timeout'"),
        ({"params": {"NET-FGT-03": {"max_admintimeout": "ten"}}}, "must be an integer"),
        ({"disable": ["NET-IOS-01"]}, "unknown key"),
    ],
)
def test_bad_overrides_are_named(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(NetworkConfigError, match=re.escape(message)):
        review(Platform.CISCO_IOS, "hostname x\n", overrides=overrides)


# --------------------------------------------------------------------------- evaluator and CLI errors


def test_evaluator_auto_platform_and_bad_raw() -> None:
    text = (DATA / "canary_ios.cfg").read_text()
    findings = evaluators.evaluate(
        "network_config", {"platform": "auto", "config": text}, {"disabled": ["NET-IOS-11"]}
    )
    assert [f.control for f in findings] == [i for i in EXPECTED_IDS[Platform.CISCO_IOS] if i != "NET-IOS-11"]
    with pytest.raises(EvaluatorError, match="expects"):
        evaluators.evaluate("network_config", {"platform": "auto"})
    with pytest.raises(EvaluatorError, match="unknown platform 'junos'"):
        evaluators.evaluate("network_config", {"platform": "junos", "config": text})
    with pytest.raises(EvaluatorError, match="cannot tell the platform"):
        evaluators.evaluate("network_config", {"platform": "auto", "config": "hello\n"})


def test_lint_config_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["lint-config", str(tmp_path / "nope.cfg")], catch_exceptions=False)
    assert missing.exit_code == 2 and "cannot read" in missing.output
    unknown = tmp_path / "notes.txt"
    unknown.write_text("just some text\n")
    undetected = runner.invoke(app, ["lint-config", str(unknown)], catch_exceptions=False)
    assert undetected.exit_code == 2 and "cannot tell the platform" in undetected.output
    bad = runner.invoke(app, ["lint-config", str(unknown), "--platform", "junos"], catch_exceptions=False)
    assert bad.exit_code == 2 and "unknown platform 'junos'" in bad.output
    table = runner.invoke(app, ["lint-config", str(DATA / "canary_ios.cfg")], catch_exceptions=False)
    assert table.exit_code == 1 and "NET-IOS-01" in table.output and "Canary" not in table.output
