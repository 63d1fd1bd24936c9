"""``maint nats-config`` (issue 17): its configuration runs on a real nats-server and keeps the sites apart.

Without a server: the nkeys it makes are what the reference ``nkeys`` library reads, only public keys are
printed, seed files are private and reused, bad options and inventories stop it with one line (exit 2).

With Debian's nats-server on 127.0.0.1 (tests/nats_harness.py; skipped loudly when it is not installed):
site ``a``'s user pulls its jobs and publishes its events; site ``b``'s user can neither subscribe to ``a``'s
jobs or replies, nor pull from ``a``'s consumer, nor publish into ``a``'s events (the server's permissions
violation is asserted, and ``a``'s job is still there for ``a``); TLS and a client certificate are required.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import stat
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from runner import natsconf, sites
from runner.cli import app
from tests.nats_harness import NatsServer, connect, declare_site, nats_server

HOSTS = {
    "all": {
        "children": {
            "linux": {"hosts": {"web1": {}, "web2": {}}},
            "branch": {"vars": {"maint_site": "b"}, "hosts": {"br1": {}}},
        }
    }
}


def write_client(base: Path, name: str, hosts: dict[str, Any], site: str | None = None) -> Path:
    root = base / name
    (root / "group_vars" / "all").mkdir(parents=True)
    (root / "hosts.yml").write_text(yaml.safe_dump(hosts))
    settings: dict[str, Any] = {
        "display_name": name,
        "timezone": "Europe/Madrid",
        "contacts": [{"name": "Tech", "email": "tech@example.com"}],
        "roles": {"linux_health": ["all"]},
    }
    if site is not None:
        settings["site"] = site
    (root / "group_vars" / "all" / "maintenance.yml").write_text(yaml.safe_dump({"maintenance": settings}))
    return root


@pytest.fixture
def inventories(tmp_path: Path) -> Path:
    """Client acme on sites a (client-wide) and b (group branch); client globex on the controller."""
    base = tmp_path / "inventories"
    write_client(base, "acme", HOSTS, site="a")
    write_client(base, "globex", {"all": {"hosts": {"srv1": {}}}})
    return base


def nats_config(inventories: Path, *args: str) -> Any:
    return CliRunner().invoke(app, ["nats-config", "--inventories", str(inventories), *args])


def one_error_line(result: Any) -> str:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [str(line) for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    return lines[0]


# --------------------------------------------------------------------------- without a server


def test_nkeys_are_what_the_reference_library_reads() -> None:
    nkeys = pytest.importorskip("nkeys")
    for _ in range(20):
        seed = natsconf.new_user_seed()
        pair = nkeys.from_seed(bytearray(seed.encode()))
        assert seed.startswith("SU") and pair.public_key.decode() == natsconf.user_public_key(seed)
        assert pair.public_key.decode().startswith("U")
    raw = bytes(range(32))
    reference = nkeys.encode_seed(raw, nkeys.PREFIX_BYTE_USER).decode()
    assert natsconf.user_seed(raw) == reference
    flipped = reference[:10] + ("B" if reference[10] == "A" else "A") + reference[11:]
    public = nkeys.from_seed(bytearray(reference.encode())).public_key.decode()
    for bad, why in ((flipped, "checksum"), ("not base32!", "base32"), (public, "not a seed")):
        with pytest.raises(natsconf.NatsConfigError, match=why):
            natsconf.user_public_key(bad)


def test_config_lists_a_user_per_site_and_prints_no_secret(inventories: Path, tmp_path: Path) -> None:
    creds = tmp_path / "creds"
    result = nats_config(inventories, "--write-creds", str(creds), "--listen", "127.0.0.1:4222")
    assert result.exit_code == 0, result.output
    text = result.stdout
    files = sorted(p.name for p in creds.iterdir())
    assert files == ["controller.nk", "site-a.nk", "site-b.nk"]
    assert stat.S_IMODE(creds.stat().st_mode) == 0o700
    seeds = {}
    for path in creds.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        seeds[path.name] = path.read_text().strip()
        assert seeds[path.name] not in text and seeds[path.name] not in result.stderr
    assert not re.search(r"\bS[A-Z2-7]{50,}", text + result.stderr), "a seed was printed"
    keys = re.findall(r'nkey: "(U[A-Z2-7]{55})"', text)
    assert keys == [natsconf.user_public_key(seeds[f]) for f in files]
    assert "# site a (site-a.nk): clients acme" in text and "# site b (site-b.nk): clients acme" in text
    assert "globex" not in text  # its hosts run on the controller
    assert f"wrote {creds / 'site-a.nk'} (mode 0600)" in result.stderr
    # again with the same folder: every key kept, nothing written, the same configuration
    again = nats_config(inventories, "--creds", str(creds), "--listen", "127.0.0.1:4222")
    assert again.exit_code == 0, again.output
    assert again.stdout == text and "wrote" not in again.stderr


def test_each_site_is_allowed_only_its_own_names() -> None:
    for site, other in (("a", "b"), ("b", "a"), ("hq-1", "hq")):
        perms = natsconf.permissions(site)
        subjects = [*perms["publish"]["allow"], *perms["subscribe"]["allow"]]
        assert all(re.search(rf"(\.|_){re.escape(site)}(\.|$)", s) for s in subjects), subjects
        assert not any(re.search(rf"(\.|_){re.escape(other)}(\.|$)", s) for s in subjects)
        assert not any(s.startswith(("maint.jobs", "_INBOX.")) or s in (">", "$JS.API.>") for s in subjects)
        assert perms["subscribe"]["allow"] == [f"{sites.inbox_prefix(site)}.>", f"maint.cancel.{site}.>"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "pass --write-creds DIR"),
        (["--creds", "{tmp}/nowhere"], "no such folder of nkey seed files"),
        (["--write-creds", "{tmp}/c", "--listen", "localhost"], "--listen: 'localhost' is not HOST:PORT"),
        (["--write-creds", "{tmp}/c", "--max-file-store", "lots"], "--max-file-store: 'lots' is not a size"),
        (["--write-creds", "{tmp}/c", "--max-payload", "1GB"], "--max-payload: at most 64MB"),
    ],
)
def test_bad_options_stop_with_one_line(
    inventories: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    line = one_error_line(nats_config(inventories, *(a.replace("{tmp}", str(tmp_path)) for a in args)))
    assert message in line


def test_unusable_seed_files_stop_with_one_line(inventories: Path, tmp_path: Path) -> None:
    creds = tmp_path / "creds"
    assert nats_config(inventories, "--write-creds", str(creds)).exit_code == 0
    (creds / "site-b.nk").unlink()
    line = one_error_line(nats_config(inventories, "--creds", str(creds)))
    assert "site-b.nk: missing" in line
    (creds / "site-b.nk").write_text("SUnotaseed\n")
    (creds / "site-b.nk").chmod(0o600)
    assert "site-b.nk: not an nkey" in one_error_line(nats_config(inventories, "--creds", str(creds)))
    (creds / "site-a.nk").chmod(0o644)
    line = one_error_line(nats_config(inventories, "--creds", str(creds)))
    assert "site-a.nk: readable by others (mode 0644)" in line


def test_a_bad_site_name_stops_with_its_file_and_key(inventories: Path, tmp_path: Path) -> None:
    host_vars = inventories / "acme" / "host_vars"
    host_vars.mkdir()
    (host_vars / "web2.yml").write_text("maint_site: Branch.Office\n")
    line = one_error_line(nats_config(inventories, "--write-creds", str(tmp_path / "c")))
    assert "acme/host_vars/web2.yml: maint_site: host web2" in line and "'Branch.Office'" in line
    assert not (tmp_path / "c").exists()  # nothing written for an inventory that cannot be read


# --------------------------------------------------------------------------- with nats-server


def run(coro: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(asyncio.wait_for(coro(), timeout=60))


@pytest.fixture
def server(inventories: Path, tmp_path: Path) -> Any:
    with nats_server(inventories, tmp_path / "nats", ["controller", "a", "b", "intruder"]) as running:
        yield running


async def _settle(*connections: Any) -> None:
    """Flush each connection: the server has read every earlier command."""
    for conn in connections:
        await conn.nc.flush(timeout=5)


async def _refused(conn: Any, what: str, subject: str) -> None:
    """Wait (at most 10 s) for the server's permissions violation of ``what`` (publish, subscription) to
    ``subject``: the -ERR may come after the PONG of a flush."""
    expected = f'nats: permissions violation for {what} to "{subject.lower()}"'
    for _ in range(200):
        if expected in conn.violations():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {expected!r}; the server sent {conn.errors}")


async def _declared(server: NatsServer) -> Any:
    controller = await connect(server, None)
    for site in ("a", "b"):
        await declare_site(controller.nc, site)
    return controller


def test_a_site_pulls_its_own_jobs_and_publishes_its_events(server: NatsServer) -> None:
    async def scenario() -> None:
        controller = await _declared(server)
        js = controller.nc.jetstream()
        await js.publish(sites.jobs_subject("a"), b"job for a")
        worker = await connect(server, "a")
        wjs = worker.nc.jetstream()
        pull = await wjs.pull_subscribe_bind(
            sites.JOBS_CONSUMER, stream=sites.jobs_stream("a"), inbox_prefix=b"_INBOX_maint_site_a."
        )
        [job] = await pull.fetch(1, timeout=5)
        assert job.data == b"job for a" and job.subject == sites.jobs_subject("a")
        await job.in_progress()  # the lease is extended while the job runs
        await job.ack_sync(timeout=5)
        ack = await wjs.publish(sites.events_subject("a", "run1"), b'{"uuid": "1"}')
        assert ack.stream == sites.events_stream("a")
        await worker.nc.publish(sites.heartbeat_subject("a", "w1"), b"{}")
        await _settle(worker)
        assert worker.errors == []
        jobs = await js.stream_info(sites.jobs_stream("a"))
        events = await js.stream_info(sites.events_stream("a"))
        assert (jobs.state.messages, events.state.messages) == (0, 1)  # acked: gone from the work queue
        for conn in (worker, controller):
            await conn.nc.close()

    run(scenario)


def test_site_b_cannot_take_or_forge_site_a(server: NatsServer) -> None:
    import nats.errors

    async def scenario() -> None:
        controller = await _declared(server)
        js = controller.nc.jetstream()
        await js.publish(sites.jobs_subject("a"), b"secret job for a")
        intruder = await connect(server, "b")
        nc = intruder.nc
        for subject in (
            "maint.jobs.a",
            "maint.jobs.>",
            "_INBOX_maint_site_a.>",
            "_INBOX.>",
            ">",
            sites.cancel_subject("a", "*"),  # it cannot learn which of a's runs are stopped
        ):
            await nc.subscribe(subject)
            await _refused(intruder, "subscription", subject)
        ijs = nc.jetstream()
        pull = await ijs.pull_subscribe_bind(
            sites.JOBS_CONSUMER, stream=sites.jobs_stream("a"), inbox_prefix=b"_INBOX_maint_site_b."
        )
        with pytest.raises(nats.errors.TimeoutError):  # nothing comes: the pull request was refused
            await pull.fetch(1, timeout=1)
        pull_subject = f"$JS.API.CONSUMER.MSG.NEXT.{sites.jobs_stream('a')}.{sites.JOBS_CONSUMER}"
        await _refused(intruder, "publish", pull_subject)
        for subject in (
            sites.events_subject("a", "run1"),
            sites.heartbeat_subject("a", "w1"),
            sites.jobs_subject("a"),
            sites.cancel_subject("a", "run1"),  # nor stop them: only the controller may
            sites.cancel_subject("b", "run1"),
            f"$JS.API.CONSUMER.CREATE.{sites.jobs_stream('a')}",
            f"$JS.API.STREAM.MSG.GET.{sites.jobs_stream('a')}",
            f"$JS.API.DIRECT.GET.{sites.jobs_stream('a')}",
        ):
            await nc.publish(subject, b"forged", reply="_INBOX_maint_site_b.x")
            await _refused(intruder, "publish", subject)
        # its own names still work: b is refused a's, not everything
        await ijs.publish(sites.events_subject("b", "run1"), b"{}")
        jobs = await js.stream_info(sites.jobs_stream("a"))
        events = await js.stream_info(sites.events_stream("a"))
        assert (jobs.state.messages, events.state.messages) == (1, 0)
        # ... and a's job is still there for a
        worker = await connect(server, "a")
        pull_a = await worker.nc.jetstream().pull_subscribe_bind(
            sites.JOBS_CONSUMER, stream=sites.jobs_stream("a"), inbox_prefix=b"_INBOX_maint_site_a."
        )
        [job] = await pull_a.fetch(1, timeout=5)
        assert job.data == b"secret job for a" and job.metadata.num_delivered == 1
        await job.ack_sync(timeout=5)
        for conn in (worker, intruder, controller):
            await conn.nc.close()

    run(scenario)


def test_tls_a_client_certificate_and_a_known_nkey_are_required(server: NatsServer, tmp_path: Path) -> None:
    # a plain connection: the server announces TLS and never answers a plaintext CONNECT
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as plain:
        info = plain.recv(4096).decode()
        assert info.startswith("INFO ") and json.loads(info[5:])["tls_required"] is True
        plain.sendall(b'CONNECT {"verbose":false}\r\nPING\r\n')
        answer = b""
        try:
            while chunk := plain.recv(4096):
                answer += chunk
        except (ConnectionResetError, TimeoutError):
            pass
        assert b"PONG" not in answer
    stranger = tmp_path / "stranger.nk"
    stranger.write_text(natsconf.new_user_seed() + "\n")
    stranger.chmod(0o600)

    async def scenario() -> None:
        import ssl

        import nats.errors

        # no client certificate: the server ends the handshake. With TLS 1.3 the client's handshake is done
        # before the server has checked, so the client may see the server's alert, a reset, a broken pipe
        # (writing CONNECT after the close) or an end of stream; the server's log below says why
        with pytest.raises((ssl.SSLError, ConnectionError, nats.errors.UnexpectedEOF)):
            await connect(server, "a", cert=None)
        with pytest.raises(
            nats.errors.Error, match="Authorization Violation"
        ):  # a certificate, an unknown nkey
            await connect(server, "a", cert="intruder", seed=stranger)
        ok = await connect(server, "a", cert="intruder")  # any certificate of the CA, the site's own nkey
        await ok.nc.close()

    run(scenario)
    log = server.log_text()
    assert "TLS handshake error: tls: first record does not look like a TLS handshake" in log  # the plain one
    assert "TLS handshake error: tls: client didn't provide a certificate" in log
    assert f'authentication error - Nkey "{natsconf.user_public_key(stranger.read_text())}"' in log
