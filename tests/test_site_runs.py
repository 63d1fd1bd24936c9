"""``maint run`` with hosts at a site (issue 17): one run, recorded by the controller, part of it run by the
site's workers over NATS JetStream.

A real nats-server (tests/nats_harness.py), a real PostgreSQL ledger (MAINT_TEST_PG_URL, which .ci/run
starts), two real ``maint worker`` processes for site ``a``. Client ``acme`` has ``here`` on the controller
and ``there`` and ``far`` at site ``a``; client ``beta`` runs every host at site ``a``. Every host is this
machine (``ansible_connection: local``).
"""

from __future__ import annotations

import asyncio
import copy
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from maint_devtools.pgdb import temporary_database
from runner import dispatch, sites
from runner.cli import app
from runner.execute import RunError, RunOutcome, RunRequest, execute, site_ident
from runner.ingest import ingest
from runner.ledger import Ledger, RunStatus
from runner.procs import stop_job
from runner.results import CheckResult, Status
from tests.conftest import BASE_SETTINGS, REPO
from tests.nats_harness import SKIP_REASON, SUPERUSER_SEED, nats_server, nats_server_binary
from tests.test_site_worker import (
    LEASE_S,
    Listener,
    Site,
    Worker,
    _payload_files,
    _settings,
    _start_worker,
    _stop,
)

SITE = "a"
ROLES = ["linux_health", "linux_patching"]
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}


def _client(base: Path, name: str, hosts: dict[str, str | None], client_site: str | None = None) -> Path:
    """A client whose hosts are all this machine; ``hosts``: name -> its maint_site (None: not set)."""
    root = base / name
    (root / "group_vars" / "all").mkdir(parents=True)
    (root / "host_vars").mkdir()
    (root / "hosts.yml").write_text(
        yaml.safe_dump({"all": {"children": {"linux": {"hosts": {h: dict(LOCAL) for h in hosts}}}}})
    )
    for host, site in hosts.items():
        if site is not None:
            (root / "host_vars" / f"{host}.yml").write_text(yaml.safe_dump({"maint_site": site}))
    settings: dict[str, Any] = {**copy.deepcopy(BASE_SETTINGS), "roles": {role: ["linux"] for role in ROLES}}
    if client_site is not None:
        settings["site"] = client_site
    (root / "group_vars" / "all" / "maintenance.yml").write_text(
        yaml.safe_dump({"maintenance": settings}, sort_keys=False)
    )
    return root


@dataclass
class Env:
    site: Site
    inventories: Path
    pg_admin: str


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    if nats_server_binary() is None:
        pytest.skip(SKIP_REASON)
    admin = os.environ.get("MAINT_TEST_PG_URL")
    if not admin:
        pytest.skip("!!! site run tests SKIPPED: MAINT_TEST_PG_URL not set (.ci/run starts a server) !!!")
    root = tmp_path_factory.mktemp("site-runs")
    inventories = root / "inventories"
    _client(inventories, "acme", {"here": None, "there": SITE, "far": SITE})
    _client(inventories, "beta", {"one": None, "two": None}, client_site=SITE)
    _client(inventories, "gamma", {"g1": None, "g2": SITE})
    with nats_server(inventories, root / "nats", ["controller", SITE], superuser=True) as server:
        controller = _settings(server, "controller")

        async def declare() -> None:
            nc = await dispatch.connect(controller, None)
            try:
                await dispatch.ensure_site(nc, SITE, ack_wait=LEASE_S)
            finally:
                await nc.close()

        asyncio.run(declare())
        vault = root / "site-a-vault-pass"
        vault.write_text("not-used-here\n")
        vault.chmod(0o600)
        site = Site(root, server, controller, inventories / "acme" / "hosts.yml", vault)
        try:
            for name in ("w1", "w2"):
                site.workers[name] = _start_worker(site, name)
            yield Env(site, inventories, admin)
        finally:
            for worker in site.workers.values():
                _stop(worker)


