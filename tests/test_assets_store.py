"""The asset_facts table: one row per host when its facts change, read back, verified with the chain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from runner.assets import facts as asset_facts
from runner.assets.store import history, latest, record, record_observations
from runner.events import AssetObservation, RunContext, from_event
from runner.ledger import Ledger, RunRecord

T0 = datetime(2026, 11, 7, 21, 0, tzinfo=UTC)
FACTS = {
    "hostname": "srv01",
    "os": {"name": "Debian GNU/Linux", "version": "12"},
    "hardware": {"ram_bytes": 8 * 2**30, "cpu_count": 4},
    "software": [{"name": "openssh-server", "version": "1:9.2p1-2"}],
    "uptime_seconds": 100,
}


def _run(ledger: Ledger, run_id: str, when: datetime) -> None:
    ledger.start_run(
        RunRecord(
            run_id=run_id,
            client="acme",
            mode="audit",
            roles=["linux_assets"],
            started_at=when,
        )
    )


def test_unchanged_facts_store_nothing_and_a_change_stores_one_row(private_state: Path) -> None:
    ledger = Ledger()
    _run(ledger, "r1", T0)
    first = record(
        ledger,
        client="acme",
        host="srv01",
        platform="linux",
        facts=FACTS,
        run_id="r1",
        role="a",
        collected_at=T0,
    )
    assert first is not None and first.facts["os"]["version"] == "12"
    # same run again (ingest): nothing; another run with only the uptime ticking: nothing
    assert (
        record(
            ledger,
            client="acme",
            host="srv01",
            platform="linux",
            facts=FACTS,
            run_id="r1",
            role="a",
            collected_at=T0,
        )
        is None
    )
    _run(ledger, "r2", T0 + timedelta(days=30))
    ticking = {**FACTS, "uptime_seconds": 999}
    assert (
        record(
            ledger,
            client="acme",
            host="srv01",
            platform="linux",
            facts=ticking,
            run_id="r2",
            role="a",
            collected_at=T0 + timedelta(days=30),
        )
        is None
    )
    upgraded = {**FACTS, "hardware": {"ram_bytes": 16 * 2**30, "cpu_count": 4}}
    _run(ledger, "r3", T0 + timedelta(days=60))
    second = record(
        ledger,
        client="acme",
        host="srv01",
        platform="linux",
        facts=upgraded,
        run_id="r3",
        role="a",
        collected_at=T0 + timedelta(days=60),
    )
    assert second is not None
    assert [r.run_id for r in history(ledger, "acme")] == ["r1", "r3"]
    assert latest(ledger, "acme")["srv01"].facts["hardware"]["ram_bytes"] == 16 * 2**30
    assert latest(ledger, "acme", until=T0 + timedelta(days=40))["srv01"].run_id == "r1"
    assert all(report.ok for report in ledger.verify("acme"))


@pytest.mark.parametrize(
    ("facts", "words"),
    [
        ({}, "facts.hostname"),
        ({"hostname": "x", "colour": "red"}, "unknown key(s) colour"),
        ({"hostname": "x", "os": "Debian"}, "facts.os: an object"),
        ({"hostname": "x", "disks": ["sda"]}, "facts.disks: a list of objects"),
        ({"hostname": "x", "software_count": -1}, "facts.software_count"),
    ],
)
def test_facts_of_the_wrong_shape_are_refused_with_the_key_named(
    facts: dict[str, object], words: str
) -> None:
    with pytest.raises(asset_facts.AssetFactsError, match=words.replace("(", r"\(").replace(")", r"\)")):
        asset_facts.validate("linux", facts)


def test_a_task_result_carrying_maint_assets_becomes_an_observation_and_bad_ones_are_skipped(
    private_state: Path,
) -> None:
    ctx = RunContext(run_id="r1", client="acme", ticket=None, plan={"linux_assets": ["srv01"]})
    event = {
        "event": "runner_on_ok",
        "uuid": "u1",
        "created": T0.isoformat(),
        "event_data": {
            "host": "srv01",
            "role": "linux_assets",
            "res": {"maint_assets": {"platform": "linux", "facts": FACTS}},
        },
    }
    outcome = from_event(ctx, event)
    assert [(o.host, o.platform, o.role) for o in outcome.assets] == [("srv01", "linux", "linux_assets")]
    ledger = Ledger()
    _run(ledger, "r1", T0)
    bad = AssetObservation(host="srv02", platform="linux", facts={"colour": "red"}, role="x", observed_at=T0)
    assert record_observations(ledger, "acme", "r1", [*outcome.assets, bad]) == 1
    assert set(latest(ledger, "acme")) == {"srv01"}
