#!/usr/bin/python
# Runs on the managed host with the host's python3 (3.8+), standard library only.
"""Collect the ClamAV state the linux_antivirus role judges, in one call, changing nothing."""

DOCUMENTATION = r"""
---
module: linux_antivirus_facts
short_description: Collect ClamAV state (engine, signature databases, services, last scan)
description:
  - Reads the ClamAV installation of a Linux host in one call and returns it as JSON under the key
    C(linux_antivirus) for the C(clamav) evaluator (controls C(AV-LNX-01) to C(AV-LNX-06)).
  - "Signature databases: the 512-byte text header of each C(.cvd), C(.cld) and C(.cud) file in the database
    directory (C(ClamAV-VDB:build time:version:signatures:functionality level:md5:signature:builder:build
    epoch)). The build time is the database's own, read from the header, never the file's mtime, which
    only says when it was copied."
  - "Services: with systemd as init, C(systemctl is-active) and C(is-enabled) of C(clamav-freshclam) and
    C(clamav-daemon); without it (containers), whether a C(freshclam) or C(clamd) process runs."
  - "Last scan: the last C(----------- SCAN SUMMARY -----------) block of the scan log written by
    C(clamscan --log) or C(clamdscan --log), with its C(End Date) (local time of the host, converted to epoch
    here) and infected file count."
  - Changes nothing; always returns C(changed=false) and runs the same in check mode.
version_added: "0.1.0"
author:
  - maint project
options:
  database_dir:
    description:
      - Signature database directory. Empty means C(DatabaseDirectory) of O(freshclam_conf), else
        C(/var/lib/clamav).
    type: str
    default: ""
  freshclam_conf:
    description: Path of C(freshclam.conf).
    type: str
    default: /etc/clamav/freshclam.conf
  scan_log:
    description:
      - Log file that scheduled scans append to (C(clamscan -i -r --log=FILE /)). Empty means no scan log is
        configured and the last-scan controls are not judged.
    type: str
    default: ""
  command_timeout:
    description: Seconds allowed for each helper command (C(clamscan --version), C(systemctl)).
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
notes:
  - Standard library only; needs read access to the database directory and the scan log.
"""

EXAMPLES = r"""
- name: AV-LNX-01..06 | AUDIT | Collect ClamAV state
  maint.core.linux_antivirus_facts:
    scan_log: /var/log/clamav/scan.log
  register: linux_antivirus_raw
"""

RETURN = r"""
linux_antivirus:
  description: Raw ClamAV state, the input of the C(clamav) evaluator.
  returned: always
  type: dict
  contains:
    schema:
      description: Version of this data layout.
      type: int
      sample: 1
    collected_epoch:
      description: Host time of collection, seconds since the epoch; ages are measured from it.
      type: int
      sample: 1795748005
    engine:
      description: ClamAV programs found and the engine version.
      type: dict
      sample: {available: true, version: 1.4.3, clamscan: /usr/bin/clamscan, clamd: /usr/sbin/clamd,
               freshclam: /usr/bin/freshclam}
    database:
      description: Signature database files and their header fields.
      type: dict
      sample:
        available: true
        directory: /var/lib/clamav
        files:
          - {name: daily, file: daily.cld, version: 27400, signatures: 2067283, functionality_level: 90,
             build_time: 1727341260, build_time_text: "26 Sep 2024 09-01 +0000", size: 60000000}
        invalid: []
    services:
      description: Whether freshclam and clamd run.
      type: dict
      sample:
        init: systemd
        units:
          clamav-freshclam: {active: active, enabled: enabled}
          clamav-daemon: {active: inactive, enabled: disabled}
        processes: {freshclam: true, clamd: false}
    scan_log:
      description: The last scan summary of the configured scan log.
      type: dict
      sample:
        configured: true
        path: /var/log/clamav/scan.log
        available: true
        last_scan: {end_epoch: 1795747800, end_text: "2026:11:27 02:50:00", infected: 0, scanned_files: 1234}
"""

import os
import re
import shutil
import socket
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.maint.core.plugins.module_utils.commands import run, which
from ansible_collections.maint.core.plugins.module_utils.files import read_text
from ansible_collections.maint.core.plugins.module_utils.probes import probe, unavailable, utc_now

