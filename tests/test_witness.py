"""The ledger checkpoint every output carries (runner/witness.py): `maint status --json` (client and fleet),
`maint drift` (md, html, json), `maint resolution` (md, json) and the run summary line.

What a reader keeps from one of these outputs must be enough to check the ledger later: the note carried
verifies with the public key carried and `maint ledger verify --checkpoint` accepts it. Reading never makes
a checkpoint.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runner import witness
from runner.cli import app
from runner.ledger import Ledger, RunRecord, RunStatus, keys, note
from runner.ledger import checkpoints as cp
from runner.ledger.checkpoints import StoredCheckpoint
from runner.results import CheckResult, Domain, Severity, Status
from tests.conftest import MakeClient

T0 = datetime(2026, 3, 1, 22, 0, tzinfo=UTC)


def _result(run_id: str, control: str, status: Status) -> tuple[str, CheckResult]:
    result = CheckResult(
        control=control,
        title=f"{control} title",
        domain=Domain.HEALTH,
        status=status,
        severity=Severity.HIGH,
        evidence={"used_pct": 50},
        remediation="",
        host="localhost",
        client="acme",
        run_id=run_id,
        observed_at=T0,
        role="linux_health",
        ticket="T-9",
    )
    return f"localhost|{control}", result


def _run(ledger: Ledger, run_id: str, status: Status, ticket: str | None = None) -> None:
    ledger.start_run(
        RunRecord(
            run_id=run_id, client="acme", mode="audit", roles=["linux_health"], started_at=T0, ticket=ticket
        )
    )
    ledger.record([_result(run_id, "HEALTH-LNX-01", status)])
    ledger.finish_run(run_id, RunStatus.SUCCESSFUL)


@pytest.fixture
def signer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> note.Signer:
    """A ledger key configured through MAINT_LEDGER_KEY_FILE (outside var/, as the README advises)."""
    made = note.generate_signer("acme-msp")
    path = tmp_path / "keys" / "ledger.key"
    monkeypatch.setenv("MAINT_LEDGER_KEY_FILE", str(path))
    keys.write_signer(made, path)
    return made


def _stored(signer: note.Signer | None, *, size: int = 7) -> StoredCheckpoint:
    text = cp.make_note("ledger-1", "acme", size, b"\x11" * 32, T0, signer)
    return StoredCheckpoint(
        client="acme",
        size=size,
        root=b"\x11" * 32,
        made_at="2026-03-01T22:00:00Z",
        key_id=signer.key_id.hex() if signer else None,
        note=text,
    )


def _checkpoint_files(var: Path) -> list[Path]:
    return sorted((var / "checkpoints").rglob("*.txt"))


def test_status_json_carries_the_latest_checkpoint_and_makes_none(
    make_client: MakeClient, signer: note.Signer, private_state: Path, tmp_path: Path
) -> None:
    make_client("acme")
    ledger = Ledger()
    _run(ledger, "run-1", Status.FAIL)
    made = ledger.checkpoint("acme", signer)
    assert made is not None
    _run(ledger, "run-2", Status.PASS)  # rows after the checkpoint: 1 run row, 1 result, 1 event
    head = ledger.chain_heads()["acme"][0]
    stored_before, files_before = ledger.checkpoints("acme"), _checkpoint_files(private_state)

    result = CliRunner().invoke(app, ["status", "acme", "--json"], catch_exceptions=False)
    shown = json.loads(result.stdout)
    assert set(shown) == {"client", "checkpoint", "rows"} and shown["client"] == "acme"
    assert [r["control"] for r in shown["rows"]] and all(r["host"] == "localhost" for r in shown["rows"])
    carried = shown["checkpoint"]
    assert carried["size"] == made.size and carried["rows_after_checkpoint"] == head - made.size > 0
    assert carried["signed"] is True and carried["signature"] == "verified"
    assert carried["key"] == {
        "name": "acme-msp",
        "fingerprint": signer.verifier.fingerprint,
        "public_key": signer.verifier.encode(),
    }
    assert carried["note"] == made.note and carried["origin"].endswith("/acme")
    assert carried["made_at"] == made.made_at and Path(carried["file"]).resolve() == made.path
    # read only: no checkpoint stored or written
    assert ledger.checkpoints("acme") == stored_before and _checkpoint_files(private_state) == files_before

    # what the reader kept is enough: the note and the public key out of the JSON, nothing else
    kept, key = tmp_path / "kept.txt", tmp_path / "msp.pub"
    kept.write_text(carried["note"], encoding="utf-8")
    key.write_text(carried["key"]["public_key"] + "\n", encoding="utf-8")
    assert note.verified_by(kept.read_text(encoding="utf-8"), keys.load_verifier(key))
    verify = CliRunner().invoke(
        app, ["ledger", "verify", "acme", "--checkpoint", str(kept), "--public-key", str(key)]
    )
    assert verify.exit_code == 0, verify.output


def test_status_json_of_a_client_without_rows_has_a_null_checkpoint(
    make_client: MakeClient, private_state: Path
) -> None:
    make_client("acme")
    result = CliRunner().invoke(app, ["status", "acme", "--json"], catch_exceptions=False)
    shown = json.loads(result.stdout)
    assert shown["client"] == "acme" and shown["checkpoint"] is None
    assert shown["rows"] and all(r["note"] == "never checked" for r in shown["rows"])
    assert not (private_state / "checkpoints").exists()


def test_fleet_json_line_has_a_checkpoint_summary(make_client: MakeClient) -> None:
    make_client("acme")
    make_client("globex")
    ledger = Ledger()
    _run(ledger, "run-1", Status.PASS)
    made = ledger.checkpoint("acme")  # unsigned: no key configured
    assert made is not None
    result = CliRunner().invoke(app, ["status", "--json"], catch_exceptions=False)
    lines = {line["client"]: line for line in json.loads(result.stdout)}
    assert lines["acme"]["checkpoint"] == {"size": made.size, "signed": False, "made_at": made.made_at}
    assert lines["globex"]["checkpoint"] is None


def test_key_is_named_only_when_its_signature_verifies(signer: note.Signer) -> None:
    stored = _stored(signer)
    good = witness.as_dict(stored, signer.verifier, 10)
    assert good["signature"] == "verified" and good["key"]["fingerprint"] == signer.verifier.fingerprint
    assert (
        good["rows_after_checkpoint"] == 3
        and good["root_hash"] == "ERERERERERERERERERERERERERERERERERERERERERE="
    )
    assert witness.signed_text(good) == f"signed by acme-msp ({signer.verifier.fingerprint})"

    other = note.generate_signer("acme-msp")  # same name, another key
    elsewhere = witness.as_dict(stored, other.verifier, None)
    assert elsewhere["signature"] == "not checked" and elsewhere["key"] is None and elsewhere["signed"]
    assert elsewhere["rows_after_checkpoint"] is None
    assert "no matching ledger key" in witness.signed_text(elsewhere)
    assert witness.as_dict(stored, None, 7)["key"] is None

    # one byte of the body changed: the signature no longer verifies, and the output says so
    forged = StoredCheckpoint(**{**stored.__dict__, "note": stored.note.replace("\n7\n", "\n8\n")})
    bad = witness.as_dict(forged, signer.verifier, 8)
    assert bad["signature"] == "bad" and bad["key"] is None
    assert "does NOT verify" in witness.signed_text(bad)

    unsigned = witness.as_dict(_stored(None), signer.verifier, 7)
    assert unsigned["signature"] == "unsigned" and unsigned["key"] is None and not unsigned["signed"]
    assert witness.signed_text(unsigned) == "unsigned"

    broken = StoredCheckpoint(**{**stored.__dict__, "note": "not a checkpoint\n"})
    shown = witness.as_dict(broken, signer.verifier, 7)
    assert shown["signature"].startswith("unreadable: ") and shown["origin"] is None and shown["key"] is None


def test_run_summary_line(signer: note.Signer, tmp_path: Path) -> None:
    path = tmp_path / "checkpoints" / "acme" / "7.txt"
    stored = StoredCheckpoint(**{**_stored(signer).__dict__, "path": path})
    line = witness.summary_line(stored, signer.verifier)
    assert line == f"checkpoint: 7 rows, signed by acme-msp ({signer.verifier.fingerprint}) -> {path}"
    plain = StoredCheckpoint(**{**_stored(None).__dict__, "path": path})
    assert witness.summary_line(plain, None) == f"checkpoint: 7 rows, unsigned -> {path}"
    assert witness.summary_line(None, None) == "checkpoint: none made (see the log)"


def _fenced_note(markdown: str) -> str:
    """The checkpoint note inside the Markdown section's text fence, as a reader would copy it."""
    section = markdown[markdown.index("Ledger checkpoint") :]
    found = re.search(r"^(`{3,})text\n(.*?)^\1$", section, re.S | re.M)
    assert found is not None, section
    return found.group(2)


