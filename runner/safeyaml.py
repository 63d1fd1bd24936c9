"""Bounded, strict YAML for everything users hand the runner (inventories, vars files, saved outputs).

:func:`load` parses one document with the safe loader (libyaml when available) after a streaming pass
over the parser's events that refuses, with the key path and line of the offending value:

- a document larger than :data:`MAX_BYTES` (checked before anything is parsed);
- nesting deeper than :data:`MAX_DEPTH` (so nothing later recurses into a stack overflow);
- more than :data:`MAX_NODES` values once aliases are expanded (the "billion laughs" alias bomb: nine
  anchors of nine aliases each are 81 aliases in the text and 387 million values for whoever walks
  the data), and an alias to one of its own ancestors (a recursive structure);
- a key that appears twice in one mapping (Ansible keeps the last silently), naming both lines;
- an integer of more than :data:`MAX_INT_DIGITS` digits and a date or time that does not exist
  (``2026-02-30``): PyYAML raises a bare ``ValueError`` for those, which used to escape as a traceback.

Every refusal is a :class:`YAMLInputError` (a ``ValueError``) whose ``where`` is a key path such as
``maintenance.blackout.dates[0]`` when there is one, else ``line L, column C``. Ansible's ``!vault``
(kept opaque as :class:`VaultValue`) and ``!unsafe`` (kept as :class:`UnsafeText` for scalars) tags are
understood.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

#: largest YAML document read, in bytes (a hosts.yml of 10,000 hosts with a few variables each is about
#: 1 MB; parsing 2 MiB takes a few seconds, 20 MB took 86 s and 1.2 GB)
MAX_BYTES = 2 * 1024 * 1024
#: deepest nesting of mappings and sequences
MAX_DEPTH = 64
#: most values (scalars and collections) in a document after alias expansion
MAX_NODES = 1_000_000
#: longest integer, in decimal digits (a 64-bit value has 20)
MAX_INT_DIGITS = 100

_MIB = 1024 * 1024
_INT_TAG = "tag:yaml.org,2002:int"
_CHECKED_TAGS = (_INT_TAG, "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp")
_MERGE_TAG = "tag:yaml.org,2002:merge"


class YAMLInputError(ValueError):
    """A YAML document the runner refuses: what is wrong and where (key path, else line and column)."""

    def __init__(self, message: str, *, key: str = "", line: int | None = None, column: int | None = None):
        self.message = message
        self.key = key
        self.line = line
        self.column = column
        super().__init__(str(self))

    @property
    def where(self) -> str:
        if self.key:
            return self.key
        if self.line is not None:
            return f"line {self.line}" + (f", column {self.column}" if self.column is not None else "")
        return ""

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class YAMLSyntaxError(YAMLInputError):
    """Not YAML at all (the parser's own complaint)."""


class YAMLLimitError(YAMLInputError):
    """Too large, too deep or too many values after alias expansion: refused before it costs memory."""


class TooLargeError(YAMLLimitError):
    """A file larger than its reader's limit (:func:`read_limited`): nothing of it was parsed."""


class DuplicateKeyError(YAMLInputError):
    """One mapping holds the same key twice."""


class BadScalarError(YAMLInputError):
    """A value of a recognised type that cannot exist: ``2026-02-30``, an integer of 5,000 digits."""


class VaultValue(str):
    """An inline ``!vault`` value: kept opaque, never decrypted for validation."""

    __slots__ = ()


class UnsafeText(str):
    """A scalar tagged ``!unsafe``: Ansible never templates it, so braces in it are plain text."""

    __slots__ = ()


_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """The safe loader (libyaml when available) with Ansible's ``!vault`` and ``!unsafe`` tags."""


def _vault(loader: yaml.SafeLoader, node: yaml.Node) -> VaultValue:
    return VaultValue(loader.construct_scalar(node))  # type: ignore[arg-type]


def _unsafe(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return UnsafeText(loader.construct_scalar(node))
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_Loader.add_constructor("!vault", _vault)
_Loader.add_constructor("!unsafe", _unsafe)

_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


@dataclass
class _Frame:
    """One open mapping or sequence during the event pass."""

    path: str
    mapping: bool
    anchor: str | None
    nodes: int = 1  # this collection plus everything under it, aliases expanded
    index: int = 0  # items seen (a mapping counts keys and values)
    key: str = ""  # a mapping's current key, as shown in key paths
    keys: dict[tuple[str, str], int] = field(default_factory=dict)  # (tag, value) -> line


def _child_path(frame: _Frame | None) -> str:
    if frame is None:
        return ""
    if frame.mapping:
        return f"{frame.path}.{frame.key}" if frame.path else frame.key
    return f"{frame.path}[{frame.index}]"


def _short(path: str) -> str:
    return path if len(path) <= 80 else path[:77] + "..."


def _line(event: Any) -> int | None:
    mark = getattr(event, "start_mark", None)
    return mark.line + 1 if mark is not None else None


def _scalar_tag(event: yaml.ScalarEvent) -> str:
    if event.tag and event.tag != "!":
        return str(event.tag)
    return str(_RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit))  # type: ignore[no-untyped-call]


def _check_scalar(tag: str, event: yaml.ScalarEvent, where: str) -> None:
    line = _line(event)
    shown = event.value if len(event.value) <= 40 else event.value[:37] + "..."
    if tag == _INT_TAG:
        digits = sum(c.isdigit() for c in event.value)
        if digits > MAX_INT_DIGITS:
            raise BadScalarError(
                f"an integer of {digits} digits (at most {MAX_INT_DIGITS}); quote it if it is text "
                f"(line {line})",
                key=where,
                line=line,
            )
    node = yaml.ScalarNode(tag, event.value, None, None)
    try:
        value = _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, node)
    except (ValueError, OverflowError) as exc:
        kind = {"tag:yaml.org,2002:timestamp": "date or time"}.get(tag, tag.rsplit(":", 1)[-1])
        raise BadScalarError(
            f"not a valid {kind}: {shown!r} ({exc}); quote it if it is text (line {line})",
            key=where,
            line=line,
        ) from None
    if isinstance(value, int) and value.bit_length() > MAX_INT_DIGITS * 4:  # 0x/0b forms skip digit checks
        raise BadScalarError(
            f"an integer of more than {MAX_INT_DIGITS} digits; quote it if it is text (line {line})",
            key=where,
            line=line,
        )


