"""The monthly report end to end, on a ledger made by a real run plus a year of generated history.

The ledger: ``maint_devtools.history.generate`` writes twelve months of the demo client and of the example
client (``inventories/example-acme``, Windows hosts judged on recorded collector outputs) through the real
Ledger API and the real evaluators, then ``maint demo`` runs for real against this machine and the simulated
network devices. Every number of the report's JSON form that the tests below look at is recomputed here from
raw SQL over ``check_results``, ``checkpoints`` and ``schedule_occurrences`` (never with ``runner.report``
code), with the rules as the report states them; the same report built in another process gives the same
bytes; the PDF's text holds the sections, the open findings and the checkpoint; every language renders
with every message translated.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import html as html_mod
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from typer.testing import CliRunner

from maint_devtools.history import generate
from runner import catalogue
from runner.cli import app
from runner.inventory import Client, load_client
from runner.inventory.hostvars import platforms
from runner.ledger import Ledger, keys
from runner.ledger.note import Verifier
from tests.conftest import REPO

pytestmark = pytest.mark.integration

SEED = 13
CLIENTS = ("demo", "example-acme")
WEIGHTS = {"critical": 10, "high": 5, "medium": 2, "low": 1, "info": 0}
SEVERITIES = ("critical", "high", "medium", "low", "info")
STATUS_RANK = {
    "error": 0,
    "fail": 0,
    "warn": 1,
    "not_checked": 2,
    "waived": 3,
    "pass": 4,
    "not_applicable": 5,
}
EFFECTIVE = ("pass", "fail", "warn", "not_checked", "error", "not_applicable", "waived")
PASSING = frozenset({"pass", "not_applicable"})
JUDGED_BAD = frozenset({"fail", "warn"})
INCONCLUSIVE = frozenset({"not_checked", "error"})
UNREACHABLE = ("host unreachable", "fetch failed")
LOCALE = REPO / "runner" / "report" / "locale"


# --------------------------------------------------------------------------- the ledger


@dataclass(frozen=True)
class World:
    var: Path
    url: str
    db: Path
    end: datetime  # the first instant of this month (Madrid): the history is the twelve months before it
    key: Path

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "MAINT_VAR": str(self.var),
            "MAINT_DB_URL": self.url,
            "MAINT_LEDGER_KEY_FILE": str(self.key),
        }

    def verifier(self) -> Verifier:
        signer = keys.load_signer(self.key)
        assert signer is not None
        return signer.verifier


def _month_start(instant: datetime, zone: str) -> datetime:
    local = instant.astimezone(ZoneInfo(zone))
    return datetime(local.year, local.month, 1, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("report-e2e")
    var = root / "var"
    url = f"sqlite:///{var / 'ledger.db'}"
    key = var / "keys" / "ledger.key"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MAINT_VAR", str(var))
        mp.setenv("MAINT_DB_URL", url)
        mp.setenv("MAINT_LEDGER_KEY_FILE", str(key))
        mp.delenv("MAINT_INVENTORIES", raising=False)
        mp.setenv("ANSIBLE_CONFIG", str(REPO / "ansible.cfg"))
        from runner.ledger import note

        keys.write_signer(note.generate_signer("maint-demo"), key)
        end = _month_start(datetime.now(UTC), "Europe/Madrid")
        with Ledger(url) as ledger:
            for name in CLIENTS:
                generate(ledger, load_client(name), end=end, seed=SEED)
        result = CliRunner().invoke(app, ["demo"], catch_exceptions=False)  # the real run, this machine
        assert result.exit_code in (0, 1), result.output
    return World(var=var, url=url, db=var / "ledger.db", end=end, key=key)


# --------------------------------------------------------------------------- periods, independently


@dataclass(frozen=True)
class Month:
    label: str
    start: datetime
    end: datetime


def month_of(year: int, month: int, zone: str) -> Month:
    tz = ZoneInfo(zone)
    following = date(year + month // 12, month % 12 + 1, 1)
    return Month(
        f"{year:04d}-{month:02d}",
        datetime(year, month, 1, tzinfo=tz).astimezone(UTC),
        datetime(following.year, following.month, 1, tzinfo=tz).astimezone(UTC),
    )


def months_back(m: Month, n: int, zone: str) -> list[Month]:
    """``n`` months ending with ``m``, oldest first."""
    year, month = int(m.label[:4]), int(m.label[5:])
    found = []
    for _ in range(n):
        found.append(month_of(year, month, zone))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return found[::-1]


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def utc(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --------------------------------------------------------------------------- the expected numbers, from SQL


def merkle_root(db: Path, client: str, size: int) -> str:
    """RFC 9162 root (hex) over the client's first ``size`` rows of every chained table, in chain order:
    leaf ``SHA-256(0x00 || row hash)``, node ``SHA-256(0x01 || left || right)``."""
    con = sqlite3.connect(db)
    tables = [
        name
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if {"client", "seq", "row_hash", "prev_hash"}
        <= {c[1] for c in con.execute(f"PRAGMA table_info({name})")}
    ]
    hashes: dict[int, str] = {}
    for table in tables:
        query = f"SELECT seq, row_hash FROM {table} WHERE client = ? AND seq <= ?"
        hashes.update(con.execute(query, (client, size)).fetchall())
    con.close()
    assert sorted(hashes) == list(range(1, size + 1)), "one row per seq"
    leaves = [hashlib.sha256(b"\x00" + bytes.fromhex(hashes[seq])).digest() for seq in range(1, size + 1)]

    def root(nodes: list[bytes]) -> bytes:
        if len(nodes) == 1:
            return nodes[0]
        k = 1 << ((len(nodes) - 1).bit_length() - 1)  # the largest power of two below n
        return hashlib.sha256(b"\x01" + root(nodes[:k]) + root(nodes[k:])).digest()

    return root(leaves).hex()


@dataclass
class Pair:
    host: str
    control: str
    spec_severity: str
    domain: str
    latest: dict[str, Any] | None
    last_conclusive: dict[str, Any] | None
    waived: bool

    @property
    def status(self) -> str:
        return self.latest["status"] if self.latest is not None else "not_checked"

    @property
    def reason(self) -> str:
        if self.latest is None:
            return "never checked"
        reason = json.loads(self.latest["evidence"]).get("reason")
        return reason if isinstance(reason, str) else ""

    @property
    def effective(self) -> str:
        return "waived" if self.waived and self.status not in PASSING else self.status

    @property
    def unreachable(self) -> bool:
        return self.status in INCONCLUSIVE and self.reason.startswith(UNREACHABLE)

    @property
    def failing(self) -> bool:
        if self.effective == "waived" or self.status in PASSING:
            return False
        if self.status in JUDGED_BAD or self.status == "error":
            return True
        last = self.last_conclusive["status"] if self.last_conclusive is not None else None
        return self.unreachable or last in JUDGED_BAD

    @property
    def severity(self) -> str:
        return self.latest["severity"] if self.latest is not None else self.spec_severity

    @property
    def finding(self) -> bool:
        if not self.failing:
            return False
        if self.unreachable:
            return self.last_conclusive is not None and self.last_conclusive["status"] in JUDGED_BAD
        return True


class Expected:
    """What the report of ``client`` for ``month`` must say: the ledger's tables and the inventory now."""

    def __init__(self, world: World, client: Client, month: Month) -> None:
        self.client, self.month, self.zone = client, month, client.settings.timezone
        con = sqlite3.connect(world.db)
        con.row_factory = sqlite3.Row
        name, end = client.name, iso(month.end)
        needed = max(
            con.execute(
                "SELECT coalesce(max(seq), 0) FROM check_results WHERE client = ? AND observed_at < ?",
                (name, end),
            ).fetchone()[0],
            con.execute(
                "SELECT coalesce(max(seq), 0) FROM runs WHERE client = ? AND started_at < ?", (name, end)
            ).fetchone()[0],
        )
        stored = con.execute(
            "SELECT size, made_at, root_hash FROM checkpoints WHERE client = ? ORDER BY size", (name,)
        ).fetchall()
        chosen = next((c for c in stored if c["size"] >= needed), stored[-1] if stored else None)
        head = con.execute("SELECT seq FROM chain_heads WHERE client = ?", (name,)).fetchone()[0]
        self.size = chosen["size"] if chosen is not None else head
        self.checkpoint = dict(chosen) if chosen is not None else None
        self.rows_after = head - self.size
        made = utc(chosen["made_at"]) if chosen is not None else None
        self.as_of = min(month.end, made) if made is not None else month.end
        self.rows = [
            dict(r)
            for r in con.execute(
                "SELECT seq, run_id, host, control, status, severity, evidence, observed_at, role, domain "
                "FROM check_results WHERE client = ? AND seq <= ? AND observed_at < ? "
                "ORDER BY observed_at, seq",
                (name, self.size, end),
            )
        ]
        self.occurrence_rows = [
            dict(r)
            for r in con.execute(
                "SELECT occurrence_id, state, window_start, seq FROM schedule_occurrences "
                "WHERE client = ? AND seq <= ? ORDER BY seq",
                (name, self.size),
            )
        ]
        con.close()
        for row in self.rows:
            row["at"] = utc(row["observed_at"])
        # the scope: the inventory now and the catalogue (data, not report code)
        self.cat = catalogue.load()
        self.hosts = sorted(client.ansible_hosts().hosts)
        plats = platforms(client)
        self.assigned: dict[str, set[str]] = {h: set() for h in self.hosts}
        self.pairs: dict[tuple[str, str], Any] = {}
        for role, planned in client.plan().items():
            for host in planned:
                self.assigned.setdefault(host, set()).add(role)
                for spec in self.cat.for_role(role):
                    if spec.applies_to(plats.get(host)):
                        self.pairs[(host, spec.id)] = spec
        self.runner_specs = [s for s in self.cat.controls.values() if s.role is None and s.retired is None]

    # -- the state at an instant ------------------------------------------------------------------

    def state(self, at: datetime) -> dict[tuple[str, str], Pair]:
        by_pair: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in self.rows:
            if row["at"] < at:
                by_pair.setdefault((row["host"], row["control"]), []).append(row)
        tz = ZoneInfo(self.zone)
        today = (min(at, self.as_of) - timedelta(microseconds=1)).astimezone(tz).date()
        live = [w for w in self.client.settings.waivers if w.expires is None or w.expires >= today]
        out: dict[tuple[str, str], Pair] = {}
        candidates = [(pair, spec, False) for pair, spec in self.pairs.items()]
        candidates += [((h, s.id), s, True) for h in self.hosts for s in self.runner_specs]
        for (host, control), spec, runner_own in candidates:
            rows = by_pair.get((host, control), [])
            if runner_own:
                if not rows:
                    continue
                role = rows[-1]["role"]
                if role and role in self.cat.roles and role not in self.assigned.get(host, set()):
                    continue
            latest = rows[-1] if rows else None
            last = None
            if latest is not None and latest["status"] in INCONCLUSIVE:
                last = next((r for r in reversed(rows[:-1]) if r["status"] not in INCONCLUSIVE), None)
            waived = any(w.control == control and fnmatch.fnmatchcase(host, w.hosts) for w in live)
            out[(host, control)] = Pair(
                host, control, spec.severity.value, spec.domain.value, latest, last, waived
            )
        return out

    def score(self, at: datetime) -> int | None:
        earned = possible = 0
        for pair in self.state(at).values():
            if pair.effective == "not_applicable":
                continue
            weight = WEIGHTS[pair.spec_severity]
            possible += weight
            if pair.effective in ("pass", "not_applicable", "waived"):
                earned += weight
        return round(100 * earned / possible) if possible else None

    def recorded_before(self, at: datetime) -> bool:
        return any(row["at"] < at for row in self.rows)

    def findings(self, at: datetime) -> list[Pair]:
        found = [p for p in self.state(at).values() if p.finding]
        return sorted(
            found, key=lambda p: (SEVERITIES.index(p.severity), STATUS_RANK[p.effective], p.host, p.control)
        )

    def in_period(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if self.month.start <= r["at"] < self.month.end]

    def previous(self) -> Month:
        return months_back(self.month, 2, self.zone)[0]


