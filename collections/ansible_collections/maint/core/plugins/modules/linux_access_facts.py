#!/usr/bin/python
# Runs on the managed host with the host's python3 (3.8+), standard library only.
"""Collect who can log in and who can become root on a Linux host, in one call, changing nothing."""

DOCUMENTATION = r"""
---
module: linux_access_facts
short_description: Collect Linux access data (accounts, sudo, last logins, SSH settings, authorized keys)
description:
  - Reads, in one call, what the C(linux_access) evaluator judges (controls C(ACCESS-LNX-01) to
    C(ACCESS-LNX-10)) and returns it under the key C(linux_access).
  - Changes nothing on the host; always returns C(changed=false) and runs the same in check mode.
  - "Read: C(/etc/passwd) and C(/etc/group) (UID 0 accounts, login shells, members of the sudo, wheel and
    admin groups); C(/etc/sudoers) and every file it includes (C(@include), C(#include), C(@includedir),
    C(#includedir); in a directory, names ending in C(~) or holding a C(.) are skipped, as sudo does); the
    last login of each account from C(/var/lib/lastlog/lastlog2.db), the C(lastlog) tool or the binary
    C(/var/log/lastlog), and C(/var/lib/wtmpdb/wtmp.db) or C(/var/log/wtmp), whichever the host has;
    C(/etc/shadow) and C(/etc/default/useradd) (password inactivity lock); C(sshd -T) (the effective SSH
    server settings); the authorized_keys files (C(AuthorizedKeysFile) of C(sshd -T), C(%h), C(%u), C(%U)
    expanded) of every account."
  - "Authorized keys are reported as type, bits, comment, SHA256 fingerprint (computed here) and whether
    options are set: the key material itself never leaves the host."
  - Each probe reports C(available=false) and the reason when it cannot look (C(/etc/shadow) unreadable when
    not root, C(sshd) not installed, C(sshd -T) failing), never a guess. Lists are capped at
    O(max_entries); the number left out is returned.
  - Fails on a host that is not Linux (the role's preflight).
version_added: "0.9.0"
author:
  - maint project
options:
  command_timeout:
    description:
      - Seconds allowed for each helper command (C(sshd -T), C(lastlog)).
    type: float
    default: 30.0
  max_entries:
    description:
      - Most entries returned per list (accounts, sudo rules, keys); the rest are counted.
    type: int
    default: 200
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
    description: Linux only; elsewhere the module fails saying so.
notes:
  - Standard library only, so it runs on any host with python3. Run it as root (C(become)) to read
    C(/etc/shadow), C(/etc/sudoers) and other users' home directories.
seealso:
  - module: maint.core.maint_evaluate
"""

EXAMPLES = r"""
- name: ACCESS-LNX-01..10 | AUDIT | Collect access data
  maint.core.linux_access_facts:
    command_timeout: 30
  register: linux_access_raw
"""

RETURN = r"""
linux_access:
  description: The raw access data, the input of the C(linux_access) evaluator.
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
    privileged:
      description: Whether the module ran as root.
      type: bool
    accounts:
      description: Accounts of C(/etc/passwd) (name, uid, gid, home, shell, login_shell), UID 0 names.
      type: dict
    groups:
      description: Members of the sudo, wheel and admin groups (explicit and by primary group).
      type: dict
    sudoers:
      description: Files read, sudo rules (users, NOPASSWD), C(Defaults !authenticate) entries, unreadable
        files.
      type: dict
    logins:
      description: Last login time (epoch seconds, null for never) per account, and the sources read.
      type: dict
    shadow:
      description: Per account the password state, last change (days since 1970) and INACTIVE; useradd's
        default.
      type: dict
    sshd:
      description: Selected settings of C(sshd -T).
      type: dict
    authorized_keys:
      description: Keys per account file (type, bits, comment, fingerprint, options), unreadable files.
      type: dict
"""

import base64
import binascii
import datetime
import hashlib
import os
import platform
import re
import socket
import struct
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.maint.core.plugins.module_utils.commands import run, which
from ansible_collections.maint.core.plugins.module_utils.files import read_text
from ansible_collections.maint.core.plugins.module_utils.probes import first_line, probe, unavailable, utc_now

