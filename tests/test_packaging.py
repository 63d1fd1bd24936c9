"""The installed package is complete: the README's pre-commit and CI recipe, run as written.

A wheel is built from a copy of the project's sources, installed into a folder of its own, and run from a
scratch Git repository that holds only ``inventories/`` (``MAINT_HOME=.``): the role catalogue, playbooks,
plugins and ansible.cfg must then come from the installed package, never from this checkout.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.network.test_access_rules import by_design

#: what the wheel must carry under runner/_data/ (runner/paths.py reads them from there)
ASSETS = (
    "ansible.cfg",
    "playbooks/site.yml",
    "playbooks/role.yml",
    "roles/linux_health/tasks/main.yml",
    "collections/ansible_collections/maint/core/plugins/action/maint_evaluate.py",
    # what the collectors and the action plugins share: AnsiballZ ships module_utils with each module
    "collections/ansible_collections/maint/core/plugins/module_utils/commands.py",
    "collections/ansible_collections/maint/core/plugins/module_utils/files.py",
    "collections/ansible_collections/maint/core/plugins/module_utils/probes.py",
    "collections/ansible_collections/maint/core/plugins/plugin_utils/results.py",
    "collections/ansible_collections/maint/core/galaxy.yml",
    "collections/ansible_collections/maint/core/meta/runtime.yml",
)
#: top-level entries that are not part of a build (the build reads only what pyproject/setup/MANIFEST name)
NOT_SOURCES = {
    ".venv",
    ".git",
    "var",
    "build",
    "dist",
    "tests",
    "bench",
    "molecule",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".ci",
    ".config",
}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A wheel of the project, built from a copy of its sources and installed with ``pip --target``."""
    base = tmp_path_factory.mktemp("packaging")
    src = base / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for entry in REPO.iterdir():
        if entry.name in NOT_SOURCES or entry.name.endswith(".egg-info"):
            continue
        if entry.is_dir():
            shutil.copytree(entry, src / entry.name, ignore=ignore)
        else:
            shutil.copy2(entry, src / entry.name)
    wheels = base / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(wheels), str(src)],
        check=True,
        cwd=base,
    )
    (wheel,) = wheels.glob("maint-*.whl")
    target = base / "site"
    subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
        check=True,
        cwd=base,
    )
    yield target


def _scratch_repo(root: Path) -> Path:
    """A Git repository holding only inventories/, with origin/main at its first commit."""
    repo = root / "inventories-repo"
    repo.mkdir()
    shutil.copytree(REPO / "inventories", repo / "inventories")

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
            cwd=repo,
            check=True,
            capture_output=True,
        )

    git("init", "-q", "-b", "main")
    git("add", ".")
    git("commit", "-q", "-m", "inventories")
    git("update-ref", "refs/remotes/origin/main", "HEAD")
    git("checkout", "-q", "-b", "change")
    settings = repo / "inventories" / "demo" / "group_vars" / "all" / "maintenance.yml"
    text = settings.read_text()
    assert "fs_warn_pct: 85" in text
    settings.write_text(text.replace("fs_warn_pct: 85", "fs_warn_pct: 93"))  # loosened past 90: a warning
    git("commit", "-q", "-am", "loosen demo's fs threshold")
    return repo


def _env(site: Path, home: Path) -> dict[str, str]:
    """A user's shell: the installed package first on the path, nothing of this checkout or its tests."""
    keep = {
        k: v for k, v in os.environ.items() if not k.startswith(("MAINT_", "ANSIBLE_", "PYTEST", "PYTHON"))
    }
    return {
        **keep,
        "PATH": f"{site / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(site),
        "HOME": str(home),
    }


