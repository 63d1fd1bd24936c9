"""Terminal output for the CLI: progress of a run, tables, plain lines when not a terminal."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from runner.execute import RunOutcome
from runner.results import CheckResult, Status
from runner.status import StatusRow

STATUS_STYLE = {
    "pass": "green",
    "fail": "bold red",
    "warn": "yellow",
    "not_checked": "magenta",
    "error": "bold magenta",
    "waived": "cyan",
}


def styled(status: str) -> str:
    style = STATUS_STYLE.get(status, "")
    return f"[{style}]{status}[/]" if style else status


class RunProgress:
    """Live hosts done/total and failures so far; one plain line per finished host otherwise."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = console.is_terminal
        self._progress: Progress | None = None
        self._task: Any = None
        self._failures = 0
        self._host_counts: dict[str, dict[str, int]] = {}

    def started(self, run_id: str, client: str, hosts: Sequence[str]) -> None:
        self.console.print(f"run {run_id}: client {client}, {len(hosts)} host(s)", highlight=False)
        if self.live:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("hosts  failures so far: {task.fields[failures]}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(client, total=len(hosts), failures=0)

    def recorded(self, host: str, results: Sequence[CheckResult], host_done: bool) -> None:
        counts = self._host_counts.setdefault(host, {})
        for r in results:
            counts[r.status.value] = counts.get(r.status.value, 0) + 1
            if r.status is not Status.PASS:
                self._failures += 1
        if self._progress is not None:
            self._progress.update(self._task, advance=1 if host_done else 0, failures=self._failures)
        elif host_done:
            summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
            self.console.print(f"  {host}: {summary}", highlight=False)

    def finished(self, outcome: RunOutcome) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def summary_table(outcome: RunOutcome) -> Table:
    table = Table(title=f"run {outcome.run_id} ({outcome.status.value})")
    table.add_column("host")
    for status in Status:
        table.add_column(status.value, justify="right")
    per_host: dict[str, dict[str, int]] = {}
    for r in outcome.results:
        per_host.setdefault(r.host, {}).setdefault(r.status.value, 0)
        per_host[r.host][r.status.value] += 1
    for host in sorted(per_host):
        table.add_row(host, *[_count(per_host[host].get(s.value, 0), s.value) for s in Status])
    return table


def _count(n: int, status: str) -> str:
    return str(n) if n == 0 else f"[{STATUS_STYLE.get(status, '')}]{n}[/]"


def status_table(client: str, rows: Iterable[StatusRow]) -> Table:
    table = Table(title=f"{client}: latest result per host and control")
    for col in ("host", "control", "status", "severity", "title", "observed (UTC)", "note"):
        table.add_column(col, overflow="fold")
    for row in rows:
        r = row.result
        table.add_row(
            r.host,
            r.control,
            styled(row.effective),
            r.severity.value,
            r.title,
            r.observed_at.strftime("%Y-%m-%d %H:%M"),
            row.note or _evidence_hint(r),
        )
    return table


def _evidence_hint(result: CheckResult) -> str:
    if result.status is Status.PASS:
        return ""
    reason = result.evidence.get("reason")
    if isinstance(reason, str):
        return reason if len(reason) <= 90 else reason[:89] + "…"
    return result.remediation if len(result.remediation) <= 90 else result.remediation[:89] + "…"
