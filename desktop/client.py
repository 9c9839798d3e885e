"""The desktop's client of the CTI server's public API (docs/api.md): REST and the event stream.

Qt-free on purpose: it runs on whatever reactor is installed (the asyncio reactor on a qasync loop
in the desktop, the same in the test suite), so CRM connectors and scripts can reuse it. Every
REST method returns a Deferred; a failed request fails it with ApiError carrying the server's
one-line ``error`` text, and an unreachable server with ApiUnreachable.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from io import BytesIO
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from twisted.internet import defer, error, ssl
from twisted.internet.interfaces import IDelayedCall
from twisted.python.failure import Failure
from twisted.web.client import (
    Agent,
    BrowserLikePolicyForHTTPS,
    FileBodyProducer,
    HTTPConnectionPool,
    RequestNotSent,
    RequestTransmissionFailed,
    ResponseFailed,
    ResponseNeverReceived,
)
from twisted.web.http_headers import Headers
from twisted.web.websocket import (
    ConnectionRejected,
    WebSocketClientEndpoint,
    WebSocketTransport,
)
from wsproto.utilities import LocalProtocolError

from cti.httpbody import read_body

API = "/api/v1"

CALL_ACTIONS = frozenset(
    {
        "answer", "hangup", "hold", "retrieve", "consult", "transfer", "conference",
        "alternate", "reconnect", "deflect", "single-step-transfer", "dtmf", "monitor",
    }
)

_UNREACHABLE = (
    error.ConnectError,
    error.DNSLookupError,
    error.TimeoutError,
    error.ConnectionLost,
    ResponseFailed,
    ResponseNeverReceived,
    RequestTransmissionFailed,
    RequestNotSent,
)


class ApiError(Exception):
    """The server refused a request; str() is its one-line ``error`` text."""

    def __init__(self, message: str, status: int = 0, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class ApiUnreachable(ApiError):
    """No answer from the server at all (refused, DNS, timeout, connection dropped)."""


def normalize_base_url(url: str) -> str:
    """``host:port`` or ``http(s)://host:port[/]`` as ``http(s)://host:port``."""
    text = url.strip().rstrip("/")
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) server URL: {url!r}")
    if parts.path.rstrip("/") == API:
        text = text[: -len(API)]
    return text


def events_url(base_url: str, token: str) -> str:
    """The WebSocket URL of the event stream for a session token."""
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}{API}/events?{urlencode({'token': token})}"


def tls_policy(ca_file: str | None) -> BrowserLikePolicyForHTTPS:
    """Certificate checking for https/wss, trusting `ca_file` (PEM) when given.

    Raises ValueError with a one-line reason for a missing or unreadable file."""
    if not ca_file:
        return BrowserLikePolicyForHTTPS()
    try:
        with open(ca_file, "rb") as handle:
            root = ssl.Certificate.loadPEM(handle.read())
    except OSError as exc:
        raise ValueError(f"cannot read CA certificate {ca_file}: {exc.strerror}") from None
    except Exception:
        raise ValueError(f"{ca_file} holds no PEM certificate") from None
    return BrowserLikePolicyForHTTPS(trustRoot=root)


def _error_from_body(status: int, body: bytes) -> ApiError:
    try:
        answer = json.loads(body)
        message, code = str(answer["error"]).splitlines()[0], str(answer.get("code", ""))
    except (ValueError, KeyError, TypeError, IndexError):
        text = body.decode("utf-8", "replace").strip().splitlines()
        message, code = (text[0] if text else f"HTTP {status}"), ""
    return ApiError(message, status, code)


def _unreachable(base_url: str, failure: Failure) -> ApiUnreachable:
    reason = failure.value
    while getattr(reason, "reasons", None):
        reason = reason.reasons[0].value
    if type(reason).__module__.startswith("OpenSSL"):
        detail = "certificate verify failed" if "certificate verify failed" in str(reason) \
            else "handshake failed"
        text = f"TLS {detail} (a private or self-signed certificate needs --ca-cert)"
    else:
        text = str(reason).splitlines()[0] if str(reason) else type(reason).__name__
    return ApiUnreachable(f"cannot reach the CTI server at {base_url}: {text}")


class _ClosablePool(HTTPConnectionPool):
    """A pool that, once closed, keeps no connection: a request still running at close() would
    otherwise put its connection in the cache when it ends, with a four-minute idle timer."""

    closed = False

    def _putConnection(self, key: Any, connection: Any) -> None:  # noqa: N802 (Twisted's name)
        if self.closed:
            connection.transport.loseConnection()
            return
        super()._putConnection(key, connection)


