"""A real server in-process, for end-to-end tests of the server, the desktop and the lead's e2e.

    from cti.server import testing
    pbx = testing.SimulatedPbx()                             # CSTA simulator on :0
    running = yield testing.start_server(tmp_path, links=[pbx.link()])  # SQLite, API on :0
    yield running.links_ready()
    client = testing.ApiClient(running.url)
    token = (yield client.login("1001", extension="1001"))["token"]   # password PASSWORD
    status, calls = yield client.get("/api/v1/calls", token)
    stream = yield testing.EventStreamClient.connect(running.url, token)
    hello = yield stream.next_event("hello")
    ...
    pbx.switch.inbound_call("+49301234567", "1001")          # -> delivered, screen_pop
    yield stream.close(); yield client.close(); yield running.stop(); yield pbx.close()

Everything here is real: the server listens on loopback TCP, the database is a SQLite file
migrated by Alembic, the WebSocket is Twisted's own client. `demo_tenant` seeds a tenant with
agents, a supervisor and customers so a test can log in at once.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from io import BytesIO
from typing import Any

from twisted.internet import defer, task
from twisted.internet.defer import Deferred, DeferredQueue
from twisted.python.failure import Failure
from twisted.web.client import Agent, FileBodyProducer, HTTPConnectionPool
from twisted.web.http_headers import Headers
from twisted.web.iweb import IPolicyForHTTPS
from twisted.web.websocket import WebSocketClientEndpoint, WebSocketTransport
from wsproto.utilities import LocalProtocolError

from cti.httpbody import read_body
from cti.numbers import DialPlan
from cti.server.app import Server
from cti.server.config import LinkConfig, ServerConfig

PASSWORD = "secret-1"


def _reactor() -> Any:
    """The global reactor, imported late so importing this module never installs one."""
    from twisted.internet import reactor

    return reactor


class SimulatedPbx:
    """The CSTA switch simulator on 127.0.0.1:0: `switch` is simulators.pbx.Switch (place
    calls with switch.inbound_call(caller, number)), `url` the csta:// URL for a [[links]]."""

    def __init__(self, extensions: Iterable[str] = ("1001", "1002", "1003"),
                 queues: Iterable[str] = ("1900",), **switch_options: Any) -> None:
        from simulators.csta.server import CSTAServerFactory
        from simulators.pbx import Switch

        switch_options.setdefault("external_answer_seconds", None)
        self.extensions = tuple(extensions)
        self.queues = tuple(queues)
        self.switch = Switch(_reactor(), **switch_options)
        self.switch.add_extensions(self.extensions)
        for queue in self.queues:
            self.switch.add_queue(queue)
        self.factory = CSTAServerFactory(self.switch, keepalive=0)
        self.port = _reactor().listenTCP(0, self.factory, interface="127.0.0.1")

    @property
    def url(self) -> str:
        return f"csta://127.0.0.1:{self.port.getHost().port}"

    def link(self, name: str = "pbx1", tenant: str = "acme") -> LinkConfig:
        """A [[links]] entry monitoring every extension and queue of this switch."""
        return LinkConfig(name=name, url=self.url, devices=(*self.extensions, *self.queues),
                          tenant=tenant, options={"keepalive": 0, "snapshot_on_connect": False})

    @defer.inlineCallbacks
    def close(self) -> Any:
        self.switch.close()
        self.factory.close()
        yield self.port.stopListening()


@dataclass
class RunningServer:
    server: Server
    url: str
    host: str
    port: int

    @property
    def services(self) -> Any:
        return self.server.services

    def links_ready(self) -> Deferred[Any]:
        """Fires once every link's driver is up and monitoring (drivers offering ready())."""
        waits = [link.driver.ready() for link in self.server.links.links.values()
                 if hasattr(link.driver, "ready")]
        return defer.gatherResults(waits, consumeErrors=True)

    def stop(self) -> Deferred[None]:
        return self.server.stop()


def server_config(database_url: str, links: Iterable[LinkConfig] = (), **overrides: Any) -> ServerConfig:
    """A config for tests: API on 127.0.0.1:0, short delays, the given database and links."""
    base = ServerConfig(
        database_url=database_url,
        database_upgrade=True,
        listen_host="127.0.0.1",
        listen_port=0,
        login_failure_delay=0.2,
        disconnect_grace=30.0,
        links=tuple(links),
        freeze_heap=False,
    )
    return replace(base, **overrides)


@defer.inlineCallbacks
def start_server(tmp_path: Any = None, *, config: ServerConfig | None = None,
                 links: Iterable[LinkConfig] = (), seed: bool = True,
                 drivers: dict[str, Any] | None = None, **overrides: Any) -> Any:
    """Start a server; fires with a RunningServer.

    Without `config`, the database is tmp_path/cti.db: a copy of a migrated database seeded by
    `demo_tenant` when `seed` (built once per process, since migrating and hashing passwords
    take a second), or a freshly migrated empty one otherwise.
    """
    if config is None:
        path = os.path.join(str(tmp_path), "cti.db")
        if seed:
            shutil.copyfile(_seeded_template(), path)
        overrides.setdefault("database_spool", os.path.join(str(tmp_path), "calls.spool"))
        config = server_config(f"sqlite:///{path}", links, database_upgrade=not seed,
                               **overrides)
    server = Server(config, _reactor(), drivers=drivers)
    try:
        host, port = yield server.start()
    except BaseException:
        yield server.stop()
        raise
    return RunningServer(server, server.url, host, port)


