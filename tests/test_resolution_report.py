"""The client's resolution report (runner/resolution.py report(), `maint resolution --format`) on a ledger
built row by row: only the ticket's controls decide "resolved", the remediation evidence (packages old ->
new, reboot), the proactive review from the latest results, the SLA in working hours, determinism, and the
HTML / Markdown / PDF in three languages."""

from __future__ import annotations

import copy
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from runner import catalogue, interventions
from runner.cli import app
from runner.ledger import Ledger, RunRecord, RunStatus
from runner.ledger import store as ledger_store
from runner.resolution import report, resolution
from runner.results import CheckResult, Status
from tests.conftest import BASE_SETTINGS, MakeClient

# Friday 6 November 2026 17:00 in Madrid (CET, UTC+1): the ticket is opened an hour before closing
OPENED = datetime(2026, 11, 6, 16, 0, tzinfo=UTC)
BASELINE = datetime(2026, 11, 2, 21, 0, tzinfo=UTC)  # the monthly audit, the Monday before
START = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)  # Monday 10:00 Madrid: the technician starts
END = START + timedelta(minutes=30)


def settings(**extra: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE_SETTINGS)
    data.update(
        roles={"linux_patching": ["linux"], "linux_health": ["linux"]},
        modes_allowed=["audit", "remediate"],
        sla_tier="premium",
        blackout={"holidays": {"country": "ES", "subdivision": "CT"}},
        waivers=[],
    )
    data.update(extra)
    return data


def row(
    run_id: str,
    control: str,
    status: Status,
    at: datetime,
    evidence: dict[str, Any] | None = None,
    ticket: str | None = None,
) -> tuple[str, CheckResult]:
    spec = catalogue.load().controls[control]
    assert spec.role is not None
    result = CheckResult(
        control=control,
        title=spec.title,
        domain=spec.domain,
        status=status,
        severity=spec.severity,
        evidence=evidence or {},
        remediation="" if status is Status.PASS else spec.remediation,
        host="localhost",
        client="acme",
        run_id=run_id,
        observed_at=at,
        role=spec.role,
        ticket=ticket,
    )
    return f"localhost|{control}", result


