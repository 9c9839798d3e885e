"""The WebSocket event stream at /api/v1/events: who may see what, and keeping links alive.

The server publishes each message once with an Audience (tenant, devices, agents); the hub
delivers it to every connected session the audience admits, so filtering is one pure function
(`visible`) that tests can read. Idle connections are pinged; one that misses two pings is
dropped, and its agent's presence ends (the server then starts the disconnect grace period).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from twisted.internet import task
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import Request
from twisted.web.websocket import WebSocketResource, WebSocketTransport
from wsproto.utilities import LocalProtocolError

from cti.api.auth import Session, SessionStore, bearer_token
from cti.api.errors import ApiError

log = Logger(namespace="cti.api.events")


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a message concerns: a tenant, and within it the devices and agents it is about.

    Supervisors and administrators of the tenant see everything of the tenant; agents only
    messages about their own extension or their own agent ID. `tenant` None means a message of
    the whole platform (seen by administrators only).
    """

    tenant: str | None
    devices: frozenset[str] = frozenset()
    agents: frozenset[str] = frozenset()
    supervisors_only: bool = False
    personal: bool = False
    """Only for the agents named (a screen-pop), not for every supervisor of the tenant."""


def visible(session: Session, audience: Audience) -> bool:
    if audience.tenant is None:
        return session.role == "administrator"
    if session.tenant != audience.tenant:
        return False
    if session.is_supervisor and not audience.personal:
        return True
    if audience.supervisors_only:
        return False
    if session.extension is not None and session.extension in audience.devices:
        return True
    return session.agent_id is not None and session.agent_id in audience.agents


class EventStream:
    """One connected client: a WebSocketProtocol bound to the session that opened it."""

    def __init__(self, hub: EventHub, session: Session) -> None:
        self.hub = hub
        self.session = session
        self.transport: WebSocketTransport | None = None
        self.unanswered_pings = 0
        self.open = False

    def negotiationStarted(self, transport: WebSocketTransport) -> None:
        self.transport = transport

    def negotiationFinished(self) -> None:
        self.open = True
        self.hub.attach(self)

    def textMessageReceived(self, message: str) -> None:
        self.unanswered_pings = 0
        try:
            request = json.loads(message)
        except ValueError:
            self.send({"event": "error", "error": "malformed JSON", "code": "bad_request"})
            return
        action = request.get("action") if isinstance(request, dict) else None
        if action == "ping":
            self.send({"event": "pong"})
        else:
            self.send({"event": "error", "error": f"unknown action {action!r}",
                       "code": "bad_request"})

    def bytesMessageReceived(self, data: bytes) -> None:
        self.send({"event": "error", "error": "binary frames are not supported",
                   "code": "bad_request"})

    def pongReceived(self, payload: bytes) -> None:
        self.unanswered_pings = 0

    def connectionLost(self, reason: Failure) -> None:
        was_open, self.open = self.open, False
        if was_open:
            self.hub.detach(self)

    def send(self, message: dict[str, Any]) -> None:
        self.send_text(json.dumps(message, separators=(",", ":"), default=str))

    def send_text(self, text: str) -> bool:
        """Send one frame; False once the connection is closing. The client's close frame
        arrives before connectionLost, so a message published in between (the logout's own
        agent_state) must not fail the request that published it, nor the other streams."""
        if not self.open or self.transport is None:
            return False
        try:
            self.transport.sendTextMessage(text)
        except LocalProtocolError:
            return False  # connectionLost follows and detaches the stream
        return True

    def close(self, code: int = 1000) -> None:
        if self.transport is None or not self.open:
            return
        try:
            self.transport.loseConnection(code)
        except LocalProtocolError:
            # The peer's close frame arrived first: only the TCP connection is left to drop.
            self.transport.transport.loseConnection()  # type: ignore[attr-defined]


