"""The onboarding roadmap: plan from the risks, set by the technician, sync after runs, the CLI."""

from __future__ import annotations

import copy
import json
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from runner.cli import app
from runner.inventory import load_client
from runner.ledger import Ledger
from runner.onboarding import risks as rk
from runner.onboarding import roadmap as rm
from tests.conftest import BASE_HOSTS, BASE_SETTINGS, MakeClient
from tests.test_onboarding_risks import every_pass, hosts, record, settings

# 23:30 UTC is already the next day in Madrid: due dates count from the client's date
PLAN = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
LOCAL_PLAN_DATE = date(2026, 11, 21)


def roadmap_rows(ledger: Ledger, client: str = "acme") -> list[dict[str, Any]]:
    t = rm.roadmap_events
    with ledger.engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(sa.select(t).where(t.c.client == client).order_by(t.c.seq)).mappings()
        ]


def planned(ledger: Ledger, client: Any) -> dict[str, rm.RoadmapItem]:
    record(ledger, PLAN - timedelta(days=1), every_pass(PLAN - timedelta(days=1)))
    record(
        ledger,
        PLAN - timedelta(hours=3),
        [
            ("web1", "HEALTH-LNX-07", "fail"),  # critical: fix_now
            ("db1", "HEALTH-LNX-01", "fail"),  # high on a low asset: preventive_cycle
            ("app1", "HEALTH-LNX-01", "fail"),
            ("app1", "AV-LNX-01", "fail"),  # project: separate_project
        ],
    )
    found = rk.risks(ledger, client, now=PLAN)
    return {i.item: i for i in rm.plan(ledger, client, found, by="alice", now=PLAN)}


@pytest.fixture
def acme(make_client: MakeClient) -> tuple[Ledger, Any]:
    make_client("acme", settings=settings(), hosts=hosts())
    return Ledger(), load_client("acme")


def test_plan_adds_one_item_per_risk_with_the_default_owner_and_due_date_of_its_class(
    acme: tuple[Ledger, Any],
) -> None:
    ledger, client = acme
    items = planned(ledger, client)
    risks = rk.risks(ledger, client, now=PLAN)
    assert set(items) == {r.control for r in risks}
    fix, cycle, project = items["HEALTH-LNX-07"], items["HEALTH-LNX-01"], items["AV-LNX-01"]
    assert (fix.treatment_class, fix.owner, fix.due) == (
        "fix_now",
        "MSP",
        LOCAL_PLAN_DATE + timedelta(days=7),
    )
    assert (cycle.treatment_class, cycle.owner, cycle.due) == (
        "preventive_cycle",
        "MSP",
        LOCAL_PLAN_DATE + timedelta(days=30),
    )
    assert (project.treatment_class, project.owner, project.due) == (
        "separate_project",
        "client",
        LOCAL_PLAN_DATE + timedelta(days=90),
    )
    assert (
        cycle.hosts == ("app1", "db1")
        and cycle.status == "open"
        and cycle.title == "Filesystems have free space"
    )
    assert (
        cycle.created_at == PLAN
        and cycle.history[0]["by"] == "alice"
        and cycle.history[0]["action"] == "created"
    )
    # planning again with the same risks adds nothing
    before = len(roadmap_rows(ledger))
    rm.plan(ledger, client, risks, by="alice", now=PLAN + timedelta(minutes=5))
    assert len(roadmap_rows(ledger)) == before
    assert ledger.verify("acme")[0].ok


def test_the_defaults_come_from_maintenance_onboarding(make_client: MakeClient) -> None:
    onboarding = {"owners": {"fix_now": "Night shift"}, "due_days": {"fix_now": 2, "separate_project": 180}}
    make_client("acme", settings=settings(onboarding=onboarding), hosts=hosts())
    ledger, client = Ledger(), load_client("acme")
    items = planned(ledger, client)
    assert (items["HEALTH-LNX-07"].owner, items["HEALTH-LNX-07"].due) == (
        "Night shift",
        LOCAL_PLAN_DATE + timedelta(days=2),
    )
    assert items["AV-LNX-01"].due == LOCAL_PLAN_DATE + timedelta(days=180)
    assert items["HEALTH-LNX-01"].due == LOCAL_PLAN_DATE + timedelta(days=30)


def test_a_bad_onboarding_setting_is_one_line_naming_its_key(make_client: MakeClient) -> None:
    make_client("acme", settings=settings(onboarding={"due_days": {"fix_now": -1}}), hosts=hosts())
    result = CliRunner().invoke(app, ["roadmap", "acme"])
    assert result.exit_code == 2
    assert "onboarding" in result.output and "due_days" in result.output and "Traceback" not in result.output


