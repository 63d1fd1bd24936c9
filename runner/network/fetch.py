"""Fetch a device's configuration with netmiko, from the controller.

:func:`fetch_config` returns the raw text or raises a :class:`FetchError` subclass whose ``reason``
is one of :class:`FetchFailure` (auth failed, timeout, refused, dropped, unexpected prompt/output).
The raw text holds secrets: callers keep it out of task results, logs and artifacts (see
``plugins/action/network_config.py``). Credentials never appear in an error message.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import paramiko  # type: ignore[import-untyped]
from netmiko import ConnectHandler
from netmiko.exceptions import (
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadException,
    ReadTimeout,
)
from paramiko.ssh_exception import NoValidConnectionsError  # type: ignore[import-untyped]

from runner.network.platforms import NetworkConfigError, Platform, detect_platform

log = logging.getLogger(__name__)

#: the command that shows the restorable configuration, per platform
CONFIG_COMMANDS: dict[Platform, str] = {
    Platform.CISCO_IOS: "show running-config",
    Platform.ARUBA_AOSCX: "show running-config",
    Platform.ARUBA_AOSS: "show running-config",
    Platform.FORTIOS: "show",
}


class FetchFailure(StrEnum):
    AUTH_FAILED = "authentication failed"
    TIMEOUT = "timeout"
    REFUSED = "connection refused"
    HOST_KEY = "host key not trusted"
    DROPPED = "connection dropped"
    UNEXPECTED_PROMPT = "unexpected prompt"
    UNEXPECTED_OUTPUT = "unexpected output"


class FetchError(Exception):
    """The configuration could not be fetched; ``reason`` says why in one word group."""

    reason: FetchFailure = FetchFailure.UNEXPECTED_OUTPUT

    def __init__(self, target: FetchTarget, detail: str) -> None:
        super().__init__(f"{target.name} ({target.host}:{target.port}): {self.reason.value}: {detail}")
        self.target = target
        self.detail = detail


class AuthFailed(FetchError):
    reason = FetchFailure.AUTH_FAILED


class FetchTimeout(FetchError):
    reason = FetchFailure.TIMEOUT


class Refused(FetchError):
    reason = FetchFailure.REFUSED


class HostKeyRejected(FetchError):
    reason = FetchFailure.HOST_KEY


class Dropped(FetchError):
    reason = FetchFailure.DROPPED


class UnexpectedPrompt(FetchError):
    reason = FetchFailure.UNEXPECTED_PROMPT


class UnexpectedOutput(FetchError):
    reason = FetchFailure.UNEXPECTED_OUTPUT


@dataclass(frozen=True)
class FetchTarget:
    """Where and how to reach one device. ``password`` / ``secret`` are excluded from repr."""

    name: str
    platform: Platform
    host: str
    port: int = 22
    username: str = ""
    password: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)
    conn_timeout: float = 10.0
    read_timeout: float = 60.0
    known_hosts: Path | None = None  # None: the user's ~/.ssh/known_hosts (strict either way)


def _params(target: FetchTarget) -> dict[str, object]:
    params: dict[str, object] = {
        "device_type": target.platform.netmiko_device_type,
        "host": target.host,
        "port": target.port,
        "username": target.username,
        "password": target.password,
        "secret": target.secret,
        "conn_timeout": target.conn_timeout,
        "auth_timeout": target.conn_timeout,
        "banner_timeout": target.conn_timeout,
        "read_timeout_override": target.read_timeout,
        "allow_agent": False,
        "use_keys": False,
        "ssh_strict": True,  # an unknown or changed host key is refused, never added silently
        "session_log": None,
    }
    if target.known_hosts is not None:
        params.update(system_host_keys=False, alt_host_keys=True, alt_key_file=str(target.known_hosts))
    else:
        params.update(system_host_keys=True)
    return params


def _chain(exc: BaseException) -> list[BaseException]:
    chain = [exc]
    while True:
        nxt = chain[-1].__cause__ or chain[-1].__context__
        if nxt is None or nxt in chain:
            return chain
        chain.append(nxt)


def _refused(chain: list[BaseException]) -> bool:
    for e in chain:
        if isinstance(e, ConnectionRefusedError):
            return True
        if isinstance(e, NoValidConnectionsError):
            return all(isinstance(err, ConnectionRefusedError) for err in e.errors.values())
    return False


def _classify(target: FetchTarget, exc: BaseException, *, logged_in: bool) -> FetchError:
    """Map netmiko / paramiko / socket errors to a reason; the detail never holds a credential."""
    text = f"{type(exc).__name__}: {exc}"
    for secret in (target.password, target.secret):
        if len(secret) >= 4:
            text = text.replace(secret, "********")
    text = " ".join(text.split())[:300]
    chain = _chain(exc)
    if any(isinstance(e, NetmikoAuthenticationException | paramiko.AuthenticationException) for e in chain):
        return AuthFailed(target, text)
    if _refused(chain):
        return Refused(target, text)
    if any(isinstance(e, paramiko.BadHostKeyException) for e in chain) or "known_hosts" in text:
        return HostKeyRejected(target, text)
    if any(isinstance(e, EOFError | ConnectionResetError | BrokenPipeError) for e in chain):
        return Dropped(target, text)
    if any(isinstance(e, OSError) and "closed" in str(e).lower() for e in chain):
        return Dropped(target, text)
    if any(isinstance(e, ReadTimeout | ReadException | ValueError) for e in chain):
        # no recognisable prompt during login is a prompt problem; a command that never ends is a timeout
        return FetchTimeout(target, text) if logged_in else UnexpectedPrompt(target, text)
    if any(isinstance(e, NetmikoTimeoutException | socket.timeout | TimeoutError) for e in chain):
        return FetchTimeout(target, text)
    return UnexpectedOutput(target, text)


def _quiet_netmiko() -> None:
    """netmiko logs every channel read at DEBUG, which would put the raw configuration (secrets) into
    whatever DEBUG handler is listening; its logger never goes below INFO here."""
    netmiko_log = logging.getLogger("netmiko")
    if netmiko_log.getEffectiveLevel() < logging.INFO:
        netmiko_log.setLevel(logging.INFO)


def fetch_config(target: FetchTarget) -> str:
    """The device's configuration as it shows it (raw, with secrets); raises :class:`FetchError`."""
    _quiet_netmiko()
    command = CONFIG_COMMANDS[target.platform]
    log.info("fetching %s from %s (%s:%s)", command, target.name, target.host, target.port)
    conn = None
    logged_in = False
    try:
        conn = ConnectHandler(**_params(target))
        logged_in = True
        if target.platform is Platform.CISCO_IOS and not conn.check_enable_mode():
            conn.enable()
        raw = conn.send_command(command, read_timeout=target.read_timeout)
        if not isinstance(raw, str):
            raise UnexpectedOutput(target, f"{command} returned {type(raw).__name__}")
        if not _alive(conn):
            raise Dropped(target, f"the session closed during '{command}'")
    except FetchError:
        raise
    except Exception as exc:
        dropped = conn is not None and not _alive(conn)
        error = _classify(target, exc, logged_in=logged_in)
        if dropped and error.reason in (FetchFailure.TIMEOUT, FetchFailure.UNEXPECTED_PROMPT):
            error = Dropped(target, error.detail)
        raise error from None
    finally:
        if conn is not None:
            _disconnect(conn)
    return _check(target, raw)


def _alive(conn: object) -> bool:
    remote = getattr(conn, "remote_conn", None)
    transport = remote.get_transport() if remote is not None else None
    return bool(transport is not None and transport.is_active())


def _disconnect(conn: object) -> None:
    try:
        if _alive(conn):
            conn.disconnect()  # type: ignore[attr-defined]
        else:
            remote = getattr(conn, "remote_conn_pre", None)
            if remote is not None:
                remote.close()
    except Exception as exc:  # a failed logout does not undo a good fetch
        log.debug("disconnect: %s", type(exc).__name__)


def _check(target: FetchTarget, raw: str) -> str:
    """The output must look like a configuration of the expected platform."""
    if not raw.strip():
        raise UnexpectedOutput(target, "empty configuration")
    try:
        found = detect_platform(raw)
    except NetworkConfigError as exc:
        raise UnexpectedOutput(target, f"not a recognisable configuration ({exc})") from None
    if found is not target.platform:
        raise UnexpectedOutput(target, f"expected a {target.platform.value} configuration, got {found.value}")
    return raw
