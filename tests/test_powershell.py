"""The PowerShell collectors, checked without PowerShell (none can run where the tests run).

1. Every PowerShell file of the repository parses with a real PowerShell grammar (tree-sitter-powershell):
   no ERROR or MISSING node.
2. Each collector's output contract: every key its evaluator reads (pydantic raw-shape models and the keys
   read from their ``dict`` fields, see tests/evaluator_contract.py) is a key the script emits (read from
   its hashtable literals, see tests/powershell_static.py). Keys emitted but never read are listed in
   ``UNREAD`` with the reason, and any other unread key is a warning, not a failure.
3. The collectors write dates as ISO 8601 UTC and enums as names at the source, so Windows PowerShell 5.1
   and PowerShell 7 print the same JSON (the evaluators still read the 5.1 forms of saved outputs).
"""

from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path

import pytest
import yaml

from runner.assets import windows as windows_assets
from runner.evaluators import (
    windows_access,
    windows_antivirus,
    windows_backup,
    windows_health,
    windows_patching,
)
from tests.conftest import REPO
from tests.evaluator_cases import judge, load_json
from tests.evaluator_contract import Contract, read_paths
from tests.powershell_static import (
    _core,
    _named,
    _text,
    _walk,
    emitted_paths,
    emitted_shape,
    parse,
    paths,
    syntax_problems,
)

_SKIP_DIRS = {".git", ".venv", "var", "node_modules", ".mypy_cache", ".ruff_cache", "build", "dist"}
POWERSHELL_SUFFIXES = {".ps1", ".psm1", ".psd1"}


def powershell_files() -> list[Path]:
    """Every PowerShell file of the repository (virtualenv, caches and run outputs left out)."""
    found = []
    for folder, dirs, files in os.walk(REPO):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.endswith(".egg-info"))
        found += [Path(folder) / f for f in files if Path(f).suffix.lower() in POWERSHELL_SUFFIXES]
    return sorted(found)


FILES = powershell_files()

COLLECTORS: dict[str, tuple[str, Contract]] = {
    "windows_health": (
        "roles/windows_health/files/collect_health.ps1",
        Contract(
            module=windows_health,
            root=windows_health._Health,
            items_models={
                "volumes.items": windows_health._Disk,
                "services.items": windows_health._Service,
                "events.top": windows_health._EventGroup,
            },
            scalars=frozenset(
                {
                    "collected_at",
                    "os.LastBootUpTime",
                    "services.items.Status",
                    "services.items.StartType",
                    "events.top.Level",
                    "events.top.Last",
                }
            ),
        ),
    ),
    "windows_patching": (
        "roles/windows_patching/files/collect_patching.ps1",
        Contract(
            module=windows_patching,
            root=windows_patching._Patching,
            items_models={
                "history.entries": windows_patching._HistoryEntry,
                "hotfixes.items": windows_patching._HotFix,
                "cached_search.updates": windows_patching._CachedUpdate,
            },
            scalars=frozenset(
                {
                    "collected_at",
                    "history.entries.Date",
                    "history.entries.Operation",
                    "history.entries.ResultCode",
                    "hotfixes.items.InstalledOn",
                    "wu_agent.last_search_success",
                    "wu_agent.last_installation_success",
                }
            ),
            # roles/windows_patching/tasks/main.yml adds these to the script's object: maint_audit's
            # followup (the win_updates search, when needed) and merge
            role_added=frozenset({"search", "install", "mode", "reboot_policy"}),
        ),
    ),
    "windows_antivirus": (
        "roles/windows_antivirus/files/collect_antivirus.ps1",
        Contract(
            module=windows_antivirus,
            root=windows_antivirus._Raw,
            items_models={
                "sophos.services": windows_antivirus._Service,
                "security_center.products": windows_antivirus._AvProduct,
            },
            scalars=frozenset({"collected_at"}),
        ),
    ),
    "windows_backup": (
        "roles/windows_backup/files/collect_backup.ps1",
        Contract(
            module=windows_backup,
            root=windows_backup._Raw,
            items_models={
                "veeam.jobs": windows_backup._Job,
                "veeam.jobs.restore_points.objects": windows_backup._PointObject,
                "veeam.repositories.items": windows_backup._Repository,
                "veeam.repositories.scale_out": windows_backup._ScaleOut,
                "veeam.copy_jobs.items": windows_backup._CopyJob,
                "veeam.offload.events": windows_backup._Event,
                "veeam.surebackup.items": windows_backup._SureJob,
                "veeam_agent.events": windows_backup._Event,
            },
            scalars=frozenset(
                {
                    "collected_at",
                    "veeam.jobs.last_session.CreationTime",
                    "veeam.jobs.last_session.EndTime",
                    "veeam.jobs.restore_points.objects.Oldest",
                    "veeam.jobs.restore_points.objects.Newest",
                    "veeam.copy_jobs.items.last_session.CreationTime",
                    "veeam.copy_jobs.items.last_session.EndTime",
                    "veeam.offload.events.TimeCreated",
                    "veeam.surebackup.items.LastRun",
                    "veeam_agent.events.TimeCreated",
                }
            ),
        ),
    ),
    "windows_access": (
        "roles/windows_access/files/collect_access.ps1",
        Contract(
            module=windows_access,
            root=windows_access._Access,
            items_models={
                "groups.administrators.members": windows_access._Member,
                "groups.remote_desktop_users.members": windows_access._Member,
                "users.items": windows_access._User,
            },
            scalars=frozenset(
                {
                    "collected_at",
                    "groups.administrators.members.SID",
                    "groups.administrators.members.PrincipalSource",
                    "groups.remote_desktop_users.members.SID",
                    "groups.remote_desktop_users.members.PrincipalSource",
                    "users.items.SID",
                    "users.items.LastLogon",
                    "users.items.PasswordLastSet",
                    "users.items.PrincipalSource",
                }
            ),
        ),
    ),
    # not an evaluator: the asset facts parser (runner/assets/windows.py), read the same way
    "windows_assets": (
        "roles/windows_assets/files/collect_assets.ps1",
        Contract(
            module=windows_assets,
            root=windows_assets._Raw,
            items_models={
                "processors.items": windows_assets._Processor,
                "disks.items": windows_assets._DiskDrive,
                "volumes.items": windows_assets._LogicalDisk,
                "adapters.items": windows_assets._Adapter,
                "programs.items": windows_assets._Program,
                "antivirus.security_center.products": windows_assets._AvProduct,
                "backup.services": windows_assets._Service,
                "listening.items": windows_assets._Listener,
            },
            scalars=frozenset(
                {
                    "collected_at",
                    "os.InstallDate",
                    "os.LastBootUpTime",
                    "adapters.items.IPAddress",
                    "backup.services.Status",
                    "hotfixes.last_installed",
                }
            ),
        ),
    ),
}

