"""Static reading of the repository's PowerShell with a real PowerShell grammar (tree-sitter-powershell).

No Windows host and no PowerShell exist where the tests run, so the collectors are checked without running
them: every file must parse without an ``ERROR`` or ``MISSING`` node, and :func:`emitted_paths` works out,
from the syntax tree alone, which property names a collector's JSON can carry (``a.b.c`` dotted paths, list
levels transparent, as the evaluators see them after ``as_list``).

The shape analysis understands exactly the constructs the collectors use, and over-approximates (a name
assigned twice in a script gets the union of both shapes):

- ``[ordered]@{...}``, ``[pscustomobject]@{...}`` and ``@{...}`` literals, nested, as objects;
- ``$v = ...`` / ``$v += ...`` (the union of every assignment), ``$v.key = ...`` and ``$v[$k] = ...`` where
  ``$k`` is the variable of an enclosing ``foreach ($k in $list)`` over a literal list of strings;
- ``@( ... )`` and ``a, b`` arrays (a list of objects has the keys of its elements);
- pipelines: the last command decides: ``ForEach-Object { ... }`` gives what its block outputs,
  ``Select-Object -Property 'A', 'B'`` gives objects with those keys, ``Where-Object``, ``Sort-Object`` and
  ``Select-Object -First N`` pass their input through, anything else is a scalar;
- the object the script prints is the variable piped to ``ConvertTo-Json``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import tree_sitter
import tree_sitter_powershell

LANGUAGE = tree_sitter.Language(tree_sitter_powershell.language())

#: a JSON object's keys, each with the shape of its value ({} for a scalar or anything not an object)
Shape = dict[str, "Shape"]

_WRAPPERS = frozenset(
    {
        "pipeline",
        "pipeline_chain",
        "logical_expression",
        "bitwise_expression",
        "comparison_expression",
        "additive_expression",
        "multiplicative_expression",
        "format_expression",
        "range_expression",
        "array_literal_expression",
        "unary_expression",
        "expression_with_unary_operator",
        "left_assignment_expression",
        "parenthesized_expression",
        "sub_expression",
        "statement_list",
        "key_expression",
    }
)
_OBJECT_CASTS = frozenset({"ordered", "pscustomobject", "hashtable"})
_PASS_THROUGH = frozenset({"where-object", "?", "where", "sort-object", "sort"})
_SELECT_SHAPE_KEEPING = frozenset({"-first", "-last", "-skip", "-unique", "-index"})


def parse(source: bytes) -> tree_sitter.Tree:
    return tree_sitter.Parser(LANGUAGE).parse(source)


@dataclass(frozen=True)
class SyntaxProblem:
    kind: str  # ERROR or MISSING
    line: int  # 1-based
    column: int  # 1-based
    text: str

    def where(self, path: str) -> str:
        return f"{path}:{self.line}:{self.column}: {self.kind} node at {self.text!r}"


def syntax_problems(source: bytes) -> list[SyntaxProblem]:
    """Every ERROR and MISSING node of the tree, in source order."""
    problems = []
    for node in _walk(parse(source).root_node):
        if node.type == "ERROR" or node.is_missing:
            row, col = node.start_point
            text = source[node.start_byte : node.end_byte].decode(errors="replace")
            kind = "MISSING" if node.is_missing else "ERROR"
            problems.append(SyntaxProblem(kind, row + 1, col + 1, (text or node.type)[:60]))
    return problems


def _walk(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    yield node
    for child in node.children:
        yield from _walk(child)


def _named(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    return [c for c in node.named_children if c.type != "comment"]


def _text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode()


def _core(node: tree_sitter.Node) -> tree_sitter.Node:
    """The node that means something, below the grammar's chain of one-child precedence levels."""
    while node.type in _WRAPPERS:
        children = _named(node)
        if len(children) != 1:
            break
        node = children[0]
    return node


def _var_name(node: tree_sitter.Node) -> str:
    return _text(node).lstrip("$").lower()


def _string_value(node: tree_sitter.Node) -> str | None:
    """The value of a quoted string literal without expansions, or None."""
    node = _core(node)
    if node.type != "string_literal":
        return None
    text = _text(node)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" and "$" not in text:
        return text[1:-1]
    return None


def merge(a: Shape, b: Shape) -> Shape:
    out = dict(a)
    for key, sub in b.items():
        out[key] = merge(out[key], sub) if key in out else sub
    return out


def paths(shape: Shape, prefix: str = "") -> set[str]:
    """The dotted paths of every key of a shape."""
    out: set[str] = set()
    for key, sub in shape.items():
        out.add(prefix + key)
        out |= paths(sub, prefix + key + ".")
    return out


