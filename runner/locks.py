"""Locks, so two processes never touch the same host at once.

A run takes one exclusive ``flock`` per host it will touch (:class:`HostLocks`, files
``var/locks/<client>/<host>.lock``), all of them before the job starts, in sorted order, and keeps them
until it ends; runs of other hosts of the same client go on beside it. ``maint due`` holds a pass lock
per client (:class:`ClientLock`, ``var/locks/<client>/.due.lock``: a host name never starts with a
dot) while it decides and runs the client's occurrences. A lock is released when its process dies.

A lock file holds who has it: ``pid N`` and, once the run has an id, ``run RUN_ID`` (so a run whose
process died can be told from the run that holds the lock now). Client and host names are checked
(:mod:`runner.names`) before they become paths.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType

from runner import names, paths

#: how often, and how far apart, a busy lock is tried again before it counts as held: another process may
#: only be looking whether it is held (:meth:`_FileLock.holder` takes it for an instant)
_RETRIES, _RETRY_S = 5, 0.02
#: the pass lock of ``maint due`` inside a client's lock folder (no host is named so)
DUE_LOCK = ".due.lock"


class ClientBusyError(Exception):
    def __init__(self, client: str, holder: str) -> None:
        super().__init__(f"client {client!r} is already being run by another maint process ({holder})")
        self.client = client


class HostsBusyError(ClientBusyError):
    """Some host a run would touch is being run by another process; ``busy``: host -> holder text."""

    def __init__(self, client: str, busy: Mapping[str, str]) -> None:
        self.client = client
        self.busy = dict(sorted(busy.items()))
        held = ", ".join(f"{host} ({holder})" for host, holder in self.busy.items())
        word = "host" if len(self.busy) == 1 else "hosts"
        Exception.__init__(
            self, f"{word} of client {client!r} already being run by another maint process: {held}"
        )


def lock_dir(client: str) -> Path:
    """``var/locks/<client>/`` (the client's name checked first)."""
    return paths.var_dir() / "locks" / names.client_name(client, "lock")


def _private_dir(folder: Path) -> None:
    """Make ``folder`` and each missing parent, every one made here readable by the owner only."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        made.mkdir(mode=0o700, exist_ok=True)


class _FileLock:
    """One exclusive, non-blocking ``flock`` on ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def take(self, retries: int = _RETRIES) -> str | None:
        """Take the lock: None when taken, else who holds it (tried ``retries`` more times first)."""
        if self._fd is not None:  # this object holds it already
            return None
        _private_dir(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        for attempt in range(retries + 1):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt == retries:
                    holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown process"
                    os.close(fd)
                    return holder
                time.sleep(_RETRY_S)
        self._fd = fd
        self.note()
        return None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def note(self, run_id: str | None = None) -> None:
        """Write who holds the lock (this process, and the run it is doing)."""
        if self._fd is None:
            return
        text = f"pid {os.getpid()}" + (f" run {run_id}" if run_id else "")
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, text.encode(), 0)

    def holder(self) -> str | None:
        """Who holds the lock right now (its ``pid N run ID`` text), or None when nobody does."""
        if self._fd is not None:  # this very object: what it noted
            return os.pread(self._fd, 200, 0).decode(errors="replace").strip() or f"pid {os.getpid()}"
        if not self.path.exists():
            return None
        found = self.take(retries=0)
        if found is None:
            self.release()
        return found

    def held_elsewhere(self) -> bool:
        """True when another process holds the lock right now (does not keep it)."""
        return self._fd is None and self.holder() is not None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class ClientLock(_FileLock):
    """An exclusive ``flock`` on ``<directory>/<client>.lock`` (``filename``: another name in it).

    Without ``directory``: ``var/locks/<client>.lock``, the lock a run of maint before per-host locks
    held (still looked at when telling whether such a run is alive).
    """

    def __init__(self, client: str, directory: Path | None = None, *, filename: str | None = None) -> None:
        self.client = names.client_name(client, "lock")
        base = directory or paths.var_dir() / "locks"
        super().__init__(base / (filename or f"{self.client}.lock"))

    def acquire(self, *, retries: int = _RETRIES) -> ClientLock:
        holder = self.take(retries)
        if holder is not None:
            raise ClientBusyError(self.client, holder)
        return self

    def __enter__(self) -> ClientLock:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def due_lock(client: str) -> ClientLock:
    """The pass lock ``maint due`` holds on a client: ``var/locks/<client>/.due.lock``."""
    return ClientLock(client, lock_dir(client), filename=DUE_LOCK)


class HostLock(_FileLock):
    """The lock of one host of a client: ``var/locks/<client>/<host>.lock``."""

    def __init__(self, client: str, host: str) -> None:
        self.client = names.client_name(client, "lock")
        self.host = names.host_name(host, f"lock of client {self.client}")
        super().__init__(lock_dir(self.client) / f"{self.host}.lock")


class HostLocks:
    """The locks of every host a run touches, taken together in sorted order.

    :meth:`acquire` takes them one by one; at the first that stays busy it releases what it took and
    raises :class:`HostsBusyError` naming every host of the set held elsewhere (the rest looked at, not
    taken). Taking in one order means two runs wanting overlapping hosts never both give up: the
    one that gets their first common host goes on.
    """

    def __init__(self, client: str, hosts: Iterable[str]) -> None:
        self.client = names.client_name(client, "lock")
        self.locks = [HostLock(self.client, h) for h in sorted(set(hosts))]

    @property
    def hosts(self) -> list[str]:
        return [lock.host for lock in self.locks]

    def acquire(self, *, retries: int = _RETRIES) -> HostLocks:
        for index, lock in enumerate(self.locks):
            holder = lock.take(retries)
            if holder is None:
                continue
            self.release()
            busy = {lock.host: holder}
            for other in self.locks[index + 1 :]:
                found = other.holder()
                if found is not None:
                    busy[other.host] = found
            raise HostsBusyError(self.client, busy)
        return self

    def note(self, run_id: str | None = None) -> None:
        for lock in self.locks:
            lock.note(run_id)

    def holders(self) -> dict[str, str]:
        """host -> who holds its lock right now, for the hosts held by someone (this process included)."""
        found = {lock.host: lock.holder() for lock in self.locks}
        return {host: holder for host, holder in found.items() if holder is not None}

    def release(self) -> None:
        for lock in reversed(self.locks):
            lock.release()

    def __enter__(self) -> HostLocks:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
