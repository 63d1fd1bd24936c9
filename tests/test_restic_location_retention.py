"""BKP-RESTIC-05 (where the copies are) and BKP-RESTIC-06 (retention against the forget policy).

Recorded cases are in tests/data/linux_backup/cases.yml; these tests cover the repository forms, the
collector's redaction and mount reading, and restic's forget semantics against restic itself.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from runner import evaluators
from runner.evaluators import restic_policy as rp
from runner.results import Status
from tests.conftest import PLUGINS
from tests.evaluator_cases import load_json

DATA = Path(__file__).parent / "data" / "linux_backup"
HAS_RESTIC = shutil.which("restic") is not None
needs_restic = pytest.mark.skipif(
    not HAS_RESTIC, reason="!!! restic tests SKIPPED: restic is not installed (apt-get install restic) !!!"
)


def _judge(raw: dict[str, Any], control: str, thresholds: dict[str, Any] | None = None) -> Any:
    return {f.control: f for f in evaluators.evaluate("restic", raw, thresholds)}[control]


def _remote(repository: str) -> dict[str, Any]:
    """The recorded unreachable rest: repository with another location string."""
    raw = load_json(DATA, "real_rest_repository_file_credentials.json")
    raw["restic"]["repository"] = repository
    return raw


# ---------------------------------------------------------------- BKP-RESTIC-05


LOCATIONS = [
    ("/srv/restic", {"backend": "local", "host": None, "bucket": None, "path": "/srv/restic"}),
    ("local:/srv/restic", {"backend": "local", "host": None, "bucket": None, "path": "/srv/restic"}),
    (
        "sftp:backup@nas01:/srv/restic/web01",
        {"backend": "sftp", "host": "nas01", "bucket": None, "path": "/srv/restic/web01"},
    ),
    ("sftp:nas01:restic-repo", {"backend": "sftp", "host": "nas01", "bucket": None, "path": "restic-repo"}),
    (
        "sftp://backup@[fd00::5]:2222//srv/restic",
        {"backend": "sftp", "host": "[fd00::5]:2222", "bucket": None, "path": "/srv/restic"},
    ),
    (
        "rest:https://backup:s3cr3t-pw@backup.example.com:8000/web01/?token=abc123",
        {"backend": "rest", "host": "backup.example.com:8000", "bucket": None, "path": "/web01/"},
    ),
    (
        "s3:s3.eu-west-1.amazonaws.com/acme-backups/web01",
        {"backend": "s3", "host": "s3.eu-west-1.amazonaws.com", "bucket": "acme-backups", "path": "web01"},
    ),
    (
        "s3:https://AKIAEXAMPLE:s3cr3t-pw@minio.lan:9000/restic/web01/",
        {"backend": "s3", "host": "minio.lan:9000", "bucket": "restic", "path": "web01"},
    ),
    ("b2:acme-backups:web01", {"backend": "b2", "host": None, "bucket": "acme-backups", "path": "web01"}),
    ("azure:restic:/web01", {"backend": "azure", "host": None, "bucket": "restic", "path": "/web01"}),
    ("gs:acme-backups:/web01", {"backend": "gs", "host": None, "bucket": "acme-backups", "path": "/web01"}),
    ("swift:restic:/web01", {"backend": "swift", "host": None, "bucket": "restic", "path": "/web01"}),
    (
        "rclone:onedrive:backups/web01",
        {"backend": "rclone", "host": "onedrive", "bucket": None, "path": "backups/web01"},
    ),
]


@pytest.mark.parametrize(("repository", "location"), LOCATIONS, ids=[r for r, _ in LOCATIONS])
def test_location_forms_with_credentials_stripped(repository: str, location: dict[str, Any]) -> None:
    assert rp.parse_location(repository) == location
    if location["backend"] == "local":
        return
    finding = _judge(_remote(repository), "BKP-RESTIC-05")
    assert finding.status is Status.PASS
    assert finding.evidence["location"] == location
    assert finding.evidence["same_host"] is False
    shown = json.dumps(finding.evidence["location"])
    assert "s3cr3t-pw" not in shown and "abc123" not in shown and "AKIAEXAMPLE" not in shown


@pytest.mark.parametrize(
    ("repository", "reason"),
    [
        ("sftp:backup@localhost:/srv/restic", "copies on the backed-up host only: sftp server localhost"),
        (
            "rest:http://127.0.0.1:8000/web01/",
            "copies on the backed-up host only: rest server 127.0.0.1:8000",
        ),
        ("sftp:vm.example.lan:/srv/restic", "copies on the backed-up host only: sftp server vm.example.lan"),
        (
            "rest:http+unix:///run/rest.sock:/web01/",
            "copies on the backed-up host only: rest server localhost",
        ),
    ],
)
def test_a_server_on_the_host_itself_warns(repository: str, reason: str) -> None:
    finding = _judge(_remote(repository), "BKP-RESTIC-05")  # the recording's hostname is vm
    assert (finding.status, finding.evidence["reason"]) == (Status.WARN, reason)
    assert finding.remediation.startswith(reason)


def test_a_location_restic_would_refuse_is_not_judged() -> None:
    finding = _judge(_remote("ftp:nas01:/srv"), "BKP-RESTIC-05")
    assert finding.status is Status.NOT_CHECKED
    assert finding.evidence["reason"] == (
        "repository location not understood: 'ftp' is not a backend restic knows (a local path needs local:)"
    )


@pytest.mark.parametrize(
    ("fstype", "source", "status", "host"),
    [
        ("nfs4", "nas01:/export/restic", Status.PASS, "nas01"),
        ("cifs", "//fileserver.lan/backup", Status.PASS, "fileserver.lan"),
        ("fuse.sshfs", "backup@nas02:/srv", Status.PASS, "nas02"),
        ("ext4", "/dev/sdb1", Status.WARN, "vm"),
        ("xfs", "/dev/mapper/vg-backup", Status.WARN, "vm"),
    ],
)
def test_local_path_judged_by_the_mount_holding_it(
    fstype: str, source: str, status: Status, host: str
) -> None:
    raw = load_json(DATA, "real_retention_policy_kept.json")
    raw["restic"]["mount"] = {
        "path": "/tmp/15r/repo-ok",
        "mount": "/tmp/15r",
        "fstype": fstype,
        "source": source,
    }
    finding = _judge(raw, "BKP-RESTIC-05")
    assert finding.status is status
    assert finding.evidence["location"]["host"] == host
    assert finding.evidence["mount"] == {"mount": "/tmp/15r", "fstype": fstype, "source": source}


# ---------------------------------------------------------------- the collector


def _collector() -> Any:
    sys.path.insert(0, str(PLUGINS / "modules"))
    try:
        import linux_backup_facts  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    return linux_backup_facts


MOUNTINFO = r"""22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 0:45 / /mnt/nas rw,relatime shared:20 - nfs4 nas01:/export/backup rw,vers=4.2,addr=10.0.0.5
41 22 0:46 / /mnt/with\040space rw,relatime shared:21 - cifs //files/backup rw,username=svc
"""


def test_collector_reads_the_mount_holding_a_path(tmp_path: Path) -> None:
    info = tmp_path / "mountinfo"
    info.write_text(MOUNTINFO)
    mod = _collector()
    assert mod.mount_of("/mnt/nas/restic/web01", str(info)) == {
        "path": "/mnt/nas/restic/web01",
        "mount": "/mnt/nas",
        "fstype": "nfs4",
        "source": "nas01:/export/backup",
    }
    assert mod.mount_of("/mnt/with space/r", str(info))["fstype"] == "cifs"
    assert mod.mount_of("/mnt/nasty", str(info))["mount"] == "/"  # a prefix of a name is not a parent


# prints its environment's repository (as a broken restic might in an error) and the snapshots given
FAKE_RESTIC = """#!/bin/sh
case "$*" in
  *version*) echo "restic 0.17.3 compiled with go1.22 on linux/amd64" ;;
  *snapshots*) echo "opening $RESTIC_REPOSITORY" >&2; printf '%s' "$FAKE_SNAPSHOTS" ;;
