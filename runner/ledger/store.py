"""The ledger: append-only, per-client hash-chained storage of runs and check results."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from runner.ledger import checkpoints as cp
from runner.ledger import merkle, proofs, schema
from runner.ledger import tree as tree_mod
from runner.ledger import verify as verify_mod
from runner.ledger.chain import (
    GENESIS,
    TABLE_KEY,
    Head,
    canonical_json,
    check_result_text,
    row_hash,
)
from runner.ledger.checkpoints import StoredCheckpoint
from runner.ledger.models import RunInfo, RunRecord, RunStatus, VerifyReport
from runner.ledger.note import Signer, Verifier
from runner.ledger.tree import NodeCallback
from runner.paths import var_dir
from runner.results import CheckResult, Status

log = logging.getLogger(__name__)
_T = TypeVar("_T")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_S = 30
#: keys per existence query (well under SQLite's 32766 and PostgreSQL's 65535 parameters)
_KEY_CHUNK = 5000
#: pg_advisory_xact_lock key serialising migrations of one database ("maint")
_PG_MIGRATION_LOCK = 0x6D61696E74
#: execution option asking the SQLite ``begin`` hook for BEGIN IMMEDIATE
_WRITE = "ledger_write"
#: the key of a run's ``running`` event summary that holds its plan (role -> hosts)
PLAN_KEY = "plan"

cr = schema.check_results
#: the prefix of a leaf hash's input (RFC 9162; merkle.leaf_hash, inlined in the ingest hot loop)
_LEAF = b"\x00"

#: which of a run's result keys are stored already (one query per batch, on uq_check_results_run_key)
_STORED_KEYS = sa.select(cr.c.result_key).where(
    cr.c.run_id == sa.bindparam("run_id"), cr.c.result_key.in_(sa.bindparam("keys", expanding=True))
)


class LedgerError(Exception):
    """The ledger cannot be opened, read or written; the message names the (masked) URL."""


def default_url(create: bool = True) -> str:
    """``MAINT_DB_URL``, else the embedded SQLite file ``var/ledger.db`` under the project root (``var/``
    is created unless ``create`` is false: opening a :class:`Ledger` creates it anyway)."""
    env = os.environ.get("MAINT_DB_URL")
    if env:
        return env
    return f"sqlite:///{var_dir(create) / 'ledger.db'}"


def _iso(value: datetime) -> str:
    """Fixed-width ISO-8601 UTC text: sorts lexically in time order, hashes the same everywhere."""
    if value.tzinfo is not UTC:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")


def _now() -> str:
    return _iso(datetime.now(UTC))


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Ledger:
    """The compliance ledger at ``url`` (see :func:`default_url`); migrated to head on open."""

    #: keep each client's Merkle tree as rows are appended (only bench/checkpoint.py turns it off, to
    #: measure what it costs; the head's range is then stored as NULL and rebuilt on the next append)
    _tree = True

    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_url()
        try:
            parsed = make_url(self.url)
        except ArgumentError as exc:
            raise LedgerError(f"invalid ledger URL: {exc}") from exc
        #: the URL with any password masked, for messages and display
        self.display_url = parsed.render_as_string(hide_password=True)
        self._sqlite = parsed.get_backend_name() == "sqlite"
        self._result_insert: tuple[str, bool, list[int]] | None = None
        with self._errors("open"):
            schema.load_domain_tables()  # every domain's tables, before migrate / verify / append
            self._engine = self._create_engine(parsed)
            try:
                self._migrate()
            except BaseException:
                self._engine.dispose()
                raise
        log.debug("ledger open: %s", self.display_url)

    def __repr__(self) -> str:
        return f"Ledger({self.display_url!r})"

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._engine.dispose()

    # -- connection set-up -------------------------------------------------------------

    def _create_engine(self, url: sa.URL) -> Engine:
        if not self._sqlite:
            return sa.create_engine(url, pool_pre_ping=True)
        database = url.database or ""
        memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
        if memory:
            engine = sa.create_engine(url, poolclass=StaticPool, connect_args={"timeout": BUSY_TIMEOUT_S})
        else:
            _create_private_file(Path(database).expanduser())
            engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})
        _sqlite_hooks(engine, wal=not memory)
        return engine

    def _migrate(self) -> None:
        """``alembic upgrade heads`` unless the schema is there already (the usual open: no write lock)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        heads = set(ScriptDirectory.from_config(config).get_heads())
        with self._engine.connect() as conn:
            if _revisions(conn) == heads:
                return
        with self._write() as conn:
            if conn.dialect.name == "postgresql":  # one migrator at a time; SQLite has BEGIN IMMEDIATE
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
            log.info("migrating ledger %s to %s", self.display_url, ", ".join(sorted(heads)))
            config.attributes["connection"] = conn
            command.upgrade(config, "heads")  # domains add migrations on branches of 0001

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction: BEGIN IMMEDIATE on SQLite (writers for a file serialise)."""
        with self._engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        """One read transaction that sees a single state of the database throughout."""
        with self._engine.connect() as conn:
            if conn.dialect.name == "postgresql":  # READ COMMITTED would take a snapshot per statement
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():  # SQLite: a deferred (WAL) read transaction is one snapshot already
                yield conn

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except LedgerError:
            raise
        except (SQLAlchemyError, OSError, ImportError, ValueError, CommandError) as exc:
            cause: BaseException = exc
            if isinstance(exc, DBAPIError) and exc.orig is not None:
                cause = exc.orig  # the driver's message, without the SQL and its parameters
            raise LedgerError(
                f"ledger {self.display_url}: cannot {action}: {type(cause).__name__}: {cause}"
            ) from exc

    # -- chain heads ----------------------------------------------------------------------

    def _lock_heads(self, conn: Connection, clients: set[str]) -> _Heads:
        """Lock (PostgreSQL: FOR UPDATE) and read each client's chain head, creating missing ones."""
        return _Heads(conn, clients, tree=self._tree)

    # -- appending -----------------------------------------------------------------------

    def start_run(self, run: RunRecord, plan: Mapping[str, Sequence[str]] | None = None) -> None:
        """Append the run's row; a run already stored is left as it is (re-ingest).

        With ``plan`` (role -> hosts), a ``running`` run event holding it is appended in the same
        transaction: what the run was started to cover, which ``maint ledger ingest`` trusts (never
        the artifacts' own copy).
        """
        runs = schema.runs
        with self._errors(f"start run {run.run_id}"), self._write() as conn:
            heads = self._lock_heads(conn, {run.client})
            stored = conn.execute(sa.select(runs.c.client).where(runs.c.run_id == run.run_id)).first()
            if stored is not None:
                if stored.client != run.client:
                    raise LedgerError(
                        f"ledger {self.display_url}: run {run.run_id} is already stored "
                        f"for client {stored.client!r}, not {run.client!r}"
                    )
                log.debug("run %s already in the ledger", run.run_id)
                return
            row: dict[str, Any] = {
                "run_id": run.run_id,
                "client": run.client,
                "mode": run.mode,
                "roles": canonical_json(list(run.roles)),
                "host_limit": run.limit,
                "ticket": run.ticket,
                "reason": run.reason,
                "playbook": run.playbook,
                "artifact_dir": run.artifact_dir,
                "trigger": run.trigger,
                "requested_by": run.requested_by,
                "started_at": _iso(run.started_at),
                "recorded_at": _now(),
            }
            heads.chain(runs, row)
            conn.execute(sa.insert(runs), [row])
            if plan is not None:
                planned = {str(role): sorted(str(h) for h in hosts) for role, hosts in plan.items()}
                event: dict[str, Any] = {
                    "client": run.client,
                    "run_id": run.run_id,
                    "status": RunStatus.RUNNING.value,
                    "summary": canonical_json(
                        {PLAN_KEY: planned, "hosts": len({h for hs in planned.values() for h in hs})}
                    ),
                    "recorded_at": row["recorded_at"],
                }
                heads.chain(schema.run_events, event)
                conn.execute(sa.insert(schema.run_events), [event])
            heads.save()
        log.info("run %s started for %s (%s)", run.run_id, run.client, run.mode)

    def run_plan(self, run_id: str) -> dict[str, list[str]] | None:
        """The plan (role -> hosts) the run was started with, None when none was recorded."""
        events = schema.run_events
        query = (
            sa.select(events.c.summary)
            .where(events.c.run_id == run_id, events.c.status == RunStatus.RUNNING.value)
            .order_by(events.c.seq)
        )
        with self._errors(f"read the plan of run {run_id}"), self._engine.connect() as conn:
            for (summary,) in conn.execute(query):
                plan = _loads(summary).get(PLAN_KEY)
                if isinstance(plan, dict):
                    return {str(role): [str(h) for h in hosts] for role, hosts in plan.items()}
        return None

    def first_finish(self, run_id: str) -> datetime | None:
        """When the run's first outcome was recorded (the end of its span), None while it runs."""
        events = schema.run_events
        query = (
            sa.select(events.c.recorded_at)
            .where(events.c.run_id == run_id, events.c.status != RunStatus.RUNNING.value)
            .order_by(events.c.seq)
            .limit(1)
        )
        with self._errors(f"read run {run_id}"), self._engine.connect() as conn:
            found = conn.execute(query).scalar()
        return None if found is None else datetime.fromisoformat(str(found))

    def unfinished_runs(self, client: str | None = None) -> list[RunInfo]:
        """Every run whose latest event is ``running`` (or that has none), oldest first."""
        runs, events = schema.runs, schema.run_events
        last = (
            sa.select(events.c.run_id, sa.func.max(events.c.seq).label("seq"))
            .group_by(events.c.run_id)
            .subquery()
        )
        latest = (
            sa.select(events.c.run_id, events.c.status)
            .join(last, sa.and_(events.c.run_id == last.c.run_id, events.c.seq == last.c.seq))
            .subquery()
        )
        query = (
            sa.select(runs.c.run_id)
            .outerjoin(latest, latest.c.run_id == runs.c.run_id)
            .where(sa.or_(latest.c.status.is_(None), latest.c.status == RunStatus.RUNNING.value))
        )
        if client is not None:
            query = query.where(runs.c.client == client)
        with self._errors("list unfinished runs"), self._engine.connect() as conn:
            ids = [str(run_id) for run_id in conn.execute(query).scalars()]
            found = _run_infos(conn, runs.c.run_id.in_(ids), limit=len(ids)) if ids else []
        return sorted(found, key=lambda info: info.started_at)

    def append(self, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> int:
        """Append rows to a domain's chained table (see :func:`schema.chained_table`).

        Each row maps content columns to text / integer / NULL values (store JSON as
        :func:`canonical_json` text and times as ISO-8601 UTC text so hashes are stable); it
        must hold ``client``; a column it leaves out is stored (and hashed) as NULL, a key that is
        no column of the table is refused. ``seq``, ``prev_hash``, ``row_hash`` and ``id`` are set
        here. Returns how many rows were appended, in one transaction.
        """
        if table not in schema.CHAINED:
            raise LedgerError(f"ledger {self.display_url}: table {table.name} is not a chained table")
        if not rows:
            return 0
        unknown = sorted({key for row in rows for key in row} - set(table.columns.keys()))
        if unknown or any(not row.get("client") for row in rows):
            problem = f"no column(s) {', '.join(unknown)}" if unknown else "a row without its client"
            raise LedgerError(f"ledger {self.display_url}: cannot append to {table.name}: {problem}")
        # every content column, a missing one as NULL: the hash covers the row as it is stored
        content = [name for name in schema.content_columns(table) if name != "seq"]
        with self._errors(f"append to {table.name}"), self._write() as conn:
            heads = self._lock_heads(conn, {str(row["client"]) for row in rows})
            prepared = []
            for source in rows:
                row = {name: source.get(name) for name in content}
                heads.chain(table, row)
                prepared.append(row)
            conn.execute(sa.insert(table), prepared)
            heads.save()
        return len(prepared)

    @property
    def engine(self) -> Engine:
        """For read queries of domain tables; writes to chained tables go through :meth:`append`."""
        return self._engine

    def record(self, results: Sequence[tuple[str, CheckResult]]) -> int:
        """Append the ``(result_key, result)`` pairs not yet stored for their run; return how many.

        One transaction; a key repeated within ``results`` counts once (the first wins).
        Every result's run must have been started (:meth:`start_run`) for the same client.
        """
        if not results:
            return 0
        pending: dict[tuple[str, str], CheckResult] = {}
        for key, result in results:
            pending.setdefault((result.run_id, key), result)
        keys_by_run: dict[str, list[str]] = defaultdict(list)
        for run_id, key in pending:
            keys_by_run[run_id].append(key)
        with self._errors("record check results"), self._write() as conn:
            heads = self._lock_heads(conn, {result.client for result in pending.values()})
            self._check_runs(conn, {key[0]: result.client for key, result in pending.items()})
            for run_id, keys in keys_by_run.items():
                for chunk in _chunks(keys, _KEY_CHUNK):
                    for (key,) in conn.execute(_STORED_KEYS, {"run_id": run_id, "keys": chunk}):
                        del pending[(run_id, key)]
            if not pending:
                return 0
            rows = _result_rows(pending, heads)
            self._insert_many(conn, rows)
            heads.save()
        log.debug("recorded %d check results", len(rows))
        return len(rows)

    def _insert_many(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        """executemany of ``_RESULT_INSERT`` tuples straight to the driver (no per-row SQLAlchemy work)."""
        if self._result_insert is None:
            compiled = sa.insert(cr).compile(dialect=conn.dialect, column_keys=list(_RESULT_INSERT))
            names = list(compiled.positiontup or ()) if compiled.positional else list(compiled.params)
            self._result_insert = (
                compiled.string,
                compiled.positional,
                [_RESULT_INSERT.index(n) for n in names],
            )
        sql, positional, order = self._result_insert
        params: Sequence[Any]
        if not positional:
            params = [{_RESULT_INSERT[i]: row[i] for i in order} for row in rows]
        elif order != list(range(len(_RESULT_INSERT))):
            params = [tuple(row[i] for i in order) for row in rows]
        else:
            params = rows
        conn.exec_driver_sql(sql, params)

    def _check_runs(self, conn: Connection, clients: Mapping[str, str]) -> None:
        """Every run is stored, for the client its results name."""
        runs = schema.runs
        stored: dict[str, str] = {}
        for chunk in _chunks(list(clients), _KEY_CHUNK):
            query = sa.select(runs.c.run_id, runs.c.client).where(runs.c.run_id.in_(chunk))
            stored.update((row.run_id, row.client) for row in conn.execute(query))
        for run_id, client in clients.items():
            if run_id not in stored:
                raise LedgerError(
                    f"ledger {self.display_url}: results for unknown run {run_id}: start it first"
                )
            if stored[run_id] != client:
                raise LedgerError(
                    f"ledger {self.display_url}: run {run_id} belongs to {stored[run_id]!r}, "
                    f"not {client!r} as its results say"
                )

    def finish_run(self, run_id: str, status: RunStatus, summary: dict[str, Any] | None = None) -> None:
        """Append a run event (the run row itself is never changed).

        Without ``summary`` the event stores the counts of the run's results per status and hosts.
        """
        status = RunStatus(status)
        with self._errors(f"finish run {run_id}"):
            client = self._run_client(run_id)
            with self._write() as conn:
                heads = self._lock_heads(conn, {client})
                if summary is None:
                    summary = _summaries(conn, [run_id]).get(run_id, {"hosts": 0})
                row: dict[str, Any] = {
                    "client": client,
                    "run_id": run_id,
                    "status": status.value,
                    "summary": canonical_json(summary),
                    "recorded_at": _now(),
                }
                heads.chain(schema.run_events, row)
                conn.execute(sa.insert(schema.run_events), [row])
                heads.save()
        log.info("run %s finished: %s", run_id, status.value)

    def _run_client(self, run_id: str) -> str:
        runs = schema.runs
        with self._engine.connect() as conn:
            client = conn.execute(sa.select(runs.c.client).where(runs.c.run_id == run_id)).scalar()
        if client is None:
            raise LedgerError(f"ledger {self.display_url}: unknown run {run_id}")
        return str(client)

    # -- reading -------------------------------------------------------------------------

    def run(self, run_id: str) -> RunInfo | None:
        with self._errors(f"read run {run_id}"), self._engine.connect() as conn:
            found = _run_infos(conn, schema.runs.c.run_id == run_id, limit=1)
        return found[0] if found else None

    def runs(self, client: str | None = None, *, ticket: str | None = None, limit: int = 50) -> list[RunInfo]:
        """Runs newest first (by start time); status from each run's latest event."""
        runs = schema.runs
        where: list[sa.ColumnElement[bool]] = []
        if client is not None:
            where.append(runs.c.client == client)
        if ticket is not None:
            where.append(runs.c.ticket == ticket)
        with self._errors("list runs"), self._engine.connect() as conn:
            return _run_infos(conn, sa.and_(sa.true(), *where), limit=limit)

    def last_runs(self) -> dict[str, RunInfo]:
        """Each client's latest run (by start time), in one query plus the runs' latest events."""
        runs = schema.runs
        inner = runs.alias("inner")
        newest = (
            sa.select(sa.func.max(inner.c.started_at))
            .where(inner.c.client == runs.c.client)
            .scalar_subquery()
        )
        query = sa.select(runs.c.run_id).where(runs.c.started_at == newest)
        with self._errors("list the latest runs"), self._engine.connect() as conn:
            ids = [str(run_id) for run_id in conn.execute(query).scalars()]
            found: dict[str, RunInfo] = {}
            for chunk in _chunks(ids, _KEY_CHUNK):
                for info in _run_infos(conn, runs.c.run_id.in_(chunk), limit=len(chunk)):
                    kept = found.get(info.client)
                    if kept is None or info.started_at > kept.started_at:
                        found[info.client] = info
        return found

    def chain_heads(self) -> dict[str, tuple[int, str]]:
        """client -> (seq, row_hash) of its chain head: moves whenever anything is appended for it."""
        heads = schema.chain_heads
        query = sa.select(heads.c.client, heads.c.seq, heads.c.row_hash)
        with self._errors("read the chain heads"), self._engine.connect() as conn:
            return {str(c): (int(seq), str(h)) for c, seq, h in conn.execute(query)}

    def results_for_run(self, run_id: str) -> list[CheckResult]:
        query = sa.select(cr).where(cr.c.run_id == run_id).order_by(cr.c.seq)
        with self._errors(f"read results of run {run_id}"), self._engine.connect() as conn:
            return [_result(row) for row in conn.execute(query).mappings()]

    def latest_results(self, client: str, host: str | None = None) -> list[CheckResult]:
        """The latest result per (host, control) of ``client`` by ``observed_at``, then seq."""
        rank = (
            sa.func.row_number()
            .over(partition_by=(cr.c.host, cr.c.control), order_by=(cr.c.observed_at.desc(), cr.c.seq.desc()))
            .label("rank")
        )
        inner = sa.select(cr, rank).where(cr.c.client == client)
        if host is not None:
            inner = inner.where(cr.c.host == host)
        ranked = inner.subquery()
        query = sa.select(ranked).where(ranked.c.rank == 1).order_by(ranked.c.host, ranked.c.control)
        with self._errors(f"read latest results of {client}"), self._engine.connect() as conn:
            return [_result(row) for row in conn.execute(query).mappings()]

    def current_rows(
        self, client: str, pairs: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any] | None]]:
        """Per (host, control) of ``pairs`` recorded for ``client``: its latest row (by ``observed_at``,
        then seq) and, when that one is ``not_checked`` / ``error``, the latest conclusive row (None if
        there is none). Rows are plain dicts of :data:`CURRENT_COLUMNS`; pairs never recorded are absent.

        One snapshot, one index seek per pair (``ix_check_results_latest``, backwards): the cost grows
        with the pairs asked for, not with the client's history. A second statement seeks the last
        conclusive row only for the pairs whose latest row is inconclusive.
        """
        found: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any] | None]] = {}
        unique = list(dict.fromkeys(pairs))
        with self._errors(f"read the current results of {client}"), self._snapshot() as conn:
            latest: dict[tuple[str, str], dict[str, Any]] = {}
            for chunk in _chunks(unique, _PAIR_CHUNK):
                for row in _seek(conn, client, chunk, conclusive=False):
                    latest[(row["host"], row["control"])] = row
            open_pairs = [pair for pair, row in latest.items() if row["status"] in _INCONCLUSIVE]
            conclusive: dict[tuple[str, str], dict[str, Any]] = {}
            for chunk in _chunks(open_pairs, _PAIR_CHUNK):
                for row in _seek(conn, client, chunk, conclusive=True):
                    conclusive[(row["host"], row["control"])] = row
        for pair, row in latest.items():
            found[pair] = (row, conclusive.get(pair))
        return found

    def clients(self) -> list[str]:
        """Every client with any row (or chain head) in the ledger."""
        query = sa.union(
            *(sa.select(table.c.client) for table in (schema.chain_heads, *schema.CHAINED))
        ).order_by("client")
        with self._errors("list clients"), self._engine.connect() as conn:
            return [str(client) for client in conn.execute(query).scalars()]

    # -- the Merkle tree and its checkpoints ------------------------------------------------

    def ledger_id(self) -> str:
        """This ledger's random id (named in every checkpoint's origin)."""
        meta = schema.ledger_meta
        with self._errors("read the ledger id"), self._engine.connect() as conn:
            found = conn.execute(sa.select(meta.c.value).where(meta.c.key == "ledger_id")).scalar()
        if found is None:
            raise LedgerError(f"ledger {self.display_url}: its ledger_id is missing from ledger_meta")
        return str(found)

    def checkpoint(self, client: str, signer: Signer | None = None) -> StoredCheckpoint | None:
        """A checkpoint of the client's tree as it is now: stored, and written to var/checkpoints.

        The existing one is returned when the tree has not grown since; None when the client has no
        rows. Signed by ``signer`` when given (the ledger key is never read here).
        """
        ledger_id = self.ledger_id()
        with self._errors(f"make a checkpoint of {client}"), self._write() as conn:
            heads = self._lock_heads(conn, {client})
            size = heads[client].seq
            if size == 0:
                return None
            existing = _checkpoint_rows(conn, client, size=size)
            if existing:
                made = existing[0]
            else:
                root = heads.current_tree(client).root()
                when = datetime.now(UTC)
                text = cp.make_note(ledger_id, client, size, root, when, signer)
                row = {
                    "client": client,
                    "size": size,
                    "root_hash": root.hex(),
                    "made_at": cp.parse(text).made_at or _iso(when),
                    "key_id": signer.key_id.hex() if signer is not None else None,
                    "note": text,
                }
                conn.execute(sa.insert(schema.checkpoints), [row])
                made = _stored_checkpoint(row)
        path = cp.write_file(made)
        log.info("checkpoint of %s at %d rows: %s", client, size, path)
        return StoredCheckpoint(**{**made.__dict__, "path": path})

    def latest_checkpoint(self, client: str) -> StoredCheckpoint | None:
        with self._errors(f"read the checkpoints of {client}"), self._engine.connect() as conn:
            found = _checkpoint_rows(conn, client, latest=True)
        return found[0] if found else None

    def checkpoints(self, client: str) -> list[StoredCheckpoint]:
        """The client's stored checkpoints, smallest first."""
        with self._errors(f"read the checkpoints of {client}"), self._engine.connect() as conn:
            return _checkpoint_rows(conn, client)

    def locate(self, table: sa.Table, row_id: str | int) -> tuple[str, int] | None:
        """(client, seq) of one row of a chained table by its key."""
        key = table.c[schema.row_id_column(table)]
        with self._errors(f"find {table.name} row {row_id}"), self._engine.connect() as conn:
            found = conn.execute(sa.select(table.c.client, table.c.seq).where(key == row_id)).first()
        return None if found is None else (str(found.client), int(found.seq))

    def prove_row(self, client: str, seq: int, checkpoint: StoredCheckpoint) -> dict[str, Any]:
        """An inclusion proof of the client's row ``seq`` against ``checkpoint`` (see :mod:`proofs`)."""
        if not 1 <= seq <= checkpoint.size:
            raise LedgerError(f"row seq {seq} is not in the checkpoint of {checkpoint.size} rows of {client}")
        with self._errors(f"prove row seq {seq} of {client}"), self._snapshot() as conn:
            row = verify_mod.row_at(conn, client, seq)
            if row is None:
                raise LedgerError(f"ledger {self.display_url}: {client} has no row of seq {seq}")
            stored = tree_mod.StoredTree(conn, client, checkpoint.size)
            try:
                path = merkle.inclusion_proof(seq - 1, checkpoint.size, stored.subtree)
                leaf = stored.leaf(seq - 1)
            except tree_mod.TreeError as exc:
                raise LedgerError(f"ledger {self.display_url}: {exc}") from exc
        if tree_mod.leaf_of(row.row_hash) != leaf or not merkle.verify_inclusion(
            seq - 1, checkpoint.size, leaf, path, checkpoint.root
        ):
            raise LedgerError(
                f"ledger {self.display_url}: the stored tree of {client} does not prove row seq {seq} "
                f"against its checkpoint of {checkpoint.size} rows: run maint ledger verify {client}"
            )
        return proofs.inclusion(row, checkpoint, path)

    def prove_consistency(
        self, client: str, old: cp.ParsedCheckpoint, new: StoredCheckpoint
    ) -> dict[str, Any]:
        """A consistency proof from ``old`` (an earlier checkpoint, e.g. last month's report) to ``new``."""
        old_size = old.checkpoint.size
        if not 0 < old_size <= new.size:
            raise LedgerError(
                f"cannot prove a tree of {old_size} rows inside the checkpoint of {new.size} rows of {client}"
            )
        with self._errors(f"prove the consistency of {client}'s tree"), self._snapshot() as conn:
            stored = tree_mod.StoredTree(conn, client, new.size)
            try:
                path = merkle.consistency_proof(old_size, new.size, stored.subtree)
            except tree_mod.TreeError as exc:
                raise LedgerError(f"ledger {self.display_url}: {exc}") from exc
        return proofs.consistency(old.note, new, path)

    # -- verification --------------------------------------------------------------------

    def verify(
        self,
        client: str | None = None,
        *,
        given: Sequence[cp.Candidate] = (),
        verifier: Verifier | None = None,
    ) -> list[VerifyReport]:
        """Verify each client (every client when ``client`` is None): walk its hash chain, recompute its
        Merkle tree from the stored rows and judge every checkpoint of it - stored in the ledger, written
        under var/checkpoints, and ``given`` - against that tree (and its signature with ``verifier``).

        The report names the first bad row, the first checkpoint that no longer holds, and stored tree
        data that does not match the rows.
        """
        reports = []
        routed = cp.route(given)
        with self._errors("verify"):
            try:
                ledger_id = self.ledger_id()
            except LedgerError:  # ledger_meta emptied or dropped: no checkpoint of this ledger can hold
                ledger_id = "(missing)"
            names = [client] if client is not None else sorted({*self.clients(), *(c for c in routed if c)})
            for name in names:
                with self._snapshot() as conn:
                    report = verify_mod.verify_client(conn, name, ledger_id, routed.get(name, []), verifier)
                if not report.ok:
                    log.warning("ledger %s of %s does not verify", self.display_url, name)
                reports.append(report)
        return reports


