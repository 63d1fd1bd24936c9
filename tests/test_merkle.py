"""runner/ledger/merkle.py against RFC 9162 section 2.1: test vectors, a literal reference and properties.

The vectors are Certificate Transparency's, as kept by Trillian and its successor transparency-dev/merkle
(values only, no code copied):
- leaves, every complete subtree's hash, the compact ranges and the root of every prefix size:
  transparency-dev/merkle testonly/constants.go (LeafInputs, NodeHashes, CompactTrees, RootHashes),
  commit 417fb0c314750d94e53942e9f92e79b6d35915db;
- inclusion and consistency proofs: transparency-dev/merkle proof/verify_test.go (inclusionProofs,
  consistencyProofs, whose leaf numbers are 1-based), commit 022f84c, the same vectors as
  google/trillian merkle/log_verifier_test.go; the corruptions applied to them follow that file's
  corruptInclusionProof / corruptConsistencyProof.

Beyond the vectors, every proof is compared with a literal transcription of the RFC's recursive
definitions (``ref_*`` below, written over slices exactly as the RFC states them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.ledger import merkle
from runner.ledger.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    subtree_of,
    verify_consistency,
    verify_inclusion,
)

PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def hd(text: str) -> bytes:
    return bytes.fromhex(text)


# ---- the CT / Trillian vectors -----------------------------------------------------------------------------

LEAF_INPUTS = [
    hd(x)
    for x in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
# NODE_HASHES[level][index]: the perfect subtree of leaves [index * 2**level, (index + 1) * 2**level)
NODE_HASHES = [
    [
        hd("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        hd("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        hd("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
        hd("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
        hd("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        hd("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
        hd("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        hd("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ],
    [
        hd("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        hd("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        hd("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        hd("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ],
    [
        hd("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        hd("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ],
    [hd("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")],
]
# ROOT_HASHES[size]: the root of the first `size` leaves
ROOT_HASHES = [
    hd("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    hd("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    hd("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    hd("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    hd("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    hd("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    hd("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    hd("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    hd("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]
_N = NODE_HASHES
# COMPACT_TREES[size]: the frontier of the first `size` leaves, largest subtree first
COMPACT_TREES = [
    [],
    [_N[0][0]],
    [_N[1][0]],
    [_N[1][0], _N[0][2]],
    [_N[2][0]],
    [_N[2][0], _N[0][4]],
    [_N[2][0], _N[1][2]],
    [_N[2][0], _N[1][2], _N[0][6]],
    [_N[3][0]],
]
# (leaf index (0-based here), tree size, proof)
INCLUSION_VECTORS = [
    (0, 1, []),
    (0, 8, [_N[0][1], _N[1][1], _N[2][1]]),
    (5, 8, [_N[0][4], _N[1][3], _N[2][0]]),
    (2, 3, [_N[1][0]]),
    (1, 5, [_N[0][0], _N[1][1], _N[0][4]]),
]
# the same hashes as in the source, written out where they are not a node of NODE_HASHES
_SOURCE_INCLUSION_HEX = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 3): ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    (1, 5): [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}
# (old size, new size, proof): written out in full, (6, 7)'s middle hash is not a node of the 8-leaf tree
CONSISTENCY_VECTORS = [
    (1, 1, []),
    (
        1,
        8,
        [
            hd("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            hd("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            hd("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            hd("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            hd("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            hd("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            hd("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            hd("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            hd("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            hd("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            hd("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]
SOME_HASH = hd(
    "abacaba000000000000000000000000000000000000000000060061e00123456"
)  # the source's sha256SomeHash

VECTOR_LEAVES = [leaf_hash(x) for x in LEAF_INPUTS]


# ---- a literal reference: RFC 9162 2.1.1, 2.1.3.1 and 2.1.4.1 over slices ----------------------------------


def _k(n: int) -> int:
    """The largest power of two smaller than n, by counting (no bit tricks)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes."""
    if len(d) == 0:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    return ref_subproof(m, d, True)


# ---- helpers -----------------------------------------------------------------------------------------------


def make_leaves(n: int, salt: bytes = b"") -> list[bytes]:
    return [leaf_hash(salt + i.to_bytes(8, "big")) for i in range(n)]


def memo(leaves: Sequence[bytes]) -> merkle.Subtree:
    """The in-memory subtree, memoised (the caller's business, as a store's is)."""
    return cache(subtree_of(leaves))


def flip(proof: list[bytes], i: int, byte: int = 0) -> list[bytes]:
    out = list(proof)
    out[i] = out[i][:byte] + bytes([out[i][byte] ^ 0x08]) + out[i][byte + 1 :]
    return out


def inclusion_mutations(proof: list[bytes], root: bytes) -> list[tuple[str, list[bytes]]]:
    """Every way of spoiling a proof: a bit flipped in any byte of any element, one dropped, one added."""
    out: list[tuple[str, list[bytes]]] = []
    for i in range(len(proof)):
        for byte in (0, 17, 31):
            out.append((f"flip proof[{i}] byte {byte}", flip(proof, i, byte)))
        out.append((f"drop proof[{i}]", proof[:i] + proof[i + 1 :]))
    for where in range(len(proof) + 1):
        for extra in (SOME_HASH, root):
            out.append((f"add at {where}", [*proof[:where], extra, *proof[where:]]))
    out.append(("trailing empty element", [*proof, b""]))
    out.append(("preceding empty element", [b"", *proof]))
    if len(proof) > 1:
        out.append(("swap first two", [proof[1], proof[0], *proof[2:]]))
    return out


def path_shape(index: int, size: int) -> tuple[str, ...]:
    """Which side each sibling of the RFC's PATH is on, nearest first: what a verifier combines by."""
    sides: list[str] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _k(hi - lo)
        if index < lo + k:
            sides.append("right")
            hi = lo + k
        else:
            sides.append("left")
            lo += k
    return tuple(reversed(sides))


