"""Parse a configuration into a hierarchy of blocks that keeps every line as written.

How a platform nests is its driver's ``structure``. IOS, AOS-CX and AOS-S are indentation-structured
(``indented``): a line owns the following lines indented deeper than itself. Banners (``banner motd ^C
... ^C``) own their body whatever its indentation, so a banner's text is never mistaken for configuration.
FortiOS is keyword-structured (``config_edit``): ``config`` / ``edit`` open a block, ``next`` / ``end``
close it (kept as the block's ``end_line``); a quoted value that spans lines (certificates, comments)
stays one node.

Why not hier_config or ciscoconfparse2: hier_config rebuilds the text (drops ``!`` comments and
banner bodies, re-indents), so it cannot reproduce the configuration or point evidence at a line
number; ciscoconfparse2 keeps the text but is GPL-3.0 (this product is shipped to MSPs) and
brings a large dependency tree for the few queries the rule engine needs; neither knows all four
platforms' block syntax (AOS-S ``exit``, FortiOS ``edit``/``next``). The parser here is ~150 lines,
keeps every line (``tree.text() == text``) and its line number, and is what the benchmark times.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from runner.network.platforms import Platform, driver


@dataclass(frozen=True, slots=True)
class ConfigNode:
    """One line of configuration and the block it opens (``children``)."""

    line: str  # as written, indentation included
    lineno: int  # 1-based, in the parsed text (or as given to :func:`parse`)
    children: tuple[ConfigNode, ...] = ()
    end_line: str | None = None  # FortiOS ``next`` / ``end``, banner closing delimiter
    end_lineno: int | None = None
    #: the children are free text (a banner's body), not configuration
    verbatim: bool = False

    @property
    def key(self) -> str:
        """The line without indentation: what rules match against."""
        return self.line.strip()

    def descendants(self) -> Iterator[ConfigNode]:
        for child in self.children:
            yield child
            yield from child.descendants()

    def lines(self) -> Iterator[str]:
        yield self.line
        for child in self.children:
            yield from child.lines()
        if self.end_line is not None:
            yield self.end_line


@dataclass(frozen=True, slots=True)
class ConfigTree:
    platform: Platform
    children: tuple[ConfigNode, ...]

    def lines(self) -> Iterator[str]:
        for child in self.children:
            yield from child.lines()

    def text(self) -> str:
        """The configuration text again: ``parse(p, t).text() == t`` for text ending in a newline."""
        out = "\n".join(self.lines())
        return out + "\n" if out else ""

    def walk(self) -> Iterator[ConfigNode]:
        """Every node, depth first, in file order."""
        for child in self.children:
            yield child
            yield from child.descendants()

    def blocks(self, scope: Sequence[re.Pattern[str]]) -> list[ConfigNode]:
        """Nodes matching a scope path: the first pattern at any depth, each further one a direct child."""
        if not scope:
            return []
        found = [node for node in self.walk() if scope[0].search(node.key)]
        for pattern in scope[1:]:
            found = [child for node in found for child in node.children if pattern.search(child.key)]
        return found


@dataclass
class _Builder:
    line: str
    lineno: int
    indent: int
    kind: str = ""  # "config" / "edit" for FortiOS, "banner" for banners
    children: list[_Builder] = field(default_factory=list)
    end_line: str | None = None
    end_lineno: int | None = None

    def freeze(self, numbers: tuple[int, ...] | None = None) -> ConfigNode:
        def number(lineno: int) -> int:
            return lineno if numbers is None else numbers[lineno - 1]

        return ConfigNode(
            line=self.line,
            lineno=number(self.lineno),
            children=tuple(child.freeze(numbers) for child in self.children),
            end_line=self.end_line,
            end_lineno=None if self.end_lineno is None else number(self.end_lineno),
            verbatim=self.kind == "banner",
        )


_BANNER = re.compile(r"^banner\s+\S+\s+(?P<delim>\^C|\x03|\S)(?P<rest>.*)$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _open_quotes(line: str) -> bool:
    """True when ``line`` leaves a double-quoted FortiOS value open (odd unescaped quotes)."""
    return len(re.findall(r'(?<!\\)"', line)) % 2 == 1


def _parse_indented(lines: list[str]) -> list[_Builder]:
    root = _Builder("", 0, -1)
    stack = [root]
    banner: _Builder | None = None
    delim = ""
    for lineno, line in enumerate(lines, start=1):
        if banner is not None:
            if delim in line:
                banner.end_line, banner.end_lineno = line, lineno
                banner = None
            else:
                banner.children.append(_Builder(line, lineno, 0))
            continue
        key = line.strip()
        if not key:
            stack[-1].children.append(_Builder(line, lineno, _indent(line)))
            continue
        indent = _indent(line)
        while stack[-1].indent >= indent:
            stack.pop()
        node = _Builder(line, lineno, indent)
        stack[-1].children.append(node)
        stack.append(node)
        match = _BANNER.match(key)
        if match and indent == 0:
            delim = match.group("delim")
            rest = match.group("rest")
            if delim == '"' and not _open_quotes(line):
                continue
            if delim not in rest:
                node.kind, banner = "banner", node
    return root.children


def _parse_config_edit(lines: list[str]) -> list[_Builder]:
    root = _Builder("", 0, -1, kind="root")
    stack = [root]
    continuation: _Builder | None = None
    for lineno, line in enumerate(lines, start=1):
        if continuation is not None:
            continuation.children.append(_Builder(line, lineno, 0))
            if _open_quotes(line):
                continuation = None
            continue
        key = line.strip()
        indent = _indent(line)
        # a block left open (a fragment without ``end``) closes when a line is not indented under
        # it; only blocks whose content was indented, since multi-VDOM output nests
        # ``config vdom`` / ``edit root`` / ``config ...`` without indentation
        while (
            key
            and len(stack) > 1
            and indent <= stack[-1].indent
            and key not in ("next", "end")
            and any(child.indent > stack[-1].indent for child in stack[-1].children)
        ):
            stack.pop()
        top = stack[-1]
        if key.startswith("config ") or key.startswith("edit "):
            node = _Builder(line, lineno, indent, kind=key.split(" ", 1)[0])
            top.children.append(node)
            stack.append(node)
        elif (key == "next" and top.kind == "edit") or (key == "end" and top.kind == "config"):
            top.end_line, top.end_lineno = line, lineno
            stack.pop()
        elif key == "end" and top.kind == "edit" and len(stack) > 2 and stack[-2].kind == "config":
            stack.pop()  # ``next`` missing before ``end``: the edit closes with its config
            stack[-1].end_line, stack[-1].end_lineno = line, lineno
            stack.pop()
        else:
            node = _Builder(line, lineno, indent)
            top.children.append(node)
            if _open_quotes(line):
                continuation = node
    return root.children


def parse(platform: Platform, text: str, *, linenos: Sequence[int] | None = None) -> ConfigTree:
    """The block hierarchy of ``text`` (best read after :func:`~runner.network.normalise`).

    ``linenos``: the line number to give each line of ``text`` (e.g. its line in the file as
    given, before normalising dropped lines); default: its position in ``text``.
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if linenos is not None and len(linenos) < len(lines):
        raise ValueError(f"parse: {len(linenos)} line numbers for {len(lines)} lines")
    structured = _parse_config_edit if driver(platform).structure == "config_edit" else _parse_indented
    builders = structured(lines)
    numbers = None if linenos is None else tuple(linenos)
    return ConfigTree(platform=platform, children=tuple(b.freeze(numbers) for b in builders))
