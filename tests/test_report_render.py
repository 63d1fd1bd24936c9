"""The client report's renderers (runner/report/render.py, charts.py, branding.py and the templates) on the
hand-made report of tests/report_sample.py: one self-contained HTML file, Markdown with the same sections,
JSON that round-trips, a PDF whose text holds the sections and the checkpoint, three languages, and
branding errors that name the file and the key."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from runner.report import charts, i18n
from runner.report.branding import BrandingError, Msp, load_msp
from runner.report.render import FORMATS, RenderError, pdf, render, seq_ranges
from tests.report_sample import sample_report

REPO = Path(__file__).resolve().parent.parent
ROOT_HASH = sample_report()["ledger"]["checkpoint"]["root_hash"]

#: the report's section headings in order (the cover's h1, then one h2 per section)
SECTIONS = [
    "Executive summary",
    "Coverage",
    "Patching",
    "Antivirus",
    "Backups",
    "Disk and capacity",
    "Network",
    "Findings",
    "Resolved findings",
    "Waivers",
    "Maintenance windows",
    "Corrective interventions",
    "Appendix: ledger checkpoint",
]
TRANSLATED = {
    "es": ("Resumen ejecutivo", "Informe de mantenimiento"),
    "ca": ("Resum executiu", "Informe de manteniment"),
}


@pytest.fixture(scope="module")
def html() -> str:
    return render(sample_report(), "html").decode()


@pytest.fixture(scope="module")
def markdown() -> str:
    return render(sample_report(), "md").decode()


def h2(text: str) -> list[str]:
    return re.findall(r"<h2>(.*?)</h2>", text)


def empty_report() -> dict[str, Any]:
    """The sample with every section empty, as the builder returns it for a client with nothing recorded."""
    data = sample_report()
    data["ledger"].update(checkpoint=None, fingerprint=None, public_key=None, rows_in_report=0, rows_after=0)
    data["summary"].update(
        score=None,
        previous_score=None,
        trend=None,
        earned=0,
        possible=0,
        counts={},
        decisions=[],
        findings_by_severity={s: 0 for s in ("critical", "high", "medium", "low", "info")},
        trend_points=[{"period": p["period"], "score": None} for p in data["summary"]["trend_points"]],
    )
    data["coverage"].update(hosts_in_scope=0, hosts_checked=0, hosts_not_checked=[], by_domain=[])
    data["patching"].update(hosts=[], compliance_pct=None, hosts_judged=0, hosts_compliant=0)
    data["antivirus"].update(hosts=[], coverage_pct=None, hosts_judged=0, hosts_protected=0, products={})
    data["backups"].update(jobs=[], jobs_total=0, jobs_ok=0)
    data["capacity"].update(hosts=[], at_risk=[])
    data["network"].update(devices=[], changes=[], unreachable=[], findings_total=0)
    data["findings"].update(open=[], resolved=[])
    data["waivers"].update(in_force=[], expiring_30d=[])
    data["windows"].update(held=0, missed=0, skipped=0, open=0, occurrences=[])
    data["interventions"] = []
    data["msp"] = Msp().as_dict()
    return data


# ------------------------------------------------------------------------------------------------ HTML


def test_html_is_one_self_contained_file(html: str) -> None:
    assert html.startswith("<!DOCTYPE html>")
    assert "http://" not in html and "https://" not in html  # no URL at all, not even an SVG namespace
    sources = re.findall(r"""\bsrc\s*=\s*["']?([^"'\s>]*)""", html)
    assert sources and all(s.startswith("data:") for s in sources)
    urls = re.findall(r"url\(([^)]*)\)", html)  # an SVG's clip paths: fragments of the page itself
    assert urls and all(u.startswith("#") for u in urls)
    for needle in ("<script", "<link", "@import", "<iframe", "<object", "<?xml", "<!DOCTYPE svg"):
        assert needle not in html, needle
    assert html.count("<style>") == 1
    assert html.count("<svg") == 4  # trend, severity, backups, one disk forecast (one host at risk)


def test_html_sections_in_order_with_the_cover_first(html: str) -> None:
    assert h2(html) == SECTIONS
    cover = html[: html.index('<section class="section" id="summary">')]
    for fact in (ROOT_HASH, "1,873 rows", "signed by demo-msp-ledger; signature verified", "Demo MSP"):
        assert fact in cover
    assert sample_report()["ledger"]["fingerprint"] in cover
    assert "maint ledger verify demo --checkpoint FILE --public-key KEY" in cover
    assert "printed in the appendix" in cover
    assert "Nov 29, 2026, 10:40\u202fPM (Europe/Madrid time)" in cover or "Nov 29, 2026, 10:40 PM" in cover


def test_html_escapes_the_data_and_embeds_the_logo(html: str) -> None:
    assert "Demo &amp; Sons &lt;Ltd&gt;" in html and "<Ltd>" not in html
    assert "Check the restic job&#39;s log" in html
    assert re.search(r'<img class="logo" src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+"', html)


def test_html_summary_states_the_formula_the_trend_and_the_decisions(html: str) -> None:
    summary = html[html.index('id="summary"') : html.index('id="coverage"')]
    assert "critical 10, high 5, medium 2, low 1, info 0" in summary
    assert "100 \u00d7 243 \u00f7 300" in summary
    assert "That is 7 points better than in 2026-10 (74)." in summary
    decisions = summary[summary.index('<ol class="decisions">') : summary.index("</ol>")]
    assert decisions.count("<li>") == 3
    assert "Backup succeeded recently" in decisions and "ledger row 1760" in decisions


def test_html_findings_ranked_critical_to_info_each_with_its_ledger_row(html: str) -> None:
    section = html[html.index('id="findings"') : html.index('id="resolved"')]
    heads = re.findall(r"<h3>(\w+) \((\d+)\)</h3>", section)
    assert heads == [("Critical", "1"), ("High", "2"), ("Medium", "2"), ("Low", "1"), ("Info", "1")]
    for finding in sample_report()["findings"]["open"]:
        assert f"ledger row {finding['seq']}" in section
    assert "Regressed: it passed last period (was: Pass)" in section
    assert "Worse than last period (was: Warning)" in section
    assert "Oct 3, 2026" in section  # first seen


def test_html_is_printable(html: str) -> None:
    css = html[html.index("<style>") : html.index("</style>")]
    assert "size: A4" in css
    assert "thead { display: table-header-group; }" in css
    assert "tr { break-inside: avoid;" in css
    assert "section.section { break-before: page;" in css
    assert html.count('<section class="section"') == len(SECTIONS)


def test_html_chart_ids_are_unique_and_text_stays_text(html: str) -> None:
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    refs = re.findall(r'href="#([^"]+)"|url\(#([^)]+)\)', html)
    assert refs and all((a or b) in set(ids) for a, b in refs)
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert ">Health score<" in svgs[0]  # svg.fonttype none: the translated label is a <text>
    assert ">2026-11<" in svgs[0]


def test_html_same_data_same_bytes_in_another_process(html: str) -> None:
    assert render(sample_report(), "html").decode() == html
    script = (
        "import sys; sys.path.insert(0, '.'); "
        "from tests.report_sample import sample_report; from runner.report.render import render; "
        "sys.stdout.buffer.write(render(sample_report(), 'html'))"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, check=True).stdout
    assert out.decode() == html


def test_empty_report_renders_every_section_in_every_format() -> None:
    data = empty_report()
    page = render(data, "html").decode()
    assert h2(page) == SECTIONS
    assert "No health score" in page and "no checkpoint of the ledger had been made yet" in page
    assert "No open findings at the end of the period." in page
    assert "<img" not in page  # the default branding has no logo
    md = render(data, "md").decode()
    assert [line[3:] for line in md.splitlines() if line.startswith("## ")] == SECTIONS
    assert json.loads(render(data, "json")) == data


# -------------------------------------------------------------------------------------------- Markdown


def test_markdown_has_the_same_sections_and_escaped_cells(markdown: str) -> None:
    assert [line[3:] for line in markdown.splitlines() if line.startswith("## ")] == SECTIONS
    assert markdown.startswith("# Maintenance report: Demo & Sons \\<Ltd>\n")
    assert "| web01 | nightly \\| db |" in markdown  # a | in a cell is escaped
    assert "Set `transport input ssh` on every vty line. Save the configuration." in markdown  # one line
    assert "<svg" not in markdown
    assert "2026-10: 74 → 2026-11: 81" in markdown  # the trend as one line of text
    assert ROOT_HASH in markdown and "ledger row 1760" in markdown
    note = sample_report()["ledger"]["checkpoint"]["note"]
    assert f"```text\n{note}```\n" in markdown  # verbatim in the appendix
    for line in markdown.splitlines():
        if line.startswith("|"):
            assert line.endswith("|") and re.sub(r"\\\||`[^`]*`", "", line).count("|") >= 2, line
    assert render(sample_report(), "md").decode() == markdown


# ------------------------------------------------------------------------------------------------ JSON


def test_json_round_trips_sorted_and_utf8() -> None:
    data = sample_report()
    out = render(data, "json")
    assert out.endswith(b"\n")
    assert json.loads(out) == data
    assert "Día de la Constitución".encode() in out  # ensure_ascii=False
    assert out == (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


# ------------------------------------------------------------------------------------------------- PDF


def test_pdf_has_the_sections_and_the_checkpoint() -> None:
    import pypdf

    out = render(sample_report(), "pdf")
    assert out.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(out))
    assert len(reader.pages) > len(SECTIONS)  # a page break before each section
    text = "\n".join(page.extract_text() for page in reader.pages)
    for title in SECTIONS:
        assert title in text, title
    assert ROOT_HASH in text.replace("\n", "")
    assert "Backup succeeded recently" in text
    assert "Health score" in text  # a chart's label, drawn as text
    assert "2 / " in text  # the running footer's page numbers


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/x.png", "https://example.com/x.css", "file:///etc/hostname"]
)
def test_pdf_fetches_nothing_but_data_uris(url: str) -> None:
    with pytest.raises(RenderError, match=r"^report PDF: refused to fetch '.*' \(only data: URIs\)$"):
        pdf(f'<!DOCTYPE html><html><body><img src="{url}"><p>x</p></body></html>')
    assert pdf("<!DOCTYPE html><html><body><p>x</p></body></html>").startswith(b"%PDF")