def test_set_records_who_and_when_and_overdue_follows_the_due_date(acme: tuple[Ledger, Any]) -> None:
    ledger, client = acme
    planned(ledger, client)
    later = PLAN + timedelta(days=1)
    item = rm.set_item(
        ledger, client, "HEALTH-LNX-07", by="bob", now=later, owner="Client IT", status="in_progress"
    )
    assert (item.owner, item.status) == ("Client IT", "in_progress")
    last = item.history[-1]
    assert last["by"] == "bob" and last["at"] == later.isoformat(timespec="microseconds")
    assert last["action"] == "updated" and last["fields"] == {"owner": "Client IT", "status": "in_progress"}
    assert item.updated_at == later and item.created_at == PLAN
    # due on the 28th (client time): overdue from the 29th, not on the 28th itself
    due = LOCAL_PLAN_DATE + timedelta(days=7)
    on_due = datetime(due.year, due.month, due.day, 22, 0, tzinfo=UTC)  # 23:00 in Madrid, still the 28th
    assert not {i.item: i for i in rm.items(ledger, "acme", now=on_due)}["HEALTH-LNX-07"].overdue
    after = on_due + timedelta(hours=2)
    listed = rm.items(ledger, "acme", now=after)
    assert listed[0].item == "HEALTH-LNX-07" and listed[0].overdue  # overdue first
    # a done or won't-do item is never overdue
    rm.set_item(ledger, client, "HEALTH-LNX-07", by="bob", now=after, status="wont_do")
    again = {i.item: i for i in rm.items(ledger, "acme", now=after)}["HEALTH-LNX-07"]
    assert not again.overdue and again.closed_at == after and again.closed_by_run is None
    assert again.history[-1]["action"] == "closed"
    # the same values again record nothing
    rows = len(roadmap_rows(ledger))
    rm.set_item(ledger, client, "HEALTH-LNX-07", by="bob", now=after, status="wont_do")
    assert len(roadmap_rows(ledger)) == rows
    assert ledger.verify("acme")[0].ok


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"item": "NOPE-01", "owner": "x"}, "'NOPE-01'"),
        ({"item": "HEALTH-LNX-07"}, "nothing to set"),
        ({"item": "HEALTH-LNX-07", "status": "closed"}, "--status 'closed'"),
        ({"item": "HEALTH-LNX-07", "owner": "  "}, "--owner"),
    ],
)
def test_set_refuses_what_it_cannot_record(
    acme: tuple[Ledger, Any], kwargs: dict[str, Any], words: str
) -> None:
    ledger, client = acme
    planned(ledger, client)
    item = kwargs.pop("item")
    with pytest.raises(rm.RoadmapError, match="^.*" + words.replace("(", r"\(")):
        rm.set_item(ledger, client, item, by="bob", now=PLAN, **kwargs)


def test_sync_closes_an_item_once_its_control_passes_everywhere_and_reopens_it_when_it_fails_again(
    acme: tuple[Ledger, Any],
) -> None:
    ledger, client = acme
    planned(ledger, client)
    # a pass on one of its two hosts is not enough
    run1 = record(ledger, PLAN + timedelta(hours=1), [("db1", "HEALTH-LNX-01", "pass")])
    assert rm.sync(ledger, client, now=PLAN + timedelta(hours=1), run_id=run1) == []
    run2 = record(ledger, PLAN + timedelta(hours=2), [("app1", "HEALTH-LNX-01", "pass")])
    changed = rm.sync(ledger, client, now=PLAN + timedelta(hours=2), run_id=run2)
    assert [(i.item, i.status) for i in changed] == [("HEALTH-LNX-01", "done")]
    done = changed[0]
    assert done.closed_by_run == run2 and done.closed_at == PLAN + timedelta(hours=2)
    assert done.history[-1]["by"] == "maint" and done.history[-1]["action"] == "closed"
    # the others are untouched, and syncing again changes nothing
    assert rm.sync(ledger, client, now=PLAN + timedelta(hours=2), run_id=run2) == []
    # a new failure reopens it, on the host failing now, with a fresh due date
    run3 = record(ledger, PLAN + timedelta(days=3), [("db1", "HEALTH-LNX-01", "fail")])
    reopened = rm.sync(ledger, client, now=PLAN + timedelta(days=3), run_id=run3)
    assert [(i.item, i.status, i.hosts) for i in reopened] == [("HEALTH-LNX-01", "open", ("db1",))]
    assert reopened[0].closed_at is None and reopened[0].history[-1]["action"] == "reopened"
    assert reopened[0].due == LOCAL_PLAN_DATE + timedelta(days=3 + 30)
    assert ledger.verify("acme")[0].ok


