"""Windows asset facts from the collector's JSON (``roles/windows_assets/files/collect_assets.ps1``).

The collector prints one object (``collector: windows_assets``, ``schema: 1``) with one probe per source, each
``{"available": true, ...}`` or ``{"available": false, "reason": "..."}``: ``computer_system``
(``Win32_ComputerSystem``), ``bios`` (``Win32_BIOS``), ``os`` (``Win32_OperatingSystem`` plus the
``CurrentVersion`` registry key), ``processors``, ``disks`` (``Win32_DiskDrive``), ``volumes``
(``Win32_LogicalDisk`` DriveType 3), ``adapters`` (``Win32_NetworkAdapterConfiguration`` IPEnabled),
``programs`` (the uninstall registry keys), ``antivirus`` (``root/SecurityCenter2`` ``AntiVirusProduct`` and
``Get-MpComputerStatus``), ``backup`` (services of backup products, the Windows Server Backup feature),
``listening`` (``Get-NetTCPConnection -State Listen``) and ``hotfixes`` (``Win32_QuickFixEngineering``).

Both encodings are read: the collector converts dates at the source (ISO 8601 UTC) and enums to names, but an
output of Windows PowerShell 5.1 that did not (``"\\/Date(ms)\\/"``, DMTF text, enums as numbers, one-element
collections flattened to the object, empty ones to null) gives the same facts. A probe that could not run
leaves its facts out (never guessed); :func:`unavailable` names them with the reason. Data of the wrong shape
raises :class:`~runner.assets.facts.AssetFactsError` naming the probe and field.

Products seen (``products.antivirus`` / ``products.backup``) are the canonical names of :data:`ANTIVIRUS` and
:data:`BACKUP` matched against Security Center's registered products, Defender's status, the installed
programs and the backup services; a Security Center name no pattern knows is kept as Windows gives it.
A list is left out only when none of its sources could be read (an empty list: looked, found none).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field, NonNegativeInt, StrictInt, ValidationError

from runner.assets.facts import AssetFactsError
from runner.evaluators import EvaluatorError
from runner.evaluators.common import describe
from runner.evaluators.windows_common import (
    SERVICE_STATUS,
    Probe,
    WinRaw,
    as_list,
    enum_name,
    ps_datetime,
    unwrap_output,
)

KIND = "windows_assets"
SCHEMA = 1

#: canonical antivirus product name -> pattern matched (case-insensitive) against registered/installed names
ANTIVIRUS: tuple[tuple[str, str], ...] = (
    ("Microsoft Defender Antivirus", r"^(windows|microsoft) defender( antivirus)?$"),
    ("Sophos", r"\bsophos\b.*\b(anti-?virus|endpoint|intercept|server protection)"),
    ("ESET", r"\beset\b.*\b(security|antivirus|endpoint|protect)"),
    ("Trend Micro", r"\btrend micro\b.*\b(apex one|officescan|security agent|deep security|worry-free)"),
    ("Bitdefender", r"\bbitdefender\b.*\b(endpoint|antivirus|total security|gravityzone)"),
    ("Kaspersky", r"\bkaspersky\b.*\b(endpoint|security|anti-?virus)"),
    ("Symantec Endpoint Protection", r"\bsymantec endpoint protection\b"),
    ("CrowdStrike Falcon", r"\bcrowdstrike\b"),
    ("SentinelOne", r"\bsentinel ?one\b|^sentinel agent$"),
    ("Trellix / McAfee", r"\b(mcafee|trellix)\b.*\b(endpoint|agent|virusscan|total protection)"),
    ("Webroot SecureAnywhere", r"\bwebroot\b"),
    ("Malwarebytes", r"\bmalwarebytes\b"),
    ("WithSecure / F-Secure", r"\b(withsecure|f-secure)\b"),
    ("G DATA", r"\bg ?data\b.*\b(security|antivirus|endpoint)"),
    ("Avast", r"\bavast\b.*\b(antivirus|security|business)"),
    ("AVG", r"^avg\b.*\b(antivirus|internet security|business)"),
    ("Panda", r"\bpanda\b.*\b(endpoint|adaptive defense|dome|security)"),
)

#: canonical backup product name -> pattern matched against installed programs and service display names
BACKUP: tuple[tuple[str, str], ...] = (
    (
        "Veeam Backup & Replication",
        r"^veeam backup (&|and) replication server$|^veeam backup service$|^veeambackupsvc$",
    ),
    ("Veeam Agent for Microsoft Windows", r"^veeam agent for (microsoft )?windows|^veeamendpointbackupsvc$"),
    ("Acronis", r"\bacronis\b.*\b(backup|cyber protect|true image|managed machine)"),
    ("Veritas Backup Exec", r"\bbackup ?exec\b"),
    ("Commvault", r"\bcommvault\b"),
    ("Datto", r"\bdatto\b.*\b(backup|windows agent|endpoint)"),
    ("StorageCraft ShadowProtect", r"\bshadowprotect\b"),
    ("Macrium Reflect", r"\bmacrium\b"),
    ("Arcserve", r"\barcserve\b"),
    ("Cohesity", r"\bcohesity\b"),
    ("Rubrik", r"\brubrik\b"),
    ("NAKIVO Backup & Replication", r"\bnakivo\b"),
    ("Altaro VM Backup", r"\baltaro\b"),
    ("Carbonite", r"\bcarbonite\b"),
    ("Iperius Backup", r"\biperius\b"),
    ("Cobian Backup", r"\bcobian\b"),
    ("Synology Active Backup for Business", r"\bactive backup for business\b"),
    ("Unitrends", r"\bunitrends\b"),
)
#: the Windows Server Backup feature's product name (a feature, not a program)
WINDOWS_SERVER_BACKUP = "Windows Server Backup"

#: hypervisor of a virtual machine from (Win32_ComputerSystem Manufacturer, Model), facts.py's names
_VIRTUAL: tuple[tuple[str, str, str], ...] = (
    (r"^microsoft corporation$", r"^virtual machine$", "hyperv"),
    (r"^vmware", r"", "vmware"),
    (r"", r"^vmware", "vmware"),
    (r"^(qemu|red hat|ovirt|nutanix)", r"", "kvm"),
    (r"", r"\bkvm\b|^standard pc \(", "kvm"),
    (r"^amazon ec2$", r"", "amazon"),
    (r"^xen$", r"", "xen"),
    (r"", r"^hvm domu$", "xen"),
    (r"^google$", r"", "google"),
    (r"^innotek gmbh$", r"", "virtualbox"),
    (r"", r"^virtualbox$", "virtualbox"),
    (r"^parallels", r"", "parallels"),
)

#: serial numbers firmware ships unset (OEM placeholders): left out, they identify nothing
_PLACEHOLDER_SERIALS = frozenset(
    {
        "",
        "0",
        "00000000",
        "0000000000",
        "123456789",
        "1234567890",
        "chassis serial number",
        "default string",
        "invalid",
        "n/a",
        "na",
        "none",
        "not applicable",
        "not available",
        "not specified",
        "o.e.m.",
        "oem",
        "system serial number",
        "to be filled by o.e.m.",
    }
)


# ---------------------------------------------------------------- raw data shape


class _ComputerSystem(Probe):
    Name: str | None = None
    DNSHostName: str | None = None
    Domain: str | None = None
    Workgroup: str | None = None
    PartOfDomain: bool | None = None
    Manufacturer: str | None = None
    Model: str | None = None
    TotalPhysicalMemory: NonNegativeInt | None = None
    NumberOfLogicalProcessors: NonNegativeInt | None = None


class _Bios(Probe):
    SerialNumber: str | None = None
    SMBIOSBIOSVersion: str | None = None


class _Os(Probe):
    Caption: str | None = None
    Version: str | None = None
    BuildNumber: str | None = None
    OSArchitecture: str | None = None
    ProductType: StrictInt | None = None
    InstallDate: Any = None
    LastBootUpTime: Any = None
    EditionID: str | None = None
    DisplayVersion: str | None = None
    UBR: NonNegativeInt | None = None


class _Processor(WinRaw):
    DeviceID: str | None = None
    Name: str | None = None
    NumberOfCores: NonNegativeInt | None = None
    NumberOfLogicalProcessors: NonNegativeInt | None = None


class _Processors(Probe):
    items: Any = None


class _DiskDrive(WinRaw):
    DeviceID: str | None = None
    Index: NonNegativeInt | None = None
    Model: str | None = None
    SerialNumber: str | None = None
    Size: NonNegativeInt | None = None


class _Disks(Probe):
    items: Any = None


class _LogicalDisk(WinRaw):
    DeviceID: str
    VolumeName: str | None = None
    FileSystem: str | None = None
    Size: NonNegativeInt | None = None


class _Volumes(Probe):
    items: Any = None


class _Adapter(WinRaw):
    Index: NonNegativeInt | None = None
    Description: str
    MACAddress: str | None = None
    IPAddress: Any = None


class _Adapters(Probe):
    items: Any = None


class _Program(WinRaw):
    DisplayName: str
    DisplayVersion: str | None = None
    Publisher: str | None = None


class _Programs(Probe):
    items: Any = None


class _AvProduct(WinRaw):
    displayName: str
    productState: StrictInt | None = None


class _SecurityCenter(Probe):
    products: Any = None


class _Defender(Probe):
    AMServiceEnabled: bool | None = None
    AntivirusEnabled: bool | None = None
    AMRunningMode: str | None = None
    AMProductVersion: str | None = None


class _Antivirus(WinRaw):
    security_center: _SecurityCenter
    defender: _Defender


class _Service(WinRaw):
    Name: str
    DisplayName: str = ""
    Status: Any = None


class _Backup(Probe):
    services: Any = None
    wsb_feature: bool | None = None


class _Listener(WinRaw):
    LocalAddress: str
    LocalPort: StrictInt
    OwningProcess: NonNegativeInt | None = None
    ProcessName: str | None = None


class _Listening(Probe):
    items: Any = None


class _Hotfixes(Probe):
    count: NonNegativeInt = 0
    last_installed: Any = None
    last_hotfix_id: str | None = None


class _Raw(WinRaw):
    schema_version: StrictInt = Field(alias="schema")
    collector: str
    hostname: str = ""
    ps_version: str = ""
    collected_at: Any = None
    computer_system: _ComputerSystem
    bios: _Bios
    os: _Os
    processors: _Processors
    disks: _Disks
    volumes: _Volumes
    adapters: _Adapters
    programs: _Programs
    antivirus: _Antivirus
    backup: _Backup
    listening: _Listening
    hotfixes: _Hotfixes


#: the probes of the collector, in output order, with the dotted name :func:`unavailable` reports
PROBES: tuple[str, ...] = (
    "computer_system",
    "bios",
    "os",
    "processors",
    "disks",
    "volumes",
    "adapters",
    "programs",
    "antivirus.security_center",
    "antivirus.defender",
    "backup",
    "listening",
    "hotfixes",
)


def _fail(message: str) -> AssetFactsError:
    return AssetFactsError(f"{KIND}: {message}")


def _unwrap(raw: Any) -> dict[str, Any]:
    """The collector's object from itself, its JSON text, or a whole win_powershell result."""
    try:
        return unwrap_output(raw, KIND)
    except EvaluatorError as exc:
        raise AssetFactsError(str(exc)) from None


