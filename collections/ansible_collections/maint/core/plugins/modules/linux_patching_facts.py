#!/usr/bin/python
# Runs on the managed host with the host's python3 (3.8+), standard library only.
"""Collect the raw patch state the linux_patching role judges, in one call, installing nothing."""

DOCUMENTATION = r"""
---
module: linux_patching_facts
short_description: Collect the raw patch state of a Linux host (apt or dnf) for the linux_patching evaluator
description:
  - Detects the package manager from C(/etc/os-release) and the tools present (C(apt-get) on the Debian
    family, C(dnf) on the RHEL family) and returns the raw output the C(linux_patching) evaluator parses
    (controls C(PATCH-LNX-01) to C(PATCH-LNX-06)) under the key C(linux_patching). Parsing happens in the
    evaluator, on the controller, so it is tested on recorded output.
  - "apt: C(apt-get -s dist-upgrade) (a simulation: nothing is installed), the last entries of
    C(/var/log/apt/history.log) (rotated C(.gz) files included) for the last successful upgrade, and the
    C(upgrade) lines of C(/var/log/dpkg.log) when apt keeps no history."
  - "dnf: C(dnf check-update), C(dnf updateinfo list --security), C(dnf history list)."
  - "Pending reboot (PATCH-LNX-04, the only reboot judgement of maint): C(/run/reboot-required) and
    its C(.pkgs) list (Debian family; elsewhere the probe is unavailable unless the flag exists), the exit
    code and output of C(needs-restarting -r) where installed (RHEL family), and the kernel releases
    installed in C(/boot) (rescue images left out) and C(/lib/modules) next to the running one. Which
    kernel is newest is judged by the evaluator. Services to restart: C(needrestart -b -r l) or
    C(needs-restarting -s)."
  - An unsupported OS (no apt-get, no dnf) returns C(manager=none) and the reason, never a failure.
  - Refreshing the package index (O(refresh_cache)) updates repository metadata only; it installs nothing and
    the module always returns C(changed=false). In check mode the index is not refreshed.
version_added: "0.1.0"
author:
  - maint project
options:
  refresh_cache:
    description:
      - Refresh the package index first (C(apt-get update) / C(dnf makecache)) so the counts are current.
        Skipped in check mode; the age of the index is returned either way.
    type: bool
    default: true
  command_timeout:
    description: Seconds allowed for each command (the index refresh may download metadata).
    type: float
    default: 300.0
  history_entries:
    description: Most history entries (apt) or lines (dpkg log) returned, newest last.
    type: int
    default: 30
  versions_of:
    description:
      - Package names whose installed version is returned in C(installed_versions) (the role passes the
        packages that were pending before a remediation, to show old -> new versions).
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description: Read-only; in check mode the index is not refreshed.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
  platform:
    support: full
    platforms: posix
notes:
  - Needs root to refresh the index and to read every log; without root the refresh error is returned.
seealso:
  - module: ansible.builtin.apt
  - module: ansible.builtin.dnf
"""

EXAMPLES = r"""
- name: PATCH-LNX-01..06 | AUDIT | Collect the patch state
  maint.core.linux_patching_facts:
  register: linux_patching_raw

- name: Installed versions of packages upgraded by a remediation
  maint.core.linux_patching_facts:
    refresh_cache: false
    versions_of: [openssl, libssl3]
  register: linux_patching_after
"""

