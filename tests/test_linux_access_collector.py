"""The parsers of the linux_access_facts module: sudoers includes, lastlog and wtmp records, key fingerprints.

The expected fingerprints and bits were printed by `ssh-keygen -lf` (OpenSSH 9.2p1) for the same public keys;
the sk keys were built by hand from their wire format (no hardware token needed for a public key).
"""

from __future__ import annotations

import importlib.util
import json
import struct
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import PLUGINS

ED25519 = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDmvsaGqBc8az+lDnCHn+O717nVHnl99kqTmMLrNqdQ0 alice@laptop",
    256,
    "SHA256:hK94C0RFS6hJv8rMVIPYp8xSSEcXoQJvk/KrtxPGNRM",
)
RSA = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQC5d9D6+WepQ+GjYZ4lY9AjD+KabHZTL3trP2B9YxBIrOBYo6TbuJFMCUmc"
    "p1m20E80MCPTXW2UFx+irBYFWnvcmPAR/O7L0V+XAPPiSpWG/vN57x2Nj2hKDrf40bWFEAjcj1GpWianj6a+5kGTP6rWerID"
    "GBMYhlkAKRDr6px+bSQcnXgMYl4MYMKioFBO5XIzVVArALilpP9yrFSthl4dHS6+mYsOkq3XIVBrcROK0ANs9ihB9fqWj79X"
    "CbhyADYuh075xjkCUdepcfv++MLeJQCcOvyriCDor5na8DzPlBDw3NIqB1yqKOa6++sGkOrG/njX0ZBUx3ZksJiyXijKH652"
    "pfNzdWUDUz02UvcUzkhMYxb6SHT/wf8TMtoWtZQA+XQrBVs3fkjwRKcoVmGIq94T/vv7ctPZx2wK6gvN6GNhHmRqJYZExbDr"
    "QV1ZxFDq0SXmkV/fa4tnNCPzd/ujprMfqEHYf9ZHhQcZiG7yuzBISSLs5WovyJNTdwjS/k8= old-vendor@example.net",
    3072,
    "SHA256:j+f+FuMNy6OyLkTzGFrwzc2Nqh7itM0HWc5TDGcYagA",
)
ECDSA = (
    "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBLskiG4QtehCh0vV07HXwJEQ"
    "Wwx/NPA+wq0ysFjLKes9gh8dr12cytXVNbDD6/gMMKMyEnyzQJHeMKyTzWn7kIl/r+Ope40tPJGUlpD37H7E4D4Qqwt+U+aU"
    "GrIp8+W31g== ci@runner",
    384,
    "SHA256:dyLMJss38lvFGhWQaldKvdlJKwh+0MtzF790ctX8JN0",
)
SK_ED25519 = (
    "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIAABAgMEBQYHCAkKCwwNDg8QE"
    "RITFBUWFxgZGhscHR4fAAAABHNzaDo= yubikey@desk",
    256,
    "SHA256:/p0CbeE3dk2SyW1OXXsThGc12ezDVD8eGw2/vtztDfk",
)
SK_ECDSA = (
    "sk-ecdsa-sha2-nistp256@openssh.com AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20AAAAIbmlzd"
    "HAyNTYAAABBBGsX0fLhLEJH+Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT+NC4v4af5uO5+tKfA+eFivOM1drMV7Oy7ZAaDe/U"
    "fUAAAAEc3NoOg== token@desk",
    256,
    "SHA256:Sq6FPgsPWZc3RXSXKFq4uzEhPEwaHZCAoX46/7Q5024",
)


@pytest.fixture(scope="module")
def mod() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "linux_access_facts", PLUGINS / "modules/linux_access_facts.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- keys


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        (ED25519, "ed25519"),
        (RSA, "rsa"),
        (ECDSA, "ecdsa"),
        (SK_ED25519, "ed25519-sk"),
        (SK_ECDSA, "ecdsa-sk"),
    ],
    ids=["ed25519", "rsa", "ecdsa", "sk-ed25519", "sk-ecdsa"],
)
def test_key_type_bits_and_fingerprint_are_ssh_keygen_s(
    mod: ModuleType, key: tuple[str, int, str], kind: str
) -> None:
    line, bits, fingerprint = key
    parsed = mod.parse_key_line(line)
    assert (parsed["type"], parsed["bits"], parsed["fingerprint"]) == (kind, bits, fingerprint)
    assert parsed["comment"] == line.split()[-1]
    assert parsed["options"] is False


def test_options_are_reported_as_present_not_shown(mod: ModuleType) -> None:
    line = 'command="/usr/bin/backup --run now",no-pty,from="192.0.2.0/24" ' + ED25519[0]
    parsed = mod.parse_key_line(line)
    assert parsed["options"] is True
    assert parsed["fingerprint"] == ED25519[2]
    assert "backup" not in json.dumps(parsed)


