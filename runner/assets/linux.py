"""Linux asset facts from the raw outputs of the ``maint.core.linux_asset_facts`` module.

The module returns the tools' outputs as they printed them (``{"commands": {name: {command, rc, stdout,
stderr, truncated} | {missing: tool}}, "files": {path: text | None}, ...}``); :func:`parse` reads them into
the facts shape of :mod:`runner.assets.facts`. A tool that is not installed leaves its facts out; output that
is there but not understood (a garbled os-release, JSON that is not ``lsblk``'s, a truncated package list) is
an :class:`AssetFactsError` naming the command or file, never a guess. Every list is sorted.

What is left out, on purpose: loopback and ``veth*`` interfaces (containers' ends come and go), ``loop``,
``zram`` and ``ram`` devices and disks of size 0, and pseudo, memory and image filesystems (``proc``,
``tmpfs``, ``squashfs``...) and bind mounts of a part of a filesystem (a filesystem is listed once, at its
first mount point); DMI placeholders such as "To be filled by O.E.M.". ``os.arch`` is ``uname -m``; an
rpm package's version is ``[epoch:]version-release.arch``; ``last_upgrade`` is the newest ``upgrade`` of
dpkg.log (else an apt history.log entry with ``Upgrade:``), on rpm hosts the newest install time (rpm tells
no upgrade from an install); ``last_boot`` is ``/proc/stat`` btime (else uptime, to the minute).
"""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from runner.assets.facts import AssetFactsError

SCHEMA = 1
#: filesystem types that are no storage of the host (kernel interfaces, memory, read-only images)
PSEUDO_FSTYPES = frozenset(
    {
        "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts", "devtmpfs",
        "efivarfs", "fusectl", "hugetlbfs", "iso9660", "mqueue", "nsfs", "proc", "pstore", "ramfs",
        "rpc_pipefs", "securityfs", "selinuxfs", "squashfs", "sysfs", "tmpfs", "tracefs", "fuse.lxcfs",
        "fuse.gvfsd-fuse", "fuse.portal", "overlay.ro", "nfsd", "devfs",
    }
)  # fmt: skip
#: mount points under which nothing is an asset's own filesystem
PSEUDO_PREFIXES = ("/proc", "/sys", "/dev", "/run", "/snap", "/var/lib/docker", "/var/lib/containers")
#: block devices that are not disks of the host
SKIP_DISKS = re.compile(r"^(loop|zram|ram|nbd)\d*$")
#: DMI values vendors leave in place of a real one
DMI_PLACEHOLDERS = frozenset(
    {
        "", "none", "not specified", "not applicable", "to be filled by o.e.m.", "to be filled by oem",
        "default string", "system serial number", "system product name", "system manufacturer", "0",
        "0123456789", "n/a", "na", "unknown", "oem", "o.e.m.",
    }
)  # fmt: skip
#: systemd-detect-virt identifiers and the facts' names for them
VIRT_NAMES = {"microsoft": "hyperv", "oracle": "virtualbox"}
CONTAINER_VIRTS = frozenset(
    {"docker", "podman", "lxc", "lxc-libvirt", "systemd-nspawn", "openvz", "rkt", "wsl", "proot", "pouch"}
)
#: dmidecode -s keyword -> /sys/class/dmi/id file -> facts.hardware key
DMI = (
    ("system-manufacturer", "sys_vendor", "vendor"),
    ("system-product-name", "product_name", "model"),
    ("system-serial-number", "product_serial", "serial"),
    ("bios-version", "bios_version", "bios_version"),
)
#: how error messages name each command of the module's ``commands``
LABELS = {
    "hostname_f": "hostname -f",
    "uname_r": "uname -r",
    "uname_m": "uname -m",
    "detect_virt": "systemd-detect-virt",
    "ip_addr": "ip -j addr",
    "lsblk": "lsblk -J -b",
    "findmnt": "findmnt -J -b",
    "df": "df -P -T -B1",
    "dpkg": "dpkg-query -W",
    "rpm": "rpm -qa",
    "ss": "ss -H -tulnp",
}
_DPKG_LOG = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (\S+) ")
_APT_START = re.compile(r"^Start-Date: (\d{4}-\d\d-\d\d)\s+(\d\d:\d\d:\d\d)\s*$")


