"""The current state against an in-memory model of its rules, after every step of random histories.

Each example is a sequence of steps on one client: hosts added and removed, roles assigned and unassigned,
waivers added (live or already expired), and runs recorded in a real SQLite ledger in which hosts are
reached, unreachable or left out by an interrupted run (padded by runner/events.py, as a run pads them),
some with rows that do not apply (another platform's rule, a retired control). After every step the
state computed by runner/state.py from the ledger and the inventory on disk equals the model's.
"""

from __future__ import annotations

import fnmatch
import random
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner import catalogue
from runner.events import RunContext, control_rows
from runner.inventory import load_client
from runner.ledger import Ledger, RunRecord
from runner.results import CheckResult, Status
from runner.state import compute

CLIENT = "prop"
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
TODAY = date(2026, 12, 5)  # NOW in Europe/Madrid
LINUX, NETWORK = ("lnx1", "lnx2"), ("sw1", "fw1")
PLATFORM: dict[str, str | None] = {"lnx1": None, "lnx2": None, "sw1": "cisco_ios", "fw1": "fortios"}
ROLES = ("linux_health", "network_config")
STATUSES = [Status.PASS, Status.FAIL, Status.WARN, Status.NOT_CHECKED, Status.ERROR, Status.NOT_APPLICABLE]
CAT = catalogue.load()
WAIVABLE = ["HEALTH-LNX-01", "HEALTH-LNX-05", "NET-IOS-01", "NET-FGT-02"]
CONCLUSIVE = {"pass", "fail", "warn", "not_applicable"}


@dataclass
class Model:
    hosts: set[str] = field(default_factory=lambda: {"lnx1", "sw1"})
    assigned: dict[str, set[str]] = field(
        default_factory=lambda: {"linux_health": {"lnx1"}, "network_config": {"sw1"}}
    )
    waivers: list[dict[str, Any]] = field(default_factory=list)
    rows: list[tuple[str, str, str, str, datetime, int]] = field(default_factory=list)  # host, control, ...
    runs: int = 0

    def applicable(self) -> set[tuple[str, str]]:
        pairs = set()
        for role, hosts in self.assigned.items():
            for host in hosts & self.hosts:
                for spec in CAT.for_role(role):
                    if spec.platforms is None or PLATFORM[host] in spec.platforms:
                        pairs.add((host, spec.id))
        return pairs

    def expected(self) -> dict[tuple[str, str], tuple[str, bool, str | None]]:
        """(host, control) -> (shown status, counts as not passing, last conclusive status)."""
        out = {}
        for host, control in self.applicable():
            mine = sorted(
                (r for r in self.rows if r[0] == host and r[1] == control), key=lambda r: (r[4], r[5])
            )
            latest = mine[-1] if mine else None
            judged = [r for r in mine if r[2] in CONCLUSIVE]
            status = latest[2] if latest else "not_checked"
            reason = latest[3] if latest else "never checked"
            last = judged[-1][2] if latest and latest[2] not in CONCLUSIVE and judged else None
            live = [
                w
                for w in self.waivers
                if w["control"] == control
                and fnmatch.fnmatchcase(host, w["hosts"])
                and (w["expires"] is None or w["expires"] >= TODAY)
            ]
            waived = bool(live) and status not in ("pass", "not_applicable")
            bad = status in ("fail", "warn", "error")
            bad = bad or (status == "not_checked" and reason.startswith(("host unreachable", "fetch failed")))
            bad = bad or (status in ("not_checked", "error") and last in ("fail", "warn"))
            out[(host, control)] = ("waived" if waived else status, bad and not waived, last)
        return out


