"""Tasks per host, from the play recap of real runs (issue 16): every task costs every host a round trip.

Each Linux role runs for real on this machine (``ansible_connection: local``, three hosts, audit mode,
no package index refresh, no backup repository) through ``playbooks/site.yml``, the playbook ``maint run``
hands to ansible-runner; ``network_config`` runs against the SSH simulators of the four platforms. The
play recap on stdout (ok / changed / unreachable / failed / skipped per host) must show

- at most 2 tasks per role and host (network_config: per device), none failed or unreachable;
- at most 6 tasks per host for linux_health + linux_patching + linux_antivirus + linux_backup in one run;

and the ``task_log`` callback (``tests/callback_plugins/task_log.py``) must show that every host got a
``maint_results`` row for every control its role judges (the catalogue's controls of the role and of the
kinds the role's task evaluates), so fewer tasks lost no result.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from maint_devtools import simulator as sim
from runner import catalogue
from runner.results import Status
from tests.conftest import REPO

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
SITE = REPO / "playbooks" / "site.yml"
CALLBACKS = Path(__file__).resolve().parent / "callback_plugins"
HOSTS = ("count-a", "count-b", "count-c")
FOUR = ("linux_health", "linux_patching", "linux_antivirus", "linux_backup")
#: the kinds each role's audit task judges (catalogue ``kinds``); HEALTH-LNX-09/10 and NET-*-trends
#: (``*_trends``) are judged by the runner from the ledger's history, not by the role's task
ROLE_KINDS: dict[str, frozenset[str]] = {
    "linux_health": frozenset({"linux_health"}),
    "linux_patching": frozenset({"linux_patching"}),
    "linux_antivirus": frozenset({"clamav"}),
    "linux_backup": frozenset({"linux_backup"}),
    "linux_access": frozenset({"linux_access"}),
    "linux_assets": frozenset({"linux_assets"}),
    "network_config": frozenset({"network_config", "network_counters"}),
}
LINUX_ROLES = tuple(r for r in ROLE_KINDS if r.startswith("linux_"))
MAX_PER_ROLE = 2
MAX_FOUR = 6
RECAP = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+"
    r"failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Run:
    """One ansible-playbook run: its play recap per host and the task_log callback's entries."""

    recap: dict[str, dict[str, int]]
    log: list[dict[str, Any]]
    output: str

    def tasks(self, host: str) -> int:
        """Tasks the host ran: ok (changed included), failed, unreachable and skipped."""
        row = self.recap[host]
        return row["ok"] + row["failed"] + row["unreachable"] + row["skipped"]


def play_recap(stdout: str) -> dict[str, dict[str, int]]:
    """``host -> {ok, changed, unreachable, failed, skipped, rescued, ignored}`` from the PLAY RECAP block."""
    _, marker, block = stdout.rpartition("PLAY RECAP")
    assert marker, "no PLAY RECAP in the output"
    out: dict[str, dict[str, int]] = {}
    for match in RECAP.finditer(block):
        fields = match.groupdict()
        host = fields.pop("host")
        out[host] = {k: int(v) for k, v in fields.items()}
    return out


def test_play_recap_parses_every_counter() -> None:
    text = (
        "PLAY RECAP *****\n"
        "web-1                      : ok=3    changed=1    unreachable=0    failed=2    skipped=4    "
        "rescued=0    ignored=1   \n"
        "db                         : ok=1    changed=0    unreachable=1    failed=0    skipped=0    "
        "rescued=0    ignored=0   \n"
    )
    recap = play_recap(text)
    assert recap["web-1"] == {
        "ok": 3, "changed": 1, "unreachable": 0, "failed": 2, "skipped": 4, "rescued": 0, "ignored": 1
    }  # fmt: skip
    assert Run(recap, [], text).tasks("web-1") == 9
    assert Run(recap, [], text).tasks("db") == 2