def parse(platform: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Facts of one Linux host from the module's ``linux_assets`` (or its whole result)."""
    if platform != "linux":
        raise AssetFactsError(f"platform {platform!r}: runner.assets.linux reads linux only")
    if isinstance(raw, Mapping) and "schema" not in raw and isinstance(raw.get("linux_assets"), Mapping):
        raw = raw["linux_assets"]
    if not isinstance(raw, Mapping):
        raise AssetFactsError(f"linux_assets: an object, not {type(raw).__name__}")
    if raw.get("schema") != SCHEMA:
        raise AssetFactsError(f"linux_assets.schema: {raw.get('schema')!r}, this parser reads {SCHEMA}")
    if raw.get("system") != "Linux":
        raise AssetFactsError(f"linux_assets.system: {raw.get('system')!r} is not Linux")
    src = _Raw(raw)
    facts: dict[str, Any] = {}
    hostname = src.text("nodename").strip()
    if not hostname:
        raise AssetFactsError("linux_assets.nodename: missing or empty")
    facts["hostname"] = hostname.split(".")[0]
    fqdn = _fqdn(src, hostname)
    if fqdn:
        facts["fqdn"] = fqdn
        facts["domain"] = fqdn.split(".", 1)[1]
    facts["os"] = _os(src)
    facts["hardware"] = _hardware(src)
    interfaces = _interfaces(src)
    if interfaces is not None:
        facts["interfaces"] = interfaces
    disks = _disks(src)
    if disks is not None:
        facts["disks"] = disks
    filesystems = _filesystems(src)
    if filesystems is not None:
        facts["filesystems"] = filesystems
    packages = _packages(src)
    if packages is not None:
        software, installed_at = packages
        facts["software"] = software
        facts["software_count"] = len(software)
    else:
        installed_at = None
    listening = _listening(src)
    if listening is not None:
        facts["services_listening"] = listening
    boot = _last_boot(src)
    if boot:
        facts["last_boot"] = boot
    upgrade = _last_upgrade(src) or installed_at
    if upgrade:
        facts["last_upgrade"] = upgrade
    return facts


# ---------------------------------------------------------------- raw access


class _Raw:
    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        commands = raw.get("commands")
        files = raw.get("files")
        if not isinstance(commands, Mapping):
            raise AssetFactsError("linux_assets.commands: missing or not an object")
        if not isinstance(files, Mapping):
            raise AssetFactsError("linux_assets.files: missing or not an object")
        self.commands = commands
        self.files = files

    def text(self, key: str) -> str:
        value = self.raw.get(key)
        if value is not None and not isinstance(value, str):
            raise AssetFactsError(f"linux_assets.{key}: a text, not {type(value).__name__}")
        return value or ""

    def file(self, path: str) -> str | None:
        value = self.files.get(path)
        if value is not None and not isinstance(value, str):
            raise AssetFactsError(f"linux_assets.files[{path}]: a text, not {type(value).__name__}")
        return value

    def output(self, name: str, *, required_ok: bool = True) -> str | None:
        """The command's stdout; None when the tool is missing (or was not run); errors when it failed."""
        result = self.commands.get(name)
        if result is None:
            return None
        if not isinstance(result, Mapping):
            raise AssetFactsError(f"linux_assets.commands.{name}: not an object")
        if "missing" in result:
            return None
        command = label(name)
        rc = result.get("rc")
        stdout = result.get("stdout")
        if not isinstance(stdout, str):
            raise AssetFactsError(f"{command}: no stdout recorded")
        if result.get("truncated"):
            raise AssetFactsError(f"{command}: output truncated by the collector, not read")
        if rc is None:
            if not required_ok:  # an optional source that timed out: its facts left out, like a missing tool
                return None
            raise AssetFactsError(f"{command}: did not run ({_first(result.get('stderr'))})")
        if required_ok and rc != 0:
            raise AssetFactsError(f"{command}: exit {rc} ({_first(result.get('stderr')) or 'no message'})")
        return stdout

    def json(self, name: str, top: str, kind: type) -> Any:
        out = self.output(name)
        if out is None:
            return None
        command = label(name)
        try:
            data = json.loads(out)
        except ValueError as exc:
            raise AssetFactsError(f"{command}: output is not JSON ({exc})") from None
        if top:
            if not isinstance(data, Mapping) or not isinstance(data.get(top), kind):
                raise AssetFactsError(f"{command}: JSON without a {top!r} {kind.__name__}")
            return data[top]
        if not isinstance(data, kind):
            raise AssetFactsError(f"{command}: JSON {type(data).__name__}, not a {kind.__name__}")
        return data


def label(name: str) -> str:
    """The command's name in messages (``dmidecode_bios-version`` -> ``dmidecode -s bios-version``)."""
    if name.startswith("dmidecode_"):
        return f"dmidecode -s {name[len('dmidecode_') :]}"
    return LABELS.get(name, name)


def _first(text: Any) -> str:
    for line in str(text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def _clean(value: Any) -> str | None:
    """A text stripped of padding, None for null, empty and DMI placeholders."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    return None if text.lower() in DMI_PLACEHOLDERS else text


def _size(value: Any, where: str) -> int | None:
    """A size in bytes: lsblk/findmnt print a number (util-linux >= 2.33) or a string of digits."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise AssetFactsError(f"{where}: size {value!r} is not a number of bytes")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise AssetFactsError(f"{where}: size {value!r} is not a number of bytes")


# ---------------------------------------------------------------- identity and OS


def _fqdn(src: _Raw, hostname: str) -> str | None:
    candidates = []
    out = src.output("hostname_f", required_ok=False)
    result = src.commands.get("hostname_f")
    if out is not None and isinstance(result, Mapping) and result.get("rc") == 0:
        candidates.append(_first(out))
    candidates.append(src.text("getfqdn").strip())
    short = hostname.split(".")[0]
    for name in candidates:
        name = name.rstrip(".")
        if "." in name and name.split(".")[0] == short and not name.startswith("localhost"):
            return name
    return None


def os_release_fields(text: str, where: str) -> dict[str, str]:
    """``KEY=value`` lines of os-release(5) (shell quoting); a line that is neither is an error."""
    fields: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        if not sep or not re.fullmatch(r"[A-Z_][A-Z0-9_]*", key):
            raise AssetFactsError(f"{where}: line {number} is not KEY=value: {stripped[:60]!r}")
        try:
            parts = shlex.split(value)
        except ValueError:
            raise AssetFactsError(
                f"{where}: line {number} has unbalanced quotes: {stripped[:60]!r}"
            ) from None
        fields[key] = " ".join(parts)
    return fields


def _os(src: _Raw) -> dict[str, Any]:
    where = "/etc/os-release"
    text = src.file(where)
    if text is None:
        where = "/usr/lib/os-release"
        text = src.file(where)
    if text is None:
        raise AssetFactsError("/etc/os-release: missing (nor /usr/lib/os-release): the OS is unknown")
    fields = os_release_fields(text, where)
    name = fields.get("NAME") or fields.get("ID")
    if not name:
        raise AssetFactsError(f"{where}: neither NAME nor ID is set")
    out: dict[str, Any] = {"name": name}
    for key, field in (("version", "VERSION_ID"), ("edition", "VARIANT"), ("build", "BUILD_ID")):
        if fields.get(field):
            out[key] = fields[field]
    if fields.get("VERSION_ID") is None and fields.get("VERSION"):
        out["version"] = fields["VERSION"]
    kernel = src.output("uname_r")
    if kernel is not None and _first(kernel):
        out["kernel"] = _first(kernel)
    arch = src.output("uname_m")
    if arch is not None and _first(arch):
        out["arch"] = _first(arch)
    return out


# ---------------------------------------------------------------- hardware


def _hardware(src: _Raw) -> dict[str, Any]:
    hw: dict[str, Any] = {}
    for keyword, sysfs, key in DMI:
        value = None
        out = src.output(f"dmidecode_{keyword}", required_ok=False)
        result = src.commands.get(f"dmidecode_{keyword}")
        if out is not None and isinstance(result, Mapping) and result.get("rc") == 0:
            lines = [line for line in out.splitlines() if line.strip() and not line.startswith("#")]
            value = _clean(lines[0]) if lines else None
        if value is None:
            value = _clean(src.file(f"/sys/class/dmi/id/{sysfs}"))
        if value is not None:
            hw[key] = value
    virt = _virtualisation(src)
    if virt:
        hw["virtualisation"] = virt
    cpuinfo = src.file("/proc/cpuinfo")
    if cpuinfo is not None:
        model, count = _cpu(cpuinfo)
        if model:
            hw["cpu_model"] = model
        hw["cpu_count"] = count
    meminfo = src.file("/proc/meminfo")
    if meminfo is not None:
        hw["ram_bytes"] = _ram(meminfo)
    return hw


def _virtualisation(src: _Raw) -> str | None:
    result = src.commands.get("detect_virt")
    out = src.output("detect_virt", required_ok=False)
    if out is not None and isinstance(result, Mapping):
        name = _first(out)
        # exit 1 with "none": no virtualisation found; any other answer names it
        if name == "none" and result.get("rc") in (0, 1):
            return "none"
        if result.get("rc") == 0 and re.fullmatch(r"[a-z][a-z0-9_-]*", name):
            name = VIRT_NAMES.get(name, name)
            return f"container:{name}" if name in CONTAINER_VIRTS else name
        raise AssetFactsError(f"systemd-detect-virt: not understood: {name[:60]!r} (exit {result.get('rc')})")
    # no systemd-detect-virt: the container managers' own markers
    if src.file("/run/.containerenv") is not None:
        return "container:podman"
    if src.file("/.dockerenv") is not None:
        return "container:docker"
    marker = _first(src.file("/run/systemd/container"))
    if marker:
        return f"container:{marker}"
    return None


def _cpu(text: str) -> tuple[str | None, int]:
    count = 0
    model = None
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip()
        if key == "processor":
            count += 1
        elif key in ("model name", "Model", "cpu model", "Processor") and model is None and value.strip():
            model = " ".join(value.split())
    if count == 0:
        raise AssetFactsError("/proc/cpuinfo: no 'processor' line: not understood")
    return model, count


def _ram(text: str) -> int:
    match = re.search(r"^MemTotal:\s+(\d+) kB\s*$", text, re.MULTILINE)
    if not match:
        raise AssetFactsError("/proc/meminfo: no 'MemTotal: N kB' line: not understood")
    return int(match.group(1)) * 1024


# ---------------------------------------------------------------- network, disks, filesystems


def _ip_key(address: str) -> tuple[int, int]:
    ip = ipaddress.ip_address(address.split("%")[0])
    return ip.version, int(ip)


def _interfaces(src: _Raw) -> list[dict[str, Any]] | None:
    links = src.json("ip_addr", "", list)
    out: list[dict[str, Any]] = []
    if links is None:
        return _sys_net(src)
    for i, link in enumerate(links):
        if not isinstance(link, Mapping) or not isinstance(link.get("ifname"), str):
            raise AssetFactsError(f"ip -j addr: element {i} has no ifname")
        name = link["ifname"]
        if link.get("link_type") == "loopback" or name.startswith("veth"):
            continue
        entry: dict[str, Any] = {"name": name}
        mac = link.get("address")
        if isinstance(mac, str) and link.get("link_type") == "ether" and mac != "00:00:00:00:00:00":
            entry["mac"] = mac.lower()
        ips = []
        addr_info = link.get("addr_info") or []
        if not isinstance(addr_info, list):
            raise AssetFactsError(f"ip -j addr: {name}: addr_info is not a list")
        for addr in addr_info:
            local = addr.get("local") if isinstance(addr, Mapping) else None
            if not isinstance(local, str):
                raise AssetFactsError(f"ip -j addr: {name}: an address without 'local'")
            try:
                _ip_key(local)
            except ValueError:
                raise AssetFactsError(f"ip -j addr: {name}: {local!r} is not an IP address") from None
            ips.append(local)
        entry["ips"] = sorted(set(ips), key=_ip_key)
        out.append(entry)
    return sorted(out, key=lambda e: e["name"])


def _sys_net(src: _Raw) -> list[dict[str, Any]] | None:
    net = src.raw.get("net")
    if net is None:
        return None
    if not isinstance(net, Mapping):
        raise AssetFactsError("linux_assets.net (/sys/class/net): not an object")
    out = []
    for name, link in sorted(net.items()):
        if not isinstance(link, Mapping):
            raise AssetFactsError(f"/sys/class/net/{name}: not an object")
        if link.get("type") == "772" or str(name).startswith("veth"):  # ARPHRD_LOOPBACK
            continue
        entry: dict[str, Any] = {"name": str(name)}
        mac = link.get("address")
        if link.get("type") == "1" and isinstance(mac, str) and mac != "00:00:00:00:00:00":  # ARPHRD_ETHER
            entry["mac"] = mac.lower()
        out.append(entry)
    return out


def _disks(src: _Raw) -> list[dict[str, Any]] | None:
    devices = src.json("lsblk", "blockdevices", list)
    if devices is None:
        return None
    out = []
    for i, dev in enumerate(devices):
        if not isinstance(dev, Mapping) or not isinstance(dev.get("name"), str):
            raise AssetFactsError(f"lsblk -J -b: blockdevices[{i}] has no name")
        name = dev["name"]
        if dev.get("type") != "disk" or SKIP_DISKS.match(name):
            continue
        size = _size(dev.get("size"), f"lsblk -J -b: {name}")
        if not size:
            continue
        entry: dict[str, Any] = {"name": name, "size_bytes": size}
        for key in ("model", "serial"):
            value = _clean(dev.get(key))
            if value is not None:
                entry[key] = value
        out.append(entry)
    return sorted(out, key=lambda e: e["name"])


def _keep_mount(target: str, fstype: str, source: str) -> bool:
    if fstype in PSEUDO_FSTYPES or (fstype.startswith("fuse.") and fstype != "fuse.sshfs"):
        return False
    if any(target == p or target.startswith(p + "/") for p in PSEUDO_PREFIXES):
        return False
    return "[" not in source  # findmnt's SOURCE[/path]: a bind mount of a part of a filesystem


def _filesystems(src: _Raw) -> list[dict[str, Any]] | None:
    tree = src.json("findmnt", "filesystems", list)
    rows: list[tuple[str, str, str, int | None]] = []
    if tree is not None:
        stack = list(reversed(tree))
        while stack:
            fs = stack.pop()
            if not isinstance(fs, Mapping) or not isinstance(fs.get("target"), str):
                raise AssetFactsError("findmnt -J -b: a filesystem without a target")
            target = fs["target"]
            fstype, source, children = (
                fs.get("fstype") or "",
                fs.get("source") or "",
                fs.get("children") or [],
            )
            if not isinstance(fstype, str) or not isinstance(source, str) or not isinstance(children, list):
                raise AssetFactsError(f"findmnt -J -b: {target}: fstype, source or children of another type")
            rows.append((target, fstype, source, _size(fs.get("size"), f"findmnt -J -b: {target}")))
            stack.extend(reversed(children))
    else:
        df = src.output("df")
        if df is None:
            return None
        rows = _df_rows(df)
    out: dict[str, dict[str, Any]] = {}
    seen: set[tuple[str, str]] = set()
    for target, fstype, source, size in sorted(rows, key=lambda r: (len(r[0]), r[0])):
        if not _keep_mount(target, fstype, source) or ((source, fstype) in seen and source.startswith("/")):
            continue
        seen.add((source, fstype))
        entry: dict[str, Any] = {"mount": target, "fstype": fstype, "device": source}
        if size is not None:
            entry["size_bytes"] = size
        out.setdefault(target, entry)
    return [out[k] for k in sorted(out)]


def _df_rows(text: str) -> list[tuple[str, str, str, int | None]]:
    lines = text.splitlines()
    if not lines or not lines[0].startswith("Filesystem"):
        raise AssetFactsError("df -P -T -B1: no 'Filesystem' header: not understood")
    rows: list[tuple[str, str, str, int | None]] = []
    for line in lines[1:]:
        parts = line.split(None, 6)
        if len(parts) != 7 or not parts[2].isdigit():
            raise AssetFactsError(f"df -P -T -B1: line not understood: {line[:60]!r}")
        rows.append((parts[6], parts[1], parts[0], int(parts[2])))
    return rows


# ---------------------------------------------------------------- software and services


def _packages(src: _Raw) -> tuple[list[dict[str, Any]], str | None] | None:
    dpkg = src.output("dpkg")
    if dpkg is not None:
        software = []
        for number, line in enumerate(dpkg.splitlines(), 1):
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) != 3 or not parts[0]:
                raise AssetFactsError(f"dpkg-query -W: line {number} not understood: {line[:60]!r}")
            name, version, status = parts
            if len(status) < 2 or status[1] != "i":  # db:Status-Abbrev: 2nd letter i = installed
                continue
            software.append({"name": name, "version": version})
        return sorted(software, key=lambda s: (s["name"], s["version"])), None
    rpm = src.output("rpm")
    if rpm is None:
        return None
    software = []
    newest = 0
    for number, line in enumerate(rpm.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 7 or not parts[0] or not parts[6].strip().isdigit():
            raise AssetFactsError(f"rpm -qa: line {number} not understood: {line[:60]!r}")
        name, epoch, version, release, arch, vendor, installed = parts
        if name == "gpg-pubkey":  # imported signing keys, not software
            continue
        full = f"{version}-{release}" if epoch in ("(none)", "", "0") else f"{epoch}:{version}-{release}"
        item: dict[str, Any] = {
            "name": name,
            "version": full if arch in ("(none)", "noarch") else f"{full}.{arch}",
        }
        if vendor not in ("(none)", ""):
            item["publisher"] = vendor
        software.append(item)
        newest = max(newest, int(installed))
    when = _iso(datetime.fromtimestamp(newest, UTC)) if newest else None
    return sorted(software, key=lambda s: (s["name"], s["version"])), when


def _listening(src: _Raw) -> list[dict[str, Any]] | None:
    out = src.output("ss")
    if out is None:
        return None
    seen: dict[tuple[str, str, int, str], dict[str, Any]] = {}
    for number, line in enumerate(out.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(None, 6)
        if len(parts) < 6 or parts[0] not in ("tcp", "udp", "sctp", "dccp", "mptcp"):
            raise AssetFactsError(f"ss -H -tulnp: line {number} not understood: {line[:60]!r}")
        proto, local = parts[0], parts[4]
        address, sep, port = local.rpartition(":")
        if not sep or not port.isdigit():
            raise AssetFactsError(f"ss -H -tulnp: line {number}: local address {local!r} not understood")
        address = address.strip("[]").split("%")[0] or "*"
        entry: dict[str, Any] = {"proto": proto, "address": address, "port": int(port)}
        match = re.search(r'users:\(\("([^"]+)"', parts[6] if len(parts) > 6 else "")
        if match:
            entry["process"] = match.group(1)
        seen.setdefault((proto, address, int(port), entry.get("process", "")), entry)
    return [seen[k] for k in sorted(seen, key=lambda k: (k[0], k[2], k[1], k[3]))]


# ---------------------------------------------------------------- times


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _last_boot(src: _Raw) -> str | None:
    line = src.file("/proc/stat:btime")
    if line:
        match = re.fullmatch(r"btime (\d+)", line.strip())
        if not match:
            raise AssetFactsError(f"/proc/stat: btime line not understood: {line[:60]!r}")
        return _iso(datetime.fromtimestamp(int(match.group(1)), UTC))
    uptime = src.file("/proc/uptime")
    collected = src.text("collected_at")
    if uptime and collected:
        try:
            seconds = float(uptime.split()[0])
            at = datetime.strptime(collected, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except (ValueError, IndexError):
            raise AssetFactsError(f"/proc/uptime: not understood: {uptime[:60]!r}") from None
        return _iso((at - timedelta(seconds=seconds)).replace(second=0))
    return None


def _last_upgrade(src: _Raw) -> str | None:
    """The newest package upgrade of dpkg.log (then dpkg.log.1), else of apt's history.log (local times)."""
    offset = src.raw.get("utc_offset_seconds", 0)
    if not isinstance(offset, int) or isinstance(offset, bool):
        raise AssetFactsError(f"linux_assets.utc_offset_seconds: {offset!r} is not an integer")
    tz = timezone(timedelta(seconds=offset))
    for path in ("/var/log/dpkg.log:upgrade", "/var/log/dpkg.log.1:upgrade"):
        text = src.file(path)
        newest = None
        for line in (text or "").splitlines():
            match = _DPKG_LOG.match(line)
            if match and match.group(2) == "upgrade":
                newest = match.group(1)
        if newest:
            return _iso(datetime.strptime(newest, "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz))
    text = src.file("/var/log/apt/history.log")
    newest = None
    start = None
    for line in (text or "").splitlines():
        match = _APT_START.match(line)
        if match:
            start = f"{match.group(1)} {match.group(2)}"
        elif line.startswith("Upgrade:") and start:
            newest = start
    if newest:
        return _iso(datetime.strptime(newest, "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz))
    return None