def test_a_canary_key_body_never_reaches_the_output(mod: ModuleType, tmp_path: Path) -> None:
    """A real key, a corrupt one and one whose blob names another type: no part of any body is returned."""
    canary_body = RSA[0].split()[1]
    corrupt = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDmvsaGqBc8az+CANARYCANARYCANARY"
    mismatched = "ssh-rsa " + ED25519[0].split()[1] + " liar"
    text = "\n".join(["# team keys", RSA[0], corrupt, mismatched, "not a key at all", ""])
    home = tmp_path / "home" / "vendor"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "authorized_keys").write_text(text)
    account = {
        "name": "vendor",
        "uid": 1001,
        "gid": 1001,
        "home": str(home),
        "shell": "/bin/bash",
        "login_shell": True,
    }
    out = mod.read_authorized_keys([account], {"available": True, "settings": {}}, 200)
    dumped = json.dumps(out)
    for body in (canary_body, corrupt.split()[1], ED25519[0].split()[1]):
        for start in range(0, len(body) - 12, 6):  # no 12-character piece of any body
            assert body[start : start + 12] not in dumped
    (entry,) = out["files"]
    assert [k["fingerprint"] for k in entry["keys"]] == [RSA[2]]
    assert [i["line"] for i in entry["invalid"]] == [3, 4, 5]
    assert out["authorized_keys_file_source"] == "OpenSSH default (sshd -T gave none)"


def test_authorized_keys_file_tokens_expand(mod: ModuleType) -> None:
    account = {"name": "bob", "uid": 1002, "home": "/home/bob"}
    assert mod.expand_keys_file(".ssh/authorized_keys", account) == "/home/bob/.ssh/authorized_keys"
    assert mod.expand_keys_file("/etc/ssh/keys/%u", account) == "/etc/ssh/keys/bob"
    assert mod.expand_keys_file("%h/.ssh/k_%U_%%", account) == "/home/bob/.ssh/k_1002_%"


# ---------------------------------------------------------------- sudoers


def _reader(mod: ModuleType, files: dict[str, str]) -> Any:
    dirs: dict[str, list[str]] = {}
    for path in files:
        parent, _, name = path.rpartition("/")
        dirs.setdefault(parent, []).append(name)

    def read(path: str, _limit: int | None = None) -> str | None:
        return files.get(path)

    return mod.SudoersReader(
        200, read=read, isdir=lambda p: p in dirs, listdir=lambda p: list(dirs[p]), hostname="web01"
    )


