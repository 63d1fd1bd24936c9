"""Signed notes and transparency-log checkpoints: C2SP signed-note and tlog-checkpoint, Ed25519 only.

The formats as specified at https://c2sp.org/signed-note and https://c2sp.org/tlog-checkpoint, and as Go's
``golang.org/x/mod/sumdb/note`` implements them (``tests/test_note.py`` checks its test vectors):

- a **note** is a text (valid UTF-8, no control character but newline, ending in a newline), a blank line,
  then one or more signature lines ``"\u2014 <key name> <base64(key id || signature)>\\n"``; the signed
  message is the text, its final newline included. The text may hold blank lines itself: the signatures
  follow the last one. A note read here may also be a bare text without a blank line (an unsigned
  checkpoint): it has no signatures.
- a **key name** is non-empty, without Unicode spaces or ``+``. An Ed25519 key's **id** is the first 4 bytes
  of ``SHA-256(name || 0x0A || 0x01 || 32-byte public key)``; its **verifier key** (vkey) is
  ``<name>+<8 hex key id>+<base64(0x01 || public key)>``, its signer key
  ``PRIVATE+KEY+<name>+<id>+<base64(0x01 || 32-byte seed)>`` (Go's format; a secret: never printed, and no
  error message here ever quotes one).
- a **checkpoint** is a note whose text is: origin line, tree size in decimal (no sign, no leading zero),
  base64 of the 32-byte root hash, then optional non-empty extension lines.

Everything malformed raises :class:`NoteError` (a ``ValueError``) saying what is wrong; nothing else escapes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

__all__ = [
    "ALG_ED25519",
    "MAX_SIGNATURES",
    "Checkpoint",
    "NoteError",
    "Signature",
    "Signer",
    "Verifier",
    "generate_signer",
    "key_id_of",
    "parse_signer",
    "parse_verifier",
    "sign_note",
    "split_note",
    "valid_name",
    "verified_by",
]

#: the signature type byte of Ed25519 in key ids and key encodings (C2SP signed-note, "Signature types")
ALG_ED25519 = 0x01
#: at most this many signature lines in a note (the spec asks for at least 16; Go's note takes 100)
MAX_SIGNATURES = 100
#: the largest tree size a checkpoint may state (an unsigned 64-bit integer, as Go implementations read it)
MAX_TREE_SIZE = 2**64 - 1

_DASH = "\u2014 "
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_HEX_ID = re.compile(r"[0-9a-f]{8}")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteError(ValueError):
    """A note, key or checkpoint that is malformed, or a signature that does not verify."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    """Strict standard base64 (RFC 4648 section 4): padded, no other character, canonical trailing bits."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise NoteError(f"{what} is not valid base64") from None
    if _b64(data) != text:
        raise NoteError(f"{what} is not canonical base64")
    return data


def valid_name(name: str) -> bool:
    """A key name: non-empty, valid UTF-8, no Unicode space, no ``+``, no control character."""
    return (
        bool(name) and "+" not in name and not any(ch.isspace() or ch < " " for ch in name) and _is_utf8(name)
    )


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not valid_name(name):
        raise NoteError("a key name must be non-empty, without spaces, '+' or control characters")


