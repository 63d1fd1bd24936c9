"""The report's domain sections (patching, antivirus, backups, capacity, network) on a ledger of real
evidence.

The recorded outputs under ``tests/data/`` are judged by the evaluators the roles use, recorded with
:class:`runner.ledger.Ledger` at chosen times around November 2026 (Europe/Madrid), and every number each
section shows is asserted: ages carried to the report's ``as_of``, a disk filling 1 % a day, a resized volume,
a host never checked and one not reached, backup failures counted only inside the period, restore tests, a
password planted in a repository URL that must never be shown, and configuration changes counted from the
snapshots taken within the period (and covered by the report's checkpoint) only.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from runner import catalogue, evaluators
from runner.inventory import load_client
from runner.ledger import Ledger, RunRecord
from runner.network import snapshots
from runner.network.platforms import Platform
from runner.report import period as periods
from runner.report.context import ReportContext
from runner.report.sections import _common, antivirus, backups, capacity, network, patching
from runner.report.sections.capacity import Sample, forecast, series
from runner.results import CheckResult, Control, Finding, Status
from runner.state import Seen, StateRow

DATA = Path(__file__).resolve().parent / "data"
ZONE = "Europe/Madrid"
NOVEMBER = periods.month("2026-11", ZONE)
#: the report's "now": no checkpoint is made before the period's end, so as_of is the period's end
END = NOVEMBER.end  # 2026-11-30T23:00:00+00:00
T_OCT = datetime(2026, 10, 10, 21, 0, tzinfo=UTC)
T_NOV = datetime(2026, 11, 7, 21, 0, tzinfo=UTC)
T_NOV2 = datetime(2026, 11, 14, 21, 0, tzinfo=UTC)
T_DEC = datetime(2026, 12, 3, 21, 0, tzinfo=UTC)
#: a restic repository URL with a password in it: it must never reach the report
CANARY = "CanaryRepoPass0042"
REPOSITORY = f"rest:https://backup:{CANARY}@backup.example.com:8000/lnx02"
SHOWN_REPOSITORY = "rest:https://backup.example.com:8000/lnx02"
UNREACHABLE = "host unreachable: ssh: connect to host lnx04 port 22: Connection timed out"

SETTINGS = """\
maintenance:
  display_name: Acme Ltd
  timezone: Europe/Madrid
  contacts: [{name: Tech, email: tech@example.com}]
  roles:
    linux_patching: [linux]
    linux_antivirus: [linux]
    linux_backup: [linux]
    linux_health: [linux]
    windows_patching: [windows]
    windows_antivirus: [windows]
    windows_backup: [windows]
    windows_health: [windows]
    network_config: [network]
  waivers:
    - control: BKP-VEEAM-02
      hosts: win01
      owner: tech@example.com
      reason: the archive job runs monthly, the new DC job is being set up
      expires: 2027-06-30
"""
HOSTS = """\
all:
  children:
    linux:
      hosts:
        lnx01: {ansible_connection: local}
        lnx02: {ansible_connection: local}
        lnx03: {ansible_connection: local}
        lnx04: {ansible_connection: local}
    windows:
      hosts:
        win01: {}
        win02: {}
    network:
      hosts:
        sw01: {network_config_platform: cisco_ios}
        fw01: {network_config_platform: fortios}
