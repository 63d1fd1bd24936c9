"""The ledger's tamper suite: what an attacker with write access to the database can do, and what catches it.

``python -m maint_devtools.tamper [--db URL] [--rows N] [--json]`` builds a ledger with a few clients
(runs started, recorded and finished with check results of the shipped catalogue's controls, schedule
occurrences and configuration snapshots appended through their modules, a signed checkpoint after every
run as ``maint run`` makes), keeps a copy of it part-way (the "older backup"), EXPORTS one signed
checkpoint of the client ``acme`` (its note copied to a directory of its own, as a client keeping last
month's report would), then appends more rows. Each case starts from a fresh copy of that state (SQLite:
a copy of the file made with SQLite's backup API; PostgreSQL: ``CREATE DATABASE ... TEMPLATE`` of the
built database, a copy the server makes), tampers with it through a plain database connection - never
through :class:`runner.ledger.Ledger` - and runs ``Ledger.verify("acme", given=[the exported
checkpoint], verifier=the ledger key's public key)``.

The attacker of the stronger cases has read our source: they recompute the row hashes with
:func:`runner.ledger.chain.row_hash`, the Merkle tree with :mod:`runner.ledger.merkle`, the head's
compact range, the stored subtrees and the stored checkpoints (unsigned, or signed with a key of their
own). What still catches them is the exported checkpoint: its root no longer matches the rows. Copies
under ``var/checkpoints/`` are left out on purpose (each case verifies with an empty ``MAINT_VAR``): an
attacker on the ledger's machine may delete those too.

Not a case because nothing can catch it: a rollback to a state at or after the newest checkpoint a
client holds, and rows rewritten or appended after it (with everything recomputed), look exactly like a
ledger that simply has not grown since, or grew honestly (as in Certificate Transparency).

Exit status 0 only when every tamper case is detected *and* verify names what was expected (the edited
row, the row after a deleted one, the exported checkpoint ...) and the untouched control case verifies.
``--db`` takes a SQLite file URL (a new file, where the built, untampered ledger stays afterwards; an existing
file is refused) or a PostgreSQL URL of a server
where the role may create databases: the suite creates its own databases there (``maint_tamper_<random>_*``)
and drops them when done.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import random
import secrets
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from runner import catalogue, schedule_ledger
from runner.ledger import Ledger, LedgerError, RunRecord, RunStatus, VerifyReport, merkle, schema
from runner.ledger import checkpoints as cp
from runner.ledger import tree as tree_mod
from runner.ledger.chain import GENESIS, TABLE_KEY, row_hash
from runner.ledger.models import CheckpointCheck
from runner.ledger.note import Signer, Verifier, generate_signer
from runner.network import snapshots
from runner.network.platforms import Platform
from runner.results import CheckResult, Status

#: the client whose ledger is tampered with; the others only share the database
CLIENT = "acme"
OTHERS = ("globex", "initech")
#: the ledger key's name; the attacker's keys use it too (a forgery that looks like ours)
KEY_NAME = "maint-ledger"
DEFAULT_ROWS = 1200
MIN_ROWS = 150
HOSTS = ("srv01", "srv02", "pc01")
DEVICE = "core-sw01"
T0 = datetime(2026, 1, 5, 21, 0, tzinfo=UTC)
SEED = 12
_CONFIG = Path(__file__).parent / "sim_data" / "cisco_ios" / "running-config.txt"

cr = schema.check_results


class SuiteError(Exception):
    """The suite cannot run (bad --db, a database it cannot create); the message names what."""


# -- where the databases live -------------------------------------------------------------------


class Backend:
    """The suite's databases by name, and how one state is copied to a new database."""

    kind = ""

    def url(self, name: str) -> str:
        raise NotImplementedError

    def create(self, name: str) -> str:
        """An empty database (the Ledger migrates it when opened)."""
        raise NotImplementedError

    def copy(self, source: str, target: str) -> str:
        """A new database ``target`` holding exactly what ``source`` holds now (no connection open to it)."""
        raise NotImplementedError

    def close(self) -> None:
        """Drop every database the suite created (PostgreSQL); temporary files go with their directory."""


class SqliteBackend(Backend):
    kind = "sqlite"

    def __init__(self, folder: Path, base: Path | None = None) -> None:
        self.folder, self.base = folder, base

    def _path(self, name: str) -> Path:
        if name == "base" and self.base is not None:
            return self.base
        return self.folder / f"{name}.db"

    def url(self, name: str) -> str:
        return f"sqlite:///{self._path(name)}"

    def create(self, name: str) -> str:
        return self.url(name)

    def copy(self, source: str, target: str) -> str:
        path = self._path(target)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)  # private like the ledger's own file
        os.close(fd)
        with (
            contextlib.closing(sqlite3.connect(self._path(source))) as src,
            contextlib.closing(sqlite3.connect(path)) as dst,
        ):
            src.backup(dst)  # a consistent copy, the WAL's pages included
        return self.url(target)


