"""Jinja templates in inventory values: which ones exist, and which ones run code on the controller.

Ansible templates every inventory value when a play uses it, on the controller, as the user who runs
``maint``. A value such as ``"{{ lookup('pipe', 'id') }}"`` in a host variable is therefore a shell for
whoever can merge an inventory change. :func:`has_template` tells a templated value from a literal
one (client settings must be literal); :func:`controller_risks` names what in a template reaches
outside the inventory: ``lookup`` / ``query`` / ``q`` (any plugin: ``pipe`` runs commands, ``file`` and
``env`` read the controller's files and environment), filters or tests named like command runners,
attributes of Python internals (``__class__``, ``__globals__``…) and ``include`` / ``import`` of other
templates. The template is parsed with Jinja's own parser; one that does not parse is searched with
patterns instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

#: how a template starts (``{#`` comments produce nothing)
TEMPLATE_MARKERS = ("{{", "{%")
#: functions that run a lookup plugin on the controller
LOOKUP_CALLS = frozenset({"lookup", "query", "q"})
#: names that read or run things on the controller, as a lookup plugin, filter, test or function
CONTROLLER_NAMES = frozenset(
    {
        "pipe",
        "env",
        "file",
        "fileglob",
        "first_found",
        "template",
        "password",
        "url",
        "shell",
        "command",
        "popen",
        "system",
        "subprocess",
        "eval",
        "exec",
        "open",
        "import_module",
        "__import__",
    }
)

_FALLBACK = (
    (re.compile(r"\b(lookup|query|q)\s*\("), "calls {0}()"),
    (re.compile(r"__\w+__"), "reaches Python internals ({0})"),
    (
        re.compile(
            r"\|\s*(?:[a-z_]+\.)*("
            + "|".join(sorted(n for n in CONTROLLER_NAMES if n.isidentifier()))
            + r")\b"
        ),
        "uses {0}",
    ),
    (re.compile(r"\{%-?\s*(include|import|from|extends)\b"), "{0} of another template"),
)


def has_template(value: str) -> bool:
    """Whether Ansible would template ``value`` (it holds ``{{`` or ``{%``)."""
    return any(marker in value for marker in TEMPLATE_MARKERS)


@cache
def _environment() -> Any:
    from jinja2 import Environment

    return Environment(autoescape=False)  # noqa: S701 - parsed only, never rendered


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _ast_risks(template: Any) -> Iterator[str]:
    from jinja2 import nodes

    for node in template.find_all(nodes.Node):
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name):
            name = node.node.name
            if name in LOOKUP_CALLS:
                first = node.args[0] if node.args else None
                plugin = first.value if isinstance(first, nodes.Const) else None
                yield f"calls {name}({plugin!r})" if isinstance(plugin, str) else f"calls {name}()"
            elif _last(name) in CONTROLLER_NAMES:
                yield f"calls {name}()"
        elif isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr):
            if node.node.attr in CONTROLLER_NAMES:
                yield f"calls .{node.node.attr}()"
        elif isinstance(node, nodes.Filter | nodes.Test) and node.name is not None:
            if _last(node.name) in CONTROLLER_NAMES or _last(node.name) in LOOKUP_CALLS:
                kind = "filter" if isinstance(node, nodes.Filter) else "test"
                yield f"uses the {node.name} {kind}"
            if _last(node.name) == "attr" and any(
                isinstance(a, nodes.Const) and str(a.value).startswith("_") for a in node.args
            ):
                yield "reaches Python internals (attr)"
        elif isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            yield f"reaches Python internals ({node.attr})"
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str)
            and node.arg.value.startswith("__")
        ):
            yield f"reaches Python internals ({node.arg.value})"
        elif isinstance(node, nodes.Name) and node.name.startswith("__"):
            yield f"reaches Python internals ({node.name})"
        elif isinstance(node, nodes.Include | nodes.Import | nodes.FromImport | nodes.Extends):
            yield f"{type(node).__name__.lower()} of another template"


def controller_risks(value: str) -> list[str]:
    """What in the template ``value`` reaches outside the inventory (empty for a harmless one)."""
    if not has_template(value):
        return []
    from jinja2 import TemplateSyntaxError

    try:
        found = list(_ast_risks(_environment().parse(value)))
    except (TemplateSyntaxError, RecursionError, ValueError):
        found = [
            message.format(match.group(1) if match.groups() else match.group(0))
            for pattern, message in _FALLBACK
            for match in pattern.finditer(value)
        ]
        if found:
            found.append("the template does not parse")
    return list(dict.fromkeys(found))


def shown(value: str, limit: int = 160) -> str:
    """A template as a report shows it: one line, cut at ``limit`` characters."""
    text = " ".join(value.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
