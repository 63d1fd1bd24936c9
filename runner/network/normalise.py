"""Drop volatile lines so two fetches of an unchanged configuration give the same text.

Each platform's driver holds a :class:`Normaliser`, a table of regexes (data, not branches): a line
matching one is dropped, a ``(pattern, replacement)`` rewrite removes a volatile part of a line that is
otherwise kept. Order, indentation and every other line are kept, so the result is still a valid
configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from runner.network.platforms import Platform, driver

_COMMON_DROP = (
    # a CLI prompt echoing the command that produced the text
    r"^[\w.\-()/]+ ?[#$>] ?(show|display|get|more)\b.*$",
)


@dataclass(frozen=True)
class Normaliser:
    """One platform's volatile lines (its driver's ``normaliser``).

    ``drop``: a line matching one of these is dropped (so is a CLI prompt echoing the command, on every
    platform); ``rewrite``: ``(pattern, replacement)`` removing a volatile part of a line that is kept.
    """

    drop: tuple[str, ...] = ()
    rewrite: tuple[tuple[str, str], ...] = ()
    _drop: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _rewrite: tuple[tuple[re.Pattern[str], str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_drop", re.compile("|".join((*_COMMON_DROP, *self.drop))))
        object.__setattr__(self, "_rewrite", tuple((re.compile(a), b) for a, b in self.rewrite))

    def normalise_with_lines(self, text: str) -> tuple[str, list[int]]:
        """See :func:`normalise_with_lines`."""
        drop = self._drop
        rewrites = self._rewrite
        kept: list[str] = []
        numbers: list[int] = []
        physical_lines = text.replace("\x00", "").replace("\r\n", "\n").split("\n")
        for lineno, physical in enumerate(physical_lines, start=1):
            for raw in physical.split("\r"):
                line = raw.rstrip()
                if drop.search(line):
                    continue
                for pattern, replacement in rewrites:
                    line = pattern.sub(replacement, line)
                kept.append(line)
                numbers.append(lineno)
        end = len(kept)
        while end and not kept[end - 1]:
            end -= 1
        start = 0
        while start < end and not kept[start]:
            start += 1
        kept, numbers = kept[start:end], numbers[start:end]
        return ("\n".join(kept) + "\n" if kept else ""), numbers


def normalise_with_lines(platform: Platform, text: str) -> tuple[str, list[int]]:
    """:func:`normalise`, and for each line of the result its 1-based line number in ``text``.

    Lines are counted as an editor counts them (``\n``, ``\r\n``); a lone ``\r`` splits a line
    in the result, and both parts keep the number of the line they came from.
    """
    return driver(platform).normaliser.normalise_with_lines(text)


def normalise(platform: Platform, text: str) -> str:
    """``text`` without volatile lines, trailing blanks, NULs and CR line endings; order kept.

    The result ends with exactly one newline (or is empty) and normalising twice changes nothing.
    """
    return normalise_with_lines(platform, text)[0]