class PostgresBackend(Backend):
    kind = "postgresql"

    def __init__(self, server_url: str) -> None:
        self.server = make_url(server_url)
        self.prefix = f"maint_tamper_{secrets.token_hex(4)}"
        self.admin = sa.create_engine(self.server, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []
        self.shown = self.server.render_as_string(hide_password=True)

    def _name(self, name: str) -> str:
        return f"{self.prefix}_{name}"

    def url(self, name: str) -> str:
        return self.server.set(database=self._name(name)).render_as_string(hide_password=False)

    def _ddl(self, sql: str, name: str) -> None:
        try:
            with self.admin.connect() as conn:
                conn.exec_driver_sql(sql)
        except SQLAlchemyError as exc:
            raise SuiteError(f"--db {self.shown}: cannot create database {name}: {_cause(exc)}") from None

    def create(self, name: str) -> str:
        self._ddl(f'CREATE DATABASE "{self._name(name)}"', self._name(name))
        self.created.append(self._name(name))
        return self.url(name)

    def copy(self, source: str, target: str) -> str:
        self._ddl(
            f'CREATE DATABASE "{self._name(target)}" TEMPLATE "{self._name(source)}"', self._name(target)
        )
        self.created.append(self._name(target))
        return self.url(target)

    def close(self) -> None:
        failed: list[str] = []
        problem = ""
        try:
            for name in reversed(self.created):
                # plain DROP first: it stops autovacuum workers itself; FORCE would also need the right to
                # end other roles' processes
                for sql in (
                    f'DROP DATABASE IF EXISTS "{name}"',
                    f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                ):
                    try:
                        with self.admin.connect() as conn:
                            conn.exec_driver_sql(sql)
                        break
                    except SQLAlchemyError as exc:
                        problem = _cause(exc)
                else:
                    failed.append(name)
        finally:
            self.created = failed
            self.admin.dispose()
        if failed:
            raise SuiteError(
                f"--db {self.shown}: cannot drop the suite's databases {', '.join(failed)}: {problem}"
            )


def _cause(exc: SQLAlchemyError) -> str:
    """The driver's message on one line, without the SQL and its parameters."""
    cause: BaseException = getattr(exc, "orig", None) or exc
    return " ".join(f"{type(cause).__name__}: {cause}".split())


@contextlib.contextmanager
def var_at(path: Path) -> Iterator[Path]:
    """``MAINT_VAR`` set to ``path``: where Ledger.checkpoint writes and verify reads checkpoint files."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    before = os.environ.get("MAINT_VAR")
    os.environ["MAINT_VAR"] = str(path)
    try:
        yield path
    finally:
        if before is None:
            os.environ.pop("MAINT_VAR", None)
        else:
            os.environ["MAINT_VAR"] = before


# -- building the ledger ------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    table: str
    row_id: Any
    seq: int


@dataclass
class Built:
    """The state every case starts from, and what the cases aim at (all of client ``acme``)."""

    backend: Backend
    signer: Signer
    ledger_id: str
    exported: Path  # the exported checkpoint note (outside the database and var/)
    exported_size: int
    backup_size: int  # the rows of the older backup
    size: int  # the rows now
    edit: Row  # a failed check result inside the exported checkpoint
    middle: Row  # a check result inside it, deleted
    swap: tuple[Row, Row]  # two check results inside it, reordered
    forged_after: int  # the seq after which a forged result is slipped in
    forged_run: str
    tail_from: int  # the first seq of the last run the exported checkpoint covers: deleted from here on
    rows: dict[str, int] = field(default_factory=dict)  # rows per client

    @property
    def verifier(self) -> Verifier:
        return self.signer.verifier

    def exported_candidate(self) -> cp.Candidate:
        return cp.Candidate.of("given", str(self.exported), self.exported.read_text(encoding="utf-8"))


class _Writer:
    """Runs as ``maint run`` records them: a run, its plan, results per host, its outcome, a checkpoint."""

    def __init__(self, ledger: Ledger, signer: Signer) -> None:
        self.ledger, self.signer = ledger, signer
        self.rng = random.Random(SEED)  # noqa: S311 - reproducible sample data, no secret
        self.key = Fernet(Fernet.generate_key())
        self.config = _CONFIG.read_text(encoding="utf-8")
        self.runs: dict[str, int] = {}
        specs = [
            s
            for s in catalogue.load().controls.values()
            if s.role and s.os_family == "linux" and s.retired is None and s.role.startswith("linux_")
        ]
        self.by_role: dict[str, list[Any]] = {}
        for spec in sorted(specs, key=lambda s: s.id):
            self.by_role.setdefault(str(spec.role), []).append(spec)

    def size(self, client: str) -> int:
        return self.ledger.chain_heads().get(client, (0, ""))[0]

    def run(self, client: str) -> None:
        number = self.runs.get(client, 0) + 1
        self.runs[client] = number
        rng = self.rng
        started = T0 + timedelta(days=7 * (number - 1), minutes=rng.randint(0, 50))
        run_id = f"{started:%Y%m%dT%H%M%SZ}-{client}-{secrets.token_hex(3)}"
        roles = sorted(self.by_role)
        plan = {role: list(HOSTS) for role in roles}
        self.ledger.start_run(
            RunRecord(
                run_id=run_id,
                client=client,
                mode="audit",
                roles=roles,
                playbook="playbooks/site.yml",
                artifact_dir=f"var/runs/{run_id}",
                trigger="schedule",
                requested_by="maint due",
                started_at=started,
            ),
            plan,
        )
        window_start = started.replace(minute=0)
        occurrence = f"{client}/monthly/{window_start:%Y-%m-%dT%H:%MZ}"

        def occurrence_row(state: schedule_ledger.OccurrenceState, at: datetime) -> dict[str, Any]:
            return schedule_ledger.row(
                client=client,
                occurrence_id=occurrence,
                schedule_name="monthly",
                window_start=window_start,
                window_end=window_start + timedelta(hours=4),
                state=state,
                recorded_at=at,
                run_id=run_id,
                detail={"hosts": len(HOSTS)},
            )

        self.ledger.append(
            schedule_ledger.schedule_occurrences,
            [occurrence_row(schedule_ledger.OccurrenceState.STARTED, started)],
        )
        for index, host in enumerate(HOSTS):
            observed = started + timedelta(minutes=3 + index)
            results = []
            for role in roles:
                for spec in self.by_role[role][:2]:
                    status = rng.choices(
                        (Status.PASS, Status.FAIL, Status.WARN, Status.NOT_CHECKED), weights=(70, 15, 10, 5)
                    )[0]
                    results.append(
                        (
                            f"{host}|{spec.id}",
                            self._result(spec, status, host, client, run_id, role, observed),
                        )
                    )
            self.ledger.record(results)
        snapshots.store(
            self.ledger,
            client=client,
            device=DEVICE,
            platform=Platform.CISCO_IOS,
            raw=self.config + f"ntp server 192.0.2.{number % 250 + 1}\n",
            run_id=run_id,
            key=self.key,
        )
        finished = started + timedelta(minutes=20)
        self.ledger.append(
            schedule_ledger.schedule_occurrences,
            [occurrence_row(schedule_ledger.OccurrenceState.COMPLETED, finished)],
        )
        self.ledger.finish_run(run_id, RunStatus.SUCCESSFUL)
        self.ledger.checkpoint(client, self.signer)

    def _result(
        self, spec: Any, status: Status, host: str, client: str, run_id: str, role: str, observed: datetime
    ) -> CheckResult:
        rng = self.rng
        evidence: dict[str, Any]
        if spec.domain.value == "health":
            evidence = {"mount": "/", "used_percent": rng.randint(20, 99), "threshold_percent": 90}
        elif spec.domain.value == "patching":
            evidence = {"pending": rng.randint(0, 40), "security": rng.randint(0, 6), "manager": "apt"}
        elif spec.domain.value == "backup":
            evidence = {"last_snapshot_age_hours": rng.randint(1, 120), "max_age_hours": 26}
        else:
            evidence = {"engine": "clamav 1.0.7", "signature_age_days": rng.randint(0, 9)}
        if status is Status.NOT_CHECKED:
            evidence = {"reason": "host unreachable: ssh connect timed out"}
        return CheckResult(
            control=spec.id,
            title=spec.title,
            domain=spec.domain,
            status=status,
            severity=spec.severity,
            evidence=evidence,
            remediation="" if status is Status.PASS else spec.remediation,
            host=host,
            client=client,
            run_id=run_id,
            observed_at=observed,
            role=role,
            ticket=None,
        )


def build(backend: Backend, work: Path, rows: int) -> Built:
    """Build the base state (and the older backup) in ``backend``; ``work`` holds var/ and the export."""
    signer = generate_signer(KEY_NAME)
    base = backend.create("base")
    with var_at(work / "build-var"):
        ledger = Ledger(base)
        try:
            writer = _Writer(ledger, signer)
            while writer.size(CLIENT) < rows * 2 // 5:
                _round(writer)
            backup_size = writer.size(CLIENT)
        finally:
            ledger.close()
        backend.copy("base", "backup")
        ledger = Ledger(base)
        try:
            writer.ledger = ledger
            while writer.size(CLIENT) < rows * 4 // 5:
                _round(writer)
            exported = ledger.latest_checkpoint(CLIENT)
            assert exported is not None and exported.signed
            export_dir = work / "exported"
            export_dir.mkdir(mode=0o700, exist_ok=True)
            path = export_dir / f"{CLIENT}-{exported.size}.txt"
            path.write_text(exported.note, encoding="utf-8")  # the copy last month's report kept
            # at least one round after the export: the cases need rows the exported checkpoint does not
            # cover (a round's size grows with the catalogue's roles, so the loop alone may add none)
            _round(writer)
            while writer.size(CLIENT) < rows:
                _round(writer)
            ledger_id = ledger.ledger_id()
            sizes = {client: seq for client, (seq, _) in ledger.chain_heads().items()}
        finally:
            ledger.close()
    engine = sa.create_engine(base)
    try:
        with engine.connect() as conn:
            return _aim(conn, backend, signer, ledger_id, path, exported.size, backup_size, sizes)
    finally:
        engine.dispose()


def _round(writer: _Writer) -> None:
    writer.run(CLIENT)
    other = OTHERS[writer.runs[CLIENT] % len(OTHERS)]
    writer.run(other)


def _aim(
    conn: Connection,
    backend: Backend,
    signer: Signer,
    ledger_id: str,
    exported: Path,
    size: int,
    backup_size: int,
    sizes: dict[str, int],
) -> Built:
    """Pick the rows each case aims at, all inside the exported checkpoint."""
    results = [
        (int(r.id), int(r.seq), str(r.status), str(r.run_id))
        for r in conn.execute(
            sa.select(cr.c.id, cr.c.seq, cr.c.status, cr.c.run_id)
            .where(cr.c.client == CLIENT, cr.c.seq <= size)
            .order_by(cr.c.seq)
        )
    ]
    half = size // 2
    failed = [r for r in results if r[2] == Status.FAIL.value and r[1] >= half] or [
        r for r in results if r[2] == Status.FAIL.value
    ]
    if not failed:
        raise SuiteError("the built ledger has no failed check result to edit")
    edit = failed[0]
    later = [r for r in results if r[1] > half and r[1] != edit[1]]
    middle = later[len(later) // 2]
    third = [r for r in results if r[1] >= size // 3 and r[1] not in (edit[1], middle[1])]
    first, second = third[0], third[1]
    forged = [r for r in results if r[1] < half][-1]
    runs = schema.runs
    last_run = conn.execute(
        sa.select(sa.func.max(runs.c.seq)).where(runs.c.client == CLIENT, runs.c.seq <= size)
    ).scalar_one()
    return Built(
        backend=backend,
        signer=signer,
        ledger_id=ledger_id,
        exported=exported,
        exported_size=size,
        backup_size=backup_size,
        size=sizes[CLIENT],
        edit=Row("check_results", edit[0], edit[1]),
        middle=Row("check_results", middle[0], middle[1]),
        swap=(Row("check_results", first[0], first[1]), Row("check_results", second[0], second[1])),
        forged_after=forged[1],
        forged_run=forged[3],
        tail_from=int(last_run),
        rows=sizes,
    )


# -- the attacker's tools (a plain connection, our hashing code) ---------------------------------


def _client_rows(conn: Connection, client: str) -> list[tuple[sa.Table, dict[str, Any]]]:
    """Every chained row of the client, whole (key and hashes included), in seq order."""
    found = []
    for table in schema.CHAINED:
        for row in conn.execute(sa.select(table).where(table.c.client == client)).mappings():
            found.append((table, dict(row)))
    return sorted(found, key=lambda item: int(item[1]["seq"]))


def _rechain(rows: Sequence[tuple[sa.Table, dict[str, Any]]]) -> None:
    """Renumber the rows 1..n and recompute every prev_hash and row_hash, as Ledger.append does."""
    prev = GENESIS
    for seq, (table, row) in enumerate(rows, start=1):
        row["seq"] = seq
        content = {name: row[name] for name in schema.content_columns(table)}
        content[TABLE_KEY] = table.name
        row["prev_hash"] = prev
        row["row_hash"] = prev = row_hash(prev, content)


def _rewrite(conn: Connection, client: str, rows: Sequence[tuple[sa.Table, dict[str, Any]]]) -> None:
    """Replace the client's rows in every chained table by ``rows`` (children out first, runs in first)."""
    for table in reversed(schema.CHAINED):
        conn.execute(sa.delete(table).where(table.c.client == client))
    for table in schema.CHAINED:
        mine = [row for t, row in rows if t is table]
        if mine:
            conn.execute(sa.insert(table), mine)


def _head_to(conn: Connection, client: str, seq: int, digest: str, frontier: str | None = None) -> None:
    values: dict[str, Any] = {"seq": seq, "row_hash": digest}
    if frontier is not None:
        values["frontier"] = frontier
    heads = schema.chain_heads
    conn.execute(sa.update(heads).where(heads.c.client == client).values(**values))


def _retree(
    conn: Connection,
    built: Built,
    rows: Sequence[tuple[sa.Table, dict[str, Any]]],
    checkpoints: str,
    attacker: Signer | None = None,
) -> None:
    """Recompute the client's tree from ``rows`` and store it as the ledger would: the head (seq, hash,
    compact range), every stored subtree; then the stored checkpoints: ``keep`` those still inside the
    rows, ``remake`` them at their sizes over the new tree (signed by ``attacker``, else unsigned), or
    ``drop`` them all."""
    table = schema.checkpoints
    made = {
        int(size): str(at)
        for size, at in conn.execute(sa.select(table.c.size, table.c.made_at).where(table.c.client == CLIENT))
    }
    frontier = merkle.Frontier()
    nodes: list[dict[str, Any]] = []
    roots: dict[int, bytes] = {}

    def on_node(level: int, index: int, digest: bytes) -> None:
        if level >= tree_mod.NODE_LEVEL:
            nodes.append({"client": CLIENT, "level": level, "idx": index, "hash": digest.hex()})

    for _, row in rows:
        frontier.append(tree_mod.leaf_of(row["row_hash"]), on_node)
        if frontier.size in made:
            roots[frontier.size] = frontier.root()
    conn.execute(sa.delete(schema.merkle_nodes).where(schema.merkle_nodes.c.client == CLIENT))
    if nodes:
        conn.execute(sa.insert(schema.merkle_nodes), nodes)
    last = rows[-1][1]
    _head_to(conn, CLIENT, int(last["seq"]), str(last["row_hash"]), frontier.to_text())
    if checkpoints == "keep":
        conn.execute(sa.delete(table).where(table.c.client == CLIENT, table.c.size > frontier.size))
        return
    conn.execute(sa.delete(table).where(table.c.client == CLIENT))
    if checkpoints == "drop":
        return
    remade = []
    for size, root in sorted(roots.items()):
        when = datetime.fromisoformat(made[size].replace("Z", "+00:00"))
        note = cp.make_note(built.ledger_id, CLIENT, size, root, when, attacker)
        remade.append(
            {
                "client": CLIENT,
                "size": size,
                "root_hash": root.hex(),
                "made_at": made[size],
                "key_id": attacker.key_id.hex() if attacker is not None else None,
                "note": note,
            }
        )
    if remade:
        conn.execute(sa.insert(table), remade)


def _pass(row: dict[str, Any]) -> None:
    """The edit every case makes of a failed result: it passed, nothing to remediate."""
    row["status"] = Status.PASS.value
    row["remediation"] = ""


# -- the cases ------------------------------------------------------------------------------------


def tamper_edit(conn: Connection, built: Built) -> None:
    conn.execute(
        sa.text("UPDATE check_results SET status = 'pass', remediation = '' WHERE id = :id"),
        {"id": built.edit.row_id},
    )


def tamper_delete_middle(conn: Connection, built: Built) -> None:
    conn.execute(sa.text("DELETE FROM check_results WHERE id = :id"), {"id": built.middle.row_id})


def tamper_delete_tail(conn: Connection, built: Built) -> None:
    """The last run the client was shown, and everything after it, deleted; head, tree and the stored
    checkpoints beyond moved back so that the database is consistent with itself again."""
    for table in reversed(schema.CHAINED):
        conn.execute(
            sa.text(f"DELETE FROM {table.name} WHERE client = :client AND seq >= :seq"),
            {"client": CLIENT, "seq": built.tail_from},
        )
    _retree(conn, built, _client_rows(conn, CLIENT), "keep")


def tamper_reorder(conn: Connection, built: Built) -> None:
    first, second = built.swap
    swap = sa.text("UPDATE check_results SET seq = :seq WHERE id = :id")
    conn.execute(swap, {"seq": -first.seq, "id": first.row_id})
    conn.execute(swap, {"seq": first.seq, "id": second.row_id})
    conn.execute(swap, {"seq": second.seq, "id": first.row_id})


def tamper_insert(conn: Connection, built: Built) -> None:
    """A forged passing result slipped in after seq k: later rows moved up one, its hashes computed
    with the ledger's code from the row before it, the head's seq moved."""
    after = built.forged_after
    for table in schema.CHAINED:
        params = {"client": CLIENT, "seq": after}
        conn.execute(
            sa.text(f"UPDATE {table.name} SET seq = -seq WHERE client = :client AND seq > :seq"), params
        )
        conn.execute(
            sa.text(f"UPDATE {table.name} SET seq = 1 - seq WHERE client = :client AND seq < 0"), params
        )
    rows = _client_rows(conn, CLIENT)
    prev = next(row for _, row in rows if int(row["seq"]) == after)
    model = next(row for t, row in rows if t is cr and row["run_id"] == built.forged_run)
    forged = {
        **{name: model[name] for name in schema.content_columns(cr)},
        "seq": after + 1,
        "result_key": "srv03|BKP-RESTIC-01",
        "host": "srv03",
        "status": Status.PASS.value,
        "remediation": "",
    }
    digest = row_hash(str(prev["row_hash"]), {**forged, TABLE_KEY: cr.name})
    conn.execute(sa.insert(cr), [{**forged, "prev_hash": prev["row_hash"], "row_hash": digest}])
    heads = schema.chain_heads
    conn.execute(sa.update(heads).where(heads.c.client == CLIENT).values(seq=heads.c.seq + 1))


def _edited_rows(conn: Connection, built: Built) -> list[tuple[sa.Table, dict[str, Any]]]:
    rows = _client_rows(conn, CLIENT)
    for table, row in rows:
        if table is cr and row["id"] == built.edit.row_id:
            _pass(row)
    _rechain(rows)
    return rows


def tamper_recompute_chain(conn: Connection, built: Built) -> None:
    """The edit, every later row hash and the head recomputed (the attack the issue describes)."""
    rows = _edited_rows(conn, built)
    _rewrite(conn, CLIENT, rows)
    last = rows[-1][1]
    _head_to(conn, CLIENT, int(last["seq"]), str(last["row_hash"]))


def tamper_recompute_unsigned(conn: Connection, built: Built) -> None:
    """... and the tree: subtrees, compact range, every stored checkpoint remade (unsigned)."""
    rows = _edited_rows(conn, built)
    _rewrite(conn, CLIENT, rows)
    _retree(conn, built, rows, "remake")


def tamper_recompute_attacker_key(conn: Connection, built: Built) -> None:
    """... the stored checkpoints remade and signed with the attacker's own key (named like ours)."""
    rows = _edited_rows(conn, built)
    _rewrite(conn, CLIENT, rows)
    _retree(conn, built, rows, "remake", generate_signer(KEY_NAME))


def tamper_drop_rebuild(conn: Connection, built: Built) -> None:
    """check_results dropped and created again (the schema's own DDL) holding every row but the failed
    result, the client's whole chain renumbered and recomputed, its tree too, its checkpoints dropped."""
    everyone = [dict(row) for row in conn.execute(sa.select(cr).order_by(cr.c.id)).mappings()]
    rows = [
        (table, row)
        for table, row in _client_rows(conn, CLIENT)
        if not (table is cr and row["id"] == built.edit.row_id)
    ]
    cr.drop(conn)
    cr.create(conn)
    others = [row for row in everyone if row["client"] != CLIENT]
    if others:
        conn.execute(sa.insert(cr), others)
    _rechain(rows)
    _rewrite(conn, CLIENT, rows)
    _retree(conn, built, rows, "drop")


def given_byte_edited(built: Built) -> list[cp.Candidate]:
    """The exported checkpoint with one byte of its body changed (a digit of its time line)."""
    text = built.exported.read_text(encoding="utf-8")
    at = text.index("\n" + cp.TIME_PREFIX) + 1 + len(cp.TIME_PREFIX) + 3  # the year's last digit
    edited = text[:at] + ("1" if text[at] != "1" else "2") + text[at + 1 :]
    return [cp.Candidate.of("given", f"{built.exported} (one byte edited)", edited)]


def given_other_key(built: Built) -> list[cp.Candidate]:
    """Beside the exported checkpoint, one of today's tree (true size and root) signed by another key."""
    engine = sa.create_engine(built.backend.url("base"))
    try:
        with engine.connect() as conn:
            heads = schema.chain_heads
            head = conn.execute(sa.select(heads).where(heads.c.client == CLIENT)).mappings().one()
    finally:
        engine.dispose()
    root = merkle.Frontier.from_text(int(head["seq"]), str(head["frontier"])).root()
    note = cp.make_note(
        built.ledger_id, CLIENT, int(head["seq"]), root, datetime.now(UTC), generate_signer(KEY_NAME)
    )
    return [built.exported_candidate(), cp.Candidate.of("given", "forged (another key)", note)]


Expect = Callable[[VerifyReport, Built], str | None]


def _given(report: VerifyReport, where: str | None = None) -> list[CheckpointCheck]:
    return [c for c in report.checkpoints if c.source == "given" and (where is None or c.where == where)]


def _given_fails(*needles: str) -> Expect:
    def expect(report: VerifyReport, built: Built) -> str | None:
        checks = _given(report, str(built.exported))
        if not checks or checks[0].ok:
            return "the exported checkpoint still holds"
        reason = checks[0].reason or ""
        wanted = [n.format(b=built) for n in needles]
        missing = [n for n in wanted if n not in reason]
        return f"the exported checkpoint fails, but not saying {missing}" if missing else None

    return expect


def _first_bad(seq: Callable[[Built], int], reason: str) -> Expect:
    def expect(report: VerifyReport, built: Built) -> str | None:
        bad = report.first_bad
        if bad is None:
            return "no bad row named"
        if bad.seq != seq(built) or reason not in bad.reason:
            return f"expected row seq {seq(built)} ({reason}), got seq {bad.seq}: {bad.reason}"
        return None

    return expect


def _all(*expects: Expect) -> Expect:
    def expect(report: VerifyReport, built: Built) -> str | None:
        for one in expects:
            problem = one(report, built)
            if problem is not None:
                return problem
        return None

    return expect


def _chain_intact(report: VerifyReport, built: Built) -> str | None:
    return None if report.first_bad is None else "the attacker's chain should walk clean"


def _tree_intact(report: VerifyReport, built: Built) -> str | None:
    return None if report.tree_problem is None else "the attacker's tree should match its rows"


def _tree_flagged(report: VerifyReport, built: Built) -> str | None:
    return None if report.tree_problem is not None else "the stored tree should no longer match"


def _stored_signatures_bad(report: VerifyReport, built: Built) -> str | None:
    stored = [c for c in report.checkpoints if c.source == "ledger"]
    if stored and all(c.signature == "bad" and not c.ok for c in stored):
        return None
    return "the stored checkpoints signed by the attacker's key should all be rejected"


def _signature_bad(where: Callable[[Built], str]) -> Expect:
    def expect(report: VerifyReport, built: Built) -> str | None:
        checks = _given(report, where(built))
        if checks and not checks[0].ok and checks[0].signature == "bad":
            return None
        return f"the checkpoint {where(built)} should be rejected for its signature"

    return expect


def _exported_holds(report: VerifyReport, built: Built) -> str | None:
    checks = _given(report, str(built.exported))
    if checks and checks[0].ok and checks[0].signature == "verified":
        return None
    return "the exported checkpoint should verify"


def _control(report: VerifyReport, built: Built) -> str | None:
    if not report.ok:
        return "the untouched ledger does not verify"
    return _exported_holds(report, built)


_ROOT = "its root does not match the ledger's first {b.exported_size} rows"


@dataclass(frozen=True)
class Case:
    name: str
    summary: str
    expect: Expect
    tamper: Callable[[Connection, Built], None] | None = None
    source: str = "base"  # the state it starts from: "base" or "backup"
    given: Callable[[Built], list[cp.Candidate]] | None = None  # default: the exported checkpoint
    control: bool = False  # must verify OK


CASES: tuple[Case, ...] = (
    Case("control", "untouched copy: must verify OK (no false positive)", _control, control=True),
    Case(
        "edit",
        "a stored fail edited to pass",
        _first_bad(lambda b: b.edit.seq, "hash mismatch"),
        tamper_edit,
    ),
    Case(
        "delete-middle",
        "a check result in the middle deleted",
        _first_bad(lambda b: b.middle.seq + 1, "seq gap: expected"),
        tamper_delete_middle,
    ),
    Case(
        "delete-tail",
        "the last run shown deleted and everything after; head, tree, checkpoints moved back",
        _all(_given_fails("names {b.exported_size} rows but the ledger holds"), _chain_intact, _tree_intact),
        tamper_delete_tail,
    ),
    Case(
        "reorder",
        "two check results swapped (their seqs exchanged)",
        _first_bad(lambda b: b.swap[0].seq, "prev_hash does not match"),
        tamper_reorder,
    ),
    Case(
        "insert-forged",
        "a forged passing result slipped in, later rows renumbered",
        _first_bad(lambda b: b.forged_after + 2, "prev_hash does not match"),
        tamper_insert,
    ),
    Case(
        "recompute-chain",
        "edit, then every later row hash and the chain head recomputed",
        _all(_chain_intact, _tree_flagged, _given_fails(_ROOT)),
        tamper_recompute_chain,
    ),
    Case(
        "recompute-all-unsigned",
        "... and subtrees, compact range, stored checkpoints remade unsigned",
        _all(_chain_intact, _tree_intact, _given_fails(_ROOT)),
        tamper_recompute_unsigned,
    ),
    Case(
        "recompute-all-own-key",
        "... stored checkpoints remade signed with the attacker's key",
        _all(_chain_intact, _tree_intact, _stored_signatures_bad, _given_fails(_ROOT)),
        tamper_recompute_attacker_key,
    ),
    Case(
        "drop-rebuild",
        "check_results dropped and rebuilt without the failure, everything recomputed",
        _all(_chain_intact, _tree_intact, _given_fails(_ROOT)),
        tamper_drop_rebuild,
    ),
    Case(
        "older-backup",
        "the database replaced by a copy taken before the last rows were added",
        _given_fails("names {b.exported_size} rows but the ledger holds {b.backup_size}"),
        source="backup",
    ),
    Case(
        "checkpoint-byte",
        "one byte of the exported checkpoint edited",
        _signature_bad(lambda b: f"{b.exported} (one byte edited)"),
        given=given_byte_edited,
    ),
    Case(
        "other-key",
        "a checkpoint of today's tree signed with another key",
        _all(_signature_bad(lambda b: "forged (another key)"), _exported_holds),
        given=given_other_key,
    ),
)


@dataclass(frozen=True)
class Outcome:
    case: Case
    report: VerifyReport
    detected: bool  # verify said the ledger does not hold (for the control: it holds)
    problem: str | None  # None when verify named what the case expects

    @property
    def passed(self) -> bool:
        return self.detected and self.problem is None

    def said(self) -> str:
        return describe(self.report)

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case.name,
            "summary": self.case.summary,
            "control": self.case.control,
            "detected": self.detected,
            "as_expected": self.problem is None,
            "problem": self.problem,
            "said": self.said(),
            "report": self.report.model_dump(mode="json"),
        }