SCHEMA = 1
ADMIN_GROUPS = ("sudo", "wheel", "admin")
NO_LOGIN_SHELLS = ("nologin", "false", "sync", "shutdown", "halt")
SSHD_KEYS = (
    "permitrootlogin",
    "passwordauthentication",
    "permitemptypasswords",
    "maxauthtries",
    "kbdinteractiveauthentication",
    "usepam",
    "pubkeyauthentication",
    "authorizedkeysfile",
    "authorizedkeyscommand",
)
DEFAULT_AUTHORIZED_KEYS = ".ssh/authorized_keys .ssh/authorized_keys2"
MAX_INCLUDE_DEPTH = 8
MAX_FILE_CHARS = 1000000
MAX_KEYS_FILE_CHARS = 2000000
LASTLOG_RECORD = struct.Struct("=i32s256s")  # struct lastlog: ll_time (int32), ll_line[32], ll_host[256]
UTMP_RECORD = struct.Struct("=h2xi32s4s32s256shhiii16s20s")  # glibc struct utmp on Linux, 384 bytes
UTMP_USER_PROCESS = 7
KEY_TYPES = {
    "ssh-rsa": "rsa",
    "ssh-dss": "dsa",
    "ssh-ed25519": "ed25519",
    "ecdsa-sha2-nistp256": "ecdsa",
    "ecdsa-sha2-nistp384": "ecdsa",
    "ecdsa-sha2-nistp521": "ecdsa",
    "sk-ecdsa-sha2-nistp256@openssh.com": "ecdsa-sk",
    "sk-ssh-ed25519@openssh.com": "ed25519-sk",
}
CERT_SUFFIX = "-cert-v01@openssh.com"


def os_error(exc):
    return exc.strerror or str(exc)


def capped(items, limit):
    """(the first ``limit`` items, how many were left out)."""
    items = list(items)
    return items[:limit], max(len(items) - limit, 0)


# ---------------------------------------------------------------- accounts and groups


def login_shell(shell):
    """Whether ``shell`` lets the account log in (not nologin, false, sync, shutdown, halt, empty)."""
    shell = (shell or "").strip()
    return bool(shell) and os.path.basename(shell) not in NO_LOGIN_SHELLS


def parse_passwd(text):
    accounts = []
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 7 or not fields[0] or fields[0].startswith(("+", "-")):
            continue
        try:
            uid, gid = int(fields[2]), int(fields[3])
        except ValueError:
            continue
        accounts.append(
            {
                "name": fields[0],
                "uid": uid,
                "gid": gid,
                "home": fields[5],
                "shell": fields[6],
                "login_shell": login_shell(fields[6]),
            }
        )
    return accounts


def parse_group(text):
    """group name -> {gid, members}."""
    groups = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 4 or not fields[0]:
            continue
        try:
            gid = int(fields[2])
        except ValueError:
            continue
        groups[fields[0]] = {"gid": gid, "members": [m for m in fields[3].strip().split(",") if m]}
    return groups


def read_accounts(limit, passwd_path="/etc/passwd"):  # noqa: S107 - a file, not a password
    text = read_text(passwd_path, MAX_FILE_CHARS)
    if text is None:
        return unavailable(f"cannot read {passwd_path}")
    accounts = parse_passwd(text)
    items, more = capped(accounts, limit)
    return {
        "available": True,
        "total": len(accounts),
        "items": items,
        "more": more,
        "uid0": [a["name"] for a in accounts if a["uid"] == 0],
        "login_shell_count": sum(1 for a in accounts if a["login_shell"]),
    }


def read_groups(accounts, group_path="/etc/group"):
    text = read_text(group_path, MAX_FILE_CHARS)
    if text is None:
        return unavailable(f"cannot read {group_path}")
    groups = parse_group(text)
    return {"available": True, "admin_groups": admin_group_members(groups, accounts), "all": groups}


def admin_group_members(groups, accounts):
    """sudo/wheel/admin -> sorted member names (explicit members and accounts with it as primary group)."""
    out = {}
    for name in ADMIN_GROUPS:
        entry = groups.get(name)
        if entry is None:
            continue
        members = set(entry["members"])
        members.update(a["name"] for a in accounts if a["gid"] == entry["gid"])
        out[name] = sorted(members)
    return out


