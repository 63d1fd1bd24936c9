"""Evaluators: pure functions from raw collected data plus thresholds to findings.

The same registered function runs inside Ansible (the ``maint_evaluate`` action plugin)
and from the CLI on a saved file (``maint evaluate KIND FILE``), so every judgement is
testable on recorded output with no host at all.

An evaluator module registers itself with :func:`evaluator`; :data:`MODULES` lists the
modules imported on first use (each domain names its own in :mod:`runner.domains`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from runner import domains

if TYPE_CHECKING:  # annotations only: `maint --help` reads KINDS without loading pydantic (start-up time)
    from runner.results import Control, Finding

EvaluatorFn: TypeAlias = "Callable[[Any, Mapping[str, Any]], list[Finding]]"

#: modules that register evaluators, imported on first use: each domain's, from :mod:`runner.domains`
MODULES: tuple[str, ...] = domains.evaluator_modules()

#: every registered kind, kept as data in :mod:`runner.domains` so `maint evaluate --help` lists them
#: without importing the evaluator modules (start-up time); a test checks it equals the registry
KINDS: tuple[str, ...] = domains.kinds()


class EvaluatorError(Exception):
    """The raw data cannot be judged by this evaluator (wrong kind, corrupt file)."""


class UnknownKindError(EvaluatorError):
    def __init__(self, kind: str, known: Sequence[str]) -> None:
        super().__init__(f"unknown evaluator kind {kind!r}; known kinds: {', '.join(sorted(known))}")
        self.kind = kind


@dataclass(frozen=True)
class Evaluator:
    kind: str
    role: str
    controls: tuple[Control, ...]
    fn: EvaluatorFn
    defaults: Mapping[str, Any]
    description: str

    def __call__(self, raw: Any, thresholds: Mapping[str, Any] | None = None) -> list[Finding]:
        merged = {**self.defaults, **(thresholds or {})}
        return self.fn(raw, merged)


_REGISTRY: dict[str, Evaluator] = {}
_loaded = False


def evaluator(
    kind: str,
    *,
    role: str,
    controls: Sequence[Control],
    defaults: Mapping[str, Any] | None = None,
) -> Callable[[EvaluatorFn], EvaluatorFn]:
    """Register ``fn`` as the evaluator for ``kind`` (raw data collected by ``role``)."""

    def register(fn: EvaluatorFn) -> EvaluatorFn:
        if kind in _REGISTRY and _REGISTRY[kind].fn is not fn:
            raise ValueError(f"evaluator kind {kind!r} registered twice")
        _REGISTRY[kind] = Evaluator(
            kind=kind,
            role=role,
            controls=tuple(controls),
            fn=fn,
            defaults=dict(defaults or {}),
            description=(fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else "",
        )
        return fn

    return register


def _load() -> None:
    global _loaded
    if not _loaded:
        for module in MODULES:
            importlib.import_module(module)
        _loaded = True


def registry() -> Mapping[str, Evaluator]:
    _load()
    return dict(_REGISTRY)


def get(kind: str) -> Evaluator:
    _load()
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise UnknownKindError(kind, list(_REGISTRY)) from None


def evaluate(kind: str, raw: Any, thresholds: Mapping[str, Any] | None = None) -> list[Finding]:
    """Judge ``raw`` with the evaluator registered for ``kind``."""
    return get(kind)(raw, thresholds)


def controls_for_role(role: str) -> list[Control]:
    """Every control a role's evaluators can emit: module by module in :data:`MODULES` order, then in
    registration order (the same whichever module a caller imported first)."""
    _load()
    seen: dict[str, Control] = {}
    order = {module: i for i, module in enumerate(MODULES)}
    ranked = sorted(
        enumerate(_REGISTRY.values()), key=lambda p: (order.get(p[1].fn.__module__, len(order)), p[0])
    )
    for _i, ev in ranked:
        if ev.role == role:
            for control in ev.controls:
                seen.setdefault(control.control, control)
    return list(seen.values())
