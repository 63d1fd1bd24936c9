"""The comparisons of one client's two sides: hosts and roles, variables, schedules and windows,
thresholds (loosened or tightened, judged by the control catalogue), waivers; and folder similarity
(renamed clients)."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import yaml

from runner import catalogue
from runner.catalogue import Threshold
from runner.inventory.loader import Client
from runner.inventory.review.model import (
    HostChange,
    RoleChange,
    ScheduleChange,
    ThresholdChange,
    VarChange,
    WaiverChange,
)
from runner.inventory.review.secrets import VAULT_SHOWN, show
from runner.inventory.review.sides import ClientState
from runner.inventory.schema import ClientSettings, Schedule, Waiver
from runner.schedule import Plan, next_occurrences

OCCURRENCES = 3

# --------------------------------------------------------------------------- variables


def diff_variables(before: ClientState | None, after: ClientState | None) -> list[VarChange]:
    old = before.variables if before else {}
    new = after.variables if after else {}
    changes: list[VarChange] = []
    removed = {k: old[k][0] for k in old.keys() - new.keys()}
    added = {k: new[k][0] for k in new.keys() - old.keys()}
    for (scope, key), value in sorted(added.items()):
        source = next(
            (s for (s, k), v in removed.items() if k == key and v == value and type(v) is type(value)), None
        )
        if source is not None:
            del removed[(source, key)]
            changes.append(
                VarChange(scope, key, "moved", show(key, value), show(key, value), moved_from=source)
            )
        else:
            changes.append(VarChange(scope, key, "added", None, show(key, value)))
    for (scope, key), value in sorted(removed.items()):
        changes.append(VarChange(scope, key, "removed", show(key, value), None))
    for scope, key in sorted(old.keys() & new.keys()):
        a, b = old[(scope, key)][0], new[(scope, key)][0]
        if a == b and type(a) is type(b):
            continue
        shown_a, shown_b = show(key, a), show(key, b)
        if shown_a == shown_b == VAULT_SHOWN:
            shown_b = f"{VAULT_SHOWN} (ciphertext changed)"
        elif shown_a == shown_b:
            shown_b = f"{shown_b} (changed)"
        changes.append(VarChange(scope, key, "changed", shown_a, shown_b))
    for file in sorted(
        (before.vault_files if before else {}).keys() | (after.vault_files if after else {}).keys()
    ):
        a_id = before.vault_files.get(file) if before else None
        b_id = after.vault_files.get(file) if after else None
        if a_id != b_id:
            kind = "added" if a_id is None else "removed" if b_id is None else "changed"
            changes.append(VarChange(f"file {file}", "(vault-encrypted file)", kind, None, None))
    changes.sort(key=lambda c: (c.scope, c.key))
    return changes


# --------------------------------------------------------------------------- hosts and roles


def _direct_groups(client: Client | None) -> dict[str, set[str]]:
    if client is None:
        return {}
    out: dict[str, set[str]] = {h: set() for h in client.tree.hosts}
    for group, hosts in client.tree.direct.items():
        for host in hosts:
            out.setdefault(host, set()).add(group)
    return out


def _roles_by_host(client: Client | None) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    if client is None:
        return out
    for role, hosts in client.plan().items():
        for host in hosts:
            out.setdefault(host, set()).add(role)
    return out


def diff_hosts(before: Client | None, after: Client | None) -> tuple[list[HostChange], list[RoleChange]]:
    a, b = _direct_groups(before), _direct_groups(after)
    hosts: list[HostChange] = []
    for host in sorted(a.keys() | b.keys()):
        ga, gb = sorted(a.get(host, ())), sorted(b.get(host, ()))
        if host not in a:
            hosts.append(HostChange(host, "added", [], gb))
        elif host not in b:
            hosts.append(HostChange(host, "removed", ga, []))
        elif ga != gb:
            hosts.append(HostChange(host, "moved", ga, gb))
    ra, rb = _roles_by_host(before), _roles_by_host(after)
    roles = [
        RoleChange(
            host,
            sorted(rb.get(host, set()) - ra.get(host, set())),
            sorted(ra.get(host, set()) - rb.get(host, set())),
        )
        for host in sorted(ra.keys() | rb.keys())
        if ra.get(host, set()) != rb.get(host, set())
    ]
    return hosts, roles


# --------------------------------------------------------------------------- schedules and windows


def _window_text(schedule: Schedule) -> str:
    w = schedule.window
    length = f"{w.duration_minutes} min" if w.duration_minutes is not None else f"until {w.end:%H:%M}"
    return f"{length}, runs need {w.min_run_minutes} min"


def describe_schedule(schedule: Schedule, tz: str) -> str:
    state = "" if schedule.enabled else " (disabled)"
    return (
        f"`{schedule.cron}` {tz}, {schedule.mode.value}, roles {', '.join(schedule.roles)}; "
        f"window {_window_text(schedule)}{state}"
    )


def schedule_occurrences(
    client: str, settings: ClientSettings, schedule: str, now: datetime, count: int = OCCURRENCES
) -> list[str]:
    """The next ``count`` windows of one schedule after ``now`` in the client's time zone, blackout days
    and holidays applied (:func:`runner.schedule.next_occurrences`); skipped ones are listed and marked."""
    shown = []
    for occ in next_occurrences(client, settings, now, count, schedules=[schedule]):
        start, end = occ.local_start, occ.local_end
        days = (end.date() - start.date()).days
        text = f"{start:%a %Y-%m-%d %H:%M}-{end:%H:%M}{f' (+{days}d)' if days else ''} {start:%Z}"
        if occ.plan is Plan.SKIPPED:
            text += " [skipped]"
        elif occ.plan is Plan.MOVED and occ.moved_from is not None:
            text += f" [moved from {occ.moved_from}]"
        shown.append(text)
    return shown


def diff_schedules(
    client: str, before: ClientSettings | None, after: ClientSettings | None, now: datetime
) -> tuple[list[ScheduleChange], list[VarChange]]:
    sa = {s.name: s for s in before.schedules} if before else {}
    sb = {s.name: s for s in after.schedules} if after else {}
    changes: list[ScheduleChange] = []
    for name in sorted(sa.keys() | sb.keys()):
        a, b = sa.get(name), sb.get(name)
        if a is not None and b is not None and a == b and before == after:
            continue
        next_a = schedule_occurrences(client, before, name, now) if a and before else []
        next_b = schedule_occurrences(client, after, name, now) if b and after else []
        if a is not None and a == b and next_a == next_b:
            continue  # same schedule, other settings changed without moving it
        kind = "added" if a is None else "removed" if b is None else "changed"
        changes.append(
            ScheduleChange(
                name,
                kind,
                describe_schedule(a, before.timezone) if a and before else None,
                describe_schedule(b, after.timezone) if b and after else None,
                next_a,
                next_b,
            )
        )
    windows: list[VarChange] = []
    ba = before.blackout.model_dump(mode="json") if before else {}
    bb = after.blackout.model_dump(mode="json") if after else {}
    for key in ("dates", "holidays", "on_holiday"):
        if key == "dates":
            for d in sorted(set(ba.get("dates", [])) - set(bb.get("dates", []))):
                windows.append(VarChange("blackout", "dates", "removed", d, None))
            for d in sorted(set(bb.get("dates", [])) - set(ba.get("dates", []))):
                windows.append(VarChange("blackout", "dates", "added", None, d))
        elif ba.get(key) != bb.get(key):
            windows.append(
                VarChange("blackout", key, "changed", show(key, ba.get(key)), show(key, bb.get(key)))
            )
    return changes, windows


# --------------------------------------------------------------------------- thresholds

#: role -> threshold name -> its catalogue entry (``catalogue.load().roles[role].thresholds``)
ThresholdSpecs = Mapping[str, Mapping[str, Threshold]]


def _number(value: Any) -> float | None:
    """A threshold value as a number: int, float, or a bool (False < True); None for anything else."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    return None