def test_drift_carries_the_checkpoint_in_every_format(make_client: MakeClient, signer: note.Signer) -> None:
    make_client("acme")
    ledger = Ledger()
    _run(ledger, "run-1", Status.PASS)
    made = ledger.checkpoint("acme", signer)
    assert made is not None
    cli = CliRunner()
    data = json.loads(cli.invoke(app, ["drift", "acme", "--format", "json"], catch_exceptions=False).stdout)
    assert data["checkpoint"]["size"] == made.size and data["checkpoint"]["signature"] == "verified"
    assert data["checkpoint"]["rows_after_checkpoint"] == 0

    md = cli.invoke(app, ["drift", "acme"], catch_exceptions=False).stdout
    assert "\n## Ledger checkpoint\n" in md
    assert f"- size: {made.size} rows\n" in md
    assert f"- signed by acme-msp ({signer.verifier.fingerprint})\n" in md
    assert f"- public key: `{signer.verifier.encode()}`\n" in md
    assert "`maint ledger verify acme --checkpoint FILE --public-key KEY`" in md
    assert _fenced_note(md) == made.note  # byte for byte: what is copied out verifies
    assert note.verified_by(_fenced_note(md), signer.verifier)

    html = cli.invoke(app, ["drift", "acme", "--format", "html"], catch_exceptions=False).stdout
    assert "<h2>Ledger checkpoint</h2>" in html
    pre = html[html.index('<pre class="checkpoint">') + 24 : html.index("</pre>", html.index("checkpoint"))]
    assert pre == made.note  # autoescaped, and nothing in the note needs escaping
    assert f"signed by acme-msp ({signer.verifier.fingerprint})" in html


