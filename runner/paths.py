"""Where the project's files live.

Two kinds of files, two places:

- the *client side* — ``inventories/`` and the private ``var/`` — lives under the project root: ``MAINT_HOME``
  when set, else the checkout this package runs from, else (an installed package) the current directory;
- the *Ansible side* — ``roles/``, ``playbooks/``, ``collections/``, ``ansible.cfg`` — is taken from the
  project root when it has its own copy, else from the package: a wheel carries them as ``runner/_data/``
  (setup.py copies them in at build time), an editable install reads them from its checkout. So a repository
  holding only ``inventories/`` (the README's pre-commit and CI recipe, ``MAINT_HOME=.``)
  still knows every role.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_PACKAGE_PARENT = _PACKAGE_DIR.parent
#: roles/, playbooks/, collections/ and ansible.cfg inside an installed wheel
BUNDLED = _PACKAGE_DIR / "_data"


def _checkout() -> Path | None:
    """The source checkout this package is imported from (an editable install or a clone), if any."""
    if (_PACKAGE_PARENT / "pyproject.toml").is_file() and (_PACKAGE_PARENT / "roles").is_dir():
        return _PACKAGE_PARENT
    return None


def project_root() -> Path:
    """``MAINT_HOME`` when set, else the checkout this package runs from, else the current directory."""
    env = os.environ.get("MAINT_HOME")
    if env:
        return Path(env).expanduser().resolve()
    return _checkout() or Path.cwd().resolve()


def package_assets() -> Path | None:
    """Where the package keeps its own roles/, playbooks/, collections/ and ansible.cfg (None: nowhere)."""
    if BUNDLED.is_dir():
        return BUNDLED
    return _checkout()


def asset(name: str) -> Path:
    """``roles``, ``playbooks``, ``collections`` or ``ansible.cfg``: the project root's, else the package's.

    Taken one by one, so a project root with roles of its own still uses the package's playbooks.
    """
    own = project_root() / name
    if own.exists():
        return own
    shipped = package_assets()
    if shipped is not None and (shipped / name).exists():
        return shipped / name
    return own


def inventories_dir() -> Path:
    env = os.environ.get("MAINT_INVENTORIES")
    return Path(env).expanduser().resolve() if env else project_root() / "inventories"


def playbooks_dir() -> Path:
    return asset("playbooks")


def roles_dir() -> Path:
    return asset("roles")


def collections_dir() -> Path:
    """Holds ``ansible_collections/maint/core/``: the modules and action plugins of ``maint.core``."""
    return asset("collections")


def ansible_cfg() -> Path:
    return asset("ansible.cfg")


def var_dir(create: bool = True) -> Path:
    """Private state: the embedded ledger and each run's private_data_dir (mode 0700; created unless
    ``create`` is false, for a reader that must leave no trace)."""
    env = os.environ.get("MAINT_VAR")
    path = Path(env).expanduser().resolve() if env else project_root() / "var"
    if create:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def runs_dir() -> Path:
    path = var_dir() / "runs"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path
