"""Delivery: SMTP with STARTTLS, Teams incoming webhooks and JSON webhooks, with their credentials.

A channel's credentials are read when it sends (:func:`resolve`): an environment variable by name, or an
inline ``!vault`` value decrypted with ``MAINT_VAULT_PASSWORD_FILE``. They are never stored, logged or
printed: every error text goes through :attr:`Resolved.scrub` (each secret, a URL's path, query and long
path segments), and a URL is shown as its scheme and host only (:func:`shown_url`).

TLS is always verified (the system's CAs, or the channel's ``ca_file``); a plain ``http://`` webhook is
only sent to a loopback address, redirects are never followed (they could carry a bearer token away).
"""

from __future__ import annotations

import os
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from runner.credentials import Scrubber
from runner.notify.messages import Message
from runner.notify.settings import EmailChannel, TeamsChannel, WebhookChannel, is_vaulted

AnyChannel = EmailChannel | TeamsChannel | WebhookChannel
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
USER_AGENT = "maint-notify/1"
#: longest error text kept (the ledger row, the CLI)
MAX_ERROR = 400


class ChannelConfigError(Exception):
    """The channel cannot send as configured (a variable not set, a vault value not readable)."""


class DeliveryError(Exception):
    """One send failed; the message is safe to store once scrubbed."""


@dataclass
class Resolved:
    """A channel with its credentials read, and the scrubber that keeps them out of every text."""

    channel: AnyChannel
    url: str | None = None
    password: str | None = None
    bearer: str | None = None
    secrets: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._scrubber = Scrubber(self.secrets)

    def clean(self, text: str) -> str:
        """``text`` with every credential of the channel masked."""
        return self._scrubber.text(text)

    def scrub(self, text: str) -> str:
        """An error text as it may be stored and shown: masked, at most :data:`MAX_ERROR` characters."""
        return self.clean(text)[:MAX_ERROR]


def _vault_decrypt(text: str, what: str) -> str:
    from runner.credentials import _Vault

    password_file = os.environ.get("MAINT_VAULT_PASSWORD_FILE")
    if not password_file:
        raise ChannelConfigError(f"{what} is a !vault value: set MAINT_VAULT_PASSWORD_FILE to decrypt it")
    plain = _Vault(password_file).decrypt(text)
    if plain is None:
        raise ChannelConfigError(f"{what}: cannot decrypt the !vault value with MAINT_VAULT_PASSWORD_FILE")
    return plain.strip()


def _env(name: str, what: str, env: Mapping[str, str]) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ChannelConfigError(f"{what}: environment variable {name} is not set")
    return value


def _url_secrets(url: str) -> list[str]:
    """The parts of a URL that may be a token: the whole, its path and query, long segments and values."""
    parts = urlsplit(url)
    found = [url, parts.path, parts.query, f"{parts.path}?{parts.query}" if parts.query else ""]
    found += [seg for seg in parts.path.split("/") if len(seg) >= 8]
    found += [value for _key, value in parse_qsl(parts.query) if len(value) >= 8]
    if parts.password:
        found.append(parts.password)
    return [f for f in found if f and f != "/"]


def resolve(channel: AnyChannel, env: Mapping[str, str] | None = None) -> Resolved:
    """Read the channel's credentials (raises :class:`ChannelConfigError` naming the key, never a value)."""
    environ = os.environ if env is None else env
    what = f"channel {channel.name}"
    if isinstance(channel, EmailChannel):
        password = None
        if channel.password_env is not None:
            password = _env(channel.password_env, f"{what} password_env", environ)
        elif channel.password is not None:
            password = _vault_decrypt(channel.password, f"{what} password")
        return Resolved(channel, password=password, secrets=[password] if password else [])
    if channel.url_env is not None:
        url = _env(channel.url_env, f"{what} url_env", environ)
    elif channel.url is not None and is_vaulted(channel.url):
        url = _vault_decrypt(channel.url, f"{what} url")
    else:
        url = str(channel.url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ChannelConfigError(f"{what}: the URL is not an http(s) URL")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise ChannelConfigError(f"{what}: refusing plain http to {parts.hostname} (use https)")
    secrets = _url_secrets(url)
    bearer = None
    if isinstance(channel, WebhookChannel) and channel.header_env is not None:
        bearer = _env(channel.header_env, f"{what} header_env", environ)
        secrets.append(bearer)
    return Resolved(channel, url=url, bearer=bearer, secrets=secrets)


def shown_url(url: str | None) -> str:
    """A URL as it may be shown: scheme and host (and port) only."""
    if not url:
        return ""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}/…"


