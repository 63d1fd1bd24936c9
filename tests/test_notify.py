"""Notifications against real servers on 127.0.0.1: an SMTP server with STARTTLS and AUTH (aiosmtpd, its
certificate from a CA made here with ``cryptography``) and an HTTP server receiving the webhooks.

Every secret is a planted canary; none may reach a message, a request body, the ledger, the CLI or a log.
Times are passed in (``now``): back-off is checked on the recorded ``next_attempt_at``, never by waiting.
"""

from __future__ import annotations

import copy
import email
import email.policy
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

import runner.notify
from runner import schedule_ledger as occ
from runner.cli import app
from runner.inventory import load_client
from runner.ledger import Ledger, RunRecord, RunStatus
from runner.notify import store
from runner.notify.engine import BACKOFF, MAX_ATTEMPTS, next_attempt, run_pass
from runner.notify.messages import WEBHOOK_SCHEMA
from runner.results import CheckResult
from tests.conftest import BASE_HOSTS, BASE_SETTINGS, MakeClient

SMTP_USER = "maint@example.com"
CANARY_PASSWORD = "canary-smtp-pw-7f3a9c2e"
CANARY_TOKEN = "canary-bearer-token-51be77d0"
CANARY_TEAMS = "canaryTeamsPathToken9d81c4"
CANARIES = (CANARY_PASSWORD, CANARY_TOKEN, CANARY_TEAMS)
T0 = datetime(2026, 11, 7, 21, 0, tzinfo=UTC)


# -- servers ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Pki:
    ca_file: Path
    server: ssl.SSLContext


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA and a server certificate for 127.0.0.1, made here."""
    folder = tmp_path_factory.mktemp("pki")
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "maint test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = folder / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    return Pki(ca_file, server)


class Mailbox:
    """aiosmtpd handler: keeps every message it accepts, and every login tried."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.logins: list[tuple[str, str]] = []
        self.tls: list[bool] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(bytes(envelope.content))
        self.tls.append(session.ssl is not None)
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = data.login.decode(), data.password.decode()
        self.logins.append((login, password))
        return AuthResult(success=login == SMTP_USER and password == CANARY_PASSWORD, handled=False)

    def parsed(self) -> list[email.message.EmailMessage]:
        found = [email.message_from_bytes(m, policy=email.policy.default) for m in self.messages]
        return [m for m in found if isinstance(m, email.message.EmailMessage)]


@pytest.fixture
def smtp(pki: Pki) -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        tls_context=pki.server,
        require_starttls=True,
        authenticator=box.authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@dataclass
