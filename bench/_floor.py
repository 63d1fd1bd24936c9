"""The floor of bench/linux_audit.py: what the four Linux collectors do on a host, done directly, no Ansible.

``host_job(args)`` runs, for one host, the commands and file reads of ``linux_health_facts``,
``linux_patching_facts``, ``linux_antivirus_facts`` and ``linux_backup_facts`` (maint.core), in their
order, with their arguments, environment (C locale, ``DEBIAN_FRONTEND=noninteractive``), time limits and
conditions (a tool is run only when the collector would find it; a file is read the way the collector
reads it: whole, capped or its 512-byte header). ``args`` holds each collector's module arguments as the
role passes them (bench/linux_audit.py resolves them from the role's task and defaults). The parsing of
the outputs is left out where it decides nothing about what runs next: the floor is the cost of looking,
which no orchestration can remove. tests/test_bench_floor.py checks, with Python's audit hooks, that the
floor starts the same commands and opens the same files as the collectors on this machine.

Standard library only: the pool workers import nothing of Ansible.
"""

from __future__ import annotations

import contextlib
import ctypes
import fnmatch
import glob
import gzip
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

# module_utils/commands.py
C_ENV = {"LC_ALL": "C", "LANG": "C", "SYSTEMD_COLORS": "0", "SYSTEMD_PAGER": "cat", "PAGER": "cat"}
SBIN_DIRS = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")
OS_RELEASE_FILES = ("/etc/os-release", "/usr/lib/os-release")

#: each collector's module defaults (its argument_spec), under what the role passes
DEFAULTS: dict[str, dict[str, Any]] = {
    "linux_health_facts": {
        "statvfs_timeout": 5.0,
        "command_timeout": 30.0,
        "smart": True,
        "smart_max_disks": 32,
    },
    "linux_patching_facts": {
        "refresh_cache": True,
        "command_timeout": 300.0,
        "history_entries": 30,
        "versions_of": [],
    },
    "linux_antivirus_facts": {
        "database_dir": "",
        "freshclam_conf": "/etc/clamav/freshclam.conf",
        "scan_log": "",
        "command_timeout": 30.0,
    },
    "linux_backup_facts": {
        "restic_repository": "",
        "restic_repository_file": "",
        "restic_password": "",
        "restic_env": {},
        "restic_binary": "restic",
        "restic_host": "",
        "restic_tags": [],
        "restic_path": "",
        "restic_check": True,
        "restic_read_data_subset": "",
        "restic_restore_path": "",
        "restic_restore_sha256": "",
        "file_sets": [],
        "command_timeout": 1800.0,
    },
}
COLLECTORS = tuple(DEFAULTS)
#: the commands this process started (the bench prints one host's list)
TRACE: list[str] = []


def run(argv: list[str], timeout: float, env: Mapping[str, str] | None = None) -> tuple[int | None, str, str]:
    """module_utils.commands.run: no stdin, C locale, a time limit; (None, '', why) instead of raising."""
    TRACE.append(" ".join(argv))
    full = dict(os.environ)
    full.update(C_ENV)
    full.update(env or {})
    try:
        proc = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            env=full,
            check=False,
            text=True,
        )
    except subprocess.TimeoutExpired:
        return None, "", "timed out"
    except OSError as exc:
        return None, "", str(exc)
    return proc.returncode, proc.stdout, proc.stderr