def describe(report: VerifyReport) -> str:
    """What verify said: the first bad row, the tree problem, the first failing checkpoints."""
    parts = []
    if report.ok:
        parts.append(f"OK: {report.rows} rows, {len(report.checkpoints)} checkpoints hold")
    bad = report.first_bad
    if bad is not None:
        parts.append(f"row {bad.table} seq {bad.seq} (id {bad.row_id}): {bad.reason}")
    if report.tree_problem is not None:
        parts.append(f"tree: {report.tree_problem}")
    failed = [c for c in report.checkpoints if not c.ok]
    for check in [c for c in failed if c.source != "ledger"]:
        name = Path(check.where).name if check.source == "given" else check.where
        parts.append(
            f"{check.source} checkpoint {name} ({check.size} rows, {check.signature}): {check.reason}"
        )
    stored = [c for c in failed if c.source == "ledger"]
    if stored:
        first = min(stored, key=lambda c: c.size or 0)
        parts.append(
            f"{len(stored)} stored checkpoint(s) fail, first {first.where} ({first.size} rows, "
            f"{first.signature}): {first.reason}"
        )
    return "; ".join(parts)


def run_case(case: Case, built: Built, work: Path) -> Outcome:
    """Copy the case's starting state to a database of its own, tamper with it, verify it."""
    backend = built.backend
    slug = case.name.replace("-", "_")
    url = backend.copy(case.source, slug)
    if case.tamper is not None:
        engine = sa.create_engine(url)
        try:
            with engine.begin() as conn:
                case.tamper(conn, built)
        finally:
            engine.dispose()
    given = case.given(built) if case.given is not None else [built.exported_candidate()]
    # MAINT_VAR empty: only the database and what is given count
    with var_at(work / "verify-var" / slug), Ledger(url) as ledger:
        if case.control:  # every client, all must hold
            reports = ledger.verify(given=given, verifier=built.verifier)
            report = next((r for r in reports if not r.ok), None) or next(
                r for r in reports if r.client == CLIENT
            )
        else:
            (report,) = ledger.verify(CLIENT, given=given, verifier=built.verifier)
    detected = report.ok if case.control else not report.ok
    problem = case.expect(report, built)
    return Outcome(case, report, detected, problem)


