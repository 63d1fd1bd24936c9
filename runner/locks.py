"""A lock per client, so two processes never run the same client at once."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from runner import paths


class ClientBusyError(Exception):
    def __init__(self, client: str, holder: str) -> None:
        super().__init__(f"client {client!r} is already being run by another maint process ({holder})")
        self.client = client


class ClientLock:
    """An exclusive ``flock`` on ``var/locks/<client>.lock``; released when the process dies."""

    def __init__(self, client: str, directory: Path | None = None) -> None:
        self.client = client
        base = directory or paths.var_dir() / "locks"
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = base / f"{client}.lock"
        self._fd: int | None = None

    def acquire(self) -> ClientLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown process"
            os.close(fd)
            raise ClientBusyError(self.client, holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        self._fd = fd
        return self

    def held_elsewhere(self) -> bool:
        """True when another process holds the lock right now (does not take it)."""
        try:
            self.acquire()
        except ClientBusyError:
            return True
        self.release()
        return False

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
