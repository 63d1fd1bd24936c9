"""``maint onboarding CLIENT``: the onboarding audit and its pack (:mod:`runner.onboarding.pack`)."""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from runner.cli.app import EXIT_OK, app, fail, open_ledger, out, user_errors

REASON = "onboarding audit"


def default_dir(client: str, now: datetime, zone: str) -> Path:
    """``var/onboarding/<client>/<YYYY-MM-DD>/`` (the day in the client's time zone)."""
    from zoneinfo import ZoneInfo

    from runner import paths

    return paths.var_dir() / "onboarding" / client / now.astimezone(ZoneInfo(zone)).date().isoformat()


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's arbitrary uid)
        return os.environ.get("USER") or str(os.getuid())


@app.command("onboarding")
def onboarding_command(
    client: Annotated[str, typer.Argument(help="Client folder under inventories/.")],
    from_run: Annotated[
        str | None,
        typer.Option(
            "--from-run", help="Build the pack from this audit run (of every role) instead of running one."
        ),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="en, es or ca.")] = "en",
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Directory to write into (default var/onboarding/CLIENT/DATE/)."),
    ] = None,
) -> None:
    """The onboarding audit: run every assigned role in audit mode (or reuse --from-run), plan the roadmap
    from its risks, and write the pack (pack.html, pack.pdf, assets.csv, assets.xlsx, risks.xlsx,
    roadmap.xlsx, pack.json, each 0600).

    Exit 0 when the pack is written (whatever the audit found: its findings are the pack's risks), 1 when
    the audit run failed, was interrupted or ended in error (no pack then), 2 when nothing could be done
    (unknown client or language, a --from-run that is not a completed audit of every role of the client, a
    directory that cannot be written).
    """
    from runner.cli.report import check_choice
    from runner.inventory import load_client
    from runner.onboarding import roadmap
    from runner.onboarding.pack import PackError, build_pack, find_run, write_pack
    from runner.report.i18n import LANGS

    check_choice(lang, LANGS, "--lang")
    with user_errors():
        found = load_client(client)
    if not found.settings.roles:
        fail(f"client {client}: no role is assigned (maintenance.roles), so there is nothing to audit")
    if from_run is not None:
        with open_ledger() as ledger, user_errors():
            try:
                run = find_run(ledger, found, from_run)
            except PackError as exc:
                fail(str(exc))
        run_id = run.run_id
        out.print(f"onboarding pack from run {run_id} ({run.status.value})", soft_wrap=True, markup=False)
    else:
        run_id = _audit(client)
    now = datetime.now(UTC)
    # opened after the run and closed before returning: no connection of this process is open while a job
    # runs (its forked processes must not carry one)
    with open_ledger() as ledger, user_errors():
        try:
            from runner import witness
            from runner.onboarding import risks as risks_mod

            verifier = witness.configured_verifier()
            found_risks = risks_mod.risks(ledger, found, lang=lang, now=now)
            roadmap.plan(ledger, found, found_risks, by=_user(), now=now)
            # a checkpoint covering the roadmap just planned: the pack is built from it, nothing left out
            from runner.ledger import keys

            ledger.checkpoint(found.name, keys.load_signer())
            data = build_pack(
                ledger, found, run_id=run_id, lang=lang, now=now, verifier=verifier, risks=found_risks
            )
            where = output or default_dir(client, now, found.settings.timezone)
            written = write_pack(data, where)
        except ValueError as exc:  # PackError, RenderError, a bad msp.yml, a bad asset host var: one line
            fail(str(exc))
    summary = data["summary"]
    out.print(
        f"onboarding pack of {client}: {summary['hosts']} asset(s), {summary['risks']} risk(s), "
        f"{summary['roadmap_items']} roadmap item(s)",
        soft_wrap=True,
        markup=False,
    )
    for path in written:
        out.print(f"written {path}", soft_wrap=True, markup=False, highlight=False)
    raise typer.Exit(EXIT_OK)


def _audit(client: str) -> str:
    """Run every assigned role in audit mode, print the run's table as ``maint run`` does; the run id (exit 1
    when the run failed, was interrupted or ended in error)."""
    from runner import witness
    from runner.cli.app import EXIT_NOT_PASSED
    from runner.cli.core import _run, _run_rows
    from runner.console import summary_table
    from runner.execute import RunRequest
    from runner.ledger import RunStatus
    from runner.modes import Mode

    request = RunRequest(client=client, mode=Mode.AUDIT, reason=REASON, requested_by=_user())
    outcome = _run(request, as_json=False)
    with user_errors():
        rows = _run_rows(outcome)
        verifier = witness.configured_verifier()
    out.print(summary_table(outcome, rows))
    if outcome.not_reached:
        out.print(f"not reached: {', '.join(outcome.not_reached)}", soft_wrap=True, markup=False)
    out.print(f"artifacts: {outcome.artifact_dir}", soft_wrap=True, markup=False)
    out.print(witness.summary_line(outcome.checkpoint, verifier), soft_wrap=True, markup=False)
    if outcome.status in (RunStatus.INTERRUPTED, RunStatus.ERROR, RunStatus.FAILED):
        out.print(
            f"the audit run {outcome.run_id} ended {outcome.status.value}: no pack (run it again, or "
            f"--from-run a complete audit)",
            soft_wrap=True,
            markup=False,
        )
        raise typer.Exit(EXIT_NOT_PASSED)
    return outcome.run_id
