"""One client connection to the simulated switch: session, keep-alive, request dispatch.

Framing comes from FrameReceiver, parsing from xmlcodec, call-control logic from services and
the switch; this module only decides what a request means for this connection and answers it.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from twisted.internet.interfaces import IPushProducer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from simulators.csta import services
from simulators.csta.framing import EVENT_INVOKE, FrameReceiver
from simulators.csta.server import ECMA354, SYSTEM_STATUS, CSTAServerFactory, Session, Subscriber
from simulators.csta.xmlcodec import (
    CSTA_NS,
    SESSION_NS,
    Malformed,
    child,
    conn_xml,
    device,
    device_xml,
    element,
    error_message,
    local,
    message,
    parse,
    ring_all,
    text,
)
from simulators.pbx import events as ev
from simulators.pbx.errors import SwitchError
from simulators.pbx.events import SwitchEvent

log = Logger()

SESSION_REQUESTS = frozenset({
    "StartApplicationSession", "ResetApplicationSessionTimer", "StopApplicationSession",
    "SystemStatus", "SystemStatusResponse", "SystemRegister", "CSTAErrorCode",
})


class Refused(Exception):
    """A request refused outside the switch's own vocabulary (monitors, sessions)."""

    def __init__(self, category: str, value: str) -> None:
        super().__init__(value)
        self.category = category
        self.value = value


