"""The current state of a client: a function of the ledger and of the client's inventory *now*.

Per host and control that applies today, the latest result, and when that one is ``not_checked`` or
``error``, the last conclusive one before it ("not checked on 2026-12-05: timeout; last known fail on
2026-11-03"). Nothing is deleted from the ledger; a control simply leaves the state when

- its host is no longer in the inventory,
- its role is no longer assigned to the host (``maintenance.roles``, resolved by Ansible as a run's plan is),
- it is retired or unknown to the catalogue, or
- it does not apply to the host's platform (a network device's ``network_config_platform`` host variable,
  from ``hosts.yml``, ``group_vars/`` or ``host_vars/``: a Cisco switch is never judged by FortiOS rules).

A (host, control) that applies but was never recorded is shown ``not_checked`` "never checked". The
runner's own controls (``MAINT-*``) are shown when recorded, while their host is in the inventory (and
the role a row names, if any, is still assigned to it). Waivers and the pass rule: :mod:`runner.status`.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from runner import catalogue as catalogue_mod
from runner.catalogue import Catalogue, ControlSpec
from runner.inventory.schema import ClientSettings, Waiver
from runner.results import CheckResult, Domain, Severity, Status
from runner.status import WAIVED, Waivers, client_today, not_passing, note, reason_of, unreachable

if TYPE_CHECKING:
    from runner.inventory import Client
    from runner.ledger import Ledger

NEVER_CHECKED = "never checked"
#: (host, control) pairs -> per recorded pair its latest row and, when that is inconclusive, the latest
#: conclusive one (the shape of :meth:`runner.ledger.Ledger.current_rows`)
StoredRows = Callable[
    [Sequence[tuple[str, str]]], Mapping[tuple[str, str], tuple[Mapping[str, Any], Mapping[str, Any] | None]]
]
#: display order: what needs doing first
STATUS_ORDER = {
    Status.ERROR.value: 0,
    Status.FAIL.value: 0,
    Status.WARN.value: 1,
    Status.NOT_CHECKED.value: 2,
    WAIVED: 3,
    Status.PASS.value: 4,
    Status.NOT_APPLICABLE.value: 5,
}
SEVERITY_ORDER = {s.value: i for i, s in enumerate(Severity)}
#: the effective statuses a row can show
EFFECTIVE = (*(s.value for s in Status), WAIVED)


# --------------------------------------------------------------------------- scope


@dataclass(frozen=True)
class Scope:
    """What the client's inventory says now: its hosts, the roles each one runs, each one's platform."""

    client: str
    hosts: tuple[str, ...]
    roles: Mapping[str, frozenset[str]]  # host -> roles assigned to it
    platforms: Mapping[str, str | None]  # host -> network_config_platform

    @classmethod
    def of(cls, client: Client) -> Scope:
        """Roles resolved as a run's plan is (Ansible on the hosts file); platforms from the host vars."""
        from runner.inventory.hostvars import platforms

        plan = client.plan()
        hosts = tuple(client.ansible_hosts().hosts)
        roles: dict[str, set[str]] = {host: set() for host in hosts}
        for role, planned in plan.items():
            for host in planned:
                roles.setdefault(host, set()).add(role)
        return cls(
            client=client.name,
            hosts=hosts,
            roles={host: frozenset(found) for host, found in roles.items()},
            platforms=platforms(client),
        )


def applicable(scope: Scope, cat: Catalogue) -> dict[tuple[str, str], ControlSpec]:
    """(host, control) -> control, for every control of a role the host runs that applies to its platform."""
    by_role: dict[str, list[ControlSpec]] = {}
    found: dict[tuple[str, str], ControlSpec] = {}
    for host in scope.hosts:
        platform = scope.platforms.get(host)
        for role in sorted(scope.roles.get(host, ())):
            specs = by_role.get(role)
            if specs is None:
                specs = by_role[role] = cat.for_role(role)
            for spec in specs:
                if spec.applies_to(platform):
                    found[(host, spec.id)] = spec
    return found


def runner_controls(cat: Catalogue) -> list[ControlSpec]:
    """The runner's own checks (catalogue role null): MAINT-ROLE-01, MAINT-SCHED-01, MAINT-WINDOW-01."""
    return [spec for spec in cat.controls.values() if spec.role is None and spec.retired is None]


# --------------------------------------------------------------------------- rows


