# Shared by the collector modules; runs on the managed host with its python3 (3.8+), standard library only.
# Modules import it as ansible_collections.maint.core.plugins.module_utils.probes; AnsiballZ ships it along.
"""The shape of a probe that could not run, the guard that keeps one probe's crash local, small helpers."""

import time


def unavailable(reason, **extra):
    """What a probe returns when it cannot look: ``available: false`` and why, never a failed module."""
    out = {"available": False, "reason": reason}
    out.update(extra)
    return out


def probe(name, fn, *args):
    """Run one probe; a bug or a surprise in it is reported as its reason, the other probes still run."""
    try:
        return fn(*args)
    except Exception as exc:  # every probe reports why instead of crashing the module
        return unavailable(f"{name} probe crashed: {type(exc).__name__}: {exc}")


def utc_now():
    """Time of collection, UTC, ISO 8601 with a Z: what the evaluators read as ``collected_at``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def first_line(text):
    """The first non-blank line of a command's output, stripped ('' when there is none)."""
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""
