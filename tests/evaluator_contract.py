"""Which keys of a Windows collector's JSON an evaluator reads, worked out from the evaluator itself.

- Every field of the evaluator's pydantic raw-shape models (by alias), from the root model down through
  nested model fields; a field typed ``Any`` that holds a list of objects is followed into the model the
  evaluator validates its items with (``items_models``: the binding is declared, every ``Any`` field must be
  declared as items or as a scalar, so a new field cannot slip through unclassified).
- Every key read from a ``dict[str, Any]`` field (``defender.status``, ``wsb.summary`` ...), taken from the
  evaluator's source with :mod:`ast`: ``X.get("K")``, ``X["K"]``, ``"K" in X``, a module helper
  ``f(X, "K")`` whose body does ``param.get(key)``, and ``for k in ("K1", "K2") if k not in X``, where ``X``
  is an attribute chain ending in the field's name or a local name assigned from one.
"""

from __future__ import annotations

import ast
import inspect
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class Contract:
    module: types.ModuleType
    root: type[BaseModel]
    #: dotted path of an ``Any`` field -> the model its list items are validated with
    items_models: Mapping[str, type[BaseModel]] = field(default_factory=dict)
    #: dotted paths of ``Any`` fields that hold a scalar (a date in one of PowerShell's encodings)
    scalars: frozenset[str] = frozenset()
    #: top-level keys the role adds to the collector's object before evaluating (not the script's)
    role_added: frozenset[str] = frozenset()


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        models = [m for a in typing.get_args(annotation) if (m := _model_in(a)) is not None]
        return models[0] if len(models) == 1 else None
    return None


def _is_any_dict(annotation: Any) -> bool:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_is_any_dict(a) for a in typing.get_args(annotation))
    return typing.get_origin(annotation) is dict and typing.get_args(annotation) == (str, Any)


def read_paths(contract: Contract) -> tuple[set[str], list[str]]:
    """(dotted paths the evaluator reads, problems in the contract declaration)."""
    dict_keys = dict_reads(contract.module)
    out: set[str] = set()
    problems: list[str] = []

    def visit(model: type[BaseModel], prefix: str) -> None:
        for name, info in model.model_fields.items():
            key = info.alias or name
            path = prefix + key
            if key in contract.role_added and not prefix:
                continue
            out.add(path)
            annotation = info.annotation
            nested = _model_in(annotation)
            if nested is not None:
                visit(nested, path + ".")
            elif _is_any_dict(annotation):
                keys = dict_keys.get(name, set())
                if not keys:
                    problems.append(f"{path}: dict field, but no key read from it was found in the source")
                out.update(f"{path}.{k}" for k in keys)
            elif annotation is Any:
                if path in contract.items_models:
                    visit(contract.items_models[path], path + ".")
                elif path not in contract.scalars:
                    problems.append(f"{path}: Any field declared neither as items nor as a scalar")

    visit(contract.root, "")
    for path in (*contract.items_models, *contract.scalars):
        if path not in out:
            problems.append(f"{path}: declared in the contract but not a field of {contract.root.__name__}")
    return out, problems


def dict_reads(module: types.ModuleType) -> dict[str, set[str]]:
    """Field name -> the string keys the module's code reads from a value reached as ``<...>.<field>``."""
    tree = ast.parse(inspect.getsource(module))
    helpers = _key_helpers(tree)
    reads: dict[str, set[str]] = {}
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        aliases: dict[str, str] = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Attribute):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        aliases[target.id] = node.value.attr

        def field_of(expr: ast.expr, aliases: dict[str, str] = aliases) -> str | None:
            if isinstance(expr, ast.Attribute):
                return expr.attr
            if isinstance(expr, ast.Name):
                return aliases.get(expr.id)
            return None

        def add(expr: ast.expr, key: ast.expr) -> None:
            name = field_of(expr)
            if name is not None and isinstance(key, ast.Constant) and isinstance(key.value, str):
                reads.setdefault(name, set()).add(key.value)

        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and node.args
            ):
                add(node.func.value, node.args[0])
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in helpers:
                mapping_at, key_at = helpers[node.func.id]
                if len(node.args) > max(mapping_at, key_at):
                    add(node.args[mapping_at], node.args[key_at])
            if isinstance(node, ast.Subscript):
                add(node.value, node.slice)
            if (
                isinstance(node, ast.Compare)
                and len(node.ops) == 1
                and isinstance(node.ops[0], ast.In | ast.NotIn)
            ):
                add(node.comparators[0], node.left)
            if isinstance(node, ast.comprehension) and isinstance(node.iter, ast.Tuple | ast.List):
                for cond in node.ifs:
                    if isinstance(cond, ast.Compare) and isinstance(cond.ops[0], ast.In | ast.NotIn):
                        for element in node.iter.elts:
                            add(cond.comparators[0], element)
    return reads


def _key_helpers(tree: ast.Module) -> dict[str, tuple[int, int]]:
    """Module functions ``f(mapping, key)`` whose body reads ``mapping.get(key)``: name -> arg positions."""
    helpers: dict[str, tuple[int, int]] = {}
    for function in tree.body:
        if not isinstance(function, ast.FunctionDef):
            continue
        params = [a.arg for a in function.args.args]
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and isinstance(node.func.value, ast.Name)
                and node.args
                and isinstance(node.args[0], ast.Name)
                and node.func.value.id in params
                and node.args[0].id in params
            ):
                helpers[function.name] = (params.index(node.func.value.id), params.index(node.args[0].id))
    return helpers
