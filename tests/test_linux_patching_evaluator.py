"""The linux_patching evaluator judged on recorded real apt output (and a dnf sample from public pages).

Cases are data: tests/data/linux_patching/cases.yml; tests/data/linux_patching/README.md says where each
file came from.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner import evaluators
from runner.evaluators import EvaluatorError
from runner.evaluators.linux_patching import (
    CONTROL_IDS,
    DEFAULTS,
    kernel_flavour,
    kernel_version_key,
    newest_kernel,
    parse_apt_simulate,
)
from runner.results import Domain, Status
from tests.conftest import PLUGINS
from tests.evaluator_cases import case_ids, check_case, load_json
from tests.evaluator_cases import judge as judge_all

ROOT = Path(__file__).parents[1]
DATA = Path(__file__).parent / "data" / "linux_patching"
CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "cases.yml").read_text())
PENDING = "real_bookworm_security_pending.json"
AFTER = "real_bookworm_after_upgrade.json"


def load(name: str) -> dict[str, Any]:
    return load_json(DATA, name)


def derive(data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = out
        for key in parents:
            node = node[key]
        node[last] = value
    return out


def raw_for(case: dict[str, Any]) -> Any:
    raw = derive(load(case["file"]), case.get("set", {}))
    if "remediation" not in case:
        return raw
    rem = dict(case["remediation"])
    after = load(rem.pop("after"))
    after["installed_versions"] = load(AFTER)["installed_versions"] if rem["upgrade"] == "security" else {}
    if rem.get("install", {}).get("failed") or not rem.get("window_allowed", True):
        after["installed_versions"] = _installed_before(raw)
    return {"mode": "remediate", "before": raw, "current": after, "remediation": rem}


def _installed_before(raw: dict[str, Any]) -> dict[str, str]:
    return {u.name: u.installed for u in parse_apt_simulate(raw["simulate"]["stdout"]).updates}


def judge(raw: Any, thresholds: dict[str, Any] | None = None) -> dict[str, Any]:
    return judge_all("linux_patching", CONTROL_IDS, raw, thresholds)


def test_every_file_is_used_and_documented() -> None:
    files = {p.name for p in DATA.iterdir() if p.suffix in (".json", ".txt", ".log")}
    readme = (DATA / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in files), sorted(f for f in files if f"`{f}`" not in readme)
    used = {c["file"] for c in CASES} | {c["remediation"]["after"] for c in CASES if "remediation" in c}
    assert {f for f in files if f.endswith(".json")} == used


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_case(case: dict[str, Any]) -> None:
    check_case("linux_patching", CONTROL_IDS, Domain.PATCHING, raw_for(case), case)


def test_real_pending_updates_are_listed_with_versions_and_origin() -> None:
    got = judge(load(PENDING))
    first = got["PATCH-LNX-02"].evidence["packages"][0]
    assert first == {
        "name": "perl-base",
        "installed": "5.36.0-7+deb12u3",
        "candidate": "5.36.0-7+deb12u4",
        "origin": "Debian-Security:12/oldstable-security",
    }
    assert "libssl3 3.0.20-1~deb12u2 -> 3.0.22-1~deb12u2" in got["PATCH-LNX-01"].evidence["packages"]


def test_remediation_evidence_lists_each_package_old_to_new() -> None:
    case = next(c for c in CASES if c["name"] == "remediation security-only, real before and after")
    run = judge(raw_for(case))["PATCH-LNX-06"].evidence
    assert {"name": "libssl3", "old": "3.0.20-1~deb12u2", "new": "3.0.22-1~deb12u2"} in run["upgraded"]
    assert {u["name"] for u in run["upgraded"]} == set(_installed_before(load(PENDING)))


def test_nothing_installed_lists_every_selected_package_as_not_upgraded() -> None:
    raw = {
        "mode": "remediate",
        "before": load(PENDING),
        "current": {**load(PENDING), "installed_versions": _installed_before(load(PENDING))},
        "remediation": {"upgrade": "all", "reboot_policy": "never"},
    }
    run = judge(raw)["PATCH-LNX-06"]
    assert run.status is Status.FAIL
    assert run.evidence["upgraded_count"] == 0
    assert len(run.evidence["not_upgraded"]) == 12
    assert run.remediation.startswith("Still pending after the run: perl-base, liblzma5,")


@pytest.mark.parametrize(
    ("name", "pending", "security"),
    [("apt_simulate_bookworm_security.txt", 12, 12), ("apt_simulate_up_to_date.txt", 0, 0)],
)
def test_apt_kind_on_saved_simulation_text(name: str, pending: int, security: int) -> None:
    text = (DATA / name).read_text()
    for raw in (text, {"stdout": text, "rc": 0}, {"stdout_lines": text.splitlines()}):
        got = {f.control: f for f in evaluators.evaluate("apt", raw)}
        assert list(got) == ["PATCH-LNX-01", "PATCH-LNX-02"]
        assert got["PATCH-LNX-01"].evidence["pending"] == pending
        assert got["PATCH-LNX-02"].evidence["security"] == security
        assert got["PATCH-LNX-01"].status is (Status.FAIL if pending else Status.PASS)


#: saved apt-get -s outputs (README says which are real and which are shaped after real ones):
#: file -> (PATCH-LNX-01, PATCH-LNX-02, evidence of PATCH-LNX-01 that must match)
APT_TEXTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    # the case: 'Inst' lines without the version brackets while apt says "12 upgraded"
    "apt_simulate_no_version_brackets.txt": ("error", "error", {"summary": {"upgraded": 12}}),
    # a kernel ABI bump pulls in a NEW package; two held packages are kept back
    "apt_simulate_kernel_abi_bump_held.txt": (
        "fail",
        "fail",
        {
            "pending": 1,
            "new_packages": ["linux-image-6.1.0-28-amd64 (new) -> 6.1.119-1"],
            "kept_back": ["postgresql-15", "postgresql-client-15"],
        },
    ),
    "apt_simulate_held_only.txt": (
        "warn",
        "pass",
        {"pending": 0, "kept_back": ["postgresql-15", "postgresql-client-15"]},
    ),
    # apt says 2 not upgraded but names none (list cut away): not trusted
    "apt_simulate_held_list_missing.txt": ("error", "error", {"summary": {"not_upgraded": 2}}),
    # apt 3.0 (Debian 13): "Summary:" block instead of the one-line summary
    "apt_simulate_trixie_apt3.txt": (
        "fail",
        "fail",
        {"pending": 3, "security": 3, "summary": {"upgraded": 3}},
    ),
    # a host whose collector ran without LC_ALL=C: the summary is German, the Inst lines are not translated
    "apt_simulate_de_locale.txt": ("fail", "fail", {"pending": 2, "security": 2}),
}


@pytest.mark.parametrize("name", sorted(APT_TEXTS))
def test_apt_output_is_cross_checked_with_apts_own_summary(name: str) -> None:
    pending_status, security_status, evidence = APT_TEXTS[name]
    text = (DATA / name).read_text()
    got = {f.control: f for f in evaluators.evaluate("apt", text)}
    assert got["PATCH-LNX-01"].status == Status(pending_status), got["PATCH-LNX-01"].evidence
    assert got["PATCH-LNX-02"].status == Status(security_status)
    for key, value in evidence.items():
        seen = got["PATCH-LNX-01"].evidence[key]
        assert (seen.items() >= value.items()) if isinstance(value, dict) else seen == value, key
    if pending_status == "error":
        assert got["PATCH-LNX-01"].evidence["reason"]
        assert got["PATCH-LNX-01"].remediation.startswith("Not judged: ")
    # the same text inside a collector output is judged the same way
    raw = derive(load(PENDING), {"simulate.stdout": text})
    collected = judge(raw)
    assert collected["PATCH-LNX-01"].status == Status(pending_status)
    assert collected["PATCH-LNX-02"].status == Status(security_status)


def test_no_version_brackets_names_the_lines_and_the_disagreement() -> None:
    got = evaluators.evaluate("apt", (DATA / "apt_simulate_no_version_brackets.txt").read_text())[0]
    assert "12 'Inst' line(s) not in the form" in got.evidence["reason"]
    assert (
        got.evidence["unparsed"][0]
        == "Inst perl-base 5.36.0-7+deb12u3 5.36.0-7+deb12u4 Debian-Security:12/oldstable-security"
    )
    assert got.evidence["parsed"] == {"upgrades": 0, "new": 0, "removals": 0, "kept_back": 0}


def test_inst_lines_missing_against_the_summary_is_an_error() -> None:
    """A real output with nine of its twelve Inst lines gone (cut, filtered) no longer says 12 upgraded."""
    lines = (DATA / "apt_simulate_bookworm_security.txt").read_text().splitlines()
    inst = [i for i, line in enumerate(lines) if line.startswith("Inst ")]
    text = "\n".join(line for i, line in enumerate(lines) if i not in inst[3:])
    got = {f.control: f for f in evaluators.evaluate("apt", text)}
    assert got["PATCH-LNX-01"].status is Status.ERROR
    assert got["PATCH-LNX-02"].status is Status.ERROR
    assert "apt's summary says 12 upgraded" in got["PATCH-LNX-01"].evidence["reason"]
    assert "the output lists 3" in got["PATCH-LNX-01"].evidence["reason"]


def test_summary_kept_by_the_collector_checks_a_cut_stdout() -> None:
    """The collector keeps apt's summary apart: a stdout cut to its tail is caught, not judged on."""
    real = load(PENDING)
    stdout = real["simulate"]["stdout"]
    cut = stdout[stdout.index("Inst libssl3 ") :]  # what [-MAX_OUTPUT:] leaves of a huge output
    summary = "12 upgraded, 0 newly installed, 0 to remove and 0 not upgraded."
    raw = derive(real, {"simulate.stdout": cut, "simulate.summary": summary})
    assert judge(raw)["PATCH-LNX-01"].status is Status.ERROR
    raw = derive(real, {"simulate.stdout": cut, "simulate.truncated": True})
    assert "cut apt's output" in judge(raw)["PATCH-LNX-02"].evidence["reason"]
    # a complete stdout plus its kept summary is judged as before
    raw = derive(real, {"simulate.summary": summary, "simulate.truncated": False})
    assert judge(raw)["PATCH-LNX-01"].evidence["pending"] == 12