def _events(text: str) -> Iterator[Any]:
    try:
        yield from yaml.parse(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise _syntax(exc) from None


def _syntax(exc: yaml.YAMLError) -> YAMLSyntaxError:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return YAMLSyntaxError(
        f"not valid YAML: {problem}",
        line=mark.line + 1 if mark is not None else None,
        column=mark.column + 1 if mark is not None else None,
    )


def check(text: str) -> None:
    """Raise :class:`YAMLInputError` when ``text`` breaks a limit or a rule of this module."""
    length = len(text.encode("utf-8", errors="surrogatepass"))
    if length > MAX_BYTES:
        raise TooLargeError(f"document of {length / _MIB:.1f} MiB, larger than the {_size(MAX_BYTES)} limit")
    anchors: dict[str, int | None] = {}  # None while the anchored collection is still open
    stack: list[_Frame] = []

    def add(nodes: int, event: Any, where: str) -> None:
        if not stack:
            return
        top = stack[-1]
        top.nodes += nodes
        top.index += 1
        if top.nodes > MAX_NODES:
            raise YAMLLimitError(
                f"more than {MAX_NODES:,} values once aliases are expanded (an alias bomb?)",
                key=top.path,
                line=_line(event),
            )

    for event in _events(text):
        if isinstance(event, yaml.DocumentStartEvent):
            anchors.clear()
            continue
        if not isinstance(event, yaml.NodeEvent | yaml.CollectionEndEvent):
            continue
        top = stack[-1] if stack else None
        is_key = top is not None and top.mapping and top.index % 2 == 0
        where = top.path if is_key and top is not None else _child_path(top)
        if isinstance(event, yaml.ScalarEvent):
            tag = _scalar_tag(event)
            if tag in _CHECKED_TAGS:
                _check_scalar(tag, event, where)
            if is_key and top is not None:
                line = _line(event) or 0
                ident = (tag, event.value)
                if tag != _MERGE_TAG and ident in top.keys:
                    raise DuplicateKeyError(
                        f"duplicate key {event.value!r} on line {line} (first on line {top.keys[ident]})",
                        key=top.path,
                        line=line,
                    )
                top.keys[ident] = line
                top.key = event.value
            if event.anchor:
                anchors[event.anchor] = 1
            add(1, event, where)
        elif isinstance(event, yaml.AliasEvent):
            size: int | None = anchors.get(event.anchor or "", 0)
            if size is None:
                raise YAMLLimitError(
                    f"alias *{event.anchor} refers to a collection that contains it (a recursive structure)",
                    key=where,
                    line=_line(event),
                )
            if size == 0:
                raise YAMLSyntaxError(f"not valid YAML: undefined alias *{event.anchor}", line=_line(event))
            if is_key and top is not None:
                top.key = f"*{event.anchor}"
            add(size, event, where)
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise YAMLLimitError(
                    f"nested more than {MAX_DEPTH} levels deep", key=_short(where), line=_line(event)
                )
            if event.anchor:
                anchors[event.anchor] = None
            path = where if not is_key else (f"{where}.?" if where else "?")
            stack.append(_Frame(path, isinstance(event, yaml.MappingStartEvent), event.anchor))
        else:  # the end of a collection
            done = stack.pop()
            if done.anchor:
                anchors[done.anchor] = done.nodes
            if stack and stack[-1].mapping and stack[-1].index % 2 == 0:
                stack[-1].key = "?"  # a collection used as a key
            add(done.nodes, event, done.path)


def load(text: str) -> Any:
    """Parse one YAML document after :func:`check`; ``None`` for an empty one."""
    check(text)
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        raise _syntax(exc) from None
    except (ValueError, OverflowError, RecursionError) as exc:  # a constructor the event pass did not foresee
        raise BadScalarError(f"cannot be read: {exc}") from None
    finally:
        loader.dispose()


def read_limited(path: Path, limit: int, what: str = "file") -> bytes:
    """At most ``limit`` bytes of ``path``; :class:`TooLargeError` when there are more (``/dev/zero``)."""
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise TooLargeError(f"{what} larger than the {_size(limit)} limit")
    return data


def _size(limit: int) -> str:
    return f"{limit // _MIB} MiB" if limit >= _MIB else f"{limit} bytes"


def load_file(path: Path) -> Any:
    """Read (at most :data:`MAX_BYTES`) and parse one YAML file. ``OSError`` when it cannot be read."""
    data = read_limited(path, MAX_BYTES, "document")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YAMLInputError(f"not UTF-8 text (byte {exc.start})") from None
    return load(text)


def depth_exceeds(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether parsed data (JSON, YAML) nests deeper than ``limit``; iterative, so it never recurses."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "MAX_NODES",
    "BadScalarError",
    "DuplicateKeyError",
    "TooLargeError",
    "UnsafeText",
    "VaultValue",
    "YAMLInputError",
    "YAMLLimitError",
    "YAMLSyntaxError",
    "check",
    "depth_exceeds",
    "load",
    "load_file",
    "read_limited",
]
