"""Replace every secret in a configuration with a stable placeholder.

The placeholder never depends on the secret, so it is stable across FortiOS re-encryption
(``ENC`` values change on every ``show``) and reveals nothing, not even a hash of a short
password. What is not secret stays: the keyword, the encryption or hash type (``secret 5 <masked>``,
``password 7 <masked>``, ``sha1 "<masked>"``) and quotes, so review can still judge the type, a
diff of two masked configurations still shows a changed type, and a masked configuration still
reads like the original. SNMP communities that are the well-known defaults ``public`` /
``private`` become ``<masked:default>``: the baseline forbids exactly those, and saying "a default
community" tells an attacker nothing they would not try first. A URL's password
(``ftp://user:PASS@host``) is masked on every platform.

A value does not always sit on the keyword's line. Devices wrap long lines at the terminal width
(AOS-S wraps at 80 columns unless told otherwise), so besides the pass over single lines, masking
follows values onto the next line:

* a line that ends with the keyword or hash-type word (``password manager user-name "x" sha1``)
  has its value at the start of the next line (after a hash-type word that may have moved too);
* a quoted value left open at the end of a line continues up to the closing quote;
* on AOS-S, in a text wrapped at the terminal width (no line wider than 80 columns), a line of
  79 or 80 columns is joined with the next to find values split anywhere, even inside the
  keyword (``pa`` / ``ssword sha1 "..."``); each such value is masked in every line it spans.

Masking is idempotent (placeholders are never masked again) and keeps the number of lines,
except that a PEM block (certificate or private key) collapses to one ``<masked:pem>`` token
and a run of IOS certificate hex lines to one ``<masked:certificate>`` line
(:func:`mask_with_lines` says where each output line came from).

Patterns are data, one :class:`Masker` per platform in its driver (``runner/network/platforms/``):
``(regex with a named group s, kind)``; kind ``community`` marks values that may be a well-known
default. ``next_line`` lists lines that end where a value would begin. A pattern runs only over a
text that holds its keyword (``_needles``). The building blocks of the patterns (:data:`VALUE`,
:data:`NAME`, :data:`NOT_TYPE`) are here.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from runner.network.platforms import Platform, driver

PLACEHOLDER = "<masked>"
DEFAULT_COMMUNITY = "<masked:default>"
PEM_PLACEHOLDER = "<masked:pem>"
CERT_PLACEHOLDER = "<masked:certificate>"
WELL_KNOWN_COMMUNITIES = frozenset({"public", "private"})
#: widths at which terminals wrap a line (a line of exactly this length may continue on the next)
WRAP_WIDTHS = frozenset({79, 80})

#: a type digit or hash word alone at the end of a line is not the value: that is on the next line
NOT_TYPE = r"(?!(?:[0-9]|sha1|sha256|sha512|md5|plaintext|ciphertext|ENC)$)"
#: a quoted value (possibly left open by a wrapped line) or a word: the group ``s`` that is masked
VALUE = r"(?P<s>" + NOT_TYPE + r'(?:"[^"\n]*"?|\S+))'
#: a quoted or bare name (a user name, a group) before the value
NAME = r'(?:"[^"\n]*"|[^"\s]\S*)'
_HASH_WORD = r"(?:sha1|sha256|sha512|md5|plaintext|ciphertext|ENC|[0-9])"

# a URL with credentials: scheme://user:PASSWORD@host, on every platform
_URL = (r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@\"]*:(?P<s>[^\s@\"/]+)@", "secret")

_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", re.S)
# the value at the start of a continuation line, after a hash-type word that moved along
_LEADING_VALUE = re.compile(r"^\s*(?:" + _HASH_WORD + r"\s+)?" + VALUE)
_OPEN_QUOTE_AT_END = re.compile(r'"<masked>$', re.M)
_UP_TO_QUOTE = re.compile(r'^(?P<s>[^"]*)"?')


def _masked_already(token: str) -> bool:
    return token.lstrip('"').startswith("<masked")


def _placeholder(token: str, kind: str) -> str:
    quoted = len(token) >= 2 and token[0] == token[-1] == '"'
    bare = token[1:-1] if quoted else token.lstrip('"')
    placeholder = (
        DEFAULT_COMMUNITY if kind == "community" and bare.lower() in WELL_KNOWN_COMMUNITIES else PLACEHOLDER
    )
    if quoted:
        return f'"{placeholder}"'
    if token.startswith('"'):  # left open: the value goes on on the next line
        return f'"{placeholder}'
    return placeholder


def _sub(pattern: re.Pattern[str], kind: str, text: str) -> str:
    """``pattern.sub`` masking group ``s`` (placeholders are left alone)."""

    def replace(match: re.Match[str]) -> str:
        token = match.group("s")
        if _masked_already(token):
            return match.group(0)
        start, end = match.span("s")
        offset = match.start(0)
        whole = match.group(0)
        return whole[: start - offset] + _placeholder(token, kind) + whole[end - offset :]

    return pattern.sub(replace, text)


_PREFIXES = (r"\b", r"^\s*", r"^\s+", r"(?<![\w-])", r"(?<!web-management )")


def _needles(pattern: str) -> tuple[str, ...]:
    """Literal words one of which every match of ``pattern`` contains (empty: no such words).

    A pattern is only run over a text holding one of its needles: most configurations hold
    few of the keywords, and a ``str`` search is much faster than a regex pass.
    """
    if "://" in pattern:
        return ("://",)
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if pattern.startswith(prefix):
                pattern, changed = pattern[len(prefix) :], True
    if pattern.startswith("(?:"):
        depth, end = 0, len(pattern)
        for i, ch in enumerate(pattern):
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if depth == 0:
                end = i
                break
        alternatives = pattern[3:end].split("|")
        if any("(" in alt for alt in alternatives) or pattern[end + 1 : end + 2] in ("?", "*"):
            return ()  # nested, or the group is optional: no word every match holds
    else:
        alternatives = [pattern]
    words = tuple(re.match(r"[A-Za-z][\w-]*", alt) for alt in alternatives)
    return tuple(w.group() for w in words if w) if all(words) else ()


def mask_span(line: str, match: re.Match[str] | None, kind: str = "secret") -> str:
    """``line`` with group ``s`` of ``match`` masked."""
    if match is None or not match.group("s") or _masked_already(match.group("s")):
        return line
    start, end = match.span("s")
    return line[:start] + _placeholder(match.group("s"), kind) + line[end:]


def _continuations(masker: Masker, text: str) -> str:
    """Mask values left open at a line end on the next line (see the module docstring)."""
    ends_line = masker._ends_line
    scans = (*masker._next_scan, _OPEN_QUOTE_AT_END)
    starts = [m.start() for pattern in scans for m in pattern.finditer(text)]
    if not starts:  # the common case: one regex pass over the text, no line loop
        return text
    newlines = [m.start() for m in re.finditer("\n", text)]
    lines = text.split("\n")
    rows = sorted({bisect.bisect_left(newlines, start) for start in starts})
    done: set[int] = set()
    while rows:
        row = rows.pop(0)
        if row in done or row + 1 >= len(lines):
            continue
        done.add(row)
        line, following = lines[row], lines[row + 1]
        if _OPEN_QUOTE_AT_END.search(line) and line.count('"') % 2 == 1:
            if '"' not in following:  # the whole line is inside the quoted value
                lines[row + 1] = PLACEHOLDER if following.strip() else following
                rows.insert(0, row + 1)  # ... which is still open
                continue
            lines[row + 1] = mask_span(following, _UP_TO_QUOTE.match(following))
        elif ends_line.search(line):
            lines[row + 1] = mask_span(following, _LEADING_VALUE.match(following))
        else:
            continue
        if ends_line.search(lines[row + 1]) or _OPEN_QUOTE_AT_END.search(lines[row + 1]):
            rows.insert(0, row + 1)
    return "\n".join(lines)


def _wrapped_at(lines: list[str]) -> bool:
    """True when the text looks wrapped by a terminal: no line wider than 80, some exactly full."""
    widths = {len(line) for line in lines}
    return max(widths, default=0) <= max(WRAP_WIDTHS) and bool(widths & WRAP_WIDTHS)


def _mask_wrapped(masker: Masker, lines: list[str]) -> None:
    """Mask values split by terminal wrapping, in place; the lines themselves stay as they are.

    Each run of full-width lines is joined with the line after it (a line of 79 columns lost its
    trailing blank to normalising, so it is joined with one blank), every pattern is matched on
    the joined text, and each value that crosses a line end is masked in every line it spans
    (``sha1 "<masked>`` / ``<masked>"``). Values within one line are left to the line pass.
    """
    i = 0
    while i < len(lines) - 1:
        if len(lines[i]) not in WRAP_WIDTHS:
            i += 1
            continue
        run = [i]
        while run[-1] + 1 < len(lines) and len(lines[run[-1]]) in WRAP_WIDTHS:
            run.append(run[-1] + 1)
        joined, bounds = "", []
        for n, row in enumerate(run):
            if n and len(lines[run[n - 1]]) == min(WRAP_WIDTHS):
                joined += " "
            bounds.append((len(joined), len(joined) + len(lines[row])))
            joined += lines[row]
        spans: list[tuple[int, int]] = []
        for pattern, _kind, _ in masker._compiled:
            for match in pattern.finditer(joined):
                start, end = match.span("s")
                if not _masked_already(match.group("s")) and any(start < e < end for _, e in bounds):
                    spans.append((start, end))
        taken: list[tuple[int, int]] = []
        for start, end in sorted(spans, key=lambda span: (span[0], -span[1])):
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
        pieces: dict[int, list[tuple[int, int, str]]] = {}
        for start, end in taken:
            token = joined[start:end]
            for n, (b, e) in enumerate(bounds):
                lo, hi = max(start, b), min(end, e)
                if lo >= hi:
                    continue
                piece = PLACEHOLDER
                if lo == start and token.startswith('"'):
                    piece = '"' + PLACEHOLDER
                elif hi == end and token.endswith('"') and len(token) > 1:
                    piece = PLACEHOLDER + '"'
                pieces.setdefault(run[n], []).append((lo - b, hi - b, piece))
        for row, parts in pieces.items():
            text = lines[row]
            for lo, hi, piece in sorted(parts, reverse=True):
                text = text[:lo] + piece + text[hi:]
            lines[row] = text
        i = run[-1] + 1


def _collapse(pattern: re.Pattern[str], text: str, repl: str, origin: list[int]) -> str:
    """``pattern.sub(repl, text)`` keeping ``origin`` (input line of each line) in step."""
    out: list[str] = []
    pos = 0
    line = 0  # index of the current output line
    for match in pattern.finditer(text):
        before = text[pos : match.start()]
        out.append(before)
        line += before.count("\n")
        replacement = match.expand(repl)
        removed = match.group(0).count("\n") - replacement.count("\n")
        if removed > 0:
            del origin[line + 1 : line + 1 + removed]
        out.append(replacement)
        line += replacement.count("\n")
        pos = match.end()
    out.append(text[pos:])
    return "".join(out)


#: a pattern matching nothing (a platform without next-line patterns)
_NEVER = re.compile(r"(?!)")


@dataclass(frozen=True)
class Masker:
    """One platform's secrets (its driver's ``masker``); see the module docstring.

    ``patterns``: ``(regex with a named group s, kind)``, matched line by line (``re.M``) after PEM
    blocks and ``collapse``; a URL's password is added on every platform. ``next_line``: lines that
    end where a value would begin (the value is masked at the start of the next line). ``collapse``:
    ``(regex, replacement)`` of multi-line blobs replaced whole (IOS certificate hex). ``wraps_lines``:
    the CLI wraps long lines at the terminal width, so values may be split across lines.
    ``block_values``: a pass over the whole text for values known only from their enclosing block.
    """

    patterns: tuple[tuple[str, str], ...]
    next_line: tuple[str, ...] = ()
    collapse: tuple[tuple[str, str], ...] = ()
    wraps_lines: bool = False
    block_values: Callable[[str], str] | None = None
    _compiled: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...] = field(
        init=False, repr=False, compare=False
    )
    _collapse: tuple[tuple[re.Pattern[str], str], ...] = field(init=False, repr=False, compare=False)
    _ends_line: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _next_scan: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        compiled = tuple((re.compile(p, re.M), kind, _needles(p)) for p, kind in (*self.patterns, _URL))
        object.__setattr__(self, "_compiled", compiled)
        object.__setattr__(self, "_collapse", tuple((re.compile(p, re.M), r) for p, r in self.collapse))
        ends = re.compile("|".join(f"(?:{p})" for p in self.next_line)) if self.next_line else _NEVER
        object.__setattr__(self, "_ends_line", ends)
        # a prefilter of the lines to look at: the same, one by one over the whole text (faster than one
        # alternation; without a leading \b the regex engine can skip ahead to the keyword); a blank may
        # not reach into the next line. Each line found is then checked with _ends_line.
        scans = tuple(
            re.compile(p.removeprefix(r"\b").replace(r"\s*", r"[ \t]*"), re.M) for p in self.next_line
        )
        object.__setattr__(self, "_next_scan", scans)

    def mask_with_lines(self, text: str) -> tuple[str, list[int]]:
        """See :func:`mask_with_lines`."""
        origin = list(range(text.count("\n") + 1))
        text = _collapse(_PEM, text, PEM_PLACEHOLDER, origin)
        for pattern, replacement in self._collapse:
            text = _collapse(pattern, text, replacement, origin)
        if self.wraps_lines:
            lines = text.split("\n")
            if _wrapped_at(lines):
                _mask_wrapped(self, lines)
                text = "\n".join(lines)
        for pattern, kind, needles in self._compiled:
            if not needles or any(needle in text for needle in needles):
                text = _sub(pattern, kind, text)
        if self.block_values is not None:
            text = self.block_values(text)
        return _continuations(self, text), origin


def mask_with_lines(platform: Platform, text: str) -> tuple[str, list[int]]:
    """:func:`mask`, and for each output line the 0-based index of the input line it starts at."""
    return driver(platform).masker.mask_with_lines(text)


def mask(platform: Platform, text: str) -> str:
    """``text`` with every secret replaced by a placeholder; ``mask(p, mask(p, x)) == mask(p, x)``."""
    return mask_with_lines(platform, text)[0]
