"""One CSTA connection: invoke-ID correlation, request timeouts, and dispatch by message kind.

Framing is inherited from CstaFraming; parsing lives in codec. This class decides what a
document *is* (our response, the switch's request, an event) and hands it on: responses fire
the Deferred of the request with that invoke ID, SystemStatus is answered at once, events and
route requests go to the handler (the driver). Everything that concerns the session or the
monitored devices is the handler's business, so this class stays testable with a
StringTransport and a task.Clock alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from lxml import etree
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from drivers.base import DriverError, LinkDown
from drivers.csta import codec
from drivers.csta.framing import EVENT_INVOKE_ID, LOG_BYTES, CstaFraming

Decoder = Callable[[etree._Element], Any]


class CstaHandler(Protocol):
    """What the protocol tells its owner."""

    def csta_connected(self, protocol: CstaProtocol) -> None: ...
    def csta_event(self, root: etree._Element, name: str, body: bytes) -> None: ...
    def csta_route_request(self, root: etree._Element, invoke_id: str) -> None: ...
    def csta_disconnected(self, protocol: CstaProtocol, reason: Failure) -> None: ...


@dataclass(slots=True)
class _Pending:
    service: str
    deferred: Deferred[Any] | None
    decode: Decoder | None
    timer: IDelayedCall
    timeout: float


def ignore_result(root: etree._Element) -> None:
    """Decoder of responses that carry nothing we need (AnswerCallResponse, ...)."""
    return None


class CstaProtocol(CstaFraming):
    """Requests out with fresh invoke IDs 0001..9998; answers and events in."""

    log = Logger()

    def __init__(
        self, handler: CstaHandler, clock: IReactorTime, request_timeout: float = 10.0
    ) -> None:
        self.handler = handler
        self.clock = clock
        self.request_timeout = request_timeout
        self._pending: dict[str, _Pending] = {}
        self._next_invoke = 1
        self.last_received = clock.seconds()
        self.system_status_seen = False
        self._status_waiters: list[Deferred[None]] = []

    # -- outgoing ------------------------------------------------------------------------------

    def request(
        self, service: str, body: bytes, decode: Decoder | None = ignore_result,
        timeout: float | None = None,
    ) -> Deferred[Any]:
        """Send a request; the Deferred fires with decode(response) or fails with DriverError.

        With `decode=None` the request expects no positive answer (RouteSelect, RouteEnd): the
        Deferred fires once it is sent, and a later error answer is only logged.
        """
        if self.transport is None or self.transport.disconnecting:
            return fail(LinkDown(service, "link is down"))
        invoke_id = self._allocate()
        if invoke_id is None:
            return fail(DriverError(service, "all 9998 invoke IDs are awaiting answers", "busy"))
        deferred: Deferred[Any] | None = Deferred() if decode is not None else None
        if timeout is None:
            timeout = self.request_timeout
        timer = self.clock.callLater(timeout, self._expire, invoke_id)
        self._pending[invoke_id] = _Pending(service, deferred, decode, timer, timeout)
        self.sendFrame(invoke_id, body)
        if deferred is None:
            return succeed(None)
        return deferred

    def system_status(self, timeout: float) -> Deferred[None]:
        """Fires once the switch has sent a SystemStatus, or after `timeout` seconds anyway."""
        if self.system_status_seen:
            return succeed(None)
        waiter: Deferred[None] = Deferred()
        self._status_waiters.append(waiter)
        timer = self.clock.callLater(timeout, lambda: waiter.called or waiter.callback(None))
        waiter.addBoth(lambda result: (timer.active() and timer.cancel(), result)[1])
        return waiter

    def _allocate(self) -> str | None:
        """The next free invoke ID (0001..9998, wrapping), or None if all are in flight."""
        for _ in range(9998):
            invoke_id = f"{self._next_invoke:04d}"
            self._next_invoke = self._next_invoke % 9998 + 1
            if invoke_id not in self._pending:
                return invoke_id
        return None

    def _expire(self, invoke_id: str) -> None:
        pending = self._pending.pop(invoke_id, None)
        if pending is None or pending.deferred is None:
            return
        pending.deferred.errback(
            DriverError(
                pending.service, f"no answer within {pending.timeout:g} s", "timeout"
            )
        )

    # -- incoming ------------------------------------------------------------------------------

    def connectionMade(self) -> None:
        self.last_received = self.clock.seconds()
        self.handler.csta_connected(self)

    def frameReceived(self, invoke_id: str, body: bytes) -> None:
        self.last_received = self.clock.seconds()
        try:
            root = codec.parse(body)
        except codec.DecodeError as exc:
            self.log.warn(
                "undecodable CSTA frame {invoke} skipped ({error}): {data!r}",
                invoke=invoke_id, error=exc, data=body[:LOG_BYTES],
            )
            pending = self._pending.pop(invoke_id, None) if invoke_id != EVENT_INVOKE_ID else None
            if pending is not None:
                pending.timer.cancel()
                if pending.deferred is not None:
                    pending.deferred.errback(
                        DriverError(pending.service, "undecodable answer", "undecodable")
                    )
            return
        name = codec.local_name(root.tag)
        try:
            self._dispatch(invoke_id, name, root, body)
        except Exception:
            self.log.failure("CSTA {name} (invoke {invoke}) could not be handled",
                             name=name, invoke=invoke_id)

    def _dispatch(self, invoke_id: str, name: str, root: etree._Element, body: bytes) -> None:
        if name == "SystemStatus":
            self.sendFrame(invoke_id, codec.system_status_response())
            self.system_status_seen = True
            waiters, self._status_waiters = self._status_waiters, []
            for waiter in waiters:
                waiter.callback(None)
        elif name == "RouteRequest":
            self.handler.csta_route_request(root, invoke_id)
        elif invoke_id != EVENT_INVOKE_ID and (name.endswith("Response") or codec.is_error(name)):
            self._answer(invoke_id, name, root)
        elif invoke_id == EVENT_INVOKE_ID or codec.is_event(name):
            self.handler.csta_event(root, name, body)
        else:
            self.log.warn("unexpected CSTA {name} (invoke {invoke}) ignored",
                          name=name, invoke=invoke_id)

    def _answer(self, invoke_id: str, name: str, root: etree._Element) -> None:
        pending = self._pending.pop(invoke_id, None)
        if pending is None:
            self.log.warn("CSTA {name} for invoke {invoke}, which we never sent (or gave up "
                          "on), ignored", name=name, invoke=invoke_id)
            return
        pending.timer.cancel()
        if codec.is_error(name):
            error = codec.error_of(pending.service, root)
            if pending.deferred is None:
                self.log.warn("{error}", error=error)
            else:
                pending.deferred.errback(error)
            return
        if pending.deferred is None:
            return
        assert pending.decode is not None
        try:
            result = pending.decode(root)
        except Exception as exc:
            pending.deferred.errback(
                DriverError(pending.service, f"unreadable {name}: {exc}", "undecodable")
            )
            return
        pending.deferred.callback(result)

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        pending, self._pending = self._pending, {}
        for item in pending.values():
            item.timer.cancel()
            if item.deferred is not None:
                item.deferred.errback(LinkDown(item.service, "link went down"))
        self.handler.csta_disconnected(self, reason)

    def drop(self, why: str) -> None:
        """Reset the link (the driver reconnects): used when the session cannot go on."""
        self.log.warn("dropping the CSTA link: {why}", why=why)
        self.lost_reason = why
        if self.transport is not None:
            self.transport.loseConnection()

