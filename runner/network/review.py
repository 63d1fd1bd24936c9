"""Review a configuration against its platform's YAML rule pack (``rules/<platform>.yml``).

A rule is data: ID, title, severity, rationale, remediation, default parameters and a list of
checks. The engine knows four kinds of check and nothing about any particular rule:

``present``     some line matching one of ``any_of`` exists (top level, or inside ``scope`` blocks)
``absent``      no line matches ``any_of``; every offending line is evidence
``each_block``  every block matching ``scope`` (optionally filtered by ``where``) must contain a line
                for each ``require``, none matching ``forbid``, numbers within ``thresholds``;
                ``selected_fails`` makes every selected block a violation (e.g. an allow-all policy)
``function``    a named check of :mod:`runner.network.checks` for what patterns cannot say: cross
                references (a policy's destination interface is a WAN zone; the web filter profile it
                names blocks a category), lists given by the inventory (approved administrators)
A scope is a path of regexes: the first matches a line at any depth, each further one a direct
child. Patterns match the line without indentation, on the masked normalised text, so evidence
(line number, line, enclosing block) never holds a secret.

A rule's status is the worst of its checks' (fail > warn > not_checked > pass). What happens when
a scope does not exist (no vty lines, no admin accounts) is decided per check in the YAML
(``if_no_blocks`` / ``if_scope_missing`` with a reason) because the right answer differs per rule.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from runner.network.mask import mask_with_lines
from runner.network.normalise import normalise_with_lines
from runner.network.parse import ConfigNode, ConfigTree, parse
from runner.network.platforms import NetworkConfigError, Platform, driver
from runner.results import Control, Domain, Finding, Severity, Status

Outcome = Literal["pass", "fail", "warn", "not_checked"]
#: a rule parameter: a number (threshold), a word, or a list of words (e.g. approved administrators);
#: None switches a threshold off
ParamValue = int | str | list[str] | None

#: evidence lists are cut at this many entries (the count of the rest is kept)
MAX_EVIDENCE = 25


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LineMatch(_Frozen):
    """A line matching ``pattern``: at top level, anywhere (``anywhere``), or inside ``scope`` blocks.

    ``where``: only scope blocks that also hold a line matching each of these count.
    """

    pattern: str
    scope: tuple[str, ...] = ()
    anywhere: bool = False
    where: tuple[str, ...] = ()


class PresentCheck(_Frozen):
    kind: Literal["present"]
    expect: str  # what should be there, in words (evidence when missing)
    any_of: tuple[LineMatch, ...] = Field(min_length=1)
    if_missing: Outcome = "fail"
    #: outcome when none of the scopes exist at all; None means the same as ``if_missing``
    if_scope_missing: Outcome | None = None
    reason: str = ""  # said when the outcome is not_checked / warn


class AbsentCheck(_Frozen):
    kind: Literal["absent"]
    any_of: tuple[LineMatch, ...] = Field(min_length=1)
    if_scope_missing: Outcome = "pass"
    reason: str = ""


class Requirement(_Frozen):
    expect: str
    #: a line matching one of these meets the requirement (empty: only ``unless_global`` can)
    any_of: tuple[str, ...] = ()
    #: the requirement is met for every block when each of these matches a top-level line
    unless_global: tuple[str, ...] = ()


class Threshold(_Frozen):
    pattern: str  # first group: the number
    op: Literal["le", "ge", "lt", "gt"]
    param: str  # rule parameter holding the limit; a limit of null switches the threshold off
    default: int | None = None  # the platform's value when the line is absent; None: absence passes
    describe: str = ""


class EachBlockCheck(_Frozen):
    kind: Literal["each_block"]
    scope: tuple[str, ...] = Field(min_length=1)
    where: tuple[str, ...] = ()  # judge a block only when each pattern matches one of its lines
    unless: tuple[str, ...] = ()  # ... and none of these does
    require: tuple[Requirement, ...] = ()
    forbid: tuple[str, ...] = ()
    thresholds: tuple[Threshold, ...] = ()
    selected_fails: bool = False
    violation: str = ""  # what a selected block means, for ``selected_fails``
    if_no_blocks: Outcome = "not_checked"
    reason: str = ""


class FunctionCheck(_Frozen):
    """A check written in Python, registered under ``name`` in :mod:`runner.network.checks`."""

    kind: Literal["function"]
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    #: fixed arguments the function reads (the rule's ``params`` are the tunable ones)
    args: dict[str, Any] = Field(default_factory=dict)
    reason: str = ""


Check = Annotated[PresentCheck | AbsentCheck | EachBlockCheck | FunctionCheck, Field(discriminator="kind")]


class Rule(_Frozen):
    id: str = Field(pattern=r"^NET-[A-Z]+-\d{2}$")
    title: str
    severity: Severity
    rationale: str
    remediation: str
    #: security for access and filtering rules; the catalogue reads the same key
    domain: Domain = Domain.NETWORK
    params: dict[str, ParamValue] = Field(default_factory=dict)
    checks: tuple[Check, ...] = Field(min_length=1)

    def control(self) -> Control:
        return Control(
            control=self.id,
            title=self.title,
            domain=self.domain,
            severity=self.severity,
            remediation=self.remediation.strip(),
        )


class RulePack(_Frozen):
    platform: Platform
    rules: tuple[Rule, ...] = Field(min_length=1)

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


@functools.cache
def rule_pack(platform: Platform) -> RulePack:
    """The platform driver's rule pack (``runner/network/rules/<platform>.yml``; validated, cached)."""
    facts = driver(platform)
    name = facts.rule_pack
    try:
        text = resources.files("runner.network").joinpath(*name.split("/")).read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        pack = RulePack.model_validate(data)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise NetworkConfigError(f"rule pack {name} is broken: {exc}") from exc
    if pack.platform is not platform:
        raise NetworkConfigError(f"rule pack {name} declares platform {pack.platform}")
    ids = [rule.id for rule in pack.rules]
    if len(set(ids)) != len(ids):
        raise NetworkConfigError(f"rule pack {name} repeats a rule id")
    foreign = [rule_id for rule_id in ids if not rule_id.startswith(facts.control_prefix)]
    if foreign:
        raise NetworkConfigError(
            f"rule pack {name}: rule id(s) {', '.join(foreign)} do not start with {facts.control_prefix}"
        )
    from runner.network import checks as function_checks

    for rule in pack.rules:
        for check in rule.checks:
            if isinstance(check, FunctionCheck):
                if check.name not in function_checks.registry():
                    raise NetworkConfigError(f"{name} {rule.id}: unknown function check {check.name!r}")
                continue
            for pattern in _patterns_of(check):
                _rx(pattern)
            if isinstance(check, EachBlockCheck):
                missing = {t.param for t in check.thresholds} - set(rule.params)
                if missing:
                    raise NetworkConfigError(f"{name} {rule.id}: threshold param(s) {missing} not in params")
                bad = {t.param for t in check.thresholds if not _int_param(rule.params[t.param])}
                if bad:
                    raise NetworkConfigError(f"{name} {rule.id}: threshold param(s) {bad} must be integers")
    return pack


