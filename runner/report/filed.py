"""Reports filed on disk, ``var/reports/<client>/<period>.<ext>``, by ``maint due`` and ``maint demo``.

Each filed period has, beside its files, a small sidecar ``<period>.filed.json`` (schema ``maint.filed/1``)
saying what the files were built from and what they hold:

- ``client``, ``period``, ``lang``, ``filed_at`` (UTC, ISO-8601);
- ``checkpoint``: the ledger checkpoint the report was built from (``size``, ``root_hash`` base64,
  ``made_at``, ``signed``) or None (a ledger with no checkpoint: built from its head), ``rows_in_report`` and
  ``rows_after`` (rows of the client recorded after that checkpoint, left out);
- ``files``: per format, the file's ``name``, ``bytes`` and ``sha256`` (hex), so a copy sent to the client
  can be matched to what was filed.

Every file is written atomically (a temporary file in the same folder, flushed, then renamed over the old
one): a reader sees the old report or the new one, never half of one. Files are 0600, folders 0700. The
sidecar is written last, so it never names a file that is not there; re-filing a period replaces its files
and removes those of formats no longer filed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner import names, paths

if TYPE_CHECKING:
    from runner.inventory import Client
    from runner.ledger import Ledger
    from runner.report.period import Period

log = logging.getLogger(__name__)

SCHEMA = "maint.filed/1"
SIDECAR = ".filed.json"
#: every format a report is filed in, in the order they are built (the PDF is made from the HTML)
ORDER = ("html", "pdf", "md", "json")


class FilingError(Exception):
    """A report that could not be built or written (the message names the client, period and why)."""


@dataclass
class Filed:
    """What one filing wrote: the files per format, the sidecar, and the formats that could not be made."""

    client: str
    period: str
    files: dict[str, Path] = field(default_factory=dict)
    sidecar: Path | None = None
    skipped: dict[str, str] = field(default_factory=dict)  # format -> why (e.g. WeasyPrint without Pango)

    def summary(self) -> str:
        """One line: the files written, then what was skipped."""
        shown = ", ".join(_shown(p) for p in self.files.values()) or "no file"
        line = f"report {self.client} {self.period}: {shown}"
        if self.skipped:
            line += "; " + "; ".join(f"{fmt} skipped: {why}" for fmt, why in self.skipped.items())
        return line


def _shown(path: Path) -> str:
    try:
        if path.resolve().is_relative_to(Path.cwd().resolve()):
            return os.path.relpath(path)
    except (OSError, ValueError):
        pass
    return str(path)


def reports_dir(client: str | None = None, *, create: bool = False) -> Path:
    """``var/reports`` or ``var/reports/<client>`` (created 0700 when ``create``)."""
    base = paths.var_dir(create=create) / "reports"
    folder = base / names.client_name(client, "client") if client is not None else base
    if create:
        for path in (base, folder):
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            path.chmod(0o700)
    return folder


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (mode 0600) through a temporary file renamed over it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def pdf_unavailable(exc: BaseException) -> str | None:
    """Why WeasyPrint cannot make a PDF here (no Pango, not installed), or None for any other failure."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ImportError | OSError) and any(
        word in text.lower() for word in ("pango", "gobject", "cairo", "weasyprint", "harfbuzz", "fontconfig")
    ):
        return f"WeasyPrint cannot run here ({text.splitlines()[0][:200]})"
    return None


def render_formats(
    data: Mapping[str, Any], formats: Sequence[str], *, template: str = "report"
) -> tuple[dict[str, bytes], dict[str, str]]:
    """Each format's bytes, and the formats skipped because WeasyPrint cannot run here (PDF only)."""
    from runner.report.render import pdf, render

    made: dict[str, bytes] = {}
    skipped: dict[str, str] = {}
    for fmt in sorted(set(formats), key=ORDER.index):
        try:
            if fmt == "pdf" and "html" in made:  # the PDF is made from the same HTML: drawn once
                made[fmt] = pdf(made["html"].decode())
            else:
                made[fmt] = render(dict(data), fmt, template=template)
        except Exception as exc:
            why = pdf_unavailable(exc) if fmt == "pdf" else None
            if why is None:
                raise
            skipped[fmt] = why
    return made, skipped


def checkpoint_facts(data: Mapping[str, Any]) -> dict[str, Any]:
    """What the sidecar keeps of the report's ``ledger`` section."""
    ledger = data.get("ledger") or {}
    found = ledger.get("checkpoint")
    checkpoint = (
        {key: found.get(key) for key in ("size", "root_hash", "made_at", "signed")}
        if isinstance(found, Mapping)
        else None
    )
    return {
        "checkpoint": checkpoint,
        "rows_in_report": ledger.get("rows_in_report"),
        "rows_after": ledger.get("rows_after"),
    }


