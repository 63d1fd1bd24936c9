"""The control catalogue (runner/catalogue/) is the one source of truth for every control.

Its schema refuses a broken file with one message naming the file and key; it holds exactly the controls
the code emits (evaluators, network rule packs, the runner's own checks) with the same titles, severities
and remediations; the Linux evaluators' defaults and ranges are the catalogue's; ``maint controls`` lists
it and ``maint controls show ID`` explains one control down to the line of code that emits it.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError
from typer.testing import CliRunner

from runner import catalogue, evaluators
from runner.catalogue import CatalogueError, UnknownControlError
from runner.cli import app
from runner.evaluators import linux_antivirus, linux_backup, linux_health, linux_patching, smartctl, trends
from runner.results import Control
from tests.conftest import PLUGINS, REPO

cli = CliRunner()
DATA = REPO / "runner" / "catalogue" / "data"
RULES = REPO / "runner" / "network" / "rules"

#: Linux role -> the evaluator Thresholds model validating its thresholds
LINUX_MODELS: dict[str, type[BaseModel]] = {
    "linux_health": linux_health.Thresholds,
    "linux_patching": linux_patching.Thresholds,
    "linux_antivirus": linux_antivirus.Thresholds,
    "linux_backup": linux_backup.Thresholds,
}


def _plain(value: Any) -> Any:
    """Tuples as lists, so an evaluator's ``()`` default compares equal to the catalogue's ``[]``."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _guard_control() -> Control:
    spec = importlib.util.spec_from_file_location("guard", PLUGINS / "action" / "maint_window_guard.py")
    assert spec is not None and spec.loader is not None
    guard = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(guard)
    control = guard.GUARD_CONTROL
    return Control.model_validate(control.model_dump())


def _runner_controls() -> dict[str, Control]:
    from runner.due import SCHEDULE_CONTROL

    return {SCHEDULE_CONTROL.control: SCHEDULE_CONTROL, "MAINT-WINDOW-01": _guard_control()}


def _emitted() -> dict[str, Control]:
    """Every control the code emits: the registered evaluators (network: the rule packs) and the runner."""
    from runner.network.review import all_controls

    found = {c.control: c for ev in evaluators.registry().values() for c in ev.controls}
    found |= {c.control: c for c in all_controls()}
    found |= _runner_controls()
    assert '"MAINT-ROLE-01"' in (REPO / "runner" / "events.py").read_text()
    found.setdefault("MAINT-ROLE-01", catalogue.load().control("MAINT-ROLE-01").as_control())
    return found


# ---------------------------------------------------------------- schema


def _copy_data(tmp_path: Path) -> tuple[Path, Path]:
    data, rules = tmp_path / "data", tmp_path / "rules"
    shutil.copytree(DATA, data)
    shutil.copytree(RULES, rules)
    return data, rules


def _edit(path: Path, change: Any) -> None:
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def test_the_shipped_catalogue_loads_and_is_cached() -> None:
    cat = catalogue.load()
    assert catalogue.load() is cat
    assert {"linux_health", "linux_patching", "linux_antivirus", "linux_backup", "network_config"} <= set(
        cat.roles
    )
    assert cat.control("HEALTH-LNX-01").title == "Filesystems have free space"
    assert catalogue.load_from() == cat  # the same data read again


@pytest.mark.parametrize(
    ("file", "change", "where"),
    [
        (
            "linux_health.yml",
            lambda d: d["thresholds"]["fs_warn_pct"].update(type="integer"),
            "thresholds.fs_warn_pct.type",
        ),
        (
            "linux_health.yml",
            lambda d: d["thresholds"]["fs_warn_pct"].update(default=150),
            "thresholds.fs_warn_pct: default 150 is above max 100",
        ),
        (
            "linux_health.yml",
            lambda d: d["thresholds"]["fs_warn_pct"].update(default=95),
            "thresholds.fs_warn_pct.default: 95 is above fs_fail_pct (90)",
        ),
        (
            "linux_health.yml",
            lambda d: d["controls"][0].update(colour="red"),
            "controls[0].colour: Extra inputs",
        ),
        ("linux_health.yml", lambda d: d.update(owner="me"), "owner: Extra inputs are not permitted"),
        ("linux_patching.yml", lambda d: d["controls"][1].update(severity="urgent"), "controls[1].severity"),
        (
            "linux_patching.yml",
            lambda d: d["controls"][1].pop("rationale"),
            "controls[1].rationale: Field required",
        ),
        (
            "linux_backup.yml",
            lambda d: d["thresholds"]["restic_max_age_hours"].update(controls=["BKP-NOPE-01"]),
            "thresholds.restic_max_age_hours.controls: ['BKP-NOPE-01'] are not controls of this role",
        ),
        (
            "linux_antivirus.yml",
            lambda d: d["controls"].append(dict(d["controls"][0])),
            "AV-LNX-01 is defined twice",
        ),
        ("maint.yml", lambda d: d.update(os_family="solaris"), "os_family"),
        (
            "linux_health.yml",
            lambda d: d["controls"][0].update(judges=""),
            "controls[0].judges: String should have at least 1 character",
        ),
    ],
)
def test_a_broken_file_names_the_file_and_key(tmp_path: Path, file: str, change: Any, where: str) -> None:
    data, rules = _copy_data(tmp_path)
    _edit(data / file, change)
    with pytest.raises(CatalogueError) as caught:
        catalogue.load_from(data, rules)
    message = str(caught.value)
    assert message.startswith(str(data / file)), message
    assert where in message, message
    assert "\n" not in message


