"""The nats-server configuration of the site workers' transport (``maint nats-config``), and its users' nkeys.

One account (:data:`runner.sites.ACCOUNT`) holds a ``controller`` user and one user per site the inventories
name. Users authenticate with **nkeys** (Ed25519): the configuration holds only public keys, so it can be
printed, reviewed and committed, and a site is handed one seed file (``site-<site>.nk``, what nats clients
read with ``nkeys_seed``) that lets it in as that site and nothing else. The seeds are written only on request
(``--write-creds DIR``, mode 0600) and never printed.

What each user may do (:func:`permissions`), with the names of :mod:`runner.sites`:

- the controller: publish jobs (``maint.jobs.>``) and their cancellations (``maint.cancel.>``), the
  JetStream API (it creates the streams and consumers),
  acknowledgements and flow control; subscribe to events, heartbeats and its own inbox;
- site ``S``: pull from its own work queue only (``$JS.API.CONSUMER.MSG.NEXT.MAINT_JOBS_S.workers``, that
  consumer's info, and the acks of its messages), publish its events (``maint.events.S.>``) and heartbeats
  (``maint.heartbeats.S.>``), subscribe to its own inbox (``_INBOX_maint_site_S.>``) and its runs'
  cancellations (``maint.cancel.S.>``) and nothing else. No
  site may subscribe to ``maint.jobs.*`` or any other inbox: pulled jobs arrive on the puller's inbox.

TLS is required on every client connection (and by default a client certificate signed by the CA:
``verify``); JetStream stores on disk under the store directory within the limits given.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from runner import sites

#: nkeys prefix bytes (github.com/nats-io/nkeys): a seed, and a user's public key
PREFIX_SEED = 18 << 3
PREFIX_USER = 20 << 3
#: the names of the files in a TLS folder ``--tls-dir`` points at
TLS_FILES = {"cert_file": "server.crt", "key_file": "server.key", "ca_file": "ca.crt"}
#: size suffixes nats-server understands, as ``--max-file-store 10GB`` takes them
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
#: nats-server refuses a max_payload above 64 MB
MAX_PAYLOAD_LIMIT = 64 * 1024**2


class NatsConfigError(Exception):
    """The configuration cannot be made (a bad option, an unusable seed file); the message says which."""


# --------------------------------------------------------------------------- nkeys


def _crc16(data: bytes) -> int:
    """CRC-16/XMODEM, the checksum nkeys append (polynomial 0x1021, initial 0)."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def _encode(raw: bytes) -> str:
    return base64.b32encode(raw + _crc16(raw).to_bytes(2, "little")).decode().rstrip("=")


def _decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 8)
    try:
        raw = base64.b32decode(padded)
    except (binascii.Error, ValueError):
        raise NatsConfigError("not an nkey (base32)") from None
    if len(raw) < 3 or _crc16(raw[:-2]) != int.from_bytes(raw[-2:], "little"):
        raise NatsConfigError("not an nkey (bad checksum)")
    return raw[:-2]


def user_seed(private: bytes) -> str:
    """The nkeys seed text (``SU...``) of a user whose Ed25519 private key is the 32 bytes ``private``."""
    if len(private) != 32:
        raise NatsConfigError("an Ed25519 private key is 32 bytes")
    first = PREFIX_SEED | (PREFIX_USER >> 5)
    second = (PREFIX_USER & 31) << 3
    return _encode(bytes([first, second]) + private)


def new_user_seed() -> str:
    """A new user's nkeys seed, from the operating system's random source."""
    return user_seed(os.urandom(32))


def user_public_key(seed: str) -> str:
    """The public key (``U...``, what the server configuration lists) of a user seed."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = _decode(seed.strip())
    if raw[0] & 0xF8 != PREFIX_SEED:
        raise NatsConfigError("an nkey, but not a seed (a public key?)")
    if len(raw) != 34:
        raise NatsConfigError("not an nkeys seed (wrong length)")
    prefix = ((raw[0] & 7) << 5) | ((raw[1] & 0xF8) >> 3)
    if prefix != PREFIX_USER:
        raise NatsConfigError("an nkeys seed, but not a user's (its public key would not start with U)")
    public = (
        Ed25519PrivateKey.from_private_bytes(raw[2:])
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    return _encode(bytes([PREFIX_USER]) + public)


def creds_file(site: str | None) -> str:
    """The seed file's name of a user: ``controller.nk`` or ``site-<site>.nk``."""
    return "controller.nk" if site is None else f"site-{site}.nk"


