"""Where the project's files live: the project root, inventories, playbooks and var/."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_PARENT = Path(__file__).resolve().parent.parent


def project_root() -> Path:
    """``MAINT_HOME`` when set, else the checkout this package was installed from."""
    env = os.environ.get("MAINT_HOME")
    if env:
        return Path(env).expanduser().resolve()
    return _PACKAGE_PARENT


def inventories_dir() -> Path:
    env = os.environ.get("MAINT_INVENTORIES")
    return Path(env).expanduser().resolve() if env else project_root() / "inventories"


def playbooks_dir() -> Path:
    return project_root() / "playbooks"


def roles_dir() -> Path:
    return project_root() / "roles"


def var_dir() -> Path:
    """Private state: the embedded ledger and each run's private_data_dir (mode 0700)."""
    env = os.environ.get("MAINT_VAR")
    path = Path(env).expanduser().resolve() if env else project_root() / "var"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def runs_dir() -> Path:
    path = var_dir() / "runs"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path
