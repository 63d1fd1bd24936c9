#!/usr/bin/python
# Runs on the managed host with the host's python3 (3.8+), standard library only.
"""Collect the backup state the linux_backup role judges (restic repository, backup files), in one call."""

DOCUMENTATION = r"""
---
module: linux_backup_facts
short_description: Collect restic repository state and file-based backup state
description:
  - Returns JSON under the key C(linux_backup) for the C(linux_backup) evaluator (controls C(BKP-RESTIC-01)
    to C(BKP-RESTIC-04), C(BKP-FILE-01), C(BKP-FILE-02)).
  - "restic: opens the repository with the given password (C(restic snapshots --json)), reads the latest
    snapshot of this host (optionally of a tag and a path), runs C(restic check) (optionally
    C(--read-data-subset)), and test-restores one file with C(restic dump) into memory, comparing its
    SHA-256 with a recorded checksum or with the live file when that is unchanged since the snapshot."
  - "The password and the extra environment go to restic through its environment (C(RESTIC_PASSWORD)),
    never on the command line; both are C(no_log) and any occurrence in restic's output is masked."
  - "Files: for each set (tar archives, rsync targets, database dumps), the newest file matching a pattern
    under a path, with its modification time and size."
  - "Where the copies are: the repository location with any credential removed, and for a local path the
    mount holding it (from C(/proc/self/mountinfo): file system type and source), so an NFS or CIFS mount
    is told from a disk of the host itself."
  - "Retention: the newest snapshots of this host (at most 1000: time, short ID, paths, tags), which the
    evaluator judges against the forget policy."
  - Writes nothing on the host. C(restic check) takes the repository's exclusive lock for its duration
    (restic's own behaviour); C(--no-cache) keeps restic's cache off the host.
version_added: "0.1.0"
author:
  - maint project
options:
  restic_repository:
    description:
      - Repository location (path, C(sftp:), C(rest:), C(s3:), ...); empty means no restic here, unless
        C(restic_env) sets C(RESTIC_REPOSITORY) or C(RESTIC_REPOSITORY_FILE) (a file on the host holding
        the location, read as restic reads it).
    type: str
    default: ""
  restic_repository_file:
    description:
      - A file on the host holding the repository location (restic's C(--repository-file)), read when
        C(restic_repository) is empty; any credential in it is removed from what the module returns.
    type: str
    default: ""
  restic_password:
    description: Repository password (from the vault). Passed as C(RESTIC_PASSWORD).
    type: str
    default: ""
  restic_env:
    description: Extra environment for restic (C(AWS_ACCESS_KEY_ID), C(B2_ACCOUNT_KEY), ...), from the vault.
    type: dict
    default: {}
  restic_binary:
    description: restic executable.
    type: str
    default: restic
  restic_host:
    description: Host name of the snapshots to judge; empty means this host's name.
    type: str
    default: ""
  restic_tags:
    description: Only snapshots carrying all these tags.
    type: list
    elements: str
    default: []
  restic_path:
    description: Only snapshots of this path.
    type: str
    default: ""
  restic_check:
    description: Run C(restic check).
    type: bool
    default: true
  restic_read_data_subset:
    description: Value for C(restic check --read-data-subset) (C(5%), C(1/10), C(500M)); empty reads no data.
    type: str
    default: ""
  restic_restore_path:
    description: Absolute path of a file to test-restore from the latest snapshot; empty skips the test.
    type: str
    default: ""
  restic_restore_sha256:
    description: Recorded SHA-256 of that file; empty compares with the live file.
    type: str
    default: ""
  restic_forget:
    description:
      - The repository's forget policy (C(keep_last), C(keep_hourly), C(keep_daily), C(keep_weekly),
        C(keep_monthly), C(keep_yearly), C(keep_within), C(keep_within_hourly) ... C(keep_within_yearly),
        C(keep_tag), C(group_by)), passed through to the evaluator (C(BKP-RESTIC-06)); empty means none.
      - Keep counts are integers (C(-1) or C(unlimited) keeps all), durations restic's C(1y2m3d4h).
    type: dict
    default: {}
  file_sets:
    description:
      - File-based backups. Each item has C(name), C(path), optional C(pattern) (fnmatch, default C(*)),
        C(recurse) (default false), and optional C(max_age_hours) / C(min_size_bytes) passed through to the
        evaluator.
    type: list
    elements: dict
    default: []
  command_timeout:
    description: Seconds allowed for each restic command.
    type: float
    default: 1800
attributes:
  check_mode:
    support: full
    description: Read-only; behaves identically in check mode.
  diff_mode:
    support: none
    description: Nothing changes.
  platform:
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: BKP-RESTIC-01..04, BKP-FILE-01..02 | AUDIT | Collect backup state
  maint.core.linux_backup_facts:
    restic_repository: sftp:backup@nas:/srv/restic/web01
    restic_password: "{{ vault_restic_password }}"
    restic_restore_path: /etc/hostname
    file_sets:
      - {name: postgres dumps, path: /var/backups/pg, pattern: "*.sql.gz", max_age_hours: 26}
  register: linux_backup_raw
  no_log: true
"""

