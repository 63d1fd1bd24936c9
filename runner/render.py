"""The one Jinja2 environment the Markdown and HTML reports render with (templates in ``runner/templates/``).

- ``*.html.j2`` templates are autoescaped; ``*.md.j2`` are not (Markdown is text: its cells are escaped
  by the ``cell`` filter, code by ``code``); any other name is autoescaped too.
- Undefined names fail (``StrictUndefined``): a typo in a template is an error, never an empty cell.
- Block tags take their own line's newline and indent (``trim_blocks``, ``lstrip_blocks``), so a template
  reads like the Markdown it prints.

Filters: ``cell`` (a Markdown table cell: ``|`` escaped, one line, control characters shown as escapes),
``code`` (a Markdown code span that survives backticks in the text), ``fence`` (a code fence longer than
any backtick run of the text), ``printable``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).resolve().parent / "templates"


def printable(text: Any) -> str:
    """Control characters (an ESC that would recolour a terminal) shown as escapes, not sent raw."""
    text = str(text)
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def cell(text: Any) -> str:
    """``text`` as one Markdown table cell: on one line, ``|`` escaped, control characters escaped."""
    return printable(str(text).replace("|", "\\|").replace("\r\n", " ").replace("\n", " "))


def code(text: Any) -> str:
    """``text`` as a Markdown code span; a text holding backticks gets a longer fence (CommonMark)."""
    text = str(text)
    if "`" not in text:
        return f"`{text}`"
    fence = "`" * (max(len(run) for run in re.findall(r"`+", text)) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def fence(text: Any) -> str:
    """A Markdown code fence for ``text``: longer than any run of backticks in it, at least three."""
    runs = [len(run) for run in re.findall(r"`{3,}", str(text))]
    return "`" * max(3, max(runs, default=0) + 1)


@functools.cache
def environment() -> jinja2.Environment:
    """The environment of ``runner/templates/`` (one, shared)."""
    return new_environment()


def new_environment(
    templates: Path = TEMPLATES, *, plain: Sequence[str] = ("md", "md.j2"), extensions: Sequence[str] = ()
) -> jinja2.Environment:
    """A new environment as described above on ``templates`` (the client reports make one per language,
    with more ``plain`` suffixes and the i18n extension: :mod:`runner.report.render`)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "html.j2"),
            disabled_extensions=tuple(plain),
            default_for_string=True,
            default=True,
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=list(extensions),
    )
    env.filters.update(cell=cell, code=code, fence=fence, printable=printable)
    return env


def render(template: str, **context: Any) -> str:
    """Render ``runner/templates/<template>`` with ``context``."""
    return environment().get_template(template).render(**context)
