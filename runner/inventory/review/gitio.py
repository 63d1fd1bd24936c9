"""Git access for the review: revisions, file listings with blob ids, blob contents, roles of a version.

Everything is read with plumbing (``rev-parse``, ``ls-tree``, ``ls-files``, ``cat-file --batch``): nothing is
checked out, the working tree is read where it lies.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterable
from pathlib import Path

from runner.inventory.loader import known_roles
from runner.inventory.review.model import ReviewError

Listing = dict[str, dict[str, str]]  # client -> path inside the client folder -> blob id


def git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        proc = subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True, check=False)
    except OSError as exc:
        raise ReviewError(f"cannot run git: {exc}") from exc
    if proc.returncode != 0:
        raise ReviewError(f"git {' '.join(args[:2])} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def find_repository(cwd: Path | None = None) -> Path:
    where = (cwd or Path.cwd()).resolve()
    try:
        top = git(where, "rev-parse", "--show-toplevel")
    except ReviewError:
        raise ReviewError(f"not a Git repository: {where}") from None
    return Path(top.decode().strip())


def resolve(repo: Path, rev: str) -> str:
    try:
        return (
            git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
            .decode()
            .strip()
        )
    except ReviewError:
        raise ReviewError(f"unknown revision {rev!r} in {repo}") from None


def default_base(repo: Path) -> tuple[str, str]:
    """(commit, label): the merge base of HEAD with origin/main, else with main, else HEAD~."""
    for branch in ("origin/main", "main"):
        try:
            resolve(repo, branch)
        except ReviewError:
            continue
        sha = git(repo, "merge-base", "HEAD", branch).decode().strip()
        return sha, f"merge-base(HEAD, {branch})"
    try:
        return resolve(repo, "HEAD~"), "HEAD~"
    except ReviewError:
        raise ReviewError(
            f"no base to compare with in {repo}: no origin/main, no main and no HEAD~; give BASE"
        ) from None


def blob_id(data: bytes) -> str:
    """The Git blob id of ``data`` (what ``git hash-object`` prints)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _client_path(path: str, prefix: str) -> tuple[str, str] | None:
    rel = path[len(prefix) + 1 :] if prefix else path
    client, sep, inner = rel.partition("/")
    if not sep or client.startswith((".", "_")):
        return None
    return client, inner


def list_revision(repo: Path, commit: str, prefix: str) -> Listing:
    raw = git(repo, "ls-tree", "-r", "-z", "--full-tree", commit, "--", f"{prefix}/" if prefix else ".")
    out: Listing = {}
    for entry in raw.split(b"\0"):
        if not entry:
            continue
        meta, _, path_b = entry.partition(b"\t")
        mode, kind, sha = meta.decode().split()
        if kind != "blob" or mode == "120000":
            continue
        found = _client_path(path_b.decode(), prefix)
        if found:
            out.setdefault(found[0], {})[found[1]] = sha
    return out


def list_worktree(repo: Path, prefix: str) -> Listing:
    """Tracked and untracked files that are not ignored, with the blob id of what is on disk now."""
    raw = git(
        repo,
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
        "--",
        f"{prefix}/" if prefix else ".",
    )
    out: Listing = {}
    for path_b in sorted(set(raw.split(b"\0"))):
        if not path_b:
            continue
        path = path_b.decode()
        found = _client_path(path, prefix)
        full = repo / path
        if not found or full.is_symlink() or not full.is_file():
            continue
        out.setdefault(found[0], {})[found[1]] = blob_id(full.read_bytes())
    return out


def cat_blobs(repo: Path, shas: Iterable[str]) -> dict[str, bytes]:
    """Blob id -> content, read in one ``git cat-file --batch``."""
    wanted = sorted(set(shas))
    if not wanted:
        return {}
    raw = git(repo, "cat-file", "--batch", stdin="".join(f"{s}\n" for s in wanted).encode())
    blobs: dict[str, bytes] = {}
    pos = 0
    for sha in wanted:
        end = raw.index(b"\n", pos)
        header = raw[pos:end].split()
        if len(header) != 3 or header[1] != b"blob":
            raise ReviewError(f"git object {sha} is missing or not a file")
        size = int(header[2])
        blobs[sha] = raw[end + 1 : end + 1 + size]
        pos = end + 1 + size + 1
    return blobs


def roles_at(repo: Path, commit: str | None) -> set[str]:
    """Roles of the reviewed repository at that version (``roles/*/tasks/main.yml``), else installed ones."""
    if commit is None:
        found = known_roles(repo / "roles") if (repo / "roles").is_dir() else set()
    else:
        raw = git(repo, "ls-tree", "-r", "-z", "--name-only", "--full-tree", commit, "--", "roles/")
        found = {
            parts[1]
            for p in raw.decode().split("\0")
            if len(parts := p.split("/")) == 4 and parts[2:] == ["tasks", "main.yml"]
        }
    return found or known_roles()