"""


# --------------------------------------------------------------------------- recorded evidence


def raw(folder: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / folder / name).read_text())
    return data


def judge(kind: str, data: Any) -> list[Finding]:
    return evaluators.evaluate(kind, data)


def restic(name: str, repository: str = REPOSITORY) -> dict[str, Any]:
    """A recorded linux_backup output whose restic repository is ``repository``."""
    data = raw("linux_backup", name)
    data["restic"]["repository"] = repository
    return data


def disk(used_pct: int, size_gib: int) -> dict[str, Any]:
    """The recorded healthy VM with one filesystem, /, ``used_pct`` % used of ``size_gib`` GiB."""
    data = raw("linux_health", "healthy_vm.json")
    item = copy.deepcopy(data["filesystems"]["items"][0])
    gib = 1024**3
    item.update(mount="/", size_bytes=size_gib * gib, used_bytes=used_pct * size_gib * gib // 100)
    item["avail_bytes"] = size_gib * gib - item["used_bytes"]
    data["filesystems"]["items"] = [item]
    return data


def config(extra: list[str], hostname: str = "sw01") -> str:
    """The recorded IOS configuration (canary secrets in it) named ``hostname``; ``extra`` lines before
    ``end``."""
    text = (
        (DATA / "network" / "canary_ios.cfg")
        .read_text()
        .replace("hostname canary-rtr", f"hostname {hostname}")
    )
    assert text.endswith("end\n")
    return text[: -len("end\n")] + "".join(f"{line}\n" for line in extra) + "end\n"


def results(
    run_id: str, at: datetime, host: str, role: str, findings: list[Finding]
) -> list[tuple[str, CheckResult]]:
    return [
        (
            f"{host}:{f.control}",
            CheckResult.from_finding(f, host=host, client="acme", run_id=run_id, role=role, observed_at=at),
        )
        for f in findings
    ]


def unreachable(role: str, reason: str) -> list[Finding]:
    """What a run records for a host it could not reach: every control of the role not_checked."""
    out = []
    for spec in catalogue.load().for_role(role):
        control = Control(control=spec.id, title=spec.title, domain=spec.domain, severity=spec.severity)
        out.append(control.finding(Status.NOT_CHECKED, {"reason": reason}))
    return out


def run(ledger: Ledger, run_id: str, at: datetime, items: list[tuple[str, str, list[Finding]]]) -> None:
    ledger.start_run(
        RunRecord(
            run_id=run_id,
            client="acme",
            mode="audit",
            roles=sorted({role for _, role, _ in items}),
            trigger="schedule",
            started_at=at - timedelta(minutes=5),
        )
    )
    rows = [row for host, role, findings in items for row in results(run_id, at, host, role, findings)]
    ledger.record(rows)


def monthly(at: datetime, november: bool) -> list[tuple[str, str, list[Finding]]]:
    """One cycle of every role: October's baseline, or November's."""
    items: list[tuple[str, str, list[Finding]]] = []
    lnx01_patch = "real_bookworm_security_pending.json" if november else "real_bookworm_after_upgrade.json"
    items += [
        ("lnx01", "linux_patching", judge("linux_patching", raw("linux_patching", lnx01_patch))),
        (
            "lnx01",
            "linux_antivirus",
            judge("clamav", raw("linux_antivirus", "real_fresh_database_clean_scan.json")),
        ),
        (
            "lnx01",
            "linux_backup",
            judge(
                "linux_backup", restic("real_fresh_restore_live.json", "sftp:bk@nas.example.com:/srv/restic")
            ),
        ),
        (
            "lnx02",
            "linux_patching",
            judge("linux_patching", raw("linux_patching", "real_bookworm_after_upgrade.json")),
        ),
    ]
    lnx02_av = "real_stale_database_missing_log.json" if november else "real_fresh_database_clean_scan.json"
    items.append(("lnx02", "linux_antivirus", judge("clamav", raw("linux_antivirus", lnx02_av))))
    lnx02_backup = "real_old_snapshot_recorded_mismatch.json" if november else "real_wrong_password.json"
    items.append(("lnx02", "linux_backup", judge("linux_backup", restic(lnx02_backup))))
    if november:
        items += [
            ("lnx04", role, unreachable(role, UNREACHABLE))
            for role in ("linux_patching", "linux_health", "linux_backup")
        ]
    else:  # lnx04's October: patched, and a restic repository with a fresh snapshot
        items.append(
            (
                "lnx04",
                "linux_patching",
                judge("linux_patching", raw("linux_patching", "real_bookworm_after_upgrade.json")),
            )
        )
        items.append(("lnx04", "linux_backup", judge("linux_backup", restic("real_locked_repository.json"))))
    items += [
        (
            "win01",
            "windows_patching",
            judge("windows_updates", raw("windows/patching", "ps51_audit_pending_security.json")),
        ),
        (
            "win01",
            "windows_antivirus",
            judge("windows_antivirus", raw("windows/antivirus", "defender_healthy_ps51.json")),
        ),
        ("win01", "windows_backup", judge("windows_backup", raw("windows/backup", "veeam_mixed_ps51.json"))),
        ("win01", "windows_health", judge("windows_health", raw("windows/health", "volumes_low.json"))),
        (
            "win02",
            "windows_patching",
            judge("windows_updates", raw("windows/patching", "stale_reboot_pending.json")),
        ),
        (
            "win02",
            "windows_antivirus",
            judge("windows_antivirus", raw("windows/antivirus", "sophos_passive_defender_ps51.json")),
        ),
        ("win02", "windows_backup", judge("windows_backup", raw("windows/backup", "wsb_failed_ps7.json"))),
        ("sw01", "network_config", judge("network_config", {"platform": "cisco_ios", "config": config([])})),
    ]
    fortios = (DATA / "network" / "canaries" / "fortios.conf").read_text()
    if november:
        items.append(("fw01", "network_config", unreachable_fortios()))
    else:
        items.append(
            ("fw01", "network_config", judge("network_config", {"platform": "fortios", "config": fortios}))
        )
    return items


def unreachable_fortios() -> list[Finding]:
    out = []
    for spec in catalogue.load().for_role("network_config"):
        if spec.id.startswith("NET-FGT-"):
            control = Control(control=spec.id, title=spec.title, domain=spec.domain, severity=spec.severity)
            out.append(control.finding(Status.NOT_CHECKED, {"reason": "fetch failed: connection refused"}))
    return out


#: lnx01's / filling 1 % a day: 80 % on 20 November ... 89 % on the 29th (21:00 UTC)
DAILY = [(datetime(2026, 11, 20 + i, 21, 0, tzinfo=UTC), 80 + i) for i in range(10)]
#: lnx02's / at 88, 89, 90 % of 100 GiB, then grown to 120 GiB: 82, 83, 84, 85 % (1 % a day again)
RESIZED = [
    (datetime(2026, 11, 15, 21, 0, tzinfo=UTC), 88, 100),
    (datetime(2026, 11, 16, 21, 0, tzinfo=UTC), 89, 100),
    (datetime(2026, 11, 17, 21, 0, tzinfo=UTC), 90, 100),
    (datetime(2026, 11, 18, 21, 0, tzinfo=UTC), 82, 120),
    (datetime(2026, 11, 19, 21, 0, tzinfo=UTC), 83, 120),
    (datetime(2026, 11, 20, 21, 0, tzinfo=UTC), 84, 120),
    (datetime(2026, 11, 21, 21, 0, tzinfo=UTC), 85, 120),
]


def store_snapshot(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch, at: datetime, text: str, run_id: str
) -> snapshots.StoreOutcome:
    monkeypatch.setattr(snapshots, "_now", lambda: at.isoformat(timespec="microseconds"))
    return snapshots.store(
        ledger,
        client="acme",
        device="sw01",
        platform=Platform.CISCO_IOS,
        raw=text,
        run_id=run_id,
        use_env_key=False,
    )


def write_inventory(inventories: Path, hosts: str = HOSTS) -> Path:
    folder = inventories / "acme"
    (folder / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
    (folder / "hosts.yml").write_text(hosts)
    (folder / "group_vars" / "all" / "maintenance.yml").write_text(SETTINGS)
    return inventories


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The ledger (its URL) and the inventories, made once for the module's tests (which only read them)."""
    work = tmp_path_factory.mktemp("sections")
    inventories = write_inventory(work / "inventories")
    url = f"sqlite:///{work / 'ledger.db'}"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("MAINT_VAR", str(work / "var"))
        monkeypatch.setenv("MAINT_INVENTORIES", str(inventories))
        monkeypatch.delenv("MAINT_LEDGER_KEY_FILE", raising=False)
        with Ledger(url) as ledger:
            fill(ledger, monkeypatch)
    yield url, inventories