def read(raw: Any) -> _Raw:
    """The collector's output validated against its shape (AssetFactsError naming the field)."""
    data = _unwrap(raw)
    if data.get("collector") != KIND:
        raise _fail(f"collector: {data.get('collector')!r} is not the {KIND} collector's output")
    try:
        parsed = _Raw.model_validate(data)
    except ValidationError as exc:
        raise _fail(f"raw data has the wrong shape: {describe(exc)}") from None
    if parsed.schema_version != SCHEMA:
        raise _fail(f"schema {parsed.schema_version} is not supported (expected {SCHEMA})")
    return parsed


def _probe(raw: _Raw, name: str) -> Probe:
    value: Any = raw
    for part in name.split("."):
        value = getattr(value, part)
    assert isinstance(value, Probe)
    return value


def unavailable(raw: Any) -> dict[str, str]:
    """Probe name -> why it could not run, for each probe of the output that did not (its facts are out)."""
    parsed = read(raw)
    out = {}
    for name in PROBES:
        probe = _probe(parsed, name)
        if not probe.available:
            out[name] = probe.reason or "no reason given"
    return out


def _items(value: Any, model: type[BaseModel], where: str) -> list[Any]:
    out = []
    for index, item in enumerate(as_list(value)):
        try:
            out.append(model.model_validate(item))
        except ValidationError as exc:
            raise _fail(f"{where}.{index}: {describe(exc)}") from None
    return out