def test_an_old_pass_does_not_close_and_a_waiver_does(make_client: MakeClient) -> None:
    make_client("acme", settings=settings(), hosts=hosts())
    ledger, client = Ledger(), load_client("acme")
    planned(ledger, client)
    # results observed before the item was created never close it
    record(ledger, PLAN - timedelta(hours=1), [("web1", "HEALTH-LNX-07", "pass")])
    assert rm.sync(ledger, client, now=PLAN + timedelta(hours=1)) == []
    waiver = {"control": "AV-LNX-01", "hosts": "app1", "owner": "Tech", "reason": "no AV on this appliance"}
    make_client("acme", settings=settings(waivers=[waiver]), hosts=hosts())
    closed = rm.sync(ledger, load_client("acme"), now=PLAN + timedelta(hours=2))
    assert [(i.item, i.status, i.closed_by_run) for i in closed] == [("AV-LNX-01", "done", None)]


def test_plan_reopens_a_done_item_and_leaves_wont_do_alone(acme: tuple[Ledger, Any]) -> None:
    ledger, client = acme
    planned(ledger, client)
    rm.set_item(ledger, client, "HEALTH-LNX-07", by="bob", now=PLAN, status="done")
    rm.set_item(ledger, client, "AV-LNX-01", by="bob", now=PLAN, status="wont_do")
    # the same old evidence does not reopen what the technician closed
    stale = rk.risks(ledger, client, now=PLAN + timedelta(hours=1))
    items = {i.item: i for i in rm.plan(ledger, client, stale, by="carol", now=PLAN + timedelta(hours=1))}
    assert items["HEALTH-LNX-07"].status == "done"
    record(
        ledger, PLAN + timedelta(hours=20), [("web1", "HEALTH-LNX-07", "fail"), ("app1", "AV-LNX-01", "fail")]
    )
    found = rk.risks(ledger, client, now=PLAN + timedelta(days=1))
    items = {i.item: i for i in rm.plan(ledger, client, found, by="carol", now=PLAN + timedelta(days=1))}
    assert items["HEALTH-LNX-07"].status == "open" and items["HEALTH-LNX-07"].history[-1]["by"] == "carol"
    assert items["AV-LNX-01"].status == "wont_do"


def test_no_roadmap_means_sync_writes_nothing(acme: tuple[Ledger, Any]) -> None:
    ledger, client = acme
    record(ledger, PLAN, [("web1", "HEALTH-LNX-07", "fail")])
    assert rm.sync(ledger, client, now=PLAN) == []
    assert roadmap_rows(ledger) == []
    rm.after_ingest(ledger, "acme", None)  # nothing, not even the inventory is read
    assert roadmap_rows(ledger) == []


