"""The compliance ledger: append-only, per-client hash-chained runs and check results.

SQLite (WAL) by default, PostgreSQL by URL (``MAINT_DB_URL``); schema by alembic
migrations shipped in this package, applied when a :class:`Ledger` is opened.
"""

from runner.ledger import occurrences  # noqa: F401  (registers its chained table)
from runner.ledger.models import BadRow, RunInfo, RunRecord, RunStatus, VerifyReport
from runner.ledger.store import Ledger, LedgerError, default_url
from runner.network import snapshots as _network_snapshots  # noqa: F401  (registers config_snapshots)

__all__ = [
    "BadRow",
    "Ledger",
    "LedgerError",
    "RunInfo",
    "RunRecord",
    "RunStatus",
    "VerifyReport",
    "default_url",
]
