"""Judge the windows_access PowerShell collector's JSON: controls ACCESS-WIN-01 to ACCESS-WIN-07.

The raw data is the object the role's collector (``roles/windows_access/files/collect_access.ps1``) prints
with ``ConvertTo-Json -Depth 6``: ``Win32_ComputerSystem`` (is the host a domain controller), the members of
the local groups with SIDs S-1-5-32-544 (Administrators) and S-1-5-32-555 (Remote Desktop Users) read with
``Get-LocalGroupMember`` or the ADSI ``WinNT://`` fallback, the local accounts (``Get-LocalUser`` or ADSI),
the LAPS policy roots, ``LocalAccountTokenFilterPolicy`` and the RDP registry values. Enums, SIDs and dates
may come in the Windows PowerShell 5.1 or the PowerShell 7 encoding (a ``SecurityIdentifier`` serialises as
``{"BinaryLength", "AccountDomainSid", "Value"}``; see :mod:`runner.evaluators.windows_common`). Each control
stands on its own probe: a probe that could not run is ``not_checked`` with its reason and a value of the
wrong shape is that control's ``error``, never a pass, while the other controls are still judged.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError, model_validator

from runner import catalogue
from runner.evaluators import EvaluatorError, evaluator
from runner.evaluators.common import check_known_controls, describe, validate_thresholds
from runner.evaluators.windows_common import (
    Probe,
    WinRaw,
    as_list,
    enum_name,
    not_checked,
    ps_datetime,
    skipped,
    unwrap_output,
)
from runner.results import Control, Finding, Status

KIND = "windows_access"
ROLE = "windows_access"
SCHEMA = 1
_CATALOGUE = catalogue.load()  # titles, severities, remediations and defaults: runner/catalogue/data/

ADMINS = _CATALOGUE.control("ACCESS-WIN-01").as_control()
RDP_USERS = _CATALOGUE.control("ACCESS-WIN-02").as_control()
BUILTIN = _CATALOGUE.control("ACCESS-WIN-03").as_control()
INACTIVE = _CATALOGUE.control("ACCESS-WIN-04").as_control()
LAPS = _CATALOGUE.control("ACCESS-WIN-05").as_control()
TOKEN_FILTER = _CATALOGUE.control("ACCESS-WIN-06").as_control()
RDP = _CATALOGUE.control("ACCESS-WIN-07").as_control()
CONTROLS: tuple[Control, ...] = (ADMINS, RDP_USERS, BUILTIN, INACTIVE, LAPS, TOKEN_FILTER, RDP)
CONTROL_IDS: tuple[str, ...] = tuple(c.control for c in CONTROLS)

#: threshold names are the role variables without the role prefix; values, types and ranges: the catalogue
DEFAULTS: Mapping[str, Any] = MappingProxyType(_CATALOGUE.roles[ROLE].defaults(KIND))

NO_LIST = "no approved list: set access_approved_admins for this host or its group"

#: Microsoft.PowerShell.Commands.PrincipalSource (Get-LocalGroupMember / Get-LocalUser .PrincipalSource)
PRINCIPAL_SOURCE: Mapping[int, str] = {
    0: "Unknown",
    1: "Local",
    2: "ActiveDirectory",
    3: "AzureAD",
    4: "MicrosoftAccount",
}

#: Win32_ComputerSystem.DomainRole
DOMAIN_ROLE: Mapping[int, str] = {
    0: "standalone workstation",
    1: "member workstation",
    2: "standalone server",
    3: "member server",
    4: "backup domain controller",
    5: "primary domain controller",
}

#: Windows LAPS BackupDirectory: 0 disabled (the default when the root leaves it out)
BACKUP_DIRECTORY: Mapping[int, str] = {0: "disabled", 1: "Entra ID", 2: "Active Directory"}
#: RDP SecurityLayer (policy and RDP-Tcp listener)
SECURITY_LAYER: Mapping[int, str] = {0: "RDP", 1: "Negotiate", 2: "SSL (TLS)"}
LAPS_DEFAULT_AGE_DAYS = 30  # PasswordAgeDays when the active policy root does not set it (both LAPS)


class Thresholds(BaseModel):
    """The evaluator's settings, checked before anything is judged."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    approved_admins: list[StrictStr]
    inactive_days: StrictInt = Field(ge=1)
    inactive_ignore: list[StrictStr]
    laps_max_age_days: StrictInt = Field(ge=1)
    skip_controls: list[StrictStr]

    @model_validator(mode="after")
    def _known(self) -> Thresholds:
        check_known_controls(self.skip_controls, CONTROL_IDS)
        return self