def group_members(groups, accounts, name):
    entry = groups.get(name)
    if entry is None:
        return None
    members = set(entry["members"])
    members.update(a["name"] for a in accounts if a["gid"] == entry["gid"])
    return sorted(members)


# ---------------------------------------------------------------- sudoers

INCLUDE_RE = re.compile(r"^(?:@|#)(include|includedir)\s+(.+?)\s*$")
ALIAS_RE = re.compile(r"^(User_Alias|Runas_Alias|Host_Alias|Cmnd_Alias|Cmd_Alias)\s+(.*)$")
DEFAULTS_RE = re.compile(r"^Defaults([@:!>]\S+)?\s+(.*)$")
USERSPEC_RE = re.compile(r"^(?P<users>[^\s,]+(?:\s*,\s*[^\s,]+)*)\s+(?P<rest>\S.*?=.*)$")
TAG_RE = re.compile(
    r"\b(NOPASSWD|PASSWD|NOEXEC|EXEC|SETENV|NOSETENV|LOG_INPUT|NOLOG_INPUT|LOG_OUTPUT|"
    r"NOLOG_OUTPUT|MAIL|NOMAIL|FOLLOW|NOFOLLOW|INTERCEPT|NOINTERCEPT)\s*:"
)


def strip_comment(line):
    """A sudoers line without its comment: '#' starts one unless a digit follows (a user ID, '#1000')."""
    out = []
    quoted = False
    for i, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == "#" and not quoted and not (i + 1 < len(line) and line[i + 1].isdigit()):
            break
        out.append(char)
    return "".join(out).strip()


def logical_lines(text):
    """(first line number, text) of each logical line: a trailing backslash continues it."""
    buffer, start = [], None
    for number, raw in enumerate(text.splitlines(), 1):
        if start is None:
            start = number
        if raw.endswith("\\"):
            buffer.append(raw[:-1])
            continue
        buffer.append(raw)
        yield start, " ".join(buffer)
        buffer, start = [], None
    if buffer:
        yield start, " ".join(buffer)


def includedir_files(path, listdir=os.listdir):
    """The files sudo reads from an @includedir: lexical order, no name ending in '~' or holding a '.'."""
    names = sorted(listdir(path))
    kept = [n for n in names if not n.endswith("~") and "." not in n]
    skipped = [n for n in names if n not in kept]
    return [os.path.join(path, n) for n in kept], skipped


def _include_path(target, current, hostname):
    target = target.strip().strip('"').replace("%h", hostname)
    if not os.path.isabs(target):  # sudo 1.9.1+: relative to the including file's directory
        target = os.path.join(os.path.dirname(current), target)
    return target


def split_list(text):
    return [item.strip() for item in text.split(",") if item.strip()]


