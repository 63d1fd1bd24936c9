"""C2SP signed notes and tlog checkpoints (runner/ledger/note.py) against the published vectors.

Vectors, taken as data (no code copied):
- golang.org/x/mod/sumdb/note, note_test.go and example_test.go (github.com/golang/mod at
  fe2ec04f7c3c3aa6fad97631aafcff6e49e2d1db, BSD-3-Clause): the PeterNeumann and EnochRoot keys, notes and
  signatures; EnochRoot is the key GenerateKey makes from an all-zero seed (ExampleSign_add_signatures).
- github.com/transparency-dev/formats, log/note_test.go and log/checkpoint_test.go (Apache-2.0): a real
  sum.golang.org checkpoint with its verifier key, four signer/verifier key pairs, bad checkpoint bodies.
- c2sp.org/signed-note and c2sp.org/tlog-checkpoint (github.com/C2SP/C2SP at
  5ba5ee830903e91240fc6f9f3a7a9293d49e69c9, CC-BY-4.0): the example.com/foo note and vkey, the quasimodo
  note, the behind-the-sofa checkpoint.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from runner.ledger.note import (
    Checkpoint,
    NoteError,
    Signature,
    Signer,
    Verifier,
    generate_signer,
    key_id_of,
    parse_signer,
    parse_verifier,
    sign_note,
    split_note,
    verified_by,
)

PROPERTY = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)

# golang.org/x/mod/sumdb/note
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = (
    "\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "\u2014 EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)
PETER_NOTE = TEXT + "\n" + PETER_SIG

# github.com/transparency-dev/formats log/note_test.go
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_CHECKPOINT = (
    "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n"
    "\u2014 sum.golang.org "
    "Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n"
)
FORMATS_KEY_PAIRS = [
    (
        "PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ",
        "Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs",
    ),
    (
        "PRIVATE+KEY+Known+451c786d+AQPRoE2+Z+Ed1HaHBA9F/FfracvcZ2rDU39kCecMEoci",
        "Known+451c786d+AXAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdUH",
    ),
    (
        "PRIVATE+KEY+KnownAgain+4893b26c+ARhZda/l25zjGZswYLDZsLNRzNpmv5wYTN9IoTr1OJ2+",
        "KnownAgain+4893b26c+AQ+LR7BFF/F/dkpIBjBpSvT0crkteizuUkavAoGeaYMj",
    ),
    (
        "PRIVATE+KEY+Unknown+fdbb2e08+Aav2knTC6orbhXX8pMWuNiWgO+Wwk2DB+h1eU2Q1W1nU",
        "Unknown+fdbb2e08+AWgRIYZ+8x1Vl+1Q+sR8zciNHiYI1SdlBjNw+RV0rots",
    ),
]

# c2sp.org/signed-note and c2sp.org/tlog-checkpoint
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n\u2014 example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
C2SP_POEM = (
    "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned \u00e8 subito sera.\n\n"
    "\u2014 quasimodo.example/salvatore "
    "NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)
C2SP_CHECKPOINT = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "\u2014 example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)
ROOT64 = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="


def enoch() -> Signer:
    """The key Go's GenerateKey makes for EnochRoot from an all-zero random source."""
    private = Ed25519PrivateKey.from_private_bytes(bytes(32))
    return Signer("EnochRoot", key_id_of("EnochRoot", private.public_key().public_bytes_raw()), private)


# --- the Go vectors -----------------------------------------------------------------------------------------


def test_peter_neumann_key_encodings_match_go() -> None:
    signer = parse_signer(PETER_SKEY)
    assert signer.name == "PeterNeumann"
    assert signer.key_id == bytes.fromhex("c74f20a3")
    assert signer.encode() == PETER_SKEY
    assert signer.verifier.encode() == PETER_VKEY
    assert parse_verifier(PETER_VKEY) == signer.verifier
    assert hash(parse_verifier(PETER_VKEY)) == hash(signer.verifier)


def test_sign_gives_go_s_signature_bytes() -> None:
    assert sign_note(TEXT, [parse_signer(PETER_SKEY)]) == PETER_NOTE  # Ed25519 is deterministic


