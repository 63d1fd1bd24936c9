"""The control catalogue: one place for every control's title, severity, rationale, remediation,
applicability and the thresholds that tune it.

Data: ``runner/catalogue/data/<role>.yml`` (one file per role) and ``data/maint.yml`` (the runner's own
checks, role null); the network controls stay in their rule packs ``runner/network/rules/<platform>.yml``
(the engine reads its checks from there) and are added with role ``network_config``, domain network and
``platforms: [<pack platform>]``. :func:`load` validates it all once (cached); a broken file raises
:class:`CatalogueError` naming the file and key.

Reading the YAML costs a few milliseconds and imports no evaluator, so ``maint inventory validate``
may use it on every start.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from runner.catalogue.model import (
    CONTROL_ID,
    Catalogue,
    CatalogueError,
    ControlSpec,
    OsFamily,
    RoleSpec,
    Threshold,
    UnknownControlError,
)
from runner.results import Domain, Severity

__all__ = [
    "DATA_DIR",
    "MAINT_FILE",
    "RULES_DIR",
    "Catalogue",
    "CatalogueError",
    "ControlSpec",
    "RoleSpec",
    "Threshold",
    "UnknownControlError",
    "load",
    "load_from",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
RULES_DIR = Path(__file__).resolve().parent.parent / "network" / "rules"
#: the runner's own controls (role null)
MAINT_FILE = "maint.yml"
#: the role whose controls come from the network rule packs
NETWORK_ROLE = "network_config"
#: rule packs in this order (runner.network.platforms.Platform order); any other pack file follows
_PLATFORM_ORDER = ("cisco_ios", "aruba_aoscx", "aruba_aoss", "fortios")
_REPO_ROOT = Path(__file__).resolve().parents[2]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _ControlEntry(_Frozen):
    id: str = Field(pattern=CONTROL_ID)
    title: str = Field(min_length=1)
    severity: Severity
    rationale: str = Field(min_length=1)
    remediation: str = Field(min_length=1)
    kinds: tuple[str, ...] = ()
    platforms: tuple[str, ...] | None = None
    retired: str | None = None
    judges: str | None = Field(default=None, min_length=1)
    not_checked_when: str | None = Field(default=None, min_length=1)
    project: bool = False


class _RoleFile(_Frozen):
    role: str | None
    domain: Domain
    os_family: OsFamily
    summary: str = Field(min_length=1)
    thresholds: dict[str, Threshold] = Field(default_factory=dict)
    options: dict[str, Threshold] = Field(default_factory=dict)
    controls: tuple[_ControlEntry, ...] = ()


class _Rule(BaseModel):
    """The part of a network rule the catalogue reads (the engine reads the rest)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(pattern=CONTROL_ID)
    title: str = Field(min_length=1)
    severity: Severity
    rationale: str = Field(min_length=1)
    remediation: str = Field(min_length=1)
    #: a rule's own domain (e.g. security for access and filtering rules); None: the role file's (network)
    domain: Domain | None = None