class _Heads:
    """The chain heads one write transaction locked, and the clients' Merkle trees it moves.

    Read (PostgreSQL: FOR UPDATE; SQLite: the transaction is BEGIN IMMEDIATE) in one client order, so
    concurrent writers of one client queue here and each client keeps one linear chain and one tree.
    A client's compact range is loaded (or rebuilt from its stored row hashes) on its first new row;
    :meth:`save` moves the heads and stores the ranges and the completed subtrees.
    """

    def __init__(self, conn: Connection, clients: set[str], *, tree: bool = True) -> None:
        self.conn, self.tree = conn, tree
        self.heads: dict[str, Head] = {}
        self._locked: dict[str, tuple[Head, str | None]] = {}
        self._frontiers: dict[str, merkle.Frontier] = {}
        self._rebuilt: set[str] = set()
        self.nodes = tree_mod.Nodes()
        heads = schema.chain_heads
        for client in sorted(clients):  # one lock order: no deadlock between two multi-client batches
            query = (
                sa.select(heads.c.seq, heads.c.row_hash, heads.c.frontier)
                .where(heads.c.client == client)
                .with_for_update()
            )
            row = conn.execute(query).first()
            if row is None:
                conn.execute(_insert_head(conn, client))
                row = conn.execute(query).one()
            head = Head(int(row.seq), str(row.row_hash))
            self.heads[client] = head
            self._locked[client] = (head, None if row.frontier is None else str(row.frontier))

    def __getitem__(self, client: str) -> Head:
        return self.heads[client]

    def frontier(self, client: str) -> merkle.Frontier:
        """The client's compact range as locked (rebuilt from its rows when missing or not fitting)."""
        found = self._frontiers.get(client)
        if found is None:
            head, text = self._locked[client]
            found = tree_mod.load_frontier(head.seq, text)
            if found is None:
                log.info("ledger: computing the Merkle tree of %s's %d rows", client, head.seq)
                found = tree_mod.rebuild(self.conn, client, head.seq, self.nodes)
                self._rebuilt.add(client)
            self._frontiers[client] = found
        return found

    def grower(self, client: str) -> tuple[Callable[[bytes, NodeCallback], None], NodeCallback]:
        """``Frontier.append`` of the client's tree and the callback keeping its stored subtrees."""
        return self.frontier(client).append, self.nodes.collector(client)

    def chain(self, table: sa.Table, row: dict[str, Any]) -> None:
        """Give ``row`` (content columns, no seq) its client's next seq, its prev_hash and row_hash."""
        client = str(row["client"])
        head = self.heads[client]
        seq = head.seq + 1
        row["seq"] = seq
        row[TABLE_KEY] = table.name
        digest = row_hash(head.row_hash, row)
        del row[TABLE_KEY]
        row["prev_hash"] = head.row_hash
        row["row_hash"] = digest
        if self.tree:
            append, on_node = self.grower(client)
            append(tree_mod.leaf_of(digest), on_node)
        self.heads[client] = Head(seq, digest)

    def save(self) -> None:
        """Move every head that moved (with its tree's range, or NULL when the tree was not kept)."""
        heads = schema.chain_heads
        for client, head in self.heads.items():
            locked = self._locked[client][0]
            if head == locked:
                continue
            frontier = self._frontiers.get(client) if self.tree else None
            self.conn.execute(
                sa.update(heads)
                .where(heads.c.client == client)
                .values(
                    seq=head.seq,
                    row_hash=head.row_hash,
                    frontier=frontier.to_text() if frontier is not None else None,
                )
            )
        self.nodes.flush(self.conn)

    def current_tree(self, client: str) -> merkle.Frontier:
        """The client's range at its locked head (nothing appended), stored when it had to be rebuilt."""
        if self.heads[client] != self._locked[client][0]:
            raise RuntimeError("current_tree() after rows were chained in this transaction")
        frontier = self.frontier(client)
        if client in self._rebuilt:
            heads = schema.chain_heads
            self.conn.execute(
                sa.update(heads).where(heads.c.client == client).values(frontier=frontier.to_text())
            )
            self.nodes.flush(self.conn)
            self._rebuilt.discard(client)
        return frontier


