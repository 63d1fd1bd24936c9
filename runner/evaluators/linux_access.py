"""Judge the raw output of the ``linux_access_facts`` module: controls ACCESS-LNX-01 to ACCESS-LNX-10.

The raw data is the module's ``linux_access`` key (a saved whole module result is unwrapped). A probe that
could not look says ``available: false`` and why; its controls are ``not_checked`` with that reason, never
``pass``. The approved lists (``approved_admins``, ``approved_keys``) come from the inventory variables
``access_approved_admins`` / ``access_approved_keys``; without a list the membership controls are
``not_checked`` and their evidence still shows who and what was found. Ages are measured from the
collector's clock (``collected_at``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator, model_validator

from runner import catalogue
from runner.evaluators import EvaluatorError, evaluator
from runner.evaluators.common import check_known_controls, validate_raw, validate_thresholds
from runner.results import Control, Finding, Severity, Status

KIND = "linux_access"
SCHEMA = 1
_CATALOGUE = catalogue.load()  # titles, severities, remediations and defaults: runner/catalogue/data/
_DAY = 86400
#: most entries of one list shown in a finding's evidence (the count says how many there are)
SHOWN = 20

UID0 = _CATALOGUE.control("ACCESS-LNX-01").as_control()
ADMINS = _CATALOGUE.control("ACCESS-LNX-02").as_control()
SUDO_AUTH = _CATALOGUE.control("ACCESS-LNX-03").as_control()
DORMANT = _CATALOGUE.control("ACCESS-LNX-04").as_control()
INACTIVE_LOCK = _CATALOGUE.control("ACCESS-LNX-05").as_control()
SSH_ROOT = _CATALOGUE.control("ACCESS-LNX-06").as_control()
SSH_PASSWORD = _CATALOGUE.control("ACCESS-LNX-07").as_control()
SSH_EMPTY = _CATALOGUE.control("ACCESS-LNX-08").as_control()
SSH_TRIES = _CATALOGUE.control("ACCESS-LNX-09").as_control()
KEYS = _CATALOGUE.control("ACCESS-LNX-10").as_control()
CONTROLS: tuple[Control, ...] = (
    UID0,
    ADMINS,
    SUDO_AUTH,
    DORMANT,
    INACTIVE_LOCK,
    SSH_ROOT,
    SSH_PASSWORD,
    SSH_EMPTY,
    SSH_TRIES,
    KEYS,
)
CONTROL_IDS: tuple[str, ...] = tuple(c.control for c in CONTROLS)

#: threshold names are the role variables without the ``linux_access_`` prefix; values: the catalogue
DEFAULTS: Mapping[str, Any] = MappingProxyType(_CATALOGUE.roles[KIND].defaults(KIND))

NO_ADMIN_LIST = "no approved list: set access_approved_admins for this host or its group"
NO_KEY_LIST = "no approved list: set access_approved_keys for this host or its group"


def _is_fingerprint(value: str) -> bool:
    import base64
    import binascii

    if not value.startswith("SHA256:") or len(value) != 50:
        return False
    try:
        return len(base64.b64decode(value[7:] + "=", validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


# ---------------------------------------------------------------- thresholds


class Thresholds(BaseModel):
    """The evaluator's settings, checked before anything is judged."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    approved_admins: list[StrictStr]
    approved_keys: list[StrictStr]
    inactive_days: StrictInt = Field(ge=1)
    password_inactive_days: StrictInt = Field(ge=0)
    max_auth_tries: StrictInt = Field(ge=1)
    skip_controls: list[StrictStr]

    @field_validator("approved_keys")
    @classmethod
    def _fingerprints(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not _is_fingerprint(v.strip())]
        if bad:
            raise ValueError(
                "not SHA256 fingerprints (SHA256:<43 base64 characters>, as ssh-keygen -lf prints them): "
                f"{bad[:3]}"
            )
        return [v.strip() for v in value]

    @model_validator(mode="after")
    def _known(self) -> Thresholds:
        check_known_controls(self.skip_controls, CONTROL_IDS)
        return self


# ---------------------------------------------------------------- raw data shape