def test_enoch_root_from_zero_seed_and_double_signed_note() -> None:
    signer = enoch()
    assert signer.verifier.encode() == ENOCH_VKEY
    assert (
        signer.encode() == "PRIVATE+KEY+EnochRoot+af0cfe78+" + base64.b64encode(b"\x01" + bytes(32)).decode()
    )
    assert sign_note(TEXT, [parse_signer(PETER_SKEY), signer]) == TEXT + "\n" + PETER_SIG + ENOCH_SIG


def test_go_notes_parse_and_verify() -> None:
    both = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    text, sigs = split_note(both)
    assert text == TEXT
    assert [(s.name, s.key_id.hex(), len(s.signature)) for s in sigs] == [
        ("PeterNeumann", "c74f20a3", 64),
        ("EnochRoot", "af0cfe78", 64),
    ]
    assert [s.line() for s in sigs] == [PETER_SIG, ENOCH_SIG]
    assert verified_by(both, parse_verifier(PETER_VKEY)) == TEXT
    assert verified_by(both, parse_verifier(ENOCH_VKEY)) == TEXT  # the other signature is ignored
    assert verified_by(PETER_NOTE.encode(), parse_verifier(PETER_VKEY)) == TEXT  # bytes too
    with pytest.raises(NoteError, match=r"^no signature by EnochRoot"):
        verified_by(PETER_NOTE, parse_verifier(ENOCH_VKEY))


def test_go_invalid_signature_is_rejected() -> None:
    # note_test.go TestOpen "Invalid signature": four base64 characters inserted into Peter's signature
    note = TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(NoteError, match=r"^signature by PeterNeumann .* does not verify"):
        verified_by(note, parse_verifier(PETER_VKEY))
    # a bad signature of the key is fatal even when a good one is present too (the spec's SHOULD)
    with pytest.raises(NoteError, match="does not verify"):
        verified_by(note + PETER_SIG, parse_verifier(PETER_VKEY))


@pytest.mark.parametrize(
    "message",
    [
        TEXT + "\n",  # a blank line and no signature
        TEXT + "\n" + PETER_SIG[:-1],  # no final newline
        "\x01" + TEXT + "\n" + PETER_SIG,  # a control character
        b"\xff" + (TEXT + "\n" + PETER_SIG).encode(),  # not UTF-8
        TEXT + "\n" + "\u2014 Bad Name " + PETER_SIG.split(" ")[2],  # a space in the name
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",  # a line after the signatures
        TEXT + "\n" + PETER_SIG * 101,  # too many signatures
    ],
    ids=["blank-end", "no-newline", "control", "non-utf8", "bad-name", "unexpected-line", "101-signatures"],
)
def test_go_malformed_notes_are_rejected(message: str | bytes) -> None:
    with pytest.raises(NoteError):
        split_note(message)
    with pytest.raises(NoteError):
        verified_by(message, parse_verifier(PETER_VKEY))


def test_go_unsigned_text_has_no_signature() -> None:
    # Go's Open rejects a bare text; here it is an unsigned note, which no key has signed
    assert split_note(TEXT) == (TEXT, [])
    with pytest.raises(NoteError, match=r"^no signature by PeterNeumann"):
        verified_by(TEXT, parse_verifier(PETER_VKEY))


def manglings(key: str) -> list[str]:
    """note_test.go TestNewVerifier/TestNewSigner: every proper substring, and every byte incremented."""
    out = {key[i:j] for i in range(len(key) + 1) for j in range(i + 1, len(key) + 1)} - {key}
    out |= {key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))}
    return sorted(out)


def test_go_verifier_key_manglings_are_rejected() -> None:
    for bad in manglings(PETER_VKEY):
        with pytest.raises(NoteError):
            parse_verifier(bad)
    # a key of the wrong length and a key of an unknown algorithm, each with its key id adjusted
    with pytest.raises(NoteError, match="not canonical base64"):  # Go reads "EY==" leniently
        parse_verifier("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")
    with pytest.raises(NoteError, match="unknown key type 0x65"):
        parse_verifier("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")


def test_go_signer_key_manglings_are_rejected_without_quoting_the_key() -> None:
    seed64 = PETER_SKEY.rsplit("+", 1)[1]
    for bad in manglings(PETER_SKEY):
        with pytest.raises(NoteError) as caught:
            parse_signer(bad)
        assert seed64[4:-4] not in str(caught.value)
        assert len(bad) < 16 or bad not in str(caught.value)


