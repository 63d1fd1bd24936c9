"""SSH device simulators, one per network platform (tests, ``maint simulators`` and the demo client).

A development and demo tool, not part of the runtime package ``runner``: ``runner`` imports it only on the
demo path (``maint simulators``, the ``network_config`` action plugin for a ``network_config_simulated``
device). What a platform's CLI looks like comes from its driver (``runner/network/platforms/<platform>.py``:
``cli``, ``config_commands``, ``netmiko_device_type``, ``reencrypted``), so the simulator names no platform.

Each :class:`Simulator` is a paramiko SSH server on 127.0.0.1 that answers what netmiko's session set-up
sends for its platform (banner, prompt, paging off, enable, FortiOS console output mode) and serves the
driver's configuration commands (``show running-config``, FortiOS ``show`` / ``show full-configuration``)
from a configuration file read on every request, so a test can edit the file between two fetches. The
banners, ``show version`` / ``get system status`` texts, the asset facts commands' outputs
(``sim_data/<platform>/commands/``) and prompts are replayed from recorded sessions (``sim_data/README.md``).
A profile's ``refused`` commands get the CLI's error line, as a model without that command answers.

A platform whose device re-encrypts secrets on every ``show`` (FortiOS ``ENC``) gets fresh random
ciphertext per request, which is what makes naive configuration diffs noisy.

Fault modes (:class:`Fault`, settable while running): ``auth`` rejects every password, ``stall`` stops
half-way through the configuration output and then sends nothing, ``drop`` closes the connection
half-way, ``garbage`` answers the login with endless noise and no prompt, ``noise`` logs in normally but
answers the configuration command with endless noise and no prompt, ``silent`` sends its login banner
and then nothing at all. The host key is a fresh Ed25519 key per simulator;
:meth:`Simulator.known_hosts_line` gives the line a client's known_hosts file needs.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import itertools
import logging
import os
import random
import re
import secrets
import socket
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import paramiko  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paramiko.kex_group14 import KexGroup14SHA256  # type: ignore[import-untyped]
from paramiko.primes import ModulusPack  # type: ignore[import-untyped]

from runner.network.platforms import Cli, PlatformDriver, drivers

log = logging.getLogger(__name__)

SIM_DATA = Path(__file__).parent / "sim_data"
LOOPBACK = "127.0.0.1"
#: the simulators' credentials: demo-only values, never a real device's
DEMO_USER = "maint-demo"
DEMO_PASSWORD = "demo-only-not-a-secret"  # noqa: S105  (the simulators' demo login)
DEMO_ENABLE = "demo-enable-not-a-secret"
PAGE_LINES = 24
#: server-side paramiko logs (a client hanging up is "Socket exception: Connection reset") stay quiet
_SSH_LOG = f"{__name__}.ssh"
logging.getLogger(_SSH_LOG).setLevel(logging.CRITICAL)
_POLL_S = 0.2
_NOISE_S = 0.1


class Fault(StrEnum):
    NONE = "none"
    AUTH = "auth"
    STALL = "stall"
    DROP = "drop"
    GARBAGE = "garbage"
    NOISE = "noise"
    SILENT = "silent"


#: the simulated platforms: every driver's, each with its recorded device in ``sim_data/<platform>/``
DRIVERS: dict[str, PlatformDriver] = {d.platform.value: d for d in drivers()}

_HOSTNAME = re.compile(r'^\s*(?:set\s+)?hostname\s+"?([^"\s]+)"?', re.MULTILINE)


@dataclass(frozen=True)
class DeviceProfile:
    """One simulated device: platform, credentials and the files it serves."""

    platform: str
    config_path: Path
    version_path: Path | None = None
    banner_path: Path | None = None
    username: str = DEMO_USER
    password: str = DEMO_PASSWORD
    enable_secret: str = DEMO_ENABLE
    #: recorded outputs of other commands (the asset facts commands): command -> file
    outputs: dict[str, Path] = field(default_factory=dict)
    #: commands this device refuses with its CLI's error line (a model without ``show inventory``)
    refused: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.platform not in DRIVERS:
            raise ValueError(f"no simulator for platform {self.platform!r}; known: {', '.join(DRIVERS)}")

    @classmethod
    def default(cls, platform: str, config_path: Path | None = None) -> DeviceProfile:
        """The recorded device of ``platform`` from ``sim_data/`` (optionally serving another config).

        ``sim_data/<platform>/commands/<command with _ for spaces>.txt`` are its other recorded outputs.
        """
        folder = SIM_DATA / platform
        return cls(
            platform=platform,
            config_path=config_path or folder / "running-config.txt",
            version_path=folder / "version.txt",
            banner_path=folder / "banner.txt",
            outputs=recorded_outputs(folder),
        )


def recorded_outputs(folder: Path) -> dict[str, Path]:
    """``{command: file}`` of the files in ``folder/commands/`` (``show_inventory.txt``: show inventory)."""
    commands = folder / "commands"
    if not commands.is_dir():
        return {}
    return {path.stem.replace("_", " "): path for path in sorted(commands.glob("*.txt"))}


def _read(path: Path | None) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path else ""


def _modulus_pack() -> None:
    """Group-exchange primes for the server side (netmiko's fortinet driver only offers GEX kex).

    There may be no /etc/ssh/moduli; the RFC 3526 2048-bit MODP group is a published safe prime.
    """
    if paramiko.Transport._modulus_pack is None:
        pack = ModulusPack()
        pack.pack[2048] = [(2, KexGroup14SHA256.P)]
        paramiko.Transport._modulus_pack = pack


def _host_key() -> paramiko.PKey:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    import io

    return paramiko.Ed25519Key.from_private_key(io.StringIO(pem.decode("ascii")))


class _Auth(paramiko.ServerInterface):  # type: ignore[misc]
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.shell = threading.Event()

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_auth_password(self, username: str, password: str) -> int:
        profile = self.sim.profile
        ok = (
            self.sim.fault is not Fault.AUTH
            and secrets.compare_digest(username, profile.username)
            and secrets.compare_digest(password, profile.password)
        )
        return int(paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED)

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return int(paramiko.OPEN_SUCCEEDED)
        return int(paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED)

    def check_channel_pty_request(self, *args: object) -> bool:
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        self.shell.set()
        return True


class _Closed(Exception):
    """The client went away or the simulator is stopping."""


@dataclass
class _Session:
    """One interactive CLI session on one channel."""

    sim: Simulator
    chan: paramiko.Channel
    privileged: bool = True
    paging: bool = True
    console_output: str = "more"
    console_block: bool = False
    pending: bytes = field(default=b"")
    _skip_lf: bool = False

    @property
    def driver(self) -> PlatformDriver:
        return DRIVERS[self.sim.profile.platform]

    @property
    def dialect(self) -> Cli:
        return self.driver.cli

    def prompt(self) -> str:
        host = self.sim.hostname()
        if not self.privileged and self.dialect.user_prompt:
            return self.dialect.user_prompt.format(h=host)
        if self.console_block:
            return f"{host} (console) # "
        return self.dialect.prompt.format(h=host)

    # -- channel i/o -------------------------------------------------------------------

    def send(self, text: str) -> None:
        if self.sim.stopping.is_set():
            raise _Closed
        try:
            self.chan.sendall(text.replace("\r\n", "\n").replace("\n", "\r\n").encode())
        except (OSError, EOFError) as exc:
            raise _Closed from exc

    def read_line(self, *, secret: bool = False) -> str:
        """The next line typed (``\\r``, ``\\n`` or ``\\r\\n`` ends it), echoed unless ``secret``."""
        while True:
            match = re.search(rb"\r\n|\r|\n", self.pending)
            if match:
                line = self.pending[: match.start()]
                self.pending = self.pending[match.end() :]
                if match.group() == b"\r" and not self.pending:
                    self._skip_lf = True  # a \n arriving in the next read belongs to this line end
                text = line.decode(errors="replace")
                self.send(("" if secret else text) + "\n")
                return text
            self.pending += self.read_some()

    def read_key(self) -> bytes:
        if not self.pending:
            self.pending = self.read_some()
        key, self.pending = self.pending[:1], self.pending[1:]
        return key

    def read_some(self) -> bytes:
        while True:
            if self.sim.stopping.is_set():
                raise _Closed
            try:
                data = self.chan.recv(4096)
            except TimeoutError:
                continue
            except (OSError, EOFError) as exc:
                raise _Closed from exc
            if not data:
                raise _Closed
            if self._skip_lf:
                self._skip_lf = False
                if data.startswith(b"\n"):
                    data = data[1:]
                    if not data:
                        continue
            return bytes(data)

    def output(self, text: str) -> None:
        """Send command output, paged when paging is on."""
        lines = text.splitlines()
        if not self.paging or len(lines) < PAGE_LINES:
            self.send(text if text.endswith("\n") or not text else text + "\n")
            return
        page = PAGE_LINES - 1
        for start in range(0, len(lines), page):
            self.send("\n".join(lines[start : start + page]) + "\n")
            if start + page >= len(lines):
                return
            self.send(self.dialect.more)
            key = self.read_key()
            self.send("\r" + " " * len(self.dialect.more) + "\r")
            if key in (b"q", b"Q", b"\x03"):
                return

    # -- the CLI -----------------------------------------------------------------------

    def run(self) -> None:
        profile = self.sim.profile
        banner = _read(profile.banner_path)
        if self.sim.fault is Fault.GARBAGE:
            self.garbage()
            return
        if self.sim.fault is Fault.SILENT:
            self.send(banner.rstrip("\n") + "\n")
            self.sim.stopping.wait()  # until the simulator stops
            raise _Closed
        self.privileged = self.dialect.user_prompt is None
        if self.dialect.press_any_key:
            self.send(banner.rstrip("\n") + "\n\n" + _PROCURVE_COPYRIGHT + "Press any key to continue\n")
            self.read_key()
            self.pending = b""
        elif banner:
            self.send(banner.rstrip("\n") + "\n")
        while True:
            self.send(self.prompt())
            line = self.read_line().strip()
            if not self.command(line):
                return

    def garbage(self) -> None:
        """Noise that never contains a prompt character, a burst and then a line every 0.1 s, until the
        client hangs up (what a console server on the wrong line or a confused device looks like)."""
        rng = random.Random()  # noqa: S311  (noise, not a secret)
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 !%&*()[]{}~;:,."
        for count in itertools.count():
            self.send("".join(rng.choice(alphabet) for _ in range(72)) + "\n")
            if count >= 40 and self.sim.stopping.wait(_NOISE_S):
                raise _Closed

    def command(self, line: str) -> bool:
        """Answer one command line; False ends the session."""
        dialect = self.dialect
        cmd, _, pipe = line.partition("|")
        cmd = " ".join(cmd.split())
        if not cmd:
            return True
        if cmd in dialect.logout:
            if self.console_block:
                self.console_block = False
                return True
            if dialect.logout_confirm:
                self.send(dialect.logout_confirm)
                key = self.read_key()
                if key.lower() != b"y":
                    self.send("\n")
                    return True
            return False
        if dialect.console_output_mode and self.console(cmd):
            return True
        if cmd == "enable" and dialect.user_prompt:
            self.send("Password: ")
            given = self.read_line(secret=True)
            if secrets.compare_digest(given, self.sim.profile.enable_secret):
                self.privileged = True
            else:
                self.send("% Access denied\n")
            return True
        if cmd in dialect.paging_off:
            self.paging = False
            return True
        if cmd in dialect.accepted or cmd == "enable":
            return True
        if cmd in self.sim.profile.refused:
            self.refuse(cmd)
            return True
        if cmd in self.sim.profile.outputs:
            self.output(_grep(_read(self.sim.profile.outputs[cmd]), pipe))
            return True
        if cmd in dialect.version_commands:
            self.output(_grep(_read(self.sim.profile.version_path), pipe))
            return True
        if cmd in self.driver.config_commands:
            if not self.privileged:
                self.send("% Invalid input detected at '^' marker.\n")
                return True
            self.config(pipe)
            return True
        self.refuse(cmd)
        return True

    def refuse(self, cmd: str) -> None:
        self.send(
            "% Invalid input detected at '^' marker.\n"
            if self.dialect.user_prompt
            else "Invalid input: " + cmd + "\n"
        )

    def console(self, cmd: str) -> bool:
        """``config system console`` / ``set output standard|more`` / ``end``: the pager on or off."""
        if cmd == "get system console":
            self.output(f"output              : {self.console_output}\n")
        elif cmd == "config system console":
            self.console_block = True
        elif self.console_block and cmd.startswith("set output "):
            self.console_output = cmd.split()[-1]
            self.paging = self.console_output != "standard"
        elif cmd in ("end", "next"):
            self.console_block = False
        else:
            return False
        return True

    def config(self, pipe: str) -> None:
        text = self.sim.config_text()
        if self.driver.reencrypted:
            text = _reencrypt(self.driver.reencrypted, text)
        text = _grep(text, pipe)
        fault = self.sim.fault
        if fault is Fault.NOISE:
            self.garbage()
        if fault in (Fault.STALL, Fault.DROP):
            lines = text.splitlines(keepends=True)
            self.send("".join(lines[: max(1, len(lines) // 2)]))
            if fault is Fault.DROP:
                self.chan.get_transport().close()
                raise _Closed
            self.sim.stopping.wait()  # stall until the client gives up or the simulator stops
            raise _Closed
        self.output(text)


_PROCURVE_COPYRIGHT = (
    "  (C) Copyright 2018 Hewlett Packard Enterprise Development LP\n\n"
    "                   RESTRICTED RIGHTS LEGEND\n\n"
)


def _grep(text: str, pipe: str) -> str:
    """Apply ``| grep PATTERN`` / ``| include PATTERN`` as the devices do (others are ignored)."""
    words = pipe.split(None, 1)
    if len(words) == 2 and words[0] in ("grep", "include", "i", "inc"):
        try:
            pattern = re.compile(words[1].strip())
        except re.error:
            return text
        return "".join(line for line in text.splitlines(keepends=True) if pattern.search(line))
    return text


def _reencrypt(pattern: str, text: str) -> str:
    """Fresh ciphertext for every encrypted value (group 1 of ``pattern``), as FortiOS gives on each show."""

    def fresh(match: re.Match[str]) -> str:
        size = max(12, len(match.group(1)) * 3 // 4)
        start, end = match.span(1)
        whole = match.group(0)
        offset = match.start(0)
        cipher = base64.b64encode(os.urandom(size)).decode("ascii")
        return whole[: start - offset] + cipher + whole[end - offset :]

    return re.sub(pattern, fresh, text)


class Simulator:
    """One simulated device listening on 127.0.0.1 (``port=0``: an ephemeral port)."""

    def __init__(self, profile: DeviceProfile, *, port: int = 0, name: str | None = None) -> None:
        self.profile = profile
        self.name = name or profile.platform
        self.fault = Fault.NONE
        self.host = LOOPBACK
        self.port = port
        self.host_key = _host_key()
        self.stopping = threading.Event()
        self._sock: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._transports: list[paramiko.Transport] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Simulator({self.name}, {self.profile.platform}, {self.host}:{self.port}, fault={self.fault})"

    @property
    def device_type(self) -> str:
        return DRIVERS[self.profile.platform].netmiko_device_type

    def hostname(self) -> str:
        match = _HOSTNAME.search(self.config_text())
        return match.group(1) if match else self.name

    def config_text(self) -> str:
        return _read(self.profile.config_path)

    def known_hosts_line(self) -> str:
        return f"[{self.host}]:{self.port} {self.host_key.get_name()} {self.host_key.get_base64()}"

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> Simulator:
        _modulus_pack()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, self.port))
        except OSError as exc:
            sock.close()
            raise OSError(f"simulator {self.name}: cannot listen on {LOOPBACK}:{self.port}: {exc}") from exc
        sock.listen(16)
        sock.settimeout(_POLL_S)
        self._sock = sock
        self.port = sock.getsockname()[1]
        self._spawn(self._accept_loop, f"sim-{self.name}-accept")
        log.info(
            "simulator %s (%s) listening on %s:%s", self.name, self.profile.platform, LOOPBACK, self.port
        )
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._sock is not None:
            self._sock.close()
        with self._lock:
            transports = list(self._transports)
            threads = list(self._threads)
        for transport in transports:
            transport.close()
        for thread in threads:
            thread.join(timeout=5)
        for transport in transports:
            transport.join(timeout=5)
        log.info("simulator %s stopped", self.name)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, target: object, name: str, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)  # type: ignore[arg-type]
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        assert self._sock is not None
        while not self.stopping.is_set():
            try:
                conn, _addr = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._spawn(self._serve, f"sim-{self.name}-conn", conn)

    def _serve(self, conn: socket.socket) -> None:
        transport = paramiko.Transport(conn)
        transport.set_log_channel(_SSH_LOG)
        with self._lock:
            self._transports.append(transport)
        try:
            transport.add_server_key(self.host_key)
            server = _Auth(self)
            try:
                transport.start_server(server=server)
            except (paramiko.SSHException, OSError, EOFError):
                return
            chan = None
            while chan is None and transport.is_active() and not self.stopping.is_set():
                chan = transport.accept(_POLL_S)
            if chan is None:
                return
            while not server.shell.wait(_POLL_S):
                if self.stopping.is_set() or not transport.is_active():
                    return
            chan.settimeout(_POLL_S)
            with contextlib.suppress(_Closed):
                _Session(self, chan).run()
            with contextlib.suppress(OSError, EOFError):
                chan.close()
        finally:
            transport.close()


def platforms() -> Sequence[str]:
    return tuple(DRIVERS)


@contextlib.contextmanager
def running(profiles: Sequence[tuple[str, DeviceProfile, int]] = ()) -> Iterator[dict[str, Simulator]]:
    """Start one simulator per ``(name, profile, port)`` (port 0: ephemeral); stop them all on exit.

    Without arguments: one recorded device per platform on ephemeral ports.
    """
    wanted = list(profiles) or [(p, DeviceProfile.default(p), 0) for p in DRIVERS]
    sims: dict[str, Simulator] = {}
    try:
        for name, profile, port in wanted:
            sims[name] = Simulator(profile, port=port, name=name).start()
        yield sims
    finally:
        for sim in sims.values():
            sim.stop()


def write_known_hosts(path: Path, sims: Sequence[Simulator]) -> Path:
    """A known_hosts file trusting exactly these simulators' host keys."""
    path.write_text("".join(sim.known_hosts_line() + "\n" for sim in sims), encoding="utf-8")
    path.chmod(0o600)
    return path


class SimulatedConfigError(Exception):
    """The configuration file a simulated device should serve cannot be read (the message names it)."""


def check_config_file(path: Path) -> None:
    """Raise :class:`SimulatedConfigError` unless ``path`` is a readable, non-empty text file."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1)
    except IsADirectoryError:
        raise SimulatedConfigError(f"{path}: is a directory, not a configuration file") from None
    except OSError as exc:
        raise SimulatedConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not head:
        raise SimulatedConfigError(f"{path}: empty file, not a configuration")


@dataclass(frozen=True)
class Served:
    """A simulator serving one device for one fetch, and how to reach it (see :func:`serve`)."""

    sim: Simulator
    known_hosts: Path

    @property
    def username(self) -> str:
        return self.sim.profile.username

    @property
    def password(self) -> str:
        return self.sim.profile.password

    @property
    def enable_secret(self) -> str:
        return self.sim.profile.enable_secret


@contextlib.contextmanager
def serve(name: str, platform: str, *, config_path: Path | None = None) -> Iterator[Served]:
    """Serve the recorded ``platform`` device while the block runs: a free port on 127.0.0.1 (the OS
    picks it, so two users or two runs never collide), fresh one-time credentials and host key, and a
    private known_hosts file trusting exactly that key; everything is gone when the block ends.

    ``config_path``: serve that file as the running configuration instead of the recorded one (the host
    variable ``network_config_simulated_config``); the version and facts outputs stay the recorded
    device's. Raises :class:`SimulatedConfigError` naming the file when it cannot be read.

    This is how the demo client's devices exist (``network_config_simulated: true``): the
    ``network_config`` action plugin calls it around its fetch, so ``maint run demo`` and
    ``maint demo`` both reach them and nothing has to be started beforehand.
    """
    if config_path is not None:
        check_config_file(config_path)
    profile = dataclasses.replace(
        DeviceProfile.default(platform, config_path),
        password=secrets.token_urlsafe(18),
        enable_secret=secrets.token_urlsafe(18),
    )
    with tempfile.TemporaryDirectory(prefix="maint-sim-") as tmp, running([(name, profile, 0)]) as sims:
        sim = sims[name]
        yield Served(sim, write_known_hosts(Path(tmp) / "known_hosts", [sim]))
