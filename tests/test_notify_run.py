"""A real run (ansible-runner against localhost) with notifications: the pass at the end of the run sends
each new fact once, and a channel that is down changes nothing about the run (status, exit code)."""

from __future__ import annotations

import copy
import json
import sys

import pytest
from typer.testing import CliRunner

from runner.cli import app
from runner.execute import RunRequest, execute
from runner.ledger import Ledger, RunStatus
from runner.notify import store
from tests.conftest import BASE_HOSTS, BASE_SETTINGS, MakeClient
from tests.test_notify import Hook, free_port, hook  # noqa: F401 (the fixture)

pytestmark = pytest.mark.integration


def test_a_run_notifies_once_and_a_channel_down_changes_nothing(
    make_client: MakeClient,
    hook: Hook,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hosts = copy.deepcopy(BASE_HOSTS)
    hosts["all"]["children"]["linux"]["hosts"]["localhost"]["ansible_python_interpreter"] = sys.executable
    settings = copy.deepcopy(BASE_SETTINGS)
    settings["thresholds"] = {"linux_health": {"fs_warn_pct": 0, "fs_fail_pct": 0}}  # every filesystem fails
    monkeypatch.setenv("MAINT_TEST_HOOK_URL", hook.url("/hook"))
    settings["notify"] = {
        "channels": [
            {"name": "psa", "type": "webhook", "url_env": "MAINT_TEST_HOOK_URL"},
            {"name": "down", "type": "webhook", "url": f"http://127.0.0.1:{free_port()}/x"},
        ],
        "events": [{"event": "new_failure", "min_severity": "high"}],
    }
    make_client("acme", settings=settings, hosts=hosts)
    ledger = Ledger()
    outcome = execute(RunRequest(client="acme", roles=("linux_health",)), ledger)
    assert outcome.status is RunStatus.SUCCESSFUL  # the channel that is down did not change it
    sent = [json.loads(r["body"]) for r in hook.requests]
    assert [(p["facts"]["host"], p["facts"]["control"]) for p in sent] == [("localhost", "HEALTH-LNX-01")]
    state = {n.channel: n for n in store.read(ledger.engine, ["acme"]).values()}
    assert state["psa"].outcome == "sent"
    assert state["down"].outcome == "failed" and state["down"].next_attempt_at is not None
    assert ledger.verify("acme")[0].ok
    # the same failure on the next run is the same fact: not sent again; the exit code is the checks' own
    result = CliRunner().invoke(app, ["run", "acme", "--role", "linux_health"])
    assert result.exit_code == 1, result.output  # HEALTH-LNX-01 fails, whatever the notifications did
    assert len(hook.requests) == 1
