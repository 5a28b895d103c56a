"""The HTTP transport of webhook delivery (HOOK-4, HOOK-5): one request, one result.

`HttpTransport` is what delivery calls; tests inject their own. The default,
`DirectHttpTransport`, refuses hosts that resolve to loopback, private, link-local,
unspecified, multicast or reserved addresses (error type ``Blocked Address``) unless the
host is listed in setting ``webhookAllowHosts``. Every address the name resolves to is
checked, and the connection goes to the address that was checked (never a second lookup,
so a DNS answer that changes between check and connect cannot reach an internal host;
the checked addresses are tried in order).
Redirects are not followed: a 3xx is a non-2xx result.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

TIMEOUT = "Timeout"
CONNECTION_ERROR = "Connection Error"
BLOCKED_ADDRESS = "Blocked Address"
MAX_BODY_BYTES = 4 * 1024 * 1024
"""Bytes of a response body read at most (mappings need the body; 110 stores 65,536 chars)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class HttpRequest:
    """One rendered webhook request."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    """Custom headers plus ``Idempotency-Key`` (HOOK-9) and a content type."""
    body: bytes | None


@dataclass(frozen=True, kw_only=True, slots=True)
class HttpResult:
    """What happened: a response (``status`` set) or an error type without one (HOOK-5)."""

    status: int | None = None
    reason: str = ""
    body: str = ""
    error_type: str | None = None
    """``Timeout``, ``Connection Error`` or ``Blocked Address`` when there is no response."""
    detail: str = ""
    """Why, for the outbox row's error column."""


class HttpTransport(Protocol):
    """Makes one call; never raises for network trouble (returns an error type instead)."""

    def send(
        self, request: HttpRequest, *, timeout: float, allow_hosts: frozenset[str]
    ) -> HttpResult: ...


@runtime_checkable
class LookupTransport(Protocol):
    """A transport that can tell, after a crash, whether a key was received (LEDG-3)."""

    def lookup(self, key: str) -> HttpResult | None:
        """The result of the call carrying ``key``, or None when it never arrived."""
        ...


def blocked(address: str) -> bool:
    """True for addresses a webhook may not reach without an allow-list entry (HOOK-4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_unspecified
        or ip.is_multicast
        or ip.is_reserved
        or not ip.is_global
    )


def allowed_host(host: str, allow_hosts: Iterable[str]) -> bool:
    wanted = host.strip("[]").lower().rstrip(".")
    return any(wanted == entry.strip().strip("[]").lower().rstrip(".") for entry in allow_hosts)


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _connect(addresses: Sequence[str], port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to the first of the checked ``addresses`` that answers."""
    last: OSError | None = None
    for address in addresses:
        try:
            connection = socket.create_connection((address, port), timeout)
        except TimeoutError:
            raise
        except OSError as error:
            last = error
            continue
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection
    raise last or OSError("no address to connect to")


class _PinnedHttp(http.client.HTTPConnection):
    """Connects to checked addresses while sending the URL's host name."""

    def __init__(self, host: str, port: int, addresses: Sequence[str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._addresses = tuple(addresses)

    def connect(self) -> None:
        self.sock = _connect(self._addresses, self.port, self.timeout)


class _PinnedHttps(http.client.HTTPSConnection):
    """TLS to checked addresses; the certificate is verified for the URL's host name."""

    def __init__(self, host: str, port: int, addresses: Sequence[str], timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._addresses = tuple(addresses)

    def connect(self) -> None:
        raw = _connect(self._addresses, self.port, self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _failure(error_type: str, detail: str) -> HttpResult:
    return HttpResult(error_type=error_type, detail=detail)


class DirectHttpTransport:
    """The default transport: http.client over an address checked against HOOK-4."""

    def send(
        self, request: HttpRequest, *, timeout: float, allow_hosts: frozenset[str]
    ) -> HttpResult:
        parts = urlsplit(request.url)
        host = parts.hostname or ""
        secure = parts.scheme.lower() == "https"
        port = parts.port or (443 if secure else 80)
        try:
            addresses = _resolve(host, port)
        except (OSError, UnicodeError) as error:
            return _failure(CONNECTION_ERROR, f"cannot resolve {host!r}: {error}")
        if not addresses:
            return _failure(CONNECTION_ERROR, f"{host!r} resolves to no address")
        if not allowed_host(host, allow_hosts):
            refused = [a for a in addresses if blocked(a)]
            if refused:
                return _failure(
                    BLOCKED_ADDRESS,
                    f"{host!r} resolves to {refused[0]}, a loopback, private or link-local "
                    "address; list the host in setting webhookAllowHosts to allow it (HOOK-4)",
                )
        return self._call(request, host, port, addresses, secure, timeout)

    def _call(
        self,
        request: HttpRequest,
        host: str,
        port: int,
        addresses: Sequence[str],
        secure: bool,
        timeout: float,
    ) -> HttpResult:
        split = urlsplit(request.url)
        target = (split.path or "/") + (f"?{split.query}" if split.query else "")
        kind = _PinnedHttps if secure else _PinnedHttp
        connection = kind(host, port, addresses, timeout)
        try:
            connection.request(
                request.method, target, body=request.body, headers=dict(request.headers)
            )
            response = connection.getresponse()
            raw = response.read(MAX_BODY_BYTES)
            return HttpResult(
                status=response.status,
                reason=_reason(response.status, response.reason),
                body=_decode(raw, response.headers.get_content_charset()),
            )
        except TimeoutError as error:
            return _failure(TIMEOUT, f"no answer within {timeout:g} s: {error}")
        except (OSError, http.client.HTTPException) as error:
            return _failure(CONNECTION_ERROR, f"{type(error).__name__}: {error}")
        finally:
            connection.close()


def _reason(status: int, given: str) -> str:
    """The HTTP reason phrase: the server's, else the standard one (HOOK-5)."""
    if given:
        return given
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return str(status)


def _decode(raw: bytes, charset: str | None) -> str:
    try:
        return raw.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def header_names(headers: Sequence[tuple[str, str]]) -> frozenset[str]:
    return frozenset(name.lower() for name, _value in headers)