def _read_seed(path: Path) -> str:
    try:
        info = path.lstat()
    except OSError as exc:
        raise NatsConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise NatsConfigError(f"{path}: not a regular file (a seed file may not be a link)")
    if info.st_mode & 0o077:
        raise NatsConfigError(
            f"{path}: readable by others (mode {stat.S_IMODE(info.st_mode):04o}): "
            "chmod 600 it, it holds a secret"
        )
    try:
        text = path.read_text(encoding="ascii", errors="strict")
    except (OSError, UnicodeDecodeError):
        raise NatsConfigError(f"{path}: cannot read it as an nkeys seed (ASCII text)") from None
    return text.strip()


def _write_seed(path: Path, seed: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(seed + "\n")


def user_keys(
    creds_dir: Path, site_names: list[str], create: bool
) -> tuple[dict[str | None, str], list[Path]]:
    """site (None: the controller) -> its user's public key, from the seed files in ``creds_dir``; with
    ``create``, a missing seed file is made (new key, mode 0600) and listed second. An existing seed is
    reused, so running again keeps every user's key."""
    if not creds_dir.is_dir():
        if not create:
            raise NatsConfigError(
                f"{creds_dir}: no such folder of nkey seed files (--write-creds makes them)"
            )
        creds_dir.mkdir(mode=0o700, parents=True)
    keys: dict[str | None, str] = {}
    written: list[Path] = []
    for site in [None, *site_names]:
        path = creds_dir / creds_file(site)
        if not path.exists() and not path.is_symlink():
            if not create:
                raise NatsConfigError(
                    f"{path}: missing; --write-creds {creds_dir} makes the missing seed files"
                )
            _write_seed(path, new_user_seed())
            written.append(path)
        seed = _read_seed(path)
        try:
            keys[site] = user_public_key(seed)
        except NatsConfigError as exc:
            raise NatsConfigError(f"{path}: {exc}") from None
        del seed
    return keys, written


# --------------------------------------------------------------------------- permissions


def permissions(site: str | None) -> dict[str, dict[str, list[str]]]:
    """What the controller (None) or one site's user may publish and subscribe to (allow lists: anything
    else is refused with a permissions violation)."""
    if site is None:
        return {
            "publish": {"allow": ["maint.jobs.>", "maint.cancel.>", "$JS.API.>", "$JS.ACK.>", "$JS.FC.>"]},
            "subscribe": {"allow": ["maint.events.>", "maint.heartbeats.>", f"{sites.inbox_prefix(None)}.>"]},
        }
    stream, consumer = sites.jobs_stream(site), sites.JOBS_CONSUMER
    return {
        "publish": {
            "allow": [
                f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}",
                f"$JS.API.CONSUMER.INFO.{stream}.{consumer}",
                f"$JS.ACK.{stream}.{consumer}.>",
                # the further chunks of a large job payload (runner.dispatch.chunk_subject): direct get
                f"$JS.API.DIRECT.GET.{stream}.{sites.jobs_subject(site)}.chunk.>",
                f"maint.events.{site}.>",
                f"maint.heartbeats.{site}.>",
            ]
        },
        # its own inbox, and the controller's word to stop one of its runs (runner.sites.cancel_subject)
        "subscribe": {"allow": [f"{sites.inbox_prefix(site)}.>", f"maint.cancel.{site}.>"]},
    }


# --------------------------------------------------------------------------- the configuration


def parse_size(text: str, what: str) -> int:
    """``10GB``, ``256M``, ``1048576`` -> bytes; :class:`NatsConfigError` naming ``what`` otherwise."""
    found = re.fullmatch(r"\s*(\d{1,15})\s*([KMGT]?)B?\s*", text.upper())
    if found is None or int(found.group(1)) == 0:
        raise NatsConfigError(f"{what}: {text!r} is not a size (a number with K, M, G or T: 10GB, 256MB)")
    return int(found.group(1)) * _UNITS[found.group(2)]


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::]:4222`` for IPv6) -> (host, port)."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    bad_host = not host or re.search(r"[\s\"\\]", host)
    if not sep or bad_host or not port.isdigit() or not 0 < int(port) < 65536:
        raise NatsConfigError(f"--listen: {text!r} is not HOST:PORT (192.0.2.10:4222, [::]:4222)")
    return host, int(port)