def test_a_broken_rule_pack_names_the_pack_and_rule(tmp_path: Path) -> None:
    data, rules = _copy_data(tmp_path)
    _edit(rules / "fortios.yml", lambda d: d["rules"][2].update(severity="dire"))
    with pytest.raises(CatalogueError, match=r"fortios\.yml: rules\[2\]\.severity"):
        catalogue.load_from(data, rules)


def test_invalid_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    data, rules = _copy_data(tmp_path)
    (data / "linux_health.yml").write_text("role: linux_health\ncontrols: [\n  - x\n")
    with pytest.raises(CatalogueError, match=r"linux_health\.yml: line \d+ is not valid YAML"):
        catalogue.load_from(data, rules)


def test_models_are_frozen() -> None:
    spec = catalogue.load().control("HEALTH-LNX-01")
    with pytest.raises(ValidationError):
        spec.title = "changed"  # type: ignore[misc]
    th = catalogue.load().roles["linux_health"].thresholds["fs_warn_pct"]
    with pytest.raises(ValidationError):
        th.default = 1  # type: ignore[misc]


def test_lookups() -> None:
    cat = catalogue.load()
    with pytest.raises(UnknownControlError, match=r"did you mean .*HEALTH-LNX-01"):
        cat.control("HEALTH-LNX-1")
    assert cat.is_known("NET-IOS-03") and not cat.is_known("NET-IOS-99")
    assert [c.id for c in cat.for_role("linux_health")] == [
        "HEALTH-LNX-01",
        "HEALTH-LNX-02",
        "HEALTH-LNX-04",
        "HEALTH-LNX-05",
        "HEALTH-LNX-06",
        "HEALTH-LNX-07",
        "HEALTH-LNX-08",
        "HEALTH-LNX-09",
        "HEALTH-LNX-10",
    ]
    ios = cat.control("NET-IOS-03")
    assert (ios.role, ios.domain.value, ios.platforms) == ("network_config", "network", ("cisco_ios",))
    assert ios.applies_to("cisco_ios") and not ios.applies_to("fortios")
    assert cat.control("HEALTH-LNX-01").applies_to(None)
    assert cat.control("MAINT-SCHED-01").role is None


def test_retired_control_is_known_to_the_catalogue_and_points_at_its_successor() -> None:
    spec = catalogue.load().control("HEALTH-LNX-03")
    assert spec.retired and "PATCH-LNX-04" in spec.retired
    assert catalogue.load().is_known("PATCH-LNX-04")


def test_skip_controls_choices_are_the_roles_controls_in_use() -> None:
    cat = catalogue.load()
    for role in ("linux_health", "linux_patching", "linux_antivirus", "linux_backup"):
        choices = cat.roles[role].thresholds["skip_controls"].choices
        assert list(choices) == [c.id for c in cat.for_role(role)], role
    assert "HEALTH-LNX-03" not in cat.roles["linux_health"].thresholds["skip_controls"].choices


# ---------------------------------------------------------------- the catalogue is what the code emits


def test_every_emitted_control_is_in_the_catalogue_and_every_catalogued_one_is_emitted() -> None:
    cat = catalogue.load()
    emitted = _emitted()
    in_use = {cid for cid, spec in cat.controls.items() if spec.retired is None}
    retired = {cid for cid, spec in cat.controls.items() if spec.retired is not None}
    assert sorted(set(emitted) - set(cat.controls)) == [], "emitted but not in the catalogue"
    assert sorted(in_use - set(emitted)) == [], "in the catalogue but no code emits it (retire it?)"
    assert sorted(retired & set(emitted)) == [], "retired but still emitted"