class Hook:
    """What the HTTP server received, and the statuses it answers with (then 200)."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def bodies(self) -> list[Any]:
        return [json.loads(r["body"]) for r in self.requests]


@pytest.fixture
def hook() -> Iterator[Hook]:
    found = Hook()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode("utf-8")
            with lock:
                found.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = found.statuses.pop(0) if found.statuses else 200
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"1" if status == 200 else b"server error")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word (a hung server)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


# -- clients and ledger rows --------------------------------------------------------------------


HOSTS = copy.deepcopy(BASE_HOSTS)
HOSTS["all"]["children"]["linux"]["hosts"]["web1"] = {"ansible_host": "192.0.2.10"}


def email_channel(port: int, ca_file: Path, **extra: Any) -> dict[str, Any]:
    return {
        "name": "mail",
        "type": "email",
        "host": "127.0.0.1",
        "port": port,
        "username": SMTP_USER,
        "password_env": "MAINT_TEST_SMTP_PASSWORD",
        "from": SMTP_USER,
        "to": ["ops@example.com"],
        "ca_file": str(ca_file),
        **extra,
    }


def settings_with(notify: dict[str, Any]) -> dict[str, Any]:
    return {**copy.deepcopy(BASE_SETTINGS), "notify": notify}


@pytest.fixture(autouse=True)
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAINT_TEST_SMTP_PASSWORD", CANARY_PASSWORD)
    monkeypatch.setenv("MAINT_TEST_HOOK_TOKEN", CANARY_TOKEN)


_runs = iter(range(1, 10**6))


def record(ledger: Ledger, client: str, at: datetime, rows: list[tuple[str, str, str, str, str]]) -> str:
    """A run at ``at`` with (host, control, status, severity, domain) results; returns its run id."""
    run_id = f"{at:%Y%m%dT%H%M%SZ}-{next(_runs):06x}"
    ledger.start_run(
        RunRecord(run_id=run_id, client=client, mode="audit", roles=["linux_health"], started_at=at)
    )
    ledger.record(
        [
            (
                f"{host}:{control}",
                CheckResult(
                    control=control,
                    title=f"title of {control}",
                    domain=domain,
                    status=status,
                    severity=severity,
                    evidence={"reason": f"{control} observed {status}"},
                    remediation=f"fix {control} like this",
                    host=host,
                    client=client,
                    run_id=run_id,
                    observed_at=at,
                    role="linux_health",
                ),
            )
            for host, control, status, severity, domain in rows
        ]
    )
    ledger.finish_run(run_id, RunStatus.SUCCESSFUL)
    return run_id


def notification_rows(ledger: Ledger, client: str = "acme") -> list[dict[str, Any]]:
    t = store.notifications
    with ledger.engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(sa.select(t).where(t.c.client == client).order_by(t.c.seq)).mappings()
        ]


def assert_no_canary(*texts: Any) -> None:
    blob = json.dumps([t if isinstance(t, str) else repr(t) for t in texts])
    for canary in CANARIES:
        assert canary not in blob


FAIL_HIGH = ("web1", "PATCH-LNX-01", "fail", "high", "patching")
PASS = ("web1", "PATCH-LNX-01", "pass", "high", "patching")


# -- settings ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("notify", "key", "words"),
    [
        (
            {
                "channels": [
                    {
                        "name": "m",
                        "type": "email",
                        "host": "h",
                        "from": "a@example.com",
                        "to": ["b@example.com"],
                        "username": "u",
                        "password": "clear-text",
                    }
                ]
            },
            "maintenance.notify.channels[0].email.password",
            "!vault",
        ),
        (
            {"channels": [{"name": "t", "type": "teams", "url": "https://x.webhook.office.com/abc"}]},
            "maintenance.notify.channels[0].teams.url",
            "!vault",
        ),
        (
            {
                "channels": [{"name": "w", "type": "webhook", "url": "https://h/x"}],
                "events": [{"event": "drift", "channels": ["nope"]}],
            },
            "maintenance.notify",
            "unknown channel(s) nope",
        ),
        (
            {
                "channels": [{"name": "w", "type": "webhook", "url": "https://h/x"}],
                "events": [{"event": "drift", "min_severity": "high"}],
            },
            "maintenance.notify.events[0]",
            "new_failure event only",
        ),
        (
            {"channels": [{"name": "w", "type": "pager", "url": "https://h/x"}]},
            "maintenance.notify.channels[0]",
            "email",
        ),
        (
            {"channels": [{"name": "w", "type": "webhook", "url": "https://h/x", "colour": "red"}]},
            "maintenance.notify.channels[0].webhook.colour",
            "unknown key",
        ),
    ],
)
def test_a_bad_notify_setting_is_one_line_naming_its_key(
    make_client: MakeClient, notify: dict[str, Any], key: str, words: str
) -> None:
    make_client("acme", settings=settings_with(notify))
    result = CliRunner().invoke(app, ["inventory", "validate", "acme"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if key in line]
    assert lines and words in lines[0], result.output
    assert "Traceback" not in result.output


def test_backoff_is_1_5_25_min_then_2_h_and_gives_up_after_6_attempts() -> None:
    waits = [next_attempt(n, T0) for n in range(1, MAX_ATTEMPTS + 1)]
    assert [w - T0 for w in waits[:5] if w is not None] == [*BACKOFF, BACKOFF[-1]]
    assert waits[-1] is None


# -- e-mail ---------------------------------------------------------------------------------------------


def test_email_goes_over_starttls_with_login_and_carries_the_fact_but_no_secret(
    make_client: MakeClient, smtp: tuple[Mailbox, int], pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    box, port = smtp
    make_client(
        "acme",
        settings=settings_with({"channels": [email_channel(port, pki.ca_file)], "events": ["new_failure"]}),
        hosts=HOSTS,
    )
    ledger = Ledger()
    record(ledger, "acme", T0, [FAIL_HIGH, ("web1", "HEALTH-LNX-02", "fail", "low", "health")])
    report = run_pass(ledger, load_client("acme"), now=T0 + timedelta(minutes=1))
    assert report.count("sent") == 1 and report.count("failed") == 0  # the low failure is below min_severity
    assert box.logins == [(SMTP_USER, CANARY_PASSWORD)] and box.tls == [True]
    (msg,) = box.parsed()
    assert msg["Subject"] == "[maint] Test client: new high failure: PATCH-LNX-01 on web1"
    assert msg["To"] == "ops@example.com" and msg["From"] == SMTP_USER
    body = msg.get_content()
    assert "fix PATCH-LNX-01 like this" in body and "PATCH-LNX-01 observed fail" in body
    assert "maint ledger prove acme --seq" in body
    assert_no_canary(box.messages[0].decode(), notification_rows(ledger), caplog.text)
    rows = notification_rows(ledger)
    assert [(r["outcome"], r["attempts"]) for r in rows] == [("pending", 0), ("sent", 1)]
    assert rows[0]["body"] == body.replace("\r\n", "\n") or rows[0]["body"].strip() == body.strip()
    assert all(r["channel"] == "mail" and r["event"] == "new_failure" for r in rows)
    assert ledger.verify("acme")[0].ok  # the notification rows are part of the client's chain


def test_a_wrong_smtp_password_fails_without_showing_it(
    make_client: MakeClient, smtp: tuple[Mailbox, int], pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    box, port = smtp
    monkeypatch.setenv("MAINT_TEST_SMTP_PASSWORD", "canary-wrong-password-0b7e")
    make_client(
        "acme",
        settings=settings_with({"channels": [email_channel(port, pki.ca_file)], "events": ["new_failure"]}),
        hosts=HOSTS,
    )
    ledger = Ledger()
    record(ledger, "acme", T0, [FAIL_HIGH])
    report = run_pass(ledger, load_client("acme"), now=T0)
    (delivery,) = report.deliveries
    assert delivery.outcome == "failed" and delivery.error == "SMTP login refused (535)"
    assert box.messages == []
    assert "canary-wrong-password-0b7e" not in json.dumps(notification_rows(ledger))


def test_an_untrusted_certificate_is_refused(
    make_client: MakeClient, smtp: tuple[Mailbox, int], pki: Pki
) -> None:
    box, port = smtp
    channel = email_channel(port, pki.ca_file)
    del channel["ca_file"]  # the system's CAs do not know the test CA
    make_client(
        "acme", settings=settings_with({"channels": [channel], "events": ["new_failure"]}), hosts=HOSTS
    )
    ledger = Ledger()
    record(ledger, "acme", T0, [FAIL_HIGH])
    (delivery,) = run_pass(ledger, load_client("acme"), now=T0).deliveries
    assert delivery.outcome == "failed" and "certificate" in (delivery.error or "").lower()
    assert box.logins == [] and box.messages == []  # the password never left over an untrusted channel


# -- webhooks --------------------------------------------------------------------------------------


def hook_settings(hook: Hook, monkeypatch: pytest.MonkeyPatch, **events: Any) -> dict[str, Any]:
    monkeypatch.setenv("MAINT_TEST_TEAMS_URL", hook.url(f"/teams/IncomingWebhook/{CANARY_TEAMS}"))
    monkeypatch.setenv("MAINT_TEST_HOOK_URL", hook.url("/hook"))
    return settings_with(
        {
            "channels": [
                {"name": "teams", "type": "teams", "url_env": "MAINT_TEST_TEAMS_URL"},
                {
                    "name": "psa",
                    "type": "webhook",
                    "url_env": "MAINT_TEST_HOOK_URL",
                    "header_env": "MAINT_TEST_HOOK_TOKEN",
                },
            ],
            "events": events.get("events", ["new_failure"]),
            **{k: v for k, v in events.items() if k != "events"},
        }
    )


def test_webhook_json_and_teams_card_are_as_documented_and_hold_no_secret(
    make_client: MakeClient, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    make_client("acme", settings=hook_settings(hook, monkeypatch), hosts=HOSTS)
    ledger = Ledger()
    record(ledger, "acme", T0, [FAIL_HIGH])
    report = run_pass(ledger, load_client("acme"), now=T0)
    assert report.count("sent") == 2
    by_path = {r["path"].split("/")[1]: r for r in hook.requests}
    payload = json.loads(by_path["hook"]["body"])
    jsonschema.validate(payload, WEBHOOK_SCHEMA)
    first_seq = payload["fact"][3]
    assert payload["event"] == "new_failure" and payload["test"] is False
    assert payload["client"] == {"name": "acme", "display_name": "Test client"}
    assert payload["fact"] == ["new_failure", "web1", "PATCH-LNX-01", first_seq]
    assert payload["facts"]["host"] == "web1" and payload["facts"]["severity"] == "high"
    assert payload["ledger"]["seqs"] == [first_seq]
    assert payload["ledger"]["prove"] == [f"maint ledger prove acme --seq {first_seq}"]
    assert by_path["hook"]["headers"]["Authorization"] == f"Bearer {CANARY_TOKEN}"  # sent, never stored
    card = json.loads(by_path["teams"]["body"])
    assert card["type"] == "message"
    (attachment,) = card["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    content = attachment["content"]
    assert content["type"] == "AdaptiveCard" and content["version"] == "1.4"
    assert content["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert [b["type"] for b in content["body"]] == ["TextBlock", "FactSet", "TextBlock"]
    facts = {f["title"]: f["value"] for f in content["body"][1]["facts"]}
    assert facts["Host"] == "web1" and facts["Control"] == "PATCH-LNX-01"
    assert_no_canary(*(r["body"] for r in hook.requests), notification_rows(ledger))


def test_a_fact_is_sent_once_and_a_recurrence_after_a_pass_again(
    make_client: MakeClient, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_client("acme", settings=hook_settings(hook, monkeypatch), hosts=HOSTS)
    ledger = Ledger()
    client = load_client("acme")
    record(ledger, "acme", T0, [FAIL_HIGH])
    run_pass(ledger, client, now=T0)
    record(ledger, "acme", T0 + timedelta(days=1), [FAIL_HIGH])  # still failing tomorrow
    again = run_pass(ledger, client, now=T0 + timedelta(days=1))
    assert again.recorded == 0 and again.deliveries == []
    psa = [b for b in hook.bodies() if "schema" in b]
    assert len(psa) == 1
    record(ledger, "acme", T0 + timedelta(days=2), [PASS])
    assert run_pass(ledger, client, now=T0 + timedelta(days=2)).deliveries == []
    record(ledger, "acme", T0 + timedelta(days=3), [FAIL_HIGH])  # it came back: a new fact
    back = run_pass(ledger, client, now=T0 + timedelta(days=3))
    assert back.count("sent") == 2
    psa = [b for b in hook.bodies() if "schema" in b]
    assert len(psa) == 2 and psa[0]["fact"] != psa[1]["fact"]
    assert psa[1]["fact"][3] > psa[0]["fact"][3]


def test_a_waived_failure_is_not_notified(
    make_client: MakeClient, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = hook_settings(hook, monkeypatch)
    settings["waivers"] = [{"control": "PATCH-LNX-01", "hosts": "web1", "owner": "o", "reason": "r"}]
    make_client("acme", settings=settings, hosts=HOSTS)
    ledger = Ledger()
    record(ledger, "acme", T0, [FAIL_HIGH])
    assert run_pass(ledger, load_client("acme"), now=T0).facts == 0


def test_a_500_is_retried_with_backoff_and_then_sent(
    make_client: MakeClient, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = hook_settings(hook, monkeypatch)
    settings["notify"]["channels"] = settings["notify"]["channels"][1:]  # the JSON webhook only
    make_client("acme", settings=settings, hosts=HOSTS)
    hook.statuses = [500]
    ledger = Ledger()
    client = load_client("acme")
    record(ledger, "acme", T0, [FAIL_HIGH])
    (first,) = run_pass(ledger, client, now=T0).deliveries
    assert first.outcome == "failed" and first.error == "HTTP 500 Internal Server Error"
    assert first.next_attempt_at == (T0 + BACKOFF[0]).isoformat(timespec="microseconds")
    assert run_pass(ledger, client, now=T0 + timedelta(seconds=30)).deliveries == []  # not due yet
    assert len(hook.requests) == 1
    result = CliRunner().invoke(app, ["notify", "retry", "acme", "--now", (T0 + BACKOFF[0]).isoformat()])
    assert result.exit_code == 0, result.output
    assert "acme: 1 sent, 0 failed" in result.output
    assert len(hook.requests) == 2
    rows = notification_rows(ledger)
    assert [(r["outcome"], r["attempts"]) for r in rows] == [("pending", 0), ("failed", 1), ("sent", 2)]
    assert rows[-1]["next_attempt_at"] is None
    assert json.loads(hook.requests[1]["body"])["attempt"] == 2
    listed = CliRunner().invoke(app, ["notify", "list", "acme", "--json"])
    (shown,) = json.loads(listed.stdout)
    assert shown["outcome"] == "sent" and shown["attempts"] == 2 and len(shown["seqs"]) == 3
    assert_no_canary(listed.output, *(r["body"] for r in hook.requests))


def test_a_channel_that_is_down_or_hung_never_raises_and_waits_for_its_next_attempt(
    make_client: MakeClient, black_hole: int, pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    closed = free_port()
    settings = settings_with(
        {
            "channels": [
                email_channel(closed, pki.ca_file),
                {**email_channel(black_hole, pki.ca_file), "name": "hung", "timeout_s": 0.5},
                {"name": "hook", "type": "webhook", "url": f"http://127.0.0.1:{closed}/x"},
            ],
            "events": ["new_failure"],
            "budget_seconds": 1,
        }
    )
    make_client("acme", settings=settings, hosts=HOSTS)
    ledger = Ledger()
    now = datetime.now(UTC)  # after_run is a pass at the real time
    record(ledger, "acme", now, [FAIL_HIGH, ("web1", "PATCH-LNX-02", "fail", "critical", "patching")])
    # a hung server without a timeout would never return: the pass ends within its budget
    report = runner.notify.after_run(ledger, load_client("acme"), run_id="r1")
    assert report is not None
    by_channel: dict[str, list[str]] = {}
    for d in report.deliveries:
        by_channel.setdefault(d.channel, []).append(d.outcome)
    # each channel tried its first message, failed, and left the second for its next attempt
    assert by_channel == {c: ["failed", "deferred"] for c in ("hook", "hung", "mail")}
    errors = {d.channel: d.error for d in report.deliveries if d.outcome == "failed"}
    assert "refused" in (errors["mail"] or "") and "refused" in (errors["hook"] or "")
    assert "timed out" in (errors["hung"] or "")
    state = store.read(ledger.engine, ["acme"])
    failed = [n for n in state.values() if n.outcome == "failed"]
    assert len(failed) == 3 and all(n.next_attempt_at for n in failed)
    assert_no_canary(caplog.text, notification_rows(ledger))


# -- the other events ---------------------------------------------------------------------------------


def test_missed_window_drift_and_stale_backup_are_facts_of_the_ledger(
    make_client: MakeClient, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runner.network.platforms import Platform
    from runner.network.snapshots import store as store_snapshot

    settings = hook_settings(
        hook,
        monkeypatch,
        events=["missed_window", "drift", {"event": "backup_stale", "backup_stale_days": 2}],
    )
    settings["notify"]["channels"] = settings["notify"]["channels"][1:]
    make_client("acme", settings=settings, hosts=HOSTS)
    ledger = Ledger()
    client = load_client("acme")
    now = datetime.now(UTC)
    ledger.append(
        occ.schedule_occurrences,
        [
            occ.row(
                client="acme",
                occurrence_id="acme/monthly/2026-11-07T21:00Z",
                schedule_name="monthly",
                window_start=now - timedelta(hours=5),
                window_end=now - timedelta(hours=1),
                state=occ.OccurrenceState.MISSED,
                recorded_at=now - timedelta(minutes=30),
                detail={"reason": "the window closed before any run started", "hosts": ["web1"]},
            )
        ],
    )
    config = "hostname sw1\nusername admin secret 5 $1$abcd$canaryhashvalue\ninterface Gi0/1\n"
    store_snapshot(
        ledger, client="acme", device="sw1", platform=Platform("cisco_ios"), raw=config, use_env_key=False
    )
    store_snapshot(
        ledger,
        client="acme",
        device="sw1",
        platform=Platform("cisco_ios"),
        raw=config + " description uplink\n",
        use_env_key=False,
    )
    backup = ("web1", "BKP-RESTIC-02", "pass", "critical", "backup")
    record(ledger, "acme", now - timedelta(days=4), [backup])
    record(ledger, "acme", now - timedelta(days=3), [(*backup[:2], "fail", *backup[3:])])
    record(ledger, "acme", now - timedelta(days=1), [(*backup[:2], "fail", *backup[3:])])
    report = run_pass(ledger, client, now=now)
    assert report.count("sent") == 3
    events = {b["event"]: b for b in hook.bodies()}
    assert set(events) == {"missed_window", "drift", "backup_stale"}
    assert events["missed_window"]["facts"]["schedule"] == "monthly"
    assert events["drift"]["facts"]["device"] == "sw1" and events["drift"]["facts"]["added"] == 1
    assert "+  description uplink" in events["drift"]["text"]
    assert "canaryhashvalue" not in json.dumps(events["drift"])  # the masked text only
    stale = events["backup_stale"]
    assert stale["facts"]["host"] == "web1" and stale["facts"]["days"] == 2
    assert stale["facts"]["last_success"] == (now - timedelta(days=4)).isoformat(timespec="microseconds")
    assert run_pass(ledger, client, now=now + timedelta(hours=1)).deliveries == []  # once each


def test_a_backup_that_fails_at_the_next_monthly_run_is_stale_once_within_the_lookback(
    make_client: MakeClient, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Monthly runs: the last success is a month old when the failed run shows it, far beyond the 7 days
    of lookback; the fact arises with that run (the ledger could not show it before), so it is sent once.
    A failure the ledger already showed more than the lookback ago is left to the report."""
    settings = hook_settings(hook, monkeypatch, events=[{"event": "backup_stale", "backup_stale_days": 2}])
    settings["notify"]["channels"] = settings["notify"]["channels"][1:]
    hosts = copy.deepcopy(HOSTS)
    hosts["all"]["children"]["linux"]["hosts"]["web2"] = {"ansible_host": "192.0.2.11"}
    make_client("acme", settings=settings, hosts=hosts)
    ledger = Ledger()
    client = load_client("acme")
    now = datetime.now(UTC)
    backup = ("web1", "BKP-RESTIC-02", "pass", "critical", "backup")
    record(ledger, "acme", now - timedelta(days=31), [backup])
    record(ledger, "acme", now - timedelta(hours=1), [(*backup[:2], "fail", *backup[3:])])
    report = run_pass(ledger, client, now=now)
    assert report.count("sent") == 1
    (body,) = hook.bodies()
    assert body["event"] == "backup_stale" and body["facts"]["host"] == "web1"
    assert body["facts"]["last_success"] == (now - timedelta(days=31)).isoformat(timespec="microseconds")
    assert run_pass(ledger, client, now=now + timedelta(days=1)).deliveries == []  # once
    # notifications switched on long after the failure showed: not sent, the monthly report tells it
    record(ledger, "acme", now - timedelta(days=60), [("web2", *backup[1:])])
    record(ledger, "acme", now - timedelta(days=20), [("web2", backup[1], "fail", *backup[3:])])
    assert [d.fact for d in run_pass(ledger, client, now=now + timedelta(days=1)).deliveries] == []