def test_sudoers_includes_follow_sudo_s_rules(mod: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {
        "/etc/sudoers": (
            "Defaults env_reset\n"
            "User_Alias OPS = carol, dave\n"
            "root ALL=(ALL:ALL) ALL\n"
            "%sudo ALL=(ALL:ALL) ALL # admins\n"
            "@includedir /etc/sudoers.d\n"
            "#include sudoers.local\n"
            "@include /etc/sudoers.%h\n"
        ),
        "/etc/sudoers.d/10-ops": (
            "OPS ALL=(root) NOPASSWD: /usr/bin/systemctl restart app, \\\n  /usr/bin/journalctl\n"
        ),
        "/etc/sudoers.d/20-ci": "Defaults:ci !authenticate\nci, #1005 ALL = (ALL) ALL\n",
        "/etc/sudoers.d/README": "# read: no dot, no tilde (Debian ships one, all comments)\n",
        "/etc/sudoers.d/old~": "eve ALL=(ALL) NOPASSWD: ALL\n",
        "/etc/sudoers.d/30-x.dpkg-old": "eve ALL=(ALL) NOPASSWD: ALL\n",
        "/etc/sudoers.local": "frank ALL=(ALL) PASSWD: /bin/ls, NOPASSWD: /bin/cat\n",
        "/etc/sudoers.web01": "Defaults !authenticate\n",
    }
    monkeypatch.setattr(mod.os.path, "lexists", lambda p: p in files or p == "/etc/sudoers.d")
    monkeypatch.setattr(mod.os.path, "realpath", lambda p: p)
    out = _reader(mod, files).result()
    assert out["files"] == [
        "/etc/sudoers",
        "/etc/sudoers.d/10-ops",
        "/etc/sudoers.d/20-ci",
        "/etc/sudoers.d/README",
        "/etc/sudoers.local",
        "/etc/sudoers.web01",
    ]
    assert out["skipped_files"] == ["/etc/sudoers.d/30-x.dpkg-old", "/etc/sudoers.d/old~"]
    rules = {(r["file"].rsplit("/", 1)[1], r["line"]): r for r in out["rules"]}
    assert rules[("sudoers", 3)]["users"] == ["root"] and not rules[("sudoers", 3)]["nopasswd"]
    assert rules[("sudoers", 4)]["users"] == ["%sudo"]
    ops = rules[("10-ops", 1)]
    assert ops["principals"] == ["carol", "dave"] and ops["nopasswd"] is True
    assert "/usr/bin/journalctl" in ops["commands"]  # the continued line is one rule
    assert rules[("20-ci", 2)]["users"] == ["ci", "#1005"]  # '#1005' is a user ID, not a comment
    assert rules[("sudoers.local", 1)]["nopasswd"] is True
    assert [(n["file"], n["scope"]) for n in out["noauth"]] == [
        ("/etc/sudoers.d/20-ci", ":ci"),
        ("/etc/sudoers.web01", ""),
    ]
    assert out["unparsed"] == [] and out["unreadable"] == []


def test_an_unreadable_sudoers_is_not_checked_with_the_reason(mod: ModuleType, tmp_path: Path) -> None:
    missing_include = tmp_path / "sudoers"
    missing_include.write_text("@include /nonexistent/sudoers.extra\nroot ALL=(ALL) ALL\n")
    out = mod.SudoersReader(200).result(str(missing_include))
    assert out["available"] is True
    assert out["unreadable"] == [
        {"path": "/nonexistent/sudoers.extra", "reason": "No such file or directory"}
    ]
    assert mod.SudoersReader(200).result(str(tmp_path / "absent")) == {
        "available": True,
        "present": False,
        "files": [],
        "rules": [],
        "noauth": [],
    }


def test_includedir_names_sudo_skips(mod: ModuleType) -> None:
    files, skipped = mod.includedir_files("/d", lambda _p: ["b", "a", "c~", "x.conf", "README", "90-x"])
    assert files == ["/d/90-x", "/d/README", "/d/a", "/d/b"]
    assert skipped == ["c~", "x.conf"]


# ---------------------------------------------------------------- last logins


def test_lastlog_binary_records_by_uid(mod: ModuleType, tmp_path: Path) -> None:
    record = struct.Struct("=i32s256s")
    data = bytearray(record.size * 1001)
    record.pack_into(data, 0, 1764500000, b"pts/0", b"192.0.2.7")
    record.pack_into(data, record.size * 1000, 0, b"", b"")
    path = tmp_path / "lastlog"
    path.write_bytes(bytes(data))
    got = mod.read_lastlog_file({0: "root", 1000: "alice", 5000: "ghost"}, str(path))
    assert got == {"root": 1764500000, "alice": None, "ghost": None}
    assert mod.parse_lastlog_binary(bytes(data), {0: "root", 1000: "alice"}) == {
        "root": 1764500000,
        "alice": None,
    }


def test_wtmp_keeps_the_latest_user_process_login(mod: ModuleType) -> None:
    utmp = struct.Struct("=h2xi32s4s32s256shhiii16s20s")
    assert utmp.size == 384  # glibc's struct utmp on Linux

    def rec(kind: int, user: bytes, when: int) -> bytes:
        return utmp.pack(kind, 1, b"pts/1", b"ts/1", user, b"198.51.100.2", 0, 0, 0, when, 0, b"", b"")

    data = rec(7, b"alice", 100) + rec(8, b"alice", 900) + rec(7, b"alice", 300) + rec(2, b"reboot", 999)
    assert mod.parse_wtmp(data + b"\0" * 10) == {"alice": 300}


def test_lastlog_tool_output(mod: ModuleType) -> None:
    text = (
        "Username         Port     From                                       Latest\n"
        "root             pts/0    192.0.2.1                                 Tue Dec  1 10:00:00 +0100 2026\n"
        "bob                                                                  **Never logged in**\n"
        "odd              garbage\n"
    )
    found, unparsed = mod.parse_lastlog_output(text)
    assert found == {"root": 1796115600, "bob": None}  # 2026-12-01T09:00:00Z
    assert unparsed == 1


def test_shadow_states_and_useradd_default(mod: ModuleType) -> None:
    shadow = mod.parse_shadow(
        "root:*:20000:0:99999:7:::\nalice:$6$x$y:20100:0:99999:7:30::\nbob::19000::::::\n"
    )
    assert shadow["root"] == {"password": "locked", "last_change": 20000, "inactive": None, "expire": None}
    assert shadow["alice"]["inactive"] == 30 and shadow["alice"]["password"] == "set"
    assert shadow["bob"]["password"] == "empty"
    assert "$6$" not in json.dumps(shadow)
    assert mod.parse_useradd_defaults("# c\nSHELL=/bin/sh\nINACTIVE=45\n") == 45
    assert mod.parse_useradd_defaults("# INACTIVE=-1\n") is None


def test_login_shells(mod: ModuleType) -> None:
    assert [
        mod.login_shell(s) for s in ("/bin/bash", "/usr/sbin/nologin", "/bin/false", "/bin/sync", "")
    ] == [
        True,
        False,
        False,
        False,
        False,
    ]
