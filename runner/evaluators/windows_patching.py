"""Judge Windows Update state: controls PATCH-WIN-01 to PATCH-WIN-04.

The raw data is the windows_patching collector's object
(``roles/windows_patching/files/collect_patching.ps1``: Windows Update history from
``Microsoft.Update.Session``, ``Get-HotFix``, the pending-reboot registry keys, the Automatic Updates agent's
last successful search (``wu_agent``), its cached offline search results (``cached_search``) and
``search_decision``: whether an online search was needed and why) with keys the role adds: ``search`` (the
``ansible.windows.win_updates`` result with ``state: searched``, null when the decision skipped it),
``install`` (its result with ``state: installed`` in remediate mode, else null), ``mode`` and
``reboot_policy``. The win_updates shapes are the module's documented RETURN values (``updates`` keyed by
update id, each with ``title``, ``kb``, ``categories``, ``installed``, ``failure_hresult_code``,
``failure_msg``).

PATCH-WIN-01 is judged from the online search when it ran, else from the agent's cached results, and then
only when they are no older than the decision's ``max_age_hours`` (its evidence says which, and how old);
a search that was needed and did not run, or a skipped one without a usable cache, is never a pass.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError, model_validator

from runner import catalogue
from runner.evaluators import EvaluatorError, evaluator
from runner.evaluators.common import check_known_controls, describe, validate_thresholds
from runner.evaluators.windows_common import (
    Probe,
    RebootProbe,
    WinRaw,
    as_list,
    enum_name,
    not_checked,
    ps_datetime,
    reboot_indicators,
    skipped,
    unwrap_output,
)
from runner.results import Control, Finding, Status

KIND = "windows_updates"
ROLE = "windows_patching"
SCHEMA = 1
_CATALOGUE = catalogue.load()  # titles, severities, remediations and defaults: runner/catalogue/data/

PENDING = _CATALOGUE.control("PATCH-WIN-01").as_control()
RECENT = _CATALOGUE.control("PATCH-WIN-02").as_control()
REBOOT = _CATALOGUE.control("PATCH-WIN-03").as_control()
INSTALL = _CATALOGUE.control("PATCH-WIN-04").as_control()
CONTROLS: tuple[Control, ...] = (PENDING, RECENT, REBOOT, INSTALL)
CONTROL_IDS: tuple[str, ...] = tuple(c.control for c in CONTROLS)

#: threshold names are the role variables without the role prefix; values, types and ranges: the catalogue
DEFAULTS: Mapping[str, Any] = MappingProxyType(_CATALOGUE.roles[ROLE].defaults(KIND))

#: IUpdateHistoryEntry.Operation (UpdateOperation) and .ResultCode (OperationResultCode)
UPDATE_OPERATION: Mapping[int, str] = {1: "Installation", 2: "Uninstallation"}
OPERATION_RESULT: Mapping[int, str] = {
    0: "NotStarted",
    1: "InProgress",
    2: "Succeeded",
    3: "SucceededWithErrors",
    4: "Failed",
    5: "Aborted",
}


def category_key(name: str) -> str:
    """``Security Updates`` and ``SecurityUpdates`` are the same category to win_updates."""
    return "".join(name.split()).lower()


class Thresholds(BaseModel):
    """The evaluator's settings, checked before anything is judged."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    categories: list[StrictStr] = Field(min_length=1)
    fail_categories: list[StrictStr]
    last_install_warn_days: StrictInt = Field(ge=1)
    last_install_fail_days: StrictInt = Field(ge=1)
    last_install_ignore: list[StrictStr]
    skip_controls: list[StrictStr]

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.last_install_warn_days > self.last_install_fail_days:
            raise ValueError(
                f"last_install_warn_days ({self.last_install_warn_days}) is above last_install_fail_days "
                f"({self.last_install_fail_days})"
            )
        check_known_controls(self.skip_controls, CONTROL_IDS)
        return self


# ---------------------------------------------------------------- raw data shape


class _Update(WinRaw):
    """One value of win_updates' ``updates`` / ``filtered_updates`` (module RETURN documentation)."""

    id: str = ""
    title: str
    kb: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    installed: bool = False
    downloaded: bool = False
    failure_hresult_code: int | None = None
    failure_msg: str | None = None


