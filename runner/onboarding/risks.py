"""The risk register: every control that does not pass in the client's current state, as one ranked risk.

A risk is one control over all its hosts whose effective status (:mod:`runner.state`, waivers applied) is
``fail``, ``error``, ``warn`` or ``not_checked`` (including "never checked"); ``pass``, ``waived`` and
``not_applicable`` rows make no risk. Its id is ``RISK-<CONTROL>``; its status the worst of its hosts'
(fail > error > warn > not_checked); its criticality the highest ``asset_criticality`` host variable of
its hosts (critical > high > normal > low; unset or not understood: ``normal``).

**Age** (``first_seen``): per host, when the current run of not-passing results began: the oldest result
after the host's last ``pass`` / ``not_applicable`` of the control (None when never checked); the risk's
is the oldest of its hosts'.

**Likelihood** (1..5), from the status and the age as of now:

============  =====  ==========  ===========
status        fresh  >= 7 days   >= 30 days
============  =====  ==========  ===========
fail          3      4           5
error         2      3           4
warn          2      3           4
not_checked   1      2           3
============  =====  ==========  ===========

(never checked: 2 - nobody knows, which is itself a risk.)

**Impact** (1..5), from the catalogue severity and the criticality:

==========  ========  ====  ======  ===
severity    critical  high  normal  low
==========  ========  ====  ======  ===
critical    5         5     4       3
high        5         4     3       2
medium      4         3     2       1
low         2         2     1       1
info        1         1     1       1
==========  ========  ====  ======  ===

``score = likelihood * impact``. **Rank** (1 = most urgent): the business impact, severity weight
(critical 4, high 3, medium 2, low 1, info 0) times criticality weight (critical 4, high 3, normal 2,
low 1), highest first; then the age (oldest ``first_seen`` first, never checked last); then the control id.

**Treatment class**: ``fix_now`` for a critical control on any asset, or a high one on a critical or high
asset; else ``separate_project`` when the catalogue marks the control ``project: true`` (its fix needs a
purchase or a redesign, e.g. no antivirus engine at all); else ``preventive_cycle`` (the schedules take it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from runner.results import Status

if TYPE_CHECKING:
    from runner.catalogue import Catalogue
    from runner.inventory import Client
    from runner.ledger import Ledger
    from runner.state import ClientState, StateRow

TREATMENTS = ("fix_now", "preventive_cycle", "separate_project")
CRITICALITIES = ("critical", "high", "normal", "low")
DEFAULT_CRITICALITY = "normal"
CRITICALITY_VAR = "asset_criticality"
#: the effective statuses that make a risk, worst first
RISK_STATUSES = (Status.FAIL.value, Status.ERROR.value, Status.WARN.value, Status.NOT_CHECKED.value)

LIKELIHOOD: Mapping[str, tuple[int, int, int]] = {
    Status.FAIL.value: (3, 4, 5),
    Status.ERROR.value: (2, 3, 4),
    Status.WARN.value: (2, 3, 4),
    Status.NOT_CHECKED.value: (1, 2, 3),
}
NEVER_CHECKED_LIKELIHOOD = 2
AGE_STEPS = (timedelta(days=7), timedelta(days=30))

IMPACT: Mapping[str, Mapping[str, int]] = {
    "critical": {"critical": 5, "high": 5, "normal": 4, "low": 3},
    "high": {"critical": 5, "high": 4, "normal": 3, "low": 2},
    "medium": {"critical": 4, "high": 3, "normal": 2, "low": 1},
    "low": {"critical": 2, "high": 2, "normal": 1, "low": 1},
    "info": {"critical": 1, "high": 1, "normal": 1, "low": 1},
}
SEVERITY_WEIGHT: Mapping[str, int] = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}
CRITICALITY_WEIGHT: Mapping[str, int] = {"critical": 4, "high": 3, "normal": 2, "low": 1}
#: results after which a host's not-passing streak starts again
_CONCLUSIVE_OK = frozenset({Status.PASS.value, Status.NOT_APPLICABLE.value})


@dataclass(frozen=True)
class Risk:
    """One entry of the risk register (see the module's docstring for how each number is made)."""

    id: str
    control: str
    title: str
    description: str
    domain: str
    severity: str
    status: str
    assets: tuple[str, ...]
    criticality: str
    likelihood: int
    impact: int
    score: int
    rank: int
    first_seen: datetime | None
    evidence: tuple[dict[str, Any], ...]
    treatment: str
    treatment_class: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "control": self.control,
            "title": self.title,
            "description": self.description,
            "domain": self.domain,
            "severity": self.severity,
            "status": self.status,
            "assets": list(self.assets),
            "criticality": self.criticality,
            "likelihood": self.likelihood,
            "impact": self.impact,
            "score": self.score,
            "rank": self.rank,
            "first_seen": None if self.first_seen is None else self.first_seen.astimezone(UTC).isoformat(),
            "evidence": [dict(e) for e in self.evidence],
            "treatment": self.treatment,
            "treatment_class": self.treatment_class,
        }


