"""The HTML report in a real browser: Debian's headless Chromium, driven by Playwright (no browser download).

The demo client's report for a month of generated history (``maint_devtools.history``) is opened from its
file: the page must load with no console error and no request but the file itself (and ``data:`` URIs), and
its first page is taken as a PNG screenshot. ``MAINT_UPDATE_DOCS=1`` writes that screenshot to
``docs/report-page1.png`` (the README's picture).
"""

from __future__ import annotations

import os
import re
import struct
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

from maint_devtools.history import generate
from runner.inventory import load_client
from runner.ledger import Ledger, keys, note
from tests.conftest import REPO

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
#: what the browser is started with (plus Playwright's own --headless and a temporary --user-data-dir)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: page 1 at A4 proportions, 96 dpi: 210 x 297 mm
VIEWPORT: ViewportSize = {"width": 794, "height": 1123}
#: a fixed history, so the README's picture does not change with the day the test runs
END = datetime(2026, 12, 1, tzinfo=UTC)
PERIOD = "2026-11"
SEED = 13
DOCS_PNG = REPO / "docs" / "report-page1.png"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture
def report_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from runner.report.build import build_report
    from runner.report.period import month
    from runner.report.render import render

    key = tmp_path / "keys" / "ledger.key"
    monkeypatch.setenv("MAINT_LEDGER_KEY_FILE", str(key))
    signer = note.generate_signer("maint-demo")
    keys.write_signer(signer, key)
    client = load_client("demo")
    with Ledger() as ledger:
        generate(ledger, client, end=END, seed=SEED)
        data = build_report(ledger, client, month(PERIOD, client.settings.timezone), verifier=signer.verifier)
    path = tmp_path / "report" / f"demo-{PERIOD}.html"
    path.parent.mkdir()
    path.write_bytes(render(data, "html"))
    return path


def test_report_page_one_renders_in_headless_chromium_with_no_error_and_no_request(report_file: Path) -> None:
    if not CHROMIUM.is_file():
        pytest.skip(
            "!!! CHROMIUM REPORT TEST SKIPPED: /usr/bin/chromium is not installed (.ci/run installs Debian's "
            "chromium and fonts-dejavu-core) !!!"
        )
    from playwright.sync_api import sync_playwright

    url = report_file.as_uri()
    requests: list[str] = []
    blocked: list[str] = []
    console: list[tuple[str, str]] = []
    errors: list[str] = []

    def refuse(route: Any) -> None:
        blocked.append(route.request.url)
        route.abort()

    profile = report_file.parent.parent / "chromium-profile"
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport=VIEWPORT,
            device_scale_factor=1,
            offline=True,
        )
        try:
            context.on("request", lambda request: requests.append(request.url))
            context.route(re.compile(r"^(?!file:|data:)"), refuse)  # nothing may leave the file
            page = context.new_page()
            page.on("console", lambda message: console.append((message.type, message.text)))
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            response = page.goto(url, wait_until="load")
            assert response is None or response.ok
            page.wait_for_load_state("networkidle")
            assert page.title(), "the report has a title"
            headings = page.locator("h2").all_inner_texts()
            shot = page.screenshot(type="png")  # the viewport: page 1
        finally:
            context.close()

    assert errors == [], errors
    assert [m for m in console if m[0] in ("error", "warning")] == [], console
    assert blocked == [], f"the report asked for something outside its file: {blocked}"
    outside = [u for u in requests if u != url and not u.startswith("data:")]
    assert outside == [], outside
    assert url in requests
    assert "Executive summary" in headings, headings
    width, height = _png_size(shot)
    assert (width, height) == (VIEWPORT["width"], VIEWPORT["height"])
    assert len(shot) > 20_000, "page 1 is not blank"
    if os.environ.get("MAINT_UPDATE_DOCS") == "1":
        DOCS_PNG.parent.mkdir(exist_ok=True)
        DOCS_PNG.write_bytes(shot)