# ---------------------------------------------------------------- raw data shape


class _Computer(Probe):
    """Win32_ComputerSystem: DomainRole 4 and 5 are domain controllers."""

    DomainRole: StrictInt | None = None
    PartOfDomain: bool | None = None
    Domain: str | None = None


class _Member(WinRaw):
    """A group member (Get-LocalGroupMember: Name DOMAIN\\name, SID, ObjectClass, PrincipalSource)."""

    Name: str
    SID: Any = None
    ObjectClass: str | None = None
    PrincipalSource: Any = None


class _Group(Probe):
    sid: str = ""
    name: str | None = None
    method: str | None = None
    fallback_reason: str | None = None
    members: Any = None


class _Groups(WinRaw):
    administrators: _Group
    remote_desktop_users: _Group


class _User(WinRaw):
    """A local account (Get-LocalUser: Name, SID, Enabled, LastLogon, PasswordLastSet; dates null = never)."""

    Name: str
    SID: Any
    Enabled: bool
    LastLogon: Any = None
    PasswordLastSet: Any = None
    PrincipalSource: Any = None


class _Users(Probe):
    method: str | None = None
    fallback_reason: str | None = None
    items: Any = None


class _WindowsLaps(WinRaw):
    """The active Windows LAPS policy root (csp, group_policy, local_config; None: no root has a value)."""

    source: str | None = None
    BackupDirectory: StrictInt | None = None
    PasswordAgeDays: StrictInt | None = None
    AdministratorAccountName: str | None = None
    AutomaticAccountManagementEnabled: StrictInt | None = None
    AutomaticAccountManagementTarget: StrictInt | None = None
    AutomaticAccountManagementNameOrPrefix: str | None = None
    AutomaticAccountManagementRandomizeName: StrictInt | None = None


class _LegacyLaps(WinRaw):
    """Legacy Microsoft LAPS: HKLM\\SOFTWARE\\Policies\\Microsoft Services\\AdmPwd and the AdmPwd CSE."""

    policy_present: bool = False
    cse_installed: bool = False
    AdmPwdEnabled: StrictInt | None = None
    PasswordAgeDays: StrictInt | None = None
    AdminAccountName: str | None = None


class _Laps(Probe):
    windows_laps_cmdlets: bool = False
    windows: _WindowsLaps = Field(default_factory=_WindowsLaps)
    legacy: _LegacyLaps = Field(default_factory=_LegacyLaps)


class _Uac(Probe):
    LocalAccountTokenFilterPolicy: StrictInt | None = None


class _RdpPolicy(WinRaw):
    fDenyTSConnections: StrictInt | None = None
    UserAuthentication: StrictInt | None = None
    SecurityLayer: StrictInt | None = None


class _RdpServer(WinRaw):
    fDenyTSConnections: StrictInt | None = None


class _RdpListener(WinRaw):
    present: bool = False
    UserAuthentication: StrictInt | None = None
    SecurityLayer: StrictInt | None = None
    PortNumber: StrictInt | None = None


class _Rdp(Probe):
    policy: _RdpPolicy = Field(default_factory=_RdpPolicy)
    server: _RdpServer = Field(default_factory=_RdpServer)
    listener: _RdpListener = Field(default_factory=_RdpListener)


class _Access(WinRaw):
    schema_version: StrictInt = Field(alias="schema")
    collector: str
    hostname: str
    ps_version: str = ""
    collected_at: Any
    computer: _Computer
    groups: _Groups
    users: _Users
    laps: _Laps
    uac: _Uac
    rdp: _Rdp