SCHEMA = 1
DEFAULT_DB_DIR = "/var/lib/clamav"
DB_SUFFIXES = (".cvd", ".cld", ".cud")
MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1
    )
}
UNITS = ("clamav-freshclam", "clamav-daemon")
PROCESSES = ("freshclam", "clamd")
SUMMARY = "----------- SCAN SUMMARY -----------"
SESSION = "\n" + "-" * 79 + "\n"  # clamscan --log starts every run with this line
TAIL_BYTES = 1 << 20


def conf_value(path, key):
    """The value of ``Key value`` in a ClamAV configuration file (first one wins), or None."""
    for line in (read_text(path, 1 << 20) or "").splitlines():
        fields = line.split(None, 1)
        if len(fields) == 2 and fields[0] == key:
            return fields[1].strip()
    return None


# ---------------------------------------------------------------- engine


def read_engine(timeout):
    paths = {name: which(name) for name in ("clamscan", "clamd", "freshclam", "clamdscan")}
    out = {"available": bool(paths["clamscan"] or paths["clamd"])}
    out.update(paths)
    if not out["available"]:
        out["reason"] = "neither clamscan nor clamd is installed"
        return out
    tool = paths["clamscan"] or paths["clamd"]
    try:
        _rc, stdout, stderr = run([tool, "--version"], timeout)
    except (OSError, subprocess.SubprocessError) as exc:
        out["version_error"] = str(exc)
        return out
    # "ClamAV 1.4.3/27800/Wed Nov 26 21:55:29 2026": the engine, then the daily database it loads
    match = re.search(r"ClamAV ([0-9][^/\s]*)(?:/(\d+))?", stdout + stderr)
    out["version"] = match.group(1) if match else ""
    if match and match.group(2):
        out["daily_version"] = int(match.group(2))
    return out


# ---------------------------------------------------------------- databases


def parse_build_time(text):
    """'16 Apr 2020 07-58 -0400' (sigtool's '%d %b %Y %H-%M %z') to epoch seconds, or None."""
    match = re.match(
        r"^\s*(\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2})[-:](\d{2}) ([+-])(\d{2})(\d{2})\s*$", text
    )
    if not match or match.group(2) not in MONTHS:
        return None
    day, _mon, year, hour, minute, sign, tzh, tzm = match.groups()
    import calendar

    epoch = calendar.timegm((int(year), MONTHS[match.group(2)], int(day), int(hour), int(minute), 0, 0, 0, 0))
    offset = (int(tzh) * 60 + int(tzm)) * 60
    return epoch - offset if sign == "+" else epoch + offset


def read_header(path):
    """Fields of a ClamAV database header; raise ValueError if the file is not a database."""
    with open(path, "rb") as handle:
        head = handle.read(512)
    if not head.startswith(b"ClamAV-VDB:"):
        raise ValueError("no ClamAV-VDB header (truncated or not a ClamAV database)")
    fields = head.rstrip(b"\0 \n").decode("ascii", "replace").split(":")
    if len(fields) < 5:
        raise ValueError("header has fewer than 5 fields")
    try:
        version, signatures, level = int(fields[2]), int(fields[3]), int(fields[4])
    except ValueError:
        raise ValueError("header version, signature count or functionality level is not a number") from None
    stime = fields[8].strip() if len(fields) > 8 else ""
    build = int(stime) if stime.isdigit() and int(stime) > 0 else parse_build_time(fields[1])
    if build is None:
        raise ValueError(f"unreadable build time {fields[1]!r}")
    return {
        "version": version,
        "signatures": signatures,
        "functionality_level": level,
        "build_time": build,
        "build_time_text": fields[1],
        "builder": fields[7] if len(fields) > 7 else "",
    }


def read_databases(directory):
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        return unavailable(f"cannot list {directory}: {exc.strerror or exc}", directory=directory)
    best = {}
    invalid = []
    for file in names:
        stem, ext = os.path.splitext(file)
        if ext not in DB_SUFFIXES:
            continue
        path = os.path.join(directory, file)
        try:
            header = read_header(path)
            size = os.path.getsize(path)
        except (OSError, ValueError) as exc:
            invalid.append({"file": file, "error": str(exc)})
            continue
        entry = {"name": stem, "file": file, "size": size}
        entry.update(header)
        if stem not in best or entry["version"] > best[stem]["version"]:
            best[stem] = entry
    return {"available": True, "directory": directory, "files": list(best.values()), "invalid": invalid}


# ---------------------------------------------------------------- services


