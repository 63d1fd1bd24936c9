#!/usr/bin/python
# Runs on the managed host with the host's python3 (3.8+), standard library only.
"""Collect the raw state the linux_health role judges, in one call, changing nothing."""

DOCUMENTATION = r"""
---
module: linux_health_facts
short_description: Collect Linux host health data (disk, inodes, systemd, time, uptime, SMART, errors)
description:
  - Reads the state of a Linux host in one call and returns it as JSON under the key C(linux_health) for the
    C(linux_health) evaluator to judge (controls C(HEALTH-LNX-01), C(HEALTH-LNX-02), C(HEALTH-LNX-04) to
    C(HEALTH-LNX-08)). A pending reboot is judged once, by C(linux_patching) (PATCH-LNX-04), from the probes
    of M(maint.core.linux_patching_facts); this module no longer reads them.
  - Changes nothing on the host; always returns C(changed=false) and runs the same in check mode.
  - Every probe reports C(available=false) and a C(reason) when it cannot run (no systemd as PID 1, no
    installed kernel image in a container, a hung network mount) instead of failing the module.
  - "Filesystems: read from C(/proc/mounts). Pseudo filesystems (proc, sysfs, cgroup, devtmpfs, ...),
    anything mounted under C(/proc), C(/sys), C(/run/user) or C(/run/credentials), read-only images that
    are full by design (squashfs, iso9660) and mounts under container runtime storage
    (C(/var/lib/docker), C(/var/lib/containers), C(/run/containerd), C(/var/lib/kubelet/pods), C(/snap))
    are skipped. C(tmpfs) is kept because a full C(/run) or C(/tmp) breaks services; an C(overlay) root
    (containers) is kept. Bind mounts and stacked mounts of one filesystem are reported once, with the
    other mount points in C(other_mounts); single files bind-mounted into a container are skipped."
  - "Network filesystems are measured with a time limit (O(statvfs_timeout)) so a hung NFS server cannot
    hang the run; such a mount is reported with an C(error)."
  - "Disk health (SMART): C(smartctl --scan -j) lists the disks, then C(smartctl -j -a -d TYPE DEVICE) per
    disk (at most O(smart_max_disks)); each disk's JSON is returned as smartctl printed it. No smartctl, or
    no disk found (VMs, containers), gives C(available=false) and the reason. Reading SMART needs root."
  - "Error events: C(journalctl -p err --since -24h -o json --output-fields=PRIORITY) counted line by line
    (one entry per line), at most 100000 entries (C(-n)), within O(command_timeout). No journalctl, no
    C(*.journal) file under C(/var/log/journal) or C(/run/log/journal) (journalctl then prints nothing, which
    is not "no errors"), or a journal this user may not read (not root, not in C(systemd-journal)) gives
    C(available=false) and the reason."
  - "Time synchronisation: the kernel's own view (C(adjtimex), what C(timedatectl) reports as
    NTPSynchronized), refined by C(chronyc tracking) or C(timedatectl show) when those answer."
version_added: "0.1.0"
author:
  - maint project
options:
  statvfs_timeout:
    description:
      - Seconds to wait for C(statvfs) on a network filesystem (nfs, cifs, sshfs, ...) before reporting it as
        hung.
    type: float
    default: 5.0
  command_timeout:
    description:
      - Seconds allowed for each helper command (C(systemctl), C(timedatectl), C(chronyc), C(smartctl)).
    type: float
    default: 30.0
  smart:
    description:
      - Whether to read SMART data with C(smartctl) (HEALTH-LNX-07).
    type: bool
    default: true
  smart_max_disks:
    description:
      - Most disks read with C(smartctl) per host; the rest are listed as skipped.
    type: int
    default: 32
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
    description: Linux only; elsewhere it returns C(system) so the role's preflight can refuse the host.
notes:
  - Needs no root for most probes; reading SMART data needs root.
  - Standard library only, so it runs on any host with python3.
seealso:
  - module: ansible.builtin.setup
"""

EXAMPLES = r"""
- name: HEALTH-LNX-01..07 | AUDIT | Collect host health data
  maint.core.linux_health_facts:
  register: linux_health_raw

- name: Collect with a longer limit for slow NFS servers
  maint.core.linux_health_facts:
    statvfs_timeout: 15
  register: linux_health_raw
"""

