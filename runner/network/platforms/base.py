"""What a platform driver is: every fact about one network platform, in one frozen value.

A driver module (``runner/network/platforms/<platform>.py``) defines ``DRIVER = PlatformDriver(...)``;
the engines (:mod:`~runner.network.fetch`, :mod:`~runner.network.normalise`, :mod:`~runner.network.mask`,
:mod:`~runner.network.parse`, :mod:`~runner.network.review`, detection in :mod:`runner.network.platforms`)
and the device simulator (``maint_devtools.simulator``) read it and never branch on a platform's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the engines' types; they import the platforms package, not the other way round
    from runner.network.mask import Masker
    from runner.network.normalise import Normaliser
    from runner.network.platforms import Platform

#: how a configuration nests: by indentation (a line owns the deeper lines after it), or FortiOS's
#: ``config`` / ``edit`` blocks closed by ``next`` / ``end``
Structure = Literal["indented", "config_edit"]


#: how the four CLIs refuse a command: IOS / AOS-CX ``% Invalid input detected at '^' marker.``,
#: ``% Incomplete command.``, ``% Ambiguous command``, ``% Unknown command.``;
#: AOS-S ``Invalid input: show x``;
#: FortiOS ``Unknown action 0``, ``command parse error before 'x'``, ``Command fail. Return code -61``
ERROR_LINES: tuple[str, ...] = (
    r"^[ \t]*% ?(?:Invalid|Incomplete|Ambiguous|Unknown|Unrecognized|Error|Bad)\b",
    r"^[ \t]*Invalid input\b",
    r"^[ \t]*Unknown action\b",
    r"^[ \t]*command parse error\b",
    r"^[ \t]*Command fail\.",
)


@dataclass(frozen=True)
class Cli:
    """How the device's CLI looks to an SSH session: what netmiko's driver for it expects, and what the
    simulator (``maint_devtools.simulator``) replays."""

    prompt: str  # "{h}" is the hostname
    more: str  # the pager's prompt
    version_commands: tuple[str, ...]
    user_prompt: str | None = None  # None: sessions start privileged
    paging_off: tuple[str, ...] = ()
    accepted: tuple[str, ...] = ()  # commands netmiko sends that the device answers with nothing
    press_any_key: bool = False  # the login banner waits for a key
    logout: tuple[str, ...] = ("exit", "logout")
    logout_confirm: str | None = None
    #: netmiko turns the pager off with ``config system console`` / ``set output standard`` / ``end``
    console_output_mode: bool = False
    #: regexes (multi-line mode) of the lines the CLI answers a command it refused with
    error_lines: tuple[str, ...] = ERROR_LINES


@dataclass(frozen=True)
class PlatformDriver:
    """One network platform: how to fetch, normalise, mask, parse, detect and review its configuration."""

    platform: Platform
    title: str  # for people: "Cisco IOS / IOS-XE"
    #: the netmiko ``device_type`` (``netmiko.ssh_dispatcher.CLASS_MAPPER`` key) a fetch connects with
    netmiko_device_type: str
    #: commands that show the restorable configuration; a fetch sends the first
    config_commands: tuple[str, ...]
    #: the fetch enters privileged (enable) mode first when the session does not start there
    enable: bool
    #: the rule pack, relative to the ``runner.network`` package
    rule_pack: str
    #: every rule ID of the pack starts with this
    control_prefix: str
    structure: Structure
    #: ``(regex, weight)``: lines typical of this platform (``detect_platform`` adds them up). Banners
    #: the OS writes itself weigh 10, syntax only this platform uses 2-3, common hints 1.
    markers: tuple[tuple[str, int], ...]
    normaliser: Normaliser
    masker: Masker
    cli: Cli
    #: a secret the device re-encrypts on every ``show`` (group 1: the ciphertext), None when none is
    reencrypted: str | None = None
    #: the asset facts commands, sent after the configuration in the same session; all must answer
    #: (``runner.assets.network`` parses their outputs)
    facts_commands: tuple[str, ...] = ()
    #: the interface error counters command, sent after the facts commands in the same session
    #: (``runner.network.counters`` parses its output for HEALTH-NET-01); None: the platform has none
    counters_command: str | None = None

    @property
    def fetch_command(self) -> str:
        return self.config_commands[0]
