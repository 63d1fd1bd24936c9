"""Every entry playbook parses, and every role referenced by the client schema exists."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner.inventory import known_roles
from tests.conftest import REPO

BIN = Path(sys.executable).parent
PLAYBOOKS = sorted((REPO / "playbooks").glob("*.yml"))


@pytest.mark.parametrize("playbook", PLAYBOOKS, ids=[p.name for p in PLAYBOOKS])
def test_syntax_check(playbook: Path) -> None:
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "PATH": f"{BIN}:{os.environ['PATH']}"}
    proc = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "--syntax-check",
            "-i",
            "inventories/demo",
            str(playbook),
            "-e",
            '{"maint_role": "linux_health", "maint_targets": {"linux_health": ["localhost"]}}',
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_role_has_a_play_in_site() -> None:
    site = (REPO / "playbooks" / "site.yml").read_text()
    for role in known_roles(REPO / "roles"):
        assert f"maint_targets['{role}']" in site, f"role {role} is not part of the full cycle"
