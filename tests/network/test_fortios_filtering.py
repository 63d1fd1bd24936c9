"""FortiGate filtering on internet-facing policies (NET-FGT-13..25, issue 15 §2).

Every rule passes on a configuration written to meet it (``single_vdom_good.conf``) and fails on the
same configuration with one thing changed; the multi-VDOM configuration (zones, SD-WAN, VIPs) is judged
per VDOM; the public FortiOS configurations of the corpus give the outcomes their contents call for.
Configurations: ``tests/data/network/fortios_filtering/`` (README there).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from runner.cli import app
from runner.network import Platform, read_config, review
from runner.results import Finding, Status

DATA = Path(__file__).resolve().parents[1] / "data" / "network" / "fortios_filtering"
CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "fortios"
SIM = Path(__file__).resolve().parents[2] / "maint_devtools" / "sim_data" / "fortios" / "running-config.txt"
GOOD = (DATA / "single_vdom_good.conf").read_text()
MULTI = (DATA / "multi_vdom_sdwan.conf").read_text()
IDS = [f"NET-FGT-{n}" for n in range(13, 26)]

FAIL, WARN, PASS, NC = Status.FAIL, Status.WARN, Status.PASS, Status.NOT_CHECKED


def judged(text: str, **overrides: Any) -> dict[str, Finding]:
    return {f.control: f for f in review(Platform.FORTIOS, text, overrides=overrides or None)}


Edit = tuple[str, str] | tuple[int, str, str]


def edited(*edits: Edit, text: str = GOOD) -> str:
    """``text`` with each ``(old, new)`` replaced, or ``(policy, old, new)`` inside that policy only."""
    for edit in edits:
        if len(edit) == 3:
            policy, old, new = edit
            start = text.index(f"    edit {policy}\n", text.index("config firewall policy\n"))
            end = text.index("    next\n", start)
            body = text[start:end]
            assert old in body, f"edit {old!r} matches nothing in policy {policy}"
            text = text[:start] + body.replace(old, new) + text[end:]
        else:
            old, new = edit
            assert old in text, f"edit {old!r} matches nothing"
            text = text.replace(old, new)
    return text


def line_of(text: str, needle: str, start: int = 1) -> int:
    for n, line in enumerate(text.splitlines()[start - 1 :], start=start):
        if needle in line:
            return n
    raise AssertionError(f"{needle!r} not found")


def policy_line(text: str, policy: int) -> int:
    start = line_of(text, "config firewall policy")
    return line_of(text, f"    edit {policy}", start)


# --------------------------------------------------------------------------- the passing configuration


def test_written_configuration_passes_every_filtering_rule() -> None:
    found = judged(GOOD)
    assert {c: found[c].status for c in IDS} == dict.fromkeys(IDS, PASS)
    # the LAN-to-DMZ policy (4), the SSL-VPN policy (5) and the disabled one (6) are not internet-facing
    assert found["NET-FGT-13"].evidence["blocks_checked"] == 3
    assert [m["block"] for m in found["NET-FGT-13"].evidence["matched"]] == [
        f"config firewall policy > edit {n}" for n in (1, 2, 3)
    ]
    # web and DNS filtering judge outbound policies only (3 publishes a virtual IP)
    assert found["NET-FGT-14"].evidence["blocks_checked"] == 2
    assert found["NET-FGT-15"].evidence["blocks_checked"] == 2
    # RADIUS members: passed, with what could not be judged said
    assert "RADIUS server" in found["NET-FGT-25"].evidence["reason"]
    assert "domain" not in found["NET-FGT-13"].evidence
    assert all(found[c].domain.value == "security" for c in IDS)


# --------------------------------------------------------------------------- one change, one failure


class L:
    """An expected line number: where ``needle`` is in the text judged (edits move lines)."""

    def __init__(self, needle: str) -> None:
        self.needle = needle

    def __call__(self, text: str) -> int:
        return line_of(text, self.needle)


class Policy(L):
    def __init__(self, policy: int) -> None:
        super().__init__("")
        self.policy = policy

    def __call__(self, text: str) -> int:
        return policy_line(text, self.policy)


WF_LINE = line_of(GOOD, 'edit "wf-strict"')
CASES: list[tuple[str, str, tuple[Edit, ...], Status, dict[str, Any]]] = [
    (
        "av-missing-inbound",
        "NET-FGT-13",
        ((3, '        set av-profile "av-strict"\n', ""),),
        FAIL,
        {
            "block": "config firewall policy > edit 3",
            "line": Policy(3),
            "missing": "set av-profile <antivirus profile>",
        },
    ),
    (
        "webfilter-missing",
        "NET-FGT-14",
        ((1, '        set webfilter-profile "wf-strict"\n', ""),),
        FAIL,
        {
            "block": "config firewall policy > edit 1",
            "line": Policy(1),
            "missing": "set webfilter-profile <web filter profile>",
        },
    ),
    (
        "webfilter-monitors-phishing",
        "NET-FGT-14",
        (
            (
                "                    set category 61\n                    set action block\n",
                "                    set category 61\n                    set action monitor\n",
            ),
        ),
        FAIL,
        {
            "block": "config firewall policy > edit 1",
            "line": L('set webfilter-profile "wf-strict"'),
            "text": 'set webfilter-profile "wf-strict"',
            "missing": f'web filter profile "wf-strict" (line {WF_LINE}) '
            "does not block FortiGuard Security Risk category 61",
        },
    ),
    (
        "webfilter-default-action-is-monitor",
        "NET-FGT-14",
        (
            (
                "                    set category 90\n                    set action block\n",
                "                    set category 90\n",
            ),
            (
                "                    set category 91\n                    set action block\n",
                "                    set category 91\n                    set action warning\n",
            ),
        ),
        FAIL,
        {
            "line": L('set webfilter-profile "wf-strict"'),
            "missing": f'web filter profile "wf-strict" (line {WF_LINE}) '
            "does not block FortiGuard Security Risk categories 90, 91",
        },
    ),
    (
        "dnsfilter-without-botnet",
        "NET-FGT-15",
        (("        set block-botnet enable\n", '        set comment "no botnet blocking"\n'),),
        FAIL,
        {
            "line": L('set dnsfilter-profile "dns-strict"'),
            "missing": f'set block-botnet enable in DNS filter profile "dns-strict" (line '
            f"{line_of(GOOD, chr(34) + 'dns-strict' + chr(34))}; the default is disable)",
        },
    ),
    (
        "ips-missing",
        "NET-FGT-16",
        ((2, '        set ips-sensor "default"\n', ""),),
        FAIL,
        {
            "block": "config firewall policy > edit 2",
            "line": Policy(2),
            "missing": "set ips-sensor <IPS sensor>",
        },
    ),
    (
        "appctrl-missing",
        "NET-FGT-17",
        ((1, '        set application-list "default"\n', ""),),
        FAIL,
        {
            "block": "config firewall policy > edit 1",
            "line": Policy(1),
            "missing": "set application-list <application control>",
        },
    ),
    (
        "emailfilter-missing-on-custom-submission",
        "NET-FGT-18",
        (
            ('        set service "SMTPS" "SUBMISSION" "IMAPS"\n', '        set service "SUBMISSION"\n'),
            ('        set emailfilter-profile "mail-strict"\n', ""),
        ),
        FAIL,
        {
            "block": "config firewall policy > edit 2",
            "line": L('set service "SUBMISSION"'),
            "text": 'set service "SUBMISSION"',
            "missing": "set emailfilter-profile <email filter> (service SUBMISSION carries mail)",
        },
    ),
    (
        "logging-disabled",
        "NET-FGT-19",
        ((1, "set logtraffic all", "set logtraffic disable"),),
        FAIL,
        {
            "block": "config firewall policy > edit 1",
            "line": L("set logtraffic disable"),
            "text": "set logtraffic disable",
        },
    ),
    (
        "certificate-inspection-warns",
        "NET-FGT-20",
        ((1, '"deep-inspection"', '"certificate-inspection"'),),
        WARN,
        {
            "block": "config firewall policy > edit 1",
            "text": 'set ssl-ssh-profile "certificate-inspection"',
            "violation": 'SSL inspection profile "certificate-inspection" only checks certificates: it sees '
            "the server name (SNI), not the content, so antivirus and URL filtering miss HTTPS payloads",
        },
    ),
    (
        "no-inspection-fails",
        "NET-FGT-20",
        ((3, '        set ssl-ssh-profile "deep-inspection"\n', ""),),
        FAIL,
        {
            "block": "config firewall policy > edit 3",
            "line": Policy(3),
            "missing": 'deep inspection (ssl-ssh-profile "no-inspection" does not inspect TLS; antivirus and '
            "web filter see no HTTPS content)",
        },
    ),
    (
        "autoupdate-weekly",
        "NET-FGT-21",
        (("    set frequency automatic\n", "    set frequency weekly\n    set day Sunday\n"),),
        FAIL,
        {
            "line": L("set frequency weekly"),
            "text": "set frequency weekly",
            "block": "config system autoupdate schedule",
            "value": "weekly (168 h)",
            "expected": "automatic or every <= 4 h",
        },
    ),
    (
        "autoupdate-disabled",
        "NET-FGT-21",
        (("    set frequency automatic\n", "    set status disable\n"),),
        FAIL,
        {"text": "set status disable", "violation": "scheduled updates disabled"},
    ),
    (
        "vip-forwards-rdp",
        "NET-FGT-22",
        (
            (
                "        set extport 443\n        set mappedport 443\n",
                "        set extport 13389\n        set mappedport 3389\n",
            ),
        ),
        FAIL,
        {
            "line": L("set mappedport 3389"),
            "text": "set mappedport 3389",
            "block": 'config firewall vip > edit "web-server"',
            "violation": 'virtual IP "web-server" forwards 3389 (RDP) (mappedport)',
        },
    ),
    (
        "vip-forwards-smb-range",
        "NET-FGT-22",
        (
            (
                "        set extport 443\n        set mappedport 443\n",
                "        set extport 440-450\n        set mappedport 440-450\n",
            ),
        ),
        FAIL,
        {"text": "set extport 440-450", "violation": 'virtual IP "web-server" forwards 445 (SMB) (extport)'},
    ),
    (
        "static-nat-vip-with-all",
        "NET-FGT-22",
        (
            ("        set portforward enable\n        set extport 443\n        set mappedport 443\n", ""),
            (3, 'set service "HTTPS"', 'set service "ALL"'),
        ),
        FAIL,
        {
            "block": "config firewall policy > edit 3",
            "text": 'set service "ALL"',
            "violation": "policy publishes virtual IP web-server with service ALL "
            "(RDP / SMB reachable from the internet)",
        },
    ),
    (
        "sslvpn-tls11",
        "NET-FGT-23",
        (
            (
                '    set servercert "fw-good-cert"\n',
                '    set ssl-min-proto-ver tls1-1\n    set servercert "fw-good-cert"\n',
            ),
        ),
        FAIL,
        {
            "text": "set ssl-min-proto-ver tls1-1",
            "block": "config vpn ssl settings",
            "expected": "tls1-2 or tls1-3",
        },
    ),
    (
        "sslvpn-low-algorithm",
        "NET-FGT-23",
        (
            (
                '    set servercert "fw-good-cert"\n',
                '    set algorithm low\n    set servercert "fw-good-cert"\n',
            ),
        ),
        FAIL,
        {"text": "set algorithm low", "violation": "low-strength ciphers allowed"},
    ),
    (
        "sslvpn-full-access-default-portal",
        "NET-FGT-24",
        (('    set default-portal "no-access"\n', '    set default-portal "full-access"\n'),),
        FAIL,
        {
            "text": 'set default-portal "full-access"',
            "missing": 'set default-portal "no-access" (users in no authentication rule get a portal)',
        },
    ),
    (
        "sslvpn-any-source-warns",
        "NET-FGT-24",
        (('    set source-address "geo-ES"\n', ""),),
        WARN,
        {
            "line": L("config vpn ssl settings"),
            "block": "config vpn ssl settings",
            "violation": "source-address all (default)",
        },
    ),
    (
        "sslvpn-user-without-token",
        "NET-FGT-25",
        (("        set two-factor fortitoken\n", ""),),
        FAIL,
        {
            "line": L('set groups "vpn-users"'),
            "text": 'set groups "vpn-users"',
            "missing": f'two-factor on user "alice" (group "vpn-users"; config user local line '
            f"{line_of(GOOD, 'edit ' + chr(34) + 'alice')})",
        },
    ),
    (
        "sslvpn-ldap-group",
        "NET-FGT-25",
        (('config user radius\n    edit "corp-radius"', 'config user ldap\n    edit "corp-radius"'),),
        FAIL,
        {
            "missing": 'a second factor for LDAP server corp-radius in group "vpn-users" '
            "(LDAP checks a password only)"
        },
    ),
]


@pytest.mark.parametrize(("case", "control", "edits", "status", "problem"), CASES, ids=[c[0] for c in CASES])
def test_one_change_fails_its_rule_only(
    case: str, control: str, edits: tuple[Edit, ...], status: Status, problem: dict[str, Any]
) -> None:
    text = edited(*edits)
    found = judged(text)
    assert found[control].status is status, found[control].evidence
    problems = found[control].evidence["problems"]
    expected = {k: v(text) if isinstance(v, L) else v for k, v in problem.items()}
    assert any(expected.items() <= p.items() for p in problems), (expected, problems)
    # what was not changed still passes (the change breaks this rule and, at most, the rules it feeds)
    related = {
        "NET-FGT-13": {"NET-FGT-20"},  # inspection is judged where antivirus or web filtering is
        "NET-FGT-14": {"NET-FGT-20"},
        "NET-FGT-22": {"NET-FGT-20", "NET-FGT-18"},
        "NET-FGT-25": set(),
    }.get(control, set())
    others = {c: found[c].status for c in IDS if c != control and c not in related}
    assert others == dict.fromkeys(others, PASS), others


# --------------------------------------------------------------------------- how policies are found


def test_zone_holding_a_wan_interface_is_internet_facing() -> None:
    text = edited(
        (
            "config firewall address\n",
            'config system zone\n    edit "outside"\n        set interface "wan1"\n'
            "    next\nend\nconfig firewall address\n",
        ),
        (1, 'set dstintf "wan1"', 'set dstintf "outside"'),
        (1, '        set av-profile "av-strict"\n', ""),
    )
    found = judged(text)
    assert found["NET-FGT-13"].status is FAIL
    assert found["NET-FGT-13"].evidence["problems"] == [
        {
            "block": "config firewall policy > edit 1",
            "line": policy_line(text, 1),
            "missing": "set av-profile <antivirus profile>",
        }
    ]


def test_dstintf_any_and_profile_groups() -> None:
    # a policy to "any" reaches the internet; its profiles may come from a profile group
    text = edited(
        (
            4,
            'set dstintf "dmz"\n',
            'set dstintf "any"\n        set profile-type group\n        set profile-group "strict"\n',
        ),
        (
            "config firewall ssl-ssh-profile\n",
            'config firewall profile-group\n    edit "strict"\n        set av-profile "av-strict"\n'
            '        set ips-sensor "default"\n    next\nend\nconfig firewall ssl-ssh-profile\n',
        ),
    )
    found = judged(text)
    assert found["NET-FGT-13"].status is PASS
    assert {"block": "config firewall policy > edit 4", "text": 'set av-profile "av-strict"'}.items() <= (
        found["NET-FGT-13"].evidence["matched"][-1].items()
    )
    assert found["NET-FGT-17"].status is FAIL  # the group has no application control
    assert found["NET-FGT-20"].status is FAIL  # antivirus without any SSL inspection
    assert found["NET-FGT-18"].status is FAIL  # service ALL carries mail
    # a profile group the configuration does not hold: its profiles are unknown, never a fail or a pass
    unknown = judged(edited(('edit "strict"', 'edit "elsewhere"'), text=text))
    assert unknown["NET-FGT-13"].status is NC
    assert unknown["NET-FGT-13"].evidence["reason"] == (
        'config firewall policy > edit 4: profile group "strict" is not in the configuration'
    )
    assert unknown["NET-FGT-19"].status is PASS  # logging does not depend on profiles


def test_without_wan_role_policies_cannot_be_told_apart() -> None:
    text = edited(("        set role wan\n", ""), ("config firewall vip\n", "config firewall vip-unused\n"))
    found = judged(text)
    reason = 'no interface with "set role wan" and no SD-WAN: internet-facing policies cannot be told apart'
    for control in ("NET-FGT-13", "NET-FGT-14", "NET-FGT-19"):
        assert found[control].status is NC
        assert found[control].evidence["reason"] == reason


def test_inbound_policies_are_still_judged_without_wan_role() -> None:
    text = edited(("        set role wan\n", ""))
    found = judged(text)
    assert found["NET-FGT-13"].status is NC  # outbound unknown: never a pass
    assert found["NET-FGT-13"].evidence["matched"][0]["block"] == "config firewall policy > edit 3"
    failing = edited((3, '        set ips-sensor "default"\n', ""), text=text)
    assert judged(failing)["NET-FGT-16"].status is FAIL


def test_referenced_profile_missing_is_not_checked() -> None:
    text = edited(('set webfilter-profile "wf-strict"', 'set webfilter-profile "wf-elsewhere"'))
    found = judged(text)
    assert found["NET-FGT-14"].status is NC
    assert (
        'web filter profile "wf-elsewhere" is not in the configuration'
        in found["NET-FGT-14"].evidence["reason"]
    )


def test_policy_based_ngfw_mode_is_not_checked() -> None:
    text = edited(
        (
            "config system interface\n",
            "config system settings\n    set ngfw-mode policy-based\nend\nconfig system interface\n",
        )
    )
    found = judged(text)
    assert found["NET-FGT-13"].status is NC
    assert "policy-based NGFW mode" in found["NET-FGT-13"].evidence["reason"]


def test_security_risk_categories_are_a_parameter() -> None:
    strict = {
        "params": {"NET-FGT-14": {"security_risk_categories": ["26", "61", "86", "88", "90", "91", "98"]}}
    }
    found = judged(GOOD, **strict)
    assert found["NET-FGT-14"].status is FAIL
    assert (
        found["NET-FGT-14"]
        .evidence["problems"][0]["missing"]
        .endswith("does not block FortiGuard Security Risk category 98")
    )


def test_autoupdate_defaults_follow_the_version() -> None:
    text = edited(("config system autoupdate schedule\n    set frequency automatic\nend\n", ""))
    found = judged(text)
    assert found["NET-FGT-21"].status is PASS
    assert found["NET-FGT-21"].evidence["reason"] == (
        "no config system autoupdate schedule: the defaults apply (FortiOS 7.4: scheduled updates enabled, "
        "automatic)"
    )
    every = edited(("    set frequency automatic\n", "    set frequency every\n    set time 12:60\n"))
    assert judged(every)["NET-FGT-21"].status is FAIL
    assert (
        judged(every, params={"NET-FGT-21": {"max_update_interval_hours": 12}})["NET-FGT-21"].status is PASS
    )
    # 7.4.4+ keeps the schedule in "config system autoupdate setting"
    setting = edited(
        (
            "config system autoupdate schedule\n    set frequency automatic\n",
            "config system autoupdate setting\n    set schedule disable\n",
        )
    )
    assert judged(setting)["NET-FGT-21"].status is FAIL


def test_sslvpn_disabled_or_absent() -> None:
    off = edited(
        ('    set servercert "fw-good-cert"\n', '    set status disable\n    set servercert "fw-good-cert"\n')
    )
    found = judged(off)
    assert {c: found[c].status for c in ("NET-FGT-23", "NET-FGT-24", "NET-FGT-25")} == dict.fromkeys(
        ("NET-FGT-23", "NET-FGT-24", "NET-FGT-25"), PASS
    )
    assert found["NET-FGT-23"].evidence["reason"] == "SSL-VPN disabled (set status disable)"
    start = GOOD.index("config vpn ssl settings\n")
    end = GOOD.index("end\n", GOOD.index("    end\n", start) + 8) + 4
    absent = judged(GOOD[:start] + GOOD[end:])
    assert absent["NET-FGT-23"].status is NC
    assert absent["NET-FGT-23"].evidence["reason"] == 'no "config vpn ssl settings" in this configuration'


# --------------------------------------------------------------------------- multi-VDOM, SD-WAN, VIP groups


def test_multi_vdom_is_judged_per_vdom() -> None:
    found = judged(MULTI)
    av = found["NET-FGT-13"]
    assert av.status is FAIL
    assert av.evidence["vdoms"] == {"root": "pass", "branch": "fail"}
    # the SD-WAN zone policy (10) and the inbound VIP-group policy (11) of branch; root's zone policy passes
    assert [(p["vdom"], p["block"]) for p in av.evidence["problems"]] == [
        ("branch", "config vdom > edit branch > config firewall policy > edit 10"),
        ("branch", "config vdom > edit branch > config firewall policy > edit 11"),
    ]
    assert found["NET-FGT-14"].evidence["vdoms"] == {"root": "pass", "branch": "fail"}
    assert found["NET-FGT-19"].evidence["problems"] == [
        {
            "vdom": "branch",
            "block": "config vdom > edit branch > config firewall policy > edit 10",
            "line": line_of(MULTI, "set logtraffic disable"),
            "text": "set logtraffic disable",
        }
    ]
    # device-wide: the schedule sits in config global
    assert found["NET-FGT-21"].evidence["problems"] == [
        {
            "line": line_of(MULTI, "set status disable"),
            "text": "set status disable",
            "block": "config global > config system autoupdate schedule",
            "violation": "scheduled updates disabled",
        }
    ]
    vip = found["NET-FGT-22"]
    assert vip.status is FAIL and vip.evidence["vdoms"] == {"root": "pass", "branch": "fail"}
    assert [p.get("violation") for p in vip.evidence["problems"]] == [
        'virtual IP "rdp-fwd" forwards 3389 (RDP) (mappedport)',
        "policy publishes virtual IP published with service SMB (RDP / SMB reachable from the internet)",
    ]
    # SSL-VPN only in root: branch is not_checked for it, with the reason naming the VDOM
    tls = found["NET-FGT-23"]
    assert tls.status is FAIL and tls.evidence["vdoms"] == {"root": "fail", "branch": "not_checked"}
    assert tls.evidence["problems"][0]["vdom"] == "root"
    access = found["NET-FGT-24"]
    assert access.status is WARN
    assert access.evidence["reason"] == 'VDOM branch: no "config vpn ssl settings" in this configuration'
    mfa = found["NET-FGT-25"]
    assert mfa.status is NC
    assert "VDOM root: no user group or user is mapped to SSL-VPN" in mfa.evidence["reason"]


def test_sdwan_member_interface_and_virtual_wan_link() -> None:
    # FortiOS 6.x: "config system virtual-wan-link"; the policy names the member interface itself
    text = edited(
        ("config system sdwan\n", "config system virtual-wan-link\n"),
        ('        edit "virtual-wan-link"\n        next\n        edit "sdwan-inet"\n        next\n', ""),
        ("    config zone\n    end\n", ""),
        ('            set zone "sdwan-inet"\n', ""),
        ('        set dstintf "sdwan-inet"\n', '        set dstintf "port4"\n'),
        text=MULTI,
    )
    found = judged(text)
    assert found["NET-FGT-13"].evidence["vdoms"] == {"root": "pass", "branch": "fail"}
    assert found["NET-FGT-13"].evidence["problems"][0]["block"].endswith("edit 10")


# --------------------------------------------------------------------------- public configurations


def corpus(name: str) -> dict[str, Finding]:
    return judged(read_config(CORPUS / name))


def test_fortios_xutils_demo_sslvpn_findings() -> None:
    name = "fortiosxutils_fgvm_v6.2.3_show_4k_lines.txt"
    text = read_config(CORPUS / name)
    found = corpus(name)
    # no interface has role wan, no SD-WAN, no virtual IP: internet-facing policies cannot be told apart
    for control in IDS[:8]:
        assert found[control].status is NC, control
    assert found["NET-FGT-22"].status is PASS  # policies, but no virtual IP
    assert found["NET-FGT-21"].status is PASS
    assert "FortiOS 6.2" in found["NET-FGT-21"].evidence["reason"]
    assert found["NET-FGT-23"].evidence["problems"] == [
        {
            "line": line_of(text, "set ssl-min-proto-ver tls1-1"),
            "text": "set ssl-min-proto-ver tls1-1",
            "block": "config vpn ssl settings",
            "expected": "tls1-2 or tls1-3",
        }
    ]
    access = found["NET-FGT-24"]
    assert access.status is FAIL
    assert [p.get("text") for p in access.evidence["problems"]] == [
        'set default-portal "full-access"',
        'set source-interface "any"',
        'set source-address "all"',
    ]
    assert found["NET-FGT-25"].evidence["problems"][0]["text"] == 'set users "guest"'


def test_fortios_xutils_multi_vdom_names_each_vdom() -> None:
    found = corpus("fortiosxutils_fgvm_v6.2.3_multivdom_show_8k_lines.txt")
    reason = found["NET-FGT-13"].evidence["reason"]
    assert reason == (
        'VDOM root: no interface with "set role wan" and no SD-WAN: internet-facing policies cannot be told '
        "apart; VDOM ro: no firewall policy in this configuration"
    )
    assert found["NET-FGT-13"].evidence["vdoms"] == {"root": "not_checked", "ro": "not_checked"}
    assert found["NET-FGT-23"].status is FAIL
    assert found["NET-FGT-23"].evidence["vdoms"] == {"root": "fail", "ro": "not_checked"}


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.iterdir()))
def test_corpus_configurations_are_never_a_blind_pass(name: str) -> None:
    found = corpus(name)
    for control in IDS:
        finding = found[control]
        if finding.status is PASS and control not in ("NET-FGT-21", "NET-FGT-22"):
            assert finding.evidence.get("blocks_checked"), (control, finding.evidence)
        if finding.status is NC:
            assert finding.evidence.get("reason"), control


def test_fragment_without_show_header_is_not_judged_on_defaults() -> None:
    found = corpus("batfish_iface.conf")
    assert found["NET-FGT-21"].status is NC
    assert "#config-version" in found["NET-FGT-21"].evidence["reason"]
    assert (
        corpus("oxidized_FortiGate-91G_7.4.7.txt")["NET-FGT-21"]
        .evidence["reason"]
        .startswith("no config system autoupdate schedule: the defaults apply (FortiOS 7.4")
    )


def test_simulator_configuration() -> None:
    found = judged(SIM.read_text())
    assert {c: found[c].status.value for c in IDS} == {
        **{c: "not_checked" for c in IDS[:8]},  # no firewall policy in the recording
        "NET-FGT-21": "pass",
        "NET-FGT-22": "not_checked",
        "NET-FGT-23": "not_checked",
        "NET-FGT-24": "not_checked",
        "NET-FGT-25": "not_checked",
    }


def test_maint_controls_lists_the_filtering_rules_as_security() -> None:
    out = CliRunner().invoke(app, ["controls", "--json", "--domain", "security"])
    assert out.exit_code == 0, out.output
    ids = {c["id"] for c in json.loads(out.stdout)["controls"]}
    assert set(IDS) <= ids
