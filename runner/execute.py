"""Run one maintenance job: inventory -> ansible-runner -> ledger, recording as events arrive.

The CLI builds a :class:`RunRequest` and calls :func:`execute`; nothing here prints. Progress
goes to a :class:`RunObserver` so a terminal, a scheduler and a test can each watch a run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import secrets
import signal
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol

import ansible_runner
from pydantic import BaseModel, ConfigDict, Field

from runner import notify, paths
from runner.credentials import Scrubber, known_credentials, secret_env_name
from runner.events import (
    AssetObservation,
    AttemptFilter,
    RunContext,
    event_attempt,
    from_event,
    missing_rows,
    run_outcome,
    status_counts,
)
from runner.inventory import Client, ClientSettings, Mode, known_roles, load_client
from runner.inventory.hostvars import platforms as host_platforms
from runner.inventory.patterns import job_limit
from runner.ledger import Ledger, LedgerError, RunRecord, RunStatus, keys
from runner.ledger.checkpoints import StoredCheckpoint
from runner.ledger.note import Signer
from runner.locks import HostLocks
from runner.procs import JOB_MARK, stop_job
from runner.redact import MASK
from runner.results import CheckResult, Status

if TYPE_CHECKING:
    from runner.interventions import TicketRun

log = logging.getLogger(__name__)

RUN_FILE = "maint-run.json"
SITE_PLAYBOOK = "site.yml"
ROLE_PLAYBOOK = "role.yml"
#: environment variables whose values ansible-runner's ``command`` artifact keeps (paths and switches);
#: every other value there is masked, whatever its name, besides the scrub of every known credential
COMMAND_ENV_KEPT = frozenset(
    {"PATH", "HOME", "LANG", "LANGUAGE", "PWD", "USER", "LOGNAME", "SHELL", "TERM", "TZ", "TMPDIR"}
    | {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONUNBUFFERED", "MAINT_HOME", "MAINT_VAR", "MAINT_INVENTORIES"}
    | {JOB_MARK, "AWX_ISOLATED_DATA_DIR", "RUNNER_OMIT_EVENTS", "RUNNER_ONLY_FAILED_EVENTS"}
)
#: seconds between two looks of ansible-runner at the cancel callback (its default is 5)
CANCEL_POLL_S = 0.5
#: a site's job with nothing from its worker for this long ends in error (the worker sends a keepalive
#: while a task runs long: runner.worker.KEEPALIVE_S)
SITE_IDLE_S = 600.0


class RunError(Exception):
    """The run cannot start: the message says what to fix (exit code 2)."""


class RunRequest(BaseModel):
    """What a technician or the scheduler asks for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client: str
    roles: tuple[str, ...] = ()
    limit: str | None = None
    mode: Mode = Mode.AUDIT
    ticket: str | None = None
    reason: str | None = None
    trigger: str = "manual"
    requested_by: str = Field(default_factory=lambda: os.environ.get("USER", ""))
    extra_vars: Mapping[str, Any] = Field(default_factory=dict)
    # a ticket run's intervention (runner.interventions): who, when the ticket was opened (naive: client
    # time), the controls that decide it (empty: every control of the roles run), a fresh proactive review
    technician: str | None = None
    opened_at: datetime | None = None
    controls: tuple[str, ...] = ()
    review: bool = False
    # run the job under mitogen's strategy (runner.accelerate); None: the client's maintenance.accelerate
    accelerate: bool | None = None


@dataclass
class RunOutcome:
    run_id: str
    client: str
    status: RunStatus
    private_data_dir: Path
    artifact_dir: Path
    counts: dict[str, int] = field(default_factory=dict)
    results: list[CheckResult] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    settings: ClientSettings | None = None  # the client's settings the run was planned with
    not_reached: list[str] = field(default_factory=list)  # planned hosts not (fully) reached
    #: the checkpoint of the client's tree made when the run ended (None if it could not be made)
    checkpoint: StoredCheckpoint | None = None
    #: roles run once for a ticket though not assigned to the client (also the summary's ``one_off_roles``)
    one_off_roles: list[str] = field(default_factory=list)
    #: a ticket run with --review: the audit of the hosts' other roles that followed it
    review: RunOutcome | None = None
    #: the job ran under mitogen's strategy; asked for but not possible: why (it then ran plain)
    accelerated: bool = False
    accelerate_fallback: str | None = None

    @property
    def all_passed(self) -> bool:
        return all(r.status is Status.PASS for r in self.results) and bool(self.results)


