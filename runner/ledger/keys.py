"""The ledger's signing key on disk: kept outside the database, private to its owner, never printed.

The private key file (``MAINT_LEDGER_KEY_FILE``, else ``var/keys/ledger.key``) holds one line, the signer
key ``PRIVATE+KEY+<name>+<key id>+<base64 seed>`` (:meth:`runner.ledger.note.Signer.encode`), mode 0600 in a
0700 folder; beside it ``<file>.pub`` (0644) holds the verifier key an auditor needs. A private key file
readable by group or others is refused, as ssh refuses one. No message here ever quotes a key file's content.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from runner.ledger.note import NoteError, Signer, Verifier, parse_signer, parse_verifier
from runner.paths import var_dir

__all__ = [
    "ENV_KEY_FILE",
    "KeyFileError",
    "key_file",
    "load_signer",
    "load_verifier",
    "public_key_file",
    "write_signer",
]

#: the environment variable naming the private key file
ENV_KEY_FILE = "MAINT_LEDGER_KEY_FILE"
#: a key file is one short line; anything longer is not one
_MAX_BYTES = 4096
_PRIVATE_PREFIX = "PRIVATE+KEY+"


class KeyFileError(ValueError):
    """A key file that cannot be read, written or trusted; the message names the file, never its content."""


def key_file() -> Path:
    """``MAINT_LEDGER_KEY_FILE`` when set, else ``var/keys/ledger.key`` (creating nothing)."""
    env = os.environ.get(ENV_KEY_FILE)
    if env:
        return Path(env).expanduser()
    return var_dir(create=False) / "keys" / "ledger.key"


def public_key_file(path: Path) -> Path:
    """Where the public key of private key file ``path`` is written: ``<path>.pub``."""
    return path.with_name(path.name + ".pub")


def _read(path: Path, *, private: bool) -> str:
    """The one line of key file ``path``; a private key must be a regular file only its owner can read.

    A symbolic link is followed (a mounted secret often is one); the checks apply to the file it reaches.
    O_NONBLOCK: a FIFO planted at the path is refused rather than waited on.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        raise KeyFileError(f"{path}: no such key file") from None
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the key file: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(f"{path}: not a regular file")
        mode = stat.S_IMODE(info.st_mode)
        if private and mode & 0o077:
            raise KeyFileError(
                f"{path}: private key file is accessible by group or others (mode {mode:04o}); "
                f"run chmod 600 {path}"
            )
        if info.st_size > _MAX_BYTES:
            raise KeyFileError(f"{path}: {info.st_size} bytes, too large for a key file")
        data = os.read(fd, _MAX_BYTES + 1)
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the key file: {exc.strerror}") from None
    finally:
        os.close(fd)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise KeyFileError(f"{path}: not a key file (not UTF-8 text)") from None
    line = text.removesuffix("\n").removesuffix("\r")
    if not line or "\n" in line:
        raise KeyFileError(f"{path}: a key file holds exactly one line, the key")
    return line


def load_signer(path: Path | None = None) -> Signer | None:
    """The private key in ``path`` (default :func:`key_file`), or None when there is no such file.

    A file named by ``MAINT_LEDGER_KEY_FILE`` must exist: a mistyped path is an error, never a silently
    unsigned ledger.
    """
    named = path is None and bool(os.environ.get(ENV_KEY_FILE))
    path = key_file() if path is None else path
    try:
        path.lstat()
    except (FileNotFoundError, NotADirectoryError):
        if named:
            raise KeyFileError(
                f"{path}: no such key file ({ENV_KEY_FILE} names it; create it with maint ledger keygen)"
            ) from None
        return None
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the key file: {exc.strerror}") from None
    line = _read(path, private=True)
    if not line.startswith(_PRIVATE_PREFIX):
        what = "not a ledger private key"
        try:
            parse_verifier(line)
            what = "a public key, not the private key"
        except NoteError:
            pass
        raise KeyFileError(
            f"{path}: {what}; expected PRIVATE+KEY+<name>+<key id>+<key> (maint ledger keygen)"
        )
    try:
        return parse_signer(line)
    except NoteError as exc:  # its messages never quote the key
        raise KeyFileError(f"{path}: {exc}") from None


def load_verifier(path: Path) -> Verifier:
    """The public key in ``path``: a ``.pub`` file's verifier key, or a private key file's verifier."""
    line = _read(path, private=False)
    if line.startswith(_PRIVATE_PREFIX):
        signer = load_signer(path)  # read again, with a private key file's checks
        if signer is None:
            raise KeyFileError(f"{path}: no such key file")
        return signer.verifier
    try:
        return parse_verifier(line)
    except NoteError as exc:
        raise KeyFileError(f"{path}: {exc}") from None


def _make_dirs(folder: Path) -> None:
    """Create ``folder`` and its missing parents, each one this creates mode 0700."""
    missing: list[Path] = []
    probe = folder
    try:
        while not probe.exists():
            missing.append(probe)
            if probe.parent == probe:
                break
            probe = probe.parent
        for created in reversed(missing):
            try:
                created.mkdir(mode=0o700)
            except FileExistsError:
                continue
            created.chmod(0o700)
        is_dir = folder.is_dir()
    except OSError as exc:
        raise KeyFileError(f"{folder}: cannot create the key folder: {exc.strerror}") from None
    if not is_dir:
        raise KeyFileError(f"{folder}: not a folder")


def _write_new(path: Path, text: str, mode: int) -> None:
    """Write ``text`` to ``path``, which must not exist, created with ``mode`` (O_EXCL, O_NOFOLLOW)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        os.fchmod(fd, mode)  # exactly ``mode``, whatever the umask
        data = text.encode("utf-8")
        while data:
            data = data[os.write(fd, data) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace(path: Path, text: str, mode: int) -> None:
    """Write ``text`` to ``path`` atomically (a new file beside it, then renamed over it)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        _write_new(temporary, text, mode)
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_signer(signer: Signer, path: Path | None = None, *, force: bool = False) -> Path:
    """Write ``signer`` to ``path`` (default :func:`key_file`), mode 0600, its public key to ``<path>.pub``.

    An existing key file is kept (KeyFileError) unless ``force``: checkpoints signed by a replaced key verify
    only with its public key. Returns the private key file's path.
    """
    path = key_file() if path is None else path
    _make_dirs(path.parent)
    secret = signer.encode() + "\n"
    try:
        if force:
            if path.is_dir():
                raise KeyFileError(f"{path}: a folder, not a key file")
            _replace(path, secret, 0o600)
        else:
            _write_new(path, secret, 0o600)
    except FileExistsError:
        raise KeyFileError(f"{path}: a key file already exists; it is kept (--force replaces it)") from None
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot write the key file: {exc.strerror}") from None
    public = public_key_file(path)
    try:
        _replace(public, signer.verifier.encode() + "\n", 0o644)
    except OSError as exc:
        raise KeyFileError(f"{public}: cannot write the public key file: {exc.strerror}") from None
    return path
