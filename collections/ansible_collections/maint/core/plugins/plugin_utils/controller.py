"""The base of the action plugins of maint.core: they run on the controller and send nothing to the host.

Action plugins import it as ``ansible_collections.maint.core.plugins.plugin_utils.controller``.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase


class ControllerAction(ActionBase):
    """Judges or decides on the controller: no file transfer, no connection to the inventory host."""

    TRANSFERS_FILES = False
    _requires_connection = False
