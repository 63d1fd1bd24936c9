# ruff: noqa: E501
"""Canary secrets planted in every secret position, on every platform, never survive masking.

``tests/data/network/canaries/<platform>.*`` are configurations written in each platform's real syntax
(statements as in the vendored corpus, ``tests/data/corpus/``) with one canary value (``Canary<Name>NNNN``,
names that do not look secret) per secret-bearing position, including values that a terminal wrapped
onto the next line. None of any canary may reach the masked text, the stored snapshot, ``maint config
show``, drift output or review evidence, not even a piece of one split by a line wrap.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runner.cli import app
from runner.ledger import Ledger
from runner.network import Platform, mask, mask_with_lines, normalise, review
from runner.network import snapshots as snaps
from runner.network.drift import compare

CANARY_DIR = Path(__file__).resolve().parents[1] / "data" / "network" / "canaries"
FILES = {p: next(CANARY_DIR.glob(f"{p.value}.*")) for p in Platform}
CANARY = re.compile(r"Canary ?[A-Z][a-z]+ ?\d{4}")  # an IOS password may hold blanks

#: how many canaries each file plants (so a file that lost some cannot pass)
PLANTED = {Platform.CISCO_IOS: 37, Platform.ARUBA_AOSCX: 17, Platform.ARUBA_AOSS: 29, Platform.FORTIOS: 12}

#: what masking keeps: the keyword and the type or hash word in front of the value
KEPT = {
    Platform.CISCO_IOS: [
        "enable secret 9 <masked>",
        "secret 8 <masked>",
        "password 7 <masked>",
        "key 7 <masked>",
        "server-key 7 <masked>",
        "server-key <masked>",
        "key-string 7 <masked>",
        "crypto isakmp key 6 <masked> address 198.51.100.2",
        "ip nhrp authentication <masked>",
        "standby 110 authentication <masked>",
        "standby 111 authentication md5 key-string 7 <masked>",
        "ntp authentication-key 1 md5 <masked> 7",
        "path ftp://archiver:<masked>@192.0.2.30/configs/$h",
        "auth sha <masked> priv aes 128 <masked>",
        "snmp-server community <masked:default> RW",
    ],
    Platform.ARUBA_AOSCX: [
        "password ciphertext <masked>",
        "password plaintext <masked>",
        "key ciphertext <masked> vrf mgmt",
        "auth-pass ciphertext <masked> priv aes priv-pass ciphertext <masked>",
        "snmp-server community <masked:default>",
    ],
    Platform.ARUBA_AOSS: [
        'local-user "ops" group "Level-15" password sha1 "<masked>',
        'password manager user-name "manager" sha1 "<masked>"',
        'password port-access user-name "dot1x" sha256 "<masked>"',
        'password operator user-name "operator" plaintext "<masked>"',
        'snmp-server community "<masked:default>" operator',
        'snmpv3 user "monitor" auth sha "<masked>" priv aes "<masked>"',
    ],
    Platform.FORTIOS: [
        "set password ENC <masked>",
        "set psksecret ENC <masked>",
        'set uri "https://hook:<masked>@192.0.2.64/backup"',
    ],
}


def logical(text: str) -> str:
    """``text`` with terminal-wrapped lines joined again (a 79-column line lost a trailing blank)."""
    out: list[str] = []
    buf = ""
    for line in text.split("\n"):
        buf += line
        if len(line) in (79, 80):
            buf += " " if len(line) == 79 else ""
            continue
        out.append(buf)
        buf = ""
    return "\n".join([*out, buf] if buf else out)


def canaries(platform: Platform) -> set[str]:
    raw = FILES[platform].read_text()
    found = set(CANARY.findall(logical(raw) if platform is Platform.ARUBA_AOSS else raw))
    assert len(found) == PLANTED[platform], sorted(found)
    return found


def pieces(canary: str) -> set[str]:
    """Every 5-character piece of a canary that is its own (not within the common ``Canary``):
    what a line wrap may leave of it on either line."""
    return {canary[i : i + 5] for i in range(len(canary) - 4)} - {"Canar", "anary"}


def assert_no_canary(platform: Platform, text: str, where: str) -> None:
    for canary in canaries(platform):
        leaked = sorted(p for p in pieces(canary) if p in text)
        assert not leaked, f"{platform.value}: {canary} leaks into {where} as {leaked}"


@pytest.mark.parametrize("platform", list(Platform), ids=lambda p: p.value)
def test_canaries_never_survive_masking(platform: Platform) -> None:
    raw = FILES[platform].read_text()
    for canary in canaries(platform):  # every canary really is in the raw text (whole or wrapped)
        assert canary in (logical(raw) if platform is Platform.ARUBA_AOSS else raw)
    normal = normalise(platform, raw)
    masked = mask(platform, normal)
    assert_no_canary(platform, masked, "the masked text")
    assert mask(platform, masked) == masked  # idempotent
    assert len(masked.splitlines()) == len(normal.splitlines())  # every line kept
    for kept in KEPT[platform]:
        assert kept in masked, kept
    evidence = json.dumps([f.model_dump(mode="json") for f in review(platform, raw)])
    assert_no_canary(platform, evidence, "review evidence")


def test_aoss_canary_file_is_really_wrapped() -> None:
    """The AOS-S file is what a switch prints at 80 columns: values split in every way a wrap can."""
    lines = FILES[Platform.ARUBA_AOSS].read_text().splitlines()
    assert max(len(line) for line in lines) == 80
    wrapped = [n for n, line in enumerate(lines, 1) if len(line) in (79, 80)]
    assert len(wrapped) >= 9
    text = "\n".join(lines)
    assert 'password sha1 "CanaryTulip0\n102"' in text  # inside a quoted value
    assert '0042-\na" sha1 "CanaryPoppy0107"' in text  # inside the user name
    assert '0042-b"\n sha1 "CanaryPeony0108"' in text  # before the hash word
    assert 'aaa" sha1\n "CanaryQuince0127"' in text  # after the hash word
    assert '"Level-15" pa\nssword sha1 "CanaryMedlar0128"' in text  # inside the keyword
    assert 'sha256 "\nCanarySloe0129"' in text  # after the opening quote
    assert "U2FsdGVkX\n1CanaryCedar0113CanaryBirch0114=" in text  # an unquoted value


def test_aoss_value_on_the_next_line_after_the_hash_word() -> None:
    """A value that lands alone on the next line (or after a moved hash word) is masked there."""
    text = (
        'hostname "sw"\n'
        'password manager user-name "manager" sha1\n'
        '"CanaryQuince0201"\n'
        'password operator user-name "operator"\n'
        'plaintext "CanaryMedlar0202"\n'
        'aaa authentication local-user "ops" group "Level-15" password sha256\n'
        ' "CanarySloe0203"\n'
        "radius-server host 192.0.2.1 key\n"
        '"CanaryRowan0204"\n'
        "ip ssh\n"
    )
    masked = mask(Platform.ARUBA_AOSS, text)
    assert "Canary" not in masked
    assert masked.splitlines()[2] == '"<masked>"' and masked.splitlines()[4] == 'plaintext "<masked>"'
    assert masked.splitlines()[-1] == "ip ssh"  # the line after a masked value is left alone


@pytest.mark.parametrize(
    "platform,line,expected",
    [
        (
            Platform.CISCO_IOS,
            " path scp://backup:CanaryPlum0301@192.0.2.9/$h",
            " path scp://backup:<masked>@192.0.2.9/$h",
        ),
        (
            Platform.CISCO_IOS,
            "ip http client password 7 CanaryPlum0302",
            "ip http client password 7 <masked>",
        ),
        (
            Platform.ARUBA_AOSCX,
            "https-server rest access-mode read-write",
            "https-server rest access-mode read-write",
        ),
        (
            Platform.ARUBA_AOSCX,
            "aruba-central location-override https://ops:CanaryPlum0303@central.example.net vrf mgmt",
            "aruba-central location-override https://ops:<masked>@central.example.net vrf mgmt",
        ),
        (
            Platform.ARUBA_AOSS,
            'aruba-central url "https://ops:CanaryPlum0304@central.example.net/"',
            'aruba-central url "https://ops:<masked>@central.example.net/"',
        ),
        (
            Platform.FORTIOS,
            '        set server "ftp://fgt:CanaryPlum0305@192.0.2.8/backup"',
            '        set server "ftp://fgt:<masked>@192.0.2.8/backup"',
        ),
        # no password in the URL: nothing to mask
        (
            Platform.CISCO_IOS,
            " path ftp://ns.foo.com//tftpboot/Foo-archive",
            " path ftp://ns.foo.com//tftpboot/Foo-archive",
        ),
    ],
)
def test_url_credentials_masked_on_every_platform(platform: Platform, line: str, expected: str) -> None:
    assert mask(platform, line + "\n") == expected + "\n"


def test_algorithm_names_and_lines_after_a_secret_are_not_masked() -> None:
    """Hash words inside algorithm names and a complete line after a secret line stay as written."""
    aoss = (
        "ip ssh kex diffie-hellman-group14-sha1 ecdh-sha2-nistp256\n"
        "no web-management plaintext\n"
        "logging 192.0.2.5\n"
    )
    assert mask(Platform.ARUBA_AOSS, aoss) == aoss
    ios = " ip ospf authentication-key 7 CanaryPlum0306\n!\n hash sha256\n authentication pre-share\n"
    assert (
        mask(Platform.CISCO_IOS, ios)
        == " ip ospf authentication-key 7 <masked>\n!\n hash sha256\n authentication pre-share\n"
    )


def test_pem_collapse_keeps_the_origin_of_every_line() -> None:
    text = "a\n-----BEGIN CERTIFICATE-----\nMIIB\nMIIC\n-----END CERTIFICATE-----\nb\n"
    masked, origin = mask_with_lines(Platform.FORTIOS, text)
    assert masked == "a\n<masked:pem>\nb\n"
    assert origin == [0, 1, 5, 6]


# --------------------------------------------------------------------------- stored, shown, diffed


@pytest.mark.parametrize("platform", list(Platform), ids=lambda p: p.value)
def test_canaries_absent_from_snapshot_config_show_and_drift(platform: Platform) -> None:
    raw = FILES[platform].read_text()
    ledger = Ledger()
    device = f"dev-{platform.value}"
    first = snaps.store(ledger, client="acme", device=device, platform=platform, raw=raw, use_env_key=False)
    assert_no_canary(platform, first.masked_text, "the stored masked snapshot")
    # a second fetch: every secret re-encrypted/changed (same length) and one real change
    changed = re.sub(r"Canary([A-Z])", lambda m: "Cznary" + m.group(1), raw)
    changed = changed.replace("192.0.2.", "192.0.9.", 1)
    second = snaps.store(
        ledger, client="acme", device=device, platform=platform, raw=changed, use_env_key=False
    )
    assert second.stored
    old, new = snaps.history(ledger, "acme", device)
    diff = "\n".join(compare(device, old, new).diff)
    assert "192.0.9." in diff  # the real change shows
    assert "Cznary" not in diff  # a changed secret does not
    assert_no_canary(platform, diff, "the drift diff")
    runner = CliRunner()
    shown = runner.invoke(app, ["config", "show", "acme", device], catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    assert_no_canary(platform, shown.output, "maint config show")
    report = runner.invoke(
        app, ["drift", "acme", "--device", device, "--since", "2000-01-01"], catch_exceptions=False
    )
    assert report.exit_code == 0, report.output
    assert_no_canary(platform, report.output, "maint drift")


@pytest.mark.parametrize(
    "platform,text,expected",
    [
        (IOS_ := Platform.CISCO_IOS, "username ops secret 5\n$1$CanaryPlum0401\n!\n", "username ops secret 5\n<masked>\n!\n"),
        (IOS_, " password 7\n CanaryPlum0402\n", " password 7\n <masked>\n"),
        (IOS_, "tacacs-server host 192.0.2.1 key 7\nCanaryPlum0403\n", "tacacs-server host 192.0.2.1 key 7\n<masked>\n"),
        (IOS_, " client 192.0.2.2 server-key 7\n CanaryPlum0404\n", " client 192.0.2.2 server-key 7\n <masked>\n"),
        (IOS_, "ntp authentication-key 1 md5\nCanaryPlum0405 7\n", "ntp authentication-key 1 md5\n<masked> 7\n"),
        (IOS_, "snmp-server user u g v3 auth sha\nCanaryPlum0406\n", "snmp-server user u g v3 auth sha\n<masked>\n"),
        (Platform.ARUBA_AOSCX, "user ops group administrators password ciphertext\nCanaryPlum0407\n", "user ops group administrators password ciphertext\n<masked>\n"),
        (Platform.ARUBA_AOSCX, "tacacs-server host 192.0.2.3 key plaintext\nCanaryPlum0408 vrf mgmt\n", "tacacs-server host 192.0.2.3 key plaintext\n<masked> vrf mgmt\n"),
        (Platform.ARUBA_AOSS, 'password manager user-name "m" sha1\n"CanaryPlum0409"\n', 'password manager user-name "m" sha1\n"<masked>"\n'),
        (Platform.ARUBA_AOSS, 'encrypted-password manager user-name "m"\nCanaryPlum0410=\n', 'encrypted-password manager user-name "m"\n<masked>\n'),
        (Platform.ARUBA_AOSS, 'aaa authentication local-user "o" group "G" password\nsha1 "CanaryPlum0411"\n', 'aaa authentication local-user "o" group "G" password\nsha1 "<masked>"\n'),
        (Platform.FORTIOS, "        set password ENC\nCanaryPlum0412\n", "        set password ENC\n<masked>\n"),
        (Platform.FORTIOS, '        set psksecret\n"CanaryPlum0413"\n', '        set psksecret\n"<masked>"\n'),
    ],
)  # fmt: skip
def test_value_on_the_next_line_on_every_platform(platform: Platform, text: str, expected: str) -> None:
    """After a keyword or type/hash word that ends a line, the next line's value is the secret."""
    assert mask(platform, text) == expected
    assert mask(platform, expected) == expected