def which(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in SBIN_DIRS:
        path = os.path.join(folder, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def read_text(path: str, max_chars: int | None = None) -> str | None:
    opener: Callable[..., Any] = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rt", errors="replace") as handle:
            text: str = handle.read() if max_chars is None else handle.read(max_chars)
            return text
    except (OSError, EOFError, ValueError):
        return None


def os_release() -> dict[str, str]:
    for path in OS_RELEASE_FILES:
        text = read_text(path, 65536)
        if text is not None:
            fields = {}
            for line in text.splitlines():
                key, sep, value = line.partition("=")
                if sep and not line.lstrip().startswith("#"):
                    fields[key.strip()] = value.strip().strip("\"'")
            return fields
    return {}


# ---------------------------------------------------------------- linux_health_facts

PSEUDO = frozenset(
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
IMAGES = frozenset(("squashfs", "iso9660", "udf", "erofs", "cramfs"))
NETWORK = frozenset(
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
SKIPPED_PREFIXES = (
    "/proc/",
    "/sys/",
    "/run/user/",
    "/run/credentials/",
    "/var/lib/docker/",
    "/var/lib/containers/",
    "/run/containerd/",
    "/run/docker/",
    "/var/lib/kubelet/pods/",
    "/run/k3s/",
    "/snap/",
)


def statvfs_limited(path: str, timeout: float) -> None:
    worker = threading.Thread(target=os.statvfs, args=(path,), daemon=True)
    worker.start()
    worker.join(timeout)


def filesystems(statvfs_timeout: float) -> None:
    text = read_text("/proc/mounts")
    mounts: dict[str, tuple[str, str, bool]] = {}
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        device, mount, fstype = (re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), f) for f in fields[:3])
        if fstype in PSEUDO or fstype in IMAGES or mount.startswith(SKIPPED_PREFIXES):
            continue
        mounts[mount] = (device, fstype, fstype in NETWORK or fstype.startswith("nfs"))
    seen: set[tuple[int, str, str]] = set()
    for mount in sorted(mounts, key=lambda m: (m.count("/") if m != "/" else 0, m)):
        device, fstype, network = mounts[mount]
        if network:
            statvfs_limited(mount, statvfs_timeout)
            continue
        try:
            st = os.stat(mount)
        except OSError:
            st = None
        if st is not None and not stat.S_ISDIR(st.st_mode):
            continue
        if st is not None and (st.st_dev, device, fstype) in seen:
            continue
        with contextlib.suppress(OSError):
            os.statvfs(mount)
        if st is not None:
            seen.add((st.st_dev, device, fstype))


def adjtimex() -> None:
    buf = ctypes.create_string_buffer(512)  # struct timex, modes=0: read only
    ctypes.CDLL(None).adjtimex(buf)


def journal_files() -> bool:
    for base in ("/var/log/journal", "/run/log/journal"):
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


def health(a: Mapping[str, Any]) -> None:
    timeout = float(a["command_timeout"])
    os.uname()
    os_release()
    socket.gethostname()
    read_text("/proc/uptime")
    filesystems(float(a["statvfs_timeout"]))
    if shutil.which("systemctl"):
        if os.path.isdir("/run/systemd/system"):
            rc, _out, _err = run(
                ["systemctl", "list-units", "--state=failed", "--no-legend", "--plain", "--no-pager"], timeout
            )
            if rc == 0:
                run(["systemctl", "is-system-running"], timeout)
        else:
            read_text("/proc/1/comm")  # the reason names PID 1
    adjtimex()
    if shutil.which("chronyc"):
        run(["chronyc", "-n", "tracking"], timeout)
    if shutil.which("timedatectl"):
        run(["timedatectl", "show"], timeout)
    os.path.isdir("/run/systemd/timesync")
    smartctl = which("smartctl") if a["smart"] else None
    if smartctl:
        _rc, out, _err = run([smartctl, "--scan", "-j"], timeout)
        try:
            scan = json.loads(out)
        except ValueError:
            scan = {}
        devices = [d for d in scan.get("devices", []) if isinstance(d, dict) and d.get("name")]
        for dev in devices[: int(a["smart_max_disks"])]:
            argv = [smartctl, "-j", "-a", dev["name"]]
            if dev.get("type"):
                argv[3:3] = ["-d", dev["type"]]
            run(argv, timeout)
    journalctl = which("journalctl")
    if journalctl and journal_files():
        run(
            [
                journalctl,
                "--quiet",
                "--no-pager",
                "--priority=err",
                "--since=-24h",
                "--output=json",
                "--output-fields=PRIORITY",
                "--lines=100000",
            ],
            timeout,
        )


# ---------------------------------------------------------------- linux_patching_facts

APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "NEEDRESTART_MODE": "l"}


def rotated(path: str) -> list[str]:
    found = [p for p in glob.glob(path + ".*") if re.match(re.escape(path) + r"\.\d+(\.gz)?$", p)]
    found.sort(key=lambda p: int(p[len(path) + 1 :].split(".")[0]))
    return [path, *found]


def newest_mtime(pattern: str) -> None:
    for path in glob.glob(pattern):
        try:
            os.stat(path)
        except OSError:
            continue


def apt_history(limit: int) -> None:
    entries = 0
    upgraded = False
    for path in rotated("/var/log/apt/history.log"):
        text = read_text(path)
        if text is None:
            continue
        blocks = [b for b in re.split(r"\n\s*\n", text) if b.strip().startswith("Start-Date:")]
        entries += len(blocks)
        upgraded = upgraded or any("\nUpgrade:" in b for b in blocks)
        if upgraded and entries >= limit:
            break
    for path in rotated("/var/log/dpkg.log"):
        text = read_text(path)
        if text is not None and any(" upgrade " in line for line in text.splitlines()):
            break


def patching(a: Mapping[str, Any]) -> None:
    timeout = float(a["command_timeout"])
    fields = os_release()
    family = set(" ".join((fields.get("ID", ""), fields.get("ID_LIKE", ""))).split())
    socket.gethostname()
    if {"debian", "ubuntu"} & family and which("apt-get"):
        manager = "apt"
    elif {"rhel", "fedora", "centos"} & family and which("dnf"):
        manager = "dnf"
    else:
        return
    if a["refresh_cache"]:
        run(["apt-get", "-q", "update"] if manager == "apt" else ["dnf", "-q", "makecache"], timeout, APT_ENV)
    newest_mtime(
        "/var/lib/apt/lists/*_Packages*" if manager == "apt" else "/var/cache/dnf/*/repodata/repomd.xml"
    )
    names = list(a["versions_of"])
    if manager == "apt":
        run(["apt-get", "-s", "-o", "Debug::NoLocking=true", "dist-upgrade"], timeout, APT_ENV)
        apt_history(int(a["history_entries"]))
    else:
        _rc, out, _err = run(["dnf", "-q", "-C", "check-update"], timeout, APT_ENV)
        run(["dnf", "-q", "-C", "updateinfo", "list", "--security", "--available"], timeout, APT_ENV)
        run(["dnf", "-q", "history", "list"], timeout, APT_ENV)
        names += [
            ln.split()[0].rsplit(".", 1)[0]
            for ln in out.splitlines()
            if len(ln.split()) == 3 and "." in ln.split()[0]
        ]
    flag = next(
        (p for p in ("/run/reboot-required", "/var/run/reboot-required") if os.path.exists(p)),
        "/run/reboot-required",
    )
    if os.path.exists(flag) or manager == "apt":
        read_text(flag + ".pkgs", 1 << 20)
    restarting = which("needs-restarting")
    if restarting:
        run([restarting, "-r"], timeout, APT_ENV)
    glob.glob("/boot/vmlinu[xz]-*")
    glob.glob("/lib/modules/*/modules.dep")
    glob.glob("/lib/modules/*/vmlinuz")
    needrestart = which("needrestart")
    if needrestart:
        run([needrestart, "-b", "-r", "l"], timeout, APT_ENV)
    elif manager == "dnf" and restarting:
        run([restarting, "-s"], timeout, APT_ENV)
    names = sorted({n for n in names if n and re.match(r"^[A-Za-z0-9][A-Za-z0-9+._:-]*$", n)})
    if names and manager == "apt":
        run(
            ["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${db:Status-Abbrev}\n", *names],
            timeout,
            APT_ENV,
        )
    elif names:
        run(
            ["rpm", "-q", "--qf", "%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\tii\n", *names],
            timeout,
            APT_ENV,
        )


# ---------------------------------------------------------------- linux_antivirus_facts


def conf_value(path: str, key: str) -> str | None:
    for line in (read_text(path, 1 << 20) or "").splitlines():
        fields = line.split(None, 1)
        if len(fields) == 2 and fields[0] == key:
            return fields[1].strip()
    return None


def antivirus(a: Mapping[str, Any]) -> None:
    timeout = float(a["command_timeout"])
    directory = a["database_dir"] or conf_value(a["freshclam_conf"], "DatabaseDirectory") or "/var/lib/clamav"
    socket.gethostname()
    paths = {name: which(name) for name in ("clamscan", "clamd", "freshclam", "clamdscan")}
    tool = paths["clamscan"] or paths["clamd"]
    if tool:
        run([tool, "--version"], timeout)
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        names = []
    for file in names:
        if os.path.splitext(file)[1] in (".cvd", ".cld", ".cud"):
            path = os.path.join(directory, file)
            try:
                with open(path, "rb") as handle:
                    handle.read(512)
                os.path.getsize(path)
            except OSError:
                continue
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        pids = []
    for pid in pids:
        read_text(f"/proc/{pid}/comm")
    if os.path.isdir("/run/systemd/system") and shutil.which("systemctl"):
        for unit in ("clamav-freshclam", "clamav-daemon"):
            for verb in ("is-active", "is-enabled"):
                run(["systemctl", verb, unit + ".service"], timeout)
    if a["scan_log"]:
        try:
            with open(a["scan_log"], "rb") as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(handle.tell() - (1 << 20), 0))
                handle.read()
        except OSError:
            pass