# --------------------------------------------------------------------------- building


#: the report cases: (client, which month); the months are found in the ledger (see ``labels``)
CASES = [
    ("demo", "now"),  # this month: the real run of maint demo
    ("demo", "last"),  # the history's last month: the ticket run
    ("demo", "missed"),  # the month whose window was missed
    ("example-acme", "last"),
    ("example-acme", "missed"),
    ("example-acme", "backup failed"),  # the month the production backup job failed
]


def _local_month(instant: datetime, zone: str) -> Month:
    local = instant.astimezone(ZoneInfo(zone))
    return month_of(local.year, local.month, zone)


@pytest.fixture(scope="module")
def labels(world: World) -> dict[tuple[str, str], str]:
    zone = "Europe/Madrid"
    now = _local_month(world.end, zone)
    last = months_back(now, 2, zone)[0]
    con = sqlite3.connect(world.db)
    found: dict[tuple[str, str], str] = {}
    for client in CLIENTS:
        found[(client, "now")] = now.label
        found[(client, "last")] = last.label
        (start,) = con.execute(
            "SELECT window_start FROM schedule_occurrences WHERE client = ? AND state = 'missed'", (client,)
        ).fetchone()
        found[(client, "missed")] = _local_month(utc(start), zone).label
        failed = con.execute(
            "SELECT min(observed_at) FROM check_results WHERE client = ? AND control = 'BKP-VEEAM-01' "
            "AND status = 'fail'",
            (client,),
        ).fetchone()[0]
        if failed is not None:
            found[(client, "backup failed")] = _local_month(utc(failed), zone).label
    con.close()
    return found