def open_backend(db: str | None, work: Path) -> Backend:
    """The backend ``--db`` names (SuiteError for a URL the suite cannot use)."""
    if db is None:
        return SqliteBackend(work / "db")
    try:
        url = make_url(db)
    except ArgumentError as exc:
        raise SuiteError(f"--db: not a database URL: {exc}") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:") or url.query.get("mode") == "memory":
            raise SuiteError("--db: an in-memory SQLite ledger cannot be copied per case: name a file")
        path = Path(database).expanduser().resolve()
        if path.exists():
            raise SuiteError(
                f"--db: {path} exists: the suite builds a new ledger, name a file that does not exist"
            )
        if not path.parent.is_dir():
            raise SuiteError(f"--db: no directory {path.parent}")
        return SqliteBackend(work / "db", base=path)
    if backend == "postgresql":
        return PostgresBackend(db)
    raise SuiteError(f"--db: {backend} is not a ledger backend (sqlite or postgresql)")


def run_suite(
    db: str | None = None, rows: int = DEFAULT_ROWS, cases: Sequence[Case] = CASES
) -> list[Outcome]:
    with tempfile.TemporaryDirectory(prefix="maint-tamper-") as tmp:
        work = Path(tmp)
        (work / "db").mkdir(mode=0o700)
        backend = open_backend(db, work)
        try:
            built = build(backend, work, rows)
            return [run_case(case, built, work) for case in cases]
        finally:
            backend.close()