class RunObserver(Protocol):
    def started(self, run_id: str, client: str, hosts: Sequence[str]) -> None: ...

    def recorded(self, host: str, results: Sequence[CheckResult], host_done: bool) -> None: ...

    def finished(self, outcome: RunOutcome) -> None: ...


class _NullObserver:
    def started(self, run_id: str, client: str, hosts: Sequence[str]) -> None:
        pass

    def recorded(self, host: str, results: Sequence[CheckResult], host_done: bool) -> None:
        pass

    def finished(self, outcome: RunOutcome) -> None:
        pass


def new_run_id(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(3)}"


def one_off_roles(request: RunRequest, settings: ClientSettings) -> list[str]:
    """The requested roles not assigned to any group of the client: a ticket's one-off corrective check."""
    return sorted({r for r in request.roles if r not in settings.roles})


def plan_run(request: RunRequest, inventories: Path | None = None) -> tuple[Client, dict[str, list[str]]]:
    """Validate the request against the client's inventory; return the role -> hosts plan.

    With a ticket, a known role not assigned to the client is a one-off corrective check: planned on
    the ``--limit`` hosts (required then), recorded as any other; the state leaves it out while unassigned.
    """
    client = load_client(request.client, inventories)
    settings = client.settings
    unknown = one_off_roles(request, settings)
    if unknown and request.ticket is None:
        listed = ", ".join(sorted(settings.roles)) or "none"
        raise RunError(
            f"role(s) {', '.join(unknown)} not assigned to any group of client {request.client!r} "
            f"(assigned: {listed}); add them under maintenance.roles in {client.settings_file}, "
            "or run them once for a ticket (--ticket ID --limit HOSTS)"
        )
    if unknown:
        known = known_roles()
        missing = [r for r in unknown if r not in known]
        if missing:
            raise RunError(f"--role {', '.join(missing)}: no such role (known: {', '.join(sorted(known))})")
        if not request.limit:
            raise RunError(
                f"--role {', '.join(unknown)} is not assigned to client {request.client!r}: a one-off run "
                f"for ticket {request.ticket!r} needs --limit naming the hosts to check"
            )
    if request.mode not in settings.modes_allowed:
        raise RunError(
            f"mode {request.mode.value!r} is not allowed for client {request.client!r} "
            f"(modes_allowed: {', '.join(m.value for m in settings.modes_allowed)})"
        )
    assigned = [r for r in request.roles if r not in unknown]
    plan = client.plan(assigned, request.limit) if assigned or not request.roles else {}
    if unknown:  # the hosts of the --limit pattern, as Ansible selects it over the whole inventory
        limited = sorted(set(client.ansible_hosts().select("all", what="--limit", limit=request.limit)))
        plan = {role: plan.get(role, limited) for role in request.roles}
    if not any(plan.values()):
        what = f"--limit {request.limit!r}" if request.limit else "the role assignments"
        raise RunError(f"{what} selects no host of client {request.client!r}")
    return client, {role: hosts for role, hosts in plan.items() if hosts}