# ------------------------------------------------------------------------------------------- languages


@pytest.mark.parametrize("lang", ["es", "ca"])
def test_other_languages_translate_the_headings_and_the_numbers(lang: str) -> None:
    page = render(sample_report(lang), "html").decode()
    headings = h2(page)
    assert len(headings) == len(SECTIONS) and headings[0] == TRANSLATED[lang][0]
    assert not set(headings) & (set(SECTIONS) - {"Antivirus", "Cobertura"})
    assert f"<h1>{TRANSLATED[lang][1]}</h1>" in page
    assert f'<html lang="{lang}">' in page
    assert "1.873" in page  # grouping of the locale
    md = render(sample_report(lang), "md").decode()
    assert [line[3:] for line in md.splitlines() if line.startswith("## ")] == headings


def test_every_message_of_these_templates_is_translated() -> None:
    mine = {
        "report.html.j2",
        "report.md.j2",
        "_base.html.j2",
        "_macros.j2",
        "_macros.md.j2",
        "_labels.txt.j2",
    }
    pot = i18n.extract()
    ours = [m for m in pot if m.id and any(Path(loc).name in mine for loc, _ in m.locations)]
    assert len(ours) > 100
    problems = set(i18n.check_messages())
    missing = [p for p in problems for m in ours if repr(m.id if isinstance(m.id, str) else m.id[0]) in p]
    assert missing == []