def consistency_shape(old: int, new: int) -> tuple[object, ...]:
    """Whether the old tree is a power of 2 (its root then starts the path) and, for each proof element of
    the RFC's PROOF, whether it lies in the old tree (it rebuilds both roots) or beyond it (only the new)."""

    def labels(m: int, lo: int, hi: int, b: bool) -> list[tuple[int, int]]:
        if m == hi - lo:
            return [] if b else [(lo, hi)]
        k = _k(hi - lo)
        if m <= k:
            return [*labels(m, lo, lo + k, b), (lo + k, hi)]
        return [*labels(m - k, lo + k, hi, False), (lo, lo + k)]

    roles = tuple("old" if end <= old else "new" for _, end in labels(old, 0, new, True))
    return (old & (old - 1) == 0, roles)


# ---- vectors -----------------------------------------------------------------------------------------------


def test_hashing_primitives() -> None:
    assert EMPTY_ROOT == ROOT_HASHES[0] == hashlib.sha256(b"").digest()
    assert [leaf_hash(x) for x in LEAF_INPUTS] == NODE_HASHES[0]
    for level in range(1, 4):
        for i, h in enumerate(NODE_HASHES[level]):
            assert node_hash(NODE_HASHES[level - 1][2 * i], NODE_HASHES[level - 1][2 * i + 1]) == h
    assert merkle.HASH_SIZE == 32


@pytest.mark.parametrize("size", range(9))
def test_root_of_every_prefix(size: int) -> None:
    leaves = VECTOR_LEAVES[:size]
    assert merkle.root(leaves) == ROOT_HASHES[size]
    assert ref_mth(leaves) == ROOT_HASHES[size]
    assert subtree_of(VECTOR_LEAVES)(0, size) == ROOT_HASHES[size]
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    assert frontier.size == size
    assert frontier.hashes == COMPACT_TREES[size]
    assert frontier.root() == ROOT_HASHES[size]


def test_frontier_reports_every_complete_subtree_of_the_vectors() -> None:
    reported: list[tuple[int, int, bytes]] = []
    frontier = Frontier()
    for leaf in VECTOR_LEAVES:
        frontier.append(leaf, lambda level, index, h: reported.append((level, index, h)))
    expected = {(level, i, h) for level in range(1, 4) for i, h in enumerate(NODE_HASHES[level])}
    assert set(reported) == expected and len(reported) == len(expected)
    # lowest level first within one append: the 8th leaf completes levels 1, 2, 3 in that order
    assert [level for level, _, _ in reported[-3:]] == [1, 2, 3]