def _build(world: World, client: str, label: str, lang: str = "en") -> dict[str, Any]:
    from runner.report.build import build_report
    from runner.report.period import month

    loaded = load_client(client)
    with Ledger(world.url) as ledger:
        return build_report(
            ledger, loaded, month(label, loaded.settings.timezone), lang=lang, verifier=world.verifier()
        )


@pytest.fixture(scope="module")
def reports(world: World, labels: dict[tuple[str, str], str]) -> dict[tuple[str, str], dict[str, Any]]:
    """Each case's report (English), built once."""
    return {(c, which): _build(world, c, labels[(c, which)]) for c, which in CASES}


# --------------------------------------------------------------------------- the numbers


@pytest.mark.parametrize(("name", "which"), CASES)
def test_every_summary_number_is_recomputed_from_the_ledger_rows(
    world: World,
    labels: dict[tuple[str, str], str],
    reports: dict[tuple[str, str], dict[str, Any]],
    name: str,
    which: str,
) -> None:
    label = labels[(name, which)]
    data = reports[(name, which)]
    loaded = load_client(name)
    zone = loaded.settings.timezone
    m = month_of(int(label[:4]), int(label[5:]), zone)
    x = Expected(world, loaded, m)

    assert data["period"]["label"] == label
    assert utc(data["period"]["start"]) == m.start and utc(data["period"]["end"]) == m.end
    assert utc(data["as_of"]) == x.as_of
    facts = data["ledger"]
    assert facts["rows_in_report"] == x.size and facts["rows_after"] == x.rows_after
    assert x.checkpoint is not None and facts["checkpoint"]["size"] == x.checkpoint["size"]
    assert base64.b64decode(facts["checkpoint"]["root_hash"]).hex() == x.checkpoint["root_hash"]
    assert x.checkpoint["root_hash"] == merkle_root(world.db, name, x.size)  # the rows the report read
    assert facts["fingerprint"] == world.verifier().fingerprint  # every checkpoint here is signed

    summary = data["summary"]
    assert summary["weights"] == WEIGHTS
    state = x.state(m.end)
    earned = sum(WEIGHTS[p.spec_severity] for p in state.values() if p.effective in ("pass", "waived"))
    possible = sum(WEIGHTS[p.spec_severity] for p in state.values() if p.effective != "not_applicable")
    assert (summary["earned"], summary["possible"]) == (earned, possible)
    assert summary["score"] == x.score(m.end) == (round(100 * earned / possible) if possible else None)
    prev = x.previous()
    prev_score = x.score(prev.end) if x.recorded_before(prev.end) else None
    assert summary["previous_score"] == prev_score
    assert summary["trend"] == (
        None if prev_score is None or summary["score"] is None else summary["score"] - prev_score
    )
    assert summary["trend_points"] == [
        {"period": p.label, "score": x.score(p.end) if x.recorded_before(p.end) else None}
        for p in months_back(m, 12, zone)
    ]
    counts = Counter(p.effective for p in state.values())
    assert summary["counts"] == {s: counts.get(s, 0) for s in EFFECTIVE}
    findings = x.findings(m.end)
    assert findings and summary["score"] is not None, "every case has something to find and to score"
    by_severity = Counter(p.severity for p in findings)
    assert summary["findings_by_severity"] == {s: by_severity.get(s, 0) for s in SEVERITIES}
    assert (
        summary["decisions"]
        == [f"{p.host}:{p.control}" for p in findings if p.severity in ("critical", "high")][:3]
    )
    assert summary["hosts"] == len(x.hosts)