@defer.inlineCallbacks
def start_restartable(tmp_path: Any) -> Any:
    """A simulator and a server ready to be restarted under live calls: the link snapshots the
    switch when it connects (so a new server learns the calls already up) and sends no
    keep-alives. Fires with (pbx, running) once the link is up."""
    pbx = SimulatedPbx()
    running = yield start_server(tmp_path, links=[replace(pbx.link(), options={"keepalive": 0})])
    yield running.links_ready()
    return pbx, running


@defer.inlineCallbacks
def restart_server(running: RunningServer, **overrides: Any) -> Any:
    """Stop `running` and start a new Server with its config on the same host and port (and so
    the same database and links): what clients see when the process is restarted. Sessions
    and tokens are gone; fires with the new RunningServer."""
    config = replace(running.server.config, listen_host=running.host, listen_port=running.port,
                     database_upgrade=False, **overrides)
    yield running.stop()
    server = Server(config, _reactor())
    try:
        host, port = yield server.start()
    except BaseException:
        yield server.stop()
        raise
    return RunningServer(server, server.url, host, port)


_TEMPLATE: list[str] = []


def _seeded_template() -> str:
    if not _TEMPLATE:
        from db.engine import make_engine
        from db.migrate import upgrade

        path = os.path.join(tempfile.mkdtemp(prefix="cti-test-db-"), "template.db")
        engine = make_engine(f"sqlite:///{path}")
        try:
            upgrade(engine)
            with engine.begin() as conn:
                demo_tenant(conn)
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            engine.dispose()
        _TEMPLATE.append(path)
    return _TEMPLATE[0]


def demo_tenant(conn: Any, code: str = "acme", extensions: tuple[str, ...] = ("1001", "1002", "1003"),
                country_code: str = "49") -> dict[str, Any]:
    """Tenant `code` with agents 1001..1003 (at those extensions), supervisor `sup`,
    administrator `admin` (all with password PASSWORD), queue `sales` (all agents members,
    reached by dialling the first extension digit + "900": 1900 for acme) and two customers;
    Ada Lovelace has the number +49 30 1234567, an open ticket and a past interaction."""
    from db import agents, customers, queues, tenants

    tenant = tenants.create_tenant(conn, code, code.capitalize(),
                                   dial_plan=DialPlan.for_country(country_code))
    made = []
    for index, ext in enumerate(extensions):
        made.append(agents.create_agent(conn, tenant, ext, PASSWORD, name=f"Agent {ext}",
                                        extension=ext, skills={"sales": 5 + index}))
    agents.create_user(conn, tenant, "sup", PASSWORD, name="Supervisor", role="supervisor")
    agents.create_user(conn, tenant, "admin", PASSWORD, name="Admin", role="administrator")
    queues.create_queue(conn, tenant, "sales")
    for agent in made:
        queues.add_queue_member(conn, tenant, "sales", agent.id)
    queues.create_number(conn, tenant, extensions[0][:1] + "900", queue="sales")
    ada = customers.create_customer(conn, tenant, "Ada Lovelace", phones=["+49301234567"],
                                    company="Analytical Engines", email="ada@example.org",
                                    vip=True)
    customers.create_customer(conn, tenant, "Charles Babbage", phones=["+49307654321"])
    customers.add_interaction(conn, tenant, ada, disposition="resolved", notes="asked for a quote")
    customers.create_ticket(conn, tenant, ada, "order", "Difference engine", body="two units")
    return {"tenant": tenant, "agents": made, "ada": ada}


@defer.inlineCallbacks
def wait_for(predicate: Any, timeout: float = 5.0, step: float = 0.02) -> Any:
    """Poll `predicate` on the reactor until it is true (bounded): for state reached over TCP."""
    waited = 0.0
    while not predicate():
        if waited >= timeout:
            raise AssertionError(f"condition not met within {timeout}s")
        yield task.deferLater(_reactor(), step, lambda: None)
        waited += step


