"""The web site of the API: /api/v1 resources on a TCP or TLS endpoint."""

from __future__ import annotations

import weakref
from typing import Any

from twisted.internet import endpoints, ssl
from twisted.internet.interfaces import IListeningPort
from twisted.web.resource import Resource
from twisted.web.server import Site

from cti.api.auth import SessionStore
from cti.api.http import ApiV1, Dispatcher
from cti.api.routes import ROUTES
from cti.api.stream import EventHub, EventsResource
from cti.errors import CLIError


class _Silent(Site):
    """A Site that leaves access logging to the dispatcher's structured log lines, and ends
    the connections it accepted once its port stops listening: a stopped server must not go
    on answering clients' kept-alive connections with stopped services (as a process exit,
    a stop is then seen by every client at once)."""

    def __init__(self, resource: Resource) -> None:
        super().__init__(resource)
        self._transports: weakref.WeakSet[Any] = weakref.WeakSet()

    def buildProtocol(self, addr: Any) -> Any:  # noqa: N802 (Twisted's name)
        protocol = super().buildProtocol(addr)
        connect = protocol.makeConnection

        def make_connection(transport: Any) -> None:
            self._transports.add(transport)
            connect(transport)

        protocol.makeConnection = make_connection
        return protocol

    def stopFactory(self) -> None:  # noqa: N802 (Twisted's name)
        super().stopFactory()
        for transport in list(self._transports):
            transport.loseConnection()

    def log(self, request: Any) -> None:
        pass


def build_site(services: Any, sessions: SessionStore, hub: EventHub,
               cors_origins: tuple[str, ...] = ()) -> Site:
    v1 = ApiV1(Dispatcher(ROUTES, sessions, services, cors_origins),
               EventsResource(hub, sessions))
    api = Resource()
    api.putChild(b"v1", v1)
    root = Resource()
    root.putChild(b"api", api)
    site = _Silent(root)
    site.displayTracebacks = False
    return site


def listen(reactor: Any, site: Site, host: str, port: int, certificate: str | None = None,
           private_key: str | None = None) -> Any:
    """Listen on host:port, with TLS when a PEM certificate (and key) is given.

    Returns the Deferred of the IListeningPort; the actual port is in getHost().port.
    """
    if certificate:
        try:
            with open(certificate, "rb") as handle:
                cert_pem = handle.read()
            key_pem = cert_pem
            if private_key:
                with open(private_key, "rb") as handle:
                    key_pem = handle.read()
            options = ssl.PrivateCertificate.loadPEM(cert_pem + b"\n" + key_pem).options()
        except OSError as exc:
            raise CLIError(f"cannot read certificate: {exc}") from None
        except Exception as exc:
            raise CLIError(f"bad certificate {certificate}: {exc}") from None
        endpoint: Any = endpoints.SSL4ServerEndpoint(reactor, port, options, interface=host)
    else:
        endpoint = endpoints.TCP4ServerEndpoint(reactor, port, interface=host)
    return endpoint.listen(site)


def bound_address(port: IListeningPort) -> tuple[str, int]:
    address = port.getHost()
    return address.host, address.port