def test_unknown_language_and_format_are_one_line() -> None:
    with pytest.raises(RenderError, match=r"^--lang fr: expected one of en, es, ca$"):
        render(sample_report("fr"), "html")
    with pytest.raises(RenderError, match=r"^--format xls: expected one of html, pdf, md, json$"):
        render(sample_report(), "xls")
    with pytest.raises(RenderError, match=r"^template 'nope': no nope.html.j2 in runner/report/templates/$"):
        render(sample_report(), "html", template="nope")
    assert FORMATS == ("html", "pdf", "md", "json")


def test_branding_from_the_data_is_checked_before_it_reaches_css() -> None:
    data = sample_report()
    data["msp"]["colours"]["primary"] = "red;}</style><script>"
    with pytest.raises(RenderError, match=r"^msp.colours.primary: expected #rrggbb, got "):
        render(data, "html")
    data = sample_report()
    data["msp"]["logo"] = "javascript:alert(1)"
    with pytest.raises(RenderError, match=r"^msp.logo: expected a data:image"):
        render(data, "html")


# ---------------------------------------------------------------------------------------------- charts


def test_charts_are_deterministic_bare_svg() -> None:
    points = [(f"2026-{m:02d}", None if m == 3 else 50.0 + m) for m in range(1, 13)]
    one = charts.trend(points, ylabel="Score")
    assert one == charts.trend(points, ylabel="Score")
    assert one.startswith("<svg ") and "xmlns" not in one and "<style" not in one
    assert "<metadata" not in one and "dc:date" not in one
    forecast = charts.disk_forecast(
        [("2026-11-01T00:00:00+00:00", 70.0), ("2026-11-29T00:00:00+00:00", 90.0)],
        12.0,
        labels={"xlabel": "days", "ylabel": "used", "used": "used", "forecast": "forecast", "full": "full"},
    )
    assert ">forecast<" in forecast and ">days<" in forecast
    assert charts.scope_ids('<g id="a"><use href="#a"/><path clip-path="url(#a)"/></g>', "c9-") == (
        '<g id="c9-a"><use href="#c9-a"/><path clip-path="url(#c9-a)"/></g>'
    )