def _insert_head(conn: Connection, client: str) -> sa.Executable:
    values = {"client": client, "seq": 0, "row_hash": GENESIS, "frontier": ""}
    if conn.dialect.name == "postgresql":
        return postgresql.insert(schema.chain_heads).values(values).on_conflict_do_nothing()
    if conn.dialect.name == "sqlite":
        return sqlite.insert(schema.chain_heads).values(values).on_conflict_do_nothing()
    return sa.insert(schema.chain_heads).values(values)


# -- helpers ----------------------------------------------------------------------------------


def _revisions(conn: Connection) -> set[str]:
    """The alembic revisions the database is at (none before the first migration)."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return set()
    return {str(rev) for rev in conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars()}


def _create_private_file(path: Path) -> None:
    """Create the SQLite file (and its directory) private to this user before SQLite opens it."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning("ledger file %s has mode %o: readable by others", path, mode)


def _sqlite_hooks(engine: Engine, *, wal: bool) -> None:
    """The documented pysqlite recipe: SQLAlchemy emits BEGIN itself (IMMEDIATE for writes)."""

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # pysqlite: no implicit BEGIN/COMMIT
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if wal:
                cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")


#: check_results columns in insert order (the table's, without the surrogate id)
_RESULT_INSERT = tuple(column.name for column in cr.columns if column.name != "id")


