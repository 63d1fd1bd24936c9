"""Write the role files that repeat the catalogue, so each fact has one place (the catalogue).

``python -m runner.catalogue.generate`` (``make generate``) writes, for every role of the catalogue:

- ``roles/<role>/defaults/main.yml``: the thresholds, then the options, as ``<role>_<name>: default``
  with a comment per entry (its description, what it tunes, its range);
- the ``options`` of ``roles/<role>/meta/argument_specs.yml`` (description with unit and range, type,
  elements, choices, default); the hand-written ``short_description``, ``description`` and ``author``
  are kept as found;
- ``roles/<role>/vars/main.yml``: the ``<role>_threshold_defaults`` mapping the role hands to its
  evaluator (roles that have one), the client's overrides and their merge; other variables found in the
  file are kept;
- the tables between ``<!-- BEGIN GENERATED: controls -->`` / ``<!-- END GENERATED: controls -->`` and
  ``... variables ...`` in ``roles/<role>/README.md``; the rest of the README is kept.

``--check`` writes nothing and exits 1 listing every file that is out of date. A variable that a role's
defaults or argument_specs hold today but the catalogue does not is kept as found (with a warning on
stderr), never dropped: add it to the catalogue.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from runner import catalogue
from runner.catalogue.model import Catalogue, RoleSpec, Threshold
from runner.catalogue.thresholds import describe

__all__ = ["GenerateError", "Output", "main", "outputs"]

REPO = Path(__file__).resolve().parents[2]
ROLES_DIR = REPO / "roles"
#: README sections this module owns
SECTIONS = ("controls", "variables")
COMMENT_WIDTH = 110
YAML_WIDTH = 110

_ARGSPEC_TYPES = {"int": "int", "float": "float", "bool": "bool", "str": "str", "list": "list", "map": "dict"}
_SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")


class GenerateError(Exception):
    """A role file cannot be generated (missing markers, unreadable file); the message names it."""


@dataclass(frozen=True)
class Output:
    path: Path
    text: str
    #: variables kept as found because the catalogue does not have them (warned about)
    kept: tuple[str, ...] = ()


# ---------------------------------------------------------------- YAML helpers


class _Dumper(yaml.SafeDumper):
    """Block style with indented sequences (yamllint's default indentation rule)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def choose_scalar_style(self) -> str:
        style: str = super().choose_scalar_style()
        return '"' if style == "'" else style  # as the hand-written files quote: "{{ ... }}", "*KB1*"


def _plain(value: Any) -> Any:
    """Tuples and mappings of the frozen models as plain lists and dicts."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _dump(data: Any) -> str:
    return yaml.dump(
        _plain(data),
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=YAML_WIDTH,
    )


def _comment(text: str, width: int = COMMENT_WIDTH) -> list[str]:
    lines = textwrap.wrap(" ".join(text.split()), width - 2, break_on_hyphens=False, break_long_words=False)
    return [f"# {line}" for line in lines]


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise GenerateError(f"{_rel(path)}: cannot be read: {exc.strerror or exc}") from exc


def _load_yaml(path: Path, text: str | None) -> Any:
    if text is None:
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise GenerateError(f"{_rel(path)}: is not valid YAML: {exc}") from exc


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------- words shared by every output


def _entries(spec: RoleSpec) -> list[tuple[str, Threshold, bool]]:
    """(variable, entry, is_threshold), thresholds first, in catalogue order."""
    return [(f"{spec.role}_{n}", t, True) for n, t in spec.thresholds.items()] + [
        (f"{spec.role}_{n}", o, False) for n, o in spec.options.items()
    ]


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _allowed(th: Threshold, role: str) -> list[str]:
    """What values an entry takes beyond its type: range, ordering, choices."""
    out: list[str] = []
    if th.min is not None and th.max is not None:
        out.append(f"{_num(th.min)} to {_num(th.max)}")
    elif th.min is not None:
        out.append(f"at least {_num(th.min)}")
    elif th.max is not None:
        out.append(f"at most {_num(th.max)}")
    if th.not_above:
        out.append(f"at most {role}_{th.not_above}")
    if th.choices and th.unit == "control":
        out.append("control IDs of the role")
    elif th.choices:
        out.append("one of " + ", ".join(th.choices))
    return out


def _below(spec: RoleSpec, name: str) -> list[str]:
    """The thresholds that may not exceed ``name`` (its not_above partners)."""
    return [f"{spec.role}_{n}" for n, t in spec.thresholds.items() if t.not_above == name]


def _looser_text(th: Threshold) -> str:
    if th.looser is None:
        return ""
    text = f"{th.looser} is looser"
    if th.loosest is None:
        return text
    if th.type == "list" and isinstance(th.loosest, int):
        many = "any entry" if th.loosest == 0 else f"more than {th.loosest} entries"
        return f"{text}; the review flags {many}"
    return f"{text}; the review flags going past {_num(th.loosest)}"


# ---------------------------------------------------------------- defaults/main.yml


def _kept_entries(existing: Any, generated: Iterable[str]) -> dict[str, Any]:
    if not isinstance(existing, Mapping):
        return {}
    names = set(generated)
    return {str(k): v for k, v in existing.items() if str(k) not in names}


def render_defaults(spec: RoleSpec, existing: Any) -> tuple[str, tuple[str, ...]]:
    role = spec.role
    lines = [
        "---",
        f"# Generated from runner/catalogue/data/{role}.yml by `make generate`",
        "# (python -m runner.catalogue.generate): edit the catalogue, not this file.",
    ]
    entries = _entries(spec)
    thresholds = [e for e in entries if e[2]]
    options = [e for e in entries if not e[2]]
    if thresholds:
        lines += [
            "",
            *_comment(
                f"Thresholds of the {role} evaluator. A client's inventory overrides them, "
                f"without the prefix, under maintenance.thresholds.{role} (e.g. maintenance.thresholds."
                f"{role}.{thresholds[0][1].name}); those overrides win over these variables."
            ),
        ]
        for var, th, _ in thresholds:
            lines += ["", *_entry_comment(spec, th), _dump({var: _role_default(th)}).rstrip("\n")]
    if options:
        lines += [
            "",
            *_comment(
                "Options: collector and remediation settings, role variables only (set them in the "
                "inventory's group_vars or host_vars)."
            ),
        ]
        for var, th, _ in options:
            lines += ["", *_entry_comment(spec, th), _dump({var: th.default}).rstrip("\n")]
    kept = _kept_entries(existing, (e[0] for e in entries))
    if kept:
        lines += [
            "",
            *_comment(
                f"Not in the catalogue yet, kept as found: add them to runner/catalogue/data/{role}.yml."
            ),
            _dump(kept).rstrip("\n"),
        ]
    return "\n".join(lines) + "\n", tuple(kept)


def _role_default(th: Threshold) -> Any:
    """The role variable's default: the catalogue's, or the inventory variable ``from_var`` then it."""
    if th.from_var is None:
        return th.default
    fallback = json.dumps(_plain(th.default), separators=(",", ":"))
    return f"{{{{ {th.from_var} | default({fallback}) }}}}"


def _entry_comment(spec: RoleSpec, th: Threshold) -> list[str]:
    text = " ".join(th.description.split())
    facts: list[str] = []
    if th.controls:
        facts.append("tunes " + ", ".join(th.controls))
    if th.from_var:
        facts.append(f"from the inventory variable {th.from_var} when set")
    if th.unit and th.type in ("int", "float"):
        facts.append(th.unit)
    facts += _allowed(th, spec.role)
    below = _below(spec, th.name)
    if below:
        facts.append("at least " + ", ".join(below))
    if facts:
        text = f"{text} ({'; '.join(facts)})"
    return _comment(text)


# ---------------------------------------------------------------- meta/argument_specs.yml


def _argspec_option(spec: RoleSpec, th: Threshold, is_threshold: bool) -> dict[str, Any]:
    role = spec.role
    description = [" ".join(th.description.split())]
    facts = []
    if th.type in ("int", "float"):
        facts.append(f"Unit: {th.unit}")
    facts += [a for a in _allowed(th, role) if not a.startswith("one of")]
    below = _below(spec, th.name)
    if below:
        facts.append("at least " + ", ".join(below))
    if facts:
        sentence = "; ".join(facts) + "."
        description.append(sentence[0].upper() + sentence[1:])
    if th.controls:
        description.append("Tunes " + ", ".join(th.controls) + ".")
    if is_threshold:
        description.append(f"A client overrides it as maintenance.thresholds.{role}.{th.name}.")
    out: dict[str, Any] = {"description": description if len(description) > 1 else description[0]}
    out["type"] = _ARGSPEC_TYPES[th.type]
    if th.type == "list":
        out["elements"] = th.elements
    if th.choices:
        out["choices"] = list(th.choices)
    if th.type == "str" and th.choices and th.default == "":
        out["required"] = True  # "" stands for unset: every host must say
    else:
        out["default"] = th.default
    return out


def render_argument_specs(spec: RoleSpec, existing: Any, path: Path) -> tuple[str, tuple[str, ...]]:
    specs = existing.get("argument_specs") if isinstance(existing, Mapping) else None
    # a role audited by maint_audit names its entry point maint_audit: the action validates the role's
    # variables itself, and Ansible adds no validation task per host (it does for "main")
    entry = "maint_audit" if isinstance(specs, Mapping) and "maint_audit" in specs else "main"
    main = specs.get(entry) if isinstance(specs, Mapping) else None
    if not isinstance(main, Mapping):
        raise GenerateError(f"{_rel(path)}: argument_specs.main: missing (write its short_description first)")
    options: dict[str, Any] = {}
    for var, th, is_threshold in _entries(spec):
        options[var] = _argspec_option(spec, th, is_threshold)
    old = main.get("options")
    kept = _kept_entries(old, options)
    options.update(kept)
    head = {k: v for k, v in main.items() if k != "options"}
    head.setdefault("short_description", spec.summary)
    entry_points = {entry: {**head, "options": options}}
    for name, body in dict(specs or {}).items():  # other entry points, as found
        if name != entry:
            entry_points[str(name)] = body
    header = (
        "---\n"
        f"# The options are generated from runner/catalogue/data/{spec.role}.yml by `make generate`;\n"
        "# short_description, description and author are kept as written here.\n"
    )
    return header + _dump({"argument_specs": entry_points}), tuple(kept)


# ---------------------------------------------------------------- vars/main.yml


def render_vars(spec: RoleSpec, existing: Any, evaluated: bool = True) -> str | None:
    role = spec.role
    key = f"{role}_threshold_defaults"
    if not spec.thresholds:
        return None
    generated = {
        key: {name: f"{{{{ {role}_{name} }}}}" for name in spec.thresholds},
        f"{role}_threshold_overrides": f"{{{{ maintenance.thresholds.{role} | default({{}}, true) }}}}",
        f"{role}_thresholds": f"{{{{ {role}_threshold_defaults | combine({role}_threshold_overrides) }}}}",
    }
    kept = _kept_entries(existing, generated)
    lines = [
        "---",
        f"# Generated from runner/catalogue/data/{role}.yml by `make generate`. Derived, not settings:",
        f"# change the defaults or the client's maintenance.thresholds.{role} instead.",
        *(
            ["# The judging task (maint_audit or maint_evaluate) checks the merged values first."]
            if evaluated
            else []
        ),
        _dump({key: generated[key]}).rstrip("\n"),
        "",
        _dump({k: v for k, v in generated.items() if k != key}).rstrip("\n"),
    ]
    if kept:
        lines += [
            "",
            "# Other variables of the role (not generated, kept as written):",
            _dump(kept).rstrip("\n"),
        ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- README tables


def _cell(text: str) -> str:
    """One table cell: on one line, ``|`` escaped, ``<`` and ``>`` outside code spans as entities."""
    flat = " ".join(str(text).split()).replace("|", "\\|")
    parts = flat.split("`")
    for i in range(0, len(parts), 2):  # even parts lie outside code spans
        parts[i] = parts[i].replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts)


def _code(value: Any) -> str:
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, str):
        return '`""`' if value == "" else f"`{value}`"
    if isinstance(value, list | tuple):
        return "`[]`" if not value else ", ".join(_code(v) for v in value)
    if isinstance(value, Mapping):
        return "`{}`" if not value else f"`{_cell(str(dict(value)))}`"
    return f"`{_num(value)}`"


# ---------------------------------------------------------------- network rules in words

#: a pattern is put in words only when it is a plain line (or line start): no regex syntax beyond ^ $ \b
_REGEX_SYNTAX = re.compile(r"[\\.*+?{}\[\]|()^$]")
_OP_ABOVE = {"le": "above", "lt": "at or above", "ge": "below", "gt": "at or below"}


@dataclass(frozen=True)
class RuleWords:
    """What a network rule's checks judge, in words; ``fails`` is None when a pattern is too intricate."""

    fails: str | None
    not_checked: str | None


def _line_words(pattern: str) -> str | None:
    """``^ip http server$`` -> "`ip http server`"; ``^enable password `` -> "`enable password ...`"."""
    text = pattern.removeprefix("^").replace(r"\b", "")
    exact = text.endswith("$")
    text = text.removesuffix("$")
    if not text.strip() or _REGEX_SYNTAX.search(text) or "`" in text:
        return None
    return f"`{text.strip()}`" if exact else f"`{text.strip()} ...`"


def _scope_words(scope: Sequence[str]) -> str | None:
    parts = [_line_words(s) for s in scope]
    if any(p is None for p in parts):
        return None
    return " > ".join(p for p in parts if p)


def _rule_words(rule: Any) -> RuleWords:
    """Put a rule of ``runner.network.review`` (present / absent / each_block checks) in words."""
    from runner.network.review import AbsentCheck, EachBlockCheck, PresentCheck

    fails: list[str] = []
    warns: list[str] = []
    skipped: list[str] = []
    simple = True

    def outcome(status: str, phrase: str, reason: str) -> None:
        if status == "fail":
            fails.append(phrase)
        elif status == "warn":
            warns.append(phrase)
        elif status == "not_checked":
            skipped.append(reason or phrase)

    for check in rule.checks:
        if isinstance(check, PresentCheck):
            phrase = f"missing: {check.expect}"
            outcome(check.if_missing, phrase, check.reason)
            if check.if_scope_missing not in (None, check.if_missing):
                outcome(check.if_scope_missing, phrase, check.reason)
        elif isinstance(check, AbsentCheck):
            lines = []
            for match in check.any_of:
                words = _line_words(match.pattern)
                scope = _scope_words(match.scope) if match.scope else ""
                if words is None or scope is None or match.where:
                    simple = False
                    break
                lines.append(f"{words} in {scope}" if scope else words)
            fails.append("a line " + " or ".join(lines))
            if check.if_scope_missing == "not_checked":
                skipped.append(check.reason or "nothing to judge")
        elif isinstance(check, EachBlockCheck):
            scope = _scope_words(check.scope)
            where = [_line_words(w) for w in check.where]
            if scope is None or check.unless or any(w is None for w in where):
                simple = False
            else:
                block = f"a {scope} block" + (f" with {' and '.join(w for w in where if w)}" if where else "")
                parts = [f"lacks {r.expect}" for r in check.require]
                for pattern in check.forbid:
                    words = _line_words(pattern)
                    if words is None:
                        simple = False
                    parts.append(f"has a line {words}")
                for th in check.thresholds:
                    parts.append(
                        f"has {th.describe or th.param} {_OP_ABOVE[th.op]} the `{th.param}` parameter"
                    )
                if check.selected_fails:
                    parts.append(f"exists ({check.violation or 'matches the rule'})")
                fails.append(f"{block} {' or '.join(parts)}")
            outcome(check.if_no_blocks, f"no {scope or 'such'} block", check.reason)
    text = "; ".join(fails)
    if warns:
        text += ("; " if text else "") + "warns: " + "; ".join(warns)
    return RuleWords(
        fails=text if simple and text else None,
        not_checked="; ".join(dict.fromkeys(skipped)) or None,
    )


def rule_words(rules_dir: Path) -> dict[str, RuleWords]:
    """Every rule of the rule packs in ``rules_dir``, in words, by control ID."""
    from pydantic import ValidationError

    from runner.network.review import Rule

    out: dict[str, RuleWords] = {}
    for path in sorted(rules_dir.glob("*.yml")):
        data = _load_yaml(path, _read(path))
        rules = data.get("rules") if isinstance(data, Mapping) else None
        for index, raw in enumerate(rules if isinstance(rules, list) else []):
            try:
                rule = Rule.model_validate(raw)
            except ValidationError as exc:
                raise GenerateError(f"{_rel(path)}: rules[{index}]: {exc.errors()[0]['msg']}") from exc
            out[rule.id] = _rule_words(rule)
    return out


# ---------------------------------------------------------------- README tables (controls)


def render_controls(spec: RoleSpec, cat: Catalogue, rules: Mapping[str, RuleWords] | None = None) -> str:
    """The role's control table: ID, title, severity, what fails / warns it, when it is not_checked."""
    controls = [c for c in cat.controls.values() if c.role == spec.role]
    in_use = [c for c in controls if c.retired is None]
    retired = [c for c in controls if c.retired is not None]
    rows: list[str] = []
    platforms = any(c.platforms for c in in_use)
    if platforms:
        rows += [
            f"| platform (`{spec.role}_platform`) | control | title | severity | fails when "
            "| not_checked when |",
            "|---|---|---|---|---|---|",
        ]
        last: tuple[str, ...] | None = None
        fallback = False
        for c in in_use:
            shown = c.platforms or ()
            first = ", ".join(f"`{p}`" for p in shown) if shown != last else ""
            last = shown
            words = (rules or {}).get(c.id, RuleWords(None, None))
            judged = c.judges or words.fails
            if judged is None:
                fallback = True
                judged = f"*{c.rationale}*"
            skipped = c.not_checked_when or words.not_checked or "-"
            rows.append(
                f"| {first} | {c.id} | {_cell(c.title)} | {c.severity.value} | {_cell(judged)} "
                f"| {_cell(skipped)} |"
            )
        if fallback:
            rows += [
                "",
                "In italics: the rule's rationale, where its patterns are too intricate to put in words; "
                "the rule pack (and `maint controls show ID`) holds them.",
            ]
    else:
        rows += [
            "| control | title | severity | fails / warns when | not_checked when |",
            "|---|---|---|---|---|",
        ]
        for c in in_use:
            rows.append(
                f"| {c.id} | {_cell(c.title)} | {c.severity.value} | {_cell(c.judges or '-')} "
                f"| {_cell(c.not_checked_when or '-')} |"
            )
    text = "\n".join(rows)
    if retired:
        text += (
            "\n\nRetired (known to waivers and reports, never emitted): "
            + "; ".join(f"{c.id} *{_cell(c.title)}*, {_cell(str(c.retired))}" for c in retired)
            + "."
        )
    return text


def render_variables(spec: RoleSpec, evaluated: bool = True) -> str:
    rows = [
        "| variable | default | takes | tunes | what it is |",
        "|---|---|---|---|---|",
    ]
    for var, th, is_threshold in _entries(spec):
        takes = [describe(th)]
        if th.type in ("int", "float") and th.unit:
            takes.append(th.unit)
        if th.not_above:
            takes.append(f"at most `{spec.role}_{th.not_above}`")
        below = _below(spec, th.name)
        if below:
            takes.append("at least " + ", ".join(f"`{b}`" for b in below))
        looser = _looser_text(th)
        if looser:
            takes.append(looser)
        kind = ", ".join(th.controls) if th.controls else ("all controls" if is_threshold else "option")
        default = _code(th.default)
        if th.from_var:
            default = f"`{th.from_var}`, else {default}"
        if th.type == "str" and th.choices and th.default == "":
            default = '`""` (required)'
        rows.append(f"| `{var}` | {default} | {_cell('; '.join(takes))} | {kind} | {_cell(th.description)} |")
    text = "\n".join(rows)
    count = len(spec.thresholds)
    if count:
        which = f"The first {count} are thresholds" if spec.options else "All are thresholds"
        text += (
            f"\n\n{which}: a client overrides them in its inventory, without the prefix, under "
            f"`maintenance.thresholds.{spec.role}`, and those overrides win over the role variables. "
            "`maint inventory validate` checks every override against the catalogue (known name, type, "
            "range, order)"
            + (", and so does the judging task of a plain `ansible-playbook` run." if evaluated else ".")
        )
        if spec.options:
            text += " The others are role variables only."
    return text


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- BEGIN GENERATED: {name} -->", f"<!-- END GENERATED: {name} -->"


def render_readme(
    spec: RoleSpec,
    cat: Catalogue,
    text: str,
    path: Path,
    evaluated: bool = True,
    rules: Mapping[str, RuleWords] | None = None,
) -> str:
    bodies = {"controls": render_controls(spec, cat, rules), "variables": render_variables(spec, evaluated)}
    for name in SECTIONS:
        begin, end = _markers(name)
        pattern = re.compile(rf"{re.escape(begin)}\n.*?{re.escape(end)}", re.S)
        if len(pattern.findall(text)) != 1:
            raise GenerateError(f"{_rel(path)}: needs exactly one '{begin}' ... '{end}' block")
        note = f"<!-- from runner/catalogue/data/{spec.role}.yml by `make generate`: edit the catalogue -->"
        block = f"{begin}\n{note}\n\n{bodies[name]}\n\n{end}"
        start, stop = pattern.search(text).span()  # type: ignore[union-attr]  # counted just above
        text = text[:start] + block + text[stop:]
    return text


# ---------------------------------------------------------------- all of it


def outputs(
    cat: Catalogue | None = None, roles_dir: Path = ROLES_DIR, rules_dir: Path | None = None
) -> list[Output]:
    """Every generated file with the text it should have (network rules read from ``rules_dir``)."""
    cat = cat or catalogue.load()
    rules = rule_words(rules_dir or catalogue.RULES_DIR)
    out: list[Output] = []
    on_disk = sorted(p.name for p in roles_dir.iterdir() if (p / "tasks" / "main.yml").is_file())
    missing = [r for r in on_disk if r not in cat.roles]
    if missing:
        raise GenerateError(f"{_rel(roles_dir)}: roles without a catalogue file: {', '.join(missing)}")
    for role, spec in cat.roles.items():
        base = roles_dir / role
        if not base.is_dir():
            raise GenerateError(f"{_rel(base)}: the catalogue has role {role!r} but no role folder exists")
        path = base / "defaults" / "main.yml"
        text, kept = render_defaults(spec, _load_yaml(path, _read(path)))
        out.append(Output(path, text, kept))

        path = base / "meta" / "argument_specs.yml"
        text, kept = render_argument_specs(spec, _load_yaml(path, _read(path)), path)
        out.append(Output(path, text, kept))

        evaluated = _uses_maint_evaluate(base)
        path = base / "vars" / "main.yml"
        vars_text = render_vars(spec, _load_yaml(path, _read(path)), evaluated)
        if vars_text is not None:
            out.append(Output(path, vars_text))

        path = base / "README.md"
        readme = _read(path)
        if readme is None:
            raise GenerateError(f"{_rel(path)}: missing")
        out.append(Output(path, render_readme(spec, cat, readme, path, evaluated, rules)))
    for o in out:
        if o.path.suffix == ".yml":
            _round_trip(o)
    return out


def _uses_maint_evaluate(role_dir: Path) -> bool:
    """Whether the role judges with the maint_audit or maint_evaluate action (which check its thresholds)."""
    texts = [_read(f) or "" for f in sorted((role_dir / "tasks").glob("*.yml"))]
    return any("maint_evaluate:" in text or "maint_audit:" in text for text in texts)


def _round_trip(o: Output) -> None:
    try:
        yaml.safe_load(o.text)
    except yaml.YAMLError as exc:  # a bug here, never the catalogue's fault
        raise GenerateError(f"{_rel(o.path)}: generated text is not valid YAML: {exc}") from exc


def _diff(path: Path, old: str, new: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        _rel(path),
        f"{_rel(path)} (generated)",
        n=1,
    )
    return "".join(list(lines)[:40])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m runner.catalogue.generate",
        description="Write the role files generated from the control catalogue.",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 listing out-of-date files"
    )
    parser.add_argument("--diff", action="store_true", help="with --check, show what would change")
    parser.add_argument("--data", type=Path, help="catalogue data folder (default: the package's)")
    parser.add_argument("--rules", type=Path, help="network rule packs folder (default: the package's)")
    parser.add_argument(
        "--roles", type=Path, default=ROLES_DIR, help="roles folder (default: the repository's)"
    )
    args = parser.parse_args(argv)
    try:
        if args.data or args.rules:
            cat = catalogue.load_from(args.data or catalogue.DATA_DIR, args.rules or catalogue.RULES_DIR)
        else:
            cat = catalogue.load()
        if not args.roles.is_dir():
            raise GenerateError(f"--roles {args.roles}: not a folder")
        files = outputs(cat, args.roles, args.rules)
    except (GenerateError, catalogue.CatalogueError) as exc:
        print(f"generate: {exc}", file=sys.stderr)
        return 2
    for o in files:
        for name in o.kept:
            print(
                f"generate: warning: {_rel(o.path)}: {name} is not in the catalogue; kept as found "
                f"(add it to runner/catalogue/data/{o.path.parent.parent.name}.yml)",
                file=sys.stderr,
            )
    stale = [o for o in files if _read(o.path) != o.text]
    if args.check:
        for o in stale:
            print(f"out of date: {_rel(o.path)}")
            if args.diff:
                print(_diff(o.path, _read(o.path) or "", o.text))
        if stale:
            print(f"{len(stale)} generated file(s) out of date: run `make generate`", file=sys.stderr)
            return 1
        return 0
    for o in stale:
        o.path.parent.mkdir(parents=True, exist_ok=True)
        o.path.write_text(o.text, encoding="utf-8")
        print(f"wrote {_rel(o.path)}")
    if not stale:
        print(f"{len(files)} generated file(s) up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
