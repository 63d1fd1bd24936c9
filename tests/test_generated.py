"""The role files generated from the control catalogue are up to date, and follow it when it changes.

``python -m runner.catalogue.generate`` (``make generate``) writes each role's ``defaults/main.yml``, the
options of ``meta/argument_specs.yml``, ``vars/main.yml`` and the README's generated tables; ``--check``
exits 1 naming every file that no longer matches the catalogue.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner import catalogue
from runner.catalogue.generate import main, rule_words
from tests.conftest import REPO


def test_generated_files_are_up_to_date() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "runner.catalogue.generate", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"run `make generate`:\n{proc.stdout}{proc.stderr}"


def _entry_point(specs: Any) -> Any:
    """The role's spec: ``maint_audit`` (validated by that action; Ansible adds no task) or ``main``."""
    entries = specs["argument_specs"]
    return entries["maint_audit"] if "maint_audit" in entries else entries["main"]


@pytest.mark.parametrize("role", sorted(catalogue.load().roles))
def test_defaults_and_argument_specs_carry_the_catalogue_defaults(role: str) -> None:
    spec = catalogue.load().roles[role]
    base = REPO / "roles" / role
    defaults = yaml.safe_load((base / "defaults" / "main.yml").read_text())
    options = _entry_point(yaml.safe_load((base / "meta" / "argument_specs.yml").read_text()))["options"]
    for name, entry in {**spec.thresholds, **spec.options}.items():
        var = f"{role}_{name}"
        if entry.from_var is None:
            assert defaults[var] == entry.default, var
        else:  # an inventory variable shared by several roles (access_approved_admins), then the default
            assert defaults[var] == f"{{{{ {entry.from_var} | default({json.dumps(entry.default)}) }}}}", var
        if "default" in options[var]:
            assert options[var]["default"] == entry.default, var
    if spec.thresholds and (base / "vars" / "main.yml").is_file():
        derived = yaml.safe_load((base / "vars" / "main.yml").read_text())[f"{role}_threshold_defaults"]
        assert derived == {name: f"{{{{ {role}_{name} }}}}" for name in spec.thresholds}


@pytest.fixture
def changed_catalogue(tmp_path: Path) -> Path:
    """A copy of the catalogue data where linux_health's fs_warn_pct defaults to 75 instead of 80."""
    data = tmp_path / "data"
    shutil.copytree(catalogue.DATA_DIR, data)
    path = data / "linux_health.yml"
    text = path.read_text()
    old = "  fs_warn_pct:\n    type: int\n    unit: percent\n    default: 80\n"
    assert old in text
    path.write_text(text.replace(old, old.replace("default: 80", "default: 75")))
    return data


