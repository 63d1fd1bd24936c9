"""``maint inventory review`` on real Git repositories built in tmp: one commit per kind of change.

The module builds one repository whose history is :data:`STEPS` (each step a commit applying a few
file operations to the one before); every case reviews ``step[i-1]..step[i]`` and asserts the exact
findings and lines of the Markdown. Vault values are real (ansible's VaultLib), the secrets planted
are canaries that must never appear in any output.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret
from typer.testing import CliRunner

from runner import evaluators
from runner.catalogue import Threshold
from runner.cli import app
from runner.inventory.review import (
    Level,
    ReviewRequest,
    judge,
    render_json,
    render_markdown,
    review,
    threshold_specs,
)
from runner.inventory.review.diff import diff_thresholds, rule_param_limits
from runner.ledger import Ledger, RunRecord
from runner.results import CheckResult, Status

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
VAULT = VaultLib([("default", VaultSecret(b"test-vault-password"))])
CANARIES = ("CANARY-pw-7f3a9c", "CANARY-url-55e1", "CANARY-community-91b0")


def vault_value(plain: str) -> str:
    """A ``!vault |`` block scalar, indented for a top-level key."""
    text = VAULT.encrypt(plain).decode()
    return "!vault |\n" + "".join(f"  {line}\n" for line in text.splitlines())


def settings(display: str, schedule: str = "") -> str:
    return f"""---
maintenance:
  display_name: {display}
  timezone: Europe/Madrid
  contacts:
    - name: Tech
      email: tech@example.com
  roles:
    linux_health: [linux]
  thresholds:
    linux_health:
      fs_warn_pct: 80
      uptime_warn_days: 60
  waivers:
    - control: HEALTH-LNX-06
      hosts: db01
      owner: marta@example.com
      reason: ERP database restarts only quarterly
      expires: 2026-06-30
    - control: HEALTH-LNX-05
      hosts: web01
      owner: marta@example.com
      reason: old kernel until the migration
      expires: 2026-05-01
  schedules:
    - name: monthly-audit
      cron: "0 21 * * 5#1"
      roles: [linux_health]
      window:
        duration_minutes: 180
{schedule}"""


ACME_HOSTS = """---
all:
  children:
    linux:
      hosts:
        web01:
          ansible_host: 192.0.2.10
        db01:
          ansible_host: 192.0.2.11
      vars:
        ansible_user: maint
    windows:
      hosts:
        dc01:
          ansible_host: 192.0.2.20
"""

GLOBEX_HOSTS = """---
all:
  children:
    linux:
      hosts:
        gx01:
          ansible_host: 198.51.100.10
        gx02:
          ansible_host: 198.51.100.11
        gx03:
          ansible_host: 198.51.100.12
"""

INITECH_SETTINGS = """---
maintenance:
  display_name: Initech
  timezone: America/Chicago
  sla_tier: basic
  contacts:
    - name: Bill Lumbergh
      email: bill@initech.example
      phone: "+1 555 0100"
  roles:
    linux_health: [servers]
"""

INITECH_HOSTS = """---
all:
  children:
    servers:
      hosts:
        dc01:
          ansible_host: 203.0.113.5
        tps01:
          ansible_host: 203.0.113.6