@pytest.mark.parametrize(("name", "which"), CASES)
def test_findings_coverage_windows_patching_and_backups_are_recomputed(
    world: World,
    labels: dict[tuple[str, str], str],
    reports: dict[tuple[str, str], dict[str, Any]],
    name: str,
    which: str,
) -> None:
    label = labels[(name, which)]
    data = reports[(name, which)]
    loaded = load_client(name)
    m = month_of(int(label[:4]), int(label[5:]), loaded.settings.timezone)
    x = Expected(world, loaded, m)
    state = x.state(m.end)

    # findings: critical -> info, then fail/error before warn before not checked, then host and control
    expected_open = x.findings(m.end)
    shown = data["findings"]["open"]
    assert [f["id"] for f in shown] == [f"{p.host}:{p.control}" for p in expected_open]
    for item, pair in zip(shown, expected_open, strict=True):
        assert pair.latest is not None
        assert (item["seq"], item["run_id"], item["status"], item["severity"], item["effective_status"]) == (
            pair.latest["seq"],
            pair.latest["run_id"],
            pair.status,
            pair.severity,
            pair.effective,
        )
        assert item["evidence"] == json.loads(pair.latest["evidence"])
    before = x.state(x.previous().end)
    resolved = [
        b
        for key, b in before.items()
        if b.finding and key in state and state[key].effective in ("pass", "not_applicable", "waived")
    ]
    resolved.sort(key=lambda p: (SEVERITIES.index(p.severity), p.host, p.control))
    assert [r["id"] for r in data["findings"]["resolved"]] == [f"{p.host}:{p.control}" for p in resolved]

    # coverage: a host is checked when one of its results in the period judged something
    checked = {r["host"] for r in x.in_period() if r["status"] not in INCONCLUSIVE}
    coverage = data["coverage"]
    assert coverage["hosts_in_scope"] == len(x.hosts)
    assert coverage["hosts_checked"] == len([h for h in x.hosts if h in checked])
    assert sorted(e["host"] for e in coverage["hosts_not_checked"]) == [
        h for h in x.hosts if h not in checked
    ]

    # maintenance windows: the latest row of each occurrence whose window starts in the period
    latest: dict[str, dict[str, Any]] = {}
    for row in x.occurrence_rows:
        latest[row["occurrence_id"]] = row
    states = Counter(r["state"] for r in latest.values() if iso(m.start) <= r["window_start"] < iso(m.end))
    windows = data["windows"]
    assert (windows["held"], windows["missed"], windows["skipped"], windows["open"]) == (
        states.get("completed", 0),
        states.get("missed", 0),
        states.get("skipped", 0),
        states.get("started", 0),
    )

    # patching: a host is compliant when none of its PATCH-* controls fails (waivers applied)
    patch: dict[str, list[Pair]] = {}
    for (host, control), pair in state.items():
        if control.startswith("PATCH-"):
            patch.setdefault(host, []).append(pair)
    judged = {
        h: ps
        for h, ps in patch.items()
        if any(p.latest is not None and p.status not in INCONCLUSIVE for p in ps)
    }
    compliant = [h for h, ps in judged.items() if not any(p.failing for p in ps)]
    patching = data["patching"]
    assert sorted(h["host"] for h in patching["hosts"]) == sorted(patch)
    assert (patching["hosts_judged"], patching["hosts_compliant"]) == (len(judged), len(compliant))
    assert patching["compliance_pct"] == (round(100 * len(compliant) / len(judged), 1) if judged else None)

    # backups (Veeam jobs): a check is one run's BKP-VEEAM-01/-02 rows naming the job; it fails when the
    # job's last session failed or the job is stale
    checks: dict[tuple[str, str], dict[str, bool]] = {}
    for row in x.in_period():
        if row["control"] not in ("BKP-VEEAM-01", "BKP-VEEAM-02") or row["status"] == "not_checked":
            continue
        evidence = json.loads(row["evidence"])
        for job in evidence.get("jobs") or []:
            key = (row["host"], job["job"])
            failed = str(job.get("result", "")).lower() == "failed"
            checks.setdefault(key, {})[row["run_id"]] = (
                checks.get(key, {}).get(row["run_id"], False) or failed
            )
        for stale in evidence.get("stale") or []:
            key = (row["host"], stale["job"] if isinstance(stale, dict) else str(stale))
            checks.setdefault(key, {})[row["run_id"]] = True
    veeam = {(j["host"], j["job"]): j for j in data["backups"]["jobs"] if j.get("kind") == "veeam"}
    for key, runs in checks.items():
        assert key in veeam, key
        assert veeam[key]["checks_in_period"] == len(runs), key
        assert veeam[key]["failures_in_period"] == sum(runs.values()), key
    if which == "backup failed":
        assert sum(j["failures_in_period"] for j in veeam.values()) >= 1, veeam


