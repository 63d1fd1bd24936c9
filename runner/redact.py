"""Mask secrets in evidence before it leaves Ansible for the ledger, logs or reports.

``redact`` returns a deep copy in which:

- the value under a secret-looking key (``password``, ``api_key``, ``snmp_community``, ``X-Auth-Token``,
  ``privateKey``...) is replaced by :data:`MASK`. Keys are split into word segments (on ``_ - . space``
  and camelCase), so ``monkey``, ``keyboard`` and ``author`` are left alone. A key whose last segment
  only qualifies the secret (``key_size``, ``password_age_days``, ``token_expiry``, ``key_file``) is not
  a secret: its value is evidence worth keeping. ``None``, booleans and empty strings are kept under any
  key, since they only tell that a secret is absent or set.
- any string holding an Ansible vault blob (``$ANSIBLE_VAULT;``) or a PEM private key is replaced by
  :data:`MASK`, whatever its key; so is an ansible-core vault object (``EncryptedString``), which must
  never be turned into text here.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

MASK = "********"

#: word segments that name a secret (a trailing plural "s" is ignored)
SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "passphrase",
        "secret",
        "token",
        "key",
        "apikey",
        "privatekey",
        "secretkey",
        "accesskey",
        "community",
        "psk",
        "credential",
        "creds",
        "auth",
        "authpass",
        "privpass",
        "authorization",
        "bearer",
        "cookie",
    }
)

#: a last segment that describes a secret rather than holding it
QUALIFIERS = frozenset(
    {
        "id",
        "ids",
        "type",
        "size",
        "length",
        "bits",
        "algorithm",
        "algo",
        "fingerprint",
        "count",
        "file",
        "path",
        "name",
        "expiry",
        "expires",
        "expired",
        "age",
        "days",
        "set",
        "present",
        "configured",
        "enabled",
        "required",
        "policy",
        "method",
        "status",
    }
)

_VAULT_MARK = "$ANSIBLE_VAULT;"
_PEM_PRIVATE = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")
_VAULT_TYPES = frozenset({"EncryptedString", "AnsibleVaultEncryptedUnicode"})


def key_segments(key: str) -> list[str]:
    """``"snmpCommunity"`` -> ``["snmp", "community"]``; ``"X-Auth-Token"`` -> ``["x", "auth", "token"]``."""
    return [s for s in _SPLIT.split(_CAMEL.sub(r"\1_\2", key).lower()) if s]


def _is_secret_word(segment: str) -> bool:
    return segment in SECRET_WORDS or (segment.endswith("s") and segment[:-1] in SECRET_WORDS)


def is_secret_key(key: str) -> bool:
    """Whether values under ``key`` are secrets."""
    segments = key_segments(key)
    if not segments or not any(_is_secret_word(s) for s in segments):
        return False
    return not (segments[-1] in QUALIFIERS and not _is_secret_word(segments[-1]))


def _is_secret_text(value: str) -> bool:
    return _VAULT_MARK in value or _PEM_PRIVATE.search(value) is not None


def _keeps_meaning(value: Any) -> bool:
    """Values that say a secret is absent or set without revealing it."""
    return value is None or isinstance(value, bool) or value == ""


def redact(obj: Any) -> Any:
    """A deep copy of ``obj`` with secrets replaced by :data:`MASK`."""
    if type(obj).__name__ in _VAULT_TYPES:
        return MASK
    if isinstance(obj, str):
        return MASK if _is_secret_text(obj) else obj
    if isinstance(obj, Mapping):
        out: dict[Any, Any] = {}
        for key, value in obj.items():
            if isinstance(key, str) and is_secret_key(key) and not _keeps_meaning(value):
                out[key] = MASK
            else:
                out[key] = redact(value)
        return out
    if isinstance(obj, list):
        return [redact(item) for item in obj]
    if isinstance(obj, tuple):
        return tuple(redact(item) for item in obj)
    if isinstance(obj, set | frozenset):
        return type(obj)(redact(item) for item in obj)
    if obj is None or isinstance(obj, int | float):
        return obj
    return copy.deepcopy(obj)
