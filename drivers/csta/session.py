"""The application session on one connection: opening it, keeping it alive, closing it.

Two styles exist in the field (docs/csta-wire.md): ECMA-354 (StartApplicationSession, its timer
reset at about half the duration the switch GRANTED) and the SystemStatus / SystemRegister
variant. "auto" tries ECMA-354 and falls back to SystemRegister when the switch refuses or
ignores it. Independently of the style we send our own SystemStatus as a keep-alive: a switch
that stops answering (or a byte stream stuck on a lying length) then resets the link within
one keep-alive interval plus the request timeout instead of hanging for ever.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from twisted.internet.defer import Deferred, inlineCallbacks, succeed
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from drivers.base import DriverError, LinkDown
from drivers.csta import codec
from drivers.csta.protocol import CstaProtocol

STYLES = ("auto", "ecma354", "system-status")


def _granted(root: etree._Element) -> dict[str, Any]:
    duration = codec.descendant_text(root, "actualSessionDuration")
    return {
        "session_id": codec.descendant_text(root, "sessionID"),
        "duration": int(duration) if duration and duration.isdigit() else None,
    }


class ApplicationSession:
    """Opens and maintains the session on one CstaProtocol; `open()` says if it resumed."""

    log = Logger()

    def __init__(
        self,
        protocol: CstaProtocol,
        clock: IReactorTime,
        *,
        style: str = "auto",
        application_id: str = "cti-middleware",
        duration: int = 300,
        keepalive: float = 30.0,
        previous_session: str | None = None,
    ) -> None:
        if style not in STYLES:
            raise ValueError(f"unknown session style {style!r} (known: {', '.join(STYLES)})")
        self.protocol = protocol
        self.clock = clock
        self.style = style
        self.application_id = application_id
        self.requested_duration = duration
        self.keepalive_interval = keepalive
        self.previous_session = previous_session
        self.session_id: str | None = None
        self.granted_duration: int | None = None
        self.active_style: str | None = None
        self._reset_call: IDelayedCall | None = None
        self._keepalive: LoopingCall | None = None

    @inlineCallbacks
    def open(self) -> Deferred[bool]:
        """Establish the session; True if the switch resumed the previous one (monitors kept)."""
        resumed = False
        if self.style in ("auto", "ecma354"):
            try:
                resumed = yield self._start_ecma354()
                self.active_style = "ecma354"
            except LinkDown:
                raise
            except DriverError as exc:
                if self.style == "ecma354":
                    raise
                self.log.info("no ECMA-354 session ({error}); using SystemRegister", error=exc)
        if self.active_style is None:
            yield self._register()
            self.active_style = "system-status"
        self._start_keepalive()
        return resumed

    @inlineCallbacks
    def _start_ecma354(self) -> Deferred[bool]:
        if self.previous_session is not None:
            try:
                granted = yield self.protocol.request(
                    "StartApplicationSession",
                    codec.start_application_session(
                        self.application_id, self.requested_duration, self.previous_session
                    ),
                    _granted,
                )
            except LinkDown:
                raise
            except DriverError as exc:
                self.log.info("session {old} not resumed ({error}); starting a new one",
                              old=self.previous_session, error=exc)
            else:
                self._granted(granted)
                if granted["session_id"] == self.previous_session:
                    return True
                return False
        granted = yield self.protocol.request(
            "StartApplicationSession",
            codec.start_application_session(self.application_id, self.requested_duration),
            _granted,
        )
        self._granted(granted)
        return False

    def _granted(self, granted: dict[str, Any]) -> None:
        self.session_id = granted["session_id"]
        self.granted_duration = granted["duration"] or self.requested_duration
        self._schedule_reset()

    def _schedule_reset(self) -> None:
        assert self.granted_duration is not None
        self._reset_call = self.clock.callLater(
            max(1.0, self.granted_duration / 2), self._reset_timer
        )

    def _reset_timer(self) -> None:
        self._reset_call = None
        assert self.session_id is not None
        deferred = self.protocol.request(
            "ResetApplicationSessionTimer",
            codec.reset_session_timer(self.session_id, self.requested_duration),
            _granted,
        )
        deferred.addCallbacks(self._timer_reset, self._timer_refused)

    def _timer_reset(self, granted: dict[str, Any]) -> None:
        self.granted_duration = granted["duration"] or self.granted_duration
        self._schedule_reset()

    def _timer_refused(self, failure: Any) -> None:
        if failure.check(LinkDown):
            return
        self.protocol.drop(f"session timer not reset: {failure.getErrorMessage()}")

    @inlineCallbacks
    def _register(self) -> Deferred[None]:
        """SystemRegister once the switch has opened with its SystemStatus (or not, in time)."""
        yield self.protocol.system_status(self.protocol.request_timeout)
        try:
            yield self.protocol.request("SystemRegister", codec.system_register())
        except LinkDown:
            raise
        except DriverError as exc:
            self.log.info("SystemRegister refused ({error}); carrying on", error=exc)

    def _start_keepalive(self) -> None:
        if self.keepalive_interval <= 0:
            return
        self._keepalive = LoopingCall(self._send_keepalive)
        self._keepalive.clock = self.clock
        self._keepalive.start(self.keepalive_interval, now=False)

    def _send_keepalive(self) -> None:
        deferred = self.protocol.request("SystemStatus", codec.system_status())
        deferred.addErrback(self._keepalive_failed)

    def _keepalive_failed(self, failure: Any) -> None:
        if failure.check(LinkDown):
            return
        self.protocol.drop(f"keep-alive unanswered: {failure.getErrorMessage()}")

    def close(self) -> Deferred[Any]:
        """Stop timers and end an ECMA-354 session politely (errors ignored: we leave anyway)."""
        self.stop_timers()
        if self.active_style != "ecma354" or self.session_id is None:
            return succeed(None)
        deferred = self.protocol.request(
            "StopApplicationSession", codec.stop_application_session(self.session_id),
            timeout=2.0,
        )
        return deferred.addErrback(lambda failure: None)

    def stop_timers(self) -> None:
        if self._reset_call is not None and self._reset_call.active():
            self._reset_call.cancel()
        self._reset_call = None
        if self._keepalive is not None and self._keepalive.running:
            self._keepalive.stop()
        self._keepalive = None

