"""Terminal output for the CLI: progress of a run, tables, plain lines when not a terminal."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from runner.results import CheckResult, Status
from runner.state import EFFECTIVE, ClientState, FleetLine, StateRow

if TYPE_CHECKING:  # annotations only: `maint status` must not import ansible-runner and the job code
    from runner.execute import RunOutcome

STATUS_STYLE = {
    "pass": "green",
    "fail": "bold red",
    "warn": "yellow",
    "not_checked": "magenta",
    "error": "bold magenta",
    "waived": "cyan",
    "not_applicable": "dim",
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

    def note(self, line: str) -> None:
        """One line about the run itself (e.g. why --accelerate fell back to a plain run)."""
        self.console.print(line, highlight=False, markup=False, soft_wrap=True)

    def recorded(self, host: str, results: Sequence[CheckResult], host_done: bool) -> None:
        counts = self._host_counts.setdefault(host, {})
        for r in results:
            counts[r.status.value] = counts.get(r.status.value, 0) + 1
            if r.status not in (Status.PASS, Status.NOT_APPLICABLE):
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


def summary_table(outcome: RunOutcome, rows: Sequence[StateRow]) -> Table:
    """The run's results per host and status, a result a live waiver covers counted as ``waived``."""
    table = Table(title=f"run {outcome.run_id} ({outcome.status.value})")
    table.add_column("host")
    for status in EFFECTIVE:
        table.add_column(status, justify="right")
    per_host: dict[str, dict[str, int]] = {}
    for row in rows:
        counts = per_host.setdefault(row.host, {})
        counts[row.effective] = counts.get(row.effective, 0) + 1
    for host in sorted(per_host):
        table.add_row(host, *[_count(per_host[host].get(s, 0), s) for s in EFFECTIVE])
    return table


def _count(n: int, status: str) -> str:
    return str(n) if n == 0 else f"[{STATUS_STYLE.get(status, '')}]{n}[/]"


def status_table(state: ClientState, rows: Iterable[StateRow]) -> Table:
    """The current state: what needs doing first on top; notes wrap, never cut."""
    table = Table(title=f"{escape(state.display_name)}: current state per host and control")
    for col in ("host", "control", "status", "severity", "title", "observed (UTC)"):
        table.add_column(col, overflow="fold")
    table.add_column("note", overflow="fold", ratio=1)
    for row in rows:
        seen = row.observed_at
        table.add_row(
            escape(row.host),
            row.control,
            styled(row.effective),
            row.severity.value,
            escape(row.title),
            seen.strftime("%Y-%m-%d %H:%M") if seen else "never",
            escape(row.note),
        )
    return table


def state_summary(state: ClientState, shown: int) -> str:
    counts = state.counts()
    parts = [f"{n} {status}" for status, n in counts.items() if n]
    line = f"{len(state.rows)} controls on {len(state.scope.hosts)} host(s): {', '.join(parts) or 'none'}"
    if shown != len(state.rows):
        line += f" ({shown} shown)"
    return line


def fleet_table(lines: Sequence[FleetLine]) -> Table:
    table = Table(title="fleet: current state per client")
    for col in ("client", "hosts", "compliance", "fail crit/high/med/low", "error", "not checked"):
        table.add_column(col, overflow="fold", justify="left" if col == "client" else "right")
    for col in ("last run (UTC)", "next window (client time)", "missed"):
        table.add_column(col, overflow="fold")
    for line in lines:
        if line.problem:
            table.add_row(
                escape(line.client),
                "-",
                "-",
                "-",
                "-",
                "-",
                _run_text(line),
                "",
                f"[yellow]{escape(line.problem)}[/]",
            )
            continue
        pct = line.compliance
        fails = "/".join(str(line.fails.get(s, 0)) for s in ("critical", "high", "medium", "low"))
        unreached = f" ({line.unreachable_hosts} host(s) unreachable)" if line.unreachable_hosts else ""
        table.add_row(
            escape(line.client),
            str(line.hosts),
            "-" if pct is None else f"{pct:.1f}%",
            f"[bold red]{fails}[/]" if any(line.fails.values()) else fails,
            _count(line.errors, "error"),
            f"{_count(line.not_checked, 'not_checked')}{unreached}",
            _run_text(line),
            line.next_window[:16].replace("T", " ") if line.next_window else "none",
            _count(line.missed, "fail"),
        )
    return table


def _run_text(line: FleetLine) -> str:
    if line.last_run is None:
        return "never"
    return f"{line.last_run[:16].replace('T', ' ')} ({line.last_run_status})"