# --------------------------------------------------------------------------- inputs


def criticalities(client: Client) -> dict[str, str]:
    """host -> its ``asset_criticality`` host variable (hosts.yml, group_vars, host_vars), ``normal`` when
    unset; a value that is not one of :data:`CRITICALITIES` also reads as ``normal`` here (the inventory's
    validation names it)."""
    from runner.inventory.hostvars import resolve

    found: dict[str, str] = {}
    for host, values in resolve(client, [CRITICALITY_VAR]).items():
        value = values.get(CRITICALITY_VAR)
        text = value.strip().lower() if isinstance(value, str) else ""
        found[host] = text if text in CRITICALITIES else DEFAULT_CRITICALITY
    return found


def first_seen(
    ledger: Ledger, client: str, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], datetime | None]:
    """(host, control) -> when its current run of not-passing results began (None: never recorded).

    Per pair, two index seeks (``ix_check_results_latest``): its latest ``pass`` / ``not_applicable``
    instant, then the oldest other result after it (``observed_at`` is fixed-width UTC text, so it
    compares in time order). Driver SQL as :meth:`runner.ledger.Ledger.current_rows` writes it
    (``WITH pairs(host, control) AS (VALUES ...)``, read by SQLite and PostgreSQL alike)."""
    wanted = sorted(set(pairs))
    found: dict[tuple[str, str], datetime | None] = dict.fromkeys(wanted)
    ok = ", ".join(f"'{status}'" for status in sorted(_CONCLUSIVE_OK))  # constants, never input
    with ledger.engine.connect() as conn:
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        for start in range(0, len(wanted), _PAIR_CHUNK):
            chunk = wanted[start : start + _PAIR_CHUNK]
            values = ", ".join([f"({mark}, {mark})"] * len(chunk))
            sql = (
                f"WITH pairs(host, control) AS (VALUES {values}) "
                "SELECT p.host, p.control, (SELECT MIN(c.observed_at) FROM check_results c"
                f" WHERE c.client = {mark} AND c.host = p.host AND c.control = p.control"
                f" AND c.status NOT IN ({ok}) AND c.observed_at > COALESCE("
                "(SELECT MAX(o.observed_at) FROM check_results o"
                f" WHERE o.client = {mark} AND o.host = p.host AND o.control = p.control"
                f" AND o.status IN ({ok})), '')) FROM pairs p"
            )
            params = [value for pair in chunk for value in pair] + [client, client]
            for host, control, since in conn.exec_driver_sql(sql, tuple(params)):
                if since is not None:
                    found[(host, control)] = _utc(since)
    return found


_PAIR_CHUNK = 2000


