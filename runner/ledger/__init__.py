"""The compliance ledger: append-only, per-client hash-chained runs and check results.

SQLite (WAL) by default, PostgreSQL by URL (``MAINT_DB_URL``); schema by alembic
migrations shipped in this package, applied when a :class:`Ledger` is opened.
The ledger imports no domain: a domain defines its chained tables in its own module with
:func:`runner.ledger.schema.chained_table`, named in :mod:`runner.domains`, which a :class:`Ledger`
imports when opened.
"""

from runner.ledger.models import BadRow, CheckpointCheck, RunInfo, RunRecord, RunStatus, VerifyReport
from runner.ledger.store import Ledger, LedgerError, default_url

__all__ = [
    "BadRow",
    "CheckpointCheck",
    "Ledger",
    "LedgerError",
    "RunInfo",
    "RunRecord",
    "RunStatus",
    "VerifyReport",
    "default_url",
]