class _Pack(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    platform: str
    rules: tuple[_Rule, ...] = Field(min_length=1)


def _show(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(_REPO_ROOT))
    except ValueError:
        return str(path)


def _loc(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _error(path: Path, exc: ValidationError) -> CatalogueError:
    first = exc.errors()[0]
    more = len(exc.errors()) - 1
    tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    msg = first["msg"].removeprefix("Value error, ")
    return CatalogueError(f"{_show(path)}: {_loc(first['loc'])}: {msg}{tail}")


def _words(text: str | None) -> str | None:
    """A folded YAML text on one line (None stays None)."""
    return " ".join(text.split()) if text is not None else None


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogueError(f"{_show(path)}: cannot be read: {exc.strerror or exc}") from exc
    try:
        return yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" line {where.line + 1}" if where is not None else ""
        raise CatalogueError(f"{_show(path)}:{line} is not valid YAML: {exc}") from exc


def _named(section: Any) -> Any:
    """``{name: {...}}`` with each entry's ``name`` filled in from its key."""
    if not isinstance(section, Mapping):
        return section
    return {
        k: ({"name": k, **v} if isinstance(v, Mapping) and "name" not in v else v) for k, v in section.items()
    }


def _parse_role_file(path: Path) -> _RoleFile:
    data = _read_yaml(path)
    if not isinstance(data, Mapping):
        raise CatalogueError(f"{_show(path)}: (top level): must be a mapping, got {type(data).__name__}")
    data = dict(data)
    for section in ("thresholds", "options"):
        if section in data:
            data[section] = _named(data[section])
    try:
        return _RoleFile.model_validate(data)
    except ValidationError as exc:
        raise _error(path, exc) from exc


def _parse_pack(path: Path) -> _Pack:
    data = _read_yaml(path)
    try:
        return _Pack.model_validate(data)
    except ValidationError as exc:
        raise _error(path, exc) from exc


def _check_role(path: Path, f: _RoleFile, control_ids: list[str]) -> dict[str, Threshold]:
    """Cross-field checks of one role file; returns its thresholds with control choices filled in."""
    where = _show(path)
    if f.role is not None and f.role != path.stem:
        raise CatalogueError(f"{where}: role: {f.role!r} does not match the file name {path.stem!r}")
    for name, opt in f.options.items():
        if opt.looser is not None or opt.loosest is not None or opt.controls:
            raise CatalogueError(f"{where}: options.{name}: an option has no looser, loosest or controls")
    # every control of the role not retired (network_config: its own controls and the rule packs' rules)
    retired = {c.id for c in f.controls if c.retired is not None}
    in_use = [c for c in control_ids if c not in retired]
    thresholds: dict[str, Threshold] = {}
    for name, th in f.thresholds.items():
        key = f"{where}: thresholds.{name}"
        if th.looser is None and th.type not in ("str", "map"):
            raise CatalogueError(f"{key}.looser: a threshold says which direction loosens it")
        unknown = [c for c in th.controls if c not in control_ids]
        if unknown:
            raise CatalogueError(f"{key}.controls: {unknown} are not controls of this role")
        if th.not_above is not None:
            other = f.thresholds.get(th.not_above)
            if other is None or other.type not in ("int", "float"):
                raise CatalogueError(f"{key}.not_above: {th.not_above!r} is not a numeric threshold here")
            if th.default > other.default:
                raise CatalogueError(f"{key}.default: {th.default} is above {th.not_above} ({other.default})")
        if th.type == "list" and th.unit == "control":
            if not th.choices:
                th = th.model_copy(update={"choices": tuple(in_use)})
            bad = [c for c in (*th.choices, *th.default) if c not in control_ids]
            if bad:
                raise CatalogueError(f"{key}.choices: {bad} are not controls of this role")
        thresholds[name] = th
    return thresholds


def _add(controls: dict[str, ControlSpec], spec: ControlSpec, where: str) -> None:
    if spec.id in controls:
        first = controls[spec.id]
        raise CatalogueError(f"{where}: {spec.id} is defined twice (also for role {first.role})")
    controls[spec.id] = spec


def load_from(data_dir: Path = DATA_DIR, rules_dir: Path = RULES_DIR) -> Catalogue:
    """Read and validate the catalogue from ``data_dir`` and the rule packs in ``rules_dir`` (uncached)."""
    controls: dict[str, ControlSpec] = {}
    roles: dict[str, RoleSpec] = {}
    files = sorted(data_dir.glob("*.yml"))
    if not files:
        raise CatalogueError(f"{_show(data_dir)}: no catalogue file (*.yml)")
    packs = sorted(
        rules_dir.glob("*.yml"),
        key=lambda p: (_PLATFORM_ORDER.index(p.stem) if p.stem in _PLATFORM_ORDER else 99, p.stem),
    )
    for path in files:
        f = _parse_role_file(path)
        where = _show(path)
        if f.role is None and path.name != MAINT_FILE:
            raise CatalogueError(f"{where}: role: only {MAINT_FILE} may have role null")
        ids: list[str] = []
        entries: list[ControlSpec] = []
        for i, c in enumerate(f.controls):
            if c.retired is None and not c.kinds and f.role is not None:
                raise CatalogueError(f"{where}: controls[{i}].kinds: which evaluator kinds emit {c.id}?")
            entries.append(
                ControlSpec(
                    id=c.id,
                    title=c.title.strip(),
                    domain=f.domain,
                    severity=c.severity,
                    rationale=c.rationale.strip(),
                    remediation=c.remediation.strip(),
                    role=f.role,
                    os_family=f.os_family,
                    kinds=c.kinds,
                    platforms=c.platforms,
                    retired=c.retired,
                    judges=_words(c.judges),
                    not_checked_when=_words(c.not_checked_when),
                    project=c.project,
                )
            )
            ids.append(c.id)
        if f.role == NETWORK_ROLE:
            # the rule packs hold the configuration rules; the file may hold only controls judged from
            # something else than the configuration (interface counters, trends), never a rule pack's kind
            for i, c in enumerate(f.controls):
                if NETWORK_ROLE in c.kinds:
                    raise CatalogueError(
                        f"{where}: controls[{i}] ({c.id}): network configuration rules live in the rule packs"
                    )
            for pack_path in packs:
                pack = _parse_pack(pack_path)
                pack_where = _show(pack_path)
                if pack.platform != pack_path.stem:
                    raise CatalogueError(
                        f"{pack_where}: platform: {pack.platform!r} does not match the file name"
                    )
                for rule in pack.rules:
                    spec = ControlSpec(
                        id=rule.id,
                        title=rule.title.strip(),
                        domain=rule.domain or f.domain,
                        severity=rule.severity,
                        rationale=" ".join(rule.rationale.split()),
                        remediation=rule.remediation.strip(),
                        role=NETWORK_ROLE,
                        os_family=f.os_family,
                        kinds=(NETWORK_ROLE,),
                        platforms=(pack.platform,),
                    )
                    entries.append(spec)
                    ids.append(spec.id)
        thresholds = _check_role(path, f, ids)
        for spec in entries:
            _add(controls, spec, where)
        if f.role is not None:
            roles[f.role] = RoleSpec(
                role=f.role,
                domain=f.domain,
                os_family=f.os_family,
                summary=f.summary.strip(),
                thresholds=thresholds,
                options=dict(f.options),
                controls=tuple(ids),
                kinds_of={spec.id: spec.kinds for spec in entries},
            )
    return Catalogue(controls=MappingProxyType(controls), roles=MappingProxyType(roles))


@functools.cache
def load() -> Catalogue:
    """The shipped catalogue (validated once per process)."""
    return load_from()


#: where the runner's own controls are emitted (relative to the repository root)
RUNNER_SOURCES: Mapping[str, str] = MappingProxyType(
    {
        "MAINT-ROLE-01": "runner/events.py",
        "MAINT-SCHED-01": "runner/due.py",
        "MAINT-WINDOW-01": "collections/ansible_collections/maint/core/plugins/action/maint_window_guard.py",
    }
)


def _first_line(path: Path, needles: tuple[str, ...]) -> int | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for needle in needles:
        for number, line in enumerate(lines, start=1):
            if needle in line:
                return number
    return None


def source_of(spec: ControlSpec) -> tuple[str, int] | None:
    """``(file, line)`` of the code emitting ``spec`` (path relative to the repository), or None.

    Evaluator controls: the line of ``control("ID")`` (or a ``control="ID"`` definition) in
    ``runner/evaluators/*.py``; network rules: the rule pack's ``- id: ID`` line; the runner's own
    controls: the line naming the ID in the file of :data:`RUNNER_SOURCES`.
    """
    quoted = f'"{spec.id}"'
    candidates: list[Path]
    needles: tuple[str, ...]
    if spec.platforms is not None and spec.role == NETWORK_ROLE:
        candidates = [RULES_DIR / f"{p}.yml" for p in spec.platforms]
        needles = (f"- id: {spec.id}",)
    elif spec.id in RUNNER_SOURCES:
        candidates = [_REPO_ROOT / RUNNER_SOURCES[spec.id]]
        needles = (f"control={quoted}", quoted)
    else:
        candidates = sorted((_REPO_ROOT / "runner" / "evaluators").glob("*.py"))
        needles = (f"control({quoted})", f"control={quoted}")
    for needle in needles:
        for path in candidates:
            line = _first_line(path, (needle,))
            if line is not None:
                return _show(path), line
    return None