# ---------------------------------------------------------------- linux_backup_facts


def restic(a: Mapping[str, Any]) -> None:
    env = dict(a["restic_env"] or {})
    repository = a["restic_repository"] or str(env.get("RESTIC_REPOSITORY") or "")
    path = str(a["restic_repository_file"] or env.get("RESTIC_REPOSITORY_FILE") or "")
    if not repository and path:
        try:
            with open(path, "rb") as handle:
                repository = handle.read(4096).decode("utf-8", "replace").strip()
        except OSError:
            return
    if not repository:
        return
    binary = which(a["restic_binary"])
    scheme = repository.split(":", 1)[0]
    remote = ":" in repository and scheme in ("sftp", "rest", "s3", "gs", "azure", "b2", "swift", "rclone")
    if not remote:
        os.path.realpath(repository.removeprefix("local:"))
        read_text("/proc/self/mountinfo")
    if binary is None or not a["restic_password"]:
        return
    full = dict(os.environ)
    full.update({str(k): str(v) for k, v in env.items()})
    full.update({"RESTIC_PASSWORD": a["restic_password"], "RESTIC_REPOSITORY": repository, "LC_ALL": "C"})
    for name in ("RESTIC_PASSWORD_FILE", "RESTIC_PASSWORD_COMMAND", "RESTIC_REPOSITORY_FILE"):
        full.pop(name, None)

    def restic_run(args: list[str]) -> tuple[int, bytes]:
        TRACE.append(" ".join([a["restic_binary"], "--no-cache", *args]))
        proc = subprocess.run(
            [binary, "--no-cache", *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=float(a["command_timeout"]),
            env=full,
            check=False,
        )
        return proc.returncode, proc.stdout

    try:
        restic_run(["version"])
        args = ["snapshots", "--json", "--host", a["restic_host"] or socket.gethostname()]
        for tag in a["restic_tags"]:
            args += ["--tag", tag]
        if a["restic_path"]:
            args += ["--path", a["restic_path"]]
        rc, out = restic_run(args)
        if rc != 0:
            return
        snapshots = json.loads(out or b"[]") or []
        latest = max(
            (s for s in snapshots if isinstance(s, dict) and s.get("time")),
            key=lambda s: s["time"],
            default=None,
        )
        if a["restic_check"]:
            check = ["check"]
            if a["restic_read_data_subset"]:
                check.append("--read-data-subset=" + a["restic_read_data_subset"])
            restic_run(check)
        restore = a["restic_restore_path"]
        if restore and latest is not None:
            rc, _data = restic_run(["dump", latest["id"], restore])
            if rc == 0 and not a["restic_restore_sha256"] and os.path.exists(restore):
                with open(restore, "rb") as handle:
                    while handle.read(1 << 20):
                        pass
                restic_run(["ls", "--json", latest["id"], restore])
    except (subprocess.TimeoutExpired, ValueError):
        return


def backup(a: Mapping[str, Any]) -> None:
    restic(a)
    for spec in a["file_sets"]:
        path = str(spec.get("path") or "")
        pattern = str(spec.get("pattern") or "*")
        if not os.path.isdir(path):
            continue
        try:
            walker = os.walk(path) if spec.get("recurse") else [(path, [], os.listdir(path))]
            for root, _dirs, files in walker:
                for file in files:
                    if fnmatch.fnmatch(file, pattern):
                        try:
                            os.stat(os.path.join(root, file))
                        except OSError:
                            continue
        except OSError:
            continue
    socket.gethostname()


# ---------------------------------------------------------------- per host, per fleet

STEPS: dict[str, Callable[[Mapping[str, Any]], None]] = {
    "linux_health_facts": health,
    "linux_patching_facts": patching,
    "linux_antivirus_facts": antivirus,
    "linux_backup_facts": backup,
}


def with_defaults(args: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each collector's arguments: the module's defaults under what the role passes."""
    return {name: {**DEFAULTS[name], **dict(args.get(name) or {})} for name in COLLECTORS}


def host_job(args: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One host: the four collectors' commands and reads, in the roles' order; the commands it started."""
    del TRACE[:]
    full = with_defaults(args)
    for name in COLLECTORS:
        STEPS[name](full[name])
    return list(TRACE)


def fleet(args: Mapping[str, Mapping[str, Any]], hosts: int, forks: int) -> tuple[float, list[str]]:
    """Wall seconds of ``hosts`` host jobs on a pool of ``forks`` forked workers (Ansible's forks), and
    the commands the first host's job started."""
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=min(forks, hosts), mp_context=get_context("fork")) as pool:
        commands = list(pool.map(host_job, [args] * hosts))
    return time.perf_counter() - start, commands[0]