def parse_raw(raw: Any) -> _Access:
    data = unwrap_output(raw, KIND)
    try:
        access = _Access.model_validate(data)
    except ValidationError as exc:
        raise EvaluatorError(f"{KIND}: raw data has the wrong shape: {describe(exc)}") from exc
    if access.collector != KIND:
        raise EvaluatorError(f"{KIND}: raw data comes from the {access.collector!r} collector, not {KIND!r}")
    if access.schema_version != SCHEMA:
        raise EvaluatorError(
            f"{KIND}: raw data schema {access.schema_version} is not supported (expected {SCHEMA})"
        )
    return access


def _items(value: Any, model: type[WinRaw], field: str) -> list[Any]:
    out = []
    for index, item in enumerate(as_list(value)):
        try:
            out.append(model.model_validate(item))
        except ValidationError as exc:
            raise EvaluatorError(f"{field}.{index}: {describe(exc)}") from exc
    return out


def sid_text(value: Any, field: str) -> str:
    """A SID as its string: the collector's ``[string]$_.SID.Value`` or a serialised SecurityIdentifier."""
    if isinstance(value, Mapping):
        value = value.get("Value")
    if isinstance(value, str) and value.upper().startswith("S-1-"):
        return value.upper()
    raise EvaluatorError(f"{field}: {value!r} is not a SID (S-1-...)")


def _rid(sid: str) -> int | None:
    tail = sid.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else None


# ---------------------------------------------------------------- judgements


def _error(control: Control, reason: str) -> Finding:
    return control.finding(
        Status.ERROR,
        {"reason": reason},
        remediation=f"Not judged: {reason}. Run the collector on the host and compare with its output.",
    )


def _domain_controller(computer: _Computer) -> str | None:
    """The reason to leave the local-account controls out, when the host is a domain controller."""
    if computer.available and computer.DomainRole in (4, 5):
        role = DOMAIN_ROLE[computer.DomainRole]
        return (
            f"domain controller ({role}): no local accounts or groups; review BUILTIN\\Administrators, "
            "Remote Desktop Users and the domain's accounts in Active Directory"
        )
    return None


def is_approved(name: str, sid: str, approved: list[str]) -> bool:
    """``DOMAIN\\name``, ``HOST\\name``, a bare ``name`` (any domain) or the SID; case-insensitive."""
    full = name.casefold()
    short = full.rsplit("\\", 1)[-1]
    for entry in approved:
        wanted = entry.strip().casefold()
        if not wanted:
            continue
        if wanted in (full, sid.casefold()) or ("\\" not in wanted and wanted == short):
            return True
    return False


def _members(group: _Group, field: str) -> list[dict[str, Any]]:
    out = []
    for index, member in enumerate(_items(group.members, _Member, f"{field}.members")):
        where = f"{field}.members.{index}"
        sid = sid_text(member.SID, f"{where}.SID") if member.SID is not None else ""
        source = (
            enum_name(member.PrincipalSource, PRINCIPAL_SOURCE, f"{where}.PrincipalSource")
            if member.PrincipalSource not in (None, "")
            else None
        )
        entry: dict[str, Any] = {"name": member.Name, "sid": sid, "class": member.ObjectClass or ""}
        if source:
            entry["source"] = source
        # an orphaned SID (a deleted account) has no name to show: both providers give the SID instead
        entry["orphaned"] = member.Name.upper().startswith("S-1-") or (
            source == "Unknown" and member.Name.rsplit("\\", 1)[-1].upper() == sid
        )
        out.append(entry)
    return sorted(out, key=lambda m: m["name"].casefold())