@functools.cache
def rule_param_limits() -> dict[tuple[str, str], tuple[str, Any]]:
    """(rule ID, parameter) -> (the direction that loosens it, its default), from the network rule packs
    (``runner/network/rules/*.yml``): a limit checked with ``le`` / ``lt`` loosens upwards, one checked with
    ``ge`` / ``gt`` downwards; null switches the limit off, the loosest value of all."""
    out: dict[tuple[str, str], tuple[str, Any]] = {}
    for path in sorted(catalogue.RULES_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for rule in data.get("rules") or [] if isinstance(data, Mapping) else []:
            params = rule.get("params") or {}
            for check in rule.get("checks") or []:
                for limit in check.get("thresholds") or []:
                    if limit.get("param") in params:
                        looser = "higher" if limit.get("op") in ("le", "lt") else "lower"
                        out[(str(rule["id"]), str(limit["param"]))] = (looser, params[limit["param"]])
    return out


def _limit_change(looser: str, old: Any, new: Any) -> str:
    """A rule parameter's change: null (no limit) is looser than any number."""
    if any(v is not None and (isinstance(v, bool) or not isinstance(v, int | float)) for v in (old, new)):
        return "changed"
    up = looser == "higher"
    off = math.inf if up else -math.inf
    a, b = (off if old is None else old), (off if new is None else new)
    return "loosened" if (b > a if up else b < a) else "tightened"


def _judge_params(old: Any, new: Any) -> str:
    """``{rule ID: {parameter: limit}}`` (network_config ``params``): loosened when every limit that moved
    moved the looser way (unset: the rule pack's default), tightened when every one moved the other way."""
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return "changed"
    limits = rule_param_limits()
    kinds: set[str] = set()
    for rule_id in old.keys() | new.keys():
        a, b = old.get(rule_id) or {}, new.get(rule_id) or {}
        if not isinstance(a, Mapping) or not isinstance(b, Mapping):
            return "changed"
        for param in a.keys() | b.keys():
            known = limits.get((str(rule_id), str(param)))
            if known is None:
                return "changed"
            looser, default = known
            va, vb = a.get(param, default), b.get(param, default)
            if va != vb:
                kinds.add(_limit_change(looser, va, vb))
    return kinds.pop() if len(kinds) == 1 else "changed"


def judge(spec: Threshold | None, old: Any, new: Any) -> tuple[str, bool]:
    """("loosened" / "tightened" / "changed", past the catalogue's ``loosest``) for a change of one threshold.

    ``spec.looser`` says which way loosens: ``higher`` / ``lower`` for a number (a bool counts as 0 or 1),
    ``more`` / ``fewer`` for a list (items added / removed; the same words order numbers too). ``loosest``
    is a value for a number, an item count for a list. A ``map`` threshold (network_config ``params``) is
    judged limit by limit (:func:`_judge_params`). A change the catalogue does not order (no entry, no
    ``looser``, a list that gained and lost items, values of another type) is "changed"."""
    if spec is not None and spec.type == "map":
        return _judge_params(old, new), False
    if spec is None or spec.looser is None:
        return "changed", False
    up = spec.looser in ("higher", "more")
    loosest = _number(spec.loosest) if not isinstance(spec.loosest, bool) else None
    if isinstance(old, list | tuple) and isinstance(new, list | tuple):
        after, before = set(map(str, new)), set(map(str, old))
        grew, shrank = bool(after - before), bool(before - after)
        if grew == shrank:
            return "changed", False
        loosened = grew if up else shrank
        size = float(len(new))
        past = loosened and loosest is not None and (size > loosest if up else size < loosest)
        return ("loosened" if loosened else "tightened"), past
    a, b = _number(old), _number(new)
    if a is None or b is None or a == b or isinstance(old, bool) != isinstance(new, bool):
        return "changed", False
    loosened = b > a if up else b < a
    past = loosened and loosest is not None and (b > loosest if up else b < loosest)
    return ("loosened" if loosened else "tightened"), past


def _default(spec: Threshold | None) -> Any:
    if spec is None:
        return None
    return list(spec.default) if isinstance(spec.default, tuple) else spec.default


def diff_thresholds(
    before: ClientSettings | None, after: ClientSettings | None, specs: ThresholdSpecs
) -> tuple[list[ThresholdChange], list[tuple[ThresholdChange, Threshold]]]:
    """Changed thresholds (an unset one is its catalogue default) and those loosened past ``loosest``."""
    ta = before.thresholds if before else {}
    tb = after.thresholds if after else {}
    changes: list[ThresholdChange] = []
    past: list[tuple[ThresholdChange, Threshold]] = []
    for role in sorted(ta.keys() | tb.keys()):
        role_specs = specs.get(role, {})
        a, b = ta.get(role, {}), tb.get(role, {})
        for name in sorted(a.keys() | b.keys()):
            spec = role_specs.get(name)
            old = a.get(name, _default(spec))
            new = b.get(name, _default(spec))
            if old == new:
                continue
            kind, beyond = judge(spec, old, new)
            shown_old = show(name, old) + (" (default)" if name not in a and old is not None else "")
            shown_new = show(name, new) + (" (default)" if name not in b and new is not None else "")
            change = ThresholdChange(role, name, shown_old, shown_new, kind)
            changes.append(change)
            if beyond and spec is not None:
                past.append((change, spec))
    return changes, past


# --------------------------------------------------------------------------- waivers


def _expiry(waiver: Waiver | None) -> str | None:
    return None if waiver is None or waiver.expires is None else waiver.expires.isoformat()


def diff_waivers(
    before: ClientSettings | None, after: ClientSettings | None
) -> list[tuple[WaiverChange, Waiver | None]]:
    wa = {(w.control, w.hosts): w for w in (before.waivers if before else [])}
    wb = {(w.control, w.hosts): w for w in (after.waivers if after else [])}
    out: list[tuple[WaiverChange, Waiver | None]] = []
    for key in sorted(wa.keys() | wb.keys()):
        a, b = wa.get(key), wb.get(key)
        if a == b:
            continue
        if a is None:
            kind = "added"
        elif b is None:
            kind = "removed"
        elif a.expires != b.expires:
            later = b.expires is None or (a.expires is not None and b.expires > a.expires)
            kind = "extended" if later else "shortened"
        else:
            kind = "changed"
        shown = b or a
        assert shown is not None
        out.append((WaiverChange(key[0], key[1], kind, shown.owner, _expiry(a), _expiry(b)), b))
    return out


# --------------------------------------------------------------------------- renames


def similarity(a: Mapping[str, list[str]], b: Mapping[str, list[str]]) -> float:
    """Share of lines two client folders have in common (same file path, same line), 0..1."""
    total = sum(len(v) for v in a.values()) + sum(len(v) for v in b.values())
    if not total:
        return 0.0
    common = 0
    for path in a.keys() & b.keys():
        counts: dict[str, int] = {}
        for line in a[path]:
            counts[line] = counts.get(line, 0) + 1
        for line in b[path]:
            if counts.get(line, 0) > 0:
                counts[line] -= 1
                common += 1
    return 2 * common / total