class Seen:
    """One stored result, read lazily (the fleet view touches only status, severity and the reason)."""

    __slots__ = ("__dict__", "raw")

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw

    @classmethod
    def of(cls, result: CheckResult) -> Seen:
        seen = cls({"evidence": None})
        seen.__dict__["result"] = result
        seen.__dict__["evidence"] = result.evidence
        seen.__dict__["status"] = result.status
        seen.__dict__["observed_at"] = result.observed_at
        return seen

    @cached_property
    def status(self) -> Status:
        return Status(self.raw["status"])

    @cached_property
    def severity(self) -> Severity:
        return Severity(self.raw["severity"]) if "result" not in self.__dict__ else self.result.severity

    @cached_property
    def evidence(self) -> dict[str, Any]:
        value = json.loads(self.raw["evidence"])
        return value if isinstance(value, dict) else {}

    @cached_property
    def reason(self) -> str:
        if self.status is Status.PASS and "evidence" not in self.__dict__:
            return ""
        return reason_of(self.evidence)

    @cached_property
    def observed_at(self) -> datetime:
        value = datetime.fromisoformat(self.raw["observed_at"])
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @cached_property
    def result(self) -> CheckResult:
        from runner.ledger.store import result_of

        return result_of(self.raw)

    @property
    def role(self) -> str:
        return str(self.raw["role"]) if "role" in self.raw else self.result.role


@dataclass(frozen=True)
class StateRow:
    """One (host, control) of the current state."""

    host: str
    control: str
    spec: ControlSpec | None
    latest: Seen | None  # None: never checked
    last_conclusive: Seen | None = None  # the latest pass/fail/warn/not_applicable when ``latest`` is not one
    waiver: Waiver | None = None
    expired_waiver: Waiver | None = None

    @cached_property
    def status(self) -> Status:
        return self.latest.status if self.latest is not None else Status.NOT_CHECKED

    @cached_property
    def effective(self) -> str:
        """The status a report shows: the stored one, or ``waived``."""
        if self.waiver is not None and self.status not in (Status.PASS, Status.NOT_APPLICABLE):
            return WAIVED
        return self.status.value

    @cached_property
    def severity(self) -> Severity:
        if self.latest is not None:
            return self.latest.severity
        return self.spec.severity if self.spec is not None else Severity.INFO

    @cached_property
    def reason(self) -> str:
        return self.latest.reason if self.latest is not None else NEVER_CHECKED

    @cached_property
    def unreachable(self) -> bool:
        return unreachable(self.status, self.reason)

    @cached_property
    def failing(self) -> bool:
        """Counts as not passing (waivers applied): what the exit code says."""
        if self.effective == WAIVED:
            return False
        last = self.last_conclusive.status if self.last_conclusive is not None else None
        return not_passing(self.status, self.reason, last)

    @property
    def title(self) -> str:
        if self.latest is not None:
            return str(self.latest.raw["title"]) if "title" in self.latest.raw else self.latest.result.title
        return self.spec.title if self.spec is not None else self.control

    @property
    def domain(self) -> str:
        if self.spec is not None:
            return self.spec.domain.value
        return self.latest.result.domain.value if self.latest is not None else Domain.INVENTORY.value

    @property
    def observed_at(self) -> datetime | None:
        return self.latest.observed_at if self.latest is not None else None

    @property
    def note(self) -> str:
        """Full text: the waiver, or why it was not judged and what was last known, or the reason."""
        if self.status in (Status.PASS, Status.NOT_APPLICABLE):  # needs no waiver, shows none
            return "" if self.status is Status.PASS else self.reason
        waived = note(self.waiver, self.expired_waiver)
        if self.waiver is not None:
            return waived
        parts = [waived] if waived else []
        status = self.status
        if self.latest is None:
            parts.append(NEVER_CHECKED)
        elif status in (Status.NOT_CHECKED, Status.ERROR):
            word = "not checked" if status is Status.NOT_CHECKED else "error"
            when = self.latest.observed_at.strftime("%Y-%m-%d")
            text = f"{word} on {when}: {self.reason or 'no reason recorded'}"
            if self.unreachable:
                text += " (host not reached: counts as not passing)"
            if self.last_conclusive is not None:
                last = self.last_conclusive
                text += f"; last known {last.status.value} on {last.observed_at.strftime('%Y-%m-%d')}"
            parts.append(text)
        else:  # fail, warn
            parts.append(self.latest.reason or self.latest.result.remediation)
        return "; ".join(p for p in parts if p)

    def sort_key(self) -> tuple[int, int, str, str]:
        return (STATUS_ORDER[self.effective], SEVERITY_ORDER[self.severity.value], self.host, self.control)

    def as_dict(self) -> dict[str, Any]:
        if self.latest is not None:
            data = self.latest.result.model_dump(mode="json")
        else:
            data = {
                "control": self.control,
                "title": self.title,
                "domain": self.domain,
                "status": Status.NOT_CHECKED.value,
                "severity": self.severity.value,
                "evidence": {"reason": NEVER_CHECKED},
                "remediation": self.spec.remediation if self.spec is not None else "",
                "host": self.host,
                "client": None,
                "run_id": None,
                "observed_at": None,
                "role": self.spec.role if self.spec is not None else "",
                "ticket": None,
            }
        # the latest result's seq in the client's chain: `maint ledger prove CLIENT --seq N` proves that row
        data["ledger_seq"] = self.latest.raw.get("seq") if self.latest is not None else None
        data["effective_status"] = self.effective
        data["failing"] = self.failing
        data["unreachable"] = self.unreachable
        data["note"] = self.note
        last = self.last_conclusive
        data["last_conclusive"] = (
            None
            if last is None
            else {
                "status": last.status.value,
                "observed_at": last.observed_at.isoformat(),
                "run_id": last.result.run_id,
                "evidence": last.evidence,
            }
        )
        return data


