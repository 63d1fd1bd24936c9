"""Benchmark: ``maint inventory review`` of a change against validating the same tree once.

    python bench/inventory_review.py [--clients 200] [--hosts 50] [--repeat 3]

A Git repository (in a temporary folder, built untimed) holds C clients of H hosts each: ``hosts.yml``
(three groups, inline host variables), ``group_vars/all/maintenance.yml`` (roles, thresholds, a waiver,
a schedule), ``group_vars/linux/vars.yml`` and ``host_vars/`` for a fifth of the hosts. Two commits
follow the base: *few* changes three clients (a host added, a threshold loosened, a variable changed);
*all* changes every client (a threshold and a variable).

(a) the baseline: ``validate_client`` of every client of the working tree, once;
(b) ``review(HEAD~ -> HEAD)`` of the *all* commit (every client read and validated on both sides);
(c) ``review(HEAD~2 -> HEAD~)`` of the *few* commit (Git tells which clients changed; the rest are only
    read for their host names).
Runs alternate and the best of R is kept; the ratios (b)/(a) and (c)/(a) are printed.  Target: (b)/(a) <= 4.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runner.inventory import known_roles, validate_client
from runner.inventory.review import ReviewRequest, review

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def settings(client: int, fs_warn: int = 80) -> str:
    return f"""---
maintenance:
  display_name: Client {client}
  timezone: Europe/Madrid
  contacts:
    - name: Tech {client}
      email: tech{client}@example.com
  roles:
    linux_health: [linux]
  thresholds:
    linux_health:
      fs_warn_pct: {fs_warn}
      uptime_warn_days: 60
  waivers:
    - control: HEALTH-LNX-06
      hosts: c{client}-h001
      owner: owner{client}@example.com
      reason: accepted until the migration
      expires: 2026-06-30
  schedules:
    - name: monthly-audit
      cron: "0 {20 + client % 3} * * 5#1"
      roles: [linux_health]
      window:
        duration_minutes: 180
"""


def hosts_yml(client: int, hosts: int, extra: int = 0) -> str:
    groups: dict[str, list[str]] = {"linux": [], "windows": [], "network": []}
    for i in range(hosts + extra):
        name = f"c{client}-h{i:03d}"
        groups[("linux", "linux", "windows", "network")[i % 4]].append(
            f"        {name}:\n          ansible_host: 10.{client // 256}.{client % 256}.{i}\n"
            f"          site: office-{i % 3}\n"
        )
    out = ["---\nall:\n  children:\n"]
    for group, lines in groups.items():
        out.append(f"    {group}:\n      hosts:\n{''.join(lines)}")
    return "".join(out)


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def build(repo: Path, clients: int, hosts: int) -> None:
    git(repo, "init", "-q", "-b", "main")
    for c in range(clients):
        base = f"inventories/client{c:03d}"
        write(repo, f"{base}/hosts.yml", hosts_yml(c, hosts))
        write(repo, f"{base}/group_vars/all/maintenance.yml", settings(c))
        write(repo, f"{base}/group_vars/linux/vars.yml", "---\nansible_user: maint\nntp: [0.pool.ntp.org]\n")
        for i in range(0, hosts, 5):
            write(repo, f"{base}/host_vars/c{c}-h{i:03d}.yml", f"---\nbackup_paths: [/etc, /srv/{i}]\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    for c in range(3):  # few: three clients
        base = f"inventories/client{c:03d}"
        write(repo, f"{base}/hosts.yml", hosts_yml(c, hosts, extra=1))
        write(repo, f"{base}/group_vars/all/maintenance.yml", settings(c, fs_warn=85))
        write(
            repo, f"{base}/group_vars/linux/vars.yml", "---\nansible_user: svc-maint\nntp: [0.pool.ntp.org]\n"
        )
    git(repo, "commit", "-qam", "few")
    for c in range(clients):  # all: every client
        base = f"inventories/client{c:03d}"
        write(repo, f"{base}/group_vars/all/maintenance.yml", settings(c, fs_warn=88))
        write(repo, f"{base}/group_vars/linux/vars.yml", "---\nansible_user: ops\nntp: [0.pool.ntp.org]\n")
    git(repo, "commit", "-qam", "all")


def time_validate(inventories: Path, roles: set[str]) -> float:
    start = time.perf_counter()
    for client in sorted(p.name for p in inventories.iterdir()):
        found, problems = validate_client(client, inventories, roles)
        assert found is not None, problems
    return time.perf_counter() - start


def time_review(repo: Path, base: str, head: str, expect_clients: int) -> float:
    start = time.perf_counter()
    report = review(ReviewRequest(base=base, head=head, cwd=repo, now=NOW))
    elapsed = time.perf_counter() - start
    assert len(report.clients) == expect_clients, len(report.clients)
    assert not report.errors, report.errors
    return elapsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    roles = known_roles()
    times: dict[str, list[float]] = {"a": [], "b": [], "c": []}
    with tempfile.TemporaryDirectory(prefix="review-bench-") as tmp:
        repo = Path(tmp)
        t0 = time.perf_counter()
        build(repo, args.clients, args.hosts)
        print(
            f"built {args.clients} clients x {args.hosts} hosts in {time.perf_counter() - t0:.1f} s (untimed)"
        )
        for _ in range(args.repeat):
            times["a"].append(time_validate(repo / "inventories", roles))
            times["b"].append(time_review(repo, "HEAD~", "HEAD", args.clients))
            times["c"].append(time_review(repo, "HEAD~2", "HEAD~", 3))
    a, b, c = (min(times[k]) for k in "abc")
    print(f"(a) validate every client once:        best {a:.3f} s")
    print(f"(b) review, every client changed:      best {b:.3f} s")
    print(f"(c) review, three clients changed:     best {c:.3f} s")
    print(f"ratio (b)/(a): {b / a:.2f}  (target <= 4)")
    print(f"ratio (c)/(a): {c / a:.2f}")
    for key in "abc":
        print(f"all ({key}): " + ", ".join(f"{t:.3f}" for t in times[key]))
    return 0 if b / a <= 4 else 1


if __name__ == "__main__":
    sys.exit(main())
