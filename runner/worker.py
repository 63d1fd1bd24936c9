"""A site's worker (issue 17): pulls its site's jobs from NATS JetStream, runs them with ansible-runner.

- Jobs come from the site's work-queue stream through the consumer every worker of the site shares
  (:data:`runner.sites.JOBS_CONSUMER`): each job goes to one worker. ``--concurrency N`` jobs at a time.
- While a job runs its lease is extended (``in_progress`` every third of the consumer's ``ack_wait``); it is
  acknowledged once the last event is stored. A worker killed (``kill -9``, power loss) stops extending: the
  job goes to another worker of the site after ``ack_wait``, as attempt 2 (:data:`runner.dispatch.H_ATTEMPT`).
- Each line ``ansible-runner worker`` writes (status, event, eof) is published as it is produced, one message
  each, to :func:`runner.sites.events_subject`; event values equal to a credential the worker knows (vault
  password, decrypted vault values of the job's inventory, secret-looking environment variables) are
  masked first, and the ``env`` of the ``starting`` status is not sent. The artifacts folder is not sent.
- The job may name only a playbook of the worker's own ``playbooks/``; the project, roles, collections and
  ``ansible.cfg`` are the worker's; the vault password is the worker's ``MAINT_VAULT_PASSWORD_FILE``.
- A heartbeat (:func:`runner.sites.heartbeat_subject`) every few seconds says which jobs it runs.

The worker never opens the ledger: the controller records what it sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import shlex
import shutil
import signal
import socket
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runner import paths, sites
from runner.dispatch import (
    EOF_LINE,
    H_ATTEMPT,
    H_BYTES,
    H_CHUNKS,
    H_RC,
    H_RUN,
    H_SEQ,
    H_SHA256,
    H_WORKER,
    NatsSettings,
    chunk_subject,
    connect,
)
from runner.procs import JOB_MARK, stop_job

log = logging.getLogger(__name__)

#: environment variables of the job that name controller paths: the worker's own values replace them
_PATH_ENV = ("ANSIBLE_CONFIG", "ANSIBLE_ROLES_PATH", "ANSIBLE_COLLECTIONS_PATH", "PATH")
_ACCELERATE_ENV = ("ANSIBLE_STRATEGY", "ANSIBLE_STRATEGY_PLUGINS")
#: a keepalive line while no event comes (a long task): the controller knows the job is alive
KEEPALIVE_S = 30.0
_RUN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class JobRefused(Exception):
    """A job this worker will not run (bad payload, unknown playbook); the message says why."""


def default_name() -> str:
    """``<host>-<pid>``, as one NATS subject token."""
    host = re.sub(r"[^a-z0-9_-]", "-", socket.gethostname().lower())[:40] or "worker"
    return f"{host}-{os.getpid()}"


@dataclass
class WorkerOptions:
    site: str
    nats: NatsSettings
    name: str = field(default_factory=default_name)
    concurrency: int = 1
    heartbeat_s: float = 5.0
    vault_password_file: str | None = None


def _worker_env(sent: dict[str, Any]) -> dict[str, str]:
    from runner.execute import _runner_env

    env = {str(k): str(v) for k, v in sent.items() if k not in _PATH_ENV}
    env.update(_runner_env())
    if any(key in env for key in _ACCELERATE_ENV):
        from runner.accelerate import accelerate_env

        for key in _ACCELERATE_ENV:
            env.pop(key, None)
        accelerated, reason = accelerate_env()
        if reason is None:
            env.update(accelerated)
        else:
            log.warning("accelerate: not available at this site, running without mitogen: %s", reason)
    return env


def _worker_cmdline(sent: Any, vault_password_file: str | None) -> str | None:
    words = shlex.split(sent) if isinstance(sent, str) else []
    kept: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word == "--vault-password-file":  # the controller's file: the site has its own
            skip = True
            continue
        if word.startswith("--vault-password-file="):
            continue
        kept.append(word)
    if vault_password_file:
        kept += ["--vault-password-file", str(Path(vault_password_file).expanduser().resolve())]
    return shlex.join(kept) or None


def job_kwargs(kwargs: dict[str, Any], vault_password_file: str | None) -> dict[str, Any]:
    """The transmitted kwargs made the worker's: its project, its playbook of that name, its paths."""
    playbook = kwargs.get("playbook")
    if not isinstance(playbook, str) or not playbook:
        raise JobRefused("the job names no playbook")
    mine = paths.playbooks_dir() / Path(playbook).name
    if not mine.is_file() or mine.suffix not in (".yml", ".yaml"):
        raise JobRefused(f"playbook {Path(playbook).name!r} is not one of this worker's playbooks")
    out = dict(kwargs)
    out["playbook"] = str(mine)
    out["project_dir"] = str(paths.project_root())
    out["envvars"] = _worker_env(dict(kwargs.get("envvars") or {}))
    out["cmdline"] = _worker_cmdline(kwargs.get("cmdline"), vault_password_file)
    for key in (
        "process_isolation",
        "process_isolation_executable",
        "container_image",
        "directory_isolation_base_path",
    ):
        out.pop(key, None)
    return out


