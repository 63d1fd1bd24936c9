"""A job through a site worker (issue 17): ``ansible-runner transmit | worker | process`` over NATS JetStream.

A real nats-server (tests/nats_harness.py: the configuration ``maint nats-config`` prints, TLS with a test CA,
nkeys) and two real ``maint worker`` processes for site ``a``. The job is ``playbooks/role.yml`` with
``linux_health`` on ``localhost`` (``ansible_connection: local``), run once locally as
:mod:`runner.execute` does, to compare with.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from runner import dispatch, paths
from runner.cli import app
from runner.events import RunContext, from_event
from tests.conftest import BASE_HOSTS, BASE_SETTINGS, REPO
from tests.nats_harness import SKIP_REASON, NatsServer, nats_server, nats_server_binary

pytestmark = pytest.mark.skipif(nats_server_binary() is None, reason=SKIP_REASON)

SITE = "a"
PLAN = {"linux_health": ["localhost"]}
#: the lease of a job (the workers' consumer ack_wait): short, so a killed worker's job moves on quickly
LEASE_S = 3.0


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.is_file() else ""


@dataclass
class Site:
    root: Path
    server: NatsServer
    controller: dispatch.NatsSettings
    inventory: Path
    vault_password_file: Path
    workers: dict[str, Worker] = field(default_factory=dict)


def _client(base: Path, name: str, site: str) -> None:
    root = base / name
    (root / "group_vars" / "all").mkdir(parents=True)
    (root / "hosts.yml").write_text(yaml.safe_dump(BASE_HOSTS))
    settings = {**BASE_SETTINGS, "site": site}
    (root / "group_vars" / "all" / "maintenance.yml").write_text(
        yaml.safe_dump({"maintenance": settings}, sort_keys=False)
    )


def _settings(server: NatsServer, user: str) -> dispatch.NatsSettings:
    cert, key = server.pki.clients[user]
    return dispatch.NatsSettings(
        url=server.url,
        creds=server.seed_file(None if user == "controller" else user),
        tls_ca=server.pki.ca,
        tls_cert=cert,
        tls_key=key,
    )


def _start_worker(env: Site, name: str) -> Worker:
    settings = _settings(env.server, SITE)
    assert settings.tls_cert is not None and settings.tls_key is not None and settings.tls_ca is not None
    log = env.root / f"{name}.log"
    worker_env = {
        **os.environ,
        "MAINT_VAR": str(env.root / f"{name}-var"),
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "PYTHONPATH": str(REPO),
    }
    worker_env["MAINT_VAULT_PASSWORD_FILE"] = str(env.vault_password_file)  # the site's vault password
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "runner.cli",
                "worker",
                "--site",
                SITE,
                "--nats",
                settings.url,
                "--creds",
                str(settings.creds),
                "--tls-ca",
                str(settings.tls_ca),
                "--tls-cert",
                str(settings.tls_cert),
                "--tls-key",
                str(settings.tls_key),
                "--name",
                name,
                "--heartbeat",
                "1",
            ],
            cwd=REPO,
            env=worker_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: kill -9 takes its ansible-playbook too
        )
    worker = Worker(name, process, log)
    deadline = time.monotonic() + 60
    while "waiting for jobs" not in worker.log_text():
        assert process.poll() is None, worker.log_text()
        assert time.monotonic() < deadline, worker.log_text()
        time.sleep(0.1)
    return worker


def _stop(worker: Worker) -> None:
    if worker.process.poll() is None:
        os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=30)


@pytest.fixture(scope="module")
def site_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("site-worker")
    inventories = root / "inventories"
    _client(inventories, "acme", SITE)
    _client(inventories, "beta", "b")
    with nats_server(inventories, root / "nats", ["controller", "a", "b"]) as server:
        controller = _settings(server, "controller")

        async def declare() -> None:
            nc = await dispatch.connect(controller, None)
            try:
                await dispatch.ensure_site(nc, SITE, ack_wait=LEASE_S)
            finally:
                await nc.close()

        asyncio.run(declare())
        vault = root / "site-a-vault-pass"
        vault.write_text(secrets.token_hex(16) + "\n")
        vault.chmod(0o600)
        env = Site(
            root=root,
            server=server,
            controller=controller,
            inventory=inventories / "acme" / "hosts.yml",
            vault_password_file=vault,
        )
        try:
            for name in ("w1", "w2"):
                env.workers[name] = _start_worker(env, name)
            yield env
        finally:
            for worker in env.workers.values():
                _stop(worker)


def _job(env: Site, run_id: str) -> dict[str, Any]:
    """The inputs :mod:`runner.execute` gives ``ansible_runner.run`` for this plan."""
    from runner.execute import _runner_env

    return {
        "playbook": str(paths.playbooks_dir() / "role.yml"),
        "inventory": str(env.inventory),
        "extravars": {
            "maint_run_id": run_id,
            "maint_client": "acme",
            "maint_mode": "audit",
            "maint_ticket": "",
            "maint_targets": PLAN,
            "maint_role": "linux_health",
        },
        "envvars": {**_runner_env(), "ANSIBLE_LOCAL_TEMP": str(env.root / "tmp")},
        "cmdline": None,
        "ident": run_id,
    }


def _results(events: list[dict[str, Any]], run_id: str) -> list[tuple[str, str, str, str]]:
    ctx = RunContext(run_id=run_id, client="acme", ticket=None, plan=PLAN)
    found = []
    for event in events:
        for _key, result in from_event(ctx, event).results:
            found.append((result.host, result.role, result.control, result.status.value))
    return sorted(found)


@pytest.fixture(scope="module")
def local_run(site_env: Site) -> tuple[list[tuple[str, str, str, str]], int]:
    import ansible_runner

    events: list[dict[str, Any]] = []
    pdd = site_env.root / "local-pdd"
    pdd.mkdir()
    result = ansible_runner.run(
        private_data_dir=str(pdd),
        project_dir=str(paths.project_root()),
        event_handler=_collect(events),
        quiet=True,
        suppress_env_files=True,
        rotate_artifacts=0,
        **_job(site_env, "local-1"),
    )
    assert result.status == "successful", result.stdout.read()
    found = _results(events, "local-1")
    assert found, "the local run produced no check results"
    return found, int(result.rc)


def _collect(events: list[dict[str, Any]]) -> Any:
    def handle(event: dict[str, Any]) -> bool:
        events.append(event)
        return True

    return handle


def _uuids(events: list[dict[str, Any]]) -> list[str]:
    return [str(e["uuid"]) for e in events if e.get("uuid")]


def test_a_job_through_a_site_worker_lands_the_same_results_as_a_local_run(
    site_env: Site, local_run: tuple[list[tuple[str, str, str, str]], int]
) -> None:
    events: list[dict[str, Any]] = []
    pdd = site_env.root / "site-pdd-1"
    pdd.mkdir()
    result = dispatch.run_on_site(
        SITE,
        site_env.controller,
        private_data_dir=str(pdd),
        event_handler=_collect(events),
        **_job(site_env, "site-1"),
    )
    assert (result.status, result.rc) == ("successful", local_run[1])
    assert result.attempts == 1 and result.workers[0] in site_env.workers and not result.resumed
    assert _results(events, "site-1") == local_run[0]
    assert len(_uuids(events)) == len(set(_uuids(events))) == result.events
    assert events[-1]["event"] == "playbook_on_stats"
    # the processor wrote the events on the controller as a local run does
    assert len(list((pdd / "artifacts" / "site-1" / "job_events").glob("*.json"))) == len(events)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--site", "Bad!"], "--site: 'Bad!' is not a site name"),
        (["--site", "a", "--nats", "http://x"], "--nats: 'http://x' is not a NATS URL"),
        (["--site", "a", "--creds", "{tmp}/nowhere.nk"], "--creds: {tmp}/nowhere.nk: no such file"),
        (["--site", "a", "--tls-cert", "{tmp}/seed.nk"], "--tls-cert and --tls-key go together"),
    ],
)
def test_bad_worker_options_stop_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    seed = tmp_path / "seed.nk"
    seed.write_text("x\n")
    seed.chmod(0o600)
    base = {"--site": "a", "--nats": "tls://127.0.0.1:4222", "--creds": str(seed)}
    given = dict(zip(args[::2], args[1::2], strict=True))
    line = [a.replace("{tmp}", str(tmp_path)) for k, v in {**base, **given}.items() for a in (k, v)]
    result = CliRunner().invoke(app, ["worker", *line])
    assert result.exit_code == 2
    assert message.replace("{tmp}", str(tmp_path)) in " ".join(result.output.split())


def test_maint_workers_lists_the_heartbeats(site_env: Site) -> None:
    c = site_env.controller
    assert c.tls_ca and c.tls_cert and c.tls_key
    args = ["workers", "--nats", c.url, "--creds", str(c.creds), "--tls-ca", str(c.tls_ca)]
    result = CliRunner().invoke(
        app, [*args, "--tls-cert", str(c.tls_cert), "--tls-key", str(c.tls_key), "--json"]
    )
    assert result.exit_code == 0, result.output
    beats = json.loads(result.stdout)
    assert {(b["site"], b["worker"]) for b in beats} >= {(SITE, "w1"), (SITE, "w2")}


def test_a_large_payload_in_chunks_and_a_controller_restarted_mid_run(
    site_env: Site, local_run: tuple[list[tuple[str, str, str, str]], int]
) -> None:
    """A payload above the server's max_payload (8 MB) travels in chunks; the controller stopping after a
    few events and starting again with the same run id records the rest from the stream, nothing twice."""
    big = site_env.root / "inventories" / "big"
    shutil.copytree(site_env.inventory.parent, big)
    (big / "group_vars" / "all" / "blob.bin").write_bytes(os.urandom(9 * 1024**2))  # not read by Ansible
    first: list[dict[str, Any]] = []
    pdd = site_env.root / "site-pdd-restart"
    pdd.mkdir()
    job = {**_job(site_env, "site-restart"), "inventory": str(big / "hosts.yml")}
    stopped = dispatch.run_on_site(  # the controller stops after a few events (as if it died)
        SITE,
        site_env.controller,
        private_data_dir=str(pdd),
        event_handler=_collect(first),
        cancel_callback=lambda: len(first) >= 3,
        keep_on_cancel=True,
        **job,
    )
    assert stopped.status == "canceled" and len(first) >= 3 and stopped.chunks == 2
    rest: list[dict[str, Any]] = []
    resumed = dispatch.run_on_site(
        SITE,
        site_env.controller,
        private_data_dir=str(pdd),
        event_handler=_collect(rest),
        **job,
    )
    assert resumed.resumed and resumed.chunks == 0  # the job was not sent again
    assert resumed.status == "successful" and resumed.attempts == 1
    events = first + rest
    assert len(_uuids(events)) == len(set(_uuids(events)))
    assert _results(events, "site-restart") == local_run[0]


def test_a_worker_killed_mid_job_leaves_it_to_the_other_worker(
    site_env: Site, local_run: tuple[list[tuple[str, str, str, str]], int]
) -> None:
    events: list[dict[str, Any]] = []
    attempts: list[tuple[int, str]] = []

    def on_event(event: dict[str, Any]) -> bool:
        events.append(event)
        if len(attempts) == 1 and event.get("event") == "playbook_on_task_start":
            worker = site_env.workers[attempts[0][1]]
            if worker.process.poll() is None:
                os.killpg(worker.process.pid, signal.SIGKILL)  # kill -9, its ansible-playbook with it
        return True

    pdd = site_env.root / "site-pdd-kill"
    pdd.mkdir()
    result = dispatch.run_on_site(
        SITE,
        site_env.controller,
        private_data_dir=str(pdd),
        event_handler=on_event,
        attempt_handler=lambda attempt, worker: attempts.append((attempt, worker)),
        **_job(site_env, "site-kill"),
    )
    killed, other = attempts[0][1], ({"w1", "w2"} - {attempts[0][1]}).pop()
    assert site_env.workers[killed].process.wait(timeout=30) == -signal.SIGKILL
    assert attempts == [(1, killed), (2, other)], site_env.workers[other].log_text()
    assert result.status == "successful" and result.workers == [killed, other]
    # every event handed on once; the second attempt is a whole run of its own
    assert len(_uuids(events)) == len(set(_uuids(events)))
    starts = [i for i, e in enumerate(events) if e.get("event") == "playbook_on_start"]
    assert len(starts) == 2 and events[-1]["event"] == "playbook_on_stats"
    assert _results(events[starts[1] :], "site-kill") == local_run[0]


class Listener:
    """A connection recording (subject, headers, data) of every message on ``subjects``, in a thread of its
    own: by default the controller's view, events and heartbeats."""

    def __init__(
        self,
        settings: dispatch.NatsSettings,
        subjects: Sequence[str] = ("maint.events.>", "maint.heartbeats.>"),
    ) -> None:
        self.settings = settings
        self.subjects = subjects
        self.messages: list[tuple[str, dict[str, str], bytes]] = []
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.done: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self.done = asyncio.Event()
        nc = await dispatch.connect(self.settings, None)

        async def record(msg: Any) -> None:
            self.messages.append((msg.subject, dict(msg.headers or {}), bytes(msg.data)))

        for subject in self.subjects:
            await nc.subscribe(subject, cb=record)
        await nc.flush()
        self.ready.set()
        await self.done.wait()
        await nc.drain()

    def blobs(self) -> list[bytes]:
        """Each message's data and headers, to look for a value in."""
        return [data + json.dumps(headers).encode() for _, headers, data in self.messages]

    def __enter__(self) -> Listener:
        self.thread.start()
        assert self.ready.wait(timeout=30)
        return self

    def __exit__(self, *_: object) -> None:
        assert self.done is not None
        self.loop.call_soon_threadsafe(self.done.set)
        self.thread.join(timeout=30)


