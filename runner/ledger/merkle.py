"""Merkle tree hashing, proofs and their verification as RFC 9162 section 2.1 defines them (SHA-256).

The tree over ``n`` leaves ``D[0:n]`` is the one of Certificate Transparency::

    MTH({})       = SHA-256()                                   (EMPTY_ROOT)
    MTH({d0})     = SHA-256(0x00 || d0)                         (leaf_hash)
    MTH(D[0:n])   = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))  (node_hash), k the largest power of 2 < n

Every function here takes *leaf hashes* (``leaf_hash(data)`` already applied), so the caller decides what
a leaf's data is. Proof generation reads the tree only through a ``subtree(start, end)`` callable returning
``MTH`` of the leaf hashes ``[start, end)``, and asks only for ranges the RFC's recursion needs: every range
is either a perfect subtree aligned on its size (``[k * 2**L, (k + 1) * 2**L)``, which a store can keep) or
ends at the tree's size (the ragged right edge). Sizes are Python integers, so trees of ``2**63`` leaves and
more work. Nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence

HASH_SIZE = 32
#: MTH of the empty tree
EMPTY_ROOT = hashlib.sha256(b"").digest()

#: subtree(start, end) -> MTH of the leaf hashes [start, end)
Subtree = Callable[[int, int], bytes]
#: on_node(level, index, hash): the perfect subtree covering leaves [index * 2**level, (index + 1) * 2**level)
NodeCallback = Callable[[int, int, bytes], None]

_HEX_HASH = re.compile(r"[0-9a-f]{64}")


def leaf_hash(data: bytes) -> bytes:
    """The hash of a leaf: ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n >= 2``): where MTH splits ``n`` leaves."""
    return 1 << ((n - 1).bit_length() - 1)


def _range_root(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH of ``leaves[start:end]``, bottom up: pair neighbours, carry a lone last node up a level.

    Carrying the odd node unchanged builds exactly the left-balanced tree of the recursive definition.
    """
    if start == end:
        return EMPTY_ROOT
    level = list(leaves[start:end])
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes (:data:`EMPTY_ROOT` for none)."""
    return _range_root(leaves, 0, len(leaves))


def subtree_of(leaves: Sequence[bytes]) -> Subtree:
    """A :data:`Subtree` answering from leaf hashes in memory (no memoisation)."""

    def subtree(start: int, end: int) -> bytes:
        if not 0 <= start <= end <= len(leaves):
            raise ValueError(f"subtree range [{start}, {end}) is outside the {len(leaves)} leaves")
        return _range_root(leaves, start, end)

    return subtree


def inclusion_proof(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """The audit path ``PATH(index, D[0:size])`` of RFC 9162 2.1.3.1, nearest sibling first.

    The recursion walks from the root down to the leaf: in ``[lo, hi)`` with split ``k`` the leaf is in one
    half and the other half's MTH joins the path. A left half is a perfect aligned subtree; a right half
    is one too, or ends at ``size``. The RFC lists the path leaf upwards, so the walk's list is reversed.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    siblings: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:  # PATH(m, D[0:k]) : MTH(D[k:n])
            siblings.append(subtree(mid, hi))
            hi = mid
        else:  # PATH(m - k, D[k:n]) : MTH(D[0:k])
            siblings.append(subtree(lo, mid))
            lo = mid
    siblings.reverse()
    return siblings


