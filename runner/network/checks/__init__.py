"""Function checks: rule pack checks written in Python (``kind: function`` in ``rules/<platform>.yml``).

A pattern check cannot follow a reference (a FortiGate policy names an interface whose role is WAN, and
a web filter profile whose category filters block the *Security Risk* group), nor compare a device's
administrators with the list the inventory approves. A function check does, on the same masked parsed
configuration, and reports the same way as the pattern checks (problems with line numbers, a reason
when not_checked), so the rule engine judges, cuts and explains it like any other check.

A function is registered with :func:`check` in a module listed in :data:`MODULES` and receives a
:class:`Context` (the configuration index, the rule's merged params and the check's fixed ``args``); it
returns a :class:`Result`. It never raises on a configuration it does not understand: it says
``not_checked`` with the reason (a configuration without any firewall policy is not a passing one).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runner.network.parse import ConfigNode, ConfigTree
    from runner.network.review import FunctionCheck, ParamValue, _Indexed, _Result

#: modules registering function checks, imported on first use
MODULES: tuple[str, ...] = (
    "runner.network.checks.access",
    "runner.network.checks.fortios_filtering",
)


@dataclass(frozen=True)
class Context:
    """What a function check sees: the configuration (masked, parsed, indexed) and its parameters."""

    index: _Indexed
    params: Mapping[str, ParamValue]
    args: Mapping[str, Any]

    @property
    def tree(self) -> ConfigTree:
        return self.index.tree

    def blocks(self, *scope: str) -> list[ConfigNode]:
        """Blocks matching a scope path (the first regex at any depth, each further one a direct child)."""
        return self.index.blocks(scope)

    def path(self, block: ConfigNode) -> str:
        """The block's path for evidence (``config firewall policy > edit 3``)."""
        return self.index.path(block)

    def nodes(self) -> Iterator[tuple[ConfigNode, str]]:
        """Every line with the path of the block it sits in ("" at top level)."""
        yield from self.index.flat

    def line(self, node: ConfigNode, block: str = "") -> dict[str, Any]:
        """Evidence naming one line: ``{"line": n, "text": ..., "block": ...}``."""
        item: dict[str, Any] = {"line": node.lineno, "text": node.key}
        if block:
            item["block"] = block
        return item

    def result(self) -> _Result:
        """A fresh result (status pass) to fill in."""
        from runner.network.review import _Result

        return _Result()


CheckFn = Callable[[Context], "_Result"]

_REGISTRY: dict[str, CheckFn] = {}
_loaded = False


def check(name: str) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn`` as the function check ``name`` (``kind: function, name: NAME`` in a rule pack)."""

    def register(fn: CheckFn) -> CheckFn:
        if name in _REGISTRY and _REGISTRY[name] is not fn:
            raise ValueError(f"function check {name!r} registered twice")
        _REGISTRY[name] = fn
        return fn

    return register


def registry() -> Mapping[str, CheckFn]:
    global _loaded
    if not _loaded:
        for module in MODULES:
            importlib.import_module(module)
        _loaded = True
    return dict(_REGISTRY)


def run(check_spec: FunctionCheck, index: _Indexed, params: Mapping[str, ParamValue]) -> _Result:
    """Run one function check of a rule; ``reason`` fills in a not_checked result that gave none."""
    fn = registry()[check_spec.name]
    result = fn(Context(index=index, params=params, args=check_spec.args))
    if result.status == "not_checked" and not result.reasons and check_spec.reason:
        result.reasons.append(check_spec.reason)
    return result


def words(value: ParamValue | None) -> Sequence[str]:
    """A list parameter as a list of strings (a single string is a one-item list, None none)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return (str(value),)