@implementer(IPushProducer)
class CSTAServerProtocol(FrameReceiver):
    """Also the push producer of its own transport, so a slow client throttles burst traffic."""

    factory: CSTAServerFactory

    def __init__(self) -> None:
        self.session: Session | None = None
        self.subscriber: Subscriber | None = None
        self.unanswered = 0
        self.last_received = 0.0
        self._keepalive: Any = None
        self._invoke = 0
        self._status_register_ids = 0

    # ------------------------------------------------------------------ life cycle

    def connectionMade(self) -> None:
        factory = self.factory
        factory.connections.add(self)
        self.transport.registerProducer(self, True)
        self.last_received = factory.clock.seconds()
        if factory.session_style == SYSTEM_STATUS:
            self.subscriber = Subscriber(self)
            self.send_request(message("SystemStatus", "<systemStatus>normal</systemStatus>"))
        if factory.keepalive > 0:
            self._keepalive = factory.clock.callLater(factory.keepalive, self._keepalive_due)

    def connectionLost(self, reason: Failure | None = None) -> None:
        factory = self.factory
        factory.connections.discard(self)
        factory.resume(self)
        if self._keepalive is not None and self._keepalive.active():
            self._keepalive.cancel()
        self._keepalive = None
        if self.session is not None:
            self.session.protocol = None
            self.session = None
        if self.subscriber is not None:
            factory.drop_subscriber(self.subscriber)
            self.subscriber = None

    def pauseProducing(self) -> None:
        self.factory.pause(self)

    def resumeProducing(self) -> None:
        self.factory.resume(self)

    def stopProducing(self) -> None:
        self.factory.resume(self)

    def _keepalive_due(self) -> None:
        clock, period = self.factory.clock, self.factory.keepalive
        idle = clock.seconds() - self.last_received
        if idle < period:
            self._keepalive = clock.callLater(period - idle, self._keepalive_due)
            return
        if self.unanswered >= 2:
            log.info("no answer to two SystemStatus requests: dropping the link")
            self._keepalive = None
            self.transport.loseConnection()
            return
        self.unanswered += 1
        self.send_request(message("SystemStatus", "<systemStatus>normal</systemStatus>"))
        self._keepalive = clock.callLater(period, self._keepalive_due)

    # ------------------------------------------------------------------ sending

    def send_request(self, body: bytes) -> str:
        """A request of the switch's own, with the next invoke ID of this connection."""
        self._invoke = self._invoke % 9998 + 1
        invoke = f"{self._invoke:04d}"
        self.sendFrame(invoke, body)
        return invoke

    def send_route_message(self, event: SwitchEvent) -> None:
        d = event.details
        if event.kind == ev.ROUTE_REQUEST:
            self.send_request(message(
                "RouteRequest",
                element("crossRefIdentifier", d["xref"])
                + element("routeRegisterReqID", d["registration"])
                + element("currentRoute", d["pilot"])
                + element("callingDevice", d["calling"])
                + conn_xml("routedCall", event.call_id, d["pilot"]),
            ))
        else:
            error = "<errorValue><operation>generic</operation></errorValue>" if d["error"] else ""
            self.sendFrame(EVENT_INVOKE, message(
                "RouteEnd",
                element("routeRegisterReqID", d["registration"])
                + element("routingCrossRefID", d["xref"]) + error,
            ))

    # ------------------------------------------------------------------ receiving

    def frameError(self, reason: str) -> None:
        log.warn("unreadable CSTA stream ({reason}); dropping the connection", reason=reason)

    def frameReceived(self, invoke_id: str, body: bytes) -> None:
        self.last_received = self.factory.clock.seconds()
        self.unanswered = 0
        readable_invoke = invoke_id.isdigit()
        try:
            root = parse(body)
        except Malformed as exc:
            log.warn("malformed CSTA frame {invoke}: {error}", invoke=invoke_id, error=str(exc))
            if readable_invoke:
                self.sendFrame(invoke_id, error_message("unspecified", "unspecified"))
            return
        if not readable_invoke:
            log.warn("CSTA frame with unreadable invoke ID {invoke!r} ignored", invoke=invoke_id)
            return
        name = local(root)
        factory = self.factory
        factory.hold_events()
        response: bytes | None = None
        try:
            response = self._serve(name, root)
        except SwitchError as exc:
            response = error_message(exc.category, exc.value)
        except Refused as exc:
            response = error_message(exc.category, exc.value)
        except Exception:
            log.failure("request {name} failed", name=name)
            response = error_message("unspecified", "unspecified")
        finally:
            try:
                if response is not None and self.transport is not None:
                    self.sendFrame(invoke_id, response)
            finally:
                factory.release_events()

    def _serve(self, name: str, req: etree._Element) -> bytes | None:
        handler = getattr(self, "do_" + name, None)
        if handler is not None:
            if name not in SESSION_REQUESTS:
                self._owner()
            return handler(req)
        service = services.SERVICES.get(name)
        if service is not None and name not in self.factory.refused_services:
            self._owner()
            return service(self.factory.switch, req)
        if name.endswith("Response"):
            log.info("unexpected {name} from the application ignored", name=name)
            return None
        raise Refused("operation", "generic")

    def _owner(self) -> Subscriber:
        owner = self.session or self.subscriber
        if owner is None:
            raise Refused("security", "generic")
        return owner

    # ------------------------------------------------------------------ ECMA-354 sessions

    def _session_reply(self, name: str, inner: str = "") -> bytes:
        return message(name, inner, SESSION_NS)

    def do_StartApplicationSession(self, req: etree._Element) -> bytes:
        factory = self.factory
        negative = "StartApplicationSessionNegResponse"
        if factory.session_style != ECMA354:
            return self._session_reply(negative, "<errorCode><definedError>"
                                       "notSupported</definedError></errorCode>")
        versions = [v.text.strip() for v in req.iter() if local(v) == "protocolVersion" and v.text]
        if versions and not any("ecma-323" in v for v in versions):
            return self._session_reply(negative, "<errorCode><definedError>"
                                       "protocolVersionNotSupported</definedError></errorCode>")
        duration_text = text(req, "requestedSessionDuration") or "180"
        duration = int(duration_text) if duration_text.isdigit() else 180
        old_id = text(req, "sessionID")
        if old_id is not None:
            session = factory.resume_session(old_id, self)
            if session is None:
                return self._session_reply(negative, "<errorCode><definedError>"
                                           "invalidSessionID</definedError></errorCode>")
        else:
            if self.session is not None:
                factory.end_session(self.session)
            session = factory.start_session(
                self, text(req, "applicationInfo", "applicationID") or "", duration
            )
        self.session = session
        return self._session_reply(
            "StartApplicationSessionPosResponse",
            element("sessionID", session.session_id)
            + element("actualProtocolVersion", CSTA_NS)
            + element("actualSessionDuration", str(session.duration)),
        )

    def do_ResetApplicationSessionTimer(self, req: etree._Element) -> bytes:
        session = self.session
        if session is None or text(req, "sessionID") != session.session_id:
            return self._session_reply(
                "ResetApplicationSessionTimerNegResponse",
                "<errorCode><definedError>invalidSessionID</definedError></errorCode>",
            )
        requested = text(req, "requestedSessionDuration") or str(session.duration)
        granted = self.factory.reset_session_timer(
            session, int(requested) if requested.isdigit() else session.duration
        )
        return self._session_reply("ResetApplicationSessionTimerPosResponse",
                                   element("actualSessionDuration", str(granted)))

    def do_StopApplicationSession(self, req: etree._Element) -> bytes:
        session = self.session
        if session is None or text(req, "sessionID") not in (None, session.session_id):
            return self._session_reply(
                "StopApplicationSessionNegResponse",
                "<errorCode><definedError>invalidSessionID</definedError></errorCode>",
            )
        self.factory.end_session(session)
        return self._session_reply("StopApplicationSessionPosResponse")

    # ------------------------------------------------------------------ system status

    def do_SystemStatus(self, req: etree._Element) -> bytes:
        return message("SystemStatusResponse")

    def do_SystemStatusResponse(self, req: etree._Element) -> None:
        return None

    def do_CSTAErrorCode(self, req: etree._Element) -> None:
        log.info("the application refused a request of ours: {xml}",
                 xml=etree.tostring(req, encoding="unicode"))
        return None

    def do_SystemRegister(self, req: etree._Element) -> bytes:
        self._status_register_ids += 1
        return message("SystemRegisterResponse",
                       element("sysStatRegisterID", str(self._status_register_ids)))

    # ------------------------------------------------------------------ monitors, snapshots

    def do_MonitorStart(self, req: etree._Element) -> bytes:
        number = device(child(req, "monitorObject"), "deviceObject") or device(req, "monitorObject")
        if not number:
            raise Refused("operation", "invalidDeviceID")
        xref = self.factory.start_monitor(number, self._owner())
        return message("MonitorStartResponse", element("monitorCrossRefID", xref))

    def do_MonitorStop(self, req: etree._Element) -> bytes:
        xref = text(req, "monitorCrossRefID") or ""
        monitor = self.factory.monitors.get(xref)
        if monitor is None or monitor.owner is not self._owner():
            raise Refused("operation", "invalidCrossRefID")
        self.factory.stop_monitor(xref)
        return message("MonitorStopResponse")

    def do_SnapshotDevice(self, req: etree._Element) -> bytes:
        number = device(req, "snapshotObject")
        items = "".join(
            "<snapshotDeviceResponseInfo>" + conn_xml("connectionIdentifier", call_id, party)
            + "<localCallState><compoundCallState>"
            + element("localConnectionState", state)
            + "</compoundCallState></localCallState></snapshotDeviceResponseInfo>"
            for call_id, party, state in self.factory.switch.snapshot_connections(number or "")
        )
        return message("SnapshotDeviceResponse", "<crossRefIDorSnapshotData><snapshotData>"
                       + items + "</snapshotData></crossRefIDorSnapshotData>")

    def do_SnapshotCall(self, req: etree._Element) -> bytes:
        obj = child(req, "snapshotObject")
        call_id = text(obj, "callID") or text(req, "snapshotObject") or ""
        items = "".join(
            "<snapshotCallResponseInfo>" + device_xml("deviceOnCall", number)
            + conn_xml("callIdentifier", call_id, number)
            + element("localConnectionState", state) + "</snapshotCallResponseInfo>"
            for number, state in self.factory.switch.snapshot_call(call_id)
        )
        return message("SnapshotCallResponse", "<crossRefIDorSnapshotData><snapshotData>"
                       + items + "</snapshotData></crossRefIDorSnapshotData>")

    # ------------------------------------------------------------------ routing

    def do_RouteRegister(self, req: etree._Element) -> bytes:
        reg_id = self.factory.register_route(device(req, "routeingDevice"), self._owner())
        return message("RouteRegisterResponse", element("routeRegisterReqID", reg_id))

    def do_RouteRegisterCancel(self, req: etree._Element) -> bytes:
        reg_id = text(req, "routeRegisterReqID") or ""
        if reg_id not in self._owner().registrations:
            raise Refused("operation", "invalidRouteRegisterReqID")
        self.factory.cancel_registration(reg_id)
        return message("RouteRegisterCancelResponse")

    def do_RouteSelect(self, req: etree._Element) -> None:
        reg_id = text(req, "routeRegisterReqID") or ""
        if reg_id not in self._owner().registrations:
            raise Refused("operation", "invalidRouteRegisterReqID")
        destination = device(req, "routeSelected") or text(req, "routeSelected", "destination")
        if not destination:
            raise Refused("operation", "invalidDeviceID")
        self.factory.switch.route_select(reg_id, text(req, "routingCrossRefID") or "",
                                         destination, also=ring_all(req))
        return None

    def do_RouteEnd(self, req: etree._Element) -> None:
        reg_id = text(req, "routeRegisterReqID") or ""
        if reg_id not in self._owner().registrations:
            raise Refused("operation", "invalidRouteRegisterReqID")
        self.factory.switch.route_end(reg_id, text(req, "routingCrossRefID") or "")
        return None
