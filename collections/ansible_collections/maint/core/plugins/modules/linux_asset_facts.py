#!/usr/bin/python
# Runs on the managed host with the host's python3 (3.8+), standard library only.
"""Collect the raw outputs the Linux asset facts are parsed from, in one call, changing nothing."""

DOCUMENTATION = r"""
---
module: linux_asset_facts
short_description: Collect the raw outputs of a Linux host's asset facts (identity, OS, hardware, software)
description:
  - Reads, in one call, what the asset register needs to know about a Linux host and returns the tools'
    outputs B(as they printed them) under the key C(linux_assets); C(runner.assets.linux.parse) turns them
    into asset facts on the controller (through M(maint.core.maint_assets)), so a change of a tool's format
    is found by the parser's tests on recorded outputs, not guessed on the host.
  - Changes nothing on the host; always returns C(changed=false) and runs the same in check mode.
  - "Read: the node name and C(hostname -f) (and Python's C(getfqdn)); C(ip -j addr) (else
    C(/sys/class/net)); C(/etc/os-release); C(uname -r) / C(uname -m); C(systemd-detect-virt) and the
    container markers (C(/run/.containerenv), C(/.dockerenv), C(/run/systemd/container)); vendor, model,
    serial and BIOS version from C(dmidecode -s) when root, else C(/sys/class/dmi/id/*) (an unreadable
    C(product_serial) is left out); C(/proc/cpuinfo), C(/proc/meminfo); C(lsblk -J -b); C(findmnt -J -b)
    (else C(df -P -T -B1)); the package list (C(dpkg-query -W) or C(rpm -qa)); C(ss -H -tulnp) listening
    sockets (process names when the user may see them); C(/proc/stat) C(btime) and C(/proc/uptime); the
    last C(upgrade) lines of C(/var/log/dpkg.log) (else C(dpkg.log.1)) and the tail of
    C(/var/log/apt/history.log) for the last upgrade."
  - A tool that is not installed is recorded as C(missing) with its name, never a failed module; a command
    that fails or runs out of time keeps its exit code and error text for the parser to report.
  - Works unprivileged; then there is no C(dmidecode), no serial number when
    C(/sys/class/dmi/id/product_serial)
    is root-only, and no process names of other users' sockets.
version_added: "0.4.0"
author:
  - maint project
options:
  command_timeout:
    description:
      - Seconds allowed for each helper command (C(ip), C(lsblk), C(findmnt), C(dpkg-query), C(rpm), C(ss),
        ...).
    type: float
    default: 30.0
attributes:
  check_mode:
    support: full
    description: Read-only; behaves identically in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
  platform:
    support: full
    platforms: posix
    description: Linux only; elsewhere it returns C(system) so the role can refuse the host.
notes:
  - Standard library only, so it runs on any host with python3.
seealso:
  - module: maint.core.maint_assets
"""

EXAMPLES = r"""
- name: ASSET-LNX-01 | AUDIT | Collect asset facts
  maint.core.linux_asset_facts:
    command_timeout: 30
  register: linux_assets_raw
"""

RETURN = r"""
linux_assets:
  description:
    - Raw outputs, the input of C(runner.assets.linux.parse).
    - "Every command entry is C({command, rc, stdout, stderr, truncated}) (C(rc) null when it could not start
      or timed out) or C({missing: NAME}) when the tool is not installed; every file entry is its text or
      null when unreadable."
  returned: always
  type: dict
  contains:
    schema:
      description: Version of this data layout.
      type: int
      sample: 1
    collected_at:
      description: UTC time of collection, ISO 8601.
      type: str
      sample: "2026-12-01T02:40:12Z"
    system:
      description: C(uname -s).
      type: str
      sample: Linux
    privileged:
      description: Whether the module ran as root (dmidecode, serials and process names need it).
      type: bool
    nodename:
      description: The host's node name (C(uname -n)).
      type: str
      sample: web01
    utc_offset_seconds:
      description: The host's UTC offset at collection; dpkg and apt log times are local times.
      type: int
      sample: 3600
    commands:
      description: "Command outputs by name: hostname_f, ip_addr, uname_r, uname_m, detect_virt, lsblk,
        findmnt, df, dpkg, rpm, ss, dmidecode_<keyword>."
      type: dict
    files:
      description: "File texts by path: /etc/os-release, /proc/cpuinfo, /proc/meminfo, /proc/stat (btime
        line),
        /proc/uptime, /sys/class/dmi/id/*, container markers, log tails."
      type: dict
    getfqdn:
      description: Python's C(socket.getfqdn()), null when the resolver did not answer in O(command_timeout).
      type: str
    net:
      description: C(/sys/class/net/<name>/{address,type}) of each interface (the fallback of C(ip -j addr)).
      type: dict
"""

import contextlib
import os
import socket
import threading
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.maint.core.plugins.module_utils.commands import command_result, which
from ansible_collections.maint.core.plugins.module_utils.files import read_text
from ansible_collections.maint.core.plugins.module_utils.probes import utc_now

SCHEMA = 1
#: dmidecode -s keywords (root only) and the /sys/class/dmi/id files standing in for them otherwise
DMI = (
    ("system-manufacturer", "sys_vendor"),
    ("system-product-name", "product_name"),
    ("system-serial-number", "product_serial"),
    ("bios-version", "bios_version"),
)
DPKG_FORMAT = "${binary:Package}\t${Version}\t${db:Status-Abbrev}\n"
RPM_FORMAT = "%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{VENDOR}\t%{INSTALLTIME}\n"
#: characters kept of the package list (a stated truncation the parser refuses, never a short list)
MAX_PACKAGES_OUTPUT = 3000000
#: characters kept of apt's history.log end, and upgrade lines kept of dpkg.log (the newest matter)
LOG_TAIL = 65536
UPGRADE_LINES = 20
FILES = (
    "/etc/os-release",
    "/proc/cpuinfo",
    "/proc/meminfo",
    "/proc/uptime",
    "/run/.containerenv",
    "/run/systemd/container",
)


