"""A lock per client, so two processes never run the same client at once."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from runner import names, paths

#: how often, and how far apart, a busy lock is tried again before it counts as held: another process may
#: only be looking whether it is held (:meth:`ClientLock.holder` takes it for an instant)
_RETRIES, _RETRY_S = 5, 0.02


class ClientBusyError(Exception):
    def __init__(self, client: str, holder: str) -> None:
        super().__init__(f"client {client!r} is already being run by another maint process ({holder})")
        self.client = client


class ClientLock:
    """An exclusive ``flock`` on ``var/locks/<client>.lock``; released when the process dies.

    The file holds who has it: ``pid N`` and, once the run has an id, ``run RUN_ID`` (so a run
    whose process died can be told from the run that holds the lock now). The client's name is
    checked (:mod:`runner.names`) before it becomes a path.
    """

    def __init__(self, client: str, directory: Path | None = None) -> None:
        self.client = names.client_name(client, "lock")
        base = directory or paths.var_dir() / "locks"
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = base / f"{self.client}.lock"
        self._fd: int | None = None

    def acquire(self, *, retries: int = _RETRIES) -> ClientLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        for attempt in range(retries + 1):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt == retries:
                    holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown process"
                    os.close(fd)
                    raise ClientBusyError(self.client, holder) from None
                time.sleep(_RETRY_S)
        self._fd = fd
        self.note()
        return self

    def note(self, run_id: str | None = None) -> None:
        """Write who holds the lock (this process, and the run it is doing)."""
        if self._fd is None:
            return
        text = f"pid {os.getpid()}" + (f" run {run_id}" if run_id else "")
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, text.encode(), 0)

    def holder(self) -> str | None:
        """Who holds the lock right now (its ``pid N run ID`` text), or None when nobody does."""
        try:
            self.acquire(retries=0)
        except ClientBusyError:
            try:
                return self.path.read_text(errors="replace").strip() or "unknown process"
            except OSError:
                return "unknown process"
        self.release()
        return None

    def held_elsewhere(self) -> bool:
        """True when another process holds the lock right now (does not take it)."""
        return self.holder() is not None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ClientLock:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
