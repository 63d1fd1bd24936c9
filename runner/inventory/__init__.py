"""Client inventories: loading, validation and host planning."""

from runner.inventory.loader import (
    Client,
    HostTree,
    InventoryError,
    Problem,
    UnknownClientError,
    known_roles,
    list_clients,
    load_client,
    validate_client,
)
from runner.inventory.schema import ClientSettings, Mode, Waiver

__all__ = [
    "Client",
    "ClientSettings",
    "HostTree",
    "InventoryError",
    "Mode",
    "Problem",
    "UnknownClientError",
    "Waiver",
    "known_roles",
    "list_clients",
    "load_client",
    "validate_client",
]
