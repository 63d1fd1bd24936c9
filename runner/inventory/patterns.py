"""Host patterns as Ansible reads them.

What a pattern selects is what Ansible would run, so the plan of a run is resolved by
ansible-core itself (:class:`AnsibleHosts`: ``InventoryManager`` on the client's ``hosts.yml``,
in process, imported only when a plan is made). Reading the inventory that way decrypts
nothing (no vault secret is given, vaulted values stay opaque) and templates nothing (host
variables are never evaluated while hosts are enumerated).

:func:`pattern_problem` and :func:`expand_host_range` are pure Python, for validation, which
must not pay Ansible's import: the first finds what Ansible would silently misread (an invalid
regular expression, a lone ``[`` that Ansible drops), the second expands ``web[01:03]`` the
way Ansible's inventory plugins do.
"""

from __future__ import annotations

import os
import re
import string
import sys
import threading
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

#: Ansible's ``PATTERN_WITH_SUBSCRIPT`` (ansible/inventory/manager.py)
SUBSCRIPT = re.compile(r"^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$")
#: Ansible's fallback split on ``:`` (ranges in brackets kept whole)
_COLON_PARTS = re.compile(r"(?:[^\s:\[\]]|\[[^\]]*\])+")
#: host names Ansible creates implicitly when a pattern names them
IMPLICIT_LOCALHOST = ("localhost", "127.0.0.1", "::1")
#: a range such as ``[01:10]``, ``[a:f]`` or ``[1:9:2]`` inside a host name
_RANGE = re.compile(r"\[([^\]]*)\]")
#: at most this many host names from one ranged inventory entry
MAX_RANGE_HOSTS = 100_000


class PatternError(ValueError):
    """A host pattern that cannot be resolved; the message names the argument or key."""


def _single_address(pattern: str) -> bool:
    """Whether Ansible keeps a pattern without commas whole: when it parses as one address
    (``host:port``, an IPv6 address); anything else is split on ``:`` and whitespace, and a
    bracket without its pair is dropped."""
    if re.fullmatch(r"[^\s:\[\]]+(?:\[[^\]]*\][^\s:\[\]]*)*:[0-9]+", pattern):
        return True  # host:port (ranges allowed)
    return bool(re.fullmatch(r"\[?[0-9a-fA-F:.\[\]]+\]?(?::[0-9]+)?", pattern)) and pattern.count(":") >= 2


def split_pattern(pattern: str) -> list[str]:
    """``a,b`` / ``a:b`` into single patterns, like Ansible's ``split_host_pattern``."""
    if "," in pattern:
        parts = pattern.split(",")
    elif _single_address(pattern):
        parts = [pattern]
    else:
        parts = _COLON_PARTS.findall(pattern)
    return [p.strip() for p in parts if p.strip()]


def _regex_problem(part: str) -> str | None:
    body = part.strip()
    body = body[1:] if body[:1] in ("!", "&") else body
    if not body.startswith("~"):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # re's FutureWarning on odd sets
            re.compile(body[1:])
    except re.error as exc:
        return f"{body!r} is not a valid regular expression ({exc})"
    return None


def pattern_problem(pattern: str) -> str | None:
    """Why Ansible would fail on, or silently misread, ``pattern``; None when it reads as written."""
    if not pattern.strip():
        return "is empty"
    for raw in pattern.split(",") if "," in pattern else [pattern]:
        problem = _regex_problem(raw)  # before splitting: Ansible reads '~[' as '~' (every host)
        if problem is not None:
            return problem
    parts = split_pattern(pattern)
    if "," not in pattern and not _single_address(pattern):
        if re.sub(r"[\s:]", "", _COLON_PARTS.sub("", pattern)):
            return "has an unbalanced '[' or ']' (Ansible would drop part of the pattern)"
        if len(parts) > 1 and re.search(r"[^\s:]\s+[^\s:]", pattern):
            return "has spaces inside a pattern (separate patterns with ',')"
    for part in parts:
        body = part[1:] if part[:1] in ("!", "&") else part
        if not body.strip():
            return f"has nothing after {part!r}"
        problem = _regex_problem(part)
        if problem is not None:
            return problem
    return None


def check_pattern(pattern: str, what: str) -> None:
    """Raise :class:`PatternError` naming ``what`` when ``pattern`` would be misread."""
    problem = pattern_problem(pattern)
    if problem is not None:
        raise PatternError(f"{what} {pattern!r}: {problem}")


def expand_host_range(name: str) -> list[str]:
    """``web[01:03]`` -> web01, web02, web03 (also ``[a:c]`` and ``[1:9:2]``), as Ansible does.

    A name whose brackets are not a valid range stays as written (Ansible refuses the inventory;
    the job reports it)."""
    match = _RANGE.search(name)
    if match is None:
        return [name]
    head, tail = name[: match.start()], name[match.end() :]
    values = _range_values(match.group(1))
    if values is None:
        return [name]
    out: list[str] = []
    for value in values:
        for rest in expand_host_range(tail):
            out.append(f"{head}{value}{rest}")
            if len(out) > MAX_RANGE_HOSTS:
                return out
    return out