class SudoersReader:
    """Read /etc/sudoers and what it includes into rules, aliases and Defaults entries."""

    def __init__(self, limit, read=read_text, isdir=os.path.isdir, listdir=os.listdir, hostname=None):
        self.limit = limit
        self.read = read
        self.isdir = isdir
        self.listdir = listdir
        self.hostname = hostname if hostname is not None else socket.gethostname().split(".")[0]
        self.files = []
        self.skipped = []
        self.unreadable = []
        self.rules = []
        self.noauth = []
        self.aliases = {}
        self.unparsed = []
        self.seen = set()

    def read_file(self, path, depth=0):
        real = os.path.realpath(path)
        if real in self.seen:
            return
        if depth > MAX_INCLUDE_DEPTH:
            self.unreadable.append(
                {"path": path, "reason": f"included more than {MAX_INCLUDE_DEPTH} levels deep"}
            )
            return
        self.seen.add(real)
        text = self.read(path, MAX_FILE_CHARS)
        if text is None:
            reason = "missing" if not os.path.lexists(path) else "unreadable"
            try:
                with open(path, "rb"):
                    pass
            except OSError as exc:
                reason = os_error(exc)
            self.unreadable.append({"path": path, "reason": reason})
            return
        self.files.append(path)
        for number, raw in logical_lines(text):
            self.line(path, number, raw, depth)

    def read_dir(self, path, depth):
        if not self.isdir(path):
            return  # sudo ignores a missing includedir
        try:
            files, skipped = includedir_files(path, self.listdir)
        except OSError as exc:
            self.unreadable.append({"path": path, "reason": os_error(exc)})
            return
        self.skipped.extend(os.path.join(path, n) for n in skipped)
        for name in files:
            self.read_file(name, depth + 1)

    def line(self, path, number, raw, depth):
        stripped = raw.strip()
        match = INCLUDE_RE.match(stripped)
        if match:
            target = _include_path(match.group(2), path, self.hostname)
            if match.group(1) == "includedir":
                self.read_dir(target, depth)
            else:
                self.read_file(target, depth + 1)
            return
        text = strip_comment(stripped)
        if not text:
            return
        where = {"file": path, "line": number}
        match = DEFAULTS_RE.match(text)
        if match:
            scope = match.group(1) or ""
            for setting in split_list(match.group(2)):
                if re.fullmatch(r"!\s*authenticate", setting):
                    self.noauth.append(dict(where, scope=scope))
            return
        match = ALIAS_RE.match(text)
        if match:
            kind = match.group(1)
            for part in match.group(2).split(":"):
                name, sep, members = part.partition("=")
                if sep and name.strip():
                    self.aliases.setdefault(kind, {})[name.strip()] = split_list(members)
            return
        match = USERSPEC_RE.match(text)
        if not match:
            self.unparsed.append(dict(where, text=text[:200]))
            return
        rest = match.group("rest")
        commands = rest.split("=", 1)[1]
        tags = TAG_RE.findall(rest)
        self.rules.append(
            dict(
                where,
                users=split_list(match.group("users")),
                nopasswd="NOPASSWD" in tags,
                commands=" ".join(TAG_RE.sub("", commands).split())[:200],
            )
        )

    def result(self, root="/etc/sudoers"):
        if not os.path.lexists(root):
            return {"available": True, "present": False, "files": [], "rules": [], "noauth": []}
        self.read_file(root)
        if root not in self.files:
            reason = self.unreadable[0]["reason"] if self.unreadable else "unreadable"
            who = "" if os.geteuid() == 0 else f" (the module runs as uid {os.geteuid()}, not root)"
            return unavailable(f"cannot read {root}: {reason}{who}", unreadable=self.unreadable)
        user_aliases = self.aliases.get("User_Alias", {})
        for rule in self.rules:
            rule["principals"] = expand_users(rule["users"], user_aliases)
        rules, more_rules = capped(self.rules, self.limit)
        noauth, more_noauth = capped(self.noauth, self.limit)
        return {
            "available": True,
            "present": True,
            "files": self.files[: self.limit],
            "skipped_files": self.skipped[: self.limit],
            "unreadable": self.unreadable[: self.limit],
            "rules": rules,
            "more_rules": more_rules,
            "noauth": noauth,
            "more_noauth": more_noauth,
            "user_aliases": {k: v for k, v in list(user_aliases.items())[: self.limit]},
            "unparsed": self.unparsed[: self.limit],
        }


def expand_users(users, aliases, depth=0):
    """User list entries with User_Alias names replaced by their members (negations kept as written)."""
    out = []
    for user in users:
        negated = user.startswith("!")
        name = user[1:].strip() if negated else user
        if name in aliases and depth < 8:
            for member in expand_users(aliases[name], aliases, depth + 1):
                out.append(("!" + member) if negated else member)
        else:
            out.append(user)
    return out


def read_sudoers(limit, root="/etc/sudoers"):
    return SudoersReader(limit).result(root)


# ---------------------------------------------------------------- last logins


def parse_lastlog_binary(data, uid_names):
    """uid -> (time or None) from the bytes of /var/log/lastlog (a struct lastlog per uid, sparse)."""
    out = {}
    size = LASTLOG_RECORD.size
    for uid, name in uid_names.items():
        offset = uid * size
        if offset + size > len(data):
            out[name] = None
            continue
        when, _line, _host = LASTLOG_RECORD.unpack_from(data, offset)
        out[name] = when if when > 0 else None
    return out


def read_lastlog_file(uid_names, path="/var/log/lastlog"):
    """Read only the records of ``uid_names`` (the file is sparse: up to uid * 292 bytes)."""
    out = {}
    size = LASTLOG_RECORD.size
    with open(path, "rb") as handle:
        for uid, name in uid_names.items():
            handle.seek(uid * size)
            chunk = handle.read(size)
            out[name] = None
            if len(chunk) == size:
                when = LASTLOG_RECORD.unpack(chunk)[0]
                out[name] = when if when > 0 else None
    return out