def test_report_ready_is_sent_once_per_period_with_the_report_attached(
    make_client: MakeClient, smtp: tuple[Mailbox, int], pki: Pki, tmp_path: Path
) -> None:
    box, port = smtp
    make_client(
        "acme",
        settings=settings_with({"channels": [email_channel(port, pki.ca_file)], "events": ["report_ready"]}),
        hosts=HOSTS,
    )
    ledger = Ledger()
    filed = tmp_path / "2026-11.html"
    filed.write_text("<html><body>report</body></html>")
    first = runner.notify.report_ready(ledger, "acme", "2026-11", [filed])
    assert first is not None and first.count("sent") == 1
    assert runner.notify.report_ready(ledger, "acme", "2026-11", [filed]).deliveries == []  # type: ignore[union-attr]
    (msg,) = box.parsed()
    assert msg["Subject"] == "[maint] Test client: maintenance report 2026-11 is ready"
    (attached,) = list(msg.iter_attachments())
    assert attached.get_filename() == "2026-11.html" and b"report" in attached.get_content().encode()


def test_no_notify_settings_means_no_pass(make_client: MakeClient) -> None:
    make_client("acme", hosts=HOSTS)
    ledger = Ledger()
    record(ledger, "acme", T0, [FAIL_HIGH])
    assert runner.notify.after_run(ledger, load_client("acme")) is None
    assert notification_rows(ledger) == []


