"""Function checks (see runner.network.checks): access.

Who may administer a device, and from where:

``admin_users``           the device's local administrators (Cisco IOS ``username X privilege 15``, AOS-CX
                          ``user X group administrators``, AOS-S ``password manager user-name X`` and
                          ``aaa authentication local-user X group G``, FortiOS ``config system admin``)
                          against the rule parameter ``approved_admins`` (the inventory's
                          ``access_approved_admins``, see :func:`with_approved_admins`). Evidence: the
                          administrators (count, names, privilege or profile, line) and the other local
                          accounts; never a password or hash (the tree is masked, and only names and
                          privilege words are read from it). No approved list: not_checked, the accounts
                          still listed.
``ios_vty_access_class``  every open ``line vty`` has ``access-class <acl> in``, the list is defined and does
                          not let an arbitrary source reach the line's transports (ssh 22, telnet 23).
``aoscx_mgmt_acl``        every VRF with ``ssh server vrf V`` / ``https-server vrf V`` has ``apply access-list
                          ip <acl> control-plane vrf V``, the list is defined and does not let an arbitrary
                          source reach SSH (22) / HTTPS (443).
``fortios_trusthost_families``  an administrator restricted by trusted hosts in one address family is
                          restricted in the other too when an interface accepts administration over it
                          (IPv4 ``allowaccess`` / IPv6 ``ip6-allowaccess``); one with no trusted host at
                          all is NET-FGT-04's failure and only listed here.

"Does an arbitrary source reach port P" reads the list in order: the first entry whose source is any
(``any``, ``0.0.0.0 255.255.255.255``, ``0.0.0.0/0``) and which matches TCP to port P decides; entries
naming a source (a host, a network, an object group) never match an arbitrary one, and the implicit
deny at the end closes what no entry opened.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runner.network.checks import Context, check, words
from runner.network.parse import ConfigNode
from runner.network.platforms import NetworkConfigError, Platform

#: the rule parameter holding the approved administrators (a list of names, default [])
APPROVED_PARAM = "approved_admins"
#: the inventory variable the network_config action reads it from
APPROVED_VAR = "access_approved_admins"
NO_LIST = f"no approved list: set {APPROVED_VAR} for this host or its group"
#: evidence lists of accounts are cut at this many entries
MAX_ACCOUNTS = 25


# --------------------------------------------------------------------------- approved list


def with_approved_admins(
    overrides: Mapping[str, Any] | None, admins: Any, *, source: str = APPROVED_VAR
) -> dict[str, Any]:
    """``overrides`` with ``admins`` as ``approved_admins`` of every rule declaring that parameter.

    ``admins`` None: the overrides unchanged. A rule whose ``approved_admins`` the overrides already set
    (``maintenance.thresholds.network_config.params.<ID>.approved_admins``) keeps it: the rule's own
    setting is the more specific one. Anything but a list of strings raises NetworkConfigError naming
    ``source``.
    """
    out: dict[str, Any] = dict(overrides or {})
    if admins is None:
        return out
    if not isinstance(admins, list | tuple) or not all(isinstance(a, str) for a in admins):
        raise NetworkConfigError(
            f"{source} must be a list of account names, got {type(admins).__name__}: {admins!r}"[:200]
        )
    params_in = out.get("params") or {}
    if not isinstance(params_in, Mapping):
        return out  # the review's own validation names the bad key
    from runner.network.review import rule_pack

    params: dict[str, Any] = {k: dict(v) if isinstance(v, Mapping) else v for k, v in params_in.items()}
    for platform in Platform:
        for rule in rule_pack(platform).rules:
            if APPROVED_PARAM in rule.params:
                own = params.setdefault(rule.id, {})
                if isinstance(own, dict):
                    own.setdefault(APPROVED_PARAM, [str(a) for a in admins])
    out["params"] = params
    return out


def _approved(name: str, approved: Sequence[str]) -> bool:
    """Case-insensitive; an approved ``DOMAIN\\name`` matches the device account ``name``."""
    folded = name.casefold()
    return any(folded in (a.casefold(), a.rsplit("\\", 1)[-1].casefold()) for a in approved)


# --------------------------------------------------------------------------- local accounts


@dataclass(frozen=True)
class Account:
    name: str
    privilege: str  # "15", "administrators", "manager", "Level-15", "super_admin"
    admin: bool
    line: int
    block: str = ""

    def evidence(self) -> dict[str, Any]:
        item: dict[str, Any] = {"name": self.name, "privilege": self.privilege, "line": self.line}
        if self.block:
            item["block"] = self.block
        return item


def _aoss_statements(ctx: Context) -> list[tuple[ConfigNode, str]]:
    """Top-level AOS-S statements as ``(first node, text)``, a statement wrapped at the terminal width
    joined again: its indented continuation lines (children in the tree), and the following lines while a
    quote is left open or a near-full line (78 columns or more: masking moves the width a little) leaves an
    account statement without its name and group."""
    tops = ctx.tree.children
    out: list[tuple[ConfigNode, str]] = []
    i = 0
    while i < len(tops):
        node = tops[i]
        text = node.line.strip() + "".join(child.line for child in node.descendants())
        last = [node.line, *(c.line for c in node.descendants())][-1]
        while (
            i + 1 < len(tops)
            and _ACCOUNT_START.match(text)
            and (text.count('"') % 2 == 1 or (len(last) >= 78 and not _account_complete(text)))
        ):
            i += 1
            nxt = tops[i]
            last = [nxt.line, *(c.line for c in nxt.descendants())][-1]
            text += nxt.line + "".join(child.line for child in nxt.descendants())
        out.append((node, text))
        i += 1
    return out


_ACCOUNT_START = re.compile(
    r"^(?:(?:encrypted-)?password (?:manager|operator)|aaa authentication local-user)\b"
)


def _account_complete(text: str) -> bool:
    if text.startswith("aaa "):
        return bool(_AOSS_LOCAL.match(text)) and not text.endswith(('"', "group"))
    return bool(re.match(r"^(?:encrypted-)?password \S+ (?:user-name\s*(?:\"[^\"]*\"|\S+)\s|(?!user))", text))


_IOS_USER = re.compile(r"^username (\S+)(?:\s+(.*))?$")
_IOS_PRIVILEGE = re.compile(r"(?:^|\s)privilege (\d{1,2})(?:\s|$)")
_IOS_LEVEL = re.compile(r"^privilege \S+ (?:all )?level (\d{1,2})\b")


def _ios_accounts(ctx: Context) -> tuple[list[Account], str]:
    """``username X [privilege N] ...`` (default privilege 1). Privilege 15 administers; 2 to 14 only
    when the configuration moves commands to that level (``privilege exec level N ...``)."""
    tops = [node for node in ctx.tree.children if node.line.startswith(("username ", "privilege "))]
    raised = {int(m.group(1)) for node in tops if (m := _IOS_LEVEL.match(node.key))}
    seen: dict[str, tuple[int, int]] = {}
    for node in tops:
        m = _IOS_USER.match(node.key)
        if not m:
            continue
        priv = _IOS_PRIVILEGE.search(" " + (m.group(2) or ""))
        level = int(priv.group(1)) if priv else 1
        name = m.group(1)
        old = seen.get(name)
        if old is None or level > old[0]:
            seen[name] = (level, old[1] if old else node.lineno)
    accounts = [
        Account(name, str(level), level == 15 or (1 < level < 15 and level in raised), line)
        for name, (level, line) in seen.items()
    ]
    return accounts, ""


_CX_USER = re.compile(r"^user (\S+) group (\S+)(?:\s|$)")
_CX_READ_ONLY = frozenset({"operators", "auditors"})


def _aoscx_accounts(ctx: Context) -> tuple[list[Account], str]:
    """``user X group G password ...``: administrators and any custom group (which may grant anything)
    administer; operators and auditors do not."""
    accounts = [
        Account(m.group(1), m.group(2), m.group(2).casefold() not in _CX_READ_ONLY, node.lineno)
        for node in ctx.tree.children
        if (m := _CX_USER.match(node.key))
    ]
    if not accounts:
        return [], (
            "no local user in this configuration (AOS-CX shows a user once its password is set): "
            "the administrators cannot be told"
        )
    return accounts, ""


_AOSS_PASSWORD = re.compile(
    r'^(?:encrypted-)?password (manager|operator)(?: user-name\s*(?:"([^"]*)"|(\S+)))?'
)
_AOSS_LOCAL = re.compile(
    r'^aaa authentication local-user\s*(?:"([^"]*)"|(\S+))\s*group\s*(?:"([^"]*)"|(\S+))'
)
#: AOS-S roles that cannot configure the switch (Level-0 diagnostics, Level-1 operator)
_AOSS_READ_ONLY = frozenset({"level-0", "level-1", "operator", "default-security-group"})


def _aoss_accounts(ctx: Context) -> tuple[list[Account], str]:
    """``password manager|operator [user-name X]`` and ``aaa authentication local-user X group G``
    (lines wrapped at 80 columns joined). Manager and every role but Level-0/Level-1/operator administer
    (Level-9 and the user-modifiable roles may configure the switch)."""
    accounts: list[Account] = []
    for node, text in _aoss_statements(ctx):
        if (m := _AOSS_PASSWORD.match(text)) is not None:
            role = m.group(1)
            name = m.group(2) if m.group(2) is not None else (m.group(3) or "")
            accounts.append(Account(name or "(no user-name)", role, role == "manager", node.lineno))
        elif (m := _AOSS_LOCAL.match(text)) is not None:
            name = m.group(1) if m.group(1) is not None else m.group(2)
            group = m.group(3) if m.group(3) is not None else m.group(4)
            accounts.append(Account(name, group, group.casefold() not in _AOSS_READ_ONLY, node.lineno))
    if not any(node.key == "include-credentials" for node in ctx.tree.children):
        return accounts, (
            "this configuration is shown without include-credentials: AOS-S leaves the manager and "
            "operator accounts out of it"
        )
    return accounts, ""


_FGT_EDIT = re.compile(r'^edit "?([^"]*)"?$')
_FGT_PROFILE = re.compile(r'^set accprofile "?([^"]*)"?$')


def _fortios_accounts(ctx: Context) -> tuple[list[Account], str]:
    """Every ``config system admin`` entry is an administrator; its privilege is its access profile."""
    accounts: list[Account] = []
    for block in ctx.blocks(r"^config system admin$", r"^edit "):
        m = _FGT_EDIT.match(block.key)
        keys = [child.key for child in block.children]
        profile = next((p.group(1) for k in keys if (p := _FGT_PROFILE.match(k))), "(no accprofile)")
        if "set remote-auth enable" in keys:
            profile += " (remote-auth)"
        accounts.append(Account(m.group(1) if m else block.key, profile, True, block.lineno))
    if not accounts:
        return [], "no administrator accounts in this configuration"
    return accounts, ""


_READERS = {
    Platform.CISCO_IOS: _ios_accounts,
    Platform.ARUBA_AOSCX: _aoscx_accounts,
    Platform.ARUBA_AOSS: _aoss_accounts,
    Platform.FORTIOS: _fortios_accounts,
}


def _listed(accounts: list[Account]) -> dict[str, Any]:
    shown: list[dict[str, Any]] = [a.evidence() for a in accounts[:MAX_ACCOUNTS]]
    if len(accounts) > MAX_ACCOUNTS:
        shown.append({"more": len(accounts) - MAX_ACCOUNTS})
    return {"count": len(accounts), "accounts": shown}


@check("admin_users")
def admin_users(ctx: Context) -> Any:
    """Local administrators against ``approved_admins`` (see the module docstring)."""
    result = ctx.result()
    accounts, incomplete = _READERS[ctx.tree.platform](ctx)
    admins = [a for a in accounts if a.admin]
    result.extra["admins"] = _listed(admins)
    others = [a for a in accounts if not a.admin]
    if others:
        result.extra["other_accounts"] = _listed(others)
    result.checked_blocks = len(admins)
    approved = words(ctx.params.get(APPROVED_PARAM))
    if not approved:
        result.status = "not_checked"
        result.reasons.append(NO_LIST)
        return result
    for account in admins:
        if not _approved(account.name, approved):
            item = account.evidence()
            item["violation"] = (
                f"administrator {account.name!r} ({account.privilege}) is not on the approved list"
            )
            result.problems.append(item)
    if result.problems:
        result.status = "fail"
    elif incomplete:
        result.status = "not_checked"
        result.reasons.append(incomplete)
    return result


# --------------------------------------------------------------------------- access lists

_PORTS = {"ssh": 22, "telnet": 23, "www": 80, "http": 80, "https": 443}
_PORT_OPS = frozenset({"eq", "neq", "lt", "gt", "range"})
_TCP = frozenset({"ip", "tcp", "6", "any"})
#: an IOS address and wildcard admitting every source
_ANY_WILDCARD = ("0.0.0.0", "255.255.255.255")  # noqa: S104 - an ACL wildcard, not a bind address


def _port(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    return _PORTS.get(token.lower())


def _port_match(tokens: list[str], i: int, port: int) -> tuple[bool | None, int]:
    """(does the port operator at ``tokens[i]`` match ``port`` — None when there is none, next index).

    ``eq`` may list several ports (IOS ``eq 22 23``); a port name not known here matches nothing."""
    if i >= len(tokens) or tokens[i] not in _PORT_OPS:
        return None, i
    op, args = tokens[i], tokens[i + 1 :]
    if op == "range":
        lo, hi = (_port(args[0]) if args else None), (_port(args[1]) if len(args) > 1 else None)
        return (lo is not None and hi is not None and lo <= port <= hi), i + 3
    first = _port(args[0]) if args else None
    j = i + 2
    if op == "eq":
        values = [first]
        while j < len(tokens) and (value := _port(tokens[j])) is not None:
            values.append(value)
            j += 1
        return port in values, j
    if first is None:
        return False, j
    return {"neq": port != first, "lt": port < first, "gt": port > first}[op], j


def _ios_address(tokens: list[str], i: int) -> tuple[bool, int]:
    """(is the address at ``tokens[i]`` any source, next index): any, host A, object-group G, A W."""
    if i >= len(tokens):
        return False, i
    word = tokens[i]
    if word == "any":
        return True, i + 1
    if word in ("host", "object-group", "addrgroup"):
        return False, i + 2
    if i + 1 < len(tokens) and re.fullmatch(r"[\d.]+", tokens[i + 1]):
        return (word, tokens[i + 1]) == _ANY_WILDCARD, i + 2
    return False, i + 1


def _cx_address(tokens: list[str], i: int) -> tuple[bool, int]:
    """AOS-CX: ``any``, ``A``, ``A/M`` (one token)."""
    if i >= len(tokens):
        return False, i
    word = tokens[i]
    return word in ("any", "0.0.0.0/0", "0.0.0.0/0.0.0.0"), i + 1


def _decides(tokens: list[str], port: int, *, standard: bool, cx: bool) -> str | None:
    """``permit`` / ``deny`` when this entry decides TCP traffic from an arbitrary source to ``port``."""
    if not tokens or tokens[0] not in ("permit", "deny"):
        return None
    action = tokens[0]
    address = _cx_address if cx else _ios_address
    if standard:
        is_any, _ = address(tokens, 1)
        return action if is_any else None
    if len(tokens) < 3 or tokens[1].lower() not in _TCP:
        return None
    if "established" in tokens:  # matches only packets of a connection already open
        return None
    src_any, i = address(tokens, 2)
    if not src_any:
        return None
    src_port, i = _port_match(tokens, i, port)
    if src_port is not None:  # a client's source port is arbitrary: this entry names particular ones
        return None
    _dst_any, i = address(tokens, i)
    dst_port, _ = _port_match(tokens, i, port)
    return action if dst_port is None or dst_port else None


@dataclass(frozen=True)
class Acl:
    name: str
    standard: bool
    line: int
    entries: tuple[tuple[ConfigNode, tuple[str, ...]], ...]

    def opens(self, port: int, *, cx: bool = False) -> ConfigNode | None:
        """The entry letting an arbitrary source reach ``port``, or None (restricted)."""
        for node, tokens in self.entries:
            decision = _decides(list(tokens), port, standard=self.standard, cx=cx)
            if decision == "permit":
                return node
            if decision == "deny":
                return None
        return None


def _entry_tokens(key: str) -> tuple[str, ...]:
    tokens = key.split()
    if tokens and tokens[0].isdigit():  # a sequence number
        tokens = tokens[1:]
    return tuple(tokens)


_IOS_NUMBERED = re.compile(r"^access-list (\d+) (.*)$")
_IOS_NAMED = re.compile(r"^ip access-list (standard|extended) (\S+)$")


def _ios_standard_number(name: str) -> bool:
    return name.isdigit() and (1 <= int(name) <= 99 or 1300 <= int(name) <= 1999)


def _ios_acls(ctx: Context) -> dict[str, Acl]:
    numbered: dict[str, list[ConfigNode]] = {}
    acls: dict[str, Acl] = {}
    for node in ctx.tree.children:
        if not node.line.startswith(("access-list ", "ip access-list ")):
            continue
        if (m := _IOS_NUMBERED.match(node.key)) is not None:
            numbered.setdefault(m.group(1), []).append(node)
        elif (m := _IOS_NAMED.match(node.key)) is not None:
            entries = tuple((c, _entry_tokens(c.key)) for c in node.descendants() if c.key)
            acls[m.group(2)] = Acl(m.group(2), m.group(1) == "standard", node.lineno, entries)
    for name, nodes in numbered.items():
        entries = tuple((n, tuple(n.key.split()[2:])) for n in nodes)
        acls.setdefault(name, Acl(name, _ios_standard_number(name), nodes[0].lineno, entries))
    return acls


_ACCESS_CLASS = re.compile(r"^access-class (\S+) in(?:\s|$)")
_TRANSPORT = re.compile(r"^transport input (.*)$")


@check("ios_vty_access_class")
def ios_vty_access_class(ctx: Context) -> Any:
    """Every open vty line restricted by a defined access-class that does not admit any source."""
    result = ctx.result()
    blocks = ctx.blocks(r"^line vty ")
    if not blocks:
        result.status = "not_checked"
        result.reasons.append('no "line vty" block in this configuration')
        return result
    acls = _ios_acls(ctx)
    result.checked_blocks = len(blocks)
    for block in blocks:
        label = ctx.path(block)
        lines = list(block.descendants())
        transport = next((m.group(1).split() for n in lines if (m := _TRANSPORT.match(n.key))), None)
        if transport == ["none"]:
            result.matched.append({"block": label, "line": block.lineno, "closed": "transport input none"})
            continue
        # without "transport input" older IOS accepts every protocol (telnet included)
        open_to = set(transport or ["all"])
        ports = {p: _PORTS[p] for p in ("ssh", "telnet") if p in open_to or "all" in open_to}
        found = next(((n, m.group(1)) for n in lines if (m := _ACCESS_CLASS.match(n.key))), None)
        if found is None:
            result.problems.append(
                {
                    "block": label,
                    "line": block.lineno,
                    "missing": "access-class <acl> in (management hosts only)",
                }
            )
            continue
        node, name = found
        acl = acls.get(name)
        if acl is None:
            result.problems.append(
                {
                    **ctx.line(node, label),
                    "violation": f"access list {name} is not defined: the line admits every source",
                }
            )
            continue
        opened = [(service, entry) for service, port in ports.items() if (entry := acl.opens(port))]
        if opened:
            services = ", ".join(service for service, _ in opened)
            entry = opened[0][1]
            result.problems.append(
                {
                    **ctx.line(node, label),
                    "violation": f"access list {name} lets any source reach {services}",
                    "acl_line": entry.lineno,
                    "acl_entry": entry.key,
                }
            )
        else:
            result.matched.append({**ctx.line(node, label), "acl_line": acl.line})
    if result.problems:
        result.status = "fail"
    return result


_CX_SERVICE = re.compile(r"^(ssh server|https-server) vrf (\S+)$")
_CX_APPLY = re.compile(r"^apply access-list ip (\S+) control-plane vrf (\S+)$")
_CX_ACL = re.compile(r"^access-list ip (\S+)$")
_CX_SERVICE_PORT = {"ssh server": ("ssh", 22), "https-server": ("https", 443)}


@check("aoscx_mgmt_acl")
def aoscx_mgmt_acl(ctx: Context) -> Any:
    """Every VRF serving SSH or HTTPS has a control-plane ACL that does not admit any source."""
    result = ctx.result()
    services: dict[str, list[tuple[str, int, ConfigNode]]] = {}
    applied: dict[str, tuple[str, ConfigNode]] = {}
    acls: dict[str, Acl] = {}
    for node in ctx.tree.children:
        if (m := _CX_SERVICE.match(node.key)) is not None:
            service, port = _CX_SERVICE_PORT[m.group(1)]
            services.setdefault(m.group(2), []).append((service, port, node))
        elif (m := _CX_APPLY.match(node.key)) is not None:
            applied.setdefault(m.group(2), (m.group(1), node))
        elif (m := _CX_ACL.match(node.key)) is not None:
            entries = tuple((c, _entry_tokens(c.key)) for c in node.children if c.key)
            acls[m.group(1)] = Acl(m.group(1), False, node.lineno, entries)
    if not services:
        result.status = "not_checked"
        result.reasons.append(
            'no "ssh server vrf" or "https-server vrf" line: the management VRFs cannot be told'
        )
        return result
    result.checked_blocks = len(services)
    for vrf, served in services.items():
        names = ", ".join(service for service, _, _ in served)
        first = served[0][2]
        if vrf not in applied:
            result.problems.append(
                {
                    **ctx.line(first),
                    "vrf": vrf,
                    "violation": (
                        f"vrf {vrf} serves {names} without a control-plane access list "
                        f"(apply access-list ip <acl> control-plane vrf {vrf})"
                    ),
                }
            )
            continue
        name, node = applied[vrf]
        acl = acls.get(name)
        if acl is None:
            result.problems.append(
                {**ctx.line(node), "vrf": vrf, "violation": f"access list {name} is not defined"}
            )
            continue
        opened = [(service, entry) for service, port, _ in served if (entry := acl.opens(port, cx=True))]
        if opened:
            entry = opened[0][1]
            result.problems.append(
                {
                    **ctx.line(node),
                    "vrf": vrf,
                    "violation": (
                        f"access list {name} lets any source reach {', '.join(s for s, _ in opened)}"
                    ),
                    "acl_line": entry.lineno,
                    "acl_entry": entry.key,
                }
            )
        else:
            result.matched.append({**ctx.line(node), "vrf": vrf, "services": names})
    if result.problems:
        result.status = "fail"
    return result


_V4_TRUST = re.compile(r"^set trusthost\d+ \S+ (?!0\.0\.0\.0$)\d")
_V6_TRUST = re.compile(r"^set ip6-trusthost\d+ (?!\S*/0$)\S")
_V4_ADMIN = re.compile(r"^set allowaccess .*\b(https|ssh|http|telnet)\b")
_V6_ADMIN = re.compile(r"^set ip6-allowaccess .*\b(https|ssh|http|telnet)\b")


@check("fortios_trusthost_families")
def fortios_trusthost_families(ctx: Context) -> Any:
    """Trusted hosts restrict every address family the unit is administered over."""
    result = ctx.result()
    admins = ctx.blocks(r"^config system admin$", r"^edit ")
    if not admins:
        result.status = "not_checked"
        result.reasons.append("no administrator accounts in this configuration")
        return result
    served: dict[str, ConfigNode | None] = {"IPv4": None, "IPv6": None}
    for node, block in ctx.nodes():
        if not block.startswith("config system interface") and " > config system interface" not in block:
            continue
        for family, pattern in (("IPv4", _V4_ADMIN), ("IPv6", _V6_ADMIN)):
            if served[family] is None and pattern.match(node.key):
                served[family] = node
    result.checked_blocks = len(admins)
    for admin in admins:
        label = ctx.path(admin)
        keys = [child.key for child in admin.children]
        restricted = {
            "IPv4": any(_V4_TRUST.match(k) for k in keys),
            "IPv6": any(_V6_TRUST.match(k) for k in keys),
        }
        if not any(restricted.values()):
            result.matched.append(
                {"block": label, "line": admin.lineno, "note": "no trusted host: NET-FGT-04"}
            )
            continue
        for family, where in served.items():
            if where is not None and not restricted[family]:
                result.problems.append(
                    {
                        "block": label,
                        "line": admin.lineno,
                        "violation": (
                            f"trusted hosts restrict {'IPv6' if family == 'IPv4' else 'IPv4'} only, while "
                            f"line {where.lineno} ({where.key}) accepts administration over {family}"
                        ),
                    }
                )
        if not any(p.get("block") == label for p in result.problems):
            result.matched.append({"block": label, "line": admin.lineno})
    if result.problems:
        result.status = "fail"
    return result
