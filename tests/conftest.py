"""Shared fixtures: a private MAINT_VAR and ledger per test, and client inventories on disk."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from maint_devtools.pgdb import temporary_database

REPO = Path(__file__).resolve().parent.parent
#: the maint.core collection's plugins (modules, module_utils, action plugins, plugin_utils)
PLUGINS = REPO / "collections/ansible_collections/maint/core/plugins"
# a collector or action plugin loaded from its file imports its shared code as Ansible does,
# ``ansible_collections.maint.core.plugins.module_utils...`` (a namespace package under collections/)
if str(REPO / "collections") not in sys.path:
    sys.path.append(str(REPO / "collections"))
#: the vendored corpus of real-world outputs (tests/data/corpus/SOURCES.md: origin and licence of each file)
CORPUS = REPO / "tests" / "data" / "corpus"


def run_playbook(work: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """``ansible-playbook ARGS`` from the repository with its ansible.cfg, the JSON stdout callback and
    a private local temp under ``work``: what the tests that run a real playbook share."""
    bindir = Path(sys.executable).parent
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return subprocess.run(
        [str(bindir / "ansible-playbook"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


BASE_SETTINGS: dict[str, Any] = {
    "display_name": "Test client",
    "timezone": "Europe/Madrid",
    "contacts": [{"name": "Tech", "email": "tech@example.com"}],
    "roles": {"linux_health": ["linux"]},
    "waivers": [],
}

BASE_HOSTS: dict[str, Any] = {
    "all": {
        "children": {
            "linux": {
                "hosts": {
                    "localhost": {
                        "ansible_connection": "local",
                        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                    }
                }
            }
        }
    }
}


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test gets its own var/ (ledger, runs, locks); nothing touches the checkout's var/."""
    var = tmp_path / "var"
    monkeypatch.setenv("MAINT_VAR", str(var))
    monkeypatch.setenv("MAINT_DB_URL", f"sqlite:///{var / 'ledger.db'}")
    monkeypatch.delenv("MAINT_INVENTORIES", raising=False)
    monkeypatch.setenv("ANSIBLE_CONFIG", str(REPO / "ansible.cfg"))
    yield var


MakeClient = Callable[..., Path]


@pytest.fixture
def make_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeClient:
    """Write ``inventories/<name>/`` under tmp_path and point MAINT_INVENTORIES at it."""
    base = tmp_path / "inventories"
    base.mkdir(exist_ok=True)
    monkeypatch.setenv("MAINT_INVENTORIES", str(base))

    def make(
        name: str = "acme",
        settings: dict[str, Any] | None = None,
        hosts: dict[str, Any] | None = None,
        raw_settings: str | None = None,
    ) -> Path:
        root = base / name
        (root / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
        (root / "hosts.yml").write_text(
            yaml.safe_dump(hosts if hosts is not None else copy.deepcopy(BASE_HOSTS))
        )
        settings_file = root / "group_vars" / "all" / "maintenance.yml"
        if raw_settings is not None:
            settings_file.write_text(raw_settings)
        else:
            data = settings if settings is not None else copy.deepcopy(BASE_SETTINGS)
            settings_file.write_text(yaml.safe_dump({"maintenance": data}, sort_keys=False))
        return root

    return make


def env_without_secrets() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()}


# -- PostgreSQL (only with MAINT_TEST_PG_URL: a server where the test may create databases) --


@pytest.fixture
def pg_url() -> Iterator[str]:
    admin = os.environ.get("MAINT_TEST_PG_URL")
    if not admin:
        pytest.skip(
            "!!! PostgreSQL ledger tests SKIPPED: MAINT_TEST_PG_URL not set (.ci/run starts a server) !!!"
        )
    with temporary_database(admin, "ledger_test") as url:
        yield url