@pytest.mark.parametrize(("name", "which"), CASES)
def test_antivirus_and_network_are_recomputed(
    world: World,
    labels: dict[tuple[str, str], str],
    reports: dict[tuple[str, str], dict[str, Any]],
    name: str,
    which: str,
) -> None:
    label = labels[(name, which)]
    data = reports[(name, which)]
    loaded = load_client(name)
    m = month_of(int(label[:4]), int(label[5:]), loaded.settings.timezone)
    x = Expected(world, loaded, m)
    state = x.state(m.end)

    # antivirus: a host is protected when none of its AV-* controls fails (waivers applied), judged when
    # one of their latest results judged something
    av: dict[str, list[Pair]] = {}
    for (host, control), pair in state.items():
        if control.startswith(("AV-LNX-", "AV-WIN-")):
            av.setdefault(host, []).append(pair)
    judged = {
        h: ps
        for h, ps in av.items()
        if any(p.latest is not None and p.status not in INCONCLUSIVE for p in ps)
    }
    protected = [h for h, ps in judged.items() if not any(p.failing for p in ps)]
    antivirus = data["antivirus"]
    assert [h["host"] for h in antivirus["hosts"]] == sorted(av)
    assert (antivirus["hosts_judged"], antivirus["hosts_protected"]) == (len(judged), len(protected))
    assert antivirus["coverage_pct"] == (round(100 * len(protected) / len(judged), 1) if judged else None)
    for entry in antivirus["hosts"]:
        latest = [p.latest["seq"] for p in av[entry["host"]] if p.latest is not None]
        assert entry["seqs"] == sorted(latest), entry["host"]

    # network: the hosts network_config is assigned to; not reached when a latest NET-/MAINT- result says
    # so; its findings are its NET-* controls failing or warning; a change is a snapshot taken in the period
    devices = sorted(h for h in x.hosts if "network_config" in x.assigned.get(h, set()))
    network = data["network"]
    assert [d["host"] for d in network["devices"]] == devices
    con = sqlite3.connect(world.db)
    snaps = con.execute(
        "SELECT device, seq, taken_at FROM config_snapshots WHERE client = ? AND seq <= ? ORDER BY seq",
        (name, x.size),
    ).fetchall()
    con.close()
    changes = sorted(
        (device, seq) for device, seq, taken in snaps if device in devices and m.start <= utc(taken) < m.end
    )
    assert sorted((c["host"], c["seq"]) for c in network["changes"]) == changes
    unreachable = []
    for entry in network["devices"]:
        pairs = [p for (h, c), p in state.items() if h == entry["host"] and c.startswith(("NET-", "MAINT-"))]
        if any(p.latest is not None and p.unreachable for p in pairs):
            unreachable.append(entry["host"])
            assert entry["reachable"] is False, entry
        else:
            assert entry["reachable"] is (True if any(p.latest is not None for p in pairs) else None), entry
        failing = sorted(
            p.control for p in pairs if p.control.startswith("NET-") and p.effective in JUDGED_BAD
        )
        assert entry["finding_controls"] == failing, entry["host"]
        assert entry["changes_in_period"] == sum(1 for d, _s in changes if d == entry["host"])
    assert network["unreachable"] == unreachable
    assert network["findings_total"] == sum(len(d["finding_controls"]) for d in network["devices"])


