"""Corrective interventions end to end: real `maint run --ticket` jobs on this machine (local connection)
with --technician / --opened-at / --control / --review, the `interventions` row each records, the proactive
review run, and what `maint resolution --format json` says about them, recomputed from the ledger rows.
Bad ticket options stop before anything runs (exit 2, one line)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from runner import catalogue, interventions
from runner.cli import app
from runner.ledger import Ledger
from runner.ledger import schema as ls
from runner.results import Status
from runner.status import not_passing, reason_of
from tests.conftest import BASE_SETTINGS, MakeClient

pytestmark = pytest.mark.integration

TICKET = [
    "--role", "linux_health", "--limit", "localhost", "--reason", "disk alert",
]  # fmt: skip


def two_roles(make_client: MakeClient) -> None:
    data = copy.deepcopy(BASE_SETTINGS)
    data["roles"] = {"linux_health": ["linux"], "linux_antivirus": ["linux"]}
    data["sla_tier"] = "premium"
    make_client("acme", settings=data)


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def rows_of(ledger: Ledger, run_id: str) -> dict[tuple[str, str], tuple[Status, int, str]]:
    cr = ls.check_results
    with ledger.engine.connect() as conn:
        found = conn.execute(sa.select(cr).where(cr.c.run_id == run_id).order_by(cr.c.seq)).mappings().all()
    return {(r["host"], r["control"]): (Status(r["status"]), int(r["seq"]), r["evidence"]) for r in found}


def test_a_ticket_run_records_who_when_what_and_a_fresh_review(make_client: MakeClient) -> None:
    two_roles(make_client)
    ledger = Ledger()
    baseline = cli("run", "acme", "--role", "linux_health", "--json")
    base_id = json.loads(baseline.stdout)["run_id"]
    result = cli(
        "run", "acme", *TICKET, "--ticket", "T-5", "--technician", "marta",
        "--opened-at", "2026-11-06T17:00", "--control", "HEALTH-LNX-01", "--review",
    )  # fmt: skip
    assert (
        "proactive review: run " in result.stdout and "Resolution record: Ticket T-5 (acme)" in result.stdout
    )
    (ticket_run,) = ledger.runs(ticket="T-5")
    (row,) = interventions.for_ticket(ledger.engine, "T-5")
    assert (row.run_id, row.technician, row.controls, row.review, row.one_off_roles) == (
        ticket_run.run_id,
        "marta",
        ("HEALTH-LNX-01",),
        True,
        (),
    )
    assert row.opened_at is not None and row.opened_at.isoformat() == "2026-11-06T16:00:00+00:00"  # 17:00 CET
    assert row.review_roles == ("linux_antivirus",) and row.review_run_id is not None
    review_run = ledger.run(row.review_run_id)
    assert review_run is not None and review_run.ticket is None and review_run.roles == ["linux_antivirus"]
    assert review_run.reason == f"proactive review for ticket T-5 (run {ticket_run.run_id})"
    assert all(r.ok for r in ledger.verify("acme"))

    data = json.loads(cli("resolution", "--ticket", "T-5", "--format", "json").stdout)
    assert data["request"]["technicians"] == ["marta"] and data["request"]["controls"] == ["HEALTH-LNX-01"]
    assert data["request"]["opened_at"] == "2026-11-06T16:00:00+00:00"
    assert [r["run_id"] for r in data["runs"]] == [ticket_run.run_id]
    assert data["runs"][0]["review_run_id"] == row.review_run_id and data["runs"][0]["technician"] == "marta"
    # before / after of the one ticket control, from the rows themselves
    after = rows_of(ledger, ticket_run.run_id)
    before = rows_of(ledger, base_id)
    (control,) = data["controls"]
    assert (control["host"], control["control"]) == ("localhost", "HEALTH-LNX-01")
    assert control["before"]["seq"] == before[("localhost", "HEALTH-LNX-01")][1]
    assert control["after"]["seq"] == after[("localhost", "HEALTH-LNX-01")][1]
    status, _seq, _evidence = after[("localhost", "HEALTH-LNX-01")]
    assert data["resolved"] is (status is Status.PASS)  # the other health controls never decide it
    assert {c["control"] for c in data["changes"]} == {c for _h, c in after}
    # the proactive review: the fresh audit's results that do not pass
    review = rows_of(ledger, row.review_run_id)
    expected = sorted(
        c for (_h, c), (s, _q, ev) in review.items() if not_passing(s, reason_of(json.loads(ev)))
    )
    assert data["review"]["fresh"] is True and data["review"]["run_id"] == row.review_run_id
    assert sorted(f["control"] for f in data["review"]["findings"]) == expected
    assert data["review"]["checked"] == len(review) == data["review"]["passing"] + len(expected)
    assert data["sla"]["tier"] == "premium" and data["sla"]["response_target_hours"] == 4.0
    assert data["times"]["first_run_start"] == ticket_run.started_at.isoformat()

    # a second run of the same ticket without --review or --control: every linux_health control decides,
    # and the review is the latest recorded results of linux_antivirus (the fresh audit above)
    cli("run", "acme", *TICKET, "--ticket", "T-5")
    data = json.loads(cli("resolution", "--ticket", "T-5", "--format", "json").stdout)
    health = sorted(spec.id for spec in catalogue.load().for_role("linux_health"))
    assert data["request"]["controls"] == health
    assert len(data["runs"]) == 2 and data["request"]["opened_at"] == "2026-11-06T16:00:00+00:00"
    assert data["review"]["fresh"] is True  # the ticket's last review is still the fresh one it asked for
    assert data["review"]["run_id"] == row.review_run_id


def test_without_review_the_review_is_the_latest_results(make_client: MakeClient) -> None:
    two_roles(make_client)
    ledger = Ledger()
    audit = json.loads(cli("run", "acme", "--role", "linux_antivirus", "--json").stdout)["run_id"]
    cli("run", "acme", *TICKET, "--ticket", "T-6")
    (row,) = interventions.for_ticket(ledger.engine, "T-6")
    assert (row.review, row.review_run_id, row.opened_at) == (False, None, None)
    assert row.technician  # the OS user
    data = json.loads(cli("resolution", "--ticket", "T-6", "--format", "json").stdout)
    assert (data["review"]["fresh"], data["review"]["requested"]) == (False, False)
    assert {f["run_id"] for f in data["review"]["findings"]} <= {audit}
    assert data["review"]["checked"] == len(rows_of(ledger, audit))
    assert data["sla"]["response_hours"] is None and data["sla"]["met"] is None  # no --opened-at


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--technician", "marta"], "--technician, --opened-at, --control and --review need --ticket ID"),
        (["--review"], "need --ticket ID"),
        (["--ticket", "T-1", "--control", "HEALTH-LNX-1"], "did you mean HEALTH-LNX-10 or HEALTH-LNX-01"),
        (["--ticket", "T-1", "--control", "NOPE-9"], "unknown control 'NOPE-9'"),
        (
            ["--ticket", "T-1", "--control", "AV-LNX-01"],
            "--control 'AV-LNX-01' is judged by role linux_antivirus",
        ),
        (
            ["--ticket", "T-1", "--opened-at", "last friday"],
            "--opened-at 'last friday': expected an ISO-8601",
        ),
        (["--ticket", "T-1", "--opened-at", "2999-01-01T09:00"], "is in the future"),
        (["--ticket", "T-1", "--technician", " "], "--technician: empty name"),
    ],
)
def test_bad_ticket_options_stop_before_the_run(
    make_client: MakeClient, args: list[str], message: str
) -> None:
    two_roles(make_client)
    result = cli("run", "acme", "--role", "linux_health", "--limit", "localhost", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.output
    assert Ledger().runs("acme") == []


def test_one_off_roles_and_the_review_plan_come_from_the_inventory(make_client: MakeClient) -> None:
    from runner.inventory import load_client

    two_roles(make_client)
    client = load_client("acme")
    plan = {"linux_health": ["localhost"], "linux_backup": ["localhost"]}  # linux_backup: not assigned
    assert interventions.one_off_roles(client, plan, "localhost") == ["linux_backup"]
    assert interventions.review_plan(client, plan, "localhost") == {"linux_antivirus": ["localhost"]}
    assert interventions.review_plan(client, {"linux_antivirus": ["localhost"], **plan}, None) == {}
