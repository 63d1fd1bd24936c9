"""Which control IDs exist: what a waiver (or anything else naming a control) may refer to.

Controls are defined by the code that emits them: the evaluators (``runner/evaluators/``, registered
with their ``controls``), the network rule packs (``runner/network/rules/*.yml``) and the runner's own
checks in :data:`RUNNER_CONTROLS`. :func:`defined_controls` collects them from there; it imports every
evaluator and parses every rule pack (about 0.2 s), which ``maint inventory validate`` must not pay on
each start. :data:`CATALOGUE` is the same set written out (``tests/test_controls.py`` fails when the two
differ), so :func:`is_known` answers from it and asks the code only for an ID it does not list.
"""

from __future__ import annotations

import difflib
import functools

#: checks the runner itself emits, not an evaluator: ID -> where it is defined
RUNNER_CONTROLS: dict[str, str] = {
    "MAINT-ROLE-01": "runner/events.py (a role that could not finish on a host)",
    "MAINT-SCHED-01": "runner/due.py SCHEDULE_CONTROL (an occurrence that did not run in its window)",
    "MAINT-WINDOW-01": "plugins/action/maint_window_guard.py GUARD_CONTROL",
}

#: every control ID the code defines (kept equal to :func:`defined_controls` by tests/test_controls.py)
_CATALOGUE_TEXT = """
    AV-LNX-01 AV-LNX-02 AV-LNX-03 AV-LNX-04 AV-LNX-05 AV-LNX-06
    AV-WIN-01 AV-WIN-02 AV-WIN-03 AV-WIN-04 AV-WIN-05 AV-WIN-06 AV-WIN-07
    BKP-FILE-01 BKP-FILE-02
    BKP-RESTIC-01 BKP-RESTIC-02 BKP-RESTIC-03 BKP-RESTIC-04
    BKP-VAW-01 BKP-VAW-02
    BKP-VEEAM-01 BKP-VEEAM-02 BKP-VEEAM-03
    BKP-WSB-01 BKP-WSB-02 BKP-WSB-03
    HEALTH-LNX-01 HEALTH-LNX-02 HEALTH-LNX-03 HEALTH-LNX-04 HEALTH-LNX-05 HEALTH-LNX-06 HEALTH-LNX-07
    HEALTH-WIN-01 HEALTH-WIN-02 HEALTH-WIN-03 HEALTH-WIN-04 HEALTH-WIN-05
    MAINT-ROLE-01 MAINT-SCHED-01 MAINT-WINDOW-01
    NET-AOSS-01 NET-AOSS-02 NET-AOSS-03 NET-AOSS-04 NET-AOSS-05 NET-AOSS-06 NET-AOSS-07 NET-AOSS-08
    NET-CX-01 NET-CX-02 NET-CX-03 NET-CX-04 NET-CX-05 NET-CX-06
    NET-FGT-01 NET-FGT-02 NET-FGT-03 NET-FGT-04 NET-FGT-05 NET-FGT-06 NET-FGT-07 NET-FGT-08
    NET-IOS-01 NET-IOS-02 NET-IOS-03 NET-IOS-04 NET-IOS-05 NET-IOS-06 NET-IOS-07 NET-IOS-08 NET-IOS-09
    NET-IOS-10 NET-IOS-11
    PATCH-LNX-01 PATCH-LNX-02 PATCH-LNX-03 PATCH-LNX-04 PATCH-LNX-05 PATCH-LNX-06
    PATCH-WIN-01 PATCH-WIN-02 PATCH-WIN-03 PATCH-WIN-04
"""
CATALOGUE: frozenset[str] = frozenset(_CATALOGUE_TEXT.split())


@functools.cache
def defined_controls() -> frozenset[str]:
    """Every control ID the code defines: evaluators, network rule packs and the runner's own checks."""
    from runner import evaluators
    from runner.network.review import all_controls

    found = {c.control for ev in evaluators.registry().values() for c in ev.controls}
    found |= {c.control for c in all_controls()}
    return frozenset(found | RUNNER_CONTROLS.keys())


def known_controls() -> frozenset[str]:
    """Every control ID there is (the code's, so it also holds a control added since the catalogue)."""
    return CATALOGUE | defined_controls()


def is_known(control: str) -> bool:
    return control in CATALOGUE or control in defined_controls()


def unknown_message(control: str) -> str:
    """``unknown control 'X'`` with the closest real IDs, for a waiver's error message."""
    close = difflib.get_close_matches(control, sorted(known_controls()), n=3, cutoff=0.75)
    families = sorted({c.rsplit("-", 1)[0] for c in known_controls()})
    hint = f"; did you mean {' or '.join(close)}?" if close else f"; known families: {', '.join(families)}"
    return f"unknown control {control!r} (no evaluator, rule pack or runner check defines it){hint}"
