"""Parallel alerting on the wire: DeflectCall and RouteSelect carry further destinations in
privateData of our namespace (docs/csta-wire.md, "Parallel alerting"); the switch alerts each,
the first answer wins and the others get ConnectionCleared. privateData it does not know
(another namespace) is ignored, as a real switch ignores it."""

from __future__ import annotations

import pytest
from lxml import etree

NS = "http://www.ecma-international.org/standards/ecma-323/csta/ed4"
OURS = "urn:x-cti-middleware:csta:1"


def q(name: str) -> str:
    return f"{{{NS}}}{name}"


def local(root) -> str:
    return etree.QName(root).localname


def private(*devices: str, namespace: str = OURS) -> str:
    listed = "".join(f"<deviceID>{d}</deviceID>" for d in devices)
    return (f'<extensions><privateData><private><ringAll xmlns="{namespace}">{listed}'
            "</ringAll></private></privateData></extensions>")


def deflect(call_id: str, device: str, to: str, extra: str = "") -> str:
    return (f"<callToBeDiverted><callID>{call_id}</callID><deviceID>{device}</deviceID>"
            f"</callToBeDiverted><newDestination>{to}</newDestination>{extra}")


def ringing(switch, call_id):
    return sorted(d for d, s in switch.snapshot_call(call_id) if s == "alerting")


@pytest.fixture
def peer(factory, make_peer):
    client = make_peer(factory)
    client.start_session()
    return client


def test_deflect_call_with_ring_all_alerts_every_device(peer, switch, phones):
    xrefs = {number: peer.monitor(number) for number in ("1001", "1002", "1003")}
    call_id = phones.call("+4930123", "6000")
    peer.request("DeflectCall", deflect(call_id, "6000", "1001", private("1002", "1003")))
    frames = peer.frames()
    assert local(frames[0][1]) == "DeflectCallResponse"
    delivered = [root for _, root in frames if local(root) == "DeliveredEvent"]
    seen = {(d.findtext(q("monitorCrossRefID")),
             d.findtext(f"{q('alertingDevice')}/{q('deviceIdentifier')}")) for d in delivered}
    assert {(xref, number) for number, xref in xrefs.items()} <= seen
    assert ringing(switch, call_id) == ["1001", "1002", "1003"]


def test_the_first_answer_wins_and_the_others_hear_connection_cleared(peer, switch, phones):
    for number in ("1001", "1002", "1003"):
        peer.monitor(number)
    call_id = phones.call("+4930123", "6000")
    peer.request("DeflectCall", deflect(call_id, "6000", "1001", private("1002", "1003")))
    peer.frames()
    peer.request("AnswerCall", f"<callToBeAnswered><callID>{call_id}</callID>"
                               "<deviceID>1002</deviceID></callToBeAnswered>")
    frames = [(local(root), root) for _, root in peer.frames()]
    cleared = [root.findtext(f"{q('droppedConnection')}/{q('deviceID')}")
               for name, root in frames if name == "ConnectionClearedEvent"]
    assert sorted(set(cleared)) == ["1001", "1003"]
    assert "EstablishedEvent" in [name for name, _ in frames]
    assert dict(switch.snapshot_call(call_id)) == {"+4930123": "connected", "1002": "connected"}


def test_route_select_with_ring_all_alerts_every_device(peer, switch, phones):
    switch.add_pilot("5000", ["1001", "1002", "1003"], "hunt")
    peer.request("RouteRegister", "<routeingDevice>5000</routeingDevice>")
    reg = peer.frames()[0][1].findtext(q("routeRegisterReqID"))
    call_id = phones.call("+4930123", "5000")
    xref = peer.frames()[0][1].findtext(q("crossRefIdentifier"))
    peer.request("RouteSelect", f"<routeRegisterReqID>{reg}</routeRegisterReqID>"
                 f"<routingCrossRefID>{xref}</routingCrossRefID>"
                 "<routeSelected>1003</routeSelected><routeUsedReq>false</routeUsedReq>"
                 + private("1001", "1002"))
    assert [local(root) for _, root in peer.frames()] == ["RouteEnd"]
    assert ringing(switch, call_id) == ["1001", "1002", "1003"]


def test_private_data_of_another_namespace_is_ignored(peer, switch, phones):
    call_id = phones.call("+4930123", "6000")
    peer.request("DeflectCall", deflect(call_id, "6000", "1001",
                                        private("1002", namespace="urn:vendor:x")))
    assert peer.names() == ["DeflectCallResponse"]
    assert ringing(switch, call_id) == ["1001"]


def test_a_bad_list_is_refused_with_an_error_and_the_call_stays_queued(peer, switch, phones):
    call_id = phones.call("+4930123", "6000")
    peer.request("DeflectCall", deflect(call_id, "6000", "1001", private("1001")))
    _, root = peer.frames()[0]
    assert root.tag == q("CSTAErrorCode")
    assert dict(switch.snapshot_call(call_id)) == {"+4930123": "connected", "6000": "queued"}
