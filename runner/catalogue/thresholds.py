"""Validate a client's threshold overrides against the catalogue.

``maintenance.thresholds.<role>`` in a client's settings overrides the role's thresholds (the role
variables ``<role>_<name>`` without the prefix). :func:`check_thresholds` says, for one role, what is
wrong with such a mapping: an unknown threshold (with the closest names), a value of the wrong type
(``true`` is not an integer; a list threshold needs a list of strings, each one of its choices when it
has any), a value out of range, or a value above the threshold it may not exceed (``not_above``), the
latter judged after merging the role's defaults. The client schema (:mod:`runner.inventory.schema`)
and the ``maint.core.maint_evaluate`` action plugin both use it, so ``maint inventory validate`` and a
plain ``ansible-playbook`` run refuse the same values with the same words.

Only the YAML catalogue is read: no evaluator is imported.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from runner import catalogue
from runner.catalogue.model import RoleSpec, Threshold

__all__ = ["Loc", "check_thresholds", "describe", "key_path", "locate_problems"]

#: where a problem is, below ``maintenance.thresholds``: (role,), (role, name) or (role, name, index)
Loc = tuple[str | int, ...]

_SHOWN_CHOICES = 12


def key_path(loc: Sequence[str | int]) -> str:
    """``("linux_health", "skip_controls", 2)`` -> ``linux_health.skip_controls[2]``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def check_thresholds(role: str, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Problems of ``values`` as overrides of ``role``'s thresholds: ``(key path, expectation)`` pairs.

    The key path starts with the role (``linux_health.fs_warn_pct``, ``linux_health.skip_controls[1]``);
    the expectation says what was expected and what was given (``an integer from 0 to 100, got
    'ninety'``). An empty list means the overrides are valid.
    """
    return [(key_path(loc), message) for loc, message in locate_problems(role, values)]


def locate_problems(role: str, values: Any) -> list[tuple[Loc, str]]:
    """As :func:`check_thresholds`, with each location as a tuple (for pydantic error locations)."""
    spec = catalogue.load().roles.get(role)
    if spec is None:
        known = sorted(catalogue.load().roles)
        return [((role,), f"no thresholds are known for role {role!r}{_did_you_mean(role, known)}")]
    if not isinstance(values, Mapping):
        return [((role,), f"a mapping of threshold name to value, got {_show(values)}")]
    problems: list[tuple[Loc, str]] = []
    valid: dict[str, Any] = {}
    for name, value in values.items():
        key = str(name)
        threshold = spec.thresholds.get(key)
        if threshold is None:
            problems.append(((role, key), _unknown(spec, key)))
            continue
        found = _value_problems(threshold, value)
        if found:
            problems += [((role, key, *sub), message) for sub, message in found]
        else:
            valid[key] = value
    problems += _order_problems(spec, valid)
    return problems


def describe(threshold: Threshold) -> str:
    """What a threshold takes, in words: ``an integer from 0 to 100``, ``a list of strings``."""
    kind = threshold.type
    if kind in ("int", "float"):
        noun = "an integer" if kind == "int" else "a number"
        lo, hi = threshold.min, threshold.max
        if lo is not None and hi is not None:
            return f"{noun} from {_num(lo)} to {_num(hi)}"
        if lo is not None:
            return f"{noun} of {_num(lo)} or more"
        if hi is not None:
            return f"{noun} of at most {_num(hi)}"
        return noun
    if kind == "bool":
        return "true or false"
    if kind == "list":
        if threshold.elements == "dict":
            return "a list of mappings"
        if threshold.choices:
            return f"a list of strings, each one of {_choices(threshold.choices)}"
        return "a list of strings"
    if kind == "str":
        return f"one of {_choices(threshold.choices)}" if threshold.choices else "a string"
    if kind == "map":
        return "a mapping"
    return f"a value of type {kind}"


def _value_problems(threshold: Threshold, value: Any) -> list[tuple[Loc, str]]:
    """What is wrong with one value (type, range, list elements); [] when it fits."""
    expected = describe(threshold)
    kind = threshold.type
    if kind in ("int", "float"):
        is_number = isinstance(value, int) or (kind == "float" and isinstance(value, float))
        if isinstance(value, bool) or not is_number:
            return [((), f"{expected}, got {_show(value)}")]
        if isinstance(value, float) and not math.isfinite(value):
            return [((), f"{expected}, got {_show(value)}")]
        if (threshold.min is not None and value < threshold.min) or (
            threshold.max is not None and value > threshold.max
        ):
            return [((), f"{expected}, got {_show(value)}")]
        return []
    if kind == "bool":
        return [] if isinstance(value, bool) else [((), f"{expected}, got {_show(value)}")]
    if kind == "str":
        choices = threshold.choices
        if not isinstance(value, str) or (choices and value and value not in choices):
            hint = _did_you_mean(value, choices) if isinstance(value, str) else ""
            return [((), f"{expected}, got {_show(value)}{hint}")]
        return []
    if kind == "map":
        return [] if isinstance(value, Mapping) else [((), f"{expected}, got {_show(value)}")]
    if kind == "list":
        if not isinstance(value, list):
            if isinstance(value, str):
                return [((), f"{expected}, got the string {_show(value)} (write [{value}])")]
            return [((), f"{expected}, got {_show(value)}")]
        problems: list[tuple[Loc, str]] = []
        for i, item in enumerate(value):
            if threshold.elements == "dict":
                if not isinstance(item, Mapping):
                    problems.append(((i,), f"a mapping, got {_show(item)}"))
            elif not isinstance(item, str):
                problems.append(((i,), f"a string, got {_show(item)}"))
            elif threshold.choices and item not in threshold.choices:
                hint = _did_you_mean(item, threshold.choices)
                cat = catalogue.load()
                if cat.is_known(item) and cat.control(item).retired:
                    hint = f" (retired: {' '.join(str(cat.control(item).retired).split())})"
                problems.append(((i,), f"one of {_choices(threshold.choices)}, got {_show(item)}{hint}"))
        return problems
    return []


def _order_problems(spec: RoleSpec, valid: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """``not_above`` pairs, on the client's values merged over the role's defaults."""
    merged = {**spec.defaults(), **valid}
    problems: list[tuple[Loc, str]] = []
    for name, threshold in spec.thresholds.items():
        other = threshold.not_above
        if other is None or name not in merged or other not in merged:
            continue
        if name not in valid and other not in valid:
            continue  # the defaults are coherent (the catalogue checks them)
        low, high = merged[name], merged[other]
        if not _is_number(low) or not _is_number(high) or low <= high:
            continue
        if name in valid:
            whose = "" if other in valid else ", its default"
            problems.append(((spec.role, name), f"at most {other} ({_num(high)}{whose}), got {_num(low)}"))
        else:
            problems.append(
                ((spec.role, other), f"at least {name} ({_num(low)}, its default), got {_num(high)}")
            )
    return problems


def _unknown(spec: RoleSpec, name: str) -> str:
    known = list(spec.thresholds)
    if name in spec.options:
        return (
            f"not a threshold: {spec.role}_{name} is a role variable (a collector setting); "
            f"set it in the inventory's group_vars or host_vars instead"
        )
    return f"unknown threshold{_did_you_mean(name, known)}; known: {', '.join(known) or 'none'}"


def _did_you_mean(word: str, candidates: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=2, cutoff=0.7)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


def _choices(choices: Sequence[str]) -> str:
    shown = list(choices[:_SHOWN_CHOICES])
    more = len(choices) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _show(value: Any) -> str:
    """A given value as the client would recognise it: strings quoted, null as null, short."""
    if value is None:
        return "null (nothing)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, int | float):
        text = str(value)
    else:
        try:
            body = json.dumps(value, default=str, ensure_ascii=False)
        except (TypeError, ValueError):
            body = repr(value)
        noun = (
            "a mapping" if isinstance(value, Mapping) else "a list" if isinstance(value, list) else "a value"
        )
        text = f"{noun} {body}"
    return text if len(text) <= 80 else text[:77] + "..."