RETURN = r"""
linux_backup:
  description: Raw backup state, the input of the C(linux_backup) evaluator. Never holds the password.
  returned: always
  type: dict
  contains:
    schema:
      description: Version of this data layout.
      type: int
      sample: 1
    collected_epoch:
      description: Host time of collection; ages are measured from it.
      type: int
      sample: 1795748131
    restic:
      description: Repository state (C(configured=false) when no repository is set).
      type: dict
      sample:
        configured: true
        repository: /srv/restic
        repository_source: option
        mount: {path: /srv/restic, mount: /srv, fstype: nfs4, source: "nas:/export/backup"}
        forget: {keep_daily: 7, keep_weekly: 4}
        version: 0.14.0
        reachable: {ok: true}
        snapshots:
          host: web01
          count: 1
          latest: {short_id: 8f4247f6, time: "2026-11-27T02:56:43.556625963Z", time_epoch: 1795748203}
          listed: 1
          list: [{short_id: 8f4247f6, time: "2026-11-27T02:56:43.556625963Z", paths: [/srv/data], tags: []}]
        check: {ran: true, ok: true, rc: 0, read_data_subset: "", errors: []}
        restore: {configured: true, ok: true, path: /etc/hostname, sha256_restored: "bc46...",
                  sha256_expected: "bc46...", expected_source: live, comparable: true}
    files:
      description: Newest file of each file set.
      type: dict
      sample:
        configured: true
        sets:
          - {name: postgres dumps, path: /var/backups/pg, pattern: "*.sql.gz", available: true, count: 14,
             newest: {path: /var/backups/pg/db-2026-11-27.sql.gz, mtime: 1795740000, size: 73400320}}
"""

import calendar
import fnmatch
import hashlib
import os
import re
import socket
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.maint.core.plugins.module_utils.commands import which
from ansible_collections.maint.core.plugins.module_utils.probes import utc_now

SCHEMA = 1
MASK = "********"
ERROR_LINES = 20
LIST_MAX = 1000  # newest snapshots listed for the retention judgement (BKP-RESTIC-06)
REPOSITORY_FILE_MAX = 4096
MOUNTINFO = "/proc/self/mountinfo"
FORGET_COUNTS = ("keep_last", "keep_hourly", "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly")
FORGET_WITHIN = (
    "keep_within",
    "keep_within_hourly",
    "keep_within_daily",
    "keep_within_weekly",
    "keep_within_monthly",
    "keep_within_yearly",
)
GROUP_BY = ("", "host", "hosts", "path", "paths", "tag", "tags")
FORGET_SPEC = {
    **{k: {"type": "raw"} for k in FORGET_COUNTS},
    **{k: {"type": "str"} for k in FORGET_WITHIN},
    "keep_tag": {"type": "list", "elements": "str"},
    "group_by": {"type": "str"},
}
# restic >= 0.17 exit codes; older versions exit 1 and say why on stderr
EXIT_KINDS = {10: "missing", 11: "locked", 12: "wrong_password"}
PATTERNS = (
    ("wrong_password", re.compile(r"wrong password|no key found", re.I)),
    ("locked", re.compile(r"already locked|unable to create lock|repository is locked", re.I)),
    (
        "missing",
        re.compile(r"unable to open config file|is there a repository|repository does not exist", re.I),
    ),
)