def test_transparency_dev_key_pairs_and_sumdb_checkpoint() -> None:
    for skey, vkey in FORMATS_KEY_PAIRS:
        assert parse_signer(skey).encode() == skey
        assert parse_signer(skey).verifier == parse_verifier(vkey)
        assert parse_verifier(vkey).encode() == vkey
    body = verified_by(SUMDB_CHECKPOINT, parse_verifier(SUMDB_VKEY))
    checkpoint = Checkpoint.parse(body)
    assert (checkpoint.origin, checkpoint.size, checkpoint.extensions) == (
        "go.sum database tree",
        6476701,
        (),
    )
    assert checkpoint.root == base64.b64decode("mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=")
    assert checkpoint.body() == body


def test_c2sp_examples() -> None:
    assert verified_by(C2SP_NOTE, parse_verifier(C2SP_VKEY)) == "This is an example message.\n"
    # the text may hold a blank line: the signatures follow the last one
    text, sigs = split_note(C2SP_POEM)
    assert text.endswith("\n\ned \u00e8 subito sera.\n")
    assert [s.name for s in sigs] == ["quasimodo.example/salvatore"]
    body, sigs = split_note(C2SP_CHECKPOINT)
    checkpoint = Checkpoint.parse(body)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    assert checkpoint.root == base64.b64decode(ROOT64) and len(checkpoint.root) == 32
    assert [(s.name, s.key_id.hex()) for s in sigs] == [("example.com/behind-the-sofa", "033de0ae")]


# --- tampering and other keys -------------------------------------------------------------------------------


def test_every_one_byte_edit_of_a_signed_note_is_rejected() -> None:
    verifier = parse_verifier(PETER_VKEY)
    original = PETER_NOTE.encode()
    edits = 0
    for i in range(len(original)):
        for edited in (
            original[:i] + bytes([original[i] ^ 0x01]) + original[i + 1 :],
            original[:i] + bytes([original[i] ^ 0x20]) + original[i + 1 :],
            original[:i] + original[i + 1 :],
            original[:i] + b"A" + original[i:],
        ):
            if edited == original:
                continue
            edits += 1
            with pytest.raises(NoteError):
                verified_by(edited, verifier)
    assert edits > 4 * len(original) - 10


def test_another_key_of_the_same_name_is_rejected() -> None:
    peter = parse_verifier(PETER_VKEY)
    impostor = generate_signer("PeterNeumann")
    assert impostor.key_id != peter.key_id
    with pytest.raises(NoteError, match=r"^no signature by PeterNeumann"):
        verified_by(sign_note(TEXT, [impostor]), peter)
    # the impostor's signature under Peter's key id: the id matches, the signature does not
    forged = TEXT + "\n" + Signature("PeterNeumann", peter.key_id, impostor.sign(TEXT.encode())).line()
    with pytest.raises(NoteError, match=r"^signature by PeterNeumann .* does not verify"):
        verified_by(forged, peter)
    with pytest.raises(NoteError, match="does not verify"):
        verified_by(forged + PETER_SIG, peter)
    # a verifier claiming Peter's key id for another key cannot even be built
    with pytest.raises(NoteError, match="is not the id"):
        Verifier("PeterNeumann", peter.key_id, impostor.verifier.public)


def test_signature_of_another_text_is_rejected() -> None:
    signer = parse_signer(PETER_SKEY)
    other = sign_note("another text\n", [signer]).split("\n\n")[1]
    with pytest.raises(NoteError, match="does not verify"):
        verified_by(TEXT + "\n" + other, signer.verifier)


