"""Property-based tests (Hypothesis): whatever a user hands ``maint``, it never prints a traceback.

Generated inventories (``hosts.yml`` and ``maintenance.yml`` with random structures and types, huge
integers, deep nesting, aliases, duplicate keys, impossible dates, templates, odd unicode), evaluator
inputs (every kind, random JSON and mutations of the recorded cases) and command-line arguments
(client names, ``--limit``, ``--now``, ``--snapshot``, file paths) go through the real CLI (typer's
CliRunner, in process). Every property is the same: no exception escapes, the exit code is one the
command documents (0, 1 or 2), and an exit 2 says what was wrong in a message naming the client, file
or argument. Examples are derandomised (the same ones on every run: no flaky failure), not shrunk, and
bounded in number so the module takes about a minute.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from runner import evaluators
from runner.cli import app
from runner.controls import known_controls
from tests.conftest import BASE_HOSTS, BASE_SETTINGS, REPO

PROPERTY = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure prints its example at once
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
NOW = "2026-03-07T21:30:00Z"

# --------------------------------------------------------------------------- the checks


def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(app, args)


def check(result: Result, args: list[str], codes: Iterable[int], names: Iterable[str] = ()) -> None:
    """No traceback, a documented exit code, and an exit 2 that names one of ``names``."""
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        trace = "".join(traceback.format_exception(exc))
        raise AssertionError(f"maint {args!r} raised:\n{trace}")
    assert "Traceback (most recent call last)" not in result.output, (args, result.output)
    assert result.exit_code in set(codes), (args, result.exit_code, result.output)
    wanted = [_plain(form) for n in names if n for form in (n, repr(n)[1:-1])]  # as given, or as repr()
    if result.exit_code == 2 and wanted and "Usage: maint" not in result.output:  # Click names the parameter
        output = _plain(result.output)
        assert any(n in output for n in wanted), (args, wanted, result.output)


def _plain(text: str) -> str:
    """``text`` without whitespace and control characters (the console turns a tab into spaces)."""
    return "".join(c for c in text if c.isprintable() and not c.isspace())


# --------------------------------------------------------------------------- generated values

#: raw YAML put where a generated value says ``__RAW<n>__`` (what yaml.safe_dump would never write)
RAW_YAML = (
    "2026-02-30",
    "2026-13-01T25:61:00Z",
    "0001-01-01",
    "9999-12-31T23:59:59Z",
    "9" * 5000,
    "-" + "1" * 4400,
    "0x" + "f" * 5000,
    "0b" + "1" * 20000,
    "190:20:30",
    "0o777",
    "1e99999",
    ".nan",
    "-.inf",
    "*nope",
    "!!python/object/apply:os.system ['id']",
    '!vault "$ANSIBLE_VAULT;1.1;AES256\\n3132"',
    "!unsafe \"{{ lookup('pipe', 'id') }}\"",
    "\"{{ lookup('pipe', 'id > /tmp/x; echo 85') }}\"",
    "'{% include \"/etc/passwd\" %}'",
    "[" * 300 + "]" * 300,
    "{a: 1, a: 2}",
    "&x [*x]",
    '"\\ud800"',
    '"\\0 nul"',
    '"\\u202e right-to-left"',
    "~",
    "yes",
    "[unclosed",
    "{{ broken",
    "'[/] [bold]markup'",
)

#: whole lines appended to a file (dedented: they land at the top level or in the last mapping)
APPENDS = (
    "  display_name: again\n",
    "maintenance: {}\n",
    "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['lol'] * 9)}]\n"
        for p, n in zip(["", "a", "b", "c", "d", "e", "f", "g"], "abcdefgh", strict=True)
    ),
    "deep: " + "[" * 200 + "]" * 200 + "\n",
    "\t tab: indented\n",
    "---\nsecond: document\n",
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["", "linux", "all", "*", "web[01:03]", "~[", "!linux", "{{ x }}", "[/]", "2026-02-30"]),
    st.integers(min_value=0, max_value=len(RAW_YAML) - 1).map(lambda i: f"__RAW{i}__"),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)

SETTINGS_PATHS = (
    "display_name",
    "timezone",
    "sla_tier",
    "contacts",
    "contacts.0",
    "contacts.0.email",
    "contacts.0.name",
    "modes_allowed",
    "roles",
    "roles.linux_health",
    "roles.linux_health.0",
    "thresholds",
    "thresholds.linux_health",
    "thresholds.linux_health.fs_warn_pct",
    "thresholds.linux_health.fs_exclude_mounts",
    "waivers",
    "waivers.0",
    "waivers.0.control",
    "waivers.0.hosts",
    "waivers.0.expires",
    "schedules",
    "schedules.0.name",
    "schedules.0.cron",
    "schedules.0.roles",
    "schedules.0.mode",
    "schedules.0.window",
    "schedules.0.window.duration_minutes",
    "schedules.0.window.end",
    "schedules.0.window.min_run_minutes",
    "schedules.0.on_holiday",
    "blackout",
    "blackout.dates",
    "blackout.dates.0",
    "blackout.holidays",
    "blackout.holidays.country",
    "blackout.holidays.subdivision",
    "blackout.on_holiday",
    "a new key",
)
HOSTS_PATHS = (
    "all",
    "all.children",
    "all.children.linux",
    "all.children.linux.hosts",
    "all.children.linux.hosts.localhost",
    "all.children.linux.hosts.localhost.ansible_host",
    "all.children.linux.hosts.localhost.some_var",
    "all.children.linux.vars",
    "all.children.linux.vars.ntp",
    "all.children.linux.children",
    "all.children.linux.children.sub.hosts.web[01:03]",
    "all.hosts",
    "all.vars",
    "ungrouped",
)
CRONS = (
    "0 22 * * 6",
    "0 22 * * 6#1",
    "*/15 * * * *",
    "0 25 * * *",
    "0 0 31 2 *",
    "@daily",
    "x",
    "0 3 1 */3 *",
)


def set_path(data: Any, path: str, value: Any) -> Any:
    """``data`` with ``value`` put at the dotted ``path`` (missing levels created; lists appended to)."""
    parts = path.split(".")
    root = {"_": data}
    node: Any = root
    key: Any = "_"
    for part in parts:
        parent, node = node, node[key]
        if isinstance(node, list) and part.isdigit():
            if not node:
                node.append({})
            key = min(int(part), len(node) - 1)
        elif isinstance(node, dict):
            key = part
            if key not in node:
                node[key] = {}
        else:
            parent[key] = node = {}
            key = part
            node[key] = {}
    node[key] = value
    return root["_"]


def render(data: Any, raws: list[int], appends: list[str]) -> str:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000)
    for i in raws:
        text = text.replace(f"__RAW{i}__", RAW_YAML[i], 1)
    for i in range(len(RAW_YAML)):
        text = text.replace(f"__RAW{i}__", RAW_YAML[i])
    return text + "".join(appends)


@st.composite
def settings_text(draw: st.DrawFn) -> str:
    data: dict[str, Any] = copy.deepcopy(BASE_SETTINGS)
    if draw(st.booleans()):
        data["schedules"] = [
            {
                "name": "monthly",
                "cron": draw(st.sampled_from(CRONS)),
                "roles": ["linux_health"],
                "window": {"duration_minutes": draw(st.sampled_from([15, 60, 240, 1440, 10**30]))},
            }
        ]
    if draw(st.booleans()):
        data["waivers"] = [
            {
                "control": draw(st.sampled_from([*sorted(known_controls())[:5], "HEALTH-LNX-99", "X-1"])),
                "owner": "tech@example.com",
                "reason": "generated",
                "expires": draw(st.sampled_from(["2027-01-01", "__RAW0__", "__RAW2__", None])),
            }
        ]
    if draw(st.booleans()):
        data["blackout"] = {
            "dates": draw(
                st.lists(st.sampled_from(["2026-03-07", "__RAW0__", "__RAW3__", "2026-12-25"]), max_size=3)
            ),
            "holidays": draw(
                st.sampled_from([None, {"country": "ES", "subdivision": "CT"}, {"country": "ZZ"}])
            ),
        }
    for path, value in draw(st.lists(st.tuples(st.sampled_from(SETTINGS_PATHS), values), max_size=3)):
        data = set_path(data, path, value)
    appends = draw(st.lists(st.sampled_from(APPENDS), max_size=1))
    return render({"maintenance": data}, [], appends)


@st.composite
def hosts_text(draw: st.DrawFn) -> str:
    data: Any = copy.deepcopy(BASE_HOSTS)
    host_names = st.one_of(
        st.text(min_size=1, max_size=12),
        st.sampled_from(["web[01:03]", "db[a:c]", "x[0:99999999]", "[", ":"]),
    )
    for name in draw(st.lists(host_names, max_size=2)):
        data = set_path(data, f"all.children.linux.hosts.{name}", draw(values))
    for path, value in draw(st.lists(st.tuples(st.sampled_from(HOSTS_PATHS), values), max_size=2)):
        data = set_path(data, path, value)
    appends = draw(st.lists(st.sampled_from(APPENDS[2:]), max_size=1))
    return render(data, [], appends)


def write_client(base: Path, hosts: str, maintenance: str, host_var: str | None = None) -> Path:
    root = base / "acme"
    shutil.rmtree(root, ignore_errors=True)
    (root / "group_vars" / "all").mkdir(parents=True)
    (root / "hosts.yml").write_text(hosts, encoding="utf-8", errors="surrogatepass")
    (root / "group_vars" / "all" / "maintenance.yml").write_text(
        maintenance, encoding="utf-8", errors="surrogatepass"
    )
    if host_var is not None:
        (root / "host_vars").mkdir()
        (root / "host_vars" / "localhost.yml").write_text(host_var, encoding="utf-8", errors="surrogatepass")
    return root


@pytest.fixture
def inventories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    base = tmp_path / "inventories"
    base.mkdir()
    monkeypatch.setenv("MAINT_INVENTORIES", str(base))
    monkeypatch.chdir(tmp_path)
    return base


# --------------------------------------------------------------------------- inventories


@PROPERTY
@given(hosts=hosts_text(), maintenance=settings_text(), host_var=st.none() | settings_text())
def test_generated_inventories_never_crash(
    inventories: Path, hosts: str, maintenance: str, host_var: str | None
) -> None:
    write_client(inventories, hosts, maintenance, host_var)
    args = ["inventory", "validate", "acme"]
    result = invoke(args)
    check(result, args, {0, 2}, ["acme"])
    event(f"inventory validate exit {result.exit_code}")
    args = ["inventory", "validate", "--json"]
    listed = invoke(args)
    check(listed, args, {0, 2})
    report = json.loads(listed.stdout)
    assert [c["client"] for c in report] == ["acme"]
    assert report[0]["valid"] is (listed.exit_code == 0)
    assert all(set(p) == {"file", "key", "message"} for p in report[0]["problems"])
    for args in (["schedule", "acme", "--now", NOW], ["due", "--dry-run", "--client", "acme", "--now", NOW]):
        check(invoke(args), args, {0, 1, 2}, ["acme"])


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@settings(PROPERTY, max_examples=20)
@given(hosts=hosts_text(), maintenance=settings_text(), host_var=st.none() | settings_text())
def test_generated_inventory_changes_review_without_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hosts: str, maintenance: str, host_var: str | None
) -> None:
    repo = tmp_path / "repo"
    if not (repo / ".git").is_dir():
        (repo / "inventories").mkdir(parents=True)
        _git(repo, "init", "-q", "-b", "main")
        _client(repo / "inventories")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-qm", "base")
    write_client(repo / "inventories", hosts, maintenance, host_var)
    monkeypatch.chdir(repo)
    args = ["inventory", "review", "main", "--format", "json"]
    result = invoke(args)
    check(result, args, {0, 1})
    if result.exit_code == 0:
        assert json.loads(result.stdout)["summary"]["errors"] == 0


# --------------------------------------------------------------------------- evaluator inputs

KIND_DATA = {
    "apt": "linux_patching",
    "backup_files": "linux_backup",
    "clamav": "linux_antivirus",
    "linux_access": "linux_access",
    "linux_assets": "linux_assets",
    "linux_backup": "linux_backup",
    "linux_health": "linux_health",
    "linux_health_trends": "trends",
    "linux_patching": "linux_patching",
    "network_config": "network",
    "network_counters": "corpus/interface_counters",
    "network_trends": "trends",
    "restic": "linux_backup",
    "smartctl": "linux_health",
    "windows_access": "windows/access",
    "windows_antivirus": "windows/antivirus",
    "windows_assets": "windows/assets",
    "windows_backup": "windows/backup",
    "windows_health": "windows/health",
    "windows_health_trends": "trends",
    "windows_updates": "windows/patching",
}
DATA = REPO / "tests" / "data"


def seeds(kind: str) -> list[Path]:
    folder = DATA / KIND_DATA[kind]
    found = sorted(
        p
        for p in folder.rglob("*")
        if p.suffix in (".json", ".txt", ".cfg", ".log") and p.stat().st_size < 200_000
    )
    assert found, f"no recorded input for {kind} under {folder}"
    return found


def mutate(data: Any, edits: list[tuple[int, Any]]) -> Any:
    """``data`` with the values at some positions (counted depth first) replaced."""
    for position, value in edits:
        slots: list[tuple[Any, Any]] = []
        stack = [data]
        while stack:
            node = stack.pop()
            items = (
                list(node.items())
                if isinstance(node, dict)
                else list(enumerate(node))
                if isinstance(node, list)
                else []
            )
            for key, sub in items:
                slots.append((node, key))
                stack.append(sub)
        if slots:
            node, key = slots[position % len(slots)]
            node[key] = value
    return data


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=30),
        st.sampled_from(
            ["", "0", "-1", "1e309", "NaN", "2026-02-30T00:00:00Z", "/Date(-62135596800000)/", "\ud800"]
        ),
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def evaluator_input(draw: st.DrawFn, kind: str) -> str:
    choice = draw(st.integers(min_value=0, max_value=3))
    if choice == 0:  # anything at all
        return json.dumps(draw(json_values))
    seed = draw(st.sampled_from(seeds(kind)))
    text = seed.read_text(encoding="utf-8", errors="replace")
    if choice == 1:  # the recorded text, cut or with bytes flipped
        cut = draw(st.integers(min_value=0, max_value=len(text)))
        noise = draw(st.text(max_size=20))
        return text[:cut] + noise + text[cut + len(noise) :]
    try:
        data = json.loads(text)
    except ValueError:
        return text + draw(
            st.sampled_from(["\nInst x [1] (2 y)\n", "\n12 upgraded, 0 newly installed\n", "\x00"])
        )
    if choice == 3 and isinstance(data, dict):  # the evaluator's wrapper, as the action plugin saves it
        data = {"maint_raw": data}
    edits = draw(
        st.lists(st.tuples(st.integers(min_value=0, max_value=10_000), json_values), min_size=1, max_size=3)
    )
    return json.dumps(mutate(data, edits))


@pytest.mark.parametrize("kind", evaluators.KINDS)
def test_evaluator_inputs_never_crash(kind: str, tmp_path: Path) -> None:
    file = tmp_path / "raw.json"

    @settings(PROPERTY, max_examples=50)
    @given(
        text=evaluator_input(kind),
        threshold=st.none() | st.text(max_size=12) | st.sampled_from(["9" * 5000, "[", "{{ x }}"]),
    )
    def run(text: str, threshold: str | None) -> None:
        file.write_text(text, encoding="utf-8", errors="surrogatepass")
        args = ["evaluate", kind, str(file), "--json"]
        if threshold is not None:
            args += ["-t", f"fs_warn_pct={threshold}"]
        check(invoke(args), args, {0, 1, 2}, [str(file), "--threshold"])

    run()


# --------------------------------------------------------------------------- command-line arguments

names = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["acme", "../etc", "[/]", "a" * 300, "-", "--help", "acme\x00", "ACME", "ac me", "\u202e"]
    ),
)
limits = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            "~[",
            "localhost",
            "all",
            "!all",
            "linux[0]",
            "linux[-1]",
            "linux[5:2]",
            "&",
            ":",
            ",",
            "web[01:03]",
            "~(a+)+$",
        ]
    ),
)
nows = st.one_of(
    st.text(max_size=30),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.sampled_from(
        ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "2026-02-30T00:00:00Z"]
    ),
)
snapshots = st.one_of(
    st.text(max_size=20), st.integers().map(str), st.sampled_from(["9" * 5000, "-1", "0", "1e9"])
)
paths = st.one_of(
    st.text(max_size=40),
    st.sampled_from([".", "", "raw.json\x00", "x" * 5000, "missing/raw.json", "inventories"]),
)


def _client(inventories: Path) -> None:
    schedules = [
        {
            "name": "monthly",
            "cron": "0 22 * * 6#1",
            "roles": ["linux_health"],
            "window": {"duration_minutes": 240},
        }
    ]
    write_client(
        inventories,
        yaml.safe_dump(BASE_HOSTS),
        yaml.safe_dump({"maintenance": {**BASE_SETTINGS, "schedules": schedules}}),
    )


def _no_job(*args: Any, **kwargs: Any) -> Any:
    from runner.execute import RunError

    raise RunError("planned; the job is not started by this test")


@settings(PROPERTY, max_examples=30)
@given(name=names, limit=limits, now=nows, snapshot=snapshots, path=paths)
def test_cli_arguments_never_crash(
    inventories: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    limit: str,
    now: str,
    snapshot: str,
    path: str,
) -> None:
    _client(inventories)
    monkeypatch.setattr("runner.execute._execute_locked", _no_job)
    calls: list[tuple[list[str], set[int], list[str]]] = [
        (["inventory", "validate", name], {0, 2}, [name]),
        (["status", name], {0, 1, 2}, [name]),
        (["runs", name], {0}, []),
        (["schedule", name, "--now", now], {0, 2}, [name, "--now"]),
        (["due", "--dry-run", "--client", name, "--now", now], {0, 1, 2}, [name, "--now"]),
        (["run", "acme", "--limit", limit], {2}, ["--limit", "planned", limit]),
        (["ledger", "verify", name], {0, 1, 2}, [name]),
        (["config", "list", name], {0, 2}, [name]),
        (["config", "show", "acme", "dev1", "--snapshot", snapshot], {0, 2}, ["snapshot", snapshot, "dev1"]),
        (["evaluate", "linux_health", path], {0, 1, 2}, [path, str(Path(path))]),
        (["lint-config", path], {0, 1, 2}, [path, str(Path(path))]),
    ]
    for args, codes, named in calls:
        check(invoke(args), args, codes, named)


# --------------------------------------------------------------------------- the property helpers


def test_set_path_builds_missing_levels() -> None:
    assert set_path({"a": [1]}, "a.0", 2) == {"a": [2]}
    assert set_path({"a": 1}, "a.b", 2) == {"a": {"b": 2}}
    assert set_path({}, "x.y", None) == {"x": {"y": None}}
    assert "2026-02-30" in render({"d": "__RAW0__"}, [], [])
    mutated: Callable[[Any, list[tuple[int, Any]]], Any] = mutate
    assert mutated({"a": [1, 2]}, [(0, "x")]) in ({"a": "x"}, {"a": ["x", 2]}, {"a": [1, "x"]})