@dataclass(frozen=True)
class ServerOptions:
    """Where the server listens, finds its TLS files and stores JetStream data, and its limits."""

    host: str | None = None  # None: every interface (nats-server's default; sites connect from outside)
    port: int = 4222
    tls_dir: Path = Path("/etc/nats-server/tls")
    tls_verify: bool = True
    store_dir: Path = Path("/var/lib/nats-server")  # nats-server keeps its streams in <store_dir>/jetstream
    max_file_store: int = 10 * 1024**3
    max_memory_store: int = 256 * 1024**2
    max_payload: int = 8 * 1024**2


def _text(value: str) -> str:
    """A double-quoted string of the nats-server configuration (no variable is expanded inside quotes)."""
    if any(ord(c) < 32 for c in value) or '"' in value or "\\" in value:
        raise NatsConfigError(f"{value!r}: quotes, backslashes and control characters cannot be written here")
    return json.dumps(value, ensure_ascii=False)


def _subjects(items: list[str]) -> str:
    return "[" + ", ".join(_text(s) for s in items) + "]"


def _size(value: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if value % factor == 0:
            return f"{value}  # {value // factor} {unit}"
    return str(value)


def _user(key: str, site: str | None, note: str) -> list[str]:
    perms = permissions(site)
    return [
        f"      # {note}",
        "      {",
        f"        nkey: {_text(key)}",
        "        permissions: {",
        f"          publish: {{ allow: {_subjects(perms['publish']['allow'])} }}",
        f"          subscribe: {{ allow: {_subjects(perms['subscribe']['allow'])} }}",
        "        }",
        "      }",
    ]


def render(
    options: ServerOptions, site_clients: Mapping[str, list[str]], keys: Mapping[str | None, str]
) -> str:
    """The nats-server configuration text: the server, JetStream, TLS and the maint account's users."""
    for value in (options.max_file_store, options.max_memory_store):
        if value <= 0:
            raise NatsConfigError("JetStream limits must be positive")
    if not 0 < options.max_payload <= MAX_PAYLOAD_LIMIT:
        raise NatsConfigError(
            f"--max-payload: at most {MAX_PAYLOAD_LIMIT // 1024**2}MB (nats-server's limit)"
        )
    missing = [s for s in [None, *site_clients] if s not in keys]
    if missing:
        raise NatsConfigError(f"no nkey for {', '.join(s or 'the controller' for s in missing)}")
    tls = {name: str(options.tls_dir.expanduser().absolute() / file) for name, file in TLS_FILES.items()}
    listed = ", ".join(site_clients) or "none yet"
    lines = [
        "# nats-server configuration of maint's site workers, made by `maint nats-config`",
        f"# sites: {listed}. Run it again (with the same seed folder) after adding a site.",
        "# Only public nkeys are listed here: the seeds stay in the seed folder (one per user, mode 0600).",
        *([f"host: {_text(options.host)}"] if options.host is not None else []),
        f"port: {options.port}",
        f"max_payload: {_size(options.max_payload)}",
        "",
        "jetstream {",
        f"  store_dir: {_text(str(options.store_dir.expanduser().absolute()))}",
        f"  max_file_store: {_size(options.max_file_store)}",
        f"  max_memory_store: {_size(options.max_memory_store)}",
        "}",
        "",
        "# every client connection is TLS"
        + (", with a client certificate signed by the CA" if options.tls_verify else ""),
        "tls {",
        f"  cert_file: {_text(tls['cert_file'])}",
        f"  key_file: {_text(tls['key_file'])}",
        f"  ca_file: {_text(tls['ca_file'])}",
        f"  verify: {'true' if options.tls_verify else 'false'}",
        "  timeout: 5",
        "}",
        "",
        "accounts {",
        f"  {sites.ACCOUNT} {{",
        "    jetstream {",
        f"      max_file: {_size(options.max_file_store)}",
        f"      max_mem: {_size(options.max_memory_store)}",
        "    }",
        "    users: [",
    ]
    lines += _user(keys[None], None, f"controller ({creds_file(None)})")
    for site, clients in site_clients.items():
        lines += _user(keys[site], site, f"site {site} ({creds_file(site)}): clients {', '.join(clients)}")
    lines += ["    ]", "  }", "}", ""]
    return "\n".join(lines)