esac
"""


def _params(binary: str, **extra: Any) -> dict[str, Any]:
    params = {
        "restic_repository": "",
        "restic_repository_file": "",
        "restic_password": "pw-long-enough",
        "restic_env": {},
        "restic_binary": binary,
        "restic_host": "vm",
        "restic_tags": [],
        "restic_path": "",
        "restic_forget": {"keep_daily": "7", "keep_weekly": 4, "keep_within": None},
        "restic_check": False,
        "restic_read_data_subset": "",
        "restic_restore_path": "",
        "restic_restore_sha256": "",
        "command_timeout": 30.0,
        "file_sets": [],
    }
    params.update(extra)
    return params


@pytest.mark.parametrize("how", ["option", "file", "env file", "env"])
def test_collector_never_returns_a_url_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    canary = "canary-" + os.urandom(6).hex()
    fake = tmp_path / "restic"
    fake.write_text(FAKE_RESTIC)
    fake.chmod(0o755)
    monkeypatch.setenv(
        "FAKE_SNAPSHOTS", '[{"time": "2026-11-27T02:57:25.570059024Z", "short_id": "d0f12a1b"}]'
    )
    repository = f"rest:https://backup:{canary}@backup.example.com:8000/web01/?key={canary}x"
    (tmp_path / "repo").write_text(repository + "\n")
    extra: dict[str, Any] = {
        "option": {"restic_repository": repository},
        "file": {"restic_repository_file": str(tmp_path / "repo")},
        "env file": {"restic_env": {"RESTIC_REPOSITORY_FILE": str(tmp_path / "repo")}},
        "env": {"restic_env": {"RESTIC_REPOSITORY": repository}},
    }[how]
    raw = _collector().collect(_params(str(fake), **extra), json.loads)
    assert canary not in json.dumps(raw)
    assert raw["restic"]["repository"] == (
        "rest:https://backup:********@backup.example.com:8000/web01/?key=********"
    )
    assert raw["restic"]["forget"] == {"keep_daily": 7, "keep_weekly": 4}  # a templated "7" made a number
    location = _judge(raw, "BKP-RESTIC-05").evidence["location"]
    assert location == {
        "backend": "rest",
        "host": "backup.example.com:8000",
        "bucket": None,
        "path": "/web01/",
    }


def test_collector_rejects_a_forget_policy_restic_would_refuse() -> None:
    mod = _collector()
    assert mod.forget_problem({"keep_daily": 7, "keep_within": "1y6m", "keep_monthly": "unlimited"}) == ""
    assert mod.forget_problem({"keep_daily": -2}) == (
        "restic_forget.keep_daily: -2 is not a whole number of -1 or more, or 'unlimited'"
    )
    assert mod.forget_problem({"keep_within": "7 days"}) == (
        "restic_forget.keep_within: '7 days' is not a duration such as 7d, 12m or 1y6m"
    )


# ---------------------------------------------------------------- BKP-RESTIC-06


def _with_snapshots(times: list[str], policy: dict[str, Any], version: str = "0.17.3") -> dict[str, Any]:
    raw = load_json(DATA, "real_retention_policy_kept.json")
    restic = raw["restic"]
    restic["version"] = version
    restic["forget"] = policy
    items = [
        {"short_id": f"s{n:07d}", "time": t, "paths": ["/srv/data"], "tags": []} for n, t in enumerate(times)
    ]
    snaps = restic["snapshots"]
    snaps.update(count=len(items), parsed=len(items), listed=len(items), list=items)
    snaps["latest"] = {**snaps["latest"], "short_id": items[0]["short_id"], "time": items[0]["time"]}
    return raw


def test_no_policy_is_not_checked_with_the_reason() -> None:
    raw = load_json(DATA, "real_retention_policy_kept.json")
    raw["restic"]["forget"] = {}
    finding = _judge(raw, "BKP-RESTIC-06")
    assert finding.status is Status.NOT_CHECKED
    assert finding.evidence["reason"] == "no forget policy in the inventory (linux_backup_restic_forget)"


def test_a_policy_restic_refuses_is_an_error_naming_the_key() -> None:
    raw = load_json(DATA, "real_retention_policy_kept.json")
    raw["restic"]["forget"] = {"keep_daily": 7, "keep_fortnightly": 2}
    finding = _judge(raw, "BKP-RESTIC-06")
    assert finding.status is Status.ERROR
    assert finding.evidence["reason"].startswith(
        "the forget policy in the inventory is not one restic accepts: "
        "keep_fortnightly: not a restic forget option"
    )


def test_oldest_snapshot_kept_since_restic_0_16() -> None:
    """Three snapshots in one day, keep_daily 2: restic < 0.16 keeps the newest only; 0.16 and later also
    keep the oldest while a count is left (restic enhancement #3624)."""
    times = ["2026-11-27T20:00:00Z", "2026-11-27T12:00:00Z", "2026-11-27T04:00:00Z"]
    for version, kept in (("0.14.0", 1), ("0.16.0", 2), ("", 2)):
        finding = _judge(_with_snapshots(times, {"keep_daily": 2}, version), "BKP-RESTIC-06")
        assert (finding.evidence["kept"], finding.evidence["oldest_kept_rule"]) == (kept, version != "0.14.0")


def test_buckets_follow_the_snapshot_own_offset_and_iso_weeks() -> None:
    # 23:30 at +02:00 is 21:30 UTC the same day; 00:30 at +02:00 the next morning is still 22:30 UTC of the
    # day before: restic puts them on two days (their own offsets), not one
    times = ["2026-11-28T00:30:00+02:00", "2026-11-27T23:30:00+02:00"]
    raw = _with_snapshots(times, {"keep_daily": 2})
    raw["collected_epoch"] = int(datetime(2026, 11, 28, 6, tzinfo=UTC).timestamp())
    finding = _judge(raw, "BKP-RESTIC-06")
    assert finding.evidence["kept"] == 2
    assert finding.evidence["groups"][0]["buckets"][0]["missing"] == []
    # 2026-12-28 is ISO week 53 of 2026, 2027-01-04 week 1 of 2027: one week apart, none missing
    weekly = _with_snapshots(["2027-01-04T01:00:00Z", "2026-12-28T01:00:00Z"], {"keep_weekly": 3})
    weekly["collected_epoch"] = int(datetime(2027, 1, 4, 6, tzinfo=UTC).timestamp())
    assert _judge(weekly, "BKP-RESTIC-06").evidence["groups"][0]["buckets"][0] == {
        "bucket": "weekly",
        "keep": 3,
        "expected": 2,
        "present": 2,
        "coverage_pct": 100.0,
        "missing": [],
        "missing_count": 0,
    }


def test_keep_within_daily_covers_the_days_inside_the_window() -> None:
    times = [f"2026-11-{d:02d}T01:00:00Z" for d in (27, 26, 24, 23, 22, 21, 20, 19, 18)]
    raw = _with_snapshots(times, {"keep_within_daily": "7d"})
    raw["collected_epoch"] = int(datetime(2026, 11, 27, 6, tzinfo=UTC).timestamp())
    finding = _judge(raw, "BKP-RESTIC-06")
    bucket = finding.evidence["groups"][0]["buckets"][0]
    assert bucket == {
        "bucket": "within daily 7d",
        "keep": "7d",
        "expected": 7,
        "present": 6,
        "coverage_pct": 85.7,
        "missing": ["2026-11-25"],
        "missing_count": 1,
    }
    assert finding.status is Status.WARN
    # the 11-20 01:00 snapshot is exactly 7 days before the newest: not after the cutoff, not kept
    assert finding.evidence["kept"] == 6


def test_a_truncated_list_says_at_least() -> None:
    times = [
        (datetime(2026, 11, 27, 1, tzinfo=UTC) - timedelta(days=n)).isoformat().replace("+00:00", "Z")
        for n in range(30)
    ]
    raw = _with_snapshots(times, {"keep_daily": 7})
    raw["restic"]["snapshots"]["count"] = 1500  # restic listed more than the collector keeps
    raw["restic"]["snapshots"]["parsed"] = 1500
    raw["collected_epoch"] = int(datetime(2026, 11, 27, 6, tzinfo=UTC).timestamp())
    finding = _judge(raw, "BKP-RESTIC-06")
    assert finding.status is Status.WARN
    assert (finding.evidence["snapshots"], finding.evidence["listed"], finding.evidence["would_remove"]) == (
        1500,
        30,
        23,
    )
    assert finding.evidence["reason"].startswith("at least 23 snapshots more than the policy keeps")


def test_go_add_date_normalisation() -> None:
    march31 = datetime(2026, 3, 31, 12, tzinfo=UTC)
    assert rp.parse_duration("1m").before(march31) == datetime(2026, 3, 3, 12, tzinfo=UTC)  # Feb 31 -> Mar 3
    assert rp.parse_duration("1y2m3d4h").before(march31) == datetime(2025, 1, 28, 8, tzinfo=UTC)
    offset = timezone(timedelta(hours=-5))
    assert rp.parse_time("2026-11-27T02:57:25.570059024-05:00") == datetime(
        2026, 11, 27, 2, 57, 25, 570059, tzinfo=offset
    )


# ---------------------------------------------------------------- against restic itself

POLICIES = [
    ["--keep-daily", "5"],
    ["--keep-last", "3", "--keep-weekly", "3", "--keep-monthly", "2"],
    ["--keep-hourly", "10", "--keep-daily", "4"],
    ["--keep-within", "9d"],
    ["--keep-within-daily", "12d", "--keep-last", "2"],
    ["--keep-daily", "3", "--keep-tag", "keep"],
    ["--keep-yearly", "3", "--keep-monthly", "unlimited"],
]


def _policy_dict(args: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        key = flag[2:].replace("-", "_")
        if key == "keep_tag":
            out[key] = [value]
        else:
            out[key] = int(value) if value.isdigit() else value
    return out


def _forget_dry_run(repo: str, env: dict[str, str], args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["restic", "-r", repo, "--no-cache", "forget", "--dry-run", "--json", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@needs_restic
def test_kept_snapshots_match_restic_forget_dry_run(tmp_path: Path) -> None:
    """Irregular history (several a day, gaps, two paths, a tag) in a real repository: the evaluator keeps
    exactly what `restic forget --dry-run --json` keeps, policy by policy, group by group."""
    data_a, data_b = tmp_path / "a", tmp_path / "b"
    for d in (data_a, data_b):
        d.mkdir()
        (d / "f").write_text("x\n")
    env = {**os.environ, "RESTIC_PASSWORD": "pw-123", "RESTIC_CACHE_DIR": str(tmp_path / "cache")}
    repo = str(tmp_path / "repo")
    subprocess.run(["restic", "-r", repo, "-q", "init"], env=env, check=True, capture_output=True)
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    hours = [0, 3, 5, 26, 27, 50, 98, 100, 170, 171, 300, 500, 800, 1200, 2000, 2300, 4000, 9000]
    for n, h in enumerate(hours):
        when = (base - timedelta(hours=h)).strftime("%Y-%m-%d %H:%M:%S")
        args = ["--host", "vm", "--time", when]
        if n % 5 == 0:
            args += ["--tag", "keep"]
        for data in (data_a,) if n % 3 else (data_a, data_b):
            cmd = ["restic", "-r", repo, "-q", "backup", *args, str(data)]
            subprocess.run(cmd, env={**env, "TZ": "UTC"}, check=True, capture_output=True)
    listed = json.loads(
        subprocess.run(
            ["restic", "-r", repo, "--no-cache", "snapshots", "--json"],
            env=env,
            check=True,
            capture_output=True,
        ).stdout
    )
    version = subprocess.run(
        ["restic", "version"], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    snaps = [
        rp.Snap(s["short_id"], rp.parse_time(s["time"]), tuple(s["paths"]), tuple(s.get("tags") or []))
        for s in listed
    ]
    snaps.sort(key=lambda s: s.time, reverse=True)
    now = datetime.now(UTC)
    for args in POLICIES:
        policy = rp.parse_policy(_policy_dict(args))
        done = _forget_dry_run(repo, env, args)
        if done.returncode != 0 and 'invalid argument "unlimited"' in done.stderr:
            done = _forget_dry_run(
                repo, env, ["-1" if a == "unlimited" else a for a in args]
            )  # restic < 0.16
        if done.returncode != 0 and "unknown flag" in done.stderr + done.stdout:
            continue  # an older restic without this option
        assert done.returncode == 0, done.stderr
        expected = {k["short_id"] for group in json.loads(done.stdout) for k in group["keep"]}
        groups: dict[Any, list[rp.Snap]] = {}
        for snap in snaps:
            groups.setdefault(rp.group_key(snap, policy.group_by), []).append(snap)
        got = set()
        for group in groups.values():
            keep = rp.apply_policy(group, policy, now, rp.oldest_rule_applies(version))
            got |= {s.short_id for s, k in zip(group, keep, strict=True) if k}
        assert got == expected, args


def test_the_recorded_noforget_repository_keeps_what_restic_kept() -> None:
    """40 daily snapshots, keep_daily 7 + keep_weekly 4: restic 0.14 forget --dry-run kept 9 (7 days and
    the newest of weeks 47 and 46; weeks 49 and 48 already kept by a day)."""
    raw = load_json(DATA, "real_retention_forget_not_running.json")
    kept = copy.deepcopy(raw)
    finding = _judge(kept, "BKP-RESTIC-06")
    assert (finding.evidence["kept"], finding.evidence["would_remove"]) == (9, 31)