def _payload_files(payload: bytes, target: Path) -> list[Path]:
    """The files of a transmitted job's private data folder, as a worker unpacks them."""
    from ansible_runner.utils.streaming import unstream_dir

    stream = io.BytesIO(payload)
    assert "kwargs" in json.loads(stream.readline())
    size = json.loads(stream.readline())["zipfile"]
    target.mkdir()
    unstream_dir(stream, size, str(target))
    return [p for p in target.rglob("*") if p.is_file()]


def test_vaulted_values_travel_encrypted_and_the_site_decrypts_them(site_env: Site) -> None:
    """The controller has no vault password here: the inventory's vaulted file is sent as it is, the
    worker opens it with the site's MAINT_VAULT_PASSWORD_FILE, and no message carries the value."""
    canary = "canary-" + secrets.token_hex(12)
    vaulted = site_env.root / "inventories" / "vaulted"
    shutil.copytree(site_env.inventory.parent, vaulted)
    secret_file = vaulted / "group_vars" / "all" / "secret.yml"
    secret_file.write_text(yaml.safe_dump({"maint_test_canary": canary}))
    vault_cmd = [str(Path(sys.executable).parent / "ansible-vault"), "encrypt", str(secret_file)]
    vault_cmd += ["--vault-password-file", str(site_env.vault_password_file)]
    encrypt = subprocess.run(vault_cmd, capture_output=True, text=True, check=False)
    assert encrypt.returncode == 0, encrypt.stderr
    job = {**_job(site_env, "site-vault"), "inventory": str(vaulted / "hosts.yml")}
    payload = dispatch.build_payload(**job)
    files = _payload_files(payload, site_env.root / "unpacked-vault")
    assert any(f.name == "secret.yml" and f.read_text().startswith("$ANSIBLE_VAULT") for f in files)
    assert not any(canary.encode() in f.read_bytes() for f in files)
    events: list[dict[str, Any]] = []
    pdd = site_env.root / "site-pdd-vault"
    pdd.mkdir()
    with Listener(site_env.controller) as listener:
        result = dispatch.run_on_site(
            SITE, site_env.controller, private_data_dir=str(pdd), event_handler=_collect(events), **job
        )
    # without the site's vault password Ansible stops on the encrypted group_vars file
    assert result.status == "successful", [e.get("stdout") for e in events][-5:]
    assert listener.messages and not any(canary.encode() in m for m in listener.blobs())
