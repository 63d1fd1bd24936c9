"""Function checks (see runner.network.checks): FortiGate filtering on internet-facing policies.

What the pattern checks cannot say: whether an ``accept`` policy sends traffic to the internet (its
``dstintf`` is an interface with ``set role wan``, a zone holding one, an SD-WAN zone or member, or
``any``; or its ``dstaddr`` is a virtual IP, i.e. it lets the internet in), and whether the security
profiles it names do what they should (a web filter profile that blocks the FortiGuard *Security Risk*
categories, a DNS filter that blocks botnet C&C domains, an SSL inspection profile that decrypts).

Everything is judged per VDOM: a multi-VDOM configuration (``config global`` and ``config vdom`` /
``edit <vdom>``) keeps interfaces in ``config global`` (each with ``set vdom``) and policies, zones,
SD-WAN, virtual IPs, profiles and users in each VDOM; every problem names its VDOM. ``show`` leaves out
default values, so an absent line is read as the FortiOS default (said in each check), never as a pass
by itself: a VDOM whose internet-facing policies cannot be told apart, or whose profiles are referenced
but not in the configuration, is ``not_checked`` with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runner.network.checks import Context, check, words

if TYPE_CHECKING:
    from runner.network.parse import ConfigNode
    from runner.network.review import Outcome, _Result

_RANK: dict[str, int] = {"pass": 0, "not_checked": 1, "warn": 2, "fail": 3}
_VALUE = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')

#: FortiGuard web filter group g05 "Security Risk" (``get webfilter categories``): Malicious Websites,
#: Phishing, Spam URLs, Dynamic DNS, Newly Observed Domain, Newly Registered Domain
SECURITY_RISK_CATEGORIES: tuple[str, ...] = ("26", "61", "86", "88", "90", "91")

#: predefined FortiOS services (``config firewall service custom`` in the configuration wins) -> TCP/UDP
#: destination ports; None: every port
_PREDEFINED_SERVICES: dict[str, tuple[tuple[int, int], ...] | None] = {
    "ALL": None,
    "ALL_TCP": None,
    "ALL_UDP": None,
    "SMTP": ((25, 25),),
    "SMTPS": ((465, 465),),
    "POP3": ((110, 110),),
    "POP3S": ((995, 995),),
    "IMAP": ((143, 143),),
    "IMAPS": ((993, 993),),
    "RDP": ((3389, 3389),),
    "SMB": ((445, 445),),
    "SAMBA": ((139, 139),),
    "HTTP": ((80, 80),),
    "HTTPS": ((443, 443),),
    "DNS": ((53, 53),),
    "SSH": ((22, 22),),
    "PING": (),
    "ALL_ICMP": (),
    "ALL_ICMP6": (),
}

MAIL_PORTS: frozenset[int] = frozenset({25, 465, 587, 110, 995, 143, 993})
EXPOSED_PORTS: dict[int, str] = {3389: "RDP", 445: "SMB", 139: "SMB (NetBIOS session)"}


# --------------------------------------------------------------------------- reading the configuration


def values(node: ConfigNode) -> list[str]:
    """The values of a ``set <key> v1 "v 2"`` line (quotes removed)."""
    parts = [m.group(1) if m.group(1) is not None else m.group(2) for m in _VALUE.finditer(node.key)]
    return [p.strip('"') for p in parts[2:]]


def name_of(edit: ConfigNode) -> str:
    """The name of an ``edit <name>`` block."""
    found = values_of_line(edit.key)
    return found[1] if len(found) > 1 else ""


def values_of_line(line: str) -> list[str]:
    return [m.group(1) if m.group(1) is not None else m.group(2) for m in _VALUE.finditer(line)]


def settings(block: ConfigNode) -> dict[str, ConfigNode]:
    """The direct ``set`` lines of a block by key (the last one wins, as on the device)."""
    out: dict[str, ConfigNode] = {}
    for child in block.children:
        parts = child.key.split(None, 2)
        if len(parts) >= 2 and parts[0] == "set":
            out[parts[1]] = child
    return out


def setting(block: ConfigNode, key: str) -> list[str] | None:
    node = settings(block).get(key)
    return None if node is None else values(node)


def configs(nodes: Iterable[ConfigNode], name: str) -> list[ConfigNode]:
    """The ``config <name>`` blocks among ``nodes`` (direct)."""
    line = f"config {name}"
    return [n for n in nodes if n.key == line]


def edits(nodes: Iterable[ConfigNode], name: str) -> list[ConfigNode]:
    """Every ``edit`` entry of the ``config <name>`` blocks among ``nodes``."""
    return [e for block in configs(nodes, name) for e in block.children if e.key.startswith("edit ")]


def by_name(nodes: Iterable[ConfigNode], name: str) -> dict[str, ConfigNode]:
    return {name_of(e): e for e in edits(nodes, name)}


@dataclass(frozen=True)
class Vdom:
    """One VDOM's configuration (``name`` None: a configuration without VDOMs)."""

    name: str | None
    nodes: tuple[ConfigNode, ...]

    def where(self) -> dict[str, Any]:
        return {"vdom": self.name} if self.name is not None else {}

    def label(self, text: str) -> str:
        return f"VDOM {self.name}: {text}" if self.name is not None else text


