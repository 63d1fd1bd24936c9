"""Names that become parts of paths: clients, hosts and run ids are checked before any file is touched.

A client's name is its inventory folder (the same pattern as ``runner.inventory.schema.NAME``) and names its
lock file; a run id names its ``var/runs/<run_id>/`` folder; a host name may name a file of its own. None may
climb out of its folder (``../``), be absolute or hide (a leading dot).
"""

from __future__ import annotations

import re

#: a client folder under inventories/ (kept equal to runner.inventory.schema.NAME)
CLIENT = re.compile(r"[a-z0-9][a-z0-9_.-]*")
#: an Ansible inventory host name: a DNS name, an address (IPv4 or IPv6) or a plain word
HOST = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:@-]*")
#: a run id (``new_run_id``: 20260101T000000Z-1a2b3c, or any older word-like id)
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
MAX_LENGTH = 253


class UnsafeNameError(ValueError):
    """A name that could not safely become part of a path (the message says which and where)."""


def _check(kind: str, pattern: re.Pattern[str], value: object, where: str) -> str:
    text = value if isinstance(value, str) else ""
    if (
        not isinstance(value, str)
        or len(text) > MAX_LENGTH
        or pattern.fullmatch(text) is None
        or ".." in text
    ):
        place = f"{where}: " if where else ""
        raise UnsafeNameError(
            f"{place}{kind} name {value!r} is not allowed (expected {pattern.pattern}, no '..', "
            f"at most {MAX_LENGTH} characters)"
        )
    return text


def client_name(value: object, where: str = "") -> str:
    """``value`` when it is a safe client name, else :class:`UnsafeNameError`."""
    return _check("client", CLIENT, value, where)


def host_name(value: object, where: str = "") -> str:
    return _check("host", HOST, value, where)


def run_id(value: object, where: str = "") -> str:
    return _check("run id", RUN_ID, value, where)


def is_run_id(value: str) -> bool:
    try:
        run_id(value)
    except UnsafeNameError:
        return False
    return True
