"""Function checks (see runner.network.checks): access."""

from __future__ import annotations