class _WinUpdates(BaseModel):
    """The win_updates task result as registered (lax: Ansible adds its own keys)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    failed: bool = False
    skipped: bool = False
    msg: str = ""
    updates: dict[str, _Update] = Field(default_factory=dict)
    filtered_updates: dict[str, Any] = Field(default_factory=dict)
    #: the module's own totals; None when a saved result has no such key (then nothing to cross-check)
    found_update_count: int | None = None
    installed_update_count: int | None = None
    failed_update_count: int | None = None
    reboot_required: bool = False
    rebooted: bool = False


class _HistoryEntry(WinRaw):
    Date: Any
    Title: str
    Operation: Any
    ResultCode: Any
    HResult: int = 0


class _History(Probe):
    total: int | None = None  # IUpdateSearcher.GetTotalHistoryCount(); entries are the newest of them
    entries: Any = None


class _HotFix(WinRaw):
    HotFixID: str
    Description: str = ""
    InstalledOn: Any = None


class _HotFixes(Probe):
    items: Any = None


class _WuAgent(Probe):
    """IAutomaticUpdatesResults: the agent's last successful search and install (UTC, null if unknown)."""

    last_search_success: Any = None
    last_installation_success: Any = None


class _CachedUpdate(WinRaw):
    """One update of the offline search, shaped as win_updates' (PS 5.1 may flatten a one-element list)."""

    id: str = ""
    title: str
    kb: list[str] | str = Field(default_factory=list)
    categories: list[str] | str = Field(default_factory=list)


class _CachedSearch(Probe):
    """The offline search (``IUpdateSearcher.Online = false``): updates as of the agent's last online scan."""

    online: bool = False
    updates: Any = None


class _SearchDecision(WinRaw):
    """The collector's answer to: is an online search needed (and why)?"""

    needed: bool
    reasons: list[str] | str | None = None
    age_hours: int | float | None = None
    max_age_hours: StrictInt = Field(ge=0)


class _Patching(WinRaw):
    schema_version: StrictInt = Field(alias="schema")
    collector: str
    hostname: str
    ps_version: str = ""
    collected_at: Any
    history: _History
    hotfixes: _HotFixes
    reboot: RebootProbe
    mode: str = "audit"
    reboot_policy: str = "never"
    search: dict[str, Any] | None = None
    install: dict[str, Any] | None = None
    wu_agent: _WuAgent | None = None
    cached_search: _CachedSearch | None = None
    search_decision: _SearchDecision | None = None


def parse_raw(raw: Any) -> _Patching:
    data = unwrap_output(raw, KIND)
    try:
        patching = _Patching.model_validate(data)
    except ValidationError as exc:
        raise EvaluatorError(f"{KIND}: raw data has the wrong shape: {describe(exc)}") from exc
    if patching.collector != ROLE:
        raise EvaluatorError(
            f"{KIND}: raw data comes from the {patching.collector!r} collector, not {ROLE!r}"
        )
    if patching.schema_version != SCHEMA:
        raise EvaluatorError(
            f"{KIND}: raw data schema {patching.schema_version} is not supported (expected {SCHEMA})"
        )
    return patching


def _win_updates(value: Mapping[str, Any] | None, field: str) -> _WinUpdates | None:
    if value is None:
        return None
    try:
        return _WinUpdates.model_validate(dict(value))
    except ValidationError as exc:
        raise EvaluatorError(f"{KIND}: {field}: {describe(exc)}") from exc


def _kb(update: _Update) -> str:
    return ",".join(f"KB{k}" for k in update.kb)


def _hresult(code: int | None) -> str | None:
    return None if code is None else f"0x{code & 0xFFFFFFFF:08X}"


def _disagreement(result: _WinUpdates, field: str) -> str:
    """Where win_updates' own counts disagree with its ``updates`` list ('' when they agree)."""
    updates = list(result.updates.values())
    problems = []
    for name, said, listed in (
        ("found_update_count", result.found_update_count, len(updates)),
        ("installed_update_count", result.installed_update_count, sum(u.installed for u in updates)),
        (
            "failed_update_count",
            result.failed_update_count,
            sum(u.failure_hresult_code is not None for u in updates),
        ),
    ):
        if said is not None and said != listed:
            problems.append(f"{field}: win_updates says {name} {said}, its updates list has {listed}")
    return "; ".join(problems)