def test_apt_output_in_another_locale_with_no_package_lines_is_an_error() -> None:
    text = (DATA / "apt_simulate_de_locale_no_lines.txt").read_text()
    with pytest.raises(EvaluatorError, match=r"LC_ALL=C|not apt-get -s output"):
        evaluators.evaluate("apt", text)
    got = judge(derive(load(PENDING), {"simulate.stdout": text}))
    assert got["PATCH-LNX-01"].status is Status.ERROR
    assert "LC_ALL=C" in got["PATCH-LNX-01"].evidence["reason"]


def test_remediation_of_an_untrusted_parse_installs_nothing() -> None:
    from runner.evaluators.linux_patching import selected_updates

    raw = derive(
        load(PENDING), {"simulate.stdout": (DATA / "apt_simulate_no_version_brackets.txt").read_text()}
    )
    with pytest.raises(EvaluatorError, match="cannot be trusted"):
        selected_updates(raw, "all")


def test_recorded_history_and_needrestart_texts_match_the_collector_output() -> None:
    """The raw text files are what the collector embeds: the parser reads them the same way."""
    history = (DATA / "apt_history_bookworm.log").read_text()
    raw = derive(
        load(AFTER),
        {
            "history.entries": [b.strip() for b in history.split("\n\n") if b.strip()],
            "services": {
                "available": True,
                "tool": "needrestart",
                "rc": 0,
                "stdout": (DATA / "needrestart_batch_container.txt").read_text(),
            },
        },
    )
    got = judge(raw)
    assert got["PATCH-LNX-03"].evidence["last_upgrade"] == "2026-11-27 03:04"
    assert got["PATCH-LNX-05"].status is Status.PASS
    assert got["PATCH-LNX-05"].evidence == {
        "tool": "needrestart",
        "version": "3.6",
        "services": [],
        "count": 0,
    }


