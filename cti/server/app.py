"""One CTI server: built from a ServerConfig, started and stopped as a unit.

`Server(config).start()` is all `cti server` does, and all an end-to-end test does to get a
real server on 127.0.0.1:0 inside the test reactor (see tests/server/serverkit.py).
"""

from __future__ import annotations

import gc
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from cti.api.auth import SessionStore
from cti.api.openapi import build_document
from cti.api.routes import ROUTES
from cti.api.site import bound_address, build_site, listen
from cti.api.stream import EventHub
from cti.events import Event
from cti.server.agents import AgentBoard
from cti.server.calls import LinkCalls
from cti.server.config import ServerConfig
from cti.server.database import Database
from cti.server.links import Link, create_driver
from cti.server.linkset import LinkSet
from cti.server.services import Services
from cti.server.smdr_links import SmdrLink, is_smdr
from drivers.base import Driver

log = Logger(namespace="cti.server")


class Server:
    """The database pool, the call models, the agent board, the links and the API.

    `drivers` may name ready-made drivers by link name (tests inject a driver bound to a
    MemoryReactor); every other [[links]] entry gets the driver its URL scheme names.
    """

    def __init__(self, config: ServerConfig, reactor: Any = None,
                 drivers: dict[str, Driver] | None = None, upgrade_database: bool = False) -> None:
        if reactor is None:
            from twisted.internet import reactor as default_reactor

            reactor = default_reactor
        self.config = config
        self.reactor = reactor
        self.upgrade_database = upgrade_database or config.database_upgrade
        self.database = Database(config.database_url, reactor, config.database_threads,
                                 config.database_spool)
        self.sessions = SessionStore(config.token_lifetime, reactor.seconds)
        self.calls = LinkCalls()
        self.agents = AgentBoard()
        self.links = LinkSet(config.default_tenant)
        self.hub = EventHub(reactor, self._hello, config.ping_interval,
                            on_connect=self._stream_connected,
                            on_disconnect=self._stream_disconnected)
        self.services = Services(
            reactor=reactor, config=config, sessions=self.sessions, hub=self.hub,
            database=self.database, calls=self.calls, agents=self.agents, links=self.links,
            openapi=lambda: build_document(ROUTES.routes),
        )
        injected = drivers or {}
        self.smdr_links: list[SmdrLink] = []
        for link_config in config.links:
            if is_smdr(link_config):
                self.smdr_links.append(SmdrLink(link_config, self.database, reactor))
                continue
            driver = injected.get(link_config.name) or create_driver(link_config, reactor)
            link = Link(link_config, driver, reactor)
            self.links.add(link)
            self.calls.add_link(link_config.name, link_config.devices)
            driver.add_sink(self._sink(link_config.name))
        self.port: Any = None
        self.address: tuple[str, int] | None = None

    def _sink(self, link: str) -> Any:
        def sink(event: Event) -> None:
            try:
                self.services.on_event(link, event)
            except Exception:
                log.failure("handling {event} from link {link} failed", event=event.event,
                            link=link)

        return sink

    def _hello(self, session: Any) -> dict[str, Any]:
        return self.services.hello(session)

    def _stream_connected(self, session: Any) -> None:
        self.services.stream_connected(session)

    def _stream_disconnected(self, session: Any) -> None:
        self.services.stream_disconnected(session)

    @defer.inlineCallbacks
    def start(self) -> Any:
        """Database, API, then links; fires with (host, port) once the API listens."""
        self.database.start()
        if self.upgrade_database:
            from db.migrate import upgrade

            revision = yield self.database.call(upgrade)
            log.info("database at revision {revision}", revision=revision)
        site = build_site(self.services, self.sessions, self.hub, self.config.cors_origins)
        self.port = yield listen(self.reactor, site, self.config.listen_host,
                                 self.config.listen_port, self.config.certificate,
                                 self.config.private_key)
        self.address = bound_address(self.port)
        self.hub.start()
        self.services.acd.start(self.config.acd_reload_seconds)
        for link in self.links.links.values():
            link.start()
        for smdr in self.smdr_links:
            smdr.start()
        log.info("api listening on {host}:{port}", host=self.address[0], port=self.address[1])
        if self.config.freeze_heap:
            gc.freeze()
        return self.address

    @defer.inlineCallbacks
    def stop(self) -> Any:
        self.services.stop()
        self.hub.stop()
        for link in self.links.links.values():
            try:
                yield link.stop()
            except Exception:
                log.failure("stopping link {link} failed", link=link.name)
        for smdr in self.smdr_links:
            try:
                yield smdr.stop()
            except Exception:
                log.failure("stopping link {link} failed", link=smdr.name)
        if self.port is not None:
            yield self.port.stopListening()
            self.port = None
        self.database.stop()

    @property
    def scheme(self) -> str:
        return "https" if self.config.certificate else "http"

    @property
    def url(self) -> str:
        assert self.address is not None, "server not started"
        host, port = self.address
        return f"{self.scheme}://{host}:{port}"
