"""Judge the raw output of ``linux_patching_facts``: controls PATCH-LNX-01 to PATCH-LNX-06.

The collector returns what apt or dnf printed; parsing happens here, on the controller, so every rule is
tested on recorded output (``tests/data/linux_patching/``). Two kinds are registered:

- ``linux_patching``: the collector's ``linux_patching`` key (audit), or the role's envelope
  ``{mode, current, before, remediation}`` after a remediation, which adds PATCH-LNX-06 (old -> new versions);
- ``apt``: a saved ``apt-get -s upgrade`` / ``dist-upgrade`` output (text, or a saved Ansible command result
  with ``stdout``), judged for PATCH-LNX-01 and PATCH-LNX-02 only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError, model_validator

from runner import catalogue
from runner.evaluators import EvaluatorError, evaluator
from runner.evaluators.common import check_known_controls, validate_thresholds
from runner.evaluators.common import describe as _describe
from runner.results import Control, Finding, Severity, Status

KIND = "linux_patching"
APT_KIND = "apt"
SCHEMA = 1
_CATALOGUE = catalogue.load()  # titles, severities, remediations and defaults: runner/catalogue/data/
_DAY = 86400.0
_EVIDENCE_MAX = 50  # packages listed in one evidence list

PENDING = _CATALOGUE.control("PATCH-LNX-01").as_control()
SECURITY = _CATALOGUE.control("PATCH-LNX-02").as_control()
RECENT = _CATALOGUE.control("PATCH-LNX-03").as_control()
REBOOT = _CATALOGUE.control("PATCH-LNX-04").as_control()
SERVICES = _CATALOGUE.control("PATCH-LNX-05").as_control()
REMEDIATION = _CATALOGUE.control("PATCH-LNX-06").as_control()
CONTROLS: tuple[Control, ...] = (PENDING, SECURITY, RECENT, REBOOT, SERVICES, REMEDIATION)
CONTROL_IDS: tuple[str, ...] = tuple(c.control for c in CONTROLS)

#: threshold names are the role variables without the ``linux_patching_`` prefix; values: the catalogue.
#: The apt kind uses them all too (its Thresholds model is the role's).
DEFAULTS: Mapping[str, Any] = MappingProxyType(_CATALOGUE.roles[KIND].defaults(KIND))


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_pending: StrictInt = Field(ge=0)
    last_upgrade_warn_days: StrictInt = Field(ge=0)
    last_upgrade_fail_days: StrictInt = Field(ge=0)
    skip_controls: list[StrictStr]

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.last_upgrade_warn_days > self.last_upgrade_fail_days:
            raise ValueError(
                f"last_upgrade_warn_days ({self.last_upgrade_warn_days}) is above "
                f"last_upgrade_fail_days ({self.last_upgrade_fail_days})"
            )
        check_known_controls(self.skip_controls, CONTROL_IDS)
        return self


# ---------------------------------------------------------------- raw data shape


class _Raw(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")


class _Command(_Raw):
    command: str = ""
    rc: int | None = None
    stdout: str = ""
    stderr: str = ""
    #: the tool's own summary line(s), kept by the collector even when stdout was cut (collectors since
    #: issue 10; absent in older saved outputs, where the summary is read from stdout)
    summary: str = ""
    truncated: bool = False


class _Refresh(_Raw):
    attempted: bool = False
    ok: bool | None = None
    error: str = ""
    index_age_seconds: int | None = None


class _History(_Raw):
    available: bool = False
    entries: list[str] = Field(default_factory=list)
    dpkg_upgrades: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    dpkg_sources: list[str] = Field(default_factory=list)
    rc: int | None = None
    stdout: str = ""
    stderr: str = ""


class _Probe(_Raw):
    available: bool
    reason: str = ""


class _Flag(_Probe):
    path: str = ""
    present: bool = False
    packages: list[str] = Field(default_factory=list)


class _NeedsRestarting(_Probe):
    """``needs-restarting -r``: exit 1 a reboot is required, 0 not; anything else (None: not run) unknown."""

    rc: int | None = None
    stdout: str = ""
    stderr: str = ""


class _Kernel(_Probe):
    running: str = ""
    installed: list[str] = Field(default_factory=list)


class _Reboot(_Raw):
    flag_file: _Flag
    needs_restarting: _NeedsRestarting
    kernel: _Kernel


class _Services(_Probe):
    tool: str = ""
    rc: int | None = None
    stdout: str = ""
    stderr: str = ""


class _Collected(_Raw):
    schema_version: StrictInt = Field(alias="schema")
    collected_at: str
    hostname: str = ""
    kernel: str = ""
    os: dict[str, str] = Field(default_factory=dict)
    manager: Literal["apt", "dnf", "none"]
    reason: str = ""
    refresh: _Refresh = _Refresh()
    simulate: _Command | None = None
    check_update: _Command | None = None
    security: _Command | None = None
    history: _History = _History()
    reboot: _Reboot | None = None
    services: _Services | None = None
    installed_versions: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        need = {"apt": ("simulate", "reboot", "services"), "dnf": ("check_update", "reboot", "services")}
        missing = [name for name in need.get(self.manager, ()) if getattr(self, name) is None]
        if missing:
            raise ValueError(f"manager {self.manager}: {', '.join(missing)} required")
        return self


class _Install(_Raw):
    attempted: bool = False
    failed: bool = False
    msg: str = ""


class _Remediation(_Raw):
    upgrade: Literal["all", "security"]
    reboot_policy: Literal["never", "if_required", "always"]
    window_allowed: bool = True
    window_reason: str = ""
    install: _Install = _Install()
    rebooted: bool = False
    reboot_msg: str = ""


class _Envelope(_Raw):
    mode: Literal["audit", "remediate"]
    current: _Collected
    before: _Collected | None = None
    remediation: _Remediation | None = None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.mode == "remediate" and (self.before is None or self.remediation is None):
            raise ValueError("mode remediate needs 'before' and 'remediation'")
        return self


def parse_raw(raw: Any) -> _Envelope:
    """Accept the role's envelope, a bare collector output, or a whole saved module result."""
    if isinstance(raw, Mapping) and isinstance(raw.get(KIND), Mapping) and "manager" not in raw:
        raw = raw[KIND]
    if not isinstance(raw, Mapping):
        raise EvaluatorError(
            f"{KIND}: raw data must be a mapping (the linux_patching_facts module's 'linux_patching' key), "
            f"got {type(raw).__name__}"
        )
    data = dict(raw) if "mode" in raw else {"mode": "audit", "current": dict(raw)}
    try:
        env = _Envelope.model_validate(data)
    except ValidationError as exc:
        raise EvaluatorError(f"{KIND}: raw data has the wrong shape: {_describe(exc)}") from exc
    for name, collected in (("current", env.current), ("before", env.before)):
        if collected is not None and collected.schema_version != SCHEMA:
            raise EvaluatorError(
                f"{KIND}: {name} has schema {collected.schema_version}, expected {SCHEMA}; "
                "update the collector and the runner together"
            )
    return env