MALFORMED: list[tuple[str, Any, str]] = [
    ("not a mapping", ["x"], "raw data must be a mapping"),
    (
        "apt without simulate",
        {k: v for k, v in load(PENDING).items() if k != "simulate"},
        "simulate required",
    ),
    ("unknown manager", {**load(PENDING), "manager": "zypper"}, "current.manager"),
    ("future schema", {**load(PENDING), "schema": 2}, "schema 2, expected 1"),
    ("remediate without before", {"mode": "remediate", "current": load(AFTER)}, "needs 'before'"),
]


@pytest.mark.parametrize(("raw", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_raw_data_raises(raw: Any, message: str) -> None:
    with pytest.raises(EvaluatorError, match=r"^linux_patching: ") as exc:
        evaluators.evaluate("linux_patching", raw)
    assert message in str(exc.value)


@pytest.mark.parametrize(
    ("thresholds", "message"),
    [
        ({"max_pending_updates": 1}, "max_pending_updates: Extra inputs are not permitted"),
        ({"last_upgrade_warn_days": 90}, "last_upgrade_warn_days (90) is above last_upgrade_fail_days (60)"),
        ({"skip_controls": ["PATCH-LNX-09"]}, "skip_controls names unknown controls ['PATCH-LNX-09']"),
    ],
)
def test_invalid_thresholds_raise(thresholds: dict[str, Any], message: str) -> None:
    with pytest.raises(EvaluatorError, match=r"^linux_patching: invalid thresholds: ") as exc:
        evaluators.evaluate("linux_patching", load(PENDING), thresholds)
    assert message in str(exc.value)


def test_apt_kind_refuses_other_text() -> None:
    with pytest.raises(EvaluatorError, match="not apt-get -s output"):
        evaluators.evaluate("apt", "Hit:1 http://deb.debian.org/debian bookworm InRelease\n")


def test_registry_and_role_defaults() -> None:
    ev = evaluators.get("linux_patching")
    assert ev.role == "linux_patching"
    assert [c.control for c in evaluators.controls_for_role("linux_patching")] == list(CONTROL_IDS)
    role_defaults = yaml.safe_load((ROOT / "roles/linux_patching/defaults/main.yml").read_text())
    for name, value in DEFAULTS.items():
        assert role_defaults[f"linux_patching_{name}"] == (list(value) if isinstance(value, tuple) else value)


def test_role_filters_use_the_evaluator() -> None:
    sys.path.insert(0, str(ROOT / "roles/linux_patching/filter_plugins"))
    try:
        import linux_patching as filters  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    assert filters.linux_patching_selected(load(PENDING), "security", pinned=True)[:2] == [
        "perl-base=5.36.0-7+deb12u4",
        "liblzma5=5.4.1-1+deb12u2",
    ]
    assert filters.linux_patching_selected(load(AFTER), "all") == []
    assert filters.linux_patching_reboot_required(load(PENDING)) is False
    flagged = derive(load(PENDING), {"reboot.flag_file.present": True})
    assert filters.linux_patching_reboot_required(flagged) is True


# ---------------------------------------------------------------- PATCH-LNX-04: the one reboot judgement


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("6.1.0-21-amd64", "6.1.0-22-amd64"),
        ("6.1.0-9-amd64", "6.1.0-10-amd64"),
        ("6.1.0-0.deb11.17-amd64", "6.1.0-21-amd64"),  # a bullseye backport, then bookworm's own
        ("5.14.0-362.8.1.el9_3.x86_64", "5.14.0-427.13.1.el9_4.x86_64"),
        ("5.15.0-105-generic", "6.8.0-31-generic"),
        ("4.18.0-513.5.1.el8_9.x86_64", "4.18.0-513.11.1.el8_9.x86_64"),
        # rpm: a number segment is newer than a letter segment in the same place
        ("5.14.0-427.13.1.el9_4.x86_64", "5.14.0-427.13.1.el9_4.1.x86_64"),
    ],
)
def test_kernel_versions_order(older: str, newer: str) -> None:
    assert kernel_version_key(older) < kernel_version_key(newer)
    assert newest_kernel(older, [older, newer]) == newer
    assert newest_kernel(newer, [older, newer]) == newer


