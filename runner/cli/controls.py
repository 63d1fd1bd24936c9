"""``maint controls``: the control catalogue (every control, why it matters, how to fix it, what tunes it).

``maint controls [--domain D] [--role R] [--json]`` lists the controls; ``maint controls show ID`` prints
everything about one: rationale, remediation, where it applies, the thresholds that tune it and the
``file:line`` of the code that emits it. The catalogue is imported inside the commands (start-up time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from runner.cli.app import EXIT_CANNOT_RUN, app, dump, fail, out

if TYPE_CHECKING:
    from runner.catalogue import Catalogue, ControlSpec, RoleSpec, Threshold

controls_app = typer.Typer(
    help="The control catalogue: what each control checks, why, and how to fix it.",
    invoke_without_command=True,
)
app.add_typer(controls_app, name="controls")


def _applies_to(spec: ControlSpec) -> str:
    if spec.platforms is not None:
        return ", ".join(spec.platforms)
    return {"any": "every run", "network": "network devices"}.get(spec.os_family, f"{spec.os_family} hosts")


def _threshold_json(th: Threshold) -> dict[str, Any]:
    return th.model_dump(mode="json", exclude_none=True) | {"range": th.range_text()}


def _tuning(role: RoleSpec | None, control_id: str) -> list[Threshold]:
    """The role's thresholds tuning ``control_id``: its own, then the role-wide ones (skip_controls...)."""
    if role is None:
        return []
    own = [th for th in role.thresholds.values() if control_id in th.controls]
    return own + [th for th in role.thresholds.values() if not th.controls]


def _rule_params(spec: ControlSpec) -> dict[str, int | str | list[str] | None]:
    """A network rule's parameters and their defaults (from its rule pack)."""
    if spec.platforms is None or spec.role != "network_config":
        return {}
    from runner.network.platforms import Platform
    from runner.network.review import rule_pack

    params: dict[str, int | str | list[str] | None] = {}
    for platform in spec.platforms:
        params.update(rule_pack(Platform(platform)).rule(spec.id).params)
    return params


def _check_choice(option: str, value: str | None, known: list[str]) -> None:
    if value is not None and value not in known:
        fail(f"{option}: unknown value {value!r} (choose from {', '.join(known)})")


@controls_app.callback()
def list_controls(
    ctx: typer.Context,
    domain: Annotated[
        str | None, typer.Option("--domain", help="Only this domain (health, patching...).")
    ] = None,
    role: Annotated[
        str | None, typer.Option("--role", help="Only this role's controls (maint: the runner's own).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List the control catalogue (id, title, domain, severity, role, what it applies to)."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.markup import escape
    from rich.table import Table

    cat = _load()
    _check_choice("--domain", domain, sorted({c.domain.value for c in cat.controls.values()}))
    _check_choice("--role", role, [*cat.roles, "maint"])
    chosen = [
        c
        for c in cat.controls.values()
        if (domain is None or c.domain.value == domain)
        and (role is None or c.role == (None if role == "maint" else role))
    ]
    if as_json:
        dump(
            {
                "count": len(chosen),
                "controls": [
                    {
                        "id": c.id,
                        "title": c.title,
                        "domain": c.domain.value,
                        "severity": c.severity.value,
                        "role": c.role,
                        "os_family": c.os_family,
                        "platforms": list(c.platforms) if c.platforms is not None else None,
                        "applies_to": _applies_to(c),
                        "kinds": list(c.kinds),
                        "retired": c.retired,
                    }
                    for c in chosen
                ],
            }
        )
        return
    table = Table(title=f"Control catalogue ({len(chosen)} controls)")
    for col in ("id", "title", "domain", "severity", "role", "applies to"):
        table.add_column(col, overflow="fold")
    for c in chosen:
        title = escape(c.title) + (" [dim](retired)[/]" if c.retired else "")
        table.add_row(c.id, title, c.domain.value, c.severity.value, c.role or "-", escape(_applies_to(c)))
    out.print(table)


def _load() -> Catalogue:
    from runner import catalogue

    try:
        return catalogue.load()
    except catalogue.CatalogueError as exc:
        fail(str(exc))


@controls_app.command("show")
def show(
    control_id: Annotated[str, typer.Argument(metavar="ID", help="A control ID, e.g. HEALTH-LNX-01.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print it as JSON.")] = False,
) -> None:
    """Everything about one control: rationale, remediation, applicability, thresholds, code location."""
    from rich.markup import escape
    from rich.table import Table

    from runner.catalogue import UnknownControlError, source_of

    cat = _load()
    wanted = control_id.strip().upper()
    try:
        spec = cat.control(wanted)
    except UnknownControlError as exc:
        close = cat.close_matches(wanted, n=3, cutoff=0.6)
        families = sorted({c.rsplit("-", 1)[0] for c in cat.controls})
        hint = f"did you mean {' or '.join(close)}?" if close else f"known families: {', '.join(families)}"
        fail(f"unknown control {exc.control!r}; {hint}", EXIT_CANNOT_RUN)
    role = cat.roles.get(spec.role) if spec.role else None
    tuning = _tuning(role, spec.id)
    source = source_of(spec)
    where = f"{source[0]}:{source[1]}" if source else None
    params = _rule_params(spec)
    if as_json:
        dump(
            spec.model_dump(mode="json")
            | {
                "applies_to": _applies_to(spec),
                "thresholds": [_threshold_json(th) for th in tuning],
                "rule_params": params,
                "source": where,
            }
        )
        return
    out.print(f"[bold]{spec.id}[/]  {escape(spec.title)}")
    if spec.retired:
        out.print(f"[yellow]retired:[/] {escape(spec.retired)}")
    facts = [
        ("domain", spec.domain.value),
        ("severity", spec.severity.value),
        ("role", spec.role or "- (the runner's own check)"),
        ("applies to", _applies_to(spec)),
        ("evaluator kinds", ", ".join(spec.kinds) or "-"),
        ("code", where or "- (no code emits it)"),
    ]
    for name, value in facts:
        out.print(f"  {name + ':':<17}{escape(value)}")
    out.print("\n[bold]Rationale[/]")
    out.print(escape(spec.rationale), soft_wrap=False)
    if spec.judges:
        out.print("\n[bold]Fails / warns when[/]")
        out.print(escape(spec.judges))
    if spec.not_checked_when:
        out.print("\n[bold]Not checked when[/]")
        out.print(escape(spec.not_checked_when))
    out.print("\n[bold]Remediation[/]")
    out.print(escape(spec.remediation))
    if tuning:
        assert role is not None
        table = Table(title=f"Thresholds (maintenance.thresholds.{role.role}.NAME)", title_justify="left")
        for col in ("name", "type", "unit", "default", "range", "looser", "loosest", "description"):
            table.add_column(col, overflow="fold")
        for th in tuning:
            limits = th.range_text() + (f", <= {th.not_above}" if th.not_above else "")
            table.add_row(
                th.name,
                th.type,
                th.unit,
                escape(repr(th.default) if isinstance(th.default, str) else str(th.default)),
                limits.strip(", ") or "-",
                th.looser or "-",
                "-" if th.loosest is None else str(th.loosest),
                escape(th.description),
            )
        out.print()
        out.print(table)
    elif role is not None:
        out.print("\nNo threshold tunes it.")
    if params:
        out.print(f"\n[bold]Rule parameters[/] (maintenance.thresholds.network_config.params.{spec.id}.NAME)")
        for param, limit in params.items():
            shown = "null (no limit)" if limit is None else str(limit)
            out.print(f"  {param}: {shown}")
