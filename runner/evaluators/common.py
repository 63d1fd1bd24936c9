"""Helpers every evaluator shares: reading raw collector output and validating thresholds."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from runner.evaluators import EvaluatorError

M = TypeVar("M", bound=BaseModel)


def describe(exc: ValidationError, limit: int = 5) -> str:
    """A pydantic error as one line: the first ``limit`` problems with where they are."""
    errors = exc.errors()
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in errors[:limit]]
    more = len(errors) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def validate_raw(model: type[M], raw: Any, *, kind: str, key: str, marker: str, module: str) -> M:
    """Validate a collector's output; a whole saved module result (``{key: {...}}``) is unwrapped.

    ``marker`` is a field only the bare output has, so a wrapped result is told apart from it.
    """
    if isinstance(raw, Mapping) and marker not in raw and isinstance(raw.get(key), Mapping):
        raw = raw[key]
    if not isinstance(raw, Mapping):
        raise EvaluatorError(
            f"{kind}: raw data must be a mapping (the {module} module's '{key}' key), "
            f"got {type(raw).__name__}"
        )
    try:
        return model.model_validate(dict(raw))
    except ValidationError as exc:
        raise EvaluatorError(f"{kind}: raw data has the wrong shape: {describe(exc)}") from exc


def validate_thresholds(model: type[M], thresholds: Mapping[str, Any], *, kind: str) -> M:
    """Validate an evaluator's merged thresholds; a bad value is an EvaluatorError naming the field."""
    try:
        return model.model_validate(dict(thresholds))
    except ValidationError as exc:
        raise EvaluatorError(f"{kind}: invalid thresholds: {describe(exc)}") from exc


def check_known_controls(skip: Collection[str], control_ids: Collection[str]) -> None:
    """``skip_controls`` may only name the evaluator's own controls (raises ValueError)."""
    unknown = sorted(set(skip) - set(control_ids))
    if unknown:
        raise ValueError(f"skip_controls names unknown controls {unknown}; known: {list(control_ids)}")