def test_history_tells_the_year_the_report_shows(reports: dict[tuple[str, str], dict[str, Any]]) -> None:
    """What generate() wrote reaches the report: the missed window, the ticket, a year of trend."""
    last = reports[("demo", "last")]
    assert [i["ticket"] for i in last["interventions"]] == [f"T-{4000 + SEED}"]
    assert last["interventions"][0]["technician"] == "marta.tech"
    assert last["windows"]["held"] == 1
    for client in CLIENTS:
        windows = reports[(client, "missed")]["windows"]
        assert windows["missed"] == 1 and windows["held"] == 0, windows
    trend = [p["score"] for p in reports[("demo", "now")]["summary"]["trend_points"]]
    assert sum(s is not None for s in trend) >= 10, trend
    assert len(reports[("demo", "now")]["network"]["devices"]) == 4
    assert reports[("demo", "now")]["network"]["changes"], "the recomputed network has changes to count"
    assert reports[("example-acme", "last")]["antivirus"]["hosts_judged"] == 2
    assert reports[("example-acme", "backup failed")]["backups"]["jobs"]


# --------------------------------------------------------------------------- same ledger, same bytes

_BUILD_SCRIPT = """
import json, sys
from pathlib import Path
from runner.inventory import load_client
from runner.ledger import Ledger, keys
from runner.report.build import build_report
from runner.report.period import month
from runner.report.render import render
client, label, lang, key, out = sys.argv[1:6]
loaded = load_client(client)
signer = keys.load_signer(Path(key))
with Ledger() as ledger:
    period = month(label, loaded.settings.timezone)
    data = build_report(ledger, loaded, period, lang=lang, verifier=signer.verifier)
for fmt in ("html", "md", "json"):
    Path(out, "report." + fmt).write_bytes(render(data, fmt))
"""


def _build_elsewhere(world: World, client: str, label: str, lang: str, out: Path) -> dict[str, bytes]:
    out.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", _BUILD_SCRIPT, client, label, lang, str(world.key), str(out)],
        cwd=REPO,
        env=world.env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return {fmt: (out / f"report.{fmt}").read_bytes() for fmt in ("html", "md", "json")}