def parse_thresholds(thresholds: Mapping[str, Any], kind: str = KIND) -> Thresholds:
    return validate_thresholds(Thresholds, thresholds, kind=kind)


# ---------------------------------------------------------------- parsing (data, not branches)


@dataclass(frozen=True)
class Update:
    name: str
    installed: str  # "" when the package is new (pulled in as a dependency)
    candidate: str
    origin: str
    security: bool

    def evidence(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "installed": self.installed or None,
            "candidate": self.candidate,
            "origin": self.origin,
        }


@dataclass
class Pending:
    updates: list[Update] = field(default_factory=list)
    new: list[Update] = field(default_factory=list)
    removals: list[str] = field(default_factory=list)
    #: packages the tool reports but will not install: apt's "kept back" (held, or not resolvable)
    kept_back: list[str] = field(default_factory=list)
    #: apt's "deferred due to phasing" (Ubuntu phased updates: deliberately not offered yet)
    phased: list[str] = field(default_factory=list)
    #: the tool's own totals, as printed (apt's summary line), when it printed them
    totals: dict[str, int] | None = None
    #: lines that look like package lines but did not parse (kept verbatim, capped)
    unparsed: list[str] = field(default_factory=list)
    #: where what was parsed disagrees with the tool's own totals or structure: the input cannot be judged
    problems: list[str] = field(default_factory=list)

    @property
    def security(self) -> list[Update]:
        return [u for u in self.updates if u.security]


# Inst NAME [INSTALLED] (CANDIDATE ORIGIN[, ORIGIN...] [ARCH]) -- apt-get -s, apt 1.x to 3.x
_APT_INST = re.compile(
    r"^Inst (?P<name>\S+) (?:\[(?P<installed>[^\]]*)\] )?"
    r"\((?P<candidate>\S+) (?P<origins>.*) \[(?P<arch>[^\]]+)\]\)"
)
_APT_ANY_INST = re.compile(r"^Inst\s")
_APT_REMV = re.compile(r"^(?:Remv|Purg) (?P<name>\S+)")
# an origin is LABEL:VERSION/ARCHIVE; security archives end in -security (Debian, Ubuntu, Devuan)
_APT_SECURITY_ARCHIVE = re.compile(r"/[\w.-]*-security$")
# apt <= 2.x: "12 upgraded, 0 newly installed, [1 reinstalled, ][1 downgraded, ]0 to remove and 0 not
# upgraded."
_APT_SUMMARY = re.compile(
    r"^(?P<upgraded>\d+) upgraded, (?P<newly_installed>\d+) newly installed, "
    r"(?:(?P<reinstalled>\d+) reinstalled, )?(?:(?P<downgraded>\d+) downgraded, )?"
    r"(?P<to_remove>\d+) to remove and (?P<not_upgraded>\d+) not upgraded\.?\s*$"
)
# apt >= 3.0: "Summary:" then "  Upgrading: 12, Installing: 0, Removing: 0, Not Upgrading: 0"
_APT3_SUMMARY = re.compile(r"^\s+Upgrading: \d+, .*\bNot Upgrading: \d+\s*$")
_APT3_KEYS = {
    "upgrading": "upgraded",
    "installing": "newly_installed",
    "reinstalling": "reinstalled",
    "downgrading": "downgraded",
    "removing": "to_remove",
    "not upgrading": "not_upgraded",
}
#: section headers whose indented lines list packages the upgrade leaves out (apt 2.x and apt 3.x wording)
_APT_KEPT_HEADERS = {
    "The following packages have been kept back:": "kept_back",
    "The following held packages will be changed:": "",
    "The following upgrades have been deferred due to phasing:": "phased",
    "Not upgrading:": "kept_back",
    "Not upgrading yet due to phasing:": "phased",
}
_UNPARSED_MAX = 20


