"""Run modes, in a module of their own so the CLI can name them without loading the inventory schema."""

from __future__ import annotations

from enum import StrEnum


class Mode(StrEnum):
    AUDIT = "audit"
    REMEDIATE = "remediate"