def _iso(value: Any, where: str) -> str | None:
    if value is None or value == "":
        return None
    try:
        when = ps_datetime(value, where).astimezone(UTC)
    except EvaluatorError as exc:
        raise _fail(str(exc)) from None
    except (OverflowError, ValueError):  # \/Date(ms)\/ or an offset past datetime's range
        raise _fail(f"{where}: {value!r} is out of the range of dates") from None
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(value: Any, where: str) -> str | None:
    """``yyyy-MM-dd`` (the collector's InstalledOn date) or any PowerShell date, as ISO 8601 UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", value.strip()):
        try:
            day = datetime.strptime(value.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise _fail(f"{where}: {value!r} is not a calendar date") from None
        return day.strftime("%Y-%m-%dT%H:%M:%SZ")
    return _iso(value, where)


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    text = " ".join(value.split())
    return text or None


def _serial(value: str | None) -> str | None:
    text = _text(value)
    if text is None or text.casefold() in _PLACEHOLDER_SERIALS or set(text) <= {"0", " ", "-"}:
        return None
    return text


def _virtualisation(vendor: str | None, model: str | None) -> str | None:
    if vendor is None and model is None:
        return None
    v, m = (vendor or "").casefold(), (model or "").casefold()
    for vendor_re, model_re, name in _VIRTUAL:
        if (not vendor_re or re.search(vendor_re, v)) and (not model_re or re.search(model_re, m)):
            return name
    return "none"


def _canonical(names: Iterable[str], table: tuple[tuple[str, str], ...], keep_unknown: bool) -> set[str]:
    out: set[str] = set()
    for name in names:
        text = _text(name)
        if text is None:
            continue
        for canonical, pattern in table:
            if re.search(pattern, text, re.IGNORECASE):
                out.add(canonical)
                break
        else:
            if keep_unknown:
                out.add(text)
    return out


def _mac(value: str | None, where: str) -> str | None:
    text = _text(value)
    if text is None:
        return None
    if not re.fullmatch(r"[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}", text):
        raise _fail(f"{where}: {value!r} is not a MAC address")
    return text.replace("-", ":").lower()


def _drop_none(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if v is not None}


def parse(platform: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The facts (shape: :mod:`runner.assets.facts`) of an output; AssetFactsError: not understood."""
    if platform != "windows":
        raise AssetFactsError(f"platform {platform!r}: the {KIND} parser reads Windows hosts only")
    r = read(raw)
    cs, os_ = r.computer_system, r.os
    if not cs.available and not os_.available:
        raise _fail(
            "neither Win32_ComputerSystem nor Win32_OperatingSystem could be read "
            f"({cs.reason or 'no reason given'}; {os_.reason or 'no reason given'}): "
            "nothing identifies the host"
        )
    facts: dict[str, Any] = {}
    hostname = (_text(cs.DNSHostName) or _text(cs.Name)) if cs.available else None
    hostname = hostname or _text(r.hostname)
    if hostname is None:
        raise _fail("hostname: neither Win32_ComputerSystem nor $env:COMPUTERNAME gave a computer name")
    facts["hostname"] = hostname
    hardware: dict[str, Any] = {}
    if cs.available:
        domain = _text(cs.Domain)
        if cs.PartOfDomain is None:
            raise _fail("computer_system.PartOfDomain: missing (domain member or workgroup?)")
        if cs.PartOfDomain:
            if domain is None:
                raise _fail("computer_system.Domain: empty on a domain member")
            facts["domain"] = domain
            facts["fqdn"] = f"{hostname}.{domain}"
        else:
            workgroup = _text(cs.Workgroup) or domain
            if workgroup is not None:
                facts["workgroup"] = workgroup
        vendor, model = _text(cs.Manufacturer), _text(cs.Model)
        hardware.update(
            vendor=vendor,
            model=model,
            virtualisation=_virtualisation(vendor, model),
            cpu_count=cs.NumberOfLogicalProcessors or None,
            ram_bytes=cs.TotalPhysicalMemory or None,
        )
    if r.bios.available:
        hardware.update(serial=_serial(r.bios.SerialNumber), bios_version=_text(r.bios.SMBIOSBIOSVersion))
    if r.processors.available:
        cpus = _items(r.processors.items, _Processor, "processors.items")
        names = sorted({n for c in cpus if (n := _text(c.Name)) is not None})
        if names:
            hardware["cpu_model"] = " / ".join(names)
        if hardware.get("cpu_count") is None:
            logical = [c.NumberOfLogicalProcessors for c in cpus if c.NumberOfLogicalProcessors]
            if cpus and len(logical) == len(cpus):
                hardware["cpu_count"] = sum(logical)
    if hardware := _drop_none(hardware):
        facts["hardware"] = hardware
    if os_.available:
        build = _text(os_.BuildNumber)
        if build is not None and os_.UBR is not None:
            build = f"{build}.{os_.UBR}"
        os_facts = _drop_none(
            {
                "name": _text(os_.Caption),
                "version": _text(os_.Version),
                "edition": _text(os_.EditionID),
                "release": _text(os_.DisplayVersion),
                "build": build,
                "arch": _arch(os_.OSArchitecture),
                "install_date": _iso(os_.InstallDate, "os.InstallDate"),
            }
        )
        if "name" not in os_facts:
            raise _fail("os.Caption: empty (Win32_OperatingSystem read but it names no operating system)")
        facts["os"] = os_facts
        last_boot = _iso(os_.LastBootUpTime, "os.LastBootUpTime")
        if last_boot is not None:
            facts["last_boot"] = last_boot
    if r.disks.available:
        drives = _items(r.disks.items, _DiskDrive, "disks.items")
        disks = []
        for index, d in enumerate(drives):
            name = _text(d.DeviceID)
            if name is None:
                if d.Index is None:
                    raise _fail(f"disks.items.{index}: neither DeviceID nor Index names the disk")
                name = f"PHYSICALDRIVE{d.Index}"
            disks.append(
                _drop_none(
                    {
                        "name": name.removeprefix("\\\\.\\"),
                        "size_bytes": d.Size,
                        "model": _text(d.Model),
                        "serial": _serial(d.SerialNumber),
                    }
                )
            )
        facts["disks"] = sorted(disks, key=lambda d: _natural(d["name"]))
    if r.volumes.available:
        volumes = _items(r.volumes.items, _LogicalDisk, "volumes.items")
        facts["filesystems"] = sorted(
            (
                _drop_none({"mount": v.DeviceID, "fstype": _text(v.FileSystem), "size_bytes": v.Size})
                for v in volumes
            ),
            key=lambda f: f["mount"].casefold(),
        )
    if r.adapters.available:
        interfaces = []
        for index, a in enumerate(_items(r.adapters.items, _Adapter, "adapters.items")):
            ips = as_list(a.IPAddress)
            if not all(isinstance(ip, str) for ip in ips):
                raise _fail(f"adapters.items.{index}.IPAddress: a list of addresses, not {a.IPAddress!r}")
            interfaces.append(
                _drop_none(
                    {
                        "name": _text(a.Description) or a.Description,
                        "mac": _mac(a.MACAddress, f"adapters.items.{index}.MACAddress"),
                    }
                )
                | {"ips": sorted({ip.strip() for ip in ips if ip.strip()}, key=_ip_order)}
            )
        facts["interfaces"] = sorted(interfaces, key=lambda i: (i["name"].casefold(), i.get("mac") or ""))
    programs: list[_Program] = []
    if r.programs.available:
        programs = _items(r.programs.items, _Program, "programs.items")
        seen: dict[tuple[str, str, str], dict[str, Any]] = {}
        for p in programs:
            name = _text(p.DisplayName)
            if name is None:
                continue
            entry = _drop_none(
                {"name": name, "version": _text(p.DisplayVersion), "publisher": _text(p.Publisher)}
            )
            seen[(name.casefold(), entry.get("version", ""), entry.get("publisher", ""))] = entry
        facts["software"] = [seen[k] for k in sorted(seen)]
        facts["software_count"] = len(seen)
    products: dict[str, list[str]] = {}
    av = r.antivirus
    if av.security_center.available or av.defender.available or r.programs.available:
        names = [p.displayName for p in _items(av.security_center.products, _AvProduct, "antivirus.products")]
        found = _canonical(names, ANTIVIRUS, keep_unknown=True)
        if av.defender.available and av.defender.AMServiceEnabled:
            found.add(ANTIVIRUS[0][0])
        found |= _canonical((p.DisplayName for p in programs), ANTIVIRUS, keep_unknown=False)
        products["antivirus"] = sorted(found, key=str.casefold)
    if r.backup.available or r.programs.available:
        services = _items(r.backup.services, _Service, "backup.services") if r.backup.available else []
        for index, s in enumerate(services):
            if s.Status is not None:
                try:
                    enum_name(s.Status, SERVICE_STATUS, f"backup.services.{index}.Status")
                except EvaluatorError as exc:
                    raise _fail(str(exc)) from None
        found = _canonical((s.DisplayName or s.Name for s in services), BACKUP, keep_unknown=False)
        found |= _canonical((s.Name for s in services), BACKUP, keep_unknown=False)
        found |= _canonical((p.DisplayName for p in programs), BACKUP, keep_unknown=False)
        if r.backup.available and r.backup.wsb_feature:
            found.add(WINDOWS_SERVER_BACKUP)
        products["backup"] = sorted(found, key=str.casefold)
    if products:
        facts["products"] = products
    if r.listening.available:
        listeners = _items(r.listening.items, _Listener, "listening.items")
        rows: dict[tuple[int, str, str], dict[str, Any]] = {}
        for index, item in enumerate(listeners):
            if not 0 <= item.LocalPort <= 65535:
                raise _fail(f"listening.items.{index}.LocalPort: {item.LocalPort} is not a TCP port")
            process = _text(item.ProcessName)
            row = _drop_none(
                {"proto": "tcp", "address": item.LocalAddress, "port": item.LocalPort, "process": process}
            )
            rows[(item.LocalPort, item.LocalAddress, process or "")] = row
        facts["services_listening"] = [rows[k] for k in sorted(rows)]
    if r.hotfixes.available:
        last = _day(r.hotfixes.last_installed, "hotfixes.last_installed")
        if last is not None:
            facts["last_upgrade"] = last
    return facts


#: Win32_OperatingSystem.OSArchitecture (localised: 64-Bit, 64 bits) -> the uname -m name
_ARCH: tuple[tuple[str, str], ...] = (
    (r"^arm\b.*\b64", "aarch64"),
    (r"^64[- ]?bits?$", "x86_64"),
    (r"^32[- ]?bits?$", "x86"),
)


def _arch(value: str | None) -> str | None:
    """``x86_64`` / ``aarch64`` / ``x86`` as Linux names them (facts.py); an unknown text kept as given."""
    text = _text(value)
    if text is None:
        return None
    for pattern, name in _ARCH:
        if re.search(pattern, text, re.IGNORECASE):
            return name
    return text


def _natural(name: str) -> tuple[Any, ...]:
    """PHYSICALDRIVE2 before PHYSICALDRIVE10."""
    return tuple(int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", name))


def _ip_order(ip: str) -> tuple[int, str]:
    return (1 if ":" in ip else 0, ip)
