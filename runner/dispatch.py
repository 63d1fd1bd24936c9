"""The controller's side of a site's job (issue 17): ``ansible-runner transmit | worker | process`` on NATS.

:func:`run_on_site` takes the inputs of the local ``ansible_runner.run(...)`` of :mod:`runner.execute` and
runs the job on the site's worker instead:

1. ``ansible_runner`` with ``streamer="transmit"`` writes the job (its kwargs and a zip of a private data
   folder holding a copy of the client's inventory: vaulted values stay encrypted, the site's worker holds
   the vault password) into a buffer;
2. the payload is published to the site's work-queue stream (:func:`runner.sites.jobs_subject`). A payload
   larger than the server's ``max_payload`` is cut in chunks: the job message carries the first one and says
   how many there are (:data:`H_CHUNKS`); the others wait beside it (:func:`chunk_subject`) for the worker
   that takes the job to fetch them (direct get), and are purged when the run ends;
3. the worker's output (one message per event or status line, :func:`runner.sites.events_subject`) is read
   through a durable pull consumer named after the run (:func:`events_consumer`) and fed, line by line, to
   ``ansible_runner`` with ``streamer="process"`` and the caller's ``event_handler``: the same recorder
   records events as they arrive. A message is acknowledged only once the processor asked for the next
   line (the handler returned), so a controller restarted mid-run (``run_on_site`` again with the same
   ``ident``) finds the durable consumer, does not publish the job again and resumes with the first event
   it had not recorded.

Events are deduplicated by their uuid. A job redelivered to another worker (the first one died: its lease,
the consumer's ``ack_wait``, ran out) runs again as attempt 2 (:data:`H_ATTEMPT`, the message's delivery
count): ``attempt_handler(attempt, worker)`` is called when a newer attempt's first line arrives, and lines
of an older attempt arriving after it are dropped.

The worker never sends its artifacts folder (a site cannot write files on the controller); the controller's
artifacts hold the events the processor wrote (``job_events/``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import queue
import re
import shutil
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from runner import sites
from runner.events import ATTEMPT_FIELD

#: job message headers
H_RUN = "Maint-Run"
H_CHUNKS = "Maint-Chunks"
H_BYTES = "Maint-Payload-Bytes"
H_SHA256 = "Maint-Payload-Sha256"
#: event message headers (the worker's)
H_ATTEMPT = "Maint-Attempt"
H_WORKER = "Maint-Worker"
H_SEQ = "Maint-Seq"
H_RC = "Maint-Rc"
#: room kept in each message for its headers when a payload is cut to the server's max_payload
HEADER_ROOM = 1024
#: a run id as a NATS subject token and a consumer name
_IDENT = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: how often a waiting reader looks at cancel_callback (seconds)
POLL_S = 0.25
EOF_LINE = b'{"eof": true}\n'
#: the field the controller adds to each event of a site's job, beside its attempt (ATTEMPT_FIELD)
SITE_FIELD = "maint_site"
#: how long the controller has to hand an event on before the server offers it again (seconds)
EVENTS_ACK_WAIT_S = 10.0


#: the environment variables of :meth:`NatsSettings.from_env` (and the options of ``maint worker(s)``)
ENV = {
    "url": "MAINT_NATS_URL",
    "creds": "MAINT_NATS_CREDS",
    "tls_ca": "MAINT_NATS_TLS_CA",
    "tls_cert": "MAINT_NATS_TLS_CERT",
    "tls_key": "MAINT_NATS_TLS_KEY",
}


class DispatchError(Exception):
    """A site job cannot be sent or followed (bad settings, the server refusing); the message says why."""


@dataclass(frozen=True)
class NatsSettings:
    """How to reach the NATS server: its URL (``tls://host:4222``), the user's nkeys seed file, and TLS."""

    url: str
    creds: Path
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    connect_timeout: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> NatsSettings | None:
        """The controller's settings from ``MAINT_NATS_URL``, ``MAINT_NATS_CREDS`` and ``MAINT_NATS_TLS_CA``,
        ``_CERT``, ``_KEY`` (None when ``MAINT_NATS_URL`` is unset: no site workers)."""
        url = env.get(ENV["url"])
        if not url:
            return None

        def path(key: str) -> Path | None:
            value = env.get(ENV[key])
            return Path(value).expanduser() if value else None

        return cls(
            url=url,
            creds=path("creds") or Path("controller.nk"),
            tls_ca=path("tls_ca"),
            tls_cert=path("tls_cert"),
            tls_key=path("tls_key"),
        )

    def problem(self) -> str | None:
        """Why these settings cannot be used (one line naming the option), or None."""
        parts = urlsplit(self.url)
        if parts.scheme not in ("nats", "tls") or not parts.hostname:
            return f"--nats: {self.url!r} is not a NATS URL (tls://host:4222)"
        if not self.creds.is_file():
            return f"--creds: {self.creds}: no such file (the user's nkeys seed, site-<site>.nk)"
        if self.creds.stat().st_mode & 0o077:
            return f"--creds: {self.creds}: readable by others: chmod 600 it, it holds a secret"
        if (self.tls_cert is None) != (self.tls_key is None):
            return "--tls-cert and --tls-key go together"
        for option, path in (
            ("--tls-ca", self.tls_ca),
            ("--tls-cert", self.tls_cert),
            ("--tls-key", self.tls_key),
        ):
            if path is not None and not path.is_file():
                return f"{option}: {path}: no such file"
        return None

    def tls_context(self) -> ssl.SSLContext | None:
        """The TLS context: the CA given (else the system's), the client certificate when given."""
        if self.tls_ca is None and self.tls_cert is None and urlsplit(self.url).scheme != "tls":
            return None
        context = ssl.create_default_context(
            ssl.Purpose.SERVER_AUTH, cafile=str(self.tls_ca) if self.tls_ca else None
        )
        if self.tls_cert is not None and self.tls_key is not None:
            context.load_cert_chain(str(self.tls_cert), str(self.tls_key))
        return context


async def connect(
    settings: NatsSettings, site: str | None, *, name: str | None = None, attempts: int = 30
) -> Any:
    """A nats-py connection as the controller (``site`` None) or as ``site``'s worker (its inbox prefix).

    ``attempts`` connection attempts a second apart, at first and after each loss (-1: for ever, a worker's
    service); the controller's 30 ride out a server restart, then the run stops (resumable)."""
    import nats

    why = settings.problem()
    if why is not None:
        raise DispatchError(why)

    async def on_error(exc: Exception) -> None:  # permissions violations, slow consumers: said, not raised
        import logging

        logging.getLogger(__name__).warning("nats: %s", exc)

    host = urlsplit(settings.url).hostname
    try:
        return await nats.connect(
            settings.url,
            name=name,
            tls=settings.tls_context(),
            tls_hostname=host,
            nkeys_seed=str(settings.creds),
            inbox_prefix=sites.inbox_prefix(site),
            error_cb=on_error,
            connect_timeout=settings.connect_timeout,
            max_reconnect_attempts=attempts,
            reconnect_time_wait=1,
        )
    except Exception as exc:  # nats-py raises its own classes, OSError and ssl errors: one line
        raise DispatchError(f"cannot connect to {settings.url}: {type(exc).__name__}: {exc}") from None


def chunk_subject(site: str, run_id: str, index: int) -> str:
    """Where chunk ``index`` (1, 2, ...) of a run's payload waits in the site's jobs stream."""
    return f"{sites.jobs_subject(site)}.chunk.{run_id}.{index}"


def events_consumer(run_id: str) -> str:
    """The controller's durable consumer of one run's events."""
    return f"run_{run_id}"


async def ensure_site(nc: Any, site: str, *, ack_wait: float = 60.0, max_deliver: int = 5) -> None:
    """Create (or bring up to date) a site's streams, and its workers' shared consumer when missing (an
    existing one is kept as it is), as the controller:

    - ``MAINT_JOBS_<site>``: work queue of the job messages, and the chunks of large payloads (direct get);
    - the consumer ``workers``: a job not acknowledged within ``ack_wait`` seconds (the lease a running
      worker keeps extending) goes to another worker, at most ``max_deliver`` times;
    - ``MAINT_EVENTS_<site>``: the workers' events until the controller has recorded them;
    - ``MAINT_HEARTBEATS``: the last heartbeat of every worker.
    """
    from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StorageType, StreamConfig
    from nats.js.errors import BadRequestError

    js = nc.jetstream()
    day = 24 * 3600.0
    streams = [
        StreamConfig(
            name=sites.jobs_stream(site),
            subjects=[sites.jobs_subject(site), f"{sites.jobs_subject(site)}.chunk.>"],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            max_bytes=256 * 1024**2,
            max_age=7 * day,
            allow_direct=True,
        ),
        StreamConfig(
            name=sites.events_stream(site),
            subjects=[f"maint.events.{site}.>"],
            storage=StorageType.FILE,
            max_bytes=256 * 1024**2,
            max_age=7 * day,
        ),
        StreamConfig(
            name=sites.HEARTBEATS_STREAM,
            subjects=["maint.heartbeats.>"],
            storage=StorageType.FILE,
            max_msgs_per_subject=1,
            max_age=7 * day,
        ),
    ]
    for config in streams:
        try:
            await js.add_stream(config)
        except BadRequestError:  # exists with another configuration (an older maint's): bring it up to date
            await js.update_stream(config)
    from nats.js.errors import NotFoundError

    try:  # the consumer as it is: its ack_wait may have been tuned since
        await js.consumer_info(sites.jobs_stream(site), sites.JOBS_CONSUMER)
        return
    except NotFoundError:
        pass
    await js.add_consumer(
        sites.jobs_stream(site),
        ConsumerConfig(
            durable_name=sites.JOBS_CONSUMER,
            filter_subject=sites.jobs_subject(site),
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=ack_wait,
            max_deliver=max_deliver,
        ),
    )


# --------------------------------------------------------------------------- the payload


class _Buffer(io.BytesIO):
    name = "<maint payload>"  # ansible_runner's stream_dir looks at the stream's name


def _stage_inventory(inventory: Path, stage: Path, hosts: set[str] | None) -> Path:
    """Copy the client's hosts file, group_vars/ and host_vars/ (of ``hosts`` only, when known) to
    ``stage/inventory``; the copy of the hosts file is returned. Files are copied as they are: vaulted
    values stay encrypted."""
    target = stage / "inventory"
    target.mkdir(parents=True)
    copied = target / inventory.name
    shutil.copyfile(inventory, copied)
    group_vars = inventory.parent / "group_vars"
    if group_vars.is_dir():
        shutil.copytree(group_vars, target / "group_vars")
    host_vars = inventory.parent / "host_vars"
    if host_vars.is_dir():
        (target / "host_vars").mkdir()
        for entry in sorted(host_vars.iterdir()):
            stem = entry.name if entry.is_dir() else entry.name.rsplit(".", 1)[0]
            if hosts is not None and stem not in hosts and entry.name not in hosts:
                continue
            if entry.is_dir():
                shutil.copytree(entry, target / "host_vars" / entry.name)
            else:
                shutil.copyfile(entry, target / "host_vars" / entry.name)
    return copied


def _planned_hosts(extravars: Mapping[str, Any]) -> set[str] | None:
    targets = extravars.get("maint_targets")
    if not isinstance(targets, Mapping):
        return None
    return {str(h) for hosts in targets.values() if isinstance(hosts, list) for h in hosts}


def build_payload(
    *,
    playbook: str,
    inventory: str,
    extravars: Mapping[str, Any],
    envvars: Mapping[str, str],
    cmdline: str | None,
    ident: str,
    limit: str | None = None,
    settings: Mapping[str, Any] | None = None,
) -> bytes:
    """The job as ``ansible-runner transmit`` writes it (kwargs line, zipped private data folder, eof)."""
    import ansible_runner

    with tempfile.TemporaryDirectory(prefix="maint-transmit-") as tmp:
        stage = Path(tmp)
        hosts_copy = _stage_inventory(Path(inventory), stage, _planned_hosts(extravars))
        buffer = _Buffer()
        kwargs: dict[str, Any] = {
            "private_data_dir": str(stage),
            "ident": ident,
            "playbook": playbook,
            "inventory": str(hosts_copy),
            "extravars": dict(extravars),
            "envvars": dict(envvars),
            "cmdline": cmdline,
            "quiet": True,
            "suppress_env_files": True,
            "rotate_artifacts": 0,
            "settings": dict(settings or {}),
        }
        if limit:
            kwargs["limit"] = limit
        ansible_runner.run(streamer="transmit", _output=buffer, **kwargs)
        return buffer.getvalue()


def chunks(payload: bytes, max_payload: int) -> list[bytes]:
    """``payload`` cut in pieces that fit a message of ``max_payload`` bytes (headers included)."""
    size = max(1024, max_payload - HEADER_ROOM)
    return [payload[i : i + size] for i in range(0, len(payload), size)] or [b""]


# --------------------------------------------------------------------------- following the events


@dataclass
class SiteResult:
    """What ``ansible_runner.run`` returns that :mod:`runner.execute` reads, and how the job went."""

    rc: int | None
    status: str
    attempts: int = 0
    workers: list[str] = field(default_factory=list)
    resumed: bool = False
    events: int = 0
    duplicates: int = 0
    chunks: int = 0


@dataclass
class _Line:
    data: bytes
    msg: Any
    attempt: int
    worker: str
    rc: int | None


class _Reader:
    """The processor's input: the lines of the run's event messages, deduplicated, newest attempt only.

    ``readline`` acknowledges the previous message (the processor is done with it) before waiting for the
    next one; while waiting it looks at ``cancel_callback`` and ends the stream (``canceled``) when it says
    so.
    """

    def __init__(
        self,
        link: _Link,
        cancel_callback: Callable[[], bool] | None,
        attempt_handler: Callable[[int, str], None] | None,
        idle_timeout: float | None = None,
    ) -> None:
        self.link = link
        self.idle_timeout = idle_timeout
        self.last = time.monotonic()
        self.gave_up = False
        self.cancel_callback = cancel_callback
        self.attempt_handler = attempt_handler
        self.pending: Any = None
        self.seen: set[str] = set()
        self.attempt = 0
        self.workers: list[str] = []
        self.rc: int | None = None
        self.finished = False  # the worker's eof reached the processor
        self.canceled = False
        self.events = 0
        self.duplicates = 0
        self._queued: list[bytes] = []

    def _ack_pending(self) -> None:
        if self.pending is not None:
            self.link.ack(self.pending)
            self.pending = None

    def _end(self, status: str, why: str | None = None) -> bytes:
        data: dict[str, Any] = {"status": status}
        if why:
            data["job_explanation"] = why
        self._queued = [EOF_LINE]
        return json.dumps(data).encode() + b"\n"

    def readline(self) -> bytes:
        self._ack_pending()
        if self._queued:
            return self._queued.pop(0)
        while True:
            if self.cancel_callback is not None and self.cancel_callback():
                self.canceled = True
                return self._end("canceled", "the run was interrupted on the controller")
            try:
                item = self.link.lines.get(timeout=POLL_S)
            except queue.Empty:
                if self.idle_timeout is not None and time.monotonic() - self.last > self.idle_timeout:
                    self.gave_up = True
                    return self._end(
                        "error",
                        f"nothing from site {self.link.site} for {self.idle_timeout:.0f} s: is a worker of "
                        "the site running (maint workers)?",
                    )
                continue
            self.last = time.monotonic()
            if isinstance(item, str):  # the link failed
                return self._end("error", item)
            line = self._accept(item)
            if line is not None:
                return line

    def _accept(self, item: _Line) -> bytes | None:
        if item.attempt < self.attempt:  # a late line of an attempt another worker has taken over
            self.link.ack(item.msg)
            return None
        try:
            data = json.loads(item.data)
        except ValueError:
            self.link.ack(item.msg)
            return None
        if not isinstance(data, dict):
            self.link.ack(item.msg)
            return None
        if item.attempt > self.attempt:
            self.attempt = item.attempt
            if item.worker not in self.workers:
                self.workers.append(item.worker)
            if self.attempt_handler is not None:
                self.attempt_handler(item.attempt, item.worker)
        uuid = data.get("uuid")
        if isinstance(uuid, str) and uuid:
            if uuid in self.seen:
                self.duplicates += 1
                self.link.ack(item.msg)
                return None
            self.seen.add(uuid)
            self.events += 1
        if data.get("eof"):
            self.rc = item.rc
            self.finished = True
        self.pending = item.msg
        if "event" in data:  # which site and attempt: the recorder and ingest keep one result per check
            data[ATTEMPT_FIELD] = item.attempt
            data[SITE_FIELD] = self.link.site
            return json.dumps(data).encode() + b"\n"
        return item.data if item.data.endswith(b"\n") else item.data + b"\n"

    def close(self) -> None:
        self._ack_pending()


class _Link:
    """The controller's NATS side of one run, in a thread of its own running an asyncio loop."""

    def __init__(
        self,
        site: str,
        nats: NatsSettings,
        run_id: str,
        payload: Callable[[], bytes],
        resume_only: bool = False,
    ) -> None:
        self.site, self.nats, self.run_id, self.payload = site, nats, run_id, payload
        self.resume_only = resume_only
        self.lines: queue.Queue[_Line | str] = queue.Queue()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.resumed = False
        self.error: str | None = None
        self.job_seq: int | None = None
        self.chunks = 0  # messages the payload took (0: resumed, not sent again)
        self._stop: asyncio.Event | None = None
        self.release = False
        self._nc: Any = None
        self.thread = threading.Thread(target=self._main, name=f"maint-site-{site}", daemon=True)

    def start(self) -> None:
        self.thread.start()
        self.ready.wait()
        if self.error is not None:
            self.thread.join(timeout=10)
            raise DispatchError(self.error)

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve())
        finally:
            self.loop.close()

    async def _open(self) -> Any:
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
        from nats.js.errors import NotFoundError

        self._nc = await connect(self.nats, None, name=f"maint controller {self.run_id}")
        js = self._nc.jetstream()
        await ensure_site(self._nc, self.site)
        stream, durable = sites.events_stream(self.site), events_consumer(self.run_id)
        try:
            info = await js.consumer_info(stream, durable)
            self.resumed = True
            if info.num_ack_pending:
                # a controller that died left events fetched and not handed on: the server offers them
                # again, before the later ones, once their ack_wait has run out; waiting for that keeps
                # the events in order (the worker's eof must not come before them)
                wait = float(info.config.ack_wait or EVENTS_ACK_WAIT_S)
                await asyncio.sleep(wait + 0.5)
        except NotFoundError:
            if self.resume_only:
                raise DispatchError(
                    f"site {self.site}: nothing of run {self.run_id} to follow on {self.nats.url} (it ended, "
                    "its events aged out, or it was never sent)"
                ) from None
            await js.add_consumer(
                stream,
                ConsumerConfig(
                    durable_name=durable,
                    filter_subject=sites.events_subject(self.site, self.run_id),
                    deliver_policy=DeliverPolicy.ALL,
                    ack_policy=AckPolicy.EXPLICIT,
                    ack_wait=EVENTS_ACK_WAIT_S,
                    max_ack_pending=20000,
                ),
            )
        sub = await js.pull_subscribe_bind(durable=durable, stream=stream)
        if not self.resumed:
            await self._publish(js)
        return sub

    async def _publish(self, js: Any) -> None:
        payload = await asyncio.get_running_loop().run_in_executor(None, self.payload)
        pieces = chunks(payload, int(self._nc.max_payload))
        for index, piece in enumerate(pieces[1:], start=1):
            await js.publish(chunk_subject(self.site, self.run_id, index), piece)
        headers = {
            H_RUN: self.run_id,
            H_CHUNKS: str(len(pieces)),
            H_BYTES: str(len(payload)),
            H_SHA256: hashlib.sha256(payload).hexdigest(),
            "Nats-Msg-Id": f"job-{self.run_id}",
        }
        ack = await js.publish(sites.jobs_subject(self.site), pieces[0], headers=headers)
        self.job_seq, self.chunks = ack.seq, len(pieces)

    async def _serve(self) -> None:
        import nats.errors

        self._stop = asyncio.Event()
        try:
            sub = await self._open()
        except DispatchError as exc:
            self.error = str(exc)
            self.ready.set()
            return
        except Exception as exc:  # the server refusing (permissions, limits): one line
            self.error = f"site {self.site}: cannot send the job: {type(exc).__name__}: {exc}"
            self.ready.set()
            await self._close()
            return
        self.ready.set()
        try:
            while not self._stop.is_set():
                try:
                    msgs = await sub.fetch(batch=64, timeout=1)
                except (TimeoutError, nats.errors.TimeoutError):
                    continue
                except Exception as exc:  # reconnecting (the client tries again), or closed for good
                    if self._nc.is_closed:
                        self.lines.put(f"site {self.site}: the connection to {self.nats.url} closed: {exc}")
                        return
                    await asyncio.sleep(1)
                    continue
                for msg in msgs:
                    headers = msg.headers or {}
                    try:
                        attempt = int(headers.get(H_ATTEMPT, "1"))
                    except ValueError:
                        attempt = 1
                    rc_text = headers.get(H_RC)
                    self.lines.put(
                        _Line(
                            data=msg.data,
                            msg=msg,
                            attempt=attempt,
                            worker=str(headers.get(H_WORKER, "?")),
                            rc=int(rc_text) if rc_text and rc_text.lstrip("-").isdigit() else None,
                        )
                    )
        finally:
            if self.release:
                await self._release()
            await self._close()

    async def _close(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.close()

    def ack(self, msg: Any) -> None:
        asyncio.run_coroutine_threadsafe(msg.ack(), self.loop)

    async def _cleanup(self, withdraw: bool) -> None:
        """The run is over: its consumer, events and chunks go; with ``withdraw``, the job too, and a
        worker that took it is told to stop it (:func:`runner.sites.cancel_subject`: its playbook stops, the
        job ends ``canceled`` and is not run again). A worker that is not connected at that moment misses
        the word: its job finishes at the site and its events age out of the stream."""
        js = self._nc.jetstream()
        if withdraw:  # a worker running it stops it (runner.worker); none running: nobody listens
            with contextlib.suppress(Exception):
                await self._nc.publish(sites.cancel_subject(self.site, self.run_id), b"")
                await self._nc.flush(timeout=5)
        if self.job_seq is not None and withdraw:
            # already acknowledged by a worker: nothing to withdraw
            with contextlib.suppress(Exception):
                await js.delete_msg(sites.jobs_stream(self.site), self.job_seq)
        await js.delete_consumer(sites.events_stream(self.site), events_consumer(self.run_id))
        await js.purge_stream(
            sites.events_stream(self.site), subject=sites.events_subject(self.site, self.run_id)
        )
        await js.purge_stream(
            sites.jobs_stream(self.site), subject=f"{sites.jobs_subject(self.site)}.chunk.{self.run_id}.>"
        )

    async def _release(self) -> None:
        """Hand back the messages fetched but not given to the processor: redelivered at once to the
        consumer's next reader (``run_on_site`` again with the same ident), not after ``ack_wait``."""
        while True:
            try:
                item = self.lines.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, _Line):
                with contextlib.suppress(Exception):
                    await item.msg.nak()

    def finish(self, cleanup: bool, withdraw: bool) -> None:
        """Stop the thread; first, with ``cleanup``, remove what the run left on the server (else hand the
        unread messages back)."""
        self.release = not cleanup
        if cleanup and self.thread.is_alive() and self._nc is not None and not self._nc.is_closed:
            future = asyncio.run_coroutine_threadsafe(self._cleanup(withdraw), self.loop)
            try:
                future.result(timeout=15)
            except Exception as exc:  # the run is recorded; what is left in the stream ages out
                import logging

                logging.getLogger(__name__).warning(
                    "site %s: cleanup after run %s: %s", self.site, self.run_id, exc
                )
        if self._stop is not None and self.thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile
                self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(timeout=15)