class Restic:
    """Runs restic with the secrets in its environment and masks them in everything it returns."""

    def __init__(self, binary, repository, password, extra_env, timeout):
        self.binary = binary
        self.repository = repository
        self.timeout = timeout
        self.env = dict(os.environ)
        self.env.update({str(k): str(v) for k, v in extra_env.items()})
        self.env.update({"RESTIC_PASSWORD": password, "RESTIC_REPOSITORY": repository, "LC_ALL": "C"})
        self.env.pop("RESTIC_PASSWORD_FILE", None)
        self.env.pop("RESTIC_PASSWORD_COMMAND", None)
        self.env.pop("RESTIC_REPOSITORY_FILE", None)  # read by the module: the location is RESTIC_REPOSITORY
        self.secrets = secrets_of(password, extra_env, repository)

    def scrub(self, text):
        return scrub(text, self.secrets)

    def run(self, args, binary_out=False):
        argv = [self.binary, "--no-cache", *args]
        proc = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=self.timeout,
            env=self.env,
            check=False,
        )
        err = self.scrub(proc.stderr.decode("utf-8", "replace"))
        out = proc.stdout if binary_out else self.scrub(proc.stdout.decode("utf-8", "replace"))
        return proc.returncode, out, err


def redact_url(repository):
    """rest:https://user:secret@host/ -> rest:https://user:********@host/; query values masked too
    (?access_key=... -> ?access_key=********)."""
    text = re.sub(r"(://[^/:@]*:)[^/@]*@", r"\1" + MASK + "@", repository)
    return re.sub(r"([?&][^=&#]+=)[^&#]*", r"\1" + MASK, text)


def secrets_of(password, extra_env, repository):
    """Every value masked in what the module returns, longest first."""
    values = [password, *map(str, extra_env.values()), *url_secrets(repository)]
    return sorted({v for v in values if len(v) >= 3 and v != repository}, key=len, reverse=True)


def scrub(text, secrets):
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def url_secrets(repository):
    """The password of a URL's user info and the values of its query string: masked in restic's output."""
    found = re.findall(r"://[^/:@]*:([^/@]*)@", repository)
    found += re.findall(r"[?&][^=&#]+=([^&#]*)", repository)
    return [s for s in found if s]


def resolve_repository(p):
    """(location, where it came from, problem): the option, else RESTIC_REPOSITORY in restic_env, else the
    file restic_repository_file (or RESTIC_REPOSITORY_FILE in restic_env) names, stripped as restic reads
    it."""
    env = p["restic_env"] or {}
    if p["restic_repository"]:
        return p["restic_repository"], "option", ""
    if env.get("RESTIC_REPOSITORY"):
        return str(env["RESTIC_REPOSITORY"]), "env RESTIC_REPOSITORY", ""
    path = str(p.get("restic_repository_file") or env.get("RESTIC_REPOSITORY_FILE") or "")
    if not path:
        return "", "", ""
    source = f"file {path}"
    try:
        with open(path, "rb") as handle:
            text = handle.read(REPOSITORY_FILE_MAX).decode("utf-8", "replace").strip()
    except OSError as exc:
        return "", source, f"repository file {path} unreadable: {exc.strerror or exc}"
    if not text:
        return "", source, f"repository file {path} is empty"
    return text, source, ""


def _unescape_mount(text):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), text)