def store(
    client: str,
    period: str,
    data: Mapping[str, Any],
    rendered: Mapping[str, bytes],
    *,
    skipped: Mapping[str, str] | None = None,
    lang: str = "en",
) -> Filed:
    """File already rendered formats of one period (atomically; the sidecar last)."""
    folder = reports_dir(client, create=True)
    if "/" in period or period.startswith("."):
        raise FilingError(f"period label {period!r} cannot name a file")
    sidecar = folder / f"{period}{SIDECAR}"
    before = read_sidecar(sidecar)
    filed = Filed(client, period, skipped=dict(skipped or {}))
    files: dict[str, dict[str, Any]] = {}
    for fmt in sorted(rendered, key=ORDER.index):
        path = folder / f"{period}.{fmt}"
        content = rendered[fmt]
        write_atomic(path, content)
        filed.files[fmt] = path
        files[fmt] = {"name": path.name, "bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}
    meta = {
        "schema": SCHEMA,
        "client": client,
        "period": period,
        "lang": lang,
        "filed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **checkpoint_facts(data),
        "files": files,
        "skipped": dict(filed.skipped),
    }
    write_atomic(sidecar, (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode())
    filed.sidecar = sidecar
    for old in (before or {}).get("files", {}).values():  # formats filed before and not now
        name = old.get("name") if isinstance(old, Mapping) else None
        if isinstance(name, str) and name not in {f["name"] for f in files.values()}:
            stale = folder / name
            if stale.parent == folder:
                stale.unlink(missing_ok=True)
    return filed


def file_report(
    ledger: Ledger,
    client: Client,
    period: Period,
    *,
    formats: Sequence[str] | None = None,
    lang: str | None = None,
) -> Filed:
    """Build the client's report of ``period`` from the ledger, render each format and file it.

    ``formats`` / ``lang`` default to the client's ``maintenance.reports`` settings. Raises
    :class:`FilingError` (one line) when the report cannot be built or written.
    """
    from runner.report.build import build_report

    settings = client.settings.reports
    formats = list(formats or settings.formats)
    lang = lang or settings.lang
    try:
        data = build_report(ledger, client, period, lang=lang)
        rendered, skipped = render_formats(data, formats)
        return store(client.name, period.label, data, rendered, skipped=skipped, lang=lang)
    except FilingError:
        raise
    except Exception as exc:
        log.debug("report of %s %s", client.name, period.label, exc_info=True)
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise FilingError(
            f"report {client.name} {period.label} not filed: {type(exc).__name__}: {first}"[:500]
        ) from exc


def read_sidecar(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("schema") == SCHEMA else None


def listing(client: str) -> list[dict[str, Any]]:
    """The filed reports of a client, newest period first: each sidecar plus its files' state on disk.

    ``files`` gains ``present`` and ``intact`` (the file's sha256 still matches) per format.
    """
    folder = reports_dir(client)
    if not folder.is_dir():
        return []
    found = []
    for sidecar in sorted(folder.glob(f"*{SIDECAR}")):
        meta = read_sidecar(sidecar)
        if meta is None:
            found.append({"period": sidecar.name[: -len(SIDECAR)], "problem": f"{sidecar.name}: unreadable"})
            continue
        for info in meta.get("files", {}).values():
            path = folder / str(info.get("name", ""))
            try:
                content = path.read_bytes()
            except OSError:
                info["present"], info["intact"] = False, False
                continue
            info["present"] = True
            info["intact"] = hashlib.sha256(content).hexdigest() == info.get("sha256")
        found.append(meta)
    return sorted(found, key=lambda m: str(m.get("period")), reverse=True)


def notify_ready(ledger: Ledger, filed: Filed) -> None:
    """Tell ``runner.notify`` the report is ready, when that module exists (its failures are logged)."""
    import importlib.util

    if importlib.util.find_spec("runner.notify") is None:
        return
    import runner.notify as notify

    ready = getattr(notify, "report_ready", None)
    if ready is None:
        return
    try:
        ready(ledger, filed.client, filed.period, list(filed.files.values()))
    except Exception as exc:  # a notification never fails the filing
        log.warning("%s: report-ready notification failed: %s", filed.client, exc)


__all__ = [
    "SCHEMA",
    "Filed",
    "FilingError",
    "file_report",
    "listing",
    "notify_ready",
    "render_formats",
    "reports_dir",
    "store",
    "write_atomic",
]
