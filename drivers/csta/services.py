"""The Driver commands as CSTA requests: one method per service, each a request and a decoder.

A mixin over `_call(service, body, decode)` (which the driver implements on its current
connection), so that this file reads as the table of docs/csta-wire.md "Services" and nothing
else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lxml import etree
from twisted.internet.defer import Deferred, fail

from cti.events import SNAPSHOT_DEVICE, Event
from drivers.base import DriverError
from drivers.csta import codec
from drivers.csta.codec import boolean, build, connection
from drivers.csta.protocol import Decoder, ignore_result


def _call_id_in(field: str) -> Decoder:
    """Decoder of a response whose result is the callID inside `field`."""

    def decode(root: etree._Element) -> str:
        call_id, _ = codec.connection_of(codec.descendant(root, field))
        if call_id is None:
            call_id = codec.descendant_text(root, "callID")
        if call_id is None:
            raise ValueError(f"no {field}/callID")
        return call_id

    return decode


def _text_in(field: str) -> Decoder:
    def decode(root: etree._Element) -> str:
        value = codec.descendant_text(root, field)
        if value is None:
            raise ValueError(f"no {field}")
        return value

    return decode


def _unknown(service: str, what: str, value: str, table: dict[str, str]) -> Deferred[Any]:
    known = ", ".join(sorted(table))
    return fail(DriverError(service, f"unknown {what} {value!r} (known: {known})", "invalidValue"))


class CstaServices:
    """Call control, agent, feature and routing services of docs/csta-wire.md."""

    parallel_alerting = False

    def _call(
        self, service: str, body: bytes, decode: Decoder | None = ignore_result
    ) -> Deferred[Any]:
        """Send on the current connection; `decode=None`: no positive answer is expected."""
        raise NotImplementedError

    def _now(self) -> float:
        raise NotImplementedError

    # -- monitoring and snapshots --------------------------------------------------------------

    def _monitor_request(self, device: str) -> Deferred[str]:
        body = build("MonitorStart", [("monitorObject", [("deviceObject", device)])])
        return self._call("MonitorStart", body, _text_in("monitorCrossRefID"))

    def _monitor_stop_request(self, cross_ref: str) -> Deferred[None]:
        body = build("MonitorStop", [("monitorCrossRefID", cross_ref)])
        return self._call("MonitorStop", body)

    def snapshot_device(self, device: str) -> Deferred[Event]:
        """The device's connections and their states, as a snapshot_device Event."""

        def decode(root: etree._Element) -> Event:
            return Event(
                SNAPSHOT_DEVICE, self._now(), device=device, monitor=device,
                parties=codec.snapshot_parties(root),
            )

        body = build("SnapshotDevice", [("snapshotObject", device)])
        return self._call("SnapshotDevice", body, decode)

    def snapshot_call(self, call_id: str) -> Deferred[Event]:
        """The call's connections and their states, as a snapshot_call Event."""

        def decode(root: etree._Element) -> Event:
            return Event(
                "snapshot_call", self._now(), call_id=call_id,
                parties=codec.snapshot_parties(root),
            )

        body = build("SnapshotCall", [("snapshotObject", [("callID", call_id)])])
        return self._call("SnapshotCall", body, decode)

    # -- call control --------------------------------------------------------------------------

    def make_call(self, calling: str, called: str) -> Deferred[str]:
        body = build("MakeCall", [("callingDevice", calling), ("calledDirectoryNumber", called)])
        return self._call("MakeCall", body, _call_id_in("callingDevice"))

    def answer_call(self, call_id: str, device: str) -> Deferred[None]:
        body = build("AnswerCall", [connection("callToBeAnswered", call_id, device)])
        return self._call("AnswerCall", body)

    def clear_connection(self, call_id: str, device: str) -> Deferred[None]:
        body = build("ClearConnection", [connection("connectionToBeCleared", call_id, device)])
        return self._call("ClearConnection", body)

    def clear_call(self, call_id: str) -> Deferred[None]:
        body = build("ClearCall", [connection("callToBeCleared", call_id)])
        return self._call("ClearCall", body)

    def hold_call(self, call_id: str, device: str) -> Deferred[None]:
        body = build("HoldCall", [connection("callToBeHeld", call_id, device)])
        return self._call("HoldCall", body)

    def retrieve_call(self, call_id: str, device: str) -> Deferred[None]:
        body = build("RetrieveCall", [connection("callToBeRetrieved", call_id, device)])
        return self._call("RetrieveCall", body)

    def consultation_call(self, call_id: str, device: str, called: str) -> Deferred[str]:
        body = build(
            "ConsultationCall",
            [connection("existingCall", call_id, device), ("consultedDevice", called)],
        )
        return self._call("ConsultationCall", body, _call_id_in("initiatedCall"))

    def _two_calls(self, service: str, held_call: str, active_call: str, device: str) -> bytes:
        return build(
            service,
            [connection("heldCall", held_call, device), connection("activeCall", active_call, device)],
        )

    def transfer_call(self, held_call: str, active_call: str, device: str) -> Deferred[str]:
        body = self._two_calls("TransferCall", held_call, active_call, device)
        return self._call("TransferCall", body, _call_id_in("transferredCall"))

    def conference_call(self, held_call: str, active_call: str, device: str) -> Deferred[str]:
        body = self._two_calls("ConferenceCall", held_call, active_call, device)
        return self._call("ConferenceCall", body, _call_id_in("conferenceCall"))

    def alternate_call(self, held_call: str, active_call: str, device: str) -> Deferred[None]:
        body = self._two_calls("AlternateCall", held_call, active_call, device)
        return self._call("AlternateCall", body)

    def reconnect_call(self, held_call: str, active_call: str, device: str) -> Deferred[None]:
        body = self._two_calls("ReconnectCall", held_call, active_call, device)
        return self._call("ReconnectCall", body)

    def deflect_call(
        self, call_id: str, device: str, to: str, also: Sequence[str] = ()
    ) -> Deferred[None]:
        """`also`: further destinations alerted at once (privateData ringAll), only on a link
        whose switch honours it (`parallel_alerting`)."""
        refused = self._refuse_parallel("DeflectCall", also)
        if refused is not None:
            return refused
        body = build(
            "DeflectCall",
            [
                connection("callToBeDiverted", call_id, device),
                ("newDestination", to),
                codec.ring_all(also),
            ],
        )
        return self._call("DeflectCall", body)

    def _refuse_parallel(self, service: str, also: Sequence[str]) -> Deferred[None] | None:
        """A list of further destinations on a link that would silently ring only the first."""
        if also and not self.parallel_alerting:
            return fail(DriverError(service, "this link does not alert several devices at once "
                                    "(link option parallel_alerting)", "notSupported"))
        return None

    def single_step_transfer(self, call_id: str, device: str, to: str) -> Deferred[str]:
        body = build(
            "SingleStepTransferCall",
            [connection("activeCall", call_id, device), ("transferredTo", to)],
        )
        return self._call("SingleStepTransferCall", body, _call_id_in("transferredCall"))

    def single_step_conference(
        self, call_id: str, device: str, joining: str, mode: str = "active"
    ) -> Deferred[str]:
        """Barge in (`active`), listen (`silent`) or whisper; `barge`/`listen` are accepted too."""
        service = "SingleStepConferenceCall"
        participation = codec.PARTICIPATION_TYPES.get(mode)
        if participation is None:
            return _unknown(service, "mode", mode, codec.PARTICIPATION_TYPES)
        body = build(
            service,
            [
                connection("activeCall", call_id, device),
                ("deviceToJoin", joining),
                ("participationType", participation),
            ],
        )
        return self._call(service, body, _call_id_in("conferencedCall"))

    def generate_digits(self, call_id: str, device: str, digits: str) -> Deferred[None]:
        body = build(
            "GenerateDigits",
            [connection("connectionToSendDigits", call_id, device), ("charactersToSend", digits)],
        )
        return self._call("GenerateDigits", body)

    # -- voice unit ----------------------------------------------------------------------------

    def play_message(self, call_id: str, device: str, message: str) -> Deferred[None]:
        """Play `message` (an ID the switch knows) over the connection (call_id, device)."""
        body = build("PlayMessage", [("messageToBePlayed", message),
                                     connection("overConnection", call_id, device)])
        return self._call("PlayMessage", body)

    def stop_message(self, call_id: str, device: str, message: str | None = None) -> Deferred[None]:
        """Stop `message`, or whatever plays over the connection when None."""
        body = build("Stop", [connection("connection", call_id, device),
                              ("messageToBeStopped", message)])
        return self._call("Stop", body)

    # -- agents and device features ------------------------------------------------------------

    def set_agent_state(
        self, device: str, state: str, agent_id: str | None = None,
        password: str | None = None, group: str | None = None, reason: str | None = None,
    ) -> Deferred[None]:
        """`state`: ready, not_ready, logged_on, logged_off, working_after_call (or ECMA names).

        The not-ready reason travels as privateData/private/reasonCode, the field the
        simulator and most switches read.
        """
        service = "SetAgentState"
        requested = codec.AGENT_STATES.get(state)
        if requested is None:
            return _unknown(service, "agent state", state, codec.AGENT_STATES)
        private = (
            ("extensions", [("privateData", [("private", [("reasonCode", reason)])])])
            if reason is not None else ("extensions", None)
        )
        body = build(
            service,
            [
                ("device", device),
                ("requestedAgentState", requested),
                ("agentID", agent_id),
                ("password", password),
                ("group", group),
                private,
            ],
        )
        return self._call(service, body)

    def get_agent_state(self, device: str) -> Deferred[dict[str, Any]]:
        """``{"state": ..., "agents": [{"agent_id", "logged_on", "state"}, ...]}``."""
        body = build("GetAgentState", [("device", device)])
        return self._call("GetAgentState", body, codec.agent_states)

    def set_do_not_disturb(self, device: str, on: bool) -> Deferred[None]:
        body = build("SetDoNotDisturb", [("device", device), ("doNotDisturbOn", boolean(on))])
        return self._call("SetDoNotDisturb", body)

    def get_do_not_disturb(self, device: str) -> Deferred[bool]:
        body = build("GetDoNotDisturb", [("device", device)])
        return self._call("GetDoNotDisturb", body, codec.do_not_disturb_on)

    def get_forwarding(self, device: str) -> Deferred[list[dict[str, str | None]]]:
        """``[{"forwarding_type", "forward_status", "forward_to"}, ...]`` as the switch lists."""
        body = build("GetForwarding", [("device", device)])
        return self._call("GetForwarding", body, codec.forwarding_list)

    def set_forwarding(
        self, device: str, on: bool, to: str | None = None, kind: str = "immediate"
    ) -> Deferred[None]:
        service = "SetForwarding"
        forwarding = codec.FORWARDING_TYPES.get(kind)
        if forwarding is None:
            return _unknown(service, "forwarding kind", kind, codec.FORWARDING_TYPES)
        body = build(
            service,
            [
                ("device", device),
                ("forwardingType", forwarding),
                ("forwardDN", to),
                ("activateForward", boolean(on)),
            ],
        )
        return self._call(service, body)

    # -- routing -------------------------------------------------------------------------------

    def _route_register_request(self, device: str) -> Deferred[str]:
        body = build("RouteRegister", [("routeingDevice", device)])
        return self._call("RouteRegister", body, _text_in("routeRegisterReqID"))

    def _route_register_cancel_request(self, register_id: str) -> Deferred[None]:
        body = build("RouteRegisterCancel", [("routeRegisterReqID", register_id)])
        return self._call("RouteRegisterCancel", body)

    def _route_select_request(
        self, register_id: str, cross_ref: str, destination: str, also: Sequence[str] = ()
    ) -> Deferred[None]:
        body = build(
            "RouteSelect",
            [
                ("routeRegisterReqID", register_id),
                ("routingCrossRefID", cross_ref),
                ("routeSelected", destination),
                ("routeUsedReq", "false"),
                codec.ring_all(also),
            ],
        )
        return self._call("RouteSelect", body, None)

    def _route_end_request(self, register_id: str, cross_ref: str) -> Deferred[None]:
        body = build(
            "RouteEnd",
            [("routeRegisterReqID", register_id), ("routingCrossRefID", cross_ref)],
        )
        return self._call("RouteEnd", body, None)
