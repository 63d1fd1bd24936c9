"""The Windows roles' part of the control catalogue agrees with the Windows evaluators and roles.

The catalogue (runner/catalogue/data/windows_*.yml) is the one place for a Windows control's title,
severity, remediation and thresholds; these tests prove the evaluators read it, that its thresholds are
complete enough for the inventory review (every one says which way loosens it) and that its ranges are the
ones the evaluators' Thresholds models enforce.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from runner import catalogue, evaluators
from runner.evaluators import (
    trends,
    windows_access,
    windows_antivirus,
    windows_backup,
    windows_health,
    windows_patching,
)

ROOT = Path(__file__).resolve().parents[1]

#: role -> (evaluator kind, evaluator module)
WINDOWS: dict[str, tuple[str, ModuleType]] = {
    "windows_health": ("windows_health", windows_health),
    "windows_patching": ("windows_updates", windows_patching),
    "windows_antivirus": ("windows_antivirus", windows_antivirus),
    "windows_backup": ("windows_backup", windows_backup),
    "windows_access": ("windows_access", windows_access),
}
ROLES = list(WINDOWS)
#: role -> the kind judging its trends from the ledger after the run (runner.trends), the rest of its controls
TRENDS: dict[str, str] = {"windows_health": "windows_health_trends"}
#: role -> kind of the Windows roles without thresholds whose one control runner/evaluators/assets.py judges
#: (tests/test_windows_assets.py checks them); the threshold checks below do not apply to them
ASSET_ROLES: dict[str, str] = {"windows_assets": "windows_assets"}


def _role(role: str) -> catalogue.RoleSpec:
    return catalogue.load().roles[role]


def test_every_windows_evaluator_is_covered_here() -> None:
    """A new Windows evaluator kind must join WINDOWS (and so these checks)."""
    kinds = {ev.kind for ev in evaluators.registry().values() if ev.role.startswith("windows_")}
    assert kinds == {kind for kind, _ in WINDOWS.values()} | set(ASSET_ROLES.values()) | set(TRENDS.values())
    windows_roles = {r for r, spec in catalogue.load().roles.items() if spec.os_family == "windows"}
    assert windows_roles == set(ROLES) | set(ASSET_ROLES)
    assert all(not catalogue.load().roles[r].thresholds for r in ASSET_ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_every_evaluator_control_is_the_catalogue_control(role: str) -> None:
    kind, module = WINDOWS[role]
    ev = evaluators.get(kind)
    assert ev.role == role
    cat = catalogue.load()
    for control in ev.controls:
        spec = cat.control(control.control)
        assert spec.role == role, control.control
        assert spec.os_family == "windows"
        assert kind in spec.kinds
        assert spec.retired is None
        assert spec.domain is _role(role).domain
        # title, severity, remediation: the evaluator's Control is the catalogue's, field for field
        assert control == spec.as_control()
        assert len(spec.rationale.split()) >= 12, f"{spec.id}: write why an MSP cares"
        assert spec.rationale != spec.remediation
    # and the other way round: every control the catalogue gives the role is emitted, in catalogue order
    trend = [c.control for c in evaluators.get(TRENDS[role]).controls] if role in TRENDS else []
    assert [c.control for c in ev.controls] == list(module.CONTROL_IDS)
    assert list(_role(role).controls) == [c.id for c in cat.for_role(role)] == [*module.CONTROL_IDS, *trend]


DATA_DIR = {
    "windows_health": "health",
    "windows_patching": "patching",
    "windows_antivirus": "antivirus",
    "windows_backup": "backup",
    "windows_access": "access",
}


@pytest.mark.parametrize("role", ROLES)
def test_findings_on_recorded_output_carry_catalogue_titles(role: str) -> None:
    """Every recorded collector output judged with the catalogue defaults reports the catalogue's controls."""
    kind, module = WINDOWS[role]
    cat = catalogue.load()
    judged = 0
    for path in sorted((ROOT / "tests/data/windows" / DATA_DIR[role]).glob("*.json")):
        try:
            findings = evaluators.evaluate(kind, json.loads(path.read_text()))
        except evaluators.EvaluatorError:
            continue  # a recorded malformed output: its own tests judge the message
        judged += 1
        assert [f.control for f in findings] == list(module.CONTROL_IDS), path.name
        for finding in findings:
            spec = cat.control(finding.control)
            assert (finding.title, finding.domain) == (spec.title, spec.domain), path.name
    assert judged >= 3


