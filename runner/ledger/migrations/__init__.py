"""Alembic migrations of the ledger (``script_location`` of :class:`runner.ledger.Ledger`)."""