def at(when: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ledger's clock (recorded_at, a run's finish) set to ``when``."""
    monkeypatch.setattr(ledger_store, "_now", lambda: ledger_store._iso(when))


def run(
    ledger: Ledger,
    monkeypatch: pytest.MonkeyPatch,
    run_id: str,
    roles: list[str],
    rows: list[tuple[str, CheckResult]],
    started: datetime,
    ended: datetime,
    *,
    ticket: str | None = None,
    mode: str = "audit",
    intervention: dict[str, Any] | None = None,
) -> None:
    at(started, monkeypatch)
    ledger.start_run(
        RunRecord(
            run_id=run_id,
            client="acme",
            mode=mode,
            roles=roles,
            started_at=started,
            ticket=ticket,
            reason="updates failing" if ticket else None,
            limit="localhost" if ticket else None,
            requested_by="root",
        ),
        plan={role: ["localhost"] for role in roles},
    )
    if intervention is not None:
        ledger.append(
            interventions.interventions,
            [
                interventions.row(
                    client="acme", run_id=run_id, ticket=ticket or "", recorded_at=started, **intervention
                )
            ],
        )
    ledger.record(rows)
    at(ended, monkeypatch)
    ledger.finish_run(run_id, RunStatus.SUCCESSFUL)


UPGRADED = {
    "upgrade": "all",
    "reboot_policy": "if_required",
    "selected": 2,
    "rebooted": True,
    "upgraded": [
        {"name": "openssl", "old": "3.0.14-1", "new": "3.0.15-1"},
        {"name": "tzdata", "old": None, "new": "2026a-0"},
    ],
    "upgraded_count": 2,
    "reboot_msg": "Reboot is required to apply updates.",
}


def ticket_ledger(
    monkeypatch: pytest.MonkeyPatch,
    controls: list[str],
    *,
    opened: datetime | None = OPENED,
    review_fails: bool = True,
    url: str | None = None,
) -> Ledger:
    """A baseline audit (patches pending, a health control failing), then ticket T-42's remediation run
    (in the test's ledger, or a ledger of its own at ``url``)."""
    ledger = Ledger(url)
    run(
        ledger,
        monkeypatch,
        "base",
        ["linux_patching", "linux_health"],
        [
            row("base", "PATCH-LNX-01", Status.FAIL, BASELINE, {"pending": 2}),
            row("base", "PATCH-LNX-02", Status.FAIL, BASELINE, {"pending_security": 1}),
            row("base", "PATCH-LNX-04", Status.PASS, BASELINE),
            row(
                "base",
                "HEALTH-LNX-01",
                Status.FAIL if review_fails else Status.PASS,
                BASELINE,
                {"used_pct": 97},
            ),
            row("base", "HEALTH-LNX-02", Status.PASS, BASELINE),
        ],
        BASELINE,
        BASELINE + timedelta(minutes=5),
    )
    run(
        ledger,
        monkeypatch,
        "fix",
        ["linux_patching"],
        [
            row("fix", "PATCH-LNX-01", Status.PASS, START + timedelta(minutes=20), ticket="T-42"),
            row("fix", "PATCH-LNX-02", Status.PASS, START + timedelta(minutes=20), ticket="T-42"),
            row(
                "fix",
                "PATCH-LNX-04",
                Status.FAIL,
                START + timedelta(minutes=20),
                {"reasons": ["x"]},
                ticket="T-42",
            ),
            row("fix", "PATCH-LNX-06", Status.PASS, START + timedelta(minutes=20), UPGRADED, ticket="T-42"),
        ],
        START,
        END,
        ticket="T-42",
        mode="remediate",
        intervention={
            "technician": "marta",
            "opened_at": opened,
            "controls": controls,
            "review": False,
            "review_run_id": None,
            "review_roles": ["linux_health"],
            "one_off_roles": [],
        },
    )
    return ledger


def test_only_the_tickets_controls_decide(make_client: MakeClient, monkeypatch: pytest.MonkeyPatch) -> None:
    make_client("acme", settings=settings())
    ledger = ticket_ledger(monkeypatch, ["PATCH-LNX-01", "PATCH-LNX-02"])
    record = resolution(ledger, ticket="T-42")
    assert record.controls == ("PATCH-LNX-01", "PATCH-LNX-02")
    assert record.resolved  # PATCH-LNX-04 fails after the run, but the ticket is not about it
    summary = record.as_dict()  # what the monthly report's interventions section reads
    assert (summary["resolved"], summary["technician"], summary["opened_at"], summary["ticket_controls"]) == (
        True,
        "marta",
        "2026-11-06T16:00:00+00:00",
        ["PATCH-LNX-01", "PATCH-LNX-02"],
    )
    data = report(ledger, ticket="T-42")
    assert data["resolved"] is True
    assert [(c["control"], c["verdict"], c["passes"]) for c in data["controls"]] == [
        ("PATCH-LNX-01", "fixed", True),
        ("PATCH-LNX-02", "fixed", True),
    ]
    assert {c["control"] for c in data["changes"]} == {
        "PATCH-LNX-01",
        "PATCH-LNX-02",
        "PATCH-LNX-04",
        "PATCH-LNX-06",
    }
    first = data["controls"][0]
    assert first["before"]["run_id"] == "base" and first["after"]["run_id"] == "fix"
    assert first["before"]["seq"] < first["after"]["seq"]


def test_a_failing_ticket_control_or_one_never_judged_is_not_resolved(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    make_client("acme", settings=settings())
    failing = ticket_ledger(
        monkeypatch, ["PATCH-LNX-01", "PATCH-LNX-04"], url=f"sqlite:///{tmp_path / 'a.db'}"
    )
    assert report(failing, ticket="T-42")["resolved"] is False
    data = report(ticket_ledger(monkeypatch, ["PATCH-LNX-01", "PATCH-LNX-05"]), ticket="T-42")
    assert data["resolved"] is False  # PATCH-LNX-05 was not judged by the ticket's run
    missing = next(c for c in data["controls"] if c["control"] == "PATCH-LNX-05")
    assert (missing["after"], missing["verdict"], missing["change"]) == (None, "not_checked", "not_judged")


def test_a_waiver_in_force_lets_a_ticket_control_pass(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    waiver = {
        "control": "PATCH-LNX-04",
        "hosts": "*",
        "owner": "ops",
        "reason": "kernel reboot planned",
        "expires": "2026-12-31",
    }
    make_client("acme", settings=settings(waivers=[waiver]))
    ledger = ticket_ledger(monkeypatch, ["PATCH-LNX-01", "PATCH-LNX-04"])
    assert report(ledger, ticket="T-42")["resolved"] is True
    waiver["expires"] = "2026-11-08"  # ran out the day before the ticket's run
    make_client("acme", settings=settings(waivers=[waiver]))
    assert report(ledger, ticket="T-42")["resolved"] is False


def test_the_report_holds_the_request_changes_review_times_and_sla(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_client("acme", settings=settings())
    ledger = ticket_ledger(monkeypatch, ["PATCH-LNX-01"])
    made = ledger.checkpoint("acme")
    assert made is not None
    from runner import witness

    data = report(ledger, ticket="T-42", checkpoint=witness.carried(ledger, "acme", None))
    assert data["schema"] == "maint.resolution/1" and data["ticket"] == "T-42"
    assert data["client"] == {
        "name": "acme",
        "display_name": "Test client",
        "timezone": "Europe/Madrid",
        "sla_tier": "premium",
    }
    assert data["request"] == {
        "ticket": "T-42",
        "reasons": ["updates failing"],
        "opened_at": "2026-11-06T16:00:00+00:00",
        "technicians": ["marta"],
        "hosts": ["localhost"],
        "roles": ["linux_patching"],
        "one_off_roles": [],
        "modes": ["remediate"],
        "controls": ["PATCH-LNX-01"],
    }
    rows = {r.control: r for r in ledger.results_for_run("fix")}
    seq6 = data["changes"][[c["control"] for c in data["changes"]].index("PATCH-LNX-06")]["after"]["seq"]
    assert data["remediation"]["packages"] == [
        {
            "host": "localhost",
            "control": "PATCH-LNX-06",
            "seq": seq6,
            "run_id": "fix",
            "name": "openssl",
            "old": "3.0.14-1",
            "new": "3.0.15-1",
        },
        {
            "host": "localhost",
            "control": "PATCH-LNX-06",
            "seq": seq6,
            "run_id": "fix",
            "name": "tzdata",
            "old": None,
            "new": "2026a-0",
        },
    ]
    assert rows["PATCH-LNX-06"].evidence["upgraded_count"] == 2
    assert data["remediation"]["reboots"] == [
        {
            "host": "localhost",
            "control": "PATCH-LNX-06",
            "seq": seq6,
            "run_id": "fix",
            "rebooted": True,
            "policy": "if_required",
            "message": "Reboot is required to apply updates.",
        }
    ]
    assert data["remediation"]["changed"] is True
    # no --review: the other role's latest results (the baseline's linux_health), HEALTH-LNX-01 failing
    review = data["review"]
    assert (review["fresh"], review["requested"], review["run_id"], review["roles"]) == (
        False,
        False,
        None,
        ["linux_health"],
    )
    assert (review["checked"], review["passing"]) == (2, 1)
    assert [(f["control"], f["status"], f["run_id"]) for f in review["findings"]] == [
        ("HEALTH-LNX-01", "fail", "base")
    ]
    assert data["times"] == {
        "zone": "Europe/Madrid",
        "opened_at": "2026-11-06T16:00:00+00:00",
        "first_run_start": "2026-11-09T09:00:00+00:00",
        "last_run_end": "2026-11-09T09:30:00+00:00",
    }
    # Friday 17:00 -> Monday 10:00 Madrid: 1 h on Friday, 1 h on Monday; done at 10:30
    assert data["sla"] == {
        "tier": "premium",
        "response_target_hours": 4.0,
        "response_hours": 2.0,
        "resolution_hours": 2.5,
        "met": True,
        "holidays": "ES-CT",
        "working_hours": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"},
    }
    assert data["ledger"]["checkpoint"]["size"] == made.size and data["ledger"]["covers_ticket"] is True
    assert data["ledger"]["verify"] == "maint ledger verify acme --checkpoint FILE --public-key KEY"
    assert report(ledger, ticket="T-42", checkpoint=witness.carried(ledger, "acme", None)) == data


def test_without_an_opening_time_the_sla_is_not_measured(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_client("acme", settings=settings(sla_tier="basic"))
    data = report(ticket_ledger(monkeypatch, ["PATCH-LNX-01"], opened=None), ticket="T-42")
    assert data["times"]["opened_at"] is None
    assert {k: data["sla"][k] for k in ("response_target_hours", "response_hours", "met")} == {
        "response_target_hours": 24.0,
        "response_hours": None,
        "met": None,
    }


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, ["resolution", *args], catch_exceptions=False)


def test_rendered_in_three_languages_the_same_bytes_twice(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    make_client("acme", settings=settings())
    ledger = ticket_ledger(monkeypatch, ["PATCH-LNX-01"])
    ledger.checkpoint("acme")
    md = _cli("--ticket", "T-42", "--format", "md")
    assert md.exit_code == 0, md.output
    assert md.stdout == _cli("--ticket", "T-42", "--format", "md").stdout
    text = md.stdout
    for part in (
        "# Resolution report: ticket T-42",
        "## The request",
        "## What was checked and changed",
        "## Before and after",
        "## Proactive review",
        "## Times and service level",
        "## Ledger checkpoint",
    ):
        assert part in text
    assert "| localhost | openssl | 3.0.14-1 | 3.0.15-1 |" in text
    assert "localhost was restarted to complete the updates." in text
    assert "Fixed: it did not pass before the intervention and passes now." in text
    assert "Response time: 2 working hours (met)" in text
    html = _cli("--ticket", "T-42", "--format", "html").stdout
    assert html == _cli("--ticket", "T-42", "--format", "html").stdout
    assert "<h2>Proactive review</h2>" in html and "http://" not in html and "https://" not in html
    data = json.loads(_cli("--ticket", "T-42", "--format", "json").stdout)
    assert data["resolved"] is True and data["lang"] == "en" and data["msp"]["name"]
    es = _cli("--ticket", "T-42", "--format", "md", "--lang", "es").stdout
    assert "## Revisión proactiva" in es and "Proactive review" not in es
    ca = _cli("--ticket", "T-42", "--format", "html", "--lang", "ca").stdout
    assert "<h2>Revisió proactiva</h2>" in ca and '<html lang="ca">' in ca
    out = tmp_path / "T-42.pdf"
    result = _cli("--ticket", "T-42", "--format", "pdf", "-o", str(out))
    assert result.exit_code == 0, result.output
    from pypdf import PdfReader

    pdf_text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(out.read_bytes())).pages)
    assert (
        "T-42" in pdf_text
        and "Proactive review" in pdf_text
        and data["ledger"]["checkpoint"]["root_hash"][:12] in pdf_text
    )


def test_the_technicians_text_stays_and_bad_options_are_one_line(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_client("acme", settings=settings())
    ticket_ledger(monkeypatch, ["PATCH-LNX-01"])
    text = _cli("--ticket", "T-42")
    assert text.exit_code == 0 and "## Resolution record: Ticket T-42 (acme)" in text.stdout
    assert "Outcome: **resolved: decided by the ticket's controls PATCH-LNX-01**." in text.stdout
    assert _cli("--ticket", "T-42", "--run", "fix", "--format", "json").exit_code == 0
    for args, message in [
        (["--ticket", "T-42", "--format", "md", "--lang", "xx"], "--lang 'xx': expected one of en, es, ca"),
        (["--ticket", "T-42", "--lang", "es"], "--lang and -o go with --format"),
        (
            ["--ticket", "T-42", "--run", "base", "--format", "json"],
            "--run base: a run of ticket None, not of 'T-42'",
        ),
        (["--ticket", "NOPE", "--format", "json"], "no run recorded for ticket 'NOPE'"),
        (["--format", "json"], "give a RUN_ID or --ticket ID"),
    ]:
        result = _cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.output