def test_seq_ranges() -> None:
    assert seq_ranges([9, 3, 4, 5]) == "3\u20135, 9"
    assert seq_ranges(1234) == "1234"
    assert seq_ranges([]) == seq_ranges(None) == "\u2013"
    assert seq_ranges(range(0, 40, 2), limit=3) == "0, 2, 4, \u2026"


# -------------------------------------------------------------------------------------------- branding


def write_msp(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "msp.yml").write_text(text)
    return folder


def test_repository_branding_is_the_demo_msp() -> None:
    msp = load_msp(REPO / "inventories")
    data = msp.as_dict()
    assert data["name"] == "Demo MSP"
    assert data["logo"].startswith("data:image/svg+xml;base64,")
    assert data["colours"]["primary"] == "#1f4e79"
    assert data["website"] == "demo-msp.example"


def test_branding_defaults_when_the_file_is_absent(tmp_path: Path) -> None:
    data = load_msp(tmp_path).as_dict()
    assert data == {
        "name": "maint",
        "logo": None,
        "colours": {"primary": "#1f4e79", "accent": "#2e86c1", "text": "#1b1b1b"},
        "email": None,
        "phone": None,
        "website": None,
    }


def test_branding_logo_png_and_website_without_scheme(tmp_path: Path) -> None:
    folder = write_msp(tmp_path, "name: Acme IT\nlogo: img/logo.png\nwebsite: https://acme-it.example/\n")
    (folder / "img").mkdir()
    (folder / "img" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(16))
    data = load_msp(folder).as_dict()
    assert data["logo"].startswith("data:image/png;base64,iVBORw0KGgo")
    assert data["website"] == "acme-it.example"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colours:\n  primary: blue\n", "colours.primary: expected #rrggbb, got 'blue'"),
        ("colours:\n  accent: '#12345'\n", "colours.accent: expected #rrggbb, got '#12345'"),
        ("colour: {primary: '#000000'}\n", "colour: unknown key"),
        ("colours: {primary: '#000000', border: '#ffffff'}\n", "colours.border: unknown key"),
        ("logo: missing.svg\n", "logo: file inventories/missing.svg not found"),
        ("logo: logo.gif\n", "logo: expected an .svg or .png file, got 'logo.gif'"),
        ("name: [a, b]\n", "name: expected a text, got list"),
        ("- just a list\n", "expected a mapping of name, logo, colours, email, phone, website"),
        ("name: a\nname: b\n", "line 2: duplicate key 'name' on line 2 (first on line 1)"),
    ],
)
def test_branding_errors_are_one_line_naming_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = write_msp(tmp_path / "inventories", text)
    with pytest.raises(BrandingError) as caught:
        load_msp(folder)
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith(f"inventories/msp.yml: {message}")


def test_branding_logo_that_is_not_an_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder = write_msp(tmp_path / "inventories", "logo: logo.svg\n")
    (folder / "logo.svg").write_text("not an image")
    with pytest.raises(BrandingError, match=r"^inventories/msp.yml: logo: inventories/logo.svg is not a SVG"):
        load_msp(folder)