#: keys a collector emits that its evaluator does not read, and why they are kept
UNREAD: dict[str, dict[str, str]] = {
    "windows_health": {},
    "windows_patching": {},
    "windows_antivirus": {
        "ps_version": "read by people: which shell collected the output",
        **{
            f"defender.status.{key}": "kept in the saved output for whoever investigates; not judged"
            for key in (
                "AMEngineVersion",
                "AMProductVersion",
                "AMServiceVersion",
                "AntispywareEnabled",
                "AntispywareSignatureAge",
                "AntispywareSignatureLastUpdated",
                "ComputerState",
                "IoavProtectionEnabled",
                "NISEnabled",
            )
        },
    },
    "windows_backup": {
        "ps_version": "read by people: which shell collected the output",
        "wsb.summary.CurrentOperationStatus": "kept for whoever investigates a running backup; not judged",
    },
    "windows_assets": {},
    "windows_access": {},
}

#: keys whose value is a date: the collector must write it with ConvertTo-IsoUtc (ISO 8601, UTC)
DATE_KEYS: dict[str, set[str]] = {
    "windows_health": {"collected_at", "LastBootUpTime", "Last"},
    "windows_patching": {
        "collected_at",
        "Date",
        "InstalledOn",
        "last_search_success",
        "last_installation_success",
    },
    "windows_antivirus": {"collected_at"},
    "windows_backup": {
        "collected_at",
        "CreationTime",
        "EndTime",
        "TimeCreated",
        "NextBackupTime",
        "LastSuccessfulBackupTime",
        "LastBackupTime",
        "Oldest",
        "Newest",
        "LastRun",
    },
    "windows_assets": {"collected_at", "InstallDate", "LastBootUpTime"},
    "windows_access": {"collected_at", "LastLogon", "PasswordLastSet"},
}
#: keys whose value is a .NET or COM enum: the collector must write its name ([string] or ConvertTo-EnumName)
ENUM_KEYS: dict[str, set[str]] = {
    "windows_health": {"Status", "StartType"},
    "windows_patching": {"Operation", "ResultCode"},
    "windows_antivirus": {"Status", "StartType"},
    "windows_backup": {"Result", "State", "JobType", "service", "RetentionType", "LastResult"},
    "windows_assets": {"Status"},
    "windows_access": {"PrincipalSource"},
}


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


# ---------------------------------------------------------------- 1. the grammar


def test_the_collectors_are_found() -> None:
    rels = {_rel(p) for p in FILES}
    assert {script for script, _ in COLLECTORS.values()} <= rels