RETURN = r"""
linux_health:
  description: Raw health data, the input of the C(linux_health) evaluator.
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
      sample: "2025-11-27T02:40:12Z"
    system:
      description: Operating system kernel name as reported by C(uname -s).
      type: str
      sample: Linux
    hostname:
      description: The host's node name.
      type: str
      sample: web01
    kernel:
      description: Running kernel release (C(uname -r)).
      type: str
      sample: 6.1.0-21-amd64
    os:
      description: Fields of C(/etc/os-release).
      type: dict
      sample:
        available: true
        id: debian
        id_like: ""
        version_id: "12"
        pretty_name: Debian GNU/Linux 12 (bookworm)
    uptime:
      description: Seconds since boot from C(/proc/uptime).
      type: dict
      sample: {"available": true, "seconds": 8123456.7}
    filesystems:
      description: Mounted filesystems with space and inode counts.
      type: dict
      contains:
        available:
          description: Whether C(/proc/mounts) could be read.
          type: bool
          sample: true
        items:
          description: One entry per filesystem; C(error) set (and no counts) when it could not be measured.
          type: list
          elements: dict
          sample:
            - mount: /
              device: /dev/vda
              fstype: ext4
              readonly: false
              network: false
              size_bytes: 105089261568
              used_bytes: 41322168320
              avail_bytes: 58377084928
              inodes_total: 6553600
              inodes_used: 512331
              other_mounts: []
        skipped:
          description: Number of mounts skipped, by reason.
          type: dict
          sample: {pseudo: 15, runtime: 1, image: 0, container_storage: 0, duplicate: 1, file_bind: 0}
    systemd:
      description: Failed systemd units.
      type: dict
      sample:
        available: true
        system_state: degraded
        failed_units:
          - unit: nginx.service
            load: loaded
            active: failed
            sub: failed
            description: A high performance web server and a reverse proxy server
    time_sync:
      description: Clock synchronisation state.
      type: dict
      sample:
        available: true
        synchronized: true
        source: chronyc
        ntp_service: chronyd
        kernel: {available: true, synchronized: true, maxerror_us: 12000, status_unsync: true}
        chronyc:
          available: true
          synchronized: true
          leap_status: Normal
          reference: C0000210 (192.0.2.16)
          stratum: "3"
          offset_seconds: 0.000012
        timedatectl: {available: true, synchronized: true, ntp_enabled: true, timezone: Europe/Paris}
    journal:
      description: Journal entries of priority err or worse in the last C(hours) hours.
      type: dict
      sample: {available: true, count: 12, hours: 24, truncated: false, max_entries: 100000}
    smart:
      description: C(smartctl -j -a) output of each disk C(smartctl --scan -j) found, unchanged.
      type: dict
      sample:
        available: true
        scanned: 1
        disks:
          - smartctl: {version: [7, 3], exit_status: 0}
            device: {name: /dev/nvme0, type: nvme, protocol: NVMe}
            smart_status: {passed: true, nvme: {value: 0}}
            nvme_smart_health_information_log: {critical_warning: 0, media_errors: 0, percentage_used: 3}
"""

import json
import os
import platform
import re
import shutil
import socket
import stat
import subprocess
import threading

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.maint.core.plugins.module_utils.commands import run, which
from ansible_collections.maint.core.plugins.module_utils.files import read_os_release, read_text
from ansible_collections.maint.core.plugins.module_utils.probes import first_line, probe, unavailable, utc_now

SCHEMA = 1