def _group(control: Control, group: _Group, field: str, dc: str | None, th: Thresholds) -> Finding:
    if dc:
        return not_checked(control, dc)
    if not group.available:
        return not_checked(control, group.reason or f"{field} could not be read")
    members = _members(group, field)
    evidence: dict[str, Any] = {
        "group": group.name or group.sid,
        "sid": group.sid,
        "method": group.method or "",
        "members": members,
    }
    if group.fallback_reason:
        evidence["fallback_reason"] = group.fallback_reason
    if not th.approved_admins:
        return control.finding(
            Status.NOT_CHECKED,
            {"reason": NO_LIST, **evidence},
            remediation=(
                f"List who may be in {evidence['group']} in access_approved_admins (host or group vars), "
                "then run the role again; the members found are in the evidence."
            ),
        )
    unapproved = [m for m in members if not is_approved(m["name"], m["sid"], th.approved_admins)]
    evidence["unapproved"] = [m["name"] for m in unapproved]
    if not unapproved:
        return control.finding(Status.PASS, evidence)
    names = ", ".join(m["name"] + (" (orphaned SID)" if m["orphaned"] else "") for m in unapproved)
    return control.finding(
        Status.FAIL,
        evidence,
        remediation=f"Not on the approved list: {names}. {control.remediation}",
    )


def _users(probe: _Users) -> list[tuple[_User, str]]:
    return [
        (user, sid_text(user.SID, f"users.items.{i}.SID"))
        for i, user in enumerate(_items(probe.items, _User, "users.items"))
    ]


def _users_reason(probe: _Users, dc: str | None) -> str | None:
    if dc:
        return dc
    if not probe.available:
        return probe.reason or "the local accounts could not be read"
    return None


def _builtin(probe: _Users, dc: str | None, laps_account: str | None) -> Finding:
    reason = _users_reason(probe, dc)
    if reason:
        return not_checked(BUILTIN, reason)
    found: dict[int, dict[str, Any]] = {}
    for user, sid in _users(probe):
        rid = _rid(sid)
        if rid in (500, 501):
            found[rid] = {"name": user.Name, "sid": sid, "enabled": user.Enabled}
    if 500 not in found:
        return _error(BUILTIN, "no local account with RID 500 (the built-in Administrator always exists)")
    admin, guest = found[500], found.get(501)
    admin_laps = laps_account is not None and laps_account.casefold() == admin["name"].casefold()
    evidence: dict[str, Any] = {"administrator": {**admin, "laps_managed": admin_laps}, "guest": guest}
    problems = []
    status = Status.PASS
    if guest is not None and guest["enabled"]:
        problems.append(f"the Guest account ({guest['name']}) is enabled")
        status = Status.FAIL
    if admin["enabled"]:
        if admin_laps:
            problems.append(
                f"the built-in Administrator ({admin['name']}) is enabled, its password managed by LAPS"
            )
            status = Status.FAIL if status is Status.FAIL else Status.WARN
        else:
            problems.append(
                f"the built-in Administrator ({admin['name']}) is enabled and not managed by LAPS"
            )
            status = Status.FAIL
    if not problems:
        return BUILTIN.finding(Status.PASS, evidence)
    text = "; ".join(problems)
    return BUILTIN.finding(
        status, evidence, remediation=f"{text[0].upper()}{text[1:]}. {BUILTIN.remediation}"
    )


def _days(now: datetime, then: datetime) -> float:
    return round((now - then).total_seconds() / 86400, 1)