# --------------------------------------------------------------------------- state


@dataclass(frozen=True)
class ClientState:
    client: str
    display_name: str
    scope: Scope
    rows: tuple[StateRow, ...]

    @property
    def failing(self) -> list[StateRow]:
        return [row for row in self.rows if row.failing]

    @property
    def exit_code(self) -> int:
        return 1 if any(row.failing for row in self.rows) else 0

    @property
    def unreachable_hosts(self) -> list[str]:
        return sorted({row.host for row in self.rows if row.unreachable and row.effective != WAIVED})

    def counts(self) -> dict[str, int]:
        found = Counter(row.effective for row in self.rows)
        return {status: found.get(status, 0) for status in EFFECTIVE}

    def filtered(
        self,
        *,
        statuses: Iterable[str] = (),
        severities: Iterable[str] = (),
        domains: Iterable[str] = (),
        hosts: Iterable[str] = (),
    ) -> list[StateRow]:
        wanted_s, wanted_v, wanted_d, wanted_h = set(statuses), set(severities), set(domains), set(hosts)
        return [
            row
            for row in self.rows
            if (not wanted_s or row.effective in wanted_s)
            and (not wanted_v or row.severity.value in wanted_v)
            and (not wanted_d or row.domain in wanted_d)
            and (not wanted_h or row.host in wanted_h)
        ]


def _in_scope_runner_row(scope: Scope, cat: Catalogue, host: str, seen: Seen) -> bool:
    """A runner control's row stays while its host is in the inventory and the role it names (if any
    the catalogue knows) is still assigned to that host."""
    role = seen.role
    return not role or role not in cat.roles or role in scope.roles.get(host, frozenset())


def compute(
    ledger: Ledger,
    client: Client,
    *,
    cat: Catalogue | None = None,
    scope: Scope | None = None,
    now: datetime | None = None,
    hosts: Sequence[str] | None = None,
    stored_rows: StoredRows | None = None,
) -> ClientState:
    """The current state of ``client`` (``hosts``: only those), waivers applied as of ``now``.

    ``stored_rows`` answers what :meth:`Ledger.current_rows` does (a report takes the state as it was at an
    instant from rows it already read); the ledger is asked when it is None.
    """
    cat = cat or catalogue_mod.load()
    scope = scope or Scope.of(client)
    wanted = set(hosts) if hosts is not None else None
    expected = {k: v for k, v in applicable(scope, cat).items() if wanted is None or k[0] in wanted}
    runner = runner_controls(cat)
    runner_pairs = {
        (host, spec.id): spec for host in scope.hosts if wanted is None or host in wanted for spec in runner
    }
    wanted_pairs = [*expected, *runner_pairs]
    if stored_rows is not None:
        stored = stored_rows(wanted_pairs)
    else:
        stored = ledger.current_rows(client.name, wanted_pairs)
    waivers = Waivers(client.settings.waivers, client_today(client.settings, now))
    rows: list[StateRow] = []
    for pair, spec in [*expected.items(), *runner_pairs.items()]:
        host, control = pair
        found = stored.get(pair)
        if found is None:
            if pair in runner_pairs:
                continue  # the runner's own checks are shown only once recorded
            latest, last = None, None
        else:
            latest, last = Seen(found[0]), Seen(found[1]) if found[1] is not None else None
            if pair in runner_pairs and not _in_scope_runner_row(scope, cat, host, latest):
                continue
        live, expired = waivers.lookup(control, host)
        rows.append(StateRow(host, control, spec, latest, last, live, expired))
    rows.sort(key=StateRow.sort_key)
    return ClientState(client.name, client.settings.display_name, scope, tuple(rows))