class ApiClient:
    """REST calls of docs/api.md, with the session token once logged in."""

    def __init__(self, base_url: str, reactor: Any = None, timeout: float = 10.0,
                 ca_file: str | None = None) -> None:
        """`ca_file`: a PEM certificate to trust for https/wss (a private CA or the server's
        self-signed certificate); without it the system's trust store decides."""
        if reactor is None:
            from twisted.internet import reactor as default_reactor

            reactor = default_reactor
        self.base_url = normalize_base_url(base_url)
        self.reactor = reactor
        self.timeout = timeout
        self.tls_policy = tls_policy(ca_file)
        self._pool = _ClosablePool(reactor, persistent=True)
        self._pool.maxPersistentPerHost = 4
        self._agent = Agent(reactor, contextFactory=self.tls_policy, pool=self._pool,
                            connectTimeout=timeout)
        self.token: str | None = None
        self.session: dict[str, Any] | None = None
        self._credentials: dict[str, Any] | None = None

    # -- plumbing ------------------------------------------------------------------------------

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        """One JSON request; the decoded answer (None for 204), or ApiError."""
        headers = Headers({b"Accept": [b"application/json"]})
        if self.token:
            headers.addRawHeader(b"Authorization", f"Bearer {self.token}".encode())
        producer = None
        if body is not None:
            headers.addRawHeader(b"Content-Type", b"application/json")
            producer = FileBodyProducer(BytesIO(json.dumps(body).encode("utf-8")))
        url = (self.base_url + API + path).encode("utf-8")
        try:
            pending = self._agent.request(method.encode("ascii"), url, headers, producer)
            pending.addTimeout(self.timeout, self.reactor)
            response = await pending
            data = await read_body(response)
        except _UNREACHABLE as exc:
            raise _unreachable(self.base_url, Failure(exc)) from None
        except defer.CancelledError:
            raise ApiUnreachable(
                f"cannot reach the CTI server at {self.base_url}: no answer in {self.timeout:g} s"
            ) from None
        if response.code >= 400:
            raise _error_from_body(response.code, data)
        if response.code == 204 or not data.strip():
            return None
        try:
            return json.loads(data)
        except ValueError:
            raise ApiError(f"the server sent something that is not JSON for {path}",
                           response.code, "bad_answer") from None

    def _call(self, method: str, path: str, body: Any = None) -> defer.Deferred:
        return defer.Deferred.fromCoroutine(self.request(method, path, body))

    def close(self) -> defer.Deferred:
        """Close idle HTTP connections, and those of requests still running as they end
        (tests and shutdown)."""
        self._pool.closed = True
        return self._pool.closeCachedConnections()

    # -- sessions ------------------------------------------------------------------------------

    def login(self, user: str, password: str, extension: str | None = None,
              tenant: str | None = None, acd: bool | None = None) -> defer.Deferred:
        """POST /sessions; keeps the token (and the credentials, to log in again after a
        server restart invalidated the token)."""
        body: dict[str, Any] = {"user": user, "password": password}
        if extension:
            body["extension"] = extension
        if tenant:
            body["tenant"] = tenant
        if acd is not None:
            body["acd"] = acd

        async def go() -> dict[str, Any]:
            session = await self.request("POST", "/sessions", body)
            self.token = session["token"]
            self.session = session
            self._credentials = body
            return session

        return defer.Deferred.fromCoroutine(go())

    def relogin(self) -> defer.Deferred:
        """Log in again with the credentials of the last successful login."""
        if not self._credentials:
            return defer.fail(ApiError("not logged in", 401, "unauthorized"))
        body = dict(self._credentials)
        return self.login(body.pop("user"), body.pop("password"), **body)

    def logout(self) -> defer.Deferred:
        async def go() -> None:
            try:
                await self.request("DELETE", "/sessions/current")
            finally:
                self.token = None
                self.session = None
                self._credentials = None

        return defer.Deferred.fromCoroutine(go())

    def current_session(self) -> defer.Deferred:
        return self._call("GET", "/sessions/current")

    # -- calls ---------------------------------------------------------------------------------

    def calls(self) -> defer.Deferred:
        return self._call("GET", "/calls")

    def call(self, call_id: str) -> defer.Deferred:
        return self._call("GET", f"/calls/{quote(call_id, safe='')}")

    def make_call(self, to: str, from_: str | None = None) -> defer.Deferred:
        body = {"to": to}
        if from_:
            body["from"] = from_
        return self._call("POST", "/calls", body)

    def call_action(self, call_id: str, action: str, **body: Any) -> defer.Deferred:
        """POST /calls/{id}/{action}; the keyword arguments are the action's body."""
        if action not in CALL_ACTIONS:
            return defer.fail(ApiError(f"unknown call action {action!r}", 400, "bad_request"))
        body = {k: v for k, v in body.items() if v is not None}
        return self._call("POST", f"/calls/{quote(call_id, safe='')}/{action}", body)

    def answer(self, call_id: str) -> defer.Deferred:
        return self.call_action(call_id, "answer")

    def hangup(self, call_id: str) -> defer.Deferred:
        return self.call_action(call_id, "hangup")

    def hold(self, call_id: str) -> defer.Deferred:
        return self.call_action(call_id, "hold")

    def retrieve(self, call_id: str) -> defer.Deferred:
        return self.call_action(call_id, "retrieve")

    def consult(self, call_id: str, to: str) -> defer.Deferred:
        return self.call_action(call_id, "consult", to=to)

    def transfer(self, call_id: str, consult_call_id: str) -> defer.Deferred:
        return self.call_action(call_id, "transfer", consult_call_id=consult_call_id)

    def conference(self, call_id: str, consult_call_id: str) -> defer.Deferred:
        return self.call_action(call_id, "conference", consult_call_id=consult_call_id)

    def alternate(self, call_id: str, consult_call_id: str) -> defer.Deferred:
        return self.call_action(call_id, "alternate", consult_call_id=consult_call_id)

    def reconnect(self, call_id: str, consult_call_id: str) -> defer.Deferred:
        return self.call_action(call_id, "reconnect", consult_call_id=consult_call_id)

    def deflect(self, call_id: str, to: str) -> defer.Deferred:
        return self.call_action(call_id, "deflect", to=to)

    def single_step_transfer(self, call_id: str, to: str) -> defer.Deferred:
        return self.call_action(call_id, "single-step-transfer", to=to)

    def dtmf(self, call_id: str, digits: str) -> defer.Deferred:
        return self.call_action(call_id, "dtmf", digits=digits)

    def monitor(self, call_id: str, mode: str, from_: str | None = None) -> defer.Deferred:
        return self.call_action(call_id, "monitor", mode=mode, **{"from": from_})

    def attach_data(self, call_id: str, data: dict[str, Any]) -> defer.Deferred:
        return self._call("PATCH", f"/calls/{quote(call_id, safe='')}/data", data)

    def add_note(self, call_id: str, text: str) -> defer.Deferred:
        return self._call("POST", f"/calls/{quote(call_id, safe='')}/notes", {"text": text})

    def disposition(self, call_id: str, code: str, notes: str | None = None,
                    customer_id: int | None = None) -> defer.Deferred:
        """Record the call's outcome; `customer_id` names the customer when the server would
        not find them itself (one saved during the call, one the agent chose on the card)."""
        body: dict[str, Any] = {"code": code}
        if notes:
            body["notes"] = notes
        if customer_id is not None:
            body["customer_id"] = customer_id
        return self._call("POST", f"/calls/{quote(call_id, safe='')}/disposition", body)

    # -- agents, queues, lists -----------------------------------------------------------------

    def agents(self) -> defer.Deferred:
        return self._call("GET", "/agents")

    def me(self) -> defer.Deferred:
        return self._call("GET", "/agents/me")

    def set_state(self, state: str, reason: str | None = None,
                  agent_id: str | None = None) -> defer.Deferred:
        """POST /agents/me/state, or /agents/{id}/state for a supervisor acting on another."""
        body = {"state": state}
        if reason:
            body["reason"] = reason
        who = "me" if agent_id is None else quote(agent_id, safe="")
        return self._call("POST", f"/agents/{who}/state", body)

    def queues(self) -> defer.Deferred:
        return self._call("GET", "/queues")

    def reasons(self) -> defer.Deferred:
        return self._call("GET", "/reasons")

    def dispositions(self) -> defer.Deferred:
        return self._call("GET", "/dispositions")

    def directory(self) -> defer.Deferred:
        return self._call("GET", "/directory")

    # -- customers, interactions, tickets ------------------------------------------------------

    def find_customers(self, phone: str | None = None, q: str | None = None) -> defer.Deferred:
        query = {k: v for k, v in (("phone", phone), ("q", q)) if v}
        return self._call("GET", "/customers?" + urlencode(query))

    def customer(self, customer_id: Any) -> defer.Deferred:
        return self._call("GET", f"/customers/{quote(str(customer_id), safe='')}")

    def create_customer(self, record: dict[str, Any]) -> defer.Deferred:
        return self._call("POST", "/customers", record)

    def update_customer(self, customer_id: Any, record: dict[str, Any]) -> defer.Deferred:
        return self._call("PUT", f"/customers/{quote(str(customer_id), safe='')}", record)

    def interactions(self, customer_id: Any) -> defer.Deferred:
        return self._call("GET", f"/customers/{quote(str(customer_id), safe='')}/interactions")

    def add_interaction(self, customer_id: Any, notes: str, disposition: str,
                        call_id: str | None = None) -> defer.Deferred:
        body = {"notes": notes, "disposition": disposition}
        if call_id:
            body["call_id"] = call_id
        return self._call(
            "POST", f"/customers/{quote(str(customer_id), safe='')}/interactions", body
        )

    def tickets(self, customer_id: Any) -> defer.Deferred:
        return self._call("GET", f"/customers/{quote(str(customer_id), safe='')}/tickets")

    def create_ticket(self, customer_id: Any, type_: str, subject: str,
                      body: str) -> defer.Deferred:
        return self._call(
            "POST", f"/customers/{quote(str(customer_id), safe='')}/tickets",
            {"type": type_, "subject": subject, "body": body},
        )

    def update_ticket(self, ticket_id: Any, **changes: Any) -> defer.Deferred:
        return self._call("PATCH", f"/tickets/{quote(str(ticket_id), safe='')}", changes)