def target(resolved: Resolved) -> str:
    """Where the channel sends, safe to print."""
    ch = resolved.channel
    if isinstance(ch, EmailChannel):
        return f"smtp://{ch.host}:{ch.port} → {', '.join(ch.to)}"
    return shown_url(resolved.url)


# -- sending --------------------------------------------------------------------------------------


def _tls(ca_file: str | None) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise DeliveryError(f"cannot read ca_file {ca_file}: {type(exc).__name__}") from None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        raise DeliveryError(f"HTTP {code}: redirects are not followed")


def _post(resolved: Resolved, payload: bytes, timeout: float) -> None:
    url = str(resolved.url)
    parts = urlsplit(url)
    handlers: list[Any] = [_NoRedirect()]
    if parts.scheme == "https":
        handlers.append(urllib.request.HTTPSHandler(context=_tls(resolved.channel.ca_file)))
    if parts.hostname in LOOPBACK:
        handlers.append(urllib.request.ProxyHandler({}))  # a proxy never sees loopback traffic
    opener = urllib.request.build_opener(*handlers)
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    if resolved.bearer:
        headers["Authorization"] = f"Bearer {resolved.bearer}"
    request = urllib.request.Request(url, data=payload, headers=headers, method="POST")  # noqa: S310
    try:
        with opener.open(request, timeout=timeout) as response:
            status = int(response.status)
            text = response.read(4096).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise DeliveryError(f"cannot reach {shown_url(url)}: {_reason(exc.reason)}") from None
    except TimeoutError:
        raise DeliveryError(f"{shown_url(url)} did not answer within {timeout:.1f} s") from None
    except (OSError, ValueError) as exc:
        raise DeliveryError(f"cannot send to {shown_url(url)}: {_reason(exc)}") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"HTTP {status}")
    # a Teams connector answers 200 with an error text when it refuses the card
    if (
        isinstance(resolved.channel, TeamsChannel)
        and text.strip() not in ("", "1")
        and "error" in text.lower()
    ):
        raise DeliveryError(f"Teams refused the message: {text.strip()[:200]}")


def _reason(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({reason.verify_message})"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, BaseException):
        return f"{type(reason).__name__}: {reason}"
    return str(reason)


def _login(smtp: smtplib.SMTP, username: str, password: str) -> None:
    """AUTH with one mechanism the server offers (PLAIN, else LOGIN): ``SMTP.login`` tries each in turn
    after a refusal, and some servers then wait for a LOGIN continuation until the timeout."""
    offered = (smtp.esmtp_features.get("auth") or "").upper().split()
    mechanism = next((m for m in ("PLAIN", "LOGIN") if m in offered), None)
    if mechanism is None:
        raise DeliveryError(
            f"the server offers no PLAIN or LOGIN authentication ({' '.join(offered) or 'none'})"
        )
    smtp.user, smtp.password = username, password
    auth = smtp.auth_plain if mechanism == "PLAIN" else smtp.auth_login
    smtp.auth(mechanism, auth, initial_response_ok=mechanism == "PLAIN")


def _smtp(resolved: Resolved, message: Message, sent_at: datetime, timeout: float) -> None:
    ch = resolved.channel
    assert isinstance(ch, EmailChannel)
    email = message.email(str(ch.sender), [str(t) for t in ch.to], sent_at)
    try:
        with smtplib.SMTP(ch.host, ch.port, timeout=timeout) as smtp:
            smtp.ehlo()
            if ch.starttls:
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(f"smtp://{ch.host}:{ch.port} does not offer STARTTLS")
                smtp.starttls(context=_tls(ch.ca_file))
                smtp.ehlo()
            if ch.username is not None:
                _login(smtp, ch.username, resolved.password or "")
            refused = smtp.send_message(email)
    except DeliveryError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"SMTP login refused ({exc.smtp_code})") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"SMTP refused every recipient: {', '.join(sorted(exc.recipients))}") from None
    except smtplib.SMTPResponseException as exc:
        text = (
            exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        )
        raise DeliveryError(f"SMTP {exc.smtp_code} {text}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"smtp://{ch.host}:{ch.port}: {_reason(exc)}") from None
    if refused:
        raise DeliveryError(f"SMTP refused recipients: {', '.join(sorted(refused))}")


def send(resolved: Resolved, message: Message, sent_at: datetime, timeout: float) -> None:
    """Send one message (raises :class:`DeliveryError`, its text not yet scrubbed)."""
    import json

    ch = resolved.channel
    if isinstance(ch, EmailChannel):
        _smtp(resolved, message, sent_at, timeout)
        return
    payload = message.teams() if isinstance(ch, TeamsChannel) else message.webhook(sent_at)
    _post(resolved, json.dumps(payload, ensure_ascii=False).encode("utf-8"), timeout)
