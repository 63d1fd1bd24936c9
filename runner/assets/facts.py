"""The shape of asset facts, shared by every platform, and the hash that decides whether they changed.

Facts are a JSON object. Every key is optional except ``hostname``; a collector leaves out what it could
not learn (never an empty string standing for "unknown"). The keys, by group:

- identity: ``hostname``, ``fqdn``, ``domain`` (AD domain or DNS domain), ``workgroup``;
- ``os``: ``name``, ``version``, ``edition``, ``build``, ``kernel``, ``arch`` (``uname -m``: ``x86_64``...),
  ``release`` (a Windows feature update: ``23H2``), ``install_date`` (ISO-8601), ``firmware`` (a network
  device's software version string), ``image`` (the image/file it booted);
- ``hardware``: ``vendor``, ``model``, ``serial``, ``virtualisation`` (``none`` on bare metal, else the
  hypervisor: ``kvm``, ``vmware``, ``hyperv``, ``container:podman``…), ``cpu_model``, ``cpu_count`` (int,
  logical), ``ram_bytes`` (int), ``bios_version``;
- ``interfaces``: ``[{name, mac, ips: [...]}]``; ``disks``: ``[{name, size_bytes, model, serial}]``;
  ``filesystems``: ``[{mount, fstype, device, size_bytes}]`` (sizes only: usage is health, not an asset fact);
- ``software``: ``[{name, version, publisher}]`` (packages or installed programs); ``software_count`` (int);
- ``services_listening``: ``[{proto, address, port, process}]``;
- ``products``: ``{antivirus: [names], backup: [names]}`` (products seen on the host);
- ``last_boot``, ``last_upgrade`` (ISO-8601 UTC); ``uptime_seconds`` (int, network devices);
- ``inventory``: ``[{name, descr, pid, serial}]`` (a network device's modules, ``show inventory``).

:data:`VOLATILE` keys are stored but leave the content hash alone, so a device's uptime ticking does not
make a new row every run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from runner.ledger.chain import canonical_json

#: platforms facts are recorded for (network ones are ``network_config_platform`` values)
PLATFORMS = ("linux", "windows", "cisco_ios", "aruba_aoscx", "aruba_aoss", "fortios")
#: keys stored but not hashed (they change without anything about the asset changing)
VOLATILE = frozenset({"uptime_seconds"})
_GROUPS = ("os", "hardware", "products")
_LISTS = ("interfaces", "disks", "filesystems", "software", "services_listening", "inventory")
_INTS = ("software_count", "uptime_seconds")
_TEXT = ("hostname", "fqdn", "domain", "workgroup", "last_boot", "last_upgrade")
KNOWN_KEYS = frozenset({*_GROUPS, *_LISTS, *_INTS, *_TEXT})
#: the largest facts document stored (canonical JSON bytes); a bigger one is refused, not truncated
MAX_BYTES = 4 * 1024 * 1024


class AssetFactsError(ValueError):
    """Facts that do not have the documented shape (the message names the key)."""


def validate(platform: str, facts: Mapping[str, Any]) -> dict[str, Any]:
    """``facts`` checked against the shape above (unknown keys refused); a plain dict copy."""
    if platform not in PLATFORMS:
        raise AssetFactsError(f"platform {platform!r}: one of {', '.join(PLATFORMS)}")
    if not isinstance(facts, Mapping):
        raise AssetFactsError(f"facts: an object, not {type(facts).__name__}")
    unknown = sorted(str(k) for k in facts if k not in KNOWN_KEYS)
    if unknown:
        raise AssetFactsError(f"facts: unknown key(s) {', '.join(unknown)}")
    hostname = facts.get("hostname")
    if not isinstance(hostname, str) or not hostname.strip():
        raise AssetFactsError("facts.hostname: a non-empty text is required")
    out: dict[str, Any] = {}
    for key, value in facts.items():
        if value is None:
            continue
        if key in _GROUPS and not isinstance(value, Mapping):
            raise AssetFactsError(f"facts.{key}: an object, not {type(value).__name__}")
        if key in _LISTS and not isinstance(value, list):
            raise AssetFactsError(f"facts.{key}: a list, not {type(value).__name__}")
        if key in _LISTS and not all(isinstance(item, Mapping) for item in value):
            raise AssetFactsError(f"facts.{key}: a list of objects")
        if key in _INTS and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise AssetFactsError(f"facts.{key}: a non-negative integer, not {value!r}")
        if key in _TEXT and not isinstance(value, str):
            raise AssetFactsError(f"facts.{key}: a text, not {type(value).__name__}")
        out[str(key)] = value
    try:
        size = len(canonical_json(out).encode())
    except (TypeError, ValueError) as exc:
        raise AssetFactsError(f"facts: not JSON data ({exc})") from None
    if size > MAX_BYTES:
        raise AssetFactsError(f"facts: {size} bytes, more than the {MAX_BYTES} stored")
    return out


def content_hash(platform: str, facts: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of the platform and every non-volatile fact."""
    stable = {k: v for k, v in facts.items() if k not in VOLATILE}
    return hashlib.sha256(canonical_json({"platform": platform, "facts": stable}).encode()).hexdigest()