class _StreamProtocol:
    """One WebSocket connection of the event stream: frames in, JSON objects out."""

    def __init__(self, stream: EventStream) -> None:
        self.stream = stream
        self.transport: WebSocketTransport | None = None

    def negotiationStarted(self, transport: WebSocketTransport) -> None:
        self.transport = transport

    def negotiationFinished(self) -> None:
        self.stream._connected(self)

    def pongReceived(self, payload: bytes) -> None:
        self.stream._heard()

    def textMessageReceived(self, message: str) -> None:
        self.stream._message(message)

    def bytesMessageReceived(self, data: bytes | bytearray) -> None:
        self.stream._message(bytes(data).decode("utf-8", "replace"))

    def connectionLost(self, reason: Failure) -> None:
        self.stream._lost(self, reason)

    def send(self, obj: dict[str, Any]) -> None:
        if self.transport is not None:
            self.transport.sendTextMessage(json.dumps(obj))

    def close(self) -> None:
        """Close politely; a connection the peer already closed is just dropped."""
        if self.transport is None:
            return
        try:
            self.transport.loseConnection()
        except LocalProtocolError:
            tcp = getattr(self.transport, "transport", None)
            if tcp is not None:
                tcp.loseConnection()


class _Factory:
    def __init__(self, stream: EventStream) -> None:
        self.stream = stream

    def buildProtocol(self, url: str) -> _StreamProtocol:
        return _StreamProtocol(self.stream)


