"""The shared Jinja2 environment (runner/render.py) and the report templates in runner/templates/."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from fnmatch import fnmatch
from pathlib import Path

import jinja2
import pytest

from runner import render
from runner.ledger import RunInfo, RunStatus
from runner.network import drift
from runner.network.snapshots import Snapshot
from runner.resolution import ControlChange, Resolution
from runner.results import CheckResult, Domain, Severity, Status
from tests.conftest import REPO

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TEMPLATES = sorted(p.name for p in render.TEMPLATES.glob("*.j2"))


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("plain", "plain"),
        ("a|b", "a\\|b"),
        ("two\nlines", "two lines"),
        ("crlf\r\nline", "crlf line"),
        ("esc \x1b[31mred", "esc \\x1b[31mred"),
        (42, "42"),
    ],
)
def test_cell_is_one_safe_markdown_cell(text: object, cell: str) -> None:
    assert render.cell(text) == cell


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("web01", "`web01`"),
        ("a`b", "``a`b``"),
        ("``x", "``` ``x ```"),
        ("x`", "`` x` ``"),
    ],
)
def test_code_span_survives_backticks(text: str, span: str) -> None:
    """CommonMark: a span's fence is longer than any backtick run inside; a space pads a backtick edge."""
    assert render.code(text) == span
    fence = re.match(r"`+", span)
    assert fence is not None
    inner = span[len(fence.group()) : -len(fence.group())]
    assert (inner[1:-1] if inner.startswith(" ") and inner.endswith(" ") else inner) == text


def test_fence_is_longer_than_any_backtick_run() -> None:
    assert render.fence("no ticks") == "```"
    assert render.fence("banner ```\n````") == "`````"


def test_every_template_compiles_and_ships_in_the_wheel() -> None:
    env = render.environment()
    assert TEMPLATES, "no template under runner/templates"
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    for name in TEMPLATES:
        env.get_template(name)  # a syntax error raises
        assert any(fnmatch(f"templates/{name}", glob) for glob in package_data["runner"]), name


def test_autoescape_html_only_and_undefined_names_fail() -> None:
    env = render.environment()
    for name in TEMPLATES:
        template = env.get_template(name)
        assert template.environment.autoescape(name) is name.endswith(".html.j2"), name
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ no_such_name }}").render()


def _snapshot(i: int, device: str, text: str) -> Snapshot:
    return Snapshot(
        id=i,
        seq=i,
        client="acme",
        device=device,
        platform="cisco_ios",
        run_id=f"r{i}",
        taken_at=f"2026-03-0{i}T10:00:00+00:00",
        content_hash=f"hash-{i}",
        masked_text=text,
        raw_encrypted=None,
        encryption="none",
        line_count=text.count("\n"),
    )


@pytest.fixture
def drift_report(monkeypatch: pytest.MonkeyPatch) -> drift.DriftReport:
    # the texts hold no secret: show them as stored (no platform masker involved)
    monkeypatch.setattr(Snapshot, "shown_text", property(lambda self: self.masked_text))
    old = _snapshot(1, "sw<1>|core", "hostname sw1\nlogging 192.0.2.1\n")
    new = _snapshot(2, "sw<1>|core", "hostname sw1\nlogging 192.0.2.50\nbanner motd ```<script>&\n")
    return drift.DriftReport(
        client="acme <&> co", since="r1", devices=(drift.compare("sw<1>|core", old, new),)
    )


def test_drift_html_escapes_every_value(drift_report: drift.DriftReport) -> None:
    out = drift.to_html(drift_report)
    assert "<script>" not in out and "acme <&>" not in out
    assert "<title>Configuration drift: acme &lt;&amp;&gt; co</title>" in out
    assert "<td>sw&lt;1&gt;|core</td>" in out
    assert '<span class="add">+banner motd ```&lt;script&gt;&amp;</span>' in out
    assert '<span class="del">-logging 192.0.2.1</span>' in out
    pre = out[out.index("<pre>") + 5 : out.index("</pre>")]
    assert pre.splitlines()[0].startswith("--- sw&lt;1&gt;|core snapshot 1")  # nothing added inside <pre>
    assert len(pre.splitlines()) == len(drift_report.devices[0].diff)


def test_drift_markdown_cells_and_fence(drift_report: drift.DriftReport) -> None:
    out = drift.to_markdown(drift_report)
    lines = out.splitlines()
    assert lines[0] == "# Configuration drift: acme <&> co"
    assert "| sw<1>\\|core | cisco_ios | changed | 2 | 1 |" in lines
    # the diff holds ``` so the fence is four backticks, and it closes the block
    start = lines.index("````diff")
    end = lines.index("## Ledger checkpoint")
    assert lines[end - 2] == "````" and "+banner motd ```<script>&" in lines[start : end - 2]
    # no checkpoint carried: the section says how to make one
    assert out.endswith(
        "## Ledger checkpoint\n\nNo checkpoint of this client's ledger yet "
        "(`maint ledger checkpoint acme <&> co` makes one).\n"
    )


def _result(status: Status, run: str) -> CheckResult:
    return CheckResult(
        control="HEALTH-LNX-01",
        title="Filesystems | free",
        domain=Domain.HEALTH,
        status=status,
        severity=Severity.HIGH,
        evidence={},
        remediation="Free space.",
        host="web|01",
        client="acme",
        run_id=run,
        observed_at=NOW,
        role="linux_health",
    )


def test_resolution_markdown() -> None:
    runs = [
        RunInfo(
            run_id="r1",
            client="acme",
            mode="audit",
            roles=["linux_health"],
            started_at=NOW,
            requested_by="marta",
            limit="web01",
            reason="disk | full\nagain",
            status=RunStatus.SUCCESSFUL,
        ),
        RunInfo(run_id="r2", client="acme", mode="remediate", roles=["linux_health"], started_at=NOW),
    ]
    fixed = ControlChange(
        "web|01",
        "HEALTH-LNX-01",
        "Filesystems | free",
        _result(Status.FAIL, "r1"),
        _result(Status.PASS, "r2"),
    )
    record = Resolution("acme", "T-1", runs, [fixed])
    assert record.markdown() == (
        "## Resolution record: Ticket T-1 (acme)\n"
        "\n"
        "- Run `r1` 2026-03-01 12:00 UTC by marta: audit linux_health, hosts web01 — successful. "
        "Reason: disk \\| full again\n"
        "- Run `r2` 2026-03-01 12:00 UTC: remediate linux_health — running\n"
        "\n"
        "Outcome: **resolved: every control checked now passes**.\n"
        "\n"
        "| host | control | title | before | after | change |\n"
        "|---|---|---|---|---|---|\n"
        "| web\\|01 | HEALTH-LNX-01 | Filesystems \\| free | fail | pass | fixed |\n"
        "\n"
        "### Ledger checkpoint\n"
        "\n"
        "No checkpoint of this client's ledger yet (`maint ledger checkpoint acme` makes one).\n"
    )
    assert (
        Resolution("acme", None, runs[1:], []).markdown().startswith("## Resolution record: Run r2 (acme)\n")
    )


def test_templates_dir_is_inside_the_package() -> None:
    assert Path(render.__file__).resolve().parent / "templates" == render.TEMPLATES