def test_sync_never_loses_a_run(acme: tuple[Ledger, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    ledger, client = acme
    planned(ledger, client)

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("state exploded")

    monkeypatch.setattr("runner.state.compute", broken)
    rm.after_run(ledger, client, "run-x")  # logged, not raised


def test_milestones_group_items_by_class_and_due_date(acme: tuple[Ledger, Any]) -> None:
    ledger, client = acme
    items = list(planned(ledger, client).values())
    stones = rm.milestones(items)
    assert [s["treatment_class"] for s in stones][:1] == ["fix_now"]
    assert sum(s["total"] for s in stones) == len(items)
    first = stones[0]
    assert (
        first["due"] == (LOCAL_PLAN_DATE + timedelta(days=7)).isoformat() and first["open"] == first["total"]
    )
    assert [s["due"] for s in stones] == sorted(s["due"] for s in stones)


def test_cli_shows_sets_and_refuses(acme: tuple[Ledger, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    ledger, client = acme
    planned(ledger, client)
    ledger.close()
    cli = CliRunner()
    shown = cli.invoke(app, ["roadmap", "acme", "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert {i["item"] for i in data["items"]} >= {"HEALTH-LNX-07", "HEALTH-LNX-01", "AV-LNX-01"}
    assert data["milestones"]
    table = cli.invoke(app, ["roadmap", "acme"])
    assert table.exit_code == 0 and "HEALTH-LNX-07" in table.output
    monkeypatch.setenv("USER", "dave")
    monkeypatch.setenv("LOGNAME", "dave")
    ok = cli.invoke(
        app,
        ["roadmap", "acme", "set", "HEALTH-LNX-07", "--owner", "Client IT", "--due", "2027-01-15", "--json"],
    )
    assert ok.exit_code == 0, ok.output
    item = json.loads(ok.output)
    assert (
        item["owner"] == "Client IT" and item["due"] == "2027-01-15" and item["history"][-1]["by"] == "dave"
    )
    done = cli.invoke(app, ["roadmap", "acme", "set", "HEALTH-LNX-07", "--status", "done", "--by", "erin"])
    assert done.exit_code == 0 and "erin" in done.output
    open_only = json.loads(cli.invoke(app, ["roadmap", "acme", "--json"]).output)
    assert "HEALTH-LNX-07" not in {i["item"] for i in open_only["items"]}
    everything = json.loads(cli.invoke(app, ["roadmap", "acme", "--json", "--all"]).output)
    assert "HEALTH-LNX-07" in {i["item"] for i in everything["items"]}
    for args, words in [
        (["roadmap", "acme", "set", "NOPE-01", "--owner", "x"], "'NOPE-01'"),
        (["roadmap", "acme", "set", "HEALTH-LNX-07", "--due", "15/01/2027"], "--due"),
        (["roadmap", "acme", "set", "HEALTH-LNX-07"], "nothing to set"),
        (["roadmap", "acme", "set", "HEALTH-LNX-07", "--status", "finished"], "--status"),
        (["roadmap", "acme", "set"], "ITEM"),
        (["roadmap", "acme", "close", "HEALTH-LNX-07"], "unknown action"),
        (["roadmap", "acme", "--owner", "x"], "--owner"),
        (["roadmap", "nobody"], "nobody"),
    ]:
        result = cli.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert words in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output


def test_roadmap_on_postgresql(make_client: MakeClient, pg_url: str) -> None:
    make_client("acme", settings=settings(), hosts=hosts())
    ledger, client = Ledger(pg_url), load_client("acme")
    planned(ledger, client)
    rm.set_item(ledger, client, "AV-LNX-01", by="bob", now=PLAN + timedelta(minutes=1), owner="Client IT")
    run = record(
        ledger,
        PLAN + timedelta(hours=1),
        [("db1", "HEALTH-LNX-01", "pass"), ("app1", "HEALTH-LNX-01", "pass")],
    )
    changed = rm.sync(ledger, client, now=PLAN + timedelta(hours=1), run_id=run)
    assert [(i.item, i.status, i.closed_by_run) for i in changed] == [("HEALTH-LNX-01", "done", run)]
    assert {i.item: i for i in rm.items(ledger, "acme", now=PLAN)}["AV-LNX-01"].owner == "Client IT"
    assert ledger.verify("acme")[0].ok
    ledger.close()


@pytest.mark.integration
def test_a_real_run_closes_the_item_of_the_control_it_shows_passing(make_client: MakeClient) -> None:
    """ansible-runner against localhost: every filesystem fails at 0 %, passes at 100 %; the run syncs."""
    from runner.execute import RunRequest, execute

    data = copy.deepcopy(BASE_HOSTS)
    data["all"]["children"]["linux"]["hosts"]["localhost"]["ansible_python_interpreter"] = sys.executable
    failing = copy.deepcopy(BASE_SETTINGS)
    failing["thresholds"] = {"linux_health": {"fs_warn_pct": 0, "fs_fail_pct": 0}}
    make_client("acme", settings=failing, hosts=data)
    ledger = Ledger()
    execute(RunRequest(client="acme", roles=("linux_health",)), ledger)
    client = load_client("acme")
    items = {
        i.item: i
        for i in rm.plan(ledger, client, rk.risks(ledger, client), by="alice", now=datetime.now(UTC))
    }
    assert items["HEALTH-LNX-01"].status == "open"
    passing = copy.deepcopy(BASE_SETTINGS)
    passing["thresholds"] = {"linux_health": {"fs_warn_pct": 100, "fs_fail_pct": 100}}
    make_client("acme", settings=passing, hosts=data)
    outcome = execute(RunRequest(client="acme", roles=("linux_health",)), ledger)
    after = {i.item: i for i in rm.items(ledger, "acme")}["HEALTH-LNX-01"]
    assert (after.status, after.closed_by_run) == ("done", outcome.run_id)
    assert after.history[-1]["by"] == "maint"
    # the run's checkpoint covers the roadmap's rows
    assert outcome.checkpoint is not None and outcome.checkpoint.size == ledger.chain_heads()["acme"][0]
    assert ledger.verify("acme")[0].ok