class ApiClient:
    """JSON over HTTP with twisted.web.client.Agent; every call fires (status, body or None)."""

    def __init__(self, base_url: str, tls_policy: IPolicyForHTTPS | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.pool = HTTPConnectionPool(_reactor(), persistent=False)
        kwargs = {"contextFactory": tls_policy} if tls_policy is not None else {}
        self.agent = Agent(_reactor(), pool=self.pool, **kwargs)

    @defer.inlineCallbacks
    def request(self, method: str, path: str, token: str | None = None, body: Any = None,
                raw: bytes | None = None) -> Any:
        headers = Headers({b"accept": [b"application/json"]})
        if token:
            headers.addRawHeader(b"authorization", f"Bearer {token}".encode())
        producer = None
        if raw is None and body is not None:
            raw = json.dumps(body).encode("utf-8")
        if raw is not None:
            headers.addRawHeader(b"content-type", b"application/json")
            producer = FileBodyProducer(BytesIO(raw), cooperator=_Immediate())
        response = yield self.agent.request(method.encode(), (self.base_url + path).encode(),
                                            headers, producer)
        data = yield read_body(response)
        payload = json.loads(data) if data else None
        return response.code, payload

    def get(self, path: str, token: str | None = None) -> Deferred[Any]:
        return self.request("GET", path, token)

    def post(self, path: str, body: Any = None, token: str | None = None) -> Deferred[Any]:
        return self.request("POST", path, token, body if body is not None else {})

    @defer.inlineCallbacks
    def login(self, user: str, password: str = PASSWORD, **extra: Any) -> Any:
        status, body = yield self.post("/api/v1/sessions", {"user": user, "password": password,
                                                            **extra})
        if status != 201:
            raise AssertionError(f"login {user} failed: {status} {body}")
        return body

    def close(self) -> Deferred[None]:
        return self.pool.closeCachedConnections()


class _Immediate:
    """A cooperator for FileBodyProducer that writes at once (no global Cooperator tasks)."""

    def cooperate(self, iterator: Any) -> Any:
        for _ in iterator:
            pass
        return _Done()


class _Done:
    def whenDone(self) -> Deferred[Any]:
        return defer.succeed(None)

    def stop(self) -> None:
        pass

    def pause(self) -> None:
        pass

    def resume(self) -> None:
        pass


@dataclass
class EventStreamClient:
    """A WebSocket client of /api/v1/events collecting the JSON messages it receives."""

    transport: WebSocketTransport | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    _queue: DeferredQueue = field(default_factory=DeferredQueue)
    _closed: Deferred[None] = field(default_factory=Deferred)
    _pending: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    @defer.inlineCallbacks
    def connect(cls, base_url: str, token: str, tls_policy: IPolicyForHTTPS | None = None) -> Any:
        url = base_url.replace("http", "ws", 1) + f"/api/v1/events?token={token}"
        client = cls()
        extra = {"tlsPolicy": tls_policy} if tls_policy is not None else {}
        endpoint = WebSocketClientEndpoint.new(_reactor(), url, **extra)
        yield defer.Deferred.fromCoroutine(endpoint.connect(_Factory(client)))
        return client

    # WebSocketProtocol
    def negotiationStarted(self, transport: WebSocketTransport) -> None:
        self.transport = transport

    def negotiationFinished(self) -> None:
        pass

    def textMessageReceived(self, message: str) -> None:
        decoded = json.loads(message)
        self.messages.append(decoded)
        self._queue.put(decoded)

    def bytesMessageReceived(self, data: bytes) -> None:
        pass

    def pongReceived(self, payload: bytes) -> None:
        pass

    def connectionLost(self, reason: Failure) -> None:
        if not self._closed.called:
            self._closed.callback(None)

    def send(self, message: dict[str, Any]) -> None:
        assert self.transport is not None
        self.transport.sendTextMessage(json.dumps(message))

    @defer.inlineCallbacks
    def next_event(self, name: str | None = None, timeout: float = 5.0, **match: Any) -> Any:
        """The next message (skipping others) whose `event` is `name` and whose keys match."""
        for index, message in enumerate(self._pending):
            if _matches(message, name, match):
                return self._pending.pop(index)
        while True:
            d = self._queue.get()
            d.addTimeout(timeout, _reactor())
            try:
                message = yield d
            except defer.TimeoutError:
                raise AssertionError(
                    f"no {name or 'event'} {match or ''} within {timeout}s; got "
                    f"{[m.get('event') for m in self.messages]}") from None
            if _matches(message, name, match):
                return message
            self._pending.append(message)

    def close(self) -> Deferred[None]:
        if self.transport is not None and not self._closed.called:
            try:
                self.transport.loseConnection()
            except LocalProtocolError:
                self.transport.transport.loseConnection()  # type: ignore[attr-defined]
        return self._closed

    @property
    def closed(self) -> Deferred[None]:
        return self._closed


def _matches(message: dict[str, Any], name: str | None, match: dict[str, Any]) -> bool:
    if name is not None and message.get("event") != name:
        return False
    return all(message.get(key) == value for key, value in match.items())


class _Factory:
    def __init__(self, client: EventStreamClient) -> None:
        self.client = client

    def buildProtocol(self, url: str) -> EventStreamClient:
        return self.client


def self_signed_certificate(directory: Any) -> tuple[str, str, bytes]:
    """A certificate for 127.0.0.1, for TLS tests: (server PEM path with the key, CA PEM path
    with the certificate only, the certificate's PEM bytes)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    server, ca = os.path.join(str(directory), "server.pem"), os.path.join(str(directory), "ca.pem")
    with open(server, "wb") as handle:
        handle.write(cert_pem + key_pem)
    with open(ca, "wb") as handle:
        handle.write(cert_pem)
    return server, ca, cert_pem
