"""The ledger's key files (runner/ledger/keys.py): where they are, their modes, and that no key leaks."""

from __future__ import annotations

import os
import stat
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.ledger import keys
from runner.ledger.keys import (
    KeyFileError,
    key_file,
    load_signer,
    load_verifier,
    public_key_file,
    write_signer,
)
from runner.ledger.note import Signer, generate_signer, parse_signer

PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SEED64 = PETER_SKEY.rsplit("+", 1)[1]


@pytest.fixture(autouse=True)
def no_configured_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(keys.ENV_KEY_FILE, raising=False)


@pytest.fixture
def umask() -> Iterator[None]:
    """A permissive umask while the test runs: the modes written must not depend on it."""
    old = os.umask(0o000)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leaks(exc: BaseException, secret: str) -> bool:
    """Whether ``secret`` (or most of it) shows in the exception's message, repr or printed traceback."""
    shown = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    return any(piece in text for text in shown for piece in (secret, secret[4:-4]))


def test_the_leak_detector_detects() -> None:
    assert leaks(ValueError(f"bad key {PETER_SKEY}"), PETER_SEED64)
    try:
        try:
            raise ValueError(PETER_SEED64[2:-2])
        except ValueError as inner:
            raise KeyFileError("outer") from inner
    except KeyFileError as exc:
        assert leaks(exc, PETER_SEED64)  # a chained cause is printed, so it counts


def test_write_signer_creates_0600_in_0700_folders_and_the_public_key(tmp_path: Path, umask: None) -> None:
    signer = parse_signer(PETER_SKEY)
    path = tmp_path / "deep" / "keys" / "ledger.key"
    assert write_signer(signer, path) == path
    assert mode(path) == 0o600
    assert mode(tmp_path / "deep") == 0o700 and mode(tmp_path / "deep" / "keys") == 0o700
    assert path.read_text() == PETER_SKEY + "\n"
    public = public_key_file(path)
    assert public == tmp_path / "deep" / "keys" / "ledger.key.pub"
    assert mode(public) == 0o644
    assert public.read_text() == PETER_VKEY + "\n"
    loaded = load_signer(path)
    assert loaded is not None and loaded.encode() == PETER_SKEY
    assert load_verifier(public) == signer.verifier
    assert load_verifier(path) == signer.verifier  # a private key file gives its public key too
    assert sorted(p.name for p in path.parent.iterdir()) == ["ledger.key", "ledger.key.pub"]


def test_modes_do_not_depend_on_a_strict_umask(tmp_path: Path) -> None:
    old = os.umask(0o277)
    try:
        path = write_signer(generate_signer("acme"), tmp_path / "k" / "ledger.key")
    finally:
        os.umask(old)
    assert (mode(path.parent), mode(path), mode(public_key_file(path))) == (0o700, 0o600, 0o644)


def test_write_signer_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    first, second = generate_signer("acme"), generate_signer("acme")
    write_signer(first, path)
    with pytest.raises(KeyFileError) as caught:
        write_signer(second, path)
    assert str(caught.value) == f"{path}: a key file already exists; it is kept (--force replaces it)"
    assert not leaks(caught.value, first.encode()) and not leaks(caught.value, second.encode())
    assert path.read_text() == first.encode() + "\n"
    assert public_key_file(path).read_text() == first.verifier.encode() + "\n"
    write_signer(second, path, force=True)
    assert path.read_text() == second.encode() + "\n" and mode(path) == 0o600
    assert load_verifier(public_key_file(path)) == second.verifier
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.key", "ledger.key.pub"]  # no temporary


