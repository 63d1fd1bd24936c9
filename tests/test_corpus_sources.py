"""The vendored corpus is complete, listed and licensed: every file has a row in SOURCES.md with its origin,
licence and full sha256, and nothing the tests read lives outside the repository."""

from __future__ import annotations

import hashlib
import re

from tests.conftest import CORPUS, REPO

ROW = re.compile(r"^\| `(?P<file>[^`]+)` \|(?P<middle>.*)\| `(?P<sha>[0-9a-f]{64})` \|", re.MULTILINE)
#: the licences the corpus may hold: all allow redistribution with a GPL-3.0-or-later project
ALLOWED = {"Apache-2.0", "MIT", "GPL-3.0"}
INFORMAL = "custom permissive"


def _rows() -> dict[str, tuple[str, str]]:
    text = (CORPUS / "SOURCES.md").read_text()
    return {m["file"]: (m["middle"], m["sha"]) for m in ROW.finditer(text)}


def test_every_corpus_file_is_listed_with_a_matching_sha256() -> None:
    rows = _rows()
    files = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.is_file() and p.name != "SOURCES.md"}
    assert files, f"no corpus at {CORPUS}"
    assert files - set(rows) == set(), "corpus files without a SOURCES.md row"
    assert set(rows) - files == set(), "SOURCES.md rows without a file"
    for name, (_, sha) in rows.items():
        assert hashlib.sha256((CORPUS / name).read_bytes()).hexdigest() == sha, name


def test_every_corpus_file_names_a_redistributable_licence() -> None:
    sources = (CORPUS / "SOURCES.md").read_text()
    licence_of_repo = dict(re.findall(r"^\| \[([^\]]+)\]\([^)]+\) \| ([^|]+?) \|", sources, re.MULTILINE))
    for name, (middle, _) in _rows().items():
        cells = [c.strip() for c in middle.split("|")]
        named = [c for c in cells if c in ALLOWED]
        repo = next((c for c in cells if c in licence_of_repo), None)
        if not named and repo is not None:
            named = [licence_of_repo[repo]]
        assert named, f"{name}: no licence in its SOURCES.md row"
        assert all(lic in ALLOWED or lic.startswith(INFORMAL) for lic in named), (name, named)


def test_project_licence_is_gpl3_or_later_everywhere() -> None:
    assert "GNU GENERAL PUBLIC LICENSE" in (REPO / "LICENSE").read_text()
    assert 'license = "GPL-3.0-or-later"' in (REPO / "pyproject.toml").read_text()
    metas = sorted((REPO / "roles").glob("*/meta/main.yml"))
    assert metas
    for meta in metas:
        assert "license: GPL-3.0-or-later" in meta.read_text(), meta


def test_nothing_reads_outside_the_repository() -> None:
    """A user's clone has nothing beside it: no test, bench, make target or CI script names the folder
    beside the checkout that only our own machines have."""
    beside = "sha" + "red"  # spelt in two pieces so this file does not name it itself
    pattern = re.compile(
        rf"\.\./{beside}|{beside}/corpus|parents\[[23]\] / \"{beside}\"|parent\.parent\.parent"
    )
    this = REPO / "tests" / "test_corpus_sources.py"
    offenders = []
    for folder in ("tests", "bench", "runner", "molecule", ".ci"):
        for path in (REPO / folder).rglob("*"):
            if path == this or not path.is_file() or "corpus" in path.relative_to(REPO).parts[:3]:
                continue
            if path.suffix in {".py", ".sh", ".yml", ".yaml", ".md", ""}:
                text = path.read_text(errors="replace")
                if pattern.search(text):
                    offenders.append(str(path.relative_to(REPO)))
    for name in ("Makefile", "pyproject.toml", "README.md"):
        if pattern.search((REPO / name).read_text()):
            offenders.append(name)
    assert offenders == []
