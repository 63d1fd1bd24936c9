"""Benchmark: configuration drift of changed snapshot pairs against plain difflib on the raw texts.

    python bench/network_drift.py [--pairs N] [--repeat R]

Pairs are built from every configuration in tests/data/corpus/{cisco_ios,aruba_aoscx,aruba_aoss,fortios}/
(cycled to N, default 1000): the old side is the file, the new side the same file with one line inserted
in the middle and, for FortiOS, every ``ENC`` value re-encrypted (what a second ``show`` returns).

(a) ``drift.compare()`` of the two stored snapshots (masked normalised text, as read from the ledger);
(a') the same plus producing both snapshots' text from the raw configurations (normalise + mask: the
     work done once per fetch);
(b) ``difflib.unified_diff`` of the two raw texts (what a naive backup diff does).
Best of R runs each; ratios (a)/(b) and (a')/(b). (b) also reports how many FortiOS pairs show
ENC-only noise that (a) does not.
"""

from __future__ import annotations

import argparse
import base64
import difflib
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runner.network import Platform
from runner.network.drift import compare
from runner.network.snapshots import Snapshot, content_hash, masked_config

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "corpus"
ENC = re.compile(r"\bENC (\S+)")


def _reencrypt(text: str) -> str:
    return ENC.sub(
        lambda m: "ENC " + base64.b64encode(os.urandom(max(12, len(m.group(1)) * 3 // 4))).decode(), text
    )


def pairs(count: int) -> list[tuple[Platform, str, str]]:
    sources: list[tuple[Platform, str]] = []
    for platform in Platform:
        for path in sorted((CORPUS / platform.value).glob("*")):
            if path.suffix in (".json",) or not path.is_file():
                continue
            sources.append((platform, path.read_text(encoding="utf-8", errors="replace")))
    out = []
    for i in range(count):
        platform, old = sources[i % len(sources)]
        lines = old.splitlines(keepends=True)
        middle = len(lines) // 2
        edit = f"! maint bench change {i}\n" if platform is not Platform.FORTIOS else f"#bench-change={i}\n"
        if platform is Platform.ARUBA_AOSS:
            edit = f"; maint bench change {i}\n"
        new = "".join([*lines[:middle], edit, *lines[middle:]])
        if platform is Platform.FORTIOS:
            new = _reencrypt(new)
        out.append((platform, old, new))
    return out


def snapshot(i: int, platform: Platform, masked: str) -> Snapshot:
    return Snapshot(
        i, i, "bench", f"dev{i}", platform.value, None, "", content_hash(masked), masked, None, "none", 0
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    if not CORPUS.is_dir():
        print(f"corpus not found at {CORPUS}", file=sys.stderr)
        return 1
    data = pairs(args.pairs)
    stored = [(p, masked_config(p, old), masked_config(p, new)) for p, old, new in data]
    snaps = [(snapshot(2 * i, p, a), snapshot(2 * i + 1, p, b)) for i, (p, a, b) in enumerate(stored)]

    def run_a() -> int:
        return sum(len(compare("d", old, new).diff) for old, new in snaps)

    def run_a_full() -> int:
        total = 0
        for i, (p, old, new) in enumerate(data):
            a, b = masked_config(p, old), masked_config(p, new)
            total += len(compare("d", snapshot(2 * i, p, a), snapshot(2 * i + 1, p, b)).diff)
        return total

    def run_b() -> int:
        return sum(
            len(list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="")))
            for _p, old, new in data
        )

    best = {"a": float("inf"), "a_full": float("inf"), "b": float("inf")}
    for _ in range(args.repeat):
        for name, fn in (("a", run_a), ("a_full", run_a_full), ("b", run_b)):
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    noisy_raw = sum(
        1
        for p, old, new in data
        if p is Platform.FORTIOS
        and sum(
            1 for ln in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="") if ln[:1] == "+"
        )
        > 2
    )
    noisy_masked = sum(
        1
        for (old, new), (p, _o, _n) in zip(snaps, data, strict=True)
        if p is Platform.FORTIOS and compare("d", old, new).added > 1
    )
    print(f"pairs: {len(data)} (corpus files cycled)")
    print(f"(a)  drift.compare of masked snapshots      {best['a']:.3f} s")
    print(f"(a') normalise + mask both sides + compare  {best['a_full']:.3f} s")
    print(f"(b)  difflib.unified_diff of raw texts      {best['b']:.3f} s")
    print(f"ratio (a)/(b):  {best['a'] / best['b']:.2f}")
    print(f"ratio (a')/(b): {best['a_full'] / best['b']:.2f}")
    print(f"FortiOS pairs with more than the one real change: raw diff {noisy_raw}, drift {noisy_masked}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