def test_an_existing_folder_is_left_as_it_is(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    write_signer(generate_signer("acme"), folder / "ledger.key")
    assert mode(folder) == 0o755


def test_write_signer_does_not_follow_a_planted_symlink(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    (tmp_path / "ledger.key").symlink_to(target)
    with pytest.raises(KeyFileError, match="already exists"):
        write_signer(generate_signer("acme"), tmp_path / "ledger.key")
    assert not target.exists()


def test_load_signer_without_a_file_is_none(tmp_path: Path) -> None:
    assert load_signer(tmp_path / "nothing" / "ledger.key") is None
    assert load_signer() is None  # var/keys/ledger.key of this test's MAINT_VAR


@pytest.mark.parametrize("file_mode", [0o644, 0o640, 0o604, 0o660, 0o601])
def test_load_signer_refuses_a_key_others_can_read(tmp_path: Path, file_mode: int) -> None:
    path = tmp_path / "ledger.key"
    path.write_text(PETER_SKEY + "\n")
    path.chmod(file_mode)
    with pytest.raises(KeyFileError) as caught:
        load_signer(path)
    message = str(caught.value)
    assert message == (
        f"{path}: private key file is accessible by group or others (mode {file_mode:04o}); "
        f"run chmod 600 {path}"
    )
    assert "\n" not in message and not leaks(caught.value, PETER_SEED64)
    with pytest.raises(KeyFileError, match="accessible by group or others"):
        load_verifier(path)  # read as a public key, it is still a private key file
    path.chmod(0o400)
    assert load_signer(path) is not None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (PETER_SKEY.replace("c74f20a3", "c74f20a4") + "\n", "the key id does not match"),
        (PETER_SKEY + "\n" + PETER_SKEY + "\n", "exactly one line"),
        (PETER_SKEY + " \n", "not canonical base64|not valid base64"),
        (PETER_SKEY[:-4] + "\n", "not valid base64|32 bytes"),
        (PETER_SKEY[:-1] + "!\n", "not valid base64"),
        ("\n" + PETER_SKEY + "\n", "exactly one line"),
        (PETER_SKEY.replace("PRIVATE+KEY+", "PRIVATE+KEY+Peter Neumann+", 1) + "\n", "key name|id"),
        (PETER_SKEY.removeprefix("PRIVATE+KEY+") + "\n", "not a ledger private key"),
        (PETER_VKEY + "\n", "a public key, not the private key"),
        ("", "exactly one line"),
    ],
)
def test_a_malformed_key_file_names_the_file_never_the_key(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "ledger.key"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match=problem) as caught:
        load_signer(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert "\n" not in str(caught.value)
    assert not leaks(caught.value, PETER_SEED64)


def test_binary_and_oversized_key_files_leak_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    secret = PETER_SKEY.encode()
    for data, problem in ((b"\xff" + secret + b"\n", "not UTF-8"), (secret * 200, "too large")):
        path.write_bytes(data)
        path.chmod(0o600)
        with pytest.raises(KeyFileError, match=problem) as caught:
            load_signer(path)
        assert not leaks(caught.value, PETER_SEED64)


def test_what_is_not_a_key_file(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir(mode=0o700)
    with pytest.raises(KeyFileError, match="not a regular file"):
        load_signer(tmp_path / "folder")
    os.mkfifo(tmp_path / "fifo", 0o600)
    with pytest.raises(KeyFileError, match="not a regular file"):
        load_signer(tmp_path / "fifo")  # refused, not waited on
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    with pytest.raises(KeyFileError, match="no such key file"):
        load_signer(tmp_path / "dangling")
    with pytest.raises(KeyFileError, match="no such key file"):
        load_verifier(tmp_path / "missing.pub")
    (tmp_path / "bad.pub").write_text("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n")
    with pytest.raises(KeyFileError, match=r"^.*bad\.pub: public key: the key id does not match"):
        load_verifier(tmp_path / "bad.pub")


def test_a_symlink_to_a_private_key_is_followed(tmp_path: Path) -> None:
    real = write_signer(parse_signer(PETER_SKEY), tmp_path / "secrets" / "ledger.key")
    link = tmp_path / "ledger.key"
    link.symlink_to(real)
    loaded = load_signer(link)
    assert loaded is not None and loaded.verifier.encode() == PETER_VKEY


def test_maint_ledger_key_file_is_respected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "elsewhere" / "maint.key"
    monkeypatch.setenv("MAINT_LEDGER_KEY_FILE", str(path))
    assert key_file() == path
    with pytest.raises(KeyFileError, match=r"no such key file \(MAINT_LEDGER_KEY_FILE names it"):
        load_signer()  # a path named on purpose must exist: never a silently unsigned ledger
    signer = generate_signer("acme")
    assert write_signer(signer) == path
    assert mode(path) == 0o600
    loaded = load_signer()
    assert isinstance(loaded, Signer) and loaded.encode() == signer.encode()
    assert not (tmp_path / "var" / "keys").exists()


def test_the_default_key_file_is_under_maint_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    var = tmp_path / "custom-var"
    monkeypatch.setenv("MAINT_VAR", str(var))
    assert key_file() == var.resolve() / "keys" / "ledger.key"
    assert not var.exists()  # asking where the key is creates nothing
    signer = generate_signer("acme")
    write_signer(signer)
    assert mode(var / "keys") == 0o700 and mode(var / "keys" / "ledger.key") == 0o600
    loaded = load_signer()
    assert loaded is not None and loaded.verifier == signer.verifier