@pytest.mark.parametrize(
    ("release", "flavour"),
    [
        ("6.1.0-21-amd64", "amd64"),
        ("6.1.0-21-cloud-amd64", "cloud-amd64"),
        ("6.1.0-0.deb11.17-amd64", "amd64"),
        ("6.8.0-31-generic", "generic"),
        ("5.14.0-427.13.1.el9_4.x86_64", ""),
        ("5.14.0-427.13.1.el9_4.x86_64+debug", "+debug"),
    ],
)
def test_kernel_flavour(release: str, flavour: str) -> None:
    assert kernel_flavour(release) == flavour


def test_only_the_running_flavour_counts_as_newer() -> None:
    installed = ["6.1.0-21-amd64", "6.1.0-25-rt-amd64", "6.1.0-25-cloud-amd64"]
    assert newest_kernel("6.1.0-21-amd64", installed) == "6.1.0-21-amd64"
    assert newest_kernel("6.1.0-21-rt-amd64", installed) == "6.1.0-25-rt-amd64"


def test_health_no_longer_judges_a_pending_reboot() -> None:
    """One judgement, reported once: the same flagged host fails PATCH-LNX-04 and has no HEALTH-LNX-03."""
    health = evaluators.get("linux_health")
    assert "HEALTH-LNX-03" not in [c.control for c in health.controls]
    flagged = derive(load(AFTER), {"reboot.flag_file.present": True})
    by = {f.control: f for f in evaluators.evaluate("linux_patching", flagged)}
    assert by["PATCH-LNX-04"].status is Status.FAIL