"""

A = "inventories/acme"
G = "inventories/globex"

BASE_FILES: dict[str, str] = {
    f"{A}/hosts.yml": ACME_HOSTS,
    f"{A}/group_vars/all/maintenance.yml": settings("ACME"),
    f"{A}/group_vars/linux/ntp.yml": "---\nntp_servers: [0.pool.ntp.org, 1.pool.ntp.org]\n",
    f"{A}/group_vars/linux/dns.yml": (
        "---\ndns_primary: &dns 192.0.2.53\ndns_resolvers: [*dns, 192.0.2.54]\nresolver_primary: *dns\n"
    ),
    f"{A}/host_vars/db01/vault.yml": "---\ndb_password: "
    + vault_value("first-db-password")
    + "db_user: erp\n",
    f"{A}/group_vars/linux/vault.yml": VAULT.encrypt("vault_linux_become: first-become\n").decode(),
    f"{G}/hosts.yml": GLOBEX_HOSTS,
    f"{G}/group_vars/all/maintenance.yml": settings("Globex"),
    "README.md": "inventories of the MSP\n",
}

Op = tuple[Any, ...]


@dataclass(frozen=True)
class Step:
    """One commit: file operations, then what the review of it must say."""

    id: str
    ops: list[Op]
    findings: set[tuple[str, str, str]] = field(default_factory=set)  # (level, code, where)
    markdown: list[str] = field(default_factory=list)


STEPS: list[Step] = [
    Step(
        "hosts-and-roles",
        [
            ("replace", f"{A}/hosts.yml", "        web01:\n          ansible_host: 192.0.2.10\n", ""),
            (
                "replace",
                f"{A}/hosts.yml",
                "        dc01:\n",
                "        web01:\n          ansible_host: 192.0.2.10\n        dc01:\n",
            ),
            (
                "replace",
                f"{A}/hosts.yml",
                "      vars:\n",
                "        app01:\n          ansible_host: 192.0.2.12\n      vars:\n",
            ),
        ],
        markdown=[
            "| acme | modified | +1 / -0 / 1 | 2 host(s) | 1 | 0 | 0 | 0 |",
            "- host app01: `ansible_host`: (added) → 192.0.2.12",
            "- added `app01` in linux",
            "- moved `web01`: linux → windows",
            "- `app01`: +linux_health",
            "- `web01`: -linux_health (stops being checked)",
        ],
    ),
    Step(
        "variables",
        [
            ("replace", f"{A}/hosts.yml", "ansible_user: maint", "ansible_user: svc-maint"),
            ("replace", f"{A}/host_vars/db01/vault.yml", "db_user: erp", "db_user: erp_ro"),
            ("write", f"{A}/host_vars/web01.yml", "---\nbackup_paths:\n  - /etc\n  - /srv\n"),
        ],
        markdown=[
            "- group linux: `ansible_user`: maint → svc-maint",
            "- host db01: `db_user`: erp → erp_ro",
            '- host web01: `backup_paths`: (added) → ["/etc", "/srv"]',
        ],
    ),
    Step(
        "yaml-anchor",
        [("replace", f"{A}/group_vars/linux/dns.yml", "&dns 192.0.2.53", "&dns 192.0.2.153")],
        markdown=[
            "- group linux: `dns_primary`: 192.0.2.53 → 192.0.2.153",
            "- group linux: `resolver_primary`: 192.0.2.53 → 192.0.2.153",
            '- group linux: `dns_resolvers`: ["192.0.2.53", "192.0.2.54"] → ["192.0.2.153", "192.0.2.54"]',
        ],
    ),
    Step(
        "vault-value-changes",
        [
            ("vault", f"{A}/host_vars/db01/vault.yml", "db_password", "second-db-password"),
            (
                "write",
                f"{A}/group_vars/linux/vault.yml",
                VAULT.encrypt("vault_linux_become: second\n").decode(),
            ),
        ],
        markdown=[
            "- host db01: `db_password`: <vault-encrypted> → <vault-encrypted> (ciphertext changed)",
            "- file inventories/acme/group_vars/linux/vault.yml: (vault-encrypted file) changed",
        ],
    ),
    Step(
        "file-moved-group-to-host-vars",
        [("move", f"{A}/group_vars/linux/ntp.yml", f"{A}/host_vars/db01/ntp.yml")],
        markdown=[
            '- host db01: `ntp_servers`: moved from group linux (value ["0.pool.ntp.org", "1.pool.ntp.org"])'
        ],
    ),
    Step(
        "schedule-and-window",
        [
            ("replace", f"{A}/group_vars/all/maintenance.yml", '"0 21 * * 5#1"', '"0 22 * * 6#2"'),
            ("replace", f"{A}/group_vars/all/maintenance.yml", "duration_minutes: 180", 'end: "04:00"'),
            (
                "replace",
                f"{A}/group_vars/all/maintenance.yml",
                "      window:",
                "      mode: audit\n      window:",
            ),
            ("append", f"{A}/group_vars/all/maintenance.yml", "  blackout:\n    dates: [2026-04-11]\n"),
        ],
        markdown=[
            "- `monthly-audit` changed",
            "  - before: `0 21 * * 5#1` Europe/Madrid, audit, roles linux_health; "
            "window 180 min, runs need 30 min",
            "  - after: `0 22 * * 6#2` Europe/Madrid, audit, roles linux_health; "
            "window until 04:00, runs need 30 min",
            "  - next before: Fri 2026-03-06 21:00-00:00 (+1d) CET; Fri 2026-04-03 21:00-00:00 (+1d) CEST; "
            "Fri 2026-05-01 21:00-00:00 (+1d) CEST",
            "  - next after: Sat 2026-03-14 22:00-04:00 (+1d) CET; "
            "Sat 2026-04-11 22:00-04:00 (+1d) CEST [skipped]; Sat 2026-05-09 22:00-04:00 (+1d) CEST; "
            "Sat 2026-06-13 22:00-04:00 (+1d) CEST",
            "- blackout: `dates`: (added) → 2026-04-11",
        ],
    ),
    Step(
        "thresholds",
        [
            ("replace", f"{A}/group_vars/all/maintenance.yml", "fs_warn_pct: 80", "fs_warn_pct: 92"),
            (
                "replace",
                f"{A}/group_vars/all/maintenance.yml",
                "uptime_warn_days: 60",
                "uptime_warn_days: 30",
            ),
            (
                "replace",
                f"{A}/group_vars/all/maintenance.yml",
                "      uptime_warn_days: 30\n",
                "      uptime_warn_days: 30\n      inode_warn_pct: 85\n      fs_fail_pct: 95\n"
                "      skip_controls: [HEALTH-LNX-04]\n",
            ),
        ],
        findings={
            ("warning", "threshold-loosened", "maintenance.thresholds.linux_health.fs_warn_pct"),
            ("warning", "threshold-loosened", "maintenance.thresholds.linux_health.skip_controls"),
        },
        markdown=[
            "| linux_health | `fs_warn_pct` | 80 | 92 | loosened |",
            "| linux_health | `uptime_warn_days` | 60 | 30 | tightened |",
            "| linux_health | `inode_warn_pct` | 80 (default) | 85 | loosened |",
            "| linux_health | `fs_fail_pct` | 90 (default) | 95 | loosened |",
            '| linux_health | `skip_controls` | [] (default) | ["HEALTH-LNX-04"] | loosened |',
            "loosened from 80 to 92, past the limit 90",
        ],
    ),
    Step(
        "waivers",
        [
            ("replace", f"{A}/group_vars/all/maintenance.yml", "expires: 2026-06-30", "expires: 2027-12-31"),
            (
                "replace",
                f"{A}/group_vars/all/maintenance.yml",
                "    - control: HEALTH-LNX-05\n      hosts: web01\n      owner: marta@example.com\n"
                "      reason: old kernel until the migration\n      expires: 2026-05-01\n",
                "    - control: HEALTH-LNX-01\n      hosts: 'db*'\n      owner: pere@example.com\n"
                "      reason: disk replaced next year\n",
            ),
        ],
        findings={
            ("warning", "waiver-too-long", "maintenance.waivers[HEALTH-LNX-06 on db01]"),
            ("warning", "waiver-no-expiry", "maintenance.waivers[HEALTH-LNX-01 on db*]"),
        },
        markdown=[
            "| HEALTH-LNX-01 | `db*` | added | pere@example.com | — | never |",
            "| HEALTH-LNX-06 | `db01` | extended | marta@example.com | 2026-06-30 | 2027-12-31 |",
            "| HEALTH-LNX-05 | `web01` | removed | marta@example.com | 2026-05-01 | — |",
            "waiver by marta@example.com runs until 2027-12-31 (670 days, limit 180)",
        ],
    ),
    Step(
        "client-renamed",
        [
            ("move", G, "inventories/globex-corp"),
            ("replace", "inventories/globex-corp/group_vars/all/maintenance.yml", "Globex", "Globex Corp"),
        ],
        markdown=[
            "| globex-corp | renamed from globex | +0 / -0 / 0 | 0 host(s) | 1 | 0 | 0 | 0 |",
            "### globex-corp (renamed from globex, 98% the same)",
            "- group all: `maintenance.display_name`: Globex → Globex Corp",
        ],
    ),
    Step(
        "client-added-with-a-host-of-another",
        [
            ("write", "inventories/initech/hosts.yml", INITECH_HOSTS),
            ("write", "inventories/initech/group_vars/all/maintenance.yml", INITECH_SETTINGS),
        ],
        findings={("warning", "host-in-two-clients", "dc01")},
        markdown=["### initech (added)", "- added `tps01` in servers", "host dc01 is also in client acme"],
    ),
    Step(
        "client-removed",
        [("delete", "inventories/globex-corp")],
        markdown=[
            "### globex-corp (removed)",
            "- removed `gx01` (was in linux)",
            "- `gx01`: -linux_health (stops being checked)",
        ],
    ),
    Step(
        "plaintext-secrets",
        [
            (
                "write",
                f"{A}/host_vars/web01.yml",
                "---\nbackup_paths:\n  - /etc\n  - /srv\nansible_password: &pw CANARY-pw-7f3a9c\n"
                "backup_note: *pw\n",
            ),
            (
                "write",
                f"{A}/group_vars/windows.yml",
                '---\napi_endpoint: "https://svc:CANARY-url-55e1@api.example.com/v1"\n'
                "snmp:\n  community: CANARY-community-91b0\n  version: 2c\n"
                'ansible_become_password: "{{ vault_windows_become }}"\n',
            ),
        ],
        findings={
            ("error", "plaintext-secret", "inventories/acme/host_vars/web01.yml: ansible_password"),
            ("warning", "host-in-two-clients", "dc01"),
            ("error", "plaintext-secret", "inventories/acme/group_vars/windows.yml: api_endpoint"),
            ("error", "plaintext-secret", "inventories/acme/group_vars/windows.yml: snmp.community"),
        },
        markdown=[
            "- host web01: `ansible_password`: (added) → ********",
            "- host web01: `backup_note`: (added) → ********",
            "- group windows: `snmp.community`: (added) → ********",
            "- group windows: `snmp.version`: (added) → 2c",
            "- group windows: `ansible_become_password`: (added) → {{ vault_windows_become }}",
            "plaintext secret (secret key name); encrypt it with ansible-vault (value not shown)",
            "plaintext secret (credentials in a URL); encrypt it with ansible-vault (value not shown)",
        ],
    ),
    Step(
        "schema-error",
        [
            (
                "replace",
                f"{A}/group_vars/all/maintenance.yml",
                "timezone: Europe/Madrid",
                "timezone: Mars/Olympus",
            )
        ],
        findings={
            ("error", "schema-error", "inventories/acme/group_vars/all/maintenance.yml"),
            ("error", "plaintext-secret", "inventories/acme/host_vars/web01.yml: ansible_password"),
            ("warning", "host-in-two-clients", "dc01"),
            ("error", "plaintext-secret", "inventories/acme/group_vars/windows.yml: api_endpoint"),
            ("error", "plaintext-secret", "inventories/acme/group_vars/windows.yml: snmp.community"),
        },
        markdown=[
            "maintenance.timezone: unknown IANA time zone 'Mars/Olympus'",
            "> HEAD does not validate: hosts, roles and settings are compared as far as possible",
            "- group all: `maintenance.timezone`: Europe/Madrid → Mars/Olympus",
        ],
    ),
]


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=Tech", "-c", "user.email=tech@example.com", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


def apply(repo: Path, op: Op) -> None:
    kind, target = op[0], repo / op[1]
    if kind == "write":
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(op[2])
    elif kind == "replace":
        text = target.read_text()
        assert op[2] in text, f"{op[1]}: {op[2]!r} not found"
        target.write_text(text.replace(op[2], op[3]))
    elif kind == "append":
        target.write_text(target.read_text() + op[2])
    elif kind == "vault":
        lines = target.read_text().split("\n")
        start = next(i for i, line in enumerate(lines) if line.startswith(f"{op[2]}:"))
        end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("  "))
        block = f"{op[2]}: {vault_value(op[3])}".rstrip("\n").split("\n")
        target.write_text("\n".join(lines[:start] + block + lines[end:]))
    elif kind == "move":
        dest = repo / op[2]
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(target, dest)
    elif kind == "delete":
        shutil.rmtree(target)
    else:
        raise AssertionError(kind)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The repository and the commit of each step (index 0: the base)."""
    repo = tmp_path_factory.mktemp("msp-inventories")
    git(repo, "init", "-q", "-b", "main")
    for path, text in BASE_FILES.items():
        apply(repo, ("write", path, text))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    commits = [git(repo, "rev-parse", "HEAD")]
    for step in STEPS:
        for op in step.ops:
            apply(repo, op)
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", step.id)
        commits.append(git(repo, "rev-parse", "HEAD"))
    return repo, commits