def _untrusted(control: Control, reason: str, evidence: Mapping[str, Any] | None = None) -> Finding:
    return control.finding(
        Status.ERROR,
        {"reason": reason, **(evidence or {})},
        remediation=(
            f"Not judged: {reason}. The module result is incomplete or of a format this evaluator does not "
            "read; run win_updates by hand (state: searched) and compare, then update the evaluator."
        ),
    )


# ---------------------------------------------------------------- judgements


def _reasons(decision: _SearchDecision) -> list[str]:
    return [str(r) for r in as_list(decision.reasons)]


def _pending(patching: _Patching, search: _WinUpdates | None, now: datetime, th: Thresholds) -> Finding:
    """PATCH-WIN-01 from the online search when it ran, else from the agent's cached results."""
    decision = patching.search_decision
    if search is not None and not search.skipped:
        how: dict[str, Any] = {"ran": True, "source": "win_updates online search"}
        if decision is not None:
            how["reasons"] = _reasons(decision)
        return _judge_updates(search, th, how)
    if decision is None:  # an older collector: the role always searched, and this time it did not
        return not_checked(PENDING, "Windows Update was not searched (win_updates did not run)")
    if decision.needed:
        return not_checked(
            PENDING,
            f"an online Windows Update search was needed ({'; '.join(_reasons(decision))}) but did not run",
        )
    return _judge_cached(patching, decision, now, th)


def _judge_cached(patching: _Patching, decision: _SearchDecision, now: datetime, th: Thresholds) -> Finding:
    """The search was skipped: the agent's cached results, trusted only as fresh as the decision allowed."""
    agent, cached = patching.wu_agent, patching.cached_search
    if agent is None or not agent.available or agent.last_search_success is None:
        why = (
            agent.reason if agent is not None and agent.reason else "the last successful search is not known"
        )
        return _untrusted(PENDING, f"the online search was skipped, but {why}")
    if cached is None or not cached.available:
        why = cached.reason if cached is not None and cached.reason else "no cached search results"
        return _untrusted(PENDING, f"the online search was skipped, but {why}")
    last = ps_datetime(agent.last_search_success, "wu_agent.last_search_success")
    age = round((now - last).total_seconds() / 3600, 1)
    how: dict[str, Any] = {
        "ran": False,
        "source": "Windows Update agent cache (offline search)",
        "last_search_success": last.isoformat(),
        "age_hours": age,
        "max_age_hours": decision.max_age_hours,
    }
    if age > decision.max_age_hours or age < -1:
        return _untrusted(
            PENDING,
            f"the online search was skipped, but the cached results are {age} h old "
            f"(trusted up to {decision.max_age_hours} h)",
            {"search": how},
        )
    updates: dict[str, Any] = {}
    for index, raw in enumerate(as_list(cached.updates)):
        try:
            update = _CachedUpdate.model_validate(raw)
        except ValidationError as exc:
            raise EvaluatorError(f"{KIND}: cached_search.updates.{index}: {describe(exc)}") from exc
        updates[update.id or str(index)] = {
            "id": update.id,
            "title": update.title,
            "kb": as_list(update.kb),
            "categories": as_list(update.categories),
        }
    try:
        parsed = _WinUpdates.model_validate({"updates": updates})
    except ValidationError as exc:
        raise EvaluatorError(f"{KIND}: cached_search: {describe(exc)}") from exc
    return _judge_updates(parsed, th, how)