def running_processes():
    found = set()
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return found
    for pid in pids:
        name = read_text(f"/proc/{pid}/comm")
        if name is not None:  # None: the process ended while we looked
            found.add(name.strip())
    return found


def read_services(timeout):
    procs = running_processes()
    out = {"processes": {name: name in procs for name in PROCESSES}}
    if not os.path.isdir("/run/systemd/system") or not shutil.which("systemctl"):
        out["init"] = "none"
        return out
    out["init"] = "systemd"
    units = {}
    for unit in UNITS:
        state = {}
        for verb in ("is-active", "is-enabled"):
            try:
                _rc, stdout, stderr = run(["systemctl", verb, unit + ".service"], timeout)
                state[verb[3:]] = (
                    (stdout.strip() or stderr.strip()).splitlines()[0] if (stdout or stderr) else ""
                )
            except (OSError, subprocess.SubprocessError) as exc:
                state[verb[3:]] = f"unknown ({exc})"
        units[unit] = state
    out["units"] = units
    return out


# ---------------------------------------------------------------- scan log


def scan_date(text):
    """clamscan's 'Start Date: 2026:11:27 02:50:00' is local time of the host."""
    try:
        return int(time.mktime(time.strptime(text.strip(), "%Y:%m:%d %H:%M:%S")))
    except ValueError:
        return None


def read_scan_log(path):
    if not path:
        return {"configured": False, "available": False, "reason": "no scan log configured"}
    base = {"configured": True, "path": path}
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(size - TAIL_BYTES, 0))
            text = handle.read().decode("utf-8", "replace")
            mtime = int(os.fstat(handle.fileno()).st_mtime)
    except OSError as exc:
        base.update(unavailable(f"cannot read {path}: {exc.strerror or exc}"))
        base["missing"] = isinstance(exc, FileNotFoundError)
        return base
    base.update(available=True, size=size, mtime=mtime)
    at = text.rfind(SUMMARY)
    if at < 0:
        base["last_scan"] = None
        return base
    # the FOUND lines of this scan: from the separator clamscan writes at the start of each run
    start = text.rfind(SESSION, 0, at)
    found = None
    if start >= 0 or size <= TAIL_BYTES:
        block = text[max(start, 0) : at]
        found = sum(1 for line in block.splitlines() if line.rstrip().endswith(" FOUND"))
    fields = {}
    for line in text[at + len(SUMMARY) :].splitlines()[1:20]:
        key, sep, value = line.partition(":")
        if not sep:
            if not line.strip():
                continue
            break
        fields.setdefault(key.strip().lower(), value.strip())
    scan = {}
    for key, name in (
        ("infected files", "infected"),
        ("scanned files", "scanned_files"),
        ("total errors", "errors"),
    ):
        if fields.get(key, "").isdigit():
            scan[name] = int(fields[key])
    for key, name in (("start date", "start"), ("end date", "end")):
        if key in fields:
            scan[name + "_text"] = fields[key]
            scan[name + "_epoch"] = scan_date(fields[key])
    if "engine version" in fields:
        scan["engine_version"] = fields["engine version"]
    if found is not None:
        scan["found"] = found
    base["last_scan"] = scan
    return base


# ---------------------------------------------------------------- main


def collect(database_dir, freshclam_conf, scan_log, timeout):
    directory = database_dir or conf_value(freshclam_conf, "DatabaseDirectory") or DEFAULT_DB_DIR
    return {
        "schema": SCHEMA,
        "collected_at": utc_now(),
        "collected_epoch": int(time.time()),
        "hostname": socket.gethostname(),
        "engine": probe("engine", read_engine, timeout),
        "database": probe("database", read_databases, directory),
        "services": probe("services", read_services, timeout),
        "scan_log": probe("scan log", read_scan_log, scan_log),
    }


def main():
    module = AnsibleModule(
        argument_spec={
            "database_dir": {"type": "str", "default": ""},
            "freshclam_conf": {"type": "str", "default": "/etc/clamav/freshclam.conf"},
            "scan_log": {"type": "str", "default": ""},
            "command_timeout": {"type": "float", "default": 30.0},
        },
        supports_check_mode=True,
    )
    p = module.params
    data = collect(p["database_dir"], p["freshclam_conf"], p["scan_log"], p["command_timeout"])
    module.exit_json(changed=False, linux_antivirus=data)


if __name__ == "__main__":
    main()