def step_range(history: tuple[Path, list[str]], step_id: str) -> tuple[Path, str, str]:
    repo, commits = history
    i = [s.id for s in STEPS].index(step_id)
    return repo, commits[i], commits[i + 1]


@pytest.mark.parametrize("step", STEPS, ids=[s.id for s in STEPS])
def test_each_kind_of_change(history: tuple[Path, list[str]], step: Step) -> None:
    repo, base, head = step_range(history, step.id)
    report = review(ReviewRequest(base=base, head=head, cwd=repo, now=NOW))
    assert {(f.level.value, f.code, f.where) for f in report.findings} == step.findings
    markdown = render_markdown(report)
    lines = markdown.splitlines()
    for expected in step.markdown:
        assert expected in lines or expected in markdown, f"missing {expected!r} in:\n{markdown}"
    assert "$ANSIBLE_VAULT" not in markdown
    # findings come first, before the summary
    if step.findings:
        assert markdown.index("### Findings") < markdown.index("### Summary")


def test_unchanged_clients_are_not_reported(history: tuple[Path, list[str]]) -> None:
    repo, base, head = step_range(history, "yaml-anchor")
    report = review(ReviewRequest(base=base, head=head, cwd=repo, now=NOW))
    assert [c.name for c in report.clients] == ["acme"]
    assert report.clients_total == 2
    assert [(v.scope, v.key, v.change) for v in report.clients[0].variables] == [
        ("group linux", "dns_primary", "changed"),
        ("group linux", "dns_resolvers", "changed"),
        ("group linux", "resolver_primary", "changed"),
    ]