def _judge_updates(search: _WinUpdates, th: Thresholds, how: Mapping[str, Any]) -> Finding:
    if search.failed:
        return PENDING.finding(
            Status.ERROR,
            {"reason": f"Windows Update search failed: {search.msg[:300]}", "search": dict(how)},
            remediation=(
                "The update search itself failed, so pending updates are unknown: check that wuauserv and "
                "BITS run, that the host reaches its update source (WSUS URL in HKLM"
                "\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate) and read `Get-WindowsUpdateLog`."
            ),
        )
    problem = _disagreement(search, "search")
    if problem:
        return _untrusted(PENDING, problem, {"listed": len(search.updates), "search": dict(how)})
    wanted = {category_key(c): c for c in th.categories}
    failing_keys = {category_key(c) for c in th.fail_categories}
    by_category = {c: 0 for c in th.categories}
    pending: list[dict[str, Any]] = []
    for update in search.updates.values():
        if update.installed:
            continue
        matched = [wanted[category_key(c)] for c in update.categories if category_key(c) in wanted]
        if not matched:
            continue
        for name in dict.fromkeys(matched):
            by_category[name] += 1
        pending.append({"kb": _kb(update), "title": update.title, "categories": sorted(set(matched))})
    pending.sort(key=lambda p: (p["kb"], p["title"]))
    evidence: dict[str, Any] = {
        "pending": len(pending),
        "by_category": by_category,
        "updates": pending[:25],
        "filtered": len(search.filtered_updates),
        "search": dict(how),
    }
    if not pending:
        return PENDING.finding(Status.PASS, evidence)
    severe = any(category_key(c) in failing_keys for p in pending for c in p["categories"])
    listed = ", ".join(f"{n} {c}" for c, n in by_category.items() if n)
    return PENDING.finding(
        Status.FAIL if severe else Status.WARN,
        evidence,
        remediation=f"Pending: {listed}. {PENDING.remediation}",
    )


def _recent(patching: _Patching, now: datetime, th: Thresholds) -> Finding:
    history, hotfixes = patching.history, patching.hotfixes
    if not history.available and not hotfixes.available:
        return not_checked(RECENT, f"{history.reason}; {hotfixes.reason}")
    candidates: list[tuple[datetime, str, str]] = []
    failed_recent: list[dict[str, Any]] = []
    if history.available and history.total is not None:
        listed = len(as_list(history.entries))
        if listed > history.total or (history.total > 0 and listed == 0):
            return _untrusted(
                RECENT,
                f"the update history says GetTotalHistoryCount {history.total} but lists {listed} entries",
                {"total": history.total, "listed": listed},
            )
    if history.available:
        for index, raw in enumerate(as_list(history.entries)):
            where = f"history.entries.{index}"
            try:
                entry = _HistoryEntry.model_validate(raw)
            except ValidationError as exc:
                raise EvaluatorError(f"{KIND}: {where}: {describe(exc)}") from exc
            if enum_name(entry.Operation, UPDATE_OPERATION, f"{where}.Operation") != "Installation":
                continue
            result = enum_name(entry.ResultCode, OPERATION_RESULT, f"{where}.ResultCode")
            when = ps_datetime(entry.Date, f"{where}.Date")
            if any(fnmatch.fnmatch(entry.Title, p) for p in th.last_install_ignore):
                continue
            if result in ("Succeeded", "SucceededWithErrors"):
                candidates.append((when, entry.Title, "Microsoft.Update.Session history"))
            elif result in ("Failed", "Aborted") and (now - when).days < th.last_install_warn_days:
                failed_recent.append(
                    {
                        "date": when.isoformat(),
                        "title": entry.Title,
                        "result": result,
                        "hresult": _hresult(entry.HResult),
                    }
                )
    if hotfixes.available:
        for index, raw in enumerate(as_list(hotfixes.items)):
            try:
                fix = _HotFix.model_validate(raw)
            except ValidationError as exc:
                raise EvaluatorError(f"{KIND}: hotfixes.items.{index}: {describe(exc)}") from exc
            if fix.InstalledOn is not None:
                when = ps_datetime(fix.InstalledOn, f"hotfixes.items.{index}.InstalledOn")
                candidates.append((when, f"{fix.HotFixID} ({fix.Description})", "Get-HotFix"))
    evidence: dict[str, Any] = {
        "warn_days": th.last_install_warn_days,
        "fail_days": th.last_install_fail_days,
    }
    if failed_recent:
        evidence["failed_recently"] = failed_recent[:10]
    if not candidates:
        evidence["last_installed"] = None
        return RECENT.finding(
            Status.FAIL, evidence, remediation=f"No installed update on record. {RECENT.remediation}"
        )
    when, title, source = max(candidates)
    days = (now - when).days
    evidence["last_installed"] = {"date": when.isoformat(), "title": title, "source": source}
    evidence["days_since"] = days
    if days >= th.last_install_fail_days:
        status = Status.FAIL
    elif days >= th.last_install_warn_days:
        status = Status.WARN
    else:
        status = Status.PASS
    return RECENT.finding(status, evidence)