@pytest.mark.parametrize(
    ("note", "problem"),
    [
        (TEXT.rstrip("\n"), "does not end with a newline"),
        ("", "is empty"),
        (TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG!\n", "not valid base64"),
        (TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9U\n", "not valid base64"),  # padding missing
        (TEXT + "\n\u2014 PeterNeumann AAAAAA==\n", "4 bytes, shorter than"),  # a key id, no signature
        (TEXT + "\n\u2014 PeterNeumann QUJDRA==\n", "4 bytes, shorter than"),
        (TEXT + "\n\u2014 PeterNeumann QUJDREF=\n", "not canonical base64"),  # nonzero padding bits
        (TEXT + "\n" + PETER_SIG + "trailing text\n", "note line 5: expected a signature line"),
        (TEXT + "\n\u2014PeterNeumann x08go\n", "expected a signature line"),  # no space after the dash
        (TEXT + "\n- PeterNeumann " + PETER_SIG.split(" ")[2], "expected a signature line"),  # a hyphen
        (TEXT + "\n\u2014 PeterNeumann\n", "a signature line is"),
        (TEXT + "\n\u2014 Peter+Neumann " + PETER_SIG.split(" ")[2], "key name"),
        (TEXT + "\n\u2014  " + PETER_SIG.split(" ")[2], "key name"),  # an empty name
        (TEXT.replace("\n", "\r\n", 1) + "\n" + PETER_SIG, "line 1: control character U+000D"),
        (TEXT + "\n" + PETER_SIG.replace("\n", "\r\n"), "control character U+000D"),
        ("a\tb\n", "control character U+0009"),
        ("a\ud800b\n", "lone surrogate"),
        (b"caf\xc3\n", "not valid UTF-8"),
        (b"\xed\xa0\x80\n", "not valid UTF-8"),  # an encoded surrogate
    ],
)
def test_malformed_notes_name_the_problem(note: str | bytes, problem: str) -> None:
    with pytest.raises(NoteError, match=problem.replace("+", r"\+")):
        split_note(note)


def test_sign_note_refuses_bad_text_and_no_signers() -> None:
    signer = parse_signer(PETER_SKEY)
    with pytest.raises(NoteError, match="does not end with a newline"):
        sign_note("abc", [signer])
    with pytest.raises(NoteError, match="control character"):
        sign_note("a\rb\n", [signer])
    with pytest.raises(NoteError, match="at least one signer"):
        sign_note(TEXT, [])
    # a text with blank lines of its own, even at its end, survives signing
    for text in ("a\n\nb\n", "a\n\n", "\n", "\u2014 PeterNeumann x\n\n"):
        note = sign_note(text, [signer])
        assert verified_by(note, signer.verifier) == text


@pytest.mark.parametrize(
    "name", ["", "a b", "a+b", "a\tb", "a\nb", "a\u00a0b", "a\u2003b", "a\x00b", "\ud800"]
)
def test_bad_key_names_are_refused(name: str) -> None:
    with pytest.raises(NoteError, match="key name"):
        generate_signer(name)


def test_generated_keys_round_trip_and_verify() -> None:
    # note_test.go TestGenerateKey: a generated pair is self-consistent; a corrupt signature or message fails
    signer = generate_signer("maint-ledger/0123abcd/acme")
    assert parse_signer(signer.encode()).verifier == signer.verifier
    verifier = parse_verifier(signer.verifier.encode())
    assert verifier == signer.verifier and verifier.key_id == signer.key_id
    signature = signer.sign(b"hi")
    assert verifier.verify(b"hi", signature)
    assert not verifier.verify(b"hi", bytes([signature[0] ^ 1]) + signature[1:])
    assert not verifier.verify(b"hI", signature)
    assert not verifier.verify(b"hi", signature[:63])
    assert generate_signer("x").verifier != generate_signer("x").verifier


def test_signer_repr_and_fingerprint_show_no_secret() -> None:
    signer = parse_signer(PETER_SKEY)
    seed64 = PETER_SKEY.rsplit("+", 1)[1]
    assert seed64 not in repr(signer) and seed64 not in str(signer)
    assert repr(signer) == "Signer(name='PeterNeumann', key_id='c74f20a3')"
    raw = base64.b64decode(PETER_VKEY.rsplit("+", 1)[1])[1:]
    digest = base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")
    assert signer.verifier.fingerprint == "SHA256:" + digest
    assert len(signer.verifier.fingerprint) == len("SHA256:") + 43


# --- checkpoints --------------------------------------------------------------------------------------------


def test_checkpoint_body_format() -> None:
    checkpoint = Checkpoint("maint-ledger/0f3a/acme", 12, bytes(range(32)), ("time 2026-12-01T15:00:00Z",))
    assert checkpoint.body() == (
        "maint-ledger/0f3a/acme\n12\n"
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
        "time 2026-12-01T15:00:00Z\n"
    )
    assert Checkpoint.parse(checkpoint.body()) == checkpoint
    empty = Checkpoint("log", 0, hashlib.sha256(b"").digest())
    assert empty.body() == "log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
    assert Checkpoint.parse(empty.body()) == empty


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        # transparency-dev/formats log/checkpoint_test.go's invalid bodies (with a 32-byte root)
        ("Head\n9944\n", "2 lines, not at least 3"),
        (f"\n9944\n{ROOT64}\n", "line 1 \\(origin\\) is empty"),
        (f"Log\n123\n{ROOT64}", "does not end with a newline"),
        (f"Log\nbananas\n{ROOT64}\n", "line 2 \\(size\\)"),
        (f"Log\n-34\n{ROOT64}\n", "line 2 \\(size\\)"),
        (f"Log\n3438945738945739845734895735\n{ROOT64}\n", "line 2 \\(size\\)"),
        ("Log\n123\nThisIsn'tBase64\n", "line 3 \\(root hash\\)"),
        (f"Log\n9944\n{ROOT64}\n\n\n\n", "line 4 \\(extension\\) is empty"),  # Go keeps them as rest
        # the tlog-checkpoint rules
        (f"Log\n012\n{ROOT64}\n", "line 2 \\(size\\)"),
        (f"Log\n+12\n{ROOT64}\n", "line 2 \\(size\\)"),
        (f"Log\n 12\n{ROOT64}\n", "line 2 \\(size\\)"),
        (f"Log\n\u0661\u0662\n{ROOT64}\n", "line 2 \\(size\\)"),  # Arabic-Indic digits
        (f"Log\n{2**64}\n{ROOT64}\n", "line 2 \\(size\\)"),
        ("Log\n1" + "0" * 5000 + f"\n{ROOT64}\n", "line 2 \\(size\\)"),
        ("Log\n12\nYmFuYW5hcw==\n", "7 bytes, not a 32-byte"),
        (f"Log\n12\n{ROOT64[:-1]}\n", "line 3 \\(root hash\\)"),
        (f"Log\n12\n{ROOT64}\next\n\nmore\n", "line 5 \\(extension\\) is empty"),
        (f"Log\n12\n{ROOT64}\n\n\u2014 Log AAAAAAAA\n", "line 4 \\(extension\\) is empty"),  # a signed note
        (f"Log\r\n12\n{ROOT64}\n", "control character U\\+000D"),
        (b"L\xffg\n12\n" + ROOT64.encode() + b"\n", "not valid UTF-8"),
    ],
)
def test_malformed_checkpoints_name_the_line(body: str | bytes, problem: str) -> None:
    with pytest.raises(NoteError, match=problem):
        Checkpoint.parse(body)


