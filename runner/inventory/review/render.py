"""The review as Markdown (a pull-request comment; template ``runner/templates/inventory_review.md.j2``)
or JSON. Both are scrubbed of every plaintext secret found as the last step."""

from __future__ import annotations

import json

from runner.inventory.review.model import Level, Review
from runner.render import render

#: the first line of the comment: CI finds its earlier comment by it and updates it
MARKER = "<!-- maint-inventory-review -->"
ICONS = {Level.ERROR: "❌ error", Level.WARNING: "⚠️ warning"}


def render_markdown(report: Review) -> str:
    """The review as Markdown for a pull-request comment: findings first, then a table, then per client."""
    text = render("inventory_review.md.j2", report=report, marker=MARKER, icons=ICONS)
    return report.scrub(text.rstrip() + "\n")


def render_json(report: Review) -> str:
    return report.scrub(json.dumps(report.as_dict(), indent=2, default=str, ensure_ascii=False)) + "\n"