def _write_private(path: Path, content: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(content)
    tmp.replace(path)


def _runner_env() -> dict[str, str]:
    bindir = str(Path(sys.executable).parent)
    return {
        "ANSIBLE_CONFIG": str(paths.ansible_cfg()),
        "ANSIBLE_ROLES_PATH": str(paths.roles_dir()),
        # the maint.core collection: MAINT_HOME's own, else the installed package's (runner/paths.py)
        "ANSIBLE_COLLECTIONS_PATH": str(paths.collections_dir()),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def _kept_env(key: str, maint_env: Mapping[str, str]) -> bool:
    return key in maint_env or key in COMMAND_ENV_KEPT or key.startswith(("ANSIBLE_", "LC_"))


def scrub_artifacts(
    private_data_dir: Path, scrubber: Scrubber, maint_env: Mapping[str, str] | None = None
) -> None:
    """Keep credentials out of a run's folder: every file scrubbed by value, the ``command`` env masked.

    In ``artifacts/*/command`` only the values of :data:`COMMAND_ENV_KEPT`, ``ANSIBLE_*``, ``LC_*`` and
    the variables maint itself set are kept (names that look secret are masked even there).
    """
    env_of_maint = maint_env or {}
    for command in private_data_dir.glob("artifacts/*/command"):
        try:
            data = json.loads(command.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        env = data.get("env") if isinstance(data, dict) else None
        if isinstance(env, dict):
            for key in list(env):
                if secret_env_name(key) or not _kept_env(key, env_of_maint):
                    env[key] = MASK
            _write_private(command, json.dumps(data))
    scrubber.tree(private_data_dir)


class _Interrupt:
    """SIGINT/SIGTERM ask the job to stop; what was recorded stays recorded.

    The first look after the signal stops every process of the job (:func:`runner.procs.stop_job`:
    ansible-playbook and each fork, which sit in sessions of their own) and waits for them, then
    tells ansible-runner the job was cancelled. A job run in a thread (``maint due``) cannot take the
    signals: its caller catches them and sets ``stop``, which asks the same.
    """

    def __init__(self, run_id: str = "", stop: threading.Event | None = None) -> None:
        self.run_id = run_id
        self.signal: int | None = None
        self.stop = stop
        self.stopped = False
        self._previous: dict[signal.Signals, Any] = {}

    @contextlib.contextmanager
    def installed(self) -> Iterator[_Interrupt]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        try:
            yield self
        finally:
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signal = int(signum)

    def cancelled(self) -> bool:
        if self.signal is None and self.stop is not None and self.stop.is_set():
            self.signal = int(signal.SIGTERM)
        if self.signal is not None and not self.stopped and self.run_id:
            self.stopped = True
            stop_job(self.run_id)
        return self.signal is not None


class _Recorder:
    """The live event handler: every event's results go to the ledger as they arrive.

    ansible-runner calls the handler in the loop that reads the job's output, so a slow
    commit there would stall the playbook. The handler only turns the event into rows and
    queues them; a writer thread records whatever has queued, batch by batch, within
    milliseconds. Should the process die with rows still queued, the job's artifacts hold
    the events and `maint ledger ingest` adds the missing rows.
    """

    def __init__(
        self, ledger: Ledger, ctx: RunContext, observer: RunObserver, scrubber: Scrubber | None = None
    ) -> None:
        self.ledger = ledger
        self.ctx = ctx
        self.observer = observer
        self.scrubber = scrubber or Scrubber(())
        self.seen: dict[tuple[str, str], set[str]] = {}
        self.lost: dict[str, str] = {}
        self.results: list[CheckResult] = []
        self.error: BaseException | None = None
        #: one row per check when a site's job ran twice (runner.events.AttemptFilter)
        self.attempts = AttemptFilter()
        self._done_hosts: set[str] = set()
        self._queue: queue.SimpleQueue[Sequence[tuple[str, CheckResult] | AssetObservation] | None] = (
            queue.SimpleQueue()
        )
        self._writer = threading.Thread(target=self._drain, name=f"ledger-{ctx.run_id}", daemon=True)
        self._writer.start()

    def _host_done(self, host: str) -> bool:
        """Every role planned for the host has reported (or the host dropped out)."""
        if host in self.lost:
            return True
        return all(self.seen.get((host, role)) for role in self.ctx.roles_for(host))

    def add_assets(self, observations: Sequence[AssetObservation]) -> None:
        """Record asset facts now (:func:`runner.assets.store.record_observations`)."""
        from runner.assets.store import record_observations

        record_observations(self.ledger, self.ctx.client, self.ctx.run_id, observations)

    def add(self, rows: Sequence[tuple[str, CheckResult]]) -> None:
        """Record rows now (the writer thread, or the caller once the writer is closed)."""
        if not rows:
            return
        self.ledger.record(rows)
        by_host: dict[str, list[CheckResult]] = {}
        for _key, row in rows:
            self.seen.setdefault((row.host, row.role), set()).add(row.control)
            self.results.append(row)
            by_host.setdefault(row.host, []).append(row)
        for host, host_rows in by_host.items():
            done = host not in self._done_hosts and self._host_done(host)
            if done:
                self._done_hosts.add(host)
            self.observer.recorded(host, host_rows, done)

    def _drain(self) -> None:
        while True:
            item = self._queue.get()
            stop = item is None
            batch: list[tuple[str, CheckResult]] = []
            assets: list[AssetObservation] = []
            pending = [] if item is None else [item]
            while not stop and not self._queue.empty():
                more = self._queue.get()
                if more is None:
                    stop = True
                else:
                    pending.append(more)
            for part in pending:
                for entry in part:
                    if isinstance(entry, AssetObservation):
                        assets.append(entry)
                    else:
                        batch.append(entry)
            if batch:
                try:
                    self.add(batch)
                except Exception as exc:  # reported at the end; ingest can add the rows later
                    log.exception("run %s: could not record %d results", self.ctx.run_id, len(batch))
                    self.error = self.error or exc
            if assets:
                try:
                    self.add_assets(assets)
                except Exception as exc:  # reported at the end; ingest can add them later
                    log.exception("run %s: could not record asset facts", self.ctx.run_id)
                    self.error = self.error or exc
            if stop:
                return

    def close(self) -> None:
        """Wait until every queued row is recorded; later rows are recorded by the caller."""
        if self._writer.is_alive():
            self._queue.put(None)
            self._writer.join()

    def __call__(self, event: dict[str, Any]) -> bool:
        try:
            # in place: ansible-runner writes the event's file from this very dict once we return
            self.scrubber.data(event)
            outcome = from_event(self.ctx, event)
            if outcome.lost_host and outcome.lost_reason:
                self.lost.setdefault(outcome.lost_host, outcome.lost_reason)
            results = self.attempts.keep(outcome.results, event_attempt(event)) if outcome.results else []
            if results:
                self._queue.put(results)
            if outcome.assets:
                self._queue.put(outcome.assets)
        except Exception as exc:  # the job goes on; the error is reported at the end
            log.exception("run %s: could not read event %s", self.ctx.run_id, event.get("uuid"))
            self.error = self.error or exc
        return True  # keep every event in the artifacts so `maint ledger ingest` can replay it


def _record_trends(
    recorder: _Recorder,
    ledger: Ledger,
    client: Client,
    run_id: str,
    plan: Mapping[str, Sequence[str]],
    ticket: str | None,
) -> None:
    """The capacity and error trends of the run's hosts (:mod:`runner.trends`), recorded in the run before
    the padding; a failure to record them is the run's recording error, never an exception here."""
    from runner import trends

    try:
        recorder.add(
            trends.trend_rows(ledger, client.name, run_id, plan, client.settings.thresholds, ticket=ticket)
        )
    except Exception as exc:
        log.exception("run %s: could not record the trend rows", run_id)
        recorder.error = recorder.error or exc


def _checkpoint(ledger: Ledger, client: str, signer: Signer | None) -> StoredCheckpoint | None:
    """The end-of-run checkpoint; a failure to make it is logged, never loses the run's results."""
    try:
        return ledger.checkpoint(client, signer)
    except (LedgerError, OSError) as exc:
        log.warning("no checkpoint made for %s after the run: %s", client, exc)
        return None


def _stop_abandoned(ledger: Ledger, client: str, hosts: Sequence[str]) -> None:
    """Stop what is left of the job of an abandoned run on these hosts (its maint process died, its
    ansible-playbook may not have), so the new run is the only one on them; it stays for ingest."""
    from runner.ingest import is_abandoned, planned_hosts

    for info in ledger.unfinished_runs(client):
        if set(planned_hosts(info)) & set(hosts) and is_abandoned(info):
            left = stop_job(info.run_id)
            if left:
                raise RunError(
                    f"run {info.run_id} was abandoned but its job's processes {sorted(left)} would not stop: "
                    f"they may still be working on {', '.join(sorted(set(planned_hosts(info)) & set(hosts)))}"
                )


def _ticket_run(request: RunRequest, client: Client, plan: dict[str, list[str]]) -> TicketRun | None:
    """What a ticket run records (:mod:`runner.interventions`); RunError names a bad ticket option."""
    if request.ticket is None:
        if request.technician or request.opened_at or request.controls or request.review:
            raise RunError("--technician, --opened-at, --control and --review need --ticket ID")
        return None
    import getpass

    from runner import interventions

    try:
        return interventions.prepare(
            client,
            plan,
            ticket=request.ticket,
            technician=request.technician or getpass.getuser(),
            opened_at=request.opened_at,
            controls=request.controls,
            review=request.review,
            limit=request.limit,
            now=datetime.now(UTC),
            review_run_id=new_run_id() if request.review else None,
        )
    except interventions.InterventionError as exc:
        raise RunError(str(exc)) from None


def _review_request(request: RunRequest, ticket: TicketRun, run_id: str) -> RunRequest:
    """The proactive review after a ticket's corrective run: an audit of the hosts' other roles."""
    hosts = sorted({h for hs in ticket.review_plan.values() for h in hs})
    return RunRequest(
        client=request.client,
        roles=tuple(ticket.review_plan),
        limit=",".join(hosts),
        mode=Mode.AUDIT,
        reason=f"proactive review for ticket {ticket.ticket} (run {run_id})",
        trigger=request.trigger,
        requested_by=request.requested_by,
        accelerate=request.accelerate,
    )


def _accelerate(
    request: RunRequest, settings: ClientSettings, observer: RunObserver
) -> tuple[dict[str, str], str | None]:
    """The job's mitogen environment when the run asks for it (``({}, None)`` when it does not).

    Asked for but not possible: one line saying why, to the observer's ``note`` if it has one (the CLI's
    console), else the log; the run then goes on plain.
    """
    wanted = settings.accelerate if request.accelerate is None else request.accelerate
    if not wanted:
        return {}, None
    from runner.accelerate import accelerate_env

    env, reason = accelerate_env()
    if reason is not None:
        line = f"accelerate: not available, running without mitogen: {reason}"
        note = getattr(observer, "note", None)
        if callable(note):
            note(line)
        else:
            log.warning("%s", line)
    return env, reason


def site_ident(run_id: str, site: str) -> str:
    """The ident of a site's part of run ``run_id``: its artifacts folder and its NATS job's name."""
    return f"{run_id}-{site}"


def _site_settings(client: Client, ledger: Ledger, remote: Mapping[str, Any]) -> Any:
    """How to reach the sites' workers (:class:`runner.dispatch.NatsSettings`); RunError when a site's
    hosts cannot be run: no NATS settings, settings that cannot be used, or a ledger that is not
    PostgreSQL (the controller records every site's events in one ledger, for every controller)."""
    from sqlalchemy.engine import make_url

    from runner.dispatch import ENV, NatsSettings

    names = ", ".join(sorted(remote))
    hosts = sorted({h for part in remote.values() for hs in part.values() for h in hs})
    shown = ", ".join(hosts[:5]) + (f" and {len(hosts) - 5} more" if len(hosts) > 5 else "")
    where = (
        f"host(s) {shown} of client {client.name!r} run at site(s) {names} (maintenance.site / maint_site)"
    )
    if make_url(ledger.url).get_backend_name() != "postgresql":
        raise RunError(
            f"{where}: site workers need the PostgreSQL ledger, this one is {ledger.display_url} "
            "(set MAINT_DB_URL=postgresql+psycopg://...)"
        )
    nats = NatsSettings.from_env(os.environ)
    if nats is None:
        raise RunError(
            f"{where}: set {ENV['url']} (and {ENV['creds']}, {ENV['tls_ca']}...) to reach their workers"
        )
    why = nats.problem()
    if why is not None:
        option, _, rest = why.partition(": ")
        env_name = {f"--{k.replace('_', '-')}": v for k, v in ENV.items()} | {"--nats": ENV["url"]}
        raise RunError(f"{env_name.get(option, option)}: {rest or why}")
    return nats


_JOB_STATUS = {
    "successful": RunStatus.SUCCESSFUL,
    "failed": RunStatus.FAILED,
    "canceled": RunStatus.INTERRUPTED,
    "timeout": RunStatus.INTERRUPTED,
}


def _job_status(statuses: Sequence[str]) -> RunStatus:
    """The run's Ansible status from its parts' (the controller's job, each site's): the worst one."""
    found = [_JOB_STATUS.get(s, RunStatus.ERROR) for s in statuses] or [RunStatus.ERROR]
    for worst in (RunStatus.INTERRUPTED, RunStatus.ERROR, RunStatus.FAILED):
        if worst in found:
            return worst
    return RunStatus.SUCCESSFUL


def _job_rc(rcs: Sequence[int | None]) -> int | None:
    """The run's rc from its parts': the first that is not 0, else 0 (None when none gave one)."""
    given = [rc for rc in rcs if rc is not None]
    return next((rc for rc in given if rc != 0), 0) if given else None


class _SiteJobs:
    """The run's parts on sites' workers (:func:`runner.dispatch.run_on_site`), one thread each.

    Their events go to the run's recorder as they arrive, as the controller's own job's do; the
    recorder's attempt filter keeps one row per check when a worker died and another took the job over.
    An interruption (SIGINT, ``stop``) reaches them through ``interrupt.cancelled``.
    """

    def __init__(
        self,
        remote: Mapping[str, Mapping[str, list[str]]],
        nats: Any,
        *,
        private_data_dir: Path,
        playbook: str,
        inventory: str,
        extravars: Mapping[str, Any],
        envvars: Mapping[str, str],
        limit: str | None,
        run_id: str,
        recorder: _Recorder,
        interrupt: _Interrupt,
        observer: RunObserver,
    ) -> None:
        self.remote, self.nats = remote, nats
        self.pdd, self.playbook, self.inventory = private_data_dir, playbook, inventory
        self.extravars, self.envvars, self.limit = extravars, envvars, limit
        self.run_id, self.recorder, self.interrupt, self.observer = run_id, recorder, interrupt, observer
        self.results: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        self.attempts: dict[str, list[dict[str, Any]]] = {site: [] for site in remote}
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for site in self.remote:
            thread = threading.Thread(
                target=self._run, args=(site,), name=f"maint-site-{site}-{self.run_id}", daemon=True
            )
            self.threads.append(thread)
            thread.start()

    def _note(self, line: str) -> None:
        note = getattr(self.observer, "note", None)
        if callable(note):
            note(line)
        log.warning("run %s: %s", self.run_id, line)

    def _attempt(self, site: str) -> Any:
        def handle(attempt: int, worker: str) -> None:
            self.attempts[site].append(
                {"attempt": attempt, "worker": worker, "at": datetime.now(UTC).isoformat(timespec="seconds")}
            )
            if attempt > 1:
                self._note(
                    f"site {site}: worker {worker} took the job over (attempt {attempt}): the checks "
                    "already recorded keep their results"
                )

        return handle

    def _run(self, site: str) -> None:
        from runner.dispatch import DispatchError, run_on_site

        ident = site_ident(self.run_id, site)
        try:
            self.results[site] = run_on_site(
                site,
                self.nats,
                private_data_dir=str(self.pdd),
                playbook=self.playbook,
                inventory=self.inventory,
                extravars={**self.extravars, "maint_targets": dict(self.remote[site])},
                # the site's worker puts its own paths and vault password file in (runner.worker)
                envvars={**self.envvars, JOB_MARK: ident},
                cmdline=None,
                ident=ident,
                limit=self.limit,
                event_handler=self.recorder,
                cancel_callback=self.interrupt.cancelled,
                settings={"pexpect_timeout": CANCEL_POLL_S},
                attempt_handler=self._attempt(site),
                idle_timeout=SITE_IDLE_S,
            )
        except DispatchError as exc:
            self.errors[site] = str(exc)
            self._note(f"site {site}: {exc}")
        except Exception as exc:  # the run goes on; the site's hosts are padded with the reason
            log.exception("run %s: site %s", self.run_id, site)
            self.errors[site] = f"{type(exc).__name__}: {exc}"

    def wait(self) -> list[tuple[str, int | None]]:
        """Wait for every site's part (a second at a time: the main thread keeps taking signals); their
        (status, rc)."""
        for thread in self.threads:
            while thread.is_alive():
                thread.join(timeout=1.0)
        out: list[tuple[str, int | None]] = []
        for site in self.remote:
            result = self.results.get(site)
            out.append(("error", None) if result is None else (str(result.status), result.rc))
        return out

    def problems(self) -> dict[str, str]:
        """The sites whose part did not run to its end: why, for their hosts' padding rows."""
        out: dict[str, str] = {}
        for site in self.remote:
            result = self.results.get(site)
            if result is None:
                out[site] = f"the job could not run at site {site}: {self.errors.get(site, 'no result')}"
            elif result.status == "error":
                out[site] = (
                    f"the job could not run at site {site}: its worker's job ended in error or stopped "
                    f"answering (maint workers; artifacts/{site_ident(self.run_id, site)})"
                )
        return out

    def summary(self) -> dict[str, Any]:
        """Each site's part as the run's summary keeps it."""
        out: dict[str, Any] = {}
        for site in self.remote:
            result = self.results.get(site)
            entry: dict[str, Any] = {
                "ident": site_ident(self.run_id, site),
                "hosts": len({h for hs in self.remote[site].values() for h in hs}),
                "attempts": self.attempts[site],
            }
            if result is not None:
                entry |= {
                    "status": result.status,
                    "rc": result.rc,
                    "workers": result.workers,
                    "events": result.events,
                    "duplicate_events": result.duplicates,
                }
            else:
                entry |= {"status": "error", "error": self.errors.get(site, "the site's job did not run")}
            out[site] = entry
        return out


def execute(
    request: RunRequest,
    ledger: Ledger,
    observer: RunObserver | None = None,
    *,
    inventories: Path | None = None,
    stop: threading.Event | None = None,
) -> RunOutcome:
    """Plan, start and record one job. Raises :class:`RunError` (and inventory errors) before it starts.

    ``stop``: set, it interrupts the job as SIGINT would (for a caller running jobs in threads).
    """
    watch: RunObserver = observer or _NullObserver()
    client, plan = plan_run(request, inventories)
    ticket = _ticket_run(request, client, plan)  # bad ticket options stop the run before it starts
    signer = keys.load_signer()  # a key file that cannot be used stops the run before it starts
    # every host the run will touch, locked before it starts (HostsBusyError names the busy ones)
    lock = HostLocks(client.name, {h for hosts in plan.values() for h in hosts}).acquire()
    try:
        outcome = _execute_locked(
            request, ledger, watch, client, plan, lock, signer, ticket=ticket, stop=stop
        )
        # the proactive review, under the same locks (not after a run someone stopped)
        if (
            ticket is not None
            and ticket.review_run_id is not None
            and outcome.status is not RunStatus.INTERRUPTED
        ):
            outcome.review = _execute_locked(
                _review_request(request, ticket, outcome.run_id),
                ledger,
                watch,
                client,
                ticket.review_plan,
                lock,
                signer,
                run_id=ticket.review_run_id,
                stop=stop,
            )
        return outcome
    finally:
        lock.release()


def _execute_locked(
    request: RunRequest,
    ledger: Ledger,
    observer: RunObserver,
    client: Client,
    plan: dict[str, list[str]],
    lock: HostLocks | None = None,
    signer: Signer | None = None,
    *,
    ticket: TicketRun | None = None,
    run_id: str | None = None,
    stop: threading.Event | None = None,
) -> RunOutcome:
    run_id = run_id or new_run_id()
    from runner.sites import split_plan

    parts = split_plan(plan, client)
    local_plan = parts.pop(None, {})
    remote: dict[str, dict[str, list[str]]] = {site: part for site, part in parts.items() if site is not None}
    nats = _site_settings(client, ledger, remote) if remote else None
    if lock is not None:
        lock.note(run_id)
        _stop_abandoned(ledger, client.name, lock.hosts)
    pdd = paths.runs_dir() / run_id
    pdd.mkdir(mode=0o700)
    roles = list(plan)
    playbook = paths.playbooks_dir() / (ROLE_PLAYBOOK if len(roles) == 1 else SITE_PLAYBOOK)
    artifact_dir = pdd / "artifacts" / run_id
    hosts = sorted({h for hs in plan.values() for h in hs})
    one_off = [role for role in roles if role not in client.settings.roles]

    record = RunRecord(
        run_id=run_id,
        client=client.name,
        mode=request.mode.value,
        roles=roles,
        limit=request.limit,
        ticket=request.ticket,
        reason=request.reason,
        playbook=f"{playbook.parent.name}/{playbook.name}",  # playbooks/site.yml, wherever it lives
        artifact_dir=str(artifact_dir),
        trigger=request.trigger,
        requested_by=request.requested_by,
        started_at=datetime.now(UTC),
    )
    _write_private(
        pdd / RUN_FILE,
        json.dumps(
            {
                "run": record.model_dump(mode="json"),
                "plan": plan,
                "inventory": str(client.path),
                "one_off_roles": one_off,
                # the parts run by sites' workers: their job's ident (its artifacts folder) and plan
                "sites": {
                    site: {"ident": site_ident(run_id, site), "plan": part} for site, part in remote.items()
                },
            },
            indent=2,
        ),
    )
    ledger.start_run(record, plan=plan)
    if ticket is not None:  # the intervention row, right after the run's own (runner.interventions)
        ticket.record(ledger, run_id, record.started_at)
    ctx = RunContext(
        run_id=run_id, client=client.name, ticket=request.ticket, plan=plan, platforms=host_platforms(client)
    )
    scrubber = Scrubber(known_credentials(client.path))
    recorder = _Recorder(ledger, ctx, observer, scrubber)
    observer.started(run_id, client.name, hosts)
    accelerate_env, accelerate_fallback = _accelerate(request, client.settings, observer)

    extravars: dict[str, Any] = {
        **dict(request.extra_vars),
        "maint_run_id": run_id,
        "maint_client": client.name,
        "maint_mode": request.mode.value,
        "maint_ticket": request.ticket or "",
        "maint_targets": plan,
    }
    if len(roles) == 1:
        extravars["maint_role"] = roles[0]
    cmdline: list[str] = []
    vault_file = os.environ.get("MAINT_VAULT_PASSWORD_FILE")
    if vault_file:
        cmdline += ["--vault-password-file", str(Path(vault_file).expanduser().resolve())]

    interrupt = _Interrupt(run_id, stop)
    status = RunStatus.ERROR
    rc: int | None = None
    envvars = {**_runner_env(), **accelerate_env, JOB_MARK: run_id}
    not_reached: list[str] = []
    site_jobs = _SiteJobs(
        remote,
        nats,
        private_data_dir=pdd,
        playbook=str(playbook),
        inventory=str(client.hosts_file),
        extravars=extravars,
        envvars={**_runner_env(), **accelerate_env},
        limit=job_limit(request.limit),
        run_id=run_id,
        recorder=recorder,
        interrupt=interrupt,
        observer=observer,
    )
    try:
        with interrupt.installed():
            site_jobs.start()  # the sites' workers run their parts while the controller runs its own
            statuses: list[str] = []
            rcs: list[int | None] = []
            if local_plan:
                result = ansible_runner.run(
                    private_data_dir=str(pdd),
                    ident=run_id,
                    project_dir=str(paths.project_root()),
                    playbook=str(playbook),
                    # the hosts file only: an executable or other file in the client folder is never run
                    # as an inventory script (group_vars/ and host_vars/ beside it are still read)
                    inventory=str(client.hosts_file),
                    limit=job_limit(request.limit),  # Ansible applies the limit the plan was made with
                    extravars={**extravars, "maint_targets": local_plan},
                    envvars=envvars,
                    cmdline=" ".join(cmdline) or None,
                    event_handler=recorder,
                    cancel_callback=interrupt.cancelled,
                    quiet=True,
                    suppress_env_files=True,
                    rotate_artifacts=0,
                    timeout=None,
                    settings={"pexpect_timeout": CANCEL_POLL_S},
                )
                statuses.append(str(result.status))
                rcs.append(result.rc)
            for site_status, site_rc in site_jobs.wait():
                statuses.append(site_status)
                rcs.append(site_rc)
        rc = _job_rc(rcs)
        status = _job_status(statuses)
        if interrupt.cancelled():
            status = RunStatus.INTERRUPTED
    finally:
        site_jobs.wait()  # an exception above: the sites' threads end (cancelled) before the run closes
        # nothing of the job may outlive the run: the host locks are released once this returns
        stop_job(run_id)
        recorder.close()
        scrub_artifacts(pdd, scrubber, envvars)
        if status is RunStatus.INTERRUPTED:
            default_reason = "run interrupted before this check ran"
        elif status is RunStatus.ERROR:
            default_reason = "the job could not run (see the run's artifacts)"
        else:
            default_reason = "no result recorded for this check (the play ended early for this host)"
        for site, why in site_jobs.problems().items():  # a site that could not run: its hosts say why
            recorder.add(missing_rows(replace(ctx, plan=remote[site]), recorder.seen, recorder.lost, why))
        _record_trends(recorder, ledger, client, run_id, plan, request.ticket)
        recorder.add(missing_rows(ctx, recorder.seen, recorder.lost, default_reason))
        counts = status_counts(recorder.results)
        ansible_status = status
        status, not_reached = run_outcome(plan, recorder.results, interrupted=status is RunStatus.INTERRUPTED)
        summary: dict[str, Any] = {
            **counts,
            "hosts": len(hosts),
            "rc": rc,
            "ansible_status": ansible_status.value,
            "not_reached": not_reached,
            "accelerated": bool(accelerate_env),
        }
        if remote:  # how each site's part went: attempts (workers taking over), events, what was dropped
            summary["sites"] = site_jobs.summary()
            if recorder.attempts.repeated:
                summary["repeated_results_dropped"] = recorder.attempts.repeated
        if accelerate_fallback is not None:  # asked for, not possible: the run went plain
            summary["accelerate_fallback"] = accelerate_fallback
        if one_off:  # roles run for the ticket though not assigned: recorded, not in the state
            summary["one_off_roles"] = one_off
        if recorder.error is not None:
            summary["recording_error"] = str(recorder.error)
            status = RunStatus.ERROR
        ledger.finish_run(run_id, status, summary)
        # notifications of what this run found: never raises, never changes the run's status; before the
        # checkpoint, so the checkpoint covers their rows
        notify.after_run(ledger, client, run_id)
        # the onboarding roadmap closes the items this run shows passing (reopens those failing again):
        # never raises, nothing at all for a client without a roadmap; before the checkpoint too
        from runner.onboarding import roadmap

        roadmap.after_run(ledger, client, run_id)
        checkpoint = _checkpoint(ledger, client.name, signer)

    outcome = RunOutcome(
        run_id=run_id,
        client=client.name,
        status=status,
        private_data_dir=pdd,
        artifact_dir=artifact_dir,
        counts=counts,
        results=recorder.results,
        hosts=hosts,
        settings=client.settings,
        not_reached=not_reached,
        checkpoint=checkpoint,
        one_off_roles=one_off,
        accelerated=bool(accelerate_env),
        accelerate_fallback=accelerate_fallback,
    )
    observer.finished(outcome)
    return outcome