def run_rows(
    results: Sequence[CheckResult], settings: ClientSettings, now: datetime | None = None
) -> list[StateRow]:
    """A run's own results as rows (waivers applied), for its table and exit code."""
    waivers = Waivers(settings.waivers, client_today(settings, now))
    try:
        cat: Catalogue | None = catalogue_mod.load()
    except catalogue_mod.CatalogueError:
        cat = None
    rows = []
    for result in results:
        spec = cat.controls.get(result.control) if cat is not None else None
        live, expired = waivers.lookup(result.control, result.host)
        rows.append(StateRow(result.host, result.control, spec, Seen.of(result), None, live, expired))
    return rows


# --------------------------------------------------------------------------- fleet


@dataclass(frozen=True)
class FleetLine:
    """One client of ``maint status`` with no client."""

    client: str
    display_name: str = ""
    problem: str = ""  # why the state could not be computed (no inventory, invalid inventory)
    hosts: int = 0
    applicable: int = 0
    passing: int = 0  # pass + waived
    waived: int = 0
    fails: Mapping[str, int] = field(default_factory=dict)  # severity -> effective fail
    errors: int = 0
    not_checked: int = 0
    unreachable_hosts: int = 0
    failing: int = 0
    last_run: str | None = None  # ISO start (UTC)
    last_run_status: str | None = None
    next_window: str | None = None  # ISO start, client time
    missed: int = 0

    @property
    def compliance(self) -> float | None:
        """pass (waived counted as pass) / applicable (not_applicable left out); None if nothing applies."""
        return round(100.0 * self.passing / self.applicable, 1) if self.applicable else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "display_name": self.display_name,
            "problem": self.problem or None,
            "hosts": self.hosts,
            "applicable": self.applicable,
            "passing": self.passing,
            "waived": self.waived,
            "compliance_pct": self.compliance,
            "fails": dict(self.fails),
            "errors": self.errors,
            "not_checked": self.not_checked,
            "unreachable_hosts": self.unreachable_hosts,
            "failing": self.failing,
            "last_run": self.last_run,
            "last_run_status": self.last_run_status,
            "next_window": self.next_window,
            "missed_this_month": self.missed,
        }


def summarise(state: ClientState) -> dict[str, Any]:
    """The fleet line's numbers of one client state."""
    fails = {s.value: 0 for s in Severity}
    passing = waived = errors = not_checked = failing = applicable_n = 0
    for row in state.rows:
        effective = row.effective
        if effective == Status.NOT_APPLICABLE.value:
            continue
        applicable_n += 1
        if effective == Status.PASS.value:
            passing += 1
            continue
        if effective == WAIVED:
            passing += 1
            waived += 1
            continue
        if effective == Status.FAIL.value:
            fails[row.severity.value] += 1
        elif effective == Status.ERROR.value:
            errors += 1
        elif effective == Status.NOT_CHECKED.value:
            not_checked += 1
        failing += row.failing
    return {
        "hosts": len(state.scope.hosts),
        "applicable": applicable_n,
        "passing": passing,
        "waived": waived,
        "fails": fails,
        "errors": errors,
        "not_checked": not_checked,
        "unreachable_hosts": len(state.unreachable_hosts),
        "failing": failing,
    }


def month_start(settings_zone: str, now: datetime) -> datetime:
    """The start of the current calendar month in the client's time zone, as UTC."""
    local = now.astimezone(ZoneInfo(settings_zone))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


#: bump when the rules above change: cached fleet lines of an older version are recomputed
CACHE_VERSION = 1


