"""Re-read a job's artifacts into the ledger, adding only what is missing (idempotent).

Used after a crash (the runner was killed mid-run) or to load a job that ran elsewhere
(ansible-runner ``process`` of a remote worker's stream).

An artifact folder is input, not proof. Ingest adds rows only for a run the ledger already knows
``maint`` started, for that run's client and the (host, role) pairs of the plan the ledger recorded
when it started, with times inside the run's span; every other row is refused and counted. Names
from the folder are checked (:mod:`runner.names`) before any becomes a path, and a malformed
``maint-run.json`` is one message, never a traceback.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from runner import names, paths
from runner.assets.store import record_observations
from runner.credentials import Scrubber, known_credentials
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
from runner.execute import RUN_FILE
from runner.inventory.hostvars import client_platforms
from runner.ledger import Ledger, RunInfo, RunRecord, RunStatus
from runner.locks import ClientLock, HostLocks, lock_dir
from runner.procs import stop_job
from runner.results import CheckResult

log = logging.getLogger(__name__)

#: clock difference tolerated between the controller that recorded the run and the job's events
SPAN_SLACK = timedelta(seconds=60)
_HOLDER_RUN = re.compile(r"\brun (\S+)")


class IngestError(Exception):
    """The folder is not a maint job's artifacts, or not one the ledger can trust (exit 2)."""


@dataclass(frozen=True)
class IngestReport:
    run_id: str
    client: str
    events: int
    added: int
    finished_as: RunStatus | None
    refused: int = 0
    refused_why: dict[str, int] = field(default_factory=dict)


def resolve(target: Path | str) -> Path:
    """A run's folder from a path, or from a run id (under ``MAINT_VAR``'s ``runs/``).

    ``var/runs/RUN_ID`` as the README writes it works wherever ``MAINT_VAR`` points: a path that
    does not exist is read as the run id it ends with.
    """
    given = Path(target).expanduser()
    if given.is_dir():
        return given
    name = given.name
    if names.is_run_id(name):
        candidate = paths.runs_dir() / name
        if candidate.is_dir():
            return candidate
    raise IngestError(
        f"{target}: neither a folder nor the id of a run under {paths.runs_dir()} (give a run's folder or id)"
    )


def _find_run_file(start: Path) -> Path:
    for folder in (start, *list(start.parents)[:3]):
        candidate = folder / RUN_FILE
        if candidate.is_file():
            return candidate
    raise IngestError(f"{start} is not a maint run's artifact folder (no {RUN_FILE} in it or above it)")


def _events_dirs(start: Path, run_id: str, idents: Sequence[str] = ()) -> list[Path]:
    """The run's job_events folders: the controller's job's, and each site's part's (``idents``)."""
    found = [start / "artifacts" / ident / "job_events" for ident in (run_id, *idents)]
    if any(folder.is_dir() for folder in found):
        return [folder for folder in found if folder.is_dir()]
    if (start / "job_events").is_dir():
        return [start / "job_events"]
    anywhere = sorted(start.glob("**/job_events"))
    if anywhere:
        return anywhere[:1]
    raise IngestError(f"no job_events folder under {start}")


def _load_events(folders: Sequence[Path]) -> list[dict[str, Any]]:
    """The events of the folders in the order they were recorded: by attempt (a site's job taken over by
    another worker ran again), then counter; the attempt filter then keeps the rows the live run kept."""
    events = []
    for path in (p for folder in folders for p in folder.glob("*.json")):
        try:
            event = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as exc:  # a half-written last event of a killed run
            log.warning("skipping unreadable event file %s: %s", path, exc)
            continue
        if not isinstance(event, dict):
            log.warning("skipping event file %s: not a JSON object", path)
            continue
        events.append(event)

    def counter(event: dict[str, Any]) -> int:
        try:
            return int(event.get("counter") or 0)
        except (TypeError, ValueError):
            return 0

    events.sort(key=lambda event: (event_attempt(event), counter(event)))
    return events