class _Raw(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")


class _Probe(_Raw):
    available: bool
    reason: str = ""


class _Account(_Raw):
    name: str
    uid: StrictInt
    gid: StrictInt
    home: str = ""
    shell: str = ""
    login_shell: bool


class _Accounts(_Probe):
    total: StrictInt = 0
    items: list[_Account] = Field(default_factory=list)
    more: StrictInt = 0
    uid0: list[str] = Field(default_factory=list)


class _Groups(_Probe):
    admin_groups: dict[str, list[str]] = Field(default_factory=dict)


class _Rule(_Raw):
    file: str
    line: StrictInt
    users: list[str]
    principals: list[str] = Field(default_factory=list)
    nopasswd: bool = False
    commands: str = ""


class _NoAuth(_Raw):
    file: str
    line: StrictInt
    scope: str = ""


class _Where(_Raw):
    path: str
    reason: str = ""


class _Unparsed(_Raw):
    file: str
    line: StrictInt
    text: str = ""


class _Sudoers(_Probe):
    present: bool = True
    files: list[str] = Field(default_factory=list)
    skipped_files: list[str] = Field(default_factory=list)
    unreadable: list[_Where] = Field(default_factory=list)
    rules: list[_Rule] = Field(default_factory=list)
    more_rules: StrictInt = 0
    noauth: list[_NoAuth] = Field(default_factory=list)
    more_noauth: StrictInt = 0
    unparsed: list[_Unparsed] = Field(default_factory=list)
    group_members: dict[str, list[str]] = Field(default_factory=dict)


class _Source(_Raw):
    name: str
    path: str = ""
    available: bool
    reason: str = ""


class _Logins(_Probe):
    sources: list[_Source] = Field(default_factory=list)
    last: dict[str, StrictInt | None] = Field(default_factory=dict)
    more: StrictInt = 0


class _ShadowEntry(_Raw):
    password: str
    last_change: StrictInt | None = None
    inactive: StrictInt | None = None
    expire: StrictInt | None = None


class _Useradd(_Raw):
    path: str = "/etc/default/useradd"
    readable: bool = False
    inactive: StrictInt | None = None


class _Shadow(_Probe):
    useradd: _Useradd | None = None
    accounts: dict[str, _ShadowEntry] = Field(default_factory=dict)
    more: StrictInt = 0


class _Sshd(_Probe):
    path: str = ""
    settings: dict[str, str] = Field(default_factory=dict)


class _Key(_Raw):
    type: str
    algorithm: str = ""
    bits: StrictInt
    comment: str = ""
    fingerprint: str
    options: bool = False
    line: StrictInt = 0


class _Invalid(_Raw):
    line: StrictInt
    error: str


class _KeyFile(_Raw):
    account: str
    path: str
    keys: list[_Key] = Field(default_factory=list)
    more: StrictInt = 0
    invalid: list[_Invalid] = Field(default_factory=list)


class _KeyUnreadable(_Raw):
    account: str
    path: str
    reason: str


class _Keys(_Probe):
    authorized_keys_file: list[str] = Field(default_factory=list)
    authorized_keys_file_source: str = ""
    authorized_keys_command: str = "none"
    files: list[_KeyFile] = Field(default_factory=list)
    more_files: StrictInt = 0
    total_keys: StrictInt = 0
    unreadable: list[_KeyUnreadable] = Field(default_factory=list)
    more_unreadable: StrictInt = 0


class _Access(_Raw):
    schema_version: StrictInt = Field(alias="schema")
    collected_at: str
    hostname: str = ""
    privileged: bool = True
    euid: StrictInt | None = None
    accounts: _Accounts
    groups: _Groups
    sudoers: _Sudoers
    logins: _Logins
    shadow: _Shadow
    sshd: _Sshd
    authorized_keys: _Keys


def parse_raw(raw: Any) -> _Access:
    """Check the shape of the raw module output; unwrap a whole saved module result."""
    access = validate_raw(_Access, raw, kind=KIND, key=KIND, marker="sudoers", module="linux_access_facts")
    if access.schema_version != SCHEMA:
        raise EvaluatorError(
            f"{KIND}: raw data schema {access.schema_version} is not supported (expected {SCHEMA}); "
            "update the collector and the runner together"
        )
    return access


def parse_thresholds(thresholds: Mapping[str, Any]) -> Thresholds:
    return validate_thresholds(Thresholds, thresholds, kind=KIND)


def _now(access: _Access) -> float:
    try:
        when = datetime.fromisoformat(access.collected_at.replace("Z", "+00:00"))
    except ValueError as exc:
        raise EvaluatorError(f"{KIND}: collected_at {access.collected_at!r} is not an ISO 8601 time") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


# ---------------------------------------------------------------- helpers


def _not_checked(control: Control, reason: str, evidence: dict[str, Any] | None = None) -> Finding:
    return control.finding(
        Status.NOT_CHECKED,
        {"reason": reason, **(evidence or {})},
        remediation=(
            f"Could not check: {reason}. Fix the cause (run the role as root with become, install what is "
            f"missing, set the approved list) or waive {control.control} for this host."
        ),
    )


def _shown(items: Sequence[Any]) -> tuple[list[Any], int]:
    return list(items[:SHOWN]), max(len(items) - SHOWN, 0)


def _list_evidence(name: str, items: Sequence[Any]) -> dict[str, Any]:
    shown, more = _shown(items)
    out: dict[str, Any] = {name: shown}
    if more:
        out[f"{name}_more"] = more
    return out


def _bare(name: str) -> str:
    """``DOMAIN\\alice`` / ``alice@domain`` -> ``alice``, lower case."""
    name = name.strip().lower()
    if "\\" in name:
        name = name.rsplit("\\", 1)[1]
    return name


def _approved(name: str, approved: Sequence[str]) -> bool:
    """Case-insensitive; a bare name on either side matches any ``DOMAIN\\`` prefix on the other."""
    low = name.strip().lower()
    for entry in approved:
        want = entry.strip().lower()
        if want == low:
            return True
        if ("\\" not in want or "\\" not in low) and _bare(want) == _bare(low):
            return True
    return False


def _sshd_finding(control: Control, sshd: _Sshd, key: str) -> tuple[Finding | None, str, dict[str, Any]]:
    """(a not_checked finding or None, the setting's value, the evidence base)."""
    if not sshd.available:
        return _not_checked(control, sshd.reason), "", {}
    value = sshd.settings.get(key)
    evidence: dict[str, Any] = {
        "setting": key,
        "value": value,
        "source": "sshd -T (global, Match blocks not applied)",
    }
    if value is None:
        reason = f"sshd -T printed no {key} line"
        return (
            control.finding(
                Status.ERROR,
                {**evidence, "reason": reason},
                remediation=f"Not judged: {reason}. Run `sshd -T`.",
            ),
            "",
            evidence,
        )
    return None, value.strip().lower(), evidence


# ---------------------------------------------------------------- judgements


def _judge_uid0(accounts: _Accounts) -> Finding:
    if not accounts.available:
        return _not_checked(UID0, accounts.reason)
    others = [n for n in accounts.uid0 if n != "root"]
    evidence: dict[str, Any] = {"uid0_accounts": accounts.uid0[:SHOWN], "accounts_checked": accounts.total}
    if others:
        return UID0.finding(
            Status.FAIL,
            evidence,
            remediation=f"UID 0 besides root: {', '.join(others[:SHOWN])}. {UID0.remediation}",
        )
    if "root" not in accounts.uid0:
        reason = "/etc/passwd has no root account with UID 0"
        return UID0.finding(
            Status.ERROR,
            {**evidence, "reason": reason},
            remediation=f"Not judged: {reason}. Check /etc/passwd.",
        )
    return UID0.finding(Status.PASS, evidence, remediation="")


def _admins(access: _Access) -> tuple[list[dict[str, Any]], list[str]]:
    """(each account or principal holding admin rights with where from, why the list may be incomplete)."""
    holders: dict[str, list[str]] = {}
    gaps: list[str] = []
    if access.groups.available:
        for group, members in sorted(access.groups.admin_groups.items()):
            for member in members:
                holders.setdefault(member, []).append(f"group {group}")
    else:
        gaps.append(access.groups.reason)
    sudoers = access.sudoers
    if not sudoers.available:
        gaps.append(sudoers.reason)
    else:
        gaps += [f"cannot read {u.path}: {u.reason}" for u in sudoers.unreadable]
        if sudoers.more_rules:
            gaps.append(f"{sudoers.more_rules} sudo rules were not collected (max_entries)")
        for rule in sudoers.rules:
            where = f"sudoers {rule.file}:{rule.line}"
            for principal in rule.principals or rule.users:
                if principal.startswith("!"):
                    continue  # an exclusion grants nothing
                if principal.startswith("%") and not principal.startswith("%:"):
                    group = principal[1:]
                    expanded = sudoers.group_members.get(group)
                    if expanded is None:
                        holders.setdefault(principal, []).append(where)  # unknown group: judge the name
                        continue
                    for member in expanded:
                        holders.setdefault(member, []).append(f"{where} (group {group})")
                else:
                    holders.setdefault(principal, []).append(where)
    found = [{"account": name, "via": via[:5]} for name, via in sorted(holders.items()) if name != "root"]
    return found, gaps


def _judge_admins(access: _Access, th: Thresholds) -> Finding:
    found, gaps = _admins(access)
    if not access.groups.available and not access.sudoers.available:
        return _not_checked(ADMINS, "; ".join(gaps))
    evidence: dict[str, Any] = {"count": len(found), **_list_evidence("admins", found)}
    if gaps:
        evidence["incomplete"] = gaps[:SHOWN]
    if not th.approved_admins:
        return _not_checked(ADMINS, NO_ADMIN_LIST, evidence)
    evidence["approved"] = th.approved_admins[:SHOWN]
    bad = [
        f for f in found if f["account"].upper() == "ALL" or not _approved(f["account"], th.approved_admins)
    ]
    if bad:
        evidence.update(_list_evidence("not_approved", bad))
        names = ", ".join(b["account"] for b in bad[:SHOWN])
        return ADMINS.finding(
            Status.FAIL, evidence, remediation=f"Not approved: {names}. {ADMINS.remediation}"
        )
    if gaps:
        return _not_checked(ADMINS, "; ".join(gaps), evidence)
    return ADMINS.finding(Status.PASS, evidence, remediation="")


def _judge_sudo_auth(sudoers: _Sudoers) -> Finding:
    if not sudoers.available:
        return _not_checked(SUDO_AUTH, sudoers.reason)
    if not sudoers.present:
        return SUDO_AUTH.finding(
            Status.PASS, {"sudoers": "absent (sudo is not installed)", "files": []}, remediation=""
        )
    nopasswd = [
        {"file": r.file, "line": r.line, "users": r.users[:10], "commands": r.commands}
        for r in sudoers.rules
        if r.nopasswd
    ]
    noauth = [{"file": n.file, "line": n.line, "scope": n.scope or "global"} for n in sudoers.noauth]
    evidence: dict[str, Any] = {
        "files": sudoers.files[:SHOWN],
        "rules_checked": len(sudoers.rules) + sudoers.more_rules,
        "nopasswd_count": len(nopasswd),
        "noauth_count": len(noauth) + sudoers.more_noauth,
        **_list_evidence("nopasswd", nopasswd),
        **_list_evidence("noauth", noauth),
    }
    if sudoers.skipped_files:
        evidence["skipped_files"] = sudoers.skipped_files[:SHOWN]
    if nopasswd or noauth:
        lines = ", ".join(f"{e['file']}:{e['line']}" for e in (nopasswd + noauth)[:SHOWN])
        return SUDO_AUTH.finding(Status.FAIL, evidence, remediation=f"At {lines}. {SUDO_AUTH.remediation}")
    gaps = [f"cannot read {u.path}: {u.reason}" for u in sudoers.unreadable]
    if sudoers.unparsed:
        gaps.append(
            f"{len(sudoers.unparsed)} sudoers line(s) not understood (first {sudoers.unparsed[0].file}:"
            f"{sudoers.unparsed[0].line})"
        )
    if sudoers.more_rules:
        gaps.append(f"{sudoers.more_rules} sudo rules were not collected (max_entries)")
    if gaps:
        return _not_checked(SUDO_AUTH, "; ".join(gaps), evidence)
    return SUDO_AUTH.finding(Status.PASS, evidence, remediation="")


def _key_holders(keys: _Keys) -> set[str]:
    return {f.account for f in keys.files if f.keys or f.more}


def _judge_dormant(access: _Access, th: Thresholds, now: float) -> Finding:
    if not access.accounts.available:
        return _not_checked(DORMANT, access.accounts.reason)
    logins = access.logins
    if not logins.available:
        return _not_checked(DORMANT, logins.reason)
    shadow = access.shadow
    with_keys = _key_holders(access.authorized_keys) if access.authorized_keys.available else set()
    limit = now - th.inactive_days * _DAY
    dormant: list[dict[str, Any]] = []
    locked: list[str] = []
    unknown_age: list[str] = []
    checked = 0
    for account in access.accounts.items:
        if not account.login_shell:
            continue
        entry = shadow.accounts.get(account.name) if shadow.available else None
        locked_password = entry is not None and entry.password == "locked"  # noqa: S105 - a state
        if locked_password and account.name not in with_keys:
            locked.append(account.name)
            continue
        if entry is not None and entry.expire is not None and entry.expire * _DAY <= now:
            locked.append(account.name)  # the account itself has expired: it cannot log in
            continue
        if account.name not in logins.last:
            continue  # beyond the collector's cap: counted below
        checked += 1
        last = logins.last[account.name]
        if last is not None:
            if last < limit:
                dormant.append(
                    {"account": account.name, "last_login": _iso(last), "days": int((now - last) // _DAY)}
                )
            continue
        if entry is None or entry.last_change is None:
            unknown_age.append(account.name)
            continue
        if entry.last_change * _DAY < limit:
            dormant.append(
                {
                    "account": account.name,
                    "last_login": None,
                    "days": int((now - entry.last_change * _DAY) // _DAY),
                    "since": "password last changed (never logged in)",
                }
            )
    evidence: dict[str, Any] = {
        "inactive_days": th.inactive_days,
        "checked": checked,
        "sources": [s.name for s in logins.sources if s.available],
        **_list_evidence("dormant", dormant),
    }
    if locked:
        evidence.update(_list_evidence("locked_not_judged", locked))
    if dormant:
        names = ", ".join(d["account"] for d in dormant[:SHOWN])
        return DORMANT.finding(Status.FAIL, evidence, remediation=f"Dormant: {names}. {DORMANT.remediation}")
    gaps: list[str] = []
    if unknown_age:
        why = shadow.reason if not shadow.available else "no password change date in /etc/shadow"
        gaps.append(f"never logged in, age unknown ({why}): {', '.join(unknown_age[:SHOWN])}")
    if logins.more or access.accounts.more:
        gaps.append("some accounts were not collected (max_entries)")
    if gaps:
        return _not_checked(DORMANT, "; ".join(gaps), evidence)
    return DORMANT.finding(Status.PASS, evidence, remediation="")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _judge_inactive_lock(access: _Access, th: Thresholds) -> Finding:
    shadow = access.shadow
    if not shadow.available:
        return _not_checked(INACTIVE_LOCK, shadow.reason)
    limit = th.password_inactive_days
    problems: list[str] = []
    useradd = shadow.useradd or _Useradd()
    default = useradd.inactive
    evidence: dict[str, Any] = {"max_days": limit, "useradd_inactive": default, "useradd_file": useradd.path}
    if default is None or default < 0 or default > limit:
        shown = "unset (-1: never)" if default is None or default < 0 else str(default)
        problems.append(f"useradd's INACTIVE is {shown}")
    accounts = []
    for name, entry in shadow.accounts.items():
        if entry.password not in ("set", "empty"):
            continue
        if entry.inactive is None or entry.inactive < 0 or entry.inactive > limit:
            accounts.append({"account": name, "inactive": entry.inactive})
    evidence["accounts_checked"] = sum(1 for e in shadow.accounts.values() if e.password in ("set", "empty"))
    evidence.update(_list_evidence("accounts", accounts))
    if accounts:
        problems.append(f"{len(accounts)} account(s) without INACTIVE of {limit} or less")
    if problems:
        return INACTIVE_LOCK.finding(
            Status.FAIL, evidence, remediation=f"{'; '.join(problems)}. {INACTIVE_LOCK.remediation}"
        )
    if shadow.more:
        return _not_checked(
            INACTIVE_LOCK, f"{shadow.more} accounts were not collected (max_entries)", evidence
        )
    return INACTIVE_LOCK.finding(Status.PASS, evidence, remediation="")


def _judge_root_login(sshd: _Sshd) -> Finding:
    early, value, evidence = _sshd_finding(SSH_ROOT, sshd, "permitrootlogin")
    if early is not None:
        return early
    if value == "no":
        return SSH_ROOT.finding(Status.PASS, evidence, remediation="")
    if value in ("prohibit-password", "without-password", "forced-commands-only"):
        return SSH_ROOT.finding(
            Status.WARN,
            evidence,
            severity=Severity.MEDIUM,
            remediation=f"PermitRootLogin is {value}: root can still log in with a key. "
            f"{SSH_ROOT.remediation}",
        )
    if value == "yes":
        return SSH_ROOT.finding(Status.FAIL, evidence)
    reason = f"PermitRootLogin {value!r} is not a value this check knows"
    return SSH_ROOT.finding(
        Status.ERROR, {**evidence, "reason": reason}, remediation=f"Not judged: {reason}."
    )


def _yes_no(control: Control, evidence: dict[str, Any], value: str) -> Finding | None:
    if value in ("yes", "no"):
        return None
    reason = f"{evidence['setting']} {value!r} is neither yes nor no"
    return control.finding(Status.ERROR, {**evidence, "reason": reason}, remediation=f"Not judged: {reason}.")


def _judge_password_auth(sshd: _Sshd) -> Finding:
    early, value, evidence = _sshd_finding(SSH_PASSWORD, sshd, "passwordauthentication")
    if early is not None:
        return early
    odd = _yes_no(SSH_PASSWORD, evidence, value)
    if odd is not None:
        return odd
    kbd = sshd.settings.get("kbdinteractiveauthentication", "").lower()
    pam = sshd.settings.get("usepam", "").lower()
    evidence.update(kbdinteractiveauthentication=kbd or None, usepam=pam or None)
    if value == "yes":
        return SSH_PASSWORD.finding(Status.FAIL, evidence)
    if kbd == "yes" and pam == "yes":
        return SSH_PASSWORD.finding(
            Status.WARN,
            evidence,
            severity=Severity.LOW,
            remediation="PasswordAuthentication is off but KbdInteractiveAuthentication is on with UsePAM: "
            "PAM "
            "may still ask for the password. Set `KbdInteractiveAuthentication no`.",
        )
    return SSH_PASSWORD.finding(Status.PASS, evidence, remediation="")


def _judge_empty_passwords(sshd: _Sshd) -> Finding:
    early, value, evidence = _sshd_finding(SSH_EMPTY, sshd, "permitemptypasswords")
    if early is not None:
        return early
    odd = _yes_no(SSH_EMPTY, evidence, value)
    if odd is not None:
        return odd
    if value == "yes":
        return SSH_EMPTY.finding(Status.FAIL, evidence)
    return SSH_EMPTY.finding(Status.PASS, evidence, remediation="")


def _judge_auth_tries(sshd: _Sshd, th: Thresholds) -> Finding:
    early, value, evidence = _sshd_finding(SSH_TRIES, sshd, "maxauthtries")
    if early is not None:
        return early
    evidence["max_allowed"] = th.max_auth_tries
    try:
        tries = int(value)
    except ValueError:
        reason = f"MaxAuthTries {value!r} is not a number"
        return SSH_TRIES.finding(
            Status.ERROR, {**evidence, "reason": reason}, remediation=f"Not judged: {reason}."
        )
    evidence["value"] = tries
    if tries > th.max_auth_tries:
        return SSH_TRIES.finding(
            Status.FAIL,
            evidence,
            remediation=f"MaxAuthTries is {tries}, above {th.max_auth_tries}. Set `MaxAuthTries "
            f"{th.max_auth_tries}` in /etc/ssh/sshd_config and reload sshd.",
        )
    return SSH_TRIES.finding(Status.PASS, evidence, remediation="")


def _judge_keys(keys: _Keys, th: Thresholds) -> Finding:
    if not keys.available:
        return _not_checked(KEYS, keys.reason)
    inventory: list[dict[str, Any]] = []
    invalid: list[dict[str, Any]] = []
    for f in keys.files:
        for k in f.keys:
            inventory.append(
                {
                    "account": f.account,
                    "file": f.path,
                    "line": k.line,
                    "type": k.type,
                    "bits": k.bits,
                    "comment": k.comment,
                    "fingerprint": k.fingerprint,
                    "options": k.options,
                }
            )
        invalid += [
            {"account": f.account, "file": f.path, "line": i.line, "error": i.error} for i in f.invalid
        ]
    evidence: dict[str, Any] = {
        "authorized_files": keys.authorized_keys_file,
        "authorized_files_source": keys.authorized_keys_file_source,
        "count": keys.total_keys,
        **_list_evidence("found", inventory),
    }
    if keys.authorized_keys_command not in ("", "none"):
        evidence["authorized_command"] = keys.authorized_keys_command
    if invalid:
        evidence.update(_list_evidence("invalid_lines", invalid))
    gaps = [f"cannot read {u.path}: {u.reason}" for u in keys.unreadable]
    if keys.more_unreadable:
        gaps.append(f"and {keys.more_unreadable} more unreadable key files")
    if keys.more_files or any(f.more for f in keys.files):
        gaps.append("some keys were not collected (max_entries)")
    if keys.authorized_keys_command not in ("", "none"):
        gaps.append(f"keys also come from AuthorizedKeysCommand {keys.authorized_keys_command}, not reviewed")
    if gaps:
        evidence["incomplete"] = gaps[:SHOWN]
    if not th.approved_keys:
        return _not_checked(KEYS, NO_KEY_LIST, evidence)
    approved = set(th.approved_keys)
    bad = [k for k in inventory if k["fingerprint"] not in approved]
    if bad or invalid:
        evidence.update(_list_evidence("not_approved", bad))
        parts = [f"{k['account']}: {k['fingerprint']} ({k['comment'] or k['type']})" for k in bad[:SHOWN]]
        if invalid:
            parts.append(f"{len(invalid)} line(s) that are not a key this check knows")
        return KEYS.finding(Status.FAIL, evidence, remediation=f"{'; '.join(parts)}. {KEYS.remediation}")
    if gaps:
        return _not_checked(KEYS, "; ".join(gaps), evidence)
    return KEYS.finding(Status.PASS, evidence, remediation="")


@evaluator(KIND, role="linux_access", controls=CONTROLS, defaults=DEFAULTS)
def evaluate_linux_access(raw: Any, thresholds: Mapping[str, Any]) -> list[Finding]:
    """Linux access review: UID 0, sudo rights and passwords, dormant accounts, SSH settings, keys."""
    th = parse_thresholds(thresholds)
    access = parse_raw(raw)
    now = _now(access)
    findings = [
        _judge_uid0(access.accounts),
        _judge_admins(access, th),
        _judge_sudo_auth(access.sudoers),
        _judge_dormant(access, th, now),
        _judge_inactive_lock(access, th),
        _judge_root_login(access.sshd),
        _judge_password_auth(access.sshd),
        _judge_empty_passwords(access.sshd),
        _judge_auth_tries(access.sshd, th),
        _judge_keys(access.authorized_keys, th),
    ]
    return [_skip(f, th.skip_controls) for f in findings]


def _skip(finding: Finding, skip: Sequence[str]) -> Finding:
    if finding.control not in skip:
        return finding
    control = next(c for c in CONTROLS if c.control == finding.control)
    return control.finding(
        Status.NOT_CHECKED,
        {"reason": "disabled by configuration (linux_access skip_controls)"},
        remediation=(
            f"To check it again, remove {control.control} from skip_controls "
            "(maintenance.thresholds.linux_access or linux_access_skip_controls)."
        ),
    )