def _result_rows(pending: Mapping[tuple[str, str], CheckResult], heads: _Heads) -> list[tuple[Any, ...]]:
    """The chained ``check_results`` rows for ``pending`` (in order, as ``_RESULT_INSERT`` tuples), moving
    ``heads`` and each client's Merkle tree.  The hot loop of ingest: one pass, no per-row dicts."""
    encode, text, sha256 = canonical_json, check_result_text, hashlib.sha256
    recorded_at = _now()
    positions = {client: (head.seq, head.row_hash) for client, head in heads.heads.items()}
    tree = heads.tree
    leaves: dict[str, tuple[Callable[[bytes, NodeCallback], None], NodeCallback]] = {}
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    for (run_id, key), result in pending.items():
        client = result.client
        seq, prev = positions[client]
        seq += 1
        host, control, title = result.host, result.control, result.title
        domain, status, severity = result.domain.value, result.status.value, result.severity.value
        evidence = encode(result.evidence)
        remediation, role, ticket = result.remediation, result.role, result.ticket
        observed_at = _iso(result.observed_at)
        content = text(
            client,
            control,
            domain,
            evidence,
            host,
            observed_at,
            recorded_at,
            remediation,
            key,
            role,
            run_id,
            seq,
            severity,
            status,
            ticket,
            title,
        )
        raw = sha256((prev + content).encode()).digest()
        digest = raw.hex()
        if tree:
            grow = leaves.get(client)
            if grow is None:
                grow = leaves[client] = heads.grower(client)
            grow[0](sha256(_LEAF + raw).digest(), grow[1])
        append(
            (
                client,
                seq,
                prev,
                digest,
                run_id,
                key,
                host,
                control,
                title,
                domain,
                status,
                severity,
                evidence,
                remediation,
                observed_at,
                role,
                ticket,
                recorded_at,
            )
        )
        positions[client] = (seq, digest)
    for client, position in positions.items():
        heads.heads[client] = Head(*position)
    return rows


