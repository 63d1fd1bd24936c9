"""Which control IDs exist: what a waiver (or anything else naming a control) may refer to.

The source of truth is the control catalogue (:mod:`runner.catalogue`: ``runner/catalogue/data/*.yml``
and the network rule packs). Reading it is a YAML load and imports no evaluator, so ``maint inventory
validate`` may call :func:`is_known` on every start. ``tests/test_catalogue.py`` checks the catalogue
against what the code emits (the evaluators' registered controls, the rule packs, the runner's checks).

A retired control (e.g. one merged into another) is in the catalogue but no longer emitted: it is not
"known" to a waiver, and :func:`unknown_message` says what replaced it.
"""

from __future__ import annotations

import difflib

from runner import catalogue


def known_controls() -> frozenset[str]:
    """Every control ID a waiver may name: the catalogue's controls in use (not retired)."""
    return frozenset(cid for cid, spec in catalogue.load().controls.items() if spec.retired is None)


def retired_controls() -> dict[str, str]:
    """Retired control ID -> what became of it."""
    return {cid: spec.retired for cid, spec in catalogue.load().controls.items() if spec.retired is not None}


def is_known(control: str) -> bool:
    spec = catalogue.load().controls.get(control)
    return spec is not None and spec.retired is None


def unknown_message(control: str) -> str:
    """``unknown control 'X'`` with the closest real IDs (or what a retired one became), for a waiver."""
    retired = retired_controls()
    if control in retired:
        return f"control {control!r} was retired: {retired[control]}"
    known = sorted(known_controls())
    close = difflib.get_close_matches(control, known, n=3, cutoff=0.75)
    families = sorted({c.rsplit("-", 1)[0] for c in known})
    hint = f"; did you mean {' or '.join(close)}?" if close else f"; known families: {', '.join(families)}"
    return f"unknown control {control!r} (not in the control catalogue, see `maint controls`){hint}"
