"""restic's repository locations and forget policy, read and applied the way restic itself does, for the
linux_backup evaluator (BKP-RESTIC-05 where the copies are, BKP-RESTIC-06 retention).

- :func:`parse_location`: a repository string (``/srv/restic``, ``local:``, ``sftp:``, ``rest:``, ``s3:``,
  ``b2:``, ``azure:``, ``gs:``, ``swift:``, ``rclone:``) -> ``{"backend", "host", "bucket", "path"}`` with
  every credential removed (a URL's user and password, its query string), following restic's
  ``internal/backend/*/config.go`` ``ParseConfig`` (a string with no known scheme is a local path, as
  restic's ``location.Parse`` reads it).
- :func:`apply_policy`: restic's ``ApplyPolicy`` (``internal/data/snapshot_policy.go``): snapshots newest
  first; ``keep_last`` / hourly / daily / weekly (ISO week) / monthly / yearly buckets taken in the
  snapshot's own time zone offset, each new bucket value kept while its count lasts (-1: unlimited);
  ``keep_within*`` relative to the newest snapshot not in the future (Go's ``AddDate`` normalisation);
  ``keep_tag``; since restic 0.16.0 (enhancement #3624) the oldest snapshot is also kept while a bucket
  has counts left and -1 (``unlimited``) keeps a whole bucket (older restic ignores a negative count).
  Groups as ``--group-by`` (default ``host,paths``).
- :func:`coverage`: which calendar periods the policy's buckets should cover (the last N periods ending
  at the group's newest snapshot, never before its oldest one) and which of them have no snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

# ---------------------------------------------------------------- locations

REMOTE_BACKENDS = ("sftp", "rest", "s3", "gs", "azure", "b2", "swift", "rclone")
#: file systems whose data lives on another machine: a local path on one of these is off the host
OFF_HOST_FSTYPES = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "fuse.sshfs",
        "sshfs",
        "fuse.rclone",
        "fuse.s3fs",
        "fuse.gcsfuse",
        "fuse.davfs",
        "davfs",
        "glusterfs",
        "fuse.glusterfs",
        "ceph",
        "fuse.ceph",
        "lustre",
        "gpfs",
        "beegfs",
    }
)
LOCAL_HOSTS = frozenset({"localhost", "localhost.localdomain", "127.0.0.1", "::1", "ip6-localhost"})


class LocationError(ValueError):
    """The repository string is not one restic would open."""


def _clean(path: str) -> str:
    """Go's path.Clean for the parts restic cleans ('' stays '')."""
    if not path:
        return ""
    absolute = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts and parts[-1] != "..":
            parts.pop()
        elif part != ".." or not absolute:
            parts.append(part)
    text = "/".join(parts)
    return ("/" + text) if absolute else (text or ".")


def _host_of(netloc_host: str | None, port: int | None) -> str | None:
    if not netloc_host:
        return None
    host = f"[{netloc_host}]" if ":" in netloc_host else netloc_host
    return f"{host}:{port}" if port else host


def _url(text: str) -> tuple[str | None, str]:
    """(host[:port], path) of a URL, its user info and query string dropped."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise LocationError(f"not a URL: {exc}") from None
    return _host_of(parts.hostname, port), parts.path


def _is_path(text: str) -> bool:
    """restic's isPath: ../, /, \\ or a Windows drive."""
    if text.startswith(("../", "..\\", "/", "\\")):
        return True
    return bool(re.match(r"^[A-Za-z]:[\\/]", text))