@pytest.mark.parametrize("case", [("demo", "now"), ("example-acme", "last")])
def test_same_ledger_and_period_give_the_same_bytes_in_another_process(
    world: World,
    labels: dict[tuple[str, str], str],
    reports: dict[tuple[str, str], dict[str, Any]],
    tmp_path: Path,
    case: tuple[str, str],
) -> None:
    from runner.report.render import render

    client, label = case[0], labels[case]
    here = {fmt: render(reports[case], fmt) for fmt in ("html", "md", "json")}
    assert _build(world, client, label) == reports[case]  # built twice here: the same document
    there = _build_elsewhere(world, client, label, "en", tmp_path / "other")  # and in another process
    for fmt in here:
        assert there[fmt] == here[fmt], f"{fmt} differs between two processes"
    assert json.loads(here["json"]) == json.loads(json.dumps(reports[case]))


# --------------------------------------------------------------------------- PDF


def _headings(page: str) -> list[str]:
    return [
        html_mod.unescape(re.sub(r"<[^>]+>", "", h)).strip()
        for h in re.findall(r"<h2[^>]*>(.*?)</h2>", page, re.S)
    ]


def test_pdf_text_has_the_sections_the_open_findings_and_the_checkpoint(
    reports: dict[tuple[str, str], dict[str, Any]],
) -> None:
    from pypdf import PdfReader

    from runner.report import render as render_mod

    data = reports[("example-acme", "last")]  # Windows and Linux findings
    page = render_mod.render(data, "html").decode()
    titles = _headings(page)
    assert len(titles) >= 10, titles
    pdf = render_mod.pdf(page)  # what render(data, "pdf") makes: WeasyPrint on the same HTML
    assert pdf.startswith(b"%PDF-")
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
    flat = re.sub(r"\s+", "", text)
    for title in titles:
        assert re.sub(r"\s+", "", title) in flat, f"section {title!r} not in the PDF text"
    open_controls = {f["control"] for f in data["findings"]["open"]}
    assert open_controls, "the example client has open findings"
    for control in sorted(open_controls):
        assert control in flat, f"open finding {control} not in the PDF text"
    root = data["ledger"]["checkpoint"]["root_hash"]
    assert root in flat or base64.b64decode(root).hex() in flat.lower(), "checkpoint root hash not in the PDF"


# --------------------------------------------------------------------------- languages

_LANG_SCRIPT = """
import json, sys
from pathlib import Path
from runner.report import i18n
seen = {"gettext": [], "ngettext": []}
_g, _n = i18n.Translator.gettext, i18n.Translator.ngettext
def gettext(self, message):
    seen["gettext"].append(message)
    return _g(self, message)
def ngettext(self, singular, plural, n):
    seen["ngettext"].append([singular, plural])
    return _n(self, singular, plural, n)
i18n.Translator.gettext, i18n.Translator.ngettext = gettext, ngettext
from runner.inventory import load_client
from runner.ledger import Ledger, keys
from runner.report.build import build_report
from runner.report.period import month
from runner.report.render import render
client, label, lang, key, out = sys.argv[1:6]
loaded = load_client(client)
with Ledger() as ledger:
    data = build_report(ledger, loaded, month(label, loaded.settings.timezone), lang=lang,
                        verifier=keys.load_signer(Path(key)).verifier)
Path(out, "report.html").write_bytes(render(data, "html"))
Path(out, "report.md").write_bytes(render(data, "md"))
Path(out, "report.json").write_text(json.dumps(data, sort_keys=True))
Path(out, "messages.json").write_text(json.dumps(seen))
"""


def _catalog(lang: str) -> dict[str, Any]:
    path = LOCALE / lang / "LC_MESSAGES" / "maint.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    return {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}