#: the check_results columns :meth:`Ledger.current_rows` returns (not the chain's hashes)
CURRENT_COLUMNS = (
    "client",
    "seq",
    "run_id",
    "host",
    "control",
    "title",
    "domain",
    "status",
    "severity",
    "evidence",
    "remediation",
    "observed_at",
    "role",
    "ticket",
)
#: statuses that judge nothing (the control could not be looked at)
_INCONCLUSIVE = (Status.NOT_CHECKED.value, Status.ERROR.value)
#: (host, control) pairs per seek statement (two parameters each, well under every driver's limit)
_PAIR_CHUNK = 2000


def _seek(
    conn: Connection, client: str, pairs: Sequence[tuple[str, str]], *, conclusive: bool
) -> list[dict[str, Any]]:
    """The latest (``conclusive``: latest conclusive) row of each pair, one backwards index seek per pair.

    Written as driver SQL: SQLAlchemy's compilation of a few thousand VALUES rows costs more than the
    seeks themselves. ``WITH pairs(host, control) AS (VALUES ...)`` is read by SQLite and PostgreSQL alike.
    """
    if not pairs:
        return []
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    values = ", ".join([f"({mark}, {mark})"] * len(pairs))
    judged = f" AND c.status NOT IN ('{_INCONCLUSIVE[0]}', '{_INCONCLUSIVE[1]}')" if conclusive else ""
    columns = ", ".join(f"r.{name}" for name in CURRENT_COLUMNS)
    sql = (
        f"WITH pairs(host, control) AS (VALUES {values}) "  # only placeholders and constants
        f"SELECT {columns} FROM check_results r WHERE r.id IN ("
        "SELECT (SELECT c.id FROM check_results c"
        f" WHERE c.client = {mark} AND c.host = pairs.host AND c.control = pairs.control{judged}"
        " ORDER BY c.observed_at DESC, c.seq DESC LIMIT 1) FROM pairs)"
    )
    params: list[Any] = [value for pair in pairs for value in pair]
    params.append(client)
    return [dict(zip(CURRENT_COLUMNS, row, strict=True)) for row in conn.exec_driver_sql(sql, tuple(params))]