def _bash(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_wheel_carries_roles_playbooks_collections_and_ansible_cfg(installed: Path) -> None:
    data = installed / "runner" / "_data"
    for asset in ASSETS:
        assert (data / asset).is_file(), asset
    roles = {p.name for p in (REPO / "roles").iterdir() if (p / "tasks" / "main.yml").is_file()}
    assert {p.name for p in (data / "roles").iterdir() if (p / "tasks" / "main.yml").is_file()} == roles
    (wheel,) = (installed.parent / "wheels").glob("maint-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    assert "runner/_data/roles/linux_health/tasks/main.yml" in names
    plugins = "runner/_data/collections/ansible_collections/maint/core/plugins/"
    shipped = {n.removeprefix(plugins) for n in names if n.startswith(plugins)}
    here = REPO / "collections/ansible_collections/maint/core/plugins"
    assert shipped == {str(p.relative_to(here)) for p in here.rglob("*.py") if "__pycache__" not in p.parts}
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_installed_package_not_the_checkout_provides_the_roles(installed: Path, tmp_path: Path) -> None:
    repo = _scratch_repo(tmp_path)
    probe = (
        "import runner, runner.paths as p; from runner.inventory.loader import known_roles; "
        "print(runner.__file__); print(p.roles_dir()); print(p.playbooks_dir()); print(p.collections_dir()); "
        "print(p.ansible_cfg()); print(p.inventories_dir()); print(','.join(sorted(known_roles())))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=repo,
        env={**_env(installed, tmp_path), "MAINT_HOME": "."},
        capture_output=True,
        text=True,
        check=True,
    )
    module, roles_dir, playbooks, collections, cfg, inventories, roles = result.stdout.splitlines()
    data = installed.resolve() / "runner" / "_data"
    assert Path(module).is_relative_to(installed.resolve())
    assert Path(roles_dir) == data / "roles"
    assert Path(playbooks) == data / "playbooks"
    assert Path(collections) == data / "collections"
    assert Path(cfg) == data / "ansible.cfg"
    assert Path(inventories) == repo.resolve() / "inventories"
    assert "linux_health" in roles.split(",")
    assert "network_config" in roles.split(",")


def test_readme_ci_recipe_and_pre_commit_hooks_as_written(installed: Path, tmp_path: Path) -> None:
    repo = _scratch_repo(tmp_path)
    env = _env(installed, tmp_path)
    assert shutil.which("maint", path=env["PATH"]) == str(installed / "bin" / "maint")

    # the GitHub Actions step of the README, with the pull request's base branch main
    readme = (REPO / "README.md").read_text()
    (line,) = {
        m.strip()
        for m in re.findall(r"^\s*(MAINT_HOME=\. maint inventory review .*)$", readme, re.M)
        if "github.base_ref" in m
    }
    command = line.replace("${{ github.base_ref }}", "main")
    result = _bash(command, repo, env)
    assert result.returncode == 0, result.stderr
    review = (repo / "review.md").read_text()
    assert "unknown role" not in review
    assert "fs_warn_pct" in review
    assert "0 warning(s)" not in review, review

    # every hook of .pre-commit-hooks.yaml, as pre-commit runs it (pass_filenames: false)
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"] for h in hooks} == {"maint-inventory-validate", "maint-inventory-review"}
    for hook in hooks:
        assert hook["pass_filenames"] is False
        result = subprocess.run(
            shlex.split(hook["entry"]), cwd=repo, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, (hook["id"], result.stdout, result.stderr)
        assert "unknown role" not in result.stdout + result.stderr, hook["id"]
        assert "Traceback" not in result.stdout + result.stderr, hook["id"]
    validate = subprocess.run(
        ["maint", "inventory", "validate"],
        cwd=repo,
        env={**env, "MAINT_HOME": "."},
        capture_output=True,
        text=True,
    )
    assert "✓ demo" in validate.stdout and "✓ example-acme" in validate.stdout, validate.stdout
    assert not (repo / "roles").exists()


def test_installed_package_without_maint_home_works_in_the_current_directory(
    installed: Path, tmp_path: Path
) -> None:
    """Not a checkout: inventories/ and var/ are the current directory's, never site-packages'."""
    repo = _scratch_repo(tmp_path)
    probe = "import runner.paths as p; print(p.project_root()); print(p.roles_dir())"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=repo,
        env=_env(installed, tmp_path),
        capture_output=True,
        text=True,
        check=True,
    )
    root, roles = result.stdout.splitlines()
    assert Path(root) == repo.resolve()
    assert Path(roles) == installed.resolve() / "runner" / "_data" / "roles"


@pytest.mark.integration
def test_installed_package_runs_a_role_with_its_own_playbooks_and_collection(
    installed: Path, tmp_path: Path
) -> None:
    repo = _scratch_repo(tmp_path)
    result = _bash(
        "MAINT_HOME=. maint run demo --role linux_health --limit localhost --json",
        repo,
        _env(installed, tmp_path),
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    (command,) = repo.glob("var/runs/*/artifacts/*/command")
    env = json.loads(command.read_text())["env"]
    data = installed.resolve() / "runner" / "_data"
    assert env["ANSIBLE_CONFIG"] == str(data / "ansible.cfg")
    assert env["ANSIBLE_ROLES_PATH"] == str(data / "roles")
    assert env["ANSIBLE_COLLECTIONS_PATH"] == str(data / "collections")
    assert json.loads(command.read_text())["cwd"] == str(repo.resolve())
    assert json.loads(result.stdout)["status"] == "successful", result.stdout


@pytest.mark.integration
def test_installed_package_serves_the_demo_network_devices(installed: Path, tmp_path: Path) -> None:
    """The simulator (maint_devtools, outside the runtime package) and its recordings ship in the wheel:
    the demo client's simulated devices answer an installed ``maint run demo``."""
    site = installed.resolve()
    assert (site / "maint_devtools" / "simulator.py").is_file()
    assert (site / "maint_devtools" / "sim_data" / "fortios" / "running-config.txt").is_file()
    repo = _scratch_repo(tmp_path)
    result = _bash(
        "MAINT_HOME=. maint run demo --role network_config --json", repo, _env(installed, tmp_path)
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    devices = {"demo-ios-sw01", "demo-cx-sw01", "demo-aoss-sw01", "demo-fgt-fw01"}
    statuses: dict[str, set[str]] = {}
    for row in json.loads(result.stdout)["results"]:
        # security rules the recordings give nothing to judge (no approved list, no firewall policy) aside
        if row["host"] in devices and not by_design(row):
            statuses.setdefault(row["host"], set()).add(row["status"])
    assert set(statuses) == devices
    assert all(s <= {"pass", "fail", "warn"} for s in statuses.values()), statuses


def test_wheel_metadata_version_is_what_maint_version_prints(installed: Path, tmp_path: Path) -> None:
    (dist,) = installed.glob("maint-*.dist-info")
    version = dist.name.removeprefix("maint-").removesuffix(".dist-info")
    result = subprocess.run(
        ["maint", "--version"], cwd=tmp_path, env=_env(installed, tmp_path), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"maint {version}\n"


def test_sdist_manifest_names_the_assets() -> None:
    """``pip install`` from an sdist (``python -m build``) needs the same files as one from Git."""
    manifest = (REPO / "MANIFEST.in").read_text()
    for name in ("roles", "playbooks", "collections"):
        assert re.search(rf"^graft {name}$", manifest, re.M), name
    assert re.search(r"^include ansible\.cfg$", manifest, re.M)