def _inactive(probe: _Users, dc: str | None, now: datetime, th: Thresholds) -> Finding:
    reason = _users_reason(probe, dc)
    if reason:
        return not_checked(INACTIVE, reason)
    dormant: list[dict[str, Any]] = []
    ignored: list[str] = []
    checked = 0
    for index, (user, _sid) in enumerate(_users(probe)):
        if not user.Enabled:
            continue
        if any(fnmatch.fnmatchcase(user.Name.casefold(), p.casefold()) for p in th.inactive_ignore):
            ignored.append(user.Name)
            continue
        checked += 1
        where = f"users.items.{index}"
        if user.LastLogon is not None:
            days = _days(now, ps_datetime(user.LastLogon, f"{where}.LastLogon"))
            if days > th.inactive_days:
                dormant.append({"name": user.Name, "last_logon_days": days})
            continue
        if user.PasswordLastSet is None:
            dormant.append({"name": user.Name, "last_logon_days": None, "password_set_days": None})
            continue
        age = _days(now, ps_datetime(user.PasswordLastSet, f"{where}.PasswordLastSet"))
        if age > th.inactive_days:  # never used since it was created (or its password last set)
            dormant.append({"name": user.Name, "last_logon_days": None, "password_set_days": age})
    dormant.sort(key=lambda d: d["name"].casefold())
    evidence: dict[str, Any] = {
        "inactive_days": th.inactive_days,
        "enabled_checked": checked,
        "dormant": dormant,
        "method": probe.method or "",
    }
    if ignored:
        evidence["ignored"] = sorted(ignored, key=str.casefold)
    if not dormant:
        return INACTIVE.finding(Status.PASS, evidence)

    def describe_one(d: dict[str, Any]) -> str:
        if d["last_logon_days"] is not None:
            return f"{d['name']} ({d['last_logon_days']} days)"
        return f"{d['name']} (never logged on)"

    names = ", ".join(describe_one(d) for d in dormant)
    return INACTIVE.finding(Status.FAIL, evidence, remediation=f"Dormant: {names}. {INACTIVE.remediation}")


def _laps_policy(laps: _Laps) -> tuple[str | None, dict[str, Any]]:
    """(the managed account's name, or None for the built-in Administrator; the evidence of the policy).

    The evidence's ``mode`` is None when no LAPS is configured.
    """
    win = laps.windows
    if win.source is not None:
        backup = win.BackupDirectory if win.BackupDirectory is not None else 0
        if backup not in BACKUP_DIRECTORY:
            raise EvaluatorError(f"laps.windows.BackupDirectory: unknown value {backup} (0, 1 or 2)")
        policy: dict[str, Any] = {
            "mode": "Windows LAPS" if backup else None,
            "source": win.source,
            "backup_directory": BACKUP_DIRECTORY[backup],
            "password_age_days": win.PasswordAgeDays or LAPS_DEFAULT_AGE_DAYS,
        }
        name = win.AdministratorAccountName or None
        if win.AutomaticAccountManagementEnabled == 1:
            # automatic account management: Target 0 is the built-in Administrator, 1 a custom account
            # named (or prefixed, with RandomizeName) NameOrPrefix, WLapsAdmin by default
            name = None
            if win.AutomaticAccountManagementTarget == 1:
                name = win.AutomaticAccountManagementNameOrPrefix or "WLapsAdmin"
                policy["automatic_account"] = name
                policy["randomized_name"] = win.AutomaticAccountManagementRandomizeName == 1
        return name, policy
    legacy = laps.legacy
    if legacy.AdmPwdEnabled == 1 and (legacy.cse_installed or laps.windows_laps_cmdlets):
        # Windows LAPS honours the legacy policy itself (emulation mode) when the legacy CSE is not installed
        mode = "legacy Microsoft LAPS" if legacy.cse_installed else "Windows LAPS (legacy emulation)"
        return legacy.AdminAccountName or None, {
            "mode": mode,
            "source": "legacy",
            "backup_directory": "Active Directory",
            "password_age_days": legacy.PasswordAgeDays or LAPS_DEFAULT_AGE_DAYS,
        }
    policy = {"mode": None, "source": "legacy" if legacy.policy_present else None}
    if legacy.policy_present:
        policy["legacy"] = {
            "AdmPwdEnabled": legacy.AdmPwdEnabled,
            "cse_installed": legacy.cse_installed,
            "windows_laps_cmdlets": laps.windows_laps_cmdlets,
        }
    return None, policy


def _managed_account(
    users: list[tuple[_User, str]], name: str | None, policy: Mapping[str, Any]
) -> _User | None:
    for user, sid in users:
        if name is None and _rid(sid) == 500:
            return user
        if name is not None:
            own = user.Name.casefold()
            if own == name.casefold() or (policy.get("randomized_name") and own.startswith(name.casefold())):
                return user
    return None