# -- maint notify test ------------------------------------------------------------------------------


def test_notify_test_exit_codes(
    make_client: MakeClient, smtp: tuple[Mailbox, int], pki: Pki, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    box, port = smtp
    monkeypatch.setenv("MAINT_TEST_HOOK_URL", hook.url("/hook"))
    channels = [
        email_channel(port, pki.ca_file),
        {
            "name": "psa",
            "type": "webhook",
            "url_env": "MAINT_TEST_HOOK_URL",
            "header_env": "MAINT_TEST_HOOK_TOKEN",
        },
        {"name": "down", "type": "webhook", "url": f"http://127.0.0.1:{free_port()}/x"},
    ]
    make_client("acme", settings=settings_with({"channels": channels}), hosts=HOSTS)
    cli = CliRunner()
    ok = cli.invoke(app, ["notify", "test", "acme", "--channel", "mail", "--channel", "psa"])
    assert ok.exit_code == 0, ok.output
    assert "mail (email, smtp://127.0.0.1" in ok.output and "psa (webhook, http://127.0.0.1" in ok.output
    assert len(box.messages) == 1 and json.loads(hook.requests[0]["body"])["test"] is True
    some = cli.invoke(app, ["notify", "test", "acme", "--json"])
    assert some.exit_code == 1
    outcome = {r["channel"]: r["sent"] for r in json.loads(some.stdout)}
    assert outcome == {"mail": True, "psa": True, "down": False}
    assert cli.invoke(app, ["notify", "test", "acme", "--channel", "nope"]).exit_code == 2
    monkeypatch.delenv("MAINT_TEST_SMTP_PASSWORD")
    missing = cli.invoke(app, ["notify", "test", "acme", "--channel", "mail"])
    assert missing.exit_code == 2 and "MAINT_TEST_SMTP_PASSWORD is not set" in missing.output
    make_client("plain", hosts=HOSTS)
    assert cli.invoke(app, ["notify", "test", "plain"]).exit_code == 2
    ledger = Ledger()
    tests = [r for r in notification_rows(ledger) if r["event"] == "test"]
    assert [r["outcome"] for r in tests] == ["sent", "sent", "sent", "sent", "failed"]
    # a failed test is never retried
    assert run_pass(ledger, load_client("acme"), now=datetime.now(UTC) + timedelta(days=1)).deliveries == []
    assert_no_canary(ok.output, some.output, missing.output, notification_rows(ledger))


def test_a_vaulted_password_is_decrypted_at_send_time(
    make_client: MakeClient,
    smtp: tuple[Mailbox, int],
    pki: Pki,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import yaml
    from ansible.parsing.vault import VaultLib, VaultSecret

    box, port = smtp
    vault_pw = tmp_path / "vault-pass"
    vault_pw.write_text("canary-vault-password-e4\n")
    blob = VaultLib([("default", VaultSecret(b"canary-vault-password-e4"))]).encrypt(CANARY_PASSWORD).decode()
    channel = email_channel(port, pki.ca_file)
    del channel["password_env"]
    text = yaml.safe_dump({"maintenance": settings_with({"channels": [channel], "events": ["new_failure"]})})
    # the password as an inline !vault value, as `ansible-vault encrypt_string` writes it
    indent = next(line for line in text.splitlines() if "username:" in line).split("username")[0]
    vaulted = "".join(f"{indent}  {line}\n" for line in blob.splitlines())
    text = text.replace(
        f"{indent}username: {SMTP_USER}\n",
        f"{indent}username: {SMTP_USER}\n{indent}password: !vault |\n{vaulted}",
    )
    assert "password: !vault" in text
    make_client("acme", raw_settings=text, hosts=HOSTS)
    monkeypatch.setenv("MAINT_VAULT_PASSWORD_FILE", str(vault_pw))
    ledger = Ledger()
    record(ledger, "acme", T0, [FAIL_HIGH])
    assert run_pass(ledger, load_client("acme"), now=T0).count("sent") == 1
    assert box.logins == [(SMTP_USER, CANARY_PASSWORD)]
    monkeypatch.delenv("MAINT_VAULT_PASSWORD_FILE")
    result = CliRunner().invoke(app, ["notify", "test", "acme"])
    assert result.exit_code == 2 and "MAINT_VAULT_PASSWORD_FILE" in result.output


# -- PostgreSQL -------------------------------------------------------------------------------------


def test_facts_and_dedup_on_postgresql(
    make_client: MakeClient, hook: Hook, monkeypatch: pytest.MonkeyPatch, pg_url: str
) -> None:
    make_client("acme", settings=hook_settings(hook, monkeypatch), hosts=HOSTS)
    ledger = Ledger(pg_url)
    client = load_client("acme")
    record(ledger, "acme", T0, [FAIL_HIGH])
    record(ledger, "acme", T0 + timedelta(hours=1), [FAIL_HIGH])
    assert run_pass(ledger, client, now=T0 + timedelta(hours=1)).count("sent") == 2
    assert run_pass(ledger, client, now=T0 + timedelta(hours=2)).deliveries == []
    assert ledger.verify("acme")[0].ok
    ledger.close()