def _utc(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


# --------------------------------------------------------------------------- the numbers


def likelihood(status: str, since: datetime | None, now: datetime) -> int:
    """The likelihood table of the module's docstring."""
    if since is None:
        return NEVER_CHECKED_LIKELIHOOD if status == Status.NOT_CHECKED.value else LIKELIHOOD[status][0]
    age = now - since
    step = sum(age >= limit for limit in AGE_STEPS)
    return LIKELIHOOD[status][step]


def impact(severity: str, criticality: str) -> int:
    """The impact table of the module's docstring."""
    return IMPACT.get(severity, IMPACT["info"])[criticality]


def treatment_class(severity: str, criticality: str, project: bool) -> str:
    """``fix_now``, ``separate_project`` or ``preventive_cycle`` (the rule of the module's docstring)."""
    if severity == "critical" or (severity == "high" and criticality in ("critical", "high")):
        return "fix_now"
    if project:
        return "separate_project"
    return "preventive_cycle"


def _worst(statuses: Iterable[str]) -> str:
    return min(statuses, key=RISK_STATUSES.index)


def _highest(values: Iterable[str]) -> str:
    return min(values, key=CRITICALITIES.index)


def _evidence(row: StateRow) -> dict[str, Any]:
    latest = row.latest
    return {
        "host": row.host,
        "status": row.effective,
        "seq": None if latest is None else latest.raw.get("seq"),
        "run_id": None if latest is None else latest.raw.get("run_id"),
        "observed_at": None if latest is None else latest.observed_at.astimezone(UTC).isoformat(),
        "reason": row.note or row.reason,
    }


def is_risk(row: StateRow) -> bool:
    """A row of the state that makes (part of) a risk: fail, error, warn or not_checked, not waived."""
    return row.effective in RISK_STATUSES


def risks(
    ledger: Ledger,
    client: Client,
    *,
    state: ClientState | None = None,
    lang: str = "en",
    now: datetime | None = None,
    cat: Catalogue | None = None,
) -> list[Risk]:
    """The client's risk register, ranked (``rank`` 1 first), texts in ``lang`` (en, es, ca).

    ``state``: the current state when already computed (else computed now); ``now``: the instant the ages
    are measured at (default: the clock)."""
    from runner import catalogue as catalogue_mod
    from runner import state as state_mod
    from runner.report.i18n import translator

    now = now or datetime.now(UTC)
    cat = cat or catalogue_mod.load()
    tr = translator(lang)
    state = state or state_mod.compute(ledger, client, cat=cat, now=now)
    rows = [row for row in state.rows if is_risk(row)]
    by_control: dict[str, list[StateRow]] = {}
    for row in rows:
        by_control.setdefault(row.control, []).append(row)
    crit = criticalities(client) if rows else {}
    seen = first_seen(ledger, client.name, [(r.host, r.control) for r in rows if r.latest is not None])
    drafts: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    for control, group in by_control.items():
        group.sort(key=lambda r: r.host)
        spec = cat.controls.get(control)
        severity = spec.severity.value if spec is not None else group[0].severity.value
        status = _worst(r.effective for r in group)
        hosts = tuple(r.host for r in group)
        level = _highest(crit.get(h, DEFAULT_CRITICALITY) for h in hosts)
        ages = [seen[(r.host, r.control)] for r in group if r.latest is not None]
        since = min((a for a in ages if a is not None), default=None)
        like = likelihood(status, since, now)
        hit = impact(severity, level)
        title = tr.control(control, "title", spec.title if spec is not None else group[0].title)
        description = tr.control(control, "rationale", spec.rationale if spec is not None else "")
        remedy = tr.control(control, "remediation", spec.remediation if spec is not None else "")
        fields = {
            "id": f"RISK-{control}",
            "control": control,
            "title": title,
            "description": description,
            "domain": spec.domain.value if spec is not None else group[0].domain,
            "severity": severity,
            "status": status,
            "assets": hosts,
            "criticality": level,
            "likelihood": like,
            "impact": hit,
            "score": like * hit,
            "first_seen": since,
            "evidence": tuple(_evidence(r) for r in group),
            "treatment": remedy,
            "treatment_class": treatment_class(severity, level, bool(spec is not None and spec.project)),
        }
        business = SEVERITY_WEIGHT.get(severity, 0) * CRITICALITY_WEIGHT[level]
        age_key = (0, since.timestamp()) if since is not None else (1, 0.0)
        drafts.append(((-business, *age_key, control), fields))
    drafts.sort(key=lambda d: d[0])
    return [Risk(rank=i, **fields) for i, (_key, fields) in enumerate(drafts, start=1)]


def by_control(found: Sequence[Risk]) -> dict[str, Risk]:
    """control -> its risk."""
    return {risk.control: risk for risk in found}