def _apt3_totals(line: str) -> dict[str, int] | None:
    totals: dict[str, int] = {}
    for part in line.strip().split(","):
        label, _, number = part.strip().rpartition(": ")
        key = _APT3_KEYS.get(label.strip().lower())
        if key is None or not number.isdigit():
            return None
        totals[key] = int(number)
    return totals


def parse_apt_simulate(stdout: str, summary: str = "", truncated: bool = False) -> Pending:
    """Parse ``apt-get -s upgrade|dist-upgrade`` output and cross-check it with apt's own summary.

    ``summary`` is the summary line the collector kept apart (it survives a cut ``stdout``).
    """
    pending = Pending()
    section = ""
    lines = stdout.splitlines()
    if summary and not any(_APT_SUMMARY.match(x) or _APT3_SUMMARY.match(x) for x in lines):
        lines += summary.splitlines()
    if truncated:
        pending.problems.append("the collector cut apt's output (too long): some lines are missing")
    for line in lines:
        if line.startswith("  ") and section and not _APT3_SUMMARY.match(line):
            getattr(pending, section).extend(line.split())
            continue
        section = ""
        if line in _APT_KEPT_HEADERS:
            section = _APT_KEPT_HEADERS[line]
            continue
        counted = _APT_SUMMARY.match(line)
        if counted:
            pending.totals = {k: int(v) for k, v in counted.groupdict(default="0").items()}
            continue
        if _APT3_SUMMARY.match(line):
            pending.totals = _apt3_totals(line)
            if pending.totals is None:
                pending.problems.append(f"apt's summary line is not understood: {line.strip()!r}")
            continue
        match = _APT_INST.match(line)
        if match:
            origins = [o.strip() for o in match["origins"].split(",") if o.strip()]
            update = Update(
                name=match["name"],
                installed=match["installed"] or "",
                candidate=match["candidate"],
                origin=", ".join(origins),
                security=any(_APT_SECURITY_ARCHIVE.search(o) for o in origins),
            )
            (pending.updates if update.installed else pending.new).append(update)
            continue
        if _APT_ANY_INST.match(line):
            pending.unparsed.append(line[:300])
            continue
        removal = _APT_REMV.match(line)
        if removal:
            pending.removals.append(removal["name"])
    _cross_check_apt(pending)
    return pending


def _cross_check_apt(pending: Pending) -> None:
    """Every count apt printed must equal what the lines say; otherwise the output cannot be judged."""
    if pending.unparsed:
        pending.problems.append(
            f"{len(pending.unparsed)} 'Inst' line(s) not in the form "
            "'Inst NAME [INSTALLED] (CANDIDATE ORIGIN [ARCH])'"
        )
        del pending.unparsed[_UNPARSED_MAX:]
    totals = pending.totals
    if totals is None:
        if not (pending.updates or pending.new or pending.removals or pending.unparsed):
            pending.problems.append(
                "no 'Inst' line and no 'N upgraded, N newly installed, N to remove and N not upgraded' "
                "summary: not the output of apt-get -s (another locale? run it with LC_ALL=C)"
            )
        return
    expected = {
        "upgraded, downgraded or reinstalled ('Inst NAME [INSTALLED]')": (
            totals.get("upgraded", 0) + totals.get("downgraded", 0) + totals.get("reinstalled", 0),
            len(pending.updates),
        ),
        "newly installed ('Inst NAME (...)' with no installed version)": (
            totals.get("newly_installed", 0),
            len(pending.new),
        ),
        "to remove ('Remv'/'Purg' lines)": (totals.get("to_remove", 0), len(pending.removals)),
    }
    listed = len(pending.kept_back) + len(pending.phased)
    if listed or totals.get("not_upgraded", 0):
        expected["not upgraded (kept back or deferred by phasing)"] = (totals.get("not_upgraded", 0), listed)
    for what, (said, parsed) in expected.items():
        if said != parsed and not pending.unparsed:
            pending.problems.append(f"apt's summary says {said} {what}, the output lists {parsed}")


def _rpm_name(nevra: str) -> str:
    """openssl-libs-1:3.0.7-25.el9_3.x86_64 -> openssl-libs."""
    stem = (
        nevra.rsplit(".", 1)[0]
        if re.search(r"\.(x86_64|aarch64|noarch|i686|ppc64le|s390x)$", nevra)
        else nevra
    )
    parts = stem.rsplit("-", 2)
    return parts[0] if len(parts) == 3 else stem


