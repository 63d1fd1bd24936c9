"""The domains of ``maint`` and where each plugs in: the one registry a new domain adds itself to.

Each :class:`Domain` names, as data, the modules that register its parts when imported, and whoever
needs a part imports it by name from here:

- ``evaluators``: modules registering evaluators (:mod:`runner.evaluators` imports them on first use)
  and the ``kinds`` they register (kept as data so ``maint evaluate --help`` lists them unloaded);
- ``tables``: modules defining the domain's ledger tables with
  :func:`runner.ledger.schema.chained_table` (a :class:`runner.ledger.Ledger` imports them when
  opened, so migrate, verify and append see every table while the ledger imports no domain);
- ``migrations``: the ledger revisions creating those tables (``runner/ledger/migrations/versions``,
  each a branch of ``0001``);
- ``commands``: CLI modules whose commands register on the shared Typer apps (:mod:`runner.cli`).

This module imports nothing of ``runner`` (``tests/test_imports.py`` holds it to that), so the CLI
reads it at start-up for free and the ledger may read it without depending on any domain.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Domain:
    name: str
    summary: str
    evaluators: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    migrations: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()


#: every domain, in the order their commands and evaluators are registered
DOMAINS: tuple[Domain, ...] = (
    Domain(
        "core",
        "runs, their events and check results; the root commands (run, runs, status, evaluate, ledger, demo)",
        tables=("runner.ledger.schema",),
        migrations=("0001", "0004"),
        commands=("runner.cli.core", "runner.cli.ledger", "runner.cli.controls"),
    ),
    Domain(
        "health",
        "disk space, pending reboot, uptime, failed services, time sync, SMART, error events of Linux and "
        "Windows hosts; capacity and error trends from the ledger's history (runner.trends)",
        evaluators=(
            "runner.evaluators.linux_health",
            "runner.evaluators.windows_health",
            "runner.evaluators.trends",
        ),
        kinds=(
            "linux_health",
            "linux_health_trends",
            "network_trends",
            "smartctl",
            "windows_health",
            "windows_health_trends",
        ),
    ),
    Domain(
        "patching",
        "pending and security updates, last install, reboot after updates (apt, dnf, Windows Update)",
        evaluators=("runner.evaluators.linux_patching", "runner.evaluators.windows_patching"),
        kinds=("apt", "linux_patching", "windows_updates"),
    ),
    Domain(
        "antivirus",
        "ClamAV, Defender, Sophos and Security Center: engine, signatures, scans, protection",
        evaluators=("runner.evaluators.linux_antivirus", "runner.evaluators.windows_antivirus"),
        kinds=("clamav", "windows_antivirus"),
    ),
    Domain(
        "backup",
        "restic, file-based backups, Veeam and Windows Server Backup: recency, success, test restores",
        evaluators=("runner.evaluators.linux_backup", "runner.evaluators.windows_backup"),
        kinds=("backup_files", "linux_backup", "restic", "windows_backup"),
    ),
    Domain(
        "security",
        "access review: UID 0, administrators, sudo, dormant accounts, SSH settings and keys, Windows local "
        "groups, LAPS and RDP; firewall filtering",
        evaluators=("runner.evaluators.linux_access", "runner.evaluators.windows_access"),
        kinds=("linux_access", "windows_access"),
    ),
    Domain(
        "network",
        "device configurations: fetched, masked, snapshotted (config_snapshots), judged by rule packs",
        evaluators=("runner.network.evaluator", "runner.evaluators.network_counters"),
        kinds=("network_config", "network_counters"),
        tables=("runner.network.snapshots",),
        migrations=("0002",),
        commands=("runner.cli.lint_config", "runner.cli.network"),
    ),
    Domain(
        "inventory",
        "client inventories and settings: the review of a change between two revisions",
        commands=("runner.cli.review",),
    ),
    Domain(
        "schedule",
        "schedules and maintenance windows; occurrences started, completed, missed or skipped",
        tables=("runner.schedule_ledger",),
        migrations=("0003",),
        commands=("runner.cli.schedule",),
    ),
    Domain(
        "tickets",
        "corrective interventions: technician, when the ticket was opened, its controls, proactive review",
        tables=("runner.interventions",),
        migrations=("0005",),
    ),
    Domain(
        "reports",
        "the client's monthly report, the fleet report and resolution reports, read from the ledger only",
        commands=("runner.cli.report",),
    ),
    Domain(
        "assets",
        "asset facts (hardware, OS, software, addresses) per host, the onboarding pack and its roadmap",
        evaluators=("runner.evaluators.assets",),
        kinds=("linux_assets", "windows_assets"),
        tables=("runner.assets.store", "runner.onboarding.roadmap"),
        migrations=("0007", "0008"),
        commands=("runner.cli.assets", "runner.cli.roadmap", "runner.cli.onboarding"),
    ),
    Domain(
        "notify",
        "notifications (e-mail, Teams, JSON webhook) sent once per new fact, each attempt a ledger row",
        tables=("runner.notify.store",),
        migrations=("0006",),
        commands=("runner.cli.notify",),
    ),
    Domain(
        "sites",
        "per-site workers (issue 17): the site of each host (maintenance.site, maint_site) and the "
        "nats-server configuration of their transport",
        commands=("runner.cli.sites", "runner.cli.worker"),
    ),
)


def _each(field: str) -> tuple[str, ...]:
    return tuple(name for domain in DOMAINS for name in getattr(domain, field))


def evaluator_modules() -> tuple[str, ...]:
    """Modules registering evaluators, in domain order."""
    return _each("evaluators")


def kinds() -> tuple[str, ...]:
    """Every evaluator kind, sorted."""
    return tuple(sorted(_each("kinds")))


def table_modules() -> tuple[str, ...]:
    """Modules defining ledger tables, in domain order."""
    return _each("tables")


def command_modules() -> tuple[str, ...]:
    """CLI modules registering commands, in domain order (the order ``maint --help`` lists them)."""
    return _each("commands")


def migrations() -> tuple[str, ...]:
    """Ledger revisions creating the domains' tables."""
    return _each("migrations")
