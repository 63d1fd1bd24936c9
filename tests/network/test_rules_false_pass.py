# ruff: noqa: E501
"""Review rules judge what a device really says: no pass for a line that only looks like the requirement.

Every rule whose match was "any keyword except ..." (remote logging on AOS-S and AOS-CX), or that accepts a
value it should not (FortiOS trusted hosts with a 0.0.0.0 mask, syslog enabled without a server), has a
real-world-shaped configuration here that must fail, next to one that must pass. Evidence line numbers are
the input's own.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runner.cli import app
from runner.network import Platform, mask, review
from runner.results import Status

CANARIES = Path(__file__).resolve().parents[1] / "data" / "network" / "canaries"

AOSS = Platform.ARUBA_AOSS
CX = Platform.ARUBA_AOSCX
IOS = Platform.CISCO_IOS
FGT = Platform.FORTIOS

AOSS_HEAD = '; J9729A Configuration Editor; Created on release #WB.16.10.0012\nhostname "sw-01"\n'
CX_HEAD = "!Version ArubaOS-CX PL.10.13.0005\nhostname cx-01\n"
IOS_HEAD = "version 15.4\nservice password-encryption\nhostname rtr-01\n"

FGT_LOG = """config log syslogd setting
    set status enable
{server}end
"""
FGT_ADMIN = """config system admin
    edit "admin"
        set accprofile "super_admin"
        {trusthost}
    next