LASTLOG_DATE_RE = re.compile(r"(\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d [+-]\d{4} \d{4})\s*$")


def parse_lastlog_output(text):
    """name -> epoch or None from `lastlog` (shadow-utils) output; lines not understood are counted."""
    out, unparsed = {}, 0
    for line in text.splitlines()[1:]:
        if not line.strip():
            continue
        name = line.split()[0]
        if "**Never logged in**" in line:
            out[name] = None
            continue
        match = LASTLOG_DATE_RE.search(line)
        try:
            if not match:
                raise ValueError(line)
            out[name] = int(datetime.datetime.strptime(match.group(1), "%a %b %d %H:%M:%S %z %Y").timestamp())
        except ValueError:
            unparsed += 1
    return out, unparsed


def parse_wtmp(data):
    """name -> latest login (epoch) from the bytes of /var/log/wtmp (USER_PROCESS records)."""
    out = {}
    size = UTMP_RECORD.size
    for offset in range(0, len(data) - size + 1, size):
        fields = UTMP_RECORD.unpack_from(data, offset)
        if fields[0] != UTMP_USER_PROCESS:
            continue
        name = fields[4].split(b"\0", 1)[0].decode("utf-8", "replace")
        when = fields[9]
        if name and when > out.get(name, 0):
            out[name] = when
    return out


def read_sqlite(path, query):
    import sqlite3

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(query).fetchall()
    finally:
        conn.close()


