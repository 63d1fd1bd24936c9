"""Fetch a device's configuration with netmiko, from the controller.

The platform's driver (``runner/network/platforms/<platform>.py``) names the netmiko device type, the
command that shows the configuration and whether it needs enable mode.

:func:`fetch_config` returns the raw text or raises a :class:`FetchError` subclass whose ``reason``
is one of :class:`FetchFailure` (auth failed, timeout, refused, dropped, unexpected prompt/output).
:func:`fetch_device` also sends the driver's asset facts commands after the configuration, in the same
session, and returns their outputs beside it (:class:`Fetched`); a facts command that fails never fails
the fetch. Then, while the session is still usable, the driver's interface counters command
(``counters_command``, HEALTH-NET-01): its failure never fails the fetch either (``counters_missing``).
The raw text holds secrets: callers keep it out of task results, logs and artifacts (see the
``maint.core.network_config`` action plugin). Credentials never appear in an error message.

Giving up (:class:`_Guard`): every channel read goes through a guard, so a fetch never waits longer than
its read timeout in any phase. The login conversation (prompt, paging off, enable) gets one read timeout
in total however many reads the platform's driver makes; the configuration command gets one read
timeout; the logout after a good fetch gets a few seconds. After a failure the session is closed without
a logout: a dead channel is never waited on again. A channel that closes is noticed at once (``connection
dropped``), not after the read timeout. When no prompt came back in time the reason says what the device
did: still sending bytes until the end (noise, a wrong console line) is ``unexpected output``; silent at
the end (stalled, or half-way through the configuration) is ``timeout``.
"""

from __future__ import annotations

import logging
import re
import socket
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import paramiko  # type: ignore[import-untyped]
from netmiko.base_connection import BaseConnection
from netmiko.exceptions import (
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadException,
    ReadTimeout,
)
from netmiko.ssh_dispatcher import CLASS_MAPPER
from paramiko.ssh_exception import NoValidConnectionsError  # type: ignore[import-untyped]

from runner.network.platforms import NetworkConfigError, Platform, detect_platform, driver

log = logging.getLogger(__name__)


class FetchFailure(StrEnum):
    AUTH_FAILED = "authentication failed"
    TIMEOUT = "timeout"
    REFUSED = "connection refused"
    HOST_KEY = "host key not trusted"
    DROPPED = "connection dropped"
    UNEXPECTED_PROMPT = "unexpected prompt"
    UNEXPECTED_OUTPUT = "unexpected output"
    #: a simulated device's configuration file (``network_config_simulated_config``) cannot be read
    CONFIG_UNREADABLE = "configuration file unreadable"


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


class ConfigUnreadable(FetchError):
    reason = FetchFailure.CONFIG_UNREADABLE


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
        "device_type": driver(target.platform).netmiko_device_type,
        "host": target.host,
        "port": target.port,
        "username": target.username,
        "password": target.password,
        "secret": target.secret,
        "conn_timeout": target.conn_timeout,
        "auth_timeout": target.conn_timeout,
        "banner_timeout": target.conn_timeout,
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


