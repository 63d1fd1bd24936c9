"""The risk register on hand-recorded results: which rows make a risk, its numbers, its rank and its class."""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from runner.inventory import load_client
from runner.ledger import Ledger, RunRecord, RunStatus
from runner.onboarding import risks as rk
from runner.results import CheckResult
from tests.conftest import BASE_HOSTS, BASE_SETTINGS, MakeClient

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
_runs = itertools.count(1)


def hosts() -> dict[str, Any]:
    data = copy.deepcopy(BASE_HOSTS)
    linux = data["all"]["children"]["linux"]["hosts"]
    linux.clear()
    linux["web1"] = {"ansible_host": "192.0.2.10", "asset_criticality": "critical"}
    linux["db1"] = {"ansible_host": "192.0.2.11", "asset_criticality": "low"}
    linux["app1"] = {"ansible_host": "192.0.2.12"}  # unset: normal
    return data


def settings(**extra: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE_SETTINGS)
    data["roles"] = {"linux_health": ["linux"], "linux_antivirus": ["linux"]}
    data.update(extra)
    return data


def record(ledger: Ledger, at: datetime, rows: list[tuple[str, str, str]], client: str = "acme") -> str:
    """A run at ``at`` with (host, control, status) results (severity, domain, role from the catalogue)."""
    from runner import catalogue

    cat = catalogue.load()
    run_id = f"{at:%Y%m%dT%H%M%SZ}-{next(_runs):06x}"
    roles = sorted({cat.controls[c].role or "" for _h, c, _s in rows})
    ledger.start_run(RunRecord(run_id=run_id, client=client, mode="audit", roles=roles, started_at=at))
    found = []
    for host, control, status in rows:
        spec = cat.controls[control]
        found.append(
            (
                f"{host}:{control}",
                CheckResult(
                    control=control,
                    title=spec.title,
                    domain=spec.domain,
                    status=status,
                    severity=spec.severity,
                    evidence={"reason": f"{control} observed {status}"},
                    remediation=spec.remediation,
                    host=host,
                    client=client,
                    run_id=run_id,
                    observed_at=at,
                    role=spec.role or "",
                ),
            )
        )
    ledger.record(found)
    ledger.finish_run(run_id, RunStatus.SUCCESSFUL)
    return run_id


def every_pass(at: datetime) -> list[tuple[str, str, str]]:
    from runner import catalogue

    cat = catalogue.load()
    controls = [s.id for role in ("linux_health", "linux_antivirus") for s in cat.for_role(role)]
    return [(h, c, "pass") for h in ("web1", "db1", "app1") for c in controls]


@pytest.fixture
def scene(make_client: MakeClient) -> tuple[Ledger, Any]:
    waiver = {"control": "HEALTH-LNX-02", "hosts": "*", "owner": "Tech", "reason": "accepted"}
    make_client("acme", settings=settings(waivers=[waiver]), hosts=hosts())
    ledger = Ledger()
    record(ledger, NOW - timedelta(days=60), every_pass(NOW - timedelta(days=60)))
    # db1's free space fails since 40 days ago (a pass on web1 in between changes nothing of db1)
    record(ledger, NOW - timedelta(days=40), [("db1", "HEALTH-LNX-01", "fail")])
    record(
        ledger,
        NOW - timedelta(days=10),
        [("db1", "HEALTH-LNX-01", "fail"), ("web1", "HEALTH-LNX-01", "pass")],
    )
    record(
        ledger,
        NOW - timedelta(hours=2),
        [
            ("db1", "HEALTH-LNX-01", "fail"),
            ("web1", "AV-LNX-04", "fail"),  # medium on a critical asset
            ("app1", "AV-LNX-01", "fail"),  # high, project, on a normal asset
            ("web1", "HEALTH-LNX-07", "fail"),  # critical (SMART)
            ("db1", "HEALTH-LNX-02", "fail"),  # waived
            ("app1", "HEALTH-LNX-05", "warn"),
            ("app1", "HEALTH-LNX-04", "error"),
            ("db1", "AV-LNX-05", "not_checked"),
        ],
    )
    return ledger, load_client("acme")


def test_failing_and_not_checked_rows_become_one_risk_per_control_waived_and_pass_do_not(
    scene: tuple[Ledger, Any],
) -> None:
    ledger, client = scene
    found = {r.control: r for r in rk.risks(ledger, client, now=NOW)}
    assert set(found) == {
        "HEALTH-LNX-01",
        "AV-LNX-04",
        "AV-LNX-01",
        "HEALTH-LNX-07",
        "HEALTH-LNX-05",
        "HEALTH-LNX-04",
        "AV-LNX-05",
    }
    assert "HEALTH-LNX-02" not in found  # waived on every host
    r = found["HEALTH-LNX-01"]
    assert r.id == "RISK-HEALTH-LNX-01"
    assert r.assets == ("db1",) and r.status == "fail" and r.severity == "high" and r.criticality == "low"
    # failing since 40 days: likelihood 5; high on a low asset: impact 2
    assert r.first_seen == NOW - timedelta(days=40)
    assert (r.likelihood, r.impact, r.score) == (5, 2, 10)
    assert [e["host"] for e in r.evidence] == ["db1"]
    assert r.evidence[0]["seq"] is not None and r.evidence[0]["run_id"] and r.evidence[0]["status"] == "fail"
    assert r.title == "Filesystems have free space" and r.description and r.treatment
    assert found["HEALTH-LNX-05"].status == "warn" and found["HEALTH-LNX-04"].status == "error"
    assert found["AV-LNX-05"].status == "not_checked" and found["AV-LNX-05"].likelihood == 1
    assert r.as_dict()["first_seen"] == (NOW - timedelta(days=40)).isoformat()