def consistency_proof(old_size: int, new_size: int, subtree: Subtree) -> list[bytes]:
    """``PROOF(old_size, D[0:new_size])`` of RFC 9162 2.1.4.1 (``0 < old_size <= new_size``).

    ``SUBPROOF(m, D[lo:hi], b)``, unrolled: while the old tree ends inside ``[lo, hi)`` (``m < hi``) split at
    ``k``; if the old tree ends in the left half keep ``b`` and record the right half, else record the left
    half and go right with ``b`` false. When the range ends exactly at ``old_size`` it is a node of the old
    tree; it is recorded unless ``b`` is still true (then it is the whole old tree, which the verifier has).
    """
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    siblings: list[bytes] = []
    lo, hi, whole_old_tree = 0, new_size, True
    while old_size < hi:
        mid = lo + _split(hi - lo)
        if old_size <= mid:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            siblings.append(subtree(mid, hi))
            hi = mid
        else:  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            siblings.append(subtree(lo, mid))
            lo, whole_old_tree = mid, False
    siblings.reverse()
    if not whole_old_tree:  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
        siblings.insert(0, subtree(lo, hi))
    return siblings


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """Whether ``proof`` shows leaf hash ``leaf`` at ``index`` of tree ``(size, root)`` (RFC 9162 2.1.3.2).

    ``fn`` is the index of the node reached, ``sn`` the index of the last node at that level: a sibling is on
    the left when ``fn`` is odd or ``fn`` is the level's last node (a lone last node is carried up unchanged,
    so the shift skips those levels). A proof of the wrong length ends with ``sn != 0`` or runs out of levels.
    """
    if not 0 <= index < size or not _is_hash(leaf) or not _is_hash(root):
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0 or not _is_hash(p):
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows ``(old_size, old_root)`` is a prefix of ``(new_size, new_root)`` (2.1.4.2).

    Equal sizes need an empty proof and equal roots. ``old_size == 0`` is refused: the RFC proves nothing
    about the empty tree. ``fr`` rebuilds the old root and ``sr`` the new one from the same path: a left
    sibling joins both, a right sibling (beyond the old tree) only ``sr``.
    """
    if not 0 < old_size <= new_size or not _is_hash(old_root) or not _is_hash(new_root):
        return False
    if not all(_is_hash(c) for c in proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of 2: the old tree is itself a node, omitted from the path
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:  # skip the levels where the old tree's last node is a right child inside that node
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


class Frontier:
    """The compact range ``[0, size)``: the roots of its perfect subtrees, largest (leftmost) first.

    Bit ``L`` of ``size`` set means one subtree of ``2**L`` leaves, so ``len(hashes) == popcount(size)``.
    Appending a leaf merges equal-sized subtrees like a binary counter's carry: amortised one node hash.
    """

    __slots__ = ("hashes", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if size < 0:
            raise ValueError(f"a tree size cannot be negative: {size}")
        if len(hashes) != size.bit_count():
            raise ValueError(
                f"a tree of size {size} has {size.bit_count()} frontier hashes, not {len(hashes)}"
            )
        if not all(_is_hash(h) for h in hashes):
            raise ValueError(f"frontier hashes must be {HASH_SIZE} bytes each")
        self.size = size
        self.hashes = list(hashes)

    def append(self, leaf: bytes, on_node: NodeCallback | None = None) -> None:
        """Append one leaf hash; ``on_node`` hears of every perfect subtree this completes, lowest first."""
        if not _is_hash(leaf):
            raise ValueError(f"a leaf hash must be {HASH_SIZE} bytes")
        position = self.size  # the new leaf's index
        node, level, carry = leaf, 0, position
        while carry & 1:  # the subtree at this level is complete: merge it with its left neighbour
            node = node_hash(self.hashes.pop(), node)
            level += 1
            carry >>= 1
            if on_node is not None:
                on_node(level, position >> level, node)
        self.hashes.append(node)
        self.size += 1

    def root(self) -> bytes:
        """MTH of the whole range: the subtrees folded from the right (:data:`EMPTY_ROOT` when empty)."""
        if not self.hashes:
            return EMPTY_ROOT
        result = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            result = node_hash(h, result)
        return result

    def copy(self) -> Frontier:
        return Frontier(self.size, self.hashes)

    def to_text(self) -> str:
        """The hashes as lowercase hex joined by ``,`` (``""`` for the empty tree)."""
        return ",".join(h.hex() for h in self.hashes)

    @classmethod
    def from_text(cls, size: int, text: str) -> Frontier:
        """The frontier :meth:`to_text` wrote for a tree of ``size``; ValueError naming what is wrong."""
        parts = text.split(",") if text else []
        for number, part in enumerate(parts, 1):
            if not _HEX_HASH.fullmatch(part):
                raise ValueError(
                    f"frontier hash {number} is not {2 * HASH_SIZE} lowercase hex digits: {part[:80]!r}"
                )
        return cls(size, [bytes.fromhex(part) for part in parts])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frontier):
            return NotImplemented
        return self.size == other.size and self.hashes == other.hashes

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Frontier(size={self.size}, hashes=[{', '.join(h.hex()[:12] for h in self.hashes)}])"
