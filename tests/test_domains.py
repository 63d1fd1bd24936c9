"""The domain registry (runner/domains.py) is the one place a domain plugs in, and it tells the truth.

Each module it names exists and belongs to one domain; the kinds it lists are what the domain's evaluator
modules register; the tables its table modules define are what its migrations create; and a Ledger opened
in a fresh interpreter knows every domain's tables (``maint ledger verify`` walks them) although importing
the ledger loads no domain.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from runner import cli, domains, evaluators
from runner.ledger import Ledger, schema
from runner.ledger.store import MIGRATIONS
from tests.conftest import REPO
from tests.test_imports import LEDGER_MAY_IMPORT

FIELDS = ("evaluators", "tables", "commands")


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "MAINT_INVENTORIES": str(REPO / "inventories"), **extra}


def _python(code: str, **env: str) -> Any:
    """Run ``code`` in a fresh interpreter (nothing imported yet); return the JSON it prints last."""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=_env(**env), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_every_named_module_exists_and_belongs_to_one_domain() -> None:
    names = [domain.name for domain in domains.DOMAINS]
    assert len(names) == len(set(names))
    owners: dict[str, list[str]] = {}
    for domain in domains.DOMAINS:
        for field in FIELDS:
            for module in getattr(domain, field):
                owners.setdefault(module, []).append(f"{domain.name}.{field}")
    assert {m: o for m, o in owners.items() if len(o) > 1} == {}
    assert [m for m in owners if importlib.util.find_spec(m) is None] == []


def test_the_registries_read_the_domains() -> None:
    assert domains.evaluator_modules() == evaluators.MODULES
    assert domains.kinds() == evaluators.KINDS
    assert domains.command_modules() == cli.COMMAND_MODULES


def test_every_cli_module_is_some_domains() -> None:
    """A command module nobody registers would silently add no command."""
    shared = {"__init__", "__main__", "app"}  # the package, its entry point, what every command shares
    found = {f"runner.cli.{p.stem}" for p in (REPO / "runner" / "cli").glob("*.py") if p.stem not in shared}
    assert sorted(found - set(domains.command_modules())) == []


def test_each_domain_lists_the_kinds_its_evaluator_modules_register() -> None:
    code = """
import importlib, json
from runner import domains, evaluators
seen, kinds = set(), {}
for domain in domains.DOMAINS:
    for module in domain.evaluators:
        importlib.import_module(module)
    now = set(evaluators._REGISTRY)
    kinds[domain.name] = sorted(now - seen)
    seen = now
print(json.dumps(kinds))
"""
    assert _python(code) == {domain.name: sorted(domain.kinds) for domain in domains.DOMAINS}


def _migrations() -> dict[str, set[str]]:
    """Revision ID -> the tables it creates, read from the migration files."""
    found: dict[str, set[str]] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        revision = next(
            node.value.value
            for node in tree.body
            if isinstance(node, ast.AnnAssign | ast.Assign)
            and isinstance(node.value, ast.Constant)
            and any(isinstance(t, ast.Name) and t.id == "revision" for t in _targets(node))
        )
        found[str(revision)] = {
            str(node.args[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "create_table"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        }
    return found


def _targets(node: ast.AnnAssign | ast.Assign) -> list[ast.expr]:
    return [node.target] if isinstance(node, ast.AnnAssign) else list(node.targets)


def test_each_domains_tables_are_what_its_migrations_create() -> None:
    migrations = _migrations()
    claimed = domains.migrations()
    assert sorted(claimed) == sorted(migrations), "every migration belongs to exactly one domain"
    for domain in domains.DOMAINS:
        defined = {
            value.name
            for module in domain.tables
            for value in vars(importlib.import_module(module)).values()
            if isinstance(value, sa.Table)
        }
        created = set().union(*(migrations[revision] for revision in domain.migrations))
        assert defined == created, domain.name


def test_importing_the_ledger_loads_no_domain_and_opening_it_registers_every_table() -> None:
    code = """
import json, sys
from runner.ledger import Ledger, schema
loaded = sorted(m for m in sys.modules if m == "runner" or m.startswith("runner."))
Ledger("sqlite://").close()
print(json.dumps({"loaded": loaded, "chained": [t.name for t in schema.CHAINED]}))
"""
    found = _python(code)
    assert [m for m in found["loaded"] if m != "runner" and not m.startswith(LEDGER_MAY_IMPORT)] == []
    tables = {
        value.name
        for module in domains.table_modules()
        for value in vars(importlib.import_module(module)).values()
        if isinstance(value, sa.Table) and value not in schema.UNCHAINED
    }
    assert found["chained"][:3] == ["runs", "run_events", "check_results"]
    assert set(found["chained"]) == tables
    assert len(found["chained"]) == len(tables)


def _row(table: sa.Table, client: str, n: int) -> dict[str, Any]:
    """A row for any chained table: every required content column filled, the optional ones left NULL."""
    row: dict[str, Any] = {"client": client}
    for column in table.columns:
        if column.name in ("id", *schema.CHAIN_COLUMNS) or column.nullable:
            continue
        row[column.name] = n if isinstance(column.type, sa.Integer) else f"{column.name}-{n}"
    return row


def test_ledger_verify_walks_every_domains_table(tmp_path: Path) -> None:
    """Rows appended to each domain's table, one of them edited: a fresh ``maint ledger verify`` names it."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    expected = []
    with Ledger(url) as ledger:
        for table in schema.CHAINED[3:]:
            assert ledger.append(table, [_row(table, f"ok-{table.name}", 1)]) == 1
            assert ledger.append(table, [_row(table, f"bad-{table.name}", n) for n in (1, 2)]) == 2
            text = next(
                table.c[name]
                for name in schema.content_columns(table)
                if name != "client" and isinstance(table.c[name].type, sa.Text) and not table.c[name].nullable
            )
            with ledger.engine.begin() as conn:
                edited = conn.execute(
                    sa.update(table)
                    .where(table.c.client == f"bad-{table.name}", table.c.seq == 2)
                    .values({text.name: "edited"})
                    .returning(table.c.id)
                ).scalar_one()
            expected += [
                f"✓ ok-{table.name}: 1 rows, chain intact",
                f"✗ bad-{table.name}: first bad row: {table.name} row {edited} (seq 2): hash mismatch",
            ]
    assert len(expected) >= 4  # network and schedule, at least
    result = subprocess.run(
        [sys.executable, "-m", "runner.cli", "ledger", "verify"],
        cwd=tmp_path,
        env=_env(MAINT_DB_URL=url, MAINT_VAR=str(tmp_path / "var"), COLUMNS="200", NO_COLOR="1"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    for line in expected:
        assert line in result.stdout, result.stdout
