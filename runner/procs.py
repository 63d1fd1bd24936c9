"""Find and stop every process of one job, whatever session it moved to.

ansible-playbook runs in its own session under ansible-runner's pty, and each of its forks calls
``setsid()``: killing ansible-playbook's process group leaves the forks (and what they started:
modules, ssh, a device session) running. Every process of a job inherits ``MAINT_RUN_ID=<run id>``
in its environment, so the job is found by that mark (and by descent from a marked process, for a
child that cleared its environment), stopped with SIGTERM, then SIGKILL, and waited for.
Linux ``/proc`` only; elsewhere nothing is found and only ansible-runner's own kill applies.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from pathlib import Path

log = logging.getLogger(__name__)

JOB_MARK = "MAINT_RUN_ID"
_PROC = Path("/proc")
#: seconds the job gets to stop on SIGTERM before SIGKILL, and to be gone after SIGKILL
TERM_GRACE_S = 3.0
KILL_WAIT_S = 15.0
_POLL_S = 0.05


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, start time) of a process, None when it is gone."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[-1].split()
    return fields[0], int(fields[1]), int(fields[19])


Proc = tuple[int, int]  # (pid, start time): a pid the kernel reused is another process


def _alive(proc: Proc) -> bool:
    stat = _stat(proc[0])
    return stat is not None and stat[0] not in ("Z", "X") and stat[2] == proc[1]


def job_processes(run_id: str) -> set[Proc]:
    """Live processes of this user marked with the run's id, and their descendants."""
    mark = f"{JOB_MARK}={run_id}".encode()
    me, uid = os.getpid(), os.getuid()
    marked: set[int] = set()
    stats: dict[int, tuple[int, int]] = {}
    try:
        entries = list(os.scandir(_PROC))
    except OSError:
        return set()
    for entry in entries:
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid == me:
            continue
        stat = _stat(pid)
        if stat is None or stat[0] in ("Z", "X"):
            continue
        stats[pid] = (stat[1], stat[2])
        try:
            if entry.stat().st_uid != uid:
                continue
            environ = (_PROC / entry.name / "environ").read_bytes()
        except OSError:
            continue
        if mark in environ.split(b"\0"):
            marked.add(pid)
    found = set(marked)
    grew = True
    while grew:  # descendants of marked processes (a child may have cleared its environment)
        grew = False
        for pid, (ppid, _start) in stats.items():
            if ppid in found and pid not in found:
                found.add(pid)
                grew = True
    return {(pid, stats[pid][1]) for pid in found}


def job_pids(run_id: str) -> set[int]:
    return {pid for pid, _start in job_processes(run_id)}


def _signal(procs: set[Proc], sig: signal.Signals) -> None:
    for proc in procs:
        if _alive(proc):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(proc[0], sig)


def stop_job(run_id: str, *, grace: float = TERM_GRACE_S, wait: float = KILL_WAIT_S) -> set[int]:
    """Stop every process of the run's job and wait until they are gone; return the pids still alive."""
    seen = job_processes(run_id)
    if not seen:
        return set()
    log.info("run %s: stopping %d process(es) of its job", run_id, len(seen))
    _signal(seen, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        new = job_processes(run_id) - seen  # a fork started while the job was being stopped
        _signal(new, signal.SIGTERM)
        seen |= new
        if not any(_alive(proc) for proc in seen):
            return set()
        time.sleep(_POLL_S)
    deadline = time.monotonic() + wait
    while True:
        left = {proc for proc in seen | job_processes(run_id) if _alive(proc)}
        if not left:
            return set()
        if time.monotonic() >= deadline:
            log.error("run %s: process(es) %s of its job would not stop", run_id, sorted(p for p, _ in left))
            return {pid for pid, _start in left}
        _signal(left, signal.SIGKILL)
        seen |= left
        time.sleep(_POLL_S)