RETURN = r"""
linux_patching:
  description: Raw patch state, the input of the C(linux_patching) evaluator.
  returned: always
  type: dict
  contains:
    schema:
      description: Version of this data layout.
      type: int
      sample: 1
    collected_at:
      description: UTC time of collection, ISO 8601; the evaluator computes ages from it.
      type: str
      sample: "2026-11-27T03:10:00Z"
    hostname:
      description: Node name.
      type: str
      sample: web01
    kernel:
      description: Running kernel release.
      type: str
      sample: 6.1.0-21-amd64
    os:
      description: Fields of C(/etc/os-release).
      type: dict
      sample: {id: debian, id_like: "", version_id: "12", pretty_name: "Debian GNU/Linux 12 (bookworm)"}
    manager:
      description: C(apt), C(dnf) or C(none).
      type: str
      sample: apt
    reason:
      description: Why the host is not supported when C(manager=none).
      type: str
      sample: ""
    refresh:
      description: Package index refresh.
      type: dict
      sample: {attempted: true, ok: true, error: "", index_age_seconds: 2}
    simulate:
      description: "apt: C(apt-get -s dist-upgrade) (C(rc), C(stdout), C(stderr); C(summary): apt's own
        'N upgraded, ...' line, kept even when C(stdout) is cut, C(truncated): whether it was), run with
        C(LC_ALL=C) so the summary is never translated."
      type: dict
    check_update:
      description: "dnf: C(dnf -q check-update) (rc 100 when updates are pending)."
      type: dict
    security:
      description: "dnf: C(dnf -q updateinfo list --security --available)."
      type: dict
    history:
      description: "apt: C(entries) (text of the last history.log entries, oldest first) and C(dpkg_upgrades)
        (upgrade lines of dpkg.log); dnf: C(stdout) of C(dnf history list)."
      type: dict
    reboot:
      description: C(flag_file), C(needs_restarting) and C(kernel) probes, each C(available=false) and why
        when it cannot tell.
      type: dict
      sample:
        flag_file:
          {available: true, path: /run/reboot-required, present: true, packages: [linux-image-6.1.0-22-amd64]}
        needs_restarting: {available: false, reason: "needs-restarting is not installed (dnf-utils)"}
        kernel: {available: true, running: 6.1.0-21-amd64, installed: [6.1.0-21-amd64, 6.1.0-22-amd64]}
    services:
      description: C(needrestart -b -r l) or C(needs-restarting -s) output, or C(available=false) and why.
      type: dict
    installed_versions:
      description: Installed version of each package named in O(versions_of) (missing packages are left out).
      type: dict
      sample: {libssl3: "3.0.22-1~deb12u2"}
"""

import glob
import os
import platform
import re
import socket
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.maint.core.plugins.module_utils.commands import command_result, which
from ansible_collections.maint.core.plugins.module_utils.files import read_os_release, read_text
from ansible_collections.maint.core.plugins.module_utils.probes import probe, unavailable, utc_now

SCHEMA = 1
#: set on top of the C locale for every command (module_utils.commands)
ENV = {"DEBIAN_FRONTEND": "noninteractive", "NEEDRESTART_MODE": "l"}
APT_HISTORY = "/var/log/apt/history.log"
DPKG_LOG = "/var/log/dpkg.log"
APT_LISTS = "/var/lib/apt/lists"
# /var/run is a symlink to /run on every current distribution; older ones only have /var/run
REBOOT_FLAGS = ("/run/reboot-required", "/var/run/reboot-required")
OS_KEYS = ("id", "id_like", "version_id", "pretty_name")
MAX_OUTPUT = 400000  # characters kept of one command's output
# apt <= 2.x "N upgraded, N newly installed, ... N not upgraded.";
# apt >= 3.0 "  Upgrading: N, ..., Not Upgrading: N"
SUMMARY_LINE = re.compile(r"^(\d+ upgraded, .* not upgraded\.?|\s+Upgrading: \d+, .*Not Upgrading: \d+)\s*$")


def run(argv, timeout):
    """A command's result as the evaluator reads it; apt's own totals kept whole (``summary``)."""
    return command_result(argv, timeout, ENV, max_output=MAX_OUTPUT, summary=SUMMARY_LINE)


def detect_manager(os_release):
    """Dispatch by OS family (os-release ID / ID_LIKE), confirmed by the tool being installed."""
    family = " ".join((os_release["id"], os_release["id_like"])).split()
    if platform.system() != "Linux":
        return "none", f"not a Linux host ({platform.system()})"
    if {"debian", "ubuntu"} & set(family):
        if which("apt-get"):
            return "apt", ""
        return "none", f"{os_release['pretty_name'] or 'Debian family'} without apt-get"
    if {"rhel", "fedora", "centos"} & set(family):
        if which("dnf"):
            return "dnf", ""
        return (
            "none",
            f"{os_release['pretty_name'] or 'RHEL family'} without dnf (yum-only releases: EL7 and older)",
        )
    name = os_release["pretty_name"] or os_release["id"] or "unknown OS (no /etc/os-release)"
    return "none", f"{name} is not supported (apt on the Debian family and dnf on the RHEL family only)"


