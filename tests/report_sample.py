"""A hand-made report in the JSON form ``runner.report.build.build_report`` returns
(schema ``maint.report/1``), with every section filled: for tests of the renderers and templates that
must not need a ledger.

``sample_report(lang)`` is a fresh dict each call. Its checkpoint is a real signed note (a fixed Ed25519
key, so the same bytes every time) that ``runner.ledger.checkpoints.parse`` reads back.
"""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from runner.ledger import checkpoints
from runner.ledger.note import Signer, key_id_of
from runner.report.branding import Msp

ROOT = bytes(range(32))
SIZE = 1873
KEY_NAME = "demo-msp-ledger"


def _signer() -> Signer:
    private = Ed25519PrivateKey.from_private_bytes(bytes([7]) * 32)
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return Signer(KEY_NAME, key_id_of(KEY_NAME, public), private)


def _checkpoint() -> dict[str, Any]:
    signer = _signer()
    when = datetime(2026, 11, 29, 21, 40, 12, tzinfo=UTC)
    note = checkpoints.make_note("3f2a9c1e", "demo", SIZE, ROOT, when, signer)
    verifier = signer.verifier
    return {
        "origin": "maint-ledger/3f2a9c1e/demo",
        "size": SIZE,
        "root_hash": base64.b64encode(ROOT).decode(),
        "made_at": "2026-11-29T21:40:12Z",
        "signed": True,
        "key": {"name": KEY_NAME, "fingerprint": verifier.fingerprint, "public_key": verifier.encode()},
        "note": note,
        "signature": "verified",
    }


def _trend() -> list[dict[str, Any]]:
    scores = [None, None, 61, 64, 63, 70, 72, 71, 75, 78, 74, 81]
    labels = [f"2025-{m:02d}" for m in (12,)] + [f"2026-{m:02d}" for m in range(1, 12)]
    return [{"period": p, "score": s} for p, s in zip(labels, scores, strict=True)]


def _disk_points(start: float, step: float) -> list[list[Any]]:
    return [
        [f"2026-11-{day:02d}T21:00:05+00:00", round(start + step * i, 1)]
        for i, day in enumerate(range(1, 30, 4))
    ]


