"""Sites: which worker runs a host (issue 17), and the NATS names a site's worker and the controller share.

A client's hosts run on the controller unless a site is named for them:

- ``maintenance.site`` in the client settings: every host of the client (the lowest precedence);
- a ``maint_site`` group variable (``hosts.yml`` ``vars:`` or ``group_vars/<group>``): that group's hosts;
- a ``maint_site`` host variable (``hosts.yml`` or ``host_vars/<host>``): that host (the highest).

Group and host variables follow Ansible's precedence (:mod:`runner.inventory.hostvars`).
``maint_site: null`` (``~``) brings a host back to the controller under a client-wide or group site. A site
name is one NATS subject token, ``[a-z0-9_-]{1,32}`` (:func:`runner.inventory.schema.site_name_problem`);
``controller`` is reserved.

The NATS names (:func:`jobs_subject`, :func:`jobs_stream`, ...) are defined here once, for the configuration
``maint nats-config`` prints (:mod:`runner.natsconf`), the controller that publishes jobs and the site workers
that pull them: a site's user is allowed exactly its own names, so they must agree everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from runner.inventory.loader import Client, InventoryError, Problem
from runner.inventory.schema import site_name_problem
from runner.inventory.templating import has_template

#: the host / group variable naming a host's site
SITE_VAR = "maint_site"


class SiteVarError(InventoryError):
    """``maint_site`` variables that cannot be used; ``problems`` names each file, key and host."""

    def __str__(self) -> str:  # one line: every problem, each naming its file, key and hosts
        return f"inventory of client {self.client!r}: " + "; ".join(str(p) for p in self.problems)


def _rel(client: Client, path: Path) -> str:
    try:
        return str(path.relative_to(client.path.parent.parent))
    except ValueError:
        return str(path)


def _site_value(value: Any) -> str | None:
    """Why a ``maint_site`` value is refused, or None when it is usable (None itself: the controller)."""
    from runner.safeyaml import VaultValue

    if value is None:
        return None
    if isinstance(value, VaultValue):
        return "a vault-encrypted value cannot be read here: give the site name in clear"
    if isinstance(value, str) and has_template(value):
        return f"{value[:80]!r}: templates are not resolved for maint_site, give the site name itself"
    return site_name_problem(value)


def site_var_problems(client: Client) -> tuple[dict[str, str | None], list[Problem]]:
    """host -> its site (None: the controller), and a problem per bad ``maint_site`` value.

    A bad value set for a group is one problem naming the group and the first hosts it reaches; those hosts
    map to None in the result (which is not to be used when there are problems).
    """
    from runner.inventory.hostvars import sourced

    default = client.settings.site
    found = sourced(client, [SITE_VAR])
    out: dict[str, str | None] = {}
    bad: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for host in sorted(found):
        if SITE_VAR not in found[host]:
            out[host] = default
            continue
        value, path, where = found[host][SITE_VAR]
        why = _site_value(value)
        if why is not None:
            bad.setdefault((_rel(client, path), where), (why, []))[1].append(host)
            out[host] = None
            continue
        out[host] = value
    problems = []
    for (file, where), (why, hosts) in sorted(bad.items()):
        shown = ", ".join(hosts[:3]) + (f" and {len(hosts) - 3} more" if len(hosts) > 3 else "")
        origin = f" (set for {where})" if where.startswith("group ") else ""
        problems.append(Problem(file, SITE_VAR, f"host {shown}{origin}: {why}"))
    return out, problems


def host_sites(client: Client) -> dict[str, str | None]:
    """host -> the site whose worker runs it (None: the controller); :class:`SiteVarError` on a bad value."""
    out, problems = site_var_problems(client)
    if problems:
        raise SiteVarError(client.name, problems)
    return out


def site_of(client: Client, host: str) -> str | None:
    """The site whose worker runs ``host`` (None: the controller). A host the inventory folder does not list
    (added by a dynamic inventory plugin) gets the client-wide ``maintenance.site``."""
    return host_sites(client).get(host, client.settings.site)


def split_plan(plan: Mapping[str, Sequence[str]], client: Client) -> dict[str | None, dict[str, list[str]]]:
    """A run's role -> hosts plan split by the site that runs each host: site (None: the controller) ->
    its own role -> hosts plan. Roles and hosts keep their order; a role appears in a site's plan only when
    it has hosts there, so the parts together hold every (role, host) of ``plan`` exactly once."""
    sites = host_sites(client)
    default = client.settings.site
    parts: dict[str | None, dict[str, list[str]]] = {}
    for role, hosts in plan.items():
        for host in hosts:
            site = sites.get(host, default)
            parts.setdefault(site, {}).setdefault(role, []).append(host)
    return parts


# --------------------------------------------------------------------------- the NATS names of a site

#: the account every maint user is in, and the durable pull consumer a site's workers share
ACCOUNT = "MAINT"
JOBS_CONSUMER = "workers"


def jobs_subject(site: str) -> str:
    """Where the controller publishes a site's job payloads (``ansible-runner transmit``)."""
    return f"maint.jobs.{site}"


def jobs_stream(site: str) -> str:
    """The site's work-queue stream: holds :func:`jobs_subject` until a worker acknowledges the job."""
    return f"MAINT_JOBS_{site}"


def events_subject(site: str, run_id: str) -> str:
    """Where the site's worker publishes the events of one run (``ansible-runner worker``'s output)."""
    return f"maint.events.{site}.{run_id}"


def cancel_subject(site: str, run_id: str) -> str:
    """Where the controller tells the site's workers to stop a run's job (the technician interrupted it)."""
    return f"maint.cancel.{site}.{run_id}"


def events_stream(site: str) -> str:
    """The stream keeping a site's events (``maint.events.<site>.>``) until the controller records them."""
    return f"MAINT_EVENTS_{site}"


def heartbeat_subject(site: str, worker: str) -> str:
    """Where a site's worker says it is alive (and which jobs it runs)."""
    return f"maint.heartbeats.{site}.{worker}"


#: the stream keeping the last heartbeat of every worker (``maint.heartbeats.>``)
HEARTBEATS_STREAM = "MAINT_HEARTBEATS"


def inbox_prefix(site: str | None) -> str:
    """The reply-subject prefix of a site's connections (None: the controller's). Each user may subscribe
    only under its own prefix: with the default ``_INBOX.>`` one site could read the replies, and so the
    pulled jobs, of another."""
    return "_INBOX_maint_controller" if site is None else f"_INBOX_maint_site_{site}"


__all__ = [
    "ACCOUNT",
    "HEARTBEATS_STREAM",
    "JOBS_CONSUMER",
    "SITE_VAR",
    "SiteVarError",
    "events_stream",
    "events_subject",
    "heartbeat_subject",
    "host_sites",
    "inbox_prefix",
    "jobs_stream",
    "jobs_subject",
    "site_of",
    "site_var_problems",
    "split_plan",
]