def test_checkpoint_largest_size_and_bad_fields() -> None:
    assert Checkpoint.parse(f"Log\n{2**64 - 1}\n{ROOT64}\n").size == 2**64 - 1
    root = bytes(32)
    for bad in (
        dict(origin="", size=1, root=root),
        dict(origin="a\nb", size=1, root=root),
        dict(origin="a", size=-1, root=root),
        dict(origin="a", size=2**64, root=root),
        dict(origin="a", size=True, root=root),
        dict(origin="a", size=1, root=bytes(31)),
        dict(origin="a", size=1, root=root, extensions=("",)),
        dict(origin="a", size=1, root=root, extensions=("x\ny",)),
        dict(origin="a", size=1, root=root, extensions=("x\ry",)),
    ):
        with pytest.raises(NoteError):
            Checkpoint(**bad)  # type: ignore[arg-type]


lines = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)


@PROPERTY
@given(
    origin=lines,
    size=st.integers(0, 2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(lines, max_size=4).map(tuple),
)
def test_checkpoint_body_parse_round_trip(
    origin: str, size: int, root: bytes, extensions: tuple[str, ...]
) -> None:
    checkpoint = Checkpoint(origin, size, root, extensions)
    body = checkpoint.body()
    assert Checkpoint.parse(body) == checkpoint
    assert Checkpoint.parse(body.encode()) == checkpoint
    signer = enoch()
    assert Checkpoint.parse(verified_by(sign_note(body, [signer]), signer.verifier)) == checkpoint


# --- arbitrary input: NoteError or success, never another exception -----------------------------------------

# text that looks like notes: pieces of real ones (mostly whole lines), separators and troublemakers
note_like = st.lists(
    st.sampled_from(
        [
            "\n",
            "\n",
            "line\n",
            TEXT,
            PETER_SIG,
            PETER_SIG,
            ENOCH_SIG,
            "\u2014 x AAAAAAAA\n",
            "\u2014 PeterNeumann QUJDREF=\n",
            "\u2014 ",
            " ",
            "+",
            "=",
            "\r",
            "\x00",
            "\ud800",
            "\u00e8",
        ]
    ),
    max_size=8,
).map("".join)
checkpoint_like = st.lists(
    st.sampled_from(
        [
            "Log\n",
            "12\n",
            "0\n",
            "012\n",
            ROOT64 + "\n",
            "YmFuYW5hcw==\n",
            "time 2026-12-01T15:00:00Z\n",
            "\n",
            "x",
            "\r",
        ]
    ),
    max_size=6,
).map("".join)
# a text, a blank line, signature lines (good, bad, another text's), sometimes a damaged end
signed_like = st.builds(
    lambda text, sigs, tail: text + "\n" + "".join(sigs) + tail,
    st.sampled_from([TEXT, "line\n", "a\n\nb\n", "\n", "Log\n12\n" + ROOT64 + "\n", "x"]),
    st.lists(
        st.sampled_from(
            [PETER_SIG, ENOCH_SIG, "\u2014 x AAAAAAAA\n", "\u2014 PeterNeumann QUJDREF=\n", "\u2014 y\n"]
        ),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from(["", "", "", "x", "\n", "\r", PETER_SIG[:-1]]),
)
any_text = st.one_of(note_like, signed_like, st.text(st.characters(blacklist_categories=()), max_size=200))


def _split_or_note_error(note: str | bytes) -> None:
    try:
        text, sigs = split_note(note)
    except NoteError:
        return
    whole = note.decode("utf-8") if isinstance(note, bytes) else note
    # what parses is exactly what it says: text, a blank line, the signature lines
    assert whole == (text + "\n" + "".join(s.line() for s in sigs) if sigs else text)


@PROPERTY
@given(any_text)
def test_split_note_on_arbitrary_text(note: str) -> None:
    _split_or_note_error(note)
    with contextlib.suppress(NoteError):
        verified_by(note, parse_verifier(PETER_VKEY))


@PROPERTY
@given(st.binary(max_size=200))
def test_split_note_on_arbitrary_bytes(note: bytes) -> None:
    _split_or_note_error(note)


@PROPERTY
@given(
    st.one_of(
        any_text,
        st.binary(max_size=200),
        st.lists(st.sampled_from(["Log", "12", ROOT64, "\n", "x"]), max_size=8).map("".join),
    )
)
def test_checkpoint_parse_on_arbitrary_input(body: str | bytes) -> None:
    try:
        checkpoint = Checkpoint.parse(body)
    except NoteError:
        return
    assert checkpoint.body() == (body.decode("utf-8") if isinstance(body, bytes) else body)


@PROPERTY
@given(st.text(st.characters(blacklist_categories=()), max_size=120))
def test_key_parsers_on_arbitrary_text(text: str) -> None:
    for parse in (parse_verifier, parse_signer):
        with contextlib.suppress(NoteError):
            parse(text)


@PROPERTY
@given(
    position=st.integers(0, len(PETER_NOTE)),
    char=st.characters(blacklist_categories=()),
    op=st.sampled_from(["replace", "insert", "delete"]),
)
def test_any_one_character_edit_fails_verification(position: int, char: str, op: str) -> None:
    head, tail = PETER_NOTE[:position], PETER_NOTE[position:]
    edited = {"replace": head + char + tail[1:], "insert": head + char + tail, "delete": head + tail[1:]}[op]
    if edited == PETER_NOTE:
        return
    with pytest.raises(NoteError):
        verified_by(edited, parse_verifier(PETER_VKEY))