def key_id_of(name: str, public_raw: bytes) -> bytes:
    """The 4-byte id of the Ed25519 key ``public_raw`` (32 bytes) named ``name``."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_raw).digest()[:4]


def _public_raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True, eq=False)
class Verifier:
    """A public key: its name, 4-byte key id and Ed25519 key (the id must be the name's and key's)."""

    name: str
    key_id: bytes
    public: Ed25519PublicKey

    def __post_init__(self) -> None:
        _check_name(self.name)
        if self.key_id != key_id_of(self.name, self.raw):
            raise NoteError(f"key id {self.key_id.hex()} is not the id of key {self.name}'s public key")

    @property
    def raw(self) -> bytes:
        """The 32-byte public key (RFC 8032 encoding)."""
        return _public_raw(self.public)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Verifier):
            return NotImplemented
        return (self.name, self.key_id, self.raw) == (other.name, other.key_id, other.raw)

    def __hash__(self) -> int:
        return hash((self.name, self.key_id, self.raw))

    def encode(self) -> str:
        """The verifier key (vkey): ``<name>+<8 hex key id>+<base64(0x01 || public key)>``."""
        return f"{self.name}+{self.key_id.hex()}+{_b64(bytes([ALG_ED25519]) + self.raw)}"

    @property
    def fingerprint(self) -> str:
        """``SHA256:`` and the unpadded base64 of the public key's SHA-256, as ``ssh-keygen -l`` writes."""
        return "SHA256:" + _b64(hashlib.sha256(self.raw).digest()).rstrip("=")

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` (64 bytes, without key id) is this key's Ed25519 signature of ``message``."""
        try:
            self.public.verify(signature, message)
        except (InvalidSignature, ValueError, TypeError):
            return False
        return True


@dataclass(frozen=True, eq=False)
class Signer:
    """A private key: its name, 4-byte key id and Ed25519 key. Its repr shows no key material."""

    name: str
    key_id: bytes
    private: Ed25519PrivateKey

    def __post_init__(self) -> None:
        _check_name(self.name)
        if self.key_id != key_id_of(self.name, _public_raw(self.private.public_key())):
            raise NoteError(f"key id {self.key_id.hex()} is not the id of key {self.name}'s public key")

    def __repr__(self) -> str:
        return f"Signer(name={self.name!r}, key_id={self.key_id.hex()!r})"

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.key_id, self.private.public_key())

    def encode(self) -> str:
        """The secret signer key: ``PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || 32-byte seed)>``."""
        seed = self.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return f"{_PRIVATE_PREFIX}{self.name}+{self.key_id.hex()}+{_b64(bytes([ALG_ED25519]) + seed)}"

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message`` (deterministic, RFC 8032)."""
        return self.private.sign(message)


def generate_signer(name: str) -> Signer:
    """A new random Ed25519 key named ``name``."""
    _check_name(name)
    private = Ed25519PrivateKey.generate()
    return Signer(name, key_id_of(name, _public_raw(private.public_key())), private)


def _key_parts(text: str, what: str) -> tuple[str, bytes, bytes]:
    """``<name>+<hex id>+<base64 key>`` -> name, key id, key material after the type byte (Ed25519 only).

    The messages never quote ``text``: for a signer key it is a secret.
    """
    if not isinstance(text, str):
        raise NoteError(f"{what}: not text")
    name, sep1, rest = text.partition("+")
    hex_id, sep2, key64 = rest.partition("+")
    if not (sep1 and sep2):
        raise NoteError(f"{what}: expected <name>+<8 hex digit key id>+<base64 key>")
    if not valid_name(name):
        raise NoteError(f"{what}: the key name must be non-empty, without spaces, '+' or control characters")
    if not _HEX_ID.fullmatch(hex_id):
        raise NoteError(f"{what}: the key id must be 8 lowercase hex digits")
    key = _unb64(key64, f"{what}: the key")
    if not key:
        raise NoteError(f"{what}: the key is empty")
    if key[0] != ALG_ED25519:
        raise NoteError(f"{what}: unknown key type 0x{key[0]:02x} (only Ed25519, 0x01, is supported)")
    if len(key) != 33:
        raise NoteError(f"{what}: an Ed25519 key is 32 bytes, not {len(key) - 1}")
    return name, bytes.fromhex(hex_id), key[1:]


def parse_verifier(text: str) -> Verifier:
    """A verifier key ``<name>+<8 hex key id>+<base64(0x01 || 32-byte public key)>``, its key id checked."""
    name, key_id, raw = _key_parts(text, "public key")
    try:
        public = Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise NoteError("public key: not a valid Ed25519 public key") from None
    if key_id != key_id_of(name, raw):
        raise NoteError("public key: the key id does not match the name and key")
    return Verifier(name, key_id, public)


def parse_signer(text: str) -> Signer:
    """A signer key ``PRIVATE+KEY+<name>+<8 hex id>+<base64(0x01 || 32-byte seed)>``, its key id checked."""
    if not isinstance(text, str) or not text.startswith(_PRIVATE_PREFIX):
        raise NoteError(f"private key: expected {_PRIVATE_PREFIX}<name>+<key id>+<base64 key>")
    name, key_id, seed = _key_parts(text[len(_PRIVATE_PREFIX) :], "private key")
    try:
        private = Ed25519PrivateKey.from_private_bytes(seed)
    except ValueError:
        raise NoteError("private key: not a valid Ed25519 seed") from None
    if key_id != key_id_of(name, _public_raw(private.public_key())):
        raise NoteError("private key: the key id does not match the name and key")
    return Signer(name, key_id, private)


@dataclass(frozen=True)
class Signature:
    """One signature line: the key's name and 4-byte id, and the signature bytes after the id."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{_DASH}{self.name} {_b64(self.key_id + self.signature)}\n"


def _note_text(note: str | bytes, what: str = "note") -> str:
    """``note`` as text, checked: valid UTF-8, no control character but newline, non-empty, final newline."""
    if isinstance(note, bytes | bytearray):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError(f"{what} is not valid UTF-8 (byte {exc.start})") from None
    if not isinstance(note, str):
        raise NoteError(f"{what} is not text")
    if not _is_utf8(note):
        raise NoteError(f"{what} is not valid UTF-8 (it holds a lone surrogate)")
    bad = _CONTROL.search(note)
    if bad:
        line = note.count("\n", 0, bad.start()) + 1
        raise NoteError(
            f"{what} line {line}: control character U+{ord(bad.group()):04X} (only newline is allowed)"
        )
    if not note:
        raise NoteError(f"{what} is empty")
    if not note.endswith("\n"):
        raise NoteError(f"{what} does not end with a newline")
    return note


def _parse_signature_line(line: str, number: int) -> Signature:
    where = f"note line {number}"
    if not line.startswith(_DASH):
        raise NoteError(
            f"{where}: expected a signature line '\u2014 <key name> <base64 signature>' after the blank line"
        )
    name, sep, b64 = line[len(_DASH) :].partition(" ")
    if not sep:
        raise NoteError(f"{where}: a signature line is '{_DASH}<key name> <base64>'")
    if not valid_name(name):
        raise NoteError(f"{where}: the key name must be non-empty, without spaces, '+' or control characters")
    raw = _unb64(b64, f"{where}: the signature")
    if len(raw) < 5:
        raise NoteError(
            f"{where}: the signature is {len(raw)} bytes, shorter than a 4-byte key id and a signature"
        )
    return Signature(name, raw[:4], raw[4:])


def split_note(note: str | bytes) -> tuple[str, list[Signature]]:
    """The text of ``note`` (ending in a newline) and its signatures, in order, none verified.

    A note without a blank line is an unsigned text: ``(note, [])``.
    """
    note = _note_text(note)
    split = note.rfind("\n\n")
    if split < 0:
        return note, []
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise NoteError("note ends with a blank line: the signature lines after it are missing")
    first = text.count("\n") + 2  # the number of the block's first line in the note
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has {len(lines)} signature lines, more than {MAX_SIGNATURES}")
    return text, [_parse_signature_line(line, first + i) for i, line in enumerate(lines)]


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    """``text``, a blank line and one signature line per signer (in order): a signed note."""
    text = _note_text(text, "note text")
    if not signers:
        raise NoteError("a signed note needs at least one signer")
    message = text.encode("utf-8")
    lines = [Signature(s.name, s.key_id, s.sign(message)).line() for s in signers]
    note = text + "\n" + "".join(lines)
    if split_note(note)[0] != text:  # cannot happen for a checked text; kept as the format's invariant
        raise NoteError("note text does not survive signing")
    return note


def verified_by(note: str | bytes, verifier: Verifier) -> str:
    """The text of ``note`` when it holds a signature of ``verifier``'s key that verifies.

    Signatures of other keys (another name or key id) are ignored, as the spec requires; every signature of
    this key must verify.
    """
    text, signatures = split_note(note)
    mine = [s for s in signatures if s.name == verifier.name and s.key_id == verifier.key_id]
    if not mine:
        raise NoteError(f"no signature by {verifier.name} (key id {verifier.key_id.hex()})")
    message = text.encode("utf-8")
    if not all(verifier.verify(message, s.signature) for s in mine):
        raise NoteError(f"signature by {verifier.name} (key id {verifier.key_id.hex()}) does not verify")
    return text


def _shown(line: str) -> str:
    return repr(line if len(line) <= 60 else line[:57] + "...")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: origin, tree size, root hash (32 bytes) and extension lines (C2SP tlog-checkpoint)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.extensions, tuple):
            raise NoteError("checkpoint extensions must be a tuple of lines")
        for what, line in [("origin", self.origin), *(("extension", ext) for ext in self.extensions)]:
            if not isinstance(line, str) or not line:
                raise NoteError(f"checkpoint {what} must be a non-empty line")
            if "\n" in line or _CONTROL.search(line) or not _is_utf8(line):
                raise NoteError(f"checkpoint {what} {_shown(line)}: no newline or control character allowed")
        if (
            isinstance(self.size, bool)
            or not isinstance(self.size, int)
            or not 0 <= self.size <= MAX_TREE_SIZE
        ):
            raise NoteError(f"checkpoint size must be an integer from 0 to 2**64-1, not {self.size!r}")
        if not isinstance(self.root, bytes) or len(self.root) != 32:
            raise NoteError("checkpoint root hash must be 32 bytes")

    def body(self) -> str:
        """The note text: ``origin\\nsize\\nbase64(root)\\n`` and one line per extension."""
        return "".join(
            f"{line}\n" for line in (self.origin, str(self.size), _b64(self.root), *self.extensions)
        )

    @classmethod
    def parse(cls, body: str | bytes) -> Checkpoint:
        """A checkpoint from its note text (a signed note goes through :func:`verified_by` first)."""
        body = _note_text(body, "checkpoint")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError(f"checkpoint has {len(lines)} lines, not at least 3 (origin, size, root hash)")
        for number, line in enumerate(lines, start=1):
            if not line:
                what = ("origin", "size", "root hash")[number - 1] if number <= 3 else "extension"
                raise NoteError(f"checkpoint line {number} ({what}) is empty")
        origin, size_text, root_text, *extensions = lines
        if not _DECIMAL.fullmatch(size_text) or int(size_text) > MAX_TREE_SIZE:
            raise NoteError(
                f"checkpoint line 2 (size) {_shown(size_text)}: expected a decimal tree size without sign or "
                "leading zero, at most 2**64-1"
            )
        root = _unb64(root_text, f"checkpoint line 3 (root hash) {_shown(root_text)}")
        if len(root) != 32:
            raise NoteError(f"checkpoint line 3 (root hash): {len(root)} bytes, not a 32-byte SHA-256 hash")
        return cls(origin, int(size_text), root, tuple(extensions))