class _LineWriter:
    """The ``_output`` of ``ansible-runner worker``: hands each complete line to ``emit`` as it is written."""

    name = "<maint worker output>"

    def __init__(self, emit: Callable[[bytes], None]) -> None:
        self.emit = emit
        self.partial = b""

    def write(self, data: bytes) -> int:
        self.partial += data
        while b"\n" in self.partial:
            line, self.partial = self.partial.split(b"\n", 1)
            self.emit(line + b"\n")
        return len(data)

    def flush(self) -> None:
        return None


def _make_worker_class() -> type:
    from ansible_runner.streaming import Worker

    from runner.credentials import Scrubber, known_credentials

    class SiteWorker(Worker):  # type: ignore[misc]  # ansible_runner ships no type information
        vault_password_file: str | None = None
        scrubber: Scrubber | None = None
        #: this attempt's mark on its processes (runner.procs): what is left of them is stopped at its end
        job_mark: str | None = None

        def update_paths(self, kwargs: dict[str, Any]) -> dict[str, Any]:
            out = job_kwargs(kwargs, self.vault_password_file)
            if self.job_mark is not None:
                out["envvars"][JOB_MARK] = self.job_mark
            return dict(super().update_paths(out))

        def _scrubber(self) -> Scrubber:
            if self.scrubber is None:
                inventory = Path(self.private_data_dir) / "inventory"
                self.scrubber = Scrubber(
                    known_credentials(inventory, vault_password_file=self.vault_password_file or "")
                )
            return self.scrubber

        def status_handler(self, status_data: dict[str, Any], runner_config: Any) -> None:
            data = {k: v for k, v in status_data.items() if k != "env"}  # the site's environment stays here
            super().status_handler(self._scrubber().data(data), runner_config)

        def event_handler(self, event_data: dict[str, Any]) -> None:
            super().event_handler(self._scrubber().data(event_data))

        def artifacts_handler(self, artifact_dir: str) -> None:
            return None  # the artifacts stay at the site: a site cannot write files on the controller

    return SiteWorker


@dataclass
class _Job:
    run_id: str
    attempt: int
    since: str
    cancel: threading.Event = field(default_factory=threading.Event)


