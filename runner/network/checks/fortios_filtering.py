"""Function checks (see runner.network.checks): fortios_filtering."""

from __future__ import annotations