def _write_status(artifact_dir: Path, status: str, rc: int | None) -> None:
    """The job's ``status`` and ``rc`` files, as a local ansible-runner job leaves them (the processor
    writes none): ``maint ledger ingest`` reads them to tell a part that ended from one to follow."""
    try:
        artifact_dir.mkdir(parents=True, exist_ok=True)
        (artifact_dir / "status").write_text(status)
        if rc is not None:
            (artifact_dir / "rc").write_text(str(rc))
    except OSError as exc:
        import logging

        logging.getLogger(__name__).warning("%s: cannot write the job's status: %s", artifact_dir, exc)


def run_on_site(
    site: str,
    nats: NatsSettings,
    *,
    private_data_dir: str,
    playbook: str,
    inventory: str,
    extravars: Mapping[str, Any],
    envvars: Mapping[str, str],
    cmdline: str | None,
    ident: str,
    event_handler: Callable[[dict[str, Any]], Any],
    cancel_callback: Callable[[], bool] | None = None,
    limit: str | None = None,
    settings: Mapping[str, Any] | None = None,
    status_handler: Callable[..., Any] | None = None,
    attempt_handler: Callable[[int, str], None] | None = None,
    keep_on_cancel: bool = False,
    idle_timeout: float | None = None,
    resume_only: bool = False,
) -> SiteResult:
    """Run one job on ``site``'s worker and feed its events to ``event_handler`` as they arrive.

    The inputs are those of the local ``ansible_runner.run``; ``project_dir`` is the worker's own. Returns
    when the worker's output ends (its eof), when ``cancel_callback`` says so (status ``canceled``: the job
    is withdrawn when no worker took it yet; a running one is stopped by its worker), or
    when the connection is lost (status ``error``: the run's consumer stays, ``run_on_site`` with the same
    ``ident`` resumes; so does a cancellation with ``keep_on_cancel``), or after ``idle_timeout`` seconds
    without a line from the site (status ``error``; the job is withdrawn; the worker sends a keepalive every
    :data:`runner.worker.KEEPALIVE_S` while a task runs long). ``attempt_handler(attempt, worker)`` is called
    when an attempt's first line arrives. :class:`DispatchError` when the job cannot be sent; with
    ``resume_only`` (``maint ledger ingest`` of a run whose controller died), when there is no job of that
    ``ident`` to follow: it is never sent then.
    """
    import ansible_runner

    from runner.inventory.schema import site_name_problem

    why = site_name_problem(site)
    if why is not None:
        raise DispatchError(f"site {site!r}: {why}")
    if not _IDENT.fullmatch(ident):
        raise DispatchError(f"ident {ident!r}: a run id is letters, digits, '_' and '-' (at most 64)")

    def payload() -> bytes:
        return build_payload(
            playbook=playbook,
            inventory=inventory,
            extravars=extravars,
            envvars=envvars,
            cmdline=cmdline,
            ident=ident,
            limit=limit,
            settings=settings,
        )

    link = _Link(site, nats, ident, payload, resume_only)
    link.start()
    reader = _Reader(link, cancel_callback, attempt_handler, idle_timeout)
    processor: Any = None
    try:
        processor = ansible_runner.run(
            streamer="process",
            _input=reader,
            private_data_dir=private_data_dir,
            ident=ident,
            event_handler=event_handler,
            status_handler=status_handler,
            quiet=True,
            settings=dict(settings or {}),
        )
    finally:
        reader.close()
        # the end of the run (or its cancellation) removes its consumer and events; a lost connection
        # keeps them for run_on_site with the same ident to resume
        link.finish(
            cleanup=reader.finished or reader.gave_up or (reader.canceled and not keep_on_cancel),
            withdraw=(reader.canceled or reader.gave_up) and not reader.finished,
        )
    status = str(getattr(processor, "status", "error"))
    if reader.canceled:
        status = "canceled"
    _write_status(Path(private_data_dir) / "artifacts" / ident, status, reader.rc)
    return SiteResult(
        rc=reader.rc,
        status=status,
        attempts=reader.attempt,
        workers=reader.workers,
        resumed=link.resumed,
        events=reader.events,
        duplicates=reader.duplicates,
        chunks=link.chunks,
    )


__all__ = [
    "DispatchError",
    "NatsSettings",
    "SiteResult",
    "build_payload",
    "chunk_subject",
    "chunks",
    "connect",
    "ensure_site",
    "events_consumer",
    "run_on_site",
]