# Filesystems with no disk behind them, or whose numbers mean nothing to a technician.
PSEUDO_FSTYPES = frozenset(
    (
        "autofs",
        "binfmt_misc",
        "bpf",
        "cgroup",
        "cgroup2",
        "configfs",
        "debugfs",
        "devpts",
        "devtmpfs",
        "efivarfs",
        "fusectl",
        "fuse.gvfsd-fuse",
        "fuse.lxcfs",
        "fuse.portal",
        "hugetlbfs",
        "mqueue",
        "nsfs",
        "proc",
        "pstore",
        "ramfs",
        "rpc_pipefs",
        "securityfs",
        "selinuxfs",
        "sysfs",
        "tracefs",
    )
)
# Read-only images: always 100 % used by design.
IMAGE_FSTYPES = frozenset(("squashfs", "iso9660", "udf", "erofs", "cramfs"))
NETWORK_FSTYPES = frozenset(
    (
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "fuse.sshfs",
        "sshfs",
        "glusterfs",
        "fuse.glusterfs",
        "ceph",
        "9p",
    )
)
# Runtime storage: per-container mounts that repeat the host's own filesystems.
CONTAINER_STORAGE_PREFIXES = (
    "/var/lib/docker/",
    "/var/lib/containers/",
    "/run/containerd/",
    "/run/docker/",
    "/var/lib/kubelet/pods/",
    "/run/k3s/",
    "/snap/",
)

# journalctl -p err: the fixed window the count covers (the same every run, so runs compare) and its cap
JOURNAL_HOURS = 24
JOURNAL_MAX_ENTRIES = 100000
JOURNAL_DIRS = ("/var/log/journal", "/run/log/journal")
# what journalctl prints when it cannot show the system journal to this user
JOURNAL_DENIED = ("insufficient permissions", "not seeing messages from other users", "no journal files")

# Kernel interfaces and per-session scratch space: never a disk a technician frees.
RUNTIME_PREFIXES = ("/proc/", "/sys/", "/run/user/", "/run/credentials/")
SYNC_MAXERROR_US = 16000000  # the kernel's NTP_PHASE_LIMIT; systemd's NTPSynchronized uses the same bound
STA_UNSYNC = 0x0040