_DNF_NOISE = re.compile(
    r"^(Last metadata expiration check|Security:|Updating Subscription|Loaded plugins|"
    r"Updating and loading repositories:|\s*Repositories loaded\.|This system is not registered)"
)
# dnf5 `advisory list` (what `updateinfo list` runs there) prints a header row
_DNF_ADVISORY_HEADER = re.compile(r"^Name\s+Type\s+Severity\s+Package")
_NEVRA = re.compile(r"^\S+-[^-\s]+-[^-\s]+\.[A-Za-z0-9_]+$")
_NAME_ARCH = re.compile(r"^\S+\.[A-Za-z0-9_]+$")
_EVR = re.compile(r"^(?:\d+:)?[^\s:-]+-[^\s-]+$")


def parse_dnf_check_update(stdout: str, security_stdout: str, *, rc: int | None = None) -> Pending:
    """Parse ``dnf check-update`` (NAME.ARCH VERSION REPO) and ``dnf updateinfo list --security``.

    dnf prints no total, so what was parsed is checked against what dnf says otherwise: exit code 100
    means updates are available (0: none), every row has the three columns, and security advisories
    for available updates mean at least one update is pending.
    """
    security_names: dict[str, str] = {}
    pending = Pending()
    advisories = 0
    for line in security_stdout.splitlines():
        cols = line.split()
        if not cols or _DNF_NOISE.match(line) or _DNF_ADVISORY_HEADER.match(line):
            continue
        nevra = next((c for c in cols[2:] if _NEVRA.match(c)), "")
        if len(cols) < 3 or not nevra or not re.search(r"\d", cols[0]):
            pending.unparsed.append(line[:300])
            continue
        advisory, severity = cols[0], cols[1]
        if "sec" in severity.lower() or severity.lower() == "security":
            advisories += 1
            security_names.setdefault(_rpm_name(nevra), advisory)
    unparsed_security = len(pending.unparsed)
    tokens: list[str] = []
    for line in stdout.splitlines():
        if line.lower().startswith("obsoleting packages"):
            break
        if not line.strip() or _DNF_NOISE.match(line):
            continue
        tokens.extend(line.split())
        if len(tokens) < 3:
            continue  # dnf wraps a long package name onto its own line
        row, tokens = tokens, []
        if len(row) != 3 or not _NAME_ARCH.match(row[0]) or not _EVR.match(row[1]):
            pending.unparsed.append(line[:300])
            continue
        name_arch, version, repo = row
        name = name_arch.rsplit(".", 1)[0]
        advisory = security_names.get(name, "")
        pending.updates.append(
            Update(
                name=name,
                installed="?",
                candidate=version,
                origin=f"{repo} {advisory}".strip(),
                security=bool(advisory),
            )
        )
    if tokens:
        pending.unparsed.append(" ".join(tokens)[:300])
    if unparsed_security:
        pending.problems.append(
            f"{unparsed_security} line(s) of dnf updateinfo not in the form 'ADVISORY TYPE/SEVERITY NEVRA'"
        )
    if len(pending.unparsed) > unparsed_security:
        pending.problems.append(
            f"{len(pending.unparsed) - unparsed_security} line(s) of dnf check-update not in the form "
            "'NAME.ARCH [EPOCH:]VERSION-RELEASE REPOSITORY'"
        )
    del pending.unparsed[_UNPARSED_MAX:]
    if rc == 100 and not pending.updates and not pending.unparsed:
        pending.problems.append("dnf check-update exited 100 (updates available) but listed no package")
    if rc == 0 and pending.updates:
        pending.problems.append(
            f"dnf check-update exited 0 (no updates) but listed {len(pending.updates)} package(s)"
        )
    if advisories and not pending.updates and not pending.unparsed:
        pending.problems.append(
            f"dnf updateinfo lists {advisories} security advisory row(s) for available updates, "
            "but dnf check-update lists no pending package"
        )
    return pending


@dataclass(frozen=True)
class LastUpgrade:
    at: datetime | None
    source: str
    detail: str = ""


_APT_DATE = re.compile(r"^(Start|End)-Date:\s*(\d{4}-\d{2}-\d{2})\s+(\d{2}:\d{2}:\d{2})", re.MULTILINE)


