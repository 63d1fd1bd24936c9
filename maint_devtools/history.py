"""A realistic, deterministic ledger history of one client: monthly runs for tests and benchmarks.

Not the runtime (``maint_devtools``). :func:`generate` writes, for each of the ``months`` months before
``end`` (months in the client's time zone), what ``maint due`` would have written for the client's main
schedule, through the real :class:`runner.ledger.Ledger` API and with results judged by the REAL evaluators
on recorded outputs (``tests/data/**``, ``maint_devtools/sim_data``), their times moved into that month:

- a completed month: the run (``trigger="schedule"``, ``requested_by="maint due"``, the plan), a ``started``
  occurrence row, every role's results, the run's final event, a ``MAINT-SCHED-01`` pass per checked host and
  the ``completed`` row; network devices get a configuration snapshot (stored only when it changed, by
  :func:`runner.network.snapshots.store`) and their rule-pack review;
- one month ``missed`` (the scheduler was down: written by :mod:`runner.due`'s own code, a failed run of
  ``MAINT-SCHED-01`` fails) and one ``skipped`` month (a holiday of the client's calendar when one falls on
  the schedule, else a blackout day);
- the story a monthly report tells, perturbed by ``seed``: each Linux root file system and Windows data volume
  filling month after month; a backup job failing two months; a patch backlog that builds up and is fixed; an
  antivirus signature going stale for two months; a critical finding (SMART media errors) appearing and being
  resolved by a disk replacement; network configurations changing (NTP added, WAN admin access opened: a
  critical review finding); in the last month an ad hoc corrective run with a ticket (disk clean-up).

Every time written is back-dated: ``observed_at`` of the results, ``started_at`` of the runs, the
``recorded_at`` of every row and the snapshots' ``taken_at`` (the ledger's and the snapshot module's clock
is set to the simulated instant while a month is written). The same client, ``end`` and ``seed`` give the
same rows, run ids and hashes (the checkpoint, made once at the end, carries the real time).

``hosts_extra`` adds generated hosts (``gen-lnx-001``, ``gen-win-001``, ...) running the roles of the
client's own Linux / Windows hosts; :func:`write_inventory` writes a copy of a client's inventory with the
same hosts added, so a report's scope (the inventory now) holds them: the bench's 50-host client.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from runner import due as due_mod
from runner import evaluators
from runner import schedule_ledger as occ
from runner.inventory import Client
from runner.inventory.hostvars import platforms as host_platforms
from runner.ledger import Ledger, RunRecord, RunStatus, keys
from runner.ledger import store as store_mod
from runner.network import Platform, snapshots
from runner.redact import redact
from runner.results import CheckResult, Finding, Status
from runner.schedule import Occurrence, Plan, occurrences

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
SIM_DATA = Path(__file__).resolve().parent / "sim_data"

#: the technician of the generated ticket run
TECHNICIAN = "marta.tech"
#: roles judged on a Windows host (the rest of the host roles are Linux)
WINDOWS_ROLES = frozenset({"windows_patching", "windows_health", "windows_antivirus", "windows_backup"})
#: which evaluator kind judges each role's collected data (roles/<role>/tasks/evaluate.yml)
KINDS = {
    "linux_health": "linux_health",
    "linux_patching": "linux_patching",
    "linux_antivirus": "clamav",
    "linux_backup": "linux_backup",
    "linux_assets": "linux_assets",
    "windows_patching": "windows_updates",
    "windows_health": "windows_health",
    "windows_antivirus": "windows_antivirus",
    "windows_backup": "windows_backup",
}
GiB = 1024**3


# -- recorded outputs, moved in time -------------------------------------------------------------------------


def _load(relative: str) -> Any:
    return json.loads((DATA / relative).read_text(encoding="utf-8"))


_ISO = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$")
_MS = re.compile(r"^/Date\((\d+)\)/$")
_EPOCH_KEYS = frozenset({"collected_epoch", "build_time", "time_epoch", "mtime", "end_epoch", "start_epoch"})


def shift(value: Any, delta: timedelta, key: str = "") -> Any:
    """``value`` with every instant in it moved by ``delta``: ISO-8601 text (fraction and offset kept),
    PowerShell 5.1 ``/Date(ms)/`` (not the ``-2208992400000`` "never" marker), and epoch seconds under the
    collectors' epoch keys. Ages the evaluators compute from ``collected_at`` stay what was recorded."""
    if isinstance(value, dict):
        return {k: shift(v, delta, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [shift(v, delta, key) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and key in _EPOCH_KEYS and value > 0:
        return value + int(delta.total_seconds())
    if isinstance(value, str):
        ms = _MS.match(value)
        if ms:
            return f"/Date({int(ms.group(1)) + int(delta.total_seconds() * 1000)})/"
        iso = _ISO.match(value)
        if iso:
            moved = datetime.fromisoformat(f"{iso.group(1)}T{iso.group(2)}") + delta
            return f"{moved.strftime('%Y-%m-%dT%H:%M:%S')}{iso.group(3) or ''}{iso.group(4) or ''}"
    return value


def _collected(raw: Mapping[str, Any]) -> datetime:
    value = raw["collected_at"]
    ms = _MS.match(str(value))
    if ms:
        return datetime.fromtimestamp(int(ms.group(1)) / 1000, UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def at(raw: Mapping[str, Any], when: datetime) -> Any:
    """The recorded output as if collected at ``when``."""
    return shift(raw, when - _collected(raw))


def _ms(when: datetime) -> str:
    return f"/Date({int(when.timestamp() * 1000)})/"


# -- the story -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Story:
    """Which month (index, oldest first) each event of the story happens in."""

    months: int
    missed: int  # -1: none
    skipped: frozenset[int]
    backup_failing: frozenset[int]
    patch_backlog: dict[int, int]  # month -> pending security updates
    av_stale: frozenset[int]
    critical: frozenset[int]  # SMART media errors
    wan_admin_from: int  # the firewall's WAN admin access (critical) is opened in this month
    ntp_added: int  # the firewall gets NTP in this month
    ticket: int  # the ad hoc corrective run (the last month with a run); -1: none

    @classmethod
    def of(cls, months: int, natural_skips: Sequence[int]) -> Story:
        """The events placed on the months that have a run, counted back from the last one."""
        open_months = [i for i in range(months) if i not in natural_skips]
        missed = next((i for i in open_months if i >= months - 9), -1) if months > 2 else -1
        skipped = set(natural_skips)
        if not skipped and months > 3:  # one blackout day the calendar does not know
            skipped.add(next(i for i in range(months - 10, months) if i >= 0 and i != missed))
        runs = [i for i in range(months) if i not in skipped and i != missed]

        def back(*ks: int) -> list[int]:
            return [runs[-k] for k in ks if k <= len(runs)]

        after = months  # never
        return cls(
            months=months,
            missed=missed,
            skipped=frozenset(skipped),
            backup_failing=frozenset(back(7, 6)),
            patch_backlog=dict(zip(back(5, 4, 3), (1, 2, 3), strict=False)),
            av_stale=frozenset(back(4, 3)),
            critical=frozenset(back(5, 4)),
            wan_admin_from=next(iter(back(2)), after),
            ntp_added=next(iter(back(4)), after),
            ticket=runs[-1] if runs else -1,
        )


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random(":".join(map(str, (seed, *parts))))  # noqa: S311 - test data, not secrets


def _fill(seed: int, host: str, month: int, months: int) -> float:
    """Fraction of a host's main volume used in ``month``: a start and a monthly growth per host."""
    r = _rng(seed, "fill", host)
    start = 0.42 + 0.2 * r.random()
    growth = 0.022 + 0.024 * r.random()
    noise = _rng(seed, "fill", host, month).uniform(-0.004, 0.004)
    return min(0.97, start + growth * (month + 12 - months) + noise)


# -- raw data per role ---------------------------------------------------------------------------------------


def _linux_health(
    seed: int, host: str, month: int, critical: frozenset[int], when: datetime, fill: float
) -> Any:
    base = _load("linux_health/smart_nvme_media_errors.json")
    raw = at(base, when)
    raw["hostname"] = host
    root = raw["filesystems"]["items"][0]
    size = 80 * GiB + _rng(seed, "size", host).randrange(0, 8) * 20 * GiB
    used = int(size * fill)
    root.update(size_bytes=size, used_bytes=used, avail_bytes=size - used)
    smart = raw["smart"]
    if month not in critical:  # the failing NVMe disk is there only while the finding is open
        smart["disks"] = smart["disks"][:1]
        smart["scanned"] = 1
    raw["time_sync"] = _load("linux_health/healthy_vm.json")["time_sync"]
    raw["uptime"] = {"available": True, "seconds": 86400.0 * (3 + month % 20)}
    return raw


def _linux_patching(month: int, story: Story, when: datetime) -> Any:
    name = (
        "real_bookworm_security_pending.json"
        if month in story.patch_backlog
        else "real_bookworm_after_upgrade.json"
    )
    return at(_load(f"linux_patching/{name}"), when)


def _linux_antivirus(month: int, story: Story, when: datetime) -> Any:
    name = (
        "real_stale_database_missing_log.json"
        if month in story.av_stale
        else "real_fresh_database_clean_scan.json"
    )
    return at(_load(f"linux_antivirus/{name}"), when)


def _linux_backup(month: int, story: Story, when: datetime) -> Any:
    name = (
        "real_old_snapshot_recorded_mismatch.json"
        if month in story.backup_failing
        else "real_fresh_restore_live.json"
    )
    return at(_load(f"linux_backup/{name}"), when)


def _windows_patching(month: int, story: Story, when: datetime) -> Any:
    pending = story.patch_backlog.get(month, 0)
    if not pending:
        return at(_load("windows/patching/ps51_audit_up_to_date.json"), when)
    raw = at(_load("windows/patching/ps51_audit_pending_security.json"), when)
    search = raw["search"]
    updates = dict(list(search["updates"].items())[:pending])
    search["updates"] = updates
    search["found_update_count"] = len(updates)
    return raw


def _linux_assets(host: str, when: datetime) -> Any:
    """The Molecule container's recorded asset output, as this host's (ASSET-LNX-01 passes)."""
    raw = at(_load("linux_assets/real_debian12_container.json"), when)
    raw["nodename"] = host
    return raw


def _windows_health(host: str, when: datetime, fill: float) -> Any:
    raw = at(_load("windows/health/ps51_healthy_server2019.json"), when)
    raw["hostname"] = host.upper()
    data = raw["volumes"]["items"][1]
    data["FreeSpace"] = int(data["Size"] * (1 - fill))
    return raw


def _windows_antivirus(month: int, story: Story, when: datetime) -> Any:
    raw = at(_load("windows/antivirus/defender_healthy_ps51.json"), when)
    if month in story.av_stale:  # the update source was unreachable: 9 days without new signatures
        status = raw["defender"]["status"]
        age = 9 if month == min(story.av_stale) else 16
        updated = _ms(when - timedelta(days=age, hours=5))
        status.update(
            AntivirusSignatureAge=age,
            AntispywareSignatureAge=age,
            AntivirusSignatureLastUpdated=updated,
            AntispywareSignatureLastUpdated=updated,
            DefenderSignaturesOutOfDate=True,
        )
    return raw


def _windows_backup(index: int, month: int, story: Story, when: datetime) -> Any:
    raw = at(_load("windows/backup/veeam_healthy_ps51.json"), when)
    if index == 0 and month in story.backup_failing:  # the production job fails (repository full)
        raw["veeam"]["jobs"][0]["last_session"]["Result"] = 2
    return raw


# -- network configurations ----------------------------------------------------------------------------------


def _network_config(platform: str, month: int, story: Story, device_index: int) -> str:
    """The recorded configuration of ``platform`` as it stood in ``month``."""
    text = (SIM_DATA / platform / "running-config.txt").read_text(encoding="utf-8")
    if platform == Platform.FORTIOS.value:
        if month < story.wan_admin_from:  # the recorded WAN admin access is opened late in the year
            text = text.replace(
                "set allowaccess ping https ssh snmp http fgfm ftm", "set allowaccess ping", 1
            )
        if month >= story.ntp_added:
            text = (
                text.rstrip("\n")
                + "\nconfig system ntp\n    set ntpsync enable\n    set type fortiguard\nend\n"
            )
        return text
    # switches: an NTP server added (then moved) every few months, as a technician would
    changes = [m for m in range(1, story.months) if (m + device_index) % 4 == 0]
    done = [m for m in changes if m <= month]
    if not done:
        return text
    address = f"192.0.2.{100 + done[-1]}"
    line = {
        Platform.CISCO_IOS.value: f"ntp server {address}",
        Platform.ARUBA_AOSCX.value: f"ntp server {address}",
        Platform.ARUBA_AOSS.value: f"sntp server priority 2 {address}",
    }.get(platform, f"ntp server {address}")
    lines = text.splitlines()
    at_end = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].strip() == "end"), len(lines))
    lines.insert(at_end, line)
    return "\n".join(lines) + "\n"


# -- hosts -----------------------------------------------------------------------------------------------


def _host_plan(client: Client, roles: Sequence[str], hosts_extra: int) -> dict[str, list[str]]:
    """role -> hosts: the client's plan plus ``hosts_extra`` generated hosts (see :func:`extra_hosts`)."""
    plan = {role: list(hosts) for role, hosts in client.plan(roles).items()}
    for host, host_roles in extra_hosts(client, hosts_extra).items():
        for role in host_roles:
            if role in plan and host not in plan[role]:
                plan[role].append(host)
    return {role: sorted(hosts) for role, hosts in plan.items() if hosts}


def extra_hosts(client: Client, count: int) -> dict[str, list[str]]:
    """``count`` generated host names -> the roles each runs: alternately the roles of the client's Linux
    and Windows hosts (only Linux when it has no Windows host); network roles are never given to them."""
    if count <= 0:
        return {}
    plan = client.plan()
    by_host: dict[str, list[str]] = {}
    for role, hosts in plan.items():
        if role == "network_config":
            continue
        for host in hosts:
            by_host.setdefault(host, []).append(role)
    linux = sorted({r for roles in by_host.values() for r in roles if r not in WINDOWS_ROLES})
    windows = sorted({r for roles in by_host.values() for r in roles if r in WINDOWS_ROLES})
    kinds = [("lnx", linux)] + ([("win", windows)] if windows else [])
    kinds = [(k, roles) for k, roles in kinds if roles] or [("lnx", ["linux_health"])]
    out: dict[str, list[str]] = {}
    numbers = dict.fromkeys((k for k, _r in kinds), 0)
    for i in range(count):
        kind, roles = kinds[i % len(kinds)]
        numbers[kind] += 1
        out[f"gen-{kind}-{numbers[kind]:03d}"] = list(roles)
    return out


def write_inventory(base: Path, name: str, *, source: Path, hosts_extra: int) -> Path:
    """Copy the client folder ``source`` to ``base/name`` with the :func:`extra_hosts` of that client added
    to its ``linux`` / ``windows`` groups (created when missing); returns the new folder."""
    from runner.inventory import load_client

    target = base / name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    client = load_client(name, base)
    hosts_file = target / "hosts.yml"
    data = yaml.safe_load(hosts_file.read_text(encoding="utf-8"))
    children = data.setdefault("all", {}).setdefault("children", {})
    for host in extra_hosts(client, hosts_extra):
        group = "windows" if host.startswith("gen-win-") else "linux"
        entry = children.setdefault(group, {}) or {}
        children[group] = entry
        members = entry.setdefault("hosts", {}) or {}
        entry["hosts"] = members
        members[host] = (
            {"ansible_host": "192.0.2.250"} if group == "windows" else {"ansible_connection": "local"}
        )
    hosts_file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return target


# -- writing -----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _clock(when: list[datetime]) -> Iterator[None]:
    """The ledger's and the snapshot module's clock read ``when[0]`` (back-dated rows); one generator at a
    time per process (module globals are swapped while it writes)."""
    saved = store_mod._now, snapshots._now

    def now() -> str:
        return when[0].astimezone(UTC).isoformat(timespec="microseconds")

    store_mod._now = now
    snapshots._now = now
    try:
        yield
    finally:
        store_mod._now, snapshots._now = saved


def _run_id(seed: int, client: str, when: datetime, what: str) -> str:
    digest = hashlib.sha256(f"{seed}:{client}:{when.isoformat()}:{what}".encode()).hexdigest()[:6]
    return f"{when.strftime('%Y%m%dT%H%M%SZ')}-{digest}"


def _months(end: datetime, zone: str, months: int) -> list[tuple[datetime, datetime]]:
    """The ``months`` calendar months (client time) before the month containing ``end``, as (start, end)
    UTC instants, oldest first (``end`` a month's first instant: the months before that one)."""
    tz = ZoneInfo(zone)
    local = end.astimezone(tz)
    first = date(local.year, local.month, 1)
    out = []
    for _ in range(months):
        prev = date(first.year - (first.month == 1), 12 if first.month == 1 else first.month - 1, 1)
        start = datetime(prev.year, prev.month, 1, tzinfo=tz).astimezone(UTC)
        stop = datetime(first.year, first.month, 1, tzinfo=tz).astimezone(UTC)
        out.append((start, stop))
        first = prev
    return out[::-1]


def _main_schedule(client: Client, roles: Sequence[str]) -> str | None:
    enabled = [s for s in client.settings.schedules if s.enabled]
    if not enabled:
        return None
    return max(enabled, key=lambda s: (len(set(s.roles) & set(roles)), -enabled.index(s))).name


def _occurrence(
    client: Client, schedule: str | None, start: datetime, stop: datetime, roles: Sequence[str]
) -> Occurrence:
    """The schedule's occurrence in the month (its first one; a skipped one when that is all there is),
    else the first Saturday 22:00 local of a made-up monthly schedule."""
    if schedule is not None:
        found = [
            o
            for o in occurrences(client.name, client.settings, start, stop, schedules=[schedule])
            if start <= o.start < stop
        ]
        running = [o for o in found if o.runs]
        if running or found:
            return (running or found)[0]
    tz = ZoneInfo(client.settings.timezone)
    local = start.astimezone(tz)
    day = date(local.year, local.month, 1)
    while day.weekday() != 5:
        day += timedelta(days=1)
    begin = datetime(day.year, day.month, day.day, 22, tzinfo=tz).astimezone(UTC)
    from runner.modes import Mode

    return Occurrence(
        client=client.name,
        schedule=schedule or "monthly-audit",
        zone=client.settings.timezone,
        start=begin,
        end=begin + timedelta(hours=4),
        roles=tuple(roles),
        mode=Mode.AUDIT,
        min_run_minutes=15,
    )


class _Writer:
    def __init__(
        self, ledger: Ledger, client: Client, seed: int, story: Story, plan: Mapping[str, list[str]]
    ):
        self.ledger, self.client, self.seed, self.story, self.plan = ledger, client, seed, story, plan
        self.clock = [datetime.now(UTC)]
        self.platforms = host_platforms(client)
        self.windows = sorted({h for r, hs in plan.items() if r in WINDOWS_ROLES for h in hs})
        self.devices = sorted(plan.get("network_config", []))

    def results(
        self,
        run_id: str,
        month: int,
        when: datetime,
        *,
        ticket: str | None = None,
        fill_cap: float | None = None,
        plan: Mapping[str, Sequence[str]] | None = None,
    ) -> list[tuple[str, CheckResult]]:
        out: list[tuple[str, CheckResult]] = []
        story, seed = self.story, self.seed
        for role, hosts in sorted((plan or self.plan).items()):
            for index, host in enumerate(hosts):
                observed = when + timedelta(seconds=20 + 7 * index + 3 * len(role))
                fill = _fill(seed, host, month, story.months)
                if fill_cap is not None:
                    fill = min(fill, fill_cap)
                if role == "network_config":
                    findings = self._network(run_id, host, month, observed)
                else:
                    kind = KINDS.get(role)
                    if kind is None:
                        raise ValueError(f"maint_devtools.history: no recorded output for role {role!r}")
                    raw = self._raw(role, host, month, observed, fill)
                    findings = evaluators.evaluate(kind, raw, self.client.settings.thresholds.get(role) or {})
                for i, finding in enumerate(findings):
                    result = CheckResult.from_finding(
                        finding.model_copy(update={"evidence": redact(finding.evidence)}),
                        host=host,
                        client=self.client.name,
                        run_id=run_id,
                        role=role,
                        ticket=ticket,
                        observed_at=observed,
                    )
                    out.append((f"{run_id}:{host}:{role}:{i}", result))
        return out

    def _raw(self, role: str, host: str, month: int, when: datetime, fill: float) -> Any:
        story = self.story
        if role == "linux_health":
            first = (self.plan.get("linux_health") or [host])[0]  # one disk fails: the first host's
            return _linux_health(
                self.seed, host, month, story.critical if host == first else frozenset(), when, fill
            )
        if role == "linux_patching":
            return _linux_patching(month, story, when)
        if role == "linux_antivirus":
            return _linux_antivirus(month, story, when)
        if role == "linux_backup":
            return _linux_backup(month, story, when)
        if role == "linux_assets":
            return _linux_assets(host, when)
        if role == "windows_patching":
            return _windows_patching(month if host == self.windows[0] else -1, story, when)
        if role == "windows_health":
            return _windows_health(host, when, fill - 0.12)  # data volumes start emptier
        if role == "windows_antivirus":
            return _windows_antivirus(month if host == self.windows[-1] else -1, story, when)
        return _windows_backup(self.windows.index(host), month, story, when)

    def _network(self, run_id: str, device: str, month: int, when: datetime) -> list[Finding]:
        platform = Platform(self.platforms.get(device) or Platform.CISCO_IOS.value)
        text = _network_config(platform.value, month, self.story, self.devices.index(device))
        self.clock[0] = when
        outcome = snapshots.store(
            self.ledger,
            client=self.client.name,
            device=device,
            platform=platform,
            raw=text,
            run_id=run_id,
            use_env_key=False,
        )
        ref = {"id": outcome.snapshot_id, "hash": outcome.content_hash}
        overrides = self.client.settings.thresholds.get("network_config") or {}
        findings = evaluators.evaluate(
            "network_config", {"platform": platform.value, "config": text}, overrides
        )
        return [f.model_copy(update={"evidence": {**f.evidence, "snapshot": ref}}) for f in findings]


def generate(
    ledger: Ledger,
    client: Client,
    *,
    months: int = 12,
    end: datetime,
    seed: int,
    hosts_extra: int = 0,
) -> list[str]:
    """Write ``months`` months of the client's history before ``end``; return the run ids, oldest first."""
    if months < 1:
        raise ValueError(f"months {months}: expected at least 1")
    end = end.astimezone(UTC)
    roles = list(client.settings.roles)
    plan = _host_plan(client, roles, hosts_extra)
    if not plan:
        raise ValueError(f"client {client.name!r}: no role selects any host")
    schedule = _main_schedule(client, roles)
    windows = _months(end, client.settings.timezone, months)
    found = [_occurrence(client, schedule, a, b, roles) for a, b in windows]
    story = Story.of(months, [i for i, o in enumerate(found) if not o.runs])
    writer = _Writer(ledger, client, seed, story, plan)
    run_ids: list[str] = []
    with _clock(writer.clock):
        for month, o in enumerate(found):
            if month in story.skipped and o.runs:  # a blackout day the client's calendar does not know yet
                o = replace(o, plan=Plan.SKIPPED, notes=("skipped: blackout day (office move)",))
            if not o.runs:
                writer.clock[0] = o.start
                skip = due_mod.Decision(o, due_mod.Action.SKIP, reason="; ".join(o.notes))
                due_mod._apply(ledger, client, skip, [], o.start, None)
                continue
            if month == story.missed:
                run_ids.append(_missed(writer, o))
                continue
            run_ids.append(_completed(writer, o, month))
        if story.ticket >= 0:
            run_ids.append(_ticket(writer, found[story.ticket], story.ticket))
    ledger.checkpoint(client.name, keys.load_signer())  # signed when a ledger key is configured, as a run's
    return run_ids


def _missed(w: _Writer, o: Occurrence) -> str:
    """The occurrence recorded missed by :mod:`runner.due`'s own code (the scheduler was down)."""
    noticed = o.end + timedelta(hours=9, minutes=12)  # the scheduler came back the next morning
    w.clock[0] = noticed
    run_id = _run_id(w.seed, w.client.name, noticed, o.id)
    decision = due_mod.Decision(o, due_mod.Action.MISSED, reason="the window closed before any run started")
    names = due_mod.__dict__  # due's own code, with the run id it makes chosen here (deterministic)
    saved = names["new_run_id"]
    names["new_run_id"] = lambda now=None: run_id
    try:
        due_mod._record_missed(w.ledger, w.client, decision, noticed)
    finally:
        names["new_run_id"] = saved
    return run_id


def _completed(w: _Writer, o: Occurrence, month: int) -> str:
    ledger, client = w.ledger, w.client
    begin = o.start + timedelta(minutes=1, seconds=month % 7)
    run_id = _run_id(w.seed, client.name, begin, o.id)
    planned = sorted({h for hs in w.plan.values() for h in hs})
    w.clock[0] = begin
    ledger.start_run(
        RunRecord(
            run_id=run_id,
            client=client.name,
            mode=o.mode.value,
            roles=sorted(w.plan),
            reason=f"schedule {o.schedule}, occurrence {o.id}",
            playbook="site.yml",
            trigger="schedule",
            requested_by=due_mod.REQUESTED_BY,
            started_at=begin,
        ),
        plan=w.plan,
    )
    ledger.append(
        occ.schedule_occurrences,
        [
            due_mod._row(
                o,
                occ.OccurrenceState.STARTED,
                begin,
                run_id=run_id,
                detail={"attempt": 1, "hosts": planned, "limit": None},
            )
        ],
    )
    results = w.results(run_id, month, begin)
    w.clock[0] = begin + timedelta(minutes=6)
    ledger.record(results)
    done = begin + timedelta(minutes=9, seconds=len(planned))
    w.clock[0] = done
    ledger.finish_run(run_id, RunStatus.SUCCESSFUL)
    finding = due_mod.SCHEDULE_CONTROL.finding(
        Status.PASS, evidence=due_mod._evidence(o, "maintained inside its window")
    )
    ledger.record(
        [
            (
                f"schedule:{o.id}:{host}",
                CheckResult.from_finding(
                    finding, host=host, client=client.name, run_id=run_id, observed_at=done
                ),
            )
            for host in planned
        ]
    )
    ledger.append(
        occ.schedule_occurrences,
        [
            due_mod._row(
                o,
                occ.OccurrenceState.COMPLETED,
                done,
                run_id=run_id,
                detail={"hosts": planned, "attempts": 1},
            )
        ],
    )
    return run_id


def _ticket(w: _Writer, o: Occurrence, month: int) -> str:
    """The ad hoc corrective run: the fullest Linux host's disk cleaned up, 2.5 days after the monthly run."""
    linux = w.plan.get("linux_health") or []
    role, hosts = ("linux_health", linux) if linux else next(iter(sorted(w.plan.items())))
    host = max(hosts, key=lambda h: (_fill(w.seed, h, month, w.story.months), h))
    begin = o.start + timedelta(days=3, hours=-12, minutes=17)
    ticket = f"T-{4000 + w.seed % 1000}"
    run_id = _run_id(w.seed, w.client.name, begin, ticket)
    w.clock[0] = begin
    w.ledger.start_run(
        RunRecord(
            run_id=run_id,
            client=w.client.name,
            mode="audit",
            roles=[role],
            limit=host,
            ticket=ticket,
            reason="disk almost full: old logs and package caches removed, checked again",
            playbook="role.yml",
            trigger="manual",
            requested_by=TECHNICIAN,
            started_at=begin,
        ),
        plan={role: [host]},
    )
    _intervention(w, run_id, ticket, role, host, opened=o.start + timedelta(hours=13, minutes=40), at=begin)
    results = w.results(run_id, month, begin, ticket=ticket, fill_cap=0.52, plan={role: [host]})
    w.clock[0] = begin + timedelta(minutes=2)
    w.ledger.record(results)
    w.clock[0] = begin + timedelta(minutes=3)
    w.ledger.finish_run(run_id, RunStatus.SUCCESSFUL)
    return run_id


def _intervention(
    w: _Writer, run_id: str, ticket: str, role: str, host: str, *, opened: datetime, at: datetime
) -> None:
    """The ticket's intervention row (:mod:`runner.interventions`), as ``maint run --ticket`` records it:
    the technician, when the ticket was opened, the control it is about (the disk's)."""
    try:
        from runner import interventions
    except ImportError:  # a checkout without corrective interventions yet
        return
    controls = ["HEALTH-LNX-01"] if role == "linux_health" else []
    record = interventions.prepare(
        w.client,
        {role: [host]},
        ticket=ticket,
        technician=TECHNICIAN,
        opened_at=opened,
        controls=controls,
        review=False,
        limit=host,
        now=at,
        review_run_id=None,
    )
    record.record(w.ledger, run_id, at)


__all__ = ["TECHNICIAN", "Story", "extra_hosts", "generate", "shift", "write_inventory"]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m maint_devtools.history CLIENT``: the generated history written into the ledger at
    ``MAINT_DB_URL``, which must be set (a scratch ledger: this is made-up data, never the real one)."""
    import argparse
    import os
    import sys

    from runner.inventory import load_client
    from runner.inventory.loader import InventoryError, UnknownClientError

    parser = argparse.ArgumentParser(prog="python -m maint_devtools.history", description=main.__doc__)
    parser.add_argument("client")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--end", help="YYYY-MM: the history is the months before this one (default: this month)"
    )
    parser.add_argument("--hosts-extra", type=int, default=0)
    args = parser.parse_args(argv)
    url = os.environ.get("MAINT_DB_URL", "")
    if not url:
        print("MAINT_DB_URL: set it to a scratch ledger (e.g. sqlite:///var/history.db)", file=sys.stderr)
        return 2
    try:
        client = load_client(args.client)
    except (InventoryError, UnknownClientError) as exc:
        print(f"client {args.client}: {exc}", file=sys.stderr)
        return 2
    zone = ZoneInfo(client.settings.timezone)
    if args.end is None:
        local = datetime.now(zone)
        end = datetime(local.year, local.month, 1, tzinfo=zone)
    else:
        found = re.fullmatch(r"(\d{4})-(\d{2})", args.end)
        if found is None or not 1 <= int(found.group(2)) <= 12:
            print(f"--end {args.end}: expected YYYY-MM", file=sys.stderr)
            return 2
        end = datetime(int(found.group(1)), int(found.group(2)), 1, tzinfo=zone)
    if args.months < 1 or args.hosts_extra < 0:
        print("--months must be at least 1 and --hosts-extra at least 0", file=sys.stderr)
        return 2
    with Ledger(url) as ledger:
        ids = generate(
            ledger, client, months=args.months, end=end, seed=args.seed, hosts_extra=args.hosts_extra
        )
    months = f"the {args.months} months before {end:%Y-%m}"
    print(f"{client.name}: {len(ids)} runs written to {ledger.display_url}, {months}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