def parse_location(repository: str) -> dict[str, Any]:
    """``{"backend", "host", "bucket", "path"}`` of a restic repository string, credentials removed."""
    text = repository.strip()
    if not text:
        raise LocationError("empty repository")
    scheme, _, rest = text.partition(":")
    host: str | None = None
    bucket: str | None = None
    if scheme == "local":
        return {"backend": "local", "host": None, "bucket": None, "path": rest}
    if scheme == "sftp":
        if text.startswith("sftp://"):
            host, path = _url(text)
            path = path[1:]
        else:
            where, colon, path = rest.partition(":")
            if not colon:
                raise LocationError("sftp: no host:path")
            host = where.rsplit("@", 1)[-1] or None
        path = _clean(path)
    elif scheme == "rest":
        url = rest
        if url.startswith("http+unix://"):  # a rest-server on a socket of this host
            _socket, _, path = url[len("http+unix://") :].partition(":")
            host, path = "localhost", path or "/"
        else:
            host, path = _url(url)
    elif scheme == "s3":
        if rest.startswith("http"):
            host, path = _url(rest)
            bucket, _, path = path[1:].partition("/")
        else:
            body = rest[2:] if rest.startswith("//") else rest
            endpoint, _, body = body.partition("/")
            host = endpoint.rsplit("@", 1)[-1] or None
            bucket, _, path = body.partition("/")
        path = _clean(path)
    elif scheme in ("gs", "azure", "b2", "swift"):
        bucket, _, path = rest.partition(":")
        if not bucket:
            raise LocationError(f"{scheme}: no bucket or container")
        path = _clean(path)
    elif scheme == "rclone":
        remote, _, path = rest.partition(":")
        host = remote or None
    elif _is_path(text) or ":" not in text:
        return {"backend": "local", "host": None, "bucket": None, "path": text}
    else:
        raise LocationError(f"{scheme!r} is not a backend restic knows (a local path needs local:)")
    return {"backend": scheme, "host": host, "bucket": bucket or None, "path": path}


def strip_credentials(text: str) -> str:
    """A URL's user and password and a query string removed (``https://u:p@nas/x?k=v`` -> ``https://nas/x``)."""
    text = re.sub(r"(://)[^/@\s]*@", r"\1", text)
    return re.sub(r"\?[^\s]*$", "", text)


def mount_host(fstype: str, source: str) -> str | None:
    """The machine serving a network mount: nas of ``nas:/export``, ``//nas/share``, ``u@nas:/p``."""
    if fstype.startswith(("cifs", "smb")):
        match = re.match(r"^//([^/]+)/", source)
        return match.group(1) if match else None
    if "://" in source:
        host, _ = _url(source)
        return host
    head, colon, _ = source.partition(":")
    if not colon or not head:
        return None
    return head.rsplit("@", 1)[-1] or None


def is_local_host(host: str | None, hostname: str) -> bool:
    if host is None:
        return False
    name = host.lower()
    if name.startswith("["):
        name = name[1:].split("]", 1)[0]
    else:
        name = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
    short = hostname.lower().split(".", 1)[0]
    return name in LOCAL_HOSTS or name.startswith("127.") or (bool(short) and name.split(".", 1)[0] == short)


# ---------------------------------------------------------------- forget policy

COUNTS = ("keep_last", "keep_hourly", "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly")
WITHIN = (
    "keep_within",
    "keep_within_hourly",
    "keep_within_daily",
    "keep_within_weekly",
    "keep_within_monthly",
    "keep_within_yearly",
)
KEYS = (*COUNTS, *WITHIN, "keep_tag", "group_by")
BUCKETS = ("hourly", "daily", "weekly", "monthly", "yearly")
GROUP_OPTIONS = {
    "host": "host",
    "hosts": "host",
    "path": "paths",
    "paths": "paths",
    "tag": "tags",
    "tags": "tags",
}
OLDEST_RULE_SINCE = (0, 16, 0)  # restic enhancement #3624


class PolicyError(ValueError):
    """The forget policy is not one restic accepts; the message names the key."""


