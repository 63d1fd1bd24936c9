# Shared by the collector modules; runs on the managed host with its python3 (3.8+), standard library only.
"""Read a file of the host without ever raising: logs (rotated .gz too), /proc entries, os-release."""

import gzip
import shlex

from ansible_collections.maint.core.plugins.module_utils.probes import unavailable

OS_RELEASE_FILES = ("/etc/os-release", "/usr/lib/os-release")
OS_FIELDS = (
    ("id", "ID"),
    ("id_like", "ID_LIKE"),
    ("version_id", "VERSION_ID"),
    ("pretty_name", "PRETTY_NAME"),
)


def read_text(path, max_chars=None):
    """The text of ``path`` (gunzipped when it ends in .gz, undecodable bytes replaced), or None.

    ``max_chars`` stops reading after that many characters (a file that grew without bound costs at most
    that much memory). None also when the file cannot be read, whatever the reason.
    """
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rt", errors="replace") as handle:
            return handle.read() if max_chars is None else handle.read(max_chars)
    except (OSError, EOFError, ValueError):  # unreadable, a truncated or corrupt .gz
        return None


def parse_os_release(text):
    """``KEY=value`` lines of os-release (shell quoting) as a dict; comments and junk lines skipped."""
    fields = {}
    for line in text.splitlines():
        if "=" not in line or line.lstrip().startswith("#"):
            continue
        key, _, value = line.partition("=")
        try:
            parts = shlex.split(value)
        except ValueError:
            parts = [value.strip("\"'")]
        fields[key.strip()] = parts[0] if parts else ""
    return fields


def read_os_release():
    """``id``, ``id_like``, ``version_id``, ``pretty_name`` (empty when unknown) and ``available``."""
    for path in OS_RELEASE_FILES:
        text = read_text(path, 65536)
        if text is None:
            continue
        fields = parse_os_release(text)
        out = {name: fields.get(key, "") for name, key in OS_FIELDS}
        out["available"] = True
        return out
    out = unavailable("neither /etc/os-release nor /usr/lib/os-release is readable")
    out.update((name, "") for name, _key in OS_FIELDS)
    return out