@pytest.mark.parametrize("path", FILES, ids=[_rel(p) for p in FILES])
def test_parses_without_error_or_missing_node(path: Path) -> None:
    problems = syntax_problems(path.read_bytes())
    assert not problems, problems[0].where(_rel(path)) + f" (and {len(problems) - 1} more)"


@pytest.mark.parametrize(
    ("source", "first"),
    [
        ("$a = 1\n$b = @{ x = 1\n", ("ERROR", 2, 1)),  # hashtable never closed
        ("if ($a) { 'x' \n", ("MISSING", 1, 14)),  # block never closed: the `}` is missing
        ("$x = (1 + )\n", ("MISSING", 1, 10)),  # operand missing
    ],
)
def test_the_grammar_check_finds_broken_powershell(source: str, first: tuple[str, int, int]) -> None:
    problems = syntax_problems(source.encode())
    assert problems
    assert (problems[0].kind, problems[0].line, problems[0].column) == first


def test_bare_word_lists_as_command_arguments_are_what_the_grammar_rejects() -> None:
    """Why the collectors quote property names (`Select-Object -Property 'A', 'B'`).

    `Select-Object A, B` is valid PowerShell: in argument mode a bare value is an expandable string and a
    comma-separated list of them is one array argument (about_Parsing, "Argument mode",
    https://learn.microsoft.com/powershell/module/microsoft.powershell.core/about/about_parsing; the
    Select-Object help's own examples write `-Property ProcessName, Id, WS`). tree-sitter-powershell 0.26
    parses a list of bare words there as an ERROR (a single bare word and lists of numbers or quoted strings
    parse). The collectors therefore quote the names, which binds the same string array to -Property, so no
    exception to the no-ERROR rule is needed.
    """
    assert syntax_problems(b"Get-Service | Select-Object Name, Status\n")
    assert not syntax_problems(b"Get-Service | Select-Object -Property 'Name', 'Status'\n")


# ---------------------------------------------------------------- 2. the output contract


def test_shape_analysis_follows_every_construct_the_collectors_use() -> None:
    source = b"""
$names = @('A1', 'A2')
$result = [ordered]@{ schema = 1; when = [DateTime]::UtcNow }
$status = [ordered]@{}
foreach ($name in $names) { $status[$name] = 1 }
$rows = @(Get-Thing | Where-Object { $_ } | Select-Object -First 3 | ForEach-Object {
        $skip = 1
        [pscustomobject]@{ R1 = $_.R1; nested = [ordered]@{ N1 = 1 } }
    })
$jobs = @()
foreach ($j in @(1, 2)) { $jobs += [ordered]@{ J1 = $j } }
$disks = @(Get-Disk | Select-Object -Property 'D1', 'D2')
$result.probe = [ordered]@{
    available = $true; status = $status; rows = $rows; jobs = @($jobs); disks = $disks
}
$result.other = @{ 'quoted key' = 1 }
$result | ConvertTo-Json -Depth 5 -Compress
"""
    assert not syntax_problems(source)
    assert emitted_shape(source) == {
        "schema": {},
        "when": {},
        "probe": {
            "available": {},
            "status": {"A1": {}, "A2": {}},
            "rows": {"R1": {}, "nested": {"N1": {}}},
            "jobs": {"J1": {}},
            "disks": {"D1": {}, "D2": {}},
        },
        "other": {"quoted key": {}},
    }


@pytest.mark.parametrize("kind", sorted(COLLECTORS))
def test_contract_declaration_is_complete(kind: str) -> None:
    _, problems = read_paths(COLLECTORS[kind][1])
    assert not problems, problems


@pytest.mark.parametrize("kind", sorted(COLLECTORS))
def test_collector_emits_every_key_its_evaluator_reads(kind: str) -> None:
    script, contract = COLLECTORS[kind]
    emitted = emitted_paths(REPO / script)
    read, _ = read_paths(contract)
    missing = sorted(read - emitted)
    assert not missing, f"{script}: {kind} reads keys the script never emits: {missing}"
    unread = emitted - read
    unknown = sorted(unread - set(UNREAD[kind]))
    if unknown:
        warnings.warn(f"{script}: emitted but not read by {kind}: {unknown}", stacklevel=1)
    stale = sorted(set(UNREAD[kind]) - unread)
    assert not stale, f"UNREAD[{kind!r}] lists keys that are read or no longer emitted: {stale}"


def test_role_added_keys_are_the_ones_the_role_combines() -> None:
    tasks = yaml.safe_load((REPO / "roles/windows_patching/tasks/main.yml").read_text())
    [audit] = [t["maint.core.maint_audit"] for t in tasks if "maint.core.maint_audit" in t]
    added = {audit["followup"]["key"], *audit["merge"]}
    assert added == COLLECTORS["windows_patching"][1].role_added


# ---------------------------------------------------------------- 3. ISO dates and enum names at the source