def _scrub(target: FetchTarget, exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    for secret in (target.password, target.secret):
        if len(secret) >= 4:
            text = text.replace(secret, "********")
    return " ".join(text.split())[:300]


def _classify(target: FetchTarget, exc: BaseException, guard: _Guard) -> FetchError:
    """Map netmiko / paramiko / socket errors to a reason; the detail never holds a credential."""
    text = _scrub(target, exc)
    chain = _chain(exc)
    if any(isinstance(e, NetmikoAuthenticationException | paramiko.AuthenticationException) for e in chain):
        return AuthFailed(target, text)
    if _refused(chain):
        return Refused(target, text)
    if any(isinstance(e, paramiko.BadHostKeyException) for e in chain) or "known_hosts" in text:
        return HostKeyRejected(target, text)
    if guard.closed or any(isinstance(e, _ChannelClosed) for e in chain):
        return Dropped(target, guard.describe() or text)
    if any(isinstance(e, EOFError | ConnectionResetError | BrokenPipeError) for e in chain):
        return Dropped(target, text)
    if any(isinstance(e, OSError) and "closed" in str(e).lower() for e in chain):
        return Dropped(target, text)
    if any(isinstance(e, _GaveUp | ReadTimeout | NetmikoTimeoutException) for e in chain):
        # no prompt came back in time: a device still sending at the end talks nonsense, a quiet one stalled
        if guard.talking():
            return UnexpectedOutput(target, f"{guard.describe()}; {text}")
        return FetchTimeout(target, f"{guard.describe()}; {text}")
    if any(isinstance(e, ReadException | ValueError) for e in chain):
        # a prompt came back, but not one the platform's driver accepts (e.g. enable refused)
        return UnexpectedPrompt(target, text)
    if any(isinstance(e, socket.timeout | TimeoutError) for e in chain):
        return FetchTimeout(target, text)
    return UnexpectedOutput(target, text)


def _quiet_netmiko() -> None:
    """netmiko logs every channel read at DEBUG, which would put the raw configuration (secrets) into
    whatever DEBUG handler is listening; its logger never goes below INFO here."""
    netmiko_log = logging.getLogger("netmiko")
    if netmiko_log.getEffectiveLevel() < logging.INFO:
        netmiko_log.setLevel(logging.INFO)
    # paramiko logs a device hanging up right after the logout as an ERROR ("Socket exception:
    # Connection reset by peer"); the fetch reports every failure itself, with its reason
    paramiko_log = logging.getLogger("paramiko.transport")
    if paramiko_log.level == logging.NOTSET:
        paramiko_log.setLevel(logging.CRITICAL)


#: seconds the logout after a good fetch may take before the session is simply closed
LOGOUT_S = 3.0


class _GaveUp(Exception):
    """The phase's time is up: raised from the next channel read or write."""


class _ChannelClosed(Exception):
    """The device closed the channel (or the connection) while we were reading."""


class _Guard:
    """Deadlines, liveness and what the device said, for one fetch (see the module docstring).

    netmiko's drivers read in loops, each with its own timeout; the guard sits in every read and write,
    so it bounds the sum, notices a closed channel and, once the fetch has failed, makes every further
    read or write fail at once (so netmiko's clean-up cannot wait on the dead channel).
    """

    def __init__(self, read_timeout: float) -> None:
        self.read_timeout = read_timeout
        self.conn: BaseConnection | None = None
        self.phase = "login"
        self.deadline: float | None = None  # set by the first read (the session is open by then)
        self.abandoned = False
        self.closed = False
        self.received = 0
        self.last_data: float | None = None

    def start(self, phase: str, seconds: float) -> None:
        self.phase = phase
        self.deadline = time.monotonic() + seconds

    def before_io(self) -> None:
        if self.abandoned:
            raise _GaveUp(f"{self.phase}: the session was given up")
        now = time.monotonic()
        if self.deadline is None:
            self.deadline = now + self.read_timeout
        elif now >= self.deadline:
            self.abandoned = True
            raise _GaveUp(f"{self.phase}: no prompt within the read timeout ({self.read_timeout:g}s)")

    def data(self, count: int) -> None:
        if count:
            self.received += count
            self.last_data = time.monotonic()

    def talking(self) -> bool:
        """The device was still sending when we gave up (bytes in the last part of the wait)."""
        if self.last_data is None:
            return False
        quiet = max(0.5, min(2.0, self.read_timeout / 3))
        return time.monotonic() - self.last_data < quiet

    def describe(self) -> str:
        if self.closed:
            return f"the device closed the connection during {self.phase} ({self.received} bytes received)"
        state = "still sending" if self.talking() else "silent"
        return f"{self.phase}: {self.received} bytes received, device {state} at the end"

    def close(self) -> None:
        """Close the session: a logout (bounded) after a good fetch, a plain close otherwise."""
        conn = self.conn
        if conn is None:
            return
        self.conn = None
        if not self.abandoned and _alive(conn):
            self.start("logout", LOGOUT_S)
            try:
                conn.disconnect()
            except Exception as exc:  # a failed logout does not undo a good fetch
                log.debug("disconnect: %s", type(exc).__name__)
        self.abandoned = True
        for name in ("remote_conn", "remote_conn_pre"):
            remote = getattr(conn, name, None)
            if remote is not None:
                try:
                    remote.close()
                except Exception as exc:
                    log.debug("close %s: %s", name, type(exc).__name__)


def _open_channel(conn: BaseConnection) -> bool:
    remote = conn.remote_conn
    if not isinstance(remote, paramiko.Channel):
        return remote is not None
    transport = remote.get_transport()
    return not (remote.closed or remote.eof_received or transport is None or not transport.is_active())


_GUARDED: dict[type[BaseConnection], type[BaseConnection]] = {}


def _guarded(base: type[BaseConnection]) -> type[BaseConnection]:
    """``base`` (the platform's netmiko driver) with every read and write going through a guard."""
    if base in _GUARDED:
        return _GUARDED[base]

    class Guarded(base):  # type: ignore[valid-type,misc]
        def __init__(self, *args: object, maint_guard: _Guard, **kwargs: object) -> None:
            self._maint_guard = maint_guard
            maint_guard.conn = self
            super().__init__(*args, **kwargs)

        def read_channel(self) -> str:
            guard: _Guard = self._maint_guard
            guard.before_io()
            buffered = self._read_buffer
            data: str = super().read_channel()
            fresh = len(data) - len(buffered) if data.startswith(buffered) else len(data)
            if fresh > 0:
                guard.data(fresh)
            elif not data and not _open_channel(self):
                remote = self.remote_conn
                if not (isinstance(remote, paramiko.Channel) and remote.recv_ready()):
                    guard.closed = guard.abandoned = True
                    raise _ChannelClosed(f"the device closed the channel during {guard.phase}")
            return data

        def write_channel(self, out_data: str) -> None:
            guard: _Guard = self._maint_guard
            guard.before_io()
            super().write_channel(out_data)

        def session_preparation(self) -> None:
            try:
                super().session_preparation()
            except BaseException:
                self._maint_guard.abandoned = True  # netmiko's clean-up must not talk to it again
                raise

        def cleanup(self, *args: object, **kwargs: object) -> None:
            if self._maint_guard.abandoned:
                return  # no logout on a session that failed: it would wait on a dead channel
            super().cleanup(*args, **kwargs)

    Guarded.__name__ = Guarded.__qualname__ = f"Guarded{base.__name__}"
    _GUARDED[base] = Guarded
    return Guarded


def _connect(target: FetchTarget, guard: _Guard) -> BaseConnection:
    cls = _guarded(CLASS_MAPPER[driver(target.platform).netmiko_device_type])
    connection: Any = cls
    return connection(maint_guard=guard, **_params(target))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Fetched:
    """What one session gave: the configuration (raw, with secrets) and the asset facts commands' outputs.

    ``facts`` maps each facts command that answered to its output; ``facts_missing`` says why the facts
    are incomplete (a required command refused, timed out or the session ended), None when they are not.
    """

    config: str = field(repr=False)
    facts: dict[str, str] = field(default_factory=dict)
    facts_missing: str | None = None
    #: the interface counters command's output (None: not collected, ``counters_missing`` says why)
    counters: str | None = field(default=None, repr=False)
    counters_missing: str | None = None


def fetch_config(target: FetchTarget) -> str:
    """The device's configuration as it shows it (raw, with secrets); raises :class:`FetchError`."""
    return fetch_device(target, facts=False, counters=False).config


def fetch_device(target: FetchTarget, *, facts: bool = True, counters: bool = True) -> Fetched:
    """The configuration and then, in the same session, the platform's asset facts commands and its
    interface counters command.

    Raises :class:`FetchError` when the configuration cannot be fetched. A facts command that fails
    (refused with an error line, timed out, session gone) never does: the configuration is returned
    with ``facts_missing`` saying which command and why; after a command that broke the session no
    further command is sent. The counters command is sent after the facts (also after a facts command the
    device refused: the session is fine); its output or why there is none: ``counters`` /
    ``counters_missing``.
    """
    _quiet_netmiko()
    platform = driver(target.platform)
    command = platform.fetch_command
    log.info("fetching %s from %s (%s:%s)", command, target.name, target.host, target.port)
    guard = _Guard(target.read_timeout)
    outputs: dict[str, str] = {}
    missing: str | None = None
    counters_out: str | None = None
    counters_missing: str | None = None
    try:
        conn = _connect(target, guard)
        if platform.enable and not conn.check_enable_mode():
            conn.enable()
        # netmiko gives up at read_timeout itself; the guard is the backstop for its post-processing
        guard.start("the configuration command", target.read_timeout + 1.0)
        raw = conn.send_command(command, read_timeout=target.read_timeout)
        if not isinstance(raw, str):
            raise UnexpectedOutput(target, f"{command} returned {type(raw).__name__}")
        if not _alive(conn):
            raise Dropped(target, f"the session closed during '{command}'")
        config = _check(target, raw)
        if facts:
            outputs, missing = _facts(target, conn, guard)
        if counters:
            counters_out, counters_missing = _counters(target, conn, guard, missing)
    except FetchError:
        guard.abandoned = True
        raise
    except Exception as exc:
        guard.abandoned = True
        error = _classify(target, exc, guard)
        if error.reason in (FetchFailure.TIMEOUT, FetchFailure.UNEXPECTED_PROMPT) and _dead(guard):
            error = Dropped(target, error.detail)
        raise error from None
    finally:
        guard.close()
    return Fetched(config, outputs, missing, counters_out, counters_missing)


def refusal(platform: Platform, output: str) -> str | None:
    """The first line of ``output`` that is the CLI refusing the command, None when there is none."""
    for pattern in driver(platform).cli.error_lines:
        match = re.search(pattern, output, re.MULTILINE)
        if match:
            line = output[match.start() :].splitlines()[0] if output[match.start() :] else ""
            return " ".join(line.split())[:200]
    return None


def _facts(target: FetchTarget, conn: BaseConnection, guard: _Guard) -> tuple[dict[str, str], str | None]:
    """Each facts command's output, and why the facts are incomplete (None: they are not)."""
    outputs: dict[str, str] = {}
    for command in driver(target.platform).facts_commands:
        out, reason = _send(target, conn, guard, command, "facts")
        if reason is not None:
            log.warning("%s: asset facts not collected: %s", target.name, reason)
            return outputs, reason
        assert out is not None
        outputs[command] = out
    return outputs, None


def _counters(
    target: FetchTarget, conn: BaseConnection, guard: _Guard, facts_missing: str | None
) -> tuple[str | None, str | None]:
    """The interface counters command's output, or why there is none."""
    command = driver(target.platform).counters_command
    if command is None:
        return None, f"no interface counters command for {target.platform.value}"
    if guard.abandoned:
        return None, f"'{command}' not sent: the session ended after {facts_missing or 'the facts'}"
    out, reason = _send(target, conn, guard, command, "counters")
    if reason is not None:
        log.warning("%s: interface counters not collected: %s", target.name, reason)
    return out, reason


def _send(
    target: FetchTarget, conn: BaseConnection, guard: _Guard, command: str, what: str
) -> tuple[str | None, str | None]:
    """One command after the configuration: ``(output, None)``, or ``(None, why not)``."""
    guard.start(f"the {what} command '{command}'", target.read_timeout + 1.0)
    try:
        out = conn.send_command(command, read_timeout=target.read_timeout)
        if not isinstance(out, str):
            raise UnexpectedOutput(target, f"{command} returned {type(out).__name__}")
        if not _alive(conn):
            raise Dropped(target, f"the session closed during '{command}'")
    except Exception as exc:
        # the session may be unusable now: no further command, no logout on it
        guard.abandoned = True
        error = exc if isinstance(exc, FetchError) else _classify(target, exc, guard)
        return None, f"'{command}': {error.reason.value}: {error.detail}"
    refused = refusal(target.platform, out)
    if refused is not None:
        return None, f"'{command}' refused by the device: {refused}"
    return out, None


def _dead(guard: _Guard) -> bool:
    conn = guard.conn
    return conn is not None and conn.remote_conn is not None and not _alive(conn)


def _alive(conn: object) -> bool:
    remote = getattr(conn, "remote_conn", None)
    transport = remote.get_transport() if remote is not None else None
    return bool(transport is not None and transport.is_active())


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