def laps_account_name(laps: _Laps, probe: _Users) -> str | None:
    """The name of the local account LAPS manages here, when LAPS is configured and the account exists."""
    if not laps.available or not probe.available:
        return None
    try:
        name, policy = _laps_policy(laps)
        if policy["mode"] is None:
            return None
        account = _managed_account(_users(probe), name, policy)
    except EvaluatorError:
        return None
    return account.Name if account is not None else None


def _laps(laps: _Laps, probe: _Users, dc: str | None, now: datetime, th: Thresholds) -> Finding:
    if dc:
        return not_checked(LAPS, dc)
    if not laps.available:
        return not_checked(LAPS, laps.reason or "the LAPS policy keys could not be read")
    name, policy = _laps_policy(laps)
    evidence: dict[str, Any] = {**policy, "max_age_days": th.laps_max_age_days}
    if policy["mode"] is None:
        if policy.get("source") == "legacy":
            why = "the legacy AdmPwd policy key exists but is not in effect (AdmPwdEnabled not 1, or no CSE)"
        elif policy.get("source"):
            why = f"the Windows LAPS policy ({policy['source']}) has BackupDirectory disabled"
        else:
            why = "no Windows LAPS policy root and no legacy Microsoft LAPS policy is set"
        evidence["reason"] = why
        return LAPS.finding(
            Status.FAIL, evidence, remediation=f"LAPS is not in effect: {why}. {LAPS.remediation}"
        )
    if not probe.available:
        return not_checked(
            LAPS,
            f"LAPS is configured ({policy['mode']}) but "
            f"{probe.reason or 'the local accounts could not be read'}",
        )
    account = _managed_account(_users(probe), name, policy)
    wanted = name or "the built-in Administrator (RID 500)"
    if account is None:
        evidence["account"] = wanted
        return LAPS.finding(
            Status.FAIL,
            evidence,
            remediation=f"LAPS manages {wanted}, which does not exist on this host. {LAPS.remediation}",
        )
    evidence["account"] = account.Name
    if account.PasswordLastSet is None:
        evidence["password_age_days"] = None
        return LAPS.finding(
            Status.FAIL,
            evidence,
            remediation=(
                f"The password of {account.Name} was never set: LAPS has not rotated it. {LAPS.remediation}"
            ),
        )
    age = _days(now, ps_datetime(account.PasswordLastSet, "users.items.PasswordLastSet"))
    evidence["password_age_days"] = age
    if age > th.laps_max_age_days:
        return LAPS.finding(
            Status.FAIL,
            evidence,
            remediation=(
                f"The password of {account.Name} is {age} days old (at most {th.laps_max_age_days}): "
                f"LAPS has not rotated it. {LAPS.remediation}"
            ),
        )
    if policy["password_age_days"] > th.laps_max_age_days:
        return LAPS.finding(
            Status.WARN,
            evidence,
            remediation=(
                f"The LAPS policy lets the password age {policy['password_age_days']} days (at most "
                f"{th.laps_max_age_days}): set PasswordAgeDays to {th.laps_max_age_days} or fewer."
            ),
        )
    return LAPS.finding(Status.PASS, evidence)


def _token_filter(uac: _Uac, dc: str | None) -> Finding:
    if dc:
        return not_checked(TOKEN_FILTER, dc)
    if not uac.available:
        return not_checked(TOKEN_FILTER, uac.reason or "the UAC policy key could not be read")
    value = uac.LocalAccountTokenFilterPolicy
    evidence = {"LocalAccountTokenFilterPolicy": value}
    if value in (None, 0):
        return TOKEN_FILTER.finding(Status.PASS, evidence)
    return TOKEN_FILTER.finding(
        Status.FAIL,
        evidence,
        remediation=f"LocalAccountTokenFilterPolicy is {value}. {TOKEN_FILTER.remediation}",
    )


def _effective(policy: int | None, listener: int | None) -> tuple[int | None, str]:
    if policy is not None:
        return policy, "policy"
    if listener is not None:
        return listener, "RDP-Tcp"
    return None, "not set"