def tool(name, argv, timeout, **kwargs):
    """The command's result, or ``{missing: name}`` when the tool is not installed."""
    path = which(name)
    if path is None:
        return {"missing": name}
    return command_result([path, *argv], timeout, **kwargs)


def tail(path, max_chars=LOG_TAIL):
    """The last ``max_chars`` characters of a log (whole lines), or None when unreadable."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - max_chars))
            data = handle.read().decode("utf-8", "replace")
    except OSError:
        return None
    if size > max_chars and "\n" in data:
        data = data.split("\n", 1)[1]
    return data


def upgrade_lines(path, keep=UPGRADE_LINES):
    """The last ``keep`` ``upgrade`` lines of a dpkg log as dpkg wrote them ('' if none, None: unreadable)."""
    text = read_text(path, 64 << 20)
    if text is None:
        return None
    lines = [line for line in text.splitlines() if line[20:28] == "upgrade "]
    return "\n".join(lines[-keep:])


def bounded_getfqdn(timeout):
    """socket.getfqdn() in a thread given ``timeout`` seconds: a hung resolver cannot hang the module."""
    out = {}

    def resolve():
        with contextlib.suppress(OSError):
            out["fqdn"] = socket.getfqdn()

    worker = threading.Thread(target=resolve, daemon=True)
    worker.start()
    worker.join(timeout)
    return out.get("fqdn")


def read_btime():
    text = read_text("/proc/stat", 1 << 20)
    if text is None:
        return None
    for line in text.splitlines():
        if line.startswith("btime "):
            return line
    return ""


def read_net():
    """``{name: {address, type}}`` from /sys/class/net (null values when unreadable)."""
    out = {}
    try:
        names = sorted(os.listdir("/sys/class/net"))
    except OSError:
        return None
    for name in names:
        base = os.path.join("/sys/class/net", name)
        out[name] = {
            "address": (read_text(os.path.join(base, "address"), 256) or "").strip() or None,
            "type": (read_text(os.path.join(base, "type"), 64) or "").strip() or None,
        }
    return out


def collect(timeout):
    privileged = os.geteuid() == 0
    commands = {
        "hostname_f": tool("hostname", ["-f"], timeout),
        "uname_r": tool("uname", ["-r"], timeout),
        "uname_m": tool("uname", ["-m"], timeout),
        "detect_virt": tool("systemd-detect-virt", [], timeout),
        "ip_addr": tool("ip", ["-j", "addr", "show"], timeout),
        "lsblk": tool("lsblk", ["-J", "-b", "-o", "NAME,SIZE,TYPE,MODEL,SERIAL"], timeout),
        "findmnt": tool("findmnt", ["-J", "-b", "-o", "TARGET,FSTYPE,SOURCE,SIZE"], timeout),
        "ss": tool("ss", ["-H", "-tulnp"], timeout),
    }
    if commands["findmnt"].get("rc") != 0:
        commands["df"] = tool("df", ["-P", "-T", "-B1"], timeout)
    if which("dpkg-query"):
        commands["dpkg"] = tool(
            "dpkg-query", ["-W", "-f", DPKG_FORMAT], timeout, max_output=MAX_PACKAGES_OUTPUT
        )
    elif which("rpm"):
        commands["rpm"] = tool("rpm", ["-qa", "--qf", RPM_FORMAT], timeout, max_output=MAX_PACKAGES_OUTPUT)
    else:
        commands["packages"] = {"missing": "dpkg-query or rpm"}
    if privileged:
        for keyword, _name in DMI:
            commands["dmidecode_" + keyword] = tool("dmidecode", ["-s", keyword], timeout)

    files = {path: read_text(path, 1 << 20) for path in FILES}
    if files["/etc/os-release"] is None:  # os-release(5): /etc first, /usr/lib the vendor's fallback
        files["/usr/lib/os-release"] = read_text("/usr/lib/os-release", 1 << 20)
    files["/proc/stat:btime"] = read_btime()
    files["/.dockerenv"] = "" if os.path.exists("/.dockerenv") else None
    for _keyword, name in DMI:
        path = "/sys/class/dmi/id/" + name
        files[path] = read_text(path, 4096)
    for path in ("/var/log/dpkg.log", "/var/log/dpkg.log.1"):
        files[path + ":upgrade"] = upgrade_lines(path)
        if files[path + ":upgrade"]:
            break
    files["/var/log/apt/history.log"] = tail("/var/log/apt/history.log")
    fqdn = bounded_getfqdn(timeout)
    return {
        "schema": SCHEMA,
        "collected_at": utc_now(),
        "system": os.uname().sysname,
        "privileged": privileged,
        "nodename": os.uname().nodename,
        "utc_offset_seconds": int(time.localtime().tm_gmtoff),
        "getfqdn": fqdn,
        "commands": commands,
        "files": files,
        "net": read_net(),
    }


def main():
    module = AnsibleModule(
        argument_spec={"command_timeout": {"type": "float", "default": 30.0}},
        supports_check_mode=True,
    )
    if os.uname().sysname != "Linux":
        module.exit_json(changed=False, linux_assets={"schema": SCHEMA, "system": os.uname().sysname})
    module.exit_json(changed=False, linux_assets=collect(module.params["command_timeout"]))


if __name__ == "__main__":
    main()