def write_inventory(base: Path, model: Model) -> None:
    root = base / CLIENT
    (root / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
    (root / "group_vars" / "cisco_ios").mkdir(parents=True, exist_ok=True)
    (root / "group_vars" / "cisco_ios" / "vars.yml").write_text("network_config_platform: cisco_ios\n")
    linux = {h: {"ansible_connection": "local"} for h in LINUX if h in model.hosts}
    hosts = {
        "all": {
            "children": {
                "linux": {"hosts": linux},
                "network": {
                    "children": {
                        "cisco_ios": {"hosts": {"sw1": {}} if "sw1" in model.hosts else {}},
                        # the FortiGate's platform from its own host variables, the switch's from group_vars
                        "fortios": {
                            "hosts": {"fw1": {"network_config_platform": "fortios"}}
                            if "fw1" in model.hosts
                            else {}
                        },
                    }
                },
            }
        }
    }
    (root / "hosts.yml").write_text(yaml.safe_dump(hosts))
    # a role with no host is left out (the schema wants a non-empty list); one role always has a host
    roles = {
        role: sorted(model.assigned[role] & model.hosts)
        for role in ROLES
        if model.assigned[role] & model.hosts
    }
    settings_data = {
        "display_name": "Property client",
        "timezone": "Europe/Madrid",
        "contacts": [{"name": "Tech", "email": "tech@example.com"}],
        "roles": roles,
        "waivers": [
            {"control": w["control"], "hosts": w["hosts"], "owner": "tech@example.com", "reason": "accepted"}
            | ({"expires": w["expires"].isoformat()} if w["expires"] else {})
            for w in model.waivers
        ],
    }
    (root / "group_vars" / "all" / "maintenance.yml").write_text(
        yaml.safe_dump({"maintenance": settings_data}, sort_keys=False)
    )


def record_run(ledger: Ledger, model: Model, fates: dict[str, str], seed: int) -> None:
    rnd = random.Random(seed)
    model.runs += 1
    when = NOW - timedelta(days=30) + timedelta(hours=model.runs)
    run_id = f"run-{model.runs:03d}"
    plan = {role: sorted(model.assigned[role] & model.hosts) for role in ROLES}
    ledger.start_run(
        RunRecord(
            run_id=run_id, client=CLIENT, mode="audit", roles=list(ROLES), trigger="manual", started_at=when
        ),
        plan=plan,
    )
    ctx = RunContext(run_id=run_id, client=CLIENT, ticket=None, plan=plan, platforms=PLATFORM)
    rows: list[tuple[str, CheckResult]] = []
    for role, hosts in plan.items():
        for host in hosts:
            fate = fates.get(host, "ok")
            if fate == "unreachable":
                rows += control_rows(
                    ctx, host, role, Status.NOT_CHECKED, "host unreachable: refused", "u", when
                )
            elif fate == "interrupted":
                rows += control_rows(
                    ctx, host, role, Status.NOT_CHECKED, "run interrupted before it", "i", when
                )
            else:
                specs = [s for s in CAT.for_role(role) if s.applies_to(PLATFORM[host])]
                if rnd.random() < 0.3:  # rows that do not apply: another platform's rule, a retired control
                    specs.append(CAT.control("NET-AOSS-01" if role == "network_config" else "HEALTH-LNX-03"))
                for spec in specs:
                    status = rnd.choice(STATUSES)
                    finding = spec.as_control().finding(status, evidence={"reason": f"judged {status.value}"})
                    result = CheckResult.from_finding(
                        finding, host=host, client=CLIENT, run_id=run_id, role=role, observed_at=when
                    )
                    rows.append((f"{host}:{spec.id}", result))
    ledger.record(rows)
    for _key, row in rows:
        model.rows.append(
            (row.host, row.control, row.status.value, str(row.evidence.get("reason", "")), when, 0)
        )


host_names = st.sampled_from(sorted(PLATFORM))
steps = st.one_of(
    st.tuples(st.just("add"), host_names),
    st.tuples(st.just("remove"), host_names),
    st.tuples(st.just("assign"), st.sampled_from(ROLES), host_names),
    st.tuples(st.just("unassign"), st.sampled_from(ROLES), host_names),
    st.tuples(
        st.just("waive"),
        st.sampled_from(WAIVABLE),
        st.sampled_from(["*", "lnx*", "sw1", "fw1", "lnx2"]),
        st.sampled_from([None, -3, 0, 10]),
    ),
    st.tuples(
        st.just("run"),
        st.dictionaries(host_names, st.sampled_from(["ok", "unreachable", "interrupted"]), max_size=3),
        st.integers(0, 10_000),
    ),
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(steps, min_size=1, max_size=7))
def test_state_equals_the_model_after_every_step(history: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "inventories"
        ledger = Ledger(f"sqlite:///{Path(tmp) / 'ledger.db'}")
        model = Model()
        try:
            for step in [("run", {}, 1), *history]:
                kind = step[0]
                before = (set(model.hosts), {r: set(h) for r, h in model.assigned.items()})
                if kind == "add":
                    model.hosts.add(step[1])
                elif kind == "remove" and len(model.hosts) > 1:
                    model.hosts.discard(step[1])
                elif kind == "assign":
                    model.assigned[step[1]].add(step[2])
                elif kind == "unassign":
                    model.assigned[step[1]].discard(step[2])
                elif kind == "waive":
                    expires = None if step[3] is None else TODAY + timedelta(days=step[3])
                    model.waivers.append({"control": step[1], "hosts": step[2], "expires": expires})
                elif kind == "run":
                    record_run(ledger, model, step[1], step[2])
                if not any(hosts & model.hosts for hosts in model.assigned.values()):
                    model.hosts, model.assigned = before  # a client runs at least one role somewhere
                write_inventory(base, model)
                state = compute(ledger, load_client(CLIENT, inventories=base), now=NOW)
                got = {
                    (r.host, r.control): (
                        r.effective,
                        r.failing,
                        r.last_conclusive.status.value if r.last_conclusive else None,
                    )
                    for r in state.rows
                }
                assert len(got) == len(state.rows), "one row per (host, control)"
                assert got == model.expected(), step
                assert state.exit_code == (1 if any(v[1] for v in got.values()) else 0)
        finally:
            ledger.close()
