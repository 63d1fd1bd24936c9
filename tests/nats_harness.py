"""A real nats-server for the tests of the site workers' transport (issue 17).

- :func:`make_pki`: a CA, the server's certificate (127.0.0.1, localhost) and client certificates, made with
  ``cryptography`` in a temporary folder;
- :class:`NatsServer`: ``maint nats-config`` writes the configuration (and the users' nkey seeds), then
  Debian's ``nats-server`` runs it on 127.0.0.1 on a free port with its JetStream store in the same folder;
- :func:`connect`: a nats-py client as the controller or as one site (TLS with its client certificate, its
  nkey seed file, its own inbox prefix), recording the errors the server sends (permissions violations);
- :func:`declare_site`: the streams and the consumer of one site, created as the controller does.

Nothing listens anywhere but 127.0.0.1. Tests skip loudly when nats-server is not installed (``.ci/run``
installs it).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from runner import natsconf, sites
from runner.cli import app
from runner.natsconf import creds_file

SKIP_REASON = "!!! NATS TESTS SKIPPED: nats-server is not installed (apt-get install nats-server) !!!"


def nats_server_binary() -> str | None:
    return shutil.which("nats-server") or next(
        (p for p in ("/usr/sbin/nats-server", "/usr/bin/nats-server") if Path(p).is_file()), None
    )


def require_nats_server() -> str:
    found = nats_server_binary()
    if found is None:
        pytest.skip(SKIP_REASON)
    return found


# --------------------------------------------------------------------------- certificates


@dataclass(frozen=True)
class Pki:
    """The files of a test PKI: ``tls/`` holds what ``maint nats-config --tls-dir`` names."""

    tls_dir: Path
    ca: Path
    clients: dict[str, tuple[Path, Path]]  # name -> (certificate, key)


def _name(common: str) -> Any:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _write_key(key: Any, path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _issue(common: str, ca_key: Any, ca_name: Any, *, server: bool, key: Any) -> Any:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return builder.sign(ca_key, hashes.SHA256())


def make_pki(folder: Path, client_names: list[str]) -> Pki:
    """A CA, a server certificate for 127.0.0.1 and one client certificate per name, under ``folder``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    tls = folder / "tls"
    tls.mkdir(parents=True)
    ca_key = _key()
    ca_name = _name("maint test CA")
    now = dt.datetime.now(dt.UTC)
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (tls / "ca.crt").write_bytes(ca_cert.public_bytes(pem))
    server_key = _key()
    server_cert = _issue("localhost", ca_key, ca_name, server=True, key=server_key)
    (tls / "server.crt").write_bytes(server_cert.public_bytes(pem))
    _write_key(server_key, tls / "server.key")
    clients: dict[str, tuple[Path, Path]] = {}
    for name in client_names:
        key = _key()
        cert = _issue(name, ca_key, ca_name, server=False, key=key)
        cert_path, key_path = folder / f"client-{name}.crt", folder / f"client-{name}.key"
        cert_path.write_bytes(cert.public_bytes(pem))
        _write_key(key, key_path)
        clients[name] = (cert_path, key_path)
    return Pki(tls_dir=tls, ca=tls / "ca.crt", clients=clients)


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class NatsServer:
    """A running nats-server made from ``maint nats-config`` (see :func:`nats_server`)."""

    folder: Path
    port: int
    config: Path
    creds: Path
    pki: Pki
    log: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"tls://127.0.0.1:{self.port}"

    def seed_file(self, site: str | None) -> Path:
        return self.creds / creds_file(site)

    def tls_context(self, client: str | None) -> ssl.SSLContext:
        """Trusting the test CA; presenting the client certificate ``client`` (None: no certificate)."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(self.pki.ca))
        if client is not None:
            cert, key = self.pki.clients[client]
            context.load_cert_chain(str(cert), str(key))
        return context

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.is_file() else ""


def write_config(inventories: Path, folder: Path, pki: Pki, port: int, *extra: str) -> tuple[Path, Path]:
    """``maint nats-config`` for ``inventories`` into ``folder/nats.conf`` (seeds in ``folder/creds``)."""
    creds = folder / "creds"
    result = CliRunner().invoke(
        app,
        [
            "nats-config",
            "--inventories",
            str(inventories),
            "--tls-dir",
            str(pki.tls_dir),
            "--store-dir",
            str(folder / "store"),
            "--listen",
            f"127.0.0.1:{port}",
            "--write-creds",
            str(creds),
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    config = folder / "nats.conf"
    config.write_text(result.stdout)
    return config, creds


def _wait_ready(server: NatsServer, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    assert server.process is not None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"nats-server exited ({server.process.returncode}):\n{server.log_text()}")
        if "Server is ready" in server.log_text():
            return
        time.sleep(0.05)
    raise AssertionError(f"nats-server not ready within {timeout:.0f} s:\n{server.log_text()}")


#: the seed file of the test-only user allowed every subject (:func:`nats_server` with ``superuser``)
SUPERUSER_SEED = "test-superuser.nk"


@contextmanager
def nats_server(
    inventories: Path, folder: Path, client_names: list[str], *, superuser: bool = False
) -> Iterator[NatsServer]:
    """nats-server on 127.0.0.1 running the configuration ``maint nats-config`` makes for ``inventories``;
    client certificates for ``client_names``. Stopped (and waited for) on exit.

    ``superuser``: one more user in the maint account, allowed every subject (its seed
    :data:`SUPERUSER_SEED` in the seed folder): a test's recorder of every message. Never in what
    ``maint nats-config`` prints."""
    binary = require_nats_server()
    folder.mkdir(parents=True, exist_ok=True)
    pki = make_pki(folder, client_names)
    port = free_port()
    config, creds = write_config(inventories, folder, pki, port)
    if superuser:
        seed = natsconf.new_user_seed()
        (creds / SUPERUSER_SEED).write_text(seed + "\n")
        (creds / SUPERUSER_SEED).chmod(0o600)
        text = config.read_text()
        assert "    users: [\n" in text
        key = natsconf.user_public_key(seed)
        entry = f'      # the recorder of every message (test only)\n      {{ nkey: "{key}" }}\n'
        config.write_text(text.replace("    users: [\n", "    users: [\n" + entry, 1))
    check = subprocess.run([binary, "-c", str(config), "-t"], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    server = NatsServer(
        folder=folder, port=port, config=config, creds=creds, pki=pki, log=folder / "nats.log"
    )
    with server.log.open("wb") as log:
        server.process = subprocess.Popen(
            [binary, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        _wait_ready(server)
        yield server
    finally:
        server.process.terminate()
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=15)


# --------------------------------------------------------------------------- clients


@dataclass
class Connection:
    """A nats-py client and the errors the server sent it (``-ERR 'Permissions Violation ...'``)."""

    nc: Any
    errors: list[str]

    def violations(self) -> list[str]:
        return [e for e in self.errors if "permissions violation" in e.lower()]


async def connect(
    server: NatsServer,
    site: str | None,
    *,
    cert: str | None = "default",
    seed: Path | None = None,
    **options: Any,
) -> Connection:
    """Connect as the controller (``site`` None) or as ``site``: its seed file, its inbox prefix, TLS with
    the client certificate ``cert`` (``"default"``: the one named like the user; None: none)."""
    import nats

    errors: list[str] = []

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    name = "controller" if site is None else site
    nc = await nats.connect(
        server.url,
        tls=server.tls_context(name if cert == "default" else cert),
        tls_hostname="127.0.0.1",
        nkeys_seed=str(seed or server.seed_file(site)),
        inbox_prefix=sites.inbox_prefix(site),
        error_cb=on_error,
        allow_reconnect=False,
        connect_timeout=5,
        max_reconnect_attempts=0,
        **options,
    )
    return Connection(nc=nc, errors=errors)


async def declare_site(controller: Any, site: str) -> None:
    """Create a site's work-queue stream and its workers' durable pull consumer, and its events stream, as
    the controller (``controller``: its nats-py client)."""
    from nats.js.api import (
        AckPolicy,
        ConsumerConfig,
        RetentionPolicy,
        StorageType,
        StreamConfig,
    )

    js = controller.jetstream()
    await js.add_stream(
        StreamConfig(
            name=sites.jobs_stream(site),
            subjects=[sites.jobs_subject(site)],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            max_bytes=64 * 1024**2,
        )
    )
    await js.add_consumer(
        sites.jobs_stream(site),
        ConsumerConfig(
            durable_name=sites.JOBS_CONSUMER,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=60,
            max_deliver=5,
        ),
    )
    await js.add_stream(
        StreamConfig(
            name=sites.events_stream(site),
            subjects=[f"maint.events.{site}.>"],
            storage=StorageType.FILE,
            max_bytes=64 * 1024**2,
        )
    )