def _reboot(patching: _Patching, search: _WinUpdates | None, install: _WinUpdates | None) -> Finding:
    probe = patching.reboot
    module_says = any(r is not None and not r.failed and r.reboot_required for r in (search, install))
    if not probe.available and not module_says:
        return not_checked(REBOOT, probe.reason)
    indicators = (
        [i for i in reboot_indicators(probe) if i != "pending_file_rename"] if probe.available else []
    )
    if module_says:
        indicators.append("win_updates_reboot_required")
    evidence: dict[str, Any] = {"indicators": indicators}
    if probe.available and probe.pending_file_rename:
        evidence["pending_file_rename"] = "set (judged by HEALTH-WIN-02, not an update indicator)"
    if install is not None:
        evidence["rebooted"] = install.rebooted
        evidence["reboot_policy"] = patching.reboot_policy
    return REBOOT.finding(Status.FAIL if indicators else Status.PASS, evidence)


def _install(patching: _Patching, install: _WinUpdates | None) -> Finding:
    if patching.mode != "remediate":
        return INSTALL.finding(  # by design, not a failure to look: never counted as not passing
            Status.NOT_APPLICABLE,
            {"reason": "audit mode: nothing was installed"},
            remediation="Judged only when the role runs with maint_mode remediate.",
        )
    if install is None or install.skipped:
        return not_checked(INSTALL, "remediate mode, but the installation step did not run")
    problem = _disagreement(install, "install")
    if problem:
        return _untrusted(INSTALL, problem, {"listed": len(install.updates)})
    results = []
    for update in sorted(install.updates.values(), key=lambda u: (_kb(u), u.title)):
        if update.installed:
            result = "installed"
        elif update.failure_hresult_code is not None:
            result = "failed"
        elif update.downloaded:
            result = "downloaded"
        else:
            result = "not installed"
        item: dict[str, Any] = {"kb": _kb(update), "title": update.title, "result": result}
        if update.failure_hresult_code is not None:
            item["failure_code"] = _hresult(update.failure_hresult_code)
        if update.failure_msg:
            item["failure_msg"] = update.failure_msg[:300]
        results.append(item)
    failed = [r for r in results if r["result"] == "failed"]
    evidence: dict[str, Any] = {
        "installed": sum(r["result"] == "installed" for r in results),
        "failed": len(failed),
        "updates": results,
        "reboot_policy": patching.reboot_policy,
        "rebooted": install.rebooted,
    }
    if install.failed and not failed:
        evidence["error"] = install.msg[:300]
        return INSTALL.finding(
            Status.FAIL,
            evidence,
            remediation=f"win_updates failed: {install.msg[:200]}. {INSTALL.remediation}",
        )
    if failed:
        codes = ", ".join(f"{r['kb'] or r['title']} {r.get('failure_code')}" for r in failed)
        return INSTALL.finding(Status.FAIL, evidence, remediation=f"Failed: {codes}. {INSTALL.remediation}")
    return INSTALL.finding(Status.PASS, evidence)


@evaluator(KIND, role=ROLE, controls=CONTROLS, defaults=DEFAULTS)
def evaluate_windows_updates(raw: Any, thresholds: Mapping[str, Any]) -> list[Finding]:
    """Windows Update: pending updates, last install age, reboot pending, installation results."""
    th = validate_thresholds(Thresholds, thresholds, kind=KIND)
    patching = parse_raw(raw)
    now = ps_datetime(patching.collected_at, f"{KIND}: collected_at")
    search = _win_updates(patching.search, "search")
    install = _win_updates(patching.install, "install")
    judged = {
        PENDING.control: lambda: _pending(patching, search, now, th),
        RECENT.control: lambda: _recent(patching, now, th),
        REBOOT.control: lambda: _reboot(patching, search, install),
        INSTALL.control: lambda: _install(patching, install),
    }
    try:
        return [
            skipped(control, ROLE) if control.control in th.skip_controls else judged[control.control]()
            for control in CONTROLS
        ]
    except EvaluatorError as exc:
        if str(exc).startswith(f"{KIND}:"):
            raise
        raise EvaluatorError(f"{KIND}: {exc}") from exc