def _inclusion_args(
    probe: tuple[str, int, int, bytes, bytes, list[bytes]],
) -> tuple[int, int, bytes, list[bytes], bytes]:
    """A probe (name, index, size, leaf, root, proof) as verify_inclusion's arguments (proof before root)."""
    _, index, size, leaf, root, proof = probe
    return index, size, leaf, proof, root


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_vectors(index: int, size: int, proof: list[bytes]) -> None:
    if (index, size) in _SOURCE_INCLUSION_HEX:
        assert [p.hex() for p in proof] == _SOURCE_INCLUSION_HEX[(index, size)]
    assert inclusion_proof(index, size, subtree_of(VECTOR_LEAVES)) == proof
    assert ref_path(index, VECTOR_LEAVES[:size]) == proof
    root, leaf = ROOT_HASHES[size], VECTOR_LEAVES[index]
    assert verify_inclusion(index, size, leaf, proof, root)
    # the source's corruptions
    probes: list[tuple[str, int, int, bytes, bytes, list[bytes]]] = [
        ("index - 1", index - 1, size, leaf, root, proof),
        ("index + 1", index + 1, size, leaf, root, proof),
        ("index ^ 2", index ^ 2, size, leaf, root, proof),
        ("size * 2", index, size * 2, leaf, root, proof),
        ("size // 2", index, size // 2, leaf, root, proof),
        ("wrong leaf", index, size, b"WrongLeaf", root, proof),
        ("other leaf hash", index, size, SOME_HASH, root, proof),
        ("empty root", index, size, leaf, EMPTY_ROOT, proof),
        ("random root", index, size, leaf, SOME_HASH, proof),
        ("trailing garbage", index, size, leaf, root, [*proof, b""]),
        ("trailing root", index, size, leaf, root, [*proof, root]),
        ("preceding garbage", index, size, leaf, root, [b"", *proof]),
        ("preceding root", index, size, leaf, root, [root, *proof]),
    ]
    probes += [(name, index, size, leaf, root, bad) for name, bad in inclusion_mutations(proof, root)]
    if len(proof) > 1:
        probes.append(("inserted component", index, size, leaf, root, [proof[0], SOME_HASH, *proof[1:]]))
    assert verify_inclusion(*_inclusion_args(("unchanged", index, size, leaf, root, proof)))
    accepted = [p[0] for p in probes if verify_inclusion(*_inclusion_args(p))]
    assert accepted == []


def test_inclusion_single_entry() -> None:
    h = leaf_hash(b"data")
    assert verify_inclusion(0, 1, h, [], h)  # the root of a 1-leaf tree is its leaf hash
    assert not verify_inclusion(0, 1, h, [], b"")
    assert not verify_inclusion(0, 1, b"", [], h)
    assert not verify_inclusion(0, 1, b"", [], b"")
    for index, size in [(0, 0), (1, 0), (1, 1), (2, 1), (-1, 1), (0, -1)]:
        assert not verify_inclusion(index, size, SOME_HASH, [], EMPTY_ROOT)
        assert not verify_inclusion(index, size, SOME_HASH, [], SOME_HASH)


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_VECTORS)
def test_consistency_vectors(old: int, new: int, proof: list[bytes]) -> None:
    assert consistency_proof(old, new, subtree_of(VECTOR_LEAVES)) == proof
    assert ref_proof(old, VECTOR_LEAVES[:new]) == proof
    r1, r2 = ROOT_HASHES[old], ROOT_HASHES[new]
    assert verify_consistency(old, new, r1, r2, proof)
    if not proof:
        return
    probes: list[tuple[str, int, int, bytes, bytes, list[bytes]]] = [
        ("old - 1", old - 1, new, r1, r2, proof),
        ("old + 1", old + 1, new, r1, r2, proof),
        ("old ^ 2", old ^ 2, new, r1, r2, proof),
        ("new * 2", old, new * 2, r1, r2, proof),
        ("new // 2", old, new // 2, r1, r2, proof),
        ("wrong old root", old, new, b"WrongRoot", r2, proof),
        ("wrong new root", old, new, r1, b"WrongRoot", proof),
        ("other old root", old, new, SOME_HASH, r2, proof),
        ("other new root", old, new, r1, SOME_HASH, proof),
        ("swapped roots", old, new, r2, r1, proof),
        ("empty proof", old, new, r1, r2, []),
        ("trailing garbage", old, new, r1, r2, [*proof, b""]),
        ("trailing old root", old, new, r1, r2, [*proof, r1]),
        ("trailing new root", old, new, r1, r2, [*proof, r2]),
        ("preceding garbage", old, new, r1, r2, [b"", *proof]),
        ("preceding old root", old, new, r1, r2, [r1, *proof]),
        ("preceding new root", old, new, r1, r2, [r2, *proof]),
        ("preceding proof[0]", old, new, r1, r2, [proof[0], *proof]),
        ("truncated", old, new, r1, r2, proof[:-1]),
    ]
    probes += [(name, old, new, r1, r2, bad) for name, bad in inclusion_mutations(proof, r2)]
    assert verify_consistency(*(old, new, r1, r2, proof))
    accepted = [p[0] for p in probes if verify_consistency(*p[1:])]
    assert accepted == []


def test_consistency_edge_cases() -> None:
    h = leaf_hash(b"x")
    assert verify_consistency(1, 1, h, h, [])
    assert not verify_consistency(1, 1, h, SOME_HASH, [])  # equal sizes, different roots
    assert not verify_consistency(1, 1, h, h, [h])  # equal sizes, a proof that should be empty
    assert not verify_consistency(1, 2, SOME_HASH, h, [])  # sizes differ, the proof is empty
    # consistency with the empty tree is not proved, not even with itself
    assert not verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_consistency(0, 1, EMPTY_ROOT, h, [])
    assert not verify_consistency(0, 1, EMPTY_ROOT, h, [h])
    # an old tree larger than the new one
    proof = consistency_proof(2, 3, subtree_of(VECTOR_LEAVES))
    assert not verify_consistency(3, 2, ROOT_HASHES[3], ROOT_HASHES[2], proof)
    assert not verify_consistency(3, 2, ROOT_HASHES[2], ROOT_HASHES[3], proof)
    assert not verify_consistency(-1, 2, ROOT_HASHES[1], ROOT_HASHES[2], proof)


def test_verification_never_raises_on_malformed_input() -> None:
    """Elements of the wrong size or type, and roots or leaves that are not hashes, are a plain False."""
    proof = consistency_proof(6, 8, subtree_of(VECTOR_LEAVES))
    inc = inclusion_proof(5, 8, subtree_of(VECTOR_LEAVES))
    for junk in (b"", b"\x00" * 31, b"\x00" * 33, "00" * 32, None, 7, bytearray(32)):
        assert not verify_consistency(6, 8, ROOT_HASHES[6], ROOT_HASHES[8], [*proof[:-1], junk])  # type: ignore[list-item]
        assert not verify_consistency(1, 1, junk, junk, [])  # type: ignore[arg-type]
        assert not verify_inclusion(5, 8, VECTOR_LEAVES[5], [*inc[:-1], junk], ROOT_HASHES[8])  # type: ignore[list-item]
        assert not verify_inclusion(0, 1, junk, [], junk)  # type: ignore[arg-type]


def test_generation_refuses_impossible_arguments() -> None:
    subtree = subtree_of(VECTOR_LEAVES)
    for index, size in [(0, 0), (1, 1), (8, 8), (-1, 4)]:
        with pytest.raises(ValueError, match="leaf index"):
            inclusion_proof(index, size, subtree)
    for old, new in [(0, 0), (0, 5), (5, 4), (-1, 3)]:
        with pytest.raises(ValueError, match="no consistency proof"):
            consistency_proof(old, new, subtree)
    with pytest.raises(ValueError, match="outside"):
        subtree(0, 9)
    with pytest.raises(ValueError, match="outside"):
        subtree(3, 2)


# ---- exhaustive over small trees against the literal reference ---------------------------------------------

SMALL = 64
SMALL_LEAVES = make_leaves(SMALL, b"small")
SMALL_SUBTREE = memo(SMALL_LEAVES)
SMALL_ROOTS = [ref_mth(SMALL_LEAVES[:n]) for n in range(SMALL + 1)]


def test_every_inclusion_proof_of_small_trees_matches_the_rfc() -> None:
    for size in range(1, SMALL + 1):
        for index in range(size):
            proof = inclusion_proof(index, size, SMALL_SUBTREE)
            assert proof == ref_path(index, SMALL_LEAVES[:size]), (index, size)
            assert verify_inclusion(index, size, SMALL_LEAVES[index], proof, SMALL_ROOTS[size])


def test_every_consistency_pair_of_small_trees() -> None:
    """All 2,080 pairs 1 <= m <= n <= 64: the RFC's proof, which verifies and stops verifying when spoiled."""
    for new in range(1, SMALL + 1):
        for old in range(1, new + 1):
            proof = consistency_proof(old, new, SMALL_SUBTREE)
            assert proof == ref_proof(old, SMALL_LEAVES[:new]), (old, new)
            r1, r2 = SMALL_ROOTS[old], SMALL_ROOTS[new]
            assert verify_consistency(old, new, r1, r2, proof), (old, new)
            if old == new:
                assert proof == []
                assert not verify_consistency(old, new, r1, SMALL_ROOTS[new - 1], proof)
                continue
            assert not verify_consistency(old, new, r2, r1, proof)
            assert not verify_consistency(old, new, SMALL_ROOTS[old - 1], r2, proof)
            assert not verify_consistency(old, new, r1, SMALL_ROOTS[new - 1], proof)
            for name, bad in inclusion_mutations(proof, r2):
                assert not verify_consistency(old, new, r1, r2, bad), (old, new, name)


def test_wrong_sizes_verify_only_when_the_rfc_path_has_the_same_shape() -> None:
    """A proof carries no sizes: one for (m, n) also checks out for sizes whose RFC proof combines its
    elements the same way (e.g. leaf 0's proof in 3 leaves read for 4 leaves). Every other size fails.
    That is why a checkpoint signs size and root together; a (size, root) pair is never taken unsigned."""
    n_max = 40
    for size in range(1, n_max + 1):
        for index in range(size):
            proof = inclusion_proof(index, size, SMALL_SUBTREE)
            for other in range(index + 1, n_max + 1):
                same = path_shape(index, other) == path_shape(index, size)
                got = verify_inclusion(index, other, SMALL_LEAVES[index], proof, SMALL_ROOTS[size])
                assert got == same, (index, size, other)
            # a wrong index never verifies: in one tree, the shape of a path names its leaf
            for other in range(size):
                if other != index:
                    assert not verify_inclusion(other, size, SMALL_LEAVES[index], proof, SMALL_ROOTS[size])
    shapes = {(m, n): consistency_shape(m, n) for n in range(2, 33) for m in range(1, n)}
    for (m, n), shape in shapes.items():
        proof = consistency_proof(m, n, SMALL_SUBTREE)
        for (m2, n2), shape2 in shapes.items():
            got = verify_consistency(m2, n2, SMALL_ROOTS[m], SMALL_ROOTS[n], proof)
            assert got == (shape2 == shape), (m, n, m2, n2)
            if m2 != m and n2 == n:  # with the right new size, a wrong old size never verifies
                assert not got


# ---- properties --------------------------------------------------------------------------------------------


@settings(PROPERTY, max_examples=25)
@given(size=st.integers(1, 300), salt=st.binary(max_size=8))
def test_inclusion_property(size: int, salt: bytes) -> None:
    leaves = make_leaves(size, salt)
    subtree = memo(leaves)
    root = merkle.root(leaves)
    wrong_leaf = leaf_hash(b"not a leaf" + salt)
    for index in range(size):
        proof = inclusion_proof(index, size, subtree)
        assert verify_inclusion(index, size, leaves[index], proof, root)
        assert not verify_inclusion(index, size, wrong_leaf, proof, root)
        assert not verify_inclusion(index, size, leaves[index], proof, node_hash(root, root))
        for other in {index - 1, index + 1, index ^ 1, index ^ 2}:
            if 0 <= other < size and other != index:
                assert not verify_inclusion(other, size, leaves[index], proof, root)
                assert not verify_inclusion(other, size, leaves[other], proof, root)
        for other in (size * 2, size // 2, size + 1, size - 1, index, size * 2 + 1):
            if other != size:
                expected = other > index and path_shape(index, other) == path_shape(index, size)
                assert verify_inclusion(index, other, leaves[index], proof, root) == expected
        for name, bad in inclusion_mutations(proof, root):
            assert not verify_inclusion(index, size, leaves[index], bad, root), (index, name)


@settings(PROPERTY, max_examples=100)
@given(data=st.data(), salt=st.binary(max_size=8))
def test_consistency_property(data: st.DataObject, salt: bytes) -> None:
    new = data.draw(st.integers(1, 1000), label="new size")
    old = data.draw(st.integers(1, new), label="old size")
    leaves = make_leaves(new, salt)
    subtree = memo(leaves)
    r1, r2 = merkle.root(leaves[:old]), merkle.root(leaves)
    proof = consistency_proof(old, new, subtree)
    assert verify_consistency(old, new, r1, r2, proof)
    # the proof is no longer than the RFC's bound: about two elements a level
    assert len(proof) <= 2 * max(1, new.bit_length())
    if old == new:
        assert proof == []
        return
    assert not verify_consistency(old, new, r2, r1, proof)
    assert not verify_consistency(old, new, r1, node_hash(r2, r2), proof)
    assert not verify_consistency(old, new, leaf_hash(b"other"), r2, proof)
    for other in {old - 1, old + 1, old ^ 2}:  # with the right new size, a wrong old size never verifies
        if 0 < other <= new and other != old:
            assert not verify_consistency(other, new, r1, r2, proof)
    for other in {new + 1, new - 1, new * 2, new // 2}:
        if other >= old and other != new:
            expected = other > old and consistency_shape(old, other) == consistency_shape(old, new)
            assert verify_consistency(old, other, r1, r2, proof) == expected
    for name, bad in inclusion_mutations(proof, r2):
        assert not verify_consistency(old, new, r1, r2, bad), name
    # a tree that differs in one leaf of the old part is not consistent with it
    changed = list(leaves)
    changed[data.draw(st.integers(0, old - 1), label="changed leaf")] = leaf_hash(b"forged")
    assert not verify_consistency(
        old, new, r1, merkle.root(changed), consistency_proof(old, new, memo(changed))
    )


@settings(PROPERTY, max_examples=20)
@given(size=st.integers(0, 600), salt=st.binary(max_size=8))
def test_frontier_property(size: int, salt: bytes) -> None:
    leaves = make_leaves(size, salt)
    frontier = Frontier()
    reported: list[tuple[int, int, bytes]] = []
    hashes_done = 0
    for n, leaf in enumerate(leaves, 1):
        before = len(reported)
        frontier.append(leaf, lambda level, index, h: reported.append((level, index, h)))
        hashes_done += len(reported) - before
        levels = [level for level, _, _ in reported[before:]]
        assert levels == list(range(1, len(levels) + 1))  # lowest level first, every level up to the carry
        assert frontier.size == n
        assert len(frontier.hashes) == n.bit_count()
        assert frontier.root() == merkle.root(leaves[:n])
        restored = Frontier.from_text(n, frontier.to_text())
        assert restored == frontier and restored.root() == frontier.root()
    # every perfect subtree of the tree, each reported once, with the hash of its leaves
    expected = {(level, i) for level in range(1, size.bit_length() + 1) for i in range(size >> level)}
    assert {(level, i) for level, i, _ in reported} == expected and len(reported) == len(expected)
    for level, i, h in reported:
        assert h == ref_mth(leaves[i << level : (i + 1) << level])
    # amortised O(1): one node hash per completed subtree, fewer than one per leaf in all
    assert hashes_done == len(expected) < max(1, size)
    assert Frontier.from_text(0, "") == Frontier()


@settings(PROPERTY, max_examples=40)
@given(size=st.integers(1, 2**64), data=st.data())
def test_frontier_text_round_trip(size: int, data: st.DataObject) -> None:
    hashes = [data.draw(st.binary(min_size=32, max_size=32)) for _ in range(size.bit_count())]
    frontier = Frontier(size, hashes)
    text = frontier.to_text()
    assert Frontier.from_text(size, text) == frontier
    assert text == ",".join(h.hex() for h in hashes)


def test_frontier_refuses_bad_input() -> None:
    h = leaf_hash(b"x")
    with pytest.raises(ValueError, match="3 frontier hashes, not 1"):
        Frontier(7, [h])
    with pytest.raises(ValueError, match="negative"):
        Frontier(-1)
    with pytest.raises(ValueError, match="32 bytes"):
        Frontier(1, [b"short"])
    with pytest.raises(ValueError, match="32 bytes"):
        Frontier().append(b"short")
    good = Frontier(3, [h, h]).to_text()
    for text in [
        "zz",
        good.upper(),
        good + ",",
        "," + good,
        good.replace(",", ";"),
        h.hex()[:-2],
        " " + good,
    ]:
        with pytest.raises(ValueError):
            Frontier.from_text(3, text)
    with pytest.raises(ValueError, match="frontier hashes"):
        Frontier.from_text(4, good)  # size 4 has one subtree, the text two
    with pytest.raises(ValueError, match="frontier hashes"):
        Frontier.from_text(1, "")


def test_frontier_copy_is_independent() -> None:
    frontier = Frontier()
    for leaf in VECTOR_LEAVES[:5]:
        frontier.append(leaf)
    copy = frontier.copy()
    copy.append(VECTOR_LEAVES[5])
    assert frontier.size == 5 and frontier.root() == ROOT_HASHES[5]
    assert copy.size == 6 and copy.root() == ROOT_HASHES[6]
    resumed = Frontier.from_text(5, frontier.to_text())
    resumed.append(VECTOR_LEAVES[5])
    assert resumed == copy


# ---- huge trees: which ranges proof generation asks for ----------------------------------------------------


def recording(size: int) -> tuple[merkle.Subtree, list[tuple[int, int]]]:
    """A fake store over `size` leaves: answers sha256 of the range bounds and records every range asked."""
    asked: list[tuple[int, int]] = []

    def subtree(start: int, end: int) -> bytes:
        assert 0 <= start < end <= size
        asked.append((start, end))
        return hashlib.sha256(f"{start}:{end}".encode()).digest()

    return subtree, asked


def well_formed(start: int, end: int, size: int) -> bool:
    """Perfect and aligned on its size ([k * 2**L, (k + 1) * 2**L)), or ending at the tree's size."""
    length = end - start
    perfect = length & (length - 1) == 0 and start % length == 0
    return perfect or end == size


@pytest.mark.parametrize("size", [2**40, 2**40 + 1, 2**40 - 1, 3 * 2**38 + 12345, 2**63, 2**63 - 1])
def test_huge_tree_proofs_ask_only_for_log_n_needed_ranges(size: int) -> None:
    depth = (size - 1).bit_length()  # the tree's height
    for index in {0, 1, size // 2, size // 3, size - 2, size - 1}:
        subtree, asked = recording(size)
        proof = inclusion_proof(index, size, subtree)
        assert len(asked) == len(proof) == len(set(asked)) <= depth
        assert all(well_formed(s, e, size) for s, e in asked), asked
        assert not any(s <= index < e for s, e in asked)  # siblings only, never the leaf's own side
    for old in {1, 2, 3, size // 2, size // 3 + 7, size - 1, size}:
        subtree, asked = recording(size)
        proof = consistency_proof(old, size, subtree)
        assert len(asked) == len(proof) == len(set(asked)) <= 2 * depth
        assert all(well_formed(s, e, size) for s, e in asked), asked


@cache
def _uniform_mth(n: int) -> bytes:
    """MTH of n copies of one leaf: it depends only on n, so a tree of 2**63 leaves can be hashed."""
    if n == 1:
        return leaf_hash(b"same")
    k = _k(n)
    return node_hash(_uniform_mth(k), _uniform_mth(n - k))


@pytest.mark.parametrize("size", [2**40 + 5, 2**63 - 1, 2**63, 2**63 + 2**62 + 1])
def test_huge_tree_proofs_verify(size: int) -> None:
    """In a tree of identical leaves every range's hash is known, so proofs at 2**63 leaves can be checked."""

    def subtree(start: int, end: int) -> bytes:
        return _uniform_mth(end - start)

    for index in (0, size // 2 + 1, size - 1):
        proof = inclusion_proof(index, size, subtree)
        assert verify_inclusion(index, size, _uniform_mth(1), proof, _uniform_mth(size))
        assert not verify_inclusion(index, size, _uniform_mth(2), proof, _uniform_mth(size))
        assert not verify_inclusion(index, size, _uniform_mth(1), proof[:-1], _uniform_mth(size))
    for old in (1, 2**40, size // 2 + 3, size - 1):
        proof = consistency_proof(old, size, subtree)
        assert verify_consistency(old, size, _uniform_mth(old), _uniform_mth(size), proof)
        assert not verify_consistency(old, size, _uniform_mth(old + 1), _uniform_mth(size), proof)
        assert not verify_consistency(old, size, _uniform_mth(old), _uniform_mth(size), proof[1:])


def test_subtree_of_answers_any_range() -> None:
    subtree: Callable[[int, int], bytes] = subtree_of(VECTOR_LEAVES)
    assert subtree(0, 0) == EMPTY_ROOT
    assert subtree(2, 3) == VECTOR_LEAVES[2]