def test_a_changed_default_makes_check_fail_naming_the_files(
    changed_catalogue: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--check", "--data", str(changed_catalogue)]) == 1
    out = capsys.readouterr().out
    stale = sorted(
        line.removeprefix("out of date: ") for line in out.splitlines() if line.startswith("out of")
    )
    assert stale == [
        "roles/linux_health/README.md",
        "roles/linux_health/defaults/main.yml",
        "roles/linux_health/meta/argument_specs.yml",
    ]


def test_generate_writes_what_check_then_accepts(
    changed_catalogue: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roles = tmp_path / "roles"
    shutil.copytree(REPO / "roles", roles)
    readme_before = (roles / "linux_health" / "README.md").read_text()
    args = ["--data", str(changed_catalogue), "--roles", str(roles)]
    assert main(args) == 0
    assert main(["--check", *args]) == 0
    capsys.readouterr()

    defaults = yaml.safe_load((roles / "linux_health" / "defaults" / "main.yml").read_text())
    assert defaults["linux_health_fs_warn_pct"] == 75
    specs = yaml.safe_load((roles / "linux_health" / "meta" / "argument_specs.yml").read_text())
    main_spec = _entry_point(specs)
    assert main_spec["options"]["linux_health_fs_warn_pct"]["default"] == 75
    # the hand-written head of argument_specs is kept
    original = yaml.safe_load((REPO / "roles" / "linux_health" / "meta" / "argument_specs.yml").read_text())
    assert main_spec["short_description"] == _entry_point(original)["short_description"]
    assert main_spec["description"] == _entry_point(original)["description"]

    readme = (roles / "linux_health" / "README.md").read_text()
    assert "| `linux_health_fs_warn_pct` | `75` |" in readme
    # only the generated blocks changed: everything outside the markers is as it was
    assert _outside_markers(readme) == _outside_markers(readme_before)


def test_a_variable_missing_from_the_catalogue_is_kept_not_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roles = tmp_path / "roles"
    shutil.copytree(REPO / "roles", roles)
    path = roles / "linux_health" / "defaults" / "main.yml"
    path.write_text(path.read_text() + "linux_health_hand_written: 7\n")
    assert main(["--roles", str(roles)]) == 0
    err = capsys.readouterr().err
    assert "linux_health_hand_written is not in the catalogue; kept as found" in err
    assert yaml.safe_load(path.read_text())["linux_health_hand_written"] == 7


def test_a_readme_without_markers_is_refused_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roles = tmp_path / "roles"
    shutil.copytree(REPO / "roles", roles)
    readme = roles / "linux_backup" / "README.md"
    readme.write_text(readme.read_text().replace("<!-- END GENERATED: variables -->", ""))
    assert main(["--check", "--roles", str(roles)]) == 2
    err = capsys.readouterr().err
    assert "linux_backup/README.md: needs exactly one '<!-- BEGIN GENERATED: variables -->'" in err


def _outside_markers(text: str) -> list[str]:
    parts: list[str] = []
    rest = text
    while "<!-- BEGIN GENERATED:" in rest:
        head, _, tail = rest.partition("<!-- BEGIN GENERATED:")
        parts.append(head)
        rest = tail.partition("-->\n")[2].partition("<!-- END GENERATED:")[2]
    parts.append(rest)
    return parts


# ---------------------------------------------------------------- the control tables


def test_every_control_in_use_says_what_fails_it() -> None:
    """Each role control and runner control has its "fails / warns when" text in the catalogue."""
    cat = catalogue.load()
    for spec in cat.controls.values():
        if spec.retired is not None or spec.role == "network_config":
            continue
        assert spec.judges, f"{spec.id}: add judges to runner/catalogue/data/{spec.role or 'maint'}.yml"
        assert spec.judges == " ".join(spec.judges.split()), spec.id  # folded onto one line
        assert spec.not_checked_when is None or spec.not_checked_when.strip(), spec.id


@pytest.mark.parametrize("role", sorted(r for r in catalogue.load().roles if r != "network_config"))
def test_readme_control_table_is_the_catalogue_and_only_there(role: str) -> None:
    cat = catalogue.load()
    text = (REPO / "roles" / role / "README.md").read_text()
    inside = _inside_marker(text, "controls")
    rows = {
        line.split(" | ")[0].removeprefix("| "): line for line in inside.splitlines() if line.startswith("| ")
    }
    for spec in cat.for_role(role):
        assert spec.judges is not None
        cells = [c.strip() for c in rows[spec.id].strip("|").split(" | ")]
        assert cells[:3] == [spec.id, spec.title, spec.severity.value], cells
        assert cells[3] == spec.judges.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
        assert cells[4] == (spec.not_checked_when or "-")
    # no hand-written copy of the table is left beside the generated one
    outside = "".join(_outside_markers(text))
    for spec in cat.for_role(role):
        assert f"| {spec.id} |" not in outside, f"{role}/README.md repeats {spec.id} outside the markers"


def test_a_changed_judgement_reaches_only_the_readme(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(catalogue.DATA_DIR, data)
    path = data / "linux_health.yml"
    text = path.read_text()
    old = "      `/proc/uptime` unreadable\n"
    assert old in text
    path.write_text(text.replace(old, "      `/proc/uptime` unreadable, or <proc> | not mounted\n"))
    roles = tmp_path / "roles"
    shutil.copytree(REPO / "roles", roles)
    args = ["--data", str(data), "--roles", str(roles)]
    assert main(["--check", *args]) == 1
    assert capsys.readouterr().out.splitlines() == [f"out of date: {roles / 'linux_health' / 'README.md'}"]
    assert main(args) == 0
    readme = (roles / "linux_health" / "README.md").read_text()
    # a table cell keeps its pipes and angle brackets as text, code spans as written
    assert "| `/proc/uptime` unreadable, or &lt;proc&gt; \\| not mounted |" in readme


def test_network_rules_are_put_in_words_from_their_checks() -> None:
    words = rule_words(catalogue.RULES_DIR)
    cat = catalogue.load()
    # the rule packs' rules (the role's other controls, HEALTH-NET-*, are judged from other outputs)
    assert set(words) == {c.id for c in cat.for_role("network_config") if c.platforms is not None}
    # plain lines: an absent line, a present expectation, a block with a parameter
    assert words["NET-IOS-08"].fails == "a line `ip http server`"
    assert words["NET-IOS-03"].fails == "missing: enable secret; a line `enable password ...`"
    assert words["NET-FGT-03"].fails == (
        "a `config system global` block has admintimeout above the `max_admintimeout` parameter"
    )
    # the rule's own not_checked reasons
    assert words["NET-FGT-03"].not_checked == 'no "config system global" in this configuration'
    assert words["NET-IOS-02"].not_checked is None
    # regexes too intricate to say: no words, and the README shows the rationale instead
    assert words["NET-IOS-04"].fails is None
    readme = (REPO / "roles" / "network_config" / "README.md").read_text()
    rationale = cat.control("NET-IOS-04").rationale
    assert f"| *{' '.join(rationale.split())}* |" in readme
    assert "| a line `ip http server` | - |" in readme


def test_a_broken_rule_pack_is_refused_naming_the_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(catalogue.RULES_DIR, rules)
    path = rules / "cisco_ios.yml"
    path.write_text(path.read_text().replace("      - kind: absent\n", "      - kind: nowhere\n", 1))
    assert main(["--check", "--rules", str(rules)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("generate: ") and "rules[" in err and "cisco_ios.yml" in err, err
    assert "Traceback" not in err


def _inside_marker(text: str, name: str) -> str:
    return text.partition(f"<!-- BEGIN GENERATED: {name} -->")[2].partition(
        f"<!-- END GENERATED: {name} -->"
    )[0]