def site_parts(run_file: Path) -> dict[str, dict[str, Any]]:
    """The parts of the run that sites' workers ran (``maint-run.json`` key ``sites``): site -> its job's
    ``ident`` and ``plan``; names that are not safe are left out (logged)."""
    from runner.inventory.schema import site_name_problem

    try:
        listed = json.loads(run_file.read_text(encoding="utf-8")).get("sites")
    except (OSError, ValueError, AttributeError, RecursionError):
        return {}
    parts: dict[str, dict[str, Any]] = {}
    for site, part in (listed or {}).items() if isinstance(listed, dict) else ():
        ident = part.get("ident") if isinstance(part, dict) else None
        plan = part.get("plan") if isinstance(part, dict) else None
        if (
            site_name_problem(site) is not None
            or not isinstance(ident, str)
            or re.fullmatch(r"[A-Za-z0-9_-]{1,64}", ident) is None
            or not isinstance(plan, dict)
        ):
            log.warning("%s: sites.%s: not a site part maint wrote; left out", run_file, str(site)[:40])
            continue
        parts[site] = {"ident": ident, "plan": plan}
    return parts


def _resume_sites(folder: Path, info: RunInfo, parts: Mapping[str, Mapping[str, Any]]) -> None:
    """The run's controller died while sites' workers ran their parts: follow each part that has not
    ended to its end, from the events JetStream kept (:func:`runner.dispatch.run_on_site` with the same
    ident resumes, and never sends the job again); the processor writes them to the part's job_events.
    Without the NATS settings (``MAINT_NATS_URL``...), or when a part cannot be followed, what reached
    the disk is ingested and the rest is padded."""
    from runner.dispatch import DispatchError, NatsSettings, run_on_site
    from runner.execute import SITE_IDLE_S

    waiting = {
        site: part
        for site, part in parts.items()
        if _part_status(folder, str(part["ident"])) not in ("successful", "failed", "canceled")
    }
    if not waiting:
        return
    nats = NatsSettings.from_env(os.environ)
    if nats is None:
        log.warning(
            "run %s: the parts of site(s) %s may have more events on the NATS server: set MAINT_NATS_URL "
            "to follow them",
            info.run_id,
            ", ".join(sorted(waiting)),
        )
        return
    scrubber = Scrubber(known_credentials(paths.inventories_dir() / info.client))

    def handle(event: dict[str, Any]) -> bool:
        scrubber.data(event)
        return True

    for site, part in waiting.items():
        ident = str(part["ident"])
        try:
            result = run_on_site(
                site,
                nats,
                private_data_dir=str(folder),
                playbook=info.playbook or "site.yml",
                inventory="",
                extravars={},
                envvars={},
                cmdline=None,
                ident=ident,
                event_handler=handle,
                idle_timeout=SITE_IDLE_S,
                resume_only=True,
            )
            log.warning("run %s: site %s: followed to its end (%s)", info.run_id, site, result.status)
        except DispatchError as exc:
            log.warning("run %s: %s", info.run_id, exc)


def _part_status(folder: Path, ident: str) -> str:
    status_file = folder / "artifacts" / ident / "status"
    try:
        return status_file.read_text().strip() if status_file.is_file() else ""
    except OSError:
        return ""


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "run"
    return f"run.{where}: {first.get('msg', 'invalid')}" + (
        f" ({len(exc.errors()) - 1} more problem(s))" if len(exc.errors()) > 1 else ""
    )


