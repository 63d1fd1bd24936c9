"""A throwaway PostgreSQL database for the ledger's tests and benches (never used by the product)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa


@contextmanager
def temporary_database(admin: str, prefix: str) -> Iterator[str]:
    """A fresh database ``<prefix>_<random>`` on the server of ``admin`` (a URL whose role may create
    databases); yields its URL and drops it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield sa.make_url(admin).set(database=name).render_as_string(hide_password=False)
        finally:
            # plain DROP first: it stops an autovacuum worker of the database itself, where WITH (FORCE)
            # fails for lack of the right to signal it (the worker runs as the server's superuser)
            # fails for lack of the right to signal it (the worker runs as the server's superuser). A
            # test's own connections still open need FORCE; both at once (an autovacuum worker and an
            # open pool): try again until the worker is done
            with engine.connect() as conn:
                for attempt in range(20):
                    try:
                        conn.exec_driver_sql(f'DROP DATABASE "{name}"')
                        break
                    except sa.exc.DBAPIError:
                        pass
                    try:
                        conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
                        break
                    except sa.exc.DBAPIError:
                        if attempt == 19:
                            raise
                        time.sleep(0.5)
    finally:
        engine.dispose()