def _hash_entries(source: bytes) -> list[tuple[str, str, int]]:
    """(key, value text, 1-based line) of every hashtable entry and every ``$x.key = value`` of the script."""
    out = []
    for node in _walk(parse(source).root_node):
        if node.type == "hash_entry":
            children = _named(node)
            out.append((_text(_core(children[0])), _text(_core(children[-1])), node.start_point[0] + 1))
        elif node.type == "assignment_expression":
            children = _named(node)
            target = _core(children[0])
            if target.type == "member_access":
                key = _text(_named(target)[-1])
                out.append((key, _text(_core(children[-1])), node.start_point[0] + 1))
    return out


@pytest.mark.parametrize("kind", sorted(COLLECTORS))
def test_dates_are_written_as_iso_utc(kind: str) -> None:
    script = COLLECTORS[kind][0]
    source = (REPO / script).read_bytes()
    wrong = [
        f"{script}:{line}: {key} = {value}"
        for key, value, line in _hash_entries(source)
        if key in DATE_KEYS[kind] and not value.startswith("ConvertTo-IsoUtc ") and value.lower() != "$null"
    ]
    assert not wrong, wrong
    # a DateTime converted anywhere else would reach ConvertTo-Json as a DateTime (/Date(ms)/ on 5.1)
    tree = parse(source)
    stray = [
        f"{script}:{n.start_point[0] + 1}"
        for n in _walk(tree.root_node)
        if n.type == "member_name"
        and _text(n).lower() == "touniversaltime"
        and not _inside_function(n, "ConvertTo-IsoUtc")
    ]
    assert not stray, f"ToUniversalTime() outside ConvertTo-IsoUtc: {stray}"


@pytest.mark.parametrize("kind", sorted(COLLECTORS))
def test_enums_are_written_as_names(kind: str) -> None:
    script = COLLECTORS[kind][0]
    wrong = [
        f"{script}:{line}: {key} = {value}"
        for key, value, line in _hash_entries((REPO / script).read_bytes())
        if key in ENUM_KEYS[kind]
        and not (value.lower().startswith("[string]") or value.startswith("ConvertTo-EnumName "))
        and value.lower() != "$null"
    ]
    assert not wrong, wrong


def _inside_function(node: object, name: str) -> bool:
    parent = getattr(node, "parent", None)
    while parent is not None:
        if parent.type == "function_statement":
            names = [c for c in _named(parent) if c.type == "function_name"]
            if names and _text(names[0]).lower() == name.lower():
                return True
        parent = parent.parent
    return False


@pytest.mark.parametrize("kind", sorted(COLLECTORS))
def test_date_and_enum_keys_are_keys_the_evaluator_reads(kind: str) -> None:
    read, _ = read_paths(COLLECTORS[kind][1])
    leaves = {p.rsplit(".", 1)[-1] for p in read}
    assert (DATE_KEYS[kind] | ENUM_KEYS[kind]) <= leaves


#: each folder's output of the current collectors, and the PS 5.1-encoded file of the same host it restates
CURRENT_OUTPUTS = {
    "windows_health": ("health", "ps51_healthy_server2019.json", windows_health.CONTROL_IDS),
    "windows_updates": ("patching", "ps51_audit_pending_security.json", windows_patching.CONTROL_IDS),
    "windows_backup": ("backup", "veeam_mixed_ps51.json", windows_backup.CONTROL_IDS),
    "windows_antivirus": ("antivirus", "sophos_passive_defender_ps51.json", windows_antivirus.CONTROL_IDS),
    "windows_access": ("access", "ps51_member_server.json", windows_access.CONTROL_IDS),
}


@pytest.mark.parametrize("kind", sorted(CURRENT_OUTPUTS))
def test_iso_and_name_output_judges_like_the_ps51_encoding(kind: str) -> None:
    folder, older, control_ids = CURRENT_OUTPUTS[kind]
    data = REPO / "tests" / "data" / "windows" / folder
    current = load_json(data, "ps51_collector_iso_names.json")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", current["collected_at"])
    assert "/Date(" not in json.dumps(current)
    new, old = judge(kind, control_ids, current), judge(kind, control_ids, load_json(data, older))
    assert {c: (f.status, f.evidence, f.remediation) for c, f in new.items()} == {
        c: (f.status, f.evidence, f.remediation) for c, f in old.items()
    }


def test_a_key_dropped_from_a_collector_is_caught() -> None:
    """The contract check is not vacuous: drop one property from a Select-Object list and it is missing."""
    script, contract = COLLECTORS["windows_health"]
    source = (REPO / script).read_text()
    assert "'DeviceID', " in source
    emitted = paths(emitted_shape(source.replace("'DeviceID', ", "").encode()))
    read, _ = read_paths(contract)
    assert read - emitted == {"volumes.items.DeviceID"}