@pytest.mark.parametrize("fmt", ["md", "json"])
def test_planted_secret_never_printed(
    history: tuple[Path, list[str]], fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, base, head = step_range(history, "plaintext-secrets")
    report = review(ReviewRequest(base=base, head=head, cwd=repo, now=NOW))
    rendered = render_json(report) if fmt == "json" else render_markdown(report)
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(
        app, ["inventory", "review", base, head, "--format", fmt], catch_exceptions=False
    )
    assert result.exit_code == 1
    for text in (rendered, result.stdout, result.stderr):
        for canary in CANARIES:
            assert canary not in text
    if fmt == "json":
        data = json.loads(result.stdout)
        assert data["summary"] == {"errors": 3, "warnings": 1, "clients_changed": 1}
        assert {f["where"] for f in data["findings"]} >= {
            "inventories/acme/group_vars/windows.yml: snmp.community"
        }


def test_removed_host_whose_checks_still_fail(history: tuple[Path, list[str]], private_state: Path) -> None:
    repo, base, head = step_range(history, "client-removed")
    with Ledger() as ledger:
        ledger.start_run(
            RunRecord(run_id="r1", client="globex-corp", mode="audit", roles=["linux_health"], started_at=NOW)
        )
        controls = {c.control: c for c in evaluators.controls_for_role("linux_health")}
        rows = [
            ("gx01", "HEALTH-LNX-01", Status.FAIL),
            ("gx01", "HEALTH-LNX-02", Status.PASS),
            ("gx02", "HEALTH-LNX-01", Status.PASS),
        ]
        ledger.record(
            [
                (
                    f"k{i}",
                    CheckResult.from_finding(
                        controls[control].finding(status),
                        host=host,
                        client="globex-corp",
                        run_id="r1",
                        role="linux_health",
                        observed_at=NOW,
                    ),
                )
                for i, (host, control, status) in enumerate(rows)
            ]
        )
    report = review(ReviewRequest(base=base, head=head, cwd=repo, now=NOW))
    assert [(f.level, f.code, f.client, f.where, f.message) for f in report.findings] == [
        (
            Level.WARNING,
            "removed-host-failing",
            "globex-corp",
            "gx01",
            "removed while its latest checks still fail: HEALTH-LNX-01",
        )
    ]


@pytest.mark.parametrize("by", ["MAINT_DB_URL", "MAINT_VAR"])
def test_no_ledger_skips_quietly_and_creates_none(
    history: tuple[Path, list[str]], private_state: Path, monkeypatch: pytest.MonkeyPatch, by: str
) -> None:
    """Whether the URL is given or found under MAINT_VAR (runner.ledger.default_url), a review with
    removed hosts and no ledger creates neither the ledger nor its folder."""
    if by == "MAINT_VAR":
        monkeypatch.delenv("MAINT_DB_URL")
    repo, base, head = step_range(history, "client-removed")
    report = review(ReviewRequest(base=base, head=head, cwd=repo, now=NOW))
    assert report.findings == [] and report.notes == []
    assert not (private_state / "ledger.db").exists()
    assert not private_state.exists()


def test_host_ranges_across_clients_and_a_commit_against_itself(tmp_path: Path) -> None:
    """A host range (``db[01:02]``) names db01, as the loader expands it: the host is in two clients.
    Reviewing a commit against itself changes nothing (and does not trip over one folder for both)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for path, text in BASE_FILES.items():
        apply(repo, ("write", path, text))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    base = git(repo, "rev-parse", "HEAD")
    hosts = INITECH_HOSTS.replace(
        "        dc01:\n          ansible_host: 203.0.113.5\n", "        db[01:02]:\n"
    )
    apply(repo, ("write", "inventories/initech/hosts.yml", hosts))
    apply(repo, ("write", "inventories/initech/group_vars/all/maintenance.yml", INITECH_SETTINGS))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initech")
    head = git(repo, "rev-parse", "HEAD")
    report = review(ReviewRequest(base=base, head=head, cwd=repo, now=NOW))
    assert [(f.code, f.client, f.where, f.message) for f in report.findings] == [
        ("host-in-two-clients", "initech", "db01", "host db01 is also in client acme")
    ]
    same = review(ReviewRequest(base=head, head=head, cwd=repo, now=NOW))
    assert same.clients == [] and same.findings == []
    assert "No client inventory changed." in render_markdown(same)


def test_working_tree_is_the_default_head(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for path, text in BASE_FILES.items():
        apply(repo, ("write", path, text))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    git(repo, "checkout", "-qb", "feature")
    apply(repo, ("replace", f"{A}/hosts.yml", "ansible_user: maint", "ansible_user: ops"))
    git(repo, "commit", "-qam", "committed on the branch")
    apply(repo, ("replace", f"{A}/hosts.yml", "192.0.2.20", "192.0.2.21"))  # uncommitted
    apply(repo, ("write", f"{A}/host_vars/dc01.yml", "---\nwinrm_port: 5986\n"))  # untracked
    apply(repo, ("write", "inventories/.scratch/hosts.yml", "not: [a client\n"))  # hidden: skipped
    monkeypatch.chdir(repo / "inventories")
    result = CliRunner().invoke(app, ["inventory", "review", "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stdout
    data = json.loads(result.stdout)
    assert data["base_label"] == "merge-base(HEAD, main)"
    assert data["head"] is None and data["head_label"] == "working tree"
    assert data["base"] == git(repo, "rev-parse", "main")
    changes = {(v["scope"], v["key"], v["old"], v["new"]) for v in data["clients"][0]["variables"]}
    assert changes == {
        ("group linux", "ansible_user", "maint", "ops"),
        ("host dc01", "ansible_host", "192.0.2.20", "192.0.2.21"),
        ("host dc01", "winrm_port", None, "5986"),
    }


def test_path_option(history: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """``--path`` is relative to the current directory; the default is inventories/ at the top."""
    repo, base, head = step_range(history, "yaml-anchor")
    monkeypatch.chdir(repo / "inventories" / "acme")
    for extra in (["--path", ".."], []):
        result = CliRunner().invoke(app, ["inventory", "review", base, head, *extra], catch_exceptions=False)
        assert result.exit_code == 0
        assert "1 client(s) changed of 2 under `inventories`" in result.stdout


@pytest.mark.parametrize(
    ("args", "where", "message"),
    [
        (["no-such-rev"], "repo", "unknown revision 'no-such-rev'"),
        (["HEAD~1", "nope"], "repo", "unknown revision 'nope'"),
        ([], "outside", "not a Git repository"),
        (["HEAD~1", "HEAD", "--path", "/"], "repo", "is not inside the repository"),
        (
            ["HEAD~1", "HEAD", "--path", "nowhere"],
            "repo",
            "no client folders under nowhere in HEAD~1 or HEAD",
        ),
    ],
)
def test_review_cannot_run(
    history: tuple[Path, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    where: str,
    message: str,
) -> None:
    outside = tmp_path / "plain-folder"
    outside.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.chdir(history[0] if where == "repo" else outside)
    result = CliRunner().invoke(app, ["inventory", "review", *args], catch_exceptions=False)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize(
    ("step_id", "code"), [("yaml-anchor", 0), ("waivers", 0), ("plaintext-secrets", 1), ("schema-error", 1)]
)
def test_exit_codes(
    history: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch, step_id: str, code: int
) -> None:
    repo, base, head = step_range(history, step_id)
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(app, ["inventory", "review", base, head], catch_exceptions=False)
    assert result.exit_code == code
    assert result.stdout.startswith("<!-- maint-inventory-review -->\n## Inventory review: ")


def test_max_waiver_days_option(history: tuple[Path, list[str]]) -> None:
    repo, base, head = step_range(history, "waivers")
    report = review(ReviewRequest(base=base, head=head, cwd=repo, now=NOW, max_waiver_days=700))
    assert {f.code for f in report.findings} == {"waiver-no-expiry"}


def spec(kind: str, looser: str, loosest: Any = None, default: Any = 80) -> Threshold:
    return Threshold(
        name="t", type=kind, unit="count", default=default, looser=looser, loosest=loosest, description="t"
    )


@pytest.mark.parametrize(
    ("threshold", "old", "new", "expected"),
    [
        (spec("int", "higher", 90), 80, 92, ("loosened", True)),
        (spec("int", "higher", 90), 80, 90, ("loosened", False)),
        (spec("int", "higher", 90), 92, 80, ("tightened", False)),
        (spec("int", "lower", 10, 20), 20, 5, ("loosened", True)),
        (spec("float", "lower", 1.5, 2.0), 2.0, 1.0, ("loosened", True)),
        (spec("int", "more", None, 5), 5, 7, ("loosened", False)),
        (spec("int", "fewer", 1, 5), 5, 0, ("loosened", True)),
        (spec("list", "more", 0, []), [], ["X-1"], ("loosened", True)),
        (spec("list", "more", None, []), ["a"], [], ("tightened", False)),
        (spec("list", "more", None, []), ["a"], ["b"], ("changed", False)),
        (spec("list", "fewer", 2, []), ["a", "b", "c"], ["a"], ("loosened", True)),
        (spec("list", "fewer", None, []), ["a"], ["a", "b"], ("tightened", False)),
        (spec("bool", "lower", None, True), True, False, ("loosened", False)),
        (spec("bool", "lower", None, True), False, True, ("tightened", False)),
        (spec("bool", "higher", None, False), 0, True, ("changed", False)),
        (None, 1, 2, ("changed", False)),
        (spec("int", "higher", None), "80", 90, ("changed", False)),
    ],
)
def test_threshold_direction(
    threshold: Threshold | None, old: Any, new: Any, expected: tuple[str, bool]
) -> None:
    assert judge(threshold, old, new) == expected


def _tight_and_loose(th: Threshold) -> tuple[Any, Any]:
    """Two valid values of a catalogue threshold, the second looser than the first."""
    if th.type == "map":  # network_config params: {rule: {parameter: limit}}, null switches a limit off
        (rule, param), _ = next(iter(rule_param_limits().items()))
        return {rule: {param: 1}}, {rule: {param: None}}
    up = th.looser in ("higher", "more")
    if th.type == "bool":
        return (False, True) if up else (True, False)
    if th.type == "list":
        shorter = list(th.default)
        extra = next((c for c in th.choices if c not in shorter), "ANOTHER-ITEM")
        longer = [*shorter, extra]
        return (shorter, longer) if up else (longer, shorter)
    assert th.type in ("int", "float"), f"{th.name}: a {th.type} threshold has no order"
    step = 1 if th.type == "int" else 0.5
    low, high = th.default - step, th.default
    if th.min is None or low < th.min:
        low, high = th.default, th.default + step
    return (low, high) if up else (high, low)


CATALOGUE_THRESHOLDS = [
    (role, name, th) for role, specs in sorted(threshold_specs().items()) for name, th in specs.items()
]


def test_every_catalogue_threshold_has_a_direction() -> None:
    """Each threshold says which way loosens it; a map (network_config params) is judged limit by limit,
    each limit's direction taken from the rule pack check that reads it."""
    unjudged = [
        f"{role}.{name}" for role, name, th in CATALOGUE_THRESHOLDS if th.looser is None and th.type != "map"
    ]
    assert CATALOGUE_THRESHOLDS and unjudged == []
    assert rule_param_limits()[("NET-FGT-03", "max_admintimeout")] == ("higher", 15)


@pytest.mark.parametrize(
    ("role", "name", "th"), CATALOGUE_THRESHOLDS, ids=[f"{r}.{n}" for r, n, _ in CATALOGUE_THRESHOLDS]
)
def test_each_catalogue_threshold_loosening_and_tightening_recognised(
    role: str, name: str, th: Threshold
) -> None:
    """Every threshold of the catalogue: a client moving it one step looser is told "loosened", one step
    back "tightened" (through the same path as a review: unset means the catalogue default); past its
    ``loosest`` the review warns."""
    tight, loose = _tight_and_loose(th)
    specs = threshold_specs()

    def changes(old: Any, new: Any) -> list[tuple[str, bool]]:
        before = SimpleNamespace(thresholds={role: {name: old}})
        after = SimpleNamespace(thresholds={role: {name: new}})
        found, past = diff_thresholds(before, after, specs)  # type: ignore[arg-type]
        return [(c.change, any(p is c for p, _ in past)) for c in found]

    assert [kind for kind, _ in changes(tight, loose)] == ["loosened"]
    assert [kind for kind, _ in changes(loose, tight)] == ["tightened"]
    if th.loosest is None or th.type == "bool":
        return
    up = th.looser in ("higher", "more")
    if th.type == "list":
        items = [f"ITEM-{i}" for i in range(int(th.loosest) + 2)]
        start, beyond = (items[:1], items) if up else (items, items[: int(th.loosest) - 1])
        if not up and th.loosest < 1:
            return  # nothing is shorter than an empty list
    else:
        step = 1 if th.type == "int" else 0.5
        start, beyond = th.default, (th.loosest + step if up else th.loosest - step)
    assert changes(start, beyond) == [("loosened", True)]


# --------------------------------------------------------------------------- untrusted input (issue 10, 2b)

HOSTILE_FILES: dict[str, str] = {
    f"{A}/host_vars/web01.yml": (
        "---\nbackup_note: \"{{ lookup('pipe', 'id > /tmp/x') }}\"\n"
        'fqdn: "{{ inventory_hostname }}.corp.example"\n'
        "literal: !unsafe \"{{ lookup('pipe', 'id') }}\"\n"
        "hooks:\n  - \"{{ query('env', 'HOME') }}\"\n  - plain\n"
        "probe: \"{{ ''.__class__.__mro__[1].__subclasses__() }}\"\n"
        'colour: "\\e[31mred"\n'
    ),
    f"{A}/group_vars/linux/dns.yml": BASE_FILES[f"{A}/group_vars/linux/dns.yml"]
    + "dns_primary: 192.0.2.99\n",
    f"{A}/host_vars/db01/bomb.yml": "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['lol'] * 9)}]\n"
        for p, n in zip(["", "a", "b", "c", "d", "e", "f", "g"], "abcdefgh", strict=True)
    ),
}