def mount_of(path, mountinfo=MOUNTINFO):
    """The mount holding ``path`` (its real path, resolved as far as it exists): mount point, file system
    type and source from /proc/self/mountinfo, the longest mount point containing it."""
    real = os.path.realpath(path)
    best = None
    with open(mountinfo, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            left, sep, right = line.partition(" - ")
            fields = left.split()
            extra = right.split()
            if not sep or len(fields) < 5 or len(extra) < 2:
                continue
            point = _unescape_mount(fields[4])
            inside = real == point or real.startswith(point.rstrip("/") + "/")
            if inside and (best is None or len(point) >= len(best["mount"])):
                best = {"mount": point, "fstype": extra[0], "source": _unescape_mount(extra[1])}
    out = {"path": real}
    if best is None:
        out["reason"] = f"no mount in {mountinfo} holds {real}"
        return out
    out.update(best)
    return out


def forget_policy(spec):
    """The forget policy as given (None values dropped, a count templated into a string made a number
    again); the evaluator validates and applies it."""
    out = {}
    for key, value in (spec or {}).items():
        if value is None or value == [] or value == "":
            continue
        if key in FORGET_COUNTS and isinstance(value, str) and re.match(r"^-?[0-9]+$", value.strip()):
            value = int(value)
        out[key] = value
    return out


def forget_problem(policy):
    """Why the forget policy is not one restic accepts ('' when it is): the task fails with it."""
    for key, value in policy.items():
        if key in FORGET_COUNTS:
            if value == "unlimited" or (
                isinstance(value, int) and not isinstance(value, bool) and value >= -1
            ):
                continue
            return f"restic_forget.{key}: {value!r} is not a whole number of -1 or more, or 'unlimited'"
        if key in FORGET_WITHIN and not re.match(r"^([0-9]+[ymdh])+$", str(value).strip()):
            return f"restic_forget.{key}: {value!r} is not a duration such as 7d, 12m or 1y6m"
        if key == "group_by" and not set(str(value).split(",")) <= set(GROUP_BY):
            return f"restic_forget.group_by: {value!r} is not host, paths, tags or a comma list of them"
    return ""


def classify(rc, err):
    if rc in EXIT_KINDS:
        return EXIT_KINDS[rc]
    for kind, pattern in PATTERNS:
        if pattern.search(err):
            return kind
    return "error"


def error_lines(text):
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("[")]
    return lines[-ERROR_LINES:]


def parse_time(text):
    """restic's RFC 3339 time with nanoseconds and an offset -> epoch seconds (int)."""
    match = re.match(
        r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})$", text or ""
    )
    if not match:
        return None
    y, mo, d, h, mi, s, tz = match.groups()
    epoch = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(s), 0, 0, 0))
    if tz != "Z":
        offset = int(tz[1:3]) * 3600 + int(tz[4:6]) * 60
        epoch += -offset if tz[0] == "+" else offset
    return epoch


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def local_path(repository):
    """The directory of a local repository ('' for a remote backend), as restic tells them apart."""
    if repository.startswith("local:"):
        return repository[len("local:") :]
    scheme = repository.split(":", 1)[0]
    if ":" in repository and scheme in ("sftp", "rest", "s3", "gs", "azure", "b2", "swift", "rclone"):
        return ""
    return repository


