"""Secret findings and how values are shown: plaintext secrets, controller templates, masking.

A value under a secret-looking key (:func:`runner.redact.is_secret_key`) or of a secret shape
(:data:`SECRET_SHAPES`) is a plaintext secret: reported (never its value) and shown as
:data:`runner.redact.MASK`; ``!vault`` values are shown as :data:`VAULT_SHOWN`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from runner.inventory.review.model import Level, ReviewFinding
from runner.inventory.templating import controller_risks, has_template
from runner.inventory.templating import shown as shown_template
from runner.redact import MASK, is_secret_key
from runner.safeyaml import UnsafeText, VaultValue

VAULT_SHOWN = "<vault-encrypted>"
#: (file, key path, rule, value) of a plaintext secret; (file, key path, risks, text) of a template
Found = list[tuple[str, str, str, str]]

#: value shapes that are secrets whatever the key; (name, pattern)
SECRET_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("PEM private key", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")),
    ("AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("JSON web token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    ("credentials in a URL", re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@{}]+:[^/\s@{}]+@")),
    ("Cisco password/secret line", re.compile(r"\b(?:password|secret)\s+[07]\s+\S+", re.IGNORECASE)),
    ("SNMP community line", re.compile(r"\bsnmp-server\s+community\s+\S+", re.IGNORECASE)),
)
_JINJA_ONLY = re.compile(r"^\s*\{\{.*\}\}\s*$", re.DOTALL)


def shape(value: str) -> tuple[str, str] | None:
    """(rule name, the matching text) of the first secret shape found in ``value``."""
    for name, pattern in SECRET_SHAPES:
        found = pattern.search(value)
        if found:
            return name, found.group(0)
    return None


def secret_rule(key_path: str, value: Any) -> str | None:
    """Why a plaintext ``value`` at ``key_path`` is a secret (None when it is not one)."""
    if isinstance(value, VaultValue) or value is None or isinstance(value, bool) or value == "":
        return None
    if isinstance(value, str) and _JINJA_ONLY.match(value):
        return None
    if isinstance(value, str | int | float) and any(is_secret_key(k) for k in key_path.split(".")):
        return "secret key name"
    if isinstance(value, str):
        found = shape(value)
        return found[0] if found else None
    return None


def scan(value: Any, key_path: str, file: str, found: Found) -> None:
    """Every plaintext secret under ``value`` (a parsed variable file)."""
    if isinstance(value, Mapping):
        for key, sub in value.items():
            scan(sub, f"{key_path}.{key}" if key_path else str(key), file, found)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            scan(item, f"{key_path}[{i}]", file, found)
    else:
        rule = secret_rule(key_path.replace("[", ".").replace("]", ""), value)
        if rule:
            found.append((file, key_path, rule, str(value)))


def scan_templates(value: Any, file: str, found: Found) -> None:
    """Templated keys and values that reach outside the inventory (:func:`controller_risks`)."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, key_path = stack.pop()
        if isinstance(item, Mapping):
            for key, sub in item.items():
                sub_path = f"{key_path}.{key}" if key_path else str(key)
                if isinstance(key, str):
                    stack.append((key, sub_path))  # Ansible may template keys too
                stack.append((sub, sub_path))
        elif isinstance(item, list):
            stack.extend((sub, f"{key_path}[{i}]") for i, sub in enumerate(item))
        elif isinstance(item, str) and not isinstance(item, UnsafeText | VaultValue) and has_template(item):
            risks = controller_risks(item)
            if risks:
                found.append((file, key_path, ", ".join(risks), shown_template(item)))
    found.sort()


def secret_findings(client: str, secrets: Found, templates: Found) -> list[ReviewFinding]:
    """Errors for one client's side: each plaintext secret (never its value) and each template that runs
    on the controller."""
    out = [
        ReviewFinding(
            Level.ERROR,
            "plaintext-secret",
            client,
            f"{file}: {key}" if key else file,
            f"plaintext secret ({rule}); encrypt it with ansible-vault (value not shown)",
        )
        for file, key, rule, _value in secrets
    ]
    out += [
        ReviewFinding(
            Level.ERROR,
            "controller-template",
            client,
            f"{file}: {key}" if key else file,
            f"template runs on the controller as the user of maint ({risks}): {text}",
        )
        for file, key, risks, text in templates
    ]
    return out


def show(key_path: str, value: Any) -> str:
    """A value as the report shows it: secrets masked, vault values opaque, long values cut."""
    if isinstance(value, VaultValue):
        return VAULT_SHOWN
    if secret_rule(key_path, value) is not None:
        return MASK
    if isinstance(value, str):
        text = value
    else:
        masked = _mask_deep(value)
        text = json.dumps(masked, default=str, ensure_ascii=False)
    text = printable(" ".join(text.split()))
    return text if len(text) <= 100 else text[:97] + "…"


def printable(text: str) -> str:
    """Control characters (an ESC that would recolour a terminal) shown as escapes, not sent raw."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text) if not text.isprintable() else text


def _mask_deep(value: Any, key_path: str = "") -> Any:
    if isinstance(value, VaultValue):
        return VAULT_SHOWN
    if isinstance(value, Mapping):
        return {k: _mask_deep(v, f"{key_path}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_deep(v, key_path) for v in value]
    if secret_rule(key_path, value) is not None:
        return MASK
    return value