def _rdp(rdp: _Rdp) -> Finding:
    if not rdp.available:
        return not_checked(RDP, rdp.reason or "the Terminal Server registry keys could not be read")
    if (
        not rdp.listener.present
        and rdp.policy.UserAuthentication is None
        and rdp.policy.SecurityLayer is None
    ):
        return RDP.finding(Status.PASS, {"rdp_enabled": False, "reason": "no RDP-Tcp listener on this host"})
    deny, deny_from = _effective(rdp.policy.fDenyTSConnections, rdp.server.fDenyTSConnections)
    # an absent fDenyTSConnections is read as enabled: an unknown state is never the lenient one
    enabled = deny != 1
    nla, nla_from = _effective(rdp.policy.UserAuthentication, rdp.listener.UserAuthentication)
    layer, layer_from = _effective(rdp.policy.SecurityLayer, rdp.listener.SecurityLayer)
    if layer is not None and layer not in SECURITY_LAYER:
        raise EvaluatorError(f"rdp SecurityLayer: unknown value {layer} (0, 1 or 2)")
    evidence: dict[str, Any] = {
        "rdp_enabled": enabled,
        "fDenyTSConnections": deny,
        "fDenyTSConnections_from": deny_from,
        "UserAuthentication": nla,
        "UserAuthentication_from": nla_from,
        "SecurityLayer": layer,
        "SecurityLayer_name": SECURITY_LAYER[layer] if layer is not None else None,
        "SecurityLayer_from": layer_from,
    }
    if rdp.listener.PortNumber is not None:
        evidence["port"] = rdp.listener.PortNumber
    problems = []
    if nla != 1:
        problems.append(f"NLA is not required (UserAuthentication {nla}, {nla_from})")
    if layer != 2:
        shown = SECURITY_LAYER[layer] if layer is not None else "not set"
        problems.append(f"the security layer is {shown} (SecurityLayer {layer}, {layer_from}), not SSL (2)")
    if not problems:
        return RDP.finding(Status.PASS, evidence)
    state = "RDP is enabled" if enabled else "RDP is disabled now, but"
    return RDP.finding(
        Status.FAIL if enabled else Status.WARN,
        evidence,
        remediation=f"{state}: {'; '.join(problems)}. {RDP.remediation}",
    )


def _guarded(control: Control, judge: Callable[[], Finding]) -> Finding:
    """One control's judgement; a value of the wrong shape is this control's error, not every control's."""
    try:
        return judge()
    except EvaluatorError as exc:
        return _error(control, str(exc))


@evaluator(KIND, role=ROLE, controls=CONTROLS, defaults=DEFAULTS)
def evaluate_windows_access(raw: Any, thresholds: Mapping[str, Any]) -> list[Finding]:
    """Windows access review: local admins, RDP users, built-in accounts, dormant accounts, LAPS, UAC, RDP."""
    th = validate_thresholds(Thresholds, thresholds, kind=KIND)
    access = parse_raw(raw)
    try:
        now = ps_datetime(access.collected_at, "collected_at")
    except EvaluatorError as exc:
        raise EvaluatorError(f"{KIND}: {exc}") from exc
    dc = _domain_controller(access.computer)
    groups, users = access.groups, access.users
    judged: dict[str, Callable[[], Finding]] = {
        ADMINS.control: lambda: _group(ADMINS, groups.administrators, "groups.administrators", dc, th),
        RDP_USERS.control: lambda: _group(
            RDP_USERS, groups.remote_desktop_users, "groups.remote_desktop_users", dc, th
        ),
        BUILTIN.control: lambda: _builtin(users, dc, laps_account_name(access.laps, users)),
        INACTIVE.control: lambda: _inactive(users, dc, now, th),
        LAPS.control: lambda: _laps(access.laps, users, dc, now, th),
        TOKEN_FILTER.control: lambda: _token_filter(access.uac, dc),
        RDP.control: lambda: _rdp(access.rdp),
    }
    return [
        skipped(control, ROLE)
        if control.control in th.skip_controls
        else _guarded(control, judged[control.control])
        for control in CONTROLS
    ]