# ---------------------------------------------------------------- index


def newest_mtime(pattern):
    times = []
    for path in glob.glob(pattern):
        try:
            times.append(os.stat(path).st_mtime)
        except OSError:
            continue
    return max(times) if times else None


def refresh(manager, wanted, check_mode, timeout):
    out = {"attempted": False, "ok": None, "error": ""}
    if wanted and check_mode:
        out["error"] = "not refreshed in check mode"
    elif wanted:
        out["attempted"] = True
        argv = ["apt-get", "-q", "update"] if manager == "apt" else ["dnf", "-q", "makecache"]
        result = run(argv, timeout)
        stderr = result["stderr"]
        # apt-get update exits 0 even when a source failed; its "W:"/"E:" lines say so
        problems = [line for line in stderr.splitlines() if line.startswith(("E:", "Err:", "W: Failed"))]
        out["ok"] = result["rc"] == 0 and not problems
        if not out["ok"]:
            out["error"] = ("; ".join(problems) or stderr.strip() or f"exit {result['rc']}")[:2000]
    pattern = APT_LISTS + "/*_Packages*" if manager == "apt" else "/var/cache/dnf/*/repodata/repomd.xml"
    mtime = newest_mtime(pattern)
    out["index_age_seconds"] = None if mtime is None else max(0, int(time.time() - mtime))
    return out


# ---------------------------------------------------------------- history


def rotated(path):
    """path, path.1, path.2.gz, ... newest first."""
    found = [p for p in glob.glob(path + ".*") if re.match(re.escape(path) + r"\.\d+(\.gz)?$", p)]
    found.sort(key=lambda p: int(p[len(path) + 1 :].split(".")[0]))
    return [path, *found]


def apt_history(limit):
    entries = []
    sources = []
    for path in rotated(APT_HISTORY):
        text = read_text(path)
        if text is None:
            continue
        sources.append(path)
        blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip().startswith("Start-Date:")]
        entries = blocks + entries
        if sum(1 for b in entries if "\nUpgrade:" in b) >= 1 and len(entries) >= limit:
            break
    upgrades = []
    dpkg_sources = []
    for path in rotated(DPKG_LOG):
        text = read_text(path)
        if text is None:
            continue
        dpkg_sources.append(path)
        lines = [line for line in text.splitlines() if " upgrade " in line]
        upgrades = lines + upgrades
        if upgrades:
            break
    return {
        "available": bool(sources or dpkg_sources),
        "sources": sources,
        "entries": entries[-limit:],
        "dpkg_sources": dpkg_sources,
        "dpkg_upgrades": upgrades[-limit:],
    }


# ---------------------------------------------------------------- reboot and services


def read_reboot_flag(manager):
    """``/run/reboot-required`` and its ``.pkgs`` list; only the Debian family (apt) writes them.

    Elsewhere a missing flag says nothing, so the probe is unavailable unless the flag is there.
    """
    flag = next((path for path in REBOOT_FLAGS if os.path.exists(path)), REBOOT_FLAGS[0])
    present = os.path.exists(flag)
    if not present and manager != "apt":
        return unavailable(f"{flag} is only written on the Debian family (apt)", path=flag)
    packages = []
    for line in (read_text(flag + ".pkgs", 1 << 20) or "").splitlines():
        name = line.strip()
        if name and name not in packages:
            packages.append(name)
    return {"available": True, "path": flag, "present": present, "packages": packages}


def read_needs_restarting(timeout):
    """``needs-restarting -r`` where installed (dnf-utils / yum-utils): the evaluator reads its exit code
    (1: reboot required, 0: not; anything else: it could not tell) and the ``* package`` lines."""
    tool = which("needs-restarting")
    if tool is None:
        return unavailable("needs-restarting is not installed (dnf-utils / yum-utils)")
    result = run([tool, "-r"], timeout)
    return {"available": True, "rc": result["rc"], "stdout": result["stdout"], "stderr": result["stderr"]}