@pytest.fixture
def ctx(built: tuple[str, Path]) -> Iterator[ReportContext]:
    url, inventories = built
    with Ledger(url) as ledger:
        yield ReportContext(ledger, load_client("acme", inventories), NOVEMBER)


def fill(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    """October's baseline, November's cycle and samples, a checkpoint, then what came after it."""

    run(ledger, "oct", T_OCT, monthly(T_OCT, november=False))
    store_snapshot(ledger, monkeypatch, T_OCT, config([]), "oct")  # the baseline, before the period
    run(ledger, "nov", T_NOV, monthly(T_NOV, november=True))
    # a changed hostname: one line removed, one added
    store_snapshot(ledger, monkeypatch, T_NOV, config([], "sw01-core"), "nov")
    run(
        ledger,
        "nov-b",
        T_NOV2,
        [("lnx02", "linux_backup", judge("linux_backup", restic("real_fresh_restore_live.json")))],
    )
    for n, (at, used) in enumerate(DAILY):
        run(ledger, f"disk-{n}", at, [("lnx01", "linux_health", judge("linux_health", disk(used, 100)))])
    for n, (at, used, size) in enumerate(RESIZED):
        run(ledger, f"resize-{n}", at, [("lnx02", "linux_health", judge("linux_health", disk(used, size)))])
    two_more = ["ntp server 192.0.2.10", "logging host 192.0.2.20"]
    changed = config(two_more, "sw01-core")
    store_snapshot(ledger, monkeypatch, datetime(2026, 11, 20, 10, 0, tzinfo=UTC), changed, "nov-c")
    # the same configuration fetched again: no new snapshot, no change
    again = store_snapshot(ledger, monkeypatch, datetime(2026, 11, 25, 10, 0, tzinfo=UTC), changed, "nov-d")
    assert not again.stored
    ledger.checkpoint("acme")  # what the November report is built from
    # recorded after the checkpoint: a snapshot taken inside the period, then December's run and snapshot
    store_snapshot(
        ledger, monkeypatch, datetime(2026, 11, 28, 10, 0, tzinfo=UTC), config(["banner x"]), "late"
    )
    dec = [
        ("lnx02", "linux_backup", judge("linux_backup", restic("real_wrong_password.json"))),
        ("lnx01", "linux_health", judge("linux_health", disk(99, 100))),
    ]
    run(ledger, "dec", T_DEC, dec)
    store_snapshot(ledger, monkeypatch, T_DEC, config(["snmp-server location dc1"]), "dec")
    # no checkpoint after these: the November report is built from the one above (the latest) and leaves
    # out what came after it (a checkpoint covering the late snapshot would bring it in: it is November's)


def by_host(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["host"]: item for item in items}


def seqs(ctx: ReportContext, host: str, prefix: str, before: datetime = END) -> list[int]:
    """The seqs of the host's latest rows of the controls starting with ``prefix`` (recomputed from rows)."""
    latest: dict[str, int] = {}
    for row in ctx.rows:
        if row.host == host and row.control.startswith(prefix) and row.observed_at < before:
            latest[row.control] = row.seq
    return sorted(latest.values())


# --------------------------------------------------------------------------- the context


def test_the_report_is_built_from_the_checkpoint_before_december(ctx: ReportContext) -> None:
    assert ctx.checkpoint is not None and ctx.rows_after > 0
    assert ctx.as_of == END
    assert all(row.observed_at < END and row.seq <= ctx.size for row in ctx.rows)


# --------------------------------------------------------------------------- patching


def test_patching(ctx: ReportContext) -> None:
    section = patching.build(ctx)
    hosts = by_host(section["hosts"])
    assert list(hosts) == ["lnx01", "lnx02", "lnx03", "lnx04", "win01", "win02"]
    # 12 security updates pending (bookworm), no upgrade in the dpkg log, no reboot flag
    assert hosts["lnx01"] | {"seqs": None, "last_checked": None} == {
        "host": "lnx01",
        "platform": "linux",
        "compliant": False,
        "pending_security": 12,
        "pending_total": 12,
        "days_since_update": None,
        "reboot_pending": False,
        "status": "fail",
        "reason": None,
        "last_checked": None,
        "seqs": None,
    }
    assert hosts["lnx01"]["seqs"] == seqs(ctx, "lnx01", "PATCH-")
    assert hosts["lnx01"]["last_checked"] == T_NOV.isoformat()
    # upgraded at the check (0.0 days), 23 days and 2 hours before as_of
    lnx02 = hosts["lnx02"]
    assert (lnx02["compliant"], lnx02["pending_security"], lnx02["pending_total"]) == (True, 0, 0)
    assert lnx02["days_since_update"] == round(0.0 + (END - T_NOV).total_seconds() / 86400, 1) == 23.1
    # PATCH-LNX-05 is not_checked (needrestart is not installed): it does not count, and is not the status
    assert lnx02["reboot_pending"] is False and lnx02["status"] == "pass"
    # never checked, and not reached in November: no number, never October's
    for host, reason in (("lnx03", "never checked"), ("lnx04", UNREACHABLE)):
        entry = hosts[host]
        assert entry["compliant"] is None and entry["reason"] == reason, entry
        assert entry["pending_security"] is entry["pending_total"] is entry["days_since_update"] is None
        assert entry["reboot_pending"] is None and entry["status"] == "not_checked"
    assert hosts["lnx03"]["seqs"] == []
    # Windows: 3 pending of which 2 security; installed 9 days before the check
    win01 = hosts["win01"]
    assert (win01["compliant"], win01["pending_security"], win01["pending_total"]) == (False, 2, 3)
    assert win01["days_since_update"] == round(9 + (END - T_NOV).total_seconds() / 86400, 1) == 32.1
    assert win01["reboot_pending"] is False and win01["platform"] == "windows"
    win02 = hosts["win02"]
    assert (win02["pending_security"], win02["reboot_pending"], win02["days_since_update"]) == (2, True, 98.1)
    assert {k: section[k] for k in section if k != "hosts"} == {
        "compliance_pct": 25.0,  # lnx02 of lnx01, lnx02, win01, win02
        "hosts_judged": 4,
        "hosts_compliant": 1,
        "pending_security_total": 16,
        "reboots_pending": 1,
    }


# --------------------------------------------------------------------------- antivirus


def test_antivirus(ctx: ReportContext) -> None:
    section = antivirus.build(ctx)
    hosts = by_host(section["hosts"])
    assert list(hosts) == ["lnx01", "lnx02", "lnx03", "lnx04", "win01", "win02"]
    days = (END - T_NOV).total_seconds() / 86400
    lnx01 = hosts["lnx01"]
    assert (lnx01["product"], lnx01["product_version"], lnx01["products"]) == ("ClamAV", "1.4.3", ["ClamAV"])
    # AV-LNX-03/04 not_checked (no systemd, clamd not expected) do not count against it
    assert lnx01["protected"] is True and lnx01["realtime"] is None and lnx01["status"] == "pass"
    assert lnx01["signature_age_days"] == round(0.2 + days, 1)
    assert lnx01["last_scan"] == (T_NOV - timedelta(days=0.0)).isoformat()  # age 0.0 at the check
    lnx02 = hosts["lnx02"]
    assert lnx02["protected"] is False and lnx02["signature_age_days"] == round(2415.6 + days, 1)
    assert lnx02["last_scan"] is None and lnx02["status"] == "fail"  # no scan log
    assert hosts["lnx03"]["protected"] is None and hosts["lnx03"]["product"] is None  # never checked
    assert "lnx04" in hosts and hosts["lnx04"]["protected"] is None
    win01 = hosts["win01"]
    assert (win01["product"], win01["protected"], win01["realtime"]) == (
        "Microsoft Defender Antivirus",
        True,
        True,
    )
    assert win01["signature_age_days"] == round(0.2 + days, 1)
    assert win01["last_scan"] == "2025-11-25T12:30:00+00:00"
    win02 = hosts["win02"]
    assert (win02["product"], win02["product_version"]) == ("Sophos Endpoint", "2024.3.2.2")
    assert win02["products"] == ["Sophos Endpoint"]  # Defender passive
    assert win02["signature_age_days"] == round(2.0 / 24 + days, 1) and win02["last_scan"] is None
    assert win02["seqs"] == seqs(ctx, "win02", "AV-")
    assert {k: section[k] for k in section if k != "hosts"} == {
        "coverage_pct": 75.0,  # lnx01, win01, win02 of the four judged
        "hosts_judged": 4,
        "hosts_protected": 3,
        "products": {"ClamAV": 2, "Microsoft Defender Antivirus": 1, "Sophos Endpoint": 1},
    }


def test_a_stopped_third_party_antivirus_is_named_and_not_protecting() -> None:
    """Sophos installed but stopped (AV-WIN-01 fails with no active product): the product is still named."""
    cat = catalogue.load()
    rows = [
        StateRow("ws01", f.control, cat.controls[f.control], Seen.of(r))
        for f in judge("windows_antivirus", raw("windows/antivirus", "sophos_stopped_workstation.json"))
        for r in [CheckResult.from_finding(f, host="ws01", client="acme", run_id="r", observed_at=T_NOV)]
    ]
    seen = antivirus._windows(rows)
    assert (seen["product"], seen["products"], seen["realtime"]) == (
        "Sophos Endpoint",
        ["Sophos Endpoint"],
        False,
    )
    assert _common.all_passing(rows) is False


# --------------------------------------------------------------------------- backups


def jobs_of(section: dict[str, Any]) -> dict[tuple[str, str | None], dict[str, Any]]:
    return {(job["host"], job["job"]): job for job in section["jobs"]}


def test_backups(ctx: ReportContext) -> None:
    section = backups.build(ctx)
    text = json.dumps(section)
    assert CANARY not in text and "backup:" not in text  # the repository's user and password never shown
    jobs = jobs_of(section)
    assert list(jobs) == [  # sorted by host, kind, job
        ("lnx01", "db dumps"),
        ("lnx01", "nas"),
        ("lnx01", "restic"),
        ("lnx02", "db dumps"),  # recorded on 14 November
        ("lnx02", "nas"),
        ("lnx02", "restic"),
        ("lnx03", None),
        ("lnx04", None),
        ("win01", "Archive - Monthly"),
        ("win01", "Exchange - Nightly"),
        ("win01", "Fileserver - Hourly"),
        ("win01", "New DC backup"),
        ("win01", "SQL - Nightly"),
        ("win02", "Windows Server Backup"),
    ]
    # lnx02: October's wrong password is before the period, December's after it; in November one check
    # failed (a 170-hour-old snapshot) and one passed
    lnx02 = jobs[("lnx02", "restic")]
    assert lnx02["location"] == SHOWN_REPOSITORY
    assert (lnx02["failures_in_period"], lnx02["checks_in_period"], lnx02["success_pct"]) == (1, 2, 50.0)
    assert lnx02["restore_tests"] == [
        {
            "at": T_NOV.isoformat(),
            "result": "fail",
            "reason": "restored file differs from the recorded checksum",
            "seq": one_seq(ctx, "lnx02", "BKP-RESTIC-04", T_NOV),
        },
        {
            "at": T_NOV2.isoformat(),
            "result": "pass",
            "reason": None,
            "seq": one_seq(ctx, "lnx02", "BKP-RESTIC-04", T_NOV2),
        },
    ]
    # the newest snapshot known: 2026-11-27T02:57:25 (the recorded output's own time)
    assert lnx02["last_success"] == "2026-11-27T02:57:25.570059+00:00"
    success = datetime(2026, 11, 27, 2, 57, 25, 570059, tzinfo=UTC)
    assert lnx02["age_hours"] == round((END - success).total_seconds() / 3600, 1)
    assert lnx02["status"] == "pass" and lnx02["kind"] == "restic"
    assert lnx02["in_latest_check"] is True
    # lnx01's restic over sftp: the user is dropped from the location
    assert jobs[("lnx01", "restic")]["location"] == "sftp:nas.example.com:/srv/restic"
    # lnx01's file sets: "db dumps" ok (newest dump 2 hours old at the check), "nas" not mounted
    dumps, nas = jobs[("lnx01", "db dumps")], jobs[("lnx01", "nas")]
    assert (dumps["kind"], dumps["location"], dumps["status"]) == ("files", "/tmp/4b-r/dumps", "pass")
    assert dumps["last_success"] == (T_NOV - timedelta(hours=2)).isoformat()
    assert (dumps["checks_in_period"], dumps["failures_in_period"], dumps["success_pct"]) == (1, 0, 100.0)
    assert (nas["status"], nas["failures_in_period"], nas["last_success"], nas["success_pct"]) == (
        "fail",
        1,
        None,
        0.0,
    )
    # Veeam: the failed job fails, the warning warns, the stale ones are waived (BKP-VEEAM-02 waived on win01)
    status = {name: jobs[("win01", name)]["status"] for host, name in jobs if host == "win01"}
    assert status == {
        "Archive - Monthly": "waived",
        "Exchange - Nightly": "warn",
        "Fileserver - Hourly": "pass",
        "New DC backup": "waived",
        "SQL - Nightly": "fail",
    }
    sql = jobs[("win01", "SQL - Nightly")]
    assert (sql["failures_in_period"], sql["checks_in_period"], sql["last_success"]) == (1, 1, None)
    archive = jobs[("win01", "Archive - Monthly")]
    assert archive["last_success"] == "2025-11-23T09:00:00+00:00" and archive["location"] is None
    assert archive["failures_in_period"] == 1  # stale: a failure, even though waived
    # Windows Server Backup: failed, the last success and the target from the evidence
    wsb = jobs[("win02", "Windows Server Backup")]
    assert (wsb["last_success"], wsb["location"], wsb["status"]) == (
        "2025-11-21T21:00:00+00:00",
        "\\\\NAS01\\wsb$",
        "fail",
    )
    assert (wsb["failures_in_period"], wsb["checks_in_period"]) == (1, 1)
    # never checked / not reached: no job known, nothing guessed
    for host in ("lnx03", "lnx04"):
        job = jobs[(host, None)]
        assert job["status"] == "not_checked" and job["last_success"] is None and job["checks_in_period"] == 0
    assert jobs[("lnx03", None)]["reason"] == "never checked"
    # lnx04's October repository is not shown as if it were checked in November: not reached
    assert jobs[("lnx04", None)]["reason"] == UNREACHABLE and jobs[("lnx04", None)]["location"] is None
    assert {k: section[k] for k in section if k != "jobs"} == {
        "jobs_total": 12,
        "jobs_ok": 7,  # both db dumps, both restic, Fileserver, and the two waived
        "failures_total": 1 + 2 + 1 + 1 + 1 + 1,  # lnx02 restic, both nas, SQL, Archive, New DC, WSB
        "restore_tests_total": 3,  # lnx01 (pass) and lnx02's two
        "restore_tests_failed": 1,
    }


def one_seq(ctx: ReportContext, host: str, control: str, at: datetime) -> int:
    found = [
        row.seq for row in ctx.rows if row.host == host and row.control == control and row.observed_at == at
    ]
    assert len(found) == 1
    return found[0]


# --------------------------------------------------------------------------- capacity


def test_capacity(ctx: ReportContext) -> None:
    section = capacity.build(ctx)
    hosts = by_host(section["hosts"])
    assert list(hosts) == ["lnx01", "lnx02", "lnx03", "lnx04", "win01", "win02"]
    # lnx01: 80 % on 20 November 21:00 UTC, +1 % a day: 100 % on 9 December 21:00, i.e. 19 days after the
    # first sample; as_of is 10 days and 2 hours after it
    lnx01 = hosts["lnx01"]
    first = DAILY[0][0]
    expected = 20.0 - (END - first).total_seconds() / 86400
    assert lnx01["days_to_full"] == round(expected, 1) == 9.9
    assert lnx01["growth_pct_per_day"] == 1.0
    assert (lnx01["volume"], lnx01["used_pct"], lnx01["fail_pct"]) == ("/", 89.0, 90.0)
    assert lnx01["size_bytes"] == 100 * 1024**3 and lnx01["free_bytes"] == 100 * 1024**3 - 89 * 1024**3
    assert lnx01["at_risk"] is True and lnx01["resized_at"] is None
    assert lnx01["points"] == [[at.isoformat(), float(used)] for at, used in DAILY]
    assert lnx01["seqs"] == sorted(lnx01["seqs"]) and len(lnx01["seqs"]) == 10
    assert lnx01["seq"] == lnx01["seqs"][-1]  # December's 99 % is after the period
    # lnx02: resized to 120 GiB on 18 November: the series restarts there (82..85 %, +1 % a day), four samples
    # over three days: fewer than the 7 days HEALTH-LNX-09 needs, so no forecast (and 85 % is below its 90)
    lnx02 = hosts["lnx02"]
    assert lnx02["resized_at"] == RESIZED[3][0].isoformat()
    assert lnx02["points"] == [[at.isoformat(), float(used)] for at, used, _ in RESIZED[3:]]
    assert lnx02["days_to_full"] is None and lnx02["growth_pct_per_day"] is None
    assert lnx02["used_pct"] == 85.0 and lnx02["at_risk"] is False
    # win01: C: 7 % free (93 % used) at or above its fail threshold (10 % free), only two samples: no forecast
    win01 = hosts["win01"]
    assert (win01["volume"], win01["used_pct"], win01["fail_pct"]) == ("C:", 93.0, 90.0)
    assert win01["days_to_full"] is None and win01["growth_pct_per_day"] is None and win01["at_risk"] is True
    assert win01["size_bytes"] == 80 * 1024**3 and len(win01["points"]) == 2
    # never checked, not reached (its only linux_health rows are November's not_checked), no health role run
    for host in ("lnx03", "lnx04", "win02"):
        entry = hosts[host]
        assert entry["volume"] is entry["used_pct"] is entry["days_to_full"] is None and not entry["at_risk"]
        assert entry["points"] == [] and entry["status"] == "not_checked"
    assert hosts["lnx04"]["reason"] == UNREACHABLE
    assert section["at_risk"] == ["lnx01", "win01"]
    assert (section["horizon_days"], section["window_days"]) == (90, 90)


def sample(day: float, used: float, size: int | None = None, seq: int = 0) -> Sample:
    return Sample(datetime(2026, 11, 1, 12, tzinfo=UTC) + timedelta(days=day), used, size, None, seq)


def test_forecast_is_the_theil_sen_fit_of_the_trend_control() -> None:
    """Three samples over seven days at least, as HEALTH-LNX-09 (the same fit, the same defaults)."""
    as_of = datetime(2026, 11, 10, 12, tzinfo=UTC)  # day 9
    assert forecast([sample(0, 50), sample(8, 51)], as_of, ZONE) == (None, None)  # two samples
    assert forecast([sample(0, 50), sample(1, 51), sample(2, 52)], as_of, ZONE) == (None, None)  # 2 days
    assert forecast([sample(0, 50), sample(4, 50), sample(8, 50)], as_of, ZONE) == (None, 0.0)  # flat
    assert forecast([sample(0, 60), sample(4, 55), sample(8, 50)], as_of, ZONE) == (None, -1.25)
    # 2 % a day from 50 % on day 0: full on day 25, as_of is day 9
    days, growth = forecast([sample(0, 50), sample(3, 56), sample(6, 62), sample(9, 68)], as_of, ZONE)
    assert (growth, days) == (2.0, 16.0)
    # already past 100 % on the line: 0 days
    assert forecast([sample(0, 97), sample(4, 99), sample(8, 101)], as_of, ZONE) == (0.0, 0.5)
    # an outlier (95 on day 4) moves neither the slope nor the intercept: 1 % a day from 70, full on day 30;
    # as_of day 10 is the last sample, so it is HEALTH-LNX-09's own figure for the same series (20 days)
    noisy = [sample(d, u) for d, u in ((0, 70), (2, 72), (4, 95), (6, 76), (8, 78), (10, 80))]
    assert forecast(noisy, datetime(2026, 11, 11, 12, tzinfo=UTC), ZONE) == (20.0, 1.0)


def test_series_restarts_at_a_resize_and_keeps_samples_of_unknown_size() -> None:
    samples = [sample(0, 90, 100), sample(1, 91), sample(2, 60, 200, 3), sample(3, 61), sample(4, 62, 200)]
    kept, resized = series(samples)
    assert [s.used_pct for s in kept] == [60, 61, 62] and resized == samples[2].at
    assert series(samples[:2]) == (samples[:2], None)
    # a cleanup (more than 5 points below every earlier sample, and the next one still low) restarts it too;
    # a single low reading the next one contradicts is an outlier, left to the fit
    cleaned = [sample(0, 80), sample(1, 85), sample(2, 50), sample(3, 52)]
    assert series(cleaned) == (cleaned[2:], cleaned[2].at)
    outlier = [sample(0, 70), sample(1, 72), sample(2, 40), sample(3, 76)]
    assert series(outlier) == (outlier, None)


# --------------------------------------------------------------------------- network


def test_network(ctx: ReportContext) -> None:
    section = network.build(ctx)
    devices = by_host(section["devices"])
    assert list(devices) == ["fw01", "sw01"]
    sw01 = devices["sw01"]
    # two changes in November: the hostname (1 line out, 1 in) and two lines added; October's baseline is
    # before the period, the snapshot of 28 November is after the checkpoint, December's after the period
    changes = [ch for ch in section["changes"] if ch["host"] == "sw01"]
    assert [(ch["at"], ch["added"], ch["removed"], ch["run_id"], ch["kind"]) for ch in changes] == [
        (T_NOV.isoformat(), 1, 1, "nov", "changed"),
        (datetime(2026, 11, 20, 10, 0, tzinfo=UTC).isoformat(), 2, 0, "nov-c", "changed"),
    ]
    assert all(ch["seq"] <= ctx.size for ch in changes)
    assert sw01["changes_in_period"] == 2 and sw01["snapshots"] == 3
    assert sw01["last_change"] == datetime(2026, 11, 20, 10, 0, tzinfo=UTC).isoformat()
    assert sw01["reachable"] is True and sw01["reason"] is None and sw01["platform"] == "cisco_ios"
    failing = sorted(
        row.control
        for row in ctx.state().rows
        if row.host == "sw01" and row.control.startswith("NET-") and row.effective in ("fail", "warn")
    )
    assert failing and sw01["finding_controls"] == failing and sw01["findings"] == len(failing)
    assert sw01["seq"] == max(seqs(ctx, "sw01", "NET-")) and sw01["seqs"] == seqs(ctx, "sw01", "NET-")
    text = json.dumps(section)
    assert "Canary" not in text  # no secret of the configuration
    # fw01: reviewed in October, not reached in November: its October findings are not counted
    fw01 = devices["fw01"]
    assert fw01["reachable"] is False and fw01["reason"] == "fetch failed: connection refused"
    assert (fw01["findings"], fw01["changes_in_period"], fw01["last_change"]) == (0, 0, None)
    assert fw01["status"] == "not_checked"
    assert section["unreachable"] == ["fw01"]
    assert section["findings_total"] == len(failing)
    assert (section["changes_total"], section["devices_changed"]) == (2, 1)


def test_a_device_never_checked_is_neither_reached_nor_unreachable(
    ctx: ReportContext, tmp_path: Path
) -> None:
    hosts = HOSTS.replace(
        "fw01: {network_config_platform: fortios}",
        "fw01: {network_config_platform: fortios}\n        sw09: {network_config_platform: aruba_aoscx}",
    )
    inventories = write_inventory(tmp_path / "inventories", hosts)
    fresh = ReportContext(ctx.ledger, load_client("acme", inventories), NOVEMBER)
    sw09 = by_host(network.build(fresh)["devices"])["sw09"]
    assert (sw09["reachable"], sw09["reason"], sw09["findings"], sw09["seq"]) == (
        None,
        "never checked",
        0,
        None,
    )


# --------------------------------------------------------------------------- every section


def test_every_section_is_json_and_deterministic(ctx: ReportContext) -> None:
    for module in (patching, antivirus, backups, capacity, network):
        first = module.build(ctx)
        assert json.dumps(first, sort_keys=True) == json.dumps(module.build(ctx), sort_keys=True)
        assert json.loads(json.dumps(first)) == first


def _named_seqs(value: Any) -> list[int]:
    """Every ``seq`` / ``seqs`` value anywhere in a section."""
    found: list[int] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "seq" and item is not None:
                found.append(item)
            elif key == "seqs":
                found.extend(item)
            else:
                found.extend(_named_seqs(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_named_seqs(item))
    return found


def test_every_seq_is_a_row_of_the_report(ctx: ReportContext) -> None:
    """What ``maint ledger prove CLIENT --seq N`` is asked about is a check result the report was built from
    (a configuration change: a snapshot row covered by the report's checkpoint)."""
    rows = {row.seq: row for row in ctx.rows}
    for module, prefixes in (
        (patching, ("PATCH-",)),
        (antivirus, ("AV-",)),
        (backups, ("BKP-",)),
        (capacity, ("HEALTH-",)),
        (network, ("NET-",)),
    ):
        section = module.build(ctx)
        named = _named_seqs({k: v for k, v in section.items() if k != "changes"})
        assert named, module.__name__
        for seq in named:
            assert seq in rows and rows[seq].control.startswith(prefixes), (module.__name__, seq)
    for change in network.build(ctx)["changes"]:
        assert change["seq"] <= ctx.size and change["seq"] not in rows


def test_safe_location_removes_credentials() -> None:
    cases = {
        "rest:https://user:pa55@host:8000/repo": "rest:https://host:8000/repo",
        "s3:https://AKIA:secret@s3.example.com/bucket": "s3:https://s3.example.com/bucket",
        "sftp:backup@nas:/srv/restic": "sftp:nas:/srv/restic",
        "azure:container:/path?sig=abc&se=2026": "azure:container:/path",
        "/srv/restic-repo": "/srv/restic-repo",
        "\\\\NAS01\\wsb$": "\\\\NAS01\\wsb$",
        "smb://host/share;password=hunter2": "smb://host/share;password=",
    }
    for given, shown in cases.items():
        assert _common.safe_location(given) == shown, given
    assert _common.safe_location("") is None and _common.safe_location(None) is None