def unescape_mount(field):
    """/proc/mounts escapes space, tab, newline and backslash as octal."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


# ---------------------------------------------------------------- identity


def read_uptime():
    text = read_text("/proc/uptime")
    try:
        return {"available": True, "seconds": float((text or "").split()[0])}
    except (ValueError, IndexError):
        return unavailable(f"cannot read /proc/uptime: {text!r}" if text else "cannot read /proc/uptime")


# ---------------------------------------------------------------- filesystems


def statvfs_limited(path, timeout):
    """statvfs in a daemon thread so a hung network mount costs ``timeout`` seconds, not the run."""
    box = {}

    def target():
        try:
            box["value"] = os.statvfs(path)
        except OSError as exc:
            box["error"] = exc

    worker = threading.Thread(target=target, name="statvfs", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise OSError(f"statvfs did not answer within {timeout:g}s (hung network mount?)")
    if "error" in box:
        raise box["error"]
    return box["value"]


def measure(mount, network, timeout):
    st = statvfs_limited(mount, timeout) if network else os.statvfs(mount)
    frsize = st.f_frsize or st.f_bsize
    return {
        "size_bytes": st.f_blocks * frsize,
        "used_bytes": (st.f_blocks - st.f_bfree) * frsize,
        "avail_bytes": st.f_bavail * frsize,
        "inodes_total": st.f_files,
        "inodes_used": max(st.f_files - st.f_ffree, 0),
    }


def read_filesystems(statvfs_timeout, mounts_file="/proc/mounts"):
    try:
        with open(mounts_file) as handle:
            lines = handle.read().splitlines()
    except OSError as exc:
        return unavailable(f"cannot read {mounts_file}: {exc}")

    skipped = {"pseudo": 0, "image": 0, "container_storage": 0, "duplicate": 0, "file_bind": 0, "runtime": 0}
    by_mount = {}  # later lines win: a mount stacked on the same point hides the earlier one
    for line in lines:
        fields = line.split()
        if len(fields) < 4:
            continue
        device, mount, fstype, options = (unescape_mount(f) for f in fields[:4])
        if fstype in PSEUDO_FSTYPES:
            skipped["pseudo"] += 1
            continue
        if fstype in IMAGE_FSTYPES:
            skipped["image"] += 1
            continue
        if mount.startswith(RUNTIME_PREFIXES):
            skipped["runtime"] += 1
            continue
        if mount.startswith(CONTAINER_STORAGE_PREFIXES):
            skipped["container_storage"] += 1
            continue
        if mount in by_mount:
            skipped["duplicate"] += 1
        by_mount[mount] = {
            "mount": mount,
            "device": device,
            "fstype": fstype,
            "readonly": "ro" in options.split(","),
            "network": fstype in NETWORK_FSTYPES or fstype.startswith("nfs"),
        }

    items = []
    seen_dev = {}  # st_dev -> item: bind mounts of one filesystem are one filesystem
    for mount in sorted(by_mount, key=lambda m: (m.count("/") if m != "/" else 0, m)):
        entry = by_mount[mount]
        entry["other_mounts"] = []
        dev = None
        if not entry["network"]:
            try:
                st = os.stat(mount)
            except OSError:
                st = None
            if st is not None and not stat.S_ISDIR(st.st_mode):
                # a single file bind-mounted in (a container's /etc/hosts): its filesystem is the host's
                skipped["file_bind"] += 1
                continue
            dev = st.st_dev if st is not None else None
        if dev is not None and dev in seen_dev:
            first = seen_dev[dev]
            if first["device"] == entry["device"] and first["fstype"] == entry["fstype"]:
                first["other_mounts"].append(mount)
                skipped["duplicate"] += 1
                continue
        try:
            entry.update(measure(mount, entry["network"], statvfs_timeout))
        except OSError as exc:
            entry["error"] = f"statvfs failed: {exc.strerror or exc}"
        if dev is not None:
            seen_dev[dev] = entry
        items.append(entry)
    return {"available": True, "items": items, "skipped": skipped}


# ---------------------------------------------------------------- systemd


def pid1_name():
    return (read_text("/proc/1/comm") or "").strip() or "unknown"


def read_systemd(timeout):
    if not shutil.which("systemctl"):
        return unavailable("systemctl is not installed")
    if not os.path.isdir("/run/systemd/system"):
        return unavailable(f"systemd is not the init system (PID 1 is {pid1_name()})")
    argv = ["systemctl", "list-units", "--state=failed", "--no-legend", "--plain", "--no-pager"]
    try:
        rc, out, err = run(argv, timeout)
    except (OSError, subprocess.SubprocessError) as exc:
        return unavailable(f"systemctl list-units could not run: {exc}")
    if rc != 0:
        return unavailable(f"systemctl list-units exited {rc}: {first_line(err)}")
    units = []
    unparsed = []
    for line in out.splitlines():
        fields = line.replace("\u25cf", " ").split(None, 4)  # older systemd prints a bullet even with --plain
        if len(fields) < 4:
            if line.strip():
                unparsed.append(line[:300])  # the evaluator refuses to judge what it was not shown
            continue
        units.append(
            {
                "unit": fields[0],
                "load": fields[1],
                "active": fields[2],
                "sub": fields[3],
                "description": fields[4] if len(fields) > 4 else "",
            }
        )
    state = ""
    try:
        _rc, state_out, _err = run(["systemctl", "is-system-running"], timeout)
        state = first_line(state_out)
    except (OSError, subprocess.SubprocessError):
        pass
    return {"available": True, "system_state": state, "failed_units": units, "unparsed": unparsed}


# ---------------------------------------------------------------- time


def read_kernel_clock():
    """The kernel's NTP state via adjtimex(2) in read-only mode (modes=0): needs no privilege or daemon."""
    try:
        import ctypes

        class Timeval(ctypes.Structure):
            _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]

        class Timex(ctypes.Structure):
            _fields_ = [
                ("modes", ctypes.c_uint),
                ("offset", ctypes.c_long),
                ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long),
                ("esterror", ctypes.c_long),
                ("status", ctypes.c_int),
                ("constant", ctypes.c_long),
                ("precision", ctypes.c_long),
                ("tolerance", ctypes.c_long),
                ("time", Timeval),
                ("tick", ctypes.c_long),
                ("ppsfreq", ctypes.c_long),
                ("jitter", ctypes.c_long),
                ("shift", ctypes.c_int),
                ("stabil", ctypes.c_long),
                ("jitcnt", ctypes.c_long),
                ("calcnt", ctypes.c_long),
                ("errcnt", ctypes.c_long),
                ("stbcnt", ctypes.c_long),
                ("tai", ctypes.c_int),
                ("padding", ctypes.c_int * 11),
            ]

        libc = ctypes.CDLL(None, use_errno=True)
        tx = Timex()
        state = libc.adjtimex(ctypes.byref(tx))
        if state < 0:
            return unavailable(f"adjtimex failed: {os.strerror(ctypes.get_errno())}")
    except (OSError, AttributeError, ImportError) as exc:
        return unavailable(f"adjtimex is not callable: {exc}")
    return {
        "available": True,
        "synchronized": tx.maxerror < SYNC_MAXERROR_US,
        "maxerror_us": int(tx.maxerror),
        "status_unsync": bool(tx.status & STA_UNSYNC),
    }