def layout(ctx: Context) -> tuple[tuple[ConfigNode, ...], list[Vdom]]:
    """(global nodes, VDOMs): ``config global`` and ``config vdom`` / ``edit X`` when multi-VDOM."""
    top = ctx.tree.children
    vdom_blocks = configs(top, "vdom")
    global_blocks = configs(top, "global")
    if not vdom_blocks and not global_blocks:
        return tuple(top), [Vdom(None, tuple(top))]
    glob = tuple(n for g in global_blocks for n in g.children)
    merged: dict[str, list[ConfigNode]] = {}
    for block in vdom_blocks:
        for edit in block.children:
            if edit.key.startswith("edit "):
                merged.setdefault(name_of(edit), []).extend(edit.children)
    return glob, [Vdom(name, tuple(nodes)) for name, nodes in merged.items()]


@dataclass
class Env:
    """What a VDOM's policies are judged against."""

    vdom: Vdom
    glob: tuple[ConfigNode, ...]
    wan: set[str] = field(default_factory=set)  # interface / zone names leading to the internet
    vips: set[str] = field(default_factory=set)  # virtual IP and VIP group names

    @property
    def nodes(self) -> tuple[ConfigNode, ...]:
        return self.vdom.nodes


def interfaces(glob: Sequence[ConfigNode], vdom: Vdom) -> dict[str, ConfigNode]:
    """``config system interface`` entries of this VDOM (global ones say ``set vdom``)."""
    if vdom.name is None:
        return by_name(glob, "system interface")
    out = {}
    for name, edit in by_name(glob, "system interface").items():
        if (setting(edit, "vdom") or [""])[0] == vdom.name:
            out[name] = edit
    out.update(by_name(vdom.nodes, "system interface"))
    return out


def sdwan_names(nodes: Sequence[ConfigNode]) -> tuple[set[str], set[str]]:
    """(SD-WAN zone names, SD-WAN member interfaces) of an enabled SD-WAN / virtual-wan-link."""
    zones: set[str] = set()
    members: set[str] = set()
    for name in ("system sdwan", "system virtual-wan-link"):
        for block in configs(nodes, name):
            if (setting(block, "status") or ["disable"])[0] != "enable":
                continue
            if name == "system virtual-wan-link":
                zones.add("virtual-wan-link")
            for sub in block.children:
                if sub.key == "config zone":
                    zones.update(name_of(e) for e in sub.children if e.key.startswith("edit "))
                if sub.key == "config members":
                    for member in sub.children:
                        members.update(setting(member, "interface") or [])
                        zones.update(setting(member, "zone") or [])
    if members and not zones:
        zones.add("virtual-wan-link")  # 7.0+: members without a zone sit in the default zone
    return zones, members


def environment(glob: tuple[ConfigNode, ...], vdom: Vdom) -> Env:
    env = Env(vdom=vdom, glob=glob)
    ifaces = interfaces(glob, vdom)
    wan = {name for name, edit in ifaces.items() if (setting(edit, "role") or [""])[0] == "wan"}
    zones, members = sdwan_names(vdom.nodes)
    wan |= members
    for name, zone in by_name(vdom.nodes, "system zone").items():
        if wan & set(setting(zone, "interface") or []):
            wan.add(name)
    env.wan = wan | zones | {"any"}
    env.vips = set(by_name(vdom.nodes, "firewall vip")) | set(by_name(vdom.nodes, "firewall vipgrp"))
    env.vips |= set(by_name(vdom.nodes, "firewall vip6")) | set(by_name(vdom.nodes, "firewall vipgrp6"))
    return env


@dataclass(frozen=True)
class Policy:
    edit: ConfigNode
    block: str
    outbound: bool  # its destination is the internet
    inbound: bool  # its destination address is a virtual IP

    def get(self, key: str) -> list[str] | None:
        return setting(self.edit, key)

    def line(self, key: str) -> ConfigNode | None:
        return settings(self.edit).get(key)


def internet_policies(ctx: Context, env: Env) -> list[Policy]:
    out = []
    for block in configs(env.nodes, "firewall policy"):
        for edit in block.children:
            if not edit.key.startswith("edit "):
                continue
            s = settings(edit)
            if "action" not in s or values(s["action"])[:1] != ["accept"]:
                continue  # the FortiOS default action is deny
            if "status" in s and values(s["status"])[:1] == ["disable"]:
                continue
            dst = set(values(s["dstintf"])) if "dstintf" in s else set()
            outbound = bool(dst & env.wan)
            inbound = bool(set(values(s["dstaddr"]) if "dstaddr" in s else []) & env.vips)
            if outbound or inbound:
                out.append(Policy(edit=edit, block=ctx.path(edit), outbound=outbound, inbound=inbound))
    return out