def test_emitted_controls_say_what_the_catalogue_says() -> None:
    cat = catalogue.load()
    for cid, control in _emitted().items():
        assert control == cat.control(cid).as_control(), cid


def test_kinds_are_the_evaluators_that_emit_each_control() -> None:
    cat = catalogue.load()
    registry = evaluators.registry()
    for kind, ev in registry.items():
        for control in ev.controls:
            assert kind in cat.control(control.control).kinds, (kind, control.control)
            assert cat.control(control.control).role == ev.role
    for spec in cat.controls.values():
        for kind in spec.kinds:
            assert spec.id in {c.control for c in registry[kind].controls}, (spec.id, kind)


def test_evaluator_defaults_are_the_catalogues() -> None:
    cat = catalogue.load()
    for kind, ev in evaluators.registry().items():
        role = cat.roles[ev.role]
        given, own, every = _plain(dict(ev.defaults)), role.defaults(kind), role.defaults()
        assert {k: given.get(k, "(missing)") for k in own} == own, kind  # all the kind's own thresholds
        assert {k: every.get(k, "(not in the catalogue)") for k in given} == given, kind  # nothing else
    # linux_health's thresholds are the role's but the trend step's (HEALTH-LNX-09/10, judged from the ledger)
    health, trend = (
        cat.roles["linux_health"].defaults("linux_health"),
        trends._defaults("linux_health_trends"),
    )
    assert _plain(dict(linux_health.DEFAULTS)) == health
    assert {**health, **_plain(dict(trend))} == cat.roles["linux_health"].defaults()
    assert _plain(dict(smartctl.DEFAULTS)) == cat.roles["linux_health"].defaults("smartctl")


def _rejects(model: type[BaseModel], values: dict[str, Any], name: str) -> bool:
    try:
        model.model_validate(values)
    except ValidationError as exc:
        return any(e["loc"] == (name,) for e in exc.errors())
    return False


#: the Linux roles' Thresholds models by the kind they judge (linux_health's are split: the role's evaluator,
#: and the trends judged from the ledger after the run)
KIND_MODELS: dict[tuple[str, str | None], type[BaseModel]] = {
    **{(role, None): model for role, model in LINUX_MODELS.items() if role != "linux_health"},
    ("linux_health", "linux_health"): linux_health.Thresholds,
    ("linux_health", "linux_health_trends"): trends.Thresholds,
}


@pytest.mark.parametrize(("role", "kind"), list(KIND_MODELS), ids=[f"{r}-{k}" for r, k in KIND_MODELS])
def test_catalogue_ranges_are_what_the_linux_evaluators_enforce(role: str, kind: str | None) -> None:
    """At min and max the evaluator accepts a threshold, one step past either it refuses that field."""
    spec = catalogue.load().roles[role]
    model = KIND_MODELS[(role, kind)]
    defaults = spec.defaults(kind)
    model.model_validate(defaults)
    for name, th in spec.thresholds.items():
        if th.type not in ("int", "float") or name not in defaults:
            continue
        # partners kept out of the way: what must stay below this one at its own minimum, what must
        # stay above it well above
        below = {n: t.min for n, t in spec.thresholds.items() if t.not_above == name}
        top = spec.thresholds[th.not_above].max if th.not_above else None
        above = {th.not_above: 10**6 if top is None else int(top)} if th.not_above else {}
        for bound, step in ((th.min, -1), (th.max, 1)):
            if bound is None:
                continue
            value = int(bound) if th.type == "int" else bound
            values = {**defaults, **below, **above, name: value}
            model.model_validate(values)
            assert _rejects(model, {**values, name: value + step}, name), (name, value + step)
        if th.not_above:
            with pytest.raises(ValidationError, match="is above"):
                model.model_validate({**defaults, name: defaults[th.not_above] + 1})


@pytest.mark.parametrize("role", ["linux_health", "linux_patching", "linux_antivirus", "linux_backup"])
def test_role_defaults_files_hold_the_catalogues_variables(role: str) -> None:
    """roles/<role>/defaults/main.yml: every variable is a catalogue threshold or option, same default."""
    spec = catalogue.load().roles[role]
    variables = yaml.safe_load((REPO / "roles" / role / "defaults" / "main.yml").read_text())
    catalogued = {f"{role}_{name}": th.default for name, th in {**spec.thresholds, **spec.options}.items()}
    assert _plain(variables) == catalogued