def read_chrony(timeout):
    if not shutil.which("chronyc"):
        return unavailable("chronyc is not installed")
    try:
        rc, out, err = run(["chronyc", "-n", "tracking"], timeout)
    except (OSError, subprocess.SubprocessError) as exc:
        return unavailable(f"chronyc tracking could not run: {exc}")
    fields = {}
    for line in out.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    if rc != 0 or "Leap status" not in fields:
        return unavailable(f"chronyd did not answer: {first_line(err) or first_line(out)}")
    offset = None
    match = re.match(r"([0-9.]+) seconds (fast|slow)", fields.get("System time", ""))
    if match:
        offset = float(match.group(1)) * (1 if match.group(2) == "fast" else -1)
    return {
        "available": True,
        "synchronized": fields["Leap status"] != "Not synchronised",
        "leap_status": fields["Leap status"],
        "reference": fields.get("Reference ID", ""),
        "stratum": fields.get("Stratum", ""),
        "offset_seconds": offset,
    }


def read_timedatectl(timeout):
    if not shutil.which("timedatectl"):
        return unavailable("timedatectl is not installed")
    try:
        rc, out, err = run(["timedatectl", "show"], timeout)
    except (OSError, subprocess.SubprocessError) as exc:
        return unavailable(f"timedatectl show could not run: {exc}")
    props = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    if rc != 0 or "NTPSynchronized" not in props:
        return unavailable(f"timedatectl show failed: {first_line(err) or first_line(out)}")
    return {
        "available": True,
        "synchronized": props["NTPSynchronized"] == "yes",
        "ntp_enabled": props.get("NTP") == "yes",
        "timezone": props.get("Timezone", ""),
    }


def read_time_sync(timeout):
    kernel = read_kernel_clock()
    chrony = read_chrony(timeout)
    timedatectl = read_timedatectl(timeout)
    timesyncd = "systemd-timesyncd" if os.path.isdir("/run/systemd/timesync") else ""
    out = {"kernel": kernel, "chronyc": chrony, "timedatectl": timedatectl}
    if chrony["available"]:
        out.update(
            available=True, synchronized=chrony["synchronized"], source="chronyc", ntp_service="chronyd"
        )
    elif timedatectl["available"]:
        out.update(
            available=True,
            synchronized=timedatectl["synchronized"],
            source="timedatectl",
            ntp_service=timesyncd or ("enabled" if timedatectl["ntp_enabled"] else ""),
        )
    elif kernel["available"]:
        out.update(available=True, synchronized=kernel["synchronized"], source="kernel", ntp_service="")
    else:
        out.update(
            available=False,
            reason=(
                f"no source answered: chronyc: {chrony['reason']}; "
                f"timedatectl: {timedatectl['reason']}; kernel: {kernel['reason']}"
            ),
        )
    return out


# ---------------------------------------------------------------- journal


def journal_files(dirs=None):
    """Whether journald stores anything here: a ``*.journal`` file in a machine folder of a journal dir."""
    for base in dirs or JOURNAL_DIRS:
        try:
            machines = os.listdir(base)
        except OSError:
            continue
        for machine in machines:
            try:
                if any(n.endswith(".journal") for n in os.listdir(os.path.join(base, machine))):
                    return True
            except OSError:
                continue
    return False


