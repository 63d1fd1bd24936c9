"""Build step of the wheel: ship the Ansible side of the project inside the package.

``roles/``, ``playbooks/``, ``collections/`` and ``ansible.cfg`` are copied to ``runner/_data/`` in the build,
so an installed ``maint`` (``pip install "maint @ git+..."``, a pre-commit hook, a CI job) runs the same
roles and playbooks as a checkout; ``runner/paths.py`` reads them from there when ``MAINT_HOME`` has none
of its own. Metadata lives in pyproject.toml; MANIFEST.in puts the same folders into the sdist.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
ASSETS = ("ansible.cfg", "collections", "playbooks", "roles")
DATA = Path("runner") / "_data"


class BuildPyWithAssets(build_py):
    """``build_py`` plus the copy of :data:`ASSETS` into ``<build_lib>/runner/_data/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads them from the checkout itself (runner/paths.py)
        target = Path(self.build_lib) / DATA
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
        for name in ASSETS:
            source = HERE / name
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=ignore)
            else:
                shutil.copy2(source, target / name)


setup(cmdclass={"build_py": BuildPyWithAssets})