@dataclass(frozen=True)
class Duration:
    years: int = 0
    months: int = 0
    days: int = 0
    hours: int = 0

    def zero(self) -> bool:
        return not (self.years or self.months or self.days or self.hours)

    def before(self, when: datetime) -> datetime:
        """``when.AddDate(-y, -m, -d).Add(-h hours)`` with Go's day overflow normalisation."""
        month0 = when.month - 1 - self.months
        year = when.year - self.years + month0 // 12
        base = when.replace(year=year, month=month0 % 12 + 1, day=1)
        return base + timedelta(days=when.day - 1 - self.days, hours=-self.hours)


def parse_duration(text: str) -> Duration:
    """restic's ParseDuration: numbers each followed by y, m, d or h (``1y2m3d4h``)."""
    values = {"y": 0, "m": 0, "d": 0, "h": 0}
    rest = text.strip()
    if not rest:
        raise PolicyError("empty duration")
    while rest:
        match = re.match(r"^(-?\d+)([a-zA-Z]?)", rest)
        if not match:
            raise PolicyError(f"{text!r}: no number found")
        number, unit = match.groups()
        if unit not in values:
            raise PolicyError(
                f"{text!r}: unit {unit!r} is not y, m, d or h" if unit else f"{text!r}: no unit"
            )
        values[unit] = int(number)
        rest = rest[match.end() :]
    return Duration(values["y"], values["m"], values["d"], values["h"])


@dataclass(frozen=True)
class Policy:
    counts: Mapping[str, int]  # last, hourly, ... -> n (-1 unlimited), only those set
    within: Mapping[str, Duration]  # "" (all), hourly, ... -> duration, only those set
    keep_tags: tuple[frozenset[str], ...] = ()
    group_by: frozenset[str] = frozenset({"host", "paths"})
    given: Mapping[str, Any] = field(default_factory=dict)

    def empty(self) -> bool:
        return not self.counts and not self.within and not self.keep_tags


def parse_policy(raw: Mapping[str, Any]) -> Policy:
    """A forget policy as the inventory gives it (``keep_daily: 7``, ``keep_within: 1y``, ``keep_monthly:
    unlimited``); PolicyError names the bad key."""
    counts: dict[str, int] = {}
    within: dict[str, Duration] = {}
    tags: list[frozenset[str]] = []
    group_by = frozenset({"host", "paths"})
    given: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None or value == "" or value == []:
            continue
        if key not in KEYS:
            raise PolicyError(f"{key}: not a restic forget option (one of {', '.join(KEYS)})")
        given[key] = value
        if key in COUNTS:
            if value == "unlimited":
                number = -1
            elif isinstance(value, int) and not isinstance(value, bool):
                number = value
            else:
                raise PolicyError(f"{key}: {value!r} is not a whole number or 'unlimited'")
            if number < -1:
                raise PolicyError(f"{key}: {number} is negative (use 'unlimited' or -1 to keep all)")
            if number:
                counts[key.removeprefix("keep_")] = number
        elif key in WITHIN:
            if not isinstance(value, str):
                raise PolicyError(f"{key}: {value!r} is not a duration such as 7d or 1y6m")
            try:
                duration = parse_duration(value)
            except PolicyError as exc:
                raise PolicyError(f"{key}: {exc}") from None
            if not duration.zero():
                within[key.removeprefix("keep_within").removeprefix("_")] = duration
        elif key == "keep_tag":
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise PolicyError(f"{key}: {value!r} is not a list of tags (each 'a' or 'a,b')")
            tags = [frozenset(t for t in v.split(",") if t) for v in value]
        else:
            if not isinstance(value, str):
                raise PolicyError(f"{key}: {value!r} is not host, paths, tags or a comma list of them")
            options = set()
            for part in value.split(","):
                if part.strip() and part.strip() not in GROUP_OPTIONS:
                    raise PolicyError(f"{key}: {part.strip()!r} is not host, paths or tags")
                if part.strip():
                    options.add(GROUP_OPTIONS[part.strip()])
            group_by = frozenset(options)
    return Policy(counts, within, tuple(tags), group_by, given)