end
"""

CASES: list[tuple[str, Platform, str, str, Status]] = [
    # AOS-S remote logging: command logging, facility and severity are no destination
    ("aoss-logging-command", AOSS, AOSS_HEAD + "logging command\nlogging facility syslog\n", "NET-AOSS-06", Status.FAIL),
    ("aoss-logging-severity", AOSS, AOSS_HEAD + "logging severity warning\nlogging origin-id hostname\n", "NET-AOSS-06", Status.FAIL),
    ("aoss-logging-notify", AOSS, AOSS_HEAD + "logging notify running-config-change\n", "NET-AOSS-06", Status.FAIL),
    ("aoss-logging-ipv4", AOSS, AOSS_HEAD + "logging command\nlogging 192.0.2.5\n", "NET-AOSS-06", Status.PASS),
    ("aoss-logging-ipv6-tcp", AOSS, AOSS_HEAD + "logging 2001:db8::5 tcp 1470\n", "NET-AOSS-06", Status.PASS),
    ("aoss-logging-fqdn", AOSS, AOSS_HEAD + "logging syslog.example.net\n", "NET-AOSS-06", Status.PASS),
    # AOS-CX remote logging
    ("cx-logging-facility", CX, CX_HEAD + "logging facility local7\nlogging filter NOLLDP\n", "NET-CX-03", Status.FAIL),
    ("cx-logging-persistent", CX, CX_HEAD + "logging persistent-storage\nlogging threshold warning\n", "NET-CX-03", Status.FAIL),
    ("cx-logging-ipv4", CX, CX_HEAD + "logging 192.0.2.45 vrf mgmt\n", "NET-CX-03", Status.PASS),
    ("cx-logging-name-vrf", CX, CX_HEAD + "logging syslog01 vrf mgmt\n", "NET-CX-03", Status.PASS),
    ("cx-logging-fqdn", CX, CX_HEAD + "logging syslog.example.net severity warning\n", "NET-CX-03", Status.PASS),
    # IOS remote syslog: local logging only
    ("ios-logging-local-only", IOS, IOS_HEAD + "logging buffered 16384\nlogging trap informational\n", "NET-IOS-07", Status.FAIL),
    ("ios-logging-host", IOS, IOS_HEAD + "logging host 192.0.2.9 vrf Mgmt\n", "NET-IOS-07", Status.PASS),
    # FortiOS remote logging: enabled without a server sends logs nowhere
    ("fgt-syslog-no-server", FGT, FGT_LOG.format(server=""), "NET-FGT-06", Status.FAIL),
    ("fgt-syslog-empty-server", FGT, FGT_LOG.format(server='    set server ""\n'), "NET-FGT-06", Status.FAIL),
    ("fgt-syslog-server", FGT, FGT_LOG.format(server='    set server "192.0.2.65"\n'), "NET-FGT-06", Status.PASS),
    (
        "fgt-faz-cloud",
        FGT,
        "config log fortianalyzer-cloud setting\n    set status enable\nend\n",
        "NET-FGT-06",
        Status.PASS,
    ),
    # FortiOS trusted hosts: a 0.0.0.0 mask admits everyone whatever the address
    ("fgt-trusthost-zero-mask", FGT, FGT_ADMIN.format(trusthost="set trusthost1 10.0.0.0 0.0.0.0"), "NET-FGT-04", Status.FAIL),
    ("fgt-trusthost-any", FGT, FGT_ADMIN.format(trusthost="set trusthost1 0.0.0.0 0.0.0.0"), "NET-FGT-04", Status.FAIL),
    ("fgt-ip6-trusthost-any", FGT, FGT_ADMIN.format(trusthost="set ip6-trusthost1 2001:db8::/0"), "NET-FGT-04", Status.FAIL),
    ("fgt-trusthost-lan", FGT, FGT_ADMIN.format(trusthost="set trusthost1 10.10.0.0 255.255.255.0"), "NET-FGT-04", Status.PASS),
    ("fgt-ip6-trusthost-lan", FGT, FGT_ADMIN.format(trusthost="set ip6-trusthost1 2001:db8:10::/64"), "NET-FGT-04", Status.PASS),
    # AOS-S stored passwords: a local user's plaintext password
    (
        "aoss-local-user-plaintext",
        AOSS,
        AOSS_HEAD + 'aaa authentication local-user "desk" group "Level-1" password plaintext "x1"\n',
        "NET-AOSS-07",
        Status.FAIL,
    ),
    (
        "aoss-local-user-sha1",
        AOSS,
        AOSS_HEAD + 'password manager user-name "manager" sha1 "x2"\n',
        "NET-AOSS-07",
        Status.PASS,
    ),
    ("aoss-community-unrestricted", AOSS, AOSS_HEAD + 'snmp-server community "public" unrestricted\n', "NET-AOSS-04", Status.FAIL),
    ("aoss-community-restricted", AOSS, AOSS_HEAD + 'snmp-server community "public" operator restricted\n', "NET-AOSS-04", Status.PASS),
    # IOS-04: keys are judged like passwords; banner text is not configuration
    ("ios-tacacs-key-7", IOS, IOS_HEAD + "tacacs-server host 192.0.2.28 key 7 0822455D0A16\n", "NET-IOS-04", Status.FAIL),
    ("ios-radius-key-clear", IOS, IOS_HEAD + "radius-server key s3cr3tk3y\n", "NET-IOS-04", Status.FAIL),
    ("ios-server-block-key-7", IOS, IOS_HEAD + "tacacs server TAC1\n address ipv4 192.0.2.26\n key 7 0822455D0A16\n", "NET-IOS-04", Status.FAIL),
    ("ios-server-block-key-0", IOS, IOS_HEAD + "radius server R1\n address ipv4 192.0.2.24\n key 0 s3cr3tk3y\n", "NET-IOS-04", Status.FAIL),
    ("ios-server-key", IOS, IOS_HEAD + "aaa server radius dynamic-author\n client 192.0.2.22 server-key 7 0822455D0A16\n", "NET-IOS-04", Status.FAIL),
    ("ios-server-key-clear", IOS, IOS_HEAD + "aaa server radius dynamic-author\n client 192.0.2.23 server-key s3cr3tk3y\n", "NET-IOS-04", Status.FAIL),
    ("ios-isakmp-key-clear", IOS, IOS_HEAD + "crypto isakmp key s3cr3tk3y address 198.51.100.1\n", "NET-IOS-04", Status.FAIL),
    ("ios-key-6", IOS, IOS_HEAD + "radius server R1\n key 6 ZZMhX[AEFJ^IdHPEEAAB\ncrypto isakmp key 6 YhVIP address 198.51.100.2\n", "NET-IOS-04", Status.PASS),
    ("ios-tunnel-key", IOS, IOS_HEAD + "interface Tunnel0\n tunnel key 12345\n", "NET-IOS-04", Status.PASS),
    (
        "ios-banner-password",
        IOS,
        IOS_HEAD + "banner motd ^C\nNo password is ever asked for by phone.\nEnter your password 7 times? No.\n^C\n",
        "NET-IOS-04",
        Status.PASS,
    ),
]  # fmt: skip


@pytest.mark.parametrize("name,platform,text,control,status", CASES, ids=[c[0] for c in CASES])
def test_rule_judges_the_real_world_case(
    name: str, platform: Platform, text: str, control: str, status: Status
) -> None:
    finding = {f.control: f for f in review(platform, text)}[control]
    assert finding.status is status, (name, finding.evidence)


def test_every_failing_case_names_the_offending_input_line() -> None:
    """A finding about a line names that line of the input, as numbered in the input."""
    for name, platform, text, control, status in CASES:
        if status is not Status.FAIL:
            continue
        lines = text.split("\n")
        finding = {f.control: f for f in review(platform, text)}[control]
        for item in finding.evidence["problems"]:
            if "text" in item:
                assert mask(platform, lines[item["line"] - 1]).strip() == item["text"], (name, item)


def test_evidence_line_numbers_count_dropped_header_lines(tmp_path: Path) -> None:
    """Normalising drops "Building configuration..." & co.; evidence still names the file's own line."""
    path = CANARIES / "cisco_ios.cfg"
    lines = path.read_text().splitlines()
    assert lines[0] == "Building configuration..."  # header lines normalise drops
    community = next(n for n, line in enumerate(lines, 1) if line == "snmp-server community private RW")
    key7 = next(
        n for n, line in enumerate(lines, 1) if line.startswith("tacacs-server host 192.0.2.28 key 7")
    )
    findings = {f.control: f for f in review(IOS, path.read_text())}
    assert {"line": community, "text": "snmp-server community <masked:default> RW"} in findings[
        "NET-IOS-05"
    ].evidence["problems"]
    assert {"line": key7, "text": "tacacs-server host 192.0.2.28 key 7 <masked>"} in findings[
        "NET-IOS-04"
    ].evidence["problems"]
    banner = next(n for n, line in enumerate(lines, 1) if "Your password" in line)
    assert all(item.get("line") != banner for item in findings["NET-IOS-04"].evidence["problems"])
    # the same numbers in what lint-config prints, with CRLF line ends too
    crlf = tmp_path / "crlf.cfg"
    crlf.write_bytes(path.read_text().replace("\n", "\r\n").encode())
    result = CliRunner().invoke(app, ["lint-config", str(crlf), "--json"], catch_exceptions=False)
    data = json.loads(result.stdout)
    ios05 = next(f for f in data["findings"] if f["control"] == "NET-IOS-05")
    assert {"line": community, "text": "snmp-server community <masked:default> RW"} in ios05["evidence"][
        "problems"
    ]
    table = CliRunner().invoke(app, ["lint-config", str(path)], catch_exceptions=False)
    assert re.search(rf"\bl\.{community}\b", table.output), table.output