def read_run_file(run_file: Path) -> tuple[RunRecord, dict[str, list[str]]]:
    """The run record and plan of ``maint-run.json``; :class:`IngestError` naming the file and key."""
    try:
        meta = json.loads(run_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise IngestError(f"{run_file}: cannot read: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise IngestError(f"{run_file}: not valid JSON: {exc}") from None
    if not isinstance(meta, dict):
        raise IngestError(
            f"{run_file}: expected a JSON object with keys run and plan, got {type(meta).__name__}"
        )
    if "run" not in meta:
        raise IngestError(f"{run_file}: missing key run (the run's record)")
    if not isinstance(meta["run"], dict):
        raise IngestError(f"{run_file}: run: expected an object, got {type(meta['run']).__name__}")
    try:
        record = RunRecord.model_validate(meta["run"])
    except ValidationError as exc:
        raise IngestError(f"{run_file}: {_describe(exc)}") from None
    raw_plan = meta.get("plan") or {}
    if not isinstance(raw_plan, dict) or not all(
        isinstance(role, str) and isinstance(hosts, list) and all(isinstance(h, str) for h in hosts)
        for role, hosts in raw_plan.items()
    ):
        raise IngestError(f"{run_file}: plan: expected an object of role -> list of host names")
    try:
        names.run_id(record.run_id, f"{run_file}: run.run_id")
        names.client_name(record.client, f"{run_file}: run.client")
        for hosts in raw_plan.values():
            for host in hosts:
                names.host_name(host, f"{run_file}: plan")
    except names.UnsafeNameError as exc:
        raise IngestError(str(exc)) from None
    return record, {str(role): list(hosts) for role, hosts in raw_plan.items()}


def _trusted_plan(ledger: Ledger, info: RunInfo, file_plan: dict[str, list[str]]) -> dict[str, list[str]]:
    """The plan the ledger recorded at start; for a run recorded before plans were, the file's plan
    as far as the client's inventory confirms it (the run's roles, the hosts they are assigned)."""
    recorded = ledger.run_plan(info.run_id)
    if recorded is not None:
        return recorded
    from runner.inventory import InventoryError, UnknownClientError, load_client

    try:
        client = load_client(info.client)
    except (InventoryError, UnknownClientError) as exc:
        raise IngestError(
            f"run {info.run_id} has no plan in the ledger and the inventory of {info.client!r} "
            f"cannot confirm one: {str(exc).splitlines()[0]}"
        ) from None
    confirmed = client.plan([role for role in info.roles if role in client.settings.roles] or None)
    return {
        role: sorted(set(hosts) & set(confirmed.get(role, [])))
        for role, hosts in file_plan.items()
        if role in info.roles
    }


def _refusal(
    row: CheckResult, ctx: RunContext, pairs: set[tuple[str, str]], start: datetime, end: datetime
) -> str | None:
    """Why ``row`` cannot belong to the run (None: it can)."""
    if row.client != ctx.client:
        return "another client"
    if (row.host, row.role) not in pairs:
        if not any(host == row.host for host, _role in pairs):
            return "a host the run did not plan"
        return "a role the run did not plan for the host"
    observed = row.observed_at if row.observed_at.tzinfo else row.observed_at.replace(tzinfo=UTC)
    if not start - SPAN_SLACK <= observed <= end + SPAN_SLACK:
        return "a time outside the run"
    return None


def ingest(target: Path | str, ledger: Ledger) -> IngestReport:
    """Add what the ledger misses of one run's artifacts (a folder or a run id); close it if abandoned."""
    start_dir = resolve(target).resolve()
    run_file = _find_run_file(start_dir)
    record, file_plan = read_run_file(run_file)
    info = ledger.run(record.run_id)
    if info is None:
        raise IngestError(
            f"{run_file}: run {record.run_id} was not started by maint on this ledger "
            f"({ledger.display_url}): nothing ingested"
        )
    if info.client != record.client:
        raise IngestError(
            f"{run_file}: run {record.run_id} belongs to client {info.client!r}, not {record.client!r}"
        )
    plan = _trusted_plan(ledger, info, file_plan)
    ctx = RunContext(
        run_id=info.run_id,
        client=info.client,
        ticket=info.ticket,
        plan=plan,
        platforms=client_platforms(info.client),
    )

    folder = run_file.parent
    parts = site_parts(run_file)
    if parts and info.status is RunStatus.RUNNING and not _lock_held_for(info):
        _resume_sites(folder, info, parts)
    _scrub(folder, info.client)
    events = _load_events(_events_dirs(folder, info.run_id, [str(p["ident"]) for p in parts.values()]))
    attempts = AttemptFilter()
    finished = ledger.first_finish(info.run_id)
    span_end = finished or datetime.now(UTC)
    rows: list[tuple[str, CheckResult]] = []
    refused: dict[str, int] = {}
    lost: dict[str, str] = {}
    pairs = {(host, role) for role, hosts in plan.items() for host in hosts}
    planned = {h for hs in plan.values() for h in hs}
    assets: list[AssetObservation] = []
    for event in events:
        outcome = from_event(ctx, event)
        assets += [obs for obs in outcome.assets if obs.host in planned]
        for key, row in attempts.keep(outcome.results, event_attempt(event)):
            why = _refusal(row, ctx, pairs, info.started_at, span_end)
            if why is None:
                rows.append((key, row))
            else:
                refused[why] = refused.get(why, 0) + 1
        if outcome.lost_host and outcome.lost_reason and outcome.lost_host in planned:
            lost.setdefault(outcome.lost_host, outcome.lost_reason)
    if refused:
        log.warning(
            "run %s: refused %d row(s) of %s: %s", info.run_id, sum(refused.values()), folder, refused
        )
    # a killed run can leave both an event's "-partial.json" and its final file: same key, once
    added = ledger.record(list(dict(rows).items()))
    record_observations(ledger, info.client, info.run_id, assets)
    added += _record_trends(ledger, info, plan)

    finished_as: RunStatus | None = None
    if info.status is RunStatus.RUNNING and not _lock_held_for(info):
        site_hosts = {
            h for p in parts.values() for hs in p["plan"].values() if isinstance(hs, list) for h in hs
        }
        idents = [info.run_id] if planned - site_hosts or not parts else []
        part_statuses = [
            _part_status(folder, ident) for ident in [*idents, *(p["ident"] for p in parts.values())]
        ]
        # the run's Ansible status: its parts' worst (one not ended: the run did not complete)
        status_text = next(
            (s for s in part_statuses if s not in ("successful", "failed")),
            "failed" if "failed" in part_statuses else "successful",
        )
        # what the ledger holds, not only what reached the disk: the live handler may have
        # recorded an event whose file was never finished before the runner died
        stored = ledger.results_for_run(info.run_id)
        seen: dict[tuple[str, str], set[str]] = {}
        for stored_row in stored:
            seen.setdefault((stored_row.host, stored_row.role), set()).add(stored_row.control)
        reason = "the runner stopped before this check ran (recovered by maint ledger ingest)"
        missing = missing_rows(ctx, seen, lost, reason)
        added += ledger.record(missing)
        every = [*stored, *(row for _key, row in missing)]
        completed = status_text in ("successful", "failed")
        finished_as, not_reached = run_outcome(plan, every, interrupted=not completed)
        one_off = _one_off_roles(run_file, plan)
        ledger.finish_run(
            info.run_id,
            finished_as,
            {
                **status_counts(every),
                "hosts": len({h for hs in plan.values() for h in hs}),
                "ansible_status": status_text or "unknown",
                "not_reached": not_reached,
                "ingested": True,
                **({"one_off_roles": one_off} if one_off else {}),
            },
        )
    # the onboarding roadmap sees the recovered results (never raises; nothing without a roadmap)
    from runner.onboarding import roadmap

    roadmap.after_ingest(ledger, info.client, info.run_id)
    return IngestReport(
        run_id=info.run_id,
        client=info.client,
        events=len(events),
        added=added,
        finished_as=finished_as,
        refused=sum(refused.values()),
        refused_why=refused,
    )


def _record_trends(ledger: Ledger, info: RunInfo, plan: dict[str, list[str]]) -> int:
    """The run's capacity and error trends (:mod:`runner.trends`) from what the ledger now holds; the same
    rows on every ingest (their keys and times are fixed), so ingesting again adds none. Never raises."""
    from runner import trends

    try:
        rows = trends.trend_rows(
            ledger, info.client, info.run_id, plan, trends.client_overrides(info.client), ticket=info.ticket
        )
        return ledger.record(rows)
    except Exception:
        log.exception("run %s: could not record the trend rows", info.run_id)
        return 0


def _scrub(folder: Path, client: str) -> None:
    """Scrub the folder of the client's credentials (a killed run never got its final scrub)."""
    inventory = paths.inventories_dir() / client
    try:
        Scrubber(known_credentials(inventory if inventory.is_dir() else None)).tree(folder)
    except OSError as exc:
        log.warning("cannot scrub %s: %s", folder, exc)


# -- abandoned runs ----------------------------------------------------------------------------


def _run_dir(info: RunInfo) -> Path | None:
    """The run's folder under this ``var/runs/``, None when it ran elsewhere (another machine, or
    another ``MAINT_VAR`` whose locks this process cannot see) or its folder is gone."""
    if not names.is_run_id(info.run_id):
        return None
    candidate = paths.runs_dir() / info.run_id
    if not (candidate / RUN_FILE).is_file():
        return None
    if info.artifact_dir and Path(info.artifact_dir).resolve().parent.parent != candidate.resolve():
        return None
    return candidate


def _host_like(name: str) -> bool:
    try:
        names.host_name(name)
    except names.UnsafeNameError:
        return False
    return True


def planned_hosts(info: RunInfo) -> list[str]:
    """The hosts the run locks: its ``maint-run.json`` plan's (written before the run is recorded);
    without one, every host with a lock file of the client (so a holder naming the run is found)."""
    folder = _run_dir(info)
    try:
        plan = read_run_file(folder / RUN_FILE)[1] if folder is not None else {}
    except IngestError:
        plan = {}
    hosts = {h for planned in plan.values() for h in planned}
    if not hosts:
        base = lock_dir(info.client)
        found = base.glob("*.lock") if base.is_dir() else ()
        hosts = {p.name.removesuffix(".lock") for p in found if _host_like(p.name.removesuffix(".lock"))}
    return sorted(hosts)


def _lock_held_for(info: RunInfo) -> bool:
    """Whether a live process holds a lock of the run's hosts for this run (or for a run it cannot
    name); or the client's lock, which a maint from before per-host locks took for a whole run."""
    try:
        holders = list(HostLocks(info.client, planned_hosts(info)).holders().values())
        legacy = ClientLock(info.client).holder()
    except (names.UnsafeNameError, OSError):
        return False
    if legacy is not None:
        holders.append(legacy)
    for holder in holders:
        named = _HOLDER_RUN.search(holder)
        if named is None or named.group(1) == info.run_id:
            return True
    return False


def _one_off_roles(run_file: Path, plan: dict[str, list[str]]) -> list[str]:
    """The run's one-off roles as its ``maint-run.json`` names them (only roles of its plan)."""
    try:
        listed = json.loads(run_file.read_text(encoding="utf-8")).get("one_off_roles")
    except (OSError, ValueError, AttributeError, RecursionError):
        return []
    return sorted({r for r in listed if isinstance(r, str) and r in plan}) if isinstance(listed, list) else []


def is_abandoned(info: RunInfo) -> bool:
    """A ``running`` run of this machine whose process is gone: no live lock holds it."""
    if info.status is not RunStatus.RUNNING or _run_dir(info) is None:
        return False
    return not _lock_held_for(info)


def effective_status(info: RunInfo) -> RunStatus:
    """The run's status as ``maint runs`` shows it: ``abandoned`` for a running run nobody runs."""
    return RunStatus.ABANDONED if is_abandoned(info) else info.status


def ingest_abandoned(ledger: Ledger) -> list[str]:
    """Stop what is left of each abandoned run's job, ingest its artifacts and close it; their ids.

    ``maint due`` calls this before it plans, so a run killed with SIGKILL never stays ``running``.
    A run that cannot be ingested is logged and left as it is (the next call tries again).
    """
    closed: list[str] = []
    for info in ledger.unfinished_runs():
        if not is_abandoned(info):
            continue
        folder = _run_dir(info)
        assert folder is not None
        left = stop_job(info.run_id)
        if left:
            log.error(
                "run %s: its job's processes %s would not stop; not ingested", info.run_id, sorted(left)
            )
            continue
        try:
            report = ingest(folder, ledger)
        except IngestError as exc:
            log.error("run %s: abandoned, cannot be ingested: %s", info.run_id, exc)
            continue
        if report.finished_as is not None:
            log.warning(
                "run %s of %s was abandoned: ingested %d row(s), closed as %s",
                info.run_id,
                info.client,
                report.added,
                report.finished_as.value,
            )
            closed.append(info.run_id)
    return closed