@pytest.fixture
def ledger_url(env: Env, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh PostgreSQL ledger, and the controller's NATS settings in its environment."""
    c = env.site.controller
    assert c.tls_ca and c.tls_cert and c.tls_key
    for key, value in {
        "MAINT_INVENTORIES": str(env.inventories),
        "MAINT_NATS_URL": c.url,
        "MAINT_NATS_CREDS": str(c.creds),
        "MAINT_NATS_TLS_CA": str(c.tls_ca),
        "MAINT_NATS_TLS_CERT": str(c.tls_cert),
        "MAINT_NATS_TLS_KEY": str(c.tls_key),
    }.items():
        monkeypatch.setenv(key, value)
    for worker in list(env.site.workers.values()):  # a test before killed one: start it again
        if worker.process.poll() is not None:
            env.site.workers[worker.name] = _start_worker(env.site, worker.name)
    with temporary_database(env.pg_admin, "site_runs") as url:
        monkeypatch.setenv("MAINT_DB_URL", url)
        yield url


def _checks(rows: Sequence[CheckResult]) -> Counter[tuple[str, str, str]]:
    return Counter((r.host, r.role, r.control) for r in rows)


def _assert_whole(ledger: Ledger, outcome: RunOutcome, hosts: set[str]) -> list[CheckResult]:
    """Every planned host has every role's checks, each once, none of them padding."""
    rows = ledger.results_for_run(outcome.run_id)
    counts = _checks(rows)
    assert counts and max(counts.values()) == 1, [k for k, n in counts.items() if n > 1]
    assert {(h, role) for h, role, _ in counts} == {(h, role) for h in hosts for role in ROLES}
    padded = [r for r in rows if r.status is Status.NOT_CHECKED and "could not run" in str(r.evidence)]
    assert not padded, padded
    # the controls of a site host are those of the controller's host
    by_host = {h: sorted((role, c) for hh, role, c in counts if hh == h) for h in hosts}
    assert len({tuple(v) for v in by_host.values()}) == 1, by_host
    return rows


def _verify(url: str) -> None:
    assert os.environ["MAINT_DB_URL"] == url
    result = CliRunner().invoke(app, ["ledger", "verify"])
    assert result.exit_code == 0, result.output


def test_a_client_split_across_the_controller_and_a_site_lands_one_run(env: Env, ledger_url: str) -> None:
    ledger = Ledger(ledger_url)
    outcome = execute(RunRequest(client="acme"), ledger)
    assert outcome.status in (RunStatus.SUCCESSFUL, RunStatus.FAILED), outcome
    _assert_whole(ledger, outcome, {"here", "there", "far"})
    info = ledger.run(outcome.run_id)
    assert info is not None
    part = info.summary["sites"][SITE]
    assert part["status"] in ("successful", "failed") and part["hosts"] == 2
    assert [a["attempt"] for a in part["attempts"]] == [1] and part["workers"][0] in env.site.workers
    # the site's events sit in their own artifacts folder; ingesting them again adds nothing
    assert list(
        (outcome.private_data_dir / "artifacts" / site_ident(outcome.run_id, SITE)).glob("job_events/*")
    )
    assert ingest(outcome.run_id, ledger).added == 0
    _verify(ledger_url)


class _KillFirstWorker:
    """An observer that kills -9 the worker running the site's part once its first rows are recorded."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.run_id = ""
        self.killed: Worker | None = None
        self.notes: list[str] = []

    def started(self, run_id: str, client: str, hosts: Sequence[str]) -> None:
        self.run_id = run_id

    def recorded(self, host: str, results: Sequence[CheckResult], host_done: bool) -> None:
        if self.killed is not None or host not in ("there", "far"):
            return
        mark = f"run {site_ident(self.run_id, SITE)} attempt 1: started"
        for worker in self.site.workers.values():
            if mark in worker.log_text() and worker.process.poll() is None:
                os.killpg(worker.process.pid, signal.SIGKILL)  # kill -9, its ansible-playbook with it
                self.killed = worker
                return

    def finished(self, outcome: RunOutcome) -> None:
        pass

    def note(self, line: str) -> None:
        self.notes.append(line)


def test_a_worker_killed_mid_job_gives_a_second_attempt_and_no_duplicate_rows(
    env: Env, ledger_url: str
) -> None:
    ledger = Ledger(ledger_url)
    observer = _KillFirstWorker(env.site)
    outcome = execute(RunRequest(client="acme"), ledger, observer)
    # the killed worker's ansible-playbook sits in a session of its own (pexpect's terminal): kill -9 of
    # the worker's group leaves it behind, stuck on its dead terminal (under systemd the unit's cgroup goes
    # with the worker); it carries the part's mark (runner.procs), attempt 2's own has ended
    stop_job(site_ident(outcome.run_id, SITE))
    killed = observer.killed
    assert killed is not None, "the site's part ended before its first rows were recorded"
    assert killed.process.wait(timeout=30) == -signal.SIGKILL
    rows = _assert_whole(ledger, outcome, {"here", "there", "far"})
    info = ledger.run(outcome.run_id)
    assert info is not None
    part = info.summary["sites"][SITE]
    other = ({"w1", "w2"} - {killed.name}).pop()
    assert [(a["attempt"], a["worker"]) for a in part["attempts"]] == [(1, killed.name), (2, other)]
    assert info.summary["repeated_results_dropped"] > 0  # attempt 2 ran the checks attempt 1 had recorded
    assert any("took the job over (attempt 2)" in line for line in observer.notes)
    # the rows attempt 1 recorded before the worker died are the ones kept
    assert len(rows) == sum(_checks(rows).values())
    assert ingest(outcome.run_id, ledger).added == 0  # ingest keeps the same rows: nothing twice
    _verify(ledger_url)


def _controller(env: Env, client: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "runner.cli", "run", client],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_a_controller_killed_mid_run_records_the_buffered_events_when_it_comes_back(
    env: Env, ledger_url: str
) -> None:
    ledger = Ledger(ledger_url)
    controller = _controller(env, "beta")
    run_id = ""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and controller.poll() is None:  # its first rows: kill -9 it
        runs = ledger.unfinished_runs("beta")
        if runs and ledger.results_for_run(runs[0].run_id):
            run_id = runs[0].run_id
            os.killpg(controller.pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    assert run_id, "the controller ended before its first rows were recorded"
    assert controller.wait(timeout=30) == -signal.SIGKILL
    before = len(ledger.results_for_run(run_id))
    # it comes back: ingest follows the site's part from what JetStream kept, to the worker's end
    report = ingest(run_id, ledger)
    assert report.added > 0 and report.finished_as in (RunStatus.SUCCESSFUL, RunStatus.FAILED), report
    rows = ledger.results_for_run(run_id)
    assert len(rows) > before
    counts = _checks(rows)
    assert max(counts.values()) == 1
    assert {(h, role) for h, role, _ in counts} == {(h, role) for h in ("one", "two") for role in ROLES}
    assert not [r for r in rows if r.status is Status.NOT_CHECKED and "stopped" in str(r.evidence)]
    assert ingest(run_id, ledger).added == 0
    _verify(ledger_url)


def test_a_site_run_needs_the_postgresql_ledger(
    env: Env, ledger_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MAINT_DB_URL", f"sqlite:///{tmp_path / 'ledger.db'}")
    ledger = Ledger()
    with pytest.raises(RunError, match=r"site workers need the PostgreSQL ledger.*MAINT_DB_URL"):
        execute(RunRequest(client="beta"), ledger)
    assert ledger.unfinished_runs("beta") == [] and ledger.runs("beta") == []
    result = CliRunner().invoke(app, ["run", "beta"])
    assert result.exit_code == 2 and "PostgreSQL" in result.output and "Traceback" not in result.output


def test_a_site_run_without_nats_settings_names_the_variable(
    env: Env, ledger_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MAINT_NATS_URL")
    with pytest.raises(RunError, match=r"site\(s\) a .*set MAINT_NATS_URL"):
        execute(RunRequest(client="acme"), Ledger(ledger_url))
    monkeypatch.setenv("MAINT_NATS_URL", "http://nowhere")
    with pytest.raises(RunError, match=r"^MAINT_NATS_URL: 'http://nowhere' is not a NATS URL"):
        execute(RunRequest(client="acme"), Ledger(ledger_url))


def test_a_site_run_interrupted_on_the_controller_stops_and_keeps_what_was_recorded(
    env: Env, ledger_url: str
) -> None:
    stop = threading.Event()

    class StopAtFirstRows(_KillFirstWorker):
        def recorded(self, host: str, results: Sequence[CheckResult], host_done: bool) -> None:
            if host in ("one", "two"):
                stop.set()

    ledger = Ledger(ledger_url)
    outcome = execute(RunRequest(client="beta"), ledger, StopAtFirstRows(env.site), stop=stop)
    assert outcome.status is RunStatus.INTERRUPTED
    rows = ledger.results_for_run(outcome.run_id)
    assert max(_checks(rows).values()) == 1
    real = [r for r in rows if r.status is not Status.NOT_CHECKED]
    assert real, "the rows recorded before the stop were kept"
    assert {(r.host, r.role) for r in rows} == {(h, role) for h in ("one", "two") for role in ROLES}
    # the worker running it stopped it too, and it is not run again by the other one
    ident = site_ident(outcome.run_id, SITE)
    deadline = time.monotonic() + 60
    logs = ""
    while f"run {ident} attempt 1: canceled" not in logs:
        assert time.monotonic() < deadline, logs
        time.sleep(0.1)
        logs = "".join(w.log_text() for w in env.site.workers.values())
    assert f"run {ident} attempt 1: cancelled by the controller" in logs
    time.sleep(3 * LEASE_S)  # a lease or more: a job left unacknowledged would be taken again by now
    logs = "".join(w.log_text() for w in env.site.workers.values())
    assert f"run {ident} attempt 2" not in logs


def test_no_secret_of_the_controller_travels_in_any_nats_message(
    env: Env, ledger_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The controller holds the vault password and has a vaulted value in the inventory and a value in its
    own environment: none of the three, nor the decrypted value, is in any message of the run."""
    root = env.inventories / "gamma"
    note, password, color = (f"canary-{secrets.token_hex(10)}" for _ in range(3))
    vault = env.site.root / "gamma-vault-pass"  # the controller's
    vault.write_text(password + "\n")
    vault.chmod(0o600)
    env.site.vault_password_file.write_text(password + "\n")  # the site's workers' (read for each job)
    vaulted = root / "group_vars" / "all" / "notes.yml"
    vaulted.write_text(yaml.safe_dump({"maint_test_note": note}))
    encrypt = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-vault"),
            "encrypt",
            str(vaulted),
            "--vault-password-file",
            str(vault),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert encrypt.returncode == 0, encrypt.stderr
    monkeypatch.setenv("MAINT_VAULT_PASSWORD_FILE", str(vault))
    monkeypatch.setenv("MAINT_TEST_COLOR", color)
    ledger = Ledger(ledger_url)
    c = env.site.controller  # the test-only superuser: every subject of the account
    superuser = dispatch.NatsSettings(
        c.url, env.site.server.creds / SUPERUSER_SEED, c.tls_ca, c.tls_cert, c.tls_key
    )
    with Listener(superuser, subjects=(">",)) as everything:
        outcome = execute(RunRequest(client="gamma"), ledger)
    rows = ledger.results_for_run(outcome.run_id)
    assert {r.host for r in rows if r.status is not Status.NOT_CHECKED} == {"g1", "g2"}
    subjects = {subject for subject, _, _ in everything.messages}
    ident = site_ident(outcome.run_id, SITE)
    assert {sites.jobs_subject(SITE), sites.events_subject(SITE, ident)} <= subjects
    assert any(s.startswith("maint.heartbeats.a.") for s in subjects) and any(
        s.startswith("$JS.") for s in subjects
    )
    canaries = [c.encode() for c in (note, password, color)]
    for (subject, _, _), blob in zip(everything.messages, everything.blobs(), strict=True):
        assert not any(c in blob for c in canaries), subject
    # inside the job: the private data folder, zipped; the vaulted file travels as it is, encrypted
    # (seen twice: as published, and as delivered to the puller's inbox, which keeps the subject)
    jobs = [data for subject, headers, data in everything.messages if subject == sites.jobs_subject(SITE)]
    assert jobs and all(data == jobs[0] for data in jobs)
    job = jobs[0]
    files = _payload_files(job, env.site.root / f"unpacked-{outcome.run_id}")
    assert any(f.name == "notes.yml" and f.read_text().startswith("$ANSIBLE_VAULT") for f in files)
    assert not any(c in f.read_bytes() for f in files for c in canaries)