def expected_controls(role: str, platform: str | None = None) -> set[str]:
    """The controls the role's task judges for a host (of ``platform``, for a network device)."""
    return {
        cid
        for cid, spec in catalogue.load().controls.items()
        if spec.role == role
        and spec.retired is None
        and ROLE_KINDS[role] & set(spec.kinds)
        and (spec.platforms is None or platform in spec.platforms)
    }


def run_site(work: Path, inventory: Path, targets: Mapping[str, list[str]], name: str) -> Run:
    """``playbooks/site.yml`` with ``maint_targets`` (what ``maint run`` passes), default stdout callback."""
    log = work / f"{name}.tasks.json"
    extra = work / f"{name}.vars.json"
    extra.write_text(json.dumps({"maint_targets": dict(targets)}))
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
        "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
        "ANSIBLE_CALLBACKS_ENABLED": "task_log",
        "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "MAINT_TASK_LOG": str(log),
        "MAINT_VAR": str(work / "var"),
        "MAINT_DB_URL": f"sqlite:///{work / 'var' / 'ledger.db'}",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inventory), str(SITE), "-e", f"@{extra}"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert log.exists(), (
        f"site.yml ({name}) ended before its stats (exit {proc.returncode}):\n{output[-4000:]}"
    )
    return Run(play_recap(proc.stdout), json.loads(log.read_text()), output)


def linux_inventory(work: Path) -> Path:
    path = work / "hosts.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "linux": {
                    "hosts": dict.fromkeys(HOSTS),
                    "vars": {
                        "ansible_connection": "local",
                        "ansible_python_interpreter": sys.executable,
                        "maint_mode": "audit",
                        "linux_patching_refresh_cache": False,
                    },
                }
            }
        )
    )
    return path


def assert_clean(run: Run, hosts: tuple[str, ...], what: str) -> None:
    """Every host in the recap, nothing failed or unreachable (the failing task's message if so)."""
    missing = [h for h in hosts if h not in run.recap]
    assert not missing, f"{what}: no recap line for {missing}:\n{run.output[-4000:]}"
    bad = [e for e in run.log if e["status"] in ("failed", "unreachable")]
    assert not bad, f"{what}: " + "; ".join(f"{e['host']} {e['task']}: {e['msg']}" for e in bad)
    for host in hosts:
        row = run.recap[host]
        assert row["failed"] == row["unreachable"] == 0, f"{what}: {host} {row}"
    # the callback saw every task the recap counts, so the results read from it are all there are
    seen = Counter(e["host"] for e in run.log)
    assert {h: seen[h] for h in hosts} == {h: run.tasks(h) for h in hosts}, f"{what}: {seen} vs {run.recap}"


def assert_every_control(run: Run, role: str, hosts: Mapping[str, str | None]) -> None:
    """Each host (-> its platform) got one maint_results row per control of the role, for itself."""
    for host, platform in hosts.items():
        rows = [
            r
            for e in run.log
            if e["host"] == host and e["role"] == role and e["results"] is not None
            for r in e["results"]
        ]
        controls = Counter(r["control"] for r in rows)
        wanted = expected_controls(role, platform)
        assert wanted, f"{role}: no controls in the catalogue"
        missing, unexpected = sorted(wanted - set(controls)), sorted(set(controls) - wanted)
        assert not missing and not unexpected, f"{role} on {host}: missing {missing}, unexpected {unexpected}"
        assert all(n == 1 for n in controls.values()), f"{role} on {host}: rows twice: {controls}"
        assert {r["host"] for r in rows} == {host}, (
            f"{role} on {host}: rows of {sorted({r['host'] for r in rows})}"
        )
        statuses = {r["status"] for r in rows}
        assert statuses <= {s.value for s in Status}, f"{role} on {host}: statuses {sorted(statuses)}"