def read_journal(timeout):
    tool = which("journalctl")
    if tool is None:
        return unavailable("journalctl is not installed (no systemd journal)")
    if not journal_files():
        # journalctl prints nothing and exits 0 when there is no journal at all: that is not "no errors"
        return unavailable(f"no journal files under {' or '.join(JOURNAL_DIRS)} (journald not running)")
    argv = [
        tool,
        "--quiet",
        "--no-pager",
        "--priority=err",
        f"--since=-{JOURNAL_HOURS}h",
        "--output=json",
        "--output-fields=PRIORITY",
        f"--lines={JOURNAL_MAX_ENTRIES}",
    ]
    try:
        rc, out, err = run(argv, timeout)
    except subprocess.TimeoutExpired:
        return unavailable(f"journalctl -p err did not finish within {timeout:g}s")
    except OSError as exc:
        return unavailable(f"journalctl could not run: {exc}")
    text = (err or "").lower()
    denied = [d for d in JOURNAL_DENIED if d in text]
    if denied:
        return unavailable(f"journalctl cannot read the system journal: {first_line(err)}")
    if rc != 0:
        return unavailable(f"journalctl -p err exited {rc}: {first_line(err)}")
    count = 0
    for line in out.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            return unavailable(f"journalctl printed a line that is not JSON: {line[:120]}")
        if isinstance(entry, dict):
            count += 1
    return {
        "available": True,
        "count": count,
        "hours": JOURNAL_HOURS,
        "truncated": count >= JOURNAL_MAX_ENTRIES,
        "max_entries": JOURNAL_MAX_ENTRIES,
    }


# ---------------------------------------------------------------- SMART


def read_smart(timeout, max_disks):
    tool = which("smartctl")
    if tool is None:
        return unavailable("smartctl is not installed (smartmontools)")
    try:
        _rc, out, _err = run([tool, "--scan", "-j"], timeout)
        scan = json.loads(out)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        return unavailable(f"smartctl --scan -j failed: {exc}")
    devices = [d for d in scan.get("devices", []) if isinstance(d, dict) and d.get("name")]
    if not devices:
        return unavailable("smartctl --scan found no disk (a VM or container has no SMART-capable disk)")
    disks = []
    for dev in devices[:max_disks]:
        argv = [tool, "-j", "-a", dev["name"]]
        if dev.get("type"):
            argv[3:3] = ["-d", dev["type"]]
        try:
            _rc, out, _err = run(argv, timeout)
            doc = json.loads(out)
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            doc = {
                "smartctl": {"exit_status": 2, "messages": [{"string": f"{' '.join(argv)}: {exc}"}]},
                "device": {"name": dev["name"], "type": dev.get("type", "")},
            }
        disks.append(doc)
    return {
        "available": True,
        "scanned": len(devices),
        "skipped": max(len(devices) - max_disks, 0),
        "disks": disks,
    }


# ---------------------------------------------------------------- main


def collect(statvfs_timeout, command_timeout, smart=True, smart_max_disks=32):
    uname = os.uname()
    os_release = probe("os-release", read_os_release)
    data = {
        "schema": SCHEMA,
        "collected_at": utc_now(),
        "system": platform.system(),
        "hostname": socket.gethostname() or uname.nodename,
        "kernel": uname.release,
        "os": os_release,
    }
    if data["system"] != "Linux":
        reason = "not a Linux system ({})".format(data["system"])
        for key in ("uptime", "filesystems", "systemd", "time_sync", "smart", "journal"):
            data[key] = unavailable(reason)
        return data
    data["uptime"] = probe("uptime", read_uptime)
    data["filesystems"] = probe("filesystems", read_filesystems, statvfs_timeout)
    data["systemd"] = probe("systemd", read_systemd, command_timeout)
    data["time_sync"] = probe("time sync", read_time_sync, command_timeout)
    if smart:
        data["smart"] = probe("smart", read_smart, command_timeout, smart_max_disks)
    else:
        data["smart"] = unavailable("SMART reading switched off (linux_health_smart: false)")
    data["journal"] = probe("journal", read_journal, command_timeout)
    return data


def main():
    module = AnsibleModule(
        argument_spec={
            "statvfs_timeout": {"type": "float", "default": 5.0},
            "command_timeout": {"type": "float", "default": 30.0},
            "smart": {"type": "bool", "default": True},
            "smart_max_disks": {"type": "int", "default": 32},
        },
        supports_check_mode=True,
    )
    params = module.params
    data = collect(
        params["statvfs_timeout"], params["command_timeout"], params["smart"], params["smart_max_disks"]
    )
    module.exit_json(changed=False, linux_health=data)


if __name__ == "__main__":
    main()