def table(outcomes: Sequence[Outcome]) -> str:
    width = max(len(o.case.name) for o in outcomes)
    lines = [f"{'case':<{width}} | detected | what verify said", f"{'-' * width}-+----------+-{'-' * 40}"]
    for outcome in outcomes:
        mark = "yes" if outcome.detected else "NO"
        if outcome.case.control:
            mark = "ok" if outcome.detected else "FALSE+"
        said = outcome.said()
        if outcome.problem is not None:
            said += f"  [NOT AS EXPECTED: {outcome.problem}]"
        lines.append(f"{outcome.case.name:<{width}} | {mark:<8} | {said}")
    tampered = [o for o in outcomes if not o.case.control]
    caught = sum(1 for o in tampered if o.passed)
    controls = [o for o in outcomes if o.case.control]
    lines.append("")
    lines.append(
        f"detected {caught}/{len(tampered)} tamper cases; control "
        + ("verifies OK" if all(o.passed for o in controls) else "FAILED (false positive)")
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m maint_devtools.tamper",
        description="Tamper with a ledger as an attacker with write access to its database would; "
        "show what verify finds.",
    )
    parser.add_argument(
        "--db", help="SQLite file URL (new file) or PostgreSQL server URL (default: a temp SQLite file)"
    )
    parser.add_argument(
        "--rows", type=int, default=DEFAULT_ROWS, help=f"rows of client {CLIENT} (default {DEFAULT_ROWS})"
    )
    parser.add_argument("--json", action="store_true", help="print the outcomes as JSON")
    args = parser.parse_args(argv)
    if args.rows < MIN_ROWS:
        print(f"--rows: at least {MIN_ROWS} (got {args.rows})", file=sys.stderr)
        return 2
    logging.getLogger("runner").setLevel(logging.ERROR)  # verify warns about every tampered ledger
    try:
        outcomes = run_suite(args.db, args.rows)
    except SuiteError as exc:
        print(exc, file=sys.stderr)
        return 2
    except LedgerError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.json:
        tampered = [o for o in outcomes if not o.case.control]
        print(
            json.dumps(
                {
                    "cases": [o.as_dict() for o in outcomes],
                    "detected": sum(1 for o in tampered if o.passed),
                    "total": len(tampered),
                    "control_ok": all(o.passed for o in outcomes if o.case.control),
                },
                indent=2,
            )
        )
    else:
        print(table(outcomes))
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
