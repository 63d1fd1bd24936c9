"""Review of inventory changes in Git: what a change really does, per client.

``review(request)`` reads two versions of the inventories straight from Git (``git ls-tree`` and
``git cat-file --batch``; the working tree is read where it lies, nothing is checked out), validates
both with :func:`runner.inventory.validate_client`, and reports per client: hosts added, removed or
moved between groups; roles gained or lost per host; variables changed (``key: old → new``, secrets
masked); schedules and windows changed with their next occurrences; thresholds loosened or tightened;
waivers added, extended or removed; and clients added, removed or renamed. Findings carry a severity:
``error`` (a plaintext secret, a schema error) makes ``maint inventory review`` exit 1.

The package, one concern per module:

- :mod:`.gitio`: Git access (revisions, listings with blob ids, blob contents, roles of a version);
- :mod:`.sides`: the two sides, read as the inventory loader reads them (a revision's files written to a
  private ``0700`` temporary folder; only changed clients in full), each client's variables;
- :mod:`.secrets`: plaintext secrets and controller templates found, and how values are shown (masked);
- :mod:`.diff`: the comparisons: hosts, roles, variables, schedules, thresholds, waivers, renames;
- :mod:`.model`: the report's dataclasses; :mod:`.render`: Markdown (a Jinja2 template) and JSON;
- here: the orchestration (:func:`review`) and the findings that need more than one client or the ledger.

How the two sides are read:

- BASE (default: the merge base of HEAD with ``origin/main``, else with ``main``, else ``HEAD~``) is a
  commit; HEAD is a commit or, by default, the working tree (tracked and untracked files that are not
  ignored, uncommitted changes included).
- Every file is identified by its Git blob id (computed for working-tree files), so the clients whose
  files are identical on both sides are known without parsing anything; only the changed clients are
  written out and validated, on both sides. Unchanged clients are read only for their host names (a
  host present in two clients).
- Schedule occurrences come from :func:`runner.schedule.next_occurrences` (DST, blackout days and
  holidays applied, skipped occurrences listed and marked).
- Thresholds are judged by the control catalogue (:func:`runner.catalogue.load`): each threshold's
  ``looser`` direction, ``loosest`` value and ``default`` (an unset threshold is its default).
- Secret values are never written to the report: a value under a secret-looking key
  (:func:`runner.redact.is_secret_key`) or of a secret shape (:data:`SECRET_SHAPES`) is shown as
  :data:`runner.redact.MASK`; ``!vault`` values and vault-encrypted files are shown as opaque; and
  every plaintext secret found is scrubbed from the rendered text as a last step.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url

from runner import catalogue
from runner.inventory.loader import HOSTS_FILES, Problem
from runner.inventory.review.diff import (
    ThresholdSpecs,
    diff_hosts,
    diff_schedules,
    diff_thresholds,
    diff_variables,
    diff_waivers,
    judge,
    similarity,
)
from runner.inventory.review.gitio import default_base, find_repository, resolve
from runner.inventory.review.model import (
    ClientReview,
    HostChange,
    Level,
    Review,
    ReviewError,
    ReviewFinding,
    RoleChange,
    ScheduleChange,
    ThresholdChange,
    VarChange,
    WaiverChange,
)
from runner.inventory.review.render import MARKER, render_json, render_markdown
from runner.inventory.review.secrets import SECRET_SHAPES, VAULT_SHOWN, secret_findings, show
from runner.inventory.review.sides import (
    ClientState,
    ParseCache,
    Side,
    host_names,
    lines,
    load_state,
    make_side,
    materialise,
    parse,
    private_dir,
)

__all__ = [
    "DEFAULT_MAX_WAIVER_DAYS",
    "MARKER",
    "RENAME_SIMILARITY",
    "SECRET_SHAPES",
    "VAULT_SHOWN",
    "ClientReview",
    "HostChange",
    "Level",
    "Review",
    "ReviewError",
    "ReviewFinding",
    "ReviewRequest",
    "RoleChange",
    "ScheduleChange",
    "ThresholdChange",
    "VarChange",
    "WaiverChange",
    "judge",
    "render_json",
    "render_markdown",
    "review",
    "show",
    "threshold_specs",
]

log = logging.getLogger(__name__)

DEFAULT_MAX_WAIVER_DAYS = 180
#: a removed client folder and an added one are a rename when this share of their lines is the same
RENAME_SIMILARITY = 0.5


def threshold_specs() -> ThresholdSpecs:
    """role -> threshold name -> its catalogue entry (direction that loosens, loosest value, default)."""
    return {role: spec.thresholds for role, spec in catalogue.load().roles.items()}


@dataclass(frozen=True)
class ReviewRequest:
    base: str | None = None
    head: str | None = None  # None: the working tree
    path: str | None = None  # folder of the client folders; relative to cwd; default: <repo>/inventories
    cwd: Path | None = None
    max_waiver_days: int = DEFAULT_MAX_WAIVER_DAYS
    now: datetime | None = None
    ledger_url: str | None = None


def _prefix(repo: Path, path: str | None, cwd: Path) -> str:
    if path is None:
        return "inventories"
    target = Path(path)
    target = (cwd / target).resolve() if not target.is_absolute() else target.resolve()
    try:
        rel = target.relative_to(repo.resolve())
    except ValueError:
        raise ReviewError(f"{path} is not inside the repository {repo}") from None
    return rel.as_posix() if str(rel) != "." else ""


def review(request: ReviewRequest) -> Review:
    """Compare the inventories of ``request.base`` and ``request.head`` (see the module docstring)."""
    cwd = (request.cwd or Path.cwd()).resolve()
    repo = find_repository(cwd)
    if request.base is None:
        base_sha, base_label = default_base(repo)
    else:
        base_sha, base_label = resolve(repo, request.base), request.base
    head_sha = resolve(repo, request.head) if request.head is not None else None
    head_label = request.head if request.head is not None else "working tree"
    prefix = _prefix(repo, request.path, cwd)
    now = request.now or datetime.now(UTC)
    with private_dir() as tmp:
        base = make_side(repo, base_sha, base_label, prefix, tmp, "base")
        head = make_side(repo, head_sha, head_label, prefix, tmp, "head")
        if not base.listing and not head.listing:
            where = prefix or "the top of the repository"
            raise ReviewError(f"no client folders under {where} in {base_label} or {head_label}")
        return _review(repo, prefix, base, head, request, now)


def _review(repo: Path, prefix: str, base: Side, head: Side, request: ReviewRequest, now: datetime) -> Review:
    removed = sorted(base.listing.keys() - head.listing.keys())
    added = sorted(head.listing.keys() - base.listing.keys())
    modified = sorted(
        c
        for c in base.listing.keys() & head.listing.keys()
        if base.listing[c] != head.listing[c] or base.roles != head.roles
    )
    # write what is needed: changed clients in full, every head client's hosts file (duplicate hosts)
    for side, names in ((base, [*removed, *modified]), (head, [*added, *modified])):
        if side.commit is not None:
            files: dict[str, Iterable[str]] = {c: side.listing[c] for c in names}
            for c in side.listing.keys() - set(names):
                if side is head:
                    files[c] = [f for f in HOSTS_FILES if f in side.listing[c]]
            materialise(repo, side, files)
    renames: list[tuple[str, str, float]] = []
    if removed and added:
        lines_a = {c: lines(base, c) for c in removed}
        lines_b = {c: lines(head, c) for c in added}
        scores = sorted(
            ((similarity(lines_a[a], lines_b[b]), a, b) for a in removed for b in added), reverse=True
        )
        for score, a, b in scores:
            if score < RENAME_SIMILARITY or a not in removed or b not in added:
                continue
            removed.remove(a)
            added.remove(b)
            renames.append((a, b, round(score, 3)))

    findings: list[ReviewFinding] = []
    secrets: set[str] = set()
    cache: ParseCache = {}
    specs = threshold_specs()
    reviews: list[ClientReview] = []
    removed_hosts: list[tuple[str, str]] = []
    changed_names: set[str] = set()
    pairs: list[tuple[str, str | None, str | None, float | None]] = [
        *((n, n, None, None) for n in modified),
        *((n, None, n, None) for n in added),
        *((n, n, None, None) for n in removed),
        *((b, a, b, s) for a, b, s in renames),
    ]
    for name, old_name, new_name, sim in pairs:
        is_removed = name in removed
        before = load_state(base, old_name, cache) if old_name is not None else None
        after = None if is_removed else load_state(head, new_name or name, cache)
        change = (
            "removed"
            if is_removed
            else "added"
            if old_name is None
            else "renamed"
            if new_name
            else "modified"
        )
        cr = ClientReview(
            name, change, renamed_from=old_name if change == "renamed" else None, similarity=sim
        )
        _compare(cr, before, after, now, specs, request.max_waiver_days, findings)
        if after is not None:
            changed_names.add(name)
            secrets.update(value for _, _, _, value in after.secrets)
            findings += secret_findings(name, after.secrets, after.templates)
            for problem in [*after.problems, *after.bad_files]:
                findings.append(
                    ReviewFinding(Level.ERROR, "schema-error", name, problem.file, _problem_text(problem))
                )
        if before is not None:
            secrets.update(value for _, _, _, value in before.secrets)
        removed_hosts += [(old_name or name, h.host) for h in cr.hosts if h.change == "removed"]
        reviews.append(cr)

    findings += _duplicate_hosts(head, changed_names, cache)
    notes: list[str] = []
    findings += _failing_removed_hosts(removed_hosts, request.ledger_url, notes)
    order = {Level.ERROR: 0, Level.WARNING: 1}
    findings.sort(key=lambda f: (order[f.level], f.client, f.code, f.where))
    reviews.sort(key=lambda r: r.name)
    return Review(
        repository=str(repo),
        path=prefix or ".",
        base=base.commit or "",
        base_label=base.label,
        head=head.commit,
        head_label=head.label,
        clients_total=len(head.listing),
        clients=reviews,
        findings=findings,
        notes=notes,
        secrets={s for s in secrets if len(s) >= 4},
    )


def _limit(value: object) -> str:
    return f"{value:g}" if isinstance(value, int | float) and not isinstance(value, bool) else str(value)


def _problem_text(problem: Problem) -> str:
    return f"{problem.key}: {problem.message}" if problem.key else problem.message


def _compare(
    cr: ClientReview,
    before: ClientState | None,
    after: ClientState | None,
    now: datetime,
    specs: ThresholdSpecs,
    max_waiver_days: int,
    findings: list[ReviewFinding],
) -> None:
    cr.variables = diff_variables(before, after)
    for label, state in (("BASE", before), ("HEAD", after)):
        if state is not None and state.client is None:
            cr.notes.append(
                f"{label} does not validate: hosts, roles and settings are compared as far as possible"
            )
    a = before.client if before else None
    b = after.client if after else None
    if (before is not None and a is None) or (after is not None and b is None):
        return
    cr.hosts, cr.roles = diff_hosts(a, b)
    sa, sb = (a.settings if a else None), (b.settings if b else None)
    cr.schedules, cr.windows = diff_schedules(cr.name, sa, sb, now)
    cr.thresholds, past = diff_thresholds(sa, sb, specs)
    for change, spec in past:
        findings.append(
            ReviewFinding(
                Level.WARNING,
                "threshold-loosened",
                cr.name,
                f"maintenance.thresholds.{change.role}.{change.name}",
                f"loosened from {change.old} to {change.new}, past the limit {_limit(spec.loosest)}",
            )
        )
    if sb is None:
        cr.waivers = [c for c, _ in diff_waivers(sa, sb)]
        return
    today = now.astimezone(ZoneInfo(sb.timezone)).date()
    for wchange, waiver in diff_waivers(sa, sb):
        cr.waivers.append(wchange)
        if waiver is None or wchange.change in ("removed", "shortened"):
            continue
        where = f"maintenance.waivers[{wchange.control} on {wchange.hosts}]"
        if waiver.expires is None:
            findings.append(
                ReviewFinding(
                    Level.WARNING,
                    "waiver-no-expiry",
                    cr.name,
                    where,
                    f"waiver by {waiver.owner} never expires",
                )
            )
        elif (waiver.expires - today).days > max_waiver_days:
            findings.append(
                ReviewFinding(
                    Level.WARNING,
                    "waiver-too-long",
                    cr.name,
                    where,
                    f"waiver by {waiver.owner} runs until {waiver.expires} "
                    f"({(waiver.expires - today).days} days, limit {max_waiver_days})",
                )
            )


def _duplicate_hosts(head: Side, changed: set[str], cache: ParseCache) -> list[ReviewFinding]:
    owners: dict[str, list[str]] = {}
    for client, files in head.listing.items():
        hosts_file = next((f for f in HOSTS_FILES if f in files), None)
        if hosts_file is None:
            continue
        parsed = parse(head, client, hosts_file, cache)
        for host in host_names(parsed.data):
            owners.setdefault(host, []).append(client)
    out = []
    for host, clients in sorted(owners.items()):
        if len(clients) > 1 and changed & set(clients):
            for client in sorted(changed & set(clients)):
                others = ", ".join(c for c in sorted(clients) if c != client)
                out.append(
                    ReviewFinding(
                        Level.WARNING,
                        "host-in-two-clients",
                        client,
                        host,
                        f"host {host} is also in client {others}",
                    )
                )
    return out


def _ledger_present(url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return True
    database = parsed.database or ""
    return database not in ("", ":memory:") and Path(database).expanduser().is_file()


def _failing_removed_hosts(
    removed: Sequence[tuple[str, str]], url: str | None, notes: list[str]
) -> list[ReviewFinding]:
    """A removed host whose latest recorded checks still fail; skipped when there is no ledger."""
    if not removed:
        return []
    from runner.ledger import Ledger, LedgerError, default_url
    from runner.results import Status

    url = url or default_url(create=False)
    if not _ledger_present(url):
        return []
    out = []
    try:
        with Ledger(url) as ledger:
            for client, host in removed:
                failing = sorted(
                    {r.control for r in ledger.latest_results(client, host) if r.status is Status.FAIL}
                )
                if failing:
                    out.append(
                        ReviewFinding(
                            Level.WARNING,
                            "removed-host-failing",
                            client,
                            host,
                            f"removed while its latest checks still fail: {', '.join(failing)}",
                        )
                    )
    except LedgerError as exc:
        log.warning("ledger not read: %s", exc)
        notes.append(f"the ledger could not be read, removed hosts were not checked: {exc}")
    return out