class EventHub:
    """Every open stream; delivery by audience; pings; presence callbacks for the server."""

    def __init__(
        self,
        reactor: IReactorTime,
        hello: Callable[[Session], dict[str, Any]],
        ping_interval: float = 20.0,
        on_connect: Callable[[Session], None] | None = None,
        on_disconnect: Callable[[Session], None] | None = None,
    ) -> None:
        self._reactor = reactor
        self._hello = hello
        self._on_connect = on_connect
        self._on_disconnect = on_disconnect
        self.streams: set[EventStream] = set()
        self._pinger = task.LoopingCall(self._ping)
        self._pinger.clock = reactor
        self._ping_interval = ping_interval

    def start(self) -> None:
        if not self._pinger.running:
            self._pinger.start(self._ping_interval, now=False)

    def stop(self) -> None:
        if self._pinger.running:
            self._pinger.stop()
        for stream in list(self.streams):
            stream.close(1001)

    def attach(self, stream: EventStream) -> None:
        self.streams.add(stream)
        log.info("event stream opened for {user} ({role}, {tenant})", user=stream.session.user,
                 role=stream.session.role, tenant=stream.session.tenant)
        try:
            hello = self._hello(stream.session)
        except Exception:
            log.failure("building the hello message failed")
            hello = {"session": stream.session.to_dict(), "calls": [], "agent": None}
        stream.send({"event": "hello", **hello})
        if self._on_connect is not None:
            self._on_connect(stream.session)

    def detach(self, stream: EventStream) -> None:
        self.streams.discard(stream)
        log.info("event stream closed for {user}", user=stream.session.user)
        if self._on_disconnect is not None:
            self._on_disconnect(stream.session)

    def publish(self, message: dict[str, Any], audience: Audience) -> int:
        """Deliver `message` to every stream that may see it; returns how many got it."""
        text = None
        count = 0
        for stream in list(self.streams):
            if stream.open and stream.transport is not None and visible(stream.session, audience):
                if text is None:
                    text = json.dumps(message, separators=(",", ":"), default=str)
                count += stream.send_text(text)
        return count

    def streams_of(self, tenant: str, agent_id: str) -> list[EventStream]:
        return [s for s in self.streams
                if s.session.tenant == tenant and s.session.agent_id == agent_id]

    def close_session(self, token: str) -> None:
        for stream in [s for s in self.streams if s.session.token == token]:
            stream.close(1000)

    def _ping(self) -> None:
        now = self._reactor.seconds()
        for stream in list(self.streams):
            if stream.session.expires <= now:
                log.info("closing the event stream of {user}: token expired",
                         user=stream.session.user)
                stream.send({"event": "error", "error": "token expired; log in again",
                             "code": "unauthorized"})
                stream.close(1008)
                continue
            if stream.unanswered_pings >= 2:
                log.info("dropping unresponsive event stream of {user}", user=stream.session.user)
                stream.close(1001)
                continue
            stream.unanswered_pings += 1
            if stream.transport is not None:
                stream.transport.ping(b"cti")


class _StreamFactory:
    def __init__(self, hub: EventHub, session: Session) -> None:
        self.hub = hub
        self.session = session

    def buildProtocol(self, request: Request) -> EventStream:
        request.channel.setTimeout(None)
        return EventStream(self.hub, self.session)


class EventsResource(Resource):
    """GET /api/v1/events?token=TOKEN: authenticates, then upgrades to a WebSocket."""

    isLeaf = True

    def __init__(self, hub: EventHub, sessions: SessionStore) -> None:
        super().__init__()
        self.hub = hub
        self.sessions = sessions

    def render_GET(self, request: Request) -> Any:
        tokens: Iterable[bytes] = (request.args or {}).get(b"token", [])
        token = next(iter(tokens), b"").decode("utf-8", "replace") or None
        if token is None:
            token = bearer_token(request.getHeader(b"authorization"))
        try:
            session = self.sessions.resolve(token)
        except ApiError as error:
            request.setResponseCode(error.status)
            request.setHeader(b"content-type", b"application/json; charset=utf-8")
            return json.dumps(error.to_dict()).encode("utf-8")
        return WebSocketResource(_StreamFactory(self.hub, session)).render_GET(request)