def _range_values(spec: str) -> list[str] | None:
    bounds = spec.split(":")
    if len(bounds) not in (2, 3):
        return None
    beg, end = bounds[0] or "0", bounds[1]
    step_text = bounds[2] if len(bounds) == 3 else "1"
    if not end or not step_text.isdigit() or int(step_text) == 0:
        return None
    step = int(step_text)
    if beg in string.ascii_letters and end in string.ascii_letters:
        i_beg, i_end = string.ascii_letters.index(beg), string.ascii_letters.index(end)
        if i_beg > i_end:
            return None
        return list(string.ascii_letters[i_beg : i_end + 1 : step])
    if not (beg.isdigit() and end.isdigit()) or len(beg) > 18 or len(end) > 18:
        return None
    width = len(beg) if beg[0] == "0" and len(beg) > 1 else 0
    if width and width != len(end):
        return None
    lo, hi = int(beg), int(end)
    if lo > hi or (hi - lo) // step > MAX_RANGE_HOSTS:
        return None
    return [str(i).zfill(width) for i in range(lo, hi + 1, step)]


# -- Ansible itself -------------------------------------------------------------------------------

_ansible_lock = threading.RLock()


def _import_ansible() -> tuple[Any, Any, Any]:
    """ansible-core's inventory classes, configured as the job's (the project's ansible.cfg)."""
    with _ansible_lock:
        if "ansible.constants" not in sys.modules:
            from runner import paths

            cfg = paths.ansible_cfg()  # the job's configuration (runner/execute.py)
            saved = os.environ.get("ANSIBLE_CONFIG")
            if cfg.is_file():
                os.environ["ANSIBLE_CONFIG"] = str(cfg)
            try:
                import ansible.constants  # noqa: F401 - reads the configuration once
            finally:
                if saved is None:
                    os.environ.pop("ANSIBLE_CONFIG", None)
                else:
                    os.environ["ANSIBLE_CONFIG"] = saved
        from ansible import constants
        from ansible.inventory.manager import InventoryManager
        from ansible.parsing.dataloader import DataLoader

        return constants, InventoryManager, DataLoader


class AnsibleHosts:
    """One inventory file as ansible-core reads it; selects hosts by pattern and ``--limit``."""

    def __init__(self, source: Path) -> None:
        constants, manager, loader = _import_ansible()
        self._constants = constants
        with _ansible_lock:
            # no vault secrets: vaulted values stay encrypted; nothing is templated here
            self._inventory = manager(loader=loader(), sources=[str(source)])

    @property
    def hosts(self) -> list[str]:
        return list(self._inventory.hosts)

    def select(
        self,
        patterns: str | Sequence[str],
        *,
        what: str,
        limit: str | None = None,
        limit_what: str = "--limit",
    ) -> list[str]:
        """Host names (inventory order) ``patterns`` select within ``limit``, as a play's
        ``hosts:`` with ``ansible-playbook --limit`` would; implicit localhost excluded."""
        items = [patterns] if isinstance(patterns, str) else list(patterns)
        for item in items:
            check_pattern(item, what)
        if limit is not None:
            check_pattern(limit, limit_what)
        inventory = self._inventory
        with _ansible_lock:
            mismatch = getattr(self._constants, "HOST_PATTERN_MISMATCH", "warning")
            self._constants.HOST_PATTERN_MISMATCH = "ignore"  # "matches nothing" is ours to say
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # re's FutureWarning on odd regexes
                    try:
                        found = inventory.get_hosts(items)
                    except Exception as exc:  # AnsibleError, or a pattern Ansible trips on
                        raise PatternError(f"{what} {items!r}: {_reason(exc)}") from None
                    if limit is not None:
                        try:
                            inventory.subset(limit)
                            found = inventory.get_hosts(items)
                        except Exception as exc:
                            raise PatternError(f"{limit_what} {limit!r}: {_reason(exc)}") from None
            finally:
                inventory.subset(None)
                self._constants.HOST_PATTERN_MISMATCH = mismatch
        return [h.name for h in found if not getattr(h, "implicit", False)]


def _reason(exc: Exception) -> str:
    from ansible.errors import AnsibleError

    text = " ".join(str(getattr(exc, "message", "") or exc).split())
    return text if isinstance(exc, AnsibleError) else f"Ansible cannot read it ({type(exc).__name__}: {text})"


def job_limit(limit: str | None, cwd: Path | None = None) -> str | None:
    """``--limit`` as the job gets it: ``@file`` parts made absolute (the job runs elsewhere)."""
    if limit is None or "@" not in limit:
        return limit
    base = cwd or Path.cwd()
    parts: Iterable[str] = split_pattern(limit)
    return ",".join(f"@{(base / p[1:]).resolve()}" if p.startswith("@") else p for p in parts)


__all__ = [
    "AnsibleHosts",
    "PatternError",
    "check_pattern",
    "expand_host_range",
    "job_limit",
    "pattern_problem",
    "split_pattern",
]