def test_drift_html_escapes_the_checkpoint(signer: note.Signer) -> None:
    from runner.network import drift

    hostile = "<b>&co"
    text = cp.make_note("ledger-1", hostile, 3, b"\x22" * 32, T0, signer)
    stored = StoredCheckpoint(hostile, 3, b"\x22" * 32, "2026-03-01T22:00:00Z", signer.key_id.hex(), text)
    report = drift.DriftReport(client=hostile, since="r1", checkpoint=witness.as_dict(stored, None, 3))
    html = drift.to_html(report)
    assert "<b>" not in html and "maint-ledger/ledger-1/&lt;b&gt;&amp;co" in html
    assert "no matching ledger key configured here" in html
    assert drift.to_markdown(report).count("maint-ledger/ledger-1/<b>&co") == 2  # origin line and note


def test_resolution_carries_the_checkpoint(make_client: MakeClient) -> None:
    make_client("acme")
    ledger = Ledger()
    _run(ledger, "run-1", Status.FAIL)
    _run(ledger, "run-2", Status.PASS, ticket="T-9")
    cli = CliRunner()
    none_yet = cli.invoke(app, ["resolution", "--ticket", "T-9"], catch_exceptions=False).stdout
    assert "### Ledger checkpoint" in none_yet
    assert "No checkpoint of this client's ledger yet (`maint ledger checkpoint acme` makes one)." in none_yet
    made = ledger.checkpoint("acme")
    assert made is not None
    record = json.loads(
        cli.invoke(app, ["resolution", "--ticket", "T-9", "--format", "json"], catch_exceptions=False).stdout
    )
    assert record["resolved"] is True
    assert record["checkpoint"]["size"] == made.size and record["checkpoint"]["signature"] == "unsigned"
    md = cli.invoke(app, ["resolution", "run-2"], catch_exceptions=False).stdout
    assert "- unsigned\n" in md and _fenced_note(md) == made.note
    assert len(ledger.checkpoints("acme")) == 1  # reading made none


def test_a_key_file_that_cannot_be_used_is_one_line_exit_2(
    make_client: MakeClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_client("acme")
    bad = tmp_path / "ledger.key"
    bad.write_text("not a key\n")
    bad.chmod(0o600)
    monkeypatch.setenv("MAINT_LEDGER_KEY_FILE", str(bad))
    result = CliRunner().invoke(app, ["status", "acme", "--json"], catch_exceptions=False)
    assert result.exit_code == 2 and str(bad) in result.stderr and "Traceback" not in result.output
    assert "not a key" not in result.stderr  # the key file's content is never printed


def test_an_unreadable_private_key_falls_back_to_its_public_key(
    signer: note.Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = keys.key_file()
    path.chmod(0o644)  # too open: the private key is refused, the .pub beside it still names the key
    assert witness.configured_verifier() == signer.verifier
    keys.public_key_file(path).unlink()
    with pytest.raises(keys.KeyFileError):
        witness.configured_verifier()
