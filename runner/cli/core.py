"""The root commands of ``maint``: inventory validate, run, runs, status, evaluate, ledger, demo.

They register on the shared apps of :mod:`runner.cli.app`; see there for the exit codes.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

# Start-up time (issue 10, section 7): only what every command needs is imported here (typer, rich's
# console, the run modes and the evaluator kinds for the help); each command imports the job runner, the
# ledger, the inventory schema, the network code... in its own body. tests/test_cli_startup.py checks it.
from runner import evaluators, paths
from runner.cli.app import (
    EXIT_CANNOT_RUN,
    EXIT_NOT_PASSED,
    EXIT_OK,
    app,
    dump,
    err,
    fail,
    inventory_app,
    ledger_app,
    open_ledger,
    out,
    user_errors,
)
from runner.modes import Mode

if TYPE_CHECKING:
    from runner.execute import RunOutcome, RunRequest
    from runner.state import StateRow


# --------------------------------------------------------------------------- inventory


@inventory_app.command("validate")
def inventory_validate(
    client: Annotated[
        str | None, typer.Argument(help="Client folder name; every client when omitted.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print each client's problems (file, key, message) as JSON.")
    ] = False,
) -> None:
    """Check client inventories against the schema; print every problem (exit 2 on errors).

    Each client is validated on its own: one client's broken file never stops the others.
    """
    from rich.markup import escape

    from runner.inventory import Problem, UnknownClientError, list_clients, validate_client

    names = [client] if client else list_clients()
    if not names:
        fail(f"no client inventories under {paths.inventories_dir()}")
    bad = 0
    report: list[dict[str, Any]] = []
    for name in names:
        try:
            found, problems = validate_client(name)
            if found is not None:  # host variables: the asset register's, the access review's approved lists,
                from runner.inventory.hostvars import access_var_problems, asset_var_problems
                from runner.sites import site_var_problems  # ... and the site that runs each host

                problems = [
                    *problems,
                    *asset_var_problems(found)[1],
                    *access_var_problems(found),
                    *site_var_problems(found)[1],
                ]
        except UnknownClientError as exc:
            fail(str(exc))
        except Exception as exc:  # a defect reading one client's folder must not stop the others
            logging.getLogger(__name__).debug("inventory of client %s", name, exc_info=True)
            found, problems = None, [Problem(name, "", f"cannot be validated: {type(exc).__name__}: {exc}")]
        bad += bool(problems)
        valid = found is not None and not problems
        report.append(
            {
                "client": name,
                "valid": valid,
                "hosts": len(found.tree.hosts) if found is not None else None,
                "roles": list(found.settings.roles) if found is not None else [],
                "problems": [{"file": p.file, "key": p.key, "message": p.message} for p in problems],
            }
        )
        if as_json:
            continue
        if problems:
            out.print(f"[red]✗[/] {escape(name)}: {len(problems)} problem(s)", highlight=False)
            for problem in problems:
                out.print(f"  {problem}", soft_wrap=True, markup=False, highlight=False)
        elif found is not None:
            hosts = len(found.tree.hosts)
            roles = escape(", ".join(found.settings.roles))
            out.print(f"[green]✓[/] {escape(name)}: {hosts} host(s), roles {roles}", highlight=False)
    if as_json:
        dump(report)
    if bad:
        raise typer.Exit(EXIT_CANNOT_RUN)


# --------------------------------------------------------------------------- run


def _run(request: RunRequest, as_json: bool) -> RunOutcome:
    from runner.console import RunProgress
    from runner.execute import execute

    progress = RunProgress(err if as_json else out)
    with open_ledger() as ledger, user_errors():  # closed: a later command in this process opens its own
        return execute(request, ledger, None if as_json else progress)


def _run_rows(outcome: RunOutcome) -> list[StateRow]:
    """The run's results with the client's waivers applied (the rules of :mod:`runner.status`)."""
    from runner.inventory import load_client
    from runner.state import run_rows

    return run_rows(outcome.results, outcome.settings or load_client(outcome.client).settings)


def _run_exit(outcome: RunOutcome, rows: list[StateRow]) -> int:
    from runner.ledger import RunStatus

    if outcome.status in (RunStatus.INTERRUPTED, RunStatus.ERROR):
        return EXIT_NOT_PASSED
    return EXIT_OK if rows and not any(r.failing for r in rows) else EXIT_NOT_PASSED


@app.command()
def run(
    client: Annotated[str, typer.Argument(help="Client folder under inventories/.")],
    role: Annotated[
        list[str] | None, typer.Option("--role", "-r", help="Run only this role (repeatable).")
    ] = None,
    limit: Annotated[str | None, typer.Option(help="Ansible host pattern limiting the hosts.")] = None,
    mode: Annotated[Mode, typer.Option(help="audit looks; remediate may change hosts.")] = Mode.AUDIT,
    ticket: Annotated[str | None, typer.Option(help="Ticket reference recorded with every result.")] = None,
    reason: Annotated[str | None, typer.Option(help="Why this run was started (ad hoc runs).")] = None,
    technician: Annotated[
        str | None, typer.Option(help="With --ticket: who does the work (default: the OS user).")
    ] = None,
    opened_at: Annotated[
        str | None,
        typer.Option(help="With --ticket: when the ticket was opened (ISO-8601; no offset: client time)."),
    ] = None,
    control: Annotated[
        list[str] | None,
        typer.Option(
            "--control",
            help="With --ticket: a control the ticket is about (repeatable; default: the roles' controls).",
        ),
    ] = None,
    review: Annotated[
        bool,
        typer.Option("--review", help="With --ticket: then audit the hosts' other roles (proactive review)."),
    ] = False,
    accelerate: Annotated[
        bool | None,
        typer.Option(
            "--accelerate/--no-accelerate",
            help="Run the job under mitogen's strategy, plain if it cannot "
            "(default: the client's maintenance.accelerate).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
) -> None:
    """Run the client's roles now and record every check result in the ledger.

    Exit 0 when no check failed (waivers applied, as `maint status` judges), 1 when some did or the run was
    interrupted, 2 when the run could not start.
    """
    from runner.console import summary_table
    from runner.execute import RunRequest

    if ticket is None and (technician is not None or opened_at is not None or control or review):
        fail("--technician, --opened-at, --control and --review need --ticket ID")
    opened = None
    if opened_at is not None:
        from runner.interventions import InterventionError, parse_iso

        try:
            opened = parse_iso(opened_at)
        except InterventionError as exc:
            fail(str(exc))
    request = RunRequest(
        client=client,
        roles=tuple(role or ()),
        limit=limit,
        mode=mode,
        ticket=ticket,
        reason=reason,
        technician=technician,
        opened_at=opened,
        controls=tuple(control or ()),
        review=review,
        accelerate=accelerate,
    )
    outcome = _run(request, as_json)
    with user_errors():
        rows = _run_rows(outcome)
    code = _run_exit(outcome, rows)
    from runner import witness

    with user_errors():
        verifier = witness.configured_verifier()
    if as_json:
        made = outcome.checkpoint
        dump(
            {
                "run_id": outcome.run_id,
                "client": outcome.client,
                "status": outcome.status.value,
                "not_reached": outcome.not_reached,
                "counts": outcome.counts,
                "artifact_dir": str(outcome.artifact_dir),
                "results": [r.model_dump(mode="json") for r in outcome.results],
                "review_run_id": outcome.review.run_id if outcome.review is not None else None,
                "accelerated": outcome.accelerated,
                "accelerate_fallback": outcome.accelerate_fallback,
                "checkpoint": (
                    witness.as_dict(made, verifier, witness.head_seq(open_ledger(), outcome.client))
                    if made is not None
                    else None
                ),
            }
        )
    else:
        out.print(summary_table(outcome, rows))
        if outcome.not_reached:
            out.print(f"not reached: {', '.join(outcome.not_reached)}", soft_wrap=True)
        out.print(f"artifacts: {outcome.artifact_dir}", soft_wrap=True)
        out.print(witness.summary_line(outcome.checkpoint, verifier), soft_wrap=True, markup=False)
        if outcome.review is not None:  # --review: the hosts' other roles, audited after the corrective run
            audit = outcome.review
            failing = sum(r.failing for r in _run_rows(audit))
            out.print(
                f"proactive review: run {audit.run_id} ({audit.status.value}), "
                f"{len(audit.results)} result(s), {failing} not passing "
                f"(`maint resolution --ticket {ticket}` shows them)",
                soft_wrap=True,
                markup=False,
            )
        if ticket:  # ad hoc corrective run: each control before and after (maint resolution)
            from runner.cli.schedule import print_resolution

            print_resolution(open_ledger(), run_id=outcome.run_id)
    raise typer.Exit(code)


@app.command()
def runs(
    client: Annotated[str | None, typer.Argument(help="Only this client's runs.")] = None,
    ticket: Annotated[str | None, typer.Option(help="Only runs for this ticket.")] = None,
    limit: Annotated[int, typer.Option(help="How many runs, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List recorded runs, newest first (a running run whose process and lock are gone: abandoned)."""
    from runner.ingest import effective_status
    from runner.results import Status

    ledger = open_ledger()
    listed = ledger.runs(client, ticket=ticket, limit=limit)
    found = [r.model_copy(update={"status": effective_status(r)}) for r in listed]
    if as_json:
        dump([r.model_dump(mode="json") for r in found])
        return
    from rich.table import Table

    table = Table(title="runs")
    for col in ("run", "client", "started (UTC)", "mode", "roles", "status", "ticket", "results"):
        table.add_column(col, overflow="fold")
    for r in found:
        counts = ", ".join(f"{r.summary[s.value]} {s.value}" for s in Status if r.summary.get(s.value))
        table.add_row(
            r.run_id,
            r.client,
            r.started_at.strftime("%Y-%m-%d %H:%M"),
            r.mode,
            ",".join(r.roles),
            r.status.value,
            r.ticket or "",
            counts,
        )
    out.print(table)