def installed_kernels():
    """Kernel releases installed in /boot (vmlinuz-*, rescue images left out) or /lib/modules.

    A /lib/modules folder counts only with modules.dep or vmlinuz in it: a removed kernel's leftovers do not.
    """
    found = set()
    for path in glob.glob("/boot/vmlinu[xz]-*"):
        name = os.path.basename(path).split("-", 1)[1]
        if "rescue" not in name:
            found.add(name)
    for path in glob.glob("/lib/modules/*/modules.dep") + glob.glob("/lib/modules/*/vmlinuz"):
        found.add(path.split("/")[3])
    return sorted(found)


def read_kernels(running):
    installed = installed_kernels()
    if not installed:
        return unavailable(
            "no installed kernel in /boot or /lib/modules (a container, or a kernel booted from elsewhere)",
            running=running,
        )
    # which one is newest (same flavour as the running one) is the evaluator's judgement
    return {"available": True, "running": running, "installed": installed}


def reboot_probes(manager, timeout):
    """The three sources of PATCH-LNX-04 (the one reboot-pending judgement of maint)."""
    return {
        "flag_file": probe("reboot flag", read_reboot_flag, manager),
        "needs_restarting": probe("needs-restarting", read_needs_restarting, timeout),
        "kernel": probe("kernel", read_kernels, platform.release()),
    }


def services_probe(manager, timeout):
    tool = which("needrestart")
    if tool:
        result = run([tool, "-b", "-r", "l"], timeout)
        result.update(available=True, tool="needrestart")
        return result
    tool = which("needs-restarting") if manager == "dnf" else None
    if tool:
        result = run([tool, "-s"], timeout)
        result.update(available=True, tool="needs-restarting")
        return result
    return unavailable("needrestart is not installed (apt-get install needrestart / dnf install dnf-utils)")


def installed_versions(manager, names, timeout):
    names = sorted({n for n in names if n and re.match(r"^[A-Za-z0-9][A-Za-z0-9+._:-]*$", n)})
    if not names:
        return {}
    if manager == "apt":
        argv = ["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${db:Status-Abbrev}\n", *names]
    else:
        argv = ["rpm", "-q", "--qf", "%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\tii\n", *names]
    versions = {}
    for line in run(argv, timeout)["stdout"].splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[2].startswith("i"):
            versions[parts[0].split(":")[0]] = parts[1]
    return versions


# ---------------------------------------------------------------- main


def collect(params, check_mode):
    os_release = {key: value for key, value in read_os_release().items() if key in OS_KEYS}
    manager, reason = detect_manager(os_release)
    data = {
        "schema": SCHEMA,
        "collected_at": utc_now(),
        "system": platform.system(),
        "hostname": socket.gethostname(),
        "kernel": platform.release(),
        "os": os_release,
        "manager": manager,
        "reason": reason,
    }
    if manager == "none":
        return data
    timeout = params["command_timeout"]
    data["refresh"] = refresh(manager, params["refresh_cache"], check_mode, timeout)
    if manager == "apt":
        data["simulate"] = run(["apt-get", "-s", "-o", "Debug::NoLocking=true", "dist-upgrade"], timeout)
        data["history"] = apt_history(params["history_entries"])
    else:
        data["check_update"] = run(["dnf", "-q", "-C", "check-update"], timeout)
        data["security"] = run(
            ["dnf", "-q", "-C", "updateinfo", "list", "--security", "--available"], timeout
        )
        history = run(["dnf", "-q", "history", "list"], timeout)
        history["available"] = history["rc"] == 0
        data["history"] = history
    data["reboot"] = reboot_probes(manager, timeout)
    data["services"] = services_probe(manager, timeout)
    names = list(params["versions_of"])
    if manager == "dnf":
        # check-update does not print the installed version: read it for each pending package (NAME.ARCH)
        names += [
            line.split()[0].rsplit(".", 1)[0]
            for line in data["check_update"]["stdout"].splitlines()
            if len(line.split()) == 3 and "." in line.split()[0]
        ]
    data["installed_versions"] = installed_versions(manager, names, timeout)
    return data


def main():
    module = AnsibleModule(
        argument_spec={
            "refresh_cache": {"type": "bool", "default": True},
            "command_timeout": {"type": "float", "default": 300.0},
            "history_entries": {"type": "int", "default": 30},
            "versions_of": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    module.exit_json(changed=False, linux_patching=collect(module.params, module.check_mode))


if __name__ == "__main__":
    main()
