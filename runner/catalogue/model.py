"""The control catalogue's models: a control, a role's thresholds and options, the whole catalogue.

The data lives in ``runner/catalogue/data/<role>.yml`` (one file per role, plus ``maint.yml`` for the
runner's own checks) and in the network rule packs ``runner/network/rules/<platform>.yml``;
:mod:`runner.catalogue` loads it into these models.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from runner.results import Control, Domain, Severity

OsFamily = Literal["linux", "windows", "network", "any"]
#: ``list`` is a list of str; ``map`` a mapping its engine validates (network_config ``params``)
ThresholdType = Literal["int", "float", "bool", "str", "list", "map"]
Looser = Literal["higher", "lower", "more", "fewer"]

#: the pattern every control ID follows (the same as runner.results.Control's)
CONTROL_ID = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$"


class CatalogueError(Exception):
    """The catalogue data is broken (the message names the file and key), or a lookup failed."""


class UnknownControlError(CatalogueError, KeyError):
    """No control has this ID (the message lists the closest ones)."""

    def __init__(self, control: str, close: list[str]) -> None:
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        super().__init__(f"unknown control {control!r}{hint}")
        self.control = control
        self.close = close

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _type_ok(kind: ThresholdType, value: Any, elements: str = "str") -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if kind == "map":
        return isinstance(value, Mapping)
    element = Mapping if elements == "dict" else str
    return isinstance(value, list | tuple) and all(isinstance(v, element) for v in value)


class Threshold(_Frozen):
    """A tunable value of a role: a threshold (judgement) or an option (collector setting).

    Client override: ``maintenance.thresholds.<role>.<name>``; role variable ``<role>_<name>``.
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: ThresholdType
    unit: str
    default: Any
    #: what a list holds: str (the default) or dict (an option such as linux_backup file_sets)
    elements: Literal["str", "dict"] = "str"
    min: int | float | None = None
    max: int | float | None = None
    #: may not exceed the value of this other threshold of the same role
    not_above: str | None = None
    #: allowed list elements (list) or values (str; "" stands for unset)
    choices: tuple[str, ...] = ()
    #: which direction loosens the control (None for an option)
    looser: Looser | None = None
    #: the review warns when a client goes past this
    loosest: Any = None
    controls: tuple[str, ...] = ()
    description: str = Field(min_length=1)
    #: an inventory variable the role variable's default reads (``access_approved_admins``): the generated
    #: default is ``{{ <from_var> | default(<default>) }}``, so a group or host sets it once for every role
    from_var: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")

    @model_validator(mode="after")
    def _consistent(self) -> Threshold:
        numeric = self.type in ("int", "float")
        if self.elements != "str" and self.type != "list":
            raise ValueError("elements is for list options only")
        if not _type_ok(self.type, self.default, self.elements):
            raise ValueError(f"default {self.default!r} is not of type {self.type}")
        if (self.min is not None or self.max is not None or self.not_above) and not numeric:
            raise ValueError("min, max and not_above are for int and float thresholds only")
        if self.choices and self.type not in ("list", "str"):
            raise ValueError("choices is for list and str thresholds only")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        for label, value in (("default", self.default), ("loosest", self.loosest)):
            if value is None or not numeric:
                continue
            if label == "loosest" and not _type_ok(self.type, value):
                raise ValueError(f"loosest {value!r} is not of type {self.type}")
            if self.min is not None and value < self.min:
                raise ValueError(f"{label} {value} is below min {self.min}")
            if self.max is not None and value > self.max:
                raise ValueError(f"{label} {value} is above max {self.max}")
        if self.choices:
            given = self.default if self.type == "list" else [self.default] if self.default else []
            bad = [v for v in given if v not in self.choices]
            if bad:
                raise ValueError(f"default holds {bad}, not in choices")
        if self.loosest is not None and self.looser is None:
            raise ValueError("loosest needs looser (which direction loosens the control)")
        return self

    def range_text(self) -> str:
        """``0..100``, ``>= 1``, ``<= 50`` or ``""``: the allowed range in words."""

        def num(v: float) -> str:
            return str(int(v)) if float(v).is_integer() else str(v)

        if self.min is not None and self.max is not None:
            return f"{num(self.min)}..{num(self.max)}"
        if self.min is not None:
            return f">= {num(self.min)}"
        if self.max is not None:
            return f"<= {num(self.max)}"
        return ""