class SiteWorkerLoop:
    """One worker process: ``--concurrency`` job slots, heartbeats, leases."""

    def __init__(self, options: WorkerOptions) -> None:
        self.options = options
        self.jobs: dict[str, _Job] = {}
        self.stop = asyncio.Event()
        self.nc: Any = None
        self.ack_wait = 60.0

    async def serve(self) -> None:
        self.nc = await connect(  # a service: it waits for the server as long as it takes
            self.options.nats, self.options.site, name=f"maint worker {self.options.name}", attempts=-1
        )
        js = self.nc.jetstream()
        stream = sites.jobs_stream(self.options.site)
        info = await self._queue(js, stream)
        if info is None:
            await self.nc.close()
            return
        self.ack_wait = float(info.config.ack_wait or 60.0)
        sub = await js.pull_subscribe_bind(durable=sites.JOBS_CONSUMER, stream=stream)
        await self.nc.subscribe(sites.cancel_subject(self.options.site, "*"), cb=self._cancel)
        beat = asyncio.create_task(self._heartbeats())
        slots = asyncio.Semaphore(max(1, self.options.concurrency))
        running: set[asyncio.Task[None]] = set()
        log.warning("worker %s of site %s: waiting for jobs", self.options.name, self.options.site)
        try:
            while not self.stop.is_set():
                await slots.acquire()
                if self.stop.is_set():
                    slots.release()
                    break
                try:
                    msgs = await sub.fetch(batch=1, timeout=1)
                except Exception as exc:
                    slots.release()
                    if "timeout" not in type(exc).__name__.lower():
                        log.warning("fetch: %s: %s", type(exc).__name__, exc)
                        await asyncio.sleep(1)
                    continue
                task = asyncio.create_task(self._job(js, msgs[0]))
                running.add(task)
                task.add_done_callback(self._done(running, slots))
            if running:
                await asyncio.gather(*running, return_exceptions=True)
        finally:
            beat.cancel()
            with contextlib.suppress(Exception):
                await self._heartbeat(stopping=True)
            await self.nc.close()

    async def _queue(self, js: Any, stream: str) -> Any:
        """The shared consumer's info; until the controller has declared the site, wait for it."""
        from nats.js.errors import NotFoundError

        said = False
        while not self.stop.is_set():
            try:
                return await js.consumer_info(stream, sites.JOBS_CONSUMER)
            except NotFoundError:
                if not said:
                    log.warning(
                        "site %s has no job queue yet (the controller makes it with the site's first job): "
                        "waiting",
                        self.options.site,
                    )
                    said = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=5)
        return None

    @staticmethod
    def _done(
        running: set[asyncio.Task[None]], slots: asyncio.Semaphore
    ) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            running.discard(task)
            slots.release()
            if not task.cancelled() and task.exception() is not None:
                log.warning("a job ended with an error: %s", task.exception())

        return done

    async def _cancel(self, msg: Any) -> None:
        """The controller stopped a run: its job here stops as ansible-runner's cancel does (the playbook
        and its forks), ends ``canceled`` and is acknowledged (never run again). Another run's: ignored."""
        run_id = str(msg.subject).rsplit(".", 1)[-1]
        for job in list(self.jobs.values()):
            if job.run_id == run_id and not job.cancel.is_set():
                log.warning("run %s attempt %d: cancelled by the controller", run_id, job.attempt)
                job.cancel.set()

    def shutdown(self, hard: bool = False) -> None:
        """Stop taking jobs; running ones finish (``hard``: they are cancelled)."""
        self.stop.set()
        if hard:
            for job in self.jobs.values():
                job.cancel.set()

    async def _heartbeat(self, stopping: bool = False) -> None:
        body = {
            "site": self.options.site,
            "worker": self.options.name,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "concurrency": self.options.concurrency,
            "jobs": [{"run": j.run_id, "attempt": j.attempt, "since": j.since} for j in self.jobs.values()],
            "stopping": stopping,
        }
        await self.nc.publish(
            sites.heartbeat_subject(self.options.site, self.options.name), json.dumps(body).encode()
        )
        await self.nc.flush(timeout=5)

    async def _heartbeats(self) -> None:
        while True:
            try:
                await self._heartbeat()
            except Exception as exc:  # the server away: the next beat tries again
                log.warning("heartbeat: %s", exc)
            await asyncio.sleep(self.options.heartbeat_s)

    async def _lease(self, msg: Any) -> None:
        while True:
            await asyncio.sleep(max(0.5, self.ack_wait / 3))
            with contextlib.suppress(Exception):
                await msg.in_progress()

    async def _payload(self, js: Any, msg: Any, run_id: str) -> bytes:
        headers = msg.headers or {}
        try:
            count = int(headers.get(H_CHUNKS, "1"))
            size = int(headers.get(H_BYTES, str(len(msg.data))))
        except ValueError:
            raise JobRefused("bad chunk headers") from None
        pieces = [msg.data]
        for index in range(1, count):
            got = await js.get_msg(
                sites.jobs_stream(self.options.site),
                subject=chunk_subject(self.options.site, run_id, index),
                direct=True,
            )
            pieces.append(got.data)
        payload = b"".join(pieces)
        import hashlib

        if len(payload) != size or hashlib.sha256(payload).hexdigest() != headers.get(H_SHA256, ""):
            raise JobRefused("the payload does not match its size and checksum")
        return payload

    async def _job(self, js: Any, msg: Any) -> None:
        headers = msg.headers or {}
        run_id = str(headers.get(H_RUN, ""))
        attempt = int(msg.metadata.num_delivered or 1)
        lease = asyncio.create_task(self._lease(msg))
        if not _RUN_ID.fullmatch(run_id):
            lease.cancel()
            log.warning("a job without a usable run id: dropped")
            await msg.term()
            return
        job = _Job(run_id, attempt, datetime.now(UTC).isoformat(timespec="seconds"))
        key = f"{run_id}/{attempt}"
        self.jobs[key] = job
        subject = sites.events_subject(self.options.site, run_id)
        seq = 0

        async def publish(line: bytes, rc: int | None = None) -> None:
            nonlocal seq
            seq += 1
            hdrs = {
                H_RUN: run_id,
                H_ATTEMPT: str(attempt),
                H_WORKER: self.options.name,
                H_SEQ: str(seq),
                "Nats-Msg-Id": f"{run_id}-{attempt}-{seq}",
            }
            if rc is not None:
                hdrs[H_RC] = str(rc)
            for wait in (0.5, 1, 2, 4, 8, 16, 30):
                try:
                    await js.publish(subject, line, headers=hdrs)
                    return
                except Exception as exc:  # the server away a moment: the same message id again
                    log.warning("run %s: publishing an event: %s", run_id, exc)
                    await asyncio.sleep(wait)
            raise RuntimeError(f"run {run_id}: events cannot be published")

        log.warning("run %s attempt %d: started", run_id, attempt)
        try:
            try:
                payload = await self._payload(js, msg, run_id)
                status, rc = await self._run(payload, job, publish)
            except JobRefused as exc:
                log.warning("run %s: refused: %s", run_id, exc)
                line = json.dumps({"status": "error", "job_explanation": f"site {self.options.site}: {exc}"})
                await publish(line.encode() + b"\n")
                await publish(EOF_LINE)
                await msg.term()
                return
            await msg.ack_sync(timeout=10)
            log.warning("run %s attempt %d: %s (rc %s)", run_id, attempt, status, rc)
        finally:
            lease.cancel()
            self.jobs.pop(key, None)

    async def _run(self, payload: bytes, job: _Job, publish: Callable[..., Any]) -> tuple[str, int | None]:
        """Run the job in a thread; publish its lines in order as they come."""
        import io

        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[bytes | None] = asyncio.Queue()

        def emit(line: bytes) -> None:
            loop.call_soon_threadsafe(lines.put_nowait, line)

        writer = _LineWriter(emit)
        work = paths.var_dir() / "worker"
        work.mkdir(mode=0o700, parents=True, exist_ok=True)
        pdd = Path(tempfile.mkdtemp(prefix=f"{job.run_id}-{job.attempt}-", dir=work))
        cls = _make_worker_class()
        worker = cls(
            _input=io.BytesIO(payload),
            _output=writer,
            private_data_dir=str(pdd),
            keepalive_seconds=KEEPALIVE_S,
        )
        worker.vault_password_file = self.options.vault_password_file
        # this worker's attempt only: another worker on the same box may run another attempt of the run
        worker.job_mark = f"{job.run_id}.{job.attempt}.{self.options.name}"
        result: dict[str, Any] = {}

        def target() -> None:
            try:
                worker.kwargs["cancel_callback"] = job.cancel.is_set
                status, rc = worker.run()
                result.update(status=status, rc=rc)
            except JobRefused as exc:
                result["refused"] = exc
            except Exception as exc:
                result.update(status="error", rc=None, error=f"{type(exc).__name__}: {exc}")
            finally:
                loop.call_soon_threadsafe(lines.put_nowait, None)

        thread = threading.Thread(target=target, name=f"job-{job.run_id}", daemon=True)
        thread.start()
        try:
            while True:
                line = await lines.get()
                if line is None:
                    break
                if line.strip() == EOF_LINE.strip():
                    continue  # sent last, with the rc
                await publish(line)
            thread.join()
            if "refused" in result:
                raise result["refused"]
            if "error" in result:
                text = json.dumps({"status": "error", "job_explanation": f"worker: {result['error']}"})
                await publish(text.encode() + b"\n")
            await publish(EOF_LINE, rc=result.get("rc"))
            return str(result.get("status")), result.get("rc")
        finally:
            # a cancelled job: ansible-runner stops ansible-playbook, not its forks (one per host), which
            # would go on with the hosts; nothing of the attempt outlives it
            await loop.run_in_executor(None, stop_job, worker.job_mark)
            shutil.rmtree(pdd, ignore_errors=True)


def run_worker(options: WorkerOptions) -> None:
    """Serve until SIGTERM / SIGINT (running jobs finish; a second signal cancels them)."""
    loop_obj = SiteWorkerLoop(options)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        signals = {"count": 0}

        serving = asyncio.create_task(loop_obj.serve())

        def on_signal() -> None:
            signals["count"] += 1
            if loop_obj.nc is None or (not loop_obj.nc.is_connected and not loop_obj.jobs):
                serving.cancel()  # still waiting for the server: nothing to finish
            loop_obj.shutdown(hard=signals["count"] > 1)

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal)
        with contextlib.suppress(asyncio.CancelledError):
            await serving

    asyncio.run(main())