def _where(env: Env, policy: Policy, node: ConfigNode | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {**env.vdom.where(), "block": policy.block}
    if node is None:
        item["line"] = policy.edit.lineno
    else:
        item["line"] = node.lineno
        item["text"] = node.key
    return item


def _missing_group(policy: Policy, env: Env) -> str | None:
    """The profile group a policy names when the configuration does not hold it."""
    if (policy.get("profile-type") or ["single"])[0] != "group":
        return None
    group = (policy.get("profile-group") or [""])[0]
    return None if group in by_name(env.nodes, "firewall profile-group") else group


def profile(policy: Policy, env: Env, key: str) -> tuple[str | None, ConfigNode | None]:
    """The profile ``key`` a policy applies, directly or through ``set profile-group``."""
    if (policy.get("profile-type") or ["single"])[0] == "group":
        group = (policy.get("profile-group") or [""])[0]
        entry = by_name(env.nodes, "firewall profile-group").get(group)
        if entry is None:
            return None, policy.line("profile-group")
        node = settings(entry).get(key)
        return (values(node)[0] if node is not None and values(node) else None), node
    node = policy.line(key)
    return (values(node)[0] if node is not None and values(node) else None), node


# --------------------------------------------------------------------------- the per-VDOM frame

#: judge one policy: (outcome, problem or matched item, reason for not_checked)
PolicyJudge = Callable[[Policy, Env], tuple[str, dict[str, Any], str]]


def _combine(result: _Result, status: str) -> None:
    if _RANK[status] > _RANK[result.status]:
        result.status = status  # type: ignore[assignment]


def per_policy(
    ctx: Context, judge: PolicyJudge, *, outbound_only: bool = False, applies: str = "", profiles: bool = True
) -> _Result:
    """Judge every internet-facing accept policy of every VDOM with ``judge``.

    ``profiles``: the judge reads security profiles, so a policy naming a profile group the configuration
    does not hold is not_checked.
    """
    result = ctx.result()
    glob, vdoms = layout(ctx)
    for vdom in vdoms:
        env = environment(glob, vdom)
        status = _vdom_policies(
            ctx, env, judge, result, outbound_only=outbound_only, applies=applies, profiles=profiles
        )
        _combine(result, status)
        _per_vdom(result, vdom, status)
    return result


def _per_vdom(result: _Result, vdom: Vdom, status: str) -> None:
    """Evidence ``vdoms``: each VDOM's own outcome (multi-VDOM configurations only)."""
    if vdom.name is not None:
        vdoms = result.extra.setdefault("vdoms", {})
        vdoms[vdom.name] = max(vdoms.get(vdom.name, "pass"), status, key=_RANK.__getitem__)


_UNKNOWN_WAN = 'no interface with "set role wan" and no SD-WAN: '


def _vdom_policies(
    ctx: Context,
    env: Env,
    judge: PolicyJudge,
    result: _Result,
    *,
    outbound_only: bool,
    applies: str,
    profiles: bool,
) -> str:
    vdom = env.vdom
    if not configs(vdom.nodes, "firewall policy"):
        result.reasons.append(vdom.label("no firewall policy in this configuration"))
        return "not_checked"
    for block in configs(vdom.nodes, "system settings"):
        if (setting(block, "ngfw-mode") or [""])[0] == "policy-based":
            result.reasons.append(
                vdom.label("policy-based NGFW mode: profiles sit on security policies, not judged here")
            )
            return "not_checked"
    wan_known = bool(env.wan - {"any"})
    if not wan_known and (outbound_only or not env.vips):
        result.reasons.append(vdom.label(_UNKNOWN_WAN + "internet-facing policies cannot be told apart"))
        return "not_checked"
    policies = [p for p in internet_policies(ctx, env) if p.outbound or not outbound_only]
    worst = "pass"
    if not wan_known:
        result.reasons.append(
            vdom.label(
                _UNKNOWN_WAN + "outbound policies cannot be told apart (inbound virtual IP policies judged)"
            )
        )
        worst = "not_checked"
    elif not policies:
        result.reasons.append(vdom.label(f"no enabled accept policy {applies or 'to or from the internet'}"))
        return "pass"
    for policy in policies:
        group = _missing_group(policy, env) if profiles else None
        if group is not None:
            status, item = "not_checked", _where(env, policy, policy.line("profile-group"))
            reason = f'profile group "{group}" is not in the configuration'
        else:
            status, item, reason = judge(policy, env)
        result.checked_blocks += 1
        if status in ("fail", "warn"):
            result.problems.append(item)
        else:
            result.matched.append(item)
        if reason:
            result.reasons.append(vdom.label(f"{policy.block}: {reason}"))
        if _RANK[status] > _RANK[worst]:
            worst = status
    return worst


def _needs_profile(key: str, what: str) -> PolicyJudge:
    def judge(policy: Policy, env: Env) -> tuple[str, dict[str, Any], str]:
        name, node = profile(policy, env, key)
        if name:
            return "pass", _where(env, policy, node), ""
        return "fail", {**_where(env, policy), "missing": what}, ""

    return judge


@check("fgt_policy_antivirus")
def policy_antivirus(ctx: Context) -> _Result:
    """Every internet-facing accept policy applies an antivirus profile (``set av-profile``)."""
    return per_policy(ctx, _needs_profile("av-profile", "set av-profile <antivirus profile>"))


@check("fgt_policy_ips")
def policy_ips(ctx: Context) -> _Result:
    """Every internet-facing accept policy applies an IPS sensor (``set ips-sensor``)."""
    return per_policy(ctx, _needs_profile("ips-sensor", "set ips-sensor <IPS sensor>"))


@check("fgt_policy_application_control")
def policy_application_control(ctx: Context) -> _Result:
    """Every internet-facing accept policy applies an application control list (``set application-list``)."""
    return per_policy(ctx, _needs_profile("application-list", "set application-list <application control>"))


@check("fgt_policy_webfilter")
def policy_webfilter(ctx: Context) -> _Result:
    """Outbound internet policies apply a web filter profile blocking every Security Risk category."""
    wanted = tuple(words(ctx.params.get("security_risk_categories"))) or SECURITY_RISK_CATEGORIES

    def judge(policy: Policy, env: Env) -> tuple[str, dict[str, Any], str]:
        name, node = profile(policy, env, "webfilter-profile")
        if not name:
            return (
                "fail",
                {**_where(env, policy), "missing": "set webfilter-profile <web filter profile>"},
                "",
            )
        entry = by_name(env.nodes, "webfilter profile").get(name)
        if entry is None:
            return (
                "not_checked",
                _where(env, policy, node),
                f'web filter profile "{name}" is not in the configuration',
            )
        blocked = _blocked_categories(entry)
        missing = [c for c in wanted if c not in blocked]
        if missing:
            item = {
                **_where(env, policy, node),
                "missing": f'web filter profile "{name}" (line {entry.lineno}) does not block FortiGuard '
                f"Security Risk categor{'y' if len(missing) == 1 else 'ies'} {', '.join(missing)}",
            }
            return "fail", item, ""
        return "pass", _where(env, policy, node), ""

    return per_policy(ctx, judge, outbound_only=True, applies="to the internet")


def _blocked_categories(entry: ConfigNode) -> set[str]:
    blocked: set[str] = set()
    for sub in entry.children:
        if sub.key != "config ftgd-wf":
            continue
        for filters in sub.children:
            if filters.key != "config filters":
                continue
            for item in filters.children:
                s = settings(item)
                # a filter's default action is monitor: only an explicit block blocks
                if "action" in s and values(s["action"])[:1] == ["block"]:
                    blocked.update(values(s["category"]) if "category" in s else ["0"])
    return blocked


@check("fgt_policy_dnsfilter")
def policy_dnsfilter(ctx: Context) -> _Result:
    """Outbound internet policies apply a DNS filter profile with ``set block-botnet enable``."""

    def judge(policy: Policy, env: Env) -> tuple[str, dict[str, Any], str]:
        name, node = profile(policy, env, "dnsfilter-profile")
        if not name:
            return (
                "fail",
                {**_where(env, policy), "missing": "set dnsfilter-profile <DNS filter profile>"},
                "",
            )
        entry = by_name(env.nodes, "dnsfilter profile").get(name)
        if entry is None:
            return (
                "not_checked",
                _where(env, policy, node),
                f'DNS filter profile "{name}" is not in the configuration',
            )
        if (setting(entry, "block-botnet") or ["disable"])[0] != "enable":
            item = {
                **_where(env, policy, node),
                "missing": f'set block-botnet enable in DNS filter profile "{name}" (line {entry.lineno}; '
                "the default is disable)",
            }
            return "fail", item, ""
        return "pass", _where(env, policy, node), ""

    return per_policy(ctx, judge, outbound_only=True, applies="to the internet")


@check("fgt_policy_logging")
def policy_logging(ctx: Context) -> _Result:
    """Internet-facing accept policies log traffic: ``set logtraffic disable`` fails (default ``utm``)."""

    def judge(policy: Policy, env: Env) -> tuple[str, dict[str, Any], str]:
        node = policy.line("logtraffic")
        if node is not None and values(node)[:1] == ["disable"]:
            return "fail", _where(env, policy, node), ""
        if node is None:
            return "pass", {**_where(env, policy), "note": "logtraffic utm (the default)"}, ""
        return "pass", _where(env, policy, node), ""

    return per_policy(ctx, judge, profiles=False)


# --------------------------------------------------------------------------- services and ports


def _port_ranges(text: str) -> list[tuple[int, int]]:
    """Destination port ranges of ``tcp-portrange`` values (``25``, ``1000-2000``, ``25:1024-65535``)."""
    out = []
    for item in text.split():
        dst = item.split(":", 1)[0]
        low, _, high = dst.partition("-")
        try:
            lo = int(low)
            out.append((lo, int(high) if high else lo))
        except ValueError:
            continue
    return out


def service_ports(
    env: Env, name: str, seen: frozenset[str] = frozenset()
) -> tuple[tuple[int, int], ...] | bool | None:
    """Destination ports of a service or service group: None every port, False unknown."""
    custom = by_name(env.nodes, "firewall service custom")
    if name in custom:
        entry = custom[name]
        s = settings(entry)
        protocol = values(s["protocol"])[0] if "protocol" in s and values(s["protocol"]) else "TCP/UDP/SCTP"
        if protocol not in ("TCP/UDP/SCTP", "TCP/UDP/UDP-Lite/SCTP"):
            return ()  # ICMP, IP, ALL-protocol entries carry no port list
        ranges: list[tuple[int, int]] = []
        for key in ("tcp-portrange", "udp-portrange", "sctp-portrange"):
            if key in s:
                ranges += _port_ranges(" ".join(values(s[key])))
        if protocol and "protocol-number" in s and not ranges:
            return None
        return tuple(ranges)
    groups = by_name(env.nodes, "firewall service group")
    if name in groups and name not in seen:
        out: list[tuple[int, int]] = []
        for member in setting(groups[name], "member") or []:
            ports = service_ports(env, member, seen | {name})
            if ports is None or ports is False:
                return ports
            assert isinstance(ports, tuple)
            out += ports
        return tuple(out)
    if name in _PREDEFINED_SERVICES:
        return _PREDEFINED_SERVICES[name]
    return False


def carries(env: Env, services: Sequence[str], ports: Iterable[int]) -> tuple[list[str], list[str]]:
    """(services carrying one of ``ports``, services not understood)."""
    wanted = set(ports)
    hits, unknown = [], []
    for name in services:
        found = service_ports(env, name)
        if found is False:
            unknown.append(name)
        elif found is None:
            hits.append(name)
        else:
            assert isinstance(found, tuple)
            if any(lo <= p <= hi for lo, hi in found for p in wanted):
                hits.append(name)
    return hits, unknown


@check("fgt_policy_emailfilter")
def policy_emailfilter(ctx: Context) -> _Result:
    """Internet-facing accept policies carrying SMTP, POP3 or IMAP apply an email filter profile."""

    def judge(policy: Policy, env: Env) -> tuple[str, dict[str, Any], str]:
        services = policy.get("service") or []
        hits, unknown = carries(env, services, MAIL_PORTS)
        if hits:
            name, node = profile(policy, env, "emailfilter-profile")
            if not name:
                name, node = profile(policy, env, "spamfilter-profile")  # FortiOS 6.0 and earlier
            if name:
                return "pass", _where(env, policy, node), ""
            item = {
                **_where(env, policy, policy.line("service")),
                "missing": f"set emailfilter-profile <email filter> (service {', '.join(hits)} carries mail)",
            }
            return "fail", item, ""
        if unknown:
            return (
                "not_checked",
                _where(env, policy, policy.line("service")),
                f"service {', '.join(unknown)} is not in the configuration: whether it carries mail is "
                "unknown",
            )
        return "pass", {**_where(env, policy, policy.line("service")), "note": "carries no mail"}, ""

    return per_policy(ctx, judge)


# --------------------------------------------------------------------------- SSL inspection

_BUILTIN_INSPECTION = {
    "deep-inspection": "deep-inspection",
    "custom-deep-inspection": "deep-inspection",
    "certificate-inspection": "certificate-inspection",
    "no-inspection": "disable",
}


def inspection_mode(env: Env, name: str) -> str | None:
    """``deep-inspection``, ``certificate-inspection``, ``disable`` or None (profile not understood)."""
    entry = by_name(env.nodes, "firewall ssl-ssh-profile").get(name)
    if entry is None:
        return _BUILTIN_INSPECTION.get(name)
    modes: list[str] = []
    for sub in entry.children:
        if sub.key == "config ssl":
            inspect_all = setting(sub, "inspect-all")
            if inspect_all and inspect_all[0] != "disable":
                return inspect_all[0]
        if sub.key == "config https":
            status = setting(sub, "status")
            modes.append(status[0] if status else "")
    if "deep-inspection" in modes:
        return "deep-inspection"
    if "certificate-inspection" in modes:
        return "certificate-inspection"
    if modes and all(m == "disable" for m in modes):
        return "disable"
    return _BUILTIN_INSPECTION.get(name)


@check("fgt_policy_inspection")
def policy_inspection(ctx: Context) -> _Result:
    """Policies with antivirus or web filtering decrypt TLS (deep inspection); certificate-only warns."""

    def judge(policy: Policy, env: Env) -> tuple[str, dict[str, Any], str]:
        av, _ = profile(policy, env, "av-profile")
        wf, _ = profile(policy, env, "webfilter-profile")
        if not av and not wf:
            return "pass", {**_where(env, policy), "note": "no antivirus or web filter profile"}, ""
        node = policy.line("ssl-ssh-profile")
        name = values(node)[0] if node is not None and values(node) else "no-inspection"
        mode = inspection_mode(env, name)
        if mode == "deep-inspection":
            return "pass", _where(env, policy, node), ""
        if mode == "certificate-inspection":
            item = {
                **_where(env, policy, node),
                "violation": f'SSL inspection profile "{name}" only checks certificates: it sees the server '
                "name (SNI), not the content, so antivirus and URL filtering miss HTTPS payloads",
            }
            return "warn", item, ""
        if mode is None:
            return (
                "not_checked",
                _where(env, policy, node),
                f'SSL inspection profile "{name}" is not understood',
            )
        item = {
            **_where(env, policy, node),
            "missing": f'deep inspection (ssl-ssh-profile "{name}" does not inspect TLS; '
            "antivirus and web filter see no HTTPS content)",
        }
        return "fail", item, ""

    return per_policy(ctx, judge)


# --------------------------------------------------------------------------- device-wide


_VERSION = (
    re.compile(r"^#config-version=[^:]*?-(\d+)\.(\d+)\.\d+-"),
    re.compile(r"^#config-version=.*? v(\d+)\.(\d+)\.\d+"),
)


def show_version(ctx: Context) -> tuple[int, int] | None:
    """FortiOS (major, minor) from the ``#config-version=`` header ``show`` prints, if any."""
    for node in ctx.tree.children:
        for pattern in _VERSION:
            m = pattern.match(node.key)
            if m:
                return int(m.group(1)), int(m.group(2))
    return None


def _whole(ctx: Context, glob: Sequence[ConfigNode]) -> bool:
    """A whole ``show`` output, where an absent block means its defaults (not a fragment)."""
    if any(n.key.startswith("#config-version=") for n in ctx.tree.children):
        return True
    return bool(configs(glob, "system global")) and any(
        configs(v.nodes, "firewall policy") for v in layout(ctx)[1]
    )


@check("fgt_autoupdate")
def autoupdate(ctx: Context) -> _Result:
    """FortiGuard updates scheduled: status enabled, frequency ``automatic`` or at most N hours apart."""
    result = ctx.result()
    glob, _ = layout(ctx)
    limit = ctx.params.get("max_update_interval_hours")
    blocks = configs(glob, "system autoupdate schedule") + configs(glob, "system autoupdate setting")
    if not blocks:
        if not _whole(ctx, glob):
            result.status = "not_checked"
            result.reasons.append(
                "a fragment, not a whole show output (no #config-version header): the update schedule's "
                "defaults cannot be assumed"
            )
            return result
        version = show_version(ctx)
        default = "every 2 hours" if version is None or version < (7, 2) else "automatic"
        shown = f"FortiOS {version[0]}.{version[1]}" if version else "FortiOS version unknown"
        result.reasons.append(
            f"no config system autoupdate schedule: the defaults apply ({shown}: scheduled updates enabled, "
            f"{default})"
        )
        return result
    for block in blocks:
        s = settings(block)
        label = ctx.path(block)
        for key in ("status", "schedule"):  # 7.4.4+ keeps the schedule in "autoupdate setting"
            if key in s and values(s[key])[:1] == ["disable"]:
                result.problems.append({**ctx.line(s[key], label), "violation": "scheduled updates disabled"})
        if "frequency" not in s:
            result.matched.append({"line": block.lineno, "text": block.key, "note": "default frequency"})
            continue
        frequency = (values(s["frequency"]) or [""])[0]
        hours: float | None
        if frequency == "automatic":
            hours = 1
        elif frequency == "every":
            time = (values(s["time"]) if "time" in s else ["02:60"])[0]
            hours = _interval_hours(time)
        elif frequency == "daily":
            hours = 24
        elif frequency == "weekly":
            hours = 168
        else:
            hours = None
        if hours is None:
            result.status = "not_checked"
            result.reasons.append(f"{label}: update frequency {frequency!r} not understood")
            continue
        if isinstance(limit, int) and hours > limit:
            result.problems.append(
                {
                    **ctx.line(s["frequency"], label),
                    "value": f"{frequency} ({hours:g} h)",
                    "expected": f"automatic or every <= {limit} h",
                }
            )
        else:
            result.matched.append(ctx.line(s["frequency"], label))
    if result.problems:
        result.status = "fail"
    return result


def _interval_hours(text: str) -> float | None:
    hh, _, mm = text.partition(":")
    try:
        hours = int(hh)
        minutes = int(mm or "0")
    except ValueError:
        return None
    # "every" reads hh:mm as an interval; mm 60 means a random minute, not an hour more
    return max(hours + (0 if minutes >= 60 else minutes / 60), 1 / 60)


def _exposed(ranges: Iterable[tuple[int, int]]) -> list[str]:
    return [
        f"{port} ({what})"
        for port, what in EXPOSED_PORTS.items()
        if any(lo <= port <= hi for lo, hi in ranges)
    ]


@check("fgt_vip_exposure")
def vip_exposure(ctx: Context) -> _Result:
    """No virtual IP publishes RDP (3389) or SMB (445, 139) to the internet."""
    result = ctx.result()
    glob, vdoms = layout(ctx)
    for vdom in vdoms:
        status = _vdom_vips(ctx, environment(glob, vdom), result)
        _combine(result, status)
        _per_vdom(result, vdom, status)
    return result


def _vdom_vips(ctx: Context, env: Env, result: _Result) -> str:
    vdom = env.vdom
    vips = by_name(vdom.nodes, "firewall vip")
    if not vips and not configs(vdom.nodes, "firewall policy"):
        result.reasons.append(vdom.label("no virtual IP and no firewall policy in this configuration"))
        return "not_checked"
    if not vips:
        result.reasons.append(vdom.label("no virtual IP: nothing published"))
        return "pass"
    groups = {
        name: set(setting(e, "member") or []) for name, e in by_name(vdom.nodes, "firewall vipgrp").items()
    }
    status = "pass"
    static: set[str] = set()
    for name, vip in vips.items():
        result.checked_blocks += 1
        s = settings(vip)
        if "portforward" not in s or values(s["portforward"])[:1] != ["enable"]:
            static.add(name)
            continue
        if "extport" not in s:
            static.add(name)  # port forwarding without a port: FortiOS forwards every port
        for key in ("extport", "mappedport"):
            hits = _exposed(_port_ranges(" ".join(values(s[key])))) if key in s else []
            if hits:
                result.problems.append(
                    {
                        **vdom.where(),
                        **ctx.line(s[key], ctx.path(vip)),
                        "violation": f'virtual IP "{name}" forwards {", ".join(hits)} ({key})',
                    }
                )
                status = "fail"
                break
    # a static NAT virtual IP (no port forwarding) publishes whatever its policies allow
    for policy in internet_policies(ctx, env):
        dst = set(policy.get("dstaddr") or [])
        used = dst & static or {g for g in dst if groups.get(g, set()) & static}
        if not used:
            continue
        hits, unknown = carries(env, policy.get("service") or [], EXPOSED_PORTS)
        if hits:
            result.problems.append(
                {
                    **_where(env, policy, policy.line("service") or policy.edit),
                    "violation": f"policy publishes virtual IP {', '.join(sorted(used))} with service "
                    f"{', '.join(hits)} (RDP / SMB reachable from the internet)",
                }
            )
            status = "fail"
        elif unknown:
            result.reasons.append(
                vdom.label(f"{policy.block}: service {', '.join(unknown)} not in the configuration")
            )
            status = max(status, "not_checked", key=_RANK.__getitem__)
    return status


# --------------------------------------------------------------------------- SSL-VPN


def _sslvpn(vdom: Vdom) -> tuple[ConfigNode | None, str, Outcome]:
    """(``config vpn ssl settings`` when SSL-VPN listens, or None with why not and the outcome)."""
    blocks = configs(vdom.nodes, "vpn ssl settings")
    if not blocks:
        return None, vdom.label('no "config vpn ssl settings" in this configuration'), "not_checked"
    block = blocks[-1]
    if (setting(block, "status") or ["enable"])[0] == "disable":
        return None, vdom.label("SSL-VPN disabled (set status disable)"), "pass"
    if not setting(block, "source-interface"):
        return None, vdom.label("SSL-VPN listens on no interface (no source-interface)"), "pass"
    return block, "", "pass"


def per_sslvpn(ctx: Context, judge: Callable[[ConfigNode, Env, _Result], str]) -> _Result:
    result = ctx.result()
    glob, vdoms = layout(ctx)
    for vdom in vdoms:
        block, why, status = _sslvpn(vdom)
        if block is None:
            result.reasons.append(why)
        else:
            result.checked_blocks += 1
            status = judge(block, environment(glob, vdom), result)  # type: ignore[assignment]
        _combine(result, status)
        _per_vdom(result, vdom, status)
    return result


_WEAK_TLS = {"tls1-0", "tls1-1", "sslv3"}


@check("fgt_sslvpn_tls")
def sslvpn_tls(ctx: Context) -> _Result:
    """SSL-VPN accepts TLS 1.2 or later only and no low-strength algorithms."""

    def judge(block: ConfigNode, env: Env, result: _Result) -> str:
        s = settings(block)
        label = ctx.path(block)
        where = env.vdom.where()
        bad = []
        if "ssl-min-proto-ver" in s and (values(s["ssl-min-proto-ver"]) or [""])[0] in _WEAK_TLS:
            bad.append({**where, **ctx.line(s["ssl-min-proto-ver"], label), "expected": "tls1-2 or tls1-3"})
        for key in ("tlsv1-0", "tlsv1-1", "sslv3"):  # FortiOS 6.0 and earlier
            if key in s and values(s[key])[:1] == ["enable"]:
                bad.append({**where, **ctx.line(s[key], label), "violation": f"{key} enabled"})
        if "algorithm" in s and values(s["algorithm"])[:1] == ["low"]:
            bad.append(
                {**where, **ctx.line(s["algorithm"], label), "violation": "low-strength ciphers allowed"}
            )
        if bad:
            result.problems += bad
            return "fail"
        result.matched.append({**where, "line": block.lineno, "text": block.key, "block": label})
        return "pass"

    return per_sslvpn(ctx, judge)


@check("fgt_sslvpn_access")
def sslvpn_access(ctx: Context) -> _Result:
    """SSL-VPN portal access limited: users outside the mappings get no portal; sources restricted."""

    def judge(block: ConfigNode, env: Env, result: _Result) -> str:
        s = settings(block)
        label = ctx.path(block)
        where = env.vdom.where()
        status = "pass"
        portal = (values(s["default-portal"]) if "default-portal" in s else [""])[0]
        if portal != "no-access":
            node = s.get("default-portal")
            item = {**where, **(ctx.line(node, label) if node else {"line": block.lineno, "block": label})}
            item["missing"] = 'set default-portal "no-access" (users in no authentication rule get a portal)'
            result.problems.append(item)
            status = "fail"
        for key in ("source-interface", "source-address"):
            node = s.get(key)
            if key == "source-address" and node is None:
                result.problems.append(
                    {
                        **where,
                        "line": block.lineno,
                        "block": label,
                        "violation": "source-address all (default)",
                    }
                )
                status = status if status == "fail" else "warn"
                continue
            if node is not None and {"any", "all"} & set(values(node)):
                result.problems.append(
                    {**where, **ctx.line(node, label), "violation": "portal reachable from any address"}
                )
                status = status if status == "fail" else "warn"
        if status == "pass":
            result.matched.append({**where, "line": block.lineno, "text": block.key, "block": label})
        return status

    return per_sslvpn(ctx, judge)


def sslvpn_groups(block: ConfigNode, env: Env) -> dict[str, ConfigNode]:
    """User groups given SSL-VPN access: authentication rules and policies from the SSL-VPN interface."""
    out: dict[str, ConfigNode] = {}
    for sub in block.children:
        if sub.key == "config authentication-rule":
            for rule in sub.children:
                node = settings(rule).get("groups")
                for group in values(node) if node is not None else []:
                    out.setdefault(group, node)  # type: ignore[arg-type]
    for policy in edits(env.nodes, "firewall policy"):
        s = settings(policy)
        if "srcintf" in s and any(i.startswith("ssl.") for i in values(s["srcintf"])) and "groups" in s:
            for group in values(s["groups"]):
                out.setdefault(group, s["groups"])
    return out


@check("fgt_sslvpn_mfa")
def sslvpn_mfa(ctx: Context) -> _Result:
    """Every user and group given SSL-VPN access authenticates with a second factor."""

    def judge(block: ConfigNode, env: Env, result: _Result) -> str:
        where = env.vdom.where()
        users = by_name(env.nodes, "user local")
        groups = by_name(env.nodes, "user group")
        granted = sslvpn_groups(block, env)
        direct: dict[str, ConfigNode] = {}
        for sub in block.children:
            if sub.key == "config authentication-rule":
                for rule in sub.children:
                    node = settings(rule).get("users")
                    for user in values(node) if node is not None else []:
                        direct.setdefault(user, node)  # type: ignore[arg-type]
        if not granted and not direct:
            result.reasons.append(env.vdom.label("no user group or user is mapped to SSL-VPN"))
            return "not_checked"
        status = "pass"

        def judge_user(user: str, node: ConfigNode, via: str) -> str:
            entry = users.get(user)
            if entry is None:
                result.reasons.append(env.vdom.label(f'user "{user}" ({via}) is not in the configuration'))
                return "not_checked"
            if (setting(entry, "two-factor") or ["disable"])[0] == "disable":
                result.problems.append(
                    {
                        **where,
                        **ctx.line(node),
                        "missing": f'two-factor on user "{user}" ({via}; config user local line '
                        f"{entry.lineno})",
                    }
                )
                return "fail"
            return "pass"

        for user, node in direct.items():
            status = max(status, judge_user(user, node, "authentication rule"), key=_RANK.__getitem__)
        for group, node in granted.items():
            entry = groups.get(group)
            if entry is None:
                result.reasons.append(env.vdom.label(f'user group "{group}" is not in the configuration'))
                status = max(status, "not_checked", key=_RANK.__getitem__)
                continue
            remote = [sub for sub in entry.children if sub.key == "config match"]
            members = setting(entry, "member") or []
            for member in members:
                if member in users:
                    status = max(status, judge_user(member, node, f'group "{group}"'), key=_RANK.__getitem__)
                    continue
                kind = _server_kind(env, member)
                if kind in ("radius", "saml"):
                    result.matched.append(
                        {**where, "line": entry.lineno, "text": entry.key, "note": f"{kind} server {member}"}
                    )
                    result.reasons.append(
                        env.vdom.label(
                            f'group "{group}": member {member} is a {kind.upper()} server; the second factor '
                            "is the server's to enforce and cannot be judged from this configuration"
                        )
                    )
                elif kind == "ldap":
                    result.problems.append(
                        {
                            **where,
                            "line": entry.lineno,
                            "block": ctx.path(entry),
                            "missing": f'a second factor for LDAP server {member} in group "{group}" '
                            "(LDAP checks a password only)",
                        }
                    )
                    status = "fail"
                else:
                    result.reasons.append(
                        env.vdom.label(f'group "{group}": member {member} is not understood')
                    )
                    status = max(status, "not_checked", key=_RANK.__getitem__)
            if not members and not remote:
                result.reasons.append(env.vdom.label(f'group "{group}" has no members'))
        return status

    return per_sslvpn(ctx, judge)


def _server_kind(env: Env, name: str) -> str:
    for kind, block in (("radius", "user radius"), ("saml", "user saml"), ("ldap", "user ldap")):
        if name in by_name(env.nodes, block) or name in by_name(env.glob, block):
            return kind
    return ""
