"""Replace every secret in a configuration with a stable placeholder.

The placeholder never depends on the secret, so it is stable across FortiOS re-encryption
(``ENC`` values change on every ``show``) and reveals nothing, not even a hash of a short
password. What is not secret stays: the keyword, the encryption type (``secret 5 <masked>``,
``password 7 <masked>``) and quotes, so review can still judge the type and a masked
configuration still reads like the original. SNMP communities that are the well-known
defaults ``public`` / ``private`` become ``<masked:default>``: the baseline forbids exactly
those, and saying "a default community" tells an attacker nothing they would not try first.

Masking is idempotent (placeholders are never masked again) and keeps the number of lines,
except that a PEM block (certificate or private key) collapses to one ``<masked:pem>`` token
and a run of IOS certificate hex lines to one ``<masked:certificate>`` line.

Patterns are data: ``(regex with a named group s, kind)``; kind ``community`` marks values
that may be a well-known default.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from runner.network.platforms import Platform

PLACEHOLDER = "<masked>"
DEFAULT_COMMUNITY = "<masked:default>"
PEM_PLACEHOLDER = "<masked:pem>"
CERT_PLACEHOLDER = "<masked:certificate>"
WELL_KNOWN_COMMUNITIES = frozenset({"public", "private"})

_VALUE = r'(?P<s>"[^"\n]*"|\S+)'

_PATTERNS: dict[Platform, tuple[tuple[str, str], ...]] = {
    Platform.CISCO_IOS: (
        # the rest of the line: an IOS password may contain spaces
        (r"\b(?:password|secret)(?: level \d+)?(?: [0-9])? (?!encryption\b)(?P<s>\S.*)$", "secret"),
        (r"^\s*(?:radius-server|tacacs-server)\b.*?\bkey(?: [0-9])? " + _VALUE, "secret"),
        (r"^\s*server-private \S+.*?\bkey(?: [0-9])? " + _VALUE, "secret"),
        (r"^\s+key [0-9] " + _VALUE, "secret"),
        (r"^\s+key (?P<s>(?!\d+$)(?!<masked)\S+)$", "secret"),
        (r"^\s*crypto isakmp key(?: [0-9])? " + _VALUE, "secret"),
        (r"^\s*tunnel key " + _VALUE, "secret"),
        (r"\bkey-string(?: [0-9])? " + _VALUE, "secret"),
        (r"\bserver-key(?: [0-9])? " + _VALUE, "secret"),
        (r"\bauthentication-key(?: \d+ md5| [0-9])? " + _VALUE, "secret"),
        (r"\bmessage-digest-key \d+ md5(?: [0-9])? " + _VALUE, "secret"),
        (
            r"\bpre-shared-key(?: (?:local|remote))?(?: address \S+(?: \S+)? key)?(?: [0-9])? " + _VALUE,
            "secret",
        ),
        (r"\bwpa-psk (?:ascii|hex)(?: [0-9])? " + _VALUE, "secret"),
        (r"\bauthentication text " + _VALUE, "secret"),
        (r"^\s*snmp-server community " + _VALUE, "community"),
        (
            r"^\s*snmp-server host \S+(?: vrf \S+)?(?: (?:informs?|traps?))?"
            r"(?: version (?:1|2c|3 (?:auth|noauth|priv)))? " + _VALUE,
            "community",
        ),
        (
            r"^\s*snmp-server user .*?\b(?:auth (?:md5|sha)|priv (?:3des|des56|des|aes(?: \d{3})?)) "
            + _VALUE,
            "secret",
        ),
        (r"\b(?:priv (?:3des|des56|des|aes(?: \d{3})?)) " + _VALUE, "secret"),
    ),
    Platform.ARUBA_AOSCX: (
        (r"\b(?:ciphertext|plaintext) " + _VALUE, "secret"),
        (r"^\s*snmp-server community " + _VALUE, "community"),
        (r"^\s*snmp-server host .*?\bcommunity " + _VALUE, "community"),
        (r"\b(?:auth-pass|priv-pass) (?!ciphertext\b|plaintext\b)" + _VALUE, "secret"),
        (r"^\s*(?:radius-server|tacacs-server)\b.*?\bkey (?!ciphertext\b|plaintext\b)" + _VALUE, "secret"),
    ),
    Platform.ARUBA_AOSS: (
        (
            r"^\s*(?:encrypted-)?password (?:manager|operator|port-access) (?:user-name (?:\"[^\"]*\"|\S+) )?"
            r"(?:(?:sha1|sha256|plaintext|md5) )?" + _VALUE + "$",
            "secret",
        ),
        (r"\bplaintext " + _VALUE, "secret"),
        (r"^\s*(?:radius-server|tacacs-server)\b.*?\b(?:encrypted-)?key " + _VALUE, "secret"),
        (
            r"\b(?:encrypted-key|key-value|key-string|encrypted-secret|secret|encrypted-cak|cak) " + _VALUE,
            "secret",
        ),
        (r"^\s*snmp-server (?:host \S+ )?community " + _VALUE, "community"),
        (r"\b(?:auth (?:md5|sha)|priv (?:des|aes)) " + _VALUE, "secret"),
    ),
    Platform.FORTIOS: (
        (r"\bENC " + _VALUE, "secret"),
        (
            r"^\s*set (?:[\w-]*(?:password|passwd|psksecret|secret|passphrase|pwd)|key|[\w-]+-key) "
            r"(?!ENC )" + _VALUE,
            "secret",
        ),
    ),
}

_IOS_CERT_HEX = re.compile(
    r"^([ \t]+)[0-9A-Fa-f]{8}(?: [0-9A-Fa-f]{1,8})*[ \t]*\n"
    r"(?:[ \t]+[0-9A-Fa-f]{2,8}(?: [0-9A-Fa-f]{1,8})*[ \t]*\n)*",
    re.M,
)
_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", re.S)
# FortiOS: the SNMP community's name is its secret; it is only known from the enclosing block
_FGT_COMMUNITY_NAME = re.compile(r"^\s*set name " + _VALUE)


def _replacer(kind: str) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        token = match.group("s")
        quoted = len(token) >= 2 and token[0] == token[-1] == '"'
        bare = token[1:-1] if quoted else token
        if bare.startswith("<masked"):
            return match.group(0)
        placeholder = (
            DEFAULT_COMMUNITY
            if kind == "community" and bare.lower() in WELL_KNOWN_COMMUNITIES
            else PLACEHOLDER
        )
        if quoted:
            placeholder = f'"{placeholder}"'
        start, end = match.span("s")
        whole = match.group(0)
        offset = match.start(0)
        return whole[: start - offset] + placeholder + whole[end - offset :]

    return replace


_COMPILED = {
    platform: tuple((re.compile(pattern, re.M), _replacer(kind)) for pattern, kind in patterns)
    for platform, patterns in _PATTERNS.items()
}
_COMMUNITY = _replacer("community")


def _fortios_communities(text: str) -> str:
    """Mask ``set name`` inside ``config system snmp community`` (the name is the community)."""
    out: list[str] = []
    depth_in_snmp: int | None = None
    depth = 0
    for line in text.split("\n"):
        key = line.strip()
        if key.startswith("config "):
            depth += 1
            if key == "config system snmp community":
                depth_in_snmp = depth
        elif key == "end":
            if depth_in_snmp == depth:
                depth_in_snmp = None
            depth = max(depth - 1, 0)
        elif depth_in_snmp is not None and depth == depth_in_snmp:
            line = _FGT_COMMUNITY_NAME.sub(_COMMUNITY, line)
        out.append(line)
    return "\n".join(out)


def mask(platform: Platform, text: str) -> str:
    """``text`` with every secret replaced by a placeholder; ``mask(p, mask(p, x)) == mask(p, x)``."""
    text = _PEM.sub(PEM_PLACEHOLDER, text)
    if platform is Platform.CISCO_IOS:
        text = _IOS_CERT_HEX.sub(lambda m: f"{m.group(1)}{CERT_PLACEHOLDER}\n", text)
    for pattern, replace in _COMPILED[platform]:
        text = pattern.sub(replace, text)
    if platform is Platform.FORTIOS:
        text = _fortios_communities(text)
    return text