def result_of(row: Mapping[Any, Any]) -> CheckResult:
    """A :meth:`Ledger.current_rows` (or check_results) row as a :class:`CheckResult`."""
    return _result(row)


def _result(row: Mapping[Any, Any]) -> CheckResult:
    return CheckResult(
        control=row["control"],
        title=row["title"],
        domain=row["domain"],
        status=row["status"],
        severity=row["severity"],
        evidence=_loads(row["evidence"]),
        remediation=row["remediation"],
        host=row["host"],
        client=row["client"],
        run_id=row["run_id"],
        observed_at=datetime.fromisoformat(row["observed_at"]),
        role=row["role"],
        ticket=row["ticket"],
    )


def _loads(text: str) -> Any:
    return json.loads(text)


def _summaries(conn: Connection, run_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Counts of each run's results per status, and its distinct hosts."""
    summaries: dict[str, dict[str, Any]] = {}
    counts = (
        sa.select(cr.c.run_id, cr.c.status, sa.func.count())
        .where(cr.c.run_id.in_(run_ids))
        .group_by(cr.c.run_id, cr.c.status)
    )
    for run_id, status, count in conn.execute(counts):
        summaries.setdefault(run_id, {})[str(status)] = int(count)
    hosts = (
        sa.select(cr.c.run_id, sa.func.count(sa.distinct(cr.c.host)))
        .where(cr.c.run_id.in_(run_ids))
        .group_by(cr.c.run_id)
    )
    for run_id, count in conn.execute(hosts):
        summaries.setdefault(run_id, {})["hosts"] = int(count)
    order = {status.value: index for index, status in enumerate(Status)}
    return {
        run_id: dict(sorted(summary.items(), key=lambda item: order.get(item[0], len(order))))
        for run_id, summary in summaries.items()
    }


def _run_infos(conn: Connection, where: sa.ColumnElement[bool], *, limit: int) -> list[RunInfo]:
    runs, events = schema.runs, schema.run_events
    query = sa.select(runs).where(where).order_by(runs.c.started_at.desc(), runs.c.seq.desc()).limit(limit)
    found = list(conn.execute(query).mappings())
    if not found:
        return []
    run_ids = [row["run_id"] for row in found]
    last = (
        sa.select(events.c.run_id, sa.func.max(events.c.seq).label("seq"))
        .where(events.c.run_id.in_(run_ids))
        .group_by(events.c.run_id)
        .subquery()
    )
    latest = {
        row["run_id"]: row
        for row in conn.execute(
            sa.select(events).join(
                last, sa.and_(events.c.run_id == last.c.run_id, events.c.seq == last.c.seq)
            )
        ).mappings()
    }
    running = [run_id for run_id in run_ids if run_id not in latest or latest[run_id]["status"] == "running"]
    live = _summaries(conn, running) if running else {}
    infos = []
    for row in found:
        event = latest.get(row["run_id"])
        status = RunStatus(event["status"]) if event is not None else RunStatus.RUNNING
        if status is RunStatus.RUNNING:
            summary = live.get(row["run_id"], {"hosts": 0})
            finished_at = None
        else:
            assert event is not None
            summary = _loads(event["summary"])
            finished_at = datetime.fromisoformat(event["recorded_at"])
        infos.append(
            RunInfo(
                run_id=row["run_id"],
                client=row["client"],
                mode=row["mode"],
                roles=_loads(row["roles"]),
                limit=row["host_limit"],
                ticket=row["ticket"],
                reason=row["reason"],
                playbook=row["playbook"],
                artifact_dir=row["artifact_dir"],
                trigger=row["trigger"],
                requested_by=row["requested_by"],
                started_at=datetime.fromisoformat(row["started_at"]),
                status=status,
                finished_at=finished_at,
                summary=summary,
            )
        )
    return infos


def _checkpoint_rows(
    conn: Connection, client: str, *, size: int | None = None, latest: bool = False
) -> list[StoredCheckpoint]:
    table = schema.checkpoints
    query = sa.select(table).where(table.c.client == client)
    if size is not None:
        query = query.where(table.c.size == size)
    query = query.order_by(table.c.size.desc() if latest else table.c.size)
    if latest:
        query = query.limit(1)
    return [_stored_checkpoint(row) for row in conn.execute(query).mappings()]


def _stored_checkpoint(row: Mapping[Any, Any]) -> StoredCheckpoint:
    return StoredCheckpoint(
        client=str(row["client"]),
        size=int(row["size"]),
        root=bytes.fromhex(str(row["root_hash"])),
        made_at=str(row["made_at"]),
        key_id=None if row["key_id"] is None else str(row["key_id"]),
        note=str(row["note"]),
    )
