"""``maint ledger keygen | public-key | checkpoint | verify | prove | check-proof``: the ledger's proofs.

The library does the work (:mod:`runner.ledger.verify`, :mod:`runner.ledger.proofs`,
:mod:`runner.ledger.keys`); these commands parse, print and pick the exit code: 0 everything held,
1 something did not (a bad row, a checkpoint no longer contained, a proof that fails), 2 the command
could not run (a missing or unreadable file, a bad key, an unknown client or row).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from runner import paths
from runner.cli.app import (
    EXIT_NOT_PASSED,
    EXIT_OK,
    dump,
    err,
    fail,
    ledger_app,
    open_ledger,
    out,
    user_errors,
)

if TYPE_CHECKING:
    from runner.ledger import Ledger, VerifyReport
    from runner.ledger.checkpoints import StoredCheckpoint
    from runner.ledger.note import Signer, Verifier

UNSIGNED_WARNING = (
    "no ledger key: checkpoints are unsigned, so verify detects accidental edits and, against checkpoints "
    "kept outside the database, any rewrite; anyone with write access can still forge the stored ones "
    "(maint ledger keygen)"
)


def configured_signer() -> Signer | None:
    """The ledger key (``MAINT_LEDGER_KEY_FILE`` or var/keys/ledger.key), None when there is none."""
    from runner.ledger import keys

    with user_errors():
        return keys.load_signer()


def demo_key() -> None:
    """``maint demo``: a demo ledger key under var/ when no key is configured (its checkpoints signed)."""
    import os

    from runner.ledger import keys, note

    if os.environ.get(keys.ENV_KEY_FILE) or configured_signer() is not None:
        return
    with user_errors():
        path = keys.write_signer(note.generate_signer("maint-demo"))
    out.print(
        f"demo ledger key created: {path} (for real use create one with maint ledger keygen, kept apart from "
        "the database's backups)",
        soft_wrap=True,
        markup=False,
    )


def _verifier(public_key: Path | None) -> Verifier | None:
    from runner.ledger import keys

    with user_errors():
        if public_key is not None:
            return keys.load_verifier(public_key)
        signer = keys.load_signer()
    return signer.verifier if signer is not None else None


def _require_known(ledger: Ledger, client: str) -> None:
    from runner.inventory import UnknownClientError, list_clients

    with user_errors():
        known = client in ledger.clients()
    if not known:
        if client in list_clients():
            fail(f"no ledger rows for client {client} yet")
        fail(f"{UnknownClientError(client, paths.inventories_dir(), list_clients())}, nor in the ledger")


def _describe(checkpoint: StoredCheckpoint, signer: Verifier | None) -> str:
    import base64

    signed = f"signed by {signer.name} ({signer.fingerprint})" if checkpoint.signed and signer else "unsigned"
    root = base64.b64encode(checkpoint.root).decode()
    where = f" -> {checkpoint.path}" if checkpoint.path else ""
    return f"{checkpoint.client}: {checkpoint.size} rows, root {root}, {signed}{where}"


@ledger_app.command("keygen")
def keygen(
    name: Annotated[
        str, typer.Option(help="The key's name in signature lines (no spaces or '+').")
    ] = "maint-ledger",
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace an existing key (old checkpoints stay signed by the old one)."),
    ] = False,
) -> None:
    """Create the ledger's Ed25519 signing key (0600) outside the database and print its public key.

    Written to MAINT_LEDGER_KEY_FILE, else var/keys/ledger.key; the public key goes beside it (.pub). Give
    the public key to clients and auditors; keep the key file away from the database's backups.
    """
    from runner.ledger import keys, note

    with user_errors():
        try:
            signer = note.generate_signer(name)
        except note.NoteError as exc:
            fail(f"--name {name!r}: {exc}")
        path = keys.write_signer(signer, force=force)
    verifier = signer.verifier
    out.print(f"ledger key written to {path} (mode 0600); public key in {path}.pub", soft_wrap=True)
    out.print(verifier.encode(), soft_wrap=True, markup=False)
    out.print(f"fingerprint {verifier.fingerprint}", soft_wrap=True)


@ledger_app.command("public-key")
def public_key(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Also write it to this file.")] = None,
) -> None:
    """Print the ledger key's public key (what check-proof and verify --public-key read)."""
    signer = configured_signer()
    if signer is None:
        from runner.ledger import keys

        fail(f"no ledger key at {keys.key_file()}: create one with maint ledger keygen")
    text = signer.verifier.encode() + "\n"
    if output is not None:
        with user_errors():
            output.write_text(text, encoding="utf-8")
    typer.echo(text, nl=False)
    err.print(f"fingerprint {signer.verifier.fingerprint}", soft_wrap=True)


def make_checkpoint(ledger: Ledger, client: str, signer: Signer | None) -> StoredCheckpoint | None:
    with user_errors():
        return ledger.checkpoint(client, signer)