def _inventory_fingerprint(root: Path) -> str:
    """SHA-256 of every file of a client folder (names and contents): what its state depends on there."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"unreadable")
        digest.update(b"\0")
    return digest.hexdigest()


def _catalogue_fingerprint(cat: Catalogue) -> str:
    facts = [(c.id, c.role, c.platforms, c.retired, c.severity.value, c.title) for c in cat.controls.values()]
    code = b"".join((Path(__file__).read_bytes(), Path(__file__).with_name("status.py").read_bytes()))
    return hashlib.sha256(json.dumps([CACHE_VERSION, facts]).encode() + code).hexdigest()


class FleetCache:
    """Fleet lines kept under ``var/cache/state/``, one file per client, reused while the client's chain
    head (the ledger is append-only: nothing about its rows changes unless it moves), its inventory files,
    the catalogue and this code are the same, its day (waivers expire by the day) has not changed and its
    next window has not started. Anything else computes the line again. Deleting the folder is harmless."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def get(self, client: str, key: Mapping[str, Any], now: datetime) -> dict[str, Any] | None:
        if self.folder is None:
            return None
        try:
            entry = json.loads((self.folder / f"{client}.json").read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("key") != dict(key):
            return None
        zone = entry.get("timezone")
        if (
            not isinstance(zone, str)
            or entry.get("today") != now.astimezone(ZoneInfo(zone)).date().isoformat()
        ):
            return None
        upcoming = entry.get("next_utc")
        if upcoming is not None and datetime.fromisoformat(upcoming) <= now:
            return None
        line = entry.get("line")
        return line if isinstance(line, dict) else None

    def put(self, client: str, key: Mapping[str, Any], entry: dict[str, Any]) -> None:
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = self.folder / f".{client}.json.tmp"
            tmp.write_text(json.dumps({"key": dict(key), **entry}))
            tmp.replace(self.folder / f"{client}.json")
        except OSError:  # a read-only var/: the view is only slower
            pass


def fleet(
    ledger: Ledger,
    *,
    now: datetime | None = None,
    inventories: Path | None = None,
    cat: Catalogue | None = None,
    cache: FleetCache | None = None,
) -> list[FleetLine]:
    """One line per client folder under inventories/ and per client in the ledger."""
    from runner import paths
    from runner import schedule_ledger as occ
    from runner.inventory import Problem, list_clients, validate_client
    from runner.schedule import next_occurrences
    from runner.schedule_ledger import OccurrenceState

    now = now or datetime.now(UTC)
    cat = cat or catalogue_mod.load()
    cache = cache if cache is not None else FleetCache(paths.var_dir() / "cache" / "state")
    base = inventories or paths.inventories_dir()
    folders = list_clients(base)
    heads = ledger.chain_heads()
    last_runs = ledger.last_runs()
    names = sorted(set(folders) | set(heads) | set(last_runs))
    catalogue_key = _catalogue_fingerprint(cat)
    missed: Counter[tuple[str, str]] = Counter()
    for group in occ.read(ledger.engine, window_end_after=now - timedelta(days=32)).values():
        last = group[-1]
        if last.state is OccurrenceState.MISSED:
            missed[(last.client, last.window_start)] += 1
    lines: list[FleetLine] = []
    for name in names:
        info = last_runs.get(name)
        last_run = info.started_at.isoformat() if info else None
        last_status = info.status.value if info else None
        if name not in folders:
            problem = "no inventory folder (in the ledger only)"
            lines.append(FleetLine(name, problem=problem, last_run=last_run, last_run_status=last_status))
            continue
        key = {"head": list(heads.get(name, (0, ""))), "inventory": _inventory_fingerprint(base / name)}
        key["catalogue"] = catalogue_key
        cached = cache.get(name, key, now)
        if cached is None:
            try:
                client, problems = validate_client(name, base)
            except Exception as exc:  # one client's broken folder never hides the others
                client, problems = None, [Problem(name, "", f"{type(exc).__name__}: {exc}")]
            if client is None:
                problem = f"invalid inventory: {len(problems)} problem(s) (maint inventory validate {name})"
                lines.append(FleetLine(name, problem=problem, last_run=last_run, last_run_status=last_status))
                continue
            state = compute(ledger, client, cat=cat, now=now)
            upcoming = [o for o in next_occurrences(name, client.settings, now, 1) if o.runs]
            cached = {
                "display_name": client.settings.display_name,
                "next_window": upcoming[0].local_start.isoformat() if upcoming else None,
                "month_start": month_start(client.settings.timezone, now).isoformat(timespec="microseconds"),
                **summarise(state),
            }
            cache.put(
                name,
                key,
                {
                    "timezone": client.settings.timezone,
                    "today": now.astimezone(ZoneInfo(client.settings.timezone)).date().isoformat(),
                    "next_utc": upcoming[0].start.isoformat() if upcoming else None,
                    "line": cached,
                },
            )
        since = str(cached["month_start"])
        fields = {k: v for k, v in cached.items() if k != "month_start"}
        count = sum(n for (owner, start), n in missed.items() if owner == name and start >= since)
        lines.append(FleetLine(name, missed=count, last_run=last_run, last_run_status=last_status, **fields))
    return lines