@pytest.mark.parametrize("lang", ["en", "es", "ca"])
def test_each_language_renders_every_message_translated(
    world: World, labels: dict[tuple[str, str], str], tmp_path: Path, lang: str
) -> None:
    from runner.report import i18n

    client, label = "example-acme", labels[("example-acme", "last")]
    out = tmp_path / lang
    out.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", _LANG_SCRIPT, client, label, lang, str(world.key), str(out)],
        cwd=REPO,
        env=world.env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    assert re.search(rf'<html[^>]*\blang="{lang}"', page), page[:300]
    if lang == "ca":  # elision before a value that starts with a vowel sound (i18n.Translator.elide)
        assert "(hora d'Europe/Madrid)" in page and "hora de Europe" not in page
    seen = json.loads((out / "messages.json").read_text())
    assert seen["gettext"], "the templates translate through gettext"
    assert i18n.check_messages() == [], "I18N's check: every catalogue message translated"
    if lang != "en":
        catalog = _catalog(lang)
        untranslated = sorted(
            {m for m in seen["gettext"] if not (m in catalog and catalog[m].string)}
            | {s for s, _p in seen["ngettext"] if not (s in catalog and all(catalog[s].string))}
        )
        assert untranslated == [], f"{lang}: messages rendered without a translation: {untranslated[:10]}"
        data = json.loads((out / "report.json").read_text())
        shown = {f["control"] for f in data["findings"]["open"]}
        missing = [
            p for p in i18n.check_catalogue() if p.startswith(f"{lang}:") and any(c in p for c in shown)
        ]
        assert missing == [], missing
        english = _build(world, client, label, "en")
        titles = {f["control"]: f["title"] for f in english["findings"]["open"]}
        translated = {f["control"]: f["title"] for f in data["findings"]["open"]}
        assert any(translated[c] != titles[c] for c in titles), "control titles are translated"


# --------------------------------------------------------------------------- the generated history itself


def test_shift_moves_every_recorded_instant_and_keeps_the_never_marker() -> None:
    from maint_devtools.history import shift

    raw = {
        "collected_at": "2026-11-27T02:57:45Z",
        "time": "2026-11-27T02:57:25.570059024Z",
        "offset": "2026-11-27T03:57:45+01:00",
        "ps": "/Date(1764147600000)/",
        "never": "/Date(-2208992400000)/",
        "collected_epoch": 1795748265,
        "jobs": [{"mtime": 1795741047, "size": 1795741047}],
        "text": "not a date",
    }
    moved = shift(raw, timedelta(days=-30, hours=2))
    assert moved == {
        "collected_at": "2026-10-28T04:57:45Z",
        "time": "2026-10-28T04:57:25.570059024Z",
        "offset": "2026-10-28T05:57:45+01:00",
        "ps": f"/Date({1764147600000 - (29 * 86400 + 22 * 3600) * 1000})/",
        "never": "/Date(-2208992400000)/",
        "collected_epoch": 1795748265 - 30 * 86400 + 7200,
        "jobs": [{"mtime": 1795741047 - 30 * 86400 + 7200, "size": 1795741047}],
        "text": "not a date",
    }


def _heads(url: str) -> dict[str, tuple[int, str]]:
    with Ledger(url) as ledger:
        return ledger.chain_heads()


def test_generate_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    client = load_client("example-acme")
    end = datetime(2026, 12, 1, tzinfo=ZoneInfo("Europe/Madrid"))
    runs: list[list[str]] = []
    heads: list[dict[str, tuple[int, str]]] = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        url = f"sqlite:///{tmp_path / name}.db"
        with Ledger(url) as ledger:
            runs.append(generate(ledger, client, end=end, seed=seed))
        heads.append(_heads(url))
    (runs_a, runs_b, runs_c), (heads_a, heads_b, heads_c) = runs, heads
    assert runs_a == runs_b and heads_a == heads_b  # same run ids, same rows, same chain
    assert heads_a != heads_c and runs_a != runs_c
    # 12 months: two skipped for holidays (Good Friday 3 Apr, 1 May), one missed (its MAINT-SCHED-01 run),
    # nine held, and the ticket run
    assert len(runs_a) == 11


def test_hosts_extra_makes_the_bench_client_of_fifty_hosts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from maint_devtools.history import write_inventory
    from runner.report.build import build_report
    from runner.report.period import month

    base = tmp_path / "inventories"
    base.mkdir()
    write_inventory(base, "bench", source=REPO / "inventories" / "example-acme", hosts_extra=44)
    monkeypatch.setenv("MAINT_INVENTORIES", str(base))
    client = load_client("bench")
    hosts = {h for hs in client.plan().values() for h in hs}
    assert len(hosts) == 48  # acme's 4 Linux and Windows hosts + 44 (its network devices run no role)
    with Ledger() as ledger:
        generate(ledger, client, months=3, end=datetime(2026, 12, 1, tzinfo=UTC), seed=1, hosts_extra=44)
        con = sqlite3.connect(tmp_path / "var" / "ledger.db")
        judged = {h for (h,) in con.execute("SELECT DISTINCT host FROM check_results WHERE client = 'bench'")}
        con.close()
        assert judged == hosts
        data = build_report(ledger, client, month("2026-11", "Europe/Madrid"))
    assert data["coverage"]["hosts_checked"] == 48 and data["summary"]["hosts"] == 50