def test_every_threshold_says_which_way_loosens_it() -> None:
    for role in catalogue.load().roles.values():
        for th in role.thresholds.values():
            assert th.looser is not None or th.type in ("str", "map"), (role.role, th.name)
        for opt in role.options.values():
            assert opt.looser is None and opt.loosest is None and not opt.controls, (role.role, opt.name)


# ---------------------------------------------------------------- maint controls


@pytest.mark.parametrize("control_id", ["HEALTH-LNX-01", "PATCH-LNX-04", "NET-IOS-03", "MAINT-SCHED-01"])
def test_controls_show_explains_a_control_down_to_its_line_of_code(control_id: str) -> None:
    spec = catalogue.load().control(control_id)
    result = cli.invoke(app, ["controls", "show", control_id])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.stdout.split())
    assert spec.title in flat
    assert " ".join(spec.rationale.split()) in flat
    assert " ".join(spec.remediation.split()) in flat
    found = re.search(r"code: (\S+):(\d+)", flat)
    assert found, result.stdout
    path, line = REPO / found.group(1), int(found.group(2))
    assert path.is_file()
    assert control_id in path.read_text().splitlines()[line - 1]


def test_controls_show_lists_the_thresholds_that_tune_it() -> None:
    result = cli.invoke(app, ["controls", "show", "HEALTH-LNX-01", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    names = [t["name"] for t in data["thresholds"]]
    assert names[:2] == ["fs_warn_pct", "fs_fail_pct"] and "skip_controls" in names
    assert "uptime_warn_days" not in names
    warn = data["thresholds"][0]
    assert (warn["type"], warn["unit"], warn["default"], warn["range"], warn["looser"]) == (
        "int",
        "percent",
        80,
        "0..100",
        "higher",
    )
    assert data["source"].startswith("runner/evaluators/linux_health.py:")
    fgt = json.loads(cli.invoke(app, ["controls", "show", "NET-FGT-03", "--json"]).stdout)
    assert fgt["rule_params"] == {"max_admintimeout": 15}
    assert fgt["source"].startswith("runner/network/rules/fortios.yml:")


def test_controls_show_a_retired_control_says_what_replaced_it() -> None:
    result = cli.invoke(app, ["controls", "show", "HEALTH-LNX-03"])
    assert result.exit_code == 0, result.output
    assert "retired" in result.stdout and "PATCH-LNX-04" in result.stdout


def test_controls_show_unknown_id_exits_2_with_close_matches() -> None:
    result = cli.invoke(app, ["controls", "show", "NET-IOS-3"])
    assert result.exit_code == 2
    assert "unknown control 'NET-IOS-3'" in result.stderr and "did you mean " in result.stderr
    assert "NET-IOS-03" in result.stderr.split("did you mean ", 1)[1]  # among the close matches
    assert result.exception is None or isinstance(result.exception, SystemExit)
    far = cli.invoke(app, ["controls", "show", "ZZZ"])
    assert far.exit_code == 2 and "known families:" in far.stderr


def test_controls_json_lists_the_catalogue() -> None:
    result = cli.invoke(app, ["controls", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["count"] == len(data["controls"]) == len(catalogue.load().controls)
    first = data["controls"][0]
    assert set(first) == {
        "id",
        "title",
        "domain",
        "severity",
        "role",
        "os_family",
        "platforms",
        "applies_to",
        "kinds",
        "retired",
    }
    health = json.loads(
        cli.invoke(app, ["controls", "--json", "--domain", "health", "--role", "linux_health"]).stdout
    )
    assert {c["id"] for c in health["controls"]} == {f"HEALTH-LNX-{i:02}" for i in range(1, 11)}
    maint = json.loads(cli.invoke(app, ["controls", "--json", "--role", "maint"]).stdout)
    assert [c["id"] for c in maint["controls"]] == ["MAINT-ROLE-01", "MAINT-SCHED-01", "MAINT-WINDOW-01"]


def test_controls_table_and_bad_filters() -> None:
    result = cli.invoke(app, ["controls", "--role", "linux_patching"])
    assert result.exit_code == 0, result.output
    assert "PATCH-LNX-06" in result.stdout and "HEALTH-LNX-01" not in result.stdout
    bad = cli.invoke(app, ["controls", "--domain", "weather"])
    assert bad.exit_code == 2 and "--domain: unknown value 'weather'" in bad.stderr
    bad = cli.invoke(app, ["controls", "--role", "nope"])
    assert bad.exit_code == 2 and "--role: unknown value 'nope'" in bad.stderr