def test_never_checked_controls_are_risks_with_every_host(make_client: MakeClient) -> None:
    make_client("acme", settings=settings(), hosts=hosts())
    ledger = Ledger()
    found = rk.risks(ledger, load_client("acme"), now=NOW)
    assert found and all(r.status == "not_checked" for r in found)
    assert all(r.assets == ("app1", "db1", "web1") for r in found)
    assert all(r.criticality == "critical" and r.first_seen is None and r.likelihood == 2 for r in found)
    assert all(r.evidence[0]["reason"] == "never checked" for r in found)


def test_rank_is_severity_times_criticality_then_age_and_classes_follow_the_rule(
    scene: tuple[Ledger, Any],
) -> None:
    ledger, client = scene
    ranked = rk.risks(ledger, client, now=NOW)
    assert [r.rank for r in ranked] == list(range(1, len(ranked) + 1))
    order = [r.control for r in ranked]
    # critical x critical (16) first, then medium x critical (8) and high x normal (6), medium x normal (4)
    # with the older first (HEALTH-LNX-04 and -05 share their first_seen: by id), high x low (3),
    # medium x low (2)
    assert order == [
        "HEALTH-LNX-07",
        "AV-LNX-04",
        "AV-LNX-01",
        "HEALTH-LNX-04",
        "HEALTH-LNX-05",
        "HEALTH-LNX-01",
        "AV-LNX-05",
    ]
    classes = {r.control: r.treatment_class for r in ranked}
    assert classes["HEALTH-LNX-07"] == "fix_now"  # any critical
    assert classes["AV-LNX-01"] == "separate_project"  # project: true, high on a normal asset
    assert classes["AV-LNX-04"] == "preventive_cycle"  # medium, even on a critical asset
    assert classes["HEALTH-LNX-01"] == "preventive_cycle"
    assert set(classes.values()) <= set(rk.TREATMENTS)


def test_the_same_project_control_on_a_critical_asset_is_fixed_now(make_client: MakeClient) -> None:
    make_client("acme", settings=settings(), hosts=hosts())
    ledger = Ledger()
    record(ledger, NOW - timedelta(hours=1), [("web1", "AV-LNX-01", "fail")])
    found = {r.control: r for r in rk.risks(ledger, load_client("acme"), now=NOW)}
    assert found["AV-LNX-01"].treatment_class == "fix_now"
    assert found["AV-LNX-01"].impact == 5


def test_likelihood_and_impact_tables() -> None:
    assert [rk.likelihood("fail", NOW - timedelta(days=d), NOW) for d in (0, 7, 30)] == [3, 4, 5]
    assert [rk.likelihood("warn", NOW - timedelta(days=d), NOW) for d in (1, 8, 31)] == [2, 3, 4]
    assert rk.likelihood("not_checked", None, NOW) == 2
    assert rk.impact("critical", "low") == 3 and rk.impact("low", "critical") == 2
    assert rk.treatment_class("high", "high", False) == "fix_now"
    assert rk.treatment_class("high", "normal", True) == "separate_project"
    assert rk.treatment_class("medium", "critical", False) == "preventive_cycle"


def test_an_unknown_criticality_reads_as_normal_and_texts_follow_the_language(
    make_client: MakeClient,
) -> None:
    data = hosts()
    data["all"]["children"]["linux"]["hosts"]["web1"]["asset_criticality"] = "vital"
    make_client("acme", settings=settings(), hosts=data)
    client = load_client("acme")
    assert rk.criticalities(client) == {"web1": "normal", "db1": "low", "app1": "normal"}
    ledger = Ledger()
    record(ledger, NOW - timedelta(hours=1), [("web1", "HEALTH-LNX-01", "fail")])
    english = {r.control: r for r in rk.risks(ledger, client, now=NOW)}["HEALTH-LNX-01"]
    spanish = {r.control: r for r in rk.risks(ledger, client, now=NOW, lang="es")}["HEALTH-LNX-01"]
    assert english.title != spanish.title and spanish.title
    with pytest.raises(ValueError, match="--lang"):
        rk.risks(ledger, client, now=NOW, lang="xx")


def test_the_age_counts_from_the_failure_after_the_last_pass(make_client: MakeClient) -> None:
    make_client("acme", settings=settings(), hosts=hosts())
    ledger = Ledger()
    record(
        ledger,
        NOW - timedelta(days=50),
        [("web1", "HEALTH-LNX-01", "fail"), ("db1", "HEALTH-LNX-01", "fail")],
    )
    record(ledger, NOW - timedelta(days=20), [("web1", "HEALTH-LNX-01", "pass")])
    record(ledger, NOW - timedelta(days=5), [("web1", "HEALTH-LNX-01", "fail")])
    record(ledger, NOW - timedelta(days=1), [("web1", "HEALTH-LNX-01", "not_checked")])
    seen = rk.first_seen(
        ledger, "acme", [("web1", "HEALTH-LNX-01"), ("db1", "HEALTH-LNX-01"), ("app1", "X-1")]
    )
    assert seen == {
        ("web1", "HEALTH-LNX-01"): NOW - timedelta(days=5),  # the not_checked after it does not restart it
        ("db1", "HEALTH-LNX-01"): NOW - timedelta(days=50),
        ("app1", "X-1"): None,
    }
    risk = {r.control: r for r in rk.risks(ledger, load_client("acme"), now=NOW)}["HEALTH-LNX-01"]
    assert risk.first_seen == NOW - timedelta(days=50) and risk.status == "fail"