@dataclass(frozen=True)
class Snap:
    short_id: str
    time: datetime  # in the snapshot's own offset, as restic buckets it
    paths: tuple[str, ...]
    tags: tuple[str, ...]
    text: str = ""  # the time as restic printed it


_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$")


def parse_time(text: str) -> datetime | None:
    """restic's RFC 3339 time (nanoseconds, an offset) -> an aware datetime keeping that offset."""
    match = _TIME.match(text)
    if not match:
        return None
    y, mo, d, h, mi, s, frac, tz = match.groups()
    offset = UTC
    if tz != "Z":
        minutes = int(tz[1:3]) * 60 + int(tz[4:6])
        offset = timezone(timedelta(minutes=minutes if tz[0] == "+" else -minutes))
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micro, tzinfo=offset)
    except ValueError:
        return None


def _bucket(kind: str, when: datetime) -> tuple[int, ...]:
    if kind == "hourly":
        return (when.year, when.month, when.day, when.hour)
    if kind == "daily":
        return (when.year, when.month, when.day)
    if kind == "weekly":
        iso = when.isocalendar()
        return (iso[0], iso[1])
    if kind == "monthly":
        return (when.year, when.month)
    return (when.year,)


def group_key(snap: Snap, group_by: frozenset[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(paths, tags) as restic groups them (the host is fixed: the collector lists one host)."""
    paths = tuple(sorted(snap.paths)) if "paths" in group_by else ()
    tags = tuple(sorted(snap.tags)) if "tags" in group_by else ()
    return paths, tags


def apply_policy(
    snaps: Sequence[Snap], policy: Policy, now: datetime, oldest_rule: bool, complete: bool = True
) -> list[bool]:
    """Which snapshots of one group the policy keeps (``snaps`` newest first, ties in restic's order).

    ``oldest_rule``: restic >= 0.16 semantics: the oldest snapshot is also kept while a bucket has counts
    left, and -1 keeps a bucket unlimited (restic < 0.16 refuses ``unlimited`` and ignores a negative
    count); ``complete``: ``snaps`` reaches the group's oldest snapshot (a truncated list has older ones)."""
    keep = [False] * len(snaps)
    if not snaps:
        return keep
    candidates = [s.time for s in snaps if s.time < now]
    latest = max(candidates) if candidates else None
    last: dict[str, tuple[int, ...] | int | None] = {}
    left = {kind: n for kind, n in policy.counts.items() if n > 0 or oldest_rule}
    within_last: dict[str, tuple[int, ...] | None] = dict.fromkeys(policy.within)
    last_index = len(snaps) - 1
    for nr, cur in enumerate(snaps):
        kept = any(tags <= set(cur.tags) for tags in policy.keep_tags)
        every = policy.within.get("")
        if every is not None and (latest is None or cur.time > every.before(latest)):
            kept = True
        oldest = oldest_rule and complete and nr == last_index
        for kind in ("last", *BUCKETS):
            count = left.get(kind, 0)
            if count == 0:
                continue
            value: tuple[int, ...] | int = nr if kind == "last" else _bucket(kind, cur.time)
            if value != last.get(kind) or oldest:
                kept = True
                last[kind] = value
                if count > 0:
                    left[kind] = count - 1
        for kind in BUCKETS:
            duration = policy.within.get(kind)
            if duration is None or not (latest is None or cur.time > duration.before(latest)):
                continue
            value = _bucket(kind, cur.time)
            if value != within_last[kind] or oldest:
                kept = True
                within_last[kind] = value
        keep[nr] = kept
    return keep


# ---------------------------------------------------------------- coverage


def _label(kind: str, key: tuple[int, ...]) -> str:
    if kind == "hourly":
        return f"{key[0]:04d}-{key[1]:02d}-{key[2]:02d} {key[3]:02d}:00"
    if kind == "daily":
        return f"{key[0]:04d}-{key[1]:02d}-{key[2]:02d}"
    if kind == "weekly":
        return f"{key[0]:04d}-W{key[1]:02d}"
    if kind == "monthly":
        return f"{key[0]:04d}-{key[1]:02d}"
    return f"{key[0]:04d}"


def _periods_back(kind: str, anchor: datetime) -> Iterator[tuple[int, ...]]:
    """The bucket keys of ``kind`` from the anchor's period backwards (calendar steps)."""
    hour = anchor.replace(minute=0, second=0, microsecond=0, tzinfo=None)
    day: date = anchor.date()
    year, month = anchor.year, anchor.month
    while True:
        if kind == "hourly":
            yield _bucket(kind, hour)
            hour -= timedelta(hours=1)
        elif kind in ("daily", "weekly"):
            yield _bucket(kind, datetime(day.year, day.month, day.day))
            day -= timedelta(days=1 if kind == "daily" else 7)
        elif kind == "monthly":
            yield (year, month)
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        else:
            yield (year,)
            year -= 1


PERIODS_MAX = 100_000  # an unlimited hourly bucket over a decade stays under it


@dataclass(frozen=True)
class Coverage:
    bucket: str  # "daily", "within daily 30d", ...
    keep: int | str  # the count (-1 unlimited) or the duration text
    expected: int
    present: int
    missing: tuple[str, ...]  # labels, newest first

    @property
    def pct(self) -> float:
        return 100.0 if not self.expected else round(100.0 * self.present / self.expected, 1)


def coverage(snaps: Sequence[Snap], policy: Policy, now: datetime) -> list[Coverage]:
    """Per calendar bucket of the policy (counted and within), the periods the group's history should
    cover and those without any snapshot. ``snaps``: one group, newest first."""
    if not snaps:
        return []
    anchor = snaps[0].time
    oldest = snaps[-1].time
    candidates = [s.time for s in snaps if s.time < now]
    latest = max(candidates) if candidates else anchor
    out: list[Coverage] = []
    wanted: list[tuple[str, int | str, str, Callable[[tuple[int, ...]], bool]]] = []
    for kind in BUCKETS:
        count = policy.counts.get(kind)
        if count:
            limit = count if count > 0 else PERIODS_MAX
            wanted.append((kind, count, kind, _first_n(limit)))
        duration = policy.within.get(kind)
        if duration is not None:
            cutoff = _bucket(kind, duration.before(latest).astimezone(anchor.tzinfo))
            text = policy.given.get(f"keep_within_{kind}", "")
            wanted.append((f"within {kind} {text}", str(text), kind, _after(cutoff)))
    for label, keep, kind, accept in wanted:
        seen = {_bucket(kind, s.time) for s in snaps}
        floor = _bucket(kind, oldest)
        periods = []
        for n, key in enumerate(_periods_back(kind, anchor)):
            if key < floor or n >= PERIODS_MAX or not accept(key):
                break
            periods.append(key)
        missing = tuple(_label(kind, k) for k in periods if k not in seen)
        out.append(Coverage(label, keep, len(periods), len(periods) - len(missing), missing))
    return out


def _first_n(limit: int) -> Callable[[tuple[int, ...]], bool]:
    state = {"n": 0}

    def accept(_key: tuple[int, ...]) -> bool:
        state["n"] += 1
        return state["n"] <= limit

    return accept


def _after(cutoff: tuple[int, ...]) -> Callable[[tuple[int, ...]], bool]:
    return lambda key: key > cutoff


def version_tuple(text: str) -> tuple[int, ...] | None:
    match = re.match(r"^(\d+)\.(\d+)(?:\.(\d+))?", text or "")
    if not match:
        return None
    return tuple(int(x or 0) for x in match.groups())


def oldest_rule_applies(version: str) -> bool:
    """restic >= 0.16.0 keeps the oldest snapshot while counts are left; an unknown version: the newest
    restic's rule."""
    parsed = version_tuple(version)
    return parsed is None or parsed >= OLDEST_RULE_SINCE