# Connection states reported to on_status.
CONNECTING = "connecting"
CONNECTED = "connected"
RECONNECTING = "reconnecting"
STOPPED = "stopped"


class EventStream:
    """The /api/v1/events WebSocket, kept open: reconnects with exponential backoff.

    ``on_event`` gets every decoded event object. The server's ``hello`` (sent on every connect)
    carries the session's calls and agent, so a reconnecting client restores its state from it;
    ``on_status`` hears connecting / connected / reconnecting (with the reason) / stopped. A
    rejected token (server restarted) triggers one fresh login with the stored credentials.
    A silent connection is probed with ``{"action": "ping"}`` and dropped when nothing at all
    comes back, so a half-open TCP connection cannot hide a dead server.
    """

    def __init__(
        self,
        client: ApiClient,
        on_event: Callable[[dict[str, Any]], None],
        on_status: Callable[[str, str], None] = lambda status, detail: None,
        clock: Any = None,
        initial_delay: float = 0.5,
        max_delay: float = 30.0,
        keepalive: float = 20.0,
    ) -> None:
        self.client = client
        self.on_event = on_event
        self.on_status = on_status
        self.clock = clock if clock is not None else client.reactor
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self.keepalive = keepalive
        self.status = STOPPED
        self.attempts = 0
        self._running = False
        self._protocol: _StreamProtocol | None = None
        self._retry: IDelayedCall | None = None
        self._connecting: defer.Deferred | None = None
        self._probe: IDelayedCall | None = None
        self._silent = 0

    def start(self) -> None:
        if self._running:
            return
        self._running = True
        self._set_status(CONNECTING, "")
        self._connect()

    def stop(self) -> None:
        """Close the stream for good (logout, shutdown); no reconnect follows."""
        self._running = False
        self._cancel_timers()
        if self._connecting is not None:
            # An attempt still connecting would go on trying (and connect) after the stop.
            self._connecting.cancel()
        if self._protocol is not None:
            self._protocol.close()
        self._set_status(STOPPED, "")

    def send(self, obj: dict[str, Any]) -> None:
        if self._protocol is not None:
            self._protocol.send(obj)

    def next_delay(self) -> float:
        """Backoff before the next attempt: doubles per failed attempt, capped."""
        return min(self.max_delay, self.initial_delay * (2 ** max(0, self.attempts - 1)))

    # -- internals -----------------------------------------------------------------------------

    def _set_status(self, status: str, detail: str) -> None:
        self.status = status
        self.on_status(status, detail)

    def _connect(self) -> None:
        self._retry = None
        if not self._running:
            return
        if not self.client.token:
            self._schedule_retry("not logged in", relogin=True)
            return
        url = events_url(self.client.base_url, self.client.token)
        endpoint = WebSocketClientEndpoint.new(
            self.client.reactor, url, tlsPolicy=self.client.tls_policy,
            connectTimeout=int(self.client.timeout) or 1,
        )
        connecting = defer.Deferred.fromCoroutine(endpoint.connect(_Factory(self)))
        self._connecting = connecting
        connecting.addBoth(self._attempt_over, connecting)
        connecting.addErrback(self._connect_failed)

    def _attempt_over(self, result: Any, attempt: defer.Deferred) -> Any:
        if self._connecting is attempt:
            self._connecting = None
        if isinstance(result, Failure) and result.check(defer.CancelledError):
            return None
        return result

    def _connect_failed(self, failure: Failure) -> None:
        reason = failure.value
        if isinstance(reason, ConnectionRejected):
            code = reason.response.code
            self._schedule_retry(f"server refused the event stream (HTTP {code})",
                                 relogin=code == 401)
            return
        text = str(reason).splitlines()[0] if str(reason) else type(reason).__name__
        self._schedule_retry(text)

    def _schedule_retry(self, detail: str, relogin: bool = False) -> None:
        if not self._running:
            return
        self.attempts += 1
        delay = self.next_delay()
        self._set_status(RECONNECTING, detail)
        if relogin:
            self._retry = self.clock.callLater(delay, self._relogin_then_connect)
        else:
            self._retry = self.clock.callLater(delay, self._connect)

    def _relogin_then_connect(self) -> None:
        self._retry = None
        if not self._running:
            return

        def failed(failure: Failure) -> None:
            self._schedule_retry(f"login failed: {failure.getErrorMessage()}", relogin=True)

        self.client.relogin().addCallbacks(lambda _: self._connect(), failed)

    def _connected(self, protocol: _StreamProtocol) -> None:
        if not self._running:
            protocol.close()
            return
        self._protocol = protocol
        self._silent = 0
        self._set_status(CONNECTED, "")
        self._arm_probe()

    def _message(self, text: str) -> None:
        self._heard()
        try:
            event = json.loads(text)
        except ValueError:
            return
        if not isinstance(event, dict) or "event" not in event:
            return
        self.attempts = 0
        self.on_event(event)

    def _heard(self) -> None:
        self._silent = 0

    def _arm_probe(self) -> None:
        if self._probe is not None and self._probe.active():
            self._probe.cancel()
        self._probe = self.clock.callLater(self.keepalive, self._probe_due)

    def _probe_due(self) -> None:
        self._probe = None
        if self._protocol is None:
            return
        self._silent += 1
        if self._silent > 2:
            self._protocol.close()
            return
        if self._silent > 1:
            self._protocol.send({"action": "ping"})
        self._arm_probe()

    def _lost(self, protocol: _StreamProtocol, reason: Failure) -> None:
        if protocol is not self._protocol:
            return
        self._protocol = None
        if self._probe is not None and self._probe.active():
            self._probe.cancel()
        self._probe = None
        if self._running:
            self._schedule_retry("connection to the server lost")

    def _cancel_timers(self) -> None:
        for call in (self._retry, self._probe):
            if call is not None and call.active():
                call.cancel()
        self._retry = self._probe = None