@ledger_app.command("checkpoint")
def checkpoint(
    client: Annotated[str | None, typer.Argument(help="Only this client (default: every client).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the checkpoints as JSON.")] = False,
) -> None:
    """Make a checkpoint of each client's tree now (signed with the ledger key when there is one).

    Stored in the ledger and written to var/checkpoints/CLIENT/SIZE.txt; a client whose tree did not grow
    keeps its latest checkpoint.
    """
    ledger = open_ledger()
    signer = configured_signer()
    if client is not None:
        _require_known(ledger, client)
    with user_errors():
        names = [client] if client is not None else ledger.clients()
    made = [found for name in names if (found := make_checkpoint(ledger, name, signer)) is not None]
    verifier = signer.verifier if signer else None
    if as_json:
        dump([c.as_dict(verifier) for c in made])
        return
    for found in made:
        out.print(_describe(found, verifier), soft_wrap=True, markup=False)
    if not made:
        out.print("the ledger is empty")
    if signer is None:
        err.print(f"note: {UNSIGNED_WARNING}", soft_wrap=True, markup=False)


@ledger_app.command("verify")
def verify(
    client: Annotated[str | None, typer.Argument(help="Only this client's chain.")] = None,
    checkpoint_files: Annotated[
        list[Path] | None,
        typer.Option("--checkpoint", help="A checkpoint kept outside the database (repeatable)."),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option("--public-key", help="The ledger's public key (default: the configured key's)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
) -> None:
    """Check each client's hash chain, its Merkle tree and every checkpoint of it; exit 1 naming the first
    row or checkpoint that no longer holds.

    Checkpoints checked: those stored in the ledger, those under var/checkpoints/CLIENT and every
    --checkpoint given (its signature, and that the current tree contains it).
    """
    from runner.inventory import UnknownClientError, list_clients
    from runner.ledger import checkpoints as cp

    verifier = _verifier(public_key)
    with user_errors():
        given = cp.read_given(checkpoint_files or [])
    strangers = [c for c in given if c.parsed is None or c.parsed.ids is None]
    for stranger in strangers:
        fail(f"--checkpoint {stranger.where}: {stranger.problem or 'not a checkpoint of a maint ledger'}")
    if client is not None:
        for candidate in given:
            ids = candidate.parsed.ids if candidate.parsed is not None else None
            if ids is not None and ids[1] != client:
                fail(f"--checkpoint {candidate.where}: a checkpoint of client {ids[1]}, not {client}")
    ledger = open_ledger()
    with user_errors():
        reports = ledger.verify(client, given=given, verifier=verifier)
    if as_json:
        dump([_report_dict(r) for r in reports])
    if client is not None and all(r.ok and r.rows == 0 and not r.checkpoints for r in reports):
        if client not in list_clients():  # a removed client's rows are still verified above
            fail(f"{UnknownClientError(client, paths.inventories_dir(), list_clients())}, nor in the ledger")
        if not as_json:
            out.print(f"no ledger rows for client {client} yet")
        return
    if not reports and not as_json:
        out.print("the ledger is empty")
        return
    if not as_json:
        for report in reports:
            _print_report(report)
        if verifier is None:
            err.print(f"note: {UNSIGNED_WARNING}", soft_wrap=True, markup=False)
        else:
            err.print(f"signatures checked with {verifier.name} ({verifier.fingerprint})", soft_wrap=True)
    raise typer.Exit(EXIT_OK if all(r.ok for r in reports) else EXIT_NOT_PASSED)


def _report_dict(report: VerifyReport) -> dict[str, Any]:
    data = report.model_dump(mode="json")
    bad = report.first_bad_checkpoint
    data["first_bad_checkpoint"] = bad.model_dump(mode="json") if bad else None
    return data


def _tally(report: VerifyReport) -> str:
    if not report.checkpoints:
        return "no checkpoint yet"
    held = [c for c in report.checkpoints if c.ok]
    signed = sum(1 for c in held if c.signature == "verified")
    return f"{len(held)}/{len(report.checkpoints)} checkpoints hold ({signed} with a verified signature)"


def _print_report(report: VerifyReport) -> None:
    """One line per client; a failing one names its first problem, then the others indented."""
    tally = _tally(report)
    if report.ok:
        line = f"{report.rows} rows, chain intact, tree of {report.tree_size} rows; {tally}"
        out.print(f"[green]✓[/] {escape(report.client)}: {line}", soft_wrap=True, highlight=False)
        return
    problems = []
    row = report.first_bad
    if row is not None:
        problems.append(f"first bad row: {row.table} row {row.row_id} (seq {row.seq}): {row.reason}")
    if report.tree_problem:
        problems.append(f"tree: {report.tree_problem}")
    bad = report.first_bad_checkpoint
    if bad is not None:
        size = f"{bad.size} rows" if bad.size is not None else "unreadable"
        problems.append(f"first checkpoint that no longer holds: {bad.where} ({size}): {bad.reason}")
        failed = sum(1 for c in report.checkpoints if not c.ok)
        if failed > 1:
            problems.append(f"{failed - 1} more checkpoint(s) fail (--json lists them)")
    problems.append(f"{report.rows} rows; {tally}")
    out.print(f"[red]✗[/] {escape(report.client)}: {escape(problems[0])}", soft_wrap=True, highlight=False)
    for problem in problems[1:]:
        out.print(f"  {problem}", soft_wrap=True, markup=False, highlight=False)


@ledger_app.command("prove")
def prove(
    client: Annotated[str, typer.Argument(help="Client name.")],
    row: Annotated[
        int | None, typer.Option("--row", help="A check result's id (the check_results table's id column).")
    ] = None,
    seq: Annotated[
        int | None,
        typer.Option("--seq", help="Any row of the client by its seq (status --json: ledger_seq)."),
    ] = None,
    since: Annotated[
        Path | None,
        typer.Option("--since", help="An older checkpoint file: prove the current tree contains it."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the proof here (default: stdout).")
    ] = None,
) -> None:
    """Print a proof an auditor checks offline with `maint ledger check-proof` and the public key.

    --row/--seq: the row is in the client's tree, proved against the latest checkpoint (one is made when the
    row is newer). --since: the current tree (checkpointed now) contains the older checkpoint unchanged.
    """
    from runner.ledger import LedgerError, schema
    from runner.ledger import checkpoints as cp

    chosen = [
        name for name, value in (("--row", row), ("--seq", seq), ("--since", since)) if value is not None
    ]
    if len(chosen) != 1:
        fail("give exactly one of --row, --seq or --since")
    ledger = open_ledger()
    _require_known(ledger, client)
    signer = configured_signer()
    with user_errors():
        if row is not None:
            found = ledger.locate(schema.check_results, row)
            if found is None or found[0] != client:
                fail(f"--row {row}: no check result of that id for client {client}")
            seq = found[1]
        latest = ledger.latest_checkpoint(client)
        if latest is None or (seq is not None and latest.size < seq):
            latest = ledger.checkpoint(client, signer)
        if latest is None:
            fail(f"no ledger rows for client {client} yet")
        if since is not None:
            old = cp.read_candidate("given", since)
            if old.parsed is None:
                fail(f"--since {since}: {old.problem}")
            ids = old.parsed.ids
            if ids is None or ids[1] != client:
                fail(f"--since {since}: not a checkpoint of client {client}")
            latest = ledger.checkpoint(client, signer) or latest  # the tree as it is now
            try:
                proof = ledger.prove_consistency(client, old.parsed, latest)
            except LedgerError as exc:
                fail(str(exc), code=EXIT_NOT_PASSED)
        else:
            assert seq is not None
            if not 1 <= seq <= latest.size:
                fail(f"--seq {seq}: {client}'s rows are seq 1 to {latest.size}")
            proof = ledger.prove_row(client, seq, latest)
    if signer is not None:
        proof["public_key"] = signer.verifier.encode()
    text = json.dumps(proof, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    with user_errors():
        output.write_text(text, encoding="utf-8")
    err.print(f"proof written to {output}", soft_wrap=True)


@ledger_app.command("check-proof")
def check_proof(
    proof_file: Annotated[Path, typer.Argument(help="A proof from `maint ledger prove`.")],
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key", help="The ledger's public key (default: the one inside the proof file)."
        ),
    ] = None,
) -> None:
    """Check a proof offline: no ledger, no database, only the proof and the ledger's public key.

    Exit 0 when the proof holds and its checkpoints' signatures verify, 1 when it does not, 2 when the
    file or key cannot be read.
    """
    from runner.ledger import keys, note, proofs

    with user_errors():
        raw = proof_file.read_bytes()
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        fail(f"{proof_file}: not a proof: not UTF-8 text (byte {exc.start})")
    except ValueError as exc:
        fail(f"{proof_file}: not JSON: {exc}")
    except RecursionError:
        fail(f"{proof_file}: not a proof: JSON nested too deeply")
    if not isinstance(data, dict):
        fail(f"{proof_file}: not a proof (a JSON object is expected)")
    verifier: Verifier | None = None
    if public_key is not None:
        with user_errors():
            verifier = keys.load_verifier(public_key)
    elif isinstance(data.get("public_key"), str):
        try:
            verifier = note.parse_verifier(data["public_key"])
        except note.NoteError as exc:
            fail(f"{proof_file}: field 'public_key': {exc}")
    try:
        result = proofs.check(data, verifier)
    except proofs.ProofError as exc:
        fail(f"{proof_file}: {exc}")
    if verifier is not None and public_key is None:  # after the check: a file that is no proof gets one line
        err.print(
            f"checked with the key inside the proof ({verifier.name}, {verifier.fingerprint}): compare that "
            "fingerprint with the one your MSP gave you, or pass --public-key",
            soft_wrap=True,
            markup=False,
        )
    for fact in result.facts:
        out.print(f"✓ {fact}", soft_wrap=True, markup=False)
    if not result.ok:
        out.print(f"✗ {result.problem}", soft_wrap=True, markup=False)
        raise typer.Exit(EXIT_NOT_PASSED)
    if result.signature != "verified":
        out.print(
            f"✗ the checkpoint is {result.signature}: the proof holds, but nothing shows who made it",
            soft_wrap=True,
            markup=False,
        )
        raise typer.Exit(EXIT_NOT_PASSED)