def read_logins(
    accounts,
    timeout,
    limit=200,
    lastlog2_db="/var/lib/lastlog/lastlog2.db",
    lastlog="/var/log/lastlog",
    wtmpdb="/var/lib/wtmpdb/wtmp.db",
    wtmp="/var/log/wtmp",
):
    """Latest login per login-shell account over every source the host has; the sources and why not."""
    wanted = {a["name"]: a["uid"] for a in accounts if a["login_shell"]}
    sources = []
    latest = {}

    def merge(found):
        for name, when in found.items():
            if name not in wanted:
                continue
            if when is not None and (latest.get(name) is None or when > latest[name]):
                latest[name] = when
            else:
                latest.setdefault(name, None)

    # lastlog2 (util-linux 2.40+) replaces lastlog on newer distributions
    if os.path.exists(lastlog2_db):
        try:
            rows = read_sqlite(lastlog2_db, "SELECT Name, Time FROM Lastlog2")
            merge({str(n): (int(t) if t else None) for n, t in rows})
            sources.append({"name": "lastlog2", "path": lastlog2_db, "available": True, "entries": len(rows)})
        except Exception as exc:  # sqlite3 missing, locked, another schema: say so
            sources.append({"name": "lastlog2", "path": lastlog2_db, "available": False, "reason": str(exc)})
    tool = which("lastlog")
    if tool is not None:
        try:
            rc, out, err = run([tool], timeout)
        except (OSError, subprocess.SubprocessError) as exc:
            rc, out, err = None, "", str(exc)
        if rc == 0:
            found, unparsed = parse_lastlog_output(out)
            merge(found)
            sources.append(
                {
                    "name": "lastlog",
                    "path": tool,
                    "available": True,
                    "entries": len(found),
                    "unparsed": unparsed,
                }
            )
        else:
            sources.append(
                {
                    "name": "lastlog",
                    "path": tool,
                    "available": False,
                    "reason": f"lastlog exited {rc}: {first_line(err)}",
                }
            )
    elif os.path.exists(lastlog):
        try:
            found = read_lastlog_file({uid: name for name, uid in wanted.items()}, lastlog)
            merge(found)
            sources.append(
                {"name": "lastlog_file", "path": lastlog, "available": True, "entries": len(found)}
            )
        except OSError as exc:
            sources.append(
                {"name": "lastlog_file", "path": lastlog, "available": False, "reason": os_error(exc)}
            )
    if os.path.exists(wtmpdb):
        try:
            rows = read_sqlite(wtmpdb, "SELECT User, MAX(Login) FROM wtmp WHERE Type = 7 GROUP BY User")
            merge({str(n): int(t) // 1000000 for n, t in rows if t})
            sources.append({"name": "wtmpdb", "path": wtmpdb, "available": True, "entries": len(rows)})
        except Exception as exc:
            sources.append({"name": "wtmpdb", "path": wtmpdb, "available": False, "reason": str(exc)})
    if os.path.exists(wtmp):
        try:
            with open(wtmp, "rb") as handle:
                data = handle.read(64 * 1024 * 1024)
            found = parse_wtmp(data)
            merge(found)
            sources.append({"name": "wtmp", "path": wtmp, "available": True, "entries": len(found)})
        except OSError as exc:
            sources.append({"name": "wtmp", "path": wtmp, "available": False, "reason": os_error(exc)})
    if not any(s["available"] for s in sources):
        tried = "; ".join(f"{s['name']}: {s['reason']}" for s in sources)
        return unavailable(
            "no login record on the host "
            "(no lastlog2.db, lastlog, /var/log/lastlog, wtmp.db or /var/log/wtmp)"
            + (f"; {tried}" if tried else ""),
            sources=sources,
        )
    last, more = capped(((n, latest.get(n)) for n in wanted), limit)
    return {"available": True, "sources": sources, "last": dict(last), "more": more}


# ---------------------------------------------------------------- shadow and useradd


def parse_shadow(text):
    out = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 8 or not fields[0]:
            continue

        def num(value):
            try:
                return int(value) if value.strip() else None
            except ValueError:
                return None

        password = fields[1]
        if password == "":
            state = "empty"
        elif password.startswith(("!", "*")):
            state = "locked"
        else:
            state = "set"
        out[fields[0]] = {
            "password": state,
            "last_change": num(fields[2]),
            "inactive": num(fields[6]),
            "expire": num(fields[7]),
        }
    return out


def parse_useradd_defaults(text):
    for line in (text or "").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key.strip() == "INACTIVE":
            try:
                return int(value.strip().strip('"'))
            except ValueError:
                return None
    return None


def read_shadow(accounts, limit, shadow="/etc/shadow", useradd="/etc/default/useradd"):
    useradd_text = read_text(useradd, 65536)
    defaults = {
        "path": useradd,
        "readable": useradd_text is not None,
        "inactive": parse_useradd_defaults(useradd_text),  # None: not set, useradd's built-in -1
    }
    try:
        with open(shadow, errors="replace") as handle:
            text = handle.read(MAX_FILE_CHARS)
    except OSError as exc:
        who = "" if os.geteuid() == 0 else f" (the module runs as uid {os.geteuid()}, not root)"
        return unavailable(f"cannot read {shadow}: {os_error(exc)}{who}", useradd=defaults)
    entries = parse_shadow(text)
    login = [a["name"] for a in accounts if a["login_shell"]]
    items, more = capped(((n, entries[n]) for n in login if n in entries), limit)
    return {
        "available": True,
        "useradd": defaults,
        "accounts": dict(items),
        "more": more,
        "today": int(time.time() // 86400),
    }


# ---------------------------------------------------------------- sshd -T


def parse_sshd_t(text):
    settings = {}
    for line in text.splitlines():
        key, _, value = line.strip().partition(" ")
        key = key.lower()
        if key in SSHD_KEYS and key not in settings:
            settings[key] = value.strip()
    return settings


def read_sshd(timeout):
    tool = which("sshd")
    if tool is None:
        return unavailable("sshd is not installed (no openssh-server)")
    try:
        rc, out, err = run([tool, "-T"], timeout)
    except subprocess.TimeoutExpired:
        return unavailable(f"{tool} -T did not answer within {timeout:g}s")
    except OSError as exc:
        return unavailable(f"{tool} -T could not run: {os_error(exc)}")
    settings = parse_sshd_t(out)
    if rc != 0 or "permitrootlogin" not in settings:
        why = first_line(err) or first_line(out) or "no output"
        return unavailable(f"{tool} -T failed (exit {rc}): {why}", path=tool)
    return {"available": True, "path": tool, "settings": settings}


# ---------------------------------------------------------------- authorized_keys


def _ssh_string(blob, offset):
    if offset + 4 > len(blob):
        raise ValueError("truncated")
    (length,) = struct.unpack(">I", blob[offset : offset + 4])
    end = offset + 4 + length
    if end > len(blob):
        raise ValueError("truncated")
    return blob[offset + 4 : end], end


def key_bits(key_type, blob):
    """Bits of a public key from its wire blob; raises ValueError when the blob does not match the type."""
    base = key_type[: -len(CERT_SUFFIX)] if key_type.endswith(CERT_SUFFIX) else key_type
    name, offset = _ssh_string(blob, 0)
    if name.decode("ascii", "replace") != key_type:
        raise ValueError("the key's blob names another type")
    if key_type.endswith(CERT_SUFFIX):
        _nonce, offset = _ssh_string(blob, offset)
    if base == "ssh-rsa":
        _e, offset = _ssh_string(blob, offset)
        n, offset = _ssh_string(blob, offset)
        return int.from_bytes(n, "big").bit_length()
    if base == "ssh-dss":
        p, offset = _ssh_string(blob, offset)
        return int.from_bytes(p, "big").bit_length()
    if base in ("ssh-ed25519", "sk-ssh-ed25519@openssh.com"):
        pub, offset = _ssh_string(blob, offset)
        if len(pub) != 32:
            raise ValueError("an ed25519 key is 32 bytes")
        return 256
    if "nistp" in base:
        curve, offset = _ssh_string(blob, offset)
        _point, offset = _ssh_string(blob, offset)
        bits = {"nistp256": 256, "nistp384": 384, "nistp521": 521}.get(curve.decode("ascii", "replace"))
        if bits is None:
            raise ValueError("unknown curve")
        return bits
    raise ValueError("unknown key type")


def fingerprint(blob):
    """SHA256:<base64 without padding> of the key blob, as `ssh-keygen -lf` prints it."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")


def _tokens(line):
    """Split at blanks outside double quotes (options hold quoted commands)."""
    tokens, current, quoted, escaped = [], [], False, False
    for char in line:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == '"':
            current.append(char)
            quoted = not quoted
        elif char in " \t" and not quoted:
            if current:
                tokens.append("".join(current))
                current = []
        else:
            current.append(char)
    if current:
        tokens.append("".join(current))
    return tokens


def _is_key_type(token):
    return token in KEY_TYPES or (token.endswith(CERT_SUFFIX) and token[: -len(CERT_SUFFIX)] in KEY_TYPES)


def parse_key_line(line):
    """One authorized_keys line as {type, bits, comment, fingerprint, options}, or {error}; never the key."""
    tokens = _tokens(line.strip())
    index = next((i for i, t in enumerate(tokens[:2]) if _is_key_type(t)), None)
    if index is None:
        # options are one token (comma-separated, quotes kept); a type we do not know still gets a reason
        return {"error": "no known key type in the line"}
    if index + 1 >= len(tokens):
        return {"error": "no key after the key type"}
    key_type = tokens[index]
    try:
        blob = base64.b64decode(tokens[index + 1], validate=True)
        bits = key_bits(key_type, blob)
    except (binascii.Error, ValueError) as exc:
        return {"error": f"the key is not valid {key_type} ({exc})", "type": key_type}
    base = key_type[: -len(CERT_SUFFIX)] if key_type.endswith(CERT_SUFFIX) else key_type
    return {
        "type": KEY_TYPES[base] + ("-cert" if key_type != base else ""),
        "algorithm": key_type,
        "bits": bits,
        "comment": " ".join(tokens[index + 2 :])[:100],
        "fingerprint": fingerprint(blob),
        "options": index == 1,
    }


def parse_authorized_keys(text, limit):
    keys, errors = [], []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parsed = parse_key_line(line)
        if "error" in parsed:
            errors.append({"line": number, "error": parsed["error"]})
        else:
            parsed["line"] = number
            keys.append(parsed)
    kept, more = capped(keys, limit)
    return kept, more, errors[:limit]


def expand_keys_file(pattern, account):
    """An AuthorizedKeysFile token with %h, %u, %U, %% expanded; relative to the home directory."""
    out = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "%" and i + 1 < len(pattern):
            code = pattern[i + 1]
            out.append(
                {"h": account["home"], "u": account["name"], "U": str(account["uid"]), "%": "%"}.get(
                    code, "%" + code
                )
            )
            i += 2
            continue
        out.append(char)
        i += 1
    path = "".join(out)
    return path if os.path.isabs(path) else os.path.join(account["home"], path)


def read_authorized_keys(accounts, sshd, limit):
    settings = sshd.get("settings", {}) if sshd.get("available") else {}
    configured = settings.get("authorizedkeysfile")
    patterns = (configured or DEFAULT_AUTHORIZED_KEYS).split()
    source = "sshd -T" if configured else "OpenSSH default (sshd -T gave none)"
    if configured and configured.lower() == "none":
        patterns = []
    files, unreadable = [], []
    total_keys = 0
    seen = set()
    for account in accounts:
        for pattern in patterns:
            path = expand_keys_file(pattern, account)
            if path in seen:
                continue
            seen.add(path)
            try:
                with open(path, errors="replace") as handle:
                    text = handle.read(MAX_KEYS_FILE_CHARS)
            except FileNotFoundError:
                continue
            except NotADirectoryError:
                continue
            except OSError as exc:
                if exc.errno == 13 or os.path.lexists(os.path.dirname(path)):
                    unreadable.append({"account": account["name"], "path": path, "reason": os_error(exc)})
                continue
            keys, more, errors = parse_authorized_keys(text, limit)
            total_keys += len(keys) + more
            files.append(
                {"account": account["name"], "path": path, "keys": keys, "more": more, "invalid": errors}
            )
    kept, more_files = capped(files, limit)
    return {
        "available": True,
        "authorized_keys_file": patterns,
        "authorized_keys_file_source": source,
        "authorized_keys_command": settings.get("authorizedkeyscommand", "none") or "none",
        "files": kept,
        "more_files": more_files,
        "total_keys": total_keys,
        "unreadable": unreadable[:limit],
        "more_unreadable": max(len(unreadable) - limit, 0),
    }


# ---------------------------------------------------------------- main


def collect(command_timeout=30.0, max_entries=200):
    data = {
        "schema": SCHEMA,
        "collected_at": utc_now(),
        "system": platform.system(),
        "hostname": socket.gethostname(),
        "privileged": os.geteuid() == 0,
        "euid": os.geteuid(),
    }
    accounts = probe("accounts", read_accounts, 100000)
    everyone = accounts.get("items", []) if accounts.get("available") else []
    groups = probe("groups", read_groups, everyone)
    sudoers = probe("sudoers", read_sudoers, max_entries)
    if sudoers.get("available") and groups.get("available"):
        # members of every group a sudo rule names ('%admins ALL=...'), so the evaluator can expand it
        named = sorted(
            {
                p.lstrip("!")[1:]
                for r in sudoers["rules"]
                for p in r["principals"]
                if p.lstrip("!").startswith("%") and not p.lstrip("!").startswith("%:")
            }
        )
        sudoers["group_members"] = {
            g: members
            for g in named[:max_entries]
            for members in [group_members(groups["all"], everyone, g)]
            if members is not None
        }
    if groups.get("available"):
        groups.pop("all")
    data["groups"] = groups
    data["sudoers"] = sudoers
    data["logins"] = probe("logins", read_logins, everyone, command_timeout, max_entries)
    data["shadow"] = probe("shadow", read_shadow, everyone, max_entries)
    data["sshd"] = probe("sshd", read_sshd, command_timeout)
    data["authorized_keys"] = probe(
        "authorized keys", read_authorized_keys, everyone, data["sshd"], max_entries
    )
    if accounts.get("available"):
        # accounts that can log in (and UID 0 ones) first: they are the ones judged
        ordered = [a for a in everyone if a["login_shell"] or a["uid"] == 0]
        ordered += [a for a in everyone if not (a["login_shell"] or a["uid"] == 0)]
        accounts["items"], accounts["more"] = capped(ordered, max_entries)
    data["accounts"] = accounts
    return data


def main():
    module = AnsibleModule(
        argument_spec={
            "command_timeout": {"type": "float", "default": 30.0},
            "max_entries": {"type": "int", "default": 200},
        },
        supports_check_mode=True,
    )
    system = platform.system()
    if system != "Linux":
        module.fail_json(
            msg=f"linux_access audits Linux hosts only; this host reports {system!r}. "
            "Remove the role from this host's group in the client's maintenance settings."
        )
    data = collect(module.params["command_timeout"], max(module.params["max_entries"], 1))
    module.exit_json(changed=False, linux_access=data)


if __name__ == "__main__":
    main()
