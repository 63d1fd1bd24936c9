"""Per-host locks (runner/locks.py) and what reads them: abandoned-run detection, the due pass lock.

In-process: two lock objects on one file conflict as two processes do (``flock`` is per open file).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from runner import locks
from runner.execute import RUN_FILE
from runner.ingest import effective_status
from runner.ledger import Ledger, RunRecord, RunStatus
from runner.locks import ClientLock, HostLock, HostLocks, HostsBusyError
from runner.names import UnsafeNameError
from tests.conftest import MakeClient

RUN_ID = "20260101T000000Z-abcdef"
LATER_RUN = "20260101T000001Z-000000"


def test_host_locks_of_other_hosts_go_together_and_a_shared_host_is_refused_naming_it(
    private_state: Path,
) -> None:
    with HostLocks("acme", ["web2", "web1"]) as first:
        first.note(RUN_ID)
        assert first.hosts == ["web1", "web2"]  # taken in sorted order
        assert (
            private_state / "locks" / "acme" / "web1.lock"
        ).read_text() == f"pid {os.getpid()} run {RUN_ID}"
        with HostLocks("acme", ["db1"]):  # another host of the same client: not blocked
            pass
        with HostLocks("other", ["web1"]):  # the same host name in another client: another host
            pass
        with pytest.raises(HostsBusyError) as refused:
            HostLocks("acme", ["db1", "web2", "web1", "zz9"]).acquire()
        message = str(refused.value)
        assert "\n" not in message
        assert refused.value.busy == {
            "web1": f"pid {os.getpid()} run {RUN_ID}",
            "web2": f"pid {os.getpid()} run {RUN_ID}",
        }
        assert "hosts of client 'acme'" in message and f"web1 (pid {os.getpid()} run {RUN_ID})" in message
        # what the refused attempt took before it met web1 was given back, and the rest never taken
        with HostLocks("acme", ["db1", "zz9"]):
            pass
    # released when the holder ends
    with HostLocks("acme", ["web1", "web2", "db1"]):
        pass


def test_the_busy_error_is_the_client_busy_error_the_cli_and_due_already_handle() -> None:
    # app.USER_ERRORS lists ClientBusyError (exit 2, one line); due.py turns it into a "busy" entry
    assert issubclass(HostsBusyError, locks.ClientBusyError)
    with HostLocks("acme", ["h1"]), pytest.raises(locks.ClientBusyError, match="host of client 'acme'"):
        HostLocks("acme", ["h1"]).acquire()


@pytest.mark.parametrize("host", ["../x", "a/b", "/abs", ".hidden", "", "a..b", "x" * 300])
def test_a_host_lock_refuses_a_host_name_that_would_climb_or_hide(host: str, private_state: Path) -> None:
    with pytest.raises(UnsafeNameError, match="host name"):
        HostLock("acme", host)
    with pytest.raises(UnsafeNameError, match="host name"):
        HostLocks("acme", ["ok", host])
    assert not (private_state / "locks").exists()  # refused before any file was touched


def test_a_host_lock_refuses_a_bad_client_name(private_state: Path) -> None:
    with pytest.raises(UnsafeNameError, match="client name"):
        HostLocks("../acme", ["h1"])
    assert not (private_state / "locks").exists()


def test_looking_at_a_free_lock_makes_no_file(private_state: Path) -> None:
    assert HostLocks("acme", ["h1", "h2"]).holders() == {}
    assert not (private_state / "locks").exists()


def test_the_due_pass_lock_lives_beside_the_host_locks_and_no_host_lock_can_be_it(
    private_state: Path,
) -> None:
    from runner.due import due_lock

    lock = due_lock("acme")
    assert lock.path == private_state / "locks" / "acme" / ".due.lock"
    # a client named "due" with a host named like another client: its own file, not that client's pass lock
    assert HostLock("due", "acme").path != due_lock("acme").path
    with lock:
        with pytest.raises(locks.ClientBusyError, match="client 'acme'"):
            due_lock("acme").acquire()
        with HostLocks("acme", ["h1"]):  # a run of the client while its due pass decides: its own locks
            pass


def _running_run(private_state: Path, hosts: list[str]) -> Ledger:
    ledger = Ledger()
    record = RunRecord(
        run_id=RUN_ID,
        client="acme",
        mode="audit",
        roles=["linux_health"],
        playbook="playbooks/site.yml",
        artifact_dir=str(private_state / "runs" / RUN_ID / "artifacts" / RUN_ID),
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    ledger.start_run(record, plan={"linux_health": hosts})
    folder = private_state / "runs" / RUN_ID
    folder.mkdir(parents=True)
    # what execute() writes before it records the run: the record and the plan (the hosts it locks)
    (folder / RUN_FILE).write_text(
        json.dumps({"run": record.model_dump(mode="json"), "plan": {"linux_health": hosts}})
    )
    return ledger


def test_a_running_run_is_abandoned_once_no_lock_of_its_hosts_holds_it(
    make_client: MakeClient, private_state: Path
) -> None:
    make_client("acme")
    ledger = _running_run(private_state, ["web1", "web2"])
    info = ledger.run(RUN_ID)
    assert info is not None
    assert effective_status(info) is RunStatus.ABANDONED  # nothing holds any of its hosts
    with HostLocks("acme", ["web2"]) as lock:  # one of its hosts held for this very run: it is running
        lock.note(RUN_ID)
        assert effective_status(info) is RunStatus.RUNNING
        lock.note(LATER_RUN)  # held, but by a later run: this one was abandoned
        assert effective_status(info) is RunStatus.ABANDONED
    with HostLocks("acme", ["db1"]) as other:  # a host the run did not plan says nothing about it
        other.note(RUN_ID)
        assert effective_status(info) is RunStatus.ABANDONED
    with HostLocks("acme", ["web1"]):  # held by a process that has no run id yet: may be it, keep it
        assert effective_status(info) is RunStatus.RUNNING
    with ClientLock("acme") as legacy:  # a maint from before per-host locks held the client's lock
        legacy.note(RUN_ID)
        assert effective_status(info) is RunStatus.RUNNING
    assert effective_status(info) is RunStatus.ABANDONED


def test_lock_folders_are_private(private_state: Path) -> None:
    with HostLocks("acme", ["h1"]):
        pass
    for folder in (private_state / "locks", private_state / "locks" / "acme"):
        assert folder.stat().st_mode & 0o777 == 0o700
    assert (private_state / "locks" / "acme" / "h1.lock").stat().st_mode & 0o777 == 0o600


def test_without_a_plan_in_its_run_file_any_host_lock_of_the_client_naming_the_run_keeps_it_running(
    make_client: MakeClient, private_state: Path
) -> None:
    make_client("acme")
    ledger = _running_run(private_state, ["web1"])
    (private_state / "runs" / RUN_ID / RUN_FILE).write_text("{}")  # a run file that names no plan
    info = ledger.run(RUN_ID)
    assert info is not None
    with HostLocks("acme", ["db7"]) as lock:
        lock.note(RUN_ID)
        assert effective_status(info) is RunStatus.RUNNING
    assert effective_status(info) is RunStatus.ABANDONED