def all_controls() -> list[Control]:
    """Every rule of every pack as a Control, pack by pack in Platform order."""
    return [rule.control() for platform in Platform for rule in rule_pack(platform).rules]


def _int_param(value: ParamValue) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _patterns_of(check: PresentCheck | AbsentCheck | EachBlockCheck) -> list[str]:
    if isinstance(check, EachBlockCheck):
        out = [
            *check.scope,
            *check.where,
            *check.unless,
            *check.forbid,
            *(t.pattern for t in check.thresholds),
        ]
        for req in check.require:
            out += [*req.any_of, *req.unless_global]
        return out
    return [p for m in check.any_of for p in (m.pattern, *m.scope, *m.where)]


@functools.cache
def _rx(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise NetworkConfigError(f"bad rule pattern {pattern!r}: {exc}") from exc


# --------------------------------------------------------------------------- evaluation


@dataclass
class _Result:
    """What one check found; a function check returns one (:class:`runner.network.checks.Result`)."""

    status: Outcome = "pass"
    problems: list[dict[str, Any]] = field(default_factory=list)
    matched: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    checked_blocks: int = 0
    #: further evidence keys a function check reports (e.g. ``admins``: count, names, privilege)
    extra: dict[str, Any] = field(default_factory=dict)


_RANK: dict[Outcome, int] = {"pass": 0, "not_checked": 1, "warn": 2, "fail": 3}


@dataclass(frozen=True)
class _Indexed:
    tree: ConfigTree
    #: every node with the path of the block it sits in ("" at top level)
    flat: tuple[tuple[ConfigNode, str], ...]
    #: id(node) -> the path naming that node's block ("config system admin > edit \"admin\"")
    paths: dict[int, str]

    @classmethod
    def build(cls, tree: ConfigTree) -> _Indexed:
        flat: list[tuple[ConfigNode, str]] = []
        paths: dict[int, str] = {}
        stack: list[tuple[ConfigNode, str]] = [(node, "") for node in reversed(tree.children)]
        while stack:
            node, parent = stack.pop()
            flat.append((node, parent))
            if node.children and not node.verbatim:  # a banner's text is not configuration
                path = f"{parent} > {node.key}" if parent else node.key
                paths[id(node)] = path
                stack.extend((child, path) for child in reversed(node.children))
        return cls(tree=tree, flat=tuple(flat), paths=paths)

    def path(self, block: ConfigNode) -> str:
        return self.paths.get(id(block), block.key)

    def blocks(self, scope: Sequence[str]) -> list[ConfigNode]:
        """As :meth:`ConfigTree.blocks`, over the flat index."""
        first = _rx(scope[0])
        found = [node for node, _ in self.flat if first.search(node.key)]
        for pattern in (_rx(p) for p in scope[1:]):
            found = [child for node in found for child in node.children if pattern.search(child.key)]
        return found

    def candidates(self, match: LineMatch) -> tuple[list[tuple[ConfigNode, str]], bool]:
        """Lines a LineMatch looks at, and whether its scope exists."""
        if match.scope:
            where = [_rx(p) for p in match.where]
            blocks = [
                b
                for b in self.blocks(match.scope)
                if all(any(w.search(d.key) for d in b.descendants()) for w in where)
            ]
            return [(node, self.path(block)) for block in blocks for node in block.descendants()], bool(
                blocks
            )
        if match.anywhere:
            return list(self.flat), True
        return [(node, "") for node in self.tree.children], True


def _line(node: ConfigNode, block: str) -> dict[str, Any]:
    item: dict[str, Any] = {"line": node.lineno, "text": node.key}
    if block:
        item["block"] = block
    return item


def _present(check: PresentCheck, index: _Indexed) -> _Result:
    result = _Result()
    any_scope = False
    for match in check.any_of:
        lines, scope_exists = index.candidates(match)
        any_scope = any_scope or scope_exists
        pattern = _rx(match.pattern)
        result.matched += [_line(node, block) for node, block in lines if pattern.search(node.key)]
    if result.matched:
        return result
    scope_missing = not any_scope
    outcome = check.if_scope_missing if scope_missing and check.if_scope_missing else check.if_missing
    result.status = outcome
    if outcome == "fail":
        result.problems.append({"missing": check.expect})
    elif outcome != "pass" or check.reason:
        result.reasons.append(check.reason or f"missing: {check.expect}")
    return result


def _absent(check: AbsentCheck, index: _Indexed) -> _Result:
    result = _Result()
    any_scope = False
    for match in check.any_of:
        lines, scope_exists = index.candidates(match)
        any_scope = any_scope or scope_exists
        pattern = _rx(match.pattern)
        result.problems += [_line(node, block) for node, block in lines if pattern.search(node.key)]
    if result.problems:
        result.status = "fail"
    elif not any_scope:
        result.status = check.if_scope_missing
        if check.reason:
            result.reasons.append(check.reason)
    return result


_OPS = {
    "le": lambda value, limit: value <= limit,
    "ge": lambda value, limit: value >= limit,
    "lt": lambda value, limit: value < limit,
    "gt": lambda value, limit: value > limit,
}
_OP_WORDS = {"le": "<=", "ge": ">=", "lt": "<", "gt": ">"}


def _each_block(check: EachBlockCheck, index: _Indexed, params: Mapping[str, ParamValue]) -> _Result:
    result = _Result()
    top_keys = [node.key for node in index.tree.children]
    blocks = index.blocks(check.scope)
    where = [_rx(p) for p in check.where]
    unless = [_rx(p) for p in check.unless]
    selected = [
        b
        for b in blocks
        if all(any(w.search(d.key) for d in b.descendants()) for w in where)
        and not any(u.search(d.key) for d in b.descendants() for u in unless)
    ]
    result.checked_blocks = len(selected)
    if not selected:
        result.status = check.if_no_blocks
        if check.reason:
            result.reasons.append(check.reason)
        return result
    forbid = [_rx(p) for p in check.forbid]
    for block in selected:
        label = index.path(block)
        lines = list(block.descendants())
        if check.selected_fails:
            result.problems.append(
                {"block": label, "line": block.lineno, "violation": check.violation or "matches the rule"}
            )
        for req in check.require:
            if req.unless_global and all(any(_rx(g).search(k) for k in top_keys) for g in req.unless_global):
                continue
            patterns = [_rx(p) for p in req.any_of]
            if not any(p.search(node.key) for node in lines for p in patterns):
                result.problems.append({"block": label, "line": block.lineno, "missing": req.expect})
        for node in lines:
            if any(f.search(node.key) for f in forbid):
                result.problems.append(_line(node, label))
        for threshold in check.thresholds:
            limit = params.get(threshold.param)
            if not isinstance(limit, int):  # None switches it off; the pack load holds it to integers
                continue
            pattern = _rx(threshold.pattern)
            found = next(((n, m) for n in lines if (m := pattern.search(n.key))), None)
            if found is not None:
                node, m = found
                value, where_from = int(m.group(1)), _line(node, label)
            elif threshold.default is not None:
                value = threshold.default
                where_from = {"block": label, "line": block.lineno, "default": threshold.default}
            else:
                continue
            if not _OPS[threshold.op](value, limit):
                expected = f"{threshold.describe or threshold.param} {_OP_WORDS[threshold.op]} {limit}"
                result.problems.append({**where_from, "value": value, "expected": expected})
    if result.problems:
        result.status = "fail"
    return result


def _cut(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(items) <= MAX_EVIDENCE:
        return items
    return [*items[:MAX_EVIDENCE], {"more": len(items) - MAX_EVIDENCE}]


def _judge(rule: Rule, index: _Indexed, params: Mapping[str, ParamValue]) -> Finding:
    total = _Result()
    for check in rule.checks:
        if isinstance(check, PresentCheck):
            part = _present(check, index)
        elif isinstance(check, AbsentCheck):
            part = _absent(check, index)
        elif isinstance(check, FunctionCheck):
            from runner.network import checks as function_checks

            part = function_checks.run(check, index, params)
        else:
            part = _each_block(check, index, params)
        if _RANK[part.status] > _RANK[total.status]:
            total.status = part.status
        total.problems += part.problems
        total.matched += part.matched
        total.reasons += part.reasons
        total.checked_blocks += part.checked_blocks
        total.extra.update(part.extra)
    evidence: dict[str, Any] = dict(total.extra)
    if total.status in ("fail", "warn"):
        evidence["problems"] = _cut(total.problems)
    elif total.matched:
        evidence["matched"] = _cut(total.matched)
    if total.checked_blocks:
        evidence["blocks_checked"] = total.checked_blocks
    if total.reasons and total.status != "fail":
        evidence["reason"] = "; ".join(dict.fromkeys(total.reasons))
    if params:
        evidence["params"] = dict(params)
    return rule.control().finding(Status(total.status), evidence=evidence)


def _overrides(
    overrides: Mapping[str, Any] | None,
) -> tuple[frozenset[str], dict[str, dict[str, ParamValue]]]:
    """Validate ``{"disabled": [...], "params": {ID: {name: value}}}`` against every pack."""
    if not overrides:
        return frozenset(), {}
    unknown_keys = set(overrides) - {"disabled", "params"}
    if unknown_keys:
        raise NetworkConfigError(
            f"overrides: unknown key(s) {sorted(unknown_keys)}; expected disabled, params"
        )
    rules = {rule.id: rule for platform in Platform for rule in rule_pack(platform).rules}
    disabled = overrides.get("disabled") or []
    if not isinstance(disabled, list | tuple) or not all(isinstance(d, str) for d in disabled):
        raise NetworkConfigError("overrides.disabled must be a list of rule IDs")
    for rule_id in disabled:
        if rule_id not in rules:
            raise NetworkConfigError(f"overrides.disabled: unknown rule {rule_id!r}")
    params_in = overrides.get("params") or {}
    if not isinstance(params_in, Mapping):
        raise NetworkConfigError("overrides.params must map rule IDs to {parameter: value}")
    params: dict[str, dict[str, ParamValue]] = {}
    for rule_id, values in params_in.items():
        if rule_id not in rules:
            raise NetworkConfigError(f"overrides.params: unknown rule {rule_id!r}")
        if not isinstance(values, Mapping):
            raise NetworkConfigError(f"overrides.params.{rule_id} must be a mapping")
        checked: dict[str, ParamValue] = {}
        for name, value in values.items():
            if name not in rules[rule_id].params:
                known = ", ".join(rules[rule_id].params) or "none"
                raise NetworkConfigError(
                    f"overrides.params.{rule_id}: unknown parameter {name!r} (known: {known})"
                )
            default = rules[rule_id].params[name]
            if isinstance(default, list):
                if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                    raise NetworkConfigError(f"overrides.params.{rule_id}.{name} must be a list of strings")
                value = list(value)
            elif isinstance(default, str):
                if not isinstance(value, str):
                    raise NetworkConfigError(f"overrides.params.{rule_id}.{name} must be a string")
            elif value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise NetworkConfigError(f"overrides.params.{rule_id}.{name} must be an integer or null")
            checked[name] = value
        params[rule_id] = checked
    return frozenset(disabled), params


def review_tree(
    platform: Platform, tree: ConfigTree, *, overrides: Mapping[str, Any] | None = None
) -> list[Finding]:
    """Judge an already parsed (masked) configuration; see :func:`review`."""
    disabled, params = _overrides(overrides)
    index = _Indexed.build(tree)
    return [
        _judge(rule, index, {**rule.params, **params.get(rule.id, {})})
        for rule in rule_pack(platform).rules
        if rule.id not in disabled
    ]


def review(platform: Platform, text: str, *, overrides: Mapping[str, Any] | None = None) -> list[Finding]:
    """One finding per enabled rule of the platform's pack, judged on the masked normalised text.

    ``text`` may be raw or already normalised/masked (both steps are idempotent). ``overrides``:
    ``{"disabled": ["NET-IOS-08"], "params": {"NET-FGT-03": {"max_admintimeout": 10}}}``; unknown
    rule IDs or parameters raise NetworkConfigError. A disabled rule yields no finding. Evidence
    line numbers are those of ``text`` as given (lines dropped by normalising still count).
    """
    normal, numbers = normalise_with_lines(platform, text)
    safe, origin = mask_with_lines(platform, normal)
    # evidence names the line of ``text`` as given, not of the normalised text
    linenos = [numbers[i] if i < len(numbers) else len(numbers) + 1 for i in origin]
    return review_tree(platform, parse(platform, safe, linenos=linenos), overrides=overrides)


def evidence_summary(evidence: Mapping[str, Any], limit: int = 3) -> str:
    """One line for a table: the first problems ("l.236 line vty 0 4: missing ..."), or the reason."""
    problems = evidence.get("problems") or []
    if not problems:
        return str(evidence.get("reason", ""))
    parts: list[str] = []
    for item in problems[:limit]:
        if "more" in item:
            break
        where = f"l.{item['line']}" if "line" in item else ""
        block = item.get("block", "")
        what = item.get("missing") and f"missing {item['missing']}"
        what = what or item.get("violation") or item.get("text", "")
        if "value" in item:
            what = f"{what or 'default'} ({item['value']}, expected {item['expected']})"
        parts.append(" ".join(p for p in (where, f"[{block}]" if block else "", what) if p))
    rest = len(problems) - len(parts)
    if problems and "more" in problems[-1]:
        rest += problems[-1]["more"] - 1
    return "; ".join(parts) + (f"; +{rest} more" if rest > 0 else "")