def last_apt_upgrade(history: _History) -> LastUpgrade:
    """Newest apt history entry that upgraded packages without an Error line; else dpkg.log."""
    for entry in reversed(history.entries):
        if "\nUpgrade:" not in f"\n{entry}" or re.search(r"^Error:", entry, re.MULTILINE):
            continue
        dates = {kind: f"{day} {clock}" for kind, day, clock in _APT_DATE.findall(entry)}
        when = dates.get("End") or dates.get("Start")
        if when:
            command = re.search(r"^Commandline:\s*(.*)$", entry, re.MULTILINE)
            return LastUpgrade(
                datetime.strptime(when, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC),
                "apt history",
                command[1] if command else "",
            )
    for line in reversed(history.dpkg_upgrades):
        cols = line.split()
        # DATE TIME upgrade PKG OLD NEW; dpkg also logs same-version reinstalls as "upgrade"
        if len(cols) >= 6 and cols[2] == "upgrade" and cols[4] != cols[5]:
            when_dt = datetime.strptime(f"{cols[0]} {cols[1]}", "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            return LastUpgrade(when_dt, "dpkg log", f"{cols[3]} {cols[4]} -> {cols[5]}")
    return LastUpgrade(None, "apt history" if history.entries else "dpkg log")


_DNF_HISTORY_ROW = re.compile(
    r"^\s*(?P<id>\d+)\s*\|(?P<cmd>[^|]*)\|\s*(?P<date>\d{4}-\d{2}-\d{2} \d{2}:\d{2})\s*\|"
    r"(?P<actions>[^|]*)\|(?P<altered>.*)$"
)


def last_dnf_upgrade(history: _History) -> LastUpgrade:
    """Newest ``dnf history list`` row with an Upgrade/Update action and no '#' (non-zero return) flag."""
    for line in history.stdout.splitlines():  # newest first
        row = _DNF_HISTORY_ROW.match(line)
        if not row:
            continue
        actions = {a.strip() for a in row["actions"].split(",")}
        if not actions & {"Upgrade", "Update", "U"} or "#" in row["altered"]:
            continue
        when = datetime.strptime(row["date"], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        return LastUpgrade(when, "dnf history", f"transaction {row['id']}: {row['cmd'].strip()}")
    return LastUpgrade(None, "dnf history")


def kernel_version_key(release: str) -> tuple[tuple[int, int, str], ...]:
    """Order kernel releases as rpm and dpkg do in the common cases: numbers numerically, after letters."""
    return tuple(
        (1, int(part), "") if part.isdigit() else (0, 0, part)
        for part in re.findall(r"\d+|[A-Za-z]+", release)
    )


def kernel_flavour(release: str) -> str:
    """Debian/Ubuntu flavour (``amd64``, ``cloud-amd64``, ``generic``); RHEL ``+debug``/``+rt``; else ''."""
    # upstream-ABI-flavour; the ABI of a backport carries letters too (6.1.0-0.deb11.17-amd64)
    match = re.match(r"^\d+\.\d+(?:\.\d+)*-\d[0-9A-Za-z.]*-([A-Za-z][A-Za-z0-9-]*)$", release)
    if match:
        return match.group(1)
    match = re.search(r"\+([A-Za-z]+)$", release)
    return "+" + match.group(1) if match else ""


def newest_kernel(running: str, installed: Sequence[str]) -> str:
    """The newest installed kernel of the running kernel's flavour (the running one when none is newer)."""
    flavour = kernel_flavour(running)
    same = [k for k in installed if kernel_flavour(k) == flavour]
    return max([*same, running], key=kernel_version_key)


# ---------------------------------------------------------------- judgements


def _not_checked(control: Control, reason: str) -> Finding:
    return control.finding(
        Status.NOT_CHECKED,
        {"reason": reason},
        remediation=f"{control.control} could not be judged: {reason}.",
    )


def _names(updates: Sequence[Update]) -> list[str]:
    return [f"{u.name} {u.installed or '(new)'} -> {u.candidate}" for u in updates[:_EVIDENCE_MAX]]


def _pending_of(c: _Collected) -> tuple[Pending | None, str]:
    if c.manager == "apt" and c.simulate is not None:
        if c.simulate.rc != 0:
            return (
                None,
                f"{c.simulate.command or 'apt-get -s'} failed: {(c.simulate.stderr or '').strip()[:500]}",
            )
        return parse_apt_simulate(c.simulate.stdout, c.simulate.summary, c.simulate.truncated), ""
    if c.manager == "dnf" and c.check_update is not None:
        if c.check_update.rc not in (0, 100):
            return (
                None,
                f"{c.check_update.command or 'dnf check-update'} failed: "
                f"{c.check_update.stderr.strip()[:500]}",
            )
        security = c.security.stdout if c.security is not None and c.security.rc == 0 else ""
        parsed = parse_dnf_check_update(c.check_update.stdout, security, rc=c.check_update.rc)
        if c.check_update.truncated or (c.security is not None and c.security.truncated):
            parsed.problems.append("the collector cut dnf's output (too long): some lines are missing")
        parsed.updates = [
            Update(u.name, c.installed_versions.get(u.name, "?"), u.candidate, u.origin, u.security)
            for u in parsed.updates
        ]
        return parsed, ""
    return None, c.reason or "no package manager output"


def unjudgeable(pending: Pending, base: Mapping[str, Any]) -> list[Finding]:
    """PATCH-LNX-01/02 as ``error``: what was parsed disagrees with the tool's own totals."""
    reason = "; ".join(pending.problems)
    evidence: dict[str, Any] = {
        **base,
        "reason": f"the package manager's output cannot be trusted as parsed: {reason}",
        "parsed": {
            "upgrades": len(pending.updates),
            "new": len(pending.new),
            "removals": len(pending.removals),
            "kept_back": len(pending.kept_back) + len(pending.phased),
        },
    }
    if pending.totals is not None:
        evidence["summary"] = pending.totals
    if pending.unparsed:
        evidence["unparsed"] = pending.unparsed
    remediation = (
        f"Not judged: {reason}. Run the command in the evidence on the host with LC_ALL=C and compare; "
        "a new apt/dnf output format needs the linux_patching evaluator updated."
    )
    return [
        PENDING.finding(Status.ERROR, evidence, remediation=remediation),
        SECURITY.finding(Status.ERROR, evidence, remediation=remediation),
    ]


def judge_pending(pending: Pending, th: Thresholds, context: Mapping[str, Any]) -> list[Finding]:
    """PATCH-LNX-01 and PATCH-LNX-02 from parsed pending updates (``error`` if the parse is not trusted)."""
    base = {k: v for k, v in context.items() if v not in (None, "")}
    if pending.problems:
        return unjudgeable(pending, base)
    security = pending.security
    refresh_error = str(context.get("refresh_error") or "")
    ev1: dict[str, Any] = {
        **base,
        "pending": len(pending.updates),
        "security": len(security),
        "max_pending": th.max_pending,
        "packages": _names(pending.updates),
    }
    if pending.new:
        ev1["new_packages"] = _names(pending.new)
    if pending.removals:
        ev1["removals"] = pending.removals[:_EVIDENCE_MAX]
    if pending.kept_back:
        ev1["kept_back"] = pending.kept_back[:_EVIDENCE_MAX]
    if pending.phased:
        ev1["phased"] = pending.phased[:_EVIDENCE_MAX]
    if pending.totals is not None:
        ev1["summary"] = pending.totals
    ev2: dict[str, Any] = {
        **base,
        "security": len(security),
        "packages": [u.evidence() for u in security[:_EVIDENCE_MAX]],
    }

    if len(pending.updates) > th.max_pending:
        f1 = PENDING.finding(
            Status.FAIL,
            ev1,
            remediation=f"{len(pending.updates)} updates pending ({len(security)} security). "
            f"{PENDING.remediation}",
        )
    elif refresh_error:
        f1 = PENDING.finding(
            Status.WARN,
            ev1,
            severity=Severity.MEDIUM,
            remediation=f"The package index could not be refreshed ({refresh_error}); "
            "the count may be stale. Check the repositories (`apt-get update` / `dnf makecache`).",
        )
    elif pending.kept_back:
        f1 = PENDING.finding(
            Status.WARN,
            ev1,
            severity=Severity.MEDIUM,
            remediation=f"{len(pending.kept_back)} updates are kept back and will not be installed by the "
            f"patch run: {', '.join(pending.kept_back[:10])}. Held (`apt-mark showhold`; unhold or waive) "
            "or blocked by dependencies (`apt-get -s install PKG` shows why).",
        )
    else:
        f1 = PENDING.finding(Status.PASS, ev1, remediation="")
    if security:
        f2 = SECURITY.finding(
            Status.FAIL,
            ev2,
            remediation=f"{len(security)} security updates pending: "
            f"{', '.join(u.name for u in security[:10])}{' ...' if len(security) > 10 else ''}. "
            f"{SECURITY.remediation}",
        )
    elif refresh_error:
        f2 = SECURITY.finding(
            Status.WARN,
            ev2,
            severity=Severity.MEDIUM,
            remediation=f"The package index could not be refreshed ({refresh_error}); security updates "
            "published since the last refresh are not counted.",
        )
    else:
        f2 = SECURITY.finding(Status.PASS, ev2, remediation="")
    return [f1, f2]


def _judge_recent(c: _Collected, th: Thresholds) -> Finding:
    if not c.history.available and c.manager == "apt":
        return _not_checked(RECENT, "no apt history log and no dpkg log on the host")
    last = last_apt_upgrade(c.history) if c.manager == "apt" else last_dnf_upgrade(c.history)
    if c.manager == "dnf" and c.history.rc not in (0, None):
        return _not_checked(RECENT, f"dnf history list failed: {c.history.stderr.strip()[:300]}")
    evidence: dict[str, Any] = {
        "source": last.source,
        "warn_days": th.last_upgrade_warn_days,
        "fail_days": th.last_upgrade_fail_days,
    }
    if last.at is None:
        evidence["last_upgrade"] = None
        return RECENT.finding(
            Status.WARN,
            evidence,
            severity=Severity.MEDIUM,
            remediation="No successful upgrade is recorded in the package logs kept on the host "
            f"({last.source}). {RECENT.remediation}",
        )
    collected = _parse_time(c.collected_at)
    days = round(max(0.0, (collected - last.at).total_seconds()) / _DAY, 1)
    evidence.update(last_upgrade=last.at.strftime("%Y-%m-%d %H:%M"), days_since=days, detail=last.detail)
    if days > th.last_upgrade_fail_days:
        return RECENT.finding(Status.FAIL, evidence)
    if days > th.last_upgrade_warn_days:
        return RECENT.finding(Status.WARN, evidence, severity=Severity.LOW)
    return RECENT.finding(Status.PASS, evidence, remediation="")


def _parse_time(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError as exc:
        raise EvaluatorError(f"{KIND}: collected_at {text!r} is not YYYY-MM-DDTHH:MM:SSZ") from exc


def _judge_reboot(c: _Collected, rebooted: bool) -> Finding:
    """PATCH-LNX-04, the one pending-reboot judgement (HEALTH-LNX-03 was merged into it)."""
    assert c.reboot is not None  # checked by _Collected
    flag, needs, kernel = c.reboot.flag_file, c.reboot.needs_restarting, c.reboot.kernel
    probes: dict[str, _Probe] = {"flag_file": flag, "needs_restarting": needs, "kernel": kernel}
    reasons_unknown = {n: p.reason for n, p in probes.items() if not p.available}
    if needs.available and needs.rc not in (0, 1):  # it ran but could not tell (no root, a dnf error)
        detail = _first_line(needs.stderr) or _first_line(needs.stdout) or "no output"
        reasons_unknown["needs_restarting"] = (
            f"needs-restarting -r could not run: {detail}"
            if needs.rc is None
            else f"needs-restarting -r exited {needs.rc}: {detail}"
        )
    unavailable = {n: reasons_unknown[n] for n in probes if n in reasons_unknown}  # in probe order
    checked = [n for n in probes if n not in unavailable]
    if not checked:
        return _not_checked(REBOOT, "; ".join(f"{n}: {why}" for n, why in unavailable.items()))
    reasons: list[str] = []
    packages: list[str] = []
    if "flag_file" in checked and flag.present:
        reasons.append(
            f"{flag.path} is present" + (f" ({', '.join(flag.packages)})" if flag.packages else "")
        )
        packages += flag.packages
    if "needs_restarting" in checked and needs.rc == 1:
        reasons.append("needs-restarting -r: core libraries or services were updated since boot")
        packages += re.findall(r"^\s*\*\s+(\S+)", needs.stdout, re.MULTILINE)
    evidence: dict[str, Any] = {"checked": checked}
    if "kernel" in checked:
        running = kernel.running or c.kernel
        newest = newest_kernel(running, kernel.installed)
        evidence.update(running_kernel=running, newest_kernel=newest)
        if kernel_version_key(newest) > kernel_version_key(running):
            reasons.append(f"newer kernel {newest} installed, running {running}")
    if unavailable:
        evidence["unavailable"] = unavailable
    if rebooted:
        evidence["rebooted_by_this_run"] = True
    if reasons:
        evidence["reasons"] = reasons
        if packages:
            evidence["packages"] = sorted(set(packages))
        return REBOOT.finding(Status.FAIL, evidence)
    return REBOOT.finding(Status.PASS, evidence, remediation="")


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:300]


def _judge_services(c: _Collected) -> Finding:
    assert c.services is not None
    svc = c.services
    if not svc.available:
        return _not_checked(SERVICES, svc.reason)
    if svc.rc not in (0, None) and not svc.stdout:
        return _not_checked(SERVICES, f"{svc.tool} failed (exit {svc.rc}): {svc.stderr.strip()[:300]}")
    services: list[str] = []
    evidence: dict[str, Any] = {"tool": svc.tool}
    if svc.tool == "needrestart":
        for line in svc.stdout.splitlines():
            key, _, value = line.partition(":")
            value = value.strip()
            if key == "NEEDRESTART-SVC":
                services.append(value)
            elif key == "NEEDRESTART-VER":
                evidence["version"] = value
            elif key == "NEEDRESTART-KSTA":
                evidence["kernel_status"] = value  # 1 current, 2 ABI-compatible upgrade, 3 version upgrade
    else:
        services = [line.strip() for line in svc.stdout.splitlines() if line.strip().endswith(".service")]
    evidence.update(services=sorted(services), count=len(services))
    if services:
        return SERVICES.finding(
            Status.FAIL,
            evidence,
            remediation=f"Restart: {', '.join(sorted(services))}. {SERVICES.remediation}",
        )
    return SERVICES.finding(Status.PASS, evidence, remediation="")


def _judge_remediation(env: _Envelope) -> Finding:
    if env.mode == "audit" or env.before is None or env.remediation is None:
        return REMEDIATION.finding(  # by design, not a failure to look: never counted as not passing
            Status.NOT_APPLICABLE,
            {"reason": "audit mode: nothing was installed (maint_mode is not remediate)"},
            remediation="",
        )
    rem = env.remediation
    before, _ = _pending_of(env.before)
    after, after_error = _pending_of(env.current)
    for name, parsed in (("before", before), ("after", after)):
        if parsed is not None and parsed.problems:
            return REMEDIATION.finding(
                Status.ERROR,
                {"reason": f"pending updates {name} the run cannot be trusted: {'; '.join(parsed.problems)}"},
            )
    selected = [] if before is None else (before.security if rem.upgrade == "security" else before.updates)
    evidence: dict[str, Any] = {
        "upgrade": rem.upgrade,
        "reboot_policy": rem.reboot_policy,
        "selected": len(selected),
        "rebooted": rem.rebooted,
    }
    if not rem.window_allowed:
        evidence["window"] = rem.window_reason
        return REMEDIATION.finding(
            Status.WARN,
            evidence,
            severity=Severity.MEDIUM,
            remediation=f"Nothing installed: {rem.window_reason or 'the maintenance window refused it'}. "
            "Run again inside the client's window.",
        )
    now = env.current.installed_versions
    still = {
        u.name for u in ((after.security if rem.upgrade == "security" else after.updates) if after else [])
    }
    upgraded = [
        {"name": u.name, "old": u.installed if u.installed != "?" else None, "new": now[u.name]}
        for u in selected
        if u.name in now and now[u.name] != u.installed and u.name not in still
    ]
    not_upgraded = [u.name for u in selected if u.name in still or u.name not in now]
    evidence.update(upgraded=upgraded[:200], upgraded_count=len(upgraded))
    if not_upgraded:
        evidence["not_upgraded"] = not_upgraded[:_EVIDENCE_MAX]
    if rem.reboot_msg:
        evidence["reboot_msg"] = rem.reboot_msg
    if rem.install.failed:
        evidence["error"] = rem.install.msg[:1000]
        return REMEDIATION.finding(
            Status.FAIL,
            evidence,
            remediation=f"The install failed: {rem.install.msg[:300]}. {REMEDIATION.remediation}",
        )
    if after is None:
        evidence["error"] = after_error
        return REMEDIATION.finding(Status.ERROR, evidence)
    if not_upgraded:
        return REMEDIATION.finding(
            Status.FAIL,
            evidence,
            remediation=f"Still pending after the run: {', '.join(not_upgraded[:10])} (kept back or failed). "
            f"{REMEDIATION.remediation}",
        )
    return REMEDIATION.finding(Status.PASS, evidence, remediation="")


def _skip(findings: list[Finding], skip: Sequence[str]) -> list[Finding]:
    out = []
    for f in findings:
        if f.control in skip:
            control = next(c for c in CONTROLS if c.control == f.control)
            f = control.finding(
                Status.NOT_CHECKED,
                {"reason": "disabled by configuration (linux_patching skip_controls)"},
                remediation=f"To check it again, remove {f.control} from skip_controls.",
            )
        out.append(f)
    return out


@evaluator(KIND, role="linux_patching", controls=CONTROLS, defaults=DEFAULTS)
def evaluate_linux_patching(raw: Any, thresholds: Mapping[str, Any]) -> list[Finding]:
    """Linux patching: pending and security updates, last upgrade, reboot, services, remediation (apt/dnf)."""
    th = parse_thresholds(thresholds)
    env = parse_raw(raw)
    c = env.current
    if c.manager == "none":
        reason = f"unsupported OS: {c.reason}"
        return _skip([_not_checked(control, reason) for control in CONTROLS], th.skip_controls)
    pending, error = _pending_of(c)
    context = {
        "manager": c.manager,
        "index_age_hours": None
        if c.refresh.index_age_seconds is None
        else round(c.refresh.index_age_seconds / 3600, 1),
        "refresh_error": c.refresh.error if c.refresh.attempted and not c.refresh.ok else "",
    }
    if pending is None:
        pending_findings = [
            PENDING.finding(
                Status.FAIL,
                {**context, "error": error},
                remediation=f"{error}. Repair the package "
                "manager (`dpkg --configure -a`, `apt-get -f install`, `dnf check`) first.",
            ),
            _not_checked(SECURITY, error),
        ]
    else:
        pending_findings = judge_pending(pending, th, context)
    rebooted = env.remediation.rebooted if env.remediation else False
    findings = [
        *pending_findings,
        _judge_recent(c, th),
        _judge_reboot(c, rebooted),
        _judge_services(c),
        _judge_remediation(env),
    ]
    return _skip(findings, th.skip_controls)


def _apt_text(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, Mapping):
        if isinstance(raw.get("stdout"), str):
            return str(raw["stdout"])
        if isinstance(raw.get("stdout_lines"), list):
            return "\n".join(str(x) for x in raw["stdout_lines"])
        inner = raw.get(KIND, raw)
        if isinstance(inner, Mapping) and isinstance(inner.get("simulate"), Mapping):
            return str(inner["simulate"].get("stdout", ""))
    raise EvaluatorError(
        f"{APT_KIND}: expected the text of `apt-get -s upgrade` (or a saved command result with 'stdout'), "
        f"got {type(raw).__name__}"
    )


@evaluator(APT_KIND, role="linux_patching", controls=(PENDING, SECURITY), defaults=DEFAULTS)
def evaluate_apt(raw: Any, thresholds: Mapping[str, Any]) -> list[Finding]:
    """A saved `apt-get -s upgrade|dist-upgrade` output: pending and security updates."""
    th = parse_thresholds(thresholds, APT_KIND)
    text = _apt_text(raw)
    pending = parse_apt_simulate(text)
    if pending.totals is None and not re.search(r"^(Inst|Remv|Purg|Conf) ", text, re.MULTILINE):
        raise EvaluatorError(f"{APT_KIND}: no 'Inst' line and no 'N upgraded' summary: not apt-get -s output")
    return _skip(judge_pending(pending, th, {"manager": "apt"}), th.skip_controls)


def selected_updates(raw: Any, which: str) -> list[Update]:
    """The pending updates a remediation installs: ``all`` or ``security`` (used by the role's filters)."""
    if which not in ("all", "security"):
        raise EvaluatorError(f"{KIND}: selection must be 'all' or 'security', got {which!r}")
    env = parse_raw(raw)
    pending, _error = _pending_of(env.current)
    if pending is None:
        return []
    if pending.problems:
        raise EvaluatorError(f"{KIND}: pending updates cannot be trusted: {'; '.join(pending.problems)}")
    return pending.security if which == "security" else pending.updates