def read_restic(p, json_loads):
    repository, source, problem = resolve_repository(p)
    forget = forget_policy(p.get("restic_forget"))
    if problem:
        return {
            "configured": True,
            "repository": "",
            "repository_source": source,
            "forget": forget,
            "reachable": {"ok": False, "error_kind": "missing", "message": problem},
        }
    if not repository:
        return {"configured": False, "reason": "no restic repository configured for this host"}
    binary = which(p["restic_binary"])  # a name on PATH or in an sbin folder, or a path
    out = {
        "configured": True,
        "repository": redact_url(repository),
        "repository_source": source,
        "forget": forget,
    }
    directory = local_path(repository)
    if directory:
        try:
            mount = mount_of(directory, p.get("mountinfo") or MOUNTINFO)
        except OSError as exc:
            mount = {"path": directory, "reason": f"mounts unreadable: {exc.strerror or exc}"}
        secrets = secrets_of(p["restic_password"], p["restic_env"] or {}, repository)
        out["mount"] = {k: scrub(redact_url(v), secrets) for k, v in mount.items()}
    if binary is None:
        out["reachable"] = {
            "ok": False,
            "error_kind": "not_installed",
            "message": f"{p['restic_binary']} is not installed",
        }
        return out
    if not p["restic_password"]:
        out["reachable"] = {
            "ok": False,
            "error_kind": "no_password",
            "message": "no repository password given",
        }
        return out
    restic = Restic(binary, repository, p["restic_password"], p["restic_env"] or {}, p["command_timeout"])
    try:
        _rc, version, _err = restic.run(["version"])
        out["version"] = (re.findall(r"restic ([0-9][^ ]*)", version) or [""])[0]
        host = p["restic_host"] or socket.gethostname()
        args = ["snapshots", "--json", "--host", host]
        for tag in p["restic_tags"]:
            args += ["--tag", tag]
        if p["restic_path"]:
            args += ["--path", p["restic_path"]]
        rc, stdout, err = restic.run(args)
    except subprocess.TimeoutExpired:
        out["reachable"] = {
            "ok": False,
            "error_kind": "timeout",
            "message": f"restic snapshots took over {p['command_timeout']:g}s",
        }
        return out
    if rc != 0:
        out["reachable"] = {
            "ok": False,
            "error_kind": classify(rc, err),
            "message": "; ".join(error_lines(err)) or f"exit {rc}",
        }
        return out
    out["reachable"] = {"ok": True}
    try:
        snapshots = json_loads(stdout or "[]") or []
    except ValueError as exc:
        out["reachable"] = {
            "ok": False,
            "error_kind": "error",
            "message": f"restic snapshots printed no JSON: {exc}",
        }
        return out
    # what restic printed is checked by the evaluator: a JSON list, every snapshot with a readable time
    shape = "list" if isinstance(snapshots, list) else type(snapshots).__name__
    if shape != "list":
        snapshots = []
    latest = None
    parsed = 0
    timed = []
    for snap in snapshots:
        snap_epoch = parse_time(snap.get("time", "")) if isinstance(snap, dict) else None
        if snap_epoch is None:
            continue
        parsed += 1
        timed.append((snap_epoch, snap))
        if latest is None or snap_epoch > latest["time_epoch"]:
            latest = {
                "id": snap.get("id", ""),
                "short_id": snap.get("short_id", ""),
                "time": snap.get("time", ""),
                "time_epoch": snap_epoch,
                "hostname": snap.get("hostname", ""),
                "paths": snap.get("paths", []),
                "tags": snap.get("tags") or [],
            }
    timed.sort(key=lambda item: item[0], reverse=True)  # stable: restic's order among equal times
    listed = [
        {
            "short_id": str(snap.get("short_id", "")),
            "time": snap.get("time", ""),
            "paths": [str(x) for x in snap.get("paths") or []],
            "tags": [str(x) for x in snap.get("tags") or []],
        }
        for _epoch, snap in timed[:LIST_MAX]
    ]
    out["snapshots"] = {
        "host": host,
        "tags": list(p["restic_tags"]),
        "path": p["restic_path"],
        "count": len(snapshots),
        "parsed": parsed,
        "shape": shape,
        "latest": latest,
        "listed": len(listed),
        "list": listed,
    }
    out["check"] = run_check(restic, p)
    out["restore"] = run_restore(restic, p, latest, json_loads)
    return out


def run_check(restic, p):
    if not p["restic_check"]:
        return {"ran": False, "reason": "restic check switched off (linux_backup_restic_check: false)"}
    args = ["check"]
    if p["restic_read_data_subset"]:
        args.append("--read-data-subset=" + p["restic_read_data_subset"])
    try:
        rc, stdout, err = restic.run(args)
    except subprocess.TimeoutExpired:
        return {
            "ran": True,
            "ok": False,
            "rc": None,
            "error_kind": "timeout",
            "errors": [f"restic check took over {p['command_timeout']:g}s"],
            "read_data_subset": p["restic_read_data_subset"],
        }
    result = {"ran": True, "ok": rc == 0, "rc": rc, "read_data_subset": p["restic_read_data_subset"]}
    if rc != 0:
        result["error_kind"] = classify(rc, err)
        result["errors"] = error_lines(err) or error_lines(stdout)
    else:
        result["errors"] = []
    return result


def run_restore(restic, p, latest, json_loads):
    path = p["restic_restore_path"]
    if not path:
        return {
            "configured": False,
            "reason": "no file chosen for the test restore (linux_backup_restic_restore_path)",
        }
    out = {"configured": True, "path": path}
    if latest is None:
        out.update(ok=False, error="no snapshot to restore from")
        return out
    out["snapshot"] = latest["short_id"]
    try:
        rc, data, err = restic.run(["dump", latest["id"], path], binary_out=True)
    except subprocess.TimeoutExpired:
        out.update(ok=False, error=f"restic dump took over {p['command_timeout']:g}s")
        return out
    if rc != 0:
        out.update(ok=False, error="; ".join(error_lines(err)) or f"restic dump exited {rc}")
        return out
    out.update(ok=True, size=len(data), sha256_restored=hashlib.sha256(data).hexdigest())
    if p["restic_restore_sha256"]:
        out.update(
            expected_source="recorded", sha256_expected=p["restic_restore_sha256"].lower(), comparable=True
        )
        return out
    out["expected_source"] = "live"
    try:
        live = os.stat(path)
        out["sha256_expected"] = sha256_file(path)
    except OSError as exc:
        out.update(comparable=False, reason=f"live file unreadable: {exc.strerror or exc}")
        return out
    node = None
    try:
        rc, stdout, _err = restic.run(["ls", "--json", latest["id"], path])
        for line in stdout.splitlines():
            item = json_loads(line) if line.startswith("{") else {}
            if item.get("struct_type") == "node" and item.get("path") == path:
                node = item
    except (subprocess.TimeoutExpired, ValueError):
        node = None
    snap_mtime = parse_time(node.get("mtime", "")) if node else None
    changed = node is None or snap_mtime != int(live.st_mtime) or node.get("size") != live.st_size
    out["live_changed"] = changed
    out["comparable"] = not changed
    if changed:
        out["reason"] = "the live file changed since the snapshot (mtime or size differ)"
    return out


