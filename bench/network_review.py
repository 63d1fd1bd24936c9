"""Benchmark: reviewing network configurations against parsing the same texts alone.

    python bench/network_review.py [--count N] [--corpus DIR] [--with-stress]

Every configuration of tests/data/corpus/{cisco_ios,aruba_aoscx,aruba_aoss,fortios}/ is repeated
until N configurations (default 5,000) are queued (the two synthetic ciscoconfparse stress files,
15k and 39k lines, only with --with-stress: they are 60 % of the corpus bytes and no real device).
(a) ``review(platform, raw)``: normalise, mask, parse and judge every rule of the pack;
(b) the parser alone on the same texts: ``parse(platform, raw)`` (our own parser, chosen over
    hier_config / ciscoconfparse2, see runner/network/parse.py).
Prints configs/s for both and the ratio (a)/(b): what the rule engine and masking cost on top
of the parse every consumer needs anyway.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runner.network import Platform, parse, read_config, review

DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "corpus"
STRESS = ("ccp_sample05_large_acl_15k_lines.cfg", "ccp_sample06_large_vlans_39k_lines.cfg")


def load(corpus: Path, with_stress: bool) -> list[tuple[Platform, str]]:
    configs = []
    for platform in Platform:
        for path in sorted((corpus / platform.value).iterdir()):
            if path.name in STRESS and not with_stress:
                continue
            configs.append((platform, read_config(path)))
    return configs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--with-stress", action="store_true")
    args = parser.parse_args(argv)
    if not (args.corpus / "cisco_ios").is_dir():
        print(f"corpus not found at {args.corpus}", file=sys.stderr)
        return 1
    base = load(args.corpus, args.with_stress)
    queue = [base[i % len(base)] for i in range(max(args.count, len(base)))]
    size = sum(len(text) for _, text in queue)
    print(f"{len(queue)} configs ({len(base)} distinct), {size / 1e6:.1f} MB")

    start = time.perf_counter()
    findings = 0
    for platform, text in queue:
        findings += len(review(platform, text))
    reviewed = time.perf_counter() - start

    start = time.perf_counter()
    nodes = 0
    for platform, text in queue:
        nodes += len(parse(platform, text).children)
    parsed = time.perf_counter() - start

    print(f"(a) review   : {reviewed:7.2f} s  {len(queue) / reviewed:8.0f} configs/s  ({findings} findings)")
    print(f"(b) parse    : {parsed:7.2f} s  {len(queue) / parsed:8.0f} configs/s  ({nodes} top-level blocks)")
    print(f"ratio review/parse: {reviewed / parsed:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