@dataclass
class _Script:
    root: tree_sitter.Node
    assignments: dict[str, list[tuple[str | None, tree_sitter.Node]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for node in _walk(self.root):
            if node.type == "assignment_expression":
                self._record(node)

    def _record(self, node: tree_sitter.Node) -> None:
        left, value = node.child_by_field_name("left"), node.child_by_field_name("value")
        children = _named(node)
        left = left or children[0]
        value = value or children[-1]
        target = _core(left)
        if target.type == "variable":
            self.assignments.setdefault(_var_name(target), []).append((None, value))
        elif target.type == "member_access":
            parts = _named(target)
            if parts[0].type == "variable" and parts[-1].type == "member_name":
                self.assignments.setdefault(_var_name(parts[0]), []).append((_text(parts[-1]), value))
        elif target.type == "element_access":
            parts = _named(target)
            if parts[0].type == "variable":
                for key in self._keys_of_index(target, _core(parts[1])):
                    self.assignments.setdefault(_var_name(parts[0]), []).append((key, value))

    def _keys_of_index(self, at: tree_sitter.Node, index: tree_sitter.Node) -> list[str]:
        literal = _string_value(index)
        if literal is not None:
            return [literal]
        if index.type != "variable":
            return []
        loop = at.parent
        while loop is not None:
            if loop.type == "foreach_statement":
                parts = _named(loop)
                if _var_name(parts[0]) == _var_name(index):
                    return self._string_list(_core(parts[1]))
            loop = loop.parent
        return []

    def _string_list(self, node: tree_sitter.Node) -> list[str]:
        """The strings of a literal list, directly or through the variables it was assigned to."""
        node = _core(node)
        if node.type == "variable":
            out: list[str] = []
            for key, value in self.assignments.get(_var_name(node), []):
                if key is None:
                    out += self._string_list(value)
            return out
        if node.type == "array_expression":
            return [s for child in _named(node) for s in self._string_list(child)]
        if node.type in ("array_literal_expression", "statement_list", "pipeline"):
            return [s for child in _named(node) for s in self._string_list(child)]
        value = _string_value(node)
        return [] if value is None else [value]

    def variable(self, name: str, visiting: frozenset[str]) -> Shape:
        if name in visiting:
            return {}
        shape: Shape = {}
        for key, value in self.assignments.get(name, []):
            sub = self.value(value, visiting | {name})
            shape = merge(shape, sub if key is None else {key: sub})
        return shape

    def value(self, node: tree_sitter.Node, visiting: frozenset[str] = frozenset()) -> Shape:
        node = _core(node)
        kind = node.type
        if kind == "cast_expression":
            parts = _named(node)
            cast = _text(parts[0]).strip("[] ").lower()
            return self.value(parts[-1], visiting) if cast in _OBJECT_CASTS else {}
        if kind == "hash_literal_expression":
            shape: Shape = {}
            for entry in _walk(node):
                if entry.type == "hash_entry" and _enclosing_hash(entry) == node:
                    key_node, value_node = _named(entry)[0], _named(entry)[-1]
                    key = _string_value(key_node) or _text(key_node)
                    shape = merge(shape, {key: self.value(value_node, visiting)})
            return shape
        if kind == "variable":
            return self.variable(_var_name(node), visiting)
        if kind in ("array_expression", "array_literal_expression", "statement_list"):
            shape = {}
            for child in _named(node):
                shape = merge(shape, self.value(child, visiting))
            return shape
        if kind in ("pipeline_chain", "pipeline", "command"):
            return self._pipeline(node, visiting)
        return {}

    def _pipeline(self, node: tree_sitter.Node, visiting: frozenset[str]) -> Shape:
        elements = [node] if node.type == "command" else _named(node)
        for position in range(len(elements) - 1, -1, -1):
            element = elements[position]
            if element.type != "command":
                return self.value(element, visiting)
            name_node = element.child_by_field_name("command_name") or _named(element)[0]
            name = _text(name_node).lower()
            args = [c for c in _walk(element) if c.parent is not None and c.parent.type == "command_elements"]
            if name in ("foreach-object", "%", "foreach"):
                blocks = [c for c in _walk(element) if c.type == "script_block"]
                return self._block_output(blocks[0], visiting) if blocks else {}
            if name in _PASS_THROUGH:
                continue
            if name in ("select-object", "select"):
                params = {_text(a).lower() for a in args if a.type == "command_parameter"}
                if params & _SELECT_SHAPE_KEEPING and "-property" not in params:
                    continue
                keys: list[str] = []
                for arg in args:
                    if arg.type != "command_parameter" and arg.type != "command_argument_sep":
                        keys += self._string_list(arg)
                return {key: {} for key in keys}
            return {}
        return {}

    def _block_output(self, block: tree_sitter.Node, visiting: frozenset[str]) -> Shape:
        """What a script block writes to the pipeline: its statements that are not assignments."""
        body = next((c for c in _walk(block) if c.type == "statement_list"), None)
        shape: Shape = {}
        for statement in _named(body) if body is not None else []:
            if statement.type == "pipeline" and not any(
                c.type == "assignment_expression" for c in _named(statement)
            ):
                shape = merge(shape, self.value(statement, visiting))
        return shape


def _enclosing_hash(node: tree_sitter.Node) -> tree_sitter.Node | None:
    parent = node.parent
    while parent is not None and parent.type != "hash_literal_expression":
        parent = parent.parent
    return parent


def emitted_shape(source: bytes) -> Shape:
    """The shape of the object the script pipes to ``ConvertTo-Json`` (the union if it does so twice)."""
    tree = parse(source)
    script = _Script(tree.root_node)
    shape: Shape = {}
    found = False
    for node in _walk(tree.root_node):
        if node.type == "command" and _text(_named(node)[0]).lower() == "convertto-json":
            chain = node.parent
            assert chain is not None
            first = _named(chain)[0]
            if first is not node:
                found = True
                shape = merge(shape, script.value(first))
    if not found:
        raise ValueError("no `<object> | ConvertTo-Json` pipeline in the script")
    return shape


def emitted_paths(path: Path) -> set[str]:
    return paths(emitted_shape(path.read_bytes()))