# ---------------------------------------------------------------- files


def read_file_set(spec):
    name = str(spec.get("name") or spec.get("path") or "")
    path = str(spec.get("path") or "")
    pattern = str(spec.get("pattern") or "*")
    out = {"name": name, "path": path, "pattern": pattern}
    for key in ("max_age_hours", "min_size_bytes"):
        if spec.get(key) is not None:
            out[key] = int(spec[key])
    if not os.path.isdir(path):
        out.update(available=False, reason=f"{path} is not a directory (not mounted, or never created)")
        return out
    newest = None
    count = 0
    try:
        walker = os.walk(path) if spec.get("recurse") else [(path, [], os.listdir(path))]
        for root, _dirs, files in walker:
            for file in files:
                if not fnmatch.fnmatch(file, pattern):
                    continue
                full = os.path.join(root, file)
                try:
                    st = os.stat(full)
                except OSError:
                    continue
                if not os.path.isfile(full):
                    continue
                count += 1
                if newest is None or st.st_mtime > newest["mtime"]:
                    newest = {"path": full, "mtime": int(st.st_mtime), "size": st.st_size}
    except OSError as exc:
        out.update(available=False, reason=f"cannot list {path}: {exc.strerror or exc}")
        return out
    out.update(available=True, count=count, newest=newest)
    return out


def collect(p, json_loads):
    try:
        restic = read_restic(p, json_loads)
    except Exception as exc:  # a surprise in restic's output is reported, not a crashed module
        restic = {
            "configured": True,
            "repository": redact_url(p["restic_repository"]),
            "forget": forget_policy(p.get("restic_forget")),
            "reachable": {
                "ok": False,
                "error_kind": "error",
                "message": f"collector crashed: {type(exc).__name__}: {exc}",
            },
        }
    sets = [read_file_set(spec) for spec in p["file_sets"]]
    return {
        "schema": SCHEMA,
        "collected_at": utc_now(),
        "collected_epoch": int(time.time()),
        "hostname": socket.gethostname(),
        "restic": restic,
        "files": {"configured": bool(sets), "sets": sets},
    }


def main():
    import json

    module = AnsibleModule(
        argument_spec={
            "restic_repository": {"type": "str", "default": ""},
            "restic_repository_file": {"type": "str", "default": ""},
            "restic_password": {"type": "str", "default": "", "no_log": True},
            "restic_env": {"type": "dict", "default": {}, "no_log": True},
            "restic_binary": {"type": "str", "default": "restic"},
            "restic_host": {"type": "str", "default": ""},
            "restic_tags": {"type": "list", "elements": "str", "default": []},
            "restic_path": {"type": "str", "default": ""},
            "restic_check": {"type": "bool", "default": True},
            "restic_read_data_subset": {"type": "str", "default": ""},
            "restic_restore_path": {"type": "str", "default": ""},
            "restic_restore_sha256": {"type": "str", "default": ""},
            "restic_forget": {"type": "dict", "default": {}, "options": FORGET_SPEC},
            "file_sets": {"type": "list", "elements": "dict", "default": []},
            "command_timeout": {"type": "float", "default": 1800.0},
        },
        supports_check_mode=True,
    )
    problem = forget_problem(forget_policy(module.params["restic_forget"]))
    if problem:
        module.fail_json(msg=f"linux_backup_facts: {problem} (set in linux_backup_restic_forget)")
    module.exit_json(changed=False, linux_backup=collect(module.params, json.loads))


if __name__ == "__main__":
    main()