@pytest.fixture(scope="module")
def linux_work(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("task-counts")
    return work, linux_inventory(work)


@pytest.mark.parametrize("role", LINUX_ROLES)
def test_linux_role_runs_at_most_two_tasks_per_host(role: str, linux_work: tuple[Path, Path]) -> None:
    work, inventory = linux_work
    run = run_site(work, inventory, {role: list(HOSTS)}, role)
    assert_clean(run, HOSTS, role)
    counts = {host: run.tasks(host) for host in HOSTS}
    assert all(n <= MAX_PER_ROLE for n in counts.values()), (
        f"{role}: tasks per host {counts} (recap), more than {MAX_PER_ROLE}: "
        + ", ".join(sorted({f"{e['status']} {e['task']}" for e in run.log if e["host"] == HOSTS[0]}))
    )
    assert {e["role"] for e in run.log} == {role}
    assert_every_control(run, role, dict.fromkeys(HOSTS))


def test_four_linux_roles_run_at_most_six_tasks_per_host(linux_work: tuple[Path, Path]) -> None:
    work, inventory = linux_work
    run = run_site(work, inventory, {role: list(HOSTS) for role in FOUR}, "four")
    assert_clean(run, HOSTS, "four roles")
    counts = {host: run.tasks(host) for host in HOSTS}
    assert all(n <= MAX_FOUR for n in counts.values()), f"four Linux roles: tasks per host {counts}"
    for host in HOSTS:  # and per role inside the same run
        per_role = Counter(e["role"] for e in run.log if e["host"] == host)
        assert set(per_role) == set(FOUR), f"{host}: roles {per_role}"
        assert max(per_role.values()) <= MAX_PER_ROLE, f"{host}: tasks per role {per_role}"
    for role in FOUR:
        assert_every_control(run, role, dict.fromkeys(HOSTS))


@pytest.fixture
def simulators(tmp_path: Path) -> Iterator[tuple[dict[str, sim.Simulator], Path]]:
    """One SSH simulator per platform (the recorded device) and a known_hosts file trusting them."""
    profiles = [(platform, sim.DeviceProfile.default(platform), 0) for platform in sim.DRIVERS]
    with sim.running(profiles) as running:
        yield running, sim.write_known_hosts(tmp_path / "known_hosts", list(running.values()))


def test_network_config_runs_at_most_two_tasks_per_device(
    tmp_path: Path, simulators: tuple[dict[str, sim.Simulator], Path]
) -> None:
    sims, known_hosts = simulators
    devices = {f"count-{platform}": s for platform, s in sims.items()}
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        yaml.safe_dump(
            {
                "network": {
                    "hosts": {
                        name: {"ansible_port": s.port, "network_config_platform": s.profile.platform}
                        for name, s in devices.items()
                    },
                    "vars": {
                        "ansible_host": "127.0.0.1",
                        "ansible_connection": "local",
                        "ansible_python_interpreter": sys.executable,
                        "ansible_user": sim.DEMO_USER,
                        "ansible_password": sim.DEMO_PASSWORD,
                        "ansible_become_password": sim.DEMO_ENABLE,
                        "network_config_known_hosts": str(known_hosts),
                        "network_config_conn_timeout": 5,
                        "network_config_read_timeout": 20,
                        "network_config_store_snapshot": False,
                    },
                }
            }
        )
    )
    names = tuple(devices)
    run = run_site(tmp_path, inventory, {"network_config": list(names)}, "network")
    assert_clean(run, names, "network_config")
    counts = {name: run.tasks(name) for name in names}
    assert all(n <= MAX_PER_ROLE for n in counts.values()), (
        f"network_config: tasks per device {counts} (recap), more than {MAX_PER_ROLE}: "
        + ", ".join(sorted({f"{e['status']} {e['task']}" for e in run.log if e["host"] == names[0]}))
    )
    for name in names:  # a device that was reached has judged rules (one not reached: all not_checked)
        statuses = {r["status"] for e in run.log if e["host"] == name and e["results"] for r in e["results"]}
        assert statuses - {"not_checked"}, f"{name}: not reached (every control not_checked)"
    assert_every_control(run, "network_config", {n: s.profile.platform for n, s in devices.items()})