class ControlSpec(_Frozen):
    """One control: what is checked, why, how to fix it, and who emits it."""

    id: str = Field(pattern=CONTROL_ID)
    title: str = Field(min_length=1)
    domain: Domain
    severity: Severity
    rationale: str = Field(min_length=1)
    remediation: str = Field(min_length=1)
    role: str | None
    os_family: OsFamily
    #: evaluator kinds that emit it (empty for the runner's own checks and retired controls)
    kinds: tuple[str, ...] = ()
    #: network platforms it applies to; None: every host of its role
    platforms: tuple[str, ...] | None = None
    #: why it is no longer emitted (e.g. "merged into PATCH-LNX-04 ..."); None while in use
    retired: str | None = None
    #: what makes it fail or warn, in words (the README's "fails / warns when"); None for network rules,
    #: whose checks in the rule pack say it
    judges: str | None = Field(default=None, min_length=1)
    #: when it is reported not_checked instead (None: never, apart from skip_controls and lost hosts)
    not_checked_when: str | None = Field(default=None, min_length=1)
    #: its fix needs a purchase or a redesign (e.g. no antivirus engine at all): the onboarding roadmap
    #: treats it as a separate project unless it is urgent (runner.onboarding.risks)
    project: bool = False

    def applies_to(self, platform: str | None) -> bool:
        return self.platforms is None or platform in self.platforms

    def as_control(self) -> Control:
        return Control(
            control=self.id,
            title=self.title,
            domain=self.domain,
            severity=self.severity,
            remediation=self.remediation,
        )


class RoleSpec(_Frozen):
    """A role's catalogue file: its domain, thresholds, options and controls."""

    role: str
    domain: Domain
    os_family: OsFamily
    summary: str
    thresholds: dict[str, Threshold] = Field(default_factory=dict)
    options: dict[str, Threshold] = Field(default_factory=dict)
    controls: tuple[str, ...] = ()
    #: control ID -> evaluator kinds emitting it (for :meth:`defaults` with a kind)
    kinds_of: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    def defaults(self, kind: str | None = None) -> dict[str, Any]:
        """Threshold defaults; with ``kind``, only those tuning a control that kind emits.

        ``skip_controls`` (and any threshold naming no control) is always included. Values are fresh copies.
        """
        out: dict[str, Any] = {}
        for name, th in self.thresholds.items():
            if (
                kind is not None
                and th.controls
                and not any(kind in self.kinds_of.get(c, ()) for c in th.controls)
            ):
                continue
            out[name] = copy.deepcopy(th.default)
        return out

    def option_defaults(self) -> dict[str, Any]:
        return {name: copy.deepcopy(o.default) for name, o in self.options.items()}


@dataclass(frozen=True)
class Catalogue:
    """Every control and every role, in catalogue order (roles by file name, controls by file order)."""

    controls: Mapping[str, ControlSpec]
    roles: Mapping[str, RoleSpec]

    def control(self, control_id: str) -> ControlSpec:
        try:
            return self.controls[control_id]
        except KeyError:
            close = difflib.get_close_matches(control_id, list(self.controls), n=3, cutoff=0.75)
            raise UnknownControlError(control_id, close) from None

    def for_role(self, role: str) -> list[ControlSpec]:
        """The role's controls in use (not retired), in catalogue order."""
        return [c for c in self.controls.values() if c.role == role and c.retired is None]

    def is_known(self, control_id: str) -> bool:
        return control_id in self.controls

    def close_matches(self, control_id: str, n: int = 3, cutoff: float = 0.75) -> list[str]:
        return difflib.get_close_matches(control_id, list(self.controls), n=n, cutoff=cutoff)