@pytest.fixture(scope="module")
def collector() -> Any:
    spec = importlib.util.spec_from_file_location(
        "linux_patching_facts", PLUGINS / "modules/linux_patching_facts.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("manager", "present", "available"),
    [("apt", False, True), ("apt", True, True), ("dnf", False, False), ("dnf", True, True)],
)
def test_collector_reboot_flag_speaks_only_where_it_is_written(
    collector: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    manager: str,
    present: bool,
    available: bool,
) -> None:
    flag = tmp_path / "reboot-required"
    if present:
        flag.write_text("*** System restart required ***\n")
        (tmp_path / "reboot-required.pkgs").write_text("linux-image-6.1.0-22-amd64\nlibc6\nlibc6\n\n")
    monkeypatch.setattr(collector, "REBOOT_FLAGS", (str(flag),))
    out = collector.read_reboot_flag(manager)
    assert out["available"] is available
    if available:
        assert out["present"] is present and out["path"] == str(flag)
        assert out["packages"] == (["linux-image-6.1.0-22-amd64", "libc6"] if present else [])
    else:
        assert out["reason"] == f"{flag} is only written on the Debian family (apt)"


FAKE_NEEDS_RESTARTING = """#!/bin/sh
[ "$1" = "-r" ] || exit 9
printf 'Core libraries or services have been updated since boot-up:\\n  * kernel\\n  * systemd\\n\\n'
printf 'Reboot is required to fully utilize these updates.\\n'
exit 1
"""


def test_collector_needs_restarting_output_is_what_the_evaluator_judges(
    collector: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = tmp_path / "needs-restarting"
    tool.write_text(FAKE_NEEDS_RESTARTING)
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    probe = collector.read_needs_restarting(10.0)
    assert probe["available"] is True and probe["rc"] == 1
    raw = derive(load("dnf_public_samples.json"), {"reboot.needs_restarting": probe})
    by = {f.control: f for f in evaluators.evaluate("linux_patching", raw)}
    assert by["PATCH-LNX-04"].status is Status.FAIL
    assert by["PATCH-LNX-04"].evidence["packages"] == ["kernel", "systemd"]