def _split(values: list[str] | None, allowed: tuple[str, ...], option: str) -> list[str]:
    """Repeatable, comma-separated option values, each one checked (exit 2 naming the option)."""
    found = [v.strip() for item in values or [] for v in item.split(",") if v.strip()]
    for value in found:
        if value not in allowed:
            fail(f"{option} {value!r}: expected one of {', '.join(allowed)}")
    return found


@app.command()
def status(
    client: Annotated[
        str | None, typer.Argument(help="Client folder under inventories/; the fleet view when omitted.")
    ] = None,
    host: Annotated[list[str] | None, typer.Option(help="Only this host (repeatable).")] = None,
    status_: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            help="Only rows showing this status: pass, fail, warn, not_checked, error, not_applicable, "
            "waived (repeatable or comma-separated).",
        ),
    ] = None,
    severity: Annotated[
        list[str] | None, typer.Option(help="Only this severity: critical, high, medium, low, info.")
    ] = None,
    domain: Annotated[
        list[str] | None,
        typer.Option(
            help="Only this domain: patching, antivirus, backup, health, network, security, inventory."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The current state: per host and control that applies today, the latest result, waivers applied.

    Errors and fails first, by severity. A control leaves the state when its host leaves the inventory,
    its role is no longer assigned to the host, or it does not apply to the host's platform; one never
    recorded shows as not_checked "never checked". Exit 0 when no control fails (waivers applied,
    not_applicable ignored), 1 otherwise: fail, warn and error count; not_checked counts only when the host
    could not be reached (or the last known result before it failed).

    Without CLIENT: the fleet view, one line per client (compliance = pass and waived over applicable);
    exit 2 when a client's inventory is invalid, else 1 when some client has a failing control.
    """
    from runner.results import Domain, Severity
    from runner.state import EFFECTIVE

    statuses = _split(status_, EFFECTIVE, "--status")
    severities = _split(severity, tuple(s.value for s in Severity), "--severity")
    domains = _split(domain, tuple(d.value for d in Domain), "--domain")
    if client is None:
        if host or statuses or severities or domains:
            fail("--host, --status, --severity and --domain need a CLIENT (the fleet view has no rows)")
        _fleet(as_json)
        return
    from runner.console import state_summary, status_table
    from runner.inventory import load_client
    from runner.state import compute

    with user_errors():
        found = load_client(client)
        ledger = open_ledger()
        state = compute(ledger, found)
    for name in host or []:
        if name not in state.scope.hosts:
            known = ", ".join(state.scope.hosts)
            fail(f"--host {name!r}: no such host in the inventory of {client} (hosts: {known})")
    rows = state.filtered(statuses=statuses, severities=severities, domains=domains, hosts=host or [])
    if as_json:
        from runner import witness

        with user_errors():
            checkpoint = witness.carried(ledger, client, witness.configured_verifier())
        dump({"client": client, "checkpoint": checkpoint, "rows": [r.as_dict() for r in rows]})
    elif not state.rows:
        out.print(f"nothing applies to {client}: no role is assigned to any host of its inventory")
    else:
        out.print(status_table(state, rows))
        out.print(state_summary(state, len(rows)), soft_wrap=True, highlight=False)
        unreached = state.unreachable_hosts
        if unreached:
            out.print(
                f"not reached: {', '.join(unreached)} (their not_checked rows count as not passing)",
                soft_wrap=True,
                highlight=False,
            )
        if not any(r.latest is not None for r in state.rows):
            out.print(f"no results recorded for {client} yet: try `maint run {client}`")
    raise typer.Exit(state.exit_code)


def _fleet(as_json: bool) -> None:
    from runner.console import fleet_table
    from runner.state import fleet

    with user_errors():
        ledger = open_ledger()
        lines = fleet(ledger)
    if as_json:
        from runner import witness

        with user_errors():
            dump([{**line.as_dict(), "checkpoint": witness.brief(ledger, line.client)} for line in lines])
    elif not lines:
        out.print(f"no client inventories under {paths.inventories_dir()} and nothing in the ledger")
    else:
        out.print(fleet_table(lines))
        out.print(
            "compliance: pass and waived over every applicable control (not_applicable left out, never "
            "checked included)",
            soft_wrap=True,
        )
    if any(line.problem.startswith("invalid") for line in lines):
        raise typer.Exit(EXIT_CANNOT_RUN)
    raise typer.Exit(EXIT_NOT_PASSED if any(line.failing for line in lines) else EXIT_OK)


# --------------------------------------------------------------------------- evaluate


#: largest saved output ``maint evaluate`` reads (a Windows update history is a few MB)
MAX_EVALUATE_INPUT = 32 * 1024 * 1024


def _decode(file: Path, raw: bytes) -> str:
    """UTF-8, or UTF-16 with a byte-order mark (what Windows PowerShell 5.1 writes with ``>``)."""
    try:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            return raw.decode("utf-16")
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        fail(f"{file}: not UTF-8 or UTF-16 text (byte {exc.start})")


def _read_data(file: Path) -> Any:
    """A saved output as the evaluator takes it: JSON, else YAML data, else the text itself; bounded in
    size and nesting, so a hostile file gets one line and exit 2 instead of a traceback."""
    from runner import safeyaml

    try:
        text = _decode(file, safeyaml.read_limited(file, MAX_EVALUATE_INPUT, "file"))
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
    except safeyaml.TooLargeError as exc:
        fail(f"{file}: {exc}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        pass
    except RecursionError:
        fail(f"{file}: JSON nested too deep (more than {safeyaml.MAX_DEPTH} levels are refused)")
    except ValueError as exc:  # valid JSON Python refuses: an integer of more than 4,300 digits
        fail(f"{file}: cannot be read as JSON: {str(exc).split(';')[0]}")
    else:
        if safeyaml.depth_exceeds(data):
            fail(f"{file}: JSON nested more than {safeyaml.MAX_DEPTH} levels deep")
        return data
    if len(text.encode("utf-8", errors="surrogatepass")) > safeyaml.MAX_BYTES:
        return text  # too large to be a YAML document: command output, which the evaluator reads as text
    try:
        data = safeyaml.load(text)
    except safeyaml.YAMLLimitError as exc:
        fail(f"{file}: {exc}")
    except safeyaml.YAMLInputError:
        return text  # plain command output (e.g. a saved `apt-get -s upgrade`): the evaluator reads text
    return data if isinstance(data, dict | list) else text


@app.command()
def evaluate(
    kind: Annotated[
        str,
        typer.Argument(help=f"Evaluator kind, one of: {', '.join(evaluators.KINDS)}.", show_default=False),
    ],
    file: Annotated[
        Path,
        typer.Argument(help="Saved raw output to judge (JSON, YAML, or the text of apt-get -s for apt)."),
    ],
    threshold: Annotated[
        list[str] | None, typer.Option("--threshold", "-t", help="Override a threshold: NAME=VALUE.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Judge a saved raw output with exactly the evaluator the role uses (exit 1 if any check fails)."""
    from runner.console import styled
    from runner.evaluators import EvaluatorError
    from runner.results import Status

    with user_errors():
        evaluators.get(kind)
    thresholds: dict[str, Any] = {}
    for item in threshold or []:
        name, sep, value = item.partition("=")
        if not sep:
            fail(f"--threshold takes NAME=VALUE, got {item!r}")
        from runner import safeyaml

        try:
            thresholds[name] = safeyaml.load(value)
        except safeyaml.YAMLInputError as exc:
            fail(f"--threshold {name}: {exc}")
    data = _read_data(file)
    if isinstance(data, dict) and "maint_raw" in data:
        data = data["maint_raw"]
    try:
        findings = evaluators.evaluate(kind, data, thresholds)
    except EvaluatorError as exc:
        fail(f"{file}: {exc}")
    if as_json:
        dump([f.model_dump(mode="json") for f in findings])
    else:
        from rich.table import Table

        table = Table(title=f"{kind}: {file}")
        for col in ("control", "status", "severity", "title", "evidence"):
            table.add_column(col, overflow="fold")
        for f in findings:
            table.add_row(
                f.control, styled(f.status.value), f.severity.value, f.title, json.dumps(f.evidence)[:200]
            )
        out.print(table)
    passing = (Status.PASS, Status.NOT_APPLICABLE)  # not_applicable is never in an exit code
    raise typer.Exit(EXIT_OK if all(f.status in passing for f in findings) else EXIT_NOT_PASSED)


# --------------------------------------------------------------------------- ledger


@ledger_app.command("ingest")
def ledger_ingest(
    artifact_dir: Annotated[
        str, typer.Argument(help="A run's id, or its folder (var/runs/RUN or its artifacts/RUN).")
    ],
) -> None:
    """Re-read a job's artifacts and add only what the ledger is missing (idempotent).

    Only rows of a run maint started, for its client and planned hosts, inside its span are added;
    exit 1 when some rows were refused.
    """
    from runner.cli.ledger import configured_signer, make_checkpoint
    from runner.ingest import ingest

    ledger = open_ledger()
    signer = configured_signer()
    with user_errors():
        report = ingest(artifact_dir, ledger)
    if report.added or report.finished_as:
        make_checkpoint(ledger, report.client, signer)
    done = f"; run closed as {report.finished_as.value}" if report.finished_as else ""
    refused = ""
    if report.refused:
        why = ", ".join(f"{n} for {reason}" for reason, n in sorted(report.refused_why.items()))
        refused = f"; {report.refused} rows refused ({why})"
    out.print(
        f"run {report.run_id} ({report.client}): {report.events} events read, {report.added} rows added"
        f"{done}{refused}",
        soft_wrap=True,
    )
    if report.refused:
        raise typer.Exit(EXIT_NOT_PASSED)


# --------------------------------------------------------------------------- demo


@app.command()
def demo() -> None:
    """Audit this machine as the embedded demo client (changes nothing), then show its status.

    The demo's network devices are simulated: each fetch serves its device on a free 127.0.0.1 port
    (``network_config_simulated`` in inventories/demo), so nothing is started here and two users on one
    controller never collide; ``maint run demo`` reaches them the same way. Exit 1 when a control of the
    current state fails (the rule of `maint status`) or the run was interrupted.
    """
    from runner import witness
    from runner.cli.ledger import demo_key
    from runner.console import state_summary, status_table, summary_table
    from runner.execute import RunRequest
    from runner.inventory import load_client
    from runner.ledger import RunStatus
    from runner.state import compute

    demo_key()
    request = RunRequest(client="demo", mode=Mode.AUDIT, trigger="demo", reason="maint demo")
    outcome = _run(request, as_json=False)
    with user_errors():
        rows = _run_rows(outcome)
        out.print(summary_table(outcome, rows))
        ledger = open_ledger()
        state = compute(ledger, load_client("demo"))
        verifier = witness.configured_verifier()
    out.print(status_table(state, state.rows))
    out.print(state_summary(state, len(state.rows)), soft_wrap=True, highlight=False)
    out.print(f"ledger:    {ledger.display_url}", soft_wrap=True)
    out.print(f"artifacts: {outcome.artifact_dir}", soft_wrap=True)
    out.print(witness.summary_line(outcome.checkpoint, verifier), soft_wrap=True, markup=False)
    out.print("next: maint status demo | maint runs demo | maint ledger verify demo | maint reports demo")
    # what a client would receive: this month's report, filed under var/reports/demo/ (HTML and PDF)
    from datetime import UTC, datetime

    from runner.report import filed
    from runner.report.period import containing

    with user_errors():
        client = load_client("demo")
    try:
        done = filed.file_report(
            ledger, client, containing(datetime.now(UTC), client.settings.timezone), formats=("html", "pdf")
        )
    except filed.FilingError as exc:
        err.print(str(exc), soft_wrap=True, markup=False, highlight=False)
    else:
        for fmt, path in done.files.items():
            out.print(f"report ({fmt}): {witness.shown_path(path)}", soft_wrap=True, markup=False)
        for fmt, why in done.skipped.items():
            out.print(f"report ({fmt}): not made, {why}", soft_wrap=True, markup=False)
    if outcome.status in (RunStatus.ERROR, RunStatus.INTERRUPTED):
        raise typer.Exit(EXIT_NOT_PASSED)
    raise typer.Exit(state.exit_code)