_REPORT: dict[str, Any] = {
    "schema": "maint.report/1",
    "lang": "en",
    "client": {
        "name": "demo",
        "display_name": "Demo & Sons <Ltd>",
        "timezone": "Europe/Madrid",
        "sla_tier": "standard",
    },
    "msp": {},
    "period": {
        "label": "2026-11",
        "first_day": "2026-11-01",
        "last_day": "2026-11-30",
        "start": "2026-10-31T23:00:00+00:00",
        "end": "2026-11-30T23:00:00+00:00",
        "timezone": "Europe/Madrid",
        "previous": "2026-10",
    },
    "as_of": "2026-11-29T21:40:12+00:00",
    "ledger": {
        "checkpoint": None,
        "rows_in_report": SIZE,
        "rows_after": 12,
        "fingerprint": None,
        "public_key": None,
        "key_name": KEY_NAME,
        "verify": "maint ledger verify demo --checkpoint FILE --public-key KEY",
    },
    "summary": {
        "score": 81,
        "previous_score": 74,
        "trend": 7,
        "weights": {"critical": 10, "high": 5, "medium": 2, "low": 1, "info": 0},
        "earned": 243,
        "possible": 300,
        "counts": {"pass": 52, "fail": 4, "warn": 3, "waived": 2, "not_checked": 1, "error": 1},
        "findings_by_severity": {"critical": 1, "high": 2, "medium": 2, "low": 1, "info": 1},
        "decisions": ["fs01:BKP-LNX-01", "web01:PATCH-LNX-01", "sw-core:NET-IOS-SSH-01"],
        "hosts": 5,
        "trend_points": _trend(),
    },
    "coverage": {
        "hosts_in_scope": 5,
        "hosts_checked": 4,
        "hosts_not_checked": [
            {"host": "laptop07", "reason": "unreachable: ssh: connect to host port 22: timed out"}
        ],
        "by_domain": [
            {"domain": "antivirus", "hosts": 3, "checked": 3, "not_checked": 0, "controls": 9},
            {"domain": "backup", "hosts": 2, "checked": 2, "not_checked": 0, "controls": 4},
            {"domain": "health", "hosts": 4, "checked": 3, "not_checked": 1, "controls": 28},
            {"domain": "network", "hosts": 1, "checked": 1, "not_checked": 0, "controls": 12},
            {"domain": "patching", "hosts": 4, "checked": 3, "not_checked": 1, "controls": 8},
        ],
    },
    "patching": {
        "hosts": [
            {
                "host": "fs01",
                "compliant": True,
                "pending_security": 0,
                "pending_total": 2,
                "days_since_update": 3.5,
                "reboot_pending": False,
                "status": "pass",
                "seqs": [1801, 1802],
            },
            {
                "host": "laptop07",
                "compliant": None,
                "pending_security": None,
                "pending_total": None,
                "days_since_update": None,
                "reboot_pending": None,
                "status": "not_checked",
                "seqs": [1790],
            },
            {
                "host": "web01",
                "compliant": False,
                "pending_security": 7,
                "pending_total": 31,
                "days_since_update": 46.2,
                "reboot_pending": True,
                "status": "fail",
                "seqs": [1810, 1811, 1812],
            },
        ],
        "compliance_pct": 50.0,
        "hosts_judged": 2,
        "hosts_compliant": 1,
        "pending_security_total": 7,
        "reboots_pending": 1,
    },
    "antivirus": {
        "hosts": [
            {
                "host": "fs01",
                "product": "ClamAV 1.0.7",
                "protected": True,
                "signature_age_days": 0.4,
                "realtime": True,
                "last_scan": "2026-11-28T02:00:00+00:00",
                "status": "pass",
                "seqs": [1820],
            },
            {
                "host": "pc-recepcion",
                "product": "Microsoft Defender Antivirus",
                "protected": False,
                "signature_age_days": 12.8,
                "realtime": False,
                "last_scan": None,
                "status": "fail",
                "seqs": [1830, 1831],
            },
            {
                "host": "web01",
                "product": "ClamAV 1.0.7",
                "protected": True,
                "signature_age_days": 1.1,
                "realtime": None,
                "last_scan": "2026-11-27T02:00:00+00:00",
                "status": "warn",
                "seqs": [1840],
            },
        ],
        "coverage_pct": 66.7,
        "hosts_judged": 3,
        "hosts_protected": 2,
        "products": {"ClamAV 1.0.7": 2, "Microsoft Defender Antivirus": 1},
    },
    "backups": {
        "jobs": [
            {
                "host": "fs01",
                "job": "restic-home",
                "last_success": "2026-11-20T01:12:00+00:00",
                "age_hours": 212.5,
                "failures_in_period": 9,
                "checks_in_period": 29,
                "success_pct": 69.0,
                "restore_tests": [{"at": "2026-11-05T10:00:00+00:00", "result": "pass", "seq": 1701}],
                "location": "sftp:backup.lan:/srv/restic/fs01",
                "restore_points": None,
                "repository_free_pct": None,
                "copies": [],
                "verification": [],
                "status": "fail",
                "seqs": [1750, 1751, 1752, 1760],
            },
            {
                "host": "web01",
                "job": "nightly | db",
                "last_success": "2026-11-29T01:05:00+00:00",
                "age_hours": 20.6,
                "failures_in_period": 0,
                "checks_in_period": 29,
                "success_pct": 100.0,
                "restore_tests": [],
                "location": None,
                "restore_points": None,
                "repository_free_pct": None,
                "copies": [],
                "verification": [],
                "status": "pass",
                "seqs": [1770],
            },
            {
                "host": "vbr01",
                "job": "Daily VMs - Production",
                "last_success": "2026-11-29T22:48:00+00:00",
                "age_hours": 10.2,
                "failures_in_period": 1,
                "checks_in_period": 29,
                "success_pct": 96.6,
                "restore_tests": [],
                "location": "Repo-Local-01",
                "restore_points": {
                    "kept": 9,
                    "configured": 14,
                    "unit": "points",
                    "status": "fail",
                    "reason": None,
                },
                "repository_free_pct": 6.0,
                "copies": [
                    {
                        "copy": "Offsite copy - Production",
                        "kind": "backup_copy",
                        "target_repository": "Repo-Offsite-NAS",
                        "last_result": "Success",
                        "last_run": "2026-11-30T02:30:00+00:00",
                        "status": "pass",
                        "reason": None,
                    }
                ],
                "verification": [
                    {
                        "job": "Monthly restore test",
                        "status": "pass",
                        "last_result": "Success",
                        "last_run": "2026-11-20T03:00:00+00:00",
                        "reason": None,
                    }
                ],
                "status": "fail",
                "seqs": [1780, 1781],
            },
        ],
        "jobs_total": 3,
        "jobs_ok": 1,
    },
    "capacity": {
        "hosts": [
            {
                "host": "fs01",
                "volume": "/srv",
                "used_pct": 91.3,
                "size_bytes": 2_000_000_000_000,
                "free_bytes": 174_000_000_000,
                "days_to_full": 17.4,
                "growth_pct_per_day": 0.5,
                "at_risk": True,
                "points": _disk_points(78.0, 1.9),
                "seq": 1805,
            },
            {
                "host": "web01",
                "volume": "/",
                "used_pct": 42.0,
                "size_bytes": 64_000_000_000,
                "free_bytes": 37_120_000_000,
                "days_to_full": None,
                "growth_pct_per_day": 0.0,
                "at_risk": False,
                "points": _disk_points(42.0, 0.0),
                "seq": 1815,
            },
        ],
        "at_risk": ["fs01"],
        "method": "least squares over the period's samples",
        "horizon_days": 90,
    },
    "network": {
        "devices": [
            {
                "host": "fw-edge",
                "platform": "fortinet",
                "reachable": False,
                "reason": "TCP connection to port 22 timed out",
                "changes_in_period": 0,
                "last_change": None,
                "findings": 0,
                "seq": 1850,
            },
            {
                "host": "sw-core",
                "platform": "cisco_ios",
                "reachable": True,
                "reason": None,
                "changes_in_period": 2,
                "last_change": "2026-11-14T21:03:00+00:00",
                "findings": 3,
                "seq": 1855,
            },
        ],
        "changes": [
            {
                "host": "sw-core",
                "at": "2026-11-07T21:02:00+00:00",
                "added": 4,
                "removed": 1,
                "run_id": "20261107T210000-a1b2",
            },
            {
                "host": "sw-core",
                "at": "2026-11-14T21:03:00+00:00",
                "added": 0,
                "removed": 2,
                "run_id": "20261114T210000-c3d4",
            },
        ],
        "unreachable": ["fw-edge"],
        "findings_total": 3,
    },
    "findings": {
        "open": [
            {
                "id": "fs01:BKP-LNX-01",
                "host": "fs01",
                "control": "BKP-LNX-01",
                "title": "Backup succeeded recently",
                "domain": "backup",
                "severity": "critical",
                "status": "fail",
                "effective_status": "fail",
                "risk": "Without a recent backup, a disk failure or ransomware loses the work since the last "
                "copy.",
                "remediation": "Check the restic job's log, fix the repository password or space, run a "
                "backup now.",
                "reason": None,
                "note": None,
                "evidence": {
                    "last_success": "2026-11-20T01:12:00Z",
                    "age_hours": 212.5,
                    "max_age_hours": 36,
                    "repository": "sftp:backup.lan:/srv/restic/fs01",
                    "snapshots": 41,
                },
                "seq": 1760,
                "run_id": "20261129T210000-e5f6",
                "observed_at": "2026-11-29T21:01:10+00:00",
                "first_seen": "2026-11-21T21:01:02+00:00",
                "change": "regressed",
                "previous_status": "pass",
            },
            {
                "id": "web01:PATCH-LNX-01",
                "host": "web01",
                "control": "PATCH-LNX-01",
                "title": "Security updates installed",
                "domain": "patching",
                "severity": "high",
                "status": "fail",
                "effective_status": "fail",
                "risk": "Known vulnerabilities stay open to anyone who can reach the server.",
                "remediation": "Install the pending security updates in the next window and reboot.",
                "reason": None,
                "note": None,
                "evidence": {
                    "pending_security": 7,
                    "packages": ["openssl", "libssl3", "nginx"],
                    "days_since_update": 46.2,
                },
                "seq": 1812,
                "run_id": "20261129T210000-e5f6",
                "observed_at": "2026-11-29T21:02:30+00:00",
                "first_seen": "2026-10-03T21:02:00+00:00",
                "change": "persisting",
                "previous_status": "fail",
            },
            {
                "id": "sw-core:NET-IOS-SSH-01",
                "host": "sw-core",
                "control": "NET-IOS-SSH-01",
                "title": "Only SSH v2 for management",
                "domain": "network",
                "severity": "high",
                "status": "fail",
                "effective_status": "fail",
                "risk": "Telnet sends the administrator's password in clear text | readable on the network.",
                "remediation": "Set `transport input ssh` on every vty line.\nSave the configuration.",
                "reason": None,
                "note": None,
                "evidence": {"lines": ["line vty 0 4", " transport input telnet ssh"]},
                "seq": 1855,
                "run_id": "20261129T210000-e5f6",
                "observed_at": "2026-11-29T21:05:00+00:00",
                "first_seen": "2026-11-29T21:05:00+00:00",
                "change": "new",
                "previous_status": None,
            },
            {
                "id": "pc-recepcion:AV-WIN-02",
                "host": "pc-recepcion",
                "control": "AV-WIN-02",
                "title": "Antivirus signatures up to date",
                "domain": "antivirus",
                "severity": "medium",
                "status": "fail",
                "effective_status": "fail",
                "risk": "Old signatures miss the malware of the last days.",
                "remediation": "Run Update-MpSignature.",
                "reason": None,
                "note": None,
                "evidence": {"signature_age_days": 12.8, "max_days": 3},
                "seq": 1831,
                "run_id": "20261129T210000-e5f6",
                "observed_at": "2026-11-29T21:03:00+00:00",
                "first_seen": "2026-11-22T21:03:00+00:00",
                "change": "worse",
                "previous_status": "warn",
            },
            {
                "id": "web01:HEALTH-LNX-02",
                "host": "web01",
                "control": "HEALTH-LNX-02",
                "title": "Filesystems have free space",
                "domain": "health",
                "severity": "medium",
                "status": "warn",
                "effective_status": "warn",
                "risk": "A full filesystem stops the services writing to it.",
                "remediation": "Free or add space.",
                "reason": None,
                "note": None,
                "evidence": {"mount": "/var", "used_pct": 86.0},
                "seq": 1813,
                "run_id": "20261129T210000-e5f6",
                "observed_at": "2026-11-29T21:02:31+00:00",
                "first_seen": "2026-11-15T21:02:00+00:00",
                "change": "persisting",
                "previous_status": "warn",
            },
            {
                "id": "laptop07:HEALTH-LNX-03",
                "host": "laptop07",
                "control": "HEALTH-LNX-03",
                "title": "Time is synchronised",
                "domain": "health",
                "severity": "low",
                "status": "error",
                "effective_status": "error",
                "risk": "Wrong clocks break logins and make logs useless.",
                "remediation": "Enable systemd-timesyncd.",
                "reason": "collector failed: timedatectl not found",
                "note": None,
                "evidence": {},
                "seq": 1790,
                "run_id": "20261129T210000-e5f6",
                "observed_at": "2026-11-29T21:00:40+00:00",
                "first_seen": None,
                "change": "new",
                "previous_status": None,
            },
            {
                "id": "fs01:INV-LNX-01",
                "host": "fs01",
                "control": "INV-LNX-01",
                "title": "Operating system supported",
                "domain": "inventory",
                "severity": "info",
                "status": "warn",
                "effective_status": "warn",
                "risk": "Debian 11 leaves LTS support in August 2026.",
                "remediation": "Plan the upgrade to Debian 12.",
                "reason": None,
                "note": None,
                "evidence": {"os": "Debian 11", "eol": "2026-08-31"},
                "seq": 1803,
                "run_id": "20261129T210000-e5f6",
                "observed_at": "2026-11-29T21:01:00+00:00",
                "first_seen": "2026-09-05T21:01:00+00:00",
                "change": "persisting",
                "previous_status": "warn",
            },
        ],
        "resolved": [
            {
                "id": "web01:HEALTH-LNX-05",
                "host": "web01",
                "control": "HEALTH-LNX-05",
                "title": "No failed services",
                "severity": "high",
                "previous_status": "fail",
                "status": "pass",
                "seq": 1814,
            },
        ],
    },
    "waivers": {
        "as_of_date": "2026-11-29",
        "in_force": [
            {
                "control": "HEALTH-LNX-06",
                "title": "Uptime below the limit",
                "hosts": "*",
                "owner": "tech@demo-msp.example",
                "reason": "Demo machines are rebuilt, not rebooted.",
                "expires": "2027-06-30",
                "rows": 4,
            },
            {
                "control": "PATCH-LNX-02",
                "title": "Reboot after kernel updates",
                "hosts": "web*",
                "owner": "ana@demo.example",
                "reason": "Reboot agreed for the December window.",
                "expires": "2026-12-12",
                "rows": 1,
            },
        ],
        "expiring_30d": [
            {
                "control": "PATCH-LNX-02",
                "title": "Reboot after kernel updates",
                "hosts": "web*",
                "owner": "ana@demo.example",
                "reason": "Reboot agreed for the December window.",
                "expires": "2026-12-12",
                "rows": 1,
            },
        ],
    },
    "windows": {
        "held": 3,
        "missed": 1,
        "skipped": 1,
        "open": 0,
        "occurrences": [
            {
                "schedule": "weekly-audit",
                "window_start": "2026-11-07T21:00:00+00:00",
                "window_end": "2026-11-08T01:00:00+00:00",
                "state": "completed",
                "reason": None,
                "run_id": "20261107T210000-a1b2",
                "seq": 1500,
            },
            {
                "schedule": "weekly-audit",
                "window_start": "2026-11-14T21:00:00+00:00",
                "window_end": "2026-11-15T01:00:00+00:00",
                "state": "completed",
                "reason": None,
                "run_id": "20261114T210000-c3d4",
                "seq": 1600,
            },
            {
                "schedule": "weekly-audit",
                "window_start": "2026-11-21T21:00:00+00:00",
                "window_end": "2026-11-22T01:00:00+00:00",
                "state": "missed",
                "reason": "the controller was down",
                "run_id": None,
                "seq": 1690,
            },
            {
                "schedule": "weekly-audit",
                "window_start": "2026-12-05T21:00:00+00:00",
                "window_end": "2026-12-06T01:00:00+00:00",
                "state": "skipped",
                "reason": "holiday: Día de la Constitución",
                "run_id": None,
                "seq": 1700,
            },
            {
                "schedule": "weekly-audit",
                "window_start": "2026-11-28T21:00:00+00:00",
                "window_end": "2026-11-29T01:00:00+00:00",
                "state": "completed",
                "reason": None,
                "run_id": "20261129T210000-e5f6",
                "seq": 1750,
            },
        ],
    },
    "interventions": [
        {
            "ticket": "T-1042",
            "technician": "ana",
            "opened_at": "2026-11-10T08:15:00+00:00",
            "runs": 2,
            "run_ids": ["20261110T091500-aa11", "20261110T101500-bb22"],
            "first_run": "2026-11-10T09:15:00+00:00",
            "last_run": "2026-11-10T10:15:00+00:00",
            "reason": "nginx down after update",
            "roles": ["linux_health"],
            "resolved": True,
            "controls": ["HEALTH-LNX-05"],
        },
        {
            "ticket": "T-1077",
            "technician": "marc",
            "opened_at": None,
            "runs": 1,
            "run_ids": ["20261125T120000-cc33"],
            "first_run": "2026-11-25T12:00:00+00:00",
            "last_run": "2026-11-25T12:00:00+00:00",
            "reason": None,
            "roles": ["linux_backup"],
            "resolved": False,
            "controls": ["BKP-LNX-01"],
        },
    ],
}


def sample_report(lang: str = "en") -> dict[str, Any]:
    """A fresh copy of the sample report in ``lang`` (the MSP of ``inventories/msp.yml``'s shape, a logo)."""
    report = copy.deepcopy(_REPORT)
    report["lang"] = lang
    checkpoint = _checkpoint()
    report["ledger"]["checkpoint"] = checkpoint
    report["ledger"]["fingerprint"] = checkpoint["key"]["fingerprint"]
    report["ledger"]["public_key"] = checkpoint["key"]["public_key"]
    logo = (
        "data:image/svg+xml;base64,"
        + base64.b64encode(
            b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
            b'<rect width="40" height="40" fill="#1f4e79"/></svg>'
        ).decode()
    )
    report["msp"] = {
        **Msp().as_dict(),
        "name": "Demo MSP",
        "logo": logo,
        "email": "support@demo-msp.example",
        "phone": "+34 900 000 000",
        "website": "demo-msp.example",
    }
    return report