@pytest.fixture
def hostile_repo(tmp_path: Path) -> tuple[Path, str]:
    """BASE_FILES committed, then a working tree with command-running templates, a threshold that is a
    template, a duplicate key and an alias bomb."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for path, text in BASE_FILES.items():
        apply(repo, ("write", path, text))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    for path, text in HOSTILE_FILES.items():
        apply(repo, ("write", path, text))
    apply(
        repo,
        (
            "replace",
            f"{A}/group_vars/all/maintenance.yml",
            "fs_warn_pct: 80",
            "fs_warn_pct: \"{{ lookup('pipe', 'id > /tmp/x; echo 85') }}\"",
        ),
    )
    return repo, git(repo, "rev-parse", "HEAD")


def test_templates_that_run_on_the_controller_are_errors(hostile_repo: tuple[Path, str]) -> None:
    repo, base = hostile_repo
    report = review(ReviewRequest(base=base, cwd=repo, now=NOW))
    found = {(f.level.value, f.code, f.where) for f in report.findings}
    web = f"{A}/host_vars/web01.yml"
    settings_file = f"{A}/group_vars/all/maintenance.yml"
    assert {f for f in found if f[1] == "controller-template"} == {
        ("error", "controller-template", f"{web}: backup_note"),
        ("error", "controller-template", f"{web}: hooks[0]"),
        ("error", "controller-template", f"{web}: probe"),
        ("error", "controller-template", f"{settings_file}: maintenance.thresholds.linux_health.fs_warn_pct"),
    }
    messages = {f.where: f.message for f in report.findings if f.code == "controller-template"}
    assert messages[f"{web}: backup_note"] == (
        "template runs on the controller as the user of maint (calls lookup('pipe')): "
        "{{ lookup('pipe', 'id > /tmp/x') }}"
    )
    assert "calls query('env')" in messages[f"{web}: hooks[0]"]
    assert "Python internals" in messages[f"{web}: probe"]
    schema = {f.where: f.message for f in report.findings if f.code == "schema-error"}
    assert "maintenance.thresholds.linux_health.fs_warn_pct: a template" in schema[settings_file]
    assert "alias bomb" in schema[f"{A}/host_vars/db01/bomb.yml"]
    assert (
        "duplicate key 'dns_primary' on line 5 (first on line 2)" in schema[f"{A}/group_vars/linux/dns.yml"]
    )
    markdown = render_markdown(report)
    assert "- host web01: `colour`: (added) → \\x1b[31mred" in markdown.splitlines()
    assert "\x1b" not in markdown  # a terminal escape in a value is shown, never sent


def test_review_cli_exits_1_on_controller_template(
    hostile_repo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, base = hostile_repo
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(
        app, ["inventory", "review", base, "--format", "json"], catch_exceptions=False
    )
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["summary"]["errors"] >= 4
    assert any(f["code"] == "controller-template" and f["level"] == "error" for f in data["findings"])