@pytest.mark.parametrize("role", ROLES)
def test_evaluator_defaults_are_the_catalogue_defaults(role: str) -> None:
    kind, module = WINDOWS[role]
    spec = _role(role)
    assert dict(module.DEFAULTS) == spec.defaults(kind)
    assert dict(evaluators.get(kind).defaults) == spec.defaults(kind)
    # the defaults are a valid setting of the evaluator, and every threshold is one the evaluator reads
    # (or the trend evaluator, for a role whose trends are judged from the ledger)
    module.Thresholds.model_validate(spec.defaults(kind))
    read = set(module.Thresholds.model_fields)
    if role in TRENDS:
        assert {**spec.defaults(kind), **spec.defaults(TRENDS[role])} == spec.defaults()
        read |= set(trends.Thresholds.model_fields) - {"role_controls"}
    assert read == set(spec.thresholds)


@pytest.mark.parametrize("role", ROLES)
def test_role_variables_match_the_catalogue(role: str) -> None:
    """defaults/main.yml and meta/argument_specs.yml hold the catalogue's default and type for every entry."""
    spec = _role(role)
    role_defaults = yaml.safe_load((ROOT / f"roles/{role}/defaults/main.yml").read_text())
    arg_specs = yaml.safe_load((ROOT / f"roles/{role}/meta/argument_specs.yml").read_text())
    entry_points = arg_specs["argument_specs"]  # maint_audit since issue 16 (no validation task per host)
    options = (entry_points.get("maint_audit") or entry_points["main"])["options"]
    for name, entry in {**spec.thresholds, **spec.options}.items():
        var = f"{role}_{name}"
        # a threshold read from an inventory variable (from_var) defaults to it, else to the catalogue default
        fallback = json.dumps(entry.default, separators=(",", ":"))
        want = (
            entry.default if entry.from_var is None else f"{{{{ {entry.from_var} | default({fallback}) }}}}"
        )
        assert role_defaults[var] == want, var
        assert options[var]["type"] == entry.type, var
        assert options[var]["default"] == entry.default, var
        if entry.type == "list":
            assert options[var]["elements"] == "str", var
    catalogued = {f"{role}_{name}" for name in (*spec.thresholds, *spec.options)}
    # windows_patching_mode follows maint_mode (a template default): a run setting, not a threshold
    assert set(options) - catalogued <= {"windows_patching_mode"}


@pytest.mark.parametrize("role", ROLES)
def test_every_threshold_says_which_way_loosens(role: str) -> None:
    spec = _role(role)
    assert spec.thresholds
    for name, th in spec.thresholds.items():
        assert th.looser is not None, f"{role}.{name}: looser is not set"
        assert th.description.strip()
        if th.type in ("int", "float"):
            assert th.looser in ("higher", "lower"), name
        elif th.type == "list":
            assert th.looser in ("more", "fewer"), name
        if th.loosest is None:
            continue
        # the loosest accepted value lies on the looser side of the default
        if th.looser == "higher":
            assert th.loosest >= th.default, name
        elif th.looser == "lower":
            assert th.loosest <= th.default, name
        elif th.looser == "more":
            assert th.loosest >= len(th.default), name
    for name, opt in spec.options.items():
        assert opt.looser is None and opt.loosest is None and not opt.controls, f"{role} option {name}"


@pytest.mark.parametrize("role", ROLES)
def test_skip_controls_choices_are_the_role_controls(role: str) -> None:
    spec = _role(role)
    skip = spec.thresholds["skip_controls"]
    assert skip.unit == "control"
    assert skip.looser == "more" and skip.loosest == 0
    assert list(skip.choices) == list(spec.controls)


def _validate(model: type[BaseModel], values: dict[str, Any]) -> bool:
    try:
        model.model_validate(values)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("role", ROLES)
def test_catalogue_ranges_are_the_evaluator_ranges(role: str) -> None:
    """min, max and not_above in the catalogue are what the evaluator's Thresholds model refuses past."""
    kind, module = WINDOWS[role]
    spec = _role(role)
    checked = 0
    for name, th in spec.thresholds.items():
        if th.type not in ("int", "float"):
            continue
        model: type[BaseModel] = module.Thresholds
        defaults = spec.defaults(kind)
        if name not in defaults and role in TRENDS:  # a threshold of the trends judged after the run
            model, defaults = trends.Thresholds, spec.defaults(TRENDS[role])
        if th.min is not None:
            assert not _validate(model, {**defaults, name: int(th.min) - 1}), f"{name} < min"
            checked += 1
        if th.max is not None:
            assert not _validate(model, {**defaults, name: int(th.max) + 1}), f"{name} > max"
            checked += 1
        if th.not_above is not None:
            above = defaults[th.not_above] + 1
            assert not _validate(model, {**defaults, name: above}), f"{name} > {th.not_above}"
            assert _validate(model, {**defaults, name: defaults[th.not_above]}), name
            checked += 1
        assert th.controls, f"{role}.{name}: which controls does it tune?"
        assert set(th.controls) <= set(spec.controls)
    assert checked > 0
